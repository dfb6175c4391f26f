package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"foundation/lens"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "cache", "site.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// issue builds a test issue whose raw fields agree with its columns.
func issue(id int64, key string, updated time.Time, summary string) lens.Issue {
	f := map[string]json.RawMessage{
		"summary": json.RawMessage(fmt.Sprintf("%q", summary)),
		"updated": json.RawMessage(`"` + updated.UTC().Format("2006-01-02T15:04:05.000-0700") + `"`),
	}
	return lens.Issue{ID: id, Key: key, Project: "ALPHA", ProjectID: 1, Summary: summary, Updated: updated.UTC(), Fields: f}
}

func TestPath(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://acme.atlassian.net", "acme.atlassian.net.db"},
		{"https://ACME.atlassian.net/jira/", "acme.atlassian.net.db"},
		{"http://127.0.0.1:8089", "127.0.0.1_8089.db"},
		{"http://127.0.0.1:8090", "127.0.0.1_8090.db"},
		{"http://[::1]:8089/", "___1__8089.db"},
		{"jira.example.com", "jira.example.com.db"},
		{"https://../../etc", "_.db"},
		{"", "_.db"},
	}
	for _, tt := range tests {
		got := Path("/c", tt.url)
		if got != filepath.Join("/c", tt.want) {
			t.Errorf("Path(%q) = %q, want %q", tt.url, got, filepath.Join("/c", tt.want))
		}
		if filepath.Dir(got) != "/c" {
			t.Errorf("Path(%q) = %q escapes the cache dir", tt.url, got)
		}
	}
}

func TestOpenPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "foundation")
	p := filepath.Join(dir, "site.db")
	db, err := Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.UpsertIssues(context.Background(), []lens.Issue{issue(1, "ALPHA-1", time.Now(), "x")}, true); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, p: 0o600, p + "-wal": 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s mode %v, want %v", filepath.Base(path), st.Mode(), want)
		}
	}
	// A pre-existing world-readable file is tightened.
	loose := filepath.Join(dir, "loose.db")
	if err := os.WriteFile(loose, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	ldb, err := Open(context.Background(), loose)
	if err != nil {
		t.Fatal(err)
	}
	ldb.Close()
	if st, err := os.Stat(loose); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("pre-existing file mode %v (%v), want 0600", st.Mode(), err)
	}
	var mode string
	if err := db.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	var fk int
	if err := db.w.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys %d (%v), want 1", fk, err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "m.db")
	db, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := SchemaVersion()
	if want < 2 {
		t.Fatalf("SchemaVersion %d: embedded migrations missing", want)
	}
	check := func(db *DB) {
		t.Helper()
		v, err := userVersion(ctx, db.w)
		if err != nil || v != want {
			t.Fatalf("user_version %d (%v), want %d", v, err, want)
		}
		var n int
		if err := db.r.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != want {
			t.Fatalf("schema_migrations rows %d (%v), want %d", n, err, want)
		}
		for _, table := range []string{"issues", "links", "fields", "well_known_fields", "projects", "users", "tombstones", "sync_state", "changes", "audit", "lenses", "grants", "journal", "prefs"} {
			if err := db.r.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}
	}
	check(db)
	if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(1, "ALPHA-1", time.Now(), "kept")}, true); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Re-open: nothing re-applied, data intact.
	db, err = Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	check(db)
	if is, err := db.Issue(ctx, "ALPHA-1"); err != nil || is.Summary != "kept" {
		t.Fatalf("after reopen: %+v, %v", is, err)
	}
	db.Close()

	// A newer schema (written by a future Foundation) is refused and the file left alone.
	raw, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", want+3)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA journal_mode = DELETE"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	before, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, p)
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Have != want+3 || tooNew.Known != want {
		t.Fatalf("Open of newer schema: %v, want *SchemaTooNewError{%d,%d}", err, want+3, want)
	}
	after, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("refused file was modified")
	}
	if _, err := os.Stat(p + "-wal"); err == nil {
		t.Error("refused file was switched to WAL")
	}
}

