package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"foundation/jira/jiratest"
	"foundation/store"
)

// auditLens is a Lens file with an access list (yaml lines, indented by two) and a marker
// that shows when the file leaks through the audit log.
func auditLens(name, acl string) string {
	return "name: " + name + "\nowner: admin\ndescription: marker-" + name + "\n" + acl +
		"generators:\n  - insert: {jql: \"project = ALPHA ORDER BY key\"}\nviews: [{name: v, columns: [{field: key}]}]\n"
}

type auditLine struct {
	Actor, Action, Target, Outcome string
	Before, After                  json.RawMessage
}

func (e *cliEnv) auditJSON(args ...string) ([]auditLine, result) {
	e.t.Helper()
	r := e.run("", append([]string{"audit", "--json"}, args...)...)
	var log []auditLine
	if r.code == 0 || r.code == ExitPartial {
		if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
			e.t.Fatalf("audit --json %v: %v\n%s", args, err, r.stdout)
		}
	}
	return log, r
}

// TestAuditVisibility: the audit log shows a viewer only entries about issues the viewer
// may browse and Lenses the viewer may view, whoever acted; --limit counts what is shown;
// unverifiable permissions hide issue entries and exit 3; failures read "failed: …".
func TestAuditVisibility(t *testing.T) {
	site, url := serveFake(t, jiratest.Options{Dialect: "datacenter", Issues: 120, Seed: 3})
	e := newCLIEnv(t)
	dir := t.TempDir()
	beta := editTestIssue(t, site, "BETA", "To Do")
	alpha := editTestIssue(t, site, "ALPHA", "To Do")
	alpha2 := editTestIssue(t, site, "ALPHA", "In Progress")

	e.as(url, "admin")
	e.mustRun("", "edit", beta, "summary=Secret BETA plan")
	e.mustRun("", "edit", alpha, "summary=Public ALPHA plan")
	for _, l := range []struct{ name, acl string }{
		{"Test", ""},
		{"Open", "acl: [{principal: anyone, level: view}]\n"},
		{"Gone", "acl: [{principal: \"user:bob\", level: view}]\n"},
		{"Gone2", ""},
	} {
		e.mustRun("", "lens", "apply", "-f", writeFile(t, dir, l.name+".yaml", auditLens(l.name, l.acl)))
	}
	e.mustRun("", "lens", "delete", "Gone", "--yes")
	e.mustRun("", "lens", "delete", "Gone2", "--yes")
	// Entries whose values name issues: the target may be browsable when what it names is not.
	db := e.openCache(t)
	ctx := context.Background()
	for _, a := range []store.AuditEntry{
		{Actor: "admin", Action: "issue.link", Target: alpha, Before: json.RawMessage(`{"field":"link Blocks","value":"` + beta + `"}`), After: json.RawMessage(`{"field":"link Blocks","value":""}`), Outcome: "ok"},
		{Actor: "admin", Action: "issue.edit", Target: alpha, Before: json.RawMessage(`{"field":"parent","field_id":"parent","value":"` + strings.ToLower(beta) + `"}`), After: json.RawMessage(`{"field":"parent","field_id":"parent","value":"none"}`), Outcome: "ok"},
		{Actor: "admin", Action: "issue.edit", Target: alpha, Before: json.RawMessage(`{"field":"rank","value":""}`), After: json.RawMessage(`{"field":"rank","value":"before ` + beta + `"}`), Outcome: "ok"},
		{Actor: "admin", Action: "issue.edit", Target: alpha, Before: json.RawMessage(`{"field":"parent","field_id":"parent","value":"` + alpha2 + `"}`), After: json.RawMessage(`{"field":"parent","field_id":"parent","value":"none"}`), Outcome: "ok"},
		{Actor: "admin", Action: "issue.edit", Target: "ALPHA-99999", After: json.RawMessage(`{"field":"summary","value":"not cached"}`), Outcome: "ok"},
		{Actor: "admin", Action: "user.purge", Target: "bob", Outcome: "ok"},
	} {
		if err := db.Audit(ctx, a); err != nil {
			t.Fatal(err)
		}
	}

	e.as(url, "bob")
	// bob's own refusals are about things he may not see: they stay hidden from him too.
	if r := e.run("", "edit", beta, "summary=bob was here"); r.code != ExitAuth {
		t.Fatalf("bob's edit of %s: %d %s", beta, r.code, r.stderr)
	}
	if r := e.run("", "lens", "apply", "-f", writeFile(t, dir, "bob.yaml", auditLens("Test", "acl: [{principal: anyone, level: control}]\n"))); r.code != ExitAuth {
		t.Fatalf("bob's apply over Test: %d %s", r.code, r.stderr)
	}
	if r := e.run("", "lens", "delete", "Test", "--yes"); r.code != ExitAuth {
		t.Fatalf("bob's delete of Test: %d %s", r.code, r.stderr)
	}
	if r := e.run("", "lens", "acl", "Test", "--grant", "user:bob=view"); r.code != ExitAuth {
		t.Fatalf("bob's ACL change of Test: %d %s", r.code, r.stderr)
	}
	if r := e.run("", "lens", "show", "Test"); r.code != ExitAuth {
		t.Fatalf("bob may show Test: %d", r.code)
	}

	log, r := e.auditJSON()
	if r.code != 0 {
		t.Fatalf("bob's audit: %d %s", r.code, r.stderr)
	}
	var got []string
	for _, l := range log {
		got = append(got, l.Action+" "+l.Target)
	}
	want := []string{"issue.edit " + alpha, "lens.delete Gone", "acl.change Gone", "lens.put Gone", "acl.change Open", "lens.put Open", "issue.edit " + alpha}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("bob's audit:\n got %s\nwant %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	all := r.stdout + r.stderr
	for _, leak := range []string{beta, "Secret BETA plan", "bob was here", "marker-Test", "marker-Gone2", `"Test"`, "99999", "purge"} {
		if strings.Contains(all, leak) {
			t.Errorf("bob's audit gives away %q:\n%s", leak, all)
		}
	}
	for _, args := range [][]string{{"--issue", beta}, {"--issue", strings.ToLower(beta)}, {"--issue", "Test"}, {"--issue", "Gone2"}, {"--action", "lens.put", "--issue", "Test"}} {
		if log, r := e.auditJSON(args...); r.code != 0 || len(log) != 0 {
			t.Errorf("bob's audit %v: exit %d, %d entries\n%s", args, r.code, len(log), r.stdout)
		}
	}
	r = e.run("", "audit", "--issue", beta)
	if r.code != 0 || strings.Contains(r.stdout, "Secret") || strings.Count(r.stdout, "\n") != 1 || r.stderr != "" {
		t.Errorf("bob's audit --issue %s: %d\n%s%s", beta, r.code, r.stdout, r.stderr)
	}
	// --limit counts what bob may see: his newest entries are hidden from him.
	if log, r := e.auditJSON("--limit", "1"); r.code != 0 || len(log) != 1 || log[0].Target != alpha {
		t.Errorf("bob's audit --limit 1: %d %+v", r.code, log)
	}
	if log, r := e.auditJSON("--limit", "2", "--action", "lens.put"); r.code != 0 || len(log) != 2 || log[0].Target != "Gone" || log[1].Target != "Open" {
		t.Errorf("bob's audit --limit 2 --action lens.put: %d %+v", r.code, log)
	}
	if log, r := e.auditJSON("--since", "1h", "--action", "issue.edit"); r.code != 0 || len(log) != 2 {
		t.Errorf("bob's audit --since 1h --action issue.edit: %d %+v", r.code, log)
	}

	// Grants that expired (Jira not asked since) hide issue entries: exit 3 with a note that
	// names projects, never issues or how many.
	grants, err := db.Grants(ctx, "bob")
	if err != nil || len(grants) == 0 {
		t.Fatalf("bob's grants: %v %v", grants, err)
	}
	for i := range grants {
		grants[i].ExpiresAt = time.Now().Add(-time.Minute)
	}
	if err := db.PutGrants(ctx, grants); err != nil {
		t.Fatal(err)
	}
	log, r = e.auditJSON()
	if r.code != ExitPartial || !has(r.stderr, "unverified since") || !has(r.stderr, "may be partial") {
		t.Errorf("bob's audit with expired grants: %d\n%s", r.code, r.stderr)
	}
	for _, l := range log {
		if strings.HasPrefix(l.Action, "issue.") {
			t.Errorf("with expired grants bob sees %+v", l)
		}
	}
	if len(log) != 5 || strings.Contains(r.stderr, alpha) {
		t.Errorf("with expired grants: %+v\n%s", log, r.stderr)
	}

	// alice browses ALPHA and BETA but has no access to Test.
	e.as(url, "alice")
	if log, r := e.auditJSON("--issue", "Test"); r.code != 0 || len(log) != 0 {
		t.Errorf("alice's audit --issue Test: %d\n%s", r.code, r.stdout)
	}
	if log, r := e.auditJSON("--issue", beta); r.code != 0 || len(log) != 2 || !strings.Contains(r.stdout, "Secret BETA plan") {
		t.Errorf("alice's audit --issue %s: %d %+v", beta, r.code, log)
	}

	// admin owns Test and sees its history, every refusal in the documented form.
	e.as(url, "admin")
	if r := e.run("", "lens", "apply", "--expect-version", "7", "-f", writeFile(t, dir, "stale.yaml", auditLens("Test", ""))); r.code != ExitError {
		t.Fatalf("stale apply: %d %s", r.code, r.stderr)
	}
	log, r = e.auditJSON("--issue", "Test")
	got = nil
	for _, l := range log {
		outcome, _, _ := strings.Cut(l.Outcome, ": ")
		got = append(got, l.Actor+" "+l.Action+" "+outcome)
	}
	want = []string{"admin lens.put conflict", "bob acl.change failed", "bob lens.delete failed", "bob lens.put failed", "admin acl.change ok", "admin lens.put ok"}
	if r.code != 0 || strings.Join(got, ", ") != strings.Join(want, ", ") || !strings.Contains(log[3].Outcome, "may not") {
		t.Errorf("admin's audit --issue Test: %d\n got %s\nwant %s", r.code, strings.Join(got, ", "), strings.Join(want, ", "))
	}
	log, _ = e.auditJSON("--issue", beta)
	if len(log) != 2 || !strings.HasPrefix(log[0].Outcome, "failed: ") || log[0].Actor != "bob" {
		t.Errorf("admin's audit --issue %s: %+v", beta, log)
	}
}

// TestAuditUnknownAction: a misspelt --action is a usage error naming the actions, not an
// empty log that looks like nothing happened.
func TestAuditUnknownAction(t *testing.T) {
	e := offlineEnv(t)
	r := e.run("", "audit", "--action", "bogus.thing")
	if r.code != ExitUsage || !has(r.stderr, `--action "bogus.thing": no such action`) || !has(r.stderr, "issue.edit, issue.link, lens.put, lens.delete, acl.change") {
		t.Errorf("audit --action bogus.thing: exit %d\n%s", r.code, r.stderr)
	}
	if r := e.run("", "audit", "--action", "Lens.Put"); r.code != 0 {
		t.Errorf("audit --action Lens.Put: exit %d\n%s", r.code, r.stderr)
	}
}
