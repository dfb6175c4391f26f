package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"foundation/config"
	"foundation/jira"
	"foundation/jql"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
	"foundation/tui"
)

// siteBackend is the TUI's view of one profile: its cache, its Jira client and the viewer.
// Lenses open from the cache at once; Jira is only needed for a refresh.
type siteBackend struct {
	site   *config.Site
	db     *store.DB
	client *jira.Client
	eng    *refresh.Engine
	viewer refresh.Viewer

	mu sync.Mutex
	// opened is the last build (of the Lens and view on screen), caught up incrementally by
	// the next; openedKey names it. Only that one is kept: builds of views and Lenses left
	// behind would hold a snapshot each, and their grants would expire unwatched.
	opened    *refresh.Opened
	openedKey string
	sizes     map[string]int
	offline   bool
	lastErr   string
	errAt     time.Time // when lastErr was set: a refresh recorded after it supersedes it
	busy      bool

	checking  bool            // a background grants check is running
	checked   *refresh.Opened // the build whose expired grants the last check was for
	nextCheck time.Time       // no background grants check before this (after a failure)

	// jiraFilters keeps Jira's answers to the filters it was asked (BuildRequest.FilterByJira)
	// by filter text: rebuilds reuse them instead of asking again until a refresh makes them
	// stale (see jiraFilter).
	jiraFilters map[string]*jiraAnswer

	// viewerGen counts the viewers this backend has had: a build started for one is not
	// kept once another has taken its place (setViewer).
	viewerGen int
}

// jiraAnswer is the keys Jira returned for a filter; stale after a refresh.
type jiraAnswer struct {
	keys  map[string]bool
	stale bool
}

func newSiteBackend(site *config.Site, db *store.DB, client *jira.Client, viewer refresh.Viewer) (*siteBackend, error) {
	eng, err := refresh.New(client, db, refresh.Options{Site: site.Name, Scope: site.Scope})
	if err != nil {
		return nil, err
	}
	return &siteBackend{site: site, db: db, client: client, eng: eng, viewer: viewer,
		sizes: map[string]int{}}, nil
}

