package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"foundation/store"
)

// demoLensRows reads the "lens NAME N rows" lines of the demo summary.
func demoLensRows(t *testing.T, stdout string) map[string]int {
	t.Helper()
	re := regexp.MustCompile(`(?m)^lens\s+(\S+)\s+(\d+) rows$`)
	out := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(stdout, -1) {
		n, err := strconv.Atoi(m[2])
		if err != nil {
			t.Fatal(err)
		}
		out[m[1]] = n
	}
	return out
}

func summaryValue(stdout, key string) string {
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == key {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

// TestDemoSummary runs the demo without a terminal in both dialects: the Lenses are
// installed and open on a filled cache, the temporary directory is gone afterwards, and the
// user's own config, cache and environment are untouched.
func TestDemoSummary(t *testing.T) {
	for _, tc := range []struct {
		dialect, as string
	}{
		{"cloud", "alice"},
		{"datacenter", "bob"},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			e := newCLIEnv(t)
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			before := os.Getenv("XDG_CACHE_HOME")

			r := e.run("", "demo", "--issues", "300", "--seed", "7", "--dialect", tc.dialect, "--as", tc.as)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if got := summaryValue(r.stdout, "issues"); got != "300" {
				t.Errorf("issues cached %q, want 300\n%s", got, r.stdout)
			}
			if got := summaryValue(r.stdout, "viewer"); !strings.HasPrefix(got, tc.as+" (") {
				t.Errorf("viewer %q, want %s\n%s", got, tc.as, r.stdout)
			}
			rows := demoLensRows(t, r.stdout)
			for _, name := range []string{"Roadmap", "Sprint", "Bugs"} {
				if rows[name] == 0 {
					t.Errorf("Lens %s: %d rows, want some\n%s", name, rows[name], r.stdout)
				}
			}
			for _, want := range []string{"full done: 300 fetched", "installed Lens Roadmap (roadmap.yaml)", "Fake Jira (" + tc.dialect} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("the demo left %v in the temporary directory", left)
			}
			for _, p := range []string{e.config, e.cache} {
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the demo touched the user's %s (stat: %v)", p, err)
				}
			}
			if got := os.Getenv("XDG_CACHE_HOME"); got != before {
				t.Errorf("XDG_CACHE_HOME is %q after the demo, want %q back", got, before)
			}
		})
	}
}

// TestDemoKeep keeps the demo in a directory, then runs it again there: the second run
// takes the kept data set and address, polls instead of refilling, and keeps the Lenses.
func TestDemoKeep(t *testing.T) {
	e := newCLIEnv(t)
	dir := filepath.Join(t.TempDir(), "demo")

	r := e.run("", "demo", "--keep", dir, "--issues", "200", "--seed", "3")
	if r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	first := demoLensRows(t, r.stdout)
	if !strings.Contains(r.stderr, "foundation demo --keep "+dir) {
		t.Errorf("first run does not say how to reuse %s:\n%s", dir, r.stderr)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"token_env: " + demoTokenEnv, "token_env: " + demoAdminTokenEnv, "default_site: demo"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("kept config lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(string(cfg), "-token") {
		t.Errorf("kept config holds a token:\n%s", cfg)
	}
	cache := summaryValue(r.stdout, "cache")
	if !strings.HasPrefix(cache, dir) {
		t.Fatalf("cache %q is not under the kept directory %s", cache, dir)
	}

	// Again, without --issues and --seed: the kept values apply.
	r = e.run("", "demo", "--keep", dir)
	if r.code != 0 {
		t.Fatalf("second run: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "reusing the demo kept in") || !strings.Contains(r.stderr, "poll done") {
		t.Errorf("second run did not reuse and poll:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "installed Lens") {
		t.Errorf("second run installed the Lenses again over the kept ones:\n%s", r.stderr)
	}
	if got := summaryValue(r.stdout, "cache"); got != cache {
		t.Errorf("second run used cache %q, want the kept %q", got, cache)
	}
	if got := demoLensRows(t, r.stdout); fmt.Sprint(got) != fmt.Sprint(first) {
		t.Errorf("Lens sizes %v on reuse, want %v as before", got, first)
	}
	db, err := store.Open(context.Background(), cache)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Issues != 200 || c.Lenses != 4 {
		t.Errorf("kept cache holds %d issues and %d Lenses, want 200 and 4", c.Issues, c.Lenses)
	}

	// A different data set cannot reuse that cache.
	r = e.run("", "demo", "--keep", dir, "--issues", "500")
	if r.code != ExitUsage || !has(r.stderr, "pass the same --issues") {
		t.Errorf("reuse with other --issues: exit %d, stderr %s; want a usage error", r.code, r.stderr)
	}
}

func TestDemoFlags(t *testing.T) {
	e := newCLIEnv(t)
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "config.yaml"), []byte("sites: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dialect", "server"}, "--dialect must be cloud or datacenter"},
		{[]string{"--as", "carol"}, "--as must be alice, bob or admin"},
		{[]string{"--issues", "0"}, "--issues must be at least 1"},
		{[]string{"--keep", foreign}, "holds a config.yaml that the demo did not write"},
		{[]string{"extra"}, "unknown command"},
	} {
		r := e.run("", append([]string{"demo", "--no-tui"}, tc.args...)...)
		if r.code != ExitUsage || !has(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(foreign, "config.yaml")); err != nil || string(b) != "sites: {}\n" {
		t.Errorf("the demo changed a foreign config.yaml: %q, %v", b, err)
	}
}

// lockedBuffer is written by the command and read by the test while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoServe shares the fake site: its users and tokens are printed, another client
// signs in while the demo runs, and cancelling ends the demo cleanly with the site stopped.
func TestDemoServe(t *testing.T) {
	newCLIEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	g := &globals{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	root := newRoot(g)
	root.SetArgs([]string{"demo", "--issues", "100", "--serve", "127.0.0.1:0"})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	base := ""
	deadline := time.Now().Add(30 * time.Second)
	for base == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no base URL and serving notice on stderr:\n%s", stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("demo ended before serving: %v\n%s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		s := bufio.NewScanner(strings.NewReader(stderr.String()))
		for s.Scan() {
			if rest, ok := strings.CutPrefix(s.Text(), "serving the fake site at "); ok {
				base = strings.TrimSuffix(rest, " until interrupted")
			}
		}
	}
	for _, want := range []string{"USER", "bob@example.com", "bob-token", "Fake Jira (cloud) at " + base} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/rest/api/3/myself", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("bob@example.com", "bob-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("another client cannot reach the served site: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("myself as bob answered %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo ended with %v after the interrupt, want a clean end", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo did not stop after the interrupt")
	}
	if _, err := http.Get(base + "/rest/api/3/serverInfo"); err == nil {
		t.Error("the fake site still answers after the demo ended")
	}
}

