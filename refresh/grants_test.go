package refresh_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

// clients remembers the admin client that filled each test cache, so adminViewer can check
// grants for it.
var clients sync.Map // *store.DB -> *jira.Client

// adminViewer is the admin who filled db, resolved and with fresh grants and role
// memberships (for the role principals of the Lenses stored so far).
func adminViewer(t testing.TB, db *store.DB) refresh.Viewer {
	t.Helper()
	c, ok := clients.Load(db)
	if !ok {
		t.Fatal("adminViewer: the cache was not filled by refreshedCache")
	}
	ctx := context.Background()
	v, err := refresh.ResolveViewer(ctx, c.(*jira.Client), db, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.CheckGrants(ctx, c.(*jira.Client), db, v, time.Hour); err != nil {
		t.Fatal(err)
	}
	v, _, err = refresh.RecallViewer(ctx, db, "admin", c.(*jira.Client).Credentials(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// benchViewer is the viewer of benchmark caches filled without Jira.
var benchViewer = refresh.Viewer{Viewer: lens.Viewer{User: "bench"}}

// grantAll stores grants letting v browse every project and secured issue of issues.
func grantAll(tb testing.TB, db *store.DB, v refresh.Viewer, issues []lens.Issue, ttl time.Duration) {
	tb.Helper()
	now := time.Now()
	seen := map[int64]bool{}
	var gs []store.Grant
	for i := range issues {
		if p := issues[i].ProjectID; !seen[p] {
			seen[p] = true
			gs = append(gs, store.Grant{Identity: v.User, Kind: store.GrantProject, ID: p, Granted: true, CheckedAt: now, ExpiresAt: now.Add(ttl)})
		}
		if issues[i].SecurityLevel != "" {
			gs = append(gs, store.Grant{Identity: v.User, Kind: store.GrantIssue, ID: issues[i].ID, Granted: true, CheckedAt: now, ExpiresAt: now.Add(ttl)})
		}
	}
	if err := db.PutGrants(context.Background(), gs); err != nil {
		tb.Fatal(err)
	}
}

// permFixture is a fake site and a cache filled by admin, viewed by other users.
type permFixture struct {
	site *jiratest.Site
	url  string
	db   *store.DB
}

func newPermFixture(t *testing.T, dialect string, issues int) *permFixture {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: issues, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	t.Cleanup(site.Close)
	f := &permFixture{site: site, url: srv.URL}
	ctx := context.Background()
	f.db, err = store.Open(ctx, filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	admin := f.login(t, "admin")
	eng, err := refresh.New(admin, f.db, refresh.Options{Site: "admin", Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		t.Fatal(err)
	}
	f.apply(t, "all", allLens)
	return f
}

func mustCredentials(t *testing.T, url, email, token string) jira.Credentials {
	t.Helper()
	c, err := jira.NewCredentials(url, email, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login signs in as a default user, without retries so a down site fails at once.
func (f *permFixture) login(t *testing.T, user string) *jira.Client {
	t.Helper()
	o := jira.Options{BaseURL: f.url, Token: user + "-token", RequestsPerSecond: -1, MaxRetries: -1}
	if f.site.Dialect() == "cloud" {
		o.Email = user + "@example.com"
	}
	c, err := jira.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// viewer signs in as user (the profile of the same name), resolves the viewer and checks
// its grants with ttl.
func (f *permFixture) viewer(t *testing.T, user string, ttl time.Duration) (refresh.Viewer, *jira.Client) {
	t.Helper()
	c := f.login(t, user)
	v, err := refresh.ResolveViewer(context.Background(), c, f.db, user)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.CheckGrants(context.Background(), c, f.db, v, ttl); err != nil {
		t.Fatal(err)
	}
	v, _, err = refresh.RecallViewer(context.Background(), f.db, user, c.Credentials(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v, c
}

func (f *permFixture) apply(t *testing.T, as, src string) {
	t.Helper()
	v := refresh.Viewer{Viewer: lens.Viewer{User: as}}
	if _, err := refresh.ApplyLens(context.Background(), f.db, as+".yaml", []byte(src), v, refresh.AnyVersion); err != nil {
		t.Fatal(err)
	}
}

// allLens shows every cached issue by project, with per-project roll-ups.
const allLens = `name: All
acl: [{principal: anyone, level: view}]
generators:
  - insert: {jql: "project in (ALPHA, BETA, GAMMA)"}
  - group: {by: project}
views:
  - name: main
    columns:
      - field: key
      - {id: sp, rollup: {op: sum, field: story points, over: children}}
      - {id: n, rollup: {op: count, over: children}}
`

func (f *permFixture) open(t *testing.T, v refresh.Viewer) *refresh.Opened {
	t.Helper()
	o, err := refresh.OpenLens(context.Background(), f.db, "All", v, refresh.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// shown is what the Lens shows: issue keys, and per group row its roll-ups.
type shown struct {
	keys   []string
	points map[string]float64
	counts map[string]float64
}

func show(t *testing.T, o *refresh.Opened) shown {
	t.Helper()
	s := shown{points: map[string]float64{}, counts: map[string]float64{}}
	cols := o.View.Columns()
	sp := slices.IndexFunc(cols, func(c lens.Column) bool { return c.ID == "sp" })
	n := slices.IndexFunc(cols, func(c lens.Column) bool { return c.ID == "n" })
	for i, r := range o.Forest.Rows {
		if r.Issue != nil {
			s.keys = append(s.keys, r.Issue.Key)
			continue
		}
		s.points[r.Label] = o.View.Cell(i, sp).Num
		s.counts[r.Label] = o.View.Cell(i, n).Num
	}
	slices.Sort(s.keys)
	return s
}

// expected computes the same directly: the issues Jira lets user browse, summed from the
// cache by project.
func (f *permFixture) expected(t *testing.T, user string) shown {
	t.Helper()
	keys, err := f.site.VisibleTo(user)
	if err != nil {
		t.Fatal(err)
	}
	all, err := f.db.Issues(context.Background(), store.ReadOptions{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	s := shown{points: map[string]float64{}, counts: map[string]float64{}}
	for _, is := range all {
		s.keys = append(s.keys, is.Key)
		s.counts[is.Project]++
		if is.StoryPoints != nil {
			s.points[is.Project] += *is.StoryPoints
		}
	}
	slices.Sort(s.keys)
	return s
}

func same(t *testing.T, who string, got, want shown) {
	t.Helper()
	if !slices.Equal(got.keys, want.keys) {
		t.Errorf("%s sees %d issues, Jira lets them browse %d", who, len(got.keys), len(want.keys))
	}
	if fmt.Sprint(got.points) != fmt.Sprint(want.points) || fmt.Sprint(got.counts) != fmt.Sprint(want.counts) {
		t.Errorf("%s: roll-ups %v %v, direct %v %v", who, got.points, got.counts, want.points, want.counts)
	}
}

// TestViewersSeeWhatJiraLetsThem: a cache filled by admin, viewed as alice and bob, shows
// each exactly the issues Jira lets them browse, in rows, counts and roll-ups; the security
// level hides Internal issues from bob.
func TestViewersSeeWhatJiraLetsThem(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newPermFixture(t, dialect, 300)
			internal := map[string]bool{}
			cached, err := f.db.Issues(context.Background(), store.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range cached {
				if is.SecurityLevel != "" {
					internal[is.Key] = true
				}
			}
			if len(internal) == 0 {
				t.Fatal("the data set has no secured issue: the test would prove nothing")
			}
			for _, user := range []string{"admin", "alice", "bob"} {
				v, _ := f.viewer(t, user, time.Hour)
				o := f.open(t, v)
				if o.Visibility.Degraded() || len(o.Notes) > 0 {
					t.Errorf("%s: degraded %v, notes %q", user, o.Visibility.Degraded(), o.Notes)
				}
				got, want := show(t, o), f.expected(t, user)
				same(t, user, got, want)
				sawInternal := slices.ContainsFunc(got.keys, func(k string) bool { return internal[k] })
				if wantInternal := user != "bob"; sawInternal != wantInternal {
					t.Errorf("%s sees Internal issues: %v, want %v", user, sawInternal, wantInternal)
				}
			}
		})
	}
}

// TestCheckForAnotherUser: on Cloud an admin checks grants for alice's accountId in bulk and
// gets what alice's own check gets; Data Center cannot check for someone else.
func TestCheckForAnotherUser(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "cloud", 120)
	alice, _ := f.viewer(t, "alice", time.Hour)
	own := show(t, f.open(t, alice))
	if err := f.db.DeleteGrants(ctx, alice.User); err != nil {
		t.Fatal(err)
	}
	if got := show(t, f.open(t, alice)); len(got.keys) != 0 {
		t.Fatalf("without grants alice sees %d issues", len(got.keys))
	}
	st, err := refresh.CheckGrants(ctx, f.login(t, "admin"), f.db, alice, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if st.Projects != 3 || st.Issues == 0 || st.Granted == 0 || st.Denied == 0 {
		t.Errorf("stats %+v", st)
	}
	same(t, "alice checked by admin", show(t, f.open(t, alice)), own)

	dc := newPermFixture(t, "datacenter", 40)
	bob, _ := dc.viewer(t, "bob", time.Hour)
	_, err = refresh.CheckGrants(ctx, dc.login(t, "admin"), dc.db, bob, time.Hour)
	if !errors.Is(err, jira.ErrNotSupported) {
		t.Errorf("Data Center check for another user: %v, want ErrNotSupported", err)
	}
}

// TestRevokeHidesAtNextCheck: a permission taken away in Jira hides its rows at the next
// check, without a sync, and an open Lens catches up through the change feed.
func TestRevokeHidesAtNextCheck(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newPermFixture(t, dialect, 200)
			alice, c := f.viewer(t, "alice", time.Hour)
			o := f.open(t, alice)
			if show(t, o).counts["BETA"] == 0 {
				t.Fatal("alice sees no BETA issue before the revoke")
			}
			if err := f.site.RevokeProject("alice", "BETA"); err != nil {
				t.Fatal(err)
			}
			if _, err := refresh.CheckGrants(ctx, c, f.db, alice, time.Hour); err != nil {
				t.Fatal(err)
			}
			n, err := o.Update(ctx, f.db)
			if err != nil {
				t.Fatal(err)
			}
			got := show(t, n)
			if got.counts["BETA"] != 0 {
				t.Errorf("BETA rows still shown after the check: %v", got.counts)
			}
			if n.Data != o.Data {
				t.Error("a permission check made the open Lens read the whole cache again")
			}
			same(t, "alice after revoke", got, f.expected(t, "alice"))
		})
	}
}

var issueKey = regexp.MustCompile(`\b[A-Z]+-\d+\b`)

// TestJiraDownFailsClosed: grants expired and Jira down hide the rows and say why and since
// when, naming no hidden issue; they return as soon as a check succeeds.
func TestJiraDownFailsClosed(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "cloud", 150)
	alice, c := f.viewer(t, "alice", 300*time.Millisecond)
	before := f.open(t, alice)
	if len(show(t, before).keys) == 0 {
		t.Fatal("alice sees nothing while her grants are fresh")
	}
	time.Sleep(350 * time.Millisecond)
	seq, err := f.db.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.site.Faults().SetDown(true, false)
	if _, err := refresh.CheckGrants(ctx, c, f.db, alice, time.Hour); err == nil {
		t.Fatal("a check against a down site succeeded")
	}
	// The failed check is on the change feed, so open views rebuild and hide the rows.
	changes, err := f.db.Changes(ctx, seq, 10)
	if err != nil || !slices.ContainsFunc(changes, func(c store.Change) bool { return c.Kind == store.ChangeGrants }) {
		t.Errorf("no grants change after the failed check: %+v %v", changes, err)
	}
	updated, err := before.Update(ctx, f.db)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(show(t, updated).keys); n != 0 {
		t.Errorf("the open Lens still shows %d issues", n)
	}
	o := f.open(t, alice)
	if got := show(t, o); len(got.keys) != 0 || len(got.counts) != 0 {
		t.Errorf("rows shown with unverifiable grants: %d issues, groups %v", len(got.keys), got.counts)
	}
	if !o.Visibility.Degraded() || o.Visibility.Reason == "" {
		t.Errorf("status %+v", o.Visibility)
	}
	notes := strings.Join(o.Notes, "\n")
	for _, want := range []string{"ALPHA, BETA, GAMMA", "unverified since", "Jira unreachable (HTTP 503)", "hidden"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if k := issueKey.FindString(notes); k != "" {
		t.Errorf("notes name the hidden issue %s: %q", k, notes)
	}

	f.site.Faults().SetDown(false, false)
	if _, err := refresh.CheckGrants(ctx, c, f.db, alice, time.Hour); err != nil {
		t.Fatal(err)
	}
	o = f.open(t, alice)
	if o.Visibility.Degraded() || len(o.Notes) > 0 {
		t.Errorf("after a good check: %+v %q", o.Visibility, o.Notes)
	}
	same(t, "alice after recovery", show(t, o), f.expected(t, "alice"))
}

// TestUnknownViewerSeesNothing: a profile whose identity was never resolved sees no row,
// even of a Lens open to anyone, and is told why.
func TestUnknownViewerSeesNothing(t *testing.T) {
	f := newPermFixture(t, "cloud", 30)
	v, ok, err := refresh.RecallViewer(context.Background(), f.db, "never", mustCredentials(t, f.url, "never@example.com", "never-token"), time.Now())
	if err != nil || ok {
		t.Fatalf("recall of an unknown profile: %v %v", ok, err)
	}
	o := f.open(t, v)
	if len(o.Forest.Rows) != 0 || !o.Visibility.Unknown || len(o.Notes) == 0 {
		t.Errorf("unknown viewer: %d rows, status %+v, notes %q", len(o.Forest.Rows), o.Visibility, o.Notes)
	}
}

// TestVisibilityRules: the predicate over stored grants, every combination of project and
// issue grant state.
func TestVisibilityRules(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := db.PutProjects(ctx, []store.Project{{ID: 1, Key: "ONE"}, {ID: 2, Key: "TWO"}, {ID: 3, Key: "THREE"}, {ID: 4, Key: "FOUR"}}); err != nil {
		t.Fatal(err)
	}
	g := func(kind store.GrantKind, id int64, ok bool, expires time.Time) store.Grant {
		return store.Grant{Identity: "u", Kind: kind, ID: id, Granted: ok, CheckedAt: expires.Add(-5 * time.Minute), ExpiresAt: expires}
	}
	fresh, stale := now.Add(time.Minute), now.Add(-time.Minute)
	err = db.PutGrants(ctx, []store.Grant{
		g(store.GrantProject, 1, true, fresh),
		g(store.GrantProject, 2, false, fresh),
		g(store.GrantProject, 3, true, stale),
		// FOUR: never checked
		g(store.GrantIssue, 11, true, fresh),
		g(store.GrantIssue, 12, false, fresh),
		g(store.GrantIssue, 13, true, stale),
		g(store.GrantIssue, 31, true, fresh),
	})
	if err != nil {
		t.Fatal(err)
	}
	visible, st, err := refresh.Visibility(ctx, db, refresh.Viewer{Viewer: lens.Viewer{User: "u"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		id      int64
		project int64
		level   string
		want    bool
	}{
		{"granted project", 10, 1, "", true},
		{"granted project, granted issue", 11, 1, "Internal", true},
		{"granted project, denied issue", 12, 1, "Internal", false},
		{"granted project, expired issue grant", 13, 1, "Internal", false},
		{"granted project, unchecked issue", 14, 1, "Internal", false},
		{"denied project", 20, 2, "", false},
		{"expired project", 30, 3, "", false},
		{"expired project, granted issue", 31, 3, "Internal", false},
		{"unchecked project", 40, 4, "", false},
		{"project unknown to the cache", 50, 5, "", false},
	} {
		is := lens.Issue{ID: tc.id, ProjectID: tc.project, SecurityLevel: tc.level}
		if got := visible(&is); got != tc.want {
			t.Errorf("%s: visible = %v, want %v", tc.name, got, tc.want)
		}
	}
	var unverified []string
	for _, u := range st.Unverified {
		unverified = append(unverified, u.Project)
		if u.Project == "THREE" && !u.Since.Equal(stale) || u.Project == "FOUR" && !u.Since.IsZero() {
			t.Errorf("%s unverified since %v", u.Project, u.Since)
		}
	}
	if strings.Join(unverified, ",") != "FOUR,THREE" {
		t.Errorf("unverified %v, want FOUR and THREE", unverified)
	}
	// Two secured issues without a fresh grant, and one issue of an unknown project.
	if st.UnverifiedIssues() != 3 || !st.Degraded() || !st.Expires.Equal(fresh) {
		t.Errorf("status %+v, %d unverified issues", st, st.UnverifiedIssues())
	}
	notes := strings.Join(st.Notes(now), "\n")
	for _, want := range []string{"permissions for FOUR never verified", "permissions for THREE unverified since"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if regexp.MustCompile(`\b1[0-9]\b|\b[2-5]0\b`).MatchString(notes) {
		t.Errorf("notes name hidden issue ids: %q", notes)
	}
}

// TestRolesFromJira: role principals of stored ACLs are resolved for the viewer at each
// check and expire with the grants.
func TestRolesFromJira(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newPermFixture(t, dialect, 20)
			f.apply(t, "owner", `name: Roles
acl:
  - {principal: role:BETA/Developers, level: edit}
  - {principal: role:ALPHA/administrators, level: control}
views: [{name: v, columns: [{field: key}]}]
`)
			for _, tc := range []struct {
				user  string
				roles []string
				level lens.Level
			}{
				{"alice", []string{"BETA/Developers"}, lens.LevelEdit},
				{"bob", nil, lens.LevelNone},
				{"admin", []string{"ALPHA/administrators"}, lens.LevelControl},
			} {
				v, c := f.viewer(t, tc.user, time.Hour)
				if !slices.Equal(v.Roles, tc.roles) {
					t.Errorf("%s roles %v, want %v", tc.user, v.Roles, tc.roles)
				}
				st, err := f.db.Lens(ctx, "Roles")
				if err != nil {
					t.Fatal(err)
				}
				def, err := lens.Parse("Roles", []byte(st.YAML))
				if err != nil {
					t.Fatal(err)
				}
				if a := refresh.AccessOf(def, v); a.Level != tc.level {
					t.Errorf("%s: access %v via %q, want %v", tc.user, a.Level, a.Via, tc.level)
				}
				// Expired memberships count for nothing.
				later, _, err := refresh.RecallViewer(ctx, f.db, tc.user, c.Credentials(), time.Now().Add(2*time.Hour))
				if err != nil || len(later.Roles) != 0 {
					t.Errorf("%s roles after expiry: %v %v", tc.user, later.Roles, err)
				}
			}
		})
	}
}

// TestRolesFollowChecks: a session keeps its Viewer value, yet a role Jira takes away stops
// counting at the next check, and expired memberships count for nothing.
func TestRolesFollowChecks(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "datacenter", 40)
	f.apply(t, "owner", `name: ByRole
acl: [{principal: role:BETA/Developers, level: view}]
views: [{name: v, columns: [{field: key}]}]
`)
	alice, c := f.viewer(t, "alice", time.Hour)
	if _, err := refresh.OpenLens(ctx, f.db, "ByRole", alice, refresh.OpenOptions{}); err != nil {
		t.Fatalf("alice through her role: %v", err)
	}
	if err := f.site.RevokeProject("alice", "BETA"); err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.CheckGrants(ctx, c, f.db, alice, time.Hour); err != nil {
		t.Fatal(err)
	}
	var refused *refresh.AccessError
	if _, err := refresh.OpenLens(ctx, f.db, "ByRole", alice, refresh.OpenOptions{}); !errors.As(err, &refused) {
		t.Errorf("alice's old Viewer still opens the Lens after losing the role: %v", err)
	}
	if err := f.site.GrantProject("alice", "BETA"); err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.CheckGrants(ctx, c, f.db, alice, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.OpenLens(ctx, f.db, "ByRole", alice, refresh.OpenOptions{}); err != nil {
		t.Errorf("the role given back does not count: %v", err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := refresh.OpenLens(ctx, f.db, "ByRole", alice, refresh.OpenOptions{}); !errors.As(err, &refused) {
		t.Errorf("an expired role membership still counts: %v", err)
	}
}

// TestViewerBoundToCredentials: what the cache remembers of who a profile is belongs to the
// credentials Jira confirmed it for. Another token under the same profile name finds
// nothing (and must ask Jira, or see nothing), each token keeps its own memory whoever
// resolved last, the memory holds no secret, and what older versions kept under the
// profile name is never read.
func TestViewerBoundToCredentials(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "cloud", 30)
	admin, bob := f.login(t, "admin"), f.login(t, "bob")
	if _, err := refresh.ResolveViewer(ctx, admin, f.db, "t"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := refresh.RecallViewer(ctx, f.db, "t", bob.Credentials(), time.Now()); err != nil || ok || v.User != "" {
		t.Fatalf("bob under admin's profile name recalled %q, %v, %v", v.User, ok, err)
	}
	if _, err := refresh.ResolveViewer(ctx, bob, f.db, "t"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *jira.Client
		want string
	}{{admin, "61a0000000000000000000a1"}, {bob, "61a0000000000000000000a3"}} {
		if v, ok, err := refresh.RecallViewer(ctx, f.db, "t", tc.c.Credentials(), time.Now()); err != nil || !ok || v.User != tc.want || v.Profile != "t" {
			t.Errorf("recalled %q (profile %q), %v, %v; want %s", v.User, v.Profile, ok, err, tc.want)
		}
	}
	// Same user, another token (rotated, or someone else's copy of the name): unknown.
	other := mustCredentials(t, f.url, "bob@example.com", "bob-token-2")
	if _, ok, _ := refresh.RecallViewer(ctx, f.db, "t", other, time.Now()); ok {
		t.Error("a different token recalled bob")
	}
	// A memory in the old place (by profile name) is not trusted.
	if err := f.db.PutPref(ctx, "profile:x", "viewer", []byte(`{"id":"61a0000000000000000000a1"}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := refresh.RecallViewer(ctx, f.db, "x", mustCredentials(t, f.url, "carol@example.com", "carol-token"), time.Now()); ok {
		t.Error("the per-profile memory of older versions was used")
	}
	// The salt is made once; forgetting drops one token's memory only.
	if err := refresh.ForgetViewer(ctx, f.db, "t", bob.Credentials()); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := refresh.RecallViewer(ctx, f.db, "t", bob.Credentials(), time.Now()); ok {
		t.Error("bob remembered after ForgetViewer")
	}
	if _, ok, _ := refresh.RecallViewer(ctx, f.db, "t", admin.Credentials(), time.Now()); !ok {
		t.Error("admin forgotten with bob")
	}
	// Nothing in the cache holds a token.
	raw, err := os.ReadFile(f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(f.db.Path() + "-wal")
	for _, tok := range []string{"admin-token", "bob-token"} {
		if bytes.Contains(raw, []byte(tok)) || bytes.Contains(wal, []byte(tok)) {
			t.Errorf("the cache holds %s", tok)
		}
	}
}

// TestViewerChangeIsOnTheFeed: when Jira says the same credentials are someone else (or in
// other groups) than the cache remembered, the change feed says so, so builds made for the
// old identity are redone.
func TestViewerChangeIsOnTheFeed(t *testing.T) {
	ctx := context.Background()
	f := newPermFixture(t, "cloud", 10)
	c := f.login(t, "bob")
	me, err := c.Myself(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.RememberViewer(ctx, f.db, "t", c.Credentials(), me, c.Dialect()); err != nil {
		t.Fatal(err)
	}
	before, err := f.db.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh.RememberViewer(ctx, f.db, "t", c.Credentials(), me, c.Dialect()); err != nil {
		t.Fatal(err)
	}
	if same, _ := f.db.LastChange(ctx); same != before {
		t.Errorf("the same viewer again moved the feed %d -> %d", before, same)
	}
	moved := *me
	moved.Groups = append([]string{"qa"}, me.Groups...)
	if _, err := refresh.RememberViewer(ctx, f.db, "t", c.Credentials(), &moved, c.Dialect()); err != nil {
		t.Fatal(err)
	}
	if after, _ := f.db.LastChange(ctx); after == before {
		t.Error("new groups left the change feed where it was")
	}
}