func (b *siteBackend) Lenses(ctx context.Context) ([]tui.LensInfo, error) {
	stored, err := b.db.Lenses(ctx)
	if err != nil {
		return nil, err
	}
	last, err := b.lastRefresh(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	sizes := maps.Clone(b.sizes)
	b.mu.Unlock()
	// Owners are stored as the ACL names them (an account id after a transfer in the TUI,
	// often an email in a file): the list shows the person's name when the cache knows it.
	names := map[string]string{}
	if users, err := b.db.Users(ctx); err == nil {
		for _, u := range users {
			if u.DisplayName == "" {
				continue
			}
			names[strings.ToLower(u.ID)] = u.DisplayName
			if u.Email != "" {
				names[strings.ToLower(u.Email)] = u.DisplayName
			}
		}
	}
	var out []tui.LensInfo
	for _, l := range stored {
		def, err := lens.Parse(l.Name, []byte(l.YAML))
		if err != nil {
			continue // a stored Lens that no longer parses cannot be opened; lens show says why
		}
		if refresh.AccessOf(def, b.who()).Level < lens.LevelView {
			continue
		}
		size, ok := sizes[l.Name]
		if !ok {
			size = b.storedSize(ctx, l.Name)
		}
		owner := l.Owner
		if n, ok := names[strings.ToLower(strings.TrimPrefix(owner, "user:"))]; ok {
			owner = n
		}
		out = append(out, tui.LensInfo{ID: l.Name, Name: def.Name, Description: def.Description,
			Owner: owner, Size: size, LastRefresh: last})
	}
	return out, nil
}

func (b *siteBackend) Build(ctx context.Context, req tui.BuildRequest) (*tui.Built, error) {
	o, err := b.open(ctx, req)
	var denied *refresh.AccessError
	if errors.As(err, &denied) {
		return nil, fmt.Errorf("%w: %v", tui.ErrNoAccess, err)
	}
	if err != nil {
		return nil, err
	}
	var built *tui.Built
	if req.FilterByJira && strings.TrimSpace(req.Filter) != "" {
		keys, err := b.jiraFilter(ctx, req.Filter)
		if err != nil {
			return nil, err
		}
		built, err = tui.NewBuiltMatching(o.Forest, req.View, func(is *lens.Issue) bool { return keys[is.Key] })
		if err != nil {
			return nil, err
		}
	} else {
		// The cached field catalog is Jira's full field list: a field the site does not
		// have is refused as Jira, export and lens apply refuse it, instead of matching
		// nothing or being sent to Jira to be refused.
		env := jql.Env{Now: time.Now(), CurrentUser: b.who().User, HasField: lens.NewCatalog(o.Data.Fields).JQLHasField()}
		if built, err = tui.NewBuiltContext(ctx, o.Forest, req.View, req.Filter, env); err != nil {
			return nil, err
		}
	}
	// The cache holds the links every profile of the site was shown: the pane lists those
	// whose both ends this viewer may see, and no parent it may not.
	links := map[string][]lens.Link{}
	for _, l := range o.Data.Links {
		if !o.Sees(l.From) || !o.Sees(l.To) {
			continue
		}
		links[l.From] = append(links[l.From], l)
		links[l.To] = append(links[l.To], l)
	}
	users := o.Data.Users
	built.Links = func(key string) []lens.Link { return links[key] }
	built.Text = func(raw []byte) string { return jira.ADFText(raw) }
	built.UserName = func(id string) string {
		if n, ok := users[id]; ok {
			return n
		}
		return id
	}
	built.Fields = o.Data.Fields
	// The pane's full copy of an issue is read from the cache: it shows what the rows show.
	detail := b.detail()
	built.Detail = func(key string) *lens.Issue { return o.Redact(detail(key)) }
	built.Sees = o.Sees
	built.Notes = append(append([]string(nil), o.Notes...), built.Notes...)
	b.mu.Lock()
	prev, known := b.sizes[req.Lens]
	b.sizes[req.Lens] = len(o.Forest.Rows)
	b.mu.Unlock()
	if !known || prev != len(o.Forest.Rows) {
		// The home screen's preview of this Lens next time, before it is built.
		if err := b.db.PutPref(ctx, b.prefOwner(), sizePref+req.Lens, []byte(strconv.Itoa(len(o.Forest.Rows)))); err != nil {
			return nil, err
		}
	}
	return built, nil
}

// jiraFilter is Jira's answer to a filter local evaluation cannot give: the keys of the
// issues it selects within the profile's scope, as the viewer may browse them. Rows are
// still only those the Lens shows the viewer, so when Jira cannot be asked again after a
// refresh the last answer stands in: membership may lag, but who sees what is the build's
// own, fresh, decision, and the screen never keeps rows a failed rebuild would have hidden.
func (b *siteBackend) jiraFilter(ctx context.Context, q string) (map[string]bool, error) {
	b.mu.Lock()
	last := b.jiraFilters[q]
	b.mu.Unlock()
	if last != nil && !last.stale {
		return last.keys, nil
	}
	var list []string
	err := errors.New("the filter needs Jira, and this profile has no connection to it")
	if b.client != nil {
		list, err = refresh.JiraMembers(ctx, b.client, b.site.Scope, q)
	}
	switch {
	case err != nil && last != nil:
		return last.keys, nil
	case err != nil:
		return nil, fmt.Errorf("Jira could not answer it: %w", err)
	}
	keys := make(map[string]bool, len(list))
	for _, k := range list {
		keys[k] = true
	}
	b.mu.Lock()
	if b.jiraFilters == nil {
		b.jiraFilters = map[string]*jiraAnswer{}
	}
	b.jiraFilters[q] = &jiraAnswer{keys: keys}
	b.mu.Unlock()
	return keys, nil
}

const sizePref = "tui.size/"

// storedSize is the row count of the viewer's last build of a Lens, -1 when unknown.
func (b *siteBackend) storedSize(ctx context.Context, name string) int {
	raw, ok, err := b.db.Pref(ctx, b.prefOwner(), sizePref+name)
	if err != nil || !ok {
		return -1
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return -1
	}
	return n
}

// detail reads an issue with its raw fields from the cache, for the detail pane, keeping the
// last few hundred. The pane only asks for the issue of a row it shows, so only issues the
// viewer may browse are read.
func (b *siteBackend) detail() func(key string) *lens.Issue {
	var mu sync.Mutex
	kept := map[string]*lens.Issue{}
	return func(key string) *lens.Issue {
		mu.Lock()
		defer mu.Unlock()
		if is, ok := kept[key]; ok {
			return is
		}
		is, err := b.db.Issue(context.Background(), key)
		if err != nil {
			return nil
		}
		if len(kept) > 256 {
			clear(kept)
		}
		kept[key] = &is
		return &is
	}
}

// open builds the Lens, reusing the last build of the same Lens and view when the change
// feed says only some issues changed since. A build is only ever reused, and only kept,
// for the viewer it was made for: when Refresh finds someone else (setViewer), the build
// under way is made again for the new viewer.
func (b *siteBackend) open(ctx context.Context, req tui.BuildRequest) (*refresh.Opened, error) {
	key := req.Lens + "\x00" + req.View + "\x00" + fmt.Sprint(req.Extra)
	// A filter on a field kept only in the raw issue data (a custom field, fix versions)
	// needs that data read, whatever the Lens's columns need; a build made without it is
	// not reused for such a filter.
	withRaw := !req.FilterByJira && filterNeedsRaw(req.Filter)
	for attempt := 0; ; attempt++ {
		b.mu.Lock()
		var prev *refresh.Opened
		if b.openedKey == key && (!withRaw || b.opened.ReadsRaw()) {
			prev = b.opened
		}
		gen, who := b.viewerGen, b.viewer
		b.mu.Unlock()
		var o *refresh.Opened
		var err error
		if prev != nil {
			o, err = prev.Update(ctx, b.db)
		} else {
			opt := refresh.OpenOptions{View: req.View, WithRaw: withRaw}
			if len(req.Extra) > 0 {
				opt.Adjust = func(d *lens.Definition) (*lens.Definition, error) { return tui.WithColumns(d, req.View, req.Extra) }
			}
			o, err = refresh.OpenLens(ctx, b.db, req.Lens, who, opt)
		}
		b.mu.Lock()
		if b.viewerGen != gen {
			// The viewer changed while building: this build is someone else's view.
			b.mu.Unlock()
			if attempt < 3 {
				continue
			}
			return nil, errors.New("who the viewer is keeps changing; the Lens was not built")
		}
		if err == nil {
			b.opened, b.openedKey = o, key
		}
		b.mu.Unlock()
		return o, err
	}
}

// filterNeedsRaw reports whether the f filter q reads raw field JSON. A filter that does
// not parse needs nothing: the build that follows reports its error.
func filterNeedsRaw(q string) bool {
	if strings.TrimSpace(q) == "" {
		return false
	}
	parsed, err := jql.Parse(q)
	return err == nil && lens.QueryNeedsRaw(parsed)
}

// setViewer makes v the viewer (Refresh asked Jira again). When v is not the viewer that
// everything kept was computed for (another identity, other groups or roles), all of it
// goes: the kept build, Jira's filter answers, the row counts and the background grants
// check's bookkeeping; the next Build starts afresh for v. RememberViewer has put an
// entry on the change feed when the identity or groups changed, so the screen rebuilds.
func (b *siteBackend) setViewer(v refresh.Viewer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	same := reflect.DeepEqual(b.viewer, v)
	b.viewer = v
	if same {
		return
	}
	b.viewerGen++
	b.opened, b.openedKey = nil, ""
	b.jiraFilters = nil
	b.sizes = map[string]int{}
	b.checked, b.nextCheck = nil, time.Time{}
}

// ACL gives the TUI's ACL editor its backend (cli/tuiacl.go).
func (b *siteBackend) ACL() tui.ACLBackend { return newACLService(b.db, b.client, b.who()) }

// Refresh applies journaled webhooks, then polls (or syncs) Jira. A network failure marks
// the backend offline: the screen keeps showing the cache and says so.
func (b *siteBackend) Refresh(ctx context.Context) error {
	b.mu.Lock()
	b.busy = true
	b.mu.Unlock()
	// Ask Jira who the viewer is again: groups change, and the TUI may have started from
	// the cache's memory of the viewer. When Jira cannot be reached (refused, or silent
	// until the client's time limit ran out), nothing else is asked: every step would wait
	// out the same limits and retries, and the screen would say "refreshing…" for minutes
	// before it says OFFLINE.
	v, err := refresh.ResolveViewer(ctx, b.client, b.db, b.site.Name)
	unreachable := isNetworkError(err)
	switch {
	case err == nil:
		b.setViewer(v)
	case !unreachable:
		err = nil // Jira answered: the sync below says what is wrong, if anything
	}
	if err == nil {
		_, err = b.eng.ReplayJournal(ctx)
	}
	if err == nil {
		_, err = b.eng.Auto(ctx)
	}
	if err == nil {
		// A query Jira refuses is noted on its Lens, not an error of the refresh.
		_, err = refresh.FetchRemoteMembers(ctx, b.client, b.db, b.site.Scope, b.who())
	}
	// Who sees what is rechecked with every refresh, also when the sync failed: a
	// permission lost in Jira hides its rows at once, and a check that cannot reach Jira
	// records why, so rows whose grants expired are hidden (fail closed) and say so.
	var cerr error
	if unreachable {
		cerr = refresh.GrantsUnchecked(ctx, b.db, b.who(), err)
	} else {
		_, cerr = refresh.CheckGrants(ctx, b.client, b.db, b.who(), b.site.PermissionTTL)
	}
	if err == nil {
		err = cerr
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.busy = false
	if err == nil {
		for _, a := range b.jiraFilters {
			a.stale = true // asked again at the next build, to be as fresh as the cache
		}
	}
	b.offline = isNetworkError(err)
	b.lastErr = ""
	if err != nil {
		b.lastErr, b.errAt = err.Error(), time.Now()
	}
	return err
}

// LastChange is polled every ~500ms by the TUI. It also notices when the grants an open
// Lens was built with have expired and rechecks them in the background: the check's
// outcome reaches the change feed either way, so the Lens rebuilds with fresh grants, or
// hides the rows it can no longer verify.
func (b *siteBackend) LastChange(ctx context.Context) (int64, error) {
	b.recheckExpiredGrants()
	return b.db.LastChange(ctx)
}

// grantRetry is how long after a failed background grants check the next one may start.
const grantRetry = 30 * time.Second

// grantCheckLimit bounds a background grants check as a whole. The client's time limits
// end each request Jira does not answer, and this must outlast them (three attempts of
// jira.DefaultHeaderTimeout): cut shorter, a silent Jira would read as an interrupted
// check rather than as Jira not answering, and the screen would not say OFFLINE.
const grantCheckLimit = 5 * time.Minute

func (b *siteBackend) recheckExpiredGrants() {
	now := time.Now()
	b.mu.Lock()
	due := false
	if o := b.opened; o != nil {
		exp := o.Visibility.Expires
		due = !exp.IsZero() && !now.Before(exp)
	}
	// One check per build: the check's outcome reaches the change feed, and until the
	// rebuild that follows replaces b.opened its grants still look expired.
	if !due || b.checking || b.checked == b.opened || now.Before(b.nextCheck) {
		b.mu.Unlock()
		return
	}
	b.checking, b.checked = true, b.opened
	b.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), grantCheckLimit)
		defer cancel()
		_, err := refresh.CheckGrants(ctx, b.client, b.db, b.who(), b.site.PermissionTTL)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.checking = false
		if err != nil {
			b.nextCheck = time.Now().Add(grantRetry)
			b.offline = b.offline || isNetworkError(err)
			b.lastErr, b.errAt = err.Error(), time.Now()
		}
	}()
}

