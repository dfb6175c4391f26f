package cli

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"foundation/lens"
	"foundation/tui"
)

// childKeys builds the Lens again and lists the non-sub-task children of parent, in order.
func childKeys(t *testing.T, be *editingBackend, lensID, parent string) []string {
	t.Helper()
	built, err := be.Build(context.Background(), tui.BuildRequest{Lens: lensID})
	if err != nil {
		t.Fatal(err)
	}
	tr := built.Tree
	for i := 0; i < tr.Len(); i++ {
		if is := built.Issue(i); is == nil || is.Key != parent {
			continue
		}
		var out []string
		for j := i + 1; j < tr.End(i); j = tr.End(j) {
			if k := built.Issue(j); k != nil && !k.Subtask {
				out = append(out, k.Key)
			}
		}
		return out
	}
	t.Fatalf("no row for %s", parent)
	return nil
}

func TestEditingBackendRanksThroughJira(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			es := newTUIEditSite(t, dialect)
			be := es.backend(t)
			lensID, epic, _, kids := tuiRoadmapRows(t, be)
			start := childKeys(t, be, lensID, epic.Key)
			first, second := kids[0].Key, kids[1].Key
			if start[0] != first || start[1] != second {
				t.Fatalf("children %v, kids %s %s", start, first, second)
			}

			// Down: the first child goes just below the second, in Jira and in the rebuilt Lens.
			res, err := be.Rank(ctx, lensID, first, "", second)
			if err != nil {
				t.Fatal(err)
			}
			if res.Key != first || res.New != "after "+second {
				t.Errorf("result %+v", res)
			}
			got := childKeys(t, be, lensID, epic.Key)
			want := append([]string{second, first}, start[2:]...)
			if !slices.Equal(got, want) {
				t.Fatalf("after the move: %v, want %v", got, want)
			}
			a, _ := es.site.Issue(first)
			b, _ := es.site.Issue(second)
			if a.Rank <= b.Rank {
				t.Errorf("Jira ranks %s %q not after %s %q", first, a.Rank, second, b.Rank)
			}

			// Undo puts it back.
			if _, err := be.Undo(ctx, tui.SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := childKeys(t, be, lensID, epic.Key); !slices.Equal(got, start) {
				t.Fatalf("after undo: %v, want %v", got, start)
			}
			// Up again from below, as alt+up on the second child asks.
			if _, err := be.Rank(ctx, lensID, second, first, ""); err != nil {
				t.Fatal(err)
			}
			if got := childKeys(t, be, lensID, epic.Key); got[0] != second || got[1] != first {
				t.Fatalf("after moving %s up: %v", second, got)
			}
		})
	}
}

func TestEditingBackendRankRefusals(t *testing.T) {
	ctx := context.Background()
	es := newTUIEditSite(t, "datacenter")
	be := es.backend(t)
	lensID, _, _, kids := tuiRoadmapRows(t, be)
	infos, err := be.Lenses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var bugs string
	for _, in := range infos {
		if in.Name == "Bugs" {
			bugs = in.ID
		}
	}
	// Bugs sorts by created: a rank move would not show, so it is not made.
	before, _ := es.site.Issue(kids[0].Key)
	if _, err := be.Rank(ctx, bugs, kids[0].Key, "", kids[1].Key); !errors.Is(err, tui.ErrCannotRank) {
		t.Fatalf("rank in a Lens sorted by created: %v, want ErrCannotRank", err)
	}
	if after, _ := es.site.Issue(kids[0].Key); after.Rank != before.Rank {
		t.Fatal("a refused reorder changed Jira's rank")
	}
	be.viewer.Viewer = lens.Viewer{User: "someone-else"} // view through "anyone", no edit
	be.viewer.Aliases = nil
	if _, err := be.Rank(ctx, lensID, kids[0].Key, "", kids[1].Key); err == nil || !strings.Contains(err.Error(), "needs edit") {
		t.Fatalf("rank without edit level: %v", err)
	}
}
