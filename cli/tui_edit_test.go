package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"foundation/config"
	"foundation/examples"
	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
	"foundation/tui"
)

// tuiEditSite is a fake Jira site, a cache file filled from it with the example Lenses, and
// the viewer (admin, who owns them).
type tuiEditSite struct {
	// writeDelay, when set, delays each write (PUT, POST but searches) the site gets: a
	// slow Jira.
	writeDelay atomic.Int64
	// failAfterPut, when set, refuses every request after the next PUT (400): a
	// read-back that cannot be made.
	failAfterPut, failing atomic.Bool
	site                  *jiratest.Site
	client                *jira.Client
	path                  string
	prof                  *config.Site
	viewer                refresh.Viewer
}

func newTUIEditSite(t *testing.T, dialect string) *tuiEditSite {
	t.Helper()
	ctx := context.Background()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: 300, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	es := &tuiEditSite{site: site, path: filepath.Join(t.TempDir(), "c.db")}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := es.writeDelay.Load(); d > 0 && (r.Method == http.MethodPut || (r.Method == http.MethodPost && !strings.Contains(r.URL.Path, "search"))) {
			time.Sleep(time.Duration(d))
		}
		if es.failing.Load() {
			http.Error(w, `{"errorMessages":["read-back refused"]}`, http.StatusBadRequest) // not retried
			return
		}
		site.ServeHTTP(w, r)
		if r.Method == http.MethodPut && es.failAfterPut.Load() {
			es.failing.Store(true)
		}
	}))
	t.Cleanup(srv.Close)
	opt := jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1}
	if dialect == "datacenter" {
		opt.Email = "" // a personal access token alone
	}
	client, err := jira.New(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	es.client = client
	es.prof = config.NewSite("t")
	es.prof.URL, es.prof.Scope = srv.URL, "project in (ALPHA, BETA, GAMMA)"
	db := es.open(t)
	viewer, offline, err := resolveViewer(ctx, es.prof, client, db)
	if err != nil || offline {
		t.Fatalf("viewer: %v offline=%v", err, offline)
	}
	es.viewer = viewer
	sb, err := newSiteBackend(es.prof, db, client, viewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Refresh(ctx); err != nil { // the field catalog the Lenses name comes with it
		t.Fatal(err)
	}
	files, err := examples.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := refresh.ApplyLens(ctx, db, f.Name, f.Data, viewer, 0); err != nil {
			t.Fatalf("apply %s: %v", f.Name, err)
		}
	}
	return es
}

// open opens the cache file: each call is another connection, as another process would.
func (es *tuiEditSite) open(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), es.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// backend is an editing backend on its own connection to the cache, refreshed once.
func (es *tuiEditSite) backend(t *testing.T) *editingBackend {
	t.Helper()
	sb, err := newSiteBackend(es.prof, es.open(t), es.client, es.viewer)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newEditingBackend(sb)
}

// tuiRoadmapRows builds the Roadmap and returns its id with an epic and two of its children.
func tuiRoadmapRows(t *testing.T, be *editingBackend) (id string, epic, other *lens.Issue, kids []*lens.Issue) {
	t.Helper()
	ctx := context.Background()
	infos, err := be.Lenses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if in.Name == "Roadmap" {
			id = in.ID
		}
	}
	built, err := be.Build(ctx, tui.BuildRequest{Lens: id})
	if err != nil {
		t.Fatal(err)
	}
	tr := built.Tree
	for i := 0; i < tr.Len(); i++ {
		is := built.Issue(i)
		if is == nil || tr.Depth(i) != 0 {
			continue
		}
		var under []*lens.Issue
		for j := i + 1; j < tr.End(i); j = tr.End(j) {
			if k := built.Issue(j); k != nil && !k.Subtask {
				under = append(under, k)
			}
		}
		switch {
		case epic == nil && len(under) >= 3:
			epic, kids = is, under
		case epic != nil && other == nil:
			other = is
		}
	}
	if epic == nil || other == nil {
		t.Fatal("the Roadmap has no epic with three children and another epic")
	}
	return id, epic, other, kids
}

func TestEditingBackendWritesThroughJira(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) { testEditingBackend(t, dialect) })
	}
}