func (b *siteBackend) ChangedKeys(ctx context.Context, after int64) ([]string, int64, error) {
	changes, err := b.db.Changes(ctx, after, 2000)
	if err != nil {
		return nil, after, err
	}
	last := after
	seen := map[string]bool{}
	var keys []string
	for _, c := range changes {
		last = c.Seq
		if c.IssueKey != "" && !seen[c.IssueKey] {
			seen[c.IssueKey] = true
			keys = append(keys, c.IssueKey)
		}
	}
	return keys, last, nil
}

func (b *siteBackend) Status(ctx context.Context) (tui.Status, error) {
	last, err := b.lastRefresh(ctx)
	if err != nil {
		return tui.Status{}, err
	}
	js, err := b.db.JournalStats(ctx)
	if err != nil {
		return tui.Status{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lastErr != "" && last.After(b.errAt) {
		// A refresh of this scope since the error (another process's, or a profile's
		// sharing the cache) reached Jira: the error and OFFLINE no longer hold.
		b.offline, b.lastErr = false, ""
	}
	return tui.Status{Profile: b.site.Name, LastRefresh: last, Refreshing: b.busy,
		PendingWebhooks: int(js.Pending), Offline: b.offline, Err: b.lastErr}, nil
}

func (b *siteBackend) lastRefresh(ctx context.Context) (time.Time, error) {
	st, err := b.db.SyncState(ctx, b.site.Scope)
	if err != nil {
		return time.Time{}, err
	}
	last := st.LastFull
	for _, t := range []time.Time{st.LastPoll, st.LastReconcile} {
		if t.After(last) {
			last = t
		}
	}
	return last, nil
}

// Preferences are kept per viewer, so two people sharing a cache keep their own.
func (b *siteBackend) prefOwner() string { return "viewer:" + b.who().User }

// who is the viewer; a background refresh may replace it (groups change).
func (b *siteBackend) who() refresh.Viewer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.viewer
}

func (b *siteBackend) Pref(ctx context.Context, name string) ([]byte, error) {
	v, ok, err := b.db.Pref(ctx, b.prefOwner(), name)
	if err != nil || !ok {
		return nil, err
	}
	return v, nil
}

func (b *siteBackend) SetPref(ctx context.Context, name string, value []byte) error {
	return b.db.PutPref(ctx, b.prefOwner(), name, value)
}

// isNetworkError tells a Jira that cannot be reached from one that answered with an error.
func isNetworkError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return err != nil && (errors.As(err, &ne) || errors.As(err, &oe))
}

