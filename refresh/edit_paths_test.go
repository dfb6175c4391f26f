package refresh_test

// The write path's answers when things happen between its requests: a write that another
// lands on before the read-back, a read-back that fails, an edit of several fields one of
// which cannot be written, a transition refused after the fields were written. Each runs
// against the fake site over HTTP, with a hook in front of it that acts between requests.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// hookedSite serves the fixture's fake site behind a hook that sees every request first;
// a hook that answers itself returns true.
type hookedSite struct {
	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request) bool
	url  string
	puts int // PUTs of issues seen
}

func (f *editFixture) hooked() *hookedSite {
	f.t.Helper()
	h := &hookedSite{}
	inner := jiratest.WithFaults(f.site, f.faults)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		hook := h.hook
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/issue/") {
			h.puts++
		}
		h.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		inner.ServeHTTP(w, r)
	}))
	f.t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *hookedSite) set(hook func(w http.ResponseWriter, r *http.Request) bool) {
	h.mu.Lock()
	h.hook = hook
	h.mu.Unlock()
}

func (h *hookedSite) putCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.puts
}

// afterPut runs fn once, on the first request that follows a PUT of an issue: the edit's
// read-back.
func afterPut(fn func(w http.ResponseWriter, r *http.Request) bool) func(w http.ResponseWriter, r *http.Request) bool {
	var mu sync.Mutex
	armed := false
	return func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/issue/") {
			armed = true
			return false
		}
		if armed {
			return fn(w, r)
		}
		return false
	}
}

// writerAt is a Writer for user talking to the hooked site.
func (f *editFixture) writerAt(h *hookedSite, user string) *refresh.Writer {
	f.t.Helper()
	o := jira.Options{BaseURL: h.url, Dialect: jira.Dialect(f.dialect), Token: user + "-token", RequestsPerSecond: -1, BaseBackoff: time.Millisecond}
	if f.dialect == "cloud" {
		o.Email = user + "@example.com"
	}
	c, err := jira.New(context.Background(), o)
	if err != nil {
		f.t.Fatal(err)
	}
	return refresh.NewWriter(c, f.db, refresh.WriterOptions{Actor: user, Now: func() time.Time { return editNow }})
}

func auditValue(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v struct{ Value string }
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("audit value %s: %v", raw, err)
	}
	return v.Value
}

// Someone's write lands between our PUT and its read-back: the audit and the undo step say
// what we wrote, the cache holds what Jira has, and the undo does not take their value
// for ours.
func TestOvertakenWriteKeepsOurValue(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			h := f.hooked()
			w := f.writerAt(h, "admin")
			key := f.pick(inProject("ALPHA", plain))
			if _, err := w.Set(ctx, key, "summary", "BBB", f.base(key), refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			h.set(afterPut(func(http.ResponseWriter, *http.Request) bool {
				if err := f.site.Update(key, map[string]any{"summary": "CCC"}); err != nil {
					t.Error(err)
				}
				return false
			}))
			var hist refresh.History
			res, err := w.Set(ctx, key, "summary", "AAA", f.base(key), refresh.SetOptions{History: &hist})
			h.set(nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Old != "BBB" || res.New != "AAA" || !res.Overtaken || res.Later != "CCC" {
				t.Errorf("result old %q new %q overtaken %v later %q; want BBB -> AAA, overtaken by CCC", res.Old, res.New, res.Overtaken, res.Later)
			}
			if c, _ := f.db.Issue(ctx, key); c.Summary != "CCC" {
				t.Errorf("cache holds %q, want the read-back CCC", c.Summary)
			}
			log, err := f.db.AuditLog(ctx, store.AuditFilter{Target: key, Action: refresh.AuditActionEdit, Limit: 1})
			if err != nil || len(log) != 1 {
				t.Fatalf("audit %+v %v", log, err)
			}
			if b, a := auditValue(t, log[0].Before), auditValue(t, log[0].After); b != "BBB" || a != "AAA" || !strings.HasPrefix(log[0].Outcome, "ok") || !strings.Contains(log[0].Outcome, "CCC") {
				t.Errorf("audit %s -> %s %q; want BBB -> AAA ok, noting CCC", b, a, log[0].Outcome)
			}
			// Undo: Jira holds their CCC, not our AAA, so it is a conflict.
			_, err = w.Undo(ctx, &hist, refresh.SetOptions{})
			var ce *refresh.ConflictError
			if !errors.As(err, &ce) || ce.Theirs != "CCC" {
				t.Errorf("undo over their value: %v", err)
			}
			if got := f.fake(key).Summary; got != "CCC" {
				t.Errorf("undo overwrote their value: %q", got)
			}
		})
	}
}

