package tui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Tree is what the tree-table draws: a flat, depth-first forest. Row i's descendants are the
// rows i+1 .. End(i)-1, so a subtree is skipped in one step and nothing needs a pointer tree.
// The Lens engine's forest satisfies it through a thin adapter; tests use synthetic trees of a
// million rows.
type Tree interface {
	Len() int
	Depth(i int) int  // 0 for roots
	Parent(i int) int // -1 for roots
	End(i int) int    // one past row i's last descendant
	ID(i int) string  // stable across rebuilds (the row's path), so the cursor survives them
	Columns() []Column
	Cell(i, col int) Cell
}

// Column describes one column of the current view.
type Column struct {
	Title  string
	Frozen bool // stays on screen while the other columns scroll sideways
	Right  bool // right-aligned (numbers)
	// Field is the Jira field a plain field column shows, as the Lens names it; "" for the
	// key column, roll-ups, progress and formulas, which cannot be edited.
	Field string
	// Aggregate: a roll-up or progress column, computed over a row's whole subtree in the
	// Lens, also the rows a filter hides.
	Aggregate bool
}

// Tone is a cell's semantic color; the theme decides what it looks like.
type Tone uint8

const (
	ToneNormal Tone = iota
	ToneMuted
	ToneAccent
	ToneGood
	ToneWarn
	ToneBad
)

// Cell is one rendered value. FG and BG carry explicit colors from conditional formatting
// ("#rrggbb" or an ANSI number); empty means the theme's color for Tone.
type Cell struct {
	Text                           string
	Tone                           Tone
	Bold, Italic, Underline, Faint bool
	Strike                         bool
	FG, BG                         string
}

// sortedTree presents a Tree with every group of siblings reordered by one column, keeping
// each subtree under its parent. The permutation is computed once, O(n log n).
type sortedTree struct {
	base   Tree
	perm   []int32 // new position -> base row
	parent []int32
	end    []int32
}

// sortTree orders siblings by column col (numbers numerically, text case-insensitively).
func sortTree(base Tree, col int, desc bool) *sortedTree {
	n := base.Len()
	st := &sortedTree{base: base, perm: make([]int32, 0, n), parent: make([]int32, n), end: make([]int32, n)}
	type keyed struct {
		row int
		num float64
		isN bool
		txt string
	}
	var emit func(children []int, parentPos int32)
	emit = func(children []int, parentPos int32) {
		ks := make([]keyed, len(children))
		for i, r := range children {
			t := base.Cell(r, col).Text
			f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(t), "%"), 64)
			ks[i] = keyed{row: r, num: f, isN: err == nil, txt: strings.ToLower(t)}
		}
		slices.SortStableFunc(ks, func(a, b keyed) int {
			var c int
			switch {
			case a.isN && b.isN:
				c = cmp.Compare(a.num, b.num)
			case a.isN != b.isN: // numbers before text, blanks last
				if a.isN {
					c = -1
				} else {
					c = 1
				}
			default:
				c = strings.Compare(a.txt, b.txt)
			}
			if desc {
				c = -c
			}
			return c
		})
		for _, k := range ks {
			pos := int32(len(st.perm))
			st.perm = append(st.perm, int32(k.row))
			st.parent[pos] = parentPos
			var kids []int
			for j := k.row + 1; j < base.End(k.row); j = base.End(j) {
				kids = append(kids, j)
			}
			emit(kids, pos)
			st.end[pos] = int32(len(st.perm))
		}
	}
	var roots []int
	for j := 0; j < n; j = base.End(j) {
		roots = append(roots, j)
	}
	emit(roots, -1)
	return st
}

func (s *sortedTree) Len() int           { return len(s.perm) }
func (s *sortedTree) Depth(i int) int    { return s.base.Depth(int(s.perm[i])) }
func (s *sortedTree) Parent(i int) int   { return int(s.parent[i]) }
func (s *sortedTree) End(i int) int      { return int(s.end[i]) }
func (s *sortedTree) ID(i int) string    { return s.base.ID(int(s.perm[i])) }
func (s *sortedTree) Columns() []Column  { return s.base.Columns() }
func (s *sortedTree) Cell(i, c int) Cell { return s.base.Cell(int(s.perm[i]), c) }
func (s *sortedTree) baseRow(i int) int  { return int(s.perm[i]) }
