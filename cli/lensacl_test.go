package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"foundation/jira/jiratest"
	"foundation/lens"
	"foundation/store"
)

const guardedLens = `name: Guarded
owner: admin
generators:
  - insert: {jql: "project in (ALPHA, BETA) ORDER BY key"}
views: [{name: v, columns: [{field: key}, {field: summary}]}]
`

// as switches the profile to user (one cache, shared) and refreshes, which resolves who
// the profile is and checks its permissions.
func (e *cliEnv) as(url, user string) {
	e.t.Helper()
	e.writeConfig(url, "datacenter", user, "project in (ALPHA, BETA, GAMMA)")
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		e.t.Fatalf("refresh as %s: exit %d\n%s", user, r.code, r.stderr)
	}
}

// TestLensACLCommand walks a Lens through its ACL levels headless: each level allows what
// it should, refusals exit 4 and are audited, and the ACL prints with explanations.
func TestLensACLCommand(t *testing.T) {
	site, err := jiratest.New(jiratest.Options{Dialect: "datacenter", Issues: 120, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	e := newCLIEnv(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "guarded.yaml", guardedLens)
	changed := writeFile(t, dir, "changed.yaml", strings.Replace(guardedLens, "ALPHA, BETA", "ALPHA", 1))

	e.as(srv.URL, "admin")
	e.mustRun("", "lens", "apply", "-f", file)

	e.as(srv.URL, "bob")
	refusals := [][]string{
		{"export", "--lens", "Guarded"},
		{"lens", "show", "Guarded"},
		{"lens", "export", "Guarded"},
		{"lens", "acl", "Guarded"},
		{"lens", "acl", "Guarded", "--grant", "user:bob=control"},
		{"lens", "apply", "-f", changed},
		{"lens", "delete", "Guarded", "--yes"},
	}
	for _, args := range refusals {
		if r := e.run("", args...); r.code != ExitAuth || !has(r.stderr, "may not") || r.stdout != "" {
			t.Errorf("bob without access: %v: exit %d, stdout %q\n%s", args, r.code, r.stdout, r.stderr)
		}
	}

	if r := e.mustRun("", "lens", "list"); strings.Contains(r.stdout, "Guarded") {
		t.Errorf("bob's lens list names a Lens he may not open:\n%s", r.stdout)
	}

	e.as(srv.URL, "admin")
	r := e.mustRun("", "lens", "acl", "Guarded", "--grant", "user:bob=view", "--grant", "group:jira-developers=edit")
	for _, want := range []string{"owner:admin", "control as owner (that is you)", "user:bob", "bob (Bob Brown): view", "members of group jira-developers: edit", "You: admin (Ada Admin): control as owner"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("acl lacks %q:\n%s", want, r.stdout)
		}
	}

	// bob now has edit through his group: he sees his share of the rows, and no more.
	e.as(srv.URL, "bob")
	r = e.mustRun("", "export", "--lens", "Guarded", "--format", "csv")
	visible, err := site.VisibleTo("bob")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(r.stdout, "\n") - 1
	want := 0
	for _, k := range visible {
		if strings.HasPrefix(k, "ALPHA-") || strings.HasPrefix(k, "BETA-") {
			want++
		}
	}
	if rows != want || strings.Contains(r.stdout, "BETA-") {
		t.Errorf("bob's export has %d rows (BETA: %v), Jira lets him browse %d", rows, strings.Contains(r.stdout, "BETA-"), want)
	}
	if r := e.mustRun("", "lens", "list"); !strings.Contains(r.stdout, "Guarded") {
		t.Errorf("bob's lens list lacks a Lens he may open:\n%s", r.stdout)
	}
	r = e.mustRun("", "lens", "acl", "Guarded", "--json")
	var rep aclReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("acl --json: %v\n%s", err, r.stdout)
	}
	if rep.You.Level != "edit" || rep.You.Via != "group:jira-developers" || rep.You.Explanation != "bob (Bob Brown): edit via group jira-developers" || len(rep.Entries) != 3 {
		t.Errorf("acl --json: %+v", rep)
	}
	for _, args := range refusals[4:] {
		if r := e.run("", args...); r.code != ExitAuth {
			t.Errorf("bob with edit: %v: exit %d\n%s", args, r.code, r.stderr)
		}
	}

	e.as(srv.URL, "admin")
	e.mustRun("", "lens", "acl", "Guarded", "--grant", "user:bob=generators")
	e.as(srv.URL, "bob")
	// A definition change keeps the ACL as it is: export, change the generators, apply.
	exported := e.mustRun("", "lens", "export", "Guarded").stdout
	edited := writeFile(t, dir, "edited.yaml", strings.Replace(exported, "ALPHA, BETA", "ALPHA", 1))
	e.mustRun("", "lens", "apply", "-f", edited)
	if r := e.run("", "lens", "apply", "-f", changed); r.code != ExitAuth || !has(r.stderr, "change the access list") {
		t.Errorf("bob dropped the ACL with generators access: exit %d\n%s", r.code, r.stderr)
	}
	if r := e.run("", "lens", "acl", "Guarded", "--revoke", "group:jira-developers"); r.code != ExitAuth {
		t.Errorf("bob with generators changed the ACL: exit %d\n%s", r.code, r.stderr)
	}

	e.as(srv.URL, "admin")
	e.mustRun("", "lens", "acl", "Guarded", "--grant", "user:bob=control")
	e.as(srv.URL, "bob")
	e.mustRun("", "lens", "acl", "Guarded", "--revoke", "group:jira-developers")
	if r := e.run("", "lens", "acl", "Guarded", "--owner", "user:bob", "--yes"); r.code != ExitAuth || !has(r.stderr, "only its owner may") {
		t.Errorf("bob took ownership: exit %d\n%s", r.code, r.stderr)
	}

	// Usage errors, and an ownership transfer that must be confirmed.
	e.as(srv.URL, "admin")
	for _, args := range [][]string{
		{"lens", "acl", "Guarded", "--grant", "user:bob"},
		{"lens", "acl", "Guarded", "--grant", "user:bob=admin"},
		{"lens", "acl", "Guarded", "--revoke", "team:x"},
		{"lens", "acl", "Guarded", "--owner", "group:x"},
		{"lens", "acl", "Guarded", "--owner", "user:bob"},
	} {
		if r := e.run("", args...); r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
	e.mustRun("", "lens", "acl", "Guarded", "--owner", "user:bob", "--yes")
	// admin kept nothing: bob's entry is the only one left, and admin is not bob.
	if r := e.run("", "lens", "acl", "Guarded"); r.code != ExitAuth {
		t.Errorf("admin after giving the Lens away: exit %d\n%s", r.code, r.stdout)
	}
	e.as(srv.URL, "bob")
	r = e.mustRun("", "lens", "acl", "Guarded")
	if !strings.Contains(r.stdout, "owner:bob") || !strings.Contains(r.stdout, "You: bob (Bob Brown): control as owner") {
		t.Errorf("after the transfer:\n%s", r.stdout)
	}

	db := e.openCache(t)
	log, err := db.AuditLog(context.Background(), store.AuditFilter{Action: "acl.change", Target: "Guarded"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range log {
		got = append(got, a.Actor+":"+map[bool]string{true: "ok", false: "refused"}[a.Outcome == "ok"])
	}
	if s := strings.Join(got, " "); s != "admin:ok bob:refused bob:ok admin:ok bob:refused admin:ok bob:refused admin:ok bob:refused admin:ok" {
		t.Errorf("acl audit: %s", s)
	}
}

// TestExportUnverifiable: with grants that cannot be relied on, export hides the rows, says
// why on stderr and exits 3.
func TestExportUnverifiable(t *testing.T) {
	site, err := jiratest.New(jiratest.Options{Dialect: "datacenter", Issues: 60, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	e := newCLIEnv(t)
	e.as(srv.URL, "alice")
	e.mustRun("", "lens", "apply", "-f", writeFile(t, t.TempDir(), "g.yaml", guardedLens+"acl: [{principal: anyone, level: view}]\n"))
	if r := e.mustRun("", "export", "--lens", "Guarded", "--format", "csv"); strings.Count(r.stdout, "\n") < 10 {
		t.Fatalf("alice sees too little:\n%s", r.stdout)
	}
	db := e.openCache(t)
	if err := db.DeleteGrants(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	r := e.run("", "export", "--lens", "Guarded", "--format", "csv")
	if r.code != ExitPartial || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("export without grants: exit %d, stdout\n%s", r.code, r.stdout)
	}
	for _, want := range []string{"permissions for ALPHA, BETA never verified", "partial", "could not be verified"} {
		if !has(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	// lens show counts the same rows: partial too, not a Lens of 0 rows.
	r = e.run("", "lens", "show", "Guarded")
	if r.code != ExitPartial || !strings.Contains(r.stdout, "Rows:        0") || !has(r.stderr, "partial") {
		t.Errorf("lens show without grants: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A refresh that cannot reach Jira leaves them hidden; one that can brings them back.
	site.Faults().SetDown(true, false)
	if r := e.run("", "refresh", "--quiet", "--timeout", "2s"); r.code == 0 {
		t.Errorf("refresh with Jira down: exit 0")
	}
	site.Faults().SetDown(false, false)
	e.mustRun("", "refresh", "--quiet")
	if r := e.mustRun("", "export", "--lens", "Guarded", "--format", "csv"); strings.Count(r.stdout, "\n") < 10 {
		t.Errorf("rows did not come back:\n%s", r.stdout)
	}
}

// FuzzParseACLEdit: flag values never crash the parser, and whatever it accepts is a change
// refresh.ChangeACL can read (principals and levels that parse).
func FuzzParseACLEdit(f *testing.F) {
	for _, s := range []string{"user:bob=view", "group:jira-developers=edit", "role:ALPHA/Developers=control", "anyone=view", "user:a=b=c", "=", "role:X=edit", "user:=view", "group:qa"} {
		f.Add(s, "user:bob", "user:alice")
	}
	f.Fuzz(func(t *testing.T, grant, revoke, owner string) {
		e, err := parseACLEdit(lensACLFlags{grant: []string{grant}, revoke: []string{revoke}, owner: owner})
		if err != nil {
			return
		}
		for _, g := range e.Grant {
			if _, err := lens.ParsePrincipal(g.Principal); err != nil {
				t.Errorf("accepted principal %q: %v", g.Principal, err)
			}
			if _, ok := lens.ParseLevel(g.Level); !ok {
				t.Errorf("accepted level %q", g.Level)
			}
		}
		for _, r := range e.Revoke {
			if _, err := lens.ParsePrincipal(r); err != nil {
				t.Errorf("accepted revoke %q: %v", r, err)
			}
		}
		if p, err := lens.ParsePrincipal(e.Owner); e.Owner != "" && err == nil && p.Kind != "user" {
			t.Errorf("accepted owner %q", e.Owner)
		}
	})
}