// tuiOptions are the settings of one TUI run.
type tuiOptions struct {
	lens    string
	noMouse bool
	// events, when set, receives the client's retry and rate-limit events; the client is
	// built before the backend that shows them, so they go through this relay.
	events *clientEvents
}

// clientEvents relays a Jira client's events to a receiver set later.
type clientEvents struct {
	mu sync.Mutex
	to func(jira.Event)
}

func (r *clientEvents) send(ev jira.Event) {
	r.mu.Lock()
	to := r.to
	r.mu.Unlock()
	if to != nil {
		to(ev)
	}
}

func (r *clientEvents) set(to func(jira.Event)) {
	r.mu.Lock()
	r.to = to
	r.mu.Unlock()
}

// option is the client option that feeds the relay.
func (r *clientEvents) option(o *jira.Options) { o.OnEvent = r.send }

// runTUI opens the TUI on a profile: the viewer is resolved with Jira when it answers and
// from the cache otherwise, so the TUI opens offline.
func runTUI(ctx context.Context, g *globals, cfg *config.Config, site *config.Site, client *jira.Client, db *store.DB, opt tuiOptions) error {
	viewer, offline, err := resolveViewer(ctx, site, client, db)
	if err != nil {
		return err
	}
	be, err := newSiteBackend(site, db, client, viewer)
	if err != nil {
		return err
	}
	be.offline = offline
	km := tui.DefaultKeymap()
	if err := km.Remap(cfg.Keys); err != nil {
		return usageError(fmt.Errorf("config keys: %w", err))
	}
	logger, closeLog, err := g.tuiLogger()
	if err != nil {
		return err
	}
	defer closeLog()
	noColor := g.noColor || tui.NoColorEnv(os.Getenv)
	eb := newEditingBackend(be)
	if opt.events != nil {
		opt.events.set(eb.OnClientEvent)
		defer opt.events.set(nil)
	}
	err = tui.Run(ctx, tui.Options{
		Backend: eb, Keymap: km, NoColor: noColor, NoMouse: opt.noMouse || !cfg.TUI.Mouse,
		SiteURL: site.URL, Lens: opt.lens, RefreshInterval: site.PollInterval, RefreshAtStart: true, Logger: logger,
	}, g.stdin, g.stdout)
	finishWrites(ctx, eb, g.stderr, editDrainLimit)
	return err
}

