package tui

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"foundation/jql"
)

// onKey routes a key press: text modes first (they own printable keys), then the keymap.
func (a *App) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return a.requestQuit()
	}
	switch a.mode {
	case modeSearch, modeFilter, modePalette, modeHomeFilter:
		return a.onInputKey(msg)
	case modeHelp:
		return a.onHelpKey(msg)
	case modeColumns:
		return a.onColumnsKey(msg)
	case modeEdit:
		return a.onEditKey(msg)
	case modeDialog:
		return a.onDialogKey(msg)
	case modeACL:
		return a.onACLMsg(msg)
	}
	act, ok := a.keys.LookupAvailable(msg, a.available)
	if !ok {
		return nil
	}
	return a.do(act, msg.String())
}

// do runs an action, from a key or from the palette. keyText is the key that triggered it
// (the level digit for expand-to-level).
func (a *App) do(act Action, keyText string) tea.Cmd {
	a.message = ""
	// Actions that work on every screen.
	switch act {
	case ActQuit:
		return a.requestQuit()
	case ActHelp:
		a.mode, a.helpOff = modeHelp, 0
		return nil
	case ActPalette:
		a.openPalette()
		return nil
	case ActRefresh:
		a.refreshAsked = true // also when one is already running: its outcome is reported
		return a.refresh()
	case ActToggleMouse:
		a.mouse = !a.mouse
		if a.mouse {
			a.notice("mouse on: click a row, click the margin to fold, wheel to scroll · M turns it off", false)
		} else {
			a.notice("mouse off: the terminal selects text again · M turns it on", false)
		}
		return nil
	case ActACL:
		return a.openACL()
	}
	if a.screen == screenHome {
		return a.doHome(act)
	}
	if b, ok := a.keys.Binding(act); ok && b.Group == groupEdit {
		if !a.available(b) {
			a.notice("this profile cannot edit from here", true)
			return nil
		}
		return a.doEdit(act, keyText)
	}
	return a.doLens(act, keyText)
}

func (a *App) doHome(act Action) tea.Cmd {
	list := a.homeList()
	switch act {
	case ActUp:
		a.homeCursor = max(a.homeCursor-1, 0)
	case ActDown:
		a.homeCursor = min(a.homeCursor+1, max(len(list)-1, 0))
	case ActTop:
		a.homeCursor = 0
	case ActBottom:
		a.homeCursor = max(len(list)-1, 0)
	case ActSearch, ActFilter:
		a.mode = modeHomeFilter
		a.input.SetValue(a.homeFilter)
		a.input.CursorEnd()
		return a.input.Focus()
	case ActBack:
		a.homeFilter = ""
	case ActDetail, ActExpand, ActSelect:
		if a.homeCursor < len(list) {
			return a.openLens(list[a.homeCursor])
		}
	}
	return nil
}

