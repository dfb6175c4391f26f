package tui

import (
	"errors"
	"testing"

	"foundation/jql"
	"foundation/lens"
)

func buildRoadmap(t *testing.T) *lens.Forest {
	t.Helper()
	d, err := lens.Parse("roadmap.yaml", []byte(roadmapYAML))
	if err != nil {
		t.Fatal(err)
	}
	f, err := lens.Build(d, memData(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewBuiltFilterKeepsAncestorsAndStructure(t *testing.T) {
	f := buildRoadmap(t)
	tests := []struct {
		filter string
		match  func(*lens.Issue) bool
	}{
		{"", func(*lens.Issue) bool { return true }},
		{"status = Done", func(is *lens.Issue) bool { return is.Status == "Done" }},
		{"issuetype = Sub-task AND assignee = bob", func(is *lens.Issue) bool { return is.Type == "Sub-task" && is.Assignee == "bob" }},
		{"key = ALPHA-999", func(*lens.Issue) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			b, err := NewBuilt(f, "", tc.filter, jql.Env{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			tr := b.Tree
			want := 0
			for i := range f.Rows {
				if is := f.Rows[i].Issue; is != nil && tc.match(is) {
					want++
				}
			}
			got := 0
			for i := 0; i < tr.Len(); i++ {
				p := tr.Parent(i)
				if p >= 0 && !(p < i && i < tr.End(p) && tr.Depth(i) == tr.Depth(p)+1) {
					t.Fatalf("row %d outside its parent %d", i, p)
				}
				if tr.End(i) <= i || tr.End(i) > tr.Len() {
					t.Fatalf("row %d ends at %d", i, tr.End(i))
				}
				is := b.Issue(i)
				if is != nil && tc.match(is) {
					got++
					continue
				}
				// A non-matching row stays only above a match.
				below := false
				for j := i + 1; j < tr.End(i); j++ {
					if m := b.Issue(j); m != nil && tc.match(m) {
						below = true
					}
				}
				if !below {
					t.Fatalf("row %d (%s) neither matches nor sits above a match", i, tr.ID(i))
				}
			}
			if got != want {
				t.Fatalf("%d matching rows kept, want %d", got, want)
			}
			if b.Total != len(f.Rows) {
				t.Fatalf("total %d, want %d", b.Total, len(f.Rows))
			}
			// Another view of the same rows shares them: the table keeps its state in O(1).
			other, err := b.Switch("dates")
			if err != nil {
				t.Fatal(err)
			}
			if !sameRows(b.Tree, other.Tree) || other.View != "dates" {
				t.Fatalf("switch to dates: view %q, same rows %v", other.View, sameRows(b.Tree, other.Tree))
			}
		})
	}
}

func TestNewBuiltErrors(t *testing.T) {
	f := buildRoadmap(t)
	var je *jql.Error
	if _, err := NewBuilt(f, "", "status = ", jql.Env{}); !errors.As(err, &je) || je.Column == 0 {
		t.Fatalf("syntax error: %v", err)
	}
	if _, err := NewBuilt(f, "", "nosuchfield = 1", jql.Env{}); !errors.As(err, &je) {
		t.Fatalf("compile error: %v", err)
	}
	if _, err := NewBuilt(f, "nosuchview", "", jql.Env{}); err == nil || !errors.Is(err, lens.ErrUnknownView) {
		t.Fatalf("unknown view: %v", err)
	}
	if _, err := WithColumns(f.Definition(), "nosuchview", []string{"created"}); err == nil {
		t.Fatal("WithColumns accepted an unknown view")
	}
}
