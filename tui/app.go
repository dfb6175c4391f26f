// Package tui is Foundation's terminal interface: the home screen of Lenses, the Lens screen
// with its tree-table, the detail pane, search, JQL filter, command palette and help, all
// drawn from a Backend so the screens are testable without a cache or a Jira site.
//
// Wiring (cli): implement Backend over the store and refresh, then call Run. Build is
//
//	def := the stored definition of req.Lens (the viewer must hold view level)
//	def, err = tui.WithColumns(def, req.View, req.Extra)
//	forest, err := lens.Build(def, snapshot, viewerCanBrowse)
//	built, err := tui.NewBuilt(forest, req.View, req.Filter, jql.Env{Now: now, CurrentUser: viewer})
//	built.Links, built.UserName, built.Fields, built.Text = ... // optional extras
//
// and the rest are thin calls: LastChange and ChangedKeys on the store's change feed,
// Pref/SetPref on the store's per-viewer prefs, Refresh on refresh's one-shot sync.
// Keys come from config with Keymap.Remap; NO_COLOR via NoColorEnv(os.Getenv).
package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/atotto/clipboard"

	"foundation/jql"
	"foundation/lens"
)

// Options configure the app. Only Backend is required.
type Options struct {
	Backend Backend
	Keymap  *Keymap // nil for DefaultKeymap
	NoColor bool    // --no-color or NO_COLOR (see NoColorEnv)
	NoMouse bool    // mouse reporting off
	SiteURL string  // base URL for "open in browser"
	Lens    string  // Lens id to open at start; "" restores the last one, else home
	// PollInterval is how often the change feed is polled (default 500ms); RefreshInterval
	// how often a background refresh runs (0: only on `r`).
	PollInterval    time.Duration
	RefreshInterval time.Duration
	// RefreshAtStart runs a background refresh when the app starts: the screen draws from
	// the cache first, then catches up with Jira (and rechecks the viewer's grants). It
	// starts once the Lens opening at start has its first frame (its build landed), since
	// on a small machine a refresh competing for the cores makes that frame late; at once
	// when there is no Lens to open or the cache was never refreshed (nothing to show yet).
	RefreshAtStart bool
	Logger         *slog.Logger // debug log; nil discards
	// Hooks for the outside world, replaced in tests.
	OpenURL func(url string) error
	// Copy puts text on the system clipboard. The default refuses in an SSH session, where
	// the system clipboard would be the server's, not yours.
	Copy func(text string) error
	// CopyTerminal is what y falls back on when Copy fails: the terminal's own clipboard
	// through the OSC 52 escape sequence, which reaches your machine over SSH too (tmux
	// needs set-clipboard on). Default tea.SetClipboard.
	CopyTerminal func(text string) tea.Cmd
	Now          func() time.Time
	// Tick schedules a timer message (tea.Tick by default). The headless test driver
	// replaces it so timers fire on demand and never count as pending work.
	Tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
}

type screen int

const (
	screenHome screen = iota
	screenLens
)

type mode int

const (
	modeNormal mode = iota
	modeSearch
	modeFilter
	modePalette
	modeHelp
	modeColumns
	modeHomeFilter
	modeEdit   // a cell editor is open
	modeDialog // a conflict, a move warning or a bulk summary waits for a key
	modeACL    // the ACL editor is open (aclwire.go)
)

// App is the root Bubble Tea model.
type App struct {
	ctx  context.Context
	opt  Options
	keys *Keymap
	th   *Theme
	log  *slog.Logger

	width, height int
	screen        screen
	mode          mode
	mouse         bool

	// home
	lenses     []LensInfo
	homeCursor int
	homeFilter string
	lensesErr  error

	// lens screen
	lens     *lensState
	buildSeq int // id of the newest build request; older answers are dropped
	building bool
	// buildCancel stops the build in flight: a newer request supersedes it, and on a big
	// Lens its answer would only be dropped after taking a core for a second.
	buildCancel context.CancelFunc
	// filterDue: the filter prompt's text waits for a pause in typing to be built
	// (filterPause); a filterTickMsg of this buildSeq builds it, enter at once.
	filterDue bool
	// startRefresh: the startup refresh (Options.RefreshAtStart) waits for the first frame.
	startRefresh bool
	// filterErr is why the text in the filter prompt does not work, never an earlier
	// text's: a syntax error is found as it is typed, any other comes with its build.
	filterErr *jql.Error
	// filterAskJira: filterErr is local evaluation's, on JQL Jira may answer (enter asks).
	filterAskJira bool
	// filterEnter: enter was pressed in the filter prompt while a build was in flight; it
	// takes effect when the build answers whether the text works.
	filterEnter bool
	// askingJira: a filter was asked of Jira and its answer has not come back. The status
	// bar says so for as long as it takes (a notice could be replaced by a failed refresh).
	askingJira bool

	input     textinput.Model // search, filter, palette and home filter text
	palette   []paletteItem
	palCursor int
	helpOff   int
	colPick   string // the column chooser's item under the cursor (chooserItem.id)

	status       Status
	refreshing   bool
	refreshAsked bool   // the viewer asked for the refresh running: say when it is done
	message      string // one-line notice (copied, errors)
	msgErr       bool
	msgMore      []string // every line of the last error or notice that had several (help shows them)
	// refreshErrAt is when the notice shown became a failed refresh's; zero when it is not.
	// A later refresh that succeeds (here or in another process) clears it.
	refreshErrAt time.Time
	// noAccessLens is the Lens the notice shown says the viewer lost access to; "" when
	// it says something else. It goes when the Lens is back in the list.
	noAccessLens string
	noAccessGone bool // the list has since come without that Lens
	lastSeq      int64
	seqKnown     bool
	flashGen     int
	quitting     bool

	edit  editState  // inline editing (editing.go); inert when the backend cannot edit
	aclEd *ACLEditor // the open ACL editor, in modeACL
}

