package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
)

// writeConfig writes a config with one profile "t" for url, signed in as user.
func (e *cliEnv) writeConfig(url, dialect, user, scope string) {
	e.t.Helper()
	email := ""
	if dialect == "cloud" {
		email = fmt.Sprintf("email: %s@example.com\n    ", user)
	}
	body := fmt.Sprintf("default_site: t\nsites:\n  t:\n    url: %s\n    dialect: %s\n    %stoken_env: T_TOKEN\n    scope: %s\n", url, dialect, email, scope)
	if err := os.MkdirAll(filepath.Dir(e.config), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.config, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.t.Setenv("T_TOKEN", user+"-token")
}

func fakeServer(t *testing.T, dialect string, issues int) string {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: issues, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRefreshCommand(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			e := newCLIEnv(t)
			e.writeConfig(fakeServer(t, dialect, 400), dialect, "admin", "project in (ALPHA, BETA, GAMMA)")
			r := e.run("", "refresh", "--json")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			var sum struct {
				Mode     string `json:"mode"`
				Fetched  int    `json:"fetched"`
				Inserted int    `json:"inserted"`
				Requests int    `json:"requests"`
				Duration string `json:"duration"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
				t.Fatalf("stdout is not the JSON summary: %v\n%s", err, r.stdout)
			}
			if sum.Mode != "full" || sum.Fetched != 400 || sum.Inserted != 400 || sum.Requests == 0 || sum.Duration == "" {
				t.Errorf("first refresh summary %+v, want a full sync of 400 issues", sum)
			}
			if !has(r.stderr, "full done: 400 fetched") {
				t.Errorf("stderr lacks progress:\n%s", r.stderr)
			}
			// A second run polls: nothing changed, nothing fetched.
			r = e.run("", "refresh", "--json", "--quiet")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Mode != "poll" || r.stderr != "" {
				t.Errorf("second refresh: mode %q, stderr %q; want a quiet poll", sum.Mode, r.stderr)
			}
			r = e.run("", "refresh", "--full", "--json", "--quiet")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Mode != "full+reconcile" {
				t.Errorf("--full ran %q", sum.Mode)
			}
		})
	}
}

func TestRefreshErrors(t *testing.T) {
	url := fakeServer(t, "cloud", 50)
	cases := []struct {
		name, user, scope string
		args              []string
		code              int
		want              string
	}{
		{"bad credentials", "mallory", "project = ALPHA", nil, ExitAuth, "401"},
		{"unbounded scope", "admin", "status = Done", nil, ExitError, "unbounded"},
		{"bad jql", "admin", "project = = ALPHA", nil, ExitError, "character"},
		{"scope naming what the site lacks", "admin", "project = NOPE", []string{"--full"}, ExitError,
			"Jira refuses the profile's scope (sites.t.scope): search \"(project = NOPE) ORDER BY id ASC\": POST /rest/api/3/search/jql: 400 Bad Request: The value 'NOPE' does not exist for the field 'project'."},
		{"negative timeout", "admin", "project = ALPHA", []string{"--timeout", "-1s"}, ExitUsage, "must not be negative"},
		{"unknown flag", "admin", "project = ALPHA", []string{"--fast"}, ExitUsage, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCLIEnv(t)
			e.writeConfig(url, "cloud", tc.user, tc.scope)
			r := e.run("", append([]string{"refresh", "--quiet"}, tc.args...)...)
			if r.code != tc.code || !has(r.stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q in:\n%s", r.code, tc.code, tc.want, r.stderr)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		e := newCLIEnv(t)
		srv := httptest.NewServer(nil)
		dead := srv.URL
		srv.Close()
		// Dialect auto: the client asks serverInfo, so this fails before the engine starts.
		e.writeConfig(dead, "auto", "admin", "project = ALPHA")
		r := e.run("", "refresh", "--full", "--json")
		if r.code != ExitError || !has(r.stderr, "connect") || !has(r.stderr, "(attempt 1: connection refused)") || has(r.stderr, "status 0") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		// The profile comes from default_site; the JSON names it all the same.
		if s := decodeSummary(t, r.stdout); s.Site != "t" || s.Mode != "full" || s.Error == "" || s.Requests == 0 || s.Requests != s.Retries+1 || s.Duration == 0 {
			t.Errorf("summary %+v: want profile t, mode full, the error and the attempts made", s)
		}
	})
	t.Run("silent", func(t *testing.T) {
		// A site that accepts connections and never answers, as a stopped Jira process:
		// the first request (dialect detection) runs out of time on every attempt and the
		// command ends, saying so. It used to wait forever without --timeout.
		site, url := serveFake(t, jiratest.Options{Dialect: "cloud", Issues: 20, Seed: 3})
		site.Faults().SetLatency(time.Hour, 0)
		e := newCLIEnv(t)
		e.client = func(o *jira.Options) { o.HeaderTimeout, o.BaseBackoff = 100*time.Millisecond, time.Millisecond }
		e.writeConfig(url, "auto", "admin", "project = ALPHA")
		start := time.Now()
		r := e.run("", "refresh", "--json")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("refresh of a silent site took %v", took)
		}
		want := "GET /rest/api/2/serverInfo: Jira did not answer within 100ms (3 attempts)"
		if r.code != ExitError || !has(r.stderr, want) || !has(r.stderr, "(attempt 2: no answer within 100ms)") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		// What it cost is counted, as for a run that got further: three attempts, two
		// of them retries, and the time they took.
		if s := decodeSummary(t, r.stdout); !strings.Contains(s.Error, want) || s.Requests != 3 || s.Retries != 2 || s.Duration < 300*time.Millisecond {
			t.Errorf("summary %+v: want the error, 3 requests, 2 retries and their time", s)
		}
	})
}

// TestRefreshRemembersIdentity: a cache deleted and rebuilt by refresh knows again who the
// profile is, for site list and offline opens.
func TestRefreshRemembersIdentity(t *testing.T) {
	e := newCLIEnv(t)
	e.writeConfig(fakeServer(t, "cloud", 60), "cloud", "alice", "project = ALPHA")
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: exit %d\n%s", r.code, r.stderr)
	}
	r := e.run("", "site", "list", "--json")
	var rows []struct {
		Identity *struct {
			ID, DisplayName string
		} `json:"identity"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("site list --json: %v\n%s", err, r.stdout)
	}
	if rows[0].Identity == nil || rows[0].Identity.ID == "" || rows[0].Identity.DisplayName == "" {
		t.Errorf("identity after a refresh into a fresh cache: %+v", rows[0].Identity)
	}
}

// failSearchAfter serves site, but answers every search after the first n with a 400, as
// a site that stops cooperating in the middle of a full sync.
func failSearchAfter(t *testing.T, dialect string, issues, n int) string {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: issues, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var searches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/search") && searches.Add(1) > int32(n) {
			http.Error(w, `{"errorMessages":["the site fell over"],"errors":{}}`, http.StatusBadRequest)
			return
		}
		site.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// refreshJSON is the --json summary as a script reads it.
type refreshJSON struct {
	Site      string        `json:"site"`
	Mode      string        `json:"mode"`
	Fetched   int           `json:"fetched"`
	Scanned   int           `json:"scanned"`
	Requests  int           `json:"requests"`
	Retries   int           `json:"retries"`
	Duration  time.Duration `json:"duration_ns"`
	Partial   bool          `json:"partial"`
	Error     string        `json:"error"`
	Watermark *string       `json:"watermark"`
}

func decodeSummary(t *testing.T, stdout string) refreshJSON {
	t.Helper()
	var s refreshJSON
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout)
	}
	return s
}

