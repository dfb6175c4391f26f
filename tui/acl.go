package tui

// The ACL editor: a self-contained component showing a Lens's owner and access list with an
// explanation line per entry, and changing it: add an entry through a picker per principal
// kind (user search against Jira, group search, project + role, anyone), change a level,
// remove an entry, transfer ownership (owner only, confirmed). Changes apply at once through
// the ACLBackend; other open views of the same cache see them through the change feed.
//
// Wiring: the App opens it with NewACLEditor(ctx, backend, lensID) on `a` (Lens screen: the
// open Lens; home: the Lens under the cursor), runs its Init command, routes messages to
// Update while it is open, draws View in place of the screen body, and closes it when
// Update returns a command yielding ACLClosedMsg.

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"foundation/lens"
)

// ACLBackend is what the ACL editor asks of the world. The real one is refresh.ChangeACL
// and refresh.ExplainACL over the cache, with the site's Jira client for the pickers.
// Every method may run on a command goroutine and must honour ctx.
type ACLBackend interface {
	// LoadACL reads the Lens's access list as the viewer sees it.
	LoadACL(ctx context.Context, lensID string) (ACLState, error)
	// ChangeACL applies one change on behalf of the viewer, based on version, and returns
	// the access list after it. Refusals (*refresh.AccessError) and conflicts come back as
	// errors, which the editor shows.
	ChangeACL(ctx context.Context, lensID string, change ACLChange, version int64) (ACLState, error)
	// SearchUsers finds users by name or email (Jira's user search).
	SearchUsers(ctx context.Context, query string) ([]ACLCandidate, error)
	// SearchGroups finds groups by name (Jira's group picker).
	SearchGroups(ctx context.Context, query string) ([]ACLCandidate, error)
	// Projects lists the projects whose roles can be granted (the cached projects' keys).
	Projects(ctx context.Context) ([]ACLCandidate, error)
	// ProjectRoles lists a project's role names.
	ProjectRoles(ctx context.Context, project string) ([]ACLCandidate, error)
}

// ACLProvider is implemented by a Backend that can edit Lens access lists: the App offers
// the ACL editor (`a`) when its Backend does.
type ACLProvider interface {
	ACL() ACLBackend
}

// ACLState is a Lens's access list as the viewer sees it.
type ACLState struct {
	Lens    string
	Version int64
	Owner   string // user id
	// Entries are the owner line first, then the ACL entries, each with its explanation.
	Entries []ACLRow
	// Level is the viewer's level (view, edit, generators, control; "none"), You the line
	// saying where it comes from ("bob: edit via group jira-developers").
	Level   string
	You     string
	IsOwner bool
}

// ACLRow is one line of the editor.
type ACLRow struct {
	Principal   string // "user:alice", "group:x", "role:ALPHA/Developers", "anyone"; "owner:ID" for the owner
	Kind        string // owner, user, group, role, anyone
	Level       string
	Explanation string
}

// ACLChange is one change: entries granted (added or their level changed), principals
// revoked, or a new owner.
type ACLChange struct {
	Grant  []lens.ACLEntry
	Revoke []string
	Owner  string
}

// ACLCandidate is one pick: an id to write into the principal, and what to show.
type ACLCandidate struct {
	ID    string
	Label string
}

// ACLClosedMsg tells the App the editor was closed; Changed says whether anything was
// applied.
type ACLClosedMsg struct{ Changed bool }

type aclMode int

const (
	aclList aclMode = iota
	aclKind
	aclSearch  // typing a query, results below
	aclProject // picking a project for a role
	aclRole    // picking a role of the project
	aclLevel   // picking a level for the new or selected entry
	aclConfirm // yes/no for remove or transfer
)

var aclKinds = []string{"user", "group", "role", "anyone"}

var aclLevels = []string{"view", "edit", "generators", "control"}

// Messages of the editor's commands, tagged with the request they answer so a stale one
// (the query has changed since) is dropped.
type (
	aclLoadedMsg struct {
		state ACLState
		err   error
		apply bool // the answer to a change
	}
	aclPickMsg struct {
		seq   int
		items []ACLCandidate
		err   error
	}
)

