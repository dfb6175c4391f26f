package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// synthTree is a generated forest: fanout[d] children under every row of depth d-1
// (fanout[0] roots). It stores only structure, so a million rows cost a few megabytes.
type synthTree struct {
	depth  []int8
	parent []int32
	end    []int32
	cols   []Column
	// version changes the cell text without changing ids, like a rebuild after an edit.
	version int
	ids     []string // precomputed ids (see withIDs); nil computes them per call
	fixed   bool     // numbers in cells zero-padded, so every row has the same text width
}

func newSynth(fanout ...int) *synthTree {
	t := &synthTree{cols: []Column{
		{Title: "Key", Frozen: true}, {Title: "Summary", Frozen: true},
		{Title: "Status"}, {Title: "Points", Right: true}, {Title: "Assignee"}, {Title: "Due"},
	}}
	var gen func(d int, parent int32)
	gen = func(d int, parent int32) {
		if d >= len(fanout) {
			return
		}
		for k := 0; k < fanout[d]; k++ {
			i := int32(len(t.depth))
			t.depth = append(t.depth, int8(d))
			t.parent = append(t.parent, parent)
			t.end = append(t.end, 0)
			gen(d+1, i)
			t.end[i] = int32(len(t.depth))
		}
	}
	gen(0, -1)
	return t
}

func (t *synthTree) Len() int         { return len(t.depth) }
func (t *synthTree) Depth(i int) int  { return int(t.depth[i]) }
func (t *synthTree) Parent(i int) int { return int(t.parent[i]) }
func (t *synthTree) End(i int) int    { return int(t.end[i]) }
func (t *synthTree) ID(i int) string {
	if t.ids != nil {
		return t.ids[i]
	}
	return "R-" + strconv.Itoa(i)
}
func (t *synthTree) Columns() []Column { return t.cols }
func (t *synthTree) Cell(i, c int) Cell {
	num := strconv.Itoa(i)
	if t.fixed {
		num = fmt.Sprintf("%07d", i)
	}
	switch c {
	case 0:
		return Cell{Text: "R-" + num, Tone: ToneAccent}
	case 1:
		return Cell{Text: "Summary of row " + num + strings.Repeat("!", t.version)}
	case 2:
		return Cell{Text: [...]string{"To Do", "In Progress", "Done"}[i%3], Tone: [...]Tone{ToneNormal, ToneWarn, ToneGood}[i%3]}
	case 3:
		return Cell{Text: strconv.Itoa(i % 13)}
	case 4:
		return Cell{Text: "user" + strconv.Itoa(i%7)}
	}
	return Cell{Text: fmt.Sprintf("2026-%02d-%02d", i%12+1, i%28+1)}
}

// naiveVisible is the reference: a row shows when all its ancestors are expanded.
func naiveVisible(tb *Table) []int32 {
	var out []int32
	for i := 0; i < tb.tree.Len(); i++ {
		ok := true
		for p := tb.tree.Parent(i); p >= 0; p = tb.tree.Parent(p) {
			if !tb.expanded[p] {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, int32(i))
		}
	}
	return out
}

func TestTableExpandCollapseMatchesReference(t *testing.T) {
	tree := newSynth(4, 3, 3, 2)
	tb := NewTable(tree)
	tb.SetSize(80, 10)
	rng := rand.New(rand.NewPCG(1, 2))
	ops := []struct {
		name string
		do   func()
	}{
		{"expand", func() { tb.Expand() }},
		{"collapse", func() { tb.Collapse() }},
		{"toggle", func() { tb.Toggle() }},
		{"expand subtree", tb.ExpandSubtree},
		{"collapse subtree", tb.CollapseSubtree},
		{"expand all", tb.ExpandAll},
		{"collapse all", tb.CollapseAll},
		{"level 2", func() { tb.ExpandToLevel(2) }},
		{"level 3", func() { tb.ExpandToLevel(3) }},
		{"down", func() { tb.Move(1 + rng.IntN(5)) }},
		{"up", func() { tb.Move(-1 - rng.IntN(5)) }},
		{"bottom", tb.Bottom},
		{"top", tb.Top},
	}
	for step := 0; step < 3000; step++ {
		op := ops[rng.IntN(len(ops))]
		op.do()
		if want := naiveVisible(tb); !slices.Equal(tb.vis, want) {
			t.Fatalf("step %d after %s: visible %v, want %v", step, op.name, tb.vis, want)
		}
		if len(tb.vis) > 0 && (tb.cursor < 0 || tb.cursor >= len(tb.vis)) {
			t.Fatalf("step %d after %s: cursor %d out of %d", step, op.name, tb.cursor, len(tb.vis))
		}
		if tb.cursor < tb.offset || tb.cursor >= tb.offset+tb.height {
			t.Fatalf("step %d after %s: cursor %d off screen (offset %d, height %d)", step, op.name, tb.cursor, tb.offset, tb.height)
		}
	}
}

