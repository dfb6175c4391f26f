package refresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// editFixture is a fake site whose clock ticks on every read (so every write gets a later
// updated than the one before), a cache filled by admin, and Writers per user.
type editFixture struct {
	t       *testing.T
	dialect string
	site    *jiratest.Site
	srv     *httptest.Server
	db      *store.DB
	faults  *jiratest.Faults
}

// editNow is the Writer's clock for relative dates.
var editNow = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

func newEditFixture(t *testing.T, dialect string) *editFixture {
	t.Helper()
	var tick atomic.Int64
	start := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: 300, Seed: 11,
		Now: func() time.Time { return start.Add(time.Duration(tick.Add(1)) * 10 * time.Millisecond) }})
	if err != nil {
		t.Fatal(err)
	}
	faults := jiratest.NewFaults(1)
	srv := httptest.NewServer(jiratest.WithFaults(site, faults))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &editFixture{t: t, dialect: dialect, site: site, srv: srv, db: db, faults: faults}
	eng, err := refresh.New(f.client("admin"), db, refresh.Options{Site: "t", Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *editFixture) client(user string, onEvent ...func(jira.Event)) *jira.Client {
	f.t.Helper()
	o := jira.Options{BaseURL: f.srv.URL, Dialect: jira.Dialect(f.dialect), Token: user + "-token", RequestsPerSecond: -1, BaseBackoff: time.Millisecond}
	if f.dialect == "cloud" {
		o.Email = user + "@example.com"
	}
	if len(onEvent) > 0 {
		o.OnEvent = onEvent[0]
	}
	c, err := jira.New(context.Background(), o)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *editFixture) writer(user string) *refresh.Writer {
	return refresh.NewWriter(f.client(user), f.db, refresh.WriterOptions{Actor: user, Now: func() time.Time { return editNow }})
}

// pick returns the key of the first issue matching ok.
func (f *editFixture) pick(ok func(jiratest.FakeIssue) bool) string {
	f.t.Helper()
	for _, is := range f.site.Issues() {
		if ok(is) {
			return is.Key
		}
	}
	f.t.Fatal("no issue matches")
	return ""
}

func (f *editFixture) picks(n int, ok func(jiratest.FakeIssue) bool) []string {
	f.t.Helper()
	var out []string
	for _, is := range f.site.Issues() {
		if ok(is) && len(out) < n {
			out = append(out, is.Key)
		}
	}
	if len(out) < n {
		f.t.Fatalf("only %d issues match", len(out))
	}
	return out
}

func (f *editFixture) fake(key string) jiratest.FakeIssue {
	f.t.Helper()
	is, ok := f.site.Issue(key)
	if !ok {
		f.t.Fatalf("%s gone", key)
	}
	return is
}

func (f *editFixture) base(key string) time.Time {
	f.t.Helper()
	is, err := f.db.Issue(context.Background(), key)
	if err != nil {
		f.t.Fatal(err)
	}
	return is.Updated
}

func plain(is jiratest.FakeIssue) bool {
	return is.Type == "Story" || is.Type == "Task"
}

func inProject(p string, ok func(jiratest.FakeIssue) bool) func(jiratest.FakeIssue) bool {
	return func(is jiratest.FakeIssue) bool { return is.Project == p && ok(is) }
}

func TestSetEveryKind(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			w := f.writer("admin")
			ctx := context.Background()
			story := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return plain(is) && is.StatusCategory == "new" }))
			epic := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return is.Type == "Epic" }))
			sub := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return is.Subtask }))
			host := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return plain(is) && is.Key != f.fake(sub).Parent }))
			alice, bob := "61a0000000000000000000a2", "61a0000000000000000000a3"
			if dialect == "datacenter" {
				alice, bob = "alice", "bob"
			}
			cases := []struct {
				key, field, value string
				check             func(jiratest.FakeIssue) bool
				want              string // Result.New
			}{
				{story, "Summary", "Ship the edit path", func(is jiratest.FakeIssue) bool { return is.Summary == "Ship the edit path" }, "Ship the edit path"},
				{story, "description", "Line one", func(is jiratest.FakeIssue) bool { return is.Description == "Line one" }, "Line one"},
				{story, "SP", "5", func(is jiratest.FakeIssue) bool { return is.StoryPoints != nil && *is.StoryPoints == 5 }, "5"},
				{story, "story points", "none", func(is jiratest.FakeIssue) bool { return is.StoryPoints == nil }, ""},
				{story, "due", "2026-12-24", func(is jiratest.FakeIssue) bool { return is.DueDate == "2026-12-24" }, "2026-12-24"},
				{story, "duedate", "+3d", func(is jiratest.FakeIssue) bool { return is.DueDate == "2026-11-23" }, "2026-11-23"},
				{story, "Due date", "-1w", func(is jiratest.FakeIssue) bool { return is.DueDate == "2026-11-13" }, "2026-11-13"},
				{story, "priority", "high", func(is jiratest.FakeIssue) bool { return is.Priority == "High" }, "High"},
				{story, "labels", "alpha,beta", func(is jiratest.FakeIssue) bool { return slices.Equal(is.Labels, []string{"alpha", "beta"}) }, "alpha,beta"},
				{story, "labels", "+gamma", func(is jiratest.FakeIssue) bool { return slices.Equal(is.Labels, []string{"alpha", "beta", "gamma"}) }, "alpha,beta,gamma"},
				{story, "labels", "-alpha", func(is jiratest.FakeIssue) bool { return slices.Equal(is.Labels, []string{"beta", "gamma"}) }, "beta,gamma"},
				{story, "components", "api,Web", func(is jiratest.FakeIssue) bool { return slices.Equal(is.Components, []string{"API", "Web"}) }, "API,Web"},
				{story, "component", "-web,+Mobile", func(is jiratest.FakeIssue) bool { return slices.Equal(is.Components, []string{"API", "Mobile"}) }, "API,Mobile"},
				{story, "fixVersions", "2.0", func(is jiratest.FakeIssue) bool { return slices.Equal(is.FixVersions, []string{"2.0"}) }, "2.0"},
				{story, "Fix versions", "+1.1", func(is jiratest.FakeIssue) bool { return slices.Equal(is.FixVersions, []string{"1.1", "2.0"}) }, "1.1,2.0"},
				{story, "assignee", "bob", func(is jiratest.FakeIssue) bool { return is.Assignee == bob }, bob},
				{story, "assignee", "Alice Anders", func(is jiratest.FakeIssue) bool { return is.Assignee == alice }, alice},
				{story, "assignee", "none", func(is jiratest.FakeIssue) bool { return is.Assignee == "" }, ""},
				{story, "assignee", "bob@example.com", func(is jiratest.FakeIssue) bool { return is.Assignee == bob }, bob},
				{story, "sprint", "alpha sprint 5", func(is jiratest.FakeIssue) bool { return slices.Contains(is.Sprints, "ALPHA Sprint 5") }, "ALPHA Sprint 5"},
				{story, "status", "In Progress", func(is jiratest.FakeIssue) bool { return is.Status == "In Progress" }, "In Progress"},
				{sub, "parent", host, func(is jiratest.FakeIssue) bool { return is.Parent == host }, host},
			}
			if dialect == "cloud" {
				cases = append(cases,
					struct {
						key, field, value string
						check             func(jiratest.FakeIssue) bool
						want              string
					}{story, "parent", epic, func(is jiratest.FakeIssue) bool { return is.Parent == epic }, epic},
					struct {
						key, field, value string
						check             func(jiratest.FakeIssue) bool
						want              string
					}{story, "parent", "none", func(is jiratest.FakeIssue) bool { return is.Parent == "" }, ""})
			} else {
				cases = append(cases,
					struct {
						key, field, value string
						check             func(jiratest.FakeIssue) bool
						want              string
					}{story, "Epic Link", epic, func(is jiratest.FakeIssue) bool { return is.EpicLink == epic }, epic},
					struct {
						key, field, value string
						check             func(jiratest.FakeIssue) bool
						want              string
					}{story, "epic link", "none", func(is jiratest.FakeIssue) bool { return is.EpicLink == "" }, ""})
			}
			for _, tc := range cases {
				before := f.base(tc.key)
				res, err := w.Set(ctx, tc.key, tc.field, tc.value, before, refresh.SetOptions{})
				if err != nil {
					t.Fatalf("%s %s=%s: %v", tc.key, tc.field, tc.value, err)
				}
				if !tc.check(f.fake(tc.key)) {
					t.Errorf("%s %s=%s: Jira has %+v", tc.key, tc.field, tc.value, f.fake(tc.key))
				}
				if res.New != tc.want {
					t.Errorf("%s %s=%s: result new %q, want %q", tc.key, tc.field, tc.value, res.New, tc.want)
				}
				if res.Unchanged {
					// Jira held the value already (the check above says it does now): nothing
					// was written.
					if !f.base(tc.key).Equal(before) {
						t.Errorf("%s %s=%s: unchanged, yet the cache moved from %s to %s", tc.key, tc.field, tc.value, before, f.base(tc.key))
					}
				} else if !res.Updated.After(before) || !f.base(tc.key).Equal(res.Updated) {
					t.Errorf("%s %s=%s: cache updated %s, result %s, before %s", tc.key, tc.field, tc.value, f.base(tc.key), res.Updated, before)
				}
			}
			// The cache holds what Jira has, through the same extraction a sync uses.
			is, err := f.db.Issue(ctx, story)
			if err != nil {
				t.Fatal(err)
			}
			fk := f.fake(story)
			if is.Summary != fk.Summary || is.Status != fk.Status || is.Priority != fk.Priority || is.Assignee != fk.Assignee || !slices.Equal(is.Labels, fk.Labels) {
				t.Errorf("cache %+v\nJira %+v", is, fk.Issue)
			}
			log, err := f.db.AuditLog(ctx, store.AuditFilter{Target: story, Action: refresh.AuditActionEdit})
			if err != nil {
				t.Fatal(err)
			}
			if len(log) < 20 {
				t.Errorf("%d audit entries for %s", len(log), story)
			}
		})
	}
}

