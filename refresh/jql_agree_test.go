package refresh_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"foundation/jira"
	"foundation/jql"
	"foundation/lens"
	"foundation/refresh"
)

// TestLocalJQLAgreesWithJira: the JQL Foundation answers from the cache selects what the
// fake (modelling Jira) selects, for the fields whose values come from somewhere other
// than one extracted column: resolved (raw), Epic Link (the parent on Cloud), level, and
// issue ids where Jira takes keys. Both a Lens insert (Build) and a filter over a Lens's
// rows (the TUI's f, export --filter) are compared.
func TestLocalJQLAgreesWithJira(t *testing.T) {
	const scope = "project in (ALPHA, BETA, GAMMA)"
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := refreshedCache(t, dialect, 400)
			c, _ := clients.Load(db)
			client := c.(*jira.Client)
			apply(t, db, "all.yaml", []byte("name: All\ngenerators:\n  - insert: {jql: \""+scope+"\"}\nviews:\n  - name: v\n    columns: [{field: key}]\n"))
			all, err := refresh.OpenLens(ctx, db, "All", adminViewer(t, db), refresh.OpenOptions{Now: lensNow, WithRaw: true})
			if err != nil {
				t.Fatal(err)
			}
			// An epic with stories, a sub-task and its parent, as the cache has them.
			byKey := map[string]*lens.Issue{}
			var epic, sub, other *lens.Issue
			for _, r := range all.Forest.Rows {
				byKey[r.Issue.Key] = r.Issue
			}
			for _, r := range all.Forest.Rows {
				is := r.Issue
				switch {
				case is.Subtask && sub == nil:
					sub = is
				case !is.Subtask && (is.EpicLink != "" || is.Parent != "") && epic == nil:
					k := is.EpicLink
					if k == "" {
						k = is.Parent
					}
					epic = byKey[k]
				case other == nil && !is.Subtask:
					other = is
				}
			}
			if epic == nil || sub == nil || other == nil {
				t.Fatal("no epic, sub-task or other issue in the cache")
			}
			parent := byKey[sub.Parent]
			id := func(is *lens.Issue) string { return fmt.Sprint(is.ID) }
			queries := []string{
				"resolved is not EMPTY",
				"resolved >= -30d",
				"resolutiondate < -60d AND resolution = Done",
				`"Epic Link" = ` + epic.Key,
				`"Epic Link" = ` + id(epic),
				`"Epic Link" is EMPTY`,
				`"Epic Link" is not EMPTY AND project = ` + epic.Project,
				"parent = " + id(parent),
				"parent in (" + id(parent) + ", " + epic.Key + ")",
				"key = " + id(sub),
				"issue = " + other.Key,
				"issue in (" + id(other) + ", " + sub.Key + ")",
				"level = Internal",
				"level = 10100",
				"level is EMPTY AND project = BETA",
			}
			for _, q := range queries {
				want, err := refresh.JiraMembers(ctx, client, scope, q)
				if err != nil {
					t.Fatalf("%s: Jira: %v", q, err)
				}
				slices.Sort(want)
				if len(want) == 0 && q != "level = Internal" && q != "level = 10100" {
					t.Errorf("%s: Jira selects nothing: not a useful case", q)
				}
				// As a Lens insert.
				src := fmt.Sprintf("name: Q\ngenerators:\n  - insert: {jql: %q}\nviews:\n  - name: v\n    columns: [{field: key}]\n", scope+" AND ("+q+")")
				apply(t, db, "q.yaml", []byte(src))
				o, err := refresh.OpenLens(ctx, db, "Q", adminViewer(t, db), refresh.OpenOptions{Now: lensNow})
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				if len(o.Notes) > 0 {
					t.Errorf("%s: notes %v (not answered locally)", q, o.Notes)
				}
				var got []string
				for _, r := range o.Forest.Rows {
					got = append(got, r.Issue.Key)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("insert %s: %d issues locally, %d from Jira\nlocal %v\njira  %v", q, len(got), len(want), got, want)
				}
				// As a filter over the rows of a Lens that does not read raw fields itself.
				parsed, err := jql.Parse(q)
				if err != nil {
					t.Fatal(err)
				}
				m, err := parsed.Compile(jql.Env{Now: lensNow})
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				f, err := refresh.OpenLens(ctx, db, "All", adminViewer(t, db), refresh.OpenOptions{Now: lensNow, WithRaw: lens.QueryNeedsRaw(parsed)})
				if err != nil {
					t.Fatal(err)
				}
				match := f.Forest.MatchJQL(m)
				got = got[:0]
				for _, r := range f.Forest.Rows {
					if match(r.Issue) {
						got = append(got, r.Issue.Key)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("filter %s: %d issues locally, %d from Jira", q, len(got), len(want))
				}
			}
		})
	}
}
