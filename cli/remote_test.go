package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefreshFetchesRemoteLensMembers: a Lens whose JQL local evaluation cannot answer
// (membersOf() without a group directory) gets its members from Jira at refresh time.
func TestRefreshFetchesRemoteLensMembers(t *testing.T) {
	e := newCLIEnv(t)
	e.writeConfig(fakeServer(t, "cloud", 300), "cloud", "admin", "project in (ALPHA, BETA, GAMMA)")
	file := filepath.Join(t.TempDir(), "team.yaml")
	src := `name: Team
owner: admin@example.com
generators:
  - insert: {jql: 'project = ALPHA AND assignee in membersOf("jira-developers")'}
views:
  - name: v
    default: true
    columns: [{field: key}, {field: assignee}]
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: %d\n%s", r.code, r.stderr)
	}
	if r := e.run("", "lens", "apply", "-f", file); r.code != 0 {
		t.Fatalf("apply: %d\n%s", r.code, r.stderr)
	}
	before := e.run("", "export", "--lens", "Team", "--format", "csv")
	if strings.Contains(before.stdout, "ALPHA-") {
		t.Fatalf("members before any refresh:\n%s", before.stdout)
	}
	r := e.run("", "refresh")
	if r.code != 0 || !has(r.stderr, "remote Lens queries: 1 answered") {
		t.Fatalf("refresh: %d\n%s", r.code, r.stderr)
	}
	after := e.run("", "export", "--lens", "Team", "--format", "csv")
	if after.code != 0 || !strings.Contains(after.stdout, "ALPHA-") {
		t.Errorf("no members after the refresh (exit %d):\n%s%s", after.code, after.stdout, after.stderr)
	}
}
