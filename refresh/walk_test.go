package refresh

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"foundation/lens"
	"foundation/store"
)

// TestCheckpointerWalk commits many large batches with the background checkpointer, with the
// committer catching up every time the WAL passes a small size, and checks that every issue
// is in the cache and that the walk left nothing in the WAL to copy. (How long the WAL grows
// depends on when the background runs get the CPU, so it is not asserted here.)
func TestCheckpointerWalk(t *testing.T) {
	const (
		batches  = 30
		perBatch = 20
	)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ck := &checkpointer{db: db, after: perBatch, catchUp: 60, backstop: 240}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	body := strings.Repeat("x", 6000) // two pages an issue, like Jira's fields
	for b := range batches {
		var is []lens.Issue
		for i := range perBatch {
			n := b*perBatch + i + 1
			is = append(is, lens.Issue{ID: int64(n), Key: fmt.Sprintf("A-%d", n), Summary: body, Updated: t0})
		}
		if _, err := db.UpsertIssues(ctx, is, true); err != nil {
			t.Fatal(err)
		}
		if err := ck.committed(ctx, (b+1)*perBatch); err != nil {
			t.Fatal(err)
		}
		if b == 0 && !ck.started {
			t.Fatal("not started after the first batch")
		}
	}
	if err := ck.finish(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.Issues(ctx, store.ReadOptions{})
	if err != nil || len(got) != batches*perBatch {
		t.Fatalf("%d issues cached, %v", len(got), err)
	}
	if frames, copied, err := db.Checkpoint(ctx, false); err != nil || copied != frames {
		t.Errorf("after the walk: %d of %d WAL frames copied, %v", copied, frames, err)
	}
	if _, err := os.Stat(db.Path() + "-wal"); err != nil {
		t.Errorf("no WAL: %v", err)
	}
}

// TestCheckpointerCloseRestores: a walk that fails mid-way stops the background loop and
// gives the writer its tuning back; close after finish does nothing more.
func TestCheckpointerCloseRestores(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before, err := db.Tuning(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ck := &checkpointer{db: db, after: 1, catchUp: 1, backstop: 100}
	if err := ck.committed(ctx, 1); err != nil || !ck.started {
		t.Fatalf("not started: %v", err)
	}
	bulk, err := db.Tuning(ctx)
	if err != nil || bulk.AutoCheckpoint != 100 || bulk == before {
		t.Fatalf("tuning during the walk %+v (%v), before %+v", bulk, err, before)
	}
	if err := ck.close(ctx); err != nil || ck.started || ck.kick != nil {
		t.Fatalf("close: %v, started %v", err, ck.started)
	}
	if after, err := db.Tuning(ctx); err != nil || after != before {
		t.Fatalf("tuning after close %+v (%v), before %+v", after, err, before)
	}
	if err := ck.close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := ck.finish(ctx); err != nil {
		t.Fatalf("finish after close: %v", err)
	}
}
