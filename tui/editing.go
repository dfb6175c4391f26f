package tui

// The app's side of editing: opening cell editors, showing written values as pending until
// the rebuilt Lens shows them (or rolling them back with Jira's message), the conflict
// dialog, undo and redo, marked rows and bulk set, and structure moves.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// suggestDelay is how long typing must pause before the backend is asked for completions:
// a user search per keystroke would hammer Jira.
const suggestDelay = 250 * time.Millisecond

// editState is everything editing adds to the open app.
type editState struct {
	cell    *cellEditor
	metaSeq int // newest EditMeta request; older answers are dropped
	sugSeq  int // newest completion request
	pend    map[int]*pendingEdit
	nextID  int
	marks   map[string]bool // marked row ids
	anchor  string          // V: the row id a range starts at; "" when none
	cut     *cutRow
	dialog  *dialog
	bulk    *bulkRun
	follow  string // a moved row's new id: the cursor goes there after the next build
	// followKey is the written issue the cursor was on: when the next build shows it
	// elsewhere (a Parent edit, its undo), the cursor goes to its row there.
	followKey string
	// titles are the column titles of fields edited this session, by field id: messages
	// about them (undo's too) name the column, not the id.
	titles map[string]string
	// inflight counts writes sent and not answered yet (edits, bulk edits, undo, redo,
	// moves); quitWait: quit was asked for while some were, so the app quits when the last
	// one lands (its audit entry and cache write done), or at a second quit.
	inflight int
	quitWait bool
}

// pendingEdit is a value written (or being written) to some issues' cells: drawn in the
// pending style until the rebuilt Lens shows what Jira has.
type pendingEdit struct {
	keys []string
	col  int
	text string
	done bool // Jira took it; the overlay goes with the next build
}

// cutRow is a row cut with x, waiting to be pasted.
type cutRow struct {
	id, key string
	from    RowRef
}

// dialog is a question or a report in the prompt area that takes single keys.
type dialog struct {
	lines []string
	onKey func(a *App, key string) (close bool, cmd tea.Cmd)
}

// bulkRun is a bulk edit in flight; progress is written from the backend's goroutines.
type bulkRun struct {
	mu          sync.Mutex
	done, total int
	what        string
}

func (b *bulkRun) progress(done, total int) {
	b.mu.Lock()
	b.done, b.total = max(b.done, done), total
	b.mu.Unlock()
}

func (b *bulkRun) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("%s %d/%d", b.what, b.done, b.total)
}

// Messages of editing.
type (
	editMetaMsg struct {
		seq  int
		key  string
		keys []string // bulk
		col  int
		base time.Time
		meta FieldEdit
		// reach counts, per status, the marked issues that can reach it (bulk status).
		reach map[string]int
		err   error
	}
	suggestTickMsg struct{ seq int }
	suggestMsg     struct {
		seq   int
		items []Suggestion
		err   error
	}
	setMsg struct {
		id    int
		key   string
		meta  FieldEdit
		col   int
		value string
		opt   SetOptions
		res   EditResult
		err   error
	}
	bulkMsg struct {
		id    int
		field string
		value string
		res   BulkResult
		err   error
	}
	bulkTickMsg struct{}
	cutMsg      struct {
		lens string
		row  *cutRow
		err  error // why the viewer may not move rows in the Lens
	}
	movePlanMsg struct {
		req    MoveRequest
		plan   MovePlan
		follow string
		err    error
	}
	moveMsg struct {
		req    MoveRequest
		res    EditResult
		follow string
		err    error
		// rank, for a reorder by rank, says where the row went ("below ALPHA-3"); req.To
		// is then unused.
		rank string
	}
)

// editor returns the backend's Editor, nil when it cannot edit.
func (a *App) editor() Editor {
	ed, _ := a.opt.Backend.(Editor)
	return ed
}

// available says whether a binding works here: edit bindings need an Editor and a Lens.
func (a *App) available(b Binding) bool {
	if b.Group != groupEdit {
		return true
	}
	return a.editor() != nil && a.screen == screenLens && a.lens != nil
}

func fitLine(s string, w int) string { return ansi.Truncate(s, max(w, 1), "…") }

