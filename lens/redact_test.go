package lens

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// refFieldsCatalog is the part of a site's field catalog that names other issues.
var refFieldsCatalog = []Field{
	{ID: "parent", Name: "Parent", SchemaType: "issuelink"},
	{ID: "subtasks", Name: "Sub-tasks", SchemaType: "array", SchemaItems: "issuelinks"},
	{ID: "issuelinks", Name: "Linked Issues", SchemaType: "array", SchemaItems: "issuelinks"},
	{ID: "customfield_10014", Name: "Epic Link", Custom: true, SchemaType: "any", SchemaCustom: "com.pyxis.greenhopper.jira:gh-epic-link"},
	{ID: "customfield_10016", Name: "Story Points", Custom: true, SchemaType: "number"},
}

// issueRef is an issue as Jira embeds it in another's parent, subtasks and issuelinks.
func issueRef(key, summary string) string {
	return fmt.Sprintf(`{"id":"%d","key":%q,"fields":{"summary":%q,"status":{"name":"To Do","statusCategory":{"key":"new"}}}}`, len(key), key, summary)
}

func linkRef(id int, side, key, summary string) string {
	return fmt.Sprintf(`{"id":"%d","type":{"name":"Blocks","inward":"is blocked by","outward":"blocks"},%q:%s}`, id, side, issueRef(key, summary))
}

