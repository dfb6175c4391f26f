package lens

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestNeedsRaw(t *testing.T) {
	const col = "views: [{name: v, columns: [{field: key}]}]\n"
	tests := []struct {
		name, src string
		want      bool
	}{
		{"extracted fields only", "name: x\ngenerators: [{insert: {jql: \"project = ALPHA AND status != Done ORDER BY rank\"}}, {extend: {by: parent}}, {group: {by: assignee}}, {sort: {by: [-updated]}}]\nviews: [{name: v, columns: [{field: key}, {field: story points}, {rollup: {op: sum, field: story points}}, {progress: {by: status, weight: story points}}, {id: f, formula: \"points * 2\"}]}]\n", false},
		{"custom field column", "name: x\nviews: [{name: v, columns: [{field: Team}]}]\n", true},
		{"description column", "name: x\nviews: [{name: v, columns: [{field: description}]}]\n", true},
		{"sprint jql insert", "name: x\ngenerators: [{insert: {jql: \"sprint in openSprints()\"}}]\n" + col, true},
		{"custom field jql filter", "name: x\ngenerators: [{filter: {jql: \"cf[10050] = Red\"}}]\n" + col, true},
		{"component jql in a folder", "name: x\nfolders: [{name: f, generators: [{insert: {jql: \"component = api\"}}]}]\n" + col, true},
		{"group by custom field", "name: x\ngenerators: [{group: {by: Team}}]\n" + col, true},
		{"filter column on custom field", "name: x\ngenerators: [{filter: {column: Team, op: \"=\", value: Red}}]\n" + col, true},
		{"sort by custom field", "name: x\ngenerators: [{sort: {by: [Target start]}}]\n" + col, true},
		{"rollup of a raw number", "name: x\nviews: [{name: v, columns: [{rollup: {op: sum, field: Original estimate}}]}]\n", true},
		{"estimate weights", "name: x\nviews: [{name: v, columns: [{progress: {by: status, weight: estimate}}]}]\n", true},
		{"progress by raw field", "name: x\nviews: [{name: v, columns: [{progress: {by: field, field: Original estimate}}]}]\n", true},
		{"invalid definition", "name: x\nviews: [{name: v, columns: [{field: nope}]}]\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse("t.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if got := d.NeedsRaw(testFields); got != tc.want {
				t.Errorf("NeedsRaw = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNeedsRawAgreesWithBuild checks the point of NeedsRaw: when it says false, a build
// over issues stripped of their raw JSON renders exactly what a build over full issues does.
func TestNeedsRawAgreesWithBuild(t *testing.T) {
	for _, name := range []string{"roadmap", "bugs"} {
		t.Run(name, func(t *testing.T) {
			d := exampleDefinition(t, name)
			full := testData(4)
			if d.NeedsRaw(full.Fields) {
				t.Skipf("%s needs raw fields", name)
			}
			bare := &Data{Fields: full.Fields, Users: full.Users, Dialect: full.Dialect, Now: full.Now,
				CurrentUser: full.CurrentUser, Links: full.Links, Issues: make([]Issue, len(full.Issues))}
			for i, is := range full.Issues {
				is.Fields = nil
				bare.Issues[i] = is
			}
			a, b := renderAll(t, d, full), renderAll(t, d, bare)
			if a != b {
				t.Errorf("build without raw fields differs:\n%s\n---\n%s", a, b)
			}
		})
	}
}

func exampleDefinition(t *testing.T, name string) *Definition {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(name+".yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// renderAll renders every view of d over data as JSON, the export that carries the most.
func renderAll(t *testing.T, d *Definition, data *Data) string {
	t.Helper()
	f, err := Build(d, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, v := range d.Views {
		if err := Render(&buf, f, v.Name, "json", RenderOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}