// TestRefreshPartialExit: a full sync that fails after committing pages exits 3, whatever
// stopped it, and its JSON says partial with the error; a failure before anything was
// committed keeps its own code, with the error in the JSON too.
func TestRefreshPartialExit(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			e := newCLIEnv(t)
			e.writeConfig(failSearchAfter(t, dialect, 1200, 5), dialect, "admin", "project in (ALPHA, BETA, GAMMA)")
			r := e.run("", "refresh", "--json")
			s := decodeSummary(t, r.stdout)
			if r.code != ExitPartial || !has(r.stderr, "run it again to resume") {
				t.Errorf("exit %d, want 3 (partial)\n%s", r.code, r.stderr)
			}
			if !s.Partial || s.Fetched == 0 || !strings.Contains(s.Error, "the site fell over") {
				t.Errorf("summary %+v: want partial, some fetched, and the error", s)
			}
			if s.Watermark != nil {
				t.Errorf("watermark %q for a first full sync that did not finish; want none", *s.Watermark)
			}
		})
	}
	t.Run("reconcile fails after the sync", func(t *testing.T) {
		e := newCLIEnv(t)
		// 300 issues: the full sync's searches go through, then the reconcile's scan
		// fails.
		e.writeConfig(failSearchAfter(t, "cloud", 300, 4), "cloud", "admin", "project in (ALPHA, BETA, GAMMA)")
		r := e.run("", "refresh", "--full", "--json", "--quiet")
		s := decodeSummary(t, r.stdout)
		if r.code != ExitPartial || !s.Partial || s.Fetched != 300 || s.Error == "" || !has(r.stderr, "--reconcile") {
			t.Errorf("exit %d, summary %+v; want 3, partial, 300 fetched\n%s", r.code, s, r.stderr)
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		e := newCLIEnv(t)
		e.writeConfig(fakeServer(t, "cloud", 50), "cloud", "mallory", "project = ALPHA")
		r := e.run("", "refresh", "--json", "--quiet")
		s := decodeSummary(t, r.stdout)
		if r.code != ExitAuth || s.Partial || !strings.Contains(s.Error, "401") {
			t.Errorf("exit %d, summary %+v; want 4 with the 401 in error", r.code, s)
		}
	})
}

