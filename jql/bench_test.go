package jql

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchIssue keeps both the raw fields (for the hand-written floor) and the prepared
// Values a real Record implementation would hold.
type benchIssue struct {
	project, status string
	labels          []string
	updated         time.Time

	// Single values live inline, as a Record implementation that cares about speed would
	// keep them, so Values returns a slice of the record itself.
	vProject, vStatus, vUpdated [1]Value
	vLabels                     []Value
}

func (b *benchIssue) Values(field string) []Value {
	switch field {
	case "project":
		return b.vProject[:]
	case "status":
		return b.vStatus[:]
	case "labels":
		return b.vLabels
	case "updated":
		return b.vUpdated[:]
	}
	return nil
}

func buildBenchIssues(n int) []*benchIssue {
	projects := []string{"ALPHA", "BETA", "GAMMA"}
	statuses := []string{"To Do", "In Progress", "In Review", "Done"}
	labelSets := [][]string{nil, {"backend"}, {"frontend"}, {"backend", "api"}, {"ux", "frontend", "backend"}}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]*benchIssue, n)
	for i := range out {
		// A cheap deterministic scramble so neighbours differ.
		h := uint32(i)*2654435761 + 12345
		it := &benchIssue{
			project: projects[h%3],
			status:  statuses[(h>>8)%4],
			labels:  labelSets[(h>>16)%5],
			updated: base.Add(time.Duration(h%5_000_000) * time.Second),
		}
		it.vProject[0] = StringValue(it.project, strings.ToLower(it.project)+" project", fmt.Sprint(10000+h%3))
		it.vStatus[0] = StringValue(it.status)
		for _, l := range it.labels {
			it.vLabels = append(it.vLabels, StringValue(l))
		}
		it.vUpdated[0] = TimeValue(it.updated)
		out[i] = it
	}
	return out
}

// floorFilter is the same query written by hand against the raw fields.
func floorFilter(recs []*benchIssue, hits []*benchIssue) []*benchIssue {
	for _, r := range recs {
		if !strings.EqualFold(r.project, "ALPHA") && !strings.EqualFold(r.project, "BETA") {
			continue
		}
		if r.status == "" || strings.EqualFold(r.status, "Done") {
			continue
		}
		for _, l := range r.labels {
			if strings.EqualFold(l, "backend") {
				hits = append(hits, r)
				break
			}
		}
	}
	return hits
}

// BenchmarkEval100k evaluates a realistic query over 100,000 records, filter then ORDER BY,
// and measures a hand-written Go loop doing the same comparisons over the same records in
// the same iterations. It reports ns/record for both and their ratio (jql over floor), for
// the filter alone and for filter plus sort.
func BenchmarkEval100k(b *testing.B) {
	const n = 100_000
	recs := buildBenchIssues(n)
	q, err := Parse(`project in (ALPHA, BETA) AND status != Done AND labels = backend ORDER BY updated DESC`)
	if err != nil {
		b.Fatal(err)
	}
	m, err := q.Compile(Env{Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	floorHits := make([]*benchIssue, 0, n)
	jqlHits := make([]*benchIssue, 0, n)
	var floorFilterT, floorSortT, jqlFilterT, jqlSortT time.Duration
	// The filters alternate chunk by chunk, each going first in every other chunk, so
	// noise on this small shared machine and cache warmth fall on both alike.
	const chunk = 2000
	iters := 0
	for b.Loop() {
		floorHits, jqlHits = floorHits[:0], jqlHits[:0]
		for c := 0; c < n; c += chunk {
			part := recs[c:min(c+chunk, n)]
			runFloor := func() {
				t := time.Now()
				floorHits = floorFilter(part, floorHits)
				floorFilterT += time.Since(t)
			}
			runJQL := func() {
				t := time.Now()
				for _, r := range part {
					if m(r) {
						jqlHits = append(jqlHits, r)
					}
				}
				jqlFilterT += time.Since(t)
			}
			if (c/chunk)%2 == 0 {
				runFloor()
				runJQL()
			} else {
				runJQL()
				runFloor()
			}
		}
		t0 := time.Now()
		slices.SortFunc(floorHits, func(x, y *benchIssue) int { return y.updated.Compare(x.updated) })
		t1 := time.Now()
		slices.SortFunc(jqlHits, func(x, y *benchIssue) int { return Compare(x, y, q.OrderBy) })
		t2 := time.Now()
		floorSortT += t1.Sub(t0)
		jqlSortT += t2.Sub(t1)
		iters++
	}
	if len(floorHits) != len(jqlHits) || len(jqlHits) == 0 {
		b.Fatalf("jql found %d records, the floor %d", len(jqlHits), len(floorHits))
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(iters*n) }
	b.ReportMetric(per(jqlFilterT), "jql-filter-ns/record")
	b.ReportMetric(per(floorFilterT), "floor-filter-ns/record")
	b.ReportMetric(per(jqlFilterT)/per(floorFilterT), "filter-ratio")
	b.ReportMetric(per(jqlFilterT+jqlSortT), "jql-total-ns/record")
	b.ReportMetric(per(floorFilterT+floorSortT), "floor-total-ns/record")
	b.ReportMetric(per(jqlFilterT+jqlSortT)/per(floorFilterT+floorSortT), "total-ratio")
}

// BenchmarkParseCompile measures the one-off cost of preparing a query.
func BenchmarkParseCompile(b *testing.B) {
	src := `project in (ALPHA, BETA) AND status != Done AND labels = backend AND updated >= -2w AND (assignee = currentUser() OR summary ~ "login crash") ORDER BY updated DESC, key`
	env := Env{Now: testNow, CurrentUser: "alice"}
	for b.Loop() {
		q, err := Parse(src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := q.Compile(env); err != nil {
			b.Fatal(err)
		}
	}
}
