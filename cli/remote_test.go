package cli

import (
	"strings"
	"testing"
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