func TestOpenNotADatabase(t *testing.T) {
	p := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(p, bytes.Repeat([]byte("not sqlite "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), p); err == nil {
		t.Fatal("opened a file that is not a database")
	}
}

func TestVersionGuard(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 123e6, time.UTC)
	type step struct {
		is            lens.Issue
		authoritative bool
		del           bool // delete the issue instead
	}
	tests := []struct {
		name        string
		steps       []step
		want        UpsertStats // of the last step
		wantSummary string      // "" means the issue must be absent
	}{
		{"insert new", []step{{issue(1, "A-1", t0, "v1"), false, false}},
			UpsertStats{Inserted: 1}, "v1"},
		{"newer wins", []step{{issue(1, "A-1", t0, "v1"), true, false}, {issue(1, "A-1", t0.Add(time.Millisecond), "v2"), false, false}},
			UpsertStats{Updated: 1}, "v2"},
		{"older loses even when authoritative", []step{{issue(1, "A-1", t0, "v1"), false, false}, {issue(1, "A-1", t0.Add(-time.Second), "v0"), true, false}},
			UpsertStats{Stale: 1}, "v1"},
		{"equal, authoritative wins", []step{{issue(1, "A-1", t0, "v1"), false, false}, {issue(1, "A-1", t0, "v1b"), true, false}},
			UpsertStats{Updated: 1}, "v1b"},
		{"equal, webhook loses", []step{{issue(1, "A-1", t0, "v1"), true, false}, {issue(1, "A-1", t0, "v1b"), false, false}},
			UpsertStats{Stale: 1}, "v1"},
		{"equal and identical writes nothing", []step{{issue(1, "A-1", t0, "v1"), true, false}, {issue(1, "A-1", t0, "v1"), true, false}},
			UpsertStats{Unchanged: 1}, "v1"},
		{"tombstone blocks late webhook, even newer", []step{{issue(1, "A-1", t0, "v1"), true, false}, {del: true, is: issue(1, "A-1", t0, "")}, {issue(1, "A-1", t0.Add(time.Hour), "late"), false, false}},
			UpsertStats{Blocked: 1}, ""},
		{"tombstone blocks stale authoritative page", []step{{issue(1, "A-1", t0, "v1"), true, false}, {del: true, is: issue(1, "A-1", t0, "")}, {issue(1, "A-1", t0, "v1"), true, false}},
			UpsertStats{Blocked: 1}, ""},
		{"authoritative newer resurrects (moved back into scope)", []step{{issue(1, "A-1", t0, "v1"), true, false}, {del: true, is: issue(1, "A-1", t0, "")}, {issue(1, "A-1", t0.Add(time.Minute), "back"), true, false}},
			UpsertStats{Inserted: 1}, "back"},
		{"unknown id deleted then old authoritative page blocked", []step{{del: true, is: issue(1, "A-1", t0, "")}, {issue(1, "A-1", t0, "v1"), true, false}},
			UpsertStats{Blocked: 1}, ""},
		{"moved issue takes its new key", []step{{issue(1, "A-1", t0, "v1"), true, false}, {issue(1, "B-7", t0.Add(time.Second), "moved"), true, false}},
			UpsertStats{Updated: 1}, "moved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := openTest(t)
			var got UpsertStats
			var key string
			for _, s := range tt.steps {
				if s.del {
					if _, err := db.DeleteIssues(ctx, []int64{s.is.ID}, "deleted"); err != nil {
						t.Fatal(err)
					}
					continue
				}
				var err error
				got, err = db.UpsertIssues(ctx, []lens.Issue{s.is}, s.authoritative)
				if err != nil {
					t.Fatal(err)
				}
				key = s.is.Key
			}
			if got != tt.want {
				t.Errorf("stats %+v, want %+v", got, tt.want)
			}
			all, err := db.Issues(ctx, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSummary == "" {
				if len(all) != 0 {
					t.Errorf("issue present: %+v", all)
				}
				return
			}
			if len(all) != 1 || all[0].Summary != tt.wantSummary || all[0].Key != key {
				t.Errorf("cached %+v, want one issue %s %q", all, key, tt.wantSummary)
			}
		})
	}
}

func TestIssuesRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	wk := WellKnown{StoryPoints: "customfield_10016", Rank: "customfield_10019"}
	raw := `{"project":{"id":"10000","key":"ALPHA"},"issuetype":{"name":"Bug"},"status":{"name":"Open","statusCategory":{"key":"new"}},
		"labels":["a","b,c","d\"e"],"customfield_10016":3,"customfield_10019":"0|hzzzz:","summary":"one","duedate":"2024-01-02",
		"created":"2024-01-01T00:00:00.000+0000","updated":"2024-01-02T03:04:05.678+0000","assignee":{"accountId":"u1"},"big":12345678901234567890}`
	a, err := Extract(10, "ALPHA-10", rawFields(t, raw), wk)
	if err != nil {
		t.Fatal(err)
	}
	b := issue(11, "BETA-1", time.Now(), "two")
	b.Project = "BETA"
	if _, err := db.UpsertIssues(ctx, []lens.Issue{a, b}, true); err != nil {
		t.Fatal(err)
	}
	got, err := db.Issue(ctx, "ALPHA-10")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
	}
	if string(got.Fields["big"]) != "12345678901234567890" {
		t.Errorf("raw number changed: %s", got.Fields["big"])
	}
	noRaw, err := db.Issues(ctx, ReadOptions{Projects: []string{"ALPHA"}})
	if err != nil {
		t.Fatal(err)
	}
	a.Fields = nil
	if len(noRaw) != 1 || !reflect.DeepEqual(noRaw[0], a) {
		t.Errorf("Issues without raw: %+v", noRaw)
	}
	for _, tc := range []struct {
		opt  ReadOptions
		keys []string
	}{
		{ReadOptions{}, []string{"ALPHA-10", "BETA-1"}},
		{ReadOptions{Projects: []string{"BETA"}}, []string{"BETA-1"}},
		{ReadOptions{Keys: []string{"BETA-1", "NOPE-1"}}, []string{"BETA-1"}},
		{ReadOptions{Keys: []string{"BETA-1"}, Projects: []string{"ALPHA"}}, nil},
	} {
		is, err := db.Issues(ctx, tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, i := range is {
			keys = append(keys, i.Key)
		}
		if !reflect.DeepEqual(keys, tc.keys) {
			t.Errorf("Issues(%+v) = %v, want %v", tc.opt, keys, tc.keys)
		}
	}
	vers, err := db.IssueVersions(ctx, nil)
	if err != nil || len(vers) != 2 || !vers[10].Equal(a.Updated) || !vers[11].Equal(b.Updated.Truncate(time.Millisecond)) {
		t.Errorf("IssueVersions %v, %v", vers, err)
	}
	if vers, err := db.IssueVersions(ctx, []string{"BETA"}); err != nil || len(vers) != 1 || vers[11].IsZero() {
		t.Errorf("IssueVersions(BETA) %v, %v", vers, err)
	}
	if _, err := db.Issue(ctx, "NOPE-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing issue: %v, want ErrNotFound", err)
	}
	if _, err := db.UpsertIssues(ctx, []lens.Issue{{Key: "X-1"}}, true); err == nil {
		t.Error("issue without id accepted")
	}
}

