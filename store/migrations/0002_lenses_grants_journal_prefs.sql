-- Tables for the later features: stored Lens definitions (ACL inside the YAML), permission
-- grants with expiry, the webhook journal and per-identity preferences.

CREATE TABLE lenses (
    name       TEXT PRIMARY KEY,
    yaml       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    owner      TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE grants (
    identity   TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('project', 'issue')),
    target_id  INTEGER NOT NULL,
    granted    INTEGER NOT NULL,
    checked_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (identity, kind, target_id)
) WITHOUT ROWID;

CREATE TABLE journal (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier  TEXT    NOT NULL UNIQUE,
    event       TEXT    NOT NULL DEFAULT '',
    event_time  INTEGER NOT NULL DEFAULT 0,
    retry       INTEGER NOT NULL DEFAULT 0,
    received_at INTEGER NOT NULL,
    headers     TEXT    NOT NULL DEFAULT '{}',
    body        BLOB    NOT NULL,
    applied_at  INTEGER NOT NULL DEFAULT 0,
    quarantined TEXT    NOT NULL DEFAULT ''
);
-- Replay order for what is still to apply.
CREATE INDEX journal_pending ON journal(event_time, seq) WHERE applied_at = 0 AND quarantined = '';

CREATE TABLE prefs (
    identity TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (identity, key)
) WITHOUT ROWID;