// lensState is the open Lens.
type lensState struct {
	info   LensInfo
	built  *Built
	base   Tree // built.Tree before sorting
	table  *Table
	view   string
	filter string
	// filterJira: Jira answered the filter (BuildRequest.FilterByJira); rebuilds keep asking
	// the backend for that answer, which it keeps until the next refresh.
	filterJira bool
	sortCol    string // column title; "" unsorted
	sortDesc   bool
	detail     bool
	search     string
	searchFrom string // id of the cursor row when / opened: a search that finds nothing goes back
	prev       string // filter before the filter prompt opened, restored by esc
	prevJira   bool
	extras     map[string][]string // per view: fields the viewer added as columns
}

// request is the build request that reproduces the Lens as shown.
func (ls *lensState) request() BuildRequest {
	return BuildRequest{Lens: ls.info.ID, View: ls.view, Filter: ls.filter, FilterByJira: ls.filterJira, Extra: ls.extras[ls.view]}
}

// Messages. Answers to requests carry the request id so a stale one is dropped.
type (
	lensesMsg struct {
		list []LensInfo
		err  error
		last string // last opened Lens from prefs
	}
	builtMsg struct {
		seq    int
		req    BuildRequest
		built  *Built
		err    error
		prefs  *lensPrefs // set when opening a Lens: restore these
		info   LensInfo
		reason buildReason
		keys   []string // changed issue keys to flash
		took   time.Duration
		// dropped says why the saved filter or added columns were left out to open the Lens.
		dropped string
	}
	pollMsg   struct{}
	changeMsg struct {
		last   int64
		keys   []string
		status Status
		err    error
	}
	refreshMsg     struct{ err error }
	refreshTickMsg struct{}
	// filterTickMsg: typing in the filter prompt paused; seq is the buildSeq it was for.
	filterTickMsg struct{ seq int }
	flashEndMsg   struct{ gen int }
	noticeMsg     struct {
		text string
		err  bool
	}
	prefsSavedMsg struct{ err error }
)

type buildReason int

const (
	reasonOpen buildReason = iota
	reasonView
	reasonFilter
	reasonChange
)

// lensPrefs are the per-viewer, per-Lens preferences kept in the cache.
type lensPrefs struct {
	View     string          `json:"view,omitempty"`
	Expanded []string        `json:"expanded,omitempty"`
	Widths   map[string]int  `json:"widths,omitempty"`
	Hidden   map[string]bool `json:"hidden,omitempty"`
	SortCol  string          `json:"sort,omitempty"`
	SortDesc bool            `json:"desc,omitempty"`
	Filter   string          `json:"filter,omitempty"`
	// FilterJira: Jira answers Filter (it reopens asking Jira again).
	FilterJira bool                `json:"filter_jira,omitempty"`
	Extras     map[string][]string `json:"extras,omitempty"`
}

const (
	prefLastLens   = "tui.last_lens"
	prefLensPrefix = "tui.lens/"
	flashFor       = 1500 * time.Millisecond
)

// New returns the app. ctx bounds every Backend call the app makes.
func New(ctx context.Context, opt Options) (*App, error) {
	if opt.Backend == nil {
		return nil, errors.New("tui: no backend")
	}
	if opt.Keymap == nil {
		opt.Keymap = DefaultKeymap()
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 500 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Tick == nil {
		opt.Tick = tea.Tick
	}
	if opt.OpenURL == nil {
		opt.OpenURL = openURL
	}
	if opt.Copy == nil {
		opt.Copy = systemClipboard
	}
	if opt.CopyTerminal == nil {
		opt.CopyTerminal = tea.SetClipboard
	}
	in := textinput.New()
	in.Prompt = ""
	// A steady cursor: a blinking one is a timer loop that would keep the app (and the
	// headless test driver) from ever being idle.
	st := textinput.DefaultStyles(true)
	if opt.NoColor {
		st = textinput.Styles{}
	}
	st.Cursor.Blink = false
	in.SetStyles(st)
	// The virtual cursor is drawn in reverse video; with colors off the terminal's own
	// cursor marks the spot instead (View places it).
	in.SetVirtualCursor(!opt.NoColor)
	a := &App{ctx: ctx, opt: opt, keys: opt.Keymap, th: NewTheme(true, opt.NoColor), log: opt.Logger,
		width: 80, height: 24, mouse: !opt.NoMouse, input: in,
		edit: editState{pend: map[int]*pendingEdit{}, marks: map[string]bool{}, titles: map[string]string{}}}
	return a, nil
}

// openURL hands a URL to the desktop's opener. It never goes through a shell.
func openURL(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open %s: %w", url, err)
	}
	go func() { _ = cmd.Wait() }() // reap; the opener's exit status says nothing useful
	return nil
}

