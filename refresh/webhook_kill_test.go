package refresh_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// TestKilledListenerConverges kills the listener process (SIGKILL) again and again while
// the fake site delivers: mostly between journaling a delivery and applying it. Jira
// retries what was not acknowledged; the next process applies what was journaled. At the
// end every delivery is journaled once and applied, and the cache equals Jira.
func TestKilledListenerConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("kills subprocesses; skipped with -short")
	}
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 600, Seed: 13})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Webhooks().Close()
	srv := httptest.NewServer(site)
	defer srv.Close()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hooks.db")
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	{
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := refresh.New(c, db, refresh.Options{Scope: "project = ALPHA"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Full(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	// One fixed address, so Jira's retries reach whichever process listens next.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	site.Webhooks().Register("http://"+addr, hookSecret, nil, "")

	var alpha []string
	for _, fi := range site.Issues() {
		if fi.Project == "ALPHA" {
			alpha = append(alpha, fi.Key)
		}
	}
	start := func() (*exec.Cmd, chan error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWebhookListenerProcess$")
		cmd.Env = append(os.Environ(), "FOUNDATION_WEBHOOK_PROCESS=1", "FW_URL="+srv.URL, "FW_DB="+path, "FW_ADDR="+addr)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				return cmd, done
			}
		}
		cmd.Process.Kill()
		t.Fatal("listener process did not start")
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const rounds = 8
	killedPending := 0
	edits := 0
	for round := range rounds {
		cmd, done := start()
		// Jira keeps writing while the process dies: deliveries in flight or sent to no one
		// fail and are retried into a later process.
		n := 10 + rng.IntN(15)
		killAt := 5 + rng.IntN(n)
		for i := range n + 5 {
			if i == killAt {
				time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
			k := alpha[rng.IntN(len(alpha))]
			if err := site.Update(k, map[string]any{"summary": fmt.Sprintf("round %d edit %d", round, i)}); err != nil {
				t.Fatal(err)
			}
			edits++
			time.Sleep(time.Duration(rng.IntN(8)) * time.Millisecond)
		}
		if killAt >= n+5 {
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
		<-done
		checkIntegrity(t, path)
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := db.JournalStats(ctx); err == nil && st.Pending > 0 {
			killedPending++
		}
		db.Close()
	}
	if killedPending == 0 {
		t.Fatal("no kill landed between journal and apply: the test proved nothing")
	}
	// A last process takes the retries, then stops cleanly.
	cmd, done := start()
	fctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := site.Webhooks().Flush(fctx); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Fatalf("listener process after SIGTERM: %v", err)
	}

	ds := site.Webhooks().Stats()
	if ds.Failed != 0 || ds.Delivered != ds.Emitted || ds.Emitted != edits {
		t.Errorf("dispatcher %+v after %d edits: every delivery should end acknowledged", ds, edits)
	}
	acked := map[string]bool{}
	for _, a := range site.Webhooks().Attempts() {
		if a.Status == 200 {
			acked[a.Identifier] = true
		}
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.Journal(ctx, store.JournalAll, 100000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range all {
		if seen[e.Identifier] {
			t.Errorf("delivery %s journaled twice", e.Identifier)
		}
		seen[e.Identifier] = true
		if e.AppliedAt.IsZero() || e.Quarantined != "" {
			t.Errorf("entry %d (%s) not applied: %q", e.Seq, e.Identifier, e.Quarantined)
		}
	}
	for id := range acked {
		if !seen[id] {
			t.Errorf("delivery %s acknowledged but not journaled", id)
		}
	}
	if len(seen) != edits {
		t.Errorf("%d deliveries journaled for %d edits", len(seen), edits)
	}
	t.Logf("%d edits, %d kills (%d with entries journaled but not applied), %d retries", edits, rounds, killedPending, ds.Retries)
	assertConverged(t, site, db, "ALPHA")
}

// TestWebhookListenerProcess is the listener TestKilledListenerConverges kills.
func TestWebhookListenerProcess(t *testing.T) {
	if os.Getenv("FOUNDATION_WEBHOOK_PROCESS") != "1" {
		t.Skip("helper process for TestKilledListenerConverges")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	db, err := store.Open(ctx, os.Getenv("FW_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := jira.New(ctx, jira.Options{BaseURL: os.Getenv("FW_URL"), Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", os.Getenv("FW_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	l := refresh.NewListener(db, refresh.ListenerOptions{Secret: []byte(hookSecret)})
	a := refresh.NewApplier(c, db, refresh.ApplyOptions{Scope: "project = ALPHA"})
	// A long gather delay leaves deliveries journaled but unapplied for the killer to hit.
	if err := refresh.Serve(ctx, ln, l, a, refresh.ServeOptions{ApplyDelay: 150 * time.Millisecond, ApplyEvery: time.Second}); err != nil {
		t.Fatal(err)
	}
}
