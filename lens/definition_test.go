package lens

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateErrors(t *testing.T) {
	cat := NewCatalog(testFields)
	tests := []struct {
		name string
		src  string
		want []string // each must appear in the error text
	}{
		{"unknown extend kind with line", `name: roadmap
generators:
  - insert: {jql: "project = ALPHA"}
  - extend:
      by: childs
`, []string{`roadmap.yaml:5: generators[1].extend.by: unknown kind "childs"; valid: parent, subtasks, links`}},
		{"unknown key is a parse error with line", `name: x
generators:
  - insrt: {jql: "project = ALPHA"}
`, []string{"roadmap.yaml:3:", `unknown field "insrt"`}},
		{"several errors together", `name: ""
acl:
  - {principal: "team:x", level: admin}
generators:
  - insert: {jql: "project = = ALPHA"}
  - group: {by: colour}
  - sort: {by: [-nope]}
views:
  - name: v
    columns:
      - field: key
      - formula: "points + bogus"
      - rollup: {op: median, field: story points, over: everything}
    format:
      - {column: missing, op: "~~", value: x, style: {fg: chartreuse}}
`, []string{
			"name: a Lens needs a name",
			`acl[0].principal: principal "team:x": unknown kind "team"`,
			`acl[0].level: unknown level "admin"; valid: view, edit, generators, control`,
			"roadmap.yaml:5: generators[0].insert.jql: Error in the JQL Query",
			`roadmap.yaml:6: generators[1].group.by: unknown field "colour"; valid: key, summary`,
			`generators[2].sort.by[0]: unknown field "nope"`,
			"views[0].columns[1].formula:", "unknown name bogus", "valid names:",
			`views[0].columns[2].rollup.op: unknown roll-up "median"; valid: sum, count, min, max, avg`,
			`views[0].columns[2].rollup.over: unknown "everything"; valid: children, leaves, descendants`,
			`views[0].format[0].column: unknown column "missing"; valid: key,`,
			`views[0].format[0].op: unknown operator "~~"`,
			`views[0].format[0].style.fg: unknown color "chartreuse"`,
		}},
		{"insert JQL Jira would refuse too", `name: x
generators:
  - insert: {jql: "status WAS Done AFTER soon"}
  - insert: {jql: "created > soon AND assignee in membersOf(devs)"}
  - insert: {jql: "Team = red AND status CHANGED"}
`, []string{
			"roadmap.yaml:3: generators[0].insert.jql: Date value 'soon' for predicate 'AFTER' is invalid",
			"roadmap.yaml:4: generators[1].insert.jql: Date value 'soon' for field 'created' is invalid",
		}},
		{"generator with two kinds", `name: x
generators:
  - insert: {keys: [ALPHA-1]}
    sort: {by: [key]}
`, []string{"roadmap.yaml:3: generators[0]: a generator needs exactly one kind; valid: insert, extend, filter, group, sort"}},
		{"bad keys and link options", `name: x
generators:
  - insert: {keys: [alpha-1]}
  - extend: {by: parent, link_type: Blocks, depth: 500}
`, []string{`generators[0].insert.keys[0]: "alpha-1" is not an issue key`, "link_type and direction apply to by: links only", "depth 500 is out of range"}},
		{"nested folder errors name their path", `name: x
folders:
  - name: A
    folders:
      - name: B
        generators:
          - filter: {jql: "status = Done", dedupe: true}
`, []string{"roadmap.yaml:7: folders[0].folders[0].generators[0].filter: filter takes exactly one of jql, column or dedupe"}},
		{"ambiguous field name", `name: x
views:
  - name: v
    columns:
      - field: Dup
`, []string{`field name "Dup" is ambiguous; use one of the ids customfield_1, customfield_2`}},
		{"duplicate column ids and two defaults", `name: x
views:
  - {name: a, default: true, columns: [{field: key}, {field: issuekey, id: key}]}
  - {name: b, default: true, columns: [{field: key}]}
`, []string{`duplicate column id "key"`, "2 views are marked default"}},
	}
	dupCat := NewCatalog(append(append([]Field{}, testFields...), Field{ID: "customfield_1", Name: "Dup"}, Field{ID: "customfield_2", Name: "Dup"}))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse("roadmap.yaml", []byte(tc.src))
			if err == nil {
				c := cat
				if strings.Contains(tc.name, "ambiguous") {
					c = dupCat
				}
				err = d.Validate(c)
			}
			if err == nil {
				t.Fatal("no error")
			}
			var des DefinitionErrors
			if !errors.As(err, &des) {
				t.Fatalf("error %T is not DefinitionErrors: %v", err, err)
			}
			var de *DefinitionError
			if !errors.As(err, &de) || de.File != "roadmap.yaml" {
				t.Fatalf("errors.As(*DefinitionError) = %v", de)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	srcs := map[string][]byte{}
	for _, tc := range generatorCases {
		srcs[tc.name] = []byte(tc.yaml)
	}
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[f] = b
	}
	if len(files) < 3 {
		t.Errorf("found %d example files, want at least 3", len(files))
	}
	for name, src := range srcs {
		t.Run(filepath.Base(name), func(t *testing.T) {
			d, err := Parse(name, src)
			if err != nil {
				t.Fatal(err)
			}
			out, err := d.Format()
			if err != nil {
				t.Fatal(err)
			}
			d2, err := Parse(name, out)
			if err != nil {
				t.Fatalf("reparse: %v\n%s", err, out)
			}
			if !d.Equal(d2) {
				t.Fatalf("round trip changed the definition:\n%s", out)
			}
			out2, err := d2.Format()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(out2) {
				t.Fatalf("Format is not stable:\n%s\n---\n%s", out, out2)
			}
		})
	}
	a, _ := Parse("a", []byte("name: a\n"))
	b, _ := Parse("b", []byte("name: b\n"))
	if a.Equal(b) {
		t.Error("different definitions compare equal")
	}
}

