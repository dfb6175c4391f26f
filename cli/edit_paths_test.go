package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"foundation/jira/jiratest"
)

// editHookedSite is the fake site behind a hook that may answer a request itself.
func editHookedSite(t *testing.T, dialect string) (*jiratest.Site, string, func(func(w http.ResponseWriter, r *http.Request) bool)) {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: 120, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hook func(w http.ResponseWriter, r *http.Request) bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hook
		mu.Unlock()
		if h != nil && h(w, r) {
			return
		}
		site.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return site, srv.URL, func(h func(w http.ResponseWriter, r *http.Request) bool) {
		mu.Lock()
		hook = h
		mu.Unlock()
	}
}

type editJSON struct {
	Field, Old, New, Error string
	OK, Written            bool
	Later                  *string
}

func editOutcomes(t *testing.T, stdout string) map[string]editJSON {
	t.Helper()
	var outs []editJSON
	if err := json.Unmarshal([]byte(stdout), &outs); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	m := map[string]editJSON{}
	for _, o := range outs {
		m[o.Field] = o
	}
	return m
}

// FIELD=VALUE pairs are one edit: nothing is written unless every value can be, a local
// mistake is a usage error, a write Jira took in part is partial (3), and --json shows what
// each field was to become.
func TestEditCommandIsOneEdit(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			site, url, hook := editHookedSite(t, dialect)
			e := newCLIEnv(t)
			e.writeConfig(url, dialect, "admin", "project in (ALPHA, BETA)")
			if r := e.run("", "refresh", "--quiet"); r.code != 0 {
				t.Fatalf("refresh: %d %s", r.code, r.stderr)
			}
			key := editTestIssue(t, site, "ALPHA", "In Progress")
			orig, _ := site.Issue(key)

			for _, args := range [][]string{
				{"summary=multi one", "priority=bogus"},
				{"priority=bogus", "summary=multi one"},
				{"summary=multi one", "story points=NaN"},
				{"summary=multi one", "duedate=+99999y"},
			} {
				r := e.run("", append([]string{"edit", key, "--json"}, args...)...)
				if r.code != ExitError {
					t.Errorf("%v: exit %d %s", args, r.code, r.stderr)
				}
				if is, _ := site.Issue(key); is.Summary != orig.Summary {
					t.Fatalf("%v: the summary was written", args)
				}
				outs := editOutcomes(t, r.stdout)
				if s := outs["summary"]; s.OK || s.Written || s.New != "multi one" || !strings.Contains(s.Error, "not written") {
					t.Errorf("%v: summary outcome %+v", args, s)
				}
				if strings.Contains(r.stderr, "json:") || strings.Contains(r.stderr, "Error parsing") {
					t.Errorf("%v: not refused locally: %s", args, r.stderr)
				}
			}
			if outs := editOutcomes(t, e.run("", "edit", key, "--json", "priority=bogus").stdout); outs["priority"].New != "bogus" {
				t.Errorf("--json of a refused value: %+v", outs["priority"])
			}

			// Local mistakes: usage, nothing sent.
			for _, bad := range []string{"nofield=1", "key=ALPHA-1", "created=today"} {
				r := e.run("", "edit", key, bad, "summary=never")
				if r.code != ExitUsage {
					t.Errorf("%s: exit %d %s", bad, r.code, r.stderr)
				}
			}
			if r := e.run("", "edit", key, "key=ALPHA-1"); !has(r.stderr, `"key" cannot be edited`) {
				t.Errorf("key: %s", r.stderr)
			}

			// The transition is refused after the fields were written: partial, saying which.
			hook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/transitions") {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"errorMessages":["A workflow validator refused the transition."],"errors":{}}`))
					return true
				}
				return false
			})
			r := e.run("", "edit", key, "summary=half way", "status=Done", "resolution=Done")
			hook(nil)
			if r.code != ExitPartial || !has(r.stderr, "written: summary; not written: status, resolution") || !strings.Contains(r.stdout, key+"\tsummary\t") {
				t.Errorf("partial: %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if is, _ := site.Issue(key); is.Summary != "half way" || is.Status != "In Progress" {
				t.Errorf("Jira %q %s", is.Summary, is.Status)
			}

			// The read-back fails after the write: partial, and the audit holds the value.
			armed := false
			hook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPut {
					armed = true
					return false
				}
				if armed {
					http.Error(w, `{"errorMessages":["down"]}`, http.StatusBadGateway)
					return true
				}
				return false
			})
			r = e.run("", "edit", key, "summary=read back fails")
			hook(nil)
			if r.code != ExitPartial || !has(r.stderr, "written to Jira, but reading it back failed") {
				t.Errorf("read-back failure: %d %s", r.code, r.stderr)
			}
			r = e.run("", "audit", "--issue", key, "--limit", "1")
			if !strings.Contains(r.stdout, "half way -> read back fails") || !strings.Contains(r.stdout, "read-back failed") {
				t.Errorf("audit of a write not read back:\n%s", r.stdout)
			}
		})
	}
}

// A conflict refusal brings their version into the cache, but a plain rerun of the edit is
// refused again while Jira holds their value: a retry loop cannot overwrite it.
func TestEditConflictRerunRefused(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			site, url := editFakeSite(t, dialect)
			e := newCLIEnv(t)
			e.writeConfig(url, dialect, "admin", "project in (ALPHA, BETA)")
			if r := e.run("", "refresh", "--quiet"); r.code != 0 {
				t.Fatalf("refresh: %d %s", r.code, r.stderr)
			}
			key := editTestIssue(t, site, "ALPHA", "To Do")
			if err := site.Update(key, map[string]any{"summary": "their title"}); err != nil {
				t.Fatal(err)
			}
			for try := range 3 {
				r := e.run("", "edit", key, "summary=my title")
				if r.code != ExitError || !has(r.stderr, "theirs") || !has(r.stderr, "--overwrite") {
					t.Errorf("try %d: %d %s", try, r.code, r.stderr)
				}
				if is, _ := site.Issue(key); is.Summary != "their title" {
					t.Fatalf("try %d overwrote their change", try)
				}
			}
			// Another field is no conflict.
			if r := e.run("", "edit", key, "priority=low"); r.code != 0 {
				t.Errorf("another field: %d %s", r.code, r.stderr)
			}
			if r := e.run("", "edit", key, "summary=my title", "--overwrite"); r.code != 0 {
				t.Fatalf("--overwrite: %d %s", r.code, r.stderr)
			}
			// Settled: later plain edits go through.
			if r := e.run("", "edit", key, "summary=my next title"); r.code != 0 {
				t.Errorf("after --overwrite: %d %s", r.code, r.stderr)
			}
		})
	}
}
