package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"foundation/jira/jiratest"
	"foundation/store"
)

// offlineEnv is a profile whose cache was filled by a refresh from a fake site that is
// gone afterwards: every lens and export command must work from the cache alone.
func offlineEnv(t *testing.T) *cliEnv {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 150, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	e := newCLIEnv(t)
	e.writeConfig(srv.URL, "cloud", "admin", "project in (ALPHA, BETA, GAMMA)")
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: exit %d\n%s", r.code, r.stderr)
	}
	srv.Close()
	return e
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *cliEnv) mustRun(stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
	}
	return r
}

func TestLensCommands(t *testing.T) {
	e := offlineEnv(t)
	dir := t.TempDir()
	// On Cloud users have no names: the profile owns the example through its email, one of
	// the ids Lens ACLs know it by, so it may change and delete it.
	example, err := os.ReadFile(filepath.Join("..", "examples", "roadmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := []byte(strings.Replace(string(example), "owner: admin\n", "owner: admin@example.com\n", 1))
	roadmap := writeFile(t, dir, "roadmap.yaml", string(src))

	r := e.mustRun("", "lens", "apply", "-f", roadmap)
	if !has(r.stderr, `lens "Roadmap" created: version 1`) {
		t.Errorf("apply said %q", r.stderr)
	}
	if r := e.mustRun("", "lens", "apply", "-f", filepath.Join("..", "examples", "sprint.yaml")); has(r.stderr, "Jira answers") {
		t.Errorf("openSprints() is answered from the cache, yet apply says:\n%s", r.stderr)
	}
	e.mustRun(string(mustRead(t, filepath.Join("..", "examples", "bugs.yaml"))), "lens", "apply", "-f", "-")

	r = e.mustRun("", "lens", "list", "--json")
	var infos []lensInfo
	if err := json.Unmarshal([]byte(r.stdout), &infos); err != nil {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	if len(infos) != 3 || infos[0].Name != "Bugs" || infos[1].Name != "Roadmap" || infos[1].Version != 1 || infos[1].Owner != "admin@example.com" || !strings.HasPrefix(infos[1].Description, "Epics") {
		t.Errorf("list --json: %+v", infos)
	}
	r = e.mustRun("", "lens", "list")
	if !strings.HasPrefix(r.stdout, "NAME") || !strings.Contains(r.stdout, "Sprint") {
		t.Errorf("list:\n%s", r.stdout)
	}

	r = e.mustRun("", "lens", "show", "Roadmap")
	for _, want := range []string{"Lens:        Roadmap", "1. insert jql project in (ALPHA, BETA) AND issuetype = Epic", "2. extend by parent, depth 1",
		"plan (default)", "sp           rollup sum story points over descendants \"SP\"", "remaining    formula sp * (1 - done_sp)", "dates", "Rows:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}
	r = e.mustRun("", "lens", "show", "Sprint")
	if !strings.Contains(r.stdout, "Remote queries") || !strings.Contains(r.stdout, "sprint in openSprints()") {
		t.Errorf("show Sprint lacks its remote query:\n%s", r.stdout)
	}
	bad := writeFile(t, dir, "formula.yaml", "name: F\ngenerators: [{insert: {jql: \"project = ALPHA\"}}]\nviews:\n  - name: v\n    columns:\n      - field: key\n      - {id: bad, formula: \"points > 0 ? 1 / 0 : 0\"}\n")
	e.mustRun("", "lens", "apply", "-f", bad)
	r = e.mustRun("", "lens", "show", "F")
	if !strings.Contains(r.stdout, "formula error: column bad:") {
		t.Errorf("show lacks the formula error:\n%s", r.stdout)
	}

	// export gives the file back; applying it again changes nothing (no version, no audit
	// row), so others' --expect-version still holds.
	r = e.mustRun("", "lens", "export", "Roadmap")
	if r.stdout != string(src) {
		t.Errorf("export differs from the applied file:\n%s", r.stdout)
	}
	out := filepath.Join(dir, "out.yaml")
	e.mustRun("", "lens", "export", "Roadmap", "-o", out)
	if got := mustRead(t, out); string(got) != string(src) {
		t.Errorf("export -o wrote:\n%s", got)
	}
	for _, args := range [][]string{{"-f", out, "--expect-version", "1"}, {"-f", roadmap}, {"-f", "-"}} {
		r = e.mustRun(string(src), append([]string{"lens", "apply"}, args...)...)
		if !has(r.stderr, `lens "Roadmap" unchanged: version 1`) {
			t.Errorf("re-apply %v of the stored file said %q", args, r.stderr)
		}
	}
	// A comment is part of the stored file (export gives it back): a new version.
	if err := os.WriteFile(out, append(src, "# reviewed\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.mustRun("", "lens", "apply", "-f", out, "--expect-version", "1")
	if !has(r.stderr, "updated: version 2") {
		t.Errorf("apply with a new comment said %q", r.stderr)
	}
	r = e.run("", "lens", "apply", "-f", out, "--expect-version", "1")
	if r.code != ExitError || !has(r.stderr, "changed meanwhile: now version 2, expected 1") {
		t.Errorf("stale apply: exit %d\n%s", r.code, r.stderr)
	}
	r = e.run("", "lens", "apply", "-f", out, "--expect-version", "0")
	if r.code != ExitError || !has(r.stderr, "already exists") {
		t.Errorf("create-only apply of an existing Lens: exit %d\n%s", r.code, r.stderr)
	}

	// Bad files: located errors, exit 1, nothing stored.
	for _, tc := range []struct{ body, want string }{
		{"name: X\nviews:\n  - name: v\n    columns:\n      - field: key\n      - field: nosuch\n", "x.yaml:6: views[0].columns[1].field: unknown field \"nosuch\""},
		{"name: X\ngenerators:\n  - extend: {by: cousins}\nviews: [{name: v, columns: [{field: key}]}]\n", "x.yaml:3: generators[0].extend.by: unknown kind \"cousins\"; valid: parent, subtasks, links"},
		{"name: X\n  bad indent: [\n", "x.yaml:"},
	} {
		p := writeFile(t, dir, "x.yaml", tc.body)
		r = e.run("", "lens", "apply", "-f", p)
		if r.code != ExitError || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("bad file: exit %d, want 1 with %q in\n%s", r.code, tc.want, r.stderr)
		}
	}
	if r = e.run("", "lens", "export", "X"); r.code != ExitError || !has(r.stderr, "not found") {
		t.Errorf("a bad file was stored: exit %d %s", r.code, r.stderr)
	}
	if r = e.run("", "lens", "apply"); r.code != ExitUsage {
		t.Errorf("apply without -f: exit %d", r.code)
	}
	if r = e.run("", "lens", "apply", "-f", filepath.Join(dir, "missing.yaml")); r.code != ExitError || !has(r.stderr, "no such file") {
		t.Errorf("missing file: exit %d\n%s", r.code, r.stderr)
	}

	// delete asks, and refuses without a terminal to ask on.
	if r = e.run("", "lens", "delete", "Roadmap"); r.code != ExitUsage || !has(r.stderr, "pass --yes") {
		t.Errorf("delete without --yes: exit %d\n%s", r.code, r.stderr)
	}
	e.mustRun("", "lens", "export", "Roadmap")
	r = e.mustRun("", "lens", "delete", "Roadmap", "--yes")
	if r = e.run("", "lens", "show", "Roadmap"); r.code != ExitError {
		t.Errorf("show after delete: exit %d", r.code)
	}
	if r = e.run("", "lens", "delete", "Roadmap", "--yes"); r.code != ExitError || !has(r.stderr, "not found") {
		t.Errorf("delete of a missing Lens: exit %d\n%s", r.code, r.stderr)
	}

	// Every apply and delete that reached the store is in the audit log.
	db := e.openCache(t)
	log, err := db.AuditLog(context.Background(), store.AuditFilter{Target: "Roadmap"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range log {
		actions = append(actions, a.Action+":"+map[bool]string{true: "ok", false: "refused"}[a.Outcome == "ok"])
	}
	if got := strings.Join(actions, " "); got != "lens.delete:ok lens.put:refused lens.put:refused lens.put:ok acl.change:ok lens.put:ok" {
		t.Errorf("audit log of Roadmap: %s", got)
	}
}

func (e *cliEnv) openCache(t *testing.T) *store.DB {
	t.Helper()
	c := e.load()
	site, err := c.Site("")
	if err != nil {
		t.Fatal(err)
	}
	db, err := openCache(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExportCommand(t *testing.T) {
	e := offlineEnv(t)
	e.mustRun("", "lens", "apply", "-f", filepath.Join("..", "examples", "roadmap.yaml"))

	// Not a terminal: plain TSV by default.
	r := e.mustRun("", "export", "--lens", "Roadmap")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if lines[0] != "Depth\tKind\tRow\tKey\tSummary\tStatus\tAssignee\tSP\tDone SP\tLeaves\tRemaining" || len(lines) < 10 {
		t.Fatalf("default export:\n%s", r.stdout)
	}
	depths := map[string]int{}
	for _, l := range lines[1:] {
		depths[strings.SplitN(l, "\t", 2)[0]]++
	}
	if depths["0"] == 0 || depths["1"] == 0 || depths["2"] == 0 {
		t.Errorf("rows by depth %v: want epics, stories and sub-tasks", depths)
	}

	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"csv", []string{"--format", "csv"}, func(t *testing.T, out string) {
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(recs) != len(lines) || recs[0][2] != "Row" {
				t.Errorf("csv: %d records, %v", len(recs), err)
			}
		}},
		{"json", []string{"--format", "json", "--view", "dates"}, func(t *testing.T, out string) {
			var doc struct {
				Lens, View string
				Columns    []struct{ ID, Kind string }
				Rows       []struct {
					Depth int
					Kind  string
					Key   string
					Cells map[string]struct {
						Type  string
						Value any
					}
				}
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("json: %v", err)
			}
			if doc.Lens != "Roadmap" || doc.View != "dates" || len(doc.Rows) != len(lines)-1 || doc.Rows[0].Key == "" {
				t.Errorf("json: lens %q view %q, %d rows", doc.Lens, doc.View, len(doc.Rows))
			}
			if c := doc.Rows[0].Cells["updated"]; c.Type != "time" {
				t.Errorf("updated cell %+v, want a typed time", c)
			}
		}},
		{"md", []string{"--format", "md", "--depth", "1"}, func(t *testing.T, out string) {
			ls := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(ls[0], "| Row | Key |") || len(ls) != depths["0"]+2 {
				t.Errorf("md --depth 1: %d lines, want %d:\n%s", len(ls), depths["0"]+2, out)
			}
		}},
		{"expand 1", []string{"--expand", "1"}, func(t *testing.T, out string) {
			if n := strings.Count(out, "\n"); n != depths["0"]+depths["1"]+1 {
				t.Errorf("--expand 1: %d lines, want %d", n, depths["0"]+depths["1"]+1)
			}
		}},
		{"table", []string{"--format", "table", "--expand", "0"}, func(t *testing.T, out string) {
			ls := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(ls[0], "Row") || len(ls) != depths["0"]+1 {
				t.Errorf("table:\n%s", out)
			}
			// Aligned: the Key column starts at the same offset on every line.
			at := strings.Index(ls[0], "Key")
			for _, l := range ls[1:] {
				if len(l) < at || l[at-2:at] != "  " || l[at] == ' ' {
					t.Errorf("table not aligned at %d:\n%s\n%s", at, ls[0], l)
					break
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.mustRun("", append([]string{"export", "--lens", "Roadmap"}, tc.args...)...)
			tc.check(t, r.stdout)
		})
	}

	// --filter keeps a matching sub-task with the story and epic above it, and nothing else.
	var sub []string
	for _, l := range lines[1:] {
		if fs := strings.Split(l, "\t"); fs[0] == "2" {
			sub = fs
			break
		}
	}
	r = e.mustRun("", "export", "--lens", "Roadmap", "--filter", "key = "+sub[3])
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(got) != 4 || !strings.HasPrefix(got[1], "0\t") || !strings.HasPrefix(got[2], "1\t") || !strings.HasPrefix(got[3], "2\tissue\t"+sub[3]+" ") {
		t.Errorf("--filter key = %s:\n%s", sub[3], r.stdout)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export"}, ExitUsage, "--lens NAME is required"},
		{[]string{"export", "--lens", "Roadmap", "--format", "xml"}, ExitUsage, "valid: csv, tsv, json, md, table"},
		{[]string{"export", "--lens", "Roadmap", "--view", "nope"}, ExitUsage, `unknown view "nope"; valid: plan, dates`},
		{[]string{"export", "--lens", "Roadmap", "--expand", "some"}, ExitUsage, "want all or a number"},
		{[]string{"export", "--lens", "Roadmap", "--depth", "-1"}, ExitUsage, "must not be negative"},
		{[]string{"export", "--lens", "Roadmap", "--depth", "1", "--expand", "all"}, ExitUsage, "--depth and --expand both limit the levels written: give one"},
		{[]string{"export", "--lens", "Nope"}, ExitError, "not found"},
		{[]string{"export", "--lens", "Roadmap", "--filter", "status ="}, ExitUsage, "--filter: Error in the JQL Query: Expecting either a value"},
		{[]string{"export", "--lens", "Roadmap", "--filter", "status WAS Done"}, ExitUsage, "--filter: The operator 'WAS' cannot be evaluated here"},
	} {
		r := e.run("", tc.args...)
		if r.code != tc.code || !has(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q in\n%s", tc.args, r.code, tc.code, tc.want, r.stderr)
		}
		if strings.Count(r.stderr, `lens "Roadmap":`) > 1 {
			t.Errorf("%v: the Lens is named twice: %s", tc.args, r.stderr)
		}
	}
}

// TestUnknownCustomField: JQL naming a custom field id the site does not have (Jira's full
// field list is in the cache) is refused by lens apply and export --filter, as Jira
// refuses it, instead of a Lens or an export with no rows.
func TestUnknownCustomField(t *testing.T) {
	e := offlineEnv(t)
	dir := t.TempDir()
	for _, q := range []string{"project = ALPHA AND cf[99999] = 1", "project = ALPHA AND customfield_99999 = 1"} {
		f := writeFile(t, dir, "test2.yaml", "name: Test2\ngenerators:\n  - insert: {jql: \""+q+"\"}\nviews:\n  - name: v\n    columns: [{field: key}]\n")
		r := e.run("", "lens", "apply", "-f", f)
		if r.code != ExitError || !has(r.stderr, "test2.yaml:3: generators[0].insert.jql: Field 'cf[99999]' does not exist or you do not have permission to view it.") || has(r.stderr, "created") {
			t.Errorf("apply %q: exit %d\n%s", q, r.code, r.stderr)
		}
	}
	e.mustRun("", "lens", "apply", "-f", filepath.Join("..", "examples", "bugs.yaml"))
	for _, filter := range []string{"cf[99999] = 1", "customfield_99999 = 1", `"Team Name" = x`} {
		r := e.run("", "export", "--lens", "Bugs", "--filter", filter)
		if r.code != ExitUsage || !has(r.stderr, "does not exist or you do not have permission to view it") || r.stdout != "" {
			t.Errorf("export --filter %q: exit %d, stdout %q\n%s", filter, r.code, r.stdout, r.stderr)
		}
	}
	// A custom field the site has still filters.
	if r := e.run("", "export", "--lens", "Bugs", "--filter", "cf[10016] > 0 OR cf[10016] IS EMPTY"); r.code != 0 || strings.Count(r.stdout, "\n") < 2 {
		t.Errorf("export --filter on story points: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestExportFilterOnRawFields: an export filter on fields the cache keeps only in the raw
// issue data (custom fields, fix versions, components, description) gives the same rows
// whatever columns the Lens has: a Lens of keys alone reads no raw data for itself.
func TestExportFilterOnRawFields(t *testing.T) {
	e := offlineEnv(t)
	keysOnly := "name: Keys\ngenerators:\n  - insert: {jql: \"project in (ALPHA, BETA, GAMMA)\"}\nviews:\n  - name: v\n    columns: [{field: key}]\n"
	withRaw := "name: Wide\ngenerators:\n  - insert: {jql: \"project in (ALPHA, BETA, GAMMA)\"}\nviews:\n  - name: v\n    columns: [{field: key}, {field: \"cf[10016]\"}, {field: fixVersions}, {field: components}, {field: description}]\n"
	dir := t.TempDir()
	e.mustRun("", "lens", "apply", "-f", writeFile(t, dir, "keys.yaml", keysOnly))
	e.mustRun("", "lens", "apply", "-f", writeFile(t, dir, "wide.yaml", withRaw))
	rows := func(lensName, filter string) int {
		t.Helper()
		r := e.mustRun("", "export", "--lens", lensName, "--format", "tsv", "--filter", filter)
		return strings.Count(r.stdout, "\n") - 1
	}
	points := rows("Keys", `"Story Points" >= 8`)
	if points == 0 {
		t.Fatal(`no issue has "Story Points" >= 8: the test proves nothing`)
	}
	if n := rows("Keys", "cf[10016] >= 8"); n != points {
		t.Errorf(`cf[10016] >= 8 kept %d rows, "Story Points" >= 8 (the same field) %d`, n, points)
	}
	for _, filter := range []string{"cf[10016] >= 8", "fixVersion is not EMPTY", "component is not EMPTY", "description is not EMPTY", "resolved is not EMPTY"} {
		keys, wide := rows("Keys", filter), rows("Wide", filter)
		if keys == 0 || keys != wide {
			t.Errorf("--filter %q: %d rows on a Lens of keys, %d on one showing the fields", filter, keys, wide)
		}
	}
}