func TestExamplesBuild(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	data := testData(3)
	data.OpenSprints = func() []string { return []string{"Sprint 2"} }
	// What Jira would answer for a query local evaluation cannot (finished.yaml's history
	// search): the issues that are done.
	var done []string
	for _, is := range data.Issues {
		if is.StatusCategory == "done" {
			done = append(done, is.Key)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(filepath.Base(f), b)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(NewCatalog(testFields)); err != nil {
				t.Fatal(err)
			}
			data.RemoteMembers = map[string][]string{}
			for _, q := range d.RemoteQueries() {
				data.RemoteMembers[q] = done
			}
			fo, err := Build(d, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(fo.Rows) == 0 {
				t.Fatal("example built no rows on the test data")
			}
			checkShape(t, fo)
			for _, v := range d.Views {
				golden(t, "example_"+strings.TrimSuffix(filepath.Base(f), ".yaml")+"_"+v.Name+".txt", dump(t, fo, v.Name))
			}
		})
	}
}

func TestParsePrincipal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Principal
		bad  bool
	}{
		{"anyone", Principal{Kind: "anyone"}, false},
		{"user:alice", Principal{"user", "alice"}, false},
		{"group:jira-users", Principal{"group", "jira-users"}, false},
		{"role:ALPHA/Developers", Principal{"role", "ALPHA/Developers"}, false},
		{"role:ALPHA", Principal{}, true},
		{"user:", Principal{}, true},
		{"everyone", Principal{}, true},
	} {
		got, err := ParsePrincipal(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParsePrincipal(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range generatorCases {
		f.Add([]byte(tc.yaml))
	}
	f.Add([]byte("name: x\nviews: [{name: v, columns: [{formula: \"1 +\"}]}]"))
	f.Add([]byte("{"))
	cat := NewCatalog(testFields)
	data := testData(1)
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := Parse("fuzz.yaml", src)
		if err != nil {
			var des DefinitionErrors
			if !errors.As(err, &des) {
				t.Fatalf("Parse error is %T, not DefinitionErrors", err)
			}
			return
		}
		if d.Validate(cat) != nil {
			return
		}
		out, err := d.Format()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("formatted definition does not reparse: %v\n%s", err, out)
		}
		if !d.Equal(d2) {
			t.Fatalf("round trip changed the definition:\n%s", out)
		}
		fo, err := Build(d, data, nil)
		if err != nil {
			return
		}
		for _, v := range d.Views {
			if _, err := fo.View(v.Name); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzFormula(f *testing.F) {
	for _, s := range []string{"points * 2", "days(created, now)", "upper(summary) + key", "has(labels, 'x') ? 1 : 0", "1/0", "summary[5:2]", "sum_sp / count"} {
		f.Add(s)
	}
	data := testData(1)
	venv := &valueEnv{users: data.Users}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := compileFormula(src, []string{"sum_sp", "count"})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "formula ") {
				t.Fatalf("error does not name the formula: %v", err)
			}
			return
		}
		for i := range data.Issues[:3] {
			env := issueEnv(&data.Issues[i], venv, data.Now, nil, nil)
			env["sum_sp"], env["count"] = 3.0, 0.0
			_ = runFormula(p.prog, env)
		}
		_ = runFormula(p.prog, issueEnv(nil, venv, data.Now, nil, p.uses))
	})
}

// A value of the wrong shape is named by its field path and what the field expects, in the
// format's words rather than go-yaml's Go types; a formula written into a sort's by list
// says how a formula sort is written.
func TestShapeErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"name: X\ngenerators:\n  - insert: {jql: \"project = A\"}\n  - sort: {by: [\"-priority\", {formula: \"sp\"}]}\n",
			`all.yaml:4: generators[1].sort.by[1]: expected text, not a mapping; a sort is either by fields ("-field" descending, rank, a column id) or by one formula: sort: {formula: "sp * 2", desc: true}`},
		{"name: X\nfolders:\n  - name: f\n    generators:\n      - sort:\n          by:\n            - -priority\n            - formula: sp\n",
			"all.yaml:8: folders[0].generators[0].sort.by[1]: expected text, not a mapping; a sort is"},
		{"name: [a]\n", "all.yaml:1: name: expected text, not a list"},
		{"name: X\nviews:\n  - name: v\n    default: maybe\n    columns: []\n", "all.yaml:4: views[0].default: expected true or false, not text maybe"},
		{"name: X\nviews:\n  - name: v\n    columns: {field: key}\n", "all.yaml:4: views[0].columns: expected a list, not a mapping"},
	} {
		_, err := Parse("all.yaml", []byte(tc.src))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q):\n got %v\nwant %s", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "Go struct") {
			t.Errorf("the error speaks Go: %v", err)
		}
	}
}