func TestTableLevels(t *testing.T) {
	tree := newSynth(2, 2, 2)
	tests := []struct {
		level int
		want  int
	}{{1, 2}, {2, 6}, {3, 14}, {9, 14}}
	for _, tc := range tests {
		tb := NewTable(tree)
		tb.ExpandToLevel(tc.level)
		if tb.Visible() != tc.want {
			t.Errorf("level %d: %d visible, want %d", tc.level, tb.Visible(), tc.want)
		}
	}
}

func TestTableCollapseMovesToParent(t *testing.T) {
	tb := NewTable(newSynth(2, 3))
	tb.SetSize(80, 10)
	tb.Expand()   // R-0 open
	tb.Move(2)    // R-2 (second child)
	tb.Collapse() // leaf: go to parent
	if got := tb.CursorID(); got != "R-0" {
		t.Fatalf("cursor %s, want R-0", got)
	}
	tb.Collapse()
	if tb.Visible() != 2 {
		t.Fatalf("after collapse %d visible, want 2", tb.Visible())
	}
}

func TestTableSetTreeKeepsCursorAndExpansion(t *testing.T) {
	tree := newSynth(3, 3, 3)
	tb := NewTable(tree)
	tb.SetSize(80, 5)
	tb.ExpandAll()
	tb.Move(20)
	id := tb.CursorID()
	line := tb.cursor - tb.offset

	// Same ids, new text: a rebuild after an edit.
	next := newSynth(3, 3, 3)
	next.version = 1
	tb.SetTree(next)
	if tb.CursorID() != id {
		t.Fatalf("cursor on %s after rebuild, want %s", tb.CursorID(), id)
	}
	if tb.cursor-tb.offset != line {
		t.Errorf("cursor moved from screen line %d to %d", line, tb.cursor-tb.offset)
	}
	if tb.Visible() != next.Len() {
		t.Errorf("expansion lost: %d visible of %d", tb.Visible(), next.Len())
	}

	// A resize keeps the cursor row too.
	tb.SetSize(80, 3)
	if tb.CursorID() != id || tb.cursor < tb.offset || tb.cursor >= tb.offset+3 {
		t.Errorf("resize lost the cursor: %s at %d (offset %d)", tb.CursorID(), tb.cursor, tb.offset)
	}

	// The cursor row moves under a collapsed parent: land on its visible ancestor.
	tb = NewTable(newSynth(2, 3)) // R-0 [R-1 R-2 R-3], R-4 [R-5 R-6 R-7]
	tb.SetSize(80, 5)
	tb.Expand()
	tb.Move(2)
	if tb.CursorID() != "R-2" {
		t.Fatalf("setup: cursor on %s", tb.CursorID())
	}
	tb.SetTree(newSynth(1, 1, 6)) // R-0 [R-1 [R-2 .. R-7]], R-1 closed
	if tb.CursorID() != "R-1" {
		t.Errorf("cursor on %s, want the visible ancestor R-1", tb.CursorID())
	}
}

func TestTableGuides(t *testing.T) {
	tb := NewTable(newSynth(2, 2, 1))
	tb.SetSize(60, 20)
	tb.ExpandAll()
	th := NewTheme(true, true)
	got := ansi.Strip(tb.View(th))
	want := []string{
		"▌ ▾ R-0",
		"  ├─▾ R-1",
		"  │ └─· R-2",
		"  └─▾ R-3",
		"    └─· R-4",
		"  ▾ R-5",
	}
	lines := strings.Split(got, "\n")[1:]
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestTableRendersOnlyTheWindowAtExactWidth(t *testing.T) {
	tb := NewTable(newSynth(1000, 1000))
	tb.SetSize(80, 10)
	tb.ExpandAll()
	th := NewTheme(true, true)
	out := tb.View(th)
	lines := strings.Split(out, "\n")
	if len(lines) != 11 {
		t.Fatalf("%d lines, want header + 10", len(lines))
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %d is %d cells wide: %q", i, w, l)
		}
	}
}

