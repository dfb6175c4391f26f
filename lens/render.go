package lens

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Formats lists the export formats Render writes.
var Formats = []string{"csv", "tsv", "json", "md"}

// RenderOptions choose which rows an export carries.
type RenderOptions struct {
	// Depth leaves out rows at depth Depth and deeper; 0 exports every level. The CLI's
	// --expand N is Depth N+1.
	Depth int
	// Expanded, when not nil, exports a row only if every row above it is expanded (its
	// path maps to true), as the TUI shows it.
	Expanded map[string]bool
	// Match, when not nil, exports only the issue rows it accepts and the rows above them,
	// as the TUI's filter shows them.
	Match func(*Issue) bool
}

// Render writes the forest through a view as csv, tsv, json or md. csv, tsv and json carry
// the row's depth and kind, then its title and the view's columns; JSON carries typed
// values. md has no depth or kind columns: its Row column indents the title by depth and
// sets group and folder titles in bold.
func Render(w io.Writer, f *Forest, view, format string, opts RenderOptions) error {
	v, err := f.View(view)
	if err != nil {
		return err
	}
	rows := v.exported(opts)
	bw := bufio.NewWriter(w)
	switch format {
	case "csv", "tsv":
		err = v.renderCSV(bw, rows, format == "tsv")
	case "json":
		err = v.renderJSON(bw, rows)
	case "md":
		err = v.renderMD(bw, rows)
	default:
		return fmt.Errorf("lens: unknown export format %q; valid: %s", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("lens: render %s: %w", format, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("lens: render %s: %w", format, err)
	}
	return nil
}

// exported lists the rows the options keep.
func (v *View) exported(opts RenderOptions) []int {
	rows := v.f.Rows
	var keep []bool
	if opts.Match != nil {
		keep = v.f.Matching(opts.Match)
	}
	out := make([]int, 0, len(rows))
	for i := 0; i < len(rows); {
		r := &rows[i]
		if opts.Depth > 0 && int(r.Depth) >= opts.Depth || keep != nil && !keep[i] {
			i = int(r.End) // a row left out takes its subtree along; a kept row's ancestors are kept
			continue
		}
		out = append(out, i)
		if opts.Expanded != nil && !opts.Expanded[r.Path] {
			i = int(r.End)
			continue
		}
		i++
	}
	return out
}

func (v *View) renderCSV(w io.Writer, rows []int, tsv bool) error {
	cols := v.Columns()
	header := []string{"Depth", "Kind", "Row"}
	for _, c := range cols {
		header = append(header, c.Title)
	}
	if tsv {
		// Plain TSV as scripts expect: no quoting, so tabs and newlines in values become
		// spaces.
		clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
		line := func(fs []string) error {
			for i := range fs {
				fs[i] = clean.Replace(fs[i])
			}
			_, err := io.WriteString(w, strings.Join(fs, "\t")+"\n")
			return err
		}
		if err := line(header); err != nil {
			return err
		}
		for _, i := range rows {
			if err := line(v.textRow(i, cols)); err != nil {
				return err
			}
		}
		return nil
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, i := range rows {
		if err := cw.Write(v.textRow(i, cols)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (v *View) textRow(i int, cols []Column) []string {
	r := &v.f.Rows[i]
	out := []string{strconv.Itoa(int(r.Depth)), r.Kind.String(), r.Title()}
	for c := range cols {
		out = append(out, v.Cell(i, c).Display)
	}
	return out
}

func (v *View) renderMD(w io.Writer, rows []int) error {
	cols := v.Columns()
	// A cell is one line of inline text: a tab or line break would end the row or break
	// its alignment, and a pipe would end the cell, unless escaped, as is a backslash
	// before it.
	esc := strings.NewReplacer(`\`, `\\`, "|", `\|`, "\t", " ", "\n", " ", "\r", " ")
	var b strings.Builder
	b.WriteString("| Row |")
	for _, c := range cols {
		b.WriteString(" " + esc.Replace(c.Title) + " |")
	}
	b.WriteString("\n|---|")
	for _, c := range cols {
		if c.Align == AlignRight {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, i := range rows {
		b.Reset()
		r := &v.f.Rows[i]
		title := esc.Replace(r.Title())
		if r.Kind != RowIssue {
			title = "**" + title + "**"
		}
		b.WriteString("| " + strings.Repeat("\u00a0\u00a0", int(r.Depth)) + title + " |")
		for c := range cols {
			b.WriteString(" " + esc.Replace(v.Cell(i, c).Display) + " |")
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// jsonCell is a typed cell in the JSON export.
type jsonCell struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
	// Values lists a multi-valued field's values one by one, typed (Value joins them).
	Values  []any  `json:"values,omitempty"`
	Display string `json:"display,omitempty"`
	Style   *Style `json:"style,omitempty"`
}

type jsonRow struct {
	Depth int                 `json:"depth"`
	Kind  string              `json:"kind"`
	Key   string              `json:"key,omitempty"`
	Label string              `json:"label,omitempty"`
	Path  string              `json:"path"`
	Cells map[string]jsonCell `json:"cells"`
}

type jsonColumn struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"`
	Multi bool   `json:"multi,omitempty"` // a list field: its cells carry "values"
}

// jsonValue is a value as the JSON export writes it.
func jsonValue(x Value) any {
	switch x.Kind {
	case KindNumber, KindProgress:
		return x.Num
	case KindTime:
		return x.Time.UTC().Format(time.RFC3339)
	}
	return x.Str
}

// renderJSON writes {"lens","view","columns":[...],"rows":[...]} one row per line, so a
// large export streams.
func (v *View) renderJSON(w io.Writer, rows []int) error {
	cols := v.Columns()
	jc := make([]jsonColumn, len(cols))
	multi := make([]bool, len(cols))
	for i, c := range cols {
		multi[i] = v.cv.cols[i].Kind == ColField && v.cv.cols[i].field.multi()
		jc[i] = jsonColumn{c.ID, c.Title, c.Kind.String(), multi[i]}
	}
	head, err := json.Marshal(struct {
		Lens    string       `json:"lens"`
		View    string       `json:"view"`
		Columns []jsonColumn `json:"columns"`
	}{v.f.def.Name, v.cv.name, jc})
	if err != nil {
		return err
	}
	// Splice "rows" into the object so rows can be written one at a time.
	if _, err := w.Write(append(head[:len(head)-1], []byte(",\"rows\":[\n")...)); err != nil {
		return err
	}
	for n, i := range rows {
		r := &v.f.Rows[i]
		jr := jsonRow{Depth: int(r.Depth), Kind: r.Kind.String(), Label: r.Label, Path: r.Path, Cells: make(map[string]jsonCell, len(cols))}
		if r.Issue != nil {
			jr.Key = r.Issue.Key
		}
		for c, col := range cols {
			cell := v.Cell(i, c)
			if cell.Kind == KindEmpty {
				continue
			}
			j := jsonCell{Type: cell.Kind.String(), Value: jsonValue(cell.Value), Display: cell.Display}
			if multi[c] {
				vs := v.values(i, c)
				j.Values = make([]any, len(vs))
				for k, x := range vs {
					j.Values[k] = jsonValue(x)
				}
			}
			if !cell.Style.IsZero() {
				s := cell.Style
				j.Style = &s
			}
			jr.Cells[col.ID] = j
		}
		b, err := json.Marshal(jr)
		if err != nil {
			return err
		}
		if n < len(rows)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "]}\n")
	return err
}