// doEdit runs the edit actions on the Lens screen.
func (a *App) doEdit(act Action, keyText string) tea.Cmd {
	ls := a.lens
	t := ls.table
	switch act {
	case ActEdit:
		return a.startEdit(false, keyText)
	case ActBulkSet:
		return a.startEdit(true, keyText)
	case ActUndo, ActRedo:
		return a.startHistory(act == ActRedo, SetOptions{})
	case ActMark:
		row := t.CursorRow()
		if ls.issueAt(row) == nil {
			a.notice("only issue rows can be marked", true)
			return nil
		}
		id := t.Tree().ID(row)
		if a.edit.marks[id] {
			delete(a.edit.marks, id)
		} else {
			a.edit.marks[id] = true
		}
		t.SetMarks(a.edit.marks)
		t.Move(1)
		a.markNotice()
	case ActVisual:
		id := t.CursorID()
		if a.edit.anchor == "" {
			a.edit.anchor = id
			a.notice("range from here: move, then V again marks every issue row between", false)
			return nil
		}
		from := t.visIndexOfID(a.edit.anchor)
		a.edit.anchor = ""
		if from < 0 {
			a.notice("the range start is no longer shown", true)
			return nil
		}
		lo, hi := min(from, t.Cursor()), max(from, t.Cursor())
		for k := lo; k <= hi; k++ {
			row := int(t.vis[k])
			if ls.issueAt(row) != nil {
				a.edit.marks[t.Tree().ID(row)] = true
			}
		}
		t.SetMarks(a.edit.marks)
		a.markNotice()
	case ActCut:
		row := t.CursorRow()
		r := ls.issueAt(row)
		if r == nil {
			a.notice("only issue rows can be moved", true)
			return nil
		}
		return a.cut(&cutRow{id: t.Tree().ID(row), key: r.Key, from: a.rowRef(t.Tree().Parent(row))})
	case ActPaste:
		c := a.edit.cut
		if c == nil {
			a.notice("nothing cut: x cuts the cursor row", true)
			return nil
		}
		row := t.CursorRow()
		tid := t.Tree().ID(row)
		if tid == c.id || strings.HasPrefix(tid, c.id+"/") {
			a.notice("a row cannot go under itself", true)
			return nil
		}
		to := a.rowRef(row)
		if to.Key == "" && to.Group == nil {
			a.notice("rows go under an issue or into a group, not into a folder", true)
			return nil
		}
		return a.planMove(MoveRequest{Lens: ls.info.ID, Key: c.key, From: c.from, To: to}, tid+"/"+c.key)
	case ActIndent, ActOutdent:
		row := t.CursorRow()
		r := ls.issueAt(row)
		if r == nil {
			a.notice("only issue rows can be moved", true)
			return nil
		}
		tr := t.Tree()
		p := tr.Parent(row)
		var target int
		if act == ActIndent {
			target = -1
			start := 0
			if p >= 0 {
				start = p + 1
			}
			for j := start; j < row; j = tr.End(j) {
				if tr.End(j) == row {
					target = j
				}
			}
			if target < 0 || ls.issueAt(target) == nil {
				a.notice("no issue row above at this level to move under", true)
				return nil
			}
		} else {
			if p < 0 {
				a.notice(r.Key+" is already at the top level", true)
				return nil
			}
			target = tr.Parent(p)
		}
		to := a.rowRef(target)
		if target >= 0 && to.Key == "" && to.Group == nil {
			a.notice("rows go under an issue or into a group, not into a folder", true)
			return nil
		}
		follow := r.Key
		if target >= 0 {
			follow = tr.ID(target) + "/" + r.Key
		}
		return a.planMove(MoveRequest{Lens: ls.info.ID, Key: r.Key, From: a.rowRef(p), To: to}, follow)
	case ActRankUp, ActRankDown:
		return a.startRank(act == ActRankDown)
	}
	return nil
}

// startRank moves the cursor row above the sibling above it or below the one below it, by
// Jira's rank. The backend refuses when the Lens does not sort siblings by rank; a column
// sort in the TUI hides the rank order, so that is refused here.
func (a *App) startRank(down bool) tea.Cmd {
	ls := a.lens
	t := ls.table
	if ls.sortCol != "" {
		a.notice(fmt.Sprintf("rows are sorted by the %s column, not by rank: s on it until the sort is off, then move", ls.sortCol), true)
		return nil
	}
	row := t.CursorRow()
	r := ls.issueAt(row)
	if r == nil {
		a.notice("only issue rows can be moved", true)
		return nil
	}
	tr := t.Tree()
	p := tr.Parent(row)
	start, limit := 0, tr.Len()
	if p >= 0 {
		start, limit = p+1, tr.End(p)
	}
	sib := -1
	if down {
		if j := tr.End(row); j < limit {
			sib = j
		}
	} else {
		for j := start; j < row; j = tr.End(j) {
			if tr.End(j) == row {
				sib = j
			}
		}
	}
	where := "above"
	if down {
		where = "below"
	}
	if sib < 0 {
		a.notice(fmt.Sprintf("%s has no sibling %s it to swap with", r.Key, where), true)
		return nil
	}
	s := ls.issueAt(sib)
	if s == nil {
		a.notice(fmt.Sprintf("the row %s %s is not an issue: rank orders issues only", where, r.Key), true)
		return nil
	}
	before, after := s.Key, ""
	if down {
		before, after = "", s.Key
	}
	req := MoveRequest{Lens: ls.info.ID, Key: r.Key, From: a.rowRef(p)}
	rank := where + " " + s.Key
	follow := tr.ID(row) // same parent: the row keeps its id
	a.notice(fmt.Sprintf("moving %s %s…", r.Key, rank), false)
	a.edit.inflight++
	ctx, ed := a.ctx, a.editor()
	return func() tea.Msg {
		res, err := ed.Rank(ctx, req.Lens, req.Key, before, after)
		return moveMsg{req: req, res: res, follow: follow, err: err, rank: rank}
	}
}

