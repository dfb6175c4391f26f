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

	"foundation/config"
	"foundation/examples"
	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/jql"
	"foundation/refresh"
	"foundation/store"
	"foundation/tui"
)

// tuiFixture is a fake site, a client signed in as one user, an empty cache, the profile
// and the TUI's real backend over them, refreshed once, with the sample Lenses applied
// (only the first when one is enough).
type tuiFixture struct {
	site   *jiratest.Site
	srv    *httptest.Server
	client *jira.Client
	db     *store.DB
	prof   *config.Site
	viewer refresh.Viewer
	be     *siteBackend
}

func newTUIFixture(t *testing.T, user, scope string, issues int, ttl time.Duration, allLenses bool) *tuiFixture {
	t.Helper()
	ctx := context.Background()
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: issues, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	f := &tuiFixture{site: site, srv: httptest.NewServer(site)}
	t.Cleanup(f.srv.Close)
	// No retries: tests that stop the server want the failure at once.
	f.client, err = jira.New(ctx, jira.Options{BaseURL: f.srv.URL, Email: user + "@example.com", Token: user + "-token", RequestsPerSecond: -1, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if f.db, err = store.Open(ctx, filepath.Join(t.TempDir(), "c.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close() })
	f.prof = config.NewSite("t")
	f.prof.URL, f.prof.Scope = f.srv.URL, scope
	if ttl > 0 {
		f.prof.PermissionTTL = ttl
	}
	if f.viewer, _, err = resolveViewer(ctx, f.prof, f.client, f.db); err != nil {
		t.Fatal(err)
	}
	f.be = f.backend(t)
	if err := f.be.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	files, err := examples.Files()
	if err != nil {
		t.Fatal(err)
	}
	if !allLenses {
		files = files[:1]
	}
	for _, fl := range files {
		if _, err := refresh.ApplyLens(ctx, f.db, fl.Name, fl.Data, f.viewer, 0); err != nil {
			t.Fatalf("apply %s: %v", fl.Name, err)
		}
	}
	return f
}

// backend is a new session's backend over the fixture's cache.
func (f *tuiFixture) backend(t *testing.T) *siteBackend {
	t.Helper()
	be, err := newSiteBackend(f.prof, f.db, f.client, f.viewer)
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// TestSiteBackend drives the TUI's real backend over a cache filled from the fake site: the
// Lens list, a build, a background refresh that brings an edit in through the change feed,
// and preferences.
func TestSiteBackend(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 400, 0, true)
	site, be := f.site, f.be
	files, _ := examples.Files()
	infos, err := be.Lenses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var roadmap string
	for _, in := range infos {
		if in.Name == "Roadmap" {
			roadmap = in.ID
		}
	}
	if len(infos) != len(files) || roadmap == "" {
		t.Fatalf("lenses %+v", infos)
	}
	built, err := be.Build(ctx, tui.BuildRequest{Lens: roadmap})
	if err != nil {
		t.Fatal(err)
	}
	if built.Tree.Len() == 0 || built.Total == 0 || len(built.Views) == 0 {
		t.Fatalf("empty roadmap: %d rows", built.Tree.Len())
	}
	// The Roadmap needs no raw fields, so its rows have none; the detail pane gets them.
	for i := 0; i < built.Tree.Len(); i++ {
		if is := built.Issue(i); is != nil {
			full := built.Detail(is.Key)
			if full == nil || len(full.Fields["description"]) == 0 {
				t.Errorf("detail of %s has no description", is.Key)
			}
			break
		}
	}
	st, err := be.Status(ctx)
	if err != nil || st.Profile != "t" || st.LastRefresh.IsZero() || st.Offline {
		t.Fatalf("status %+v %v", st, err)
	}

	// An edit in Jira reaches the backend's change feed through a background refresh.
	seq, err := be.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var epic string
	for i := 0; i < built.Tree.Len(); i++ {
		if is := built.Issue(i); is != nil {
			epic = is.Key
			break
		}
	}
	if err := site.Update(epic, map[string]any{"summary": "renamed epic"}); err != nil {
		t.Fatal(err)
	}
	if err := be.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	keys, last, err := be.ChangedKeys(ctx, seq)
	if err != nil || last <= seq || !slices.Contains(keys, epic) {
		t.Fatalf("changed keys after %d: %v (last %d) %v", seq, keys, last, err)
	}
	again, err := be.Build(ctx, tui.BuildRequest{Lens: roadmap})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := 0; i < again.Tree.Len(); i++ {
		if is := again.Issue(i); is != nil && is.Key == epic {
			found = is.Summary == "renamed epic"
		}
	}
	if !found {
		t.Error("the rebuilt Lens does not show the edit")
	}

	if err := be.SetPref(ctx, "tui.last_lens", []byte(`"`+roadmap+`"`)); err != nil {
		t.Fatal(err)
	}
	if v, err := be.Pref(ctx, "tui.last_lens"); err != nil || string(v) != `"`+roadmap+`"` {
		t.Errorf("pref %s %v", v, err)
	}
}

// TestTUIOpensOffline: once the cache knows the viewer, the TUI's backend resolves it and
// builds Lenses with Jira unreachable, and says it is offline.
func TestTUIOpensOffline(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "alice", "project = ALPHA", 200, 0, false)
	prof, client, db, online := f.prof, f.client, f.db, f.viewer
	f.srv.Close()

	// The cache's memory of the viewer answers at once; Jira being down is learned by the
	// first background refresh.
	start := time.Now()
	offlineViewer, _, err := resolveViewer(ctx, prof, client, db)
	if err != nil || offlineViewer.User != online.User {
		t.Fatalf("offline viewer %+v err=%v; online was %q", offlineViewer, err, online.User)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("resolving a known viewer with Jira down took %s", d)
	}
	be, err := newSiteBackend(prof, db, client, offlineViewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Refresh(ctx); err == nil {
		t.Fatal("refresh with Jira down succeeded")
	}
	st, _ := be.Status(ctx)
	if !st.Offline || st.Err == "" {
		t.Errorf("status with Jira down: %+v", st)
	}
	infos, err := be.Lenses(ctx)
	if err != nil || len(infos) != 1 {
		t.Fatalf("lenses offline: %+v %v", infos, err)
	}
	if _, err := be.Build(ctx, tui.BuildRequest{Lens: infos[0].ID}); err != nil {
		t.Errorf("build offline: %v", err)
	}
}

// TestRefreshEndsWhenJiraIsSilent: a Jira that accepts connections and never answers (a
// stopped process) ends the TUI's refresh once the client's time limit has run out on the
// viewer check, without asking anything else: the status says OFFLINE and why, and rows
// whose grants expired are hidden (fail closed). Before, the refresh never ended, and no
// later refresh or permission check could start.
func TestRefreshEndsWhenJiraIsSilent(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "alice", "project = ALPHA", 200, 300*time.Millisecond, false)
	// The client as the TUI builds it (retries included), with a limit a test can wait out.
	client, err := jira.New(ctx, jira.Options{BaseURL: f.srv.URL, Dialect: jira.Cloud, Email: "alice@example.com", Token: "alice-token",
		RequestsPerSecond: -1, BaseBackoff: time.Millisecond, HeaderTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	be, err := newSiteBackend(f.prof, f.db, client, f.viewer)
	if err != nil {
		t.Fatal(err)
	}
	infos, _ := be.Lenses(ctx)
	f.site.Faults().SetLatency(time.Hour, 0) // the site goes silent
	time.Sleep(400 * time.Millisecond)       // the grants expire

	start := time.Now()
	err = be.Refresh(ctx)
	if err == nil || !strings.Contains(err.Error(), "Jira did not answer within 100ms (3 attempts)") {
		t.Fatalf("refresh of a silent site: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("refresh of a silent site took %v", took)
	}
	if n := client.Stats().Requests; n != 3 {
		t.Errorf("%d requests: after the viewer check timed out, the refresh went on asking", n)
	}
	st, _ := be.Status(ctx)
	if !st.Offline || st.Refreshing || !strings.Contains(st.Err, "did not answer") {
		t.Errorf("status after a silent site: %+v", st)
	}
	built, err := be.Build(ctx, tui.BuildRequest{Lens: infos[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(built.Notes, " ")
	if built.Tree.Len() != 0 || !strings.Contains(notes, "Jira did not answer within 100ms") {
		t.Errorf("expired grants with a silent site: %d rows shown, notes %q", built.Tree.Len(), notes)
	}
}

// TestOpenTUIFailsClosed: an open Lens whose grants expire while Jira is down hides its
// rows (and says why) without any change arriving in the cache.
func TestOpenTUIFailsClosed(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "alice", "project = ALPHA", 200, 300*time.Millisecond, false)
	be, srv := f.be, f.srv
	infos, _ := be.Lenses(ctx)
	issues := func() int {
		b, err := be.Build(ctx, tui.BuildRequest{Lens: infos[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := 0; i < b.Tree.Len(); i++ {
			if b.Issue(i) != nil {
				n++
			}
		}
		return n
	}
	if issues() == 0 {
		t.Fatal("no rows while the grants are fresh: the test proves nothing")
	}
	srv.Close()
	time.Sleep(400 * time.Millisecond) // the grants expire
	// The feed's head before the check: the failed check may record itself before
	// LastChange, which starts it, reads the head.
	seq, _ := f.db.LastChange(ctx)
	be.LastChange(ctx) // notices, rechecks in the background, fails
	deadline := time.Now().Add(10 * time.Second)
	for {
		now, _ := be.LastChange(ctx)
		if now != seq || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := issues(); n != 0 {
		t.Errorf("%d rows still shown with expired grants and Jira down", n)
	}
}

// TestExpiredGrantsRecheckedOnce: once the grants of the Lens on screen expire, one
// background check renews them and the rebuild that follows is quiet; a view left behind
// earlier does not keep asking. Before, every build kept, of every view ever shown, was
// watched: a view left for five minutes made each poll (every 500 ms) ask Jira for the
// viewer's permissions again and rebuild the Lens from scratch, forever.
func TestExpiredGrantsRecheckedOnce(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "alice", "project = ALPHA", 200, 300*time.Millisecond, true)
	be := f.be
	infos, _ := be.Lenses(ctx)
	var roadmap string
	for _, in := range infos {
		if in.Name == "Roadmap" {
			roadmap = in.ID
		}
	}
	built, err := be.Build(ctx, tui.BuildRequest{Lens: roadmap})
	if err != nil || len(built.Views) < 2 {
		t.Fatalf("roadmap: %v, views %v", err, built.Views)
	}
	if _, err := be.Build(ctx, tui.BuildRequest{Lens: roadmap, View: built.Views[1]}); err != nil {
		t.Fatal(err)
	}
	requests := func() int64 { return f.client.Stats().Requests }
	before := requests()
	if _, err := refresh.CheckGrants(ctx, f.client, f.db, f.viewer, f.prof.PermissionTTL); err != nil {
		t.Fatal(err)
	}
	perCheck := requests() - before
	time.Sleep(400 * time.Millisecond) // the grants expire
	before = requests()
	// The TUI's loop: poll the feed every so often and rebuild when it moved.
	seq, _ := be.LastChange(ctx)
	for range 40 {
		time.Sleep(25 * time.Millisecond)
		now, err := be.LastChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if now != seq {
			seq = now
			if _, err := be.Build(ctx, tui.BuildRequest{Lens: roadmap, View: built.Views[1]}); err != nil {
				t.Fatal(err)
			}
		}
	}
	be.mu.Lock()
	checking := be.checking
	be.mu.Unlock()
	// One check (a few permission requests) renews the grants for 300 ms; in the second
	// it may run out and be renewed about three times more. A loop would run dozens.
	if n := requests() - before; n == 0 || n > 6*perCheck || checking {
		t.Errorf("%d requests in one second after the grants expired, %d per check (still checking: %v)", n, perCheck, checking)
	}
}

// TestLensSizeRemembered: the home screen shows a Lens's size from the viewer's last build,
// also in a later session, before it is built again.
func TestLensSizeRemembered(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project = ALPHA", 200, 0, false)
	infos, err := f.be.Lenses(ctx)
	if err != nil || len(infos) != 1 || infos[0].Size != -1 {
		t.Fatalf("before any build: %+v %v", infos, err)
	}
	built, err := f.be.Build(ctx, tui.BuildRequest{Lens: infos[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	infos, _ = f.backend(t).Lenses(ctx)
	if infos[0].Size != built.Total {
		t.Errorf("a new session shows size %d, the build had %d rows", infos[0].Size, built.Total)
	}
}

// TestWebhookBurstReachesOpenTUI: a burst of edits in Jira, delivered as signed webhooks to
// the listener and applied, reaches an open TUI backend through the change feed, without a
// poll: the changed keys come back and the rebuilt Lens shows the new values.
func TestWebhookBurstReachesOpenTUI(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 300, 0, false)
	const secret = "burst-secret"
	l := refresh.NewListener(f.db, refresh.ListenerOptions{Secret: []byte(secret)})
	hooks := httptest.NewServer(l)
	defer hooks.Close()
	f.site.Webhooks().Register(hooks.URL, secret, nil, "")
	applier := refresh.NewApplier(f.client, f.db, refresh.ApplyOptions{Scope: f.prof.Scope})

	infos, _ := f.be.Lenses(ctx)
	built, err := f.be.Build(ctx, tui.BuildRequest{Lens: infos[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; i < built.Tree.Len() && len(keys) < 20; i++ {
		if is := built.Issue(i); is != nil {
			keys = append(keys, is.Key)
		}
	}
	seq, _ := f.be.LastChange(ctx)
	for _, k := range keys {
		if err := f.site.Update(k, map[string]any{"summary": "burst " + k}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.site.Webhooks().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := applier.ApplyPending(ctx); err != nil {
		t.Fatal(err)
	}
	changed, _, err := f.be.ChangedKeys(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !slices.Contains(changed, k) {
			t.Fatalf("%s missing from the change feed after the burst: %v", k, changed)
		}
	}
	again, err := f.be.Build(ctx, tui.BuildRequest{Lens: infos[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for i := 0; i < again.Tree.Len(); i++ {
		if is := again.Issue(i); is != nil && is.Summary == "burst "+is.Key {
			seen++
		}
	}
	if seen != len(keys) {
		t.Errorf("the rebuilt Lens shows %d of %d burst edits", seen, len(keys))
	}
}

// TestSiteBackendFilterByJira: a TUI filter local evaluation cannot answer (WAS) is asked of
// the fake site on request and narrows the Lens exactly as the equivalent local filter does;
// its answer is kept until the next refresh, and a profile offline says why.
func TestSiteBackendFilterByJira(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 400, 0, true)
	const q = `status WAS "In Review"`
	req := tui.BuildRequest{Lens: "Roadmap", Filter: q}
	var je *jql.Error
	if _, err := f.be.Build(ctx, req); !errors.As(err, &je) {
		t.Fatalf("local WAS filter: %v, want the *jql.Error that lets the TUI offer Jira", err)
	}
	req.FilterByJira = true
	byJira, err := f.be.Build(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// In the fake, every workflow but the epics' passes In Review on its way to Done.
	local, err := f.be.Build(ctx, tui.BuildRequest{Lens: "Roadmap", Filter: `status in ("In Review", Done) AND issuetype != Epic`})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(b *tui.Built) []string {
		var out []string
		for i := range b.Tree.Len() {
			out = append(out, b.Tree.ID(i))
		}
		return out
	}
	if got, want := ids(byJira), ids(local); !slices.Equal(got, want) || len(want) == 0 || len(want) == byJira.Total {
		t.Fatalf("Jira's answer shows %d of %d rows, the local equivalent %d", len(got), byJira.Total, len(want))
	}
	// Kept until the next refresh: a rebuild with the site down still has it.
	f.site.Faults().SetDown(true, false)
	if _, err := f.be.Build(ctx, req); err != nil {
		t.Errorf("rebuild with the answer kept: %v", err)
	}
	req.Filter = `status WAS Done`
	if _, err := f.be.Build(ctx, req); err == nil || !strings.Contains(err.Error(), "Jira could not answer it") {
		t.Errorf("a new Jira filter with the site down: %v", err)
	}
	// A refresh makes the answer stale: the next build asks again, and if Jira cannot
	// answer then, the last answer stands in rather than failing the rebuild.
	f.site.Faults().SetDown(false, false)
	if err := f.be.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	req.Filter = `status WAS "In Review"`
	if a := f.be.jiraFilters[req.Filter]; a == nil || !a.stale {
		t.Fatalf("answer after a refresh: %+v", a)
	}
	f.site.Faults().SetDown(true, false)
	again, err := f.be.Build(ctx, req)
	if err != nil || !slices.Equal(ids(again), ids(byJira)) {
		t.Errorf("stale answer with Jira down: %v, %d rows, want %d", err, again.Tree.Len(), byJira.Tree.Len())
	}
	f.site.Faults().SetDown(false, false)
	if _, err := f.be.Build(ctx, req); err != nil || f.be.jiraFilters[req.Filter].stale {
		t.Errorf("asked again with Jira up: %v, stale %v", err, f.be.jiraFilters[req.Filter].stale)
	}
}

// TestLensListNamesOwners: the Lens list shows an owner the cache knows by name, whether
// the Lens names them by email (as the sample files do) or by account id (as a transfer
// in the TUI does).
func TestLensListNamesOwners(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project = ALPHA", 100, 0, true)
	infos, err := f.be.Lenses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if in.Name == "Roadmap" && in.Owner != "Ada Admin" {
			t.Errorf("Roadmap's owner shows as %q, want Ada Admin", in.Owner)
		}
	}
}

// TestRefreshElsewhereClearsTheError: an error from this backend's refresh stops showing
// once a refresh of the same scope succeeds in another process sharing the cache.
func TestRefreshElsewhereClearsTheError(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project = ALPHA", 100, 0, false)
	f.site.Faults().SetDown(true, false)
	if err := f.be.Refresh(ctx); err == nil {
		t.Fatal("refresh with the site down succeeded")
	}
	if st, _ := f.be.Status(ctx); st.Err == "" {
		t.Fatalf("no error after a failed refresh: %+v", st)
	}
	f.site.Faults().SetDown(false, false)
	time.Sleep(5 * time.Millisecond) // the other refresh is recorded after the error
	if err := f.backend(t).Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.be.Status(ctx); st.Err != "" || st.Offline {
		t.Errorf("the error stays after a refresh elsewhere succeeded: %+v", st)
	}
}

// TestSiteBackendFilterOnRawFields: an f filter on a field kept only in the raw issue data
// keeps the rows it matches on a Lens whose columns read none, also when typed after the
// Lens was opened without that data.
func TestSiteBackendFilterOnRawFields(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 400, 0, false)
	src := "name: Keys\ngenerators:\n  - insert: {jql: \"project in (ALPHA, BETA, GAMMA)\"}\nviews:\n  - name: v\n    columns: [{field: key}]\n"
	if _, err := refresh.ApplyLens(ctx, f.db, "keys.yaml", []byte(src), f.viewer, 0); err != nil {
		t.Fatal(err)
	}
	issues := func(filter string) int {
		t.Helper()
		b, err := f.be.Build(ctx, tui.BuildRequest{Lens: "Keys", Filter: filter})
		if err != nil {
			t.Fatalf("filter %q: %v", filter, err)
		}
		n := 0
		for i := range b.Tree.Len() {
			if b.Issue(i) != nil {
				n++
			}
		}
		return n
	}
	if n := issues(""); n == 0 {
		t.Fatal("the Lens has no rows")
	}
	points := issues(`"Story Points" >= 8`)
	if points == 0 {
		t.Fatal(`no issue has "Story Points" >= 8: the test proves nothing`)
	}
	if n := issues("cf[10016] >= 8"); n != points {
		t.Errorf(`cf[10016] >= 8 kept %d issues, "Story Points" >= 8 (the same field) %d`, n, points)
	}
	if n := issues("fixVersion is not EMPTY"); n == 0 {
		t.Error("fixVersion is not EMPTY kept no issue")
	}
	// Back to a filter on extracted fields: the same rows as before.
	if n := issues(`"Story Points" >= 8`); n != points {
		t.Errorf(`"Story Points" >= 8 after a raw filter kept %d issues, want %d`, n, points)
	}
}

// TestSiteBackendFilterOnFieldTheSiteLacks: the f filter refuses a field the site's catalog
// does not have, in the words export --filter uses, instead of matching no row.
func TestSiteBackendFilterOnFieldTheSiteLacks(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project = ALPHA", 100, 0, true)
	for _, q := range []string{"cf[99999] > 10", "nosuchfield = 1"} {
		_, err := f.be.Build(ctx, tui.BuildRequest{Lens: "Roadmap", Filter: q})
		var je *jql.Error
		if !errors.As(err, &je) || je.Unknown {
			t.Fatalf("%s: %v, want a *jql.Error Jira would answer too", q, err)
		}
		want := "Field '" + strings.Fields(q)[0] + "' does not exist or you do not have permission to view it."
		if je.Msg != want {
			t.Errorf("%s: %q, want %q", q, je.Msg, want)
		}
	}
	if _, err := f.be.Build(ctx, tui.BuildRequest{Lens: "Roadmap", Filter: "cf[10016] > 1"}); err != nil {
		t.Errorf("a custom field the site has: %v", err)
	}
}

// A build the TUI has stopped (its filter text was replaced) ends with the context's error
// and leaves the kept build as it was: the next build, for the text shown, is served from it.
func TestSiteBackendBuildStops(t *testing.T) {
	ctx := context.Background()
	f := newTUIFixture(t, "admin", "project in (ALPHA, BETA, GAMMA)", 400, 0, false)
	be := f.be
	infos, err := be.Lenses(ctx)
	if err != nil || len(infos) == 0 {
		t.Fatalf("lenses %v %v", infos, err)
	}
	id := infos[0].ID
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := be.Build(done, tui.BuildRequest{Lens: id}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopped open: %v, want context.Canceled", err)
	}
	if be.opened != nil {
		t.Fatal("a stopped open was kept")
	}
	all, err := be.Build(ctx, tui.BuildRequest{Lens: id})
	if err != nil {
		t.Fatal(err)
	}
	kept := be.opened
	var q string
	for i := 0; i < all.Tree.Len() && q == ""; i++ {
		if is := all.Issue(i); is != nil {
			q = "key = " + is.Key
		}
	}
	if _, err := be.Build(done, tui.BuildRequest{Lens: id, Filter: q}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopped filter build: %v, want context.Canceled", err)
	}
	if be.opened != kept {
		t.Fatal("a stopped filter build replaced the kept build")
	}
	some, err := be.Build(ctx, tui.BuildRequest{Lens: id, Filter: q})
	if err != nil || some.Tree.Len() == 0 || some.Tree.Len() >= all.Tree.Len() {
		t.Fatalf("%s after: %v rows of %d", q, err, all.Tree.Len())
	}
}
