package lens

import (
	"runtime"
	"testing"
	"time"

	"foundation/jql"
)

// benchLens is the benchmark Lens of issue 4: JQL insert, parent extend (and sub-tasks, so
// every issue is a row), three roll-ups and a formula.
const benchLens = `name: bench
generators:
  - insert: {jql: "project in (ALPHA, BETA) AND issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
views:
  - name: v
    columns:
      - field: key
      - field: summary
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: n, rollup: {op: count, over: leaves}}
      - {id: hi, rollup: {op: max, field: story points, over: children}}
      - {id: left, formula: "sp - hi"}
`

// benchData is about 100,000 issues (7,750 epics per project with stories and sub-tasks).
func benchData(b *testing.B) *Data {
	b.Helper()
	d := testData(7750)
	if n := len(d.Issues); n < 95000 || n > 110000 {
		b.Fatalf("bench data has %d issues, want about 100,000", n)
	}
	return d
}

// floorScan is the floor a build is compared with: one pass of the same compiled JQL over
// every issue, the least any Lens over this data must do.
func floorScan(b *testing.B, d *Data) time.Duration {
	b.Helper()
	q, err := jql.Parse("project in (ALPHA, BETA) AND issuetype = Epic")
	if err != nil {
		b.Fatal(err)
	}
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		m, err := q.Compile(jql.Env{Now: d.Now})
		if err != nil {
			b.Fatal(err)
		}
		rec := &issueRecord{}
		n := 0
		for i := range d.Issues {
			rec.is = &d.Issues[i]
			if m(rec) {
				n++
			}
		}
		if n == 0 {
			b.Fatal("floor matched nothing")
		}
		best = min(best, time.Since(start))
	}
	return best
}

// floorRows is a second floor: materializing one Row with its path per issue, which any
// forest of these issues must do, without generators or aggregates.
func floorRows(b *testing.B, d *Data) time.Duration {
	b.Helper()
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		rows := make([]Row, 0, len(d.Issues))
		for i := range d.Issues {
			is := &d.Issues[i]
			p := is.Key
			if is.Parent != "" {
				p = is.Parent + "/" + is.Key
			}
			rows = append(rows, Row{Issue: is, Path: p, Parent: -1, End: int32(i + 1), ord: int32(i)})
		}
		runtime.KeepAlive(rows)
		best = min(best, time.Since(start))
	}
	return best
}

func buildView(b *testing.B, def *Definition, d *Data) *Forest {
	f, err := Build(def, d, nil)
	if err != nil {
		b.Fatal(err)
	}
	v, err := f.View("v")
	if err != nil {
		b.Fatal(err)
	}
	// The TUI draws a window of cells; touch one screenful so field cells are exercised.
	for i := 0; i < 50 && i < len(f.Rows); i++ {
		for c := range v.Columns() {
			_ = v.Cell(i, c)
		}
	}
	return f
}

// BenchmarkBuild builds and opens the 100,000-issue Lens from a cold definition (JQL
// parsed and formulas compiled inside the loop) and reports ns/row and the ratio to the
// floor scan.
func BenchmarkBuild(b *testing.B) {
	d := benchData(b)
	floor, rowFloor := floorScan(b, d), floorRows(b, d)
	var rows int
	b.ResetTimer()
	for b.Loop() {
		def, err := Parse("bench.yaml", []byte(benchLens))
		if err != nil {
			b.Fatal(err)
		}
		d.Reindex() // a cold open: index the snapshot too
		rows = len(buildView(b, def, d).Rows)
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(per/float64(rows), "ns/row")
	b.ReportMetric(per/float64(floor.Nanoseconds()), "x-floor")
	b.ReportMetric(per/float64(rowFloor.Nanoseconds()), "x-rowfloor")
}

// BenchmarkRebuildOneChange changes one issue through Data.SetIssue and rebuilds with the
// cached definition and index. "edit" changes story points, which no generator reads, so
// Rebuild keeps the rows and recomputes the view; "move" changes a parent, which needs the
// generators again (with the cached index and compiled definition).
func BenchmarkRebuildOneChange(b *testing.B) {
	for _, tc := range []struct {
		name   string
		change func(is *Issue, n int)
	}{
		{"edit", func(is *Issue, n int) { sp := float64(n); is.StoryPoints = &sp }},
		{"move", func(is *Issue, n int) {
			if n%2 == 0 {
				is.Parent = ""
			} else {
				is.Parent = "ALPHA-1"
			}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := benchData(b)
			floor, rowFloor := floorScan(b, d), floorRows(b, d)
			def, err := Parse("bench.yaml", []byte(benchLens))
			if err != nil {
				b.Fatal(err)
			}
			prev := buildView(b, def, d)
			n := 0
			b.ResetTimer()
			for b.Loop() {
				n++
				old := d.Issues[7]
				is := old
				tc.change(&is, n)
				d.SetIssue(is)
				f, err := Rebuild(prev, d, nil, map[string]Issue{is.Key: old})
				if err != nil {
					b.Fatal(err)
				}
				if f.reused != (tc.name == "edit") {
					b.Fatalf("reused = %v", f.reused)
				}
				v, err := f.View("v")
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < 50; i++ {
					_ = v.Cell(i, 2)
				}
				prev = f
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(per/float64(floor.Nanoseconds()), "x-floor")
			b.ReportMetric(per/float64(rowFloor.Nanoseconds()), "x-rowfloor")
		})
	}
}

// BenchmarkForestMemory reports the heap a built and opened Lens keeps per row (the
// issues themselves excluded: they belong to the cache snapshot).
func BenchmarkForestMemory(b *testing.B) {
	d := benchData(b)
	def, err := Parse("bench.yaml", []byte(benchLens))
	if err != nil {
		b.Fatal(err)
	}
	buildView(b, def, d) // warm the index and compiled definition
	var perRow float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f := buildView(b, def, d)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perRow = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(f.Rows))
		runtime.KeepAlive(f)
	}
	b.ReportMetric(perRow, "B/row")
}
