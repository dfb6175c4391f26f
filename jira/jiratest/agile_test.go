package jiratest

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestRankBetween(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi string
	}{
		{"wide gap", "0|i0000g:", "0|i0000z:"},
		{"adjacent digits", "0|i0000g:", "0|i0000h:"},
		{"prefix below", "0|i0000g:", "0|i0000g:1"},
		{"lo extended", "0|i0000g:zz", "0|i0000h:"},
		{"open top", "0|zzzzzzz:", ""},
		{"open bottom", "", "0|0000000:"},
		{"both open", "", ""},
		{"one apart deep", "0|i0000g:i", "0|i0000g:j"},
		{"hi ends in 1", "0|a", "0|a01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rankBetween(tt.lo, tt.hi)
			if got <= tt.lo || (tt.hi != "" && got >= tt.hi) {
				t.Fatalf("rankBetween(%q, %q) = %q, not strictly between", tt.lo, tt.hi, got)
			}
		})
	}
}

// Between two generated ranks the new one keeps Jira's shape: the bucket, the integer part,
// the colon and a fraction.
func TestRankBetweenShape(t *testing.T) {
	for _, tt := range []struct{ lo, hi, want string }{
		{"0|i0000g:", "0|i0000h:", "0|i0000g:i"},
		{"0|i0000g:", "0|i0000g:i", "0|i0000g:9"},
		{"0|i0000g:i", "0|i0000h:", "0|i0000g:r"},
	} {
		if got := rankBetween(tt.lo, tt.hi); got != tt.want {
			t.Errorf("rankBetween(%q, %q) = %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}

// Repeatedly inserting just above the lower bound must keep finding room.
func TestRankBetweenRepeated(t *testing.T) {
	lo, hi := "0|i0000g:", "0|i0000h:"
	for k := 0; k < 200; k++ {
		mid := rankBetween(lo, hi)
		if mid <= lo || mid >= hi {
			t.Fatalf("step %d: %q not between %q and %q", k, mid, lo, hi)
		}
		if k%2 == 0 {
			hi = mid
		} else {
			lo = mid
		}
	}
}

func FuzzRankBetween(f *testing.F) {
	f.Add("0|i0000g:", "0|i0000h:")
	f.Add("", "0|0")
	f.Add("0|zz", "")
	f.Fuzz(func(t *testing.T, lo, hi string) {
		// Ranks are made of lexorank digits, '|' and ':' and never end in the lowest digit.
		for _, s := range []string{lo, hi} {
			if strings.Trim(s, rankDigits+"|:") != "" || strings.HasSuffix(s, "0") {
				t.Skip()
			}
		}
		if hi != "" && lo >= hi {
			t.Skip()
		}
		got := rankBetween(lo, hi)
		if got <= lo || (hi != "" && got >= hi) {
			t.Fatalf("rankBetween(%q, %q) = %q", lo, hi, got)
		}
	})
}

// siblingsByRank returns the site's issues ordered by rank.
func siblingsByRank(s *Site) []FakeIssue {
	all := s.Issues()
	sort.Slice(all, func(a, b int) bool { return all[a].Rank < all[b].Rank })
	return all
}

func TestRankIssues(t *testing.T) {
	for _, d := range bothDialects {
		t.Run(d, func(t *testing.T) {
			f := newFixture(t, Options{Dialect: d, Issues: 60, Seed: 3,
				Users: []User{{Name: "rita", Projects: []string{"ALPHA", "BETA"}, ReadOnly: true}}})
			rec := &recorder{}
			f.site.sink = rec
			all := siblingsByRank(f.site)
			a, b, c := all[10], all[11], all[20]

			// c before b: lands strictly between a and b.
			status, out := f.do("admin", "PUT", "/rest/agile/1.0/issue/rank", map[string]any{"issues": []string{c.Key}, "rankBeforeIssue": b.Key})
			if status != 204 {
				t.Fatalf("rank before: %d %s", status, out)
			}
			got, _ := f.site.Issue(c.Key)
			if got.Rank <= a.Rank || got.Rank >= b.Rank {
				t.Errorf("rank %q not between %q and %q", got.Rank, a.Rank, b.Rank)
			}
			if !got.Updated.After(c.Updated) {
				t.Errorf("updated not bumped: %v -> %v", c.Updated, got.Updated)
			}
			evs := rec.take()
			if len(evs) != 1 || evs[0].payload["webhookEvent"] != "jira:issue_updated" {
				t.Fatalf("events %+v", evs)
			}
			items := evs[0].payload["changelog"].(map[string]any)["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["field"] != "Rank" || items[0].(map[string]any)["toString"] != "Ranked higher" {
				t.Errorf("changelog %v", items)
			}
			// Search orders by the new rank too.
			keys, _ := f.scan("admin", "project in (ALPHA, BETA, GAMMA) ORDER BY rank ASC", []string{"summary"}, 100)
			if ia, ic, ib := slices.Index(keys, a.Key), slices.Index(keys, c.Key), slices.Index(keys, b.Key); !(ia >= 0 && ia+1 == ic && ic+1 == ib) {
				t.Errorf("ORDER BY rank: a at %d, c at %d, b at %d of %d", ia, ic, ib, len(keys))
			}

			// Ranking after a's issue again puts c between a and b once more, now from below.
			status, out = f.do("admin", "PUT", "/rest/agile/1.0/issue/rank", map[string]any{"issues": []string{c.Key}, "rankAfterIssue": a.Key})
			if status != 204 {
				t.Fatalf("rank after: %d %s", status, out)
			}
			if g, _ := f.site.Issue(c.Key); g.Rank <= a.Rank || g.Rank >= b.Rank {
				t.Errorf("rank after %q: %q not below %q", a.Rank, g.Rank, b.Rank)
			}
			rec.take()

			// The ends: before the first issue and after the last.
			all = siblingsByRank(f.site)
			first, last := all[0], all[len(all)-1]
			f.doJSON("admin", "PUT", "/rest/agile/1.0/issue/rank", map[string]any{"issues": []string{b.Key, a.Key}, "rankBeforeIssue": first.Key}, 204, nil)
			ga, _ := f.site.Issue(a.Key)
			gb, _ := f.site.Issue(b.Key)
			if !(gb.Rank < ga.Rank && ga.Rank < first.Rank) {
				t.Errorf("before first: b %q a %q first %q", gb.Rank, ga.Rank, first.Rank)
			}
			f.doJSON("admin", "PUT", "/rest/agile/1.0/issue/rank", map[string]any{"issues": []string{a.Key}, "rankAfterIssue": last.Key}, 204, nil)
			if g, _ := f.site.Issue(a.Key); g.Rank <= last.Rank {
				t.Errorf("after last: %q not above %q", g.Rank, last.Rank)
			}

			// Refusals.
			rec.take()
			alpha := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.SecurityLevel == "" })
			other := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.SecurityLevel == "" && i.Key != alpha.Key })
			for _, tc := range []struct {
				name, user string
				body       map[string]any
				want       int
			}{
				{"read-only user", "rita", map[string]any{"issues": []string{alpha.Key}, "rankBeforeIssue": other.Key}, 403},
				{"no anchor", "admin", map[string]any{"issues": []string{alpha.Key}}, 400},
				{"both anchors", "admin", map[string]any{"issues": []string{alpha.Key}, "rankBeforeIssue": other.Key, "rankAfterIssue": other.Key}, 400},
				{"itself", "admin", map[string]any{"issues": []string{alpha.Key}, "rankBeforeIssue": alpha.Key}, 400},
				{"unknown", "admin", map[string]any{"issues": []string{"ALPHA-99999"}, "rankBeforeIssue": other.Key}, 400},
				{"other rank field", "admin", map[string]any{"issues": []string{alpha.Key}, "rankBeforeIssue": other.Key, "rankCustomFieldId": 10020}, 400},
			} {
				before, _ := f.site.Issue(alpha.Key)
				if status, out := f.do(tc.user, "PUT", "/rest/agile/1.0/issue/rank", tc.body); status != tc.want {
					t.Errorf("%s: %d %s, want %d", tc.name, status, out, tc.want)
				}
				if after, _ := f.site.Issue(alpha.Key); after.Rank != before.Rank {
					t.Errorf("%s changed the rank", tc.name)
				}
			}
			if evs := rec.take(); len(evs) != 0 {
				t.Errorf("refused ranks emitted %d events", len(evs))
			}
		})
	}
}