// editDrainLimit bounds how long the process waits, after the TUI is gone, for edits still
// in flight (the TUI's quit waits for them unless forced with a second q).
const editDrainLimit = 30 * time.Second

// finishWrites waits for the edits still in flight when the TUI closed, so what Jira takes
// is cached and audited before the process ends (ctrl+c, now in the shell, gives up).
func finishWrites(ctx context.Context, eb *editingBackend, stderr io.Writer, limit time.Duration) {
	n := eb.inflight.Load()
	if n == 0 {
		return
	}
	fmt.Fprintf(stderr, "foundation: waiting for %s in flight to land in the cache and the audit log (ctrl+c gives up)…\n", plural(int(n), "edit"))
	if left := eb.waitWrites(ctx, limit); left > 0 {
		fmt.Fprintf(stderr, "foundation: gave up on %s: Jira may have taken them without an audit entry; `foundation refresh` brings the cache up to date\n", plural(int(left), "edit"))
	}
}

// resolveViewer returns who the client's credentials sign in as. The cache's memory of it
// comes first, so the TUI draws at once even when Jira is slow or down (the first
// background refresh asks Jira again), but only the memory of these very credentials:
// whoever else refreshed the cache under the same profile name is never taken for the
// viewer. Credentials the cache has never seen wait for Jira; when Jira cannot be asked,
// who the viewer is stays unknown and nothing is shown (fail closed: the error wraps
// refresh.ErrUncheckedCredentials, and offline is true).
func resolveViewer(ctx context.Context, site *config.Site, client *jira.Client, db *store.DB) (refresh.Viewer, bool, error) {
	if v, ok, err := refresh.RecallViewer(ctx, db, site.Name, client.Credentials(), time.Now()); err != nil || ok {
		return v, false, err
	}
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := refresh.ResolveViewer(mctx, client, db, site.Name)
	if err == nil {
		return v, false, nil
	}
	if unchecked(err) {
		return refresh.Viewer{Profile: site.Name}, true, uncheckedError(site.Name, err)
	}
	return v, false, err // Jira answered: bad credentials and the like stop here
}

