package refresh_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"reflect"
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

// sharedFixture is a fake site and one cache that several people's profiles refresh, as
// profiles of one site share its cache. carol may browse ALPHA and BETA but is in no
// security level, so Jira hides BETA's Internal issues from her alone.
type sharedFixture struct {
	site *jiratest.Site
	url  string
	db   *store.DB
}

const sharedScope = "project in (ALPHA, BETA, GAMMA)"

func newSharedFixture(t *testing.T, dialect string) *sharedFixture {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: 1500, Seed: 5,
		Users: []jiratest.User{{Name: "carol", Projects: []string{"ALPHA", "BETA"}, Groups: []string{"jira-developers"}}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	t.Cleanup(site.Close)
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "site.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &sharedFixture{site: site, url: srv.URL, db: db}
}

func (f *sharedFixture) client(t *testing.T, user string) *jira.Client {
	t.Helper()
	o := jira.Options{BaseURL: f.url, Token: user + "-token", RequestsPerSecond: -1}
	if f.site.Dialect() == "cloud" {
		o.Email = user + "@example.com"
	}
	c, err := jira.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *sharedFixture) engine(t *testing.T, user string) *refresh.Engine {
	t.Helper()
	eng, err := refresh.New(f.client(t, user), f.db, refresh.Options{Site: user, Scope: sharedScope})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// state is everything the cache holds of issues and links.
func (f *sharedFixture) state(t *testing.T) ([]lens.Issue, []lens.Link) {
	t.Helper()
	is, err := f.db.Issues(context.Background(), store.ReadOptions{WithRaw: true})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := f.db.Links(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return is, ls
}

func run(t *testing.T, what string, fn func(context.Context) (refresh.Summary, error)) refresh.Summary {
	t.Helper()
	s, err := fn(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return s
}

// rawLinkIDs are the link ids in an issue's stored issuelinks field.
func rawLinkIDs(t *testing.T, db *store.DB, key string) map[int64]bool {
	t.Helper()
	is, err := db.Issue(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var ls []struct{ ID string }
	if err := json.Unmarshal(is.Fields["issuelinks"], &ls); err != nil {
		t.Fatalf("%s issuelinks: %v", key, err)
	}
	out := map[int64]bool{}
	for _, l := range ls {
		id, _ := strconv.ParseInt(l.ID, 10, 64)
		out[id] = true
	}
	return out
}

// A refresh by a profile that sees less than the one that filled the cache leaves the
// cache as it was when nothing changed in Jira: no link dropped, no issue rewritten, and
// the next refresh by the first profile finds nothing to update either.
func TestSharedCacheRefreshBySomeoneSeeingLessKeepsWhatTheyCannotSee(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			f := newSharedFixture(t, dialect)
			admin := f.engine(t, "admin")
			run(t, "admin full", admin.Full)
			issues0, links0 := f.state(t)
			byKey := map[string]lens.Issue{}
			for _, is := range issues0 {
				byKey[is.Key] = is
			}
			// The data must hold what the bug needs: links from issues alice can browse to
			// issues she cannot (GAMMA), and to Internal issues carol cannot.
			var toGamma, toSecured int
			for _, l := range links0 {
				a, b := byKey[l.From], byKey[l.To]
				if (a.Project == "GAMMA") != (b.Project == "GAMMA") {
					toGamma++
				}
				if a.Project != "GAMMA" && b.Project != "GAMMA" && (a.SecurityLevel != "") != (b.SecurityLevel != "") {
					toSecured++
				}
			}
			if toGamma == 0 || toSecured == 0 {
				t.Fatalf("data set has %d links across GAMMA and %d to secured issues: want some of each", toGamma, toSecured)
			}
			feed0, err := f.db.LastChange(context.Background())
			if err != nil {
				t.Fatal(err)
			}

			for _, who := range []string{"alice", "carol", "bob", "admin", "alice"} {
				eng := f.engine(t, who)
				s := run(t, who+" full", eng.Full)
				if s.Updated != 0 || s.Inserted != 0 {
					t.Errorf("%s's full refresh with no change in Jira: %d updated, %d inserted; want none", who, s.Updated, s.Inserted)
				}
				issues, links := f.state(t)
				if !reflect.DeepEqual(links, links0) {
					t.Fatalf("after %s's refresh the cache holds %d links, had %d", who, len(links), len(links0))
				}
				if len(issues) != len(issues0) {
					t.Fatalf("after %s's refresh the cache holds %d issues, had %d", who, len(issues), len(issues0))
				}
				for i := range issues {
					if !reflect.DeepEqual(issues[i], issues0[i]) {
						t.Fatalf("after %s's refresh %s differs from admin's copy:\n got %s\nwant %s", who, issues[i].Key,
							issues[i].Fields["issuelinks"], issues0[i].Fields["issuelinks"])
					}
				}
			}
			changes, err := f.db.Changes(context.Background(), feed0, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range changes {
				switch c.Kind {
				case store.ChangeIssueCreated, store.ChangeIssueUpdated, store.ChangeIssueDeleted, store.ChangeLinks:
					t.Errorf("change feed: %s %s with nothing changed in Jira", c.Kind, c.IssueKey)
				}
			}
		})
	}
}

// What a profile can see both ends of, and Jira no longer has, goes from the cache when that
// profile refreshes; what it cannot see goes when a profile that can refreshes.
func TestSharedCacheDropsLinksRemovedInJira(t *testing.T) {
	f := newSharedFixture(t, "cloud")
	ctx := context.Background()
	admin := f.engine(t, "admin")
	run(t, "admin full", admin.Full)
	issues, links := f.state(t)
	byKey := map[string]lens.Issue{}
	for _, is := range issues {
		byKey[is.Key] = is
	}
	// A link alice sees both ends of, and one from an issue she sees to GAMMA.
	var both, gamma lens.Link
	for _, l := range links {
		a, b := byKey[l.From], byKey[l.To]
		switch {
		case both.ID == 0 && a.Project != "GAMMA" && b.Project != "GAMMA" && a.SecurityLevel == "" && b.SecurityLevel == "":
			both = l
		case gamma.ID == 0 && a.Project != "GAMMA" && b.Project == "GAMMA" && a.SecurityLevel == "":
			gamma = l
		}
	}
	if both.ID == 0 || gamma.ID == 0 {
		t.Fatalf("no links to test with: %+v %+v", both, gamma)
	}
	ac := f.client(t, "admin")
	for _, l := range []lens.Link{both, gamma} {
		if err := ac.DeleteLink(ctx, strconv.FormatInt(l.ID, 10)); err != nil {
			t.Fatal(err)
		}
	}
	alice := f.engine(t, "alice")
	run(t, "alice poll", alice.Poll)
	has := func(id int64) bool {
		ls, err := f.db.Links(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.ID == id {
				return true
			}
		}
		return false
	}
	if has(both.ID) || rawLinkIDs(t, f.db, both.From)[both.ID] || rawLinkIDs(t, f.db, both.To)[both.ID] {
		t.Errorf("link %d %s->%s, deleted in Jira, still cached after a poll by alice, who sees both ends", both.ID, both.From, both.To)
	}
	// alice cannot tell the GAMMA link from one hidden from her: it stays until someone
	// who can see GAMMA refreshes.
	if !has(gamma.ID) {
		t.Errorf("link %d %s->%s dropped by alice, who cannot see %s", gamma.ID, gamma.From, gamma.To, gamma.To)
	}
	run(t, "admin poll", admin.Poll)
	if has(gamma.ID) || rawLinkIDs(t, f.db, gamma.From)[gamma.ID] {
		t.Errorf("link %d %s->%s, deleted in Jira, still cached after a poll by admin", gamma.ID, gamma.From, gamma.To)
	}
}

// With a scope of one project the other ends of many links are not cached: whether the
// reader may see them comes from its projects, or from Jira when they are in one it may
// browse.
func TestSharedCacheLinksToIssuesOutsideTheScope(t *testing.T) {
	f := newSharedFixture(t, "cloud")
	ctx := context.Background()
	newEngine := func(user string) *refresh.Engine {
		eng, err := refresh.New(f.client(t, user), f.db, refresh.Options{Site: user, Scope: "project = BETA"})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	admin, alice := newEngine("admin"), newEngine("alice")
	run(t, "admin full", admin.Full)
	_, links0 := f.state(t)
	var toAlpha, toGamma lens.Link
	for _, l := range links0 {
		from, to := strings.Split(l.From, "-")[0], strings.Split(l.To, "-")[0]
		switch {
		case toAlpha.ID == 0 && from == "BETA" && to == "ALPHA":
			toAlpha = l
		case toGamma.ID == 0 && from == "BETA" && to == "GAMMA":
			toGamma = l
		}
	}
	if toAlpha.ID == 0 || toGamma.ID == 0 {
		t.Fatalf("no links to test with: %+v %+v", toAlpha, toGamma)
	}
	if s := run(t, "alice full", alice.Full); s.Updated != 0 {
		t.Errorf("alice's full refresh with no change in Jira: %d updated", s.Updated)
	}
	if _, links := f.state(t); !reflect.DeepEqual(links, links0) {
		t.Fatalf("after alice's refresh the cache holds %d links, had %d", len(links), len(links0))
	}
	ac := f.client(t, "admin")
	for _, l := range []lens.Link{toAlpha, toGamma} {
		if err := ac.DeleteLink(ctx, strconv.FormatInt(l.ID, 10)); err != nil {
			t.Fatal(err)
		}
	}
	run(t, "alice poll", alice.Poll)
	ids := map[int64]bool{}
	_, links := f.state(t)
	for _, l := range links {
		ids[l.ID] = true
	}
	if ids[toAlpha.ID] {
		t.Errorf("link %d %s->%s, deleted in Jira, kept after a poll by alice, who may browse %s", toAlpha.ID, toAlpha.From, toAlpha.To, toAlpha.To)
	}
	if !ids[toGamma.ID] {
		t.Errorf("link %d %s->%s dropped by alice, who cannot see %s", toGamma.ID, toGamma.From, toGamma.To, toGamma.To)
	}
}

// An edit by someone seeing less reads the issue back as they see it: that read-back keeps
// in the shared cache the links they cannot see, as their refresh does.
func TestSharedCacheEditReadBackKeepsWhatTheEditorCannotSee(t *testing.T) {
	f := newSharedFixture(t, "cloud")
	ctx := context.Background()
	run(t, "admin full", f.engine(t, "admin").Full)
	issues, links := f.state(t)
	byKey := map[string]lens.Issue{}
	for _, is := range issues {
		byKey[is.Key] = is
	}
	var gamma lens.Link
	for _, l := range links {
		a, b := byKey[l.From], byKey[l.To]
		if a.Project == "ALPHA" && a.SecurityLevel == "" && b.Project == "GAMMA" {
			gamma = l
			break
		}
	}
	if gamma.ID == 0 {
		t.Fatal("no ALPHA -> GAMMA link to test with")
	}
	w := refresh.NewWriter(f.client(t, "alice"), f.db, refresh.WriterOptions{})
	if _, err := w.Set(ctx, gamma.From, "summary", "edited by alice", time.Time{}, refresh.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	is, err := f.db.Issue(ctx, gamma.From)
	if err != nil || is.Summary != "edited by alice" {
		t.Fatalf("%s after the edit: %q %v", gamma.From, is.Summary, err)
	}
	_, after := f.state(t)
	if !reflect.DeepEqual(after, links) {
		t.Errorf("after alice's edit of %s the cache holds %d links, had %d", gamma.From, len(after), len(links))
	}
	if !rawLinkIDs(t, f.db, gamma.From)[gamma.ID] {
		t.Errorf("link %d to %s left %s's stored issuelinks after alice's edit", gamma.ID, gamma.To, gamma.From)
	}
}

// The shared cache holds links other profiles were shown; what names another issue outside
// the rows (the detail pane's links and parent) asks the Lens whether the viewer sees it.
func TestOpenedSeesOnlyWhatTheViewerMayBrowse(t *testing.T) {
	f := newPermFixture(t, "cloud", 1500)
	v, _ := f.viewer(t, "alice", time.Hour)
	o, err := refresh.OpenLens(context.Background(), f.db, "All", v, refresh.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var gamma, secured, plain string
	for _, is := range o.Data.Issues {
		switch {
		case is.Project == "GAMMA" && gamma == "":
			gamma = is.Key
		case is.Project == "BETA" && is.SecurityLevel != "" && secured == "":
			secured = is.Key
		case is.Project == "BETA" && is.SecurityLevel == "" && plain == "":
			plain = is.Key
		}
	}
	for key, want := range map[string]bool{gamma: false, secured: true, plain: true, "NOPE-1": false} {
		if got := o.Sees(key); got != want {
			t.Errorf("alice sees %s: %v, want %v", key, got, want)
		}
	}
	bv, _ := f.viewer(t, "bob", time.Hour)
	ob, err := refresh.OpenLens(context.Background(), f.db, "All", bv, refresh.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ob.Sees(plain) || ob.Sees(gamma) {
		t.Errorf("bob sees %s or %s, outside ALPHA", plain, gamma)
	}
}
