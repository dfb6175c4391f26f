-- The issue cache proper: issues with their extracted columns, links, the field catalog,
-- projects, personal data, tombstones, sync state, the change feed and the audit log.
-- Times are Unix milliseconds (INTEGER); 0 means "never".

CREATE TABLE issues (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,
    project_id      INTEGER NOT NULL DEFAULT 0,
    project         TEXT    NOT NULL DEFAULT '',
    type            TEXT    NOT NULL DEFAULT '',
    subtask         INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT '',
    status_category TEXT    NOT NULL DEFAULT '',
    priority        TEXT    NOT NULL DEFAULT '',
    resolution      TEXT    NOT NULL DEFAULT '',
    parent_key      TEXT    NOT NULL DEFAULT '',
    epic_link       TEXT    NOT NULL DEFAULT '',
    security_level  TEXT    NOT NULL DEFAULT '',
    assignee        TEXT    NOT NULL DEFAULT '',
    reporter        TEXT    NOT NULL DEFAULT '',
    summary         TEXT    NOT NULL DEFAULT '',
    labels          TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    story_points    REAL,
    due_date        TEXT    NOT NULL DEFAULT '',    -- YYYY-MM-DD
    created         INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    rank            TEXT    NOT NULL DEFAULT '',
    fetched_at      INTEGER NOT NULL DEFAULT 0,
    hash            INTEGER NOT NULL DEFAULT 0,     -- of the raw fields, to skip no-op rewrites
    fields          BLOB    NOT NULL DEFAULT '{}'   -- raw field JSON; last so scans that skip it stay cheap
);
CREATE INDEX issues_project         ON issues(project);
CREATE INDEX issues_parent          ON issues(parent_key) WHERE parent_key <> '';
CREATE INDEX issues_epic_link       ON issues(epic_link)  WHERE epic_link <> '';
CREATE INDEX issues_updated         ON issues(updated);
CREATE INDEX issues_status_category ON issues(status_category);
CREATE INDEX issues_assignee        ON issues(assignee)   WHERE assignee <> '';
CREATE INDEX issues_security        ON issues(security_level) WHERE security_level <> '';

CREATE TABLE links (
    id       INTEGER PRIMARY KEY,
    type     TEXT NOT NULL,
    outward  TEXT NOT NULL DEFAULT '',
    inward   TEXT NOT NULL DEFAULT '',
    from_key TEXT NOT NULL,
    to_key   TEXT NOT NULL
);
CREATE INDEX links_from ON links(from_key);
CREATE INDEX links_to   ON links(to_key);

CREATE TABLE fields (
    id            TEXT PRIMARY KEY,
    name          TEXT    NOT NULL,
    custom        INTEGER NOT NULL DEFAULT 0,
    schema_type   TEXT    NOT NULL DEFAULT '',
    schema_items  TEXT    NOT NULL DEFAULT '',
    schema_custom TEXT    NOT NULL DEFAULT ''
);

-- Which field id plays a well-known role on this site (story_points, sprint, epic_link, rank).
CREATE TABLE well_known_fields (
    role     TEXT PRIMARY KEY,
    field_id TEXT NOT NULL
);

CREATE TABLE projects (
    id   INTEGER PRIMARY KEY,
    key  TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT ''
);

-- Personal data lives here and only here (besides raw issue JSON, which PurgeUser scrubs).
CREATE TABLE users (
    id           TEXT PRIMARY KEY,   -- accountId on Cloud, user name on Data Center
    display_name TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    avatar_url   TEXT NOT NULL DEFAULT '',
    fetched_at   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tombstones (
    issue_id     INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL DEFAULT '',
    deleted_at   INTEGER NOT NULL,
    last_updated INTEGER NOT NULL DEFAULT 0, -- the issue's updated when it was deleted
    reason       TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE sync_state (
    scope          TEXT PRIMARY KEY,
    watermark      INTEGER NOT NULL DEFAULT 0,
    last_full      INTEGER NOT NULL DEFAULT 0,
    last_poll      INTEGER NOT NULL DEFAULT 0,
    last_reconcile INTEGER NOT NULL DEFAULT 0,
    cursor         TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    issue_key TEXT    NOT NULL DEFAULT '',
    detail    TEXT    NOT NULL DEFAULT ''
);
-- AUTOINCREMENT keeps seq monotonic even after trimming; seed sqlite_sequence so LastChange
-- can always read it there in O(1).
INSERT INTO sqlite_sequence(name, seq) VALUES ('changes', 0);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL DEFAULT '',
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL DEFAULT '',
    before  TEXT    NOT NULL DEFAULT '',
    after   TEXT    NOT NULL DEFAULT '',
    outcome TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_at     ON audit(at);
CREATE INDEX audit_target ON audit(target);