func TestChangeFeed(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if seq, err := db.LastChange(ctx); err != nil || seq != 0 {
		t.Fatalf("empty feed LastChange %d, %v", seq, err)
	}
	t0 := time.Now()
	if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(1, "A-1", t0, "a"), issue(2, "A-2", t0, "b")}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(1, "A-1", t0.Add(time.Second), "a2")}, false); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceLinks(ctx, "A-1", []lens.Link{{ID: 5, Type: "Blocks", Outward: "blocks", Inward: "is blocked by", From: "A-1", To: "A-2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteIssues(ctx, []int64{2}, "deleted"); err != nil {
		t.Fatal(err)
	}
	all, err := db.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, c := range all {
		if i > 0 && c.Seq <= all[i-1].Seq {
			t.Fatalf("feed not monotonic: %+v", all)
		}
		kinds = append(kinds, c.Kind+" "+c.IssueKey)
	}
	want := []string{"issue.created A-1", "issue.created A-2", "issue.updated A-1", "links A-1", "issue.deleted A-2"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("feed %v, want %v", kinds, want)
	}
	last, err := db.LastChange(ctx)
	if err != nil || last != all[len(all)-1].Seq {
		t.Errorf("LastChange %d (%v), want %d", last, err, all[len(all)-1].Seq)
	}
	tail, err := db.Changes(ctx, all[2].Seq, 1)
	if err != nil || len(tail) != 1 || tail[0].Seq != all[3].Seq {
		t.Errorf("Changes(after %d, 1) = %+v, %v", all[2].Seq, tail, err)
	}
	// Trimming never lets a sequence number be reused.
	if n, err := db.TrimChanges(ctx, time.Now().Add(time.Hour)); err != nil || n != int64(len(all)) {
		t.Fatalf("TrimChanges: %d, %v", n, err)
	}
	if err := db.PutProjects(ctx, []Project{{ID: 1, Key: "A", Name: "Alpha"}}); err != nil {
		t.Fatal(err)
	}
	next, err := db.Changes(ctx, 0, 0)
	if err != nil || len(next) != 1 || next[0].Seq <= last {
		t.Errorf("after trim: %+v (%v), want one entry beyond %d", next, err, last)
	}
}

// DeleteIssuesAsOf removes an issue only for a version the guard would let replace it, and
// tombstones it at that version.
func TestDeleteIssuesAsOf(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(1, "A-1", t0, "a"), issue(2, "A-2", t0, "b"), issue(3, "A-3", t0, "c"), issue(4, "A-4", t0, "d")}, true); err != nil {
		t.Fatal(err)
	}
	versions := map[int64]time.Time{
		1:  t0.Add(-time.Hour), // older than the cache: stale
		2:  t0,                 // the cached version, from a webhook: not news
		3:  t0.Add(time.Minute),
		42: t0, // never cached: no tombstone to keep it out later
	}
	removed, err := db.DeleteIssuesAsOf(ctx, versions, false, "left scope")
	if err != nil || !reflect.DeepEqual(removed, []int64{3}) {
		t.Fatalf("DeleteIssuesAsOf: %v, %v; want [3]", removed, err)
	}
	if removed, err = db.DeleteIssuesAsOf(ctx, map[int64]time.Time{4: t0}, true, "left scope"); err != nil || !reflect.DeepEqual(removed, []int64{4}) {
		t.Fatalf("authoritative DeleteIssuesAsOf at the cached version: %v, %v; want [4]", removed, err)
	}
	ts, err := db.Tombstones(ctx)
	if err != nil || len(ts) != 2 {
		t.Fatalf("tombstones %+v, %v; want A-3 and A-4's", ts, err)
	}
	if ts[0].IssueID != 3 || !ts[0].LastUpdated.Equal(t0.Add(time.Minute)) || ts[1].IssueID != 4 {
		t.Errorf("tombstones %+v: want A-3's at the version removed", ts)
	}
	// A read of the version it was removed at does not bring A-3 back: only a change does.
	if st, err := db.UpsertIssues(ctx, []lens.Issue{issue(3, "A-3", t0.Add(time.Minute), "c")}, true); err != nil || st.Blocked != 1 {
		t.Errorf("upsert of the removed version: %+v, %v; want it blocked", st, err)
	}
	c, err := db.Counts(ctx)
	if err != nil || c.Issues != 2 {
		t.Errorf("Counts %+v, %v; want A-1 and A-2 kept", c, err)
	}
}

