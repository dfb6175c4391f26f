package tui

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"foundation/jql"
	"foundation/lens"
)

// Benchmarks report each figure as a ratio against a floor measured in the same run,
// interleaved with it, so the noise of a small shared machine hits both alike:
//
//	go test ./tui -run '^$' -bench . -benchtime 200x
//
// The ratio metrics (x-floor) are the numbers to compare with the budget: medians of the
// per-iteration times, so one stall of a busy machine does not decide the figure. ns/op is
// the plain mean of everything.

// median returns the middle duration (sorts ds).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// withIDs precomputes row ids, as the Lens engine's forest stores its row paths.
func (t *synthTree) withIDs() *synthTree {
	ids := make([]string, t.Len())
	for i := range ids {
		ids[i] = "R-" + strconv.Itoa(i)
	}
	t.ids = ids
	return t
}

// BenchmarkFrame draws a full 160x48 frame of a 1,000-row and a 1,000,000-row forest of the
// same depth and cell widths, all expanded, cursor mid-way: the target is the same cost
// (within 1.2x).
func BenchmarkFrame(b *testing.B) {
	th := NewTheme(true, false)
	s, l := newSynth(10, 10, 9), newSynth(100, 100, 99)
	s.fixed, l.fixed = true, true
	small, large := NewTable(s), NewTable(l)
	for _, tb := range []*Table{small, large} {
		tb.SetSize(160, 46)
		tb.ExpandAll()
		tb.Move(tb.Visible() / 2)
	}
	if small.tree.Len() != 1010 || large.tree.Len() != 1000100 {
		b.Fatalf("sizes %d and %d", small.tree.Len(), large.tree.Len())
	}
	tSmall := make([]time.Duration, 0, b.N)
	tLarge := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := 1 - 2*(i%2) // move so no frame repeats the last one exactly
		small.Move(d)
		large.Move(d)
		// Alternate which goes first, so neither always pays for the other's garbage.
		first, second := small, large
		if i%2 == 1 {
			first, second = large, small
		}
		t0 := time.Now()
		_ = first.View(th)
		t1 := time.Now()
		_ = second.View(th)
		t2 := time.Now()
		if i%2 == 1 {
			tLarge = append(tLarge, t1.Sub(t0))
			tSmall = append(tSmall, t2.Sub(t1))
		} else {
			tSmall = append(tSmall, t1.Sub(t0))
			tLarge = append(tLarge, t2.Sub(t1))
		}
	}
	ms, ml := median(tSmall), median(tLarge)
	b.ReportMetric(float64(ms.Nanoseconds()), "ns/frame-1k")
	b.ReportMetric(float64(ml.Nanoseconds()), "ns/frame-1M")
	b.ReportMetric(float64(ml)/float64(ms), "x-floor")
}

// benchApp opens a synthetic Lens of the given shape in the headless driver.
func benchApp(b *testing.B, fanout ...int) *driver {
	back := &synthBackend{trees: map[string]*synthTree{}}
	plan := newSynth(fanout...).withIDs()
	dates := &synthTree{depth: plan.depth, parent: plan.parent, end: plan.end, ids: plan.ids,
		cols: []Column{{Title: "Key", Frozen: true}, {Title: "Summary", Frozen: true}, {Title: "Due"}, {Title: "Assignee"}}}
	back.trees["plan"], back.trees["dates"] = plan, dates
	d := newDriver(b, back, 160, 48)
	d.keys("enter")
	if d.app.lens == nil {
		b.Fatal("Lens did not open")
	}
	return d
}

// keyToFrame measures pressing keys (through Update and every command they cause) and
// drawing the frame, against drawing the same frame alone, interleaved.
func keyToFrame(b *testing.B, d *driver, press func(i int)) {
	tKey := make([]time.Duration, 0, b.N)
	tFloor := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		_ = d.app.Render()
		t1 := time.Now()
		press(i)
		_ = d.app.Render()
		t2 := time.Now()
		tFloor = append(tFloor, t1.Sub(t0))
		tKey = append(tKey, t2.Sub(t1))
	}
	mf, mk := median(tFloor), median(tKey)
	b.ReportMetric(float64(mf.Nanoseconds()), "ns/frame")
	b.ReportMetric(float64(mk.Nanoseconds()), "ns/key+frame")
	b.ReportMetric(float64(mk)/float64(mf), "x-floor")
}

// BenchmarkKeyCursorMove: j/k on a 100,000-row Lens, all expanded.
func BenchmarkKeyCursorMove(b *testing.B) {
	d := benchApp(b, 100, 10, 99)
	d.keys("E", "ctrl+d")
	keys := []string{"j", "j", "k"}
	keyToFrame(b, d, func(i int) { d.keys(keys[i%3]) })
}