// ACLEditor is the component. The zero value is not usable: see NewACLEditor.
type ACLEditor struct {
	ctx    context.Context
	be     ACLBackend
	lensID string

	state   ACLState
	loaded  bool
	cursor  int
	mode    aclMode
	kind    string // principal kind being added, or "owner" while picking a new owner
	project string // role picker: the chosen project
	input   textinput.Model
	picks   []ACLCandidate
	pickCur int
	pickSeq int
	levCur  int
	target  string // principal the level picker or confirmation is about
	confirm string // the question asked
	onYes   func() tea.Cmd
	busy    bool
	message string
	msgErr  bool
	changed bool
	width   int
}

// NewACLEditor makes an editor for the Lens lensID; run its Init command to load the list.
func NewACLEditor(ctx context.Context, be ACLBackend, lensID string) *ACLEditor {
	in := textinput.New()
	in.Prompt = "search: "
	in.CharLimit = 200
	return &ACLEditor{ctx: ctx, be: be, lensID: lensID, input: in, width: 80}
}

// Init loads the access list.
func (e *ACLEditor) Init() tea.Cmd { return e.load() }

// SetWidth sets the width View wraps to.
func (e *ACLEditor) SetWidth(w int) { e.width = max(w, 20) }

func (e *ACLEditor) load() tea.Cmd {
	ctx, be, id := e.ctx, e.be, e.lensID
	e.busy = true
	return func() tea.Msg {
		st, err := be.LoadACL(ctx, id)
		return aclLoadedMsg{state: st, err: err}
	}
}

// Refresh reloads the list when the cache changed underneath (another session changed it),
// unless the editor is in the middle of something: a picker, a question or a request. Then
// the list stays as the viewer saw it, and a change made from it meets the conflict check.
func (e *ACLEditor) Refresh() tea.Cmd {
	if e.mode != aclList || e.busy {
		return nil
	}
	return e.load()
}

func (e *ACLEditor) apply(change ACLChange) tea.Cmd {
	ctx, be, id, version := e.ctx, e.be, e.lensID, e.state.Version
	e.busy = true
	e.message, e.msgErr = "applying…", false
	return func() tea.Msg {
		st, err := be.ChangeACL(ctx, id, change, version)
		if err == nil {
			st.You = strings.TrimSpace(st.You)
		}
		return aclLoadedMsg{state: st, err: err, apply: true}
	}
}

// Update handles one message and returns the command to run.
func (e *ACLEditor) Update(msg tea.Msg) (*ACLEditor, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		e.SetWidth(msg.Width)
	case aclLoadedMsg:
		e.busy = false
		if msg.err != nil {
			e.message, e.msgErr = msg.err.Error(), true
			if msg.apply {
				// The list may have moved on (a conflict): show what is stored now.
				return e, e.load()
			}
			return e, nil
		}
		e.state, e.loaded = msg.state, true
		e.cursor = min(e.cursor, max(len(e.state.Entries)-1, 0))
		if msg.apply {
			e.changed = true
			e.message, e.msgErr = "applied", false
		}
	case aclPickMsg:
		if msg.seq != e.pickSeq {
			return e, nil // an answer to a query that has changed since
		}
		e.busy = false
		if msg.err != nil {
			e.message, e.msgErr = msg.err.Error(), true
			return e, nil
		}
		e.picks, e.pickCur = msg.items, 0
		if len(msg.items) == 0 {
			e.message, e.msgErr = "nothing found", false
		} else {
			e.message = ""
		}
	case tea.KeyPressMsg:
		return e.onKey(msg)
	}
	return e, nil
}

func (e *ACLEditor) closeCmd() tea.Cmd {
	changed := e.changed
	return func() tea.Msg { return ACLClosedMsg{Changed: changed} }
}