func TestLinksAndDelete(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Now()
	if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(1, "A-1", t0, "a"), issue(2, "A-2", t0, "b"), issue(3, "A-3", t0, "c")}, true); err != nil {
		t.Fatal(err)
	}
	blocks := func(id int64, from, to string) lens.Link {
		return lens.Link{ID: id, Type: "Blocks", Outward: "blocks", Inward: "is blocked by", From: from, To: to}
	}
	if err := db.UpsertLinks(ctx, []lens.Link{blocks(1, "A-1", "A-2"), blocks(2, "A-2", "A-3"), blocks(3, "A-3", "A-1")}); err != nil {
		t.Fatal(err)
	}
	// A-1's issuelinks now show only the link to A-2.
	if err := db.ReplaceLinks(ctx, "A-1", []lens.Link{blocks(1, "A-1", "A-2")}); err != nil {
		t.Fatal(err)
	}
	ids := func() []int64 {
		ls, err := db.Links(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, l := range ls {
			out = append(out, l.ID)
		}
		return out
	}
	if got := ids(); !reflect.DeepEqual(got, []int64{1, 2}) {
		t.Errorf("after ReplaceLinks: %v", got)
	}
	if err := db.DeleteLink(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteLink(ctx, 99); err != nil {
		t.Errorf("deleting an unknown link: %v", err)
	}
	if n, err := db.DeleteIssues(ctx, []int64{3, 42}, "left scope"); err != nil || n != 1 {
		t.Fatalf("DeleteIssues: %d, %v", n, err)
	}
	if got := ids(); len(got) != 0 {
		t.Errorf("links of a deleted issue remain: %v", got)
	}
	ts, err := db.Tombstones(ctx)
	if err != nil || len(ts) != 2 {
		t.Fatalf("tombstones %+v, %v", ts, err)
	}
	byID := map[int64]Tombstone{ts[0].IssueID: ts[0], ts[1].IssueID: ts[1]}
	if tb := byID[3]; tb.Key != "A-3" || tb.Reason != "left scope" || !tb.LastUpdated.Equal(t0.UTC().Truncate(time.Millisecond)) {
		t.Errorf("tombstone of A-3: %+v", tb)
	}
	c, err := db.Counts(ctx)
	if err != nil || c.Issues != 2 || c.Tombstones != 2 || c.Links != 0 {
		t.Errorf("Counts %+v, %v", c, err)
	}
}

func TestCatalog(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	fields := []lens.Field{
		{ID: "customfield_10016", Name: "Story Points", Custom: true, SchemaType: "number", SchemaCustom: "com.pyxis.greenhopper.jira:jsw-story-points"},
		{ID: "labels", Name: "Labels", SchemaType: "array", SchemaItems: "string"},
	}
	wk := WellKnown{StoryPoints: "customfield_10016", Rank: "customfield_10019"}
	if err := db.PutFields(ctx, fields, wk); err != nil {
		t.Fatal(err)
	}
	if err := db.PutFields(ctx, fields[:1], wk); err != nil { // replaces, does not add
		t.Fatal(err)
	}
	got, err := db.Fields(ctx)
	if err != nil || !reflect.DeepEqual(got, fields[:1]) {
		t.Errorf("Fields %+v, %v", got, err)
	}
	gotWK, err := db.WellKnown(ctx)
	if err != nil || gotWK != wk {
		t.Errorf("WellKnown %+v, %v", gotWK, err)
	}
	ps := []Project{{ID: 2, Key: "BETA", Name: "Beta"}, {ID: 1, Key: "ALPHA", Name: "Alpha"}}
	if err := db.PutProjects(ctx, ps); err != nil {
		t.Fatal(err)
	}
	gotP, err := db.Projects(ctx)
	if err != nil || !reflect.DeepEqual(gotP, []Project{ps[1], ps[0]}) {
		t.Errorf("Projects %+v, %v", gotP, err)
	}
}

func TestPurgeUser(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.PutUsers(ctx, []User{
		{ID: "acc-1", DisplayName: "Alice Example", Email: "alice@example.com", FetchedAt: at},
		{ID: "acc-2", DisplayName: "Bob", FetchedAt: at},
	}); err != nil {
		t.Fatal(err)
	}
	raw := `{"assignee":{"accountId":"acc-1","displayName":"Alice Example","emailAddress":"alice@example.com"},
		"reporter":{"accountId":"acc-2","displayName":"Bob"},
		"customfield_1":[{"accountId":"acc-1","displayName":"Alice Example"}],
		"status":{"name":"acc-1"},"updated":"2024-01-01T00:00:00.000+0000"}`
	is, err := Extract(1, "A-1", rawFields(t, raw), WellKnown{})
	if err != nil {
		t.Fatal(err)
	}
	other := issue(2, "A-2", at, "unrelated")
	if _, err := db.UpsertIssues(ctx, []lens.Issue{is, other}, true); err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeUser(ctx, "acc-1")
	if err != nil || n != 1 {
		t.Fatalf("PurgeUser: %d, %v", n, err)
	}
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 || users[0].ID != "acc-2" {
		t.Errorf("users after purge: %+v, %v", users, err)
	}
	got, err := db.Issue(ctx, "A-1")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(got.Fields)
	if bytes.Contains(all, []byte("Alice")) || bytes.Contains(all, []byte("alice@")) {
		t.Errorf("personal data left in raw fields: %s", all)
	}
	if !bytes.Contains(all, []byte("Bob")) || string(got.Fields["status"]) != `{"name":"acc-1"}` {
		t.Errorf("purge touched other data: %s", all)
	}
	if got.Assignee != "acc-1" {
		t.Errorf("assignee id lost: %q", got.Assignee)
	}
	// The issue is no longer byte-identical to Jira's version: a re-fetch must rewrite it.
	if st, err := db.UpsertIssues(ctx, []lens.Issue{is}, true); err != nil || st.Updated != 1 {
		t.Errorf("re-fetch after purge: %+v, %v", st, err)
	}
}

func TestLensVersions(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	l := Lens{Name: "Roadmap", YAML: "name: Roadmap\n", Owner: "alice", UpdatedBy: "alice"}
	v, err := db.PutLens(ctx, l, 0)
	if err != nil || v != 1 {
		t.Fatalf("create: %d, %v", v, err)
	}
	var conflict *LensConflictError
	if _, err := db.PutLens(ctx, l, 0); !errors.As(err, &conflict) || conflict.Actual != 1 {
		t.Errorf("second create: %v", err)
	}
	l.YAML = "name: Roadmap\ndescription: v2\n"
	if v, err = db.PutLens(ctx, l, 1); err != nil || v != 2 {
		t.Fatalf("update: %d, %v", v, err)
	}
	if _, err := db.PutLens(ctx, l, 1); !errors.As(err, &conflict) || conflict.Expected != 1 || conflict.Actual != 2 {
		t.Errorf("stale update: %v", err)
	}
	got, err := db.Lens(ctx, "Roadmap")
	if err != nil || got.YAML != l.YAML || got.Version != 2 || got.Owner != "alice" || got.UpdatedAt.IsZero() {
		t.Errorf("Lens: %+v, %v", got, err)
	}
	if err := db.DeleteLens(ctx, "Roadmap", 1); !errors.As(err, &conflict) {
		t.Errorf("stale delete: %v", err)
	}
	if err := db.DeleteLens(ctx, "Roadmap", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Lens(ctx, "Roadmap"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted lens: %v", err)
	}
	if _, err := db.PutLens(ctx, l, 2); !errors.As(err, &conflict) || conflict.Actual != 0 {
		t.Errorf("update of deleted lens: %v", err)
	}
}

func TestJournal(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(id string, evt time.Time, retry int) (int64, bool) {
		t.Helper()
		res, err := db.AppendJournal(ctx, JournalEntry{Identifier: id, Event: "jira:issue_updated", EventTime: evt, Retry: retry,
			Headers: map[string][]string{"X-Atlassian-Webhook-Identifier": {id}}, Body: []byte(`{"n":"` + id + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return res[0].Seq, res[0].Duplicate
	}
	s1, _ := add("d1", t0.Add(2*time.Second), 0)
	s2, _ := add("d2", t0, 0)
	s3, _ := add("d3", t0.Add(time.Second), 0)
	if seq, dup := add("d1", t0.Add(2*time.Second), 2); !dup || seq != s1 {
		t.Errorf("retry of d1: seq %d dup %v, want %d true", seq, dup, s1)
	}
	pending, err := db.PendingJournal(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var order []int64
	for _, e := range pending {
		order = append(order, e.Seq)
	}
	if !reflect.DeepEqual(order, []int64{s2, s3, s1}) {
		t.Errorf("replay order %v, want event-time order %v", order, []int64{s2, s3, s1})
	}
	if pending[2].Retry != 2 || string(pending[2].Body) != `{"n":"d1"}` || pending[2].Headers.Get("X-Atlassian-Webhook-Identifier") != "d1" {
		t.Errorf("entry d1: %+v", pending[2])
	}
	if err := db.MarkApplied(ctx, s2, s3); err != nil {
		t.Fatal(err)
	}
	if err := db.Quarantine(ctx, s1, "unknown event"); err != nil {
		t.Fatal(err)
	}
	if err := db.Quarantine(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("quarantine of unknown entry: %v", err)
	}
	st, err := db.JournalStats(ctx)
	if err != nil || st != (JournalStats{Total: 3, Applied: 2, Quarantined: 1}) {
		t.Errorf("stats %+v, %v", st, err)
	}
	q, err := db.Journal(ctx, JournalQuarantined, 0)
	if err != nil || len(q) != 1 || q[0].Quarantined != "unknown event" {
		t.Errorf("quarantined list %+v, %v", q, err)
	}
	if err := db.Requeue(ctx, s1); err != nil {
		t.Fatal(err)
	}
	st, _ = db.JournalStats(ctx)
	if st.Pending != 1 || !st.OldestPending.Equal(t0.Add(2*time.Second)) {
		t.Errorf("after requeue %+v", st)
	}
	if n, err := db.PruneJournal(ctx, time.Now().Add(time.Minute)); err != nil || n != 2 {
		t.Errorf("prune: %d, %v", n, err)
	}

	// A batch: new deliveries, a retry of a known one and a duplicate within the batch.
	res, err := db.AppendJournal(ctx,
		JournalEntry{Identifier: "b1", EventTime: t0}, JournalEntry{Identifier: "d1", Retry: 5}, JournalEntry{Identifier: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Duplicate || !res[1].Duplicate || res[1].Seq != s1 || !res[2].Duplicate || res[2].Seq != res[0].Seq {
		t.Errorf("batch append %+v", res)
	}
	if _, err := db.AppendJournal(ctx, JournalEntry{Identifier: "ok"}, JournalEntry{}); err == nil {
		t.Error("entry without identifier accepted")
	}
	var sync int
	if err := db.w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 1 {
		t.Errorf("writer left at synchronous=%d (%v), want NORMAL (1)", sync, err)
	}
}

func TestSyncAuditGrantsPrefs(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)

	s, err := db.SyncState(ctx, "project = ALPHA")
	if err != nil || s != (SyncState{Scope: "project = ALPHA"}) {
		t.Errorf("unsynced scope: %+v, %v", s, err)
	}
	want := SyncState{Scope: "project = ALPHA", Watermark: t0, LastFull: t0.Add(time.Hour), LastPoll: t0.Add(2 * time.Hour), Cursor: "page-7"}
	if err := db.PutSyncState(ctx, want); err != nil {
		t.Fatal(err)
	}
	if s, err = db.SyncState(ctx, want.Scope); err != nil || s != want {
		t.Errorf("sync state %+v, %v; want %+v", s, err, want)
	}

	for i, a := range []AuditEntry{
		{At: t0, Actor: "alice", Action: "lens.put", Target: "Roadmap", After: json.RawMessage(`{"v":1}`), Outcome: "ok"},
		{At: t0.Add(time.Minute), Actor: "bob", Action: "issue.edit", Target: "A-1", Before: json.RawMessage(`"x"`), After: json.RawMessage(`"y"`), Outcome: "ok"},
		{At: t0.Add(2 * time.Minute), Actor: "alice", Action: "acl.change", Target: "Roadmap", Outcome: "denied"},
	} {
		if err := db.Audit(ctx, a); err != nil {
			t.Fatalf("audit %d: %v", i, err)
		}
	}
	log, err := db.AuditLog(ctx, AuditFilter{Target: "Roadmap"})
	if err != nil || len(log) != 2 || log[0].Action != "acl.change" || string(log[1].After) != `{"v":1}` || log[1].Before != nil {
		t.Errorf("audit log by target: %+v, %v", log, err)
	}
	log, err = db.AuditLog(ctx, AuditFilter{Since: t0.Add(30 * time.Second), Limit: 1})
	if err != nil || len(log) != 1 || log[0].Actor != "alice" || !log[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("audit log since, limit 1: %+v, %v", log, err)
	}

	grants := []Grant{
		{Identity: "alice", Kind: GrantProject, ID: 10000, Granted: true, CheckedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)},
		{Identity: "alice", Kind: GrantIssue, ID: 10042, Granted: false, CheckedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)},
		{Identity: "bob", Kind: GrantProject, ID: 10000, Granted: false, CheckedAt: t0, ExpiresAt: t0.Add(time.Minute)},
	}
	if err := db.PutGrants(ctx, grants); err != nil {
		t.Fatal(err)
	}
	if err := db.PutGrants(ctx, []Grant{{Identity: "x", Kind: "role", ID: 1}}); err == nil {
		t.Error("bad grant kind accepted")
	}
	g, err := db.Grants(ctx, "alice")
	if err != nil || !reflect.DeepEqual(g, []Grant{grants[1], grants[0]}) {
		t.Errorf("grants %+v, %v", g, err)
	}
	if !g[0].Fresh(t0.Add(time.Minute)) || g[0].Fresh(t0.Add(5*time.Minute)) {
		t.Error("Fresh ignores expiry")
	}
	if err := db.DeleteGrants(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.Grants(ctx, "alice"); len(g) != 0 {
		t.Errorf("grants after delete: %+v", g)
	}

	if _, ok, err := db.Pref(ctx, "alice", "theme"); ok || err != nil {
		t.Errorf("unset pref: %v %v", ok, err)
	}
	if err := db.PutPref(ctx, "alice", "theme", json.RawMessage(`{"dark":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutPref(ctx, "alice", "theme", json.RawMessage(`{dark`)); err == nil {
		t.Error("invalid JSON pref accepted")
	}
	if v, ok, err := db.Pref(ctx, "alice", "theme"); !ok || err != nil || string(v) != `{"dark":true}` {
		t.Errorf("pref %s %v %v", v, ok, err)
	}
	if _, ok, _ := db.Pref(ctx, "bob", "theme"); ok {
		t.Error("prefs leak across identities")
	}
	if err := db.PutPref(ctx, "alice", "theme", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.Pref(ctx, "alice", "theme"); ok {
		t.Error("pref not deleted")
	}
	if n, err := db.Size(ctx); err != nil || n == 0 {
		t.Errorf("Size %d, %v", n, err)
	}
}

// TestReadersNotBlockedByWriter holds a write transaction open in one handle (as a refresh
// committing a page does) and reads from another: WAL must let the read through at once.
func TestReadersNotBlockedByWriter(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "rw.db")
	writer, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if _, err := writer.UpsertIssues(ctx, []lens.Issue{issue(1, "A-1", time.Now(), "committed")}, true); err != nil {
		t.Fatal(err)
	}
	reader, err := Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	tx, err := writer.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE issues SET summary = 'uncommitted'"); err != nil {
		t.Fatal(err)
	}
	// Far below the busy timeout: a blocked read would hit this deadline and fail.
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	got, err := reader.Issues(rctx, ReadOptions{})
	if err != nil {
		t.Fatalf("read during write: %v", err)
	}
	if len(got) != 1 || got[0].Summary != "committed" {
		t.Errorf("read during write saw %+v", got)
	}
	if _, err := reader.LastChange(rctx); err != nil {
		t.Fatalf("LastChange during write: %v", err)
	}
	// A second writer queues on the busy timeout rather than failing; here it gives up at
	// its context deadline because the first never commits.
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer wcancel()
	if _, err := reader.UpsertIssues(wctx, []lens.Issue{issue(2, "A-2", time.Now(), "x")}, true); err == nil {
		t.Error("second writer got in while the first held the lock")
	}
}

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Now()
	if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(1, "A-1", t0, "a"), issue(2, "A-2", t0, "b")}, true); err != nil {
		t.Fatal(err)
	}
	if err := db.UpsertLinks(ctx, []lens.Link{{ID: 9, Type: "Relates", Outward: "relates to", Inward: "relates to", From: "A-1", To: "A-2"}}); err != nil {
		t.Fatal(err)
	}
	s, err := db.Snapshot(ctx, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last, _ := db.LastChange(ctx)
	if s.Seq != last || len(s.Issues) != 2 || len(s.Links) != 1 || s.Links[0].ID != 9 {
		t.Fatalf("snapshot seq %d (last %d), %d issues, links %+v", s.Seq, last, len(s.Issues), s.Links)
	}
	if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(3, "A-3", t0, "c")}, true); err != nil {
		t.Fatal(err)
	}
	after, err := db.Changes(ctx, s.Seq, 0)
	if err != nil || len(after) != 1 || after[0].IssueKey != "A-3" {
		t.Errorf("changes after snapshot: %+v, %v", after, err)
	}
}

// A page's links go in 32 to a statement: a later row with the same id replaces an earlier
// one across and within statements, as one statement per link did.
func TestUpsertLinksInGroups(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var links []lens.Link
	for i := range 70 {
		links = append(links, lens.Link{ID: int64(1000 + i), Type: "Relates", From: fmt.Sprintf("A-%d", i), To: "B-1"})
	}
	links = append(links, lens.Link{ID: 1005, Type: "Blocks", From: "A-5", To: "B-2"}) // replaces
	links[40] = lens.Link{ID: 1001, Type: "Blocks", From: "A-1", To: "B-3"}            // replaces, in a group
	if err := db.UpsertLinks(ctx, links); err != nil {
		t.Fatal(err)
	}
	got, err := db.Links(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]lens.Link{}
	for _, l := range got {
		byID[l.ID] = l
	}
	if len(got) != 69 || byID[1005].To != "B-2" || byID[1001].To != "B-3" {
		t.Errorf("%d links, 1005 %+v, 1001 %+v", len(got), byID[1005], byID[1001])
	}
}
