package tui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Table is the tree-table: it keeps the list of visible rows (those whose ancestors are all
// expanded) and draws only the window of it that fits on screen. Expanding or collapsing a
// node splices its visible descendants in or out of that list, so a keypress costs the size of
// the change plus a memmove, never a walk over the whole forest.
type Table struct {
	tree     Tree
	expanded []bool
	// away are the ids of rows left expanded that the current forest does not hold (a
	// filter or permissions hid them): they open again when a rebuild brings them back.
	away map[string]bool
	vis  []int32 // visible rows, ascending (depth-first order is preserved)

	cursor int // index into vis
	offset int // index into vis of the first row on screen
	height int // body rows on screen
	width  int

	colCur int // column under the cursor (index into Columns)
	colOff int // first scrollable (non-frozen) column on screen, counted among scrollables

	fit    []int          // widest content seen per column since the tree was set
	widths map[string]int // user-chosen widths by column title
	hidden map[string]bool

	query string          // search text highlighted in cells
	flash map[string]bool // row ids drawn with the flash style

	// Editing: values being written, drawn over the cells (row id -> column -> text);
	// marked rows; the row cut for a move.
	overlay map[string]map[int]string
	marks   map[string]bool
	cutID   string
}

// SetOverlay sets the pending values drawn over cells, by row id and column.
func (t *Table) SetOverlay(ov map[string]map[int]string) { t.overlay = ov }

// SetMarks sets the marked rows (by id); the table keeps the map, the caller owns it.
func (t *Table) SetMarks(m map[string]bool) { t.marks = m }

// SetCut sets the row cut for a move ("" for none).
func (t *Table) SetCut(id string) { t.cutID = id }

// visIndexOfID is the visible index of the row with id, -1 when it is not visible.
func (t *Table) visIndexOfID(id string) int {
	for k, r := range t.vis {
		if t.tree.ID(int(r)) == id {
			return k
		}
	}
	return -1
}

// NewTable returns a table over tree with only the roots visible.
func NewTable(tree Tree) *Table {
	t := &Table{widths: map[string]int{}, hidden: map[string]bool{}}
	t.SetTree(tree)
	return t
}

// SetTree replaces the forest (after a rebuild, a filter, a view switch or a sort), keeping the
// expanded rows and the cursor row by their stable ids. When the cursor row is gone or hidden,
// the cursor lands on its nearest visible ancestor, else stays at the same screen position.
func (t *Table) SetTree(tree Tree) {
	var curID string
	var expandedIDs map[string]bool
	screenLine := t.cursor - t.offset
	if t.tree != nil && sameRows(t.tree, tree) {
		// A view switch or an edit that moved nothing: same rows, same places. Keep the
		// expansion and the cursor as they are, without hashing every id.
		t.tree = tree
		t.fit = nil
		if cols := len(tree.Columns()); t.colCur >= cols {
			t.colCur = max(cols-1, 0)
		}
		t.scrollToCursor()
		return
	}
	if t.tree != nil {
		if len(t.vis) > 0 {
			curID = t.tree.ID(int(t.vis[t.cursor]))
		}
		expandedIDs = t.away
		if expandedIDs == nil {
			expandedIDs = make(map[string]bool)
		}
		for i, e := range t.expanded {
			if e {
				expandedIDs[t.tree.ID(i)] = true
			}
		}
	}
	n := tree.Len()
	t.tree = tree
	t.expanded = make([]bool, n)
	t.fit = nil
	curRow := -1
	t.away = nil
	if len(expandedIDs) > 0 || curID != "" {
		for i := 0; i < n; i++ {
			id := tree.ID(i)
			if expandedIDs[id] {
				t.expanded[i] = true
				delete(expandedIDs, id)
			}
			if id == curID {
				curRow = i
			}
		}
		if len(expandedIDs) > 0 {
			t.away = expandedIDs // what is left is not in this forest
		}
	}
	t.rebuildVisible()
	if curRow >= 0 {
		for !t.isVisible(curRow) && tree.Parent(curRow) >= 0 {
			curRow = tree.Parent(curRow)
		}
		t.cursor = t.visIndex(curRow)
	}
	t.clampCursor()
	if curRow >= 0 {
		t.offset = t.cursor - screenLine
	}
	t.scrollToCursor()
	if cols := len(tree.Columns()); t.colCur >= cols {
		t.colCur = max(cols-1, 0)
	}
}

// sameRows reports whether two forests have the same rows in the same places. Ids usually
// share storage between builds, so the comparison is mostly pointer checks.
func sameRows(a, b Tree) bool {
	if s, ok := a.(interface{ sameRowsAs(Tree) bool }); ok && s.sameRowsAs(b) {
		return true
	}
	n := a.Len()
	if b.Len() != n {
		return false
	}
	for i := 0; i < n; i++ {
		if a.End(i) != b.End(i) || a.ID(i) != b.ID(i) {
			return false
		}
	}
	return true
}

// Tree returns the forest being shown.
func (t *Table) Tree() Tree { return t.tree }

// SetSize sets the body size: width in cells, height in rows.
func (t *Table) SetSize(width, height int) {
	t.width, t.height = width, max(height, 1)
	t.scrollToCursor()
}

// Visible is the number of rows not hidden under a collapsed ancestor.
func (t *Table) Visible() int { return len(t.vis) }

// CursorRow is the forest row under the cursor, -1 when there are no rows.
func (t *Table) CursorRow() int {
	if len(t.vis) == 0 {
		return -1
	}
	return int(t.vis[t.cursor])
}

// CursorID is the stable id of the cursor row, "" when there are no rows.
func (t *Table) CursorID() string {
	if r := t.CursorRow(); r >= 0 {
		return t.tree.ID(r)
	}
	return ""
}

// Cursor returns the cursor's index among the visible rows.
func (t *Table) Cursor() int { return t.cursor }

// ColumnCursor is the column under the cursor.
func (t *Table) ColumnCursor() int { return t.colCur }

func (t *Table) rebuildVisible() {
	t.vis = t.vis[:0]
	n := t.tree.Len()
	for i := 0; i < n; {
		t.vis = append(t.vis, int32(i))
		if t.expanded[i] {
			i++
		} else {
			i = t.tree.End(i)
		}
	}
}

// visIndex finds row in the visible list by binary search (it is sorted), -1 when hidden.
func (t *Table) visIndex(row int) int {
	k, ok := slices.BinarySearch(t.vis, int32(row))
	if !ok {
		return -1
	}
	return k
}

func (t *Table) isVisible(row int) bool { return t.visIndex(row) >= 0 }

func (t *Table) hasChildren(row int) bool { return t.tree.End(row) > row+1 }

// visibleUnder lists row's descendants that show when row is expanded, given the flags below.
func (t *Table) visibleUnder(row int) []int32 {
	end := t.tree.End(row)
	var out []int32
	for j := row + 1; j < end; {
		out = append(out, int32(j))
		if t.expanded[j] {
			j++
		} else {
			j = t.tree.End(j)
		}
	}
	return out
}

// spliceOpen inserts the visible descendants of the visible row at vis index k.
func (t *Table) spliceOpen(k int) {
	add := t.visibleUnder(int(t.vis[k]))
	t.vis = slices.Insert(t.vis, k+1, add...)
}

// spliceClose removes whatever is shown under the visible row at vis index k.
func (t *Table) spliceClose(k int) {
	end := int32(t.tree.End(int(t.vis[k])))
	stop, _ := slices.BinarySearch(t.vis[k+1:], end)
	t.vis = slices.Delete(t.vis, k+1, k+1+stop)
}

// Expand opens the cursor row. It reports whether anything changed.
func (t *Table) Expand() bool {
	r := t.CursorRow()
	if r < 0 || !t.hasChildren(r) || t.expanded[r] {
		return false
	}
	t.expanded[r] = true
	t.spliceOpen(t.cursor)
	return true
}

// Collapse closes the cursor row; on a leaf or closed row it moves to the parent instead,
// the way file trees do.
func (t *Table) Collapse() bool {
	r := t.CursorRow()
	if r < 0 {
		return false
	}
	if t.hasChildren(r) && t.expanded[r] {
		t.expanded[r] = false
		t.spliceClose(t.cursor)
		t.scrollToCursor()
		return true
	}
	if p := t.tree.Parent(r); p >= 0 {
		t.cursor = t.visIndex(p)
		t.scrollToCursor()
		return true
	}
	return false
}

// Toggle expands or collapses the cursor row.
func (t *Table) Toggle() bool {
	r := t.CursorRow()
	if r < 0 || !t.hasChildren(r) {
		return false
	}
	if t.expanded[r] {
		return t.Collapse()
	}
	return t.Expand()
}

// ExpandSubtree opens the cursor row and everything under it.
func (t *Table) ExpandSubtree() {
	r := t.CursorRow()
	if r < 0 {
		return
	}
	if t.expanded[r] {
		t.spliceClose(t.cursor)
	}
	for j := r; j < t.tree.End(r); j++ {
		if t.hasChildren(j) {
			t.expanded[j] = true
		}
	}
	t.spliceOpen(t.cursor)
}

// CollapseSubtree closes the cursor row and everything under it.
func (t *Table) CollapseSubtree() {
	r := t.CursorRow()
	if r < 0 {
		return
	}
	if t.expanded[r] {
		t.spliceClose(t.cursor)
	}
	for j := r; j < t.tree.End(r); j++ {
		t.expanded[j] = false
	}
	t.scrollToCursor()
}

// ExpandAll opens every row.
func (t *Table) ExpandAll() { t.ExpandToLevel(1 << 30) }

// CollapseAll shows only the roots.
func (t *Table) CollapseAll() { t.ExpandToLevel(1) }

// ExpandToLevel shows rows down to depth level-1 (level 1 is the roots alone), keeping the
// cursor on its row or its nearest ancestor that stays visible.
func (t *Table) ExpandToLevel(level int) {
	r := t.CursorRow()
	if level <= 1 {
		t.away = nil // collapse all means all, also rows a filter hides for now
	}
	for i := range t.expanded {
		t.expanded[i] = t.tree.Depth(i) < level-1 && t.hasChildren(i)
	}
	t.rebuildVisible()
	if r >= 0 {
		for !t.isVisible(r) && t.tree.Parent(r) >= 0 {
			r = t.tree.Parent(r)
		}
		t.cursor = max(t.visIndex(r), 0)
	}
	t.clampCursor()
	t.scrollToCursor()
}

// IsExpanded reports whether row is open.
func (t *Table) IsExpanded(row int) bool { return row >= 0 && row < len(t.expanded) && t.expanded[row] }

// ExpandedIDs lists the ids of open rows, for saving as a preference.
func (t *Table) ExpandedIDs() []string {
	var out []string
	for i, e := range t.expanded {
		if e {
			out = append(out, t.tree.ID(i))
		}
	}
	var away []string // open rows a filter hides for now
	for id := range t.away {
		away = append(away, id)
	}
	slices.Sort(away)
	return append(out, away...)
}

// RestoreExpanded opens the rows whose ids are given (a saved preference).
func (t *Table) RestoreExpanded(ids []string) {
	if len(ids) == 0 {
		return
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	for i := range t.expanded {
		id := t.tree.ID(i)
		if want[id] && t.hasChildren(i) {
			t.expanded[i] = true
		}
		delete(want, id)
	}
	for id := range want {
		// Not in this forest (the saved filter hides it): open when it comes back.
		if t.away == nil {
			t.away = map[string]bool{}
		}
		t.away[id] = true
	}
	t.rebuildVisible()
	t.clampCursor()
	t.scrollToCursor()
}

// Move moves the cursor by delta visible rows.
func (t *Table) Move(delta int) {
	t.cursor += delta
	t.clampCursor()
	t.scrollToCursor()
}

// Top and Bottom jump to the first and last visible rows.
func (t *Table) Top()    { t.cursor = 0; t.scrollToCursor() }
func (t *Table) Bottom() { t.cursor = max(len(t.vis)-1, 0); t.scrollToCursor() }

// HalfPage is how far ctrl+d / ctrl+u move.
func (t *Table) HalfPage() int { return max(t.height/2, 1) }

// ReturnTo puts the cursor back on the visible row with id (where a search started); it
// stays where it is when that row is not visible.
func (t *Table) ReturnTo(id string) {
	if k := t.visIndexOfID(id); k >= 0 {
		t.cursor = k
		t.scrollToCursor()
	}
}

// GoToID puts the cursor on the row with id, expanding its ancestors. It reports success.
func (t *Table) GoToID(id string) bool {
	for i := 0; i < t.tree.Len(); i++ {
		if t.tree.ID(i) == id {
			t.GoToRow(i)
			return true
		}
	}
	return false
}

// GoToRow puts the cursor on a forest row, expanding its ancestors.
func (t *Table) GoToRow(row int) {
	var chain []int
	for p := t.tree.Parent(row); p >= 0; p = t.tree.Parent(p) {
		chain = append(chain, p)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		p := chain[i]
		if !t.expanded[p] {
			t.expanded[p] = true
			t.spliceOpen(t.visIndex(p))
		}
	}
	t.cursor = t.visIndex(row)
	t.scrollToCursor()
}

// SetCursorScreenRow moves the cursor to the row drawn on body line y (mouse clicks).
func (t *Table) SetCursorScreenRow(y int) bool {
	k := t.offset + y
	if y < 0 || k >= len(t.vis) {
		return false
	}
	t.cursor = k
	return true
}

// Scroll moves the window by delta rows, dragging the cursor along when it would leave it.
func (t *Table) Scroll(delta int) {
	t.offset = min(max(t.offset+delta, 0), max(len(t.vis)-t.height, 0))
	t.cursor = min(max(t.cursor, t.offset), t.offset+t.height-1)
	t.clampCursor()
}

func (t *Table) clampCursor() {
	t.cursor = min(max(t.cursor, 0), max(len(t.vis)-1, 0))
}

func (t *Table) scrollToCursor() {
	if t.height <= 0 {
		return
	}
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+t.height {
		t.offset = t.cursor - t.height + 1
	}
	t.offset = min(max(t.offset, 0), max(len(t.vis)-t.height, 0))
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
}

// visibleColumns lists the shown column indexes: frozen ones first, then scrollables.
func (t *Table) visibleColumns() (frozen, scroll []int) {
	for i, c := range t.tree.Columns() {
		if t.hidden[c.Title] {
			continue
		}
		if c.Frozen || i == 0 {
			frozen = append(frozen, i)
		} else {
			scroll = append(scroll, i)
		}
	}
	return frozen, scroll
}

// MoveColumn moves the column cursor by delta among shown columns and scrolls sideways to it.
func (t *Table) MoveColumn(delta int) {
	frozen, scroll := t.visibleColumns()
	all := append(slices.Clone(frozen), scroll...)
	if len(all) == 0 {
		return
	}
	k := max(slices.Index(all, t.colCur), 0)
	k = min(max(k+delta, 0), len(all)-1)
	t.colCur = all[k]
	if s := slices.Index(scroll, t.colCur); s >= 0 {
		if s < t.colOff {
			t.colOff = s
		}
		// Scroll right until the column fits; layout tells how many scrollables fit.
		for t.colOff < s && !slices.Contains(t.layout().shown, t.colCur) {
			t.colOff++
		}
	}
}

// ResizeColumn widens (delta > 0) or narrows the column under the cursor.
func (t *Table) ResizeColumn(delta int) {
	cols := t.tree.Columns()
	if t.colCur >= len(cols) {
		return
	}
	title := cols[t.colCur].Title
	w, ok := t.widths[title]
	if !ok {
		w = t.layout().width[t.colCur]
	}
	least := 3
	if t.colCur == 0 {
		least = t.treeFloor()
	}
	t.widths[title] = min(max(w+delta, least), 200)
}

// treeFloor is the narrowest the tree column may be made: wide enough for every row on
// screen to show its guides and its key (up to 16 cells of it), else < could narrow it
// until the keys were gone.
func (t *Table) treeFloor() int {
	least := 3
	end := min(t.offset+max(t.height, 1), len(t.vis))
	for k := t.offset; k < end; k++ {
		row := int(t.vis[k])
		text := min(ansi.StringWidth(t.tree.Cell(row, 0).Text), 16)
		least = max(least, (t.tree.Depth(row)+1)*indentWidth+text)
	}
	return min(least, maxTreeWidth)
}

// Widths returns the user-chosen widths by column title (a preference).
func (t *Table) Widths() map[string]int { return t.widths }

// SetWidths restores user-chosen widths.
func (t *Table) SetWidths(w map[string]int) {
	t.widths = map[string]int{}
	for k, v := range w {
		t.widths[k] = v
	}
}

// SetHidden sets which columns (by title) are not drawn.
func (t *Table) SetHidden(h map[string]bool) {
	t.hidden = map[string]bool{}
	for k, v := range h {
		if v {
			t.hidden[k] = true
		}
	}
	t.colOff = 0
}

// Hidden returns the hidden columns by title.
func (t *Table) Hidden() map[string]bool { return t.hidden }

// SetQuery sets the search text highlighted in cells.
func (t *Table) SetQuery(q string) { t.query = q }

// SetFlash sets the row ids drawn with the flash style (recently changed rows).
func (t *Table) SetFlash(ids map[string]bool) { t.flash = ids }

// Find moves the cursor to the next (dir > 0) or previous visible row, starting at from
// (inclusive), whose cells contain q (case-insensitive). It wraps and reports success.
func (t *Table) Find(q string, from, dir int) bool {
	n := len(t.vis)
	if q == "" || n == 0 {
		return false
	}
	q = strings.ToLower(q)
	cols := len(t.tree.Columns())
	for step := 0; step < n; step++ {
		k := ((from+dir*step)%n + n) % n
		row := int(t.vis[k])
		for c := 0; c < cols; c++ {
			if strings.Contains(strings.ToLower(t.tree.Cell(row, c).Text), q) {
				t.cursor = k
				t.scrollToCursor()
				return true
			}
		}
	}
	return false
}

// colLayout is where the columns go on screen for the current window.
type colLayout struct {
	frozen, shown []int // column indexes drawn, frozen first
	width         []int // by column index
	moreLeft      bool  // scrollable columns hidden to the left
	moreRight     bool
}

const (
	maxTreeWidth = 48
	maxColWidth  = 40
	indentWidth  = 2
	// minScrollWidth is the least room frozen columns leave for the first scrollable one.
	minScrollWidth = 12
)

// layout fits the columns to the window's content: widths only grow while the same tree is
// shown, so scrolling does not make columns jump.
func (t *Table) layout() colLayout {
	cols := t.tree.Columns()
	if len(t.fit) != len(cols) {
		t.fit = make([]int, len(cols))
	}
	end := min(t.offset+t.height, len(t.vis))
	for c, col := range cols {
		w := max(t.fit[c], ansi.StringWidth(col.Title))
		limit := maxColWidth
		if c == 0 {
			limit = maxTreeWidth
		}
		for k := t.offset; k < end; k++ {
			row := int(t.vis[k])
			cw := ansi.StringWidth(t.tree.Cell(row, c).Text)
			if t.overlay != nil {
				if v, ok := t.overlay[t.tree.ID(row)][c]; ok {
					cw = max(cw, ansi.StringWidth(v)+2) // "✎ " and the pending value
				}
			}
			if c == 0 {
				cw += (t.tree.Depth(row) + 1) * indentWidth
			}
			w = max(w, min(cw, limit))
		}
		t.fit[c] = w
	}
	lay := colLayout{width: make([]int, len(cols))}
	for c, col := range cols {
		lay.width[c] = t.fit[c]
		if w, ok := t.widths[col.Title]; ok {
			lay.width[c] = w
		}
	}
	frozen, scroll := t.visibleColumns()
	lay.frozen = frozen
	used := 2 // cursor gutter
	for _, c := range frozen {
		used += lay.width[c] + 1
	}
	if t.colOff > len(scroll) {
		t.colOff = 0
	}
	// Room kept for the first scrollable column on screen (the column cursor's, once it
	// moved there): without it a wide Status column never showed at 80 columns, and the
	// cursor edited a cell that was not on screen.
	reserve := 0
	if t.colOff < len(scroll) {
		reserve = min(lay.width[scroll[t.colOff]], minScrollWidth) + 1
	}
	// The summary-like frozen columns give way on narrow terminals: shrink the widest frozen
	// column (never below 12) so at least the tree column and a little more fit.
	for used+reserve > t.width && len(frozen) > 0 {
		wi := frozen[0]
		for _, c := range frozen {
			if lay.width[c] > lay.width[wi] {
				wi = c
			}
		}
		if lay.width[wi] <= 12 {
			break
		}
		cut := min(used+reserve-t.width, lay.width[wi]-12)
		lay.width[wi] -= cut
		used -= cut
	}
	lay.shown = slices.Clone(frozen)
	lay.moreLeft = t.colOff > 0
	for i := t.colOff; i < len(scroll); i++ {
		c := scroll[i]
		if used+lay.width[c]+1 > t.width {
			// The first scrollable column shows cut to the room left rather than not at all.
			room := t.width - used - 1
			if i+1 < len(scroll) {
				room-- // for the more-right marker
			}
			if i == t.colOff && room >= 3 {
				lay.width[c] = room
				lay.shown = append(lay.shown, c)
				used += room + 1
				i++
			}
			lay.moreRight = i < len(scroll)
			break
		}
		used += lay.width[c] + 1
		lay.shown = append(lay.shown, c)
	}
	if n := len(lay.shown); lay.moreRight && used >= t.width && n > len(frozen) {
		lay.width[lay.shown[n-1]]-- // the more-right marker takes the last cell
	}
	return lay
}

// guide draws the tree guides and the expander for row: one two-cell slot per level.
func (t *Table) guide(row int) string {
	d := t.tree.Depth(row)
	var b strings.Builder
	if d > 0 {
		slots := make([]string, d)
		p := t.tree.Parent(row)
		last := t.tree.End(row) == t.tree.End(p)
		if last {
			slots[d-1] = "└─"
		} else {
			slots[d-1] = "├─"
		}
		for a, lvl := p, d-2; lvl >= 0 && a >= 0; a, lvl = t.tree.Parent(a), lvl-1 {
			pa := t.tree.Parent(a)
			if pa >= 0 && t.tree.End(a) != t.tree.End(pa) {
				slots[lvl] = "│ "
			} else {
				slots[lvl] = "  "
			}
		}
		for _, s := range slots {
			b.WriteString(s)
		}
	}
	switch {
	case !t.hasChildren(row):
		b.WriteString("· ")
	case t.expanded[row]:
		b.WriteString("▾ ")
	default:
		b.WriteString("▸ ")
	}
	return b.String()
}

// View draws the header and the window of visible rows.
func (t *Table) View(th *Theme) string {
	var b strings.Builder
	lay := t.layout()
	cols := t.tree.Columns()
	// header
	b.WriteString("  ")
	for i, c := range lay.shown {
		txt := pad(cols[c].Title, lay.width[c], cols[c].Right)
		if c == t.colCur {
			b.WriteString(th.paintNamed("headerCursor", th.HeaderCursor, txt))
		} else {
			b.WriteString(th.paintNamed("header", th.Header, txt))
		}
		if i == len(lay.frozen)-1 && lay.moreLeft {
			// Columns are scrolled away to the left: the gap before the first one shown
			// says so, rather than taking a cell of its title.
			b.WriteString("‹")
		} else {
			b.WriteByte(' ')
		}
	}
	if lay.moreRight {
		b.WriteString("›")
	}
	b.WriteByte('\n')
	end := min(t.offset+t.height, len(t.vis))
	for k := t.offset; k < end; k++ {
		row := int(t.vis[k])
		cur := k == t.cursor
		id := t.tree.ID(row)
		mark := " "
		switch {
		case t.cutID != "" && id == t.cutID:
			mark = "✂"
		case t.marks[id]:
			mark = "●"
		}
		if cur {
			b.WriteString(th.paintNamed("cursor", th.Cursor, "▌"+mark))
		} else if mark != " " {
			b.WriteString(" " + th.paintNamed("marked", th.Marked, mark))
		} else {
			b.WriteString("  ")
		}
		ov := t.overlay[id]
		for _, c := range lay.shown {
			cell := t.tree.Cell(row, c)
			text := cell.Text
			pending := false
			if v, ok := ov[c]; ok {
				// A value on its way to Jira: shown, marked as not yet there.
				text, pending = "✎ "+v, true
			}
			w := lay.width[c]
			if c == 0 {
				g := t.guide(row)
				gw := ansi.StringWidth(g)
				b.WriteString(th.paintNamed("guide", th.Guide, ansi.Truncate(g, w, "")))
				w = max(w-gw, 0)
			}
			txt := pad(text, w, cols[c].Right)
			switch {
			case pending:
				b.WriteString(th.paintNamed("pending", th.Pending, txt))
			case cur:
				b.WriteString(th.paintNamed("cursor", th.Cursor, txt))
			case t.flash[id]:
				b.WriteString(th.paintNamed("flash", th.Flash, txt))
			default:
				b.WriteString(th.renderCell(cell, txt, t.query))
			}
			b.WriteByte(' ')
		}
		b.WriteByte('\n')
	}
	for k := end - t.offset; k < t.height; k++ {
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// pad truncates or pads s to exactly w cells.
func pad(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	if right {
		return strings.Repeat(" ", w-sw) + s
	}
	return s + strings.Repeat(" ", w-sw)
}
