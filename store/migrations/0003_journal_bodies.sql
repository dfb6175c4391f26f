-- Webhook journal bodies in their own table. Marking an entry applied or quarantined
-- rewrote the whole journal row, its few-KB body (an overflow chain) included; with the
-- body apart, the state change rewrites a row of a few dozen bytes. Existing entries move
-- over in place.

CREATE TABLE journal_bodies (
    seq     INTEGER PRIMARY KEY REFERENCES journal(seq) ON DELETE CASCADE,
    headers TEXT NOT NULL DEFAULT '{}',
    body    BLOB NOT NULL
);

INSERT INTO journal_bodies(seq, headers, body) SELECT seq, headers, body FROM journal;

ALTER TABLE journal DROP COLUMN headers;
ALTER TABLE journal DROP COLUMN body;
