package store

import (
	"context"
	"testing"
	"time"

	"foundation/lens"
)

func TestApplyPageWritesLinksOfWrittenIssuesOnly(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	blocks := func(id int64, from, to string) lens.Link {
		return lens.Link{ID: id, Type: "Blocks", Outward: "blocks", Inward: "is blocked by", From: from, To: to}
	}
	first := Page{
		Issues: []lens.Issue{issue(1, "A-1", t0, "one"), issue(2, "A-2", t0, "two")},
		Links:  map[string][]lens.Link{"A-1": {blocks(10, "A-1", "A-2")}, "A-2": {blocks(10, "A-1", "A-2")}},
		Users:  []User{{ID: "u1", DisplayName: "Una"}},
	}
	st, err := db.ApplyPage(ctx, first, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Inserted != 2 {
		t.Fatalf("stats %+v", st)
	}
	seq, _ := db.LastChange(ctx)

	// A stale copy of A-1 (older updated) with no links must not drop the cached link, and
	// the same users again must not touch the change feed.
	stale := Page{
		Issues: []lens.Issue{issue(1, "A-1", t0.Add(-time.Hour), "old")},
		Links:  map[string][]lens.Link{"A-1": nil},
		Users:  []User{{ID: "u1", DisplayName: "Una"}},
	}
	if st, err = db.ApplyPage(ctx, stale, true); err != nil || st.Stale != 1 {
		t.Fatalf("stale page: %+v %v", st, err)
	}
	links, err := db.Links(ctx)
	if err != nil || len(links) != 1 {
		t.Fatalf("links after stale page: %v %v", links, err)
	}
	if now, _ := db.LastChange(ctx); now != seq {
		t.Errorf("a page that changed nothing moved the change feed from %d to %d", seq, now)
	}

	// A newer A-1 whose link set is now empty removes the link.
	newer := Page{Issues: []lens.Issue{issue(1, "A-1", t0.Add(time.Hour), "new")}, Links: map[string][]lens.Link{"A-1": {}}}
	if st, err = db.ApplyPage(ctx, newer, true); err != nil || st.Updated != 1 {
		t.Fatalf("newer page: %+v %v", st, err)
	}
	if links, _ = db.Links(ctx); len(links) != 0 {
		t.Errorf("links after newer page without links: %v", links)
	}
	users, err := db.Users(ctx)
	if err != nil || len(users) != 1 || users[0].DisplayName != "Una" {
		t.Errorf("users %v %v", users, err)
	}
}