func (a *App) doLens(act Action, keyText string) tea.Cmd {
	ls := a.lens
	t := ls.table
	switch act {
	case ActUp:
		t.Move(-1)
	case ActDown:
		t.Move(1)
	case ActTop:
		t.Top()
	case ActBottom:
		t.Bottom()
	case ActHalfDown:
		t.Move(t.HalfPage())
	case ActHalfUp:
		t.Move(-t.HalfPage())
	case ActCollapse:
		t.Collapse()
	case ActExpand:
		t.Expand()
	case ActToggle, ActSelect:
		t.Toggle()
	case ActExpandSubtree:
		t.ExpandSubtree()
	case ActCollapseSub:
		t.CollapseSubtree()
	case ActExpandAll:
		t.ExpandAll()
	case ActCollapseAll:
		t.CollapseAll()
	case ActLevel:
		if len(keyText) == 1 && keyText[0] >= '1' && keyText[0] <= '9' {
			t.ExpandToLevel(int(keyText[0] - '0'))
		}
	case ActColLeft:
		t.MoveColumn(-1)
	case ActColRight:
		t.MoveColumn(1)
	case ActWiden:
		t.ResizeColumn(2)
	case ActNarrow:
		t.ResizeColumn(-2)
	case ActSort:
		a.cycleSort()
	case ActNextView:
		if len(ls.built.Views) > 1 {
			next := ls.built.Views[0]
			for i, v := range ls.built.Views {
				if v == ls.view {
					next = ls.built.Views[(i+1)%len(ls.built.Views)]
				}
			}
			return a.switchView(next)
		}
		a.notice("this Lens has one view ("+ls.view+")", false)
	case ActChooseColumns:
		a.mode, a.colPick = modeColumns, ""
		a.input.SetValue("")
		return a.input.Focus()
	case ActDetail:
		ls.detail = !ls.detail
		a.layout()
	case ActSearch:
		a.mode = modeSearch
		ls.search, ls.searchFrom = "", t.CursorID()
		t.SetQuery("")
		a.input.SetValue("")
		return a.input.Focus()
	case ActNextMatch, ActPrevMatch:
		if ls.search == "" {
			return nil
		}
		dir := 1
		if act == ActPrevMatch {
			dir = -1
		}
		if !t.Find(ls.search, t.Cursor()+dir, dir) {
			a.notice("no match for "+ls.search, true)
		}
	case ActFilter:
		a.mode, a.filterEnter = modeFilter, false
		ls.prev, ls.prevJira = ls.filter, ls.filterJira
		a.input.SetValue(ls.filter)
		a.input.CursorEnd()
		return a.input.Focus()
	case ActClearFilter:
		if ls.filter != "" {
			req := ls.request()
			req.Filter, req.FilterByJira = "", false
			return a.build(req, ls.info, reasonFilter, nil)
		}
	case ActOpen:
		if r := ls.issueAt(t.CursorRow()); r != nil {
			if a.opt.SiteURL == "" {
				a.notice("no site URL to open "+r.Key, true)
				return nil
			}
			url := strings.TrimRight(a.opt.SiteURL, "/") + "/browse/" + r.Key
			open := a.opt.OpenURL
			return func() tea.Msg {
				if err := open(url); err != nil {
					return noticeMsg{text: err.Error(), err: true}
				}
				return noticeMsg{text: "opened " + url}
			}
		}
		a.noIssueHere("to open")
	case ActCopy:
		if r := ls.issueAt(t.CursorRow()); r != nil {
			cp, k := a.opt.Copy, r.Key
			return func() tea.Msg {
				if err := cp(k); err != nil {
					return copyFallbackMsg{text: k, why: err}
				}
				return noticeMsg{text: "copied " + k}
			}
		}
		a.noIssueHere("to copy")
	case ActHome:
		a.askingJira = false // the answer is dropped with the Lens
		a.edit.marks, a.edit.cut, a.edit.anchor = map[string]bool{}, nil, ""
		save := a.savePrefs()
		a.screen, a.lens = screenHome, nil
		a.supersede() // drop (and stop) builds for the Lens just left
		a.building = false
		// The list again: the Lens just left has a size now, and others may have changed.
		return tea.Batch(save, a.loadLensesQuiet())
	case ActBack:
		switch {
		case a.edit.anchor != "" || a.edit.cut != nil || len(a.edit.marks) > 0:
			a.edit.anchor, a.edit.cut = "", nil
			a.edit.marks = map[string]bool{}
			t.SetMarks(a.edit.marks)
			t.SetCut("")
			a.notice("marks and cut cleared", false)
		case ls.search != "":
			ls.search = ""
			t.SetQuery("")
		case ls.detail:
			ls.detail = false
			a.layout()
		}
	}
	return nil
}

// noIssueHere says why o or y did nothing: the cursor row is a group, not an issue.
func (a *App) noIssueHere(what string) {
	if a.lens.table.CursorRow() < 0 {
		a.notice("no row here: nothing "+what, true)
		return
	}
	a.notice("a group row has no issue "+what+" · move to an issue row", true)
}

