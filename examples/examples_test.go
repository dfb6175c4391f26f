// Package examples holds the sample Lens files; this test builds each of them on the fake
// Jira site's generated data, as the demo does, and checks what they show.
package examples

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/jql"
	"foundation/lens"
	"foundation/refresh"
)

// fakeData turns the fake site's issues into what lens.Build reads, with the sprint field
// raw as the cache keeps it.
func fakeData(t *testing.T, dialect string) (*lens.Data, *jiratest.Site) {
	t.Helper()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: 1500, Seed: 42, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.Close)
	d := &lens.Data{
		Dialect: dialect,
		Now:     now,
		Users:   map[string]string{},
		Links:   site.Links(),
		Fields: []lens.Field{
			{ID: "customfield_10016", Name: "Story Points", Custom: true, SchemaType: "number", SchemaCustom: "com.pyxis.greenhopper.jira:jsw-story-points"},
			{ID: "customfield_10020", Name: "Sprint", Custom: true, SchemaType: "array", SchemaItems: "json", SchemaCustom: "com.pyxis.greenhopper.jira:gh-sprint"},
			{ID: "customfield_10019", Name: "Rank", Custom: true, SchemaType: "any", SchemaCustom: "com.pyxis.greenhopper.jira:gh-lexo-rank"},
		},
	}
	for _, u := range site.Users() {
		d.Users[u.AccountID] = u.DisplayName
		d.Users[u.Name] = u.DisplayName
	}
	sprints := map[string]bool{}
	for _, fi := range site.Issues() {
		is := fi.Issue
		if len(fi.Sprints) > 0 {
			var sp []map[string]string
			for _, s := range fi.Sprints {
				sp = append(sp, map[string]string{"name": s})
				sprints[s] = true
			}
			raw, err := json.Marshal(sp)
			if err != nil {
				t.Fatal(err)
			}
			is.Fields = map[string]json.RawMessage{"customfield_10020": raw}
		}
		d.Issues = append(d.Issues, is)
	}
	// The open sprints are the fake site's business; here every sprint an issue is in
	// counts as open, which is enough to exercise the query.
	d.OpenSprints = func() []string {
		var out []string
		for s := range sprints {
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	return d, site
}

// remoteMembers asks the fake site, as admin through the real client, for the keys of each
// query, as refresh does. Every query is bounded by the projects it names, as Cloud requires.
func remoteMembers(t *testing.T, site *jiratest.Site, queries []string) map[string][]string {
	t.Helper()
	if len(queries) == 0 {
		return nil
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	opt := jira.Options{BaseURL: srv.URL, Dialect: jira.Cloud, Email: "admin@example.com", Token: "admin-token"}
	if site.Dialect() == "datacenter" {
		opt = jira.Options{BaseURL: srv.URL, Dialect: jira.DataCenter, Token: "admin-token"}
	}
	c, err := jira.New(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, q := range queries {
		if out[q], err = refresh.JiraMembers(ctx, c, "", q); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func load(t *testing.T, name string) *lens.Definition {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	d, err := lens.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestExamplesOnFakeSite(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	if len(files) < 3 {
		t.Fatalf("%d example files", len(files))
	}
	for _, dialect := range []string{"cloud", "datacenter"} {
		data, site := fakeData(t, dialect)
		for _, file := range files {
			t.Run(dialect+"/"+file, func(t *testing.T) {
				d := load(t, file)
				if err := d.Validate(lens.NewCatalog(data.Fields)); err != nil {
					t.Fatal(err)
				}
				// A query only Jira answers (finished.yaml's history search) gets its
				// members from the fake site over HTTP, as refresh gets them.
				var jiraOnly []string // openSprints() is answered here from data
				for _, q := range d.RemoteQueries() {
					parsed, err := jql.Parse(q)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := parsed.Compile(jql.Env{OpenSprints: data.OpenSprints}); err != nil {
						jiraOnly = append(jiraOnly, q)
					}
				}
				data.RemoteMembers = remoteMembers(t, site, jiraOnly)
				f, err := lens.Build(d, data, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%d rows", len(f.Rows))
				if len(f.Rows) == 0 || len(f.Notes) > 0 {
					t.Fatalf("%d rows, notes %q", len(f.Rows), f.Notes)
				}
				for _, vd := range d.Views {
					v, err := f.View(vd.Name)
					if err != nil {
						t.Fatal(err)
					}
					if p := v.Problems(); len(p) > 0 {
						t.Errorf("view %s: %q", vd.Name, p)
					}
				}
			})
		}
	}
}

// TestRoadmapRollupsOnFakeSite recomputes the roadmap's story-point sums independently:
// an epic row's SP is its own points plus those of every distinct issue under it.
func TestRoadmapRollupsOnFakeSite(t *testing.T) {
	data, _ := fakeData(t, "cloud")
	f, err := lens.Build(load(t, "roadmap.yaml"), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.View("plan")
	if err != nil {
		t.Fatal(err)
	}
	sp := slices.IndexFunc(v.Columns(), func(c lens.Column) bool { return c.ID == "sp" })
	epics := 0
	for i, r := range f.Rows {
		if r.Depth != 0 || r.Issue.Type != "Epic" {
			continue
		}
		epics++
		seen := map[string]bool{}
		var want float64
		any := false
		for j := i; j < int(r.End); j++ {
			is := f.Rows[j].Issue
			if seen[is.Key] || is.StoryPoints == nil {
				continue
			}
			seen[is.Key] = true
			want += *is.StoryPoints
			any = true
		}
		got := v.Cell(i, sp)
		if any && (got.Kind != lens.KindNumber || got.Num != want) || !any && got.Kind != lens.KindEmpty {
			t.Fatalf("%s: SP %q, want %v", r.Issue.Key, got.Display, want)
		}
	}
	if epics == 0 {
		t.Fatal("no epics on the fake site")
	}
}

// TestVisibilityOnFakeSite builds the bugs Lens as bob (ALPHA only) and checks that only
// issues the fake site lets bob browse appear, and that group counts add up to them.
func TestVisibilityOnFakeSite(t *testing.T) {
	data, site := fakeData(t, "cloud")
	keys, err := site.VisibleTo("bob")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, k := range keys {
		allowed[k] = true
	}
	f, err := lens.Build(load(t, "bugs.yaml"), data, func(is *lens.Issue) bool { return allowed[is.Key] })
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.View("")
	if err != nil {
		t.Fatal(err)
	}
	bugs := slices.IndexFunc(v.Columns(), func(c lens.Column) bool { return c.ID == "bugs" })
	total, rows := 0, 0
	for i, r := range f.Rows {
		switch r.Kind {
		case lens.RowGroup:
			total += int(v.Cell(i, bugs).Num)
		case lens.RowIssue:
			rows++
			if !allowed[r.Issue.Key] || !strings.HasPrefix(r.Issue.Key, "ALPHA-") {
				t.Fatalf("bob sees %s", r.Issue.Key)
			}
		}
	}
	if rows == 0 || total != rows {
		t.Fatalf("%d bug rows, groups count %d", rows, total)
	}
}

func TestFilesEmbedsEveryExample(t *testing.T) {
	got, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, _ := filepath.Glob("*.yaml")
	if len(got) != len(onDisk) || len(got) == 0 {
		t.Fatalf("embedded %d files, %d on disk", len(got), len(onDisk))
	}
	for i, f := range got {
		want, err := os.ReadFile(onDisk[i])
		if err != nil || f.Name != onDisk[i] || string(f.Data) != string(want) {
			t.Fatalf("embedded %s differs from %s", f.Name, onDisk[i])
		}
		if _, err := lens.Parse(f.Name, f.Data); err != nil {
			t.Fatal(err)
		}
	}
}