// hiddenRefsData has ALPHA issues the viewer sees that name GAMMA-1 (an epic in a project
// the viewer may not browse), ALPHA-9 (behind a security level) and GAMMA-2, as the shared
// cache keeps them. With strip, the references to hidden issues are gone, as if they had
// never been there; rename spells the hidden keys differently.
func hiddenRefsData(strip bool, rename map[string]string) *Data {
	k := func(s string) string {
		if r, ok := rename[s]; ok {
			return r
		}
		return s
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	issues := []Issue{
		{Key: "ALPHA-1", Project: "ALPHA", Type: "Epic", Summary: "visible epic", StatusCategory: "new"},
		{Key: k("GAMMA-1"), Project: "GAMMA", Type: "Epic", Summary: "secret epic", StatusCategory: "new"},
		{Key: k("GAMMA-2"), Project: "GAMMA", Type: "Bug", Summary: "secret bug", StoryPoints: f64(13), StatusCategory: "done"},
		{Key: k("ALPHA-9"), Project: "ALPHA", Type: "Story", Summary: "secret story", SecurityLevel: "Internal", Parent: "ALPHA-1", StatusCategory: "done", StoryPoints: f64(8)},
		// A story under the hidden epic, linked to a hidden bug and to ALPHA-3.
		{Key: "ALPHA-2", Project: "ALPHA", Type: "Story", Summary: "story two", Parent: k("GAMMA-1"), EpicLink: k("GAMMA-1"), StoryPoints: f64(3), StatusCategory: "indeterminate",
			Fields: map[string]json.RawMessage{
				"parent":            raw(issueRef(k("GAMMA-1"), "secret epic")),
				"customfield_10014": raw(fmt.Sprintf("%q", k("GAMMA-1"))),
				"issuelinks":        raw("[" + linkRef(1, "outwardIssue", k("GAMMA-2"), "secret bug") + "," + linkRef(2, "outwardIssue", "ALPHA-3", "story three") + "]"),
				"subtasks":          raw("[]"),
				"customfield_10016": raw("3"),
			}},
		// A story under the visible epic with a sub-task behind a security level.
		{Key: "ALPHA-3", Project: "ALPHA", Type: "Story", Summary: "story three", Parent: "ALPHA-1", EpicLink: "ALPHA-1", StoryPoints: f64(2), StatusCategory: "new",
			Fields: map[string]json.RawMessage{
				"parent":            raw(issueRef("ALPHA-1", "visible epic")),
				"customfield_10014": raw(`"ALPHA-1"`),
				"subtasks":          raw("[" + issueRef(k("ALPHA-9"), "secret story") + "," + issueRef("ALPHA-4", "sub four") + "]"),
				"issuelinks":        raw("[" + linkRef(2, "inwardIssue", "ALPHA-2", "story two") + "]"),
				"customfield_10016": raw("2"),
			}},
		{Key: "ALPHA-4", Project: "ALPHA", Type: "Sub-task", Subtask: true, Summary: "sub four", Parent: "ALPHA-3", StatusCategory: "done"},
		// A sub-task whose parent is not in the cache at all: not seen either.
		{Key: "ALPHA-5", Project: "ALPHA", Type: "Sub-task", Subtask: true, Summary: "sub five", Parent: k("GAMMA-7"), StatusCategory: "new",
			Fields: map[string]json.RawMessage{"parent": raw(issueRef(k("GAMMA-7"), "uncached"))}},
	}
	if strip {
		for i := range issues {
			is := &issues[i]
			switch is.Key {
			case "ALPHA-2":
				is.Parent, is.EpicLink = "", ""
				is.Fields = map[string]json.RawMessage{
					"issuelinks":        raw("[" + linkRef(2, "outwardIssue", "ALPHA-3", "story three") + "]"),
					"subtasks":          raw("[]"),
					"customfield_10016": raw("3"),
				}
			case "ALPHA-3":
				is.Fields["subtasks"] = raw("[" + issueRef("ALPHA-4", "sub four") + "]")
			case "ALPHA-5":
				is.Parent, is.Fields = "", map[string]json.RawMessage{}
			}
		}
	}
	return &Data{Issues: issues, Fields: refFieldsCatalog, Dialect: "datacenter",
		Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func viewerSeesNoGamma(is *Issue) bool { return is.Project != "GAMMA" && is.SecurityLevel == "" }

// hiddenRefsLens reads everything that names other issues every way a Lens can: columns,
// formulas, roll-ups, groups, sorts, column filters and JQL (on parent, Epic Link and the
// Epic Link custom field), naming the hidden epic's key.
const hiddenRefsLens = `name: refs
generators:
  - insert: {jql: "project = ALPHA ORDER BY parent, key"}
folders:
  - name: by parent
    generators: [{insert: {jql: "project = ALPHA"}}, {group: {by: parent}}]
  - name: by epic
    generators: [{insert: {jql: "project = ALPHA"}}, {group: {by: epic link}}]
  - name: by epic field
    generators: [{insert: {jql: "project = ALPHA"}}, {group: {by: "cf[10014]"}}]
  - name: by subtasks
    generators: [{insert: {jql: "project = ALPHA"}}, {group: {by: Sub-tasks}}]
  - name: parent is
    generators: [{insert: {jql: "parent = GAMMA-1"}}]
  - name: parent in
    generators: [{insert: {jql: "parent in (GAMMA-1, GAMMA-7, ALPHA-1)"}}]
  - name: parent not
    generators: [{insert: {jql: "project = ALPHA AND parent != GAMMA-1"}}]
  - name: epic is
    generators: [{insert: {jql: "\"Epic Link\" = GAMMA-1"}}]
  - name: epic field is
    generators: [{insert: {jql: "cf[10014] = GAMMA-1"}}]
  - name: no parent
    generators: [{insert: {jql: "project = ALPHA AND parent is EMPTY"}}]
  - name: column filter
    generators: [{insert: {jql: "project = ALPHA"}}, {filter: {column: parent, op: "=", value: GAMMA-1}}]
  - name: column filter empty
    generators: [{insert: {jql: "project = ALPHA"}}, {filter: {column: parent, op: "empty"}}]
  - name: sorted
    generators: [{insert: {jql: "project = ALPHA"}}, {sort: {by: ["-parent", key]}}]
  - name: formula sort
    generators: [{insert: {jql: "project = ALPHA"}}, {sort: {formula: "parent + epic", desc: true}}]
views:
  - name: v
    columns:
      - field: key
      - field: summary
      - field: parent
      - field: epic link
      - field: "cf[10014]"
      - field: Sub-tasks
      - field: Linked Issues
      - {id: f, formula: "parent + '/' + epic"}
      - {id: np, rollup: {op: count, field: parent, over: descendants}}
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: done, progress: {by: status}}
`

// renderCells is every row's path and every cell of the view, as an export shows them.
func renderCells(t *testing.T, f *Forest) string {
	t.Helper()
	v, err := f.View("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, r := range f.Rows {
		b.WriteString(r.Path + " |")
		for c := range v.Columns() {
			b.WriteString(" " + v.Cell(i, c).Display + " |")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Whatever a Lens reads of a visible issue that names hidden ones shows the viewer the
// same as if those references had never been in the cache, and nothing of them.
func TestHiddenReferencesShowNothing(t *testing.T) {
	build := func(data *Data) string {
		f, err := Build(mustParse(t, hiddenRefsLens), data, viewerSeesNoGamma)
		if err != nil {
			t.Fatal(err)
		}
		checkShape(t, f)
		for _, r := range f.Rows {
			if r.Issue != nil && (r.Issue.Parent == "GAMMA-1" || r.Issue.EpicLink == "GAMMA-1" || r.Issue.Parent == "GAMMA-7") {
				t.Errorf("row %s keeps the hidden parent or Epic Link %s %s", r.Path, r.Issue.Parent, r.Issue.EpicLink)
			}
			if r.Issue != nil {
				for id, raw := range r.Issue.Fields {
					for _, s := range []string{"GAMMA", "ALPHA-9", "secret", "uncached"} {
						if strings.Contains(string(raw), s) {
							t.Errorf("row %s field %s names %s: %s", r.Path, id, s, raw)
						}
					}
				}
			}
		}
		return renderCells(t, f)
	}
	got := build(hiddenRefsData(false, nil))
	for _, s := range []string{"GAMMA", "ALPHA-9", "secret", "uncached"} {
		if strings.Contains(got, s) {
			t.Errorf("the Lens shows %q:\n%s", s, got)
		}
	}
	if want := build(hiddenRefsData(true, nil)); got != want {
		t.Errorf("with hidden references the Lens shows\n%s\nwithout them\n%s", got, want)
	}
	renamed := build(hiddenRefsData(false, map[string]string{"GAMMA-1": "ZETA-77", "GAMMA-2": "ZETA-78", "ALPHA-9": "ALPHA-99", "GAMMA-7": "ZETA-79"}))
	if got != renamed {
		t.Errorf("the Lens depends on the hidden issues' keys:\n%s\nrenamed:\n%s", got, renamed)
	}
	// What the viewer may see stays: ALPHA-3's visible parent, Epic Link and sub-task,
	// the link between ALPHA-2 and ALPHA-3 (in the link type's words, from each end).
	for _, s := range []string{"\nALPHA-3 | ALPHA-3 | story three | ALPHA-1 | ALPHA-1 | ALPHA-1 | ALPHA-4 | is blocked by ALPHA-2 |",
		"\nALPHA-2 | ALPHA-2 | story two |  |  |  |  | blocks ALPHA-3 |", "f:parent in/ALPHA-3 |", "f:by subtasks/g:ALPHA-4/ALPHA-3 |"} {
		if !strings.Contains(got, s) {
			t.Errorf("the Lens lost %q:\n%s", s, got)
		}
	}
}

// Roll-ups and counts leave hidden issues out, even where a hidden issue is a visible
// row's parent or sub-task in the cache.
func TestRollupsCountOnlyVisibleIssues(t *testing.T) {
	d := mustParse(t, `name: r
generators:
  - insert: {jql: "issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
folders:
  - name: all
    generators: [{insert: {jql: "project in (ALPHA, GAMMA)"}}, {group: {by: project}}]
views:
  - name: v
    columns:
      - field: key
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: n, rollup: {op: count, over: descendants}}
      - {id: done, progress: {by: status}}
      - {id: np, rollup: {op: count, field: parent, over: children}}
      - {id: ne, rollup: {op: count, field: "cf[10014]", over: children}}
`)
	f, err := Build(d, hiddenRefsData(false, nil), viewerSeesNoGamma)
	if err != nil {
		t.Fatal(err)
	}
	got := renderCells(t, f)
	// ALPHA-1 -> ALPHA-3 -> ALPHA-4: ALPHA-9 (8 points, done) is not counted, nor are the
	// GAMMA issues (no GAMMA group, 13 points). Of the five ALPHA issues the viewer sees,
	// only ALPHA-3 and ALPHA-4 have a parent the viewer may see, and only ALPHA-3 an Epic
	// Link: ALPHA-2's and ALPHA-5's hidden parents are not counted.
	want := `f:all |  | 5 | 5 | 30% | 0 | 0 |
f:all/g:ALPHA |  | 5 | 5 | 30% | 2 | 1 |
f:all/g:ALPHA/ALPHA-1 | ALPHA-1 |  | 0 | 0% | 0 | 0 |
f:all/g:ALPHA/ALPHA-2 | ALPHA-2 | 3 | 0 | 50% | 0 | 0 |
f:all/g:ALPHA/ALPHA-3 | ALPHA-3 | 2 | 0 | 0% | 0 | 0 |
f:all/g:ALPHA/ALPHA-4 | ALPHA-4 |  | 0 | 100% | 0 | 0 |
f:all/g:ALPHA/ALPHA-5 | ALPHA-5 |  | 0 | 0% | 0 | 0 |
ALPHA-1 | ALPHA-1 | 2 | 2 | 100% | 1 | 1 |
ALPHA-1/ALPHA-3 | ALPHA-3 | 2 | 1 | 100% | 1 | 0 |
ALPHA-1/ALPHA-3/ALPHA-4 | ALPHA-4 |  | 0 | 100% | 0 | 0 |
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Rebuild after a change to an issue shown redacted builds afresh: its row must not keep
// pointing at the copy made of the old version.
func TestRebuildOfRedactedIssue(t *testing.T) {
	d := mustParse(t, `name: plain
generators: [{insert: {jql: "project = ALPHA"}}]
views:
  - name: v
    columns: [{field: key}, {field: summary}, {field: parent}, {field: Linked Issues}]
`)
	data := hiddenRefsData(false, nil)
	prev, err := Build(d, data, viewerSeesNoGamma)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]Issue{}
	is := *data.Lookup("ALPHA-2")
	before[is.Key] = is
	is.Summary = "story two, edited"
	data.SetIssue(is)
	f, err := Rebuild(prev, data, viewerSeesNoGamma, before)
	if err != nil {
		t.Fatal(err)
	}
	got := renderCells(t, f)
	if !strings.Contains(got, "story two, edited") || strings.Contains(got, "GAMMA") {
		t.Errorf("after the edit:\n%s", got)
	}
	// A change that makes a visible issue name a hidden one is redacted too.
	is = *data.Lookup("ALPHA-3")
	before = map[string]Issue{is.Key: is}
	is.Fields = map[string]json.RawMessage{"issuelinks": json.RawMessage("[" + linkRef(3, "outwardIssue", "GAMMA-2", "secret bug") + "]")}
	data.SetIssue(is)
	if f, err = Rebuild(f, data, viewerSeesNoGamma, before); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Rows {
		if r.Issue != nil && strings.Contains(string(r.Issue.Fields["issuelinks"]), "GAMMA") {
			t.Errorf("row %s shows a link to a hidden issue after a rebuild: %s", r.Path, r.Issue.Fields["issuelinks"])
		}
	}
}

func TestRedacted(t *testing.T) {
	data := hiddenRefsData(false, nil)
	sees := func(k string) bool {
		is := data.Lookup(k)
		return is != nil && viewerSeesNoGamma(is)
	}
	a4 := data.Lookup("ALPHA-4")
	if Redacted(a4, data.Fields, sees) != a4 {
		t.Error("an issue naming only visible issues is copied")
	}
	a2 := data.Lookup("ALPHA-2")
	r := Redacted(a2, data.Fields, sees)
	if r == a2 || r.Parent != "" || r.EpicLink != "" || r.Fields["parent"] != nil || r.Fields["customfield_10014"] != nil {
		t.Errorf("ALPHA-2 redacted: %+v", r)
	}
	if a2.Parent != "GAMMA-1" || !strings.Contains(string(a2.Fields["issuelinks"]), "GAMMA-2") {
		t.Error("Redacted changed the cached issue")
	}
	var links []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.Fields["issuelinks"], &links); err != nil || len(links) != 1 || links[0].ID != "2" {
		t.Errorf("ALPHA-2's links redacted: %s (%v)", r.Fields["issuelinks"], err)
	}
	// A summary with escapes is decoded, not guessed at.
	a3 := *data.Lookup("ALPHA-3")
	a3.Fields = map[string]json.RawMessage{"subtasks": json.RawMessage(`[{"key":"ALPHA-4","fields":{"summary":"say \"hi\""}},{"key":"GAMMA-\u0031"}]`)}
	if got := string(Redacted(&a3, data.Fields, sees).Fields["subtasks"]); strings.Contains(got, "GAMMA") || !strings.Contains(got, "ALPHA-4") {
		t.Errorf("escaped sub-tasks redacted to %s", got)
	}
}

// A JQL only Jira answers was answered by whoever refreshed, who may see the issue it names:
// for a viewer who may not, which visible issues came back would say how they relate to it.
func TestRemoteJQLNamingHiddenIssues(t *testing.T) {
	d := mustParse(t, `name: remote
folders:
  - name: hidden
    generators: [{insert: {jql: "key in linkedIssues(GAMMA-2)"}}]
  - name: uncached
    generators: [{insert: {jql: "key in linkedIssues(gamma-7)"}}]
  - name: visible
    generators: [{insert: {jql: "key in linkedIssues(ALPHA-3)"}}]
views:
  - name: v
    columns: [{field: key}]
`)
	data := hiddenRefsData(false, nil)
	data.RemoteMembers = map[string][]string{
		"key in linkedIssues(GAMMA-2)": {"ALPHA-2"},
		"key in linkedIssues(gamma-7)": {"ALPHA-5"},
		"key in linkedIssues(ALPHA-3)": {"ALPHA-2", "GAMMA-2"},
	}
	f, err := Build(d, data, viewerSeesNoGamma)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := renderCells(t, f), "f:hidden |  |\nf:uncached |  |\nf:visible |  |\nf:visible/ALPHA-2 | ALPHA-2 |\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if n := strings.Join(f.Notes, "\n"); strings.Count(n, "none of its members are shown") != 2 {
		t.Errorf("notes: %s", n)
	}
	// Without a viewer (every issue allowed) the members are used as Jira gave them.
	if f, err = Build(d, data, nil); err != nil {
		t.Fatal(err)
	}
	if got := renderCells(t, f); !strings.Contains(got, "f:hidden/ALPHA-2") {
		t.Errorf("without a viewer:\n%s", got)
	}
}

// A JQL only Jira answers may name an issue by its numeric id where Jira reads an issue
// (parent = 10079): that gives away as much as naming its key. A number that is no issue
// (story points, a sprint, a date offset) does not.
func TestRemoteJQLNamingHiddenIssueIDs(t *testing.T) {
	const was = " AND status WAS Done" // only Jira answers WAS: the members come from Jira
	hidden := []string{
		"parent = 20001" + was,                           // GAMMA-1's id
		"parent in (10001, 20001)" + was,                 // one visible, one hidden
		`issue = "20002"` + was,                          // the key alias, quoted
		"id = 20002" + was,                               // the id field
		"issuekey in linkedIssues(20002)",                // a function of an issue clause
		`issueFunction in linkedIssues(20002, "blocks")`, // a function that takes issues
		`issueFunction in subtasksOf("parent = 20001")`,  // an app's subquery
		`cf[10014] = 20001` + was,                        // the Epic Link field by id
		`"Epic Link" = 20001` + was,                      // and by name
		"parent = 99999" + was,                           // not in the cache: fail closed
		"parent = 10004" + was,                           // ALPHA-9, behind a security level
		"parent = 999999999999999999999999999" + was,     // no issue id at all
	}
	shown := []string{
		"parent = 10001" + was,                                // ALPHA-1, visible
		`cf[10016] > 20001` + was,                             // story points: a number, no issue
		`project = 20001` + was,                               // a project id
		`updated > startOfDay(20001)` + was,                   // a function of a date
		`issueFunction in subtasksOf("Story Points > 20001")`, // a subquery naming no issue
	}
	data := hiddenRefsData(false, nil)
	// ScriptRunner's issueFunction: a field whose functions take subqueries.
	data.Fields = append(slices.Clone(data.Fields), Field{ID: "customfield_10200", Name: "issueFunction", Custom: true, SchemaType: "any"})
	ids := map[string]int64{"ALPHA-1": 10001, "GAMMA-1": 20001, "GAMMA-2": 20002, "ALPHA-9": 10004, "ALPHA-2": 10002}
	for i := range data.Issues {
		data.Issues[i].ID = ids[data.Issues[i].Key]
	}
	data.RemoteMembers = map[string][]string{}
	for _, q := range append(slices.Clone(hidden), shown...) {
		data.RemoteMembers[q] = []string{"ALPHA-2"}
	}
	for _, q := range append(slices.Clone(hidden), shown...) {
		d := mustParse(t, "name: remote\ngenerators: [{insert: {jql: '"+q+"'}}]\nviews:\n  - name: v\n    columns: [{field: key}]\n")
		f, err := Build(d, data, viewerSeesNoGamma)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got := renderCells(t, f)
		if want := !slices.Contains(hidden, q); strings.Contains(got, "ALPHA-2") != want {
			t.Errorf("%s: members shown %v, want %v:\n%s%v", q, !want, want, got, f.Notes)
		}
		if slices.Contains(hidden, q) && !strings.Contains(strings.Join(f.Notes, "\n"), "none of its members are shown") {
			t.Errorf("%s: no note: %v", q, f.Notes)
		}
	}
}
