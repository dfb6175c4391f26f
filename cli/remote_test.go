package cli

import (
	"fmt"
	"strings"
	"testing"

	"foundation/jira/jiratest"
)

// TestRefreshFetchesRemoteLensMembers: a Lens whose JQL local evaluation cannot answer
// (membersOf() without a group directory, or WAS, which needs history the cache does not
// keep) gets its members from Jira at refresh time.
func TestRefreshFetchesRemoteLensMembers(t *testing.T) {
	e := newCLIEnv(t)
	e.writeConfig(fakeServer(t, "cloud", 300), "cloud", "admin", "project in (ALPHA, BETA, GAMMA)")
	dir := t.TempDir()
	file := writeFile(t, dir, "team.yaml", `name: Team
owner: admin@example.com
generators:
  - insert: {jql: 'project = ALPHA AND assignee in membersOf("jira-developers")'}
views:
  - name: v
    default: true
    columns: [{field: key}, {field: assignee}]
`)
	histFile := writeFile(t, dir, "reviewed.yaml", `name: Reviewed
owner: admin@example.com
generators:
  - insert: {jql: 'project = ALPHA AND status WAS "In Review" AND status != "In Review"'}
views:
  - name: v
    default: true
    columns: [{field: key}, {field: status}]
`)
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: %d\n%s", r.code, r.stderr)
	}
	for _, f := range []string{file, histFile} {
		r := e.run("", "lens", "apply", "-f", f)
		if r.code != 0 {
			t.Fatalf("apply %s: %d\n%s", f, r.code, r.stderr)
		}
		if !has(r.stderr, "note: Jira answers") || !has(r.stderr, "its members come with the next `foundation refresh`") {
			t.Errorf("apply %s does not say its members come from Jira:\n%s", f, r.stderr)
		}
	}
	r := e.run("", "lens", "show", "Reviewed")
	if !has(r.stdout, "members come from Jira at refresh time: The operator 'WAS' cannot be evaluated here: no change history is available.") {
		t.Errorf("lens show does not say why the WAS query is asked of Jira:\n%s%s", r.stdout, r.stderr)
	}
	if !has(r.stdout, "by 61a0000000000000000000a1 (Ada Admin)") { // who applied it, named
		t.Errorf("lens show does not name who updated the Lens:\n%s", r.stdout)
	}
	before := e.run("", "export", "--lens", "Team", "--format", "csv")
	if strings.Contains(before.stdout, "ALPHA-") {
		t.Fatalf("members before any refresh:\n%s", before.stdout)
	}
	r = e.run("", "refresh")
	if r.code != 0 || !has(r.stderr, "remote Lens queries: 2 answered") {
		t.Fatalf("refresh: %d\n%s", r.code, r.stderr)
	}
	after := e.run("", "export", "--lens", "Team", "--format", "csv")
	if after.code != 0 || !strings.Contains(after.stdout, "ALPHA-") {
		t.Errorf("no members after the refresh (exit %d):\n%s%s", after.code, after.stdout, after.stderr)
	}
	// Issues past In Review, as the fake's history has them: all Done.
	reviewed := e.run("", "export", "--lens", "Reviewed", "--format", "csv")
	if reviewed.code != 0 || !strings.Contains(reviewed.stdout, "ALPHA-") {
		t.Errorf("no WAS members after the refresh (exit %d):\n%s%s", reviewed.code, reviewed.stdout, reviewed.stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(reviewed.stdout), "\n")[1:] {
		if !strings.HasSuffix(line, ",Done") {
			t.Errorf("WAS member not past In Review: %s", line)
		}
	}
}