// TestDemoViewers: the service profile fills one cache for everyone, and each viewer sees
// only what the fake site lets them browse (bob has ALPHA only, admin everything).
func TestDemoViewers(t *testing.T) {
	e := newCLIEnv(t)
	rows := map[string]map[string]int{}
	for _, as := range []string{"bob", "admin"} {
		r := e.run("", "demo", "--no-tui", "--issues", "300", "--seed", "5", "--as", as)
		if r.code != 0 {
			t.Fatalf("--as %s: exit %d\n%s", as, r.code, r.stderr)
		}
		if got := summaryValue(r.stdout, "issues"); got != "300" {
			t.Errorf("--as %s: %s issues cached, want all 300 whoever views", as, got)
		}
		rows[as] = demoLensRows(t, r.stdout)
	}
	for _, name := range []string{"Roadmap", "Sprint", "Bugs"} {
		if b, a := rows["bob"][name], rows["admin"][name]; b == 0 || b >= a {
			t.Errorf("Lens %s: bob sees %d rows, admin %d; want bob to see some, and fewer", name, b, a)
		}
	}
}

// TestDemoKeepSwitchViewer reuses a kept demo as other viewers: each --as is asked of the
// site afresh (its identity and grants), never taken from the kept cache's memory of the
// previous viewer, so every run shows what a fresh demo as that user shows. Data Center
// too, where the profile's email does not change with --as (its token does).
func TestDemoKeepSwitchViewer(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			e := newCLIEnv(t)
			fresh := map[string]result{}
			for _, as := range []string{"alice", "bob", "admin"} {
				fresh[as] = e.run("", "demo", "--no-tui", "--issues", "300", "--seed", "4", "--dialect", dialect, "--as", as)
				if fresh[as].code != 0 {
					t.Fatalf("fresh --as %s: exit %d\n%s", as, fresh[as].code, fresh[as].stderr)
				}
			}
			dir := filepath.Join(t.TempDir(), "kept")
			for i, as := range []string{"alice", "bob", "admin", "alice"} {
				args := []string{"demo", "--no-tui", "--keep", dir, "--as", as}
				if i == 0 {
					args = append(args, "--issues", "300", "--seed", "4", "--dialect", dialect)
				}
				r := e.run("", args...)
				if r.code != 0 {
					t.Fatalf("run %d --as %s: exit %d\n%s", i, as, r.code, r.stderr)
				}
				if got, want := summaryValue(r.stdout, "viewer"), summaryValue(fresh[as].stdout, "viewer"); got != want {
					t.Errorf("run %d --as %s: viewer %q, want %q as a fresh demo", i, as, got, want)
				}
				if got, want := fmt.Sprint(demoLensRows(t, r.stdout)), fmt.Sprint(demoLensRows(t, fresh[as].stdout)); got != want {
					t.Errorf("run %d --as %s: Lens sizes %s, want %s as a fresh demo", i, as, got, want)
				}
			}
		})
	}
}
