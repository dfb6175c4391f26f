package jiratest

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"foundation/jql"
)

// indexedAndScanned runs src for user both ways: from the updated index and by the full
// scan the index must agree with. used reports whether the query had an updated bound.
func indexedAndScanned(t *testing.T, s *Site, user, src string, reconcile []int64) (indexed, scanned []int32, used bool) {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, err := jql.Parse(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	u := s.userIndex(user)
	env := s.jqlEnv(u)
	match, err := q.Compile(env)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	reconciled := map[int32]bool{}
	for _, id := range reconcile {
		reconciled[int32(id-10000)] = true
	}
	now := s.now()
	_, used = updatedBound(q, env)
	return s.matchHits(u, q, env, match, reconciled, now, true), s.matchHits(u, q, env, match, reconciled, now, false), used
}

// TestUpdatedIndexMatchesScan is the differential test of the updated index: random
// edits, moves, deletions and creations under eventual consistency, with a clock that
// stands still, jumps and steps back, interleaved with random bounded queries for users
// with different grants and random reconcileIssues; every answer must equal the full scan.
func TestUpdatedIndexMatchesScan(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 80
	}
	for _, d := range bothDialects {
		t.Run(d, func(t *testing.T) {
			born := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
			clk := &clock{t: born}
			f := newFixture(t, Options{Dialect: d, Issues: 600, Seed: 11, Now: clk.now, ConsistencyDelay: 40 * time.Second})
			r := rand.New(rand.NewPCG(11, uint64(len(d))))
			var written []int64
			keys := func() []string {
				var out []string
				for _, is := range f.site.Issues() {
					out = append(out, is.Key)
				}
				return out
			}()
			bounds := []func() string{
				func() string { return fmt.Sprintf(`updated >= "-%dm"`, 1+r.IntN(30)) },
				func() string { return fmt.Sprintf(`updated > "-%dm"`, 1+r.IntN(30)) },
				func() string { return fmt.Sprintf("updated >= -%dd", 1+r.IntN(40)) },
				func() string {
					at := clk.now().Add(-time.Duration(r.IntN(3600)) * time.Second)
					return fmt.Sprintf(`updated >= "%s"`, at.Format("2006-01-02 15:04"))
				},
				func() string {
					at := clk.now().Add(-time.Duration(r.IntN(3600)) * time.Second)
					return fmt.Sprintf(`updatedDate > "%s"`, at.Format("2006/01/02 15:04"))
				},
				func() string { return "updated >= startOfDay()" },
				func() string { return "updated > startOfMonth(-1)" },
				func() string { return `updated >= "2099-01-01"` },
			}
			others := []string{"project = ALPHA", "project in (ALPHA, BETA, GAMMA)", "status = Done", "priority = High",
				"summary ~ differential", "assignee = currentUser()", "project = BETA OR status != Done", "updated <= -10m"}
			used := 0
			for round := range rounds {
				// A few writes between queries.
				for range r.IntN(4) {
					switch k := keys[r.IntN(len(keys))]; r.IntN(6) {
					case 0, 1:
						fields := map[string]any{"summary": fmt.Sprintf("differential %d", round)}
						if r.IntN(2) == 0 {
							fields["status"] = []string{"Done", "In Progress", "To Do"}[r.IntN(3)]
						}
						if err := f.site.Update(k, fields); err == nil {
							is, _ := f.site.Issue(k)
							written = append(written, is.ID)
						}
					case 2:
						if is, ok := f.site.Issue(k); ok && is.Type != "Sub-task" {
							if nk, err := f.site.Move(k, []string{"ALPHA", "BETA", "GAMMA"}[r.IntN(3)]); err == nil {
								keys = append(keys, nk)
								written = append(written, is.ID)
							}
						}
					case 3:
						if r.IntN(4) == 0 {
							if is, ok := f.site.Issue(k); ok && f.site.Delete(k) == nil {
								written = append(written, is.ID)
							}
						}
					default:
						var c struct {
							ID  string
							Key string
						}
						f.doJSON("admin", "POST", "/rest/api/2/issue", map[string]any{"fields": map[string]any{
							"project": map[string]any{"key": []string{"ALPHA", "BETA", "GAMMA"}[r.IntN(3)]}, "issuetype": map[string]any{"name": "Task"},
							"summary": fmt.Sprintf("differential new %d", round)}}, 201, &c)
						keys = append(keys, c.Key)
						var id int64
						fmt.Sscan(c.ID, &id)
						written = append(written, id)
					}
				}
				switch r.IntN(5) {
				case 0: // the clock stands still: writes share a millisecond and bump past it
				case 1:
					clk.advance(-time.Duration(r.IntN(90)) * time.Second)
				default:
					clk.advance(time.Duration(r.IntN(120)) * time.Second)
				}
				terms := []string{bounds[r.IntN(len(bounds))]()}
				for range r.IntN(3) {
					if r.IntN(2) == 0 {
						terms = append(terms, bounds[r.IntN(len(bounds))]())
					} else {
						terms = append(terms, "("+others[r.IntN(len(others))]+")")
					}
				}
				r.Shuffle(len(terms), func(i, j int) { terms[i], terms[j] = terms[j], terms[i] })
				src := strings.Join(terms, " AND ")
				var reconcile []int64
				for range r.IntN(3) {
					if len(written) > 0 {
						reconcile = append(reconcile, written[len(written)-1-r.IntN(min(len(written), 10))])
					}
				}
				user := []string{"admin", "alice", "bob"}[r.IntN(3)]
				indexed, scanned, ok := indexedAndScanned(t, f.site, user, src, reconcile)
				if ok {
					used++
				}
				if !slices.Equal(indexed, scanned) {
					t.Fatalf("round %d, %s, %q, reconcile %v: index found %v, scan %v", round, user, src, reconcile, indexed, scanned)
				}
			}
			if used < rounds/2 {
				t.Errorf("only %d of %d queries used the index", used, rounds)
			}
		})
	}
}