// markNotice says how many rows are marked and what can be done with them.
func (a *App) markNotice() {
	n := len(a.edit.marks) // not markedKeys: a keypress must not walk a million rows
	if n == 0 {
		a.notice("no rows marked", false)
		return
	}
	a.notice(fmt.Sprintf("%d marked · = sets the cursor column's field on them · esc unmarks", n), false)
}

// markedKeys lists the issues of the marked rows, in tree order, each once.
func (a *App) markedKeys() []string {
	if len(a.edit.marks) == 0 || a.lens == nil {
		return nil
	}
	t := a.lens.table.Tree()
	seen := map[string]bool{}
	var out []string
	for i := 0; i < t.Len(); i++ {
		if !a.edit.marks[t.ID(i)] {
			continue
		}
		if r := a.lens.issueAt(i); r != nil && !seen[r.Key] {
			seen[r.Key] = true
			out = append(out, r.Key)
		}
	}
	return out
}

// rowRef names a row for a move: its issue, its group, or the top level for -1.
func (a *App) rowRef(row int) RowRef {
	if row < 0 {
		return RowRef{}
	}
	ls := a.lens
	if r := ls.issueAt(row); r != nil {
		return RowRef{Key: r.Key}
	}
	if ls.built.Group != nil {
		base := row
		if st, ok := ls.table.Tree().(*sortedTree); ok {
			base = st.baseRow(row)
		}
		if g := ls.built.Group(base); g != nil {
			return RowRef{Group: g}
		}
	}
	return RowRef{}
}

// startEdit opens the cursor cell's editor at once, loading, and asks the backend how the
// field is edited; the editor is ready with the answer. Until then it holds the keys typed
// (esc cancels), so they neither run as commands nor move the cursor off the row the
// editor is for. enter on a column that is not a field opens the detail pane instead.
func (a *App) startEdit(bulk bool, keyText string) tea.Cmd {
	ls := a.lens
	t := ls.table
	cols := t.Tree().Columns()
	c := t.ColumnCursor()
	row := t.CursorRow()
	r := ls.issueAt(row)
	field := ""
	if c < len(cols) {
		field = cols[c].Field
	}
	if !bulk && keyText == "enter" && (field == "" || r == nil) {
		return a.doLens(ActDetail, keyText)
	}
	if field == "" {
		title := ""
		if c < len(cols) {
			title = cols[c].Title
		}
		a.notice(fmt.Sprintf("the %s column is computed, not a field: move to a field column (tab) to edit", title), true)
		return nil
	}
	var keys []string
	if bulk {
		keys = a.markedKeys()
		if len(keys) == 0 {
			a.notice("no rows marked: space marks a row, V a range", true)
			return nil
		}
	} else if r == nil {
		a.notice("group and folder rows have no fields to edit", true)
		return nil
	}
	key := ""
	var base time.Time
	if r != nil {
		key, base = r.Key, r.Updated
	}
	if bulk && (r == nil || !a.edit.marks[t.CursorID()]) {
		key = keys[0] // the editor's allowed values come from a marked issue
	}
	what := key
	if bulk {
		what = fmt.Sprintf("%d marked issues", len(keys))
	}
	a.edit.cell = &cellEditor{key: key, keys: keys, col: c, input: a.input,
		loading: fmt.Sprintf("%s of %s", cols[c].Title, what)}
	a.edit.cell.input.SetValue("")
	a.edit.cell.input.Blur() // no cursor until it takes keys
	a.mode = modeEdit
	a.edit.metaSeq++
	seq, ctx, ed, lensID := a.edit.metaSeq, a.ctx, a.editor(), ls.info.ID
	return func() tea.Msg {
		m, err := ed.EditMeta(ctx, lensID, key, field)
		if err != nil {
			err = fmt.Errorf("edit %s %s: %w", key, field, err)
		}
		if m.Field == "" {
			m.Field = field
		}
		msg := editMetaMsg{seq: seq, key: key, keys: keys, col: c, base: base, meta: m, err: err}
		if err == nil && bulk && m.Kind == KindStatus && len(keys) > 1 {
			msg.meta, msg.reach, msg.err = bulkStatusMeta(ctx, ed, lensID, key, keys, field, m)
		}
		return msg
	}
}

