package tui

import (
	"errors"
	"slices"
	"testing"

	tea "charm.land/bubbletea/v2"

	"foundation/lens"
)

const rankedYAML = `
name: Ranked
description: Epics and their children in Jira's rank order.
owner: alice
generators:
  - insert: {jql: "issuetype = Epic"}
  - extend: {by: parent}
  - sort: {by: [rank]}
views:
  - name: plan
    columns:
      - field: status
`

// openRanked opens the rank-sorted Lens (4th on the home list) on an editing backend.
func openRanked(t *testing.T) (*driver, *editBackend) {
	t.Helper()
	b := newEditBackend(t)
	d, err := lens.Parse("ranked.yaml", []byte(rankedYAML))
	if err != nil {
		t.Fatal(err)
	}
	b.defs["ranked"] = d
	b.order = append(b.order, "ranked")
	dr := newDriver(t, b, 160, 40)
	dr.keys("j", "j", "j", "enter", "E")
	if dr.app.screen != screenLens || dr.app.lens.info.ID != "ranked" {
		t.Fatalf("Ranked did not open:\n%s", dr.screen())
	}
	return dr, b
}

// children lists the issue keys of the rows directly under the row showing parent.
func (d *driver) children(parent string) []string {
	d.t.Helper()
	tr := d.app.lens.table.Tree()
	p := -1
	for i := 0; i < tr.Len(); i++ {
		if r := d.app.lens.issueAt(i); r != nil && r.Key == parent {
			p = i
			break
		}
	}
	if p < 0 {
		d.t.Fatalf("no row for %s", parent)
	}
	var out []string
	for j := p + 1; j < tr.End(p); j = tr.End(j) {
		out = append(out, d.app.lens.issueAt(j).Key)
	}
	return out
}

var (
	altDown  = tea.KeyPressMsg{Code: tea.KeyDown, Mod: tea.ModAlt}
	altUp    = tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModAlt}
	ctrlUp   = tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModCtrl}
	ctrlDown = tea.KeyPressMsg{Code: tea.KeyDown, Mod: tea.ModCtrl}
)

func TestRankMoveSwapsSiblings(t *testing.T) {
	d, b := openRanked(t)
	start := d.children("ALPHA-1")
	if len(start) < 3 || start[0] != "ALPHA-2" || start[1] != "ALPHA-5" {
		t.Fatalf("children of ALPHA-1 %v", start)
	}
	d.to("ALPHA-2", "Key")
	d.send(altDown)
	if got := d.children("ALPHA-1"); !slices.Equal(got[:2], []string{"ALPHA-5", "ALPHA-2"}) || !slices.Equal(got[2:], start[2:]) {
		t.Fatalf("after alt+down: %v (was %v)", got, start)
	}
	if got := d.app.lens.table.CursorID(); got != "ALPHA-1/ALPHA-2" {
		t.Fatalf("cursor on %s, want it to follow ALPHA-2", got)
	}
	if !slices.Equal(b.ranks, []string{"ALPHA-2 after ALPHA-5"}) {
		t.Fatalf("ranks asked %v", b.ranks)
	}
	d.mustSee("moved ALPHA-2 below ALPHA-5")

	// Down again with ctrl: past ALPHA-8, then up with ctrl+up and alt+up back to the top.
	d.send(ctrlDown)
	if got := d.children("ALPHA-1"); got[2] != "ALPHA-2" {
		t.Fatalf("after ctrl+down: %v", got)
	}
	d.send(ctrlUp)
	d.send(altUp)
	if got := d.children("ALPHA-1"); !slices.Equal(got, start) {
		t.Fatalf("after moving back up: %v, want %v", got, start)
	}
	if got := b.ranks[len(b.ranks)-1]; got != "ALPHA-2 before ALPHA-5" {
		t.Fatalf("last rank %q", got)
	}

	// The first sibling has nothing above it; undo takes the last move back.
	d.send(altUp)
	d.mustSee("ALPHA-2 has no sibling above it")
	d.keys("u")
	if got := d.children("ALPHA-1"); !slices.Equal(got[:2], []string{"ALPHA-5", "ALPHA-2"}) {
		t.Fatalf("after undo: %v", got)
	}

	// A column sort hides the rank order: refused without asking the backend.
	n := len(b.ranks)
	d.to("ALPHA-5", "Status")
	d.keys("s")
	d.send(altDown)
	d.mustSee("sorted by the Status column")
	if len(b.ranks) != n {
		t.Fatalf("a move under a column sort reached the backend: %v", b.ranks)
	}
}

func TestRankMoveRefusedWithoutRankSort(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40) // Work: no sort generator
	d.to("ALPHA-2", "Key")
	before := d.children("ALPHA-1")
	d.send(altDown)
	d.mustSee("ALPHA-2 not moved: cannot reorder by rank")
	if len(b.ranks) != 0 || !slices.Equal(d.children("ALPHA-1"), before) {
		t.Fatalf("refused move changed something: ranks %v, children %v", b.ranks, d.children("ALPHA-1"))
	}
}

func TestRankOrder(t *testing.T) {
	tests := []struct {
		name    string
		gens    string
		desc    bool
		refused bool
	}{
		{"rank", "- sort: {by: [rank]}", false, false},
		{"rank then key", "- sort: {by: [Rank, key]}", false, false},
		{"minus rank", "- sort: {by: [-rank]}", true, false},
		{"desc flag", "- sort: {by: [rank], desc: true}", true, false},
		{"no sort", "- extend: {by: parent}", false, true},
		{"other field", "- sort: {by: [priority, rank]}", false, true},
		{"formula", "- sort: {formula: \"1\"}", false, true},
		{"both directions", "- sort: {by: [rank]}\n  - sort: {by: [-rank]}", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "name: T\nowner: alice\ngenerators:\n  - insert: {jql: \"issuetype = Epic\"}\n  " + tt.gens + "\nviews:\n  - name: v\n    columns:\n      - field: status\n"
			def, err := lens.Parse("t.yaml", []byte(src))
			if err != nil {
				t.Fatalf("parse: %v\n%s", err, src)
			}
			desc, err := RankOrder(def)
			if tt.refused {
				if !errors.Is(err, ErrCannotRank) {
					t.Fatalf("err %v, want ErrCannotRank", err)
				}
				return
			}
			if err != nil || desc != tt.desc {
				t.Fatalf("RankOrder = %v, %v; want %v", desc, err, tt.desc)
			}
		})
	}
}
