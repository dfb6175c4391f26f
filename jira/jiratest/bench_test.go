package jiratest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkGenerate measures generating the data set against a floor in the same run:
// allocating the compact issue slice and writing every element once, the least any
// generator of this layout can do. Reported: seconds per data set and x-floor.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("issues=%d", n), func(b *testing.B) {
			var floor, gen time.Duration
			var heap uint64
			for range b.N {
				start := time.Now()
				is := make([]issue, n)
				for i := range is {
					is[i].num = int32(i)
					is[i].parent = -1
				}
				floor += time.Since(start)
				runtime.KeepAlive(is)

				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				start = time.Now()
				s, err := New(Options{Issues: n, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				gen += time.Since(start)
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
				runtime.KeepAlive(s)
				s.Close()
			}
			b.ReportMetric(gen.Seconds()/float64(b.N), "s/dataset")
			b.ReportMetric(float64(gen)/float64(floor), "x-floor")
			b.ReportMetric(float64(heap)/float64(n), "heap-B/issue")
		})
	}
}

// BenchmarkWireFloorScan serves a full scan of 100,000 issues over loopback HTTP with the
// bare client of WireFloorScan. Its floor is the same client fetching the same bytes,
// pre-rendered, from a server that only copies them: x-floor is what rendering and search
// cost on top of the wire itself.
func BenchmarkWireFloorScan(b *testing.B) {
	const n = 100_000
	for _, d := range bothDialects {
		s, err := New(Options{Dialect: d, Issues: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		live := httptest.NewServer(s)
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:admin-token"))
		if d == dialectDataCenter {
			auth = "Bearer admin-token"
		}
		for _, fields := range [][]string{{"id"}, {"summary", "status", "issuetype", "priority", "assignee", "updated", "parent", "labels", "customfield_10016"}} {
			b.Run(fmt.Sprintf("%s/fields=%d", d, len(fields)), func(b *testing.B) {
				ctx := context.Background()
				// Record the bodies once, then serve them verbatim as the floor.
				var bodies [][]byte
				rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					cw := &captureWriter{ResponseWriter: w}
					s.ServeHTTP(cw, r)
					bodies = append(bodies, cw.body)
				}))
				if _, err := WireFloorScan(ctx, rec.URL, auth, d, allProjects, fields); err != nil {
					b.Fatal(err)
				}
				rec.Close()
				var next atomic.Int64
				static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					k := int(next.Add(1)-1) % len(bodies)
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(bodies[k])
				}))
				defer static.Close()

				var floor, real time.Duration
				b.ResetTimer()
				for range b.N {
					next.Store(0)
					start := time.Now()
					got, err := WireFloorScan(ctx, static.URL, auth, d, allProjects, fields)
					floor += time.Since(start)
					if err != nil || got != n {
						b.Fatalf("static scan: %d issues, %v", got, err)
					}
					start = time.Now()
					got, err = WireFloorScan(ctx, live.URL, auth, d, allProjects, fields)
					real += time.Since(start)
					if err != nil || got != n {
						b.Fatalf("scan: %d issues, %v", got, err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/real.Seconds(), "issues/s")
				b.ReportMetric(float64(real)/float64(floor), "x-floor")
				b.ReportMetric(float64(len(bodies)), "pages")
			})
		}
		live.Close()
		s.Close()
	}
}

type captureWriter struct {
	http.ResponseWriter
	body []byte
}

func (c *captureWriter) Write(p []byte) (int, error) {
	c.body = append(c.body, p...)
	return c.ResponseWriter.Write(p)
}

// BenchmarkSearch runs JQL over the whole data set (no HTTP) against a floor in the same
// run: a hand-written loop testing the same condition on the compact issues directly (and,
// for ORDER BY, sorting the raw timestamps).
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		s, err := New(Options{Issues: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, tc := range []struct {
			name, jql string
			floor     func(is *issue) bool
		}{
			{"project", "project = ALPHA", func(is *issue) bool { return is.project == 0 }},
			{"project+status+label", "project in (ALPHA, BETA) AND status = \"In Progress\" AND labels = ux", func(is *issue) bool {
				return is.project <= 1 && is.status == stInProgress && is.labels&(1<<2) != 0
			}},
			{"project+orderby", "project = ALPHA ORDER BY updated DESC", nil},
		} {
			b.Run(fmt.Sprintf("issues=%d/%s", n, tc.name), func(b *testing.B) {
				runtime.GC() // the generator's garbage is not the search's cost
				var floor, real time.Duration
				hits := 0
				for range b.N {
					start := time.Now()
					var found []int32
					for i := range s.issues {
						is := &s.issues[i]
						if !is.deleted && (tc.floor == nil && is.project == 0 || tc.floor != nil && tc.floor(is)) {
							found = append(found, int32(i))
						}
					}
					if tc.floor == nil { // the ORDER BY case: the floor sorts the raw timestamps
						slices.SortFunc(found, func(a, b int32) int { return cmp.Compare(s.issues[b].updated, s.issues[a].updated) })
					}
					count := len(found)
					floor += time.Since(start)
					start = time.Now()
					s.mu.RLock()
					s.writes++ // defeat the result cache: every run evaluates
					res, err := s.runSearch(0, tc.jql, nil, true)
					s.mu.RUnlock()
					real += time.Since(start)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.hits) != count {
						b.Fatalf("search found %d, floor %d", len(res.hits), count)
					}
					hits = count
				}
				b.ReportMetric(float64(hits), "hits")
				b.ReportMetric(float64(real)/float64(floor), "x-floor")
				b.ReportMetric(real.Seconds()/float64(b.N), "s/search")
			})
		}
		s.Close()
	}
}
