package jiratest

import (
	"slices"
	"sync"
	"time"

	"foundation/jql"
)

// updatedIndex orders issues by their live updated time, so a search whose top-level AND
// bounds updated from below (an incremental poll's updated >= "-5m") evaluates its matcher
// over the recently written issues only, as Jira's own index lets it, instead of every
// issue on the site.
//
// It holds only candidates: the matcher still decides, on the version of each issue that
// search sees. That is what keeps eventual consistency right: a snapshot still inside the
// consistency delay is never newer than the live issue (updated only moves forward, see
// touch), so every issue whose visible version meets a lower bound has a live updated
// that meets it too. The converse does not hold, which is why upper bounds are not
// answered from here.
//
// Writes append: a touched issue gets a new entry at the end (its new updated is the
// latest, or close to it) and its old entry becomes garbage, recognised because it no
// longer equals the issue's updated (touch makes every value of an issue unique).
// Garbage is dropped once it is half the entries.
type updatedIndex struct {
	mu      sync.Mutex // guards building under the site's read lock
	built   bool
	entries []updatedEntry // ascending by ms; ties in any order
	covered int32          // issues [0, covered) have exactly one live entry
	garbage int
}

type updatedEntry struct {
	ms int64 // the issue's updated when the entry was made
	i  int32
}

// ensure builds the index on first use, so sites that never search by updated do not pay
// for sorting their issues. The caller holds s.mu, for reading at least.
func (x *updatedIndex) ensure(issues []issue) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.built {
		return
	}
	x.entries = sortedEntries(issues)
	x.covered = int32(len(issues))
	x.garbage = 0
	x.built = true
}

// sortedEntries returns an entry per issue, ascending by updated. Sorting packed
// integers (updated relative to the earliest, then the index) is several times faster
// than sorting structs through a comparison function, which matters at a million issues;
// a span too wide to pack falls back to the comparison sort.
func sortedEntries(issues []issue) []updatedEntry {
	entries := make([]updatedEntry, len(issues), len(issues)+len(issues)/8+16)
	if len(issues) == 0 {
		return entries
	}
	lo, hi := issues[0].updated, issues[0].updated
	for i := range issues {
		lo, hi = min(lo, issues[i].updated), max(hi, issues[i].updated)
	}
	const idxBits = 23 // New allows at most 5,000,000 issues
	if uint64(hi-lo) >= 1<<(64-idxBits) || len(issues) >= 1<<idxBits {
		for i := range issues {
			entries[i] = updatedEntry{ms: issues[i].updated, i: int32(i)}
		}
		slices.SortFunc(entries, func(a, b updatedEntry) int { return cmpInt64(a.ms, b.ms) })
		return entries
	}
	packed := make([]uint64, len(issues))
	for i := range issues {
		packed[i] = uint64(issues[i].updated-lo)<<idxBits | uint64(i)
	}
	slices.Sort(packed)
	for k, p := range packed {
		entries[k] = updatedEntry{ms: int64(p>>idxBits) + lo, i: int32(p & (1<<idxBits - 1))}
	}
	return entries
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// touched records that issue i's updated is now issues[i].updated. The caller holds s.mu
// for writing. An issue beyond the covered range (one just created) extends the range
// with every issue up to it.
func (x *updatedIndex) touched(issues []issue, i int32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.built {
		return
	}
	if i < x.covered {
		x.garbage++
		x.add(issues[i].updated, i)
	} else {
		for j := x.covered; j <= i && int(j) < len(issues); j++ {
			x.add(issues[j].updated, j)
		}
		x.covered = i + 1
	}
	if x.garbage > 1024 && x.garbage > len(x.entries)/2 {
		x.entries = slices.DeleteFunc(x.entries, func(e updatedEntry) bool { return !x.live(issues, e) })
		x.garbage = 0
	}
}

// add places an entry in order: at the end when it is the latest, as it is for writes
// stamped with the site clock; otherwise after the entries not later than it.
func (x *updatedIndex) add(ms int64, i int32) {
	n := len(x.entries)
	if n == 0 || x.entries[n-1].ms <= ms {
		x.entries = append(x.entries, updatedEntry{ms: ms, i: i})
		return
	}
	at, _ := slices.BinarySearchFunc(x.entries, ms+1, func(e updatedEntry, t int64) int { return cmpInt64(e.ms, t) })
	x.entries = slices.Insert(x.entries, at, updatedEntry{ms: ms, i: i})
}

func (x *updatedIndex) live(issues []issue, e updatedEntry) bool {
	return int(e.i) < len(issues) && issues[e.i].updated == e.ms
}

// since returns, ascending and without repeats, the issues whose live updated satisfies
// atLeast, a predicate monotone in the time (false, then true), plus every issue the
// index does not cover. The caller holds s.mu, for reading at least, after ensure.
func (x *updatedIndex) since(issues []issue, atLeast func(ms int64) bool) []int32 {
	from, _ := slices.BinarySearchFunc(x.entries, true, func(e updatedEntry, _ bool) int {
		if atLeast(e.ms) {
			return 1
		}
		return -1
	})
	out := make([]int32, 0, len(x.entries)-from+len(issues)-int(min(x.covered, int32(len(issues)))))
	for _, e := range x.entries[from:] {
		if x.live(issues, e) {
			out = append(out, e.i)
		}
	}
	for j := int(x.covered); j < len(issues); j++ {
		out = append(out, int32(j))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// updatedBound finds, in the top-level AND of q, the clauses that bound updated from
// below (updated >= X, updated > X, with X any date or date function) and returns a
// predicate on an updated time (unix milliseconds) that holds when the time meets all of
// them. The predicate is the query's own compiled clauses, evaluated on a record that
// holds only updated, so it agrees with the full matcher to the minute by construction.
// ok is false when the query has no such bound.
func updatedBound(q *jql.Query, env jql.Env) (atLeast func(ms int64) bool, ok bool) {
	var terms []jql.Expr
	switch w := q.Where.(type) {
	case *jql.And:
		terms = w.Terms
	case *jql.Clause:
		terms = []jql.Expr{w}
	}
	var bounds []jql.Matcher
	for _, t := range terms {
		cl, isClause := t.(*jql.Clause)
		if !isClause || cl.Field != "updated" || (cl.Op != jql.OpGe && cl.Op != jql.OpGt) {
			continue
		}
		m, err := (&jql.Query{Where: cl}).Compile(env)
		if err != nil {
			continue // the full query compiled, so this does not happen; the scan stays right
		}
		bounds = append(bounds, m)
	}
	if len(bounds) == 0 {
		return nil, false
	}
	return func(ms int64) bool {
		r := updatedRecord{jql.TimeValue(time.UnixMilli(ms))}
		for _, m := range bounds {
			if !m(&r) {
				return false
			}
		}
		return true
	}, true
}

// updatedRecord is a record with only an updated time, to probe bounds with.
type updatedRecord [1]jql.Value

func (r *updatedRecord) Values(field string) []jql.Value {
	if field == "updated" {
		return r[:]
	}
	return nil
}