// BenchmarkKeyExpand10k: space on a node with 10,000 children (expand, then collapse) in a
// 100,000-row Lens.
func BenchmarkKeyExpand10k(b *testing.B) {
	d := benchApp(b, 10, 10000)
	if n := d.app.lens.table.tree.End(0) - 1; n != 10000 {
		b.Fatalf("first node has %d children", n)
	}
	keyToFrame(b, d, func(int) { d.keys("space") })
}

// BenchmarkKeyViewSwitch: v on a 100,000-row Lens with 1,000 rows expanded: the new view's
// tree replaces the old, the cursor and expansion carried over by row id.
func BenchmarkKeyViewSwitch(b *testing.B) {
	d := benchApp(b, 100, 10, 99)
	d.keys("2", "j", "j")
	keyToFrame(b, d, func(int) { d.keys("v") })
}

// synthBackend serves prebuilt synthetic trees, so the benchmarks measure the TUI alone.
type synthBackend struct {
	trees map[string]*synthTree
}

func (s *synthBackend) Lenses(context.Context) ([]LensInfo, error) {
	return []LensInfo{{ID: "big", Name: "Big", Size: s.trees["plan"].Len()}}, nil
}

func (s *synthBackend) Build(_ context.Context, req BuildRequest) (*Built, error) {
	v := req.View
	if v == "" {
		v = "plan"
	}
	t := s.trees[v]
	return &Built{Tree: t, Views: []string{"plan", "dates"}, View: v, Total: t.Len()}, nil
}

func (s *synthBackend) Refresh(context.Context) error                 { return nil }
func (s *synthBackend) LastChange(context.Context) (int64, error)     { return 0, nil }
func (s *synthBackend) Status(context.Context) (Status, error)        { return Status{Profile: "bench"}, nil }
func (s *synthBackend) Pref(context.Context, string) ([]byte, error)  { return nil, nil }
func (s *synthBackend) SetPref(context.Context, string, []byte) error { return nil }
func (s *synthBackend) ChangedKeys(context.Context, int64) ([]string, int64, error) {
	return nil, 0, nil
}

// BenchmarkOpen100k opens a 100,000-issue Lens (1,000 epics x 9 stories x 10 sub-tasks)
// through the real Lens engine: lens.Build and the view (the floor: what any client of the
// engine pays) against that plus what the TUI adds (adapter, visible index, first frame).
// heap-MB is the live heap with the Lens open, for the 400 MB budget.
func BenchmarkOpen100k(b *testing.B) {
	data := genData(1000, 9, 10, 0)
	def, err := lens.Parse("roadmap.yaml", []byte(roadmapYAML))
	if err != nil {
		b.Fatal(err)
	}
	th := NewTheme(true, false)
	tFloor := make([]time.Duration, 0, b.N)
	tTUI := make([]time.Duration, 0, b.N)
	var heap uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		f, err := lens.Build(def, data, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.View(""); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		built, err := NewBuilt(f, "", "", jql.Env{Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		tb := NewTable(built.Tree)
		tb.SetSize(160, 46)
		tb.ExpandToLevel(2)
		_ = tb.View(th)
		t2 := time.Now()
		tFloor = append(tFloor, t1.Sub(t0))
		tTUI = append(tTUI, t2.Sub(t1))
		if i == b.N-1 {
			if built.Tree.Len() != 100000 {
				b.Fatalf("%d rows, want 100,000", built.Tree.Len())
			}
			b.StopTimer()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = ms.HeapAlloc
			runtime.KeepAlive(tb)
			b.StartTimer()
		}
	}
	mf, mt := median(tFloor), median(tTUI)
	b.ReportMetric(float64(mf.Nanoseconds()), "ns/build")
	b.ReportMetric(float64(mt.Nanoseconds()), "ns/tui-open")
	b.ReportMetric(float64(mf+mt)/float64(mf), "x-floor")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

// BenchmarkKeyViewSwitchLens100k: v on a real 100,000-issue Lens (the Lens engine's forest,
// level 2 open), against drawing the frame alone. Each view's values are computed once per
// forest, so this is the steady state of switching back and forth.
func BenchmarkKeyViewSwitchLens100k(b *testing.B) {
	back := newMemBackend(b)
	back.data = genData(1000, 9, 10, 0)
	d := newDriver(b, back, 160, 48)
	d.keys("enter", "2", "j", "j")
	if n := d.app.lens.table.Tree().Len(); n != 100000 {
		b.Fatalf("%d rows, want 100,000", n)
	}
	builds := back.builds
	keyToFrame(b, d, func(int) { d.keys("v") })
	if back.builds != builds {
		b.Fatalf("view switches rebuilt the Lens %d times", back.builds-builds)
	}
}