// Init loads the Lens list, asks for the background color and starts the change feed poll.
func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{tea.RequestBackgroundColor, a.loadLenses(), a.poll()}
	if a.opt.RefreshInterval > 0 {
		cmds = append(cmds, a.opt.Tick(a.opt.RefreshInterval, func(time.Time) tea.Msg { return refreshTickMsg{} }))
	}
	a.startRefresh = a.opt.RefreshAtStart
	return tea.Batch(cmds...)
}

func (a *App) loadLenses() tea.Cmd {
	ctx, b, want := a.ctx, a.opt.Backend, a.opt.Lens
	return func() tea.Msg {
		list, err := b.Lenses(ctx)
		if err != nil {
			return lensesMsg{err: fmt.Errorf("list Lenses: %w", err)}
		}
		last := want
		if last == "" {
			v, err := b.Pref(ctx, prefLastLens)
			if err == nil && v != nil {
				// A preference that does not decode is treated as unset: start at home.
				_ = json.Unmarshal(v, &last)
			}
		}
		return lensesMsg{list: list, last: last}
	}
}

func (a *App) pollLater() tea.Cmd {
	return a.opt.Tick(a.opt.PollInterval, func(time.Time) tea.Msg { return pollMsg{} })
}

// poll reads the change feed head and, when it moved, which issues changed.
func (a *App) poll() tea.Cmd {
	ctx, b, after, known := a.ctx, a.opt.Backend, a.lastSeq, a.seqKnown
	return func() tea.Msg {
		st, err := b.Status(ctx)
		if err != nil {
			return changeMsg{last: after, err: fmt.Errorf("status: %w", err)}
		}
		last, err := b.LastChange(ctx)
		if err != nil {
			return changeMsg{last: after, status: st, err: fmt.Errorf("change feed: %w", err)}
		}
		if !known || last <= after {
			return changeMsg{last: last, status: st}
		}
		keys, upto, err := b.ChangedKeys(ctx, after)
		if err != nil {
			return changeMsg{last: after, status: st, err: fmt.Errorf("change feed: %w", err)}
		}
		return changeMsg{last: max(upto, last), keys: keys, status: st}
	}
}

// supersede drops the build in flight, or the filter text waiting for its pause: its
// context is cancelled, so the backend stops instead of finishing work whose answer would
// be dropped, and at most one build runs at a time.
func (a *App) supersede() {
	if a.buildCancel != nil {
		a.buildCancel()
		a.buildCancel = nil
	}
	a.filterDue = false
	a.buildSeq++
}

// build asks the backend for a Lens build; the answer is tagged with a fresh request id.
func (a *App) build(req BuildRequest, info LensInfo, reason buildReason, keys []string) tea.Cmd {
	a.supersede()
	a.building = true
	ctx, cancel := context.WithCancel(a.ctx)
	a.buildCancel = cancel
	seq, b := a.buildSeq, a.opt.Backend
	return func() tea.Msg {
		defer cancel()
		m := builtMsg{seq: seq, req: req, info: info, reason: reason, keys: keys}
		if reason == reasonOpen {
			raw, err := b.Pref(ctx, prefLensPrefix+req.Lens)
			if err == nil && raw != nil {
				var p lensPrefs
				if json.Unmarshal(raw, &p) == nil {
					m.prefs = &p
					if req.View == "" {
						req.View = p.View
					}
					req.Filter, req.FilterByJira = p.Filter, p.FilterJira
					req.Extra = p.Extras[req.View]
					m.req = req
				}
			}
		}
		start := time.Now()
		built, err := b.Build(ctx, req)
		if err != nil && m.prefs != nil && (req.Filter != "" || len(req.Extra) > 0) {
			// A saved filter or column that no longer works (a field deleted from the site)
			// must not lock the Lens: open it as defined.
			m.dropped = fmt.Sprintf("opened without your saved filter and columns: %v", err)
			req.Filter, req.FilterByJira, req.Extra = "", false, nil
			m.req = req
			m.prefs.Filter, m.prefs.FilterJira, m.prefs.Extras = "", false, nil
			built, err = b.Build(ctx, req)
		}
		if err != nil {
			m.err = err
		}
		m.built = built
		m.took = time.Since(start)
		return m
	}
}

