package refresh_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"foundation/lens"
	"foundation/refresh"
)

// refsLens reads, every way a Lens can, what names other issues: the parent as a column, a
// formula, a group, a sort, a column filter and JQL, the raw Sub-tasks and Linked Issues,
// and counts of issues with a parent. %s is the hidden epic's key, as someone guessing
// it would write it.
const refsLens = `name: Refs
acl: [{principal: anyone, level: view}]
generators:
  - insert: {jql: "project in (ALPHA, BETA) ORDER BY parent DESC, key"}
folders:
  - name: parent is
    generators: [{insert: {jql: "parent = %[1]s"}}]
  - name: parent in
    generators: [{insert: {jql: "parent in (%[1]s)"}}]
  - name: column filter
    generators: [{insert: {jql: "project = ALPHA"}}, {filter: {column: parent, op: "=", value: "%[1]s"}}]
  - name: by parent
    generators: [{insert: {jql: "project = ALPHA"}}, {group: {by: parent}}]
  - name: by subtasks
    generators: [{insert: {jql: "project = ALPHA"}}, {group: {by: Sub-tasks}}]
views:
  - name: main
    columns:
      - field: key
      - field: summary
      - field: parent
      - field: Sub-tasks
      - field: Linked Issues
      - {id: f, formula: "parent"}
      - {id: np, rollup: {op: count, field: parent, over: children}}
`

