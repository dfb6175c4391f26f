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

// TestCheckpointerBoundsWAL commits many large batches with the background checkpointer
// and checks that the WAL stayed short (it is reused from the start once fully copied, so
// its file size is the longest it ever got) and that every issue is in the cache. Without
// the checkpointer the writer's own threshold (1,000 pages) lets it grow past the bound.
func TestCheckpointerBoundsWAL(t *testing.T) {
	const (
		batches  = 30
		perBatch = 20
		catchUp  = 60
	)
	for _, tc := range []struct {
		name    string
		useCk   bool
		bounded bool
	}{{"checkpointer", true, true}, {"writer alone", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ck := &checkpointer{db: db, after: perBatch, catchUp: catchUp, backstop: 10 * catchUp}
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
				if tc.useCk {
					if err := ck.committed(ctx, (b+1)*perBatch); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := ck.finish(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := db.Issues(ctx, store.ReadOptions{})
			if err != nil || len(got) != batches*perBatch {
				t.Fatalf("%d issues cached, %v", len(got), err)
			}
			st, err := os.Stat(db.Path() + "-wal")
			if err != nil {
				t.Fatal(err)
			}
			// Half the writer's own threshold (1,000 frames): room for catchUp and for the
			// batches committed while a background run was pending on a busy machine.
			bound := int64(500) * (4096 + 24)
			if (st.Size() <= bound) != tc.bounded {
				t.Errorf("WAL file %d bytes, bound %d: want bounded %v", st.Size(), bound, tc.bounded)
			}
		})
	}
}

// TestCheckpointerCloseRestores: a walk that fails mid-way stops the background loop and
// gives the writer its own checkpointing back; close after finish does nothing more.
func TestCheckpointerCloseRestores(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ck := &checkpointer{db: db, after: 1, catchUp: 1, backstop: 100}
	if err := ck.committed(ctx, 1); err != nil || !ck.started {
		t.Fatalf("not started: %v", err)
	}
	if err := ck.close(ctx); err != nil || ck.started || ck.kick != nil {
		t.Fatalf("close: %v, started %v", err, ck.started)
	}
	if err := ck.close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := ck.finish(ctx); err != nil {
		t.Fatalf("finish after close: %v", err)
	}
}
