package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/tui"
)

// Two people, one profile name, one cache: the fixture's admin refreshed the cache as
// profile "t"; bob (and alice) sign in under the same profile name with their own tokens,
// as a second config does when it reuses a kept demo cache. Each must see what Jira lets
// THEM browse, online and offline, and never the identity another token proved.

const (
	adminID = "61a0000000000000000000a1"
	aliceID = "61a0000000000000000000a2"
	bobID   = "61a0000000000000000000a3"
)

// login is a client of the fixture's site signed in as user; dialect cloud, so it is built
// without asking Jira (the site may be down).
func (f *tuiFixture) login(t *testing.T, user string) *jira.Client {
	t.Helper()
	c, err := jira.New(context.Background(), jira.Options{BaseURL: f.srv.URL, Dialect: jira.Cloud, Email: user + "@example.com",
		Token: user + "-token", RequestsPerSecond: -1, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lensID is the id of the stored Lens named name, as the home screen lists it.
func lensID(t *testing.T, be *siteBackend, name string) string {
	t.Helper()
	infos, err := be.Lenses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if in.Name == name {
			return in.ID
		}
	}
	t.Fatalf("no Lens %q among %+v", name, infos)
	return ""
}

// projectsOf opens the Lens as the backend's viewer and returns the projects of its issue
// rows and how many there are.
func projectsOf(t *testing.T, be *siteBackend, id string) (map[string]bool, int) {
	t.Helper()
	o, err := be.open(context.Background(), tui.BuildRequest{Lens: id})
	if err != nil {
		t.Fatal(err)
	}
	projects, n := map[string]bool{}, 0
	for _, r := range o.Forest.Rows {
		if r.Issue != nil {
			p, _, _ := strings.Cut(r.Issue.Key, "-")
			projects[p] = true
			n++
		}
	}
	return projects, n
}

func onlyAlpha(projects map[string]bool) bool {
	return len(projects) == 1 && projects["ALPHA"]
}

// bobBackend is a TUI backend for bob under the fixture's profile name, started as runTUI
// starts it (resolveViewer), with the identity checked.
func bobBackend(t *testing.T, f *tuiFixture) *siteBackend {
	t.Helper()
	bob := f.login(t, "bob")
	v, offline, err := resolveViewer(context.Background(), f.prof, bob, f.db)
	if err != nil || offline || v.User != bobID {
		t.Fatalf("bob resolved as %q (%s), offline %v, %v", v.User, v.DisplayName, offline, err)
	}
	be, err := newSiteBackend(f.prof, f.db, bob, v)
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// TestTUISameProfileNameOnline: bob's token under the profile name admin filled the cache
// with is asked of Jira, not taken for admin, and bob's Bugs are bob's.
func TestTUISameProfileNameOnline(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 300, time.Hour, false)
	id := lensID(t, f.be, "Bugs")
	all, adminRows := projectsOf(t, f.be, id)
	if !all["BETA"] {
		t.Fatalf("admin's Bugs lens covers %v: the test needs issues bob may not see", all)
	}
	be := bobBackend(t, f)
	if err := be.Refresh(ctx); err != nil { // checks bob's grants
		t.Fatal(err)
	}
	if p, n := projectsOf(t, be, id); !onlyAlpha(p) || n >= adminRows {
		t.Fatalf("bob's Bugs: %d rows of %v (admin has %d)", n, p, adminRows)
	}
	if got := be.prefOwner(); got != "viewer:"+bobID {
		t.Errorf("bob's preferences are kept under %q", got)
	}
}

// TestTUISameProfileNameOffline: bob was checked once; admin refreshed the cache last
// under the same profile name; offline, bob is still bob and admin still admin.
func TestTUISameProfileNameOffline(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 300, time.Hour, false)
	id := lensID(t, f.be, "Bugs")
	_, adminRows := projectsOf(t, f.be, id)
	bob := f.login(t, "bob") // checked once, by a refresh of its own
	v, err := refresh.ResolveViewer(ctx, bob, f.db, f.prof.Name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.CheckGrants(ctx, bob, f.db, v, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := f.be.Refresh(ctx); err != nil { // admin last
		t.Fatal(err)
	}
	f.srv.Close()

	be := bobBackend(t, f)
	if p, n := projectsOf(t, be, id); !onlyAlpha(p) || n >= adminRows {
		t.Fatalf("offline, bob's Bugs: %d rows of %v (admin has %d)", n, p, adminRows)
	}
	// One token's check does not evict the other's.
	if v, _, err := resolveViewer(ctx, f.prof, f.login(t, "admin"), f.db); err != nil || v.User != adminID {
		t.Errorf("offline, admin resolved as %q: %v", v.User, err)
	}
}

// TestTUIUncheckedCredentialsOffline: offline, credentials never checked against Jira in
// this cache are nobody: the TUI does not open, exit 3, and says why.
func TestTUIUncheckedCredentialsOffline(t *testing.T) {
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 300, time.Hour, false)
	f.srv.Close()
	v, offline, err := resolveViewer(context.Background(), f.prof, f.login(t, "alice"), f.db)
	if !errors.Is(err, refresh.ErrUncheckedCredentials) || !offline || v.User != "" || exitCode(err) != ExitPartial {
		t.Fatalf("offline, unchecked alice resolved as %q, offline %v, exit %d: %v", v.User, offline, exitCode(err), err)
	}
	if !strings.Contains(err.Error(), "who you are is unknown offline: these credentials have not been checked against Jira yet") {
		t.Errorf("message: %v", err)
	}
}

// TestTUIViewerChangeDropsKeptBuild: a backend that started as the wrong viewer (what the
// cache's memory said) and kept that build must not go on updating it once Refresh has
// asked Jira who the viewer is.
func TestTUIViewerChangeDropsKeptBuild(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 300, time.Hour, false)
	id := lensID(t, f.be, "Bugs")
	bob := f.login(t, "bob")
	be, err := newSiteBackend(f.prof, f.db, bob, f.viewer) // bob's client, admin's identity
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Build(ctx, tui.BuildRequest{Lens: id, FilterByJira: true, Filter: "project = BETA"}); err != nil {
		t.Fatal(err)
	}
	all, adminRows := projectsOf(t, be, id)
	if !all["BETA"] {
		t.Fatalf("the wrong viewer's build shows %v", all)
	}
	if err := be.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if be.who().User != bobID {
		t.Fatalf("after Refresh the viewer is %q", be.who().User)
	}
	be.mu.Lock()
	filters := len(be.jiraFilters)
	be.mu.Unlock()
	if filters != 0 {
		t.Errorf("%d Jira filter answers kept from the old viewer", filters)
	}
	if p, n := projectsOf(t, be, id); !onlyAlpha(p) || n >= adminRows {
		t.Fatalf("after Refresh, bob's Bugs: %d rows of %v (admin had %d)", n, p, adminRows)
	}
	if got := be.prefOwner(); got != "viewer:"+bobID {
		t.Errorf("preferences kept under %q", got)
	}
}

// writeUserConfig writes a config file whose profile "t" signs in to url as user (token
// from the environment variable env).
func writeUserConfig(t *testing.T, dir, url, user, env string) string {
	t.Helper()
	body := fmt.Sprintf("default_site: t\nsites:\n  t:\n    url: %s\n    dialect: auto\n    email: %s@example.com\n    token_env: %s\n    scope: project in (ALPHA, BETA, GAMMA)\n", url, user, env)
	p := filepath.Join(dir, user+".yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(env, user+"-token")
	return p
}

// exportProjects runs export of the Bugs lens with cfg and returns the projects of its rows.
func exportProjects(t *testing.T, e *cliEnv, cfg string) (map[string]bool, int, result) {
	t.Helper()
	r := e.run("", "--config", cfg, "export", "--lens", "Bugs", "--format", "csv")
	projects, n := map[string]bool{}, 0
	for _, line := range strings.Split(r.stdout, "\n") {
		for _, p := range []string{"ALPHA", "BETA", "GAMMA"} {
			if strings.Contains(line, ","+p+"-") || strings.HasPrefix(line, p+"-") {
				projects[p] = true
				n++
				break
			}
		}
	}
	return projects, n, r
}

// exportFixture is a cache admin filled under profile "t" (config admin), with the Bugs
// Lens, and the configs of bob and alice whose profile "t" signs in as them.
type exportFixture struct {
	e                 *cliEnv
	srv               *httptest.Server
	admin, bob, alice string
	adminRows         int
}

func newExportFixture(t *testing.T) *exportFixture {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	f := &exportFixture{srv: httptest.NewServer(site), e: newCLIEnv(t)}
	t.Cleanup(f.srv.Close)
	dir := t.TempDir()
	f.admin = writeUserConfig(t, dir, f.srv.URL, "admin", "ADMIN_TOKEN")
	f.bob = writeUserConfig(t, dir, f.srv.URL, "bob", "BOB_TOKEN")
	f.alice = writeUserConfig(t, dir, f.srv.URL, "alice", "ALICE_TOKEN")
	f.e.mustRun("", "--config", f.admin, "refresh", "--quiet")
	f.e.mustRun("", "--config", f.admin, "lens", "apply", "-f", filepath.Join("..", "examples", "bugs.yaml"))
	p, n, r := exportProjects(t, f.e, f.admin)
	if r.code != 0 || !p["BETA"] {
		t.Fatalf("admin's export: exit %d, %v\n%s", r.code, p, r.stderr)
	}
	f.adminRows = n
	return f
}

// TestExportSameProfileNameUnchecked: bob was never checked; online, export asks Jira who
// he is; his grants are not checked yet, so his rows stay hidden (exit 3), never admin's.
// Offline, alice (never checked) gets nothing either, and every command says why.
func TestExportSameProfileNameUnchecked(t *testing.T) {
	f := newExportFixture(t)
	if p, n, r := exportProjects(t, f.e, f.bob); r.code != ExitPartial || n != 0 {
		t.Fatalf("unrefreshed bob's export: exit %d, %d rows of %v\n%s", r.code, n, p, r.stderr)
	}
	if r := f.e.mustRun("", "--config", f.bob, "site", "list"); !strings.Contains(r.stdout, "Bob Brown") || strings.Contains(r.stdout, "Ada Admin") {
		t.Errorf("bob's site list:\n%s", r.stdout)
	}
	if r := f.e.mustRun("", "--config", f.admin, "site", "list"); !strings.Contains(r.stdout, "Ada Admin") {
		t.Errorf("admin's site list:\n%s", r.stdout)
	}

	f.srv.Close()
	for _, args := range [][]string{
		{"export", "--lens", "Bugs"},
		{"lens", "show", "Bugs"},
		{"lens", "list"},
		{"audit"},
	} {
		r := f.e.run("", append([]string{"--config", f.alice}, args...)...)
		if r.code != ExitPartial || strings.Contains(r.stdout, "ALPHA-") || strings.Contains(r.stdout, "Bugs") ||
			!has(r.stderr, "who you are is unknown offline: these credentials have not been checked against Jira yet") {
			t.Errorf("offline, unchecked alice %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := f.e.mustRun("", "--config", f.alice, "site", "list"); strings.Contains(r.stdout, "Ada Admin") || strings.Contains(r.stdout, "Alice") {
		t.Errorf("alice's site list:\n%s", r.stdout)
	}
}

// TestExportSameProfileNameWhoeverRefreshedLast: bob refreshes, then admin: each config's
// export gives its own user's rows, online and offline.
func TestExportSameProfileNameWhoeverRefreshedLast(t *testing.T) {
	for _, round := range []string{"online", "offline"} {
		t.Run(round, func(t *testing.T) {
			f := newExportFixture(t)
			f.e.mustRun("", "--config", f.bob, "refresh", "--quiet")
			f.e.mustRun("", "--config", f.admin, "refresh", "--quiet")
			if round == "offline" {
				f.srv.Close()
			}
			for i := 0; i < 2; i++ { // the same answer every time
				p, n, r := exportProjects(t, f.e, f.bob)
				if r.code != 0 || !onlyAlpha(p) || n >= f.adminRows {
					t.Fatalf("bob's export: exit %d, %d rows of %v (admin has %d)\n%s", r.code, n, p, f.adminRows, r.stderr)
				}
				if p, n, r := exportProjects(t, f.e, f.admin); r.code != 0 || n != f.adminRows || !p["BETA"] {
					t.Fatalf("admin's export: exit %d, %d rows of %v\n%s", r.code, n, p, r.stderr)
				}
			}
			if r := f.e.run("", "--config", f.bob, "site", "list"); !strings.Contains(r.stdout, "Bob Brown") {
				t.Errorf("bob's site list:\n%s", r.stdout)
			}
			if r := f.e.run("", "--config", f.bob, "lens", "acl", "Bugs"); r.code != 0 || !strings.Contains(r.stdout, "You: "+bobID+" (Bob Brown)") {
				t.Errorf("bob's lens acl: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
