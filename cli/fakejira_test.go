package cli

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"foundation/jira/jiratest"
)

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestFakeJiraServesUntilCancelled(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		out, errOut := &syncBuffer{}, &syncBuffer{}
		g := &globals{stdout: out, stderr: errOut}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- runFakeJira(ctx, g, "127.0.0.1:0", jiratest.Options{Dialect: dialect, Issues: 50, Seed: 1}, fakeFaults{})
		}()
		urlRE := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)`)
		var base string
		for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if m := urlRE.FindStringSubmatch(out.String()); m != nil {
				base = m[1]
			}
		}
		if base == "" {
			cancel()
			t.Fatalf("%s: no base URL printed: %q", dialect, out.String())
		}
		for _, want := range []string{"alice@example.com", "alice-token", "bob-token", "admin-token", "61a0000000000000000000a2"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: output lacks %q", dialect, want)
			}
		}
		req, _ := http.NewRequest("GET", base+"/rest/api/2/myself", nil)
		if dialect == "cloud" {
			req.SetBasicAuth("bob@example.com", "bob-token")
		} else {
			req.Header.Set("Authorization", "Bearer bob-token")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: myself answered %d", dialect, resp.StatusCode)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: stopped with %v", dialect, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: did not stop after cancel", dialect)
		}
	}
}

func TestFakeJiraFlags(t *testing.T) {
	bad := t.TempDir() + "/users.yaml"
	if err := os.WriteFile(bad, []byte("- name: x\n  projets: [ALPHA]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"fake-jira", "--dialect", "server"}, {"fake-jira", "--issues", "-1"}, {"fake-jira", "--users", bad},
		{"fake-jira", "--latency", "-1s"}, {"fake-jira", "--rate-limit", "-2"}, {"fake-jira", "--burst", "3"}} {
		g := &globals{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
		root := newRoot(g)
		root.SetArgs(args)
		root.SetOut(&bytes.Buffer{})
		root.SetErr(&bytes.Buffer{})
		err := root.ExecuteContext(context.Background())
		if err == nil || exitCode(err) != ExitUsage {
			t.Errorf("%v: err %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

// TestFakeJiraServesFaults: the fault flags reach the site: answers are delayed, a second
// request inside the rate limit's second is refused with 429 and Retry-After, and a site
// that is down answers 503.
func TestFakeJiraServesFaults(t *testing.T) {
	start := func(f fakeFaults) (string, func()) {
		out := &syncBuffer{}
		g := &globals{stdout: out, stderr: &syncBuffer{}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- runFakeJira(ctx, g, "127.0.0.1:0", jiratest.Options{Dialect: "cloud", Issues: 20, Seed: 1}, f)
		}()
		urlRE := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)`)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if m := urlRE.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "Faults: ") {
				return m[1], func() { cancel(); <-done }
			}
		}
		cancel()
		t.Fatalf("no base URL and faults line printed: %q", out.String())
		return "", nil
	}
	get := func(base string) (*http.Response, time.Duration) {
		req, _ := http.NewRequest("GET", base+"/rest/api/3/myself", nil)
		req.SetBasicAuth("bob@example.com", "bob-token")
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp, time.Since(t0)
	}

	base, stop := start(fakeFaults{latency: 80 * time.Millisecond, rate: 1, burst: 1})
	first, took := get(base)
	second, _ := get(base)
	stop()
	if first.StatusCode != 200 || took < 80*time.Millisecond {
		t.Errorf("first request: %d after %v, want 200 after the 80ms latency", first.StatusCode, took)
	}
	if second.StatusCode != 429 || second.Header.Get("Retry-After") == "" {
		t.Errorf("second request inside the second: %d, Retry-After %q; want 429 with Retry-After", second.StatusCode, second.Header.Get("Retry-After"))
	}

	base, stop = start(fakeFaults{down: true})
	resp, _ := get(base)
	stop()
	if resp.StatusCode != 503 {
		t.Errorf("site down: %d, want 503", resp.StatusCode)
	}
}

// TestFakeJiraListsReadOnlyUsers: a user from --users with read_only is marked so in the
// startup listing, admin or not.
func TestFakeJiraListsReadOnlyUsers(t *testing.T) {
	site, err := jiratest.New(jiratest.Options{Issues: 10, Seed: 1, Users: []jiratest.User{
		{Name: "auditor", Email: "auditor@example.com", Token: "auditor-token", Admin: true, ReadOnly: true},
		{Name: "viewer", Email: "viewer@example.com", Token: "viewer-token", Projects: []string{"ALPHA"}, ReadOnly: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	var out bytes.Buffer
	printFakeJira(&globals{stdout: &out}, "http://127.0.0.1:1", site)
	lines := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	for user, want := range map[string]string{"auditor": "all (admin) (read-only)", "viewer": "ALPHA (read-only)", "bob": "ALPHA"} {
		if l := lines[user]; !strings.HasSuffix(strings.TrimSpace(l), want) {
			t.Errorf("%s listed as %q, want it to end in %q", user, l, want)
		}
	}
	if strings.Contains(lines["bob"], "read-only") {
		t.Errorf("bob marked read-only: %q", lines["bob"])
	}
}