// switchView shows the open Lens through another view: from the same forest when the
// backend's Built can (Switch), else through a new Build (the view has added columns).
func (a *App) switchView(next string) tea.Cmd {
	ls := a.lens
	req := BuildRequest{Lens: ls.info.ID, View: next, Filter: ls.filter, FilterByJira: ls.filterJira, Extra: ls.extras[next]}
	old := ls.built
	if old.Switch == nil || len(req.Extra) > 0 {
		return a.build(req, ls.info, reasonView, nil)
	}
	a.supersede()
	a.building = true
	seq, info := a.buildSeq, ls.info
	return func() tea.Msg {
		start := time.Now()
		nb, err := old.Switch(next)
		if nb != nil {
			// What the backend added to the first Built holds for every view.
			nb.Links, nb.UserName, nb.Fields, nb.Text = old.Links, old.UserName, old.Fields, old.Text
		}
		return builtMsg{seq: seq, req: req, built: nb, err: err, info: info, reason: reasonView, took: time.Since(start)}
	}
}

func (a *App) openLens(info LensInfo) tea.Cmd {
	return a.build(BuildRequest{Lens: info.ID}, info, reasonOpen, nil)
}

// savePrefs stores the open Lens's preferences and the last Lens.
func (a *App) savePrefs() tea.Cmd {
	if a.lens == nil {
		return nil
	}
	ls := a.lens
	p := lensPrefs{View: ls.view, Expanded: ls.table.ExpandedIDs(), Widths: ls.table.Widths(),
		Hidden: ls.table.Hidden(), SortCol: ls.sortCol, SortDesc: ls.sortDesc, Filter: ls.filter, FilterJira: ls.filterJira, Extras: ls.extras}
	raw, err := json.Marshal(p)
	if err != nil {
		return func() tea.Msg { return prefsSavedMsg{err: fmt.Errorf("encode prefs: %w", err)} }
	}
	ctx, b, id := a.ctx, a.opt.Backend, ls.info.ID
	return func() tea.Msg {
		if err := b.SetPref(ctx, prefLensPrefix+id, raw); err != nil {
			return prefsSavedMsg{err: fmt.Errorf("save prefs: %w", err)}
		}
		idJSON, err := json.Marshal(id)
		if err != nil {
			return prefsSavedMsg{err: fmt.Errorf("encode prefs: %w", err)}
		}
		if err := b.SetPref(ctx, prefLastLens, idJSON); err != nil {
			return prefsSavedMsg{err: fmt.Errorf("save prefs: %w", err)}
		}
		return prefsSavedMsg{}
	}
}

// requestQuit quits, unless writes are in flight: then it says so and quits when they
// land (in Jira, the cache and the audit log); asked again, it quits at once.
func (a *App) requestQuit() tea.Cmd {
	if a.edit.inflight == 0 || a.edit.quitWait {
		return a.quit()
	}
	a.edit.quitWait = true
	a.waitNotice()
	return nil
}

func (a *App) waitNotice() {
	n := a.edit.inflight
	what := "edit"
	if n > 1 {
		what = "edits"
	}
	a.notice(fmt.Sprintf("waiting for %d %s to reach Jira, the cache and the audit log, then quitting · q again: quit now", n, what), false)
}

// landed counts a write as answered; the last one to land ends a quit that waited for it.
func (a *App) landed() tea.Cmd {
	a.edit.inflight = max(a.edit.inflight-1, 0)
	if !a.edit.quitWait {
		return nil
	}
	if a.edit.inflight == 0 {
		return a.quit()
	}
	a.waitNotice()
	return nil
}

// quit saves the preferences, then ends the program.
func (a *App) quit() tea.Cmd {
	a.quitting = true
	save := a.savePrefs()
	return func() tea.Msg {
		if save != nil {
			if m, ok := save().(prefsSavedMsg); ok && m.err != nil {
				a.log.Warn("saving preferences on quit", "err", m.err)
			}
		}
		return tea.QuitMsg{}
	}
}

// notice shows a message on the prompt line. It is always one line: a message of several
// (errors joined) shows its first with a count, and help (?) shows all of it.
func (a *App) notice(text string, isErr bool) {
	a.message, a.msgErr = text, isErr
	a.refreshErrAt, a.noAccessLens = time.Time{}, ""
	lines := noticeLines(text)
	if len(lines) > 1 {
		a.message = fmt.Sprintf("%s (+%d more: ? shows all)", lines[0], len(lines)-1)
		a.msgMore = lines
	} else if isErr && len(lines) == 1 {
		a.msgMore = lines // an error too long for the prompt line: ? shows it whole
	}
	if isErr {
		a.log.Debug("notice", "text", text)
	}
}

// clearRefreshError takes a failed refresh's notice off the prompt line.
func (a *App) clearRefreshError() {
	a.message, a.msgErr, a.msgMore, a.refreshErrAt = "", false, nil, time.Time{}
}