// bulkStatusMeta merges the transitions of every marked issue: each status any of them can
// reach is offered (with how many can), and the screen fields of each target are those
// any of their transitions require. An issue that cannot reach the status picked is
// reported as a failure of the bulk edit, with Jira's reason.
func bulkStatusMeta(ctx context.Context, ed Editor, lensID, first string, keys []string, field string, m FieldEdit) (FieldEdit, map[string]int, error) {
	reach := map[string]int{}
	screens := map[string][]ScreenField{}
	var allowed []string
	add := func(fe FieldEdit) {
		for _, to := range fe.Allowed {
			if reach[to] == 0 {
				allowed = append(allowed, to)
			}
			reach[to]++
			for _, sf := range fe.Screens[to] {
				if !slices.ContainsFunc(screens[to], func(x ScreenField) bool { return x.Field == sf.Field }) {
					screens[to] = append(screens[to], sf)
				}
			}
		}
	}
	add(m)
	// Each issue's transitions are a request to Jira: ask a few at a time, merge in order.
	metas := make([]FieldEdit, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, k := range keys {
		if k == first {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			fe, err := ed.EditMeta(ctx, lensID, k, field)
			if err != nil {
				err = fmt.Errorf("%s: %w", k, err)
			}
			metas[i], errs[i] = fe, err
		}()
	}
	wg.Wait()
	for i, k := range keys {
		if k != first && errs[i] == nil {
			add(metas[i])
		}
	}
	if len(allowed) == 0 {
		return m, nil, fmt.Errorf("Jira offers no transition on the marked issues: %w", errors.Join(errs...))
	}
	m.Allowed, m.Screens = allowed, screens
	return m, reach, nil
}

func (a *App) onEditMeta(msg editMetaMsg) tea.Cmd {
	loading := a.edit.cell
	if msg.seq != a.edit.metaSeq || a.lens == nil || a.mode != modeEdit || loading == nil || loading.loading == "" {
		return nil
	}
	if msg.err != nil {
		a.closeEditor()
		a.notice(msg.err.Error(), true)
		return nil
	}
	in := a.input
	if msg.keys != nil {
		msg.meta.Current = "" // one issue's value says nothing about the others'
	}
	e := newCellEditor(in, msg.key, msg.col, msg.meta, msg.base, a.opt.Now())
	e.keys = msg.keys
	e.nameOf = a.userName
	if msg.reach != nil {
		e.labels = map[string]string{}
		for to, n := range msg.reach {
			if n < len(msg.keys) {
				e.labels[to] = fmt.Sprintf("%s  (%d of %d marked can reach it)", to, n, len(msg.keys))
			}
		}
	}
	if col := a.lens.table.Tree().Columns(); msg.col < len(col) {
		a.edit.titles[strings.ToLower(msg.meta.Field)] = col[msg.col].Title
	}
	e.cur = 0
	e.refilter()
	e.toCurrent() // a bulk edit has no current value to start on
	a.edit.cell = e
	cmds := []tea.Cmd{e.input.Focus()}
	if e.completes() {
		cmds = append(cmds, a.suggestNow())
	}
	// The keys typed while it loaded, as if it had been there, up to an enter: the value
	// they made was not on screen (the current value was not known), so it is shown now
	// and another enter writes it.
	for _, k := range loading.held {
		if a.edit.cell != e {
			break
		}
		if k.String() == "enter" {
			e.heldEnter = true
			break
		}
		cmds = append(cmds, a.onEditKey(k))
	}
	return tea.Batch(cmds...)
}

// suggestNow asks the backend for completions of the editor's current query.
func (a *App) suggestNow() tea.Cmd {
	e := a.edit.cell
	a.edit.sugSeq++
	seq, ctx, ed := a.edit.sugSeq, a.ctx, a.editor()
	key, field, q := e.key, e.meta.Field, e.query()
	return func() tea.Msg {
		items, err := ed.Suggest(ctx, key, field, q)
		return suggestMsg{seq: seq, items: items, err: err}
	}
}

func (a *App) onEditKey(msg tea.KeyPressMsg) tea.Cmd {
	e := a.edit.cell
	if e.loading != "" {
		if msg.String() == "esc" {
			a.closeEditor()
			a.edit.metaSeq++ // the answer for it is dropped
			return nil
		}
		e.held = append(e.held, msg)
		return nil
	}
	act, cmd := e.update(msg)
	switch act {
	case editorCancel:
		a.closeEditor()
		if e.history != nil {
			_, _, noun := stepVerb(e.history.redo)
			a.notice(fmt.Sprintf("%s cancelled: the step stays (%s again, then d drops it)", noun, keyFor(a, e.history.redo)), false)
		}
		return nil
	case editorTyped:
		if e.completes() {
			a.edit.sugSeq++
			seq := a.edit.sugSeq
			return tea.Batch(cmd, a.opt.Tick(suggestDelay, func(time.Time) tea.Msg { return suggestTickMsg{seq: seq} }))
		}
	case editorCommit:
		value, screen := e.value()
		a.closeEditor()
		if e.history != nil {
			return a.startHistory(e.history.redo, SetOptions{Screen: screen})
		}
		if e.keys != nil {
			return a.startBulk(e.keys, e.meta, e.col, value, screen)
		}
		if SameValue(e.meta.Kind, e.meta.Current, value) {
			// Nothing to write: no request, no audit entry, no undo step.
			a.notice(fmt.Sprintf("%s %s unchanged: already %s", e.key, a.fieldTitle(e.meta.Field, e.meta.editTitle()), a.showValue(e.meta.Current)), false)
			return nil
		}
		return a.startSet(e.key, e.meta, e.col, value, SetOptions{Base: e.base, Screen: screen})
	}
	return cmd
}

func (a *App) closeEditor() {
	a.edit.cell = nil
	a.edit.sugSeq++ // answers for the closed editor are dropped
	a.mode = modeNormal
}

// startSet writes one value, showing it pending in the issue's cells meanwhile.
func (a *App) startSet(key string, meta FieldEdit, col int, value string, opt SetOptions) tea.Cmd {
	a.edit.nextID++
	id := a.edit.nextID
	a.edit.pend[id] = &pendingEdit{keys: []string{key}, col: col, text: value}
	a.applyOverlay()
	a.notice(fmt.Sprintf("writing %s %s…", key, a.fieldTitle(meta.Field, meta.editTitle())), false)
	a.edit.inflight++
	ctx, ed := a.ctx, a.editor()
	return func() tea.Msg {
		res, err := ed.Set(ctx, key, meta.Field, value, opt)
		return setMsg{id: id, key: key, meta: meta, col: col, value: value, opt: opt, res: res, err: err}
	}
}

func (a *App) onSet(msg setMsg) tea.Cmd {
	p := a.edit.pend[msg.id]
	if msg.err != nil {
		delete(a.edit.pend, msg.id) // roll the cell back to what the cache has
		a.applyOverlay()
		var ce *ConflictError
		var fe *FieldError
		switch {
		case errors.As(msg.err, &ce):
			a.openConflict(msg, ce)
		case errors.As(msg.err, &fe):
			// The value is named: a picker may have written another than the one typed.
			text := fmt.Sprintf("%s %s not set to %s: %s", msg.key, a.fieldTitle(msg.meta.Field, msg.meta.editTitle()), a.showValue(msg.value), fe.Message)
			a.notice(text, true)
		default:
			a.notice(fmt.Sprintf("%s %s not set to %s: %v", msg.key, a.fieldTitle(msg.meta.Field, msg.meta.editTitle()), a.showValue(msg.value), msg.err), true)
		}
		return nil
	}
	if p != nil {
		p.done = true
		if msg.res.New != "" {
			p.text = msg.res.New
		}
		a.applyOverlay()
	}
	title := a.fieldTitle(msg.meta.Field, msg.meta.editTitle())
	if msg.res.Unchanged {
		a.notice(fmt.Sprintf("%s %s unchanged: already %s", msg.key, title, a.showValue(msg.value)), false)
	} else if msg.res.Note != "" {
		a.notice(fmt.Sprintf("%s %s: %s → %s written, but %s  (u undoes)", msg.key, title, a.showValue(msg.res.Old), a.showValue(msg.res.New), msg.res.Note), true)
	} else {
		a.notice(fmt.Sprintf("%s %s: %s → %s  (u undoes)", msg.key, title, a.showValue(msg.res.Old), a.showValue(msg.res.New)), false)
	}
	return a.rebuildAfterWrite([]string{msg.key})
}

// userName shows a user id as the user's display name; other text as it is.
func (a *App) userName(id string) string {
	if a.lens == nil || a.lens.built == nil || a.lens.built.UserName == nil || id == "" {
		return id
	}
	if n := a.lens.built.UserName(id); n != "" {
		return n
	}
	return id
}

// showValue is a value as messages show it: (none) when empty, a user by name.
func (a *App) showValue(v string) string {
	if strings.TrimSpace(v) == "" || strings.EqualFold(v, "none") {
		return "(none)"
	}
	return a.userName(v)
}

// fieldTitle names a field in messages: the title of the column it was edited in, else of
// a column showing it, else its name; the id only when nothing else is known.
func (a *App) fieldTitle(field, name string) string {
	if t := a.edit.titles[strings.ToLower(field)]; t != "" {
		return t
	}
	if a.lens != nil {
		for _, c := range a.lens.table.Tree().Columns() {
			if c.Field != "" && (strings.EqualFold(c.Field, field) || (name != "" && strings.EqualFold(c.Field, name))) {
				return c.Title
			}
		}
	}
	if name != "" {
		return name
	}
	return field
}

// refName names a move's end in messages: a group of users by the user's name.
func (a *App) refName(r RowRef) string {
	if r.Group != nil && !r.Group.None {
		return a.userName(r.Group.Value)
	}
	return r.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// openConflict asks what to do about a change made in Jira since the edit began.
func (a *App) openConflict(msg setMsg, ce *ConflictError) {
	when := ""
	if !ce.When.IsZero() {
		when = " at " + ce.When.Local().Format("2006-01-02 15:04")
	}
	lines := []string{
		a.th.Render(a.th.Error, fmt.Sprintf("conflict: %s %s was changed in Jira%s, after you loaded it", msg.key, a.fieldTitle(msg.meta.Field, msg.meta.editTitle()), when)),
		"  theirs: " + a.showValue(ce.Theirs),
		"  mine:   " + a.showValue(msg.value),
		a.th.Render(a.th.Muted, "o overwrite theirs with mine · k or esc keep theirs"),
	}
	a.edit.dialog = &dialog{lines: lines, onKey: func(a *App, k string) (bool, tea.Cmd) {
		switch k {
		case "o", "O":
			opt := msg.opt
			opt.Overwrite = true
			return true, a.startSet(msg.key, msg.meta, msg.col, msg.value, opt)
		case "k", "K", "esc", "n", "N", "enter": // keeping theirs is the safe default
			a.notice(fmt.Sprintf("kept theirs: %s %s is %s", msg.key, a.fieldTitle(msg.meta.Field, msg.meta.editTitle()), a.showValue(ce.Theirs)), false)
			return true, a.rebuildAfterWrite([]string{msg.key})
		}
		return false, nil
	}}
	a.mode = modeDialog
}

func (a *App) onDialogKey(msg tea.KeyPressMsg) tea.Cmd {
	d := a.edit.dialog
	if d == nil {
		a.mode = modeNormal
		return nil
	}
	closeIt, cmd := d.onKey(a, msg.String())
	if closeIt && a.edit.dialog == d {
		a.edit.dialog = nil
		if a.mode == modeDialog {
			a.mode = modeNormal
		}
	}
	return cmd
}

// startBulk sets a field on the marked issues, with progress in the status bar. screen
// holds the transition screen's values (status).
func (a *App) startBulk(keys []string, meta FieldEdit, col int, value string, screen map[string]string) tea.Cmd {
	a.edit.nextID++
	id := a.edit.nextID
	a.edit.pend[id] = &pendingEdit{keys: keys, col: col, text: value}
	a.applyOverlay()
	title := a.fieldTitle(meta.Field, meta.editTitle())
	run := &bulkRun{total: len(keys), what: "setting " + title}
	a.edit.bulk = run
	a.edit.inflight++
	ctx, ed := a.ctx, a.editor()
	opt := SetOptions{Screen: screen}
	work := func() tea.Msg {
		res, err := ed.Bulk(ctx, keys, meta.Field, value, opt, run.progress)
		return bulkMsg{id: id, field: title, value: value, res: res, err: err}
	}
	return tea.Batch(work, a.bulkTick())
}

func (a *App) bulkTick() tea.Cmd {
	return a.opt.Tick(200*time.Millisecond, func(time.Time) tea.Msg { return bulkTickMsg{} })
}

func (a *App) onBulk(msg bulkMsg) tea.Cmd {
	a.edit.bulk = nil
	col := a.pendCol(msg.id)
	delete(a.edit.pend, msg.id)
	if a.lens == nil {
		return nil
	}
	failed := map[string]bool{}
	for _, f := range msg.res.Failed {
		failed[f.Key] = true
	}
	var keys []string
	same := 0
	for _, r := range msg.res.Changed {
		if r.Unchanged {
			same++
			continue
		}
		keys = append(keys, r.Key)
	}
	if len(keys) > 0 {
		// What Jira took stays pending until the rebuild shows it; failures roll back.
		a.edit.nextID++
		a.edit.pend[a.edit.nextID] = &pendingEdit{keys: keys, col: col, text: msg.value, done: true}
	}
	a.applyOverlay()
	total := len(msg.res.Changed) + len(msg.res.Failed)
	summary := fmt.Sprintf("set %s to %s on %d of %d issues", msg.field, a.showValue(msg.value), len(keys), total)
	if same > 0 {
		summary += fmt.Sprintf(" (%d already %s: not written)", same, a.showValue(msg.value))
	}
	if len(msg.res.Failed) == 0 && msg.err == nil {
		a.edit.marks = map[string]bool{}
		a.lens.table.SetMarks(a.edit.marks)
		if len(keys) > 0 {
			summary += " · u undoes them as one step"
		}
		a.notice(summary, false)
		if len(keys) == 0 {
			return nil
		}
		return a.rebuildAfterWrite(keys)
	}
	// Keep the failures marked, so fixing and retrying them is one keypress away.
	t := a.lens.table.Tree()
	for i := 0; i < t.Len(); i++ {
		if r := a.lens.issueAt(i); r != nil && a.edit.marks[t.ID(i)] && !failed[r.Key] {
			delete(a.edit.marks, t.ID(i))
		}
	}
	a.lens.table.SetMarks(a.edit.marks)
	lines := []string{a.th.Render(a.th.Error, fmt.Sprintf("%s; %d failed (still marked):", summary, len(msg.res.Failed)))}
	var items []string
	for _, f := range msg.res.Failed {
		items = append(items, "  "+f.Key+": "+a.errText(f.Err))
	}
	if msg.err != nil {
		items = append(items, "  "+oneLine(msg.err.Error()))
	}
	lines = append(lines, a.capLines(items, 2)...)
	lines = append(lines, a.th.Render(a.th.Muted, "any key closes"))
	a.edit.dialog = &dialog{lines: lines, onKey: func(*App, string) (bool, tea.Cmd) { return true, nil }}
	a.mode = modeDialog
	if len(keys) == 0 {
		return nil
	}
	return a.rebuildAfterWrite(keys)
}

// pendCol is the column of a pending edit, -1 when it is gone.
func (a *App) pendCol(id int) int {
	if p := a.edit.pend[id]; p != nil {
		return p.col
	}
	return -1
}

// errText is an error's message on one line, Jira's own words for field errors.
func (a *App) errText(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return oneLine(fe.Message)
	}
	var ce *ConflictError
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s changed in Jira meanwhile (theirs %s)", a.fieldTitle(ce.Field, ""), a.showValue(ce.Theirs))
	}
	return oneLine(err.Error())
}

