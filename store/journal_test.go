package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// atVersion creates a cache file at schema version n (the first n migrations), opened raw
// for a test to fill as an older Foundation would have.
func atVersion(t *testing.T, n int) (string, *sql.DB) {
	t.Helper()
	p := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", n))
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range steps[:n] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("migration %s: %v", m.name, err)
		}
	}
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
		t.Fatal(err)
	}
	return p, raw
}

// TestJournalBodiesMigration upgrades a cache written at schema 2 (bodies inside the
// journal rows) in place: every entry keeps its body, headers and state, and pruning an
// entry takes its body with it.
func TestJournalBodiesMigration(t *testing.T) {
	ctx := context.Background()
	p, raw := atVersion(t, 2)
	old := []struct {
		ident, headers, body, quarantined string
		applied                           int64
	}{
		{"pending", `{"X-Atlassian-Webhook-Retry":["1"]}`, `{"webhookEvent":"jira:issue_updated","n":1}`, "", 0},
		{"applied", `{}`, `{"webhookEvent":"jira:issue_created","n":2}`, "", 1000},
		{"quarantined", `{}`, `not json`, "bad payload", 0},
	}
	for i, o := range old {
		if _, err := raw.Exec(`INSERT INTO journal(identifier, event, event_time, retry, received_at, headers, body, applied_at, quarantined)
			VALUES (?, 'jira:issue_updated', ?, 0, 1, ?, ?, ?, ?)`, o.ident, i+1, o.headers, []byte(o.body), o.applied, o.quarantined); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.Journal(ctx, JournalAll, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(old) {
		t.Fatalf("%d entries after upgrade, want %d", len(all), len(old))
	}
	for _, e := range all {
		o := old[e.Seq-1]
		if e.Identifier != o.ident || string(e.Body) != o.body || e.Quarantined != o.quarantined || (o.applied != 0) == e.AppliedAt.IsZero() {
			t.Errorf("entry %d after upgrade: %+v, want %+v", e.Seq, e, o)
		}
	}
	if got := all[len(all)-1].Headers.Get("X-Atlassian-Webhook-Retry"); got != "1" {
		t.Errorf("headers after upgrade: %v", all[len(all)-1].Headers)
	}
	pending, err := db.PendingJournal(ctx, 0)
	if err != nil || len(pending) != 1 || pending[0].Identifier != "pending" {
		t.Fatalf("pending after upgrade: %+v, %v", pending, err)
	}

	// New entries land beside the old ones; a retry within one group is one entry.
	res, err := db.AppendJournal(ctx,
		JournalEntry{Identifier: "new", EventTime: time.UnixMilli(9), Body: []byte(`{"a":1}`)},
		JournalEntry{Identifier: "new", Retry: 2, EventTime: time.UnixMilli(9), Body: []byte(`{"a":1}`)},
		JournalEntry{Identifier: "pending", Retry: 3, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Duplicate || !res[1].Duplicate || res[1].Seq != res[0].Seq || !res[2].Duplicate || res[2].Seq != 1 {
		t.Fatalf("append after upgrade: %+v", res)
	}
	if _, err := db.PruneJournal(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	var bodies int
	if err := db.r.QueryRow("SELECT count(*) FROM journal_bodies WHERE seq NOT IN (SELECT seq FROM journal)").Scan(&bodies); err != nil || bodies != 0 {
		t.Fatalf("%d bodies outlive their entries (%v)", bodies, err)
	}
	pending, err = db.PendingJournal(ctx, 0)
	if err != nil || len(pending) != 2 || pending[0].Retry != 3 || !bytes.Equal(pending[1].Body, []byte(`{"a":1}`)) || pending[1].Retry != 2 {
		t.Fatalf("pending after append and prune: %+v, %v", pending, err)
	}
}

// TestUpgradeFromV3KeepsIssuesAndUsers: a cache written before avatars and the unused issue
// indexes went (schema 3) opens with its issues and users intact, 4 KB pages and all.
func TestUpgradeFromV3KeepsIssuesAndUsers(t *testing.T) {
	ctx := context.Background()
	p, raw := atVersion(t, 3)
	for _, q := range []string{
		`INSERT INTO users(id, display_name, email, avatar_url, fetched_at) VALUES ('a1', 'Ada', 'ada@example.com', 'https://x/a.png', 1)`,
		`INSERT INTO issues(id, key, project, parent_key, assignee, updated, fields) VALUES (10001, 'A-1', 'ALPHA', 'A-0', 'a1', 5, '{"summary":"s"}')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 || users[0].DisplayName != "Ada" || users[0].Email != "ada@example.com" {
		t.Errorf("users after upgrade: %+v %v", users, err)
	}
	is, err := db.Issue(ctx, "A-1")
	if err != nil || is.Parent != "A-0" || is.Assignee != "a1" || string(is.Fields["summary"]) != `"s"` {
		t.Errorf("issue after upgrade: %+v %v", is, err)
	}
	var indexes int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'issues' AND name LIKE 'issues_%'").Scan(&indexes); err != nil || indexes != 1 {
		t.Errorf("issue indexes after upgrade: %d (%v), want issues_project alone", indexes, err)
	}
	if err := db.PutUsers(ctx, []User{{ID: "b2", DisplayName: "Bob"}}); err != nil {
		t.Errorf("writing users after upgrade: %v", err)
	}
}
