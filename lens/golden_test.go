package lens

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lens -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file %s:\n--- got\n%s", t.Name(), path, got)
	}
}

// dump renders a forest and view as text: one row per line with its path and cells.
func dump(t *testing.T, f *Forest, view string) []byte {
	t.Helper()
	v, err := f.View(view)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	cols := v.Columns()
	for i := range cols {
		fmt.Fprintf(&b, "col %s %q %s align=%d width=%d\n", cols[i].ID, cols[i].Title, cols[i].Kind, cols[i].Align, cols[i].Width)
	}
	for _, n := range f.Notes {
		fmt.Fprintf(&b, "note %s\n", n)
	}
	for _, p := range v.Problems() {
		fmt.Fprintf(&b, "problem %s\n", p)
	}
	for i := range f.Rows {
		r := &f.Rows[i]
		fmt.Fprintf(&b, "%s%s %s [p=%d e=%d]", strings.Repeat("  ", int(r.Depth)), r.Kind, r.Path, r.Parent, r.End)
		if s := v.RowStyle(i); !s.IsZero() {
			fmt.Fprintf(&b, " row{%s}", s)
		}
		for c := range cols {
			cell := v.Cell(i, c)
			fmt.Fprintf(&b, " | %s", cell.Display)
			if cell.Kind != KindEmpty && cell.Kind != KindText {
				fmt.Fprintf(&b, ":%s", cell.Kind)
			}
			if !cell.Style.IsZero() {
				fmt.Fprintf(&b, "{%s}", cell.Style)
			}
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

const viewsYAML = `
views:
  - name: main
    columns:
      - field: key
      - field: status
      - field: story points
`

// generatorCases cover each generator and column kind alone and together.
var generatorCases = []struct {
	name string
	yaml string
}{
	{"insert_jql", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Epic ORDER BY key DESC"}
` + viewsYAML},
	{"insert_keys", `name: t
generators:
  - insert: {keys: [BETA-3, ALPHA-1, NOPE-1, ALPHA-1]}
` + viewsYAML},
	{"extend_parent_subtasks", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
` + viewsYAML},
	{"extend_depth1", `name: t
generators:
  - insert: {jql: "project = BETA AND issuetype = Epic"}
  - extend: {by: parent, depth: 1}
  - extend: {by: subtasks, depth: 1}
` + viewsYAML},
	{"extend_links", `name: t
generators:
  - insert: {keys: [ALPHA-1]}
  - extend: {by: links, link_type: Blocks, depth: 5}
folders:
  - name: Both ways, any type
    generators:
      - insert: {keys: [ALPHA-2]}
      - extend: {by: links, direction: both, depth: 2}
` + viewsYAML},
	{"filter_jql_keep_ancestors", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
  - filter: {jql: "status = Done", keep_ancestors: true}
` + viewsYAML},
	{"filter_column_lift", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Epic"}
  - extend: {by: parent}
  - filter: {column: story points, op: ">=", value: "5"}
` + viewsYAML},
	{"filter_dedupe", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype in (Epic, Story)"}
  - extend: {by: parent}
  - filter: {dedupe: true}
` + viewsYAML},
	{"group_labels_multi", `name: t
generators:
  - insert: {jql: "project = BETA AND issuetype = Story"}
  - group: {by: labels}
  - sort: {by: [-story points, key]}
` + viewsYAML},
	{"group_priority_then_assignee", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype in (Bug, Story)"}
  - group: {by: priority}
  - group: {by: assignee}
` + viewsYAML},
	{"sort_rank_and_formula", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Story"}
  - sort: {by: [rank]}
folders:
  - name: By formula
    generators:
      - insert: {jql: "project = BETA AND issuetype = Story"}
      - sort: {formula: "points * 10 + len(labels)", desc: true}
` + viewsYAML},
	{"sort_by_rollup_column_and_formula", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
  - sort: {by: [-sp, key]}
folders:
  - name: By open points
    generators:
      - insert: {jql: "project = BETA AND issuetype = Epic"}
      - extend: {by: parent}
      - sort: {formula: "sp * (1 - done)", desc: true}
views:
  - name: main
    columns:
      - field: key
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: done, progress: {by: status, weight: story points}}
      - {id: open, formula: "sp * (1 - done)"}
`},
	{"folders_nested", `name: t
folders:
  - name: Alpha
    generators:
      - insert: {jql: "project = ALPHA AND issuetype = Bug"}
    folders:
      - name: Epics
        generators:
          - insert: {jql: "project = ALPHA AND issuetype = Epic"}
  - name: Beta bugs
    generators:
      - insert: {jql: "project = BETA AND type = Bug"}
` + viewsYAML},
	{"remote_jql", `name: t
generators:
  - insert: {jql: "project = ALPHA AND assignee in membersOf(\"devs\")"}
` + viewsYAML},
	{"columns_all_kinds", `name: t
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
  - group: {by: Team}
views:
  - name: main
    columns:
      - field: key
      - field: summary
      - field: status
      - field: assignee
      - field: labels
      - field: duedate
      - field: created
      - field: Sprint
      - field: Team
      - field: fixVersions
      - field: description
      - field: cf[10016]
      - rollup: {op: sum, field: story points}
      - rollup: {op: count, over: children}
      - rollup: {op: min, field: story points, over: leaves}
      - rollup: {op: max, field: story points}
      - rollup: {op: avg, field: story points}
      - progress: {by: status}
        id: p_status
      - progress: {by: resolution, weight: story points}
        id: p_res
      - progress: {by: status, weight: estimate}
        id: p_est
      - title: Left
        formula: "sum_story_points * (1 - p_res)"
      - title: Age
        formula: "isIssue ? days(created, now) : nil"
      - title: Shout
        formula: "upper(summary)"
      - title: Broken
        formula: "isIssue ? int(summary) : 0"
    format:
      - {column: status, op: "=", value: Done, style: {fg: muted, strike: true}, row: true}
      - {column: sum_story_points, op: ">", value: "10", style: {fg: danger, bold: true}}
      - {column: labels, op: contains, value: front, style: {bg: info}}
      - {column: p_status, op: ">=", value: "50%", style: {fg: success}}
`},
}

func TestBuildGolden(t *testing.T) {
	data := testData(3)
	for _, tc := range generatorCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.name+".yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(NewCatalog(testFields)); err != nil {
				t.Fatal(err)
			}
			f, err := Build(d, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, f)
			golden(t, tc.name+".txt", dump(t, f, ""))
		})
	}
}