// noticeLines are a message's non-empty lines.
func noticeLines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Update handles one message.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = max(msg.Width, 20), max(msg.Height, 8)
		a.layout()
		return a, nil
	case tea.BackgroundColorMsg:
		a.th = NewTheme(msg.IsDark(), a.opt.NoColor)
		return a, nil
	case lensesMsg:
		return a, a.onLenses(msg)
	case builtMsg:
		enter := a.filterEnter && msg.seq == a.buildSeq
		if enter {
			a.filterEnter = false
		}
		// The first build has landed (its frame is drawn next): the startup refresh may
		// take the cores now.
		cmd := tea.Batch(a.onBuilt(msg), a.startupRefresh())
		if enter && a.mode == modeFilter {
			// The answer the filter prompt's enter waited for: enter takes effect now.
			cmd = tea.Batch(cmd, a.acceptInput())
		}
		return a, cmd
	case filterTickMsg:
		if msg.seq == a.buildSeq && a.filterDue && a.mode == modeFilter && a.lens != nil {
			return a, a.buildTyped()
		}
		return a, nil
	case pollMsg:
		return a, a.poll()
	case changeMsg:
		return a, a.onChange(msg)
	case refreshTickMsg:
		return a, tea.Batch(a.refresh(), a.opt.Tick(a.opt.RefreshInterval, func(time.Time) tea.Msg { return refreshTickMsg{} }))
	case refreshMsg:
		a.refreshing = false
		if msg.err != nil {
			full := "refresh: " + msg.err.Error()
			if short, _, ok := jiraProblem(msg.err.Error()); ok {
				a.notice("refresh failed: "+short, true)
				a.msgMore = []string{full}
			} else {
				a.notice(full, true)
			}
			a.refreshErrAt = a.opt.Now()
		} else if !a.refreshErrAt.IsZero() {
			a.clearRefreshError() // Jira is back: the failure is old news
			if a.refreshAsked {
				a.notice("refreshed", false)
			}
		} else if a.refreshAsked {
			// Only a refresh the viewer asked for says so: a background one would replace
			// what an edit or a move just reported, and the status bar already says when
			// the cache was last refreshed.
			a.notice("refreshed", false)
		}
		a.refreshAsked = false
		return a, nil
	case flashEndMsg:
		if msg.gen == a.flashGen && a.lens != nil {
			a.lens.table.SetFlash(nil)
		}
		return a, nil
	case noticeMsg:
		a.notice(msg.text, msg.err)
		return a, nil
	case copyFallbackMsg:
		a.notice(fmt.Sprintf("copied %s through the terminal (OSC 52; %v)", msg.text, msg.why), false)
		return a, a.opt.CopyTerminal(msg.text)
	case prefsSavedMsg:
		if msg.err != nil {
			a.notice(msg.err.Error(), true)
		}
		return a, nil
	case tea.MouseClickMsg:
		if a.mouse {
			return a, a.onClick(msg.Mouse())
		}
		return a, nil
	case tea.MouseWheelMsg:
		if a.mouse {
			a.onWheel(msg.Mouse())
		}
		return a, nil
	case tea.KeyPressMsg:
		return a, a.onKey(msg)
	case editMetaMsg:
		return a, a.onEditMeta(msg)
	case suggestTickMsg:
		if msg.seq == a.edit.sugSeq && a.edit.cell != nil {
			return a, a.suggestNow()
		}
		return a, nil
	case suggestMsg:
		if msg.seq == a.edit.sugSeq && a.edit.cell != nil {
			if msg.err != nil {
				a.edit.cell.errText = "completion: " + msg.err.Error()
			} else {
				a.edit.cell.setSuggestions(msg.items)
			}
		}
		return a, nil
	case setMsg:
		cmd := a.onSet(msg)
		return a, tea.Batch(cmd, a.landed())
	case historyMsg:
		cmd := a.onHistory(msg)
		return a, tea.Batch(cmd, a.landed())
	case historyScreenMsg:
		return a, a.onHistoryScreen(msg)
	case dropMsg:
		return a, a.onDrop(msg)
	case bulkMsg:
		cmd := a.onBulk(msg)
		return a, tea.Batch(cmd, a.landed())
	case bulkTickMsg:
		if a.edit.bulk != nil {
			return a, a.bulkTick() // keep redrawing the progress until the bulk edit ends
		}
		return a, nil
	case aclLoadedMsg, aclPickMsg:
		return a, a.onACLMsg(msg)
	case ACLClosedMsg:
		return a, a.closeACL(msg)
	case cutMsg:
		a.onCut(msg)
		return a, nil
	case movePlanMsg:
		return a, a.onMovePlan(msg)
	case moveMsg:
		cmd := a.onMove(msg)
		return a, tea.Batch(cmd, a.landed())
	}
	return a, nil
}