func TestSetRefusals(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			w := f.writer("admin")
			story := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return plain(is) && is.Status == "In Progress" }))
			beta := f.pick(inProject("BETA", func(is jiratest.FakeIssue) bool { return plain(is) && is.SecurityLevel == "" }))
			var fe *refresh.FieldError
			var pe *refresh.PermissionError

			// Value syntax refused before anything is sent, naming what is allowed.
			_, err := w.Set(ctx, story, "priority", "urgent", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) || !strings.Contains(fe.Message, "Highest, High, Medium, Low, Lowest") {
				t.Errorf("bad priority: %v", err)
			}
			_, err = w.Set(ctx, story, "sprint", "ALPHA Sprint 1", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) || !strings.Contains(fe.Message, "closed") {
				t.Errorf("closed sprint: %v", err)
			}
			_, err = w.Set(ctx, story, "labels", "a,+b", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) {
				t.Errorf("mixed labels: %v", err)
			}
			_, err = w.Set(ctx, story, "no such field", "x", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) || !strings.Contains(fe.Message, "unknown field") {
				t.Errorf("unknown field: %v", err)
			}
			// Jira's own message for the field (400).
			_, err = w.Set(ctx, story, "summary", "  ", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) || fe.Message != "You must specify a summary of the issue." {
				t.Errorf("empty summary: %v", err)
			}
			_, err = w.Set(ctx, story, "labels", "two words", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) || !strings.Contains(fe.Message, "contains spaces") {
				t.Errorf("label with a space: %v", err)
			}
			// A transition screen with a required field: missing, then given.
			_, err = w.Set(ctx, story, "status", "Done", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) || len(fe.Missing) != 1 || !strings.Contains(fe.Missing[0], "Resolution") || !strings.Contains(fe.Missing[0], "Won't Do") {
				t.Errorf("transition without resolution: %v", err)
			}
			_, err = w.Set(ctx, story, "status", "Triage", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &fe) || !strings.Contains(fe.Message, "Jira offers") {
				t.Errorf("unreachable status: %v", err)
			}
			res, err := w.Set(ctx, story, "status", "done", time.Time{}, refresh.SetOptions{Screen: map[string]string{"resolution": "won't do", "labels": "x"}})
			if err != nil || res.New != "Done" || !slices.Equal(res.ScreenUsed, []string{"resolution"}) {
				t.Fatalf("transition with resolution: %+v %v", res, err)
			}
			if fk := f.fake(story); fk.Resolution != "Won't Do" || fk.Status != "Done" {
				t.Errorf("Jira has %s/%s", fk.Status, fk.Resolution)
			}
			if c, _ := f.db.Issue(ctx, story); c.Resolution != "Won't Do" {
				t.Errorf("cache resolution %q", c.Resolution)
			}

			// bob cannot see BETA: Jira answers 404, a permission refusal.
			before, _ := f.db.Issue(ctx, beta)
			_, err = f.writer("bob").Set(ctx, beta, "summary", "mine now", time.Time{}, refresh.SetOptions{})
			if !errors.As(err, &pe) {
				t.Errorf("bob on BETA: %v", err)
			}
			after, _ := f.db.Issue(ctx, beta)
			if after.Summary != before.Summary || !after.Updated.Equal(before.Updated) {
				t.Errorf("a refused edit changed the cache")
			}
			log, err := f.db.AuditLog(ctx, store.AuditFilter{Target: beta, Actor: "bob"})
			if err != nil || len(log) != 1 || !strings.HasPrefix(log[0].Outcome, "failed: ") || !strings.Contains(string(log[0].After), "mine now") {
				t.Errorf("refusal audit %+v %v", log, err)
			}
		})
	}
}