// TestUpdatedIndexPrunes checks that a recent bound looks at the recently written issues,
// not the site: the index earns its keep only if it does.
func TestUpdatedIndexPrunes(t *testing.T) {
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	s, err := New(Options{Issues: 5000, Seed: 2, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clk.advance(time.Hour) // generated issues are all older than this
	all := s.Issues()
	for k := range 7 {
		if err := s.Update(all[k*500].Key, map[string]any{"summary": "pruned"}); err != nil {
			t.Fatal(err)
		}
	}
	q, err := jql.Parse(`project in (ALPHA, BETA, GAMMA) AND updated >= "-5m"`)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	atLeast, ok := updatedBound(q, s.jqlEnv(0))
	if !ok {
		t.Fatal("no bound found")
	}
	s.search.updated.ensure(s.issues)
	got := s.search.updated.since(s.issues, atLeast)
	want := []int32{0, 500, 1000, 1500, 2000, 2500, 3000}
	if !slices.Equal(got, want) {
		t.Errorf("candidates %v, want %v", got, want)
	}
}

func TestUpdatedBound(t *testing.T) {
	env := jql.Env{Now: time.Date(2026, 6, 1, 12, 30, 45, 0, time.UTC)}
	at := func(s string) int64 {
		tm, err := time.Parse("2006-01-02 15:04:05.000", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	cases := []struct {
		jql     string
		bound   bool
		yes, no string // an updated time that meets the bound and one just below it
	}{
		{`updated >= "2026-06-01 12:00"`, true, "2026-06-01 12:00:00.000", "2026-06-01 11:59:59.999"},
		{`updated > "2026-06-01 12:00"`, true, "2026-06-01 12:01:00.000", "2026-06-01 12:00:59.999"},
		{`project = ALPHA AND updatedDate >= "-30m"`, true, "2026-06-01 12:00:00.000", "2026-06-01 11:59:59.999"},
		{`updated >= -1d AND updated > "2026-06-01 12:10"`, true, "2026-06-01 12:11:00.000", "2026-06-01 12:10:59.999"},
		{`updated >= startOfDay()`, true, "2026-06-01 00:00:00.000", "2026-05-31 23:59:59.999"},
		{`updated <= "2026-06-01 12:00"`, false, "", ""},
		{`updated >= -1d OR project = ALPHA`, false, "", ""},
		{`NOT updated >= -1d`, false, "", ""},
		{`project = ALPHA`, false, "", ""},
	}
	for _, tc := range cases {
		q, err := jql.Parse(tc.jql)
		if err != nil {
			t.Fatalf("%s: %v", tc.jql, err)
		}
		atLeast, ok := updatedBound(q, env)
		if ok != tc.bound {
			t.Errorf("%s: bound %v, want %v", tc.jql, ok, tc.bound)
			continue
		}
		if !ok {
			continue
		}
		if !atLeast(at(tc.yes)) || atLeast(at(tc.no)) {
			t.Errorf("%s: meets(%s)=%v meets(%s)=%v, want true, false", tc.jql, tc.yes, atLeast(at(tc.yes)), tc.no, atLeast(at(tc.no)))
		}
	}
}

// BenchmarkSearchPoll is an incremental poll's query (ten issues changed) against a floor
// in the same run: a hand-written loop over the compact issues testing the same bound.
// The index makes the search cost follow the changes, so it comes in under the floor.
func BenchmarkSearchPoll(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
		s, err := New(Options{Issues: n, Seed: 1, Now: clk.now})
		if err != nil {
			b.Fatal(err)
		}
		clk.advance(time.Hour)
		all := s.Issues()
		for k := range 10 {
			if err := s.Update(all[k*(n/10)].Key, map[string]any{"summary": "polled"}); err != nil {
				b.Fatal(err)
			}
		}
		bound := clk.now().Add(-5 * time.Minute).UnixMilli()
		src := `project in (ALPHA, BETA, GAMMA) AND updated >= "-5m" ORDER BY updated ASC`
		b.Run(fmt.Sprintf("issues=%d", n), func(b *testing.B) {
			runtime.GC()
			var floor, real time.Duration
			for range b.N {
				start := time.Now()
				count := 0
				for i := range s.issues {
					if is := &s.issues[i]; !is.deleted && is.updated >= bound {
						count++
					}
				}
				floor += time.Since(start)
				start = time.Now()
				s.mu.RLock()
				s.writes++ // defeat the result cache: every run evaluates
				res, err := s.runSearch(0, src, nil, true)
				s.mu.RUnlock()
				real += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.hits) != count || count != 10 {
					b.Fatalf("search found %d, floor %d, want 10", len(res.hits), count)
				}
			}
			b.ReportMetric(float64(real)/float64(floor), "x-floor")
			b.ReportMetric(real.Seconds()/float64(b.N), "s/search")
		})
		s.Close()
	}
}

// TestUpdatedIndexConcurrent has searches build and read the index under the read lock
// while writers extend it; run with -race.
func TestUpdatedIndexConcurrent(t *testing.T) {
	s, err := New(Options{Issues: 2000, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := s.Issues()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Go(func() {
			for k := range 50 {
				s.mu.RLock()
				_, err := s.runSearch(0, fmt.Sprintf(`updated >= "-%dm" AND project != GAMMA`, 1+g*50+k), nil, true)
				s.mu.RUnlock()
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for k := range 200 {
			if err := s.Update(keys[k*7].Key, map[string]any{"summary": "concurrent"}); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	res, err := s.runSearch(0, `updated >= "-1h" AND summary ~ concurrent`, nil, true)
	if err != nil || len(res.hits) != 200 {
		t.Fatalf("after the writes: %d hits, %v; want 200", len(res.hits), err)
	}
}