// oneLine joins the lines of a message (errors.Join makes several) with "; ".
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// capLines keeps a dialog's list within the screen: as many items as fit beside the rest
// of the screen (keep: the dialog's other lines), then "… and N more".
func (a *App) capLines(items []string, keep int) []string {
	room := max(a.height/2-keep, 2)
	if len(items) <= room {
		return items
	}
	out := slices.Clone(items[:room-1])
	return append(out, a.th.Render(a.th.Muted, fmt.Sprintf("  … and %d more (the audit log has every one: foundation audit)", len(items)-room+1)))
}

// planMove asks how a move would be written; a warning is confirmed before moving.
// cut cuts a row once the backend says the viewer may edit the Lens: in a Lens they may
// only view, x is refused in the words p would be, rather than cutting a row nothing can
// be pasted from.
func (a *App) cut(c *cutRow) tea.Cmd {
	ctx, ed, lensID := a.ctx, a.editor(), a.lens.info.ID
	return func() tea.Msg { return cutMsg{lens: lensID, row: c, err: ed.CheckEdit(ctx, lensID)} }
}

func (a *App) onCut(msg cutMsg) {
	if msg.err != nil {
		a.notice(msg.err.Error(), true)
		return
	}
	if a.lens == nil || a.lens.info.ID != msg.lens {
		return // the Lens was left meanwhile
	}
	a.edit.cut = msg.row
	a.lens.table.SetCut(msg.row.id)
	a.notice("cut "+msg.row.key+": p pastes it under the cursor row or group, esc cancels", false)
}

