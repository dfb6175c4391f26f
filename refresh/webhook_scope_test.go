package refresh_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"foundation/jira/jiratest"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

// sharedListener is a signed listener journaling into the shared fixture's cache, fed by
// the fake site's dispatcher, and an applier with a profile's own client and scope.
func (f *sharedFixture) listen(t *testing.T, user, scope string) (*refresh.Applier, string) {
	t.Helper()
	l := refresh.NewListener(f.db, refresh.ListenerOptions{Secret: []byte(hookSecret)})
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	t.Cleanup(f.site.Webhooks().Close)
	f.site.Webhooks().Register(srv.URL, hookSecret, nil, "")
	return refresh.NewApplier(f.client(t, user), f.db, refresh.ApplyOptions{Scope: scope}), srv.URL
}

func (f *sharedFixture) deliverAll(t *testing.T, a *refresh.Applier) refresh.ApplyStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.site.Webhooks().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := a.ApplyPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// jiraKeys are the keys of Jira's issues in projects.
func jiraKeys(site *jiratest.Site, projects ...string) map[string]bool {
	out := map[string]bool{}
	for _, fi := range site.Issues() {
		for _, p := range projects {
			if fi.Project == p {
				out[fi.Key] = true
			}
		}
	}
	return out
}

// moveOne moves the first issue that pred picks and Jira lets move (no sub-tasks) to
// project, and returns its old and new keys.
func moveOne(t *testing.T, site *jiratest.Site, project string, pred func(jiratest.FakeIssue) bool) (string, string) {
	t.Helper()
	for _, fi := range site.Issues() {
		if fi.Subtask || fi.Type == "Epic" || !pred(fi) {
			continue
		}
		if k, err := site.Move(fi.Key, project); err == nil {
			return fi.Key, k
		}
	}
	t.Fatal("fixture: no issue to move")
	return "", ""
}

// cachedKeys are the keys the cache holds.
func (f *sharedFixture) cachedKeys(t *testing.T) map[string]bool {
	t.Helper()
	is, _ := f.state(t)
	out := make(map[string]bool, len(is))
	for _, i := range is {
		out[i.Key] = true
	}
	return out
}

// A profile whose scope is narrower than another's that shares the cache applies the one
// journal for both: deliveries about issues outside its scope but inside the other's must
// update them, not remove them (which no refresh would undo).
func TestWebhooksOfNarrowProfileKeepWhatOthersCover(t *testing.T) {
	f := newSharedFixture(t, "cloud")
	run(t, "admin full", f.engine(t, "admin").Full)
	before := len(f.cachedKeys(t))

	const narrow = "project = ALPHA AND status != Done"
	carol, _ := f.listen(t, "alice", narrow)
	var done []string
	for _, fi := range f.site.Issues() {
		if fi.Project == "ALPHA" && !fi.Subtask && fi.Type != "Epic" && fi.Status == "Done" && len(done) < 5 {
			done = append(done, fi.Key)
		}
	}
	if len(done) < 5 {
		t.Fatalf("fixture: %d Done ALPHA issues", len(done))
	}
	for _, k := range done {
		if err := f.site.Update(k, map[string]any{"summary": "edited " + k}); err != nil {
			t.Fatal(err)
		}
	}
	// Moved out of the narrow scope into GAMMA, which admin's scope covers.
	from, moved := moveOne(t, f.site, "GAMMA", func(fi jiratest.FakeIssue) bool {
		return fi.Project == "ALPHA" && fi.Status != "Done"
	})
	open := []string{from}
	st := f.deliverAll(t, carol)
	if st.Deleted != 0 {
		t.Errorf("the narrow profile's webhooks removed %d issues other profiles cover", st.Deleted)
	}
	for _, k := range done {
		if is, ok := cached(t, f.db, k); !ok || is.Summary != "edited "+k {
			t.Errorf("%s: cached %v, summary %q: want it kept and updated", k, ok, is.Summary)
		}
	}
	if is, ok := cached(t, f.db, moved); !ok || is.Project != "GAMMA" {
		t.Errorf("%s (moved from %s): cached %v in %q: want it kept, in GAMMA", moved, open[0], ok, is.Project)
	}
	if _, ok := cached(t, f.db, open[0]); ok {
		t.Errorf("%s still cached under its old key", open[0])
	}
	if n := len(f.cachedKeys(t)); n != before {
		t.Errorf("cache holds %d issues, %d before the deliveries", n, before)
	}
	tombs, err := f.db.Tombstones(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tombs) != 0 {
		t.Errorf("tombstones left: %+v", tombs)
	}
}

