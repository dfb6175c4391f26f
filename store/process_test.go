package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"foundation/lens"
)

// The concurrency test runs the store the way users do: separate processes (a refresh, a
// webhook listener, TUIs) on one file, all starting at once on a file that does not exist
// yet, so the migrations race too. The test binary re-executes itself as each of them.

const (
	helperRole = "STORE_HELPER_ROLE"
	helperPath = "STORE_HELPER_PATH"
	helperN    = "STORE_HELPER_N"

	procBatches   = 30 / raceScale  // per refresh writer
	procBatchSize = 100             // issues per batch
	procWebhooks  = 300 / raceScale // deliveries per webhook writer
	procReads     = 40 / raceScale  // full reads per reader
)

func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "shared", "site.db")
	roles := []string{"refresh", "refresh", "webhook", "reader", "reader", "reader"}
	type proc struct {
		cmd *exec.Cmd
		out *bytes.Buffer
	}
	var procs []proc
	for i, role := range roles {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperRole+"="+role, helperPath+"="+path, helperN+"="+strconv.Itoa(i))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, proc{cmd, &out})
	}
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("%s process %d: %v\n%s", roles[i], i, err, p.out)
		}
	}
	if t.Failed() {
		return
	}

	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantIssues := int64(2*procBatches*procBatchSize + procWebhooks)
	if c.Issues != wantIssues {
		t.Errorf("issues %d, want %d", c.Issues, wantIssues)
	}
	// Every refresh batch is written twice (second time newer), every webhook issue once.
	wantChanges := int64(2*2*procBatches*procBatchSize + procWebhooks)
	if c.Changes != wantChanges {
		t.Errorf("change feed has %d entries, want %d", c.Changes, wantChanges)
	}
	st, err := db.JournalStats(ctx)
	if err != nil || st.Total != procWebhooks || st.Applied != procWebhooks {
		t.Errorf("journal %+v (%v), want %d applied", st, err, procWebhooks)
	}
	last, err := db.LastChange(ctx)
	if err != nil || last != wantChanges {
		t.Errorf("LastChange %d (%v), want %d (no gaps)", last, err, wantChanges)
	}
	var integrity string
	if err := db.r.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity_check %q, %v", integrity, err)
	}
}

// TestHelperProcess is not a test: it is one of TestConcurrentProcesses's processes.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(helperRole)
	if role == "" {
		t.Skip("helper process for TestConcurrentProcesses")
	}
	n, _ := strconv.Atoi(os.Getenv(helperN))
	if err := runHelper(context.Background(), role, os.Getenv(helperPath), n); err != nil {
		fmt.Fprintf(os.Stderr, "%s %d: %v\n", role, n, err)
		os.Exit(1) // the parent reads the exit status; t.Fatal output would be mixed in
	}
}

func runHelper(ctx context.Context, role, path string, n int) error {
	db, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	switch role {
	case "refresh":
		// A full sync committing page by page, then a second pass where everything changed.
		for pass := range 2 {
			for b := range procBatches {
				batch := make([]lens.Issue, procBatchSize)
				for i := range batch {
					id := int64(n*1_000_000 + b*procBatchSize + i + 1)
					batch[i] = issue(id, fmt.Sprintf("P%d-%d", n, id), base.Add(time.Duration(pass)*time.Hour), fmt.Sprintf("pass %d", pass))
				}
				st, err := db.UpsertIssues(ctx, batch, true)
				if err != nil {
					return err
				}
				if st.Inserted+st.Updated != procBatchSize {
					return fmt.Errorf("pass %d batch %d: %+v", pass, b, st)
				}
				if err := db.PutSyncState(ctx, SyncState{Scope: fmt.Sprintf("scope %d", n), Watermark: base.Add(time.Duration(b) * time.Minute)}); err != nil {
					return err
				}
			}
		}
	case "webhook":
		// Journal each delivery first, then apply it and mark it applied, one by one.
		for i := range procWebhooks {
			id := int64(900_000_000 + i)
			res, err := db.AppendJournal(ctx, JournalEntry{Identifier: fmt.Sprintf("w-%d", i), Event: "jira:issue_created", EventTime: base, Body: []byte("{}")})
			if err != nil {
				return err
			}
			seq := res[0].Seq
			if _, err := db.UpsertIssues(ctx, []lens.Issue{issue(id, fmt.Sprintf("W-%d", i), base, "hook")}, false); err != nil {
				return err
			}
			if err := db.MarkApplied(ctx, seq); err != nil {
				return err
			}
		}
	case "reader":
		var lastSeq int64
		for range procReads {
			if _, err := db.Issues(ctx, ReadOptions{}); err != nil {
				return err
			}
			seq, err := db.LastChange(ctx)
			if err != nil {
				return err
			}
			if seq < lastSeq {
				return fmt.Errorf("LastChange went back from %d to %d", lastSeq, seq)
			}
			cs, err := db.Changes(ctx, lastSeq, 500)
			if err != nil {
				return err
			}
			for i := 1; i < len(cs); i++ {
				if cs[i].Seq <= cs[i-1].Seq {
					return fmt.Errorf("feed out of order: %d after %d", cs[i].Seq, cs[i-1].Seq)
				}
			}
			lastSeq = seq
		}
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	return nil
}