func (a *App) onLenses(msg lensesMsg) tea.Cmd {
	if msg.err != nil {
		a.lensesErr = msg.err
		a.notice(msg.err.Error(), true)
		return a.startupRefresh()
	}
	a.lensesErr = nil
	// The cursor stays on its Lens when the list changes around it (one added, removed,
	// renamed, or access granted or lost).
	var curID string
	if list := a.homeList(); a.homeCursor < len(list) {
		curID = list[a.homeCursor].ID
	}
	a.lenses = msg.list
	list := a.homeList()
	a.homeCursor = min(a.homeCursor, max(len(list)-1, 0))
	for i, l := range list {
		if l.ID == curID {
			a.homeCursor = i
		}
	}
	if a.noAccessLens != "" {
		back := slices.ContainsFunc(msg.list, func(l LensInfo) bool { return l.ID == a.noAccessLens })
		switch {
		case !back:
			a.noAccessGone = true
		case a.noAccessGone: // it left the list and is back: access was restored
			a.message, a.msgErr, a.noAccessLens = "", false, ""
		}
	}
	if a.lens == nil && msg.last != "" {
		for _, l := range msg.list {
			if l.ID == msg.last {
				return a.openLens(l) // the startup refresh waits for its first frame
			}
		}
	}
	return a.startupRefresh() // the Lens list is the first screen
}

func (a *App) onBuilt(msg builtMsg) tea.Cmd {
	if msg.reason == reasonFilter && msg.req.FilterByJira {
		a.askingJira = false // answered, failed, or dropped below as stale
	}
	if msg.seq != a.buildSeq {
		// A superseded build is cancelled: Jira's answer may have been on its way.
		if msg.reason == reasonFilter && msg.req.FilterByJira && (msg.err == nil || errors.Is(msg.err, context.Canceled)) {
			// Another build (a view switch) went out while Jira was answering.
			a.notice("the view changed before Jira's answer arrived: f, then enter, asks again", false)
		}
		return nil // a newer request is in flight; this answer is stale
	}
	a.building = false
	a.log.Debug("build", "lens", msg.req.Lens, "view", msg.req.View, "filter", msg.req.Filter,
		"reason", int(msg.reason), "took", msg.took, "err", msg.err)
	if msg.err != nil {
		var je *jql.Error
		if msg.reason == reasonFilter && errors.As(msg.err, &je) {
			// A query that local evaluation cannot answer but Jira may (WAS, a field
			// only Jira knows) can still be asked of Jira: enter does. One Jira would
			// refuse too (a syntax error, a bad date) waits to be fixed.
			// The site's field catalog says whether Jira has a field local evaluation
			// does not know: one it lacks is refused here, not sent to be refused.
			var hasField func(string) bool
			if a.lens != nil && a.lens.info.ID == msg.info.ID {
				hasField = lens.NewCatalog(a.lens.built.Fields).JQLHasField()
			}
			q, perr := jql.Parse(msg.req.Filter)
			a.filterErr, a.filterAskJira = je, perr == nil && q.JiraErrorWith(hasField) == nil && !msg.req.FilterByJira
			return nil
		}
		if msg.reason == reasonFilter && msg.req.FilterByJira && a.lens != nil && a.lens.info.ID == msg.info.ID {
			// Jira could not answer the filter: say why and put the previous one back.
			ls := a.lens
			a.notice(fmt.Sprintf("filter: %v", msg.err), true)
			req := ls.request()
			req.Filter, req.FilterByJira = ls.prev, ls.prevJira
			return a.build(req, ls.info, reasonView, nil)
		}
		if errors.Is(msg.err, ErrNoAccess) && a.lens != nil && a.lens.info.ID == msg.info.ID {
			// The Lens's ACL no longer lets the viewer open it: its rows leave the screen.
			a.lens, a.screen, a.mode = nil, screenHome, modeNormal
			a.notice(fmt.Sprintf("%s: %v", msg.info.Name, msg.err), true)
			a.noAccessLens, a.noAccessGone = msg.info.ID, false
			return a.loadLenses()
		}
		a.notice(fmt.Sprintf("build %s: %v", msg.info.Name, msg.err), true)
		return nil
	}
	if msg.reason == reasonFilter || a.mode != modeFilter {
		// Only the typed filter's own build answers whether it works: a rebuild for a change
		// that lands meanwhile builds the last good filter, and must not pass the typed one.
		a.filterErr, a.filterAskJira = nil, false
	}
	b := msg.built
	var cmds []tea.Cmd
	switch {
	case msg.reason == reasonOpen || a.lens == nil || a.lens.info.ID != msg.info.ID:
		ls := &lensState{info: msg.info, built: b, base: b.Tree, view: b.View, filter: msg.req.Filter, filterJira: msg.req.FilterByJira, extras: map[string][]string{}}
		if p := msg.prefs; p != nil && p.Extras != nil {
			ls.extras = p.Extras
		}
		ls.extras[b.View] = msg.req.Extra
		ls.table = NewTable(b.Tree)
		if p := msg.prefs; p != nil {
			ls.table.SetWidths(p.Widths)
			ls.table.SetHidden(p.Hidden)
			ls.sortCol, ls.sortDesc = p.SortCol, p.SortDesc
			ls.table.SetTree(ls.sorted())
			ls.table.RestoreExpanded(p.Expanded)
		}
		a.lens = ls
		a.screen = screenLens
		a.mode = modeNormal
		a.message = ""
		if msg.dropped != "" {
			a.notice(msg.dropped, true)
		}
		a.edit.marks, a.edit.cut, a.edit.anchor = map[string]bool{}, nil, ""
	default:
		ls := a.lens
		ls.built, ls.base, ls.view, ls.filter, ls.filterJira = b, b.Tree, b.View, msg.req.Filter, msg.req.FilterByJira
		ls.extras[b.View] = msg.req.Extra
		if msg.reason == reasonFilter && msg.req.FilterByJira {
			a.message = "" // "asking Jira…" is answered
		}
		if msg.reason == reasonView {
			ls.table.fit = nil
		}
		ls.table.SetTree(ls.sorted())
		if len(msg.keys) > 0 {
			cmds = append(cmds, a.flash(msg.keys))
		}
	}
	a.afterBuild()
	a.layout()
	return tea.Batch(cmds...)
}

