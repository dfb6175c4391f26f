package refresh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// fixture is a fake site, a client signed in as admin and an empty cache.
type fixture struct {
	site *jiratest.Site
	srv  *httptest.Server
	c    *jira.Client
	db   *store.DB
	eng  *refresh.Engine
}

func newFixture(t *testing.T, dialect string, issues int, scope string) *fixture {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: issues, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng, err := refresh.New(c, db, refresh.Options{Site: "test", Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{site: site, srv: srv, c: c, db: db, eng: eng}
}

// jiraKeys is what Jira itself says is in scope, for comparison.
func (f *fixture) jiraKeys(t *testing.T, scope string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	err := f.c.ScanIDs(context.Background(), scope, func(ids []jira.IssueRef) error {
		for _, r := range ids {
			keys[r.Key] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func (f *fixture) cachedKeys(t *testing.T) map[string]bool {
	t.Helper()
	is, err := f.db.Issues(context.Background(), store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, i := range is {
		keys[i.Key] = true
	}
	return keys
}

func sameKeys(t *testing.T, got, want map[string]bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("cache holds %d issues, Jira %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("%s missing from the cache", k)
			return
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s cached but not in Jira's scope", k)
			return
		}
	}
}

func TestFullSyncMatchesJira(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			scope := "project in (ALPHA, BETA)"
			f := newFixture(t, dialect, 1500, scope)
			sum, err := f.eng.Full(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := f.jiraKeys(t, scope)
			t.Logf("summary %+v, jira %d", sum, len(want))
			sameKeys(t, f.cachedKeys(t), want)
			if sum.Fetched != len(want) || sum.Inserted != len(want) {
				t.Errorf("summary fetched %d inserted %d, want %d", sum.Fetched, sum.Inserted, len(want))
			}
			if sum.Partial {
				t.Error("complete sync reported partial")
			}
			st, err := f.db.SyncState(context.Background(), scope)
			if err != nil {
				t.Fatal(err)
			}
			if st.Cursor != "" || st.LastFull.IsZero() || st.Watermark.IsZero() {
				t.Errorf("sync state after full sync: %+v", st)
			}
			// Field by field: every cached issue equals a fresh read from Jira.
			cached, err := f.db.Issues(context.Background(), store.ReadOptions{WithRaw: true})
			if err != nil {
				t.Fatal(err)
			}
			wk, _ := f.db.WellKnown(context.Background())
			for _, ci := range cached[:50] {
				ji, err := f.c.GetIssue(context.Background(), ci.Key, []string{"*all"})
				if err != nil {
					t.Fatal(err)
				}
				fresh, err := store.Extract(ci.ID, ji.Key, ji.Fields, wk)
				if err != nil {
					t.Fatal(err)
				}
				if fresh.Summary != ci.Summary || fresh.Status != ci.Status || fresh.Parent != ci.Parent ||
					fresh.EpicLink != ci.EpicLink || !fresh.Updated.Equal(ci.Updated) || fresh.Assignee != ci.Assignee ||
					fresh.SecurityLevel != ci.SecurityLevel || fresh.Rank != ci.Rank || fresh.Priority != ci.Priority {
					t.Errorf("%s differs:\ncache %+v\njira  %+v", ci.Key, ci, fresh)
				}
				// And the raw fields the cache keeps, as it keeps them: without Jira's
				// links and avatars.
				enc, want, err := store.MarshalFields(ji.Fields)
				if err != nil {
					t.Fatal(err)
				}
				// The decoder's copy is the cache's canonical encoding, byte for byte, so
				// a search and a webhook bringing the same fields fingerprint alike.
				if !bytes.Equal(ji.Raw, enc) {
					t.Errorf("%s: decoded fields\n%s\nencoded\n%s", ci.Key, ji.Raw, enc)
				}
				if len(ci.Fields) < 20 {
					t.Errorf("%s: %d raw fields cached, want every kept field", ci.Key, len(ci.Fields))
				}
				for k, v := range ci.Fields {
					if !sameValue(t, v, want[k]) {
						t.Errorf("%s field %s: cached %s, Jira %s", ci.Key, k, v, want[k])
					}
				}
				if bytes.Contains(ci.Fields["assignee"], []byte("avatarUrls")) || bytes.Contains(ci.Fields["status"], []byte(`"self"`)) {
					t.Errorf("%s: cached fields keep Jira's decoration: %s %s", ci.Key, ci.Fields["assignee"], ci.Fields["status"])
				}
			}
		})
	}
}

func TestPollPicksUpEditsAndReconcileDeletions(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			scope := "project = ALPHA"
			f := newFixture(t, dialect, 300, scope)
			ctx := context.Background()
			if _, err := f.eng.Full(ctx); err != nil {
				t.Fatal(err)
			}
			keys := f.jiraKeys(t, scope)
			var victim, edited string
			for k := range keys {
				if victim == "" {
					victim = k
				} else if edited == "" {
					edited = k
				}
			}
			if err := f.c.EditIssue(ctx, edited, jira.Edit{Fields: map[string]any{"summary": "changed by test"}}); err != nil {
				t.Fatal(err)
			}
			sum, err := f.eng.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Updated < 1 {
				t.Errorf("poll summary %+v: want the edited issue updated", sum)
			}
			if sum.Fetched > 20 {
				t.Errorf("poll fetched %d issues for one change: its cost should follow the changes", sum.Fetched)
			}
			is, err := f.db.Issue(ctx, edited)
			if err != nil {
				t.Fatal(err)
			}
			if is.Summary != "changed by test" {
				t.Errorf("after poll %s summary = %q", edited, is.Summary)
			}

			if err := f.c.DeleteIssue(ctx, victim, true); err != nil {
				t.Fatal(err)
			}
			sum, err = f.eng.Reconcile(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Deleted < 1 {
				t.Errorf("reconcile deleted %d, want at least 1", sum.Deleted)
			}
			sameKeys(t, f.cachedKeys(t), f.jiraKeys(t, scope))
		})
	}
}

// TestReadAfterWrite: Cloud search is eventually consistent; ids noted as written are passed
// as reconcileIssues so the next poll sees the write at once.
func TestReadAfterWrite(t *testing.T) {
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 200, Seed: 7, ConsistencyDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	ctx := context.Background()
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "raw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eng, err := refresh.New(c, db, refresh.Options{Scope: "project = ALPHA"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	var a, b jiratest.FakeIssue
	for _, fi := range site.Issues() {
		if fi.Project == "ALPHA" {
			if a.Key == "" {
				a = fi
			} else {
				b = fi
				break
			}
		}
	}
	for _, k := range []string{a.Key, b.Key} {
		if err := c.EditIssue(ctx, k, jira.Edit{Fields: map[string]any{"summary": "written " + k}}); err != nil {
			t.Fatal(err)
		}
	}
	eng.NoteWritten(a.ID) // b is not noted: search must not show it yet
	if _, err := eng.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.Issue(ctx, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != "written "+a.Key {
		t.Errorf("noted write not reflected after poll: %q", got.Summary)
	}
	other, err := db.Issue(ctx, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	if other.Summary == "written "+b.Key {
		t.Error("the fake is not eventually consistent: the test proves nothing")
	}
}

// sameValue reports whether two JSON values decode alike.
func sameValue(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if len(b) == 0 || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestInterruptedFullSyncResumesAfterLastID: a full sync stopped after its first commit
// leaves the last committed id and its start time in the cursor; the next one asks only for
// the issues after that id, ends with every issue cached, and takes the first sync's start
// as the watermark, so changes made while it ran reach the next poll.
func TestInterruptedFullSyncResumesAfterLastID(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			scope := "project in (ALPHA, BETA)"
			f := newFixture(t, dialect, 1200, scope)
			total := len(f.jiraKeys(t, scope))
			began := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first, err := refresh.New(f.c, f.db, refresh.Options{Site: "test", Scope: scope, Now: func() time.Time { return began },
				Progress: func(refresh.Progress) { cancel() }})
			if err != nil {
				t.Fatal(err)
			}
			sum, _ := first.Full(ctx)
			if sum.Fetched == 0 || sum.Fetched >= total {
				t.Fatalf("interrupted sync committed %d of %d issues; want some", sum.Fetched, total)
			}
			st, err := f.db.SyncState(context.Background(), scope)
			if err != nil {
				t.Fatal(err)
			}
			cached, err := f.db.Issues(context.Background(), store.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var maxID int64
			for _, is := range cached {
				maxID = max(maxID, is.ID)
			}
			if want := fmt.Sprintf("id:%d:%d", maxID, began.UnixMilli()); st.Cursor != want || !st.LastFull.IsZero() {
				t.Fatalf("sync state after the interrupt: cursor %q last full %v, want cursor %q", st.Cursor, st.LastFull, want)
			}

			again, err := f.eng.Full(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if again.Fetched != total-sum.Fetched {
				t.Errorf("resumed sync fetched %d, want the %d after id %d", again.Fetched, total-sum.Fetched, maxID)
			}
			n, err := f.db.Issues(context.Background(), store.ReadOptions{})
			if err != nil || len(n) != total {
				t.Fatalf("%d issues cached after resuming, Jira has %d (%v)", len(n), total, err)
			}
			if st, _ = f.db.SyncState(context.Background(), scope); st.Cursor != "" || !st.Watermark.Equal(began) {
				t.Errorf("after the resumed sync: cursor %q watermark %v, want none and %v", st.Cursor, st.Watermark, began)
			}
		})
	}
}

// TestFullSyncStartsOverOnAForeignCursor: a cursor this version did not write (the updated
// bound an older Foundation kept, or anything garbled) starts the walk over.
func TestFullSyncStartsOverOnAForeignCursor(t *testing.T) {
	scope := "project = ALPHA"
	f := newFixture(t, "cloud", 300, scope)
	total := len(f.jiraKeys(t, scope))
	for _, cursor := range []string{"1732000000000", "id:x:1", "id:5", "id:-1:5", "page-7"} {
		st, err := f.db.SyncState(context.Background(), scope)
		if err != nil {
			t.Fatal(err)
		}
		st.Cursor = cursor
		if err := f.db.PutSyncState(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		sum, err := f.eng.Full(context.Background())
		if err != nil || sum.Fetched != total {
			t.Errorf("cursor %q: fetched %d of %d (%v)", cursor, sum.Fetched, total, err)
		}
	}
}
