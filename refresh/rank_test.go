package refresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// byRank is the fake's issues in rank order.
func byRank(site *jiratest.Site) []jiratest.FakeIssue {
	all := site.Issues()
	sort.Slice(all, func(a, b int) bool { return all[a].Rank < all[b].Rank })
	return all
}

// rankIndex is key's position in rank order.
func rankIndex(site *jiratest.Site, key string) int {
	for k, is := range byRank(site) {
		if is.Key == key {
			return k
		}
	}
	return -1
}

// viewerWriter is a Writer for user as the TUI makes one: its actor is the viewer's id, whose
// grants (checked now) say which cached issues it may browse.
func (f *editFixture) viewerWriter(user string) *refresh.Writer {
	f.t.Helper()
	ctx := context.Background()
	c := f.client(user)
	v, err := refresh.ResolveViewer(ctx, c, f.db, user)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := refresh.CheckGrants(ctx, c, f.db, v, time.Hour); err != nil {
		f.t.Fatal(err)
	}
	return refresh.NewWriter(c, f.db, refresh.WriterOptions{Actor: v.User, Now: func() time.Time { return editNow }})
}

func TestMoveRank(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			w := f.viewerWriter("admin")
			var h refresh.History
			all := byRank(f.site)
			prev, key, next, far := all[19].Key, all[20].Key, all[21].Key, all[100].Key

			// Move key to just before far.
			res, err := w.MoveRank(ctx, key, far, "", refresh.SetOptions{History: &h})
			if err != nil {
				t.Fatal(err)
			}
			if res.Old != "after "+prev || res.New != "before "+far || res.Field != refresh.FieldRank {
				t.Errorf("result %+v", res)
			}
			if got := rankIndex(f.site, key); got+1 != rankIndex(f.site, far) {
				t.Errorf("after the move %s is at %d, %s at %d", key, got, far, rankIndex(f.site, far))
			}
			// The read-back is in the cache: same rank as Jira, updated moved on.
			cached, err := f.db.Issue(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if cached.Rank != f.fake(key).Rank || !cached.Updated.Equal(res.Updated) || !res.Updated.After(res.Base) {
				t.Errorf("cache rank %q updated %v, Jira %q; result %+v", cached.Rank, cached.Updated, f.fake(key).Rank, res)
			}
			log, err := f.db.AuditLog(ctx, store.AuditFilter{Target: key, Action: refresh.AuditActionEdit})
			if err != nil || len(log) != 1 || log[0].Outcome != "ok" {
				t.Fatalf("audit %+v %v", log, err)
			}
			var after struct{ Field, Value string }
			_ = json.Unmarshal(log[0].After, &after)
			if after.Field != "rank" || after.Value != "before "+far {
				t.Errorf("audit after %s", log[0].After)
			}

			// Undo puts it back after its old neighbour, before the one that followed it.
			if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			p, k, n := rankIndex(f.site, prev), rankIndex(f.site, key), rankIndex(f.site, next)
			if p+1 != k || k+1 != n {
				t.Errorf("after undo: %s %d, %s %d, %s %d", prev, p, key, k, next, n)
			}
			if c, _ := f.db.Issue(ctx, key); c.Rank != f.fake(key).Rank {
				t.Errorf("undo not read back: cache %q, Jira %q", c.Rank, f.fake(key).Rank)
			}
			// Redo moves it again.
			if _, err := w.Redo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := rankIndex(f.site, key); got+1 != rankIndex(f.site, far) {
				t.Errorf("after redo %s at %d, %s at %d", key, got, far, rankIndex(f.site, far))
			}
			if u, r := h.Len(); u != 1 || r != 0 {
				t.Errorf("history %d/%d after redo", u, r)
			}

			// The first issue has no neighbour below: undo ranks it before the one above.
			first, second := all[0].Key, all[1].Key
			if _, err := w.MoveRank(ctx, first, "", far, refresh.SetOptions{History: &h}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if rankIndex(f.site, first)+1 != rankIndex(f.site, second) {
				t.Errorf("undo of the first issue's move: at %d, %s at %d", rankIndex(f.site, first), second, rankIndex(f.site, second))
			}

			for _, bad := range [][3]string{{key, "", ""}, {key, far, far}, {key, key, ""}, {"", far, ""}} {
				if _, err := w.MoveRank(ctx, bad[0], bad[1], bad[2], refresh.SetOptions{}); !errors.Is(err, refresh.ErrRankPlace) {
					t.Errorf("MoveRank%q: %v, want ErrRankPlace", bad, err)
				}
			}
		})
	}
}