// mayChange says whether the viewer may change the list, and if not sets the reason.
func (e *ACLEditor) mayChange() bool {
	if e.state.Level == lens.LevelControl.String() {
		return true
	}
	level := e.state.Level
	if level == "" {
		level = "none"
	}
	e.message, e.msgErr = fmt.Sprintf("you need control to change the access list (you have %s)", level), true
	return false
}

func (e *ACLEditor) onKey(k tea.KeyPressMsg) (*ACLEditor, tea.Cmd) {
	key := k.String()
	switch e.mode {
	case aclList:
		return e.onListKey(key)
	case aclKind:
		switch key {
		case "esc":
			e.mode = aclList
		case "up", "k":
			e.pickCur = max(e.pickCur-1, 0)
		case "down", "j":
			e.pickCur = min(e.pickCur+1, len(aclKinds)-1)
		case "enter":
			e.kind = aclKinds[e.pickCur]
			return e, e.startPick()
		}
		return e, nil
	case aclSearch, aclProject, aclRole:
		return e.onPickKey(k)
	case aclLevel:
		switch key {
		case "esc":
			e.mode, e.message = aclList, ""
		case "up", "k":
			e.levCur = max(e.levCur-1, 0)
		case "down", "j":
			e.levCur = min(e.levCur+1, len(aclLevels)-1)
		case "enter":
			e.mode, e.message = aclList, ""
			level := aclLevels[e.levCur]
			return e, e.apply(ACLChange{Grant: []lens.ACLEntry{{Principal: e.target, Level: level}}})
		}
		return e, nil
	case aclConfirm:
		switch key {
		case "y", "Y":
			e.mode = aclList
			return e, e.onYes()
		case "n", "N", "esc", "enter": // the default is no
			e.mode = aclList
			e.message, e.msgErr = "nothing changed", false
		}
		return e, nil
	}
	return e, nil
}

func (e *ACLEditor) onListKey(key string) (*ACLEditor, tea.Cmd) {
	e.message = ""
	if !e.loaded && key != "esc" && key != "q" {
		return e, nil
	}
	sel := e.selected()
	switch key {
	case "esc", "q":
		return e, e.closeCmd()
	case "up", "k":
		e.cursor = max(e.cursor-1, 0)
	case "down", "j":
		e.cursor = min(e.cursor+1, max(len(e.state.Entries)-1, 0))
	case "r":
		return e, e.load()
	case "a", "+":
		if e.mayChange() {
			e.mode, e.pickCur = aclKind, 0
		}
	case "enter", "l":
		if sel == nil || sel.Kind == "owner" {
			e.message, e.msgErr = "the owner always has control: transfer ownership with o", false
			return e, nil
		}
		if e.mayChange() {
			e.target, e.mode = sel.Principal, aclLevel
			e.levCur = max(aclIndex(aclLevels, sel.Level), 0)
		}
	case "d", "x", "delete":
		if sel == nil || sel.Kind == "owner" {
			e.message, e.msgErr = "the owner cannot be removed: transfer ownership with o", false
			return e, nil
		}
		if e.mayChange() {
			p := sel.Principal
			e.ask(fmt.Sprintf("Remove %s (%s)? [y/N]", p, sel.Level), func() tea.Cmd {
				return e.apply(ACLChange{Revoke: []string{p}})
			})
		}
	case "o":
		if !e.state.IsOwner {
			e.message, e.msgErr = "only the owner may transfer ownership", true
			return e, nil
		}
		e.kind = "owner"
		return e, e.startPick()
	}
	return e, nil
}

func (e *ACLEditor) ask(question string, yes func() tea.Cmd) {
	e.mode, e.confirm, e.onYes = aclConfirm, question, yes
}

func (e *ACLEditor) selected() *ACLRow {
	if e.cursor < 0 || e.cursor >= len(e.state.Entries) {
		return nil
	}
	return &e.state.Entries[e.cursor]
}

