package refresh_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

type benchSite struct {
	site *jiratest.Site
	url  string
	c    *jira.Client
}

func newBenchSite(b testing.TB, issues int) *benchSite {
	b.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: issues, Seed: 5})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(site)
	b.Cleanup(srv.Close)
	c, err := jira.New(context.Background(), jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		b.Fatal(err)
	}
	return &benchSite{site: site, url: srv.URL, c: c}
}

func (s *benchSite) engine(b testing.TB, scope string) (*refresh.Engine, *store.DB) {
	b.Helper()
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	eng, err := refresh.New(s.c, db, refresh.Options{Scope: scope})
	if err != nil {
		b.Fatal(err)
	}
	return eng, db
}

// BenchmarkFullSync100k measures a full sync of 100,000 issues from the fake site into a
// fresh cache against the wire floor: a bare HTTP client fetching the same issues with the
// same fields and discarding them, in the same run. Each iteration runs the floor and then
// the sync; x-floor is the median of the iterations' ratios (target <= 1.5), so one
// iteration that other work on the machine slowed does not decide it.
func BenchmarkFullSync100k(b *testing.B) {
	n := benchN(100_000)
	s := newBenchSite(b, n)
	scope := "project in (ALPHA, BETA, GAMMA)"
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:admin-token"))
	fields, err := fieldList(s)
	if err != nil {
		b.Fatal(err)
	}
	var floors, syncs, floorCPU, syncCPU []time.Duration
	var ratios []float64
	var peak uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0, c0 := time.Now(), processCPU()
		got, err := jiratest.WireFloorScan(context.Background(), s.url, auth, "cloud", scope+" ORDER BY id ASC", fields)
		if err != nil || got != n {
			b.Fatalf("wire floor: %d issues, %v", got, err)
		}
		floor := time.Since(t0)
		floorCPU = append(floorCPU, processCPU()-c0)

		b.StopTimer()
		eng, db := s.engine(b, scope)
		runtime.GC()
		stop := samplePeak(&peak)
		b.StartTimer()
		t0, c0 = time.Now(), processCPU()
		sum, err := eng.Full(context.Background())
		sync := time.Since(t0)
		syncCPU = append(syncCPU, processCPU()-c0)
		stop()
		if err != nil || sum.Fetched != n {
			b.Fatalf("sync: %+v, %v", sum, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
		floors, syncs = append(floors, floor), append(syncs, sync)
		ratios = append(ratios, float64(sync)/float64(floor))
	}
	slices.Sort(ratios)
	b.ReportMetric(median(floors).Seconds(), "floor-s/op")
	b.ReportMetric(median(syncs).Seconds(), "sync-s/op")
	b.ReportMetric(ratios[len(ratios)/2], "x-floor")
	b.ReportMetric(ratios[0], "best-x-floor")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	// CPU time of the whole process (the fake site's share included): steadier than wall
	// time on a shared machine, for comparing changes.
	b.ReportMetric(median(floorCPU).Seconds(), "floor-cpu-s")
	b.ReportMetric(median(syncCPU).Seconds(), "sync-cpu-s")
}

// processCPU is the CPU time (user and system) this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fieldList is the list of fields a sync requests, from the site's catalog.
func fieldList(s *benchSite) ([]string, error) {
	fs, err := s.c.Fields(context.Background())
	if err != nil {
		return nil, err
	}
	out := []string{"summary", "issuetype", "project", "status", "priority", "resolution", "resolutiondate",
		"parent", "security", "assignee", "reporter", "creator", "labels", "components",
		"fixVersions", "versions", "duedate", "created", "updated", "description", "issuelinks",
		"subtasks", "timeestimate", "timeoriginalestimate", "timespent", "environment"}
	for _, f := range fs {
		if f.Custom {
			out = append(out, f.ID)
		}
	}
	return out, nil
}

// samplePeak records the peak heap in use (the fake site's included: it shares the
// process) until the returned stop is called.
func samplePeak(peak *uint64) (stop func()) {
	var done atomic.Bool
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for !done.Load() {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > *peak {
				*peak = ms.HeapInuse
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); <-finished }
}

// BenchmarkPoll10 measures a poll that brings in 10 changed issues, with 1,000 and with
// 100,000 issues cached. x-small is the ratio of the large cache to the small one (target
// within 1.5).
func BenchmarkPoll10(b *testing.B) {
	type setup struct {
		site *benchSite
		eng  *refresh.Engine
		keys []string
	}
	prepare := func(n int) setup {
		s := newBenchSite(b, n)
		eng, _ := s.engine(b, "project in (ALPHA, BETA, GAMMA)")
		if _, err := eng.Full(context.Background()); err != nil {
			b.Fatal(err)
		}
		var keys []string
		for _, fi := range s.site.Issues()[:10] {
			keys = append(keys, fi.Key)
		}
		return setup{s, eng, keys}
	}
	poll := func(st setup, round int) time.Duration {
		for _, k := range st.keys {
			if err := st.site.site.Update(k, map[string]any{"summary": fmt.Sprintf("round %d", round)}); err != nil {
				b.Fatal(err)
			}
		}
		t0 := time.Now()
		sum, err := st.eng.Poll(context.Background())
		d := time.Since(t0)
		if err != nil || sum.Updated < 10 {
			b.Fatalf("poll: %+v %v", sum, err)
		}
		return d
	}
	b.StopTimer()
	small, large := prepare(1_000), prepare(100_000)
	var ts, tl []time.Duration
	b.StartTimer()
	for i := 0; i < b.N; i++ {
		ts = append(ts, poll(small, i))
		tl = append(tl, poll(large, i))
	}
	// Medians: a poll takes a few milliseconds, so one GC cycle or scheduler hiccup in a
	// round would otherwise decide a sum.
	b.ReportMetric(float64(median(ts).Microseconds()), "1k-µs/op")
	b.ReportMetric(float64(median(tl).Microseconds()), "100k-µs/op")
	b.ReportMetric(float64(median(tl))/float64(median(ts)), "x-small")
}

// benchN lets a profiling run shrink a benchmark: FOUNDATION_BENCH_N=20000.
func benchN(def int) int {
	if v, err := strconv.Atoi(os.Getenv("FOUNDATION_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return def
}
