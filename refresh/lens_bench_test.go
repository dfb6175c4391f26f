package refresh_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
	"foundation/store/storetest"
)

// Opening a Lens is measured against a bare SQLite scan of the same rows, in the same run
// (the machine is small and noisy):
//
//	go test -run '^$' -bench 'OpenLens|LensUpdate' -benchtime 5x ./refresh/

// benchLensYAML is issue 4's benchmark Lens: a JQL insert, parent extend (plus sub-tasks,
// so every issue is a row), three roll-ups and a formula.
const benchLensYAML = `name: Bench
generators:
  - insert: {jql: "project in (ALPHA, BETA) AND issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
views:
  - name: v
    columns:
      - field: key
      - field: summary
      - field: status
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: n, rollup: {op: count, over: leaves}}
      - {id: hi, rollup: {op: max, field: story points, over: children}}
      - {id: left, formula: "sp - hi"}
`

// benchCache fills a cache with issues through the store's own upsert and stores the
// benchmark Lens.
func benchCache(b *testing.B, issues []lens.Issue) (*store.DB, string) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for i := 0; i < len(issues); i += 5000 {
		if _, err := db.UpsertIssues(ctx, issues[i:min(i+5000, len(issues))], true); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := refresh.ApplyLens(ctx, db, "bench.yaml", []byte(benchLensYAML), benchViewer, refresh.AnyVersion); err != nil {
		b.Fatal(err)
	}
	grantAll(b, db, benchViewer, issues, time.Hour)
	return db, path
}

// scanFloor is the floor (storetest.ScanIssueColumns), timed.
func scanFloor(b *testing.B, sqlDB *sql.DB, want int) time.Duration {
	start := time.Now()
	n, err := storetest.ScanIssueColumns(sqlDB)
	if err != nil {
		b.Fatal(err)
	}
	if n != want {
		b.Fatalf("floor scanned %d rows, want %d", n, want)
	}
	return time.Since(start)
}

func openFloorDB(b *testing.B, path string) *sql.DB {
	b.Helper()
	sqlDB, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sqlDB.Close() })
	return sqlDB
}

// BenchmarkOpenLens100k opens the 100,000-issue benchmark Lens through OpenLens (stored
// definition, snapshot read, field catalog, Build, default view) and, alternately in the
// same loop, runs the floor scan. x-floor is open time over floor time (target <= 2);
// B/row is the live heap the opened Lens holds per row.
func BenchmarkOpenLens100k(b *testing.B) {
	issues := storetest.RoadmapIssues(100000)
	db, path := benchCache(b, issues)
	sqlDB := openFloorDB(b, path)
	ctx := context.Background()
	scanFloor(b, sqlDB, len(issues)) // warm the page cache for both
	var floor, open time.Duration
	var rows int
	b.ResetTimer()
	for b.Loop() {
		floor += scanFloor(b, sqlDB, len(issues))
		start := time.Now()
		o, err := refresh.OpenLens(ctx, db, "Bench", benchViewer, refresh.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		open += time.Since(start)
		rows = len(o.Forest.Rows)
	}
	b.StopTimer()
	if rows != len(issues) {
		b.Fatalf("the Lens has %d rows, want one per issue (%d)", rows, len(issues))
	}
	n := float64(b.N)
	b.ReportMetric(float64(open.Nanoseconds())/n/1e6, "open-ms")
	b.ReportMetric(float64(floor.Nanoseconds())/n/1e6, "floor-ms")
	b.ReportMetric(float64(open)/float64(floor), "x-floor")
	b.ReportMetric(liveBytesPerRow(b, ctx, db, rows), "B/row")
}

// liveBytesPerRow is the heap an opened Lens keeps alive (snapshot, index, forest and view)
// divided by its rows.
func liveBytesPerRow(b *testing.B, ctx context.Context, db *store.DB, rows int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o, err := refresh.OpenLens(ctx, db, "Bench", benchViewer, refresh.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(o)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(rows)
}

// BenchmarkLensUpdateOneChange changes one story in the cache (as a poll or webhook does)
// and catches the opened Lens up through Opened.Update, alternating with the floor scan.
// x-floor is update time over the floor.
func BenchmarkLensUpdateOneChange(b *testing.B) {
	issues := storetest.RoadmapIssues(100000)
	db, path := benchCache(b, issues)
	sqlDB := openFloorDB(b, path)
	ctx := context.Background()
	o, err := refresh.OpenLens(ctx, db, "Bench", benchViewer, refresh.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	story := issues[1]
	var floor, upd time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		floor += scanFloor(b, sqlDB, len(issues))
		sp := float64(100 + i)
		story.StoryPoints = &sp
		story.Updated = story.Updated.Add(time.Second)
		if _, err := db.UpsertIssues(ctx, []lens.Issue{story}, false); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		n, err := o.Update(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		upd += time.Since(start)
		if n.Data != o.Data {
			b.Fatal("one changed issue reopened the Lens")
		}
		o = n
	}
	b.StopTimer()
	if v := o.View.Cell(0, 3); v.Num < 100 {
		b.Fatalf("the epic's sum %v does not include the changed story", v.Num)
	}
	n := float64(b.N)
	b.ReportMetric(float64(upd.Nanoseconds())/n/1e6, "update-ms")
	b.ReportMetric(float64(floor.Nanoseconds())/n/1e6, "floor-ms")
	b.ReportMetric(float64(upd)/float64(floor), "x-floor")
}