// startPick opens the picker for e.kind.
func (e *ACLEditor) startPick() tea.Cmd {
	e.picks, e.pickCur, e.message = nil, 0, ""
	switch e.kind {
	case "anyone":
		e.pickLevel("anyone")
		return nil
	case "role":
		e.mode = aclProject
		e.input.Prompt = "project: "
		e.input.SetValue("")
		e.focus()
		return e.query("")
	default: // user, group, owner (a user)
		e.mode = aclSearch
		e.input.Prompt = "search " + map[bool]string{true: "groups", false: "users"}[e.kind == "group"] + ": "
		e.input.SetValue("")
		e.focus()
		return nil
	}
}

// focus focuses the input with a steady cursor: a blinking one would keep a timer running
// for as long as the editor is open.
func (e *ACLEditor) focus() {
	_ = e.input.Focus() // the command only blinks the cursor
}

// query asks the backend for candidates matching the input, for the current picker.
func (e *ACLEditor) query(text string) tea.Cmd {
	e.pickSeq++
	seq, ctx, be, kind, mode, project := e.pickSeq, e.ctx, e.be, e.kind, e.mode, e.project
	e.busy = true
	return func() tea.Msg {
		var items []ACLCandidate
		var err error
		switch {
		case mode == aclProject:
			items, err = be.Projects(ctx)
			items = aclFilter(items, text)
		case mode == aclRole:
			items, err = be.ProjectRoles(ctx, project)
			items = aclFilter(items, text)
		case kind == "group":
			items, err = be.SearchGroups(ctx, text)
		default:
			items, err = be.SearchUsers(ctx, text)
		}
		return aclPickMsg{seq: seq, items: items, err: err}
	}
}

func aclFilter(items []ACLCandidate, text string) []ACLCandidate {
	text = strings.ToLower(strings.TrimSpace(text))
	if text == "" {
		return items
	}
	var out []ACLCandidate
	for _, c := range items {
		if strings.Contains(strings.ToLower(c.ID+" "+c.Label), text) {
			out = append(out, c)
		}
	}
	return out
}

func (e *ACLEditor) onPickKey(k tea.KeyPressMsg) (*ACLEditor, tea.Cmd) {
	switch k.String() {
	case "esc":
		e.input.Blur()
		e.mode = aclList
		return e, nil
	case "up":
		e.pickCur = max(e.pickCur-1, 0)
		return e, nil
	case "down", "tab":
		e.pickCur = min(e.pickCur+1, max(len(e.picks)-1, 0))
		return e, nil
	case "enter":
		if len(e.picks) == 0 {
			// Enter on a typed query searches; on results it picks.
			return e, e.query(e.input.Value())
		}
		return e, e.picked(e.picks[e.pickCur])
	}
	before := e.input.Value()
	// The input's own commands only blink its cursor: the editor keeps no timers.
	e.input, _ = e.input.Update(k)
	if e.input.Value() == before {
		return e, nil
	}
	// The query changed: old results no longer apply. Projects and roles filter as one
	// types; Jira searches run on enter, so typing does not flood its rate limit.
	e.picks = nil
	if e.mode == aclProject || e.mode == aclRole {
		return e, e.query(e.input.Value())
	}
	e.pickSeq++ // drop the answer of a search still running
	return e, nil
}

// picked moves on from a chosen candidate.
func (e *ACLEditor) picked(c ACLCandidate) tea.Cmd {
	switch {
	case e.mode == aclProject:
		e.project, e.mode = c.ID, aclRole
		e.input.Prompt = "role in " + c.ID + ": "
		e.input.SetValue("")
		e.picks = nil
		return e.query("")
	case e.mode == aclRole:
		e.input.Blur()
		e.pickLevel("role:" + e.project + "/" + c.ID)
		return nil
	case e.kind == "owner":
		e.input.Blur()
		e.mode = aclList
		id, label := c.ID, c.Label
		e.ask(fmt.Sprintf("Transfer ownership of %s to %s? You keep only what the access list gives you. [y/N]", e.state.Lens, label), func() tea.Cmd {
			return e.apply(ACLChange{Owner: "user:" + id})
		})
		return nil
	default:
		e.input.Blur()
		e.pickLevel(e.kind + ":" + c.ID)
		return nil
	}
}

