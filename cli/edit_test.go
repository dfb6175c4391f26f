package cli

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
)

// editSite is a fake site the test can also change behind the command's back.
func editFakeSite(t *testing.T, dialect string) (*jiratest.Site, string) {
	t.Helper()
	return serveFake(t, jiratest.Options{Dialect: dialect, Issues: 120, Seed: 5})
}

// serveFake starts a fake Jira site over HTTP for the test: the site and its URL.
func serveFake(t *testing.T, opt jiratest.Options) (*jiratest.Site, string) {
	t.Helper()
	site, err := jiratest.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return site, srv.URL
}

func editTestIssue(t *testing.T, site *jiratest.Site, project, status string) string {
	t.Helper()
	for _, is := range site.Issues() {
		if is.Project == project && (is.Type == "Story" || is.Type == "Task") && is.Status == status && is.SecurityLevel == "" {
			return is.Key
		}
	}
	t.Fatalf("no %s issue in %s", status, project)
	return ""
}

func TestEditCommand(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			site, url := editFakeSite(t, dialect)
			e := newCLIEnv(t)
			e.writeConfig(url, dialect, "admin", "project in (ALPHA, BETA)")
			if r := e.run("", "refresh", "--quiet"); r.code != 0 {
				t.Fatalf("refresh: %d %s", r.code, r.stderr)
			}
			key := editTestIssue(t, site, "ALPHA", "In Progress")

			r := e.run("", "edit", key, "summary=Edited headless", "priority=high", "labels=+cli", "SP=8", "--json")
			if r.code != 0 {
				t.Fatalf("edit: %d %s", r.code, r.stderr)
			}
			var outs []struct {
				Field, Old, New string
				OK              bool
			}
			if err := json.Unmarshal([]byte(r.stdout), &outs); err != nil || len(outs) != 4 {
				t.Fatalf("--json: %v\n%s", err, r.stdout)
			}
			if !outs[0].OK || outs[0].New != "Edited headless" || outs[1].New != "High" || outs[3].New != "8" {
				t.Errorf("results %+v", outs)
			}
			is, _ := site.Issue(key)
			if is.Summary != "Edited headless" || is.Priority != "High" || !slices.Contains(is.Labels, "cli") || is.StoryPoints == nil || *is.StoryPoints != 8 {
				t.Errorf("Jira has %+v", is.Issue)
			}

			// The transition screen takes resolution from the other pairs.
			r = e.run("", "edit", key, "status=Done", "labels=+half", "--json")
			if r.code != ExitError || !has(r.stderr, "needs Resolution") || !strings.Contains(r.stdout, "not written, because status of the same edit was refused") {
				t.Errorf("status without resolution: %d %s %s", r.code, r.stdout, r.stderr)
			}
			if is, _ := site.Issue(key); slices.Contains(is.Labels, "half") {
				t.Errorf("a pair after a failed transition was written")
			}
			r = e.run("", "edit", key, "status=done", "resolution=Won't Do", "labels=+closed")
			if r.code != 0 {
				t.Fatalf("transition: %d %s", r.code, r.stderr)
			}
			if is, _ := site.Issue(key); is.Status != "Done" || is.Resolution != "Won't Do" || !slices.Contains(is.Labels, "closed") {
				t.Errorf("after transition Jira has %+v", is.Issue)
			}
			if !strings.Contains(r.stdout, key+"\tstatus\tIn Progress\tDone") {
				t.Errorf("stdout:\n%s", r.stdout)
			}
			// Again: already Done, nothing runs, and the resolution for the screen is moot.
			r = e.run("", "edit", key, "status=Done", "resolution=Done")
			if r.code != 0 || !strings.Contains(r.stdout, key+"\tstatus\tDone\t(unchanged)") {
				t.Errorf("status already there: %d %s %s", r.code, r.stdout, r.stderr)
			}

			// Refusals.
			r = e.run("", "edit", key, "priority=urgent")
			if r.code != ExitError || !has(r.stderr, "allowed: Highest, High") {
				t.Errorf("bad priority: %d %s", r.code, r.stderr)
			}
			r = e.run("", "edit", key, "summary= ")
			if r.code != ExitError || !has(r.stderr, "You must specify a summary of the issue.") {
				t.Errorf("Jira's 400: %d %s", r.code, r.stderr)
			}
			r = e.run("", "edit", key, "summary")
			if r.code != ExitUsage {
				t.Errorf("malformed pair: %d %s", r.code, r.stderr)
			}
			r = e.run("", "edit", key)
			if r.code != ExitUsage {
				t.Errorf("no pair: %d %s", r.code, r.stderr)
			}
			// A field given twice is refused before anything goes to Jira, naming the field.
			before, _ := site.Issue(key)
			r = e.run("", "edit", key, "summary=a", "labels=+twice", "Summary=b")
			if r.code != ExitUsage || !has(r.stderr, `field "Summary" given twice ("summary=a" and "Summary=b")`) || r.stdout != "" {
				t.Errorf("field twice: %d %s %s", r.code, r.stdout, r.stderr)
			}
			if is, _ := site.Issue(key); is.Summary != before.Summary || slices.Contains(is.Labels, "twice") {
				t.Errorf("a pair of an edit with a field twice was written")
			}

			// A conflict: someone else changed the summary after the cached copy.
			other := editTestIssue(t, site, "ALPHA", "To Do")
			if err := site.Update(other, map[string]any{"summary": "their title"}); err != nil {
				t.Fatal(err)
			}
			r = e.run("", "edit", other, "summary=my title")
			if r.code != ExitError || !has(r.stderr, "theirs their title, yours my title") || !has(r.stderr, "--overwrite") {
				t.Errorf("conflict: %d %s", r.code, r.stderr)
			}
			if is, _ := site.Issue(other); is.Summary != "their title" {
				t.Errorf("conflicting edit written")
			}
			r = e.run("", "edit", other, "summary=my title", "--overwrite", "--json")
			if r.code != 0 || !strings.Contains(r.stdout, `"old": "their title"`) {
				t.Errorf("--overwrite: %d %s %s", r.code, r.stdout, r.stderr)
			}

			// The audit log, newest first, with both the edits and the refusals.
			r = e.run("", "audit", "--issue", strings.ToLower(key), "--json")
			if r.code != 0 {
				t.Fatalf("audit: %d %s", r.code, r.stderr)
			}
			var log []struct {
				Actor, Action, Target, Outcome string
				After                          struct{ Field, Value string }
			}
			if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
				t.Fatalf("audit --json: %v\n%s", err, r.stdout)
			}
			var ok, failed int
			for _, l := range log {
				if l.Target != key || l.Action != "issue.edit" {
					t.Errorf("entry %+v", l)
				}
				if l.Outcome == "ok" {
					ok++
				} else if strings.HasPrefix(l.Outcome, "failed: ") {
					failed++
				}
			}
			if ok != 6 || failed != 3 || log[len(log)-1].After.Field != "summary" || log[len(log)-1].After.Value != "Edited headless" {
				t.Errorf("audit: %d ok, %d failed: %+v", ok, failed, log)
			}
			wantActor := "61a0000000000000000000a1"
			if dialect == "datacenter" {
				wantActor = "admin"
			}
			if log[0].Actor != wantActor {
				t.Errorf("actor %q", log[0].Actor)
			}
			r = e.run("", "audit", "--since", "1h")
			if r.code != 0 || !strings.Contains(r.stdout, "summary: their title -> my title") || !strings.HasPrefix(r.stdout, "AT\tACTOR") {
				t.Errorf("audit table: %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			r = e.run("", "audit", "--since", "2999-01-01")
			if r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
				t.Errorf("audit from the future: %q", r.stdout)
			}
			r = e.run("", "audit", "--since", "last tuesday")
			if r.code != ExitUsage {
				t.Errorf("bad --since: %d %s", r.code, r.stderr)
			}
		})
	}
}