func TestReadOnlyUser(t *testing.T) {
	site, err := jiratest.New(jiratest.Options{Issues: 60, Seed: 2, Users: []jiratest.User{{Name: "rita", Projects: []string{"ALPHA"}, ReadOnly: true}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	ctx := context.Background()
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Dialect: jira.Cloud, Email: "rita@example.com", Token: "rita-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := refresh.NewWriter(c, db, refresh.WriterOptions{Actor: "rita"})
	var key string
	for _, is := range site.Issues() {
		if is.Project == "ALPHA" && is.Type == "Story" && is.StatusCategory == "new" {
			key = is.Key
			break
		}
	}
	var pe *refresh.PermissionError
	if _, err := w.Set(ctx, key, "summary", "x", time.Time{}, refresh.SetOptions{}); !errors.As(err, &pe) {
		t.Errorf("read-only edit: %v", err)
	}
	if _, err := w.Set(ctx, key, "status", "In Progress", time.Time{}, refresh.SetOptions{}); !errors.As(err, &pe) {
		t.Errorf("read-only transition: %v", err)
	}
}

func TestConflict(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			w := f.writer("alice")
			key := f.pick(inProject("ALPHA", plain))
			base := f.base(key)
			// Someone changes another field: our edit loses nothing, so it goes through.
			if err := f.site.Update(key, map[string]any{"labels": []string{"theirs"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Set(ctx, key, "summary", "mine", base, refresh.SetOptions{}); err != nil {
				t.Fatalf("edit beside another field's change: %v", err)
			}
			base = f.base(key)
			if err := f.site.Update(key, map[string]any{"summary": "theirs"}); err != nil {
				t.Fatal(err)
			}
			_, err := w.Set(ctx, key, "summary", "mine again", base, refresh.SetOptions{})
			var ce *refresh.ConflictError
			if !errors.As(err, &ce) || ce.Theirs != "theirs" || ce.Mine != "mine again" || !ce.TheirsUpdated.After(ce.Base) {
				t.Fatalf("conflict: %v", err)
			}
			if f.fake(key).Summary != "theirs" {
				t.Errorf("a conflicting edit was written")
			}
			// The conflict brought their version into the cache: keeping theirs shows it.
			if cached, err := f.db.Issue(ctx, key); err != nil || cached.Summary != "theirs" {
				t.Errorf("cache after the conflict: %q %v, want theirs", cached.Summary, err)
			}
			res, err := w.Set(ctx, key, "summary", "mine again", base, refresh.SetOptions{Overwrite: true})
			if err != nil || res.Old != "theirs" || f.fake(key).Summary != "mine again" {
				t.Errorf("overwrite: %+v %v", res, err)
			}
			log, _ := f.db.AuditLog(ctx, store.AuditFilter{Target: key})
			if len(log) != 3 || log[0].Outcome != "ok" || !strings.HasPrefix(log[1].Outcome, "conflict: ") {
				t.Errorf("audit %+v", log)
			}
			// Adding a label over someone's label change keeps both: no conflict. Setting the
			// whole list over it is one.
			base = f.base(key)
			if err := f.site.Update(key, map[string]any{"labels": []string{"theirs", "more"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Set(ctx, key, "labels", "+mine", base, refresh.SetOptions{}); err != nil {
				t.Errorf("+label over a label change: %v", err)
			}
			if got := f.fake(key).Labels; !slices.Equal(got, []string{"theirs", "more", "mine"}) {
				t.Errorf("labels %v", got)
			}
			if _, err := w.Set(ctx, key, "labels", "only-mine", base, refresh.SetOptions{}); !errors.As(err, &ce) {
				t.Errorf("setting labels over a change: %v", err)
			}
		})
	}
}

func TestPerIssueRateLimitWaitedOut(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) { testPerIssueRateLimit(t, dialect) })
	}
}

func testPerIssueRateLimit(t *testing.T, dialect string) {
	f := newEditFixture(t, dialect)
	ctx := context.Background()
	f.faults.SetRateLimit(jiratest.RateLimit{IssueWriteBurst: 1, IssueWritePerSecond: 20})
	var mu sync.Mutex
	var events []refresh.EditEvent
	var w *refresh.Writer
	c := f.client("admin", func(ev jira.Event) { w.OnClientEvent(ev) })
	w = refresh.NewWriter(c, f.db, refresh.WriterOptions{Actor: "admin", Progress: func(ev refresh.EditEvent) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}})
	key := f.pick(inProject("ALPHA", plain))
	// The burst allows one write; the second waits for Jira's Retry-After (a second).
	for _, v := range []string{"one", "two"} {
		if _, err := w.Set(ctx, key, "summary", v, time.Time{}, refresh.SetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if f.fake(key).Summary != "two" {
		t.Errorf("summary %q", f.fake(key).Summary)
	}
	mu.Lock()
	defer mu.Unlock()
	waits := 0
	for _, ev := range events {
		if ev.Kind == "rate-limited" && ev.Key == key && ev.Wait > 0 {
			waits++
		}
	}
	if waits == 0 || f.faults.Stats().RateLimited == 0 {
		t.Errorf("no rate-limit wait reported: %+v, %+v", events, f.faults.Stats())
	}
}

func TestUndoRedo(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			w := f.writer("admin")
			var h refresh.History
			key := f.pick(inProject("ALPHA", plain))
			orig := f.fake(key)
			steps := []struct{ field, value string }{{"summary", "first"}, {"priority", "Lowest"}, {"labels", "+undo-me"}}
			for _, s := range steps {
				if _, err := w.Set(ctx, key, s.field, s.value, f.base(key), refresh.SetOptions{History: &h}); err != nil {
					t.Fatal(err)
				}
			}
			if u, r := h.Len(); u != 3 || r != 0 {
				t.Fatalf("history %d/%d", u, r)
			}
			for range 3 {
				if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			got := f.fake(key)
			if got.Summary != orig.Summary || got.Priority != orig.Priority || !slices.Equal(got.Labels, orig.Labels) {
				t.Errorf("after 3 undos: %+v\nwant %+v", got.Issue, orig.Issue)
			}
			if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); !errors.Is(err, refresh.ErrNothingToUndo) {
				t.Errorf("4th undo: %v", err)
			}
			for range 2 {
				if _, err := w.Redo(ctx, &h, refresh.SetOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			got = f.fake(key)
			if got.Summary != "first" || got.Priority != "Lowest" || slices.Contains(got.Labels, "undo-me") {
				t.Errorf("after 2 redos: %+v", got.Issue)
			}
			// Someone else changes the priority: undoing our priority edit is a conflict and
			// stays on the stack.
			if err := f.site.Update(key, map[string]any{"priority": map[string]any{"name": "Highest"}}); err != nil {
				t.Fatal(err)
			}
			_, err := w.Undo(ctx, &h, refresh.SetOptions{})
			var ce *refresh.ConflictError
			if !errors.As(err, &ce) || f.fake(key).Priority != "Highest" {
				t.Errorf("undo over someone's change: %v, priority %s", err, f.fake(key).Priority)
			}
			if u, _ := h.Len(); u != 2 {
				t.Errorf("undo stack %d after a refused undo, want 2", u)
			}
			// A new edit clears the redo stack.
			if _, err := w.Set(ctx, key, "summary", "fresh", time.Time{}, refresh.SetOptions{History: &h}); err != nil {
				t.Fatal(err)
			}
			if _, r := h.Len(); r != 0 {
				t.Errorf("redo stack %d after a new edit", r)
			}
		})
	}
}

func TestBulkPartialFailure(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			var mu sync.Mutex
			var done []int
			w := refresh.NewWriter(f.client("bob"), f.db, refresh.WriterOptions{Actor: "bob", Progress: func(ev refresh.EditEvent) {
				if ev.Kind == "bulk" {
					mu.Lock()
					done = append(done, ev.Done)
					mu.Unlock()
				}
			}})
			var h refresh.History
			alpha := f.picks(5, inProject("ALPHA", plain))
			beta := f.picks(2, inProject("BETA", plain))
			keys := append(append([]string{}, alpha[:3]...), beta[0], alpha[3], beta[1], alpha[4])
			was := map[string]string{}
			for _, k := range keys {
				was[k] = f.fake(k).Priority
			}
			b := w.Bulk(ctx, keys, "priority", "Low", refresh.SetOptions{History: &h})
			if len(b.Results) != 5 || len(b.Failed) != 2 || b.Failed[0].Key != beta[0] || b.Failed[1].Key != beta[1] {
				t.Fatalf("bulk %+v", b)
			}
			var pe *refresh.PermissionError
			if !errors.As(b.Failed[0].Err, &pe) || b.Err() == nil || !strings.Contains(b.Err().Error(), "2 of 7") {
				t.Errorf("failure %v / %v", b.Failed[0].Err, b.Err())
			}
			for _, k := range alpha {
				if f.fake(k).Priority != "Low" {
					t.Errorf("%s priority %s", k, f.fake(k).Priority)
				}
			}
			mu.Lock()
			if len(done) != 7 {
				t.Errorf("progress %v", done)
			}
			mu.Unlock()
			if u, _ := h.Len(); u != 1 {
				t.Fatalf("bulk is %d undo steps", u)
			}
			if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, k := range alpha {
				if f.fake(k).Priority != was[k] {
					t.Errorf("%s after undo: %s, want %s", k, f.fake(k).Priority, was[k])
				}
			}
		})
	}
}