// pickLevel opens the level picker for a principal being added. One already on the list
// is not silently given another level: the picker starts at its level and says so.
func (e *ACLEditor) pickLevel(principal string) {
	e.target, e.mode, e.levCur = principal, aclLevel, 0
	for _, r := range e.state.Entries {
		if r.Principal == principal && r.Kind != "owner" {
			e.levCur = max(aclIndex(aclLevels, r.Level), 0)
			e.message, e.msgErr = fmt.Sprintf("%s is already on the list with %s: enter changes its level, esc keeps it", principal, r.Level), true
			return
		}
	}
}

func aclIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// View draws the editor: a title, the entries (principal, kind, level, explanation), the
// viewer's own access, then the picker or question of the current step and the keys.
func (e *ACLEditor) View() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Access to %s", e.lensID)
	if e.loaded {
		fmt.Fprintf(&b, " (version %d)", e.state.Version)
	}
	b.WriteString("\n\n")
	if !e.loaded {
		if e.busy {
			b.WriteString("loading…\n")
		}
		e.footer(&b)
		return b.String()
	}
	pw, kw := len("PRINCIPAL"), len("KIND")
	for _, r := range e.state.Entries {
		pw, kw = max(pw, len(r.Principal)), max(kw, len(r.Kind))
	}
	row := func(cur bool, p, k, l string) string {
		mark := "  "
		if cur {
			mark = "> "
		}
		return fmt.Sprintf("%s%-*s  %-*s  %s", mark, pw, p, kw, k, l)
	}
	b.WriteString(row(false, "PRINCIPAL", "KIND", "LEVEL") + "\n")
	for i, r := range e.state.Entries {
		b.WriteString(aclClip(row(i == e.cursor && e.mode == aclList, r.Principal, r.Kind, r.Level), e.width) + "\n")
		b.WriteString(aclClip("      "+r.Explanation, e.width) + "\n")
	}
	if len(e.state.Entries) == 0 {
		b.WriteString("  (no entries)\n")
	}
	b.WriteString("\nYou: " + e.state.You + "\n")
	switch e.mode {
	case aclKind:
		b.WriteString("\nAdd an entry for:\n")
		for i, k := range aclKinds {
			b.WriteString(aclPickLine(i == e.pickCur, k) + "\n")
		}
	case aclSearch, aclProject, aclRole:
		b.WriteString("\n" + e.input.View() + "\n")
		for i, c := range e.picks {
			if i >= 10 {
				fmt.Fprintf(&b, "  … %d more: narrow the search\n", len(e.picks)-i)
				break
			}
			label := c.ID
			if c.Label != "" && c.Label != c.ID {
				label += "  " + c.Label
			}
			b.WriteString(aclClip(aclPickLine(i == e.pickCur, label), e.width) + "\n")
		}
	case aclLevel:
		fmt.Fprintf(&b, "\nLevel for %s:\n", e.target)
		for i, l := range aclLevels {
			b.WriteString(aclPickLine(i == e.levCur, l) + "\n")
		}
	case aclConfirm:
		b.WriteString("\n" + e.confirm + "\n")
	}
	e.footer(&b)
	return b.String()
}

func (e *ACLEditor) footer(b *strings.Builder) {
	if e.message != "" {
		prefix := ""
		if e.msgErr {
			prefix = "! "
		}
		b.WriteString("\n" + aclClip(prefix+e.message, e.width) + "\n")
	}
	var keys string
	switch e.mode {
	case aclList:
		keys = "a add · enter level · d remove · o transfer ownership · r reload · esc close"
	case aclSearch:
		keys = "type, enter to search · ↑/↓ choose · enter pick · esc back"
	case aclConfirm:
		keys = "y yes · n no"
	default:
		keys = "↑/↓ choose · enter pick · esc back"
	}
	b.WriteString("\n" + aclClip(keys, e.width))
}

func aclPickLine(cur bool, s string) string {
	if cur {
		return "> " + s
	}
	return "  " + s
}

// clip cuts s to width runes, marking the cut.
func aclClip(s string, width int) string {
	r := []rune(s)
	if width <= 1 || len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}