// cycleSort sorts by the column under the cursor: ascending, descending, then off.
func (a *App) cycleSort() {
	ls := a.lens
	cols := ls.base.Columns()
	c := ls.table.ColumnCursor()
	if c >= len(cols) {
		return
	}
	title := cols[c].Title
	switch {
	case ls.sortCol != title:
		ls.sortCol, ls.sortDesc = title, false
	case !ls.sortDesc:
		ls.sortDesc = true
	default:
		ls.sortCol, ls.sortDesc = "", false
	}
	ls.table.SetTree(ls.sorted())
}

// onInputKey handles the text prompts. Every keystroke takes effect at once: search jumps,
// the palette and home list narrow, the filter's syntax is checked; the filter rebuilds
// once typing pauses (filterPause) or on enter.
func (a *App) onInputKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		return a.cancelInput()
	case "enter":
		return a.acceptInput()
	case "up", "ctrl+p":
		if a.mode == modePalette {
			a.palCursor = max(a.palCursor-1, 0)
		} else if a.mode == modeHomeFilter {
			a.homeCursor = max(a.homeCursor-1, 0)
		}
		return nil
	case "down", "ctrl+n":
		if a.mode == modePalette {
			a.palCursor = min(a.palCursor+1, max(len(a.palette)-1, 0))
		} else if a.mode == modeHomeFilter {
			a.homeCursor = min(a.homeCursor+1, max(len(a.homeList())-1, 0))
		}
		return nil
	}
	before := a.input.Value()
	var cmd tea.Cmd
	a.input, cmd = a.input.Update(msg)
	if v := a.input.Value(); v != before {
		return tea.Batch(cmd, a.onInputChanged(v))
	}
	return cmd
}

func (a *App) onInputChanged(v string) tea.Cmd {
	switch a.mode {
	case modeSearch:
		ls := a.lens
		ls.search = v
		ls.table.SetQuery(v)
		if v != "" && !ls.table.Find(v, ls.table.Cursor(), 1) {
			ls.table.ReturnTo(ls.searchFrom) // not left on an earlier text's match
			a.notice("no match", true)
		} else {
			a.message = ""
		}
	case modeFilter:
		// The error shown is this text's: a syntax error at once, as parsing is quick; any
		// other when its build answers, which on a big Lens may take a while.
		a.filterErr, a.filterAskJira, a.filterEnter = nil, false, false
		if f := strings.TrimSpace(v); f != "" {
			var je *jql.Error
			if _, err := jql.Parse(f); errors.As(err, &je) {
				a.filterErr = je
			}
		}
		// The build waits for a pause in typing: on a 100,000-issue Lens one takes up to a
		// second, and one per keystroke would queue a dozen for `status = Done`. The build
		// of an earlier text stops now; its answer would be stale.
		a.supersede()
		a.building, a.filterDue = true, true
		seq := a.buildSeq
		return a.opt.Tick(filterPause, func(time.Time) tea.Msg { return filterTickMsg{seq: seq} })
	case modePalette:
		a.filterPalette(v)
	case modeHomeFilter:
		a.homeFilter = v
		a.homeCursor = 0
	}
	return nil
}

// filterPause is how long typing in the filter prompt must pause before its text is built.
const filterPause = 150 * time.Millisecond

// buildTyped builds the filter prompt's text, evaluated locally.
func (a *App) buildTyped() tea.Cmd {
	ls := a.lens
	req := ls.request()
	req.Filter, req.FilterByJira = strings.TrimSpace(a.input.Value()), false
	return a.build(req, ls.info, reasonFilter, nil)
}

