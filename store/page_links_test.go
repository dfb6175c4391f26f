package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"foundation/lens"
)

// TestApplyPageLinks: a written issue's links end up exactly as its page says, as if every
// key's links were deleted and all the sets inserted, and a key whose cached links are
// already those is not rewritten (no links row deleted or inserted for it).
func TestApplyPageLinks(t *testing.T) {
	link := func(id int64, from, to string) lens.Link {
		return lens.Link{ID: id, Type: "Blocks", Outward: "blocks", Inward: "is blocked by", From: from, To: to}
	}
	renamed := link(10, "A-1", "A-2")
	renamed.Type, renamed.Outward, renamed.Inward = "Relates", "relates to", "relates to"
	tests := []struct {
		name   string
		cached map[string][]lens.Link // links of the first page
		next   map[string][]lens.Link // links of the second page (all three newer)
		want   []lens.Link
		writes int // links rows deleted or inserted by the second page
	}{
		{"unchanged",
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2")}},
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2")}, "A-2": {link(10, "A-1", "A-2")}},
			[]lens.Link{link(10, "A-1", "A-2")}, 0},
		{"unchanged in another order",
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2"), link(11, "A-3", "A-1")}},
			map[string][]lens.Link{"A-1": {link(11, "A-3", "A-1"), link(10, "A-1", "A-2")}},
			[]lens.Link{link(10, "A-1", "A-2"), link(11, "A-3", "A-1")}, 0},
		{"type changed",
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2")}},
			map[string][]lens.Link{"A-1": {renamed}},
			[]lens.Link{renamed}, 2},
		{"direction changed",
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2")}},
			map[string][]lens.Link{"A-1": {link(10, "A-2", "A-1")}},
			[]lens.Link{link(10, "A-2", "A-1")}, 2},
		{"removed",
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2"), link(11, "A-1", "A-3")}},
			map[string][]lens.Link{"A-1": {link(11, "A-1", "A-3")}},
			[]lens.Link{link(11, "A-1", "A-3")}, 3},
		{"added to none",
			nil,
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2")}},
			[]lens.Link{link(10, "A-1", "A-2")}, 1},
		{"a key without an entry keeps its links",
			map[string][]lens.Link{"A-3": {link(12, "A-3", "B-9")}},
			map[string][]lens.Link{"A-1": {}},
			[]lens.Link{link(12, "A-3", "B-9")}, 0},
		// A-2 now lists no link, but A-1's unchanged set still holds the one they share: as
		// with deleting both and inserting both sets, the link stays.
		{"kept key shares a link with a rewritten one",
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2"), link(11, "A-1", "A-3")}},
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2"), link(11, "A-1", "A-3")}, "A-2": {}},
			[]lens.Link{link(10, "A-1", "A-2"), link(11, "A-1", "A-3")}, 2},
		{"a set naming a link twice is written",
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2"), link(11, "A-1", "A-3")}},
			map[string][]lens.Link{"A-1": {link(10, "A-1", "A-2"), link(10, "A-1", "A-2")}},
			[]lens.Link{link(10, "A-1", "A-2")}, 4},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	page := func(at time.Time, links map[string][]lens.Link) Page {
		return Page{Issues: []lens.Issue{issue(1, "A-1", at, "one"), issue(2, "A-2", at, "two"), issue(3, "A-3", at, "three")}, Links: links}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t)
			ctx := context.Background()
			if _, err := db.ApplyPage(ctx, page(t0, tt.cached), true); err != nil {
				t.Fatal(err)
			}
			// The writer pool holds one connection: a temporary trigger on it sees every
			// write of the links table.
			for _, q := range []string{
				"CREATE TEMP TABLE link_writes(n INTEGER)",
				"CREATE TEMP TRIGGER link_deleted AFTER DELETE ON links BEGIN INSERT INTO link_writes VALUES (1); END",
				"CREATE TEMP TRIGGER link_inserted AFTER INSERT ON links BEGIN INSERT INTO link_writes VALUES (1); END",
			} {
				if _, err := db.w.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if st, err := db.ApplyPage(ctx, page(t0.Add(time.Hour), tt.next), true); err != nil || st.Updated != 3 {
				t.Fatalf("second page: %+v %v", st, err)
			}
			got, err := db.Links(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b lens.Link) int { return int(a.ID - b.ID) })
			if !slices.Equal(got, want) {
				t.Errorf("links %v, want %v", got, want)
			}
			var writes int
			if err := db.w.QueryRowContext(ctx, "SELECT count(*) FROM link_writes").Scan(&writes); err != nil {
				t.Fatal(err)
			}
			if writes != tt.writes {
				t.Errorf("%d links rows written, want %d", writes, tt.writes)
			}
		})
	}
}