// The cache is shared: admin filled it with GAMMA, which alice may not browse. A move's
// undo place is next to an issue alice can see, so the undo works and no refusal (or
// result) names a GAMMA issue.
func TestMoveRankNeighbourVisible(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newEditFixture(t, dialect)
			ctx := context.Background()
			w := f.viewerWriter("alice")
			all := byRank(f.site)
			visible := func(is jiratest.FakeIssue) bool { return is.Project != "GAMMA" && is.SecurityLevel == "" }
			// An alice issue ranked just above a GAMMA issue, and another alice issue far off.
			var key, hidden, far string
			for k := 1; k < len(all)-60 && key == ""; k++ {
				if visible(all[k]) && all[k-1].Project == "GAMMA" {
					key, hidden = all[k].Key, all[k-1].Key
					for _, is := range all[k+50:] {
						if visible(is) {
							far = is.Key
							break
						}
					}
				}
			}
			if key == "" || far == "" {
				t.Fatal("no issue of alice's ranked just after a GAMMA issue")
			}
			// Alice's nearest visible neighbour below key.
			var below string
			for k := rankIndex(f.site, key) - 1; k >= 0 && below == ""; k-- {
				if visible(all[k]) {
					below = all[k].Key
				}
			}
			var h refresh.History
			res, err := w.MoveRank(ctx, key, far, "", refresh.SetOptions{History: &h})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(res.Old, "GAMMA") || (below != "" && res.Old != "after "+below) {
				t.Errorf("undo place %q next to %s; want after %s (not %s)", res.Old, key, below, hidden)
			}
			if _, err := w.Undo(ctx, &h, refresh.SetOptions{}); err != nil {
				t.Fatalf("undo: %v", err)
			}
			// Back among the issues alice sees: right after its old visible neighbour.
			if below != "" {
				next := ""
				for _, is := range byRank(f.site)[rankIndex(f.site, below)+1:] {
					if visible(is) {
						next = is.Key
						break
					}
				}
				if next != key {
					t.Errorf("after undo the issue alice sees after %s is %s, want %s", below, next, key)
				}
			}
			log, _ := f.db.AuditLog(ctx, store.AuditFilter{Target: key})
			for _, e := range log {
				if strings.Contains(string(e.Before)+string(e.After)+e.Outcome, "GAMMA") {
					t.Errorf("audit names a hidden issue: %s %s %s", e.Before, e.After, e.Outcome)
				}
			}
		})
	}
}

func TestMoveRankReadOnly(t *testing.T) {
	site, err := jiratest.New(jiratest.Options{Issues: 60, Seed: 2, Users: []jiratest.User{{Name: "rita", Projects: []string{"ALPHA"}, ReadOnly: true}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	ctx := context.Background()
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Dialect: jira.Cloud, Email: "rita@example.com", Token: "rita-token", RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := refresh.NewWriter(c, db, refresh.WriterOptions{Actor: "rita"})
	var keys []string
	for _, is := range site.Issues() {
		if is.Project == "ALPHA" && is.SecurityLevel == "" {
			keys = append(keys, is.Key)
		}
	}
	var h refresh.History
	var pe *refresh.PermissionError
	before, _ := site.Issue(keys[0])
	if _, err := w.MoveRank(ctx, keys[0], keys[1], "", refresh.SetOptions{History: &h}); !errors.As(err, &pe) {
		t.Fatalf("read-only rank: %v, want *PermissionError", err)
	}
	if got, _ := site.Issue(keys[0]); got.Rank != before.Rank {
		t.Errorf("refused rank changed it")
	}
	if u, _ := h.Len(); u != 0 {
		t.Errorf("a refused move is undoable")
	}
	log, _ := db.AuditLog(ctx, store.AuditFilter{Target: keys[0]})
	if len(log) != 1 || !strings.HasPrefix(log[0].Outcome, "failed") {
		t.Errorf("audit of the refusal: %+v", log)
	}
}