func TestTableHorizontalScrollAndResize(t *testing.T) {
	tb := NewTable(newSynth(5, 2))
	tb.SetSize(50, 5)
	th := NewTheme(true, true)
	header := func() string { return strings.Split(ansi.Strip(tb.View(th)), "\n")[0] }
	if !strings.Contains(header(), "Key") || strings.Contains(header(), "Due") {
		t.Fatalf("narrow header %q: want Key shown, Due scrolled off", header())
	}
	for i := 0; i < 10; i++ {
		tb.MoveColumn(1)
	}
	h := header()
	if !strings.Contains(h, "Due") || !strings.Contains(h, "Key") {
		t.Fatalf("scrolled header %q: want Due and the frozen Key", h)
	}
	if !strings.Contains(h, "‹") {
		t.Errorf("scrolled header %q: want the more-left marker", h)
	}
	before := tb.layout().width[tb.colCur]
	tb.ResizeColumn(4)
	if got := tb.layout().width[tb.colCur]; got != before+4 {
		t.Errorf("width %d after widening, want %d", got, before+4)
	}
	tb.SetHidden(map[string]bool{"Status": true})
	if strings.Contains(header(), "Status") {
		t.Errorf("hidden Status still in header %q", header())
	}
}

// TestTableCursorColumnAlwaysShows: a scrollable column wider than the room the frozen
// columns leave still shows, cut to fit, when the column cursor is on it; before, a wide
// Status column never showed at 80 columns and enter edited a cell off screen.
func TestTableCursorColumnAlwaysShows(t *testing.T) {
	tb := NewTable(newSynth(5, 2))
	tb.SetWidths(map[string]int{"Summary": 40, "Status": 45})
	tb.SetSize(70, 5)
	th := NewTheme(true, true)
	tb.MoveColumn(1) // Key -> Summary
	tb.MoveColumn(1) // -> Status
	if tb.Tree().Columns()[tb.ColumnCursor()].Title != "Status" {
		t.Fatalf("column cursor on %q", tb.Tree().Columns()[tb.ColumnCursor()].Title)
	}
	out := ansi.Strip(tb.View(th))
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "Status") {
		t.Fatalf("the cursor's column is not on screen:\n%s", out)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > 70 {
			t.Errorf("line %d is %d cells wide: %q", i, w, l)
		}
	}
	if !strings.Contains(lines[0], "›") {
		t.Errorf("header %q: want the more-right marker", lines[0])
	}
}

func TestTableFind(t *testing.T) {
	tb := NewTable(newSynth(10, 3))
	tb.SetSize(80, 5)
	tb.ExpandAll()
	if !tb.Find("row 13", 0, 1) || tb.CursorID() != "R-13" {
		t.Fatalf("find row 13: cursor %s", tb.CursorID())
	}
	if !tb.Find("in progress", tb.Cursor()+1, 1) || tb.CursorRow()%3 != 1 {
		t.Fatalf("find status: cursor %s", tb.CursorID())
	}
	if !tb.Find("row 1", tb.Cursor()-1, -1) {
		t.Fatal("backwards find failed")
	}
	if tb.Find("no such text", 0, 1) {
		t.Fatal("found text that is not there")
	}
}

func TestSortTree(t *testing.T) {
	base := newSynth(3, 4)
	st := sortTree(base, 3, true) // Points descending within each sibling group
	if st.Len() != base.Len() {
		t.Fatalf("sorted %d rows, want %d", st.Len(), base.Len())
	}
	for i := 0; i < st.Len(); i++ {
		// structure: each child sits inside its parent's span and at parent depth + 1
		if p := st.Parent(i); p >= 0 {
			if !(p < i && i < st.End(p)) || st.Depth(i) != st.Depth(p)+1 {
				t.Fatalf("row %d outside its parent %d", i, p)
			}
			if base.Parent(st.baseRow(i)) != st.baseRow(p) {
				t.Fatalf("row %d moved to another parent", i)
			}
		}
	}
	var prev = 1 << 30
	for j := 1; j < st.End(0); j = st.End(j) {
		n, _ := strconv.Atoi(st.Cell(j, 3).Text)
		if n > prev {
			t.Fatalf("children of row 0 not descending by points: %d after %d", n, prev)
		}
		prev = n
	}
}
