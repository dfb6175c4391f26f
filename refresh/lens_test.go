package refresh_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// lensNow is the clock of the fake site and of every build here, so goldens are stable.
var lensNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// refreshedCache is a cache filled by a real full sync from a fake site with a fixed clock.
func refreshedCache(t *testing.T, dialect string, issues int) *store.DB {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: issues, Seed: 11, Now: func() time.Time { return lensNow }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	opts := jira.Options{BaseURL: srv.URL, Token: "admin-token", RequestsPerSecond: -1}
	if dialect == "cloud" {
		opts.Email = "admin@example.com"
	}
	c, err := jira.New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng, err := refresh.New(c, db, refresh.Options{Site: "t", Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	clients.Store(db, c)
	return db
}

func apply(t *testing.T, db *store.DB, file string, src []byte) refresh.AppliedLens {
	t.Helper()
	a, err := refresh.ApplyLens(context.Background(), db, file, src, adminViewer(t, db), refresh.AnyVersion)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "lens", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant " + w + "\ngot  " + g
		}
	}
	return ""
}

// combos are Lenses beyond the examples: the remaining generators and column kinds, and
// combinations of them.
var combos = map[string]string{
	"links_filter": `name: Links
generators:
  - insert: {jql: "project = ALPHA AND issuetype in (Story, Task) ORDER BY key"}
  - extend: {by: links, direction: both, depth: 2}
  - filter: {jql: "statusCategory != Done", keep_ancestors: true}
  - filter: {dedupe: true}
views:
  - name: main
    columns:
      - field: key
      - field: status
      - field: priority
      - {id: pts, rollup: {op: avg, field: story points, over: children}}
      - {id: lo, rollup: {op: min, field: story points}}
      - {id: hi, rollup: {op: max, field: story points}}
      - {id: res, progress: {by: resolution}}
`,
	"folders_groups": `name: Folders
folders:
  - name: Beta epics
    generators:
      - insert: {jql: "project = BETA AND issuetype = Epic"}
      - extend: {by: parent, depth: 1}
      - sort: {by: [-sp, key]}
  - name: Gamma by label
    generators:
      - insert: {jql: "project = GAMMA AND labels is not EMPTY"}
      - group: {by: labels}
      - sort: {formula: "points * 10 + len(summary)", desc: true}
generators:
  - insert: {keys: [ALPHA-1, ALPHA-2, ALPHA-3]}
views:
  - name: main
    columns:
      - field: key
      - field: summary
      - field: labels
      - field: story points
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: kids, rollup: {op: count, over: children}}
      - {id: big, formula: "sp > 10 ? 'big' : 'small'"}
    format:
      - {column: big, op: "=", value: big, style: {fg: warning}}
`,
	"column_filter_group": `name: Column filter
generators:
  - insert: {jql: "project in (ALPHA, BETA) AND issuetype != Epic"}
  - filter: {column: story points, op: ">=", value: 5}
  - group: {by: status}
  - group: {by: assignee}
  - sort: {by: [priority, key]}
views:
  - name: main
    columns:
      - field: key
      - field: assignee
      - field: story points
      - field: created
      - {id: sp, rollup: {op: sum, field: story points, over: leaves}}
      - {id: done, progress: {by: status, weight: story points}}
      - {id: age, formula: "isIssue ? days(created, now) : 0"}
      - {id: bad, formula: "isIssue && points > 8 ? 1 / 0 : 0"}
`,
}