func TestMoves(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			w := f.writer("admin")
			story := f.pick(inProject("ALPHA", plain))
			epics := f.picks(2, inProject("ALPHA", func(is jiratest.FakeIssue) bool { return is.Type == "Epic" }))
			epic := epics[0]
			if f.fake(story).Parent == epic || f.fake(story).EpicLink == epic {
				epic = epics[1]
			}
			res, err := w.MoveUnder(ctx, story, epic, refresh.MoveHow{By: "parent"}, refresh.SetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			fk := f.fake(story)
			cachedIs, _ := f.db.Issue(ctx, story)
			if dialect == "cloud" && (fk.Parent != epic || cachedIs.Parent != epic || res.ID != "parent") {
				t.Errorf("cloud move: Jira parent %q, cache %q, field %s", fk.Parent, cachedIs.Parent, res.ID)
			}
			if dialect == "datacenter" && (fk.EpicLink != epic || cachedIs.EpicLink != epic || res.ID != "customfield_10014") {
				t.Errorf("DC move: Jira epic link %q, cache %q, field %s", fk.EpicLink, cachedIs.EpicLink, res.ID)
			}
			if _, err := w.MoveUnder(ctx, story, "", refresh.MoveHow{By: "parent"}, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if fk := f.fake(story); fk.Parent != "" || fk.EpicLink != "" {
				t.Errorf("move out: parent %q epic link %q", fk.Parent, fk.EpicLink)
			}

			// By links: a Blocks link from the new parent, the one from the old removed.
			others := f.picks(3, inProject("ALPHA", func(is jiratest.FakeIssue) bool { return plain(is) && is.Key != story }))
			how := refresh.MoveHow{By: "links", LinkType: "Blocks"}
			if _, err := w.MoveUnder(ctx, story, others[0], how, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			var h refresh.History
			how.OldParent = others[0]
			if _, err := w.MoveUnder(ctx, story, others[1], how, refresh.SetOptions{History: &h}); err != nil {
				t.Fatal(err)
			}
			type pair struct{ from, to string }
			links := func() (inJira, inCache []pair) {
				for _, l := range f.site.Links() {
					if l.Type == "Blocks" {
						inJira = append(inJira, pair{l.From, l.To})
					}
				}
				cl, err := f.db.Links(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range cl {
					if l.Type == "Blocks" {
						inCache = append(inCache, pair{l.From, l.To})
					}
				}
				return inJira, inCache
			}
			underOnly := func(when, parent, not string) {
				j, c := links()
				for name, ls := range map[string][]pair{"Jira": j, "cache": c} {
					if !slices.Contains(ls, pair{parent, story}) || slices.Contains(ls, pair{not, story}) {
						t.Errorf("%s: %s links %v, want %s -> %s and not %s", when, name, ls, parent, story, not)
					}
				}
			}
			underOnly("after the move", others[1], others[0])
			if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			underOnly("after undo", others[0], others[1])
			if _, err := w.Redo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			underOnly("after redo", others[1], others[0])

			// Into another group: labels lose the old group and gain the new one.
			if _, err := w.Set(ctx, story, "labels", "red,keep", time.Time{}, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.MoveToGroup(ctx, story, "labels", "red", "blue", refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := f.fake(story).Labels; !slices.Equal(got, []string{"keep", "blue"}) {
				t.Errorf("labels after group move: %v", got)
			}
			if _, err := w.MoveToGroup(ctx, story, "priority", "Low", "Medium", refresh.SetOptions{}); err != nil || f.fake(story).Priority != "Medium" {
				t.Errorf("priority group move: %v %s", err, f.fake(story).Priority)
			}
		})
	}
}

func TestAuditHoldsNoSecrets(t *testing.T) {
	f := newEditFixture(t, "cloud")
	ctx := context.Background()
	w := f.writer("alice")
	key := f.pick(inProject("ALPHA", plain))
	if _, err := w.Set(ctx, key, "summary", "audited", f.base(key), refresh.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Set(ctx, key, "priority", "nope", time.Time{}, refresh.SetOptions{})
	log, err := f.db.AuditLog(ctx, store.AuditFilter{Target: key})
	if err != nil || len(log) != 2 {
		t.Fatalf("%+v %v", log, err)
	}
	var before, after struct{ Field, Value string }
	_ = json.Unmarshal(log[1].Before, &before)
	_ = json.Unmarshal(log[1].After, &after)
	if log[1].Actor != "alice" || log[1].Action != refresh.AuditActionEdit || after.Field != "summary" || after.Value != "audited" || before.Value == "" || log[1].Outcome != "ok" {
		t.Errorf("entry %+v before %s after %s", log[1], log[1].Before, log[1].After)
	}
	if !strings.HasPrefix(log[0].Outcome, "failed: ") || !strings.Contains(log[0].Outcome, "allowed") {
		t.Errorf("failure entry %+v", log[0])
	}
	for _, e := range log {
		all := e.Actor + e.Outcome + string(e.Before) + string(e.After)
		if strings.Contains(all, "token") || strings.Contains(all, "Basic ") {
			t.Errorf("secret in audit: %s", all)
		}
	}
}

// Two sessions on one cache file: an edit written through one shows in the other's change
// feed and reads, which is how every open view follows edits.
func TestEditReachesOtherSessions(t *testing.T) {
	f := newEditFixture(t, "cloud")
	ctx := context.Background()
	other, err := store.Open(ctx, f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	key := f.pick(inProject("ALPHA", plain))
	seq, err := other.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.writer("admin").Set(ctx, key, "summary", "seen elsewhere", f.base(key), refresh.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	changes, err := other.Changes(ctx, seq, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(changes, func(c store.Change) bool { return c.Kind == store.ChangeIssueUpdated && c.IssueKey == key }) {
		t.Errorf("feed after the edit: %+v", changes)
	}
	if is, err := other.Issue(ctx, key); err != nil || is.Summary != "seen elsewhere" {
		t.Errorf("other session reads %q %v", is.Summary, err)
	}
}

func TestDescribeAndSuggest(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			w := f.writer("admin")
			story := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return plain(is) && is.Status == "In Progress" }))
			fk := f.fake(story)

			spec, err := w.Describe(ctx, story, "priority")
			if err != nil || spec.Kind != refresh.EditSelect || spec.Current != fk.Priority || !slices.Equal(spec.Allowed, []string{"Highest", "High", "Medium", "Low", "Lowest"}) || !spec.Updated.Equal(f.base(story)) {
				t.Errorf("priority: %+v %v", spec, err)
			}
			spec, err = w.Describe(ctx, story, "components")
			if err != nil || spec.Kind != refresh.EditMultiSelect || !slices.Equal(spec.Allowed, []string{"API", "Web", "Mobile"}) {
				t.Errorf("components: %+v %v", spec, err)
			}
			spec, err = w.Describe(ctx, story, "sprint")
			if err != nil || spec.Kind != refresh.EditSprint || !slices.Equal(spec.Allowed, []string{"ALPHA Sprint 4", "ALPHA Sprint 5"}) {
				t.Errorf("sprint: %+v %v", spec, err)
			}
			spec, err = w.Describe(ctx, story, "status")
			if err != nil || spec.Kind != refresh.EditStatus || spec.Current != "In Progress" || !slices.Contains(spec.Allowed, "Done") {
				t.Fatalf("status: %+v %v", spec, err)
			}
			for _, tr := range spec.Transitions {
				needs := len(tr.Screen) == 1 && tr.Screen[0].Field == "resolution" && tr.Screen[0].Required && slices.Contains(tr.Screen[0].Allowed, "Won't Do")
				if (tr.To == "Done") != needs {
					t.Errorf("transition %+v", tr)
				}
			}
			var pe *refresh.PermissionError
			if _, err := f.writer("bob").Describe(ctx, f.pick(inProject("BETA", plain)), "summary"); !errors.As(err, &pe) {
				t.Errorf("bob describes BETA: %v", err)
			}

			if _, err := w.Set(ctx, story, "labels", "+zeta-one", time.Time{}, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := w.Suggest(ctx, story, "labels", "zeta", 0)
			if err != nil || len(got) != 1 || got[0].Value != "zeta-one" {
				t.Errorf("labels: %+v %v", got, err)
			}
			got, err = w.Suggest(ctx, story, "assignee", "ali", 0)
			want := map[string]string{"cloud": "61a0000000000000000000a2", "datacenter": "alice"}[dialect]
			if err != nil || len(got) != 1 || got[0].Value != want || got[0].Label != "Alice Anders <alice@example.com>" {
				t.Errorf("assignee: %+v %v", got, err)
			}
			field := "parent"
			if dialect == "datacenter" {
				field = "epic link"
			}
			got, err = w.Suggest(ctx, story, field, "", 5)
			if err != nil || len(got) == 0 || len(got) > 5 {
				t.Fatalf("%s: %+v %v", field, got, err)
			}
			for _, s := range got {
				if is := f.fake(s.Value); is.Type != "Epic" || is.Project != "ALPHA" {
					t.Errorf("%s suggestion %s is a %s in %s", field, s.Value, is.Type, is.Project)
				}
			}
			got, err = w.Suggest(ctx, story, "priority", "low", 0)
			if err != nil || len(got) != 2 {
				t.Errorf("priority: %+v %v", got, err)
			}
		})
	}
}

// TestSetSameValueWritesNothing: setting a field to the value Jira already holds (the same
// summary, a label already there, the priority in another case, the same number) sends no
// write, leaves the issue's updated alone and adds no audit entry.
func TestSetSameValueWritesNothing(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			key := f.pick(func(is jiratest.FakeIssue) bool {
				return plain(is) && len(is.Labels) > 0 && is.Priority != "" && is.StoryPoints != nil
			})
			before := f.fake(key)
			w := f.writer("admin")
			cases := []struct{ field, value string }{
				{"summary", before.Summary},
				{"labels", "+" + before.Labels[0]},
				{"priority", strings.ToLower(before.Priority)},
				{"Story Points", strconv.FormatFloat(*before.StoryPoints, 'f', -1, 64) + ".0"},
			}
			for _, c := range cases {
				res, err := w.Set(ctx, key, c.field, c.value, f.base(key), refresh.SetOptions{})
				if err != nil || !res.Unchanged {
					t.Errorf("%s=%q: %+v, %v: want it unchanged", c.field, c.value, res, err)
				}
			}
			if after := f.fake(key); !after.Updated.Equal(before.Updated) {
				t.Errorf("%s was written: updated %v -> %v", key, before.Updated, after.Updated)
			}
			if log, err := f.db.AuditLog(ctx, store.AuditFilter{Target: key}); err != nil || len(log) != 0 {
				t.Errorf("audit of %s: %d entries (%v), want none", key, len(log), err)
			}
			// A real change still goes through.
			if res, err := w.Set(ctx, key, "summary", before.Summary+" (edited)", f.base(key), refresh.SetOptions{}); err != nil || res.Unchanged {
				t.Errorf("a new summary: %+v, %v", res, err)
			}
		})
	}
}