func testEditingBackend(t *testing.T, dialect string) {
	ctx := context.Background()
	es := newTUIEditSite(t, dialect)
	be := es.backend(t)
	lensID, epic, other, kids := tuiRoadmapRows(t, be)
	story := kids[0]

	fe, err := be.EditMeta(ctx, lensID, story.Key, "summary")
	if err != nil || fe.Kind != tui.KindText || fe.Current != story.Summary {
		t.Fatalf("summary meta %+v %v", fe, err)
	}
	// A transition whose screen requires a field: refused without it, taken with it.
	// (Walk the issue along its workflow until Done, which has such a screen, is offered.)
	var target string
	var st tui.FieldEdit
	moving := kids[1]
	for range 4 {
		if st, err = be.EditMeta(ctx, lensID, moving.Key, "status"); err != nil || st.Kind != tui.KindStatus || len(st.Allowed) == 0 {
			t.Fatalf("status meta %+v %v", st, err)
		}
		for _, to := range st.Allowed {
			if len(st.Screens[to]) > 0 {
				target = to
			}
		}
		if target != "" {
			break
		}
		if _, err := be.Set(ctx, moving.Key, "status", st.Allowed[0], tui.SetOptions{}); err != nil {
			t.Fatalf("status %s of %s: %v", st.Allowed[0], moving.Key, err)
		}
	}
	if target == "" {
		t.Fatalf("no transition of %s asks for a field", moving.Key)
	}
	sf := st.Screens[target][0]
	if len(sf.Allowed) == 0 {
		t.Fatalf("screen field %+v offers no values", sf)
	}
	_, err = be.Set(ctx, moving.Key, "status", target, tui.SetOptions{})
	var missing *tui.FieldError
	if !errors.As(err, &missing) || len(missing.Missing) == 0 {
		t.Fatalf("transition to %s without %s: %v, want the missing field named", target, sf.Name, err)
	}
	// A bulk status change takes the screen's values too (it used to drop them).
	if br, err := be.Bulk(ctx, []string{moving.Key}, "status", target, tui.SetOptions{Screen: map[string]string{sf.Field: sf.Allowed[0]}}, nil); err != nil || len(br.Failed) != 0 || len(br.Changed) != 1 || br.Changed[0].New != target {
		t.Fatalf("bulk transition to %s with %s=%s: %+v %v", target, sf.Name, sf.Allowed[0], br, err)
	}
	if fe, err := be.EditMeta(ctx, lensID, story.Key, "assignee"); err != nil || fe.Kind != tui.KindUser {
		t.Fatalf("assignee meta %+v %v", fe, err)
	}
	users, err := be.Suggest(ctx, story.Key, "assignee", "")
	if err != nil || len(users) == 0 {
		t.Fatalf("assignable users %v %v", users, err)
	}
	if ps, err := be.Suggest(ctx, story.Key, "parent", epic.Key); err != nil || len(ps) == 0 || ps[0].Value != epic.Key {
		t.Fatalf("parent suggestions %v %v", ps, err)
	}

	stepsBefore, _ := be.hist.Len()
	// A plain edit, then one from a stale base: someone changed the summary in Jira since.
	res, err := be.Set(ctx, story.Key, "summary", "Written from the TUI", tui.SetOptions{Base: story.Updated})
	if err != nil || res.New != "Written from the TUI" || res.Old != story.Summary {
		t.Fatalf("set %+v %v", res, err)
	}
	cached, err := be.db.Issue(ctx, story.Key)
	if err != nil || cached.Summary != "Written from the TUI" {
		t.Fatalf("cache has %q %v", cached.Summary, err)
	}
	if err := es.site.Update(story.Key, map[string]any{"summary": "Someone else's"}); err != nil {
		t.Fatal(err)
	}
	_, err = be.Set(ctx, story.Key, "summary", "Mine", tui.SetOptions{Base: cached.Updated})
	var ce *tui.ConflictError
	if !errors.As(err, &ce) || ce.Theirs != "Someone else's" || ce.Mine != "Mine" {
		t.Fatalf("stale base: %v, want a conflict with both values", err)
	}
	if _, err := be.Set(ctx, story.Key, "summary", "Mine", tui.SetOptions{Base: cached.Updated, Overwrite: true}); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	_, err = be.Set(ctx, story.Key, "story points", "lots", tui.SetOptions{})
	var fe2 *tui.FieldError
	if !errors.As(err, &fe2) || !strings.Contains(fe2.Message, "not a number") {
		t.Fatalf("bad number: %v, want a field error", err)
	}

	// Undo restores what the overwrite replaced; the first edit's undo would then lose the
	// site's change, so it is refused as a conflict and stays undoable.
	if _, err := be.Undo(ctx, tui.SetOptions{}); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if is, _ := be.db.Issue(ctx, story.Key); is.Summary != "Someone else's" {
		t.Fatalf("after undo summary %q, want the site's value back", is.Summary)
	}
	var rc *tui.ConflictError // the TUI's, so it gets the conflict dialog
	if _, err := be.Undo(ctx, tui.SetOptions{}); !errors.As(err, &rc) || rc.Theirs != "Someone else's" {
		t.Fatalf("second undo: %v, want a conflict", err)
	}
	if u, _ := be.hist.Len(); u != stepsBefore+1 {
		t.Fatalf("%d undoable steps after a refused undo, want %d", u, stepsBefore+1)
	}
	// The refused step is on top; dropping it (keep theirs) makes the older ones reachable.
	if s := be.Step(ctx, false); len(s) != 1 || s[0].Key != story.Key || s[0].Name != "Summary" {
		t.Fatalf("step on top %+v, want the refused summary edit (named)", s)
	}
	if s, err := be.Drop(ctx, false); err != nil || len(s) != 1 {
		t.Fatalf("drop %+v %v", s, err)
	}
	if u, _ := be.hist.Len(); u != stepsBefore {
		t.Fatalf("%d undoable steps after dropping the refused one, want %d", u, stepsBefore)
	}

	// Bulk with a failure: an issue that does not exist.
	keys := []string{kids[1].Key, kids[2].Key, "ALPHA-99999"}
	var calls atomic.Int32 // progress comes from the Writer's goroutines
	br, err := be.Bulk(ctx, keys, "labels", "+bulked", tui.SetOptions{}, func(done, total int) { calls.Add(1) })
	if err != nil || len(br.Changed) != 2 || len(br.Failed) != 1 || br.Failed[0].Key != "ALPHA-99999" || calls.Load() != 3 {
		t.Fatalf("bulk %+v %v (%d progress calls)", br, err, calls.Load())
	}
	for _, r := range br.Changed {
		if r.Delta != "+bulked" {
			t.Errorf("bulk result %+v: want the delta +bulked, what the undo message names", r)
		}
	}
	if _, err := be.Undo(ctx, tui.SetOptions{}); err != nil {
		t.Fatalf("undo bulk: %v", err)
	}
	for _, k := range keys[:2] {
		if is, _ := be.db.Issue(ctx, k); strings.Contains(strings.Join(is.Labels, ","), "bulked") {
			t.Fatalf("%s keeps the bulk label after one undo: %v", k, is.Labels)
		}
	}

	// A move under another epic rewrites parent; the Roadmap rebuilt shows it there.
	req := tui.MoveRequest{Lens: lensID, Key: story.Key, From: tui.RowRef{Key: epic.Key}, To: tui.RowRef{Key: other.Key}}
	plan, err := be.PlanMove(ctx, req)
	if err != nil || plan.By != "parent" || plan.Warning != "" {
		t.Fatalf("plan %+v %v", plan, err)
	}
	if _, err := be.Move(ctx, req); err != nil {
		t.Fatalf("move: %v", err)
	}
	if is, _ := be.db.Issue(ctx, story.Key); is.Parent != other.Key && is.EpicLink != other.Key {
		t.Fatalf("parent %q, epic link %q after the move, want %s", is.Parent, is.EpicLink, other.Key)
	}
	// Moving an epic under another: the insert JQL keeps it at the top as well.
	if plan, err := be.PlanMove(ctx, tui.MoveRequest{Lens: lensID, Key: other.Key, To: tui.RowRef{Key: epic.Key}}); err != nil || plan.Warning == "" {
		t.Fatalf("plan for an epic %+v %v, want a warning", plan, err)
	}
}

