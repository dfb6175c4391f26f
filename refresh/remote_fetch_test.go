package refresh_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// TestFetchRemoteMembersRefusals: a refresh runs the remote queries of the Lenses its
// viewer may open and no others; a query Jira refuses is kept for its Lens, whose build
// notes why, while the others still run; a site that fails is an error, not a refusal.
func TestFetchRemoteMembersRefusals(t *testing.T) {
	ctx := context.Background()
	site, err := jiratest.New(jiratest.Options{Dialect: "datacenter", Issues: 120, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	faults := jiratest.NewFaults(1)
	srv := httptest.NewServer(jiratest.WithFaults(site, faults))
	t.Cleanup(srv.Close)
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Token: "admin-token", RequestsPerSecond: -1, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const scope = "project in (ALPHA, BETA, GAMMA)"
	eng, err := refresh.New(c, db, refresh.Options{Site: "t", Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := refresh.ResolveViewer(ctx, c, db, "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.CheckGrants(ctx, c, db, v, time.Hour); err != nil {
		t.Fatal(err)
	}
	lensFile := func(name, owner, q string) []byte {
		return []byte("name: " + name + "\nowner: " + owner + "\ngenerators:\n  - insert: {jql: '" + q + "'}\nviews:\n  - name: v\n    columns: [{field: key}]\n")
	}
	const members, refused = `project = ALPHA AND assignee in membersOf("jira-developers")`, "key in linkedIssues(ALPHA-1)"
	for _, l := range []struct{ name, owner, q string }{
		{"Team", "admin", members},
		{"Linked", "admin", refused},
		{"Private", "bob", "key in linkedIssues(ALPHA-2)"}, // bob's, no ACL: admin may not open it
	} {
		if _, err := refresh.ApplyLens(ctx, db, l.name+".yaml", lensFile(l.name, l.owner, l.q), v, 0); err != nil {
			t.Fatal(err)
		}
	}

	res, err := refresh.FetchRemoteMembers(ctx, c, db, scope, v)
	if err != nil {
		t.Fatalf("a refused query failed the fetch: %v", err)
	}
	if res.Answered != 1 || len(res.Refused) != 1 || res.Refused[0].Lens != "Linked" || res.Refused[0].JQL != refused ||
		!strings.Contains(res.Refused[0].Reason, "linkedIssues") || strings.Contains(res.Refused[0].Reason, "character") {
		t.Fatalf("result %+v, want Team answered and Linked refused, Private not asked", res)
	}
	o, err := refresh.OpenLens(ctx, db, "Linked", v, refresh.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Forest.Rows) != 0 || !strings.Contains(strings.Join(o.Notes, "\n"), `JQL "key in linkedIssues(ALPHA-1)": Jira refused it at the last refresh (`) {
		t.Errorf("Linked: %d rows, notes %q", len(o.Forest.Rows), o.Notes)
	}
	if o, err := refresh.OpenLens(ctx, db, "Team", v, refresh.OpenOptions{}); err != nil || len(o.Forest.Rows) == 0 {
		t.Errorf("Team: %v", err)
	}

	// The site failing is not the Lens's problem: the fetch says so.
	faults.SetDown(true, false)
	if _, err := refresh.FetchRemoteMembers(ctx, c, db, scope, v); err == nil {
		t.Error("a site that is down: no error")
	}
}