func (a *App) cancelInput() tea.Cmd {
	m := a.mode
	a.mode = modeNormal
	a.input.Blur()
	switch m {
	case modeSearch:
		a.lens.search = ""
		a.lens.table.SetQuery("")
	case modeFilter:
		a.filterErr, a.filterAskJira, a.filterEnter = nil, false, false
		ls := a.lens
		if ls.filter != ls.prev || ls.filterJira != ls.prevJira || a.building {
			req := ls.request()
			req.Filter, req.FilterByJira = ls.prev, ls.prevJira
			return a.build(req, ls.info, reasonFilter, nil)
		}
	case modeHomeFilter:
		a.homeFilter = ""
	}
	return nil
}

func (a *App) acceptInput() tea.Cmd {
	m := a.mode
	switch m {
	case modeFilter:
		if a.filterErr != nil && !a.filterAskJira {
			return nil // stay in the prompt until the JQL is fixed or esc
		}
		if a.filterDue {
			// No need to wait for the pause: build the text now, and take effect when it
			// answers whether the text works.
			a.filterEnter = true
			return a.buildTyped()
		}
		if a.building {
			// Whether the text works is not known yet: enter takes effect when it is.
			a.filterEnter = true
			return nil
		}
		if a.filterErr != nil && a.status.Offline {
			// Asking would only wait out the retries to fail: say so now and stay in the
			// prompt (the line under it says why; esc restores the previous filter).
			return nil
		}
		if a.filterErr != nil {
			// Local evaluation cannot answer it: Jira does, and the rows follow its answer.
			a.filterErr, a.filterAskJira = nil, false
			a.mode = modeNormal
			a.input.Blur()
			ls := a.lens
			req := ls.request()
			req.Filter, req.FilterByJira = strings.TrimSpace(a.input.Value()), true
			a.notice("asking Jira for the filter…", false)
			a.askingJira = true
			return a.build(req, ls.info, reasonFilter, nil)
		}
	case modePalette:
		a.mode = modeNormal
		a.input.Blur()
		if a.palCursor < len(a.palette) {
			return a.palette[a.palCursor].run(a)
		}
		return nil
	case modeHomeFilter:
		a.mode = modeNormal
		a.input.Blur()
		return a.doHome(ActSelect)
	}
	a.mode = modeNormal
	a.input.Blur()
	return nil
}

// homeActions are the actions the home screen (the Lens list) acts on.
var homeActions = map[Action]bool{
	ActUp: true, ActDown: true, ActTop: true, ActBottom: true, ActSearch: true, ActFilter: true,
	ActBack: true, ActDetail: true, ActExpand: true, ActSelect: true, ActQuit: true, ActHelp: true,
	ActPalette: true, ActRefresh: true, ActToggleMouse: true, ActACL: true,
}

// homeSay is what help says those actions do on the Lens list.
var homeSay = map[Action]string{
	ActTop: "first Lens", ActBottom: "last Lens", ActSearch: "narrow the list", ActFilter: "narrow the list",
	ActBack: "clear the narrowing", ActDetail: "open the Lens", ActExpand: "open the Lens",
}

// helpAvailable is what help and the palette list: the available actions that act on
// the screen shown (the Lens list has no tree, columns or rows to edit).
func (a *App) helpAvailable(b Binding) bool {
	return a.available(b) && (a.screen != screenHome || homeActions[b.Action])
}

func (a *App) onHelpKey(msg tea.KeyPressMsg) tea.Cmd {
	act, _ := a.keys.LookupAvailable(msg, a.available)
	switch {
	case msg.String() == "esc" || act == ActHelp || act == ActQuit:
		a.mode = modeNormal
	case act == ActDown:
		a.helpOff++
	case act == ActUp:
		a.helpOff = max(a.helpOff-1, 0)
	}
	return nil
}

