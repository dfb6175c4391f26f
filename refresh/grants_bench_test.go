package refresh_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

// BenchmarkVisibilityFilter100k is the cost of permission filtering: building the
// 100,000-issue benchmark Lens (forest and default view) with every issue allowed, and,
// alternately in the same loop, with the viewer's real predicate made from stored grants
// (reading them included, as OpenLens does). Every grant is granted, so both builds make
// the same rows and the difference is the filtering alone. x-allowall is filtered time
// over allow-all time (target <= 1.10).
//
//	go test -run '^$' -bench VisibilityFilter -benchtime 10x ./refresh/
func BenchmarkVisibilityFilter100k(b *testing.B) {
	ctx := context.Background()
	issues := benchIssues(100000)
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
	filtered := func() int {
		visible, st, err := refresh.Visibility(ctx, db, benchViewer, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		n := build(visible)
		if st.Degraded() {
			b.Fatalf("grants not all fresh: %+v", st)
		}
		return n
	}
	// Warm both paths (the definition compiles and the data index is made once).
	if a, f := build(nil), filtered(); a != len(issues) || f != a {
		b.Fatalf("rows: allow-all %d, filtered %d, want %d", a, f, len(issues))
	}
	var all, filt time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, so cache warmth and noise fall on both.
		for k := range 2 {
			start := time.Now()
			if (i+k)%2 == 0 {
				build(nil)
				all += time.Since(start)
			} else {
				filtered()
				filt += time.Since(start)
			}
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(all.Nanoseconds())/n/1e6, "allowall-ms")
	b.ReportMetric(float64(filt.Nanoseconds())/n/1e6, "filtered-ms")
	b.ReportMetric(float64(filt)/float64(all), "x-allowall")
}
