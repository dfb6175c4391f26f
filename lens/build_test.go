package lens

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t testing.TB, src string) *Definition {
	t.Helper()
	d, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func f64(f float64) *float64 { return &f }

// visibilityData is a small tree: E1 -> S1 (hidden) -> T1, E1 -> S2; S3 is in S1's place
// elsewhere through a link.
func visibilityData() *Data {
	return &Data{Issues: []Issue{
		{Key: "ALPHA-1", Project: "ALPHA", Type: "Epic", Summary: "epic"},
		{Key: "ALPHA-2", Project: "ALPHA", Type: "Story", Parent: "ALPHA-1", StoryPoints: f64(5), SecurityLevel: "Internal", StatusCategory: "done", Labels: []string{"secret"}},
		{Key: "ALPHA-3", Project: "ALPHA", Type: "Sub-task", Subtask: true, Parent: "ALPHA-2", StatusCategory: "new"},
		{Key: "ALPHA-4", Project: "ALPHA", Type: "Story", Parent: "ALPHA-1", StoryPoints: f64(3), StatusCategory: "new"},
		{Key: "ALPHA-5", Project: "ALPHA", Type: "Story", StoryPoints: f64(1), StatusCategory: "new", Labels: []string{"secret"}},
	}, Links: []Link{{Type: "Blocks", From: "ALPHA-4", To: "ALPHA-2"}}}
}

func TestVisibility(t *testing.T) {
	d := mustParse(t, `name: v
generators:
  - insert: {jql: "issuetype = Epic"}
  - insert: {keys: [ALPHA-2, ALPHA-5]}
  - extend: {by: parent}
  - extend: {by: subtasks}
  - extend: {by: links}
folders:
  - name: by label
    generators:
      - insert: {jql: "project = ALPHA"}
      - group: {by: labels}
views:
  - name: v
    columns:
      - field: key
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: n, rollup: {op: count}}
      - {id: p, progress: {by: status}}
`)
	data := visibilityData()
	hidden := func(is *Issue) bool { return is.SecurityLevel == "" }
	for _, tc := range []struct {
		name    string
		visible func(*Issue) bool
		want    []string // path: sp n p
	}{
		{"all visible", nil, []string{
			"f:by label: 9 5 20%",
			"f:by label/g:secret: 6 2 50%",
			"f:by label/g:secret/ALPHA-2: 5 0 100%",
			"f:by label/g:secret/ALPHA-5: 1 0 0%",
			"f:by label/g:(none): 3 3 0%",
			"f:by label/g:(none)/ALPHA-1:  0 0%",
			"f:by label/g:(none)/ALPHA-3:  0 0%",
			"f:by label/g:(none)/ALPHA-4: 3 0 0%",
			// ALPHA-2 is under ALPHA-1 twice (child, and linked from ALPHA-4): counted once.
			"ALPHA-1: 8 3 50%",
			"ALPHA-1/ALPHA-2: 5 1 0%", // a sum over descendants includes the row's own points
			"ALPHA-1/ALPHA-2/ALPHA-3:  0 0%",
			"ALPHA-1/ALPHA-4: 8 1 100%",
			"ALPHA-1/ALPHA-4/ALPHA-2: 5 0 100%",
			"ALPHA-2: 5 1 0%",
			"ALPHA-2/ALPHA-3:  0 0%",
			"ALPHA-5: 1 0 0%",
		}},
		{"hidden story hides its subtree, link and counts", hidden, []string{
			"f:by label: 4 4 0%",
			"f:by label/g:secret: 1 1 0%",
			"f:by label/g:secret/ALPHA-5: 1 0 0%",
			"f:by label/g:(none): 3 3 0%",
			"f:by label/g:(none)/ALPHA-1:  0 0%",
			"f:by label/g:(none)/ALPHA-3:  0 0%",
			"f:by label/g:(none)/ALPHA-4: 3 0 0%",
			"ALPHA-1: 3 1 0%",
			"ALPHA-1/ALPHA-4: 3 0 0%",
			"ALPHA-5: 1 0 0%",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Build(d, data, tc.visible)
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, f)
			v, err := f.View("v")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i, r := range f.Rows {
				got = append(got, fmt.Sprintf("%s: %s %s %s", r.Path, v.Cell(i, 1).Display, v.Cell(i, 2).Display, v.Cell(i, 3).Display))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.visible != nil {
				var buf strings.Builder
				for _, format := range Formats {
					if err := Render(&buf, f, "v", format, RenderOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				if strings.Contains(buf.String(), "ALPHA-2") {
					t.Errorf("an export mentions the hidden issue ALPHA-2")
				}
			}
		})
	}
}

func TestRemoteMembers(t *testing.T) {
	src := `name: r
generators:
  - insert: {jql: "assignee in membersOf(\"devs\")"}
views: [{name: v, columns: [{field: key}]}]
`
	d := mustParse(t, src)
	if got := d.RemoteQueries(); !slices.Equal(got, []string{`assignee in membersOf("devs")`}) {
		t.Fatalf("RemoteQueries = %q", got)
	}
	data := visibilityData()
	data.RemoteMembers = map[string][]string{`assignee in membersOf("devs")`: {"ALPHA-5", "ALPHA-2", "NOPE-9"}}
	f, err := Build(d, data, func(is *Issue) bool { return is.SecurityLevel == "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 1 || f.Rows[0].Issue.Key != "ALPHA-5" || len(f.Notes) != 0 {
		t.Fatalf("rows %v notes %v", f.Rows, f.Notes)
	}
	nested := mustParse(t, `name: n
generators:
  - insert: {jql: "project = ALPHA"}
folders:
  - name: f
    generators:
      - insert: {jql: "sprint in openSprints()"}
      - insert: {jql: "Flavour = sweet"}
      - insert: {jql: "sprint in openSprints()"}
views: [{name: v, columns: [{field: Sprint}]}]
`)
	if got := nested.RemoteQueries(); !slices.Equal(got, []string{"sprint in openSprints()", "Flavour = sweet"}) {
		t.Fatalf("nested RemoteQueries = %q", got)
	}
	// With a group directory, the same query is answered locally.
	data.RemoteMembers = nil
	data.Issues[3].Assignee = "bob"
	data.MembersOf = func(g string) []string { return []string{"bob"} }
	f, err = Build(d, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 1 || f.Rows[0].Issue.Key != "ALPHA-4" {
		t.Fatalf("local membersOf: rows %v", f.Rows)
	}
}

func TestEpicLinkOnDataCenterOnly(t *testing.T) {
	d := mustParse(t, `name: e
generators:
  - insert: {keys: [ALPHA-1]}
  - extend: {by: parent}
views: [{name: v, columns: [{field: key}]}]
`)
	data := &Data{Issues: []Issue{{Key: "ALPHA-1", Type: "Epic"}, {Key: "ALPHA-2", EpicLink: "ALPHA-1"}, {Key: "ALPHA-3", Parent: "ALPHA-1"}}}
	for dialect, want := range map[string]int{"cloud": 2, "datacenter": 3} {
		data.Dialect = dialect
		f, err := Build(d, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Rows) != want {
			t.Errorf("%s: %d rows, want %d", dialect, len(f.Rows), want)
		}
	}
}

// TestIncrementalRebuild checks that SetIssue keeps the index right: a rebuild after a
// change equals a build from scratch on the same data.
func TestIncrementalRebuild(t *testing.T) {
	d := mustParse(t, generatorCases[len(generatorCases)-1].yaml)
	data := testData(3)
	if _, err := Build(d, data, nil); err != nil {
		t.Fatal(err)
	}
	changed := data.Issues[5]
	changed.Parent = data.Issues[0].Key
	changed.Status, changed.StatusCategory = "Done", "done"
	changed.StoryPoints = f64(13)
	data.SetIssue(changed)
	moved := data.Issues[1]
	moved.Parent = ""
	data.SetIssue(moved)
	inc, err := Build(d, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh := &Data{Issues: slices.Clone(data.Issues), Links: data.Links, Fields: data.Fields, Users: data.Users, Now: data.Now, Dialect: data.Dialect}
	full, err := Build(mustParse(t, generatorCases[len(generatorCases)-1].yaml), fresh, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := string(dump(t, inc, "")), string(dump(t, full, "")); a != b {
		t.Fatalf("incremental rebuild differs from a full build:\n%s\n---\n%s", a, b)
	}
	if !strings.Contains(string(dump(t, inc, "")), "/"+data.Issues[0].Key+"/"+changed.Key+" ") {
		t.Fatal("changed issue missing")
	}
}

func TestForestNavigation(t *testing.T) {
	d := mustParse(t, generatorCases[2].yaml)
	f, err := Build(d, testData(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	top := f.Children(-1)
	if len(top) != 2 || f.Rows[top[1]].Path != f.Rows[top[1]].Issue.Key {
		t.Fatalf("top rows %v", top)
	}
	for _, c := range f.Children(top[0]) {
		if f.Rows[c].Parent != int32(top[0]) {
			t.Fatalf("child %d has parent %d", c, f.Rows[c].Parent)
		}
	}
	last := len(f.Rows) - 1
	if got := f.Find(f.Rows[last].Path); got != last {
		t.Fatalf("Find = %d, want %d", got, last)
	}
	if f.Find("nope") != -1 {
		t.Fatal("Find of a missing path")
	}
	if _, err := f.Columns("missing"); err == nil || !strings.Contains(err.Error(), "valid: main") {
		t.Fatalf("unknown view error: %v", err)
	}
}

func TestPredicate(t *testing.T) {
	tm := mustTime("2026-02-01")
	for _, tc := range []struct {
		op, value string
		vs        []Value
		want      bool
	}{
		{"=", "done", []Value{textValue("Done")}, true},
		{"!=", "done", []Value{textValue("Done")}, false},
		{"!=", "x", nil, true},
		{"=", "backend", []Value{textValue("frontend"), textValue("backend")}, true},
		{">", "3", []Value{numValue(5)}, true},
		{"<=", "3", []Value{numValue(5)}, false},
		{">=", "50%", []Value{{Kind: KindProgress, Num: 0.5}}, true},
		{"<", "2026-03-01", []Value{timeValue(tm)}, true},
		{">", "abc", []Value{numValue(5)}, false},
		{"contains", "END", []Value{textValue("backend")}, true},
		{"!contains", "end", []Value{textValue("backend")}, false},
		{"empty", "", nil, true},
		{"!empty", "", nil, false},
	} {
		p, err := newPredicate(tc.op, tc.value)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.match(tc.vs); got != tc.want {
			t.Errorf("%v %s %q = %v, want %v", tc.vs, tc.op, tc.value, got, tc.want)
		}
	}
}

func mustTime(s string) (t time.Time) {
	t, _ = time.Parse("2006-01-02", s)
	return t
}

func TestSortedBy(t *testing.T) {
	d := mustParse(t, generatorCases[len(generatorCases)-1].yaml)
	f, err := Build(d, testData(2), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := f.View("")
	sp := slices.IndexFunc(v.Columns(), func(c Column) bool { return c.ID == "sum_story_points" })
	s, err := f.SortedBy("", sp, true)
	if err != nil {
		t.Fatal(err)
	}
	checkShape(t, s)
	if len(s.Rows) != len(f.Rows) {
		t.Fatalf("%d rows, want %d", len(s.Rows), len(f.Rows))
	}
	sv, _ := s.View("")
	for i := range s.Rows {
		if j := f.Find(s.Rows[i].Path); j < 0 || v.Cell(j, sp).Display != sv.Cell(i, sp).Display {
			t.Fatalf("row %s lost its values", s.Rows[i].Path)
		}
		if s.Rows[i].Kind == RowGroup && s.Group(i) == nil {
			t.Fatalf("group row %d lost its GroupInfo", i)
		}
		kids := s.Children(i)
		for k := 1; k < len(kids); k++ {
			a, b := sv.Cell(kids[k-1], sp), sv.Cell(kids[k], sp)
			if s.Rows[kids[k]].Kind == RowIssue && b.Kind != KindEmpty && (a.Kind == KindEmpty || a.Num < b.Num) {
				t.Fatalf("children of %s not descending: %s then %s", s.Rows[i].Path, a.Display, b.Display)
			}
		}
	}
	if g := s.Group(0); g == nil || g.Field != "Team" || g.Value == "" {
		t.Fatalf("Group(0) = %+v", g)
	}
	if _, err := f.SortedBy("", 99, false); err == nil {
		t.Fatal("column out of range: no error")
	}
}

// TestConcurrentUse rebuilds one definition from several goroutines while others read
// views and cells of a shared forest, as a TUI refreshing in the background does (run
// with -race).
func TestConcurrentUse(t *testing.T) {
	d := mustParse(t, generatorCases[len(generatorCases)-1].yaml)
	data := testData(2)
	shared, err := Build(d, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			f := shared
			if g%2 == 0 {
				var err error
				if f, err = Build(d, data, nil); err != nil {
					errs <- err
					return
				}
			}
			v, err := f.View("")
			if err != nil {
				errs <- err
				return
			}
			for i := range min(20, len(f.Rows)) {
				_ = v.Cell(i, g%len(v.Columns()))
				_ = v.RowStyle(i)
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A build whose context is done stops with its error, also part way through: the TUI stops
// the build of a filter text it no longer shows.
func TestBuildContextStops(t *testing.T) {
	def, err := Parse("bench.yaml", []byte(benchLens))
	if err != nil {
		t.Fatal(err)
	}
	d := testData(200) // about 2,600 issues
	ctx, cancel := context.WithCancel(context.Background())
	seen := 0
	visible := func(*Issue) bool {
		if seen++; seen == 100 {
			cancel()
		}
		return true
	}
	if _, err := BuildContext(ctx, def, d, visible); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled part way: %v, want context.Canceled", err)
	}
	f, err := BuildContext(context.Background(), def, d, nil)
	if err != nil || len(f.Rows) == 0 {
		t.Fatalf("a live build: %d rows, %v", len(f.Rows), err)
	}
}
