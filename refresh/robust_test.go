package refresh_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// assertConverged checks that the cache holds exactly Jira's scope, issue by issue, with the
// fields the cache extracts equal to Jira's own.
func assertConverged(t *testing.T, site *jiratest.Site, db *store.DB, projects ...string) {
	t.Helper()
	in := map[string]bool{}
	for _, p := range projects {
		in[p] = true
	}
	want := map[string]jiratest.FakeIssue{}
	for _, fi := range site.Issues() {
		if in[fi.Project] {
			want[fi.Key] = fi
		}
	}
	got, err := db.Issues(context.Background(), store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("cache holds %d issues, Jira %d", len(got), len(want))
	}
	bad := 0
	for _, g := range got {
		w, ok := want[g.Key]
		if !ok {
			t.Errorf("%s cached but not in scope", g.Key)
			bad++
		} else if g.ID != w.ID || g.Summary != w.Summary || g.Status != w.Status || g.StatusCategory != w.StatusCategory ||
			g.Parent != w.Parent || g.EpicLink != w.EpicLink || g.Assignee != w.Assignee || g.Priority != w.Priority ||
			g.SecurityLevel != w.SecurityLevel || !g.Updated.Equal(w.Updated) || g.Type != w.Type || g.Rank != w.Rank {
			t.Errorf("%s differs:\ncache %+v\njira  %+v", g.Key, g, w.Issue)
			bad++
		}
		if bad > 5 {
			t.Fatal("too many differences")
		}
	}
}

func TestSyncThroughFaults(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect, 800, "project in (ALPHA, BETA)")
			faults := f.site.Faults()
			// A 429 storm: a small bucket on every endpoint, Retry-After honoured.
			faults.SetRateLimit(jiratest.RateLimit{Burst: 3, PerSecond: 40})
			// A burst of 5xx on search and a dropped connection.
			faults.FailNext(3, 503, "/rest/api")
			faults.DropNext(1, "/rest/api")
			sum, err := f.eng.Full(context.Background())
			if err != nil {
				t.Fatalf("full sync through faults: %v", err)
			}
			if sum.Retries == 0 {
				t.Errorf("summary %+v: faults were injected but nothing was retried", sum)
			}
			faults.Reset()
			assertConverged(t, f.site, f.db, "ALPHA", "BETA")
		})
	}
}

func TestEditsCreatesDeletesAndMovesConverge(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect, 400, "project = ALPHA")
			ctx := context.Background()
			if _, err := f.eng.Full(ctx); err != nil {
				t.Fatal(err)
			}
			var alpha []string
			for _, fi := range f.site.Issues() {
				if fi.Project == "ALPHA" && !fi.Subtask && fi.Type != "Epic" {
					alpha = append(alpha, fi.Key)
				}
			}
			if err := f.site.Update(alpha[0], map[string]any{"summary": "renamed"}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.c.CreateIssue(ctx, map[string]any{
				"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Task"}, "summary": "brand new",
			}); err != nil {
				t.Fatal(err)
			}
			if err := f.site.Delete(alpha[1]); err != nil {
				t.Fatal(err)
			}
			var moved string
			for _, k := range alpha[2:] {
				if _, err := f.site.Move(k, "GAMMA"); err == nil {
					moved = k
					break
				}
			}
			if moved == "" {
				t.Fatal("no issue could be moved")
			}
			if _, err := f.eng.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := f.eng.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			assertConverged(t, f.site, f.db, "ALPHA")
		})
	}
}