func (a *App) planMove(req MoveRequest, follow string) tea.Cmd {
	ctx, ed := a.ctx, a.editor()
	return func() tea.Msg {
		plan, err := ed.PlanMove(ctx, req)
		return movePlanMsg{req: req, plan: plan, follow: follow, err: err}
	}
}

func (a *App) onMovePlan(msg movePlanMsg) tea.Cmd {
	if msg.err != nil {
		a.notice(msg.err.Error(), true)
		return nil
	}
	if msg.plan.Warning == "" {
		return a.move(msg.req, msg.follow)
	}
	a.edit.dialog = &dialog{lines: []string{
		a.th.Render(a.th.Warn, "move "+msg.req.Key+" under "+a.refName(msg.req.To)+"?"),
		"  " + msg.plan.Warning,
		a.th.Render(a.th.Muted, "y move anyway · n or esc cancel"),
	}, onKey: func(a *App, k string) (bool, tea.Cmd) {
		switch k {
		case "y", "Y":
			return true, a.move(msg.req, msg.follow)
		case "n", "N", "esc", "enter":
			a.notice("move cancelled", false)
			return true, nil
		}
		return false, nil
	}}
	a.mode = modeDialog
	return nil
}

func (a *App) move(req MoveRequest, follow string) tea.Cmd {
	a.notice(fmt.Sprintf("moving %s under %s…", req.Key, a.refName(req.To)), false)
	a.edit.inflight++
	ctx, ed := a.ctx, a.editor()
	return func() tea.Msg {
		res, err := ed.Move(ctx, req)
		return moveMsg{req: req, res: res, follow: follow, err: err}
	}
}