// unchecked tells a Jira that could not be asked who the viewer is (unreachable, timed out,
// failing) from one that refused the credentials.
func unchecked(err error) bool {
	var api *jira.APIError
	return isNetworkError(err) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &api) && api.Status >= 500
}

// uncheckedError is the fail-closed answer when the cache knows no identity for the
// profile's credentials and Jira could not be asked: exit 3, as other fail-closed paths.
func uncheckedError(profile string, cause error) error {
	return withCode(ExitPartial, fmt.Errorf("profile %s: %w: %w", profile, refresh.ErrUncheckedCredentials, cause))
}

// tuiLogger is the --debug log for the TUI (a file: nothing but the TUI may reach the
// screen), or a discarding logger.
func (g *globals) tuiLogger() (*slog.Logger, func(), error) {
	if !g.debug {
		return slog.New(slog.DiscardHandler), func() {}, nil
	}
	w, err := debugLog()
	if err != nil {
		return nil, nil, err
	}
	return slog.New(slog.NewTextHandler(w.(io.Writer), nil)), func() {}, nil
}

// connectCached builds the profile's client without needing Jira when the dialect is
// already known (from the config, or remembered in the cache for these credentials): the
// TUI must open offline. Credentials the cache has never seen on a site of unknown dialect
// need Jira; without it, who the viewer is is unknown (fail closed).
func (g *globals) connectCached(ctx context.Context, cfg *config.Config, db *store.DB, adjust ...func(*jira.Options)) (*jira.Client, error) {
	site, err := g.pickSite(cfg)
	if err != nil {
		return nil, err
	}
	creds, token, err := siteCredentials(ctx, site)
	if err != nil {
		return nil, err
	}
	if site.Dialect == config.DialectAuto {
		if id, err := recallIdentity(ctx, db, site.Name, creds); err == nil && id != nil && id.Dialect != "" {
			adjust = append(adjust, func(o *jira.Options) { o.Dialect = jira.Dialect(id.Dialect) })
		}
	}
	client, err := g.newClient(ctx, site, token, adjust...)
	if err != nil && unchecked(err) {
		return nil, uncheckedError(site.Name, err)
	}
	return client, err
}