// chooserItems lists the column chooser's rows, narrowed by the text typed: the view's
// columns (shown or hidden) in their order, then the cache's fields not yet shown, which
// can be added as columns, by name (best matches first while narrowing).
func (a *App) chooserItems() []chooserItem {
	ls := a.lens
	q := a.input.Value()
	var out, fields []chooserItem
	have := map[string]bool{}
	cols := ls.base.Columns()
	extras := ls.extras[ls.view]
	firstAdded := len(cols) - len(extras) // added columns come last, in order
	fieldID := map[string]string{}        // a field's id or name, lower case -> its id
	for _, f := range ls.built.Fields {
		fieldID[strings.ToLower(f.ID)], fieldID[strings.ToLower(f.Name)] = f.ID, f.ID
	}
	for i, c := range cols {
		have[strings.ToLower(c.Title)] = true
		// A column titled other than its field ("Due" for Due date) still shows that field.
		if id, ok := fieldID[strings.ToLower(c.Field)]; ok {
			have[strings.ToLower(id)] = true
		}
		it := chooserItem{title: c.Title, col: i}
		if i >= firstAdded {
			it.added, it.field = true, extras[i-firstAdded]
		}
		if it.rank = chooserRank(q, it); it.rank != matchNone {
			out = append(out, it)
		}
	}
	for _, f := range ls.built.Fields {
		if have[strings.ToLower(f.Name)] || have[strings.ToLower(f.ID)] {
			continue
		}
		it := chooserItem{title: f.Name, col: -1, field: f.ID}
		if it.rank = chooserRank(q, it); it.rank != matchNone {
			fields = append(fields, it)
		}
	}
	slices.SortFunc(fields, func(x, y chooserItem) int {
		if x.rank != y.rank {
			return x.rank - y.rank
		}
		if c := strings.Compare(strings.ToLower(x.title), strings.ToLower(y.title)); c != 0 {
			return c
		}
		return strings.Compare(x.field, y.field)
	})
	return append(out, fields...)
}

type chooserItem struct {
	title string
	col   int    // index among the tree's columns; -1 for a field not shown
	field string // field id to add
	added bool   // a column the viewer added, field says which (removing it rebuilds)
	rank  int    // how well the typed text matches it
}

// chooserRank is how well typed text q matches an item: by its title, or by its whole field
// id (customfield_10016). Parts of ids are not matched: "sto" is in every "customfield_".
func chooserRank(q string, it chooserItem) int {
	if it.field != "" && strings.EqualFold(strings.TrimSpace(q), it.field) {
		return matchExact
	}
	return matchRank(q, it.title)
}

// id names an item across rebuilds: a field added becomes a column, and removed a field
// again, under the same id, so the cursor stays on it wherever the list moves it.
func (it chooserItem) id() string {
	if it.field != "" {
		return "field:" + strings.ToLower(it.field)
	}
	return "column:" + it.title
}

// chooserCursor is the index of the item under the chooser's cursor, the first when the
// list no longer has it.
func (a *App) chooserCursor(items []chooserItem) int {
	for i, it := range items {
		if it.id() == a.colPick {
			return i
		}
	}
	return 0
}

// onColumnsKey handles the column chooser, a picker like the palette: typed text narrows
// the list, arrows move, space shows, hides, adds or removes the column under the cursor.
func (a *App) onColumnsKey(msg tea.KeyPressMsg) tea.Cmd {
	items := a.chooserItems()
	cur := a.chooserCursor(items)
	pick := func(i int) {
		if len(items) > 0 {
			a.colPick = items[min(max(i, 0), len(items)-1)].id()
		}
	}
	switch msg.String() {
	case "esc", "enter":
		a.mode = modeNormal
		a.input.Blur()
		return nil
	case "up", "ctrl+p":
		pick(cur - 1)
		return nil
	case "down", "ctrl+n":
		pick(cur + 1)
		return nil
	case "pgup":
		pick(cur - max(a.height/2, 1))
		return nil
	case "pgdown":
		pick(cur + max(a.height/2, 1))
		return nil
	case "space":
		if cur >= len(items) {
			return nil
		}
		pick(cur) // the cursor stays on this item when the list moves it
		return a.toggleColumn(items[cur])
	}
	before := a.input.Value()
	var cmd tea.Cmd
	a.input, cmd = a.input.Update(msg)
	if a.input.Value() != before {
		a.colPick = "" // the best match
	}
	return cmd
}