// checkShape verifies the flat-forest invariants the TUI relies on.
func checkShape(t *testing.T, f *Forest) {
	t.Helper()
	paths := map[string]bool{}
	for i := range f.Rows {
		r := &f.Rows[i]
		if paths[r.Path] {
			t.Fatalf("row %d: duplicate path %q", i, r.Path)
		}
		paths[r.Path] = true
		if int(r.End) <= i || int(r.End) > len(f.Rows) {
			t.Fatalf("row %d: end %d out of range", i, r.End)
		}
		if r.Parent >= 0 {
			p := &f.Rows[r.Parent]
			if int(r.Parent) >= i || r.End > p.End || r.Depth != p.Depth+1 || !strings.HasPrefix(r.Path, p.Path+"/") {
				t.Fatalf("row %d (%s) inconsistent with parent %d (%s)", i, r.Path, r.Parent, p.Path)
			}
		} else if r.Depth != 0 {
			t.Fatalf("row %d: top row at depth %d", i, r.Depth)
		}
		if (r.Kind == RowIssue) != (r.Issue != nil) {
			t.Fatalf("row %d: kind %s with issue %v", i, r.Kind, r.Issue)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	data := testData(1)
	d, err := Parse("r.yaml", []byte(generatorCases[len(generatorCases)-1].yaml))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Build(d, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format string
		opts   RenderOptions
	}{
		{"csv", RenderOptions{}},
		{"tsv", RenderOptions{Depth: 2}},
		{"json", RenderOptions{}},
		{"md", RenderOptions{Expanded: map[string]bool{f.Rows[0].Path: true}}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, f, "main", tc.format, tc.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, "render."+tc.format, buf.Bytes())
		})
	}
	if err := Render(&bytes.Buffer{}, f, "main", "xml", RenderOptions{}); err == nil || !strings.Contains(err.Error(), "valid: csv, tsv, json, md") {
		t.Errorf("unknown format: got %v", err)
	}
	if err := Render(&bytes.Buffer{}, f, "nope", "csv", RenderOptions{}); err == nil {
		t.Error("unknown view: no error")
	}
}

// TestRenderMDCells: md cells hold any text without breaking the table: tabs and line
// breaks become spaces, pipes and backslashes are escaped, so every line has the header's
// number of cells.
func TestRenderMDCells(t *testing.T) {
	d, err := Parse("md.yaml", []byte("name: MD\ngenerators:\n  - insert: {jql: \"project = ALPHA\"}\nviews:\n  - name: v\n    columns: [{field: key}, {field: summary}, {field: labels}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	summary := "tab\there | pipe\nline\r\nend \\| slash"
	f, err := Build(d, &Data{Issues: []Issue{{Key: "ALPHA-1", Project: "ALPHA", Summary: summary, Labels: []string{"a\tb"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, f, "v", "md", RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if strings.ContainsAny(out, "\t\r") || len(lines) != 3 {
		t.Fatalf("md has tabs, carriage returns or broken lines:\n%q", out)
	}
	cells := func(line string) int { // unescaped pipes, as GitHub's table parser counts them
		n := 0
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		return n
	}
	for _, l := range lines[1:] {
		if cells(l) != cells(lines[0]) {
			t.Errorf("line %q has %d separators, the header %d", l, cells(l), cells(lines[0]))
		}
	}
	if want := `tab here \| pipe line  end \\\| slash`; !strings.Contains(lines[2], want) {
		t.Errorf("summary cell: want %q in %q", want, lines[2])
	}
}