func TestEditingBackendRefusesWithoutEditLevel(t *testing.T) {
	ctx := context.Background()
	es := newTUIEditSite(t, "cloud")
	be := es.backend(t)
	lensID, _, _, kids := tuiRoadmapRows(t, be)
	be.viewer.Viewer = lens.Viewer{User: "61a0000000000000000000ff"} // view through "anyone", no edit
	be.viewer.Aliases = nil
	be.viewer.DisplayName = "Someone Else"
	_, err := be.EditMeta(ctx, lensID, kids[0].Key, "summary")
	if err == nil || !strings.Contains(err.Error(), "needs edit") {
		t.Fatalf("EditMeta without edit level: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "Someone Else may not") || strings.Contains(msg, "61a0") {
		t.Fatalf("refusal %q: want the viewer by name, not account id", msg)
	}
	// Moves and cuts are refused the same way, naming what was asked.
	move := strings.Replace(msg, "may not edit cells of it", "may not move rows of it", 1)
	if _, err := be.PlanMove(ctx, tui.MoveRequest{Lens: lensID, Key: kids[0].Key}); err == nil || err.Error() != move {
		t.Fatalf("PlanMove without edit level: %v, want %q", err, move)
	}
	if err := be.CheckEdit(ctx, lensID); err == nil || err.Error() != move {
		t.Fatalf("CheckEdit without edit level: %v, want %q", err, move)
	}
}

// tuiDriver runs a tui.App headlessly: commands run until none is left, timers are parked
// until fire.
type tuiDriver struct {
	t      *testing.T
	app    *tui.App
	queue  []tea.Cmd
	timers []func(time.Time) tea.Msg
}

func newTUIDriver(t *testing.T, be tui.Backend, lensID string) *tuiDriver {
	t.Helper()
	d := &tuiDriver{t: t}
	app, err := tui.New(context.Background(), tui.Options{Backend: be, Lens: lensID, NoColor: true,
		Tick: func(_ time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
			return func() tea.Msg { d.timers = append(d.timers, fn); return nil }
		},
		OpenURL: func(string) error { return nil }, Copy: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	d.app = app
	d.send(tea.WindowSizeMsg{Width: 160, Height: 50})
	d.run(app.Init())
	return d
}

func (d *tuiDriver) run(c tea.Cmd) {
	d.queue = append(d.queue, c)
	for n := 0; len(d.queue) > 0; n++ {
		if n > 10000 {
			d.t.Fatal("app never went idle")
		}
		c := d.queue[0]
		d.queue = d.queue[1:]
		if c == nil {
			continue
		}
		switch m := c().(type) {
		case nil:
		case tea.BatchMsg:
			d.queue = append(d.queue, m...)
		default:
			_, next := d.app.Update(m)
			d.queue = append(d.queue, next)
		}
	}
}

func (d *tuiDriver) send(m tea.Msg) { d.run(func() tea.Msg { return m }) }

func (d *tuiDriver) key(k tea.KeyPressMsg) { d.send(k) }

func (d *tuiDriver) typeText(s string) {
	for _, r := range s {
		d.key(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func (d *tuiDriver) fire() {
	ts := d.timers
	d.timers = nil
	for _, fn := range ts {
		d.send(fn(time.Now()))
	}
}

func (d *tuiDriver) screen() string { return ansi.Strip(d.app.Render()) }

var (
	tuiKeyEnter = tea.KeyPressMsg{Code: tea.KeyEnter}
	tuiKeyTab   = tea.KeyPressMsg{Code: tea.KeyTab}
	tuiKeyCtrlU = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
)

// TestTwoTUIsSeeEachOthersEdits runs two TUIs on two connections to one cache file: an
// edit made in one reaches the other through the store's change feed, with no refresh
// from Jira.
func TestTwoTUIsSeeEachOthersEdits(t *testing.T) {
	es := newTUIEditSite(t, "cloud")
	be1, be2 := es.backend(t), es.backend(t)
	lensID, _, _, kids := tuiRoadmapRows(t, be1)
	story := kids[0].Key
	one, two := newTUIDriver(t, be1, lensID), newTUIDriver(t, be2, lensID)
	for _, d := range []*tuiDriver{one, two} {
		if !strings.Contains(d.screen(), "Roadmap") {
			t.Fatalf("the Roadmap did not open:\n%s", d.screen())
		}
		d.key(tea.KeyPressMsg{Code: ':', Text: ":"})
		d.typeText(story)
		d.key(tuiKeyEnter)
	}
	one.key(tuiKeyTab) // the column cursor to Summary
	one.key(tuiKeyEnter)
	if !strings.Contains(one.screen(), "edit Summary of "+story) {
		t.Fatalf("no editor:\n%s", one.screen())
	}
	one.key(tuiKeyCtrlU)
	one.typeText("Renamed in the first TUI")
	one.key(tuiKeyEnter)
	if !strings.Contains(one.screen(), "Renamed in the first TUI") {
		t.Fatalf("the editing TUI does not show its edit:\n%s", one.screen())
	}
	if strings.Contains(two.screen(), "Renamed in the first TUI") {
		t.Fatal("the second TUI saw the edit before polling")
	}
	two.fire() // the change feed poll
	if !strings.Contains(two.screen(), "Renamed in the first TUI") {
		t.Fatalf("the second TUI does not show the first one's edit after a poll:\n%s", two.screen())
	}
}

// A bulk edit writes nothing to the issues that already have the value: no request, no
// audit entry, no undo step (it used to write "(none) → (none)" and audit it).
// A write whose read-back fails is made: the TUI keeps the new value with a note instead of
// rolling the cell back, and the step can be undone.
func TestEditingBackendWrittenButNotReadBack(t *testing.T) {
	ctx := context.Background()
	es := newTUIEditSite(t, "cloud")
	be := es.backend(t)
	_, _, _, kids := tuiRoadmapRows(t, be)
	k := kids[0]
	es.failAfterPut.Store(true)
	res, err := be.Set(ctx, k.Key, "summary", "written, not read back", tui.SetOptions{})
	es.failAfterPut.Store(false)
	es.failing.Store(false)
	if err != nil {
		t.Fatalf("a write Jira took is reported as failed: %v", err)
	}
	if res.New != "written, not read back" || !strings.Contains(res.Note, "reading it back failed") {
		t.Errorf("result %+v", res)
	}
	if is, _ := es.site.Issue(k.Key); is.Summary != "written, not read back" {
		t.Errorf("Jira has %q", is.Summary)
	}
	if u, _ := be.hist.Len(); u != 1 {
		t.Errorf("%d undo steps, want the write's", u)
	}
}

func TestEditingBackendBulkSkipsUnchanged(t *testing.T) {
	ctx := context.Background()
	es := newTUIEditSite(t, "cloud")
	be := es.backend(t)
	_, _, _, kids := tuiRoadmapRows(t, be)
	k := kids[0]
	value := strings.Join(k.Labels, ",")
	if value == "" {
		value = "none"
	}
	br, err := be.Bulk(ctx, []string{k.Key}, "labels", value, tui.SetOptions{}, nil)
	if err != nil || len(br.Failed) != 0 || len(br.Changed) != 1 || !br.Changed[0].Unchanged {
		t.Fatalf("bulk of the labels %s already has: %+v %v", k.Key, br, err)
	}
	if u, _ := be.hist.Len(); u != 0 {
		t.Fatalf("%d undo steps after a bulk edit that changed nothing", u)
	}
	log, err := be.db.AuditLog(ctx, store.AuditFilter{Target: k.Key, Action: refresh.AuditActionEdit})
	if err != nil || len(log) != 0 {
		t.Fatalf("audit of a bulk edit that changed nothing: %+v %v", log, err)
	}
}

// Undoing a status change whose transition back needs screen fields: refused with the
// fields named, then taken with them (the TUI asks for them in between).
func TestEditingBackendUndoTransitionWithScreen(t *testing.T) {
	ctx := context.Background()
	es := newTUIEditSite(t, "cloud")
	be := es.backend(t)
	lensID, _, _, _ := tuiRoadmapRows(t, be)
	// A bug that is Done: Reopen takes it to Triage; the way back, Reject, needs a
	// Resolution.
	all, err := be.db.Issues(ctx, store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, target := "", "Done"
	for _, is := range all {
		if is.Type == "Bug" && is.Status == target {
			key = is.Key
			break
		}
	}
	if key == "" {
		t.Fatal("no bug is Done")
	}
	if _, err := be.Set(ctx, key, "status", "Triage", tui.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = be.Undo(ctx, tui.SetOptions{})
	var fe *tui.FieldError
	if !errors.As(err, &fe) || len(fe.Missing) == 0 {
		t.Fatalf("undo of %s → Triage: %v, want the Resolution named as missing", key, err)
	}
	top := be.Step(ctx, false)
	if len(top) != 1 || top[0].Old != target {
		t.Fatalf("step on top %+v, want the change away from %s", top, target)
	}
	back, err := be.EditMeta(ctx, lensID, key, top[0].Field)
	if err != nil || len(back.Screens[target]) == 0 {
		t.Fatalf("the screen of the way back: %+v %v", back, err)
	}
	f := back.Screens[target][0]
	rs, err := be.Undo(ctx, tui.SetOptions{Screen: map[string]string{f.Field: f.Allowed[0]}})
	if err != nil || len(rs) != 1 {
		t.Fatalf("undo with the screen: %+v %v", rs, err)
	}
	if is, _ := be.db.Issue(ctx, key); is.Status != target {
		t.Fatalf("status %q after the undo, want %s", is.Status, target)
	}
}

// An edit still in flight when the TUI closes is waited for: what Jira took reaches the
// cache and the audit log before the process ends.
func TestFinishWritesWaitsForEditsInFlight(t *testing.T) {
	ctx := context.Background()
	es := newTUIEditSite(t, "cloud")
	be := es.backend(t)
	_, _, _, kids := tuiRoadmapRows(t, be)
	key := kids[0].Key
	es.writeDelay.Store(int64(400 * time.Millisecond))
	done := make(chan error, 1)
	go func() {
		_, err := be.Set(ctx, key, "summary", "Landed after the TUI closed", tui.SetOptions{})
		done <- err
	}()
	for be.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	var stderr bytes.Buffer
	finishWrites(ctx, be, &stderr, 10*time.Second)
	if !strings.Contains(stderr.String(), "waiting for 1 edit in flight") {
		t.Fatalf("stderr %q", stderr.String())
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("finishWrites returned before the edit landed")
	}
	log, err := be.db.AuditLog(ctx, store.AuditFilter{Target: key, Action: refresh.AuditActionEdit})
	if err != nil || len(log) != 1 || log[0].Outcome != "ok" {
		t.Fatalf("audit %+v %v", log, err)
	}
	if is, _ := be.db.Issue(ctx, key); is.Summary != "Landed after the TUI closed" {
		t.Fatalf("cache has %q", is.Summary)
	}
	// Nothing in flight: no wait, nothing said.
	stderr.Reset()
	finishWrites(ctx, be, &stderr, time.Second)
	if stderr.Len() != 0 {
		t.Fatalf("stderr %q with nothing in flight", stderr.String())
	}
}

// The parent picker suggests only parents Jira takes: epics for a story, standard issues
// of the project for a sub-task. It used to offer stories as parents of a story, which
// Jira always refuses.
func TestEditingBackendSuggestsValidParents(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			es := newTUIEditSite(t, dialect)
			be := es.backend(t)
			lensID, _, _, kids := tuiRoadmapRows(t, be)
			built, err := be.Build(ctx, tui.BuildRequest{Lens: lensID})
			if err != nil {
				t.Fatal(err)
			}
			var sub *lens.Issue
			for i := 0; i < built.Tree.Len() && sub == nil; i++ {
				if is := built.Issue(i); is != nil && is.Subtask {
					sub = is
				}
			}
			if sub == nil {
				t.Fatal("the Roadmap shows no sub-task")
			}
			field := "parent"
			if dialect == "datacenter" {
				field = "epic link" // a story's epic there; a sub-task's parent is parent
			}
			for _, c := range []struct {
				child  *lens.Issue
				field  string
				wantOK func(p lens.Issue) bool
			}{
				{kids[0], field, func(p lens.Issue) bool { return p.Type == "Epic" }},
				{sub, "parent", func(p lens.Issue) bool { return p.Type != "Epic" && !p.Subtask && p.Project == sub.Project }},
			} {
				got, err := be.Suggest(ctx, c.child.Key, c.field, "")
				if err != nil || len(got) == 0 {
					t.Fatalf("%s of %s: %v %v", c.field, c.child.Key, got, err)
				}
				for _, s := range got {
					p, err := be.db.Issue(ctx, s.Value)
					if err != nil || !c.wantOK(p) {
						t.Errorf("%s of %s (%s) suggests %s (%s) %v: Jira refuses it", c.field, c.child.Key, c.child.Type, s.Value, p.Type, err)
					}
				}
			}
		})
	}
}

// Priority is never offered (none): Jira refuses to clear it although editmeta says it is
// not required, so the editor used to offer a choice that always failed.
func TestEditingBackendPriorityIsNotClearable(t *testing.T) {
	ctx := context.Background()
	es := newTUIEditSite(t, "cloud")
	be := es.backend(t)
	lensID, _, _, kids := tuiRoadmapRows(t, be)
	fe, err := be.EditMeta(ctx, lensID, kids[0].Key, "priority")
	if err != nil || fe.Kind != tui.KindSelect || !fe.Required {
		t.Fatalf("priority meta %+v %v, want a select that cannot be cleared", fe, err)
	}
	var fieldErr *tui.FieldError
	if _, err := be.Set(ctx, kids[0].Key, "priority", "none", tui.SetOptions{}); !errors.As(err, &fieldErr) {
		t.Fatalf("clearing priority: %v, want Jira's refusal (else (none) could be offered)", err)
	}
}