func TestTwoRefreshesAtOnce(t *testing.T) {
	f := newFixture(t, "cloud", 600, "project in (ALPHA, BETA)")
	// A second engine on its own connection to the same file, as a second process would.
	db2, err := store.Open(context.Background(), f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	eng2, err := refresh.New(f.c, db2, refresh.Options{Scope: "project in (ALPHA, BETA)"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, e := range []*refresh.Engine{f.eng, eng2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.Full(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	assertConverged(t, f.site, f.db, "ALPHA", "BETA")
}

// TestKilledRefreshConverges kills a refresh process (SIGKILL) at random points many times:
// the cache must never be corrupt, and a final run must converge exactly.
func TestKilledRefreshConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses; skipped with -short")
	}
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 3000, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	site.Faults().SetLatency(10*time.Millisecond, 2*time.Millisecond)
	srv := httptest.NewServer(site)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "kill.db")
	rng := rand.New(rand.NewPCG(1, 2))
	killed := 0
	for round := 0; round < 8; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshProcess$")
		cmd.Env = append(os.Environ(), "FOUNDATION_REFRESH_PROCESS=1", "FR_URL="+srv.URL, "FR_DB="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(time.Duration(100+rng.IntN(400)) * time.Millisecond):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
			killed++
		case err := <-done:
			if err != nil {
				t.Fatalf("refresh process failed: %v", err)
			}
		}
		checkIntegrity(t, path)
		// Between kills, Jira changes under us.
		for _, fi := range site.Issues()[round*7 : round*7+3] {
			_ = site.Update(fi.Key, map[string]any{"summary": "edit in round " + string(rune('a'+round))})
		}
	}
	if killed == 0 {
		t.Fatal("no run was killed: the test proved nothing")
	}
	site.Faults().SetLatency(0, 0)
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := refresh.New(c, db, refresh.Options{Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Auto(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of 8 runs killed", killed)
	assertConverged(t, site, db, "ALPHA", "BETA", "GAMMA")
}

// TestRefreshProcess is the body of the subprocess TestKilledRefreshConverges kills.
func TestRefreshProcess(t *testing.T) {
	if os.Getenv("FOUNDATION_REFRESH_PROCESS") != "1" {
		t.Skip("helper process for TestKilledRefreshConverges")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, os.Getenv("FR_DB"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := jira.New(ctx, jira.Options{BaseURL: os.Getenv("FR_URL"), Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := refresh.New(c, db, refresh.Options{Scope: "project in (ALPHA, BETA, GAMMA)", PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	// Full resumes an interrupted sync from its cursor and otherwise walks everything again,
	// so every round is long enough to be killed part-way.
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
}

func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return // killed before the cache was created
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var res string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatalf("integrity check: %v", err)
	}
	if res != "ok" {
		t.Fatalf("cache corrupt after SIGKILL: %s", res)
	}
	var fk int
	rows, err := raw.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		fk++
	}
	rows.Close()
	if fk > 0 {
		t.Fatalf("%d foreign key violations after SIGKILL", fk)
	}
}

// TestReconcileSharedCache: profiles with other scopes and identities share a cache; one
// profile's reconcile removes only what its own scan speaks for.
func TestReconcileSharedCache(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "cloud", 600, "project in (ALPHA, BETA, GAMMA)")
	if _, err := f.eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	bob, err := jira.New(ctx, jira.Options{BaseURL: f.srv.URL, Email: "bob@example.com", Token: "bob-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	narrow, err := refresh.New(bob, f.db, refresh.Options{Scope: "project in (ALPHA, BETA)"})
	if err != nil {
		t.Fatal(err)
	}
	// bob may browse ALPHA only: BETA is invisible to him, GAMMA outside his scope.
	var alphaKey string
	for _, fi := range f.site.Issues() {
		if fi.Project == "ALPHA" && !fi.Subtask && fi.Type != "Epic" {
			alphaKey = fi.Key
			break
		}
	}
	if err := f.site.Delete(alphaKey); err != nil {
		t.Fatal(err)
	}
	sum, err := narrow.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Deleted < 1 {
		t.Errorf("bob's reconcile deleted %d; the deleted ALPHA issue should go", sum.Deleted)
	}
	// What remains equals Jira for the wide profile: nothing of BETA or GAMMA was removed.
	assertConverged(t, f.site, f.db, "ALPHA", "BETA", "GAMMA")
}