func (a *App) onMove(msg moveMsg) tea.Cmd {
	if msg.err != nil {
		a.notice(fmt.Sprintf("%s not moved: %s", msg.req.Key, a.errText(msg.err)), true)
		return nil
	}
	if msg.rank != "" { // a reorder leaves a cut row cut
		a.edit.follow = msg.follow
		a.notice(fmt.Sprintf("moved %s %s  (u undoes)", msg.req.Key, msg.rank), false)
		return a.rebuildAfterWrite([]string{msg.req.Key})
	}
	a.edit.cut = nil
	if a.lens != nil {
		a.lens.table.SetCut("")
	}
	a.edit.follow = msg.follow
	a.notice(fmt.Sprintf("moved %s from %s to %s  (u undoes)", msg.req.Key, a.refName(msg.req.From), a.refName(msg.req.To)), false)
	keys := []string{msg.req.Key}
	if msg.req.To.Key != "" {
		keys = append(keys, msg.req.To.Key)
	}
	return a.rebuildAfterWrite(keys)
}

// rebuildAfterWrite rebuilds the Lens at once (the change feed would too, a poll later),
// flashing the written issues. The cursor stays on its row when the write moved it.
func (a *App) rebuildAfterWrite(keys []string) tea.Cmd {
	if a.lens == nil {
		return nil
	}
	ls := a.lens
	if r := ls.issueAt(ls.table.CursorRow()); r != nil && slices.Contains(keys, r.Key) {
		a.edit.followKey = r.Key
	}
	return a.build(ls.request(), ls.info, reasonChange, keys)
}

