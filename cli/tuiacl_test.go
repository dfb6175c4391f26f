package cli

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"foundation/config"
	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
	"foundation/tui"
)

// TestACLServiceWithEditor drives the TUI ACL editor over the real backend: a cache filled by
// admin, a Lens owned by alice, alice adding a group found through Jira's group search, a
// Lens already open elsewhere following the change through the feed, and bob refused.
func TestACLServiceWithEditor(t *testing.T) {
	ctx := context.Background()
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 60, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	login := func(user string) *jira.Client {
		c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: user + "@example.com", Token: user + "-token", RequestsPerSecond: -1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eng, err := refresh.New(login("admin"), db, refresh.Options{Site: "svc", Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	viewer := func(user string) (refresh.Viewer, *jira.Client) {
		c := login(user)
		v, err := refresh.ResolveViewer(ctx, c, db, user)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := refresh.CheckGrants(ctx, c, db, v, time.Hour); err != nil {
			t.Fatal(err)
		}
		return v, c
	}
	alice, ac := viewer("alice")
	src := "name: Team\ngenerators: [{insert: {jql: \"project = ALPHA\"}}]\nviews: [{name: v, columns: [{field: key}]}]\n"
	if _, err := refresh.ApplyLens(ctx, db, "team.yaml", []byte(src), alice, 0); err != nil {
		t.Fatal(err)
	}
	open, err := refresh.OpenLens(ctx, db, "Team", alice, refresh.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}

	ed := tui.NewACLEditor(ctx, newACLService(db, ac, alice), "Team")
	run := func(cmd tea.Cmd) {
		for cmd != nil {
			msg := cmd()
			if _, ok := msg.(tui.ACLClosedMsg); ok {
				return
			}
			ed, cmd = ed.Update(msg)
		}
	}
	press := func(keys ...string) {
		for _, k := range keys {
			m := tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
			switch k {
			case "enter":
				m = tea.KeyPressMsg{Code: tea.KeyEnter}
			case "down":
				m = tea.KeyPressMsg{Code: tea.KeyDown}
			}
			var cmd tea.Cmd
			ed, cmd = ed.Update(m)
			run(cmd)
		}
	}
	run(ed.Init())
	if v := ed.View(); !strings.Contains(v, "control as owner (that is you)") || !strings.Contains(v, "You: "+alice.User+" (Alice Anders): control as owner") {
		t.Fatalf("editor:\n%s", v)
	}
	// a, kind group, search "qa"... the fake's groups are jira-administrators and
	// jira-developers: search "dev", pick, level edit.
	press("a", "down", "enter", "d", "e", "v", "enter", "enter", "down", "enter")
	if v := ed.View(); !strings.Contains(v, "group:jira-developers") || !strings.Contains(v, "applied") {
		t.Fatalf("after adding the group:\n%s", v)
	}
	st, err := db.Lens(ctx, "Team")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.YAML, "group:jira-developers") || st.Version != 2 || st.Owner != alice.User {
		t.Errorf("stored %+v", st)
	}
	log, err := db.AuditLog(ctx, store.AuditFilter{Action: "acl.change", Target: "Team"})
	if err != nil || len(log) != 2 || log[0].Actor != alice.User || !strings.Contains(string(log[0].After), "jira-developers") {
		t.Errorf("audit %+v %v", log, err)
	}
	// The Lens open elsewhere catches up through the change feed.
	n, err := open.Update(ctx, db)
	if err != nil || n.Stored.Version != 2 {
		t.Errorf("open view after the change: %v, version %d", err, n.Stored.Version)
	}

	// bob is in jira-developers now: edit, not control.
	bob, bc := viewer("bob")
	svc := newACLService(db, bc, bob)
	state, err := svc.LoadACL(ctx, "Team")
	if err != nil || state.Level != "edit" || state.You != bob.User+" (Bob Brown): edit via group jira-developers" {
		t.Fatalf("bob's state %+v %v", state, err)
	}
	_, err = svc.ChangeACL(ctx, "Team", tui.ACLChange{Revoke: []string{"group:jira-developers"}}, state.Version)
	var refused *refresh.AccessError
	if !errors.As(err, &refused) {
		t.Errorf("bob's change: %v", err)
	}
	roles, err := svc.ProjectRoles(ctx, "ALPHA")
	if err != nil || len(roles) != 2 || roles[0].ID != "Administrators" {
		t.Errorf("roles %+v %v", roles, err)
	}
	if _, err := newACLService(db, nil, bob).SearchUsers(ctx, "a"); !errors.Is(err, errNoJira) {
		t.Errorf("offline search: %v", err)
	}
}

// TestTUIShowsEachViewerTheirShare: the TUI backend over a cache admin filled builds for
// alice and bob exactly the issues Jira lets each browse, with matching totals.
func TestTUIShowsEachViewerTheirShare(t *testing.T) {
	ctx := context.Background()
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 200, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	login := func(user string) *jira.Client {
		c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: user + "@example.com", Token: user + "-token", RequestsPerSecond: -1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const scope = "project in (ALPHA, BETA, GAMMA)"
	eng, err := refresh.New(login("admin"), db, refresh.Options{Site: "svc", Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	src := "name: Flat\nacl: [{principal: anyone, level: view}]\ngenerators: [{insert: {jql: \"" + scope + "\"}}]\nviews: [{name: v, columns: [{field: key}]}]\n"
	admin, err := refresh.ResolveViewer(ctx, login("admin"), db, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.ApplyLens(ctx, db, "flat.yaml", []byte(src), admin, 0); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"alice", "bob"} {
		c := login(user)
		prof := config.NewSite(user)
		prof.URL, prof.Scope = srv.URL, scope
		v, err := refresh.ResolveViewer(ctx, c, db, user)
		if err != nil {
			t.Fatal(err)
		}
		be, err := newSiteBackend(prof, db, c, v)
		if err != nil {
			t.Fatal(err)
		}
		// Before a check nothing is shown, and the screen says why.
		built, err := be.Build(ctx, tui.BuildRequest{Lens: "Flat"})
		if err != nil {
			t.Fatal(err)
		}
		if built.Tree.Len() != 0 || len(built.Notes) == 0 || !strings.Contains(strings.Join(built.Notes, " "), "never verified") {
			t.Errorf("%s before a check: %d rows, notes %q", user, built.Tree.Len(), built.Notes)
		}
		if err := be.Refresh(ctx); err != nil { // polls and checks the permissions
			t.Fatal(err)
		}
		built, err = be.Build(ctx, tui.BuildRequest{Lens: "Flat"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := 0; i < built.Tree.Len(); i++ {
			if is := built.Issue(i); is != nil {
				got = append(got, is.Key)
			}
		}
		want, err := site.VisibleTo(user)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || built.Total != len(want) || len(built.Notes) != 0 {
			t.Errorf("%s: TUI shows %d issues (total %d, notes %q), Jira lets them browse %d", user, len(got), built.Total, built.Notes, len(want))
		}
	}
}