// sorted applies the Lens's sort (by column title) to its base tree.
func (ls *lensState) sorted() Tree {
	if ls.sortCol == "" {
		return ls.base
	}
	for i, c := range ls.base.Columns() {
		if c.Title == ls.sortCol {
			return sortTree(ls.base, i, ls.sortDesc)
		}
	}
	return ls.base
}

// issueAt returns the issue on a row of the shown (possibly sorted) tree.
func (ls *lensState) issueAt(row int) *issueRef {
	if row < 0 || ls.built.Issue == nil {
		return nil
	}
	base := row
	if st, ok := ls.table.Tree().(*sortedTree); ok {
		base = st.baseRow(row)
	}
	is := ls.built.Issue(base)
	if is == nil {
		return nil
	}
	return &issueRef{Issue: is, row: row}
}

// flash marks the rows of changed issues and schedules the end of the flash.
func (a *App) flash(keys []string) tea.Cmd {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	t := a.lens.table.Tree()
	ids := map[string]bool{}
	for i := 0; i < t.Len(); i++ {
		if r := a.lens.issueAt(i); r != nil && want[r.Key] {
			ids[t.ID(i)] = true
		}
	}
	if len(ids) == 0 {
		return nil
	}
	a.lens.table.SetFlash(ids)
	a.flashGen++
	gen := a.flashGen
	return a.opt.Tick(flashFor, func(time.Time) tea.Msg { return flashEndMsg{gen: gen} })
}

func (a *App) onChange(msg changeMsg) tea.Cmd {
	cmds := []tea.Cmd{a.pollLater()}
	a.status = msg.status
	if msg.err == nil && msg.status.LastRefresh.IsZero() {
		// A cache never refreshed has nothing to show: Jira first.
		cmds = append(cmds, a.startupRefresh())
	}
	if !a.refreshErrAt.IsZero() && msg.err == nil && msg.status.LastRefresh.After(a.refreshErrAt) {
		a.clearRefreshError() // a refresh since (a background one, another process) worked
	}
	if msg.err != nil {
		a.notice(msg.err.Error(), true)
		return tea.Batch(cmds...)
	}
	moved := a.seqKnown && msg.last > a.lastSeq
	if moved && a.lens != nil && a.building {
		// A build is in flight (a filter keystroke, a view switch): leave the feed position
		// where it was, so the next poll sees these changes again once the build lands.
		return tea.Batch(cmds...)
	}
	a.lastSeq, a.seqKnown = msg.last, true
	if !moved {
		return tea.Batch(cmds...)
	}
	a.log.Debug("change feed moved", "seq", msg.last, "keys", len(msg.keys))
	cmds = append(cmds, a.loadLensesQuiet())
	if a.aclEd != nil {
		cmds = append(cmds, a.aclEd.Refresh()) // another session may have changed the list
	}
	if a.lens != nil {
		ls := a.lens
		cmds = append(cmds, a.build(ls.request(), ls.info, reasonChange, msg.keys))
	}
	return tea.Batch(cmds...)
}

// loadLensesQuiet refreshes the home list without reopening the last Lens.
func (a *App) loadLensesQuiet() tea.Cmd {
	ctx, b := a.ctx, a.opt.Backend
	return func() tea.Msg {
		list, err := b.Lenses(ctx)
		if err != nil {
			return lensesMsg{err: fmt.Errorf("list Lenses: %w", err)}
		}
		return lensesMsg{list: list}
	}
}

// startupRefresh starts the refresh RefreshAtStart asked for, if it is still waiting.
func (a *App) startupRefresh() tea.Cmd {
	if !a.startRefresh {
		return nil
	}
	return a.refresh()
}

