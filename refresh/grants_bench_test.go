package refresh_test

import (
	"context"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
	"foundation/store/storetest"
)

// BenchmarkVisibilityFilter100k is the cost of permission filtering: building the
// 100,000-issue benchmark Lens (forest and default view) with every issue allowed, and,
// alternately in the same loop, with the viewer's real predicate made from stored grants.
// Every grant is granted, so both builds make the same rows and the difference is the
// filtering alone. x-allowall is filtered build time over allow-all build time (target
// <= 1.10). grants-ms is reading the grants into a predicate (Visibility), which OpenLens
// does once per open, next to its snapshot read; it is reported, not part of the ratio.
//
//	go test -run '^$' -bench VisibilityFilter -benchtime 10x ./refresh/
func BenchmarkVisibilityFilter100k(b *testing.B) {
	ctx := context.Background()
	issues := storetest.RoadmapIssues(100000)
	// One BETA issue in seven carries a security level, so the issue grant path runs too.
	for i := range issues {
		if issues[i].Project == "BETA" && i%7 == 0 {
			issues[i].SecurityLevel = "Internal"
		}
	}
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "grants.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	grantAll(b, db, benchViewer, issues, time.Hour)
	def, err := lens.Parse("bench.yaml", []byte(benchLensYAML))
	if err != nil {
		b.Fatal(err)
	}
	data := &lens.Data{Issues: issues}
	build := func(visible func(*lens.Issue) bool) int {
		f, err := lens.Build(def, data, visible)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.View(""); err != nil {
			b.Fatal(err)
		}
		return len(f.Rows)
	}
	predicate := func() func(*lens.Issue) bool {
		visible, st, err := refresh.Visibility(ctx, db, benchViewer, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if st.Degraded() {
			b.Fatalf("grants not all fresh: %+v", st)
		}
		return visible
	}
	// Warm both paths (the definition compiles and the data index is made once).
	if a, f := build(nil), build(predicate()); a != len(issues) || f != a {
		b.Fatalf("rows: allow-all %d, filtered %d, want %d", a, f, len(issues))
	}
	var all, filt, read []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, so cache warmth and noise fall on both.
		for k := range 2 {
			// Each build starts with a clean heap: the other's garbage is not its cost.
			runtime.GC()
			start := time.Now()
			if (i+k)%2 == 0 {
				build(nil)
				all = append(all, time.Since(start))
			} else {
				visible := predicate()
				read = append(read, time.Since(start))
				start = time.Now()
				build(visible)
				filt = append(filt, time.Since(start))
			}
		}
	}
	b.StopTimer()
	// Medians: on a small shared machine one stalled iteration would swamp a mean.
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	b.ReportMetric(ms(median(all)), "allowall-ms")
	b.ReportMetric(ms(median(filt)), "filtered-ms")
	b.ReportMetric(ms(median(read)), "grants-ms")
	b.ReportMetric(float64(median(filt))/float64(median(all)), "x-allowall")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