// afterBuild runs when a new tree is shown: written values the rebuild now shows stop
// being pending, and a moved row gets the cursor.
func (a *App) afterBuild() {
	for id, p := range a.edit.pend {
		if p.done {
			delete(a.edit.pend, id)
		}
	}
	a.applyOverlay()
	t := a.lens.table
	t.SetMarks(a.edit.marks)
	if a.edit.cut != nil {
		t.SetCut(a.edit.cut.id)
	}
	switch f, k := a.edit.follow, a.edit.followKey; {
	case f != "":
		if !t.GoToID(f) {
			a.notice(fmt.Sprintf("%s moved; this Lens does not show it there", f[strings.LastIndex(f, "/")+1:]), true)
		}
	case k != "":
		if r := a.lens.issueAt(t.CursorRow()); r == nil || r.Key != k {
			a.goToIssue(k)
		}
	}
	a.edit.follow, a.edit.followKey = "", ""
}

// goToIssue puts the cursor on the first row showing issue key (any case), expanding its
// ancestors; false when no row shows it.
func (a *App) goToIssue(key string) bool {
	ls := a.lens
	t := ls.table.Tree()
	for i := 0; i < t.Len(); i++ {
		if r := ls.issueAt(i); r != nil && strings.EqualFold(r.Key, key) {
			ls.table.GoToRow(i)
			return true
		}
	}
	return false
}

// applyOverlay draws the pending values over the cells of every row of their issues.
func (a *App) applyOverlay() {
	if a.lens == nil {
		return
	}
	if len(a.edit.pend) == 0 {
		a.lens.table.SetOverlay(nil)
		return
	}
	byKey := map[string]map[int]string{}
	for _, p := range a.edit.pend {
		for _, k := range p.keys {
			if byKey[k] == nil {
				byKey[k] = map[int]string{}
			}
			byKey[k][p.col] = p.text
		}
	}
	t := a.lens.table.Tree()
	ov := map[string]map[int]string{}
	for i := 0; i < t.Len(); i++ {
		if r := a.lens.issueAt(i); r != nil && byKey[r.Key] != nil {
			ov[t.ID(i)] = byKey[r.Key]
		}
	}
	a.lens.table.SetOverlay(ov)
}

// editPromptLines are the prompt area's lines while editing or in a dialog.
func (a *App) editPromptLines() []string {
	switch {
	case a.mode == modeEdit && a.edit.cell != nil:
		return a.edit.cell.lines(a.th, a.width)
	case a.mode == modeDialog && a.edit.dialog != nil:
		out := make([]string, len(a.edit.dialog.lines))
		for i, l := range a.edit.dialog.lines {
			out[i] = fitLine(l, a.width)
		}
		return out
	}
	return nil
}