func (a *App) refresh() tea.Cmd {
	a.startRefresh = false // any refresh is the one the start waited for
	if a.refreshing {
		return nil
	}
	a.refreshing = true
	ctx, b := a.ctx, a.opt.Backend
	return func() tea.Msg { return refreshMsg{err: b.Refresh(ctx)} }
}

// layout sizes the table to the screen.
func (a *App) layout() {
	if a.lens == nil {
		return
	}
	tw, th, _, _ := a.lensGeometry()
	a.lens.table.SetSize(tw, th)
}

// lensGeometry splits the screen: title, optional banner, table header and body, optional
// detail pane (right on wide terminals, below on narrow ones), prompt line, status bar.
func (a *App) lensGeometry() (tableW, bodyH, detailW, detailH int) {
	body := a.height - 4 - a.bannerLines() // title, header, prompt, status
	tableW = a.width
	bodyH = body
	if a.lens != nil && a.lens.detail {
		if a.width >= 120 {
			detailW = a.width * 2 / 5
			tableW = a.width - detailW - 1
			detailH = body + 1
		} else {
			detailW = a.width
			detailH = body / 2
			bodyH = body - detailH
		}
	}
	return tableW, max(bodyH, 1), detailW, detailH
}

func (a *App) bannerLines() int { return len(a.banner()) }

// bodyTop is the screen line of the first table body row.
func (a *App) bodyTop() int { return 2 + a.bannerLines() }

func (a *App) onClick(m tea.Mouse) tea.Cmd {
	switch a.screen {
	case screenHome:
		k := m.Y - 2 - a.bannerLines()
		if list := a.homeList(); k >= 0 && k < len(list) {
			if a.homeCursor == k && m.Button == tea.MouseLeft {
				return a.openLens(list[k])
			}
			a.homeCursor = k
		}
	case screenLens:
		if a.mode != modeNormal {
			return nil
		}
		tw, bh, _, _ := a.lensGeometry()
		y := m.Y - a.bodyTop()
		if m.X < tw && y >= 0 && y < bh && a.lens.table.SetCursorScreenRow(y) && m.X < 2 {
			a.lens.table.Toggle() // the gutter toggles, like a disclosure triangle
		}
	}
	return nil
}

func (a *App) onWheel(m tea.Mouse) {
	d := 3
	if m.Button == tea.MouseWheelUp {
		d = -3
	} else if m.Button != tea.MouseWheelDown {
		return
	}
	switch a.screen {
	case screenHome:
		a.homeCursor = min(max(a.homeCursor+d/3, 0), max(len(a.homeList())-1, 0))
	case screenLens:
		if a.mode == modeHelp {
			a.helpOff = max(a.helpOff+d, 0)
			return
		}
		a.lens.table.Scroll(d)
	}
}

// homeList is the Lens list narrowed by the home filter (fuzzy: letters in order), best
// matches first: names that start with the filter, then names that contain it, then names
// that match it fuzzily, then owners and descriptions that hold each of its words, each in
// list order. So "fin" puts Finished first and skips a Lens whose description says "with
// formatting".
func (a *App) homeList() []LensInfo {
	if a.homeFilter == "" {
		return a.lenses
	}
	type match struct {
		l    LensInfo
		rank int
	}
	var ms []match
	f := strings.ToLower(strings.TrimSpace(a.homeFilter))
	for _, l := range a.lenses {
		name := strings.ToLower(l.Name)
		switch {
		case strings.HasPrefix(name, f):
			ms = append(ms, match{l, 0})
		case strings.Contains(name, f):
			ms = append(ms, match{l, 1})
		case fuzzy(f, name):
			ms = append(ms, match{l, 2})
		case wordsIn(a.homeFilter, l.Owner+" "+l.Description):
			// Words, not scattered letters: those would match almost any description.
			ms = append(ms, match{l, 3})
		}
	}
	slices.SortStableFunc(ms, func(x, y match) int { return x.rank - y.rank })
	out := make([]LensInfo, len(ms))
	for i, m := range ms {
		out[i] = m.l
	}
	return out
}

// fuzzy reports whether the letters of pattern appear in s in order, ignoring case.
func fuzzy(pattern, s string) bool {
	s = strings.ToLower(s)
	for _, r := range strings.ToLower(pattern) {
		if r == ' ' {
			continue
		}
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+len(string(r)):]
	}
	return true
}

// copyFallbackMsg says the system clipboard refused text: it goes to the terminal's.
type copyFallbackMsg struct {
	text string
	why  error
}

// errRemoteClipboard is why y does not use the system clipboard in an SSH session.
var errRemoteClipboard = errors.New("an SSH session: the system clipboard here is the server's")

// systemClipboard is the OS clipboard, unless this is an SSH session.
func systemClipboard(text string) error {
	if os.Getenv("SSH_CONNECTION") != "" || os.Getenv("SSH_TTY") != "" {
		return errRemoteClipboard
	}
	return clipboard.WriteAll(text)
}