// A shared cache filled by admin keeps, on issues alice and bob may browse, a parent, sub-tasks
// and links they may not. Nothing of those reaches what a Lens shows them: no key, no
// summary, no count, no JQL match; what they may see stays.
func TestHiddenReferencesOverHTTP(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "cloud", 1500)
	issues := f.site.Issues()
	byKey := map[string]lens.Issue{}
	for _, is := range issues {
		byKey[is.Key] = is.Issue
	}
	// An ALPHA story moved under a GAMMA epic; an ALPHA sub-task of an Internal story.
	var story, epic, sub string
	for _, is := range issues {
		switch {
		case epic == "" && is.Project == "GAMMA" && is.Type == "Epic":
			epic = is.Key
		case story == "" && is.Project == "ALPHA" && is.Type == "Story" && is.SecurityLevel == "":
			story = is.Key
		case sub == "" && is.Project == "ALPHA" && is.Subtask && is.SecurityLevel == "" && byKey[is.Parent].SecurityLevel == "":
			sub = is.Key
		}
	}
	if epic == "" || story == "" || sub == "" {
		t.Fatalf("data lacks what the test needs: epic %q story %q sub-task %q", epic, story, sub)
	}
	if err := f.site.Update(story, map[string]any{"parent": map[string]string{"key": epic}}); err != nil {
		t.Fatal(err)
	}
	if err := f.site.Update(byKey[sub].Parent, map[string]any{"security": map[string]string{"name": "Internal"}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.site.Issue(byKey[sub].Parent); p.SecurityLevel == "" {
		t.Fatalf("%s has no security level", p.Key)
	}
	admin, err := refresh.New(f.login(t, "admin"), f.db, refresh.Options{Site: "admin", Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	cached, err := f.db.Issue(ctx, story)
	if err != nil || cached.Parent != epic {
		t.Fatalf("%s in the cache: parent %q (%v), want %s", story, cached.Parent, err, epic)
	}
	subParent := byKey[sub].Parent
	f.apply(t, "admin", strings.ReplaceAll(refsLens, "%[1]s", epic))

	for _, tc := range []struct {
		user   string
		hidden func(lens.Issue) bool
	}{
		{"alice", func(is lens.Issue) bool { return is.Project == "GAMMA" }},
		{"bob", func(is lens.Issue) bool {
			return is.Project != "ALPHA" || is.SecurityLevel != "" || is.Key == subParent
		}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			v, _ := f.viewer(t, tc.user, time.Hour)
			o, err := refresh.OpenLens(ctx, f.db, "Refs", v, refresh.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Every key and summary of an issue the viewer may not browse (summaries no
			// issue the viewer sees shares).
			var secrets []string
			seenSummary := map[string]bool{}
			for _, is := range issues {
				if !tc.hidden(is.Issue) {
					seenSummary[is.Summary] = true
				}
			}
			for _, is := range issues {
				if tc.hidden(is.Issue) {
					secrets = append(secrets, is.Key)
					if !seenSummary[is.Summary] {
						secrets = append(secrets, is.Summary)
					}
				}
			}
			shows := func(what, s string) {
				t.Helper()
				for _, x := range secrets {
					if x != "" && containsWord(s, x) {
						t.Errorf("%s shows %q, which %s may not see: %s", what, x, tc.user, s)
						return
					}
				}
			}
			cols := o.View.Columns()
			for i, r := range o.Forest.Rows {
				if r.Issue == nil {
					shows("group "+r.Path, r.Label)
				} else {
					shows("row "+r.Path+" parent", r.Issue.Parent)
					for id, raw := range r.Issue.Fields {
						shows("row "+r.Path+" field "+id, string(raw))
					}
				}
				for c := range cols {
					shows("row "+r.Path+" column "+cols[c].ID, o.View.Cell(i, c).Display)
				}
				if strings.HasPrefix(r.Path, "f:parent is/") || strings.HasPrefix(r.Path, "f:parent in/") || strings.HasPrefix(r.Path, "f:column filter/") {
					t.Errorf("JQL or a filter naming %s, which %s may not see, matched %s", epic, tc.user, r.Path)
				}
			}
			// Linked Issues reads as Jira shows the issue to the viewer: each link the
			// viewer may follow, in the link type's words from this end, and no other.
			linkCol := -1
			for c := range cols {
				if cols[c].Title == "Linked Issues" {
					linkCol = c
				}
			}
			if linkCol < 0 {
				t.Fatalf("no Linked Issues column in %+v", cols)
			}
			across := 0 // links from an issue the viewer sees to one it may not
			for _, l := range f.site.Links() {
				if tc.hidden(byKey[l.From]) != tc.hidden(byKey[l.To]) {
					across++
				}
			}
			if across == 0 {
				t.Errorf("%s: the data has no link to a hidden issue to leave out", tc.user)
			}
			shown := 0
			for i, r := range o.Forest.Rows {
				if r.Issue == nil {
					continue
				}
				var want []string
				for _, l := range f.site.Links() {
					switch {
					case l.From == r.Issue.Key && !tc.hidden(byKey[l.To]):
						want = append(want, l.Outward+" "+l.To)
					case l.To == r.Issue.Key && !tc.hidden(byKey[l.From]):
						want = append(want, l.Inward+" "+l.From)
					}
				}
				got := o.View.Cell(i, linkCol).Display
				var gotList []string
				if got != "" {
					gotList = strings.Split(got, ", ")
					shown++
				}
				slices.Sort(want)
				slices.Sort(gotList)
				if !slices.Equal(gotList, want) {
					t.Errorf("%s: %s shows Linked Issues %q, want %q", tc.user, r.Issue.Key, got, want)
				}
			}
			if shown == 0 {
				t.Errorf("%s: no row shows a linked issue", tc.user)
			}
			// The story and the sub-task are there, without their hidden parents.
			for _, key := range []string{story, sub} {
				if tc.user == "alice" && key == sub {
					continue // alice sees the Internal parent
				}
				found := false
				for _, r := range o.Forest.Rows {
					if r.Issue != nil && r.Issue.Key == key {
						found = true
						if r.Issue.Parent != "" {
							t.Errorf("%s: %s shows parent %q", tc.user, key, r.Issue.Parent)
						}
					}
				}
				if !found {
					t.Errorf("%s does not see %s", tc.user, key)
				}
			}
			// What the viewer may see stays: alice sees the sub-task's Internal parent.
			if tc.user == "alice" {
				for _, r := range o.Forest.Rows {
					if r.Issue != nil && r.Issue.Key == sub && r.Issue.Parent != subParent {
						t.Errorf("alice: %s shows parent %q, want %s", sub, r.Issue.Parent, subParent)
					}
				}
			}
			// An issue read from the cache outside a build (an editor's starting value, a
			// detail pane) is shown the same way.
			is, err := f.db.Issue(ctx, story)
			if err != nil {
				t.Fatal(err)
			}
			r, err := refresh.RedactFor(ctx, f.db, v, &is)
			if err != nil {
				t.Fatal(err)
			}
			if r.Parent != "" || strings.Contains(string(r.Fields["parent"]), epic) {
				t.Errorf("RedactFor(%s) as %s: parent %q %s", story, tc.user, r.Parent, r.Fields["parent"])
			}
			if r2 := o.Redact(&is); r2.Parent != "" || r2.Fields["parent"] != nil {
				t.Errorf("Opened.Redact(%s) as %s: parent %q %s", story, tc.user, r2.Parent, r2.Fields["parent"])
			}
		})
	}
	// admin sees them all.
	v, _ := f.viewer(t, "admin", time.Hour)
	o, err := refresh.OpenLens(ctx, f.db, "Refs", v, refresh.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range o.Forest.Rows {
		if strings.HasPrefix(r.Path, "f:parent is/") && r.Issue != nil && r.Issue.Key == story && r.Issue.Parent == epic {
			n++
		}
	}
	if n != 1 {
		t.Errorf("admin: parent = %s matched %d rows of %s, want 1", epic, n, story)
	}
}

// When the viewer's permissions cannot be verified (never checked), a build shows no row,
// and RedactFor leaves out every reference: nothing can say the viewer may see it.
func TestHiddenReferencesFailClosed(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "cloud", 300)
	var key string
	for _, is := range f.site.Issues() {
		if is.Project == "ALPHA" && is.Subtask {
			key = is.Key
			break
		}
	}
	is, err := f.db.Issue(ctx, key)
	if err != nil || is.Parent == "" {
		t.Fatalf("%s: %+v %v", key, is, err)
	}
	v := refresh.Viewer{Viewer: lens.Viewer{User: "alice"}}
	r, err := refresh.RedactFor(ctx, f.db, v, &is)
	if err != nil {
		t.Fatal(err)
	}
	if r.Parent != "" || r.Fields["parent"] != nil {
		t.Errorf("unverified grants: %s shows parent %q %s", key, r.Parent, r.Fields["parent"])
	}
}

// containsWord reports whether s holds x not as part of a longer key or word (ALPHA-1 is
// not in ALPHA-12).
func containsWord(s, x string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], x)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(x)
		if (j == 0 || !isWordByte(s[j-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == '-'
}

// An edit of a field whose cached value names an issue the editor may not browse (a parent
// in a hidden project) compares Jira's value, as the editor sees it, with the cached value
// as the editor may see it: no conflict tells the editor a hidden parent exists.
func TestEditOverHiddenParentIsNoConflict(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "cloud", 600)
	var story, hidden, mine string
	for _, is := range f.site.Issues() {
		switch {
		case hidden == "" && is.Project == "GAMMA" && is.Type == "Epic":
			hidden = is.Key
		case mine == "" && is.Project == "ALPHA" && is.Type == "Epic" && is.SecurityLevel == "":
			mine = is.Key
		case story == "" && is.Project == "ALPHA" && is.Type == "Story" && is.SecurityLevel == "":
			story = is.Key
		}
	}
	if err := f.site.Update(story, map[string]any{"parent": map[string]string{"key": hidden}}); err != nil {
		t.Fatal(err)
	}
	admin, err := refresh.New(f.login(t, "admin"), f.db, refresh.Options{Site: "admin", Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	base, err := f.db.Issue(ctx, story)
	if err != nil || base.Parent != hidden {
		t.Fatalf("%s cached with parent %q (%v), want %s", story, base.Parent, err, hidden)
	}
	// Someone changes another field: Jira's updated moves past the cached copy's.
	time.Sleep(5 * time.Millisecond)
	if err := f.site.Update(story, map[string]any{"summary": "changed meanwhile"}); err != nil {
		t.Fatal(err)
	}
	_, c := f.viewer(t, "alice", time.Hour)
	w := refresh.NewWriter(c, f.db, refresh.WriterOptions{})
	res, err := w.Set(ctx, story, "parent", mine, base.Updated, refresh.SetOptions{})
	if err != nil {
		t.Fatalf("alice's edit of %s's parent: %v", story, err)
	}
	if containsWord(res.Old, hidden) {
		t.Errorf("result names the hidden parent: %+v", res)
	}
}