// An issue that moves out of every scope the cache mirrors is still removed by a webhook,
// as reconcile would, whichever profile applies it.
func TestWebhookRemovesWhatLeavesEveryScope(t *testing.T) {
	f := newSharedFixture(t, "cloud")
	eng, err := refresh.New(f.client(t, "admin"), f.db, refresh.Options{Site: "admin", Scope: "project in (ALPHA, BETA)"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, "admin full", eng.Full)
	a, _ := f.listen(t, "alice", "project = ALPHA")
	key, moved := moveOne(t, f.site, "GAMMA", func(fi jiratest.FakeIssue) bool { return fi.Project == "ALPHA" })
	st := f.deliverAll(t, a)
	if _, ok := cached(t, f.db, moved); ok || st.Deleted != 1 {
		t.Errorf("%s moved to GAMMA, which no scope covers: cached %v, deleted %d", moved, ok, st.Deleted)
	}
	if _, ok := cached(t, f.db, key); ok {
		t.Errorf("%s still cached under its old key", key)
	}
}

// A full refresh is Jira's word on every issue it reads: removals Jira does not bear out
// (tombstones left by a profile that spoke for issues it did not cover) and versions dated
// in the future (a signed delivery from a skewed clock) give way to it, so a cache damaged
// either way heals on the next --full.
func TestFullRefreshRestoresWhatJiraHas(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newSharedFixture(t, dialect)
			admin := f.engine(t, "admin")
			run(t, "admin full", admin.Full)
			want := jiraKeys(f.site, "ALPHA", "BETA", "GAMMA")
			issues, _ := f.state(t)
			if len(issues) != len(want) {
				t.Fatalf("fixture: cache holds %d issues, Jira %d", len(issues), len(want))
			}
			// The damage the old webhook applier did: cached issues removed for leaving a
			// narrow profile's scope, with tombstones carrying their current Updated.
			var gone []int64
			for _, is := range issues {
				if is.Project == "ALPHA" && is.StatusCategory == "done" && len(gone) < 20 {
					gone = append(gone, is.ID)
				}
			}
			if len(gone) == 0 {
				t.Fatal("fixture: no Done ALPHA issue")
			}
			if _, err := f.db.DeleteIssues(context.Background(), gone, "left scope project = ALPHA AND status != Done"); err != nil {
				t.Fatal(err)
			}

			// A validly signed delivery dating an issue in 2030.
			_, url := f.listen(t, "admin", sharedScope)
			a := refresh.NewApplier(f.client(t, "admin"), f.db, refresh.ApplyOptions{Scope: sharedScope})
			var pinned string
			for _, is := range issues {
				if is.Project == "BETA" && is.SecurityLevel == "" {
					pinned = is.Key
					break
				}
			}
			full, err := f.db.Issue(context.Background(), pinned)
			if err != nil {
				t.Fatal(err)
			}
			fields := map[string]json.RawMessage{}
			for k, v := range full.Fields {
				fields[k] = v
			}
			fields["summary"], _ = json.Marshal("from the future")
			fields["updated"], _ = json.Marshal("2030-01-01T00:00:00.000+0000")
			body, _ := json.Marshal(map[string]any{
				"webhookEvent": "jira:issue_updated", "timestamp": time.Now().UnixMilli(),
				"issue": map[string]any{"id": full.ID, "key": full.Key, "fields": fields},
			})
			mac := hmac.New(sha256.New, []byte(hookSecret))
			mac.Write(body)
			h := &hookFixture{url: url}
			code := h.deliver(t, captured{header: map[string][]string{
				"Content-Type": {"application/json"}, "X-Hub-Signature": {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
			}, body: body})
			if code != 200 {
				t.Fatalf("future-dated delivery: HTTP %d", code)
			}
			if _, err := a.ApplyPending(context.Background()); err != nil {
				t.Fatal(err)
			}
			if is, _ := cached(t, f.db, pinned); is.Summary != "from the future" {
				t.Fatalf("fixture: the future-dated delivery did not land: %q", is.Summary)
			}

			s := run(t, "admin full again", admin.Full)
			if s.Inserted != len(gone) {
				t.Errorf("full refresh inserted %d, want the %d removed issues back", s.Inserted, len(gone))
			}
			have := f.cachedKeys(t)
			for k := range want {
				if !have[k] {
					t.Errorf("%s is in Jira's scope but not in the cache after --full", k)
				}
			}
			if len(have) != len(want) {
				t.Errorf("cache holds %d issues, Jira %d", len(have), len(want))
			}
			jiraIssue, _ := f.site.Issue(pinned)
			if is, _ := cached(t, f.db, pinned); is.Summary != jiraIssue.Summary || is.Updated.Year() == 2030 {
				t.Errorf("%s after --full: %q updated %v; Jira has %q", pinned, is.Summary, is.Updated, jiraIssue.Summary)
			}
			tombs, err := f.db.Tombstones(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(tombs) != 0 {
				t.Errorf("%d tombstones left for issues Jira has", len(tombs))
			}
			// A second full sync finds nothing to change.
			if s := run(t, "third full", admin.Full); s.Inserted+s.Updated != 0 {
				t.Errorf("third full sync: inserted %d, updated %d; want nothing", s.Inserted, s.Updated)
			}
		})
	}
}

// A deletion that happens while a full sync runs stays: the sync's pages may have been
// read before it.
func TestFullRefreshKeepsDeletionsMadeWhileItRuns(t *testing.T) {
	f := newSharedFixture(t, "cloud")
	admin := f.engine(t, "admin")
	run(t, "admin full", admin.Full)
	issues, _ := f.state(t)
	is := issues[0]
	// Written as the store would once the sync's read has begun: a page carrying the
	// issue as Jira had it before the deletion, read at a time before the tombstone.
	readAt := time.Now()
	time.Sleep(5 * time.Millisecond)
	if _, err := f.db.DeleteIssues(context.Background(), []int64{is.ID}, "deleted"); err != nil {
		t.Fatal(err)
	}
	st, err := f.db.ApplyPage(context.Background(), store.Page{Issues: []lens.Issue{is}, ReadAt: readAt}, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocked != 1 {
		t.Errorf("a page read before the deletion brought %s back: %+v", is.Key, st)
	}
}