// toggleColumn shows or hides a column of the view, or adds or removes a field's column.
func (a *App) toggleColumn(it chooserItem) tea.Cmd {
	ls := a.lens
	switch {
	case it.col == 0:
		a.notice("the tree column always shows", true)
	case it.col < 0: // add a field as a column
		req := ls.request()
		req.Extra = append(slices.Clone(ls.extras[ls.view]), it.field)
		return a.build(req, ls.info, reasonView, nil)
	case it.added: // remove an added column
		req := ls.request()
		req.Extra = slices.DeleteFunc(slices.Clone(ls.extras[ls.view]), func(s string) bool { return s == it.field })
		return a.build(req, ls.info, reasonView, nil)
	default:
		h := ls.table.Hidden()
		next := map[string]bool{}
		for k, v := range h {
			next[k] = v
		}
		next[it.title] = !h[it.title]
		ls.table.SetHidden(next)
	}
	return nil
}

// paletteItem is one entry of the command palette.
type paletteItem struct {
	label string
	hint  string
	run   func(a *App) tea.Cmd
}

var issueKeyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*-[0-9]+$`)

func (a *App) openPalette() {
	a.mode = modePalette
	a.input.SetValue("")
	a.input.Focus()
	a.filterPalette("")
}

// filterPalette lists every action by name, plus "jump to issue" when the text is an issue
// key and "open Lens" entries for the Lenses. The best matches come first: the text is a
// name or label, starts it, starts one of its words, is in it, then its letters scattered
// through it (so "sort" puts sort-by-column first and enter runs it).
func (a *App) filterPalette(v string) {
	a.palette = a.palette[:0]
	a.palCursor = 0
	q := strings.TrimSpace(v)
	if issueKeyRE.MatchString(q) && a.lens != nil {
		k := strings.ToUpper(q)
		a.palette = append(a.palette, paletteItem{label: "jump to issue " + k, run: func(a *App) tea.Cmd {
			a.jumpTo(k)
			return nil
		}})
	}
	type ranked struct {
		it   paletteItem
		rank int
	}
	var rs []ranked
	live := a.keys.liveKeys(a.helpAvailable)
	for _, b := range a.keys.Bindings() {
		if !a.helpAvailable(b) {
			continue
		}
		label := string(b.Action)
		rank := bestRank(q, label, b.Help().Desc)
		if rank == matchNone && fuzzy(q, label+" "+b.Help().Desc) {
			rank = matchFuzzy
		}
		if rank == matchNone {
			continue
		}
		act := b.Action
		hint := b.Help().Desc
		if keys := live[act]; keys != "" {
			hint += "  (" + keys + ")"
		}
		rs = append(rs, ranked{paletteItem{label: label, hint: hint, run: func(a *App) tea.Cmd {
			return a.do(act, "")
		}}, rank})
	}
	for _, l := range a.lenses {
		rank := bestRank(q, "open "+l.Name, l.Name)
		if rank == matchNone {
			continue
		}
		info := l
		rs = append(rs, ranked{paletteItem{label: "open " + l.Name, hint: "Lens", run: func(a *App) tea.Cmd {
			save := a.savePrefs()
			return tea.Batch(save, a.openLens(info))
		}}, rank})
	}
	slices.SortStableFunc(rs, func(x, y ranked) int { return x.rank - y.rank })
	for _, r := range rs {
		a.palette = append(a.palette, r.it)
	}
}

// jumpTo puts the cursor on the first row showing issue key, or says it is not there.
func (a *App) jumpTo(key string) {
	if !a.goToIssue(key) {
		a.notice(key+" is not in this Lens", true)
	}
}