// TestRemoteLensRefusedIsTheLensOwnProblem: a remote Lens query Jira refuses is noted on
// its Lens, for those who may open it, and fails no refresh. A profile that may not open
// the Lens neither runs its query nor hears of it.
func TestRemoteLensRefusedIsTheLensOwnProblem(t *testing.T) {
	url := fakeServer(t, "datacenter", 120)
	e := newCLIEnv(t)
	e.as(url, "admin")
	e.as(url, "bob")
	const jql = "key in linkedIssues(ALPHA-1)"
	probe := writeFile(t, t.TempDir(), "probe.yaml", "name: Probe4\ngenerators:\n  - insert: {jql: \""+jql+"\"}\nviews:\n  - name: v\n    columns: [{field: key}]\n")
	e.mustRun("", "lens", "apply", "-f", probe)

	r := e.run("", "refresh")
	if r.code != 0 || !has(r.stderr, `lens "Probe4"`) || !has(r.stderr, jql) {
		t.Errorf("bob's refresh: exit %d, want 0 and a note on his Lens\n%s", r.code, r.stderr)
	}
	r = e.run("", "export", "--lens", "Probe4")
	if r.code != 0 || !has(r.stderr, "note: ") || !has(r.stderr, "Jira refused it at the last refresh") {
		t.Errorf("bob's export: exit %d, want 0 and a note saying Jira refused the query\n%s", r.code, r.stderr)
	}

	e.writeConfig(url, "datacenter", "admin", "project in (ALPHA, BETA, GAMMA)")
	for _, args := range [][]string{{"refresh", "--quiet"}, {"refresh"}, {"refresh", "--json"}} {
		r := e.run("", args...)
		if r.code != 0 || has(r.stderr+r.stdout, "Probe4") || has(r.stderr+r.stdout, "linkedIssues") {
			t.Errorf("admin's %v: exit %d, want 0 and nothing of bob's Lens\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := e.run("", "export", "--lens", "Probe4"); r.code != ExitAuth || has(r.stderr, "linkedIssues") {
		t.Errorf("admin's export of bob's Lens: exit %d\n%s", r.code, r.stderr)
	}
}

// TestRemoteLensNamingHiddenIssueByID: a Lens insert only Jira answers that names an issue
// bob may not browse by its numeric id gives bob none of its members, as when it names the
// key: which of bob's issues came back would tell him the hidden issue exists and is their
// parent.
func TestRemoteLensNamingHiddenIssueByID(t *testing.T) {
	site, url := serveFake(t, jiratest.Options{Dialect: "cloud", Issues: 300, Seed: 3})
	var sub jiratest.FakeIssue
	for _, is := range site.Issues() {
		if is.Project == "ALPHA" && is.Subtask {
			sub = is
			break
		}
	}
	parent, _ := site.Issue(sub.Parent)
	// The administrator puts the parent behind a security level bob is not in; its
	// sub-task stays visible to him.
	if err := site.Update(parent.Key, map[string]any{"security": map[string]string{"id": "10100"}}); err != nil {
		t.Fatal(err)
	}
	const scope = "project in (ALPHA, BETA, GAMMA)"
	e := newCLIEnv(t)
	e.writeConfig(url, "cloud", "admin", scope)
	dir := t.TempDir()
	byID := fmt.Sprintf(`parent = %d AND status WAS IN ("To Do", Done)`, parent.ID)
	byKey := fmt.Sprintf(`parent = %s AND status WAS IN ("To Do", Done)`, parent.Key)
	for name, q := range map[string]string{"ByID": byID, "ByKey": byKey} {
		f := writeFile(t, dir, name+".yaml", "name: "+name+"\nowner: admin@example.com\nacl: [{principal: anyone, level: view}]\ngenerators:\n  - insert: {jql: '"+q+"'}\nviews:\n  - name: v\n    columns: [{field: key}]\n")
		e.mustRun("", "lens", "apply", "-f", f)
	}
	e.mustRun("", "refresh", "--quiet")
	for _, name := range []string{"ByID", "ByKey"} {
		if r := e.mustRun("", "export", "--lens", name, "--format", "csv"); !strings.Contains(r.stdout, sub.Key) {
			t.Fatalf("admin's %s export lacks %s:\n%s", name, sub.Key, r.stdout)
		}
	}
	e.writeConfig(url, "cloud", "bob", scope)
	e.mustRun("", "refresh", "--quiet")
	for _, name := range []string{"ByID", "ByKey"} {
		r := e.run("", "export", "--lens", name, "--format", "csv")
		if r.code != 0 || strings.Contains(r.stdout, sub.Key) || !has(r.stderr, "names an issue that is not in the cache or that you may not browse") {
			t.Errorf("bob's %s export (exit %d) shows the hidden parent's sub-task %s or says nothing:\n%s%s", name, r.code, sub.Key, r.stdout, r.stderr)
		}
	}
}