// The read-back fails after Jira took the write: the audit and the undo step hold the value
// written, and the error says the write is in Jira.
func TestReadBackFailureRecordsTheWrite(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			h := f.hooked()
			w := f.writerAt(h, "admin")
			key := f.pick(inProject("ALPHA", plain))
			old := f.fake(key).Summary
			h.set(afterPut(func(w http.ResponseWriter, r *http.Request) bool {
				http.Error(w, `{"errorMessages":["down for a moment"]}`, http.StatusBadGateway)
				return true
			}))
			var hist refresh.History
			res, err := w.Set(ctx, key, "summary", "  written  ", f.base(key), refresh.SetOptions{History: &hist})
			h.set(nil)
			var rb *refresh.ReadBackError
			if !errors.As(err, &rb) || !strings.Contains(err.Error(), "written to Jira") {
				t.Fatalf("read-back failure: %v", err)
			}
			if f.fake(key).Summary != "written" || res.New != "written" || res.Old != old {
				t.Errorf("Jira %q, result %q -> %q", f.fake(key).Summary, res.Old, res.New)
			}
			log, _ := f.db.AuditLog(ctx, store.AuditFilter{Target: key, Action: refresh.AuditActionEdit, Limit: 1})
			if len(log) != 1 || auditValue(t, log[0].After) != "written" || !strings.HasPrefix(log[0].Outcome, "ok (read-back failed") {
				t.Fatalf("audit %+v", log)
			}
			if u, _ := hist.Len(); u != 1 {
				t.Fatalf("a write Jira took is not undoable: %d steps", u)
			}
			if _, err := w.Undo(ctx, &hist, refresh.SetOptions{}); err != nil || f.fake(key).Summary != old {
				t.Errorf("undo: %v, Jira %q", err, f.fake(key).Summary)
			}
		})
	}
}

// Several fields are one edit: a value that cannot be written stops every field, in any
// order; the fields that can go to Jira in one PUT.
func TestSetFieldsAllOrNothing(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			h := f.hooked()
			w := f.writerAt(h, "admin")
			key := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return plain(is) && is.Status == "In Progress" }))
			orig := f.fake(key)
			for _, vals := range [][]refresh.FieldValue{
				{{"summary", "multi one"}, {"priority", "bogus"}},
				{{"priority", "bogus"}, {"summary", "multi one"}},
				{{"summary", "multi one"}, {"story points", "NaN"}},
				{{"summary", "multi one"}, {"due", "+99999y"}},
				{{"summary", "multi one"}, {"labels", "two words"}},
				{{"summary", "multi one"}, {"assignee", "nobody-at-all"}},
				{{"summary", "multi one"}, {"status", "Triage"}},
				{{"summary", "multi one"}, {"status", "Done"}}, // its screen needs a resolution
			} {
				puts := h.putCount()
				outs, err := w.SetFields(ctx, key, vals, f.base(key), refresh.SetOptions{})
				if err == nil || len(outs) != 2 {
					t.Fatalf("%v: %v %+v", vals, err, outs)
				}
				var pe *refresh.PartialError
				if errors.As(err, &pe) {
					t.Errorf("%v: partial: %v", vals, err)
				}
				var nw *refresh.NotWrittenError
				for _, o := range outs {
					if o.Written {
						t.Errorf("%v: %s written", vals, o.Field)
					}
					if o.Field == "summary" && !errors.As(o.Err, &nw) {
						t.Errorf("%v: summary: %v, want not written", vals, o.Err)
					}
				}
				if h.putCount() != puts {
					t.Errorf("%v: a PUT was sent", vals)
				}
				if got := f.fake(key); got.Summary != orig.Summary || got.Status != orig.Status {
					t.Fatalf("%v: Jira changed: %q %s", vals, got.Summary, got.Status)
				}
			}

			// All good: one PUT for the fields, the transition after it, one audit row each.
			puts := h.putCount()
			outs, err := w.SetFields(ctx, key, []refresh.FieldValue{{"summary", "multi one"}, {"priority", "high"}, {"labels", "+multi"},
				{"SP", "3"}, {"status", "done"}, {"resolution", "won't do"}}, f.base(key), refresh.SetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if h.putCount() != puts+1 {
				t.Errorf("%d PUTs for one edit, want 1", h.putCount()-puts)
			}
			got := f.fake(key)
			if got.Summary != "multi one" || got.Priority != "High" || got.Status != "Done" || got.Resolution != "Won't Do" || got.StoryPoints == nil || *got.StoryPoints != 3 {
				t.Errorf("Jira has %+v", got.Issue)
			}
			want := map[string]string{"summary": "multi one", "priority": "High", "SP": "3", "status": "Done", "resolution": "Won't Do"}
			for _, o := range outs {
				if !o.Written || o.Err != nil || (want[o.Field] != "" && o.New != want[o.Field]) {
					t.Errorf("outcome %s: written %v new %q err %v", o.Field, o.Written, o.New, o.Err)
				}
			}
			if !outs[5].Screen || outs[4].Transition == "" {
				t.Errorf("resolution not taken by the transition screen: %+v", outs)
			}
			log, _ := f.db.AuditLog(ctx, store.AuditFilter{Target: key, Action: refresh.AuditActionEdit, Limit: 5})
			if len(log) != 5 {
				t.Fatalf("audit rows %d, want one per field written", len(log))
			}
			for _, e := range log {
				if e.Outcome != "ok" {
					t.Errorf("audit %s %s", e.After, e.Outcome)
				}
			}
		})
	}
}