// TestRefreshJSONNamesProfile: a refresh that fails before it can ask Jira anything still
// names in its JSON the profile it picked from default_site, and the mode when the flags
// decide it. (A refused connection: see TestRefreshErrors.)
func TestRefreshJSONNamesProfile(t *testing.T) {
	for _, tc := range []struct {
		args []string
		mode string
	}{{nil, ""}, {[]string{"--full"}, "full"}} {
		e := newCLIEnv(t)
		e.writeConfig(fakeServer(t, "cloud", 10), "cloud", "admin", "project = ALPHA")
		t.Setenv("T_TOKEN", "")
		r := e.run("", append([]string{"refresh", "--json", "--quiet"}, tc.args...)...)
		s := decodeSummary(t, r.stdout)
		if r.code != ExitError || s.Site != "t" || s.Mode != tc.mode || !has(s.Error, "T_TOKEN") {
			t.Errorf("%v with T_TOKEN unset: exit %d, summary %+v; want 1 naming profile t, mode %q and the token\n%s", tc.args, r.code, s, tc.mode, r.stderr)
		}
	}
}

// TestRefreshCounts: the reconcile's ids-only scan is not counted as fetched issues, its
// progress has no "/0" total, and a run's progress counts the requests its summary does.
func TestRefreshCounts(t *testing.T) {
	e := newCLIEnv(t)
	e.writeConfig(fakeServer(t, "cloud", 250), "cloud", "admin", "project in (ALPHA, BETA, GAMMA)")
	r := e.run("", "refresh", "--full", "--json")
	s := decodeSummary(t, r.stdout)
	if r.code != 0 || s.Fetched != 250 || s.Scanned != 250 || s.Partial || s.Error != "" || s.Watermark == nil {
		t.Errorf("exit %d, summary %+v; want 250 fetched and 250 scanned\n%s", r.code, s, r.stderr)
	}
	if !has(r.stderr, "reconcile: 250 ids scanned") || !has(r.stderr, "reconcile done: 250 ids scanned, 0 deleted") || has(r.stderr, "/0 issues") {
		t.Errorf("reconcile progress:\n%s", r.stderr)
	}
	// Detecting the dialect costs a request before the poll begins: not the poll's.
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, []byte(strings.Replace(string(cfg), "dialect: cloud", "dialect: auto", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.run("", "refresh")
	var progress, done int
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(line, "poll: ") {
			fmt.Sscanf(line[strings.Index(line, "pages, ")+len("pages, "):], "%d requests", &progress)
		}
		if strings.HasPrefix(line, "poll done: ") {
			fmt.Sscanf(line[strings.LastIndex(line, "deleted, ")+len("deleted, "):], "%d requests", &done)
		}
	}
	if r.code != 0 || progress == 0 || progress != done {
		t.Errorf("poll progress says %d requests, its summary %d:\n%s", progress, done, r.stderr)
	}
}

// TestRefreshEvents: retries and rate-limit waits say what happened and how long the wait
// really is, and Jira's near-limit flag, sent with every answer while it holds, is
// reported once.
func TestRefreshEvents(t *testing.T) {
	var buf strings.Builder
	p := newProgress(&buf, false)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	p.event(jira.Event{Kind: jira.EventRetry, Method: "GET", Path: "/rest/api/2/field", Attempt: 1, Wait: 500 * time.Millisecond, Err: refused})
	for range 5 {
		p.event(jira.Event{Kind: jira.EventNearLimit, Method: "POST", Path: "/rest/api/3/search/jql", Status: 200})
	}
	p.event(jira.Event{Kind: jira.EventQuotaWait, Method: "POST", Path: "/rest/api/3/search/jql", Wait: 420 * time.Millisecond, Status: 200})
	p.event(jira.Event{Kind: jira.EventRateLimited, Method: "POST", Path: "/rest/api/3/search/jql", Wait: time.Second, Status: 429})
	out := buf.String()
	for _, want := range []string{
		"retrying GET /rest/api/2/field in 0.5s (attempt 1: connection refused)",
		"near Jira's rate limit (POST /rest/api/3/search/jql): slowing down\n",
		"rate-limit quota used up (POST /rest/api/3/search/jql, HTTP 200): waiting 0.4s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Count(out, "near Jira's rate limit") != 1 || strings.Contains(out, "status 0") || strings.Contains(out, "waiting 0s") {
		t.Errorf("events:\n%s", out)
	}
	if n := strings.Count(out, "waiting"); n != 1 {
		t.Errorf("%d waits reported within a second; want 1:\n%s", n, out)
	}
}

// TestRefreshInterruptedWording: ctrl+c reads as an interruption, not as Go's
// "context canceled", and says whether the next run resumes.
func TestRefreshInterruptedWording(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stopped := fmt.Errorf("search page 3: %w", context.Canceled)
	for _, tt := range []struct {
		sum    refresh.Summary
		failed refresh.Mode
		code   int
		want   string
	}{
		{refresh.Summary{}, refresh.ModeFull, ExitInterrupted, "refresh of t interrupted before anything was committed"},
		{refresh.Summary{Fetched: 200}, refresh.ModeFull, ExitPartial, "refresh of t interrupted after committing 200 issues; run it again to resume"},
		{refresh.Summary{Fetched: 200}, refresh.ModeReconcile, ExitPartial, "reconcile was interrupted and removed nothing; run it again with --reconcile"},
	} {
		err := refreshError(ctx, "t", tt.sum, tt.failed, stopped)
		if exitCode(err) != tt.code || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "context canceled") {
			t.Errorf("%+v %s: exit %d, %v", tt.sum, tt.failed, exitCode(err), err)
		}
	}
}

// TestRequestsPerSecondReachesTheClient: a profile's requests_per_second paces the client
// the commands build from it, and unlimited turns the pacing off. Pacing is a floor on the
// time a series of requests takes, so the paced run is timed from below.
func TestRequestsPerSecondReachesTheClient(t *testing.T) {
	_, url := serveFake(t, jiratest.Options{Dialect: "cloud", Issues: 10, Seed: 3})
	run := func(rate string, n int) time.Duration {
		e := newCLIEnv(t)
		e.writeConfig(url, "cloud", "admin", "project = ALPHA")
		f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "    requests_per_second: %s\n", rate)
		f.Close()
		g := &globals{stdout: io.Discard, stderr: io.Discard}
		_, client, err := g.openSite(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for range n {
			if _, err := client.Myself(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start)
	}
	// A burst of 4, then 4 more at 4 a second: at least a second.
	if took := run("4", 8); took < 900*time.Millisecond {
		t.Errorf("8 requests at requests_per_second: 4 took %v, want at least 1s", took)
	}
	// At the default 20 a second these would take at least half a second.
	if took := run("unlimited", 30); took > 400*time.Millisecond {
		t.Errorf("30 requests with requests_per_second: unlimited took %v: still paced?", took)
	}
}