// TestOpenLensGolden applies the example Lenses and the combinations to a cache filled by
// a real refresh from the fake site, opens them through OpenLens and compares every view
// in every export format with golden files.
func TestOpenLensGolden(t *testing.T) {
	// golden names the golden files; the Data Center roadmap (children by Epic Link) must
	// give the same forest as the Cloud one (children by parent) on the same data.
	type lensCase struct {
		name, dialect, golden string
		src                   []byte
	}
	var cases []lensCase
	for _, ex := range []string{"roadmap", "sprint", "bugs"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", ex+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, lensCase{ex, "cloud", ex, b})
		if ex == "roadmap" {
			cases = append(cases, lensCase{ex + "_dc", "datacenter", ex, b})
		}
	}
	for name, src := range combos {
		cases = append(cases, lensCase{name, "cloud", name, []byte(src)})
	}
	dbs := map[string]*store.DB{"cloud": refreshedCache(t, "cloud", 160), "datacenter": refreshedCache(t, "datacenter", 160)}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := dbs[tc.dialect]
			a := apply(t, db, tc.name+".yaml", tc.src)
			o, err := refresh.OpenLens(context.Background(), db, a.Name, adminViewer(t, db), refresh.OpenOptions{Now: lensNow})
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Forest.Rows) == 0 {
				t.Fatal("the Lens built no rows on the fake site's data")
			}
			// openSprints() is answered from the cache, so the sprint Lens needs no Jira.
			if len(o.Notes) > 0 {
				t.Errorf("notes: %v", o.Notes)
			}
			last, err := db.LastChange(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if o.Seq != last {
				t.Errorf("Seq %d, feed at %d", o.Seq, last)
			}
			for _, v := range o.Def.Views {
				for _, format := range lens.Formats {
					var buf bytes.Buffer
					if err := lens.Render(&buf, o.Forest, v.Name, format, lens.RenderOptions{}); err != nil {
						t.Fatal(err)
					}
					golden(t, tc.golden+"_"+v.Name+"."+format, buf.Bytes())
				}
			}
		})
	}
	t.Run("formula errors", func(t *testing.T) {
		o, err := refresh.OpenLens(context.Background(), dbs["cloud"], "Column filter", adminViewer(t, dbs["cloud"]), refresh.OpenOptions{Now: lensNow})
		if err != nil {
			t.Fatal(err)
		}
		if p := o.View.Problems(); len(p) != 1 || !strings.Contains(p[0], "column bad") {
			t.Errorf("problems %q, want the failing column bad", p)
		}
	})
}

func TestApplyExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := refreshedCache(t, "cloud", 40)
	src, err := os.ReadFile(filepath.Join("..", "examples", "roadmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Everyone past the creator holds control through the role the example grants it to.
	as := func(user string) refresh.Viewer {
		v := refresh.Viewer{Dialect: "cloud"}
		v.User = user
		if user != "alice" {
			v.Roles = []string{"ALPHA/Administrators"}
		}
		return v
	}
	a, err := refresh.ApplyLens(ctx, db, "roadmap.yaml", src, as("alice"), 0)
	if err != nil || a.Version != 1 || !a.Created || a.Name != "Roadmap" {
		t.Fatalf("create: %+v, %v", a, err)
	}
	out, st, err := refresh.ExportLens(ctx, db, "Roadmap", as("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, src) || st.Version != 1 || st.UpdatedBy != "alice" || st.Owner != "admin@example.com" {
		t.Errorf("export differs from the applied file or record %+v", st)
	}
	// The exported file applied as it is changes nothing: no version, no audit row.
	a, err = refresh.ApplyLens(ctx, db, "exported.yaml", out, as("bob"), 1)
	if err != nil || a.Version != 1 || a.Created || !a.Unchanged {
		t.Fatalf("re-apply of the export: %+v, %v; want unchanged at version 1", a, err)
	}
	if log, err := db.AuditLog(ctx, store.AuditFilter{Target: "Roadmap"}); err != nil || len(log) != 2 {
		t.Errorf("audit after an unchanged apply: %d rows (%v), want create's lens.put and acl.change only", len(log), err)
	}
	out = append(out, "# reviewed by bob\n"...)
	a, err = refresh.ApplyLens(ctx, db, "exported.yaml", out, as("bob"), 1)
	if err != nil || a.Version != 2 || a.Created || a.Unchanged {
		t.Fatalf("re-apply with a comment: %+v, %v", a, err)
	}
	out2, _, err := refresh.ExportLens(ctx, db, "Roadmap", as("alice"))
	if err != nil {
		t.Fatal(err)
	}
	d1, err1 := lens.Parse("a", src)
	d2, err2 := lens.Parse("b", out2)
	if err1 != nil || err2 != nil || !d1.Equal(d2) {
		t.Errorf("round trip changed the definition: %v %v", err1, err2)
	}
	for _, tc := range []struct {
		expect, actual int64
	}{{1, 2}, {0, 2}, {5, 2}} {
		_, err := refresh.ApplyLens(ctx, db, "x.yaml", src, as("carol"), tc.expect)
		var conflict *store.LensConflictError
		if !errors.As(err, &conflict) || conflict.Expected != tc.expect || conflict.Actual != tc.actual {
			t.Errorf("apply expecting version %d: %v, want a conflict with version %d", tc.expect, err, tc.actual)
		}
	}
	if _, st, _ := refresh.ExportLens(ctx, db, "Roadmap", as("alice")); st.Version != 2 || st.UpdatedBy != "bob" {
		t.Errorf("a refused apply changed the Lens: %+v", st)
	}
	if err := refresh.DeleteLens(ctx, db, "Roadmap", as("dave"), 1); err == nil {
		t.Error("delete of a stale version succeeded")
	}
	if err := refresh.DeleteLens(ctx, db, "Roadmap", as("dave"), 2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := refresh.ExportLens(ctx, db, "Roadmap", as("alice")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("export after delete: %v", err)
	}
	log, err := db.AuditLog(ctx, store.AuditFilter{Target: "Roadmap"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		outcome, _, _ := strings.Cut(e.Outcome, ": ") // ok, failed or conflict
		got = append(got, e.Actor+" "+e.Action+" "+outcome)
	}
	want := "dave lens.delete ok|dave lens.delete conflict|carol lens.put conflict|carol lens.put conflict|carol lens.put conflict|bob lens.put ok|alice acl.change ok|alice lens.put ok"
	if strings.Join(got, "|") != want {
		t.Errorf("audit log:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if log[len(log)-1].Action != "lens.put" || log[len(log)-1].Before != nil || !strings.Contains(string(log[len(log)-1].After), `"version":1`) {
		t.Errorf("create audit before %s after %s", log[len(log)-1].Before, log[len(log)-1].After)
	}
}

// TestApplyBadFiles: a bad Lens file names file, line and field, and changes nothing in
// the cache: no Lens, no change feed entry, no audit entry.
func TestApplyBadFiles(t *testing.T) {
	ctx := context.Background()
	db := refreshedCache(t, "cloud", 20)
	tests := []struct {
		name, src, want string
	}{
		{"yaml syntax", "name: x\nviews: [\n", "bad.yaml:"},
		{"unknown key", "name: x\nviews:\n  - name: v\n    colums: [{field: key}]\n", "bad.yaml:4"},
		{"unknown field", "name: x\nviews:\n  - name: v\n    columns:\n      - field: key\n      - field: nosuchfield\n", "bad.yaml:6: views[0].columns[1].field: unknown field \"nosuchfield\"; valid:"},
		{"bad jql", "name: x\ngenerators:\n  - insert: {jql: \"project = = A\"}\nviews: [{name: v, columns: [{field: key}]}]\n", "bad.yaml:3: generators[0].insert.jql:"},
		{"unknown generator kind", "name: x\ngenerators:\n  - explode: {}\n", "bad.yaml:3"},
		{"no name", "views: [{name: v, columns: [{field: key}]}]\n", "name: a Lens needs a name"},
	}
	admin := adminViewer(t, db) // its grant check writes to the feed: before the baseline
	before, err := db.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := refresh.ApplyLens(ctx, db, "bad.yaml", []byte(tc.src), admin, refresh.AnyVersion)
			var des lens.DefinitionErrors
			if !errors.As(err, &des) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want DefinitionErrors with %q", err, tc.want)
			}
		})
	}
	ls, err := db.Lenses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := db.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	log, err := db.AuditLog(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 0 || after != before || len(log) != 0 {
		t.Errorf("bad files changed the cache: %d lenses, feed %d -> %d, %d audit entries", len(ls), before, after, len(log))
	}
}

// TestUpdateFollowsTheFeed: after a change, Update gives what a fresh OpenLens gives, by
// the incremental path for changed issues and by reopening for deletions.
func TestUpdateFollowsTheFeed(t *testing.T) {
	ctx := context.Background()
	db := refreshedCache(t, "cloud", 120)
	src, err := os.ReadFile(filepath.Join("..", "examples", "roadmap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	apply(t, db, "roadmap.yaml", src)
	opt := refresh.OpenOptions{Now: lensNow}
	o, err := refresh.OpenLens(ctx, db, "Roadmap", adminViewer(t, db), opt)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := o.Update(ctx, db); err != nil || n != o {
		t.Fatalf("update without changes: %v, same %v", err, n == o)
	}
	render := func(o *refresh.Opened) string {
		var buf bytes.Buffer
		if err := lens.Render(&buf, o.Forest, "", "json", lens.RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	// A story under an epic changes its points and summary.
	var story lens.Issue
	for _, r := range o.Forest.Rows {
		if r.Issue != nil && r.Depth == 1 {
			story = *r.Issue
			break
		}
	}
	if story.Key == "" {
		t.Fatal("no story under an epic")
	}
	sp := 99.0
	story.StoryPoints, story.Summary, story.Updated = &sp, "changed by the test", story.Updated.Add(time.Hour)
	if _, err := db.UpsertIssues(ctx, []lens.Issue{story}, false); err != nil {
		t.Fatal(err)
	}
	n, err := o.Update(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n == o || n.Data != o.Data || n.Seq <= o.Seq {
		t.Errorf("an issue change did not take the incremental path (new data %v, seq %d -> %d)", n.Data != o.Data, o.Seq, n.Seq)
	}
	fresh, err := refresh.OpenLens(ctx, db, "Roadmap", adminViewer(t, db), opt)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := render(n), render(fresh); got != want || !strings.Contains(got, "changed by the test") {
		t.Errorf("incremental update differs from a fresh open")
	}
	// A deletion reopens.
	if _, err := db.DeleteIssues(ctx, []int64{story.ID}, "test"); err != nil {
		t.Fatal(err)
	}
	n2, err := n.Update(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n2.Data == n.Data || strings.Contains(render(n2), story.Key+"\"") {
		t.Errorf("deletion: reopened %v, row of %s still there", n2.Data != n.Data, story.Key)
	}
	// Changing this Lens's definition reopens with the new one.
	changed := bytes.Replace(src, []byte("depth: 1"), []byte("depth: 2"), 1)
	apply(t, db, "roadmap.yaml", changed)
	n3, err := n2.Update(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n3.Stored.Version != 2 || n3.Def.Generators[1].Extend.Depth != 2 {
		t.Errorf("update after the definition changed: version %d", n3.Stored.Version)
	}
}

func TestOpenLensErrors(t *testing.T) {
	ctx := context.Background()
	db := refreshedCache(t, "cloud", 20)
	if _, err := refresh.OpenLens(ctx, db, "nope", adminViewer(t, db), refresh.OpenOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing Lens: %v", err)
	}
	apply(t, db, "b.yaml", []byte("name: B\nviews: [{name: v, columns: [{field: key}]}]\n"))
	if _, err := refresh.OpenLens(ctx, db, "B", adminViewer(t, db), refresh.OpenOptions{View: "w"}); !errors.Is(err, lens.ErrUnknownView) {
		t.Errorf("unknown view: %v", err)
	}
}