// The fields were written, then Jira refused the transition: a partial edit, which says
// exactly what was written, and the cache holds it.
func TestSetFieldsPartial(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			h := f.hooked()
			w := f.writerAt(h, "admin")
			key := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return plain(is) && is.Status == "In Progress" }))
			h.set(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transitions") {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"errorMessages":["A workflow validator refused the transition."],"errors":{}}`))
					return true
				}
				return false
			})
			outs, err := w.SetFields(ctx, key, []refresh.FieldValue{{"summary", "half way"}, {"status", "Done"}, {"resolution", "Done"}},
				f.base(key), refresh.SetOptions{})
			h.set(nil)
			var pe *refresh.PartialError
			if !errors.As(err, &pe) || len(pe.Written) != 1 || pe.Written[0] != "summary" || !strings.Contains(err.Error(), "workflow validator") {
				t.Fatalf("partial: %v", err)
			}
			if !outs[0].Written || outs[0].Err != nil || outs[1].Written || outs[1].Err == nil || outs[2].Written {
				t.Errorf("outcomes %+v", outs)
			}
			if got := f.fake(key); got.Summary != "half way" || got.Status != "In Progress" {
				t.Errorf("Jira %q %s", got.Summary, got.Status)
			}
			if c, _ := f.db.Issue(ctx, key); c.Summary != "half way" {
				t.Errorf("cache %q after a partial edit", c.Summary)
			}
		})
	}
}

// Values Jira cannot store are refused before anything is sent, with a clear message.
func TestValueChecksBeforeSending(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			h := f.hooked()
			w := f.writerAt(h, "admin")
			key := f.pick(inProject("ALPHA", plain))
			cases := []struct{ field, value, want string }{
				{"story points", "NaN", "not a number"},
				{"story points", "Inf", "not a number"},
				{"story points", "-Infinity", "not a number"},
				{"story points", "1_000", "not a number"},
				{"story points", "0x10", "not a number"},
				{"story points", "1e400", "not a number"},
				{"story points", "1" + strings.Repeat("0", 400), "too large"},
				{"due", "+99999y", "outside the years 1000-9999"},
				{"due", "0999-12-31", "outside the years 1000-9999"},
				{"due", "-2000y", "outside the years 1000-9999"},
				{"key", "ALPHA-1", "cannot be edited"},
				{"created", "today", "cannot be edited"},
				{"nofield", "1", "unknown field"},
			}
			for _, tc := range cases {
				puts := h.putCount()
				_, err := w.Set(ctx, key, tc.field, tc.value, time.Time{}, refresh.SetOptions{})
				var fe *refresh.FieldError
				if !errors.As(err, &fe) || !strings.Contains(fe.Message, tc.want) || strings.Contains(err.Error(), "json:") {
					t.Errorf("%s=%s: %v, want %q", tc.field, tc.value, err, tc.want)
				}
				if h.putCount() != puts {
					t.Errorf("%s=%s: sent to Jira", tc.field, tc.value)
				}
				malformed := tc.field == "key" || tc.field == "created" || tc.field == "nofield"
				if errors.Is(err, refresh.ErrMalformedEdit) != malformed {
					t.Errorf("%s=%s: malformed %v", tc.field, tc.value, errors.Is(err, refresh.ErrMalformedEdit))
				}
			}
			for _, ok := range []struct{ value, want string }{{"2.5", "2.5"}, {"-1", "-1"}, {" 8 ", "8"}, {".5", "0.5"}} {
				res, err := w.Set(ctx, key, "story points", ok.value, time.Time{}, refresh.SetOptions{})
				if err != nil || res.New != ok.want {
					t.Errorf("story points %q: %q %v", ok.value, res.New, err)
				}
			}
			if res, err := w.Set(ctx, key, "due", "9999-12-31", time.Time{}, refresh.SetOptions{}); err != nil || res.New != "9999-12-31" {
				t.Errorf("due 9999-12-31: %+v %v", res, err)
			}
		})
	}
}

// On Data Center a story's epic is its Epic Link: parent= says so.
func TestParentOnDataCenterNamesEpicLink(t *testing.T) {
	f := newEditFixture(t, "datacenter")
	ctx := context.Background()
	w := f.writer("admin")
	story := f.pick(inProject("ALPHA", plain))
	epic := f.pick(inProject("ALPHA", func(is jiratest.FakeIssue) bool { return is.Type == "Epic" }))
	_, err := w.Set(ctx, story, "parent", epic, time.Time{}, refresh.SetOptions{})
	var fe *refresh.FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "not editable") || !strings.Contains(fe.Message, `"Epic Link"`) {
		t.Fatalf("parent on a DC story: %v", err)
	}
	if _, err := w.Describe(ctx, story, "parent"); !errors.As(err, &fe) || !strings.Contains(fe.Message, `"Epic Link"`) {
		t.Errorf("Describe: %v", err)
	}
}
