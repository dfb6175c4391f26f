package store

import (
	"context"
	"database/sql"
	"reflect"
	"sync"
	"testing"
	"time"

	"foundation/store/storetest"
)

// TestSplitSnapshotMatchesOneRead: a cache large enough to be read in two halves at once
// gives the same issues, links and feed position as one read transaction.
func TestSplitSnapshotMatchesOneRead(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	issues := storetest.RoadmapIssues(splitSnapshotAt + 1000)
	if _, err := db.UpsertIssues(ctx, issues, true); err != nil {
		t.Fatal(err)
	}
	split, ok, err := db.splitSnapshot(ctx, ReadOptions{})
	if err != nil || !ok {
		t.Fatalf("split snapshot: ok %v, %v", ok, err)
	}
	var one Snapshot
	err = db.read(ctx, "snapshot", func(tx *sql.Tx) error {
		var err error
		if one.Seq, err = lastChange(ctx, tx); err != nil {
			return err
		}
		if one.Issues, err = readIssues(ctx, tx, ReadOptions{}); err != nil {
			return err
		}
		one.Links, err = readLinks(ctx, tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if split.Seq != one.Seq || len(split.Issues) != len(issues) || !reflect.DeepEqual(split.Issues, one.Issues) || !reflect.DeepEqual(split.Links, one.Links) {
		t.Fatalf("split snapshot differs: seq %d/%d, %d/%d issues", split.Seq, one.Seq, len(split.Issues), len(one.Issues))
	}
	// A small cache is read in one go.
	small := openTest(t)
	if _, err := small.UpsertIssues(ctx, issues[:100], true); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := small.splitSnapshot(ctx, ReadOptions{}); ok || err != nil {
		t.Errorf("split snapshot of 100 issues: ok %v, %v", ok, err)
	}
}

// TestConcurrentSnapshots: more snapshots at once than the read pool has connections all
// finish (one splits, the others read in one transaction each) and agree.
func TestConcurrentSnapshots(t *testing.T) {
	db := openTest(t)
	issues := storetest.RoadmapIssues(splitSnapshotAt + 1000)
	if _, err := db.UpsertIssues(context.Background(), issues, true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 2*readers + 1
	got := make([]Snapshot, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = db.Snapshot(ctx, ReadOptions{}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("snapshot %d: %v", i, errs[i])
		}
		if len(got[i].Issues) != len(issues) || !reflect.DeepEqual(got[i].Issues, got[0].Issues) {
			t.Fatalf("snapshot %d: %d issues, differs from the first", i, len(got[i].Issues))
		}
	}
}
