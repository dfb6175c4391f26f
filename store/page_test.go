package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
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

// TestApplyPageRaw: a page's encoded fields (as the jira decoder or EncodeFields give them)
// are stored byte for byte, and the same issue arriving later without them (encoded from
// Fields on the writer) hashes alike and is recognised as unchanged.
func TestApplyPageRaw(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	raw, f := EncodeFields(map[string]json.RawMessage{
		"updated": json.RawMessage(`"2026-01-01T00:00:00.000+0000"`), "summary": json.RawMessage(` "one" `), "labels": json.RawMessage(`[ "a" ]`)})
	is := lens.Issue{ID: 1, Key: "A-1", Project: "ALPHA", Summary: "one", Labels: []string{"a"}, Updated: t0, Fields: f}
	if st, err := db.ApplyPage(ctx, Page{Issues: []lens.Issue{is}, Raw: []json.RawMessage{raw}}, true); err != nil || st.Inserted != 1 {
		t.Fatalf("apply: %+v %v", st, err)
	}
	var stored []byte
	if err := db.r.QueryRowContext(ctx, "SELECT fields FROM issues WHERE id = 1").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if string(stored) != string(raw) {
		t.Errorf("stored %s, want %s", stored, raw)
	}
	if st, err := db.UpsertIssues(ctx, []lens.Issue{is}, true); err != nil || st.Unchanged != 1 {
		t.Errorf("same issue without its raw object: %+v %v", st, err)
	}
	if _, err := db.ApplyPage(ctx, Page{Issues: []lens.Issue{is}, Raw: nil}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyPage(ctx, Page{Issues: []lens.Issue{is}, Raw: []json.RawMessage{raw, raw}}, true); err == nil {
		t.Error("raw objects not matching the issues accepted")
	}
}

// TestFieldsHash: the row fingerprint of fields as stored (EncodeFields) ignores member
// order and surrounding space, and sees every change of content, including a value moving to
// another key.
func TestFieldsHash(t *testing.T) {
	fieldsHash := func(f map[string]json.RawMessage) int64 {
		raw, _ := EncodeFields(f)
		return rowHash(&lens.Issue{}, nil, raw)
	}
	base := map[string]json.RawMessage{"a": json.RawMessage(`"x"`), "b": json.RawMessage(`{"k":[1,2,3],"s":"a long enough value to span words"}`)}
	h := fieldsHash(base)
	tests := []struct {
		name string
		f    map[string]json.RawMessage
		same bool
	}{
		{"equal", map[string]json.RawMessage{"b": base["b"], "a": base["a"]}, true},
		{"spaced", map[string]json.RawMessage{"a": json.RawMessage(` "x" `), "b": base["b"]}, true},
		{"value changed", map[string]json.RawMessage{"a": json.RawMessage(`"y"`), "b": base["b"]}, false},
		{"long value changed", map[string]json.RawMessage{"a": base["a"], "b": json.RawMessage(`{"k":[1,2,4],"s":"a long enough value to span words"}`)}, false},
		{"values swapped", map[string]json.RawMessage{"a": base["b"], "b": base["a"]}, false},
		{"key renamed", map[string]json.RawMessage{"c": base["a"], "b": base["b"]}, false},
		{"member added", map[string]json.RawMessage{"a": base["a"], "b": base["b"], "c": json.RawMessage(`null`)}, false},
		{"member removed", map[string]json.RawMessage{"a": base["a"]}, false},
	}
	for _, tt := range tests {
		if got := fieldsHash(tt.f) == h; got != tt.same {
			t.Errorf("%s: same hash %v, want %v", tt.name, got, tt.same)
		}
	}
}

// TestUpsertBatchMatchesOneByOne writes a batch larger than one multi-row INSERT, with an
// issue repeated inside a group and across groups, a stale copy, a key taken over by another
// id and an existing row, and compares the cache and change feed with writing the same
// issues one call at a time.
func TestUpsertBatchMatchesOneByOne(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batch []lens.Issue
	for i := 1; i <= 3*rowsPerInsert+5; i++ {
		batch = append(batch, issue(int64(i), fmt.Sprintf("A-%d", i), t0, fmt.Sprintf("s%d", i)))
	}
	batch = append(batch,
		issue(3, "A-3", t0.Add(time.Minute), "newer in the same group"),
		issue(3, "A-3", t0.Add(-time.Minute), "stale"),
		issue(7, "A-7", t0.Add(2*time.Minute), "newer in a later group"),
		issue(1000, "A-9", t0, "takes the key of 9"),
		issue(9, "A-9", t0.Add(time.Minute), "9 again"),
		issue(500, "B-1", t0, "cached before"),
	)
	seed := []lens.Issue{issue(500, "B-1", t0.Add(-time.Hour), "old")}

	type result struct {
		st      UpsertStats
		issues  []lens.Issue
		changes []Change
	}
	run := func(oneByOne bool) result {
		db := openTest(t)
		if _, err := db.UpsertIssues(ctx, seed, true); err != nil {
			t.Fatal(err)
		}
		seq, _ := db.LastChange(ctx)
		var r result
		if oneByOne {
			for _, is := range batch {
				st, err := db.UpsertIssues(ctx, []lens.Issue{is}, true)
				if err != nil {
					t.Fatal(err)
				}
				r.st = r.st.Add(st)
			}
		} else {
			var err error
			if r.st, err = db.ApplyPage(ctx, Page{Issues: batch}, true); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if r.issues, err = db.Issues(ctx, ReadOptions{WithRaw: true}); err != nil {
			t.Fatal(err)
		}
		if r.changes, err = db.Changes(ctx, seq, 0); err != nil {
			t.Fatal(err)
		}
		for i := range r.changes {
			r.changes[i].Seq, r.changes[i].At = 0, time.Time{}
		}
		return r
	}
	got, want := run(false), run(true)
	if got.st != want.st {
		t.Errorf("stats %+v, one by one %+v", got.st, want.st)
	}
	if !reflect.DeepEqual(got.issues, want.issues) {
		t.Errorf("cached issues differ from writing one by one")
	}
	if !reflect.DeepEqual(got.changes, want.changes) {
		t.Errorf("change feed %+v\none by one %+v", got.changes, want.changes)
	}
	if len(got.issues) != 3*rowsPerInsert+6 { // 1000 took 9's key, then 9 took it back; and 500
		t.Errorf("%d issues cached", len(got.issues))
	}
}

// TestApplyPageLinksChangeOnlyWhatDiffers: a newer issue's link set replaces the cached one
// link by link: a link that stays keeps its row, one whose type changed is rewritten, one
// gone is deleted (also when it was cached from its other end), and a new one is added.
func TestApplyPageLinksChangeOnlyWhatDiffers(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	link := func(id int64, typ, from, to string) lens.Link {
		return lens.Link{ID: id, Type: typ, Outward: typ + "s", Inward: "is " + typ + "ed by", From: from, To: to}
	}
	first := Page{
		Issues: []lens.Issue{issue(1, "A-1", t0, "one"), issue(2, "A-2", t0, "two"), issue(3, "A-3", t0, "three")},
		Links: map[string][]lens.Link{
			"A-1": {link(10, "Block", "A-1", "A-2"), link(11, "Relate", "A-1", "A-3"), link(12, "Clone", "A-3", "A-1")},
			"A-3": {link(13, "Block", "A-3", "A-2")},
		},
	}
	if _, err := db.ApplyPage(ctx, first, true); err != nil {
		t.Fatal(err)
	}
	// A-1 again, newer: 10 stays, 11 changes type, 12 is gone, 14 is new and appears twice
	// in the page (the later copy wins). A-3's own link 13 is not A-1's and stays.
	second := Page{
		Issues: []lens.Issue{issue(1, "A-1", t0.Add(time.Hour), "one again")},
		Links: map[string][]lens.Link{"A-1": {
			link(10, "Block", "A-1", "A-2"), link(11, "Duplicate", "A-1", "A-3"),
			link(14, "Relate", "A-2", "A-1"), link(14, "Split", "A-2", "A-1"),
		}},
	}
	if st, err := db.ApplyPage(ctx, second, true); err != nil || st.Updated != 1 {
		t.Fatalf("second page: %+v %v", st, err)
	}
	got, err := db.Links(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []lens.Link{link(10, "Block", "A-1", "A-2"), link(11, "Duplicate", "A-1", "A-3"),
		link(13, "Block", "A-3", "A-2"), link(14, "Split", "A-2", "A-1")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("links\n got %+v\nwant %+v", got, want)
	}
}