// TestEditSilentSite: an edit to a Jira that stops answering ends at the client's time
// limit with a message that says so, and a write that may have reached Jira is not sent
// twice.
func TestEditSilentSite(t *testing.T) {
	site, url := editFakeSite(t, "cloud")
	e := newCLIEnv(t)
	e.writeConfig(url, "cloud", "admin", "project in (ALPHA, BETA)")
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: %d %s", r.code, r.stderr)
	}
	key := editTestIssue(t, site, "ALPHA", "In Progress")
	e.client = func(o *jira.Options) { o.HeaderTimeout, o.BaseBackoff = 100*time.Millisecond, time.Millisecond }
	site.Faults().Reset()
	site.Faults().SetLatency(time.Hour, 0)
	start := time.Now()
	r := e.run("", "edit", key, "summary=Never seen")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("edit against a silent site took %v", took)
	}
	if r.code == 0 || !has(r.stderr, "retrying "+key+" in 1ms (no answer within 100ms)") || !has(r.stderr, "Jira did not answer within 100ms (3 attempts)") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if st := site.Faults().Stats(); st.Requests > 4 {
		t.Errorf("%d requests for one edit of a silent site", st.Requests)
	}
}

func TestEditPermission(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			site, url := editFakeSite(t, dialect)
			e := newCLIEnv(t)
			e.writeConfig(url, dialect, "bob", "project = ALPHA")
			beta := editTestIssue(t, site, "BETA", "To Do")
			r := e.run("", "edit", beta, "summary=not mine")
			if r.code != ExitAuth || !has(r.stderr, "permission denied") {
				t.Errorf("bob on BETA: %d %s", r.code, r.stderr)
			}
			alpha := editTestIssue(t, site, "ALPHA", "To Do")
			r = e.run("", "edit", alpha, "assignee=alice", "--json")
			if r.code != 0 || !strings.Contains(r.stdout, `"ok": true`) {
				t.Errorf("bob on ALPHA: %d %s %s", r.code, r.stdout, r.stderr)
			}
			if is, _ := site.Issue(alpha); is.Assignee != map[string]string{"cloud": "61a0000000000000000000a2", "datacenter": "alice"}[dialect] {
				t.Errorf("assignee %q", is.Assignee)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	now := editTestTime(t, "2026-11-29T10:00:00Z")
	cases := []struct {
		in   string
		want string
		bad  bool
	}{
		{in: "", want: "0001-01-01T00:00:00Z"},
		{in: "24h", want: "2026-11-28T10:00:00Z"},
		{in: "90m", want: "2026-11-29T08:30:00Z"},
		{in: "7d", want: "2026-11-22T10:00:00Z"},
		{in: "2026-11-01", want: "2026-11-01T00:00:00Z"},
		{in: "2026-11-01T08:00:00+01:00", want: "2026-11-01T07:00:00Z"},
		{in: "-1h", bad: true},
		{in: "yesterday", bad: true},
		{in: "d", bad: true},
	}
	for _, tc := range cases {
		got, err := parseSince(tc.in, now)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || !got.Equal(editTestTime(t, tc.want)) {
			t.Errorf("%q: %s %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePairs(t *testing.T) {
	got, err := parsePairs([]string{"summary=a=b", " labels =+x", "due="})
	if err != nil || len(got) != 3 || got[0] != (editPair{"summary", "a=b"}) || got[1] != (editPair{"labels", "+x"}) || got[2] != (editPair{"due", ""}) {
		t.Errorf("%+v %v", got, err)
	}
	for _, bad := range []string{"summary", "=x", " =x"} {
		if _, err := parsePairs([]string{bad}); err == nil || exitCode(err) != ExitUsage {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func editTestTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
