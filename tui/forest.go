package tui

import (
	"context"
	"fmt"
	"strings"

	"foundation/jql"
	"foundation/lens"
)

// NewBuilt adapts a built Lens to the TUI for one view ("" for the default), narrowed by a
// JQL filter ("" for none). The filter keeps matching issue rows and the rows above them, so
// a match never loses its place in the tree; a filter that does not parse or compile returns
// the *jql.Error the TUI shows at its column. A Backend's Build is lens.Build plus this.
func NewBuilt(f *lens.Forest, view, filter string, env jql.Env) (*Built, error) {
	return NewBuiltContext(context.Background(), f, view, filter, env)
}

// NewBuiltContext is NewBuilt that gives up with ctx's error once ctx is done: on a big
// Lens the filter reads every issue, and the TUI stops a build whose text was replaced.
func NewBuiltContext(ctx context.Context, f *lens.Forest, view, filter string, env jql.Env) (*Built, error) {
	if _, err := f.View(view); err != nil { // a view that is gone says so before the filter
		return nil, fmt.Errorf("view %q: %w", view, err)
	}
	if strings.TrimSpace(filter) == "" {
		return NewBuiltMatching(f, view, nil)
	}
	q, err := jql.Parse(filter)
	if err != nil {
		return nil, err
	}
	match, err := q.Compile(env)
	if err != nil {
		return nil, err
	}
	b, err := NewBuiltMatching(f, view, untilDone(ctx, f.MatchJQL(match)))
	if err == nil {
		err = ctx.Err() // a filter cut short kept too few rows
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// untilDone is match until ctx is done, looked at every few thousand issues; then it
// matches nothing, quickly.
func untilDone(ctx context.Context, match func(*lens.Issue) bool) func(*lens.Issue) bool {
	n, done := 0, false
	return func(is *lens.Issue) bool {
		if n++; n%4096 == 0 {
			done = done || ctx.Err() != nil
		}
		return !done && match(is)
	}
}

// NewBuiltMatching is NewBuilt with the filter given as a predicate on issues (nil keeps
// every row): for a filter Jira answered, the issues whose keys it returned.
func NewBuiltMatching(f *lens.Forest, view string, match func(*lens.Issue) bool) (*Built, error) {
	v, err := f.View(view)
	if err != nil {
		return nil, fmt.Errorf("view %q: %w", view, err)
	}
	ft := &forestTree{f: f, v: v}
	if match != nil {
		ft.subset(f.Matching(match))
	}
	return ft.built(), nil
}

// built wraps the tree as a Built. Switch shares the rows (and the filtered subset) with
// every view of the same forest, so the table sees the same rows and keeps its state in O(1).
func (ft *forestTree) built() *Built {
	ft.layoutColumns()
	f := ft.f
	var views []string
	for _, vd := range f.Definition().Views {
		views = append(views, vd.Name)
	}
	return &Built{
		Tree:  ft,
		Views: views,
		View:  ft.v.Name(),
		Total: len(f.Rows),
		Issue: func(row int) *lens.Issue { return f.Rows[ft.row(row)].Issue },
		Group: func(row int) *lens.GroupInfo { return f.Group(ft.row(row)) },
		Notes: f.Notes,
		Switch: func(other string) (*Built, error) {
			v, err := f.View(other)
			if err != nil {
				return nil, fmt.Errorf("view %q: %w", other, err)
			}
			return (&forestTree{f: f, v: v, filtered: ft.filtered, rows: ft.rows, parent: ft.parent, end: ft.end}).built(), nil
		},
	}
}

// sameRowsAs reports cheaply that o shows exactly t's rows: the same forest and subset.
func (t *forestTree) sameRowsAs(o Tree) bool {
	ot, ok := o.(*forestTree)
	if !ok || ot.f != t.f || ot.filtered != t.filtered || len(ot.rows) != len(t.rows) {
		return false
	}
	return len(t.rows) == 0 || &ot.rows[0] == &t.rows[0]
}

// WithColumns returns a copy of d whose view (the default view for "") ends with a column
// for each of fields: the columns a viewer added for themselves in the TUI. The stored
// definition is untouched. An unknown field makes lens.Build fail with a message naming it.
func WithColumns(d *lens.Definition, view string, fields []string) (*lens.Definition, error) {
	if len(fields) == 0 {
		return d, nil
	}
	src, err := d.Format()
	if err != nil {
		return nil, fmt.Errorf("copy Lens %q: %w", d.Name, err)
	}
	c, err := lens.Parse(d.Filename(), src)
	if err != nil {
		return nil, fmt.Errorf("copy Lens %q: %w", d.Name, err)
	}
	if view == "" {
		view = c.DefaultView()
	}
	for i := range c.Views {
		if c.Views[i].Name == view {
			for _, f := range fields {
				c.Views[i].Columns = append(c.Views[i].Columns, lens.ColumnDef{Field: f})
			}
			return c, nil
		}
	}
	return nil, fmt.Errorf("Lens %q has no view %q", d.Name, view)
}

// forestTree is a lens view as a Tree: a frozen Key column (the tree column), a frozen
// Summary column unless the view has its own, then the view's columns.
type forestTree struct {
	f    *lens.Forest
	v    *lens.View
	cols []Column
	src  []int // per shown column: view column index, or colKey / colSummary
	// A filtered forest keeps a subset of rows: rows maps shown row -> forest row and parent
	// and end are recomputed for it. Unfiltered, all rows show as they are.
	filtered    bool
	rows        []int32
	parent, end []int32
}

// readOnlyFields are fields Jira computes: their columns are never offered for editing, so
// enter on them opens the detail pane like on the key column.
var readOnlyFields = map[string]bool{
	"key": true, "created": true, "updated": true, "project": true, "statuscategory": true,
	"resolutiondate": true, "creator": true, "lastviewed": true, "rank": true, "id": true,
}

const (
	colKey     = -1
	colSummary = -2
)

func (t *forestTree) layoutColumns() {
	vc := t.v.Columns()
	// The view's definition says which columns are plain fields (editable cells).
	var defCols []lens.ColumnDef
	for _, vd := range t.f.Definition().Views {
		if vd.Name == t.v.Name() {
			defCols = vd.Columns
		}
	}
	t.cols = []Column{{Title: "Key", Frozen: true}}
	t.src = []int{colKey}
	hasSummary := false
	for _, c := range vc {
		if c.ID == "summary" {
			hasSummary = true
		}
	}
	if !hasSummary {
		t.cols = append(t.cols, Column{Title: "Summary", Frozen: true, Field: "summary"})
		t.src = append(t.src, colSummary)
	}
	for i, c := range vc {
		if c.ID == "key" && c.Kind == lens.ColField {
			continue // the frozen tree column already shows the key
		}
		col := Column{Title: c.Title, Frozen: c.ID == "summary", Right: c.Align == lens.AlignRight,
			Aggregate: c.Kind == lens.ColRollup || c.Kind == lens.ColProgress}
		if c.Kind == lens.ColField && len(defCols) == len(vc) && !readOnlyFields[strings.ToLower(defCols[i].Field)] {
			col.Field = defCols[i].Field
		}
		t.cols = append(t.cols, col)
		t.src = append(t.src, i)
	}
}

// subset keeps the rows marked (an ancestor-closed set) in depth-first order.
func (t *forestTree) subset(keep []bool) {
	t.filtered = true
	n := len(keep)
	pos := make([]int32, n)
	before := make([]int32, n+1) // kept rows among the first j
	for i := 0; i < n; i++ {
		before[i+1] = before[i]
		pos[i] = -1
		if keep[i] {
			pos[i] = before[i]
			before[i+1]++
			t.rows = append(t.rows, int32(i))
		}
	}
	t.parent = make([]int32, len(t.rows))
	t.end = make([]int32, len(t.rows))
	for k, r := range t.rows {
		row := &t.f.Rows[r]
		t.parent[k] = -1
		if row.Parent >= 0 {
			t.parent[k] = pos[row.Parent]
		}
		t.end[k] = before[row.End]
	}
}

func (t *forestTree) row(i int) int {
	if !t.filtered {
		return i
	}
	return int(t.rows[i])
}

func (t *forestTree) Len() int {
	if !t.filtered {
		return len(t.f.Rows)
	}
	return len(t.rows)
}

func (t *forestTree) Depth(i int) int { return int(t.f.Rows[t.row(i)].Depth) }

func (t *forestTree) Parent(i int) int {
	if !t.filtered {
		return int(t.f.Rows[i].Parent)
	}
	return int(t.parent[i])
}

func (t *forestTree) End(i int) int {
	if !t.filtered {
		return int(t.f.Rows[i].End)
	}
	return int(t.end[i])
}

func (t *forestTree) ID(i int) string   { return t.f.Rows[t.row(i)].Path }
func (t *forestTree) Columns() []Column { return t.cols }

func (t *forestTree) Cell(i, c int) Cell {
	r := t.row(i)
	row := &t.f.Rows[r]
	switch t.src[c] {
	case colKey:
		if row.Issue != nil {
			return Cell{Text: row.Issue.Key, Tone: ToneAccent}
		}
		return Cell{Text: row.Label, Bold: true}
	case colSummary:
		if row.Issue != nil {
			return Cell{Text: row.Issue.Summary}
		}
		return Cell{Text: fmt.Sprintf("%d rows", row.End-int32(r)-1), Tone: ToneMuted}
	}
	lc := t.v.Cell(r, t.src[c])
	st := lc.Style
	out := Cell{Text: lc.Display, Bold: st.Bold, Italic: st.Italic, Underline: st.Underline, Faint: st.Faint, Strike: st.Strike}
	if tn, ok := semanticTone(st.Fg); ok {
		out.Tone = tn
	} else {
		out.FG = colorName(st.Fg)
	}
	out.BG = colorName(st.Bg)
	if lc.Kind == lens.KindError {
		out.Tone = ToneBad
	}
	if row.Issue == nil {
		out.Bold = true
	}
	return out
}

// semanticTone maps a Lens style's semantic foreground names to theme tones.
func semanticTone(name string) (Tone, bool) {
	switch name {
	case "default":
		return ToneNormal, true
	case "muted":
		return ToneMuted, true
	case "accent", "info":
		return ToneAccent, true
	case "success":
		return ToneGood, true
	case "warning":
		return ToneWarn, true
	case "danger":
		return ToneBad, true
	}
	return ToneNormal, false
}

// colorName turns the color words a Lens definition may use into what lipgloss takes (hex
// and ANSI numbers pass through).
func colorName(s string) string {
	switch strings.ToLower(s) {
	case "black":
		return "0"
	case "red":
		return "1"
	case "green":
		return "2"
	case "yellow":
		return "3"
	case "blue":
		return "4"
	case "magenta":
		return "5"
	case "cyan":
		return "6"
	case "white":
		return "7"
	case "gray", "grey", "muted":
		return "8"
	case "danger":
		return "1"
	case "success":
		return "2"
	case "warning":
		return "3"
	case "accent", "info":
		return "4"
	case "default":
		return ""
	}
	return s
}