// TestUndoListChangesKeepsOthers: undoing "+mine" on labels after someone else added
// "theirs" removes only "mine", with no conflict; redo adds it back, and "theirs" stays.
// A label that was there already is not removed by the undo of adding it again.
func TestUndoListChangesKeepsOthers(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			key := f.pick(func(is jiratest.FakeIssue) bool { return plain(is) && len(is.Labels) > 0 })
			had := f.fake(key).Labels
			w, other := f.writer("admin"), f.writer("alice")
			var h refresh.History
			res, err := w.Set(ctx, key, "labels", "+mine,+"+had[0], f.base(key), refresh.SetOptions{History: &h})
			if err != nil || res.Delta != "+mine" {
				t.Fatalf("+mine: %+v, %v: want the delta +mine", res, err)
			}
			if _, err := other.Set(ctx, key, "labels", "+theirs", f.base(key), refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatalf("undo after another's change to another label: %v", err)
			}
			want := append(slices.Clone(had), "theirs")
			if got := f.fake(key).Labels; !sameSet(got, want) {
				t.Errorf("after undo: labels %v, want %v", got, want)
			}
			if _, err := w.Redo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatalf("redo: %v", err)
			}
			if got := f.fake(key).Labels; !sameSet(got, append(want, "mine")) {
				t.Errorf("after redo: labels %v, want %v", got, append(want, "mine"))
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
