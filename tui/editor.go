package tui

// The cell editor: one component for every field kind. Free kinds (text, number, date)
// are a text input with validation; list kinds (select, sprint, status) narrow the allowed
// values as the user types; completing kinds (multi-select, user, parent) offer
// candidates from the allowed values and from Editor.Suggest, debounced. Status continues
// with a form for the fields the chosen transition's screen requires.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Suggestion is one completion candidate: Value is what is written, Label what is shown
// (a user's display name and id, an issue's key and summary).
type Suggestion struct {
	Value string
	Label string
}

// cellEditor edits one field of one issue (or, for a bulk edit, of several).
type cellEditor struct {
	key   string   // the issue the edit is for (the first of a bulk edit)
	keys  []string // bulk: every issue to set; nil for a single cell
	col   int      // the column edited
	meta  FieldEdit
	base  time.Time
	now   time.Time
	input textinput.Model

	cands   []Suggestion // candidates shown, narrowed by the input
	cur     int
	suggest []Suggestion // the backend's latest suggestions
	errText string       // why the value cannot be written yet
	// picked: the highlight was moved with up/down since the text last changed, so enter
	// takes the highlighted candidate in a list editor too (labels, versions).
	picked bool
	// nameOf shows a user id as a display name (nil: ids as they are).
	nameOf func(string) string
	// labels show some allowed values otherwise (a bulk status reachable by only some).
	labels map[string]string
	// history: the editor asks for the transition screen of an undo (redo), not an edit.
	history *historyEdit
	// loading: what the editor is for ("Summary of ALPHA-2") while the backend is asked
	// how the field is edited; "" once it is ready. held are the keys typed meanwhile,
	// replayed into the ready editor (up to an enter: what they made is shown before
	// anything is written).
	loading string
	held    []tea.KeyPressMsg
	// heldEnter: an enter typed while it loaded was held back; the hint says another
	// enter writes the value now on screen, until the next key.
	heldEnter bool

	// Status: the picked target status, then the screen fields asked for one at a time.
	status  string
	screen  []ScreenField
	stage   int
	answers map[string]string
}

const maxCandidates = 6

// newCellEditor opens an editor on the field's current value.
func newCellEditor(in textinput.Model, key string, col int, meta FieldEdit, base, now time.Time) *cellEditor {
	e := &cellEditor{key: key, col: col, meta: meta, base: base, now: now, input: in}
	switch meta.Kind {
	case KindSelect, KindSprint, KindStatus, KindUser, KindParent:
		e.input.SetValue("") // pick from a list: start from the whole list
	case KindMultiSelect:
		v := meta.Current
		if v != "" {
			v += ", "
		}
		e.input.SetValue(v)
	default:
		e.input.SetValue(meta.Current)
	}
	e.input.CursorEnd()
	e.refilter()
	e.toCurrent()
	return e
}

// picks reports whether the kind picks one value from a list (enter takes the highlight).
func (e *cellEditor) picks() bool {
	switch e.meta.Kind {
	case KindSelect, KindSprint, KindStatus, KindUser, KindParent:
		return true
	}
	return false
}

// currentValue is the field's value now as a candidate's value: "none" for an empty field
// that may be cleared, "" when there is nothing to point at (a bulk edit, a required
// field that is empty).
func (e *cellEditor) currentValue() string {
	if e.keys != nil || !e.picks() || e.inScreen() {
		return ""
	}
	if e.meta.Current == "" {
		if e.meta.Required || e.meta.Kind == KindStatus {
			return ""
		}
		return "none"
	}
	return e.meta.Current
}

// toCurrent puts the highlight on the field's current value while the user has neither
// typed nor moved it, so enter right away changes nothing.
func (e *cellEditor) toCurrent() {
	cur := e.currentValue()
	if cur == "" || e.picked || e.query() != "" || e.inScreen() {
		return
	}
	for i, c := range e.cands {
		if strings.EqualFold(c.Value, cur) {
			e.cur = i
			return
		}
	}
}

// completes reports whether the kind asks the backend for candidates as the user types.
func (e *cellEditor) completes() bool {
	if e.inScreen() {
		return false
	}
	switch e.meta.Kind {
	case KindUser, KindParent:
		return true
	case KindMultiSelect:
		return e.meta.Allowed == nil // labels: free values, completed from the cache
	}
	return false
}

// lists reports whether the editor shows candidates at all.
func (e *cellEditor) lists() bool {
	if e.inScreen() {
		return e.screen[e.stage].Allowed != nil
	}
	switch e.meta.Kind {
	case KindText, KindNumber, KindDate:
		return false
	}
	return true
}

func (e *cellEditor) inScreen() bool { return e.status != "" && e.stage < len(e.screen) }

// query is the text candidates are narrowed by: for a multi-select, the item being typed.
func (e *cellEditor) query() string {
	v := e.input.Value()
	if e.meta.Kind == KindMultiSelect && !e.inScreen() {
		if i := strings.LastIndex(v, ","); i >= 0 {
			v = v[i+1:]
		}
		v = strings.TrimLeft(strings.TrimSpace(v), "+-")
	}
	return strings.TrimSpace(v)
}

// refilter recomputes the candidates shown from the allowed values and the suggestions.
func (e *cellEditor) refilter() {
	e.cands = e.cands[:0]
	if !e.lists() {
		return
	}
	var pool []Suggestion
	var allowed []string
	if e.inScreen() {
		allowed = e.screen[e.stage].Allowed
	} else {
		allowed = e.meta.Allowed
	}
	for _, a := range allowed {
		label := a
		if l, ok := e.labels[a]; ok && !e.inScreen() {
			label = l
		}
		pool = append(pool, Suggestion{Value: a, Label: label})
	}
	pool = append(pool, e.suggest...)
	q := e.query()
	if cur := e.currentValue(); cur != "" && cur != "none" && q == "" {
		// The value now is always a choice (a status is not a transition's target; a
		// parent or user may not be among the suggestions): enter on it changes nothing.
		label := cur
		if e.nameOf != nil && (e.meta.Kind == KindUser) {
			label = e.nameOf(cur)
		}
		found := false
		for i, s := range pool {
			if strings.EqualFold(s.Value, cur) {
				found = true
				if s.Label == "" || s.Label == s.Value {
					pool[i].Label = label
				}
			}
		}
		if !found {
			pool = append([]Suggestion{{Value: cur, Label: label + " (now)"}}, pool...)
		}
	}
	var chosen []string
	if e.meta.Kind == KindMultiSelect && !e.inScreen() {
		for _, v := range splitValues(e.input.Value()) {
			chosen = append(chosen, strings.ToLower(strings.TrimLeft(v, "+-")))
		}
	}
	seen := map[string]bool{}
	for _, s := range pool {
		lv := strings.ToLower(s.Value)
		if seen[lv] || (slices.Contains(chosen, lv) && !strings.EqualFold(q, s.Value)) {
			continue
		}
		// Suggestions already answer the query; allowed values are narrowed here.
		if q != "" && !fuzzy(q, s.Value+" "+s.Label) {
			continue
		}
		seen[lv] = true
		e.cands = append(e.cands, s)
	}
	if !e.meta.Required && !e.inScreen() && (e.meta.Kind == KindSelect || e.meta.Kind == KindSprint || e.meta.Kind == KindUser || e.meta.Kind == KindParent) {
		if q == "" || fuzzy(q, "none") {
			e.cands = append(e.cands, Suggestion{Value: "none", Label: "(none: clear the field)"})
		}
	}
	e.cur = min(e.cur, max(len(e.cands)-1, 0))
}

// setSuggestions takes the backend's answer for the current query.
func (e *cellEditor) setSuggestions(s []Suggestion) {
	e.suggest = s
	e.refilter()
	e.toCurrent()
}

// editorAction is what a key did to the editor.
type editorAction int

const (
	editorKeep   editorAction = iota // still editing
	editorTyped                      // the text changed: completing kinds ask for suggestions
	editorCancel                     // esc
	editorCommit                     // a value is ready: value()
)

// update handles one key.
func (e *cellEditor) update(msg tea.KeyPressMsg) (editorAction, tea.Cmd) {
	e.heldEnter = false
	switch msg.String() {
	case "esc":
		return editorCancel, nil
	case "up", "ctrl+p":
		e.cur = max(e.cur-1, 0)
		e.picked = true
		return editorKeep, nil
	case "down", "ctrl+n":
		e.cur = min(e.cur+1, max(len(e.cands)-1, 0))
		e.picked = true
		return editorKeep, nil
	case "tab":
		if e.lists() && e.cur < len(e.cands) {
			e.complete(e.cands[e.cur].Value)
			return editorTyped, nil
		}
		return editorKeep, nil
	case "enter":
		return e.accept(), nil
	}
	before := e.input.Value()
	var cmd tea.Cmd
	e.input, cmd = e.input.Update(msg)
	if e.input.Value() != before {
		e.errText = ""
		e.cur, e.picked = 0, false
		e.refilter()
		e.toCurrent()
		return editorTyped, cmd
	}
	return editorKeep, cmd
}

// complete puts a candidate into the input: replacing it, or the item being typed.
func (e *cellEditor) complete(v string) {
	if e.meta.Kind == KindMultiSelect && !e.inScreen() {
		cur := e.input.Value()
		head := ""
		if i := strings.LastIndex(cur, ","); i >= 0 {
			head = cur[:i+1] + " "
		}
		sign := ""
		if t := strings.TrimSpace(cur[len(strings.TrimRight(head, " ")):]); strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") {
			sign = t[:1]
		}
		e.input.SetValue(head + sign + v + ", ")
	} else {
		e.input.SetValue(v)
	}
	e.input.CursorEnd()
	e.cur, e.picked = 0, false
	e.refilter()
}

// accept takes enter: a list kind picks the highlighted candidate; free kinds validate.
// Status moves on to its screen fields before committing.
func (e *cellEditor) accept() editorAction {
	if e.inScreen() {
		sf := e.screen[e.stage]
		v := strings.TrimSpace(e.input.Value())
		if sf.Allowed != nil {
			if e.cur >= len(e.cands) {
				e.errText = fmt.Sprintf("pick one of: %s", strings.Join(sf.Allowed, ", "))
				return editorKeep
			}
			v = e.cands[e.cur].Value
		}
		if v == "" {
			e.errText = sf.Name + " is required by this transition"
			return editorKeep
		}
		e.answers[sf.Field] = v
		e.stage++
		e.input.SetValue("")
		e.cur, e.errText, e.picked = 0, "", false
		e.refilter()
		if e.stage < len(e.screen) {
			return editorKeep
		}
		return editorCommit
	}
	switch e.meta.Kind {
	case KindSelect, KindSprint, KindStatus:
		if e.cur >= len(e.cands) {
			e.errText = "nothing matches " + strconv.Quote(e.query())
			return editorKeep
		}
		pick := e.cands[e.cur].Value
		if e.meta.Kind == KindStatus {
			if fs := e.meta.Screens[pick]; len(fs) > 0 {
				e.status, e.screen, e.stage, e.answers = pick, fs, 0, map[string]string{}
				e.input.SetValue("")
				e.cur, e.errText, e.picked = 0, "", false
				e.refilter()
				return editorKeep
			}
			e.status = pick
		}
		e.input.SetValue(pick)
		return editorCommit
	case KindUser, KindParent:
		if v, ok := e.pickedValue(); ok {
			e.input.SetValue(v)
		}
		if strings.TrimSpace(e.input.Value()) == "" {
			e.errText = "type to search, or pick (none) to clear"
			return editorKeep
		}
		return editorCommit
	case KindMultiSelect:
		// A highlight moved onto a candidate is taken, as the other pickers take theirs;
		// text typed without picking stays as typed (a new label is not a typo).
		if e.picked && e.cur < len(e.cands) {
			e.complete(e.cands[e.cur].Value)
		}
	case KindNumber:
		v := strings.TrimSpace(e.input.Value())
		if v != "" && !strings.EqualFold(v, "none") {
			// Plain decimals only, as the write path takes them: ParseFloat alone
			// would let NaN, Inf, 1_000 and 0x10 through to a refusal from Jira.
			if !plainDecimal.MatchString(v) {
				e.errText = strconv.Quote(v) + " is not a number: want a plain decimal such as 5, 2.5 or -1"
				return editorKeep
			}
		}
	case KindDate:
		if _, err := resolveDate(e.input.Value(), e.now); err != nil {
			e.errText = err.Error()
			return editorKeep
		}
	}
	if e.meta.Required && strings.TrimSpace(e.input.Value()) == "" {
		e.errText = e.meta.editTitle() + " is required"
		return editorKeep
	}
	return editorCommit
}

// pickedValue is what enter takes in a user or parent picker: the highlight when the user
// moved onto it or typed nothing; else the candidate that is exactly the text typed (a key,
// an account, a display name), wherever the highlight is; else nothing for an issue key
// (it is written as typed: a key may be one Jira takes without suggesting it); else the
// highlight, shown as what enter takes for text that only searches (part of a name).
// A suggestion that merely starts with the text typed never wins over it: ALPHA-8 typed
// used to write ALPHA-83, the first suggestion.
func (e *cellEditor) pickedValue() (string, bool) {
	q := e.query()
	if e.cur < len(e.cands) && (e.picked || q == "") {
		return e.cands[e.cur].Value, true
	}
	for _, c := range e.cands {
		if strings.EqualFold(c.Value, q) || (e.meta.Kind == KindUser && strings.EqualFold(c.Label, q)) {
			return c.Value, true
		}
	}
	if e.meta.Kind == KindParent && issueKey.MatchString(q) {
		return strings.ToUpper(q), true
	}
	if e.cur < len(e.cands) {
		return e.cands[e.cur].Value, true
	}
	return "", false
}

// issueKey is an issue key as typed into a parent picker, in either case.
var issueKey = regexp.MustCompile(`(?i)^[a-z][a-z0-9_]*-[0-9]+$`)

// value is the committed value, in the value syntax; screen the transition screen values.
func (e *cellEditor) value() (string, map[string]string) {
	switch e.meta.Kind {
	case KindStatus:
		return e.status, e.answers
	case KindDate:
		d, _ := resolveDate(e.input.Value(), e.now)
		return d, nil
	case KindMultiSelect:
		return listValue(e.input.Value(), e.meta.Current), nil
	}
	return strings.TrimSpace(e.input.Value()), nil
}

// listValue is a list editor's text in the value syntax. The editor starts with the
// current values, so "backend, -security, +docs" (the values kept, then changes typed
// after them, as the hint says) mixes the two forms the write path keeps apart: when the
// plain values are still the current ones, only the changes are written (they never
// conflict); otherwise the list they make together is set.
func listValue(text, current string) string {
	var plain, changes []string
	for _, v := range splitValues(text) {
		if strings.HasPrefix(v, "+") || strings.HasPrefix(v, "-") {
			if t := strings.TrimSpace(v[1:]); t != "" {
				changes = append(changes, v[:1]+t)
			}
			continue
		}
		plain = append(plain, v)
	}
	switch {
	case len(changes) == 0:
		return strings.Join(plain, ",")
	case len(plain) == 0 || sameList(plain, splitValues(current)):
		return strings.Join(changes, ",")
	}
	return strings.Join(applyChanges(plain, changes), ",")
}

// applyChanges adds (+x) and removes (-x) values of a list, ignoring case as Jira does for
// the values it offers; the list keeps its order and has each value once.
func applyChanges(list, changes []string) []string {
	out := slices.Clone(list)
	for _, c := range changes {
		v := c[1:]
		i := slices.IndexFunc(out, func(s string) bool { return strings.EqualFold(s, v) })
		switch {
		case c[0] == '+' && i < 0:
			out = append(out, v)
		case c[0] == '-' && i >= 0:
			out = slices.Delete(out, i, i+1)
		}
	}
	return out
}

// sameList reports whether two lists hold the same values, in any order and case.
func sameList(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, 0, len(l))
		for _, v := range l {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" && v != "none" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

// resolveDate reads a date as typed: YYYY-MM-DD, today, tomorrow, yesterday or an offset
// (+3d, -1w, +2m, +1y); "" or none clears. It returns YYYY-MM-DD (or "none").
func resolveDate(text string, now time.Time) (string, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	switch t {
	case "", "none":
		return "none", nil
	case "today":
		return today.Format(time.DateOnly), nil
	case "tomorrow":
		return today.AddDate(0, 0, 1).Format(time.DateOnly), nil
	case "yesterday":
		return today.AddDate(0, 0, -1).Format(time.DateOnly), nil
	}
	if len(t) >= 3 && (t[0] == '+' || t[0] == '-') {
		n, err := strconv.Atoi(t[1 : len(t)-1])
		if err == nil && n >= 0 && n <= 100000 {
			if t[0] == '-' {
				n = -n
			}
			var d time.Time
			switch t[len(t)-1] {
			case 'd':
				d = today.AddDate(0, 0, n)
			case 'w':
				d = today.AddDate(0, 0, 7*n)
			case 'm':
				d = today.AddDate(0, n, 0)
			case 'y':
				d = today.AddDate(n, 0, 0)
			}
			if !d.IsZero() {
				if d.Year() < 1000 || d.Year() > 9999 {
					return "", fmt.Errorf("%q is too far away", text)
				}
				return d.Format(time.DateOnly), nil
			}
		}
		return "", fmt.Errorf("%q: want +Nd, -Nw, +Nm or +Ny", text)
	}
	d, err := time.ParseInLocation(time.DateOnly, t, now.Location())
	if err != nil {
		return "", fmt.Errorf("%q: want YYYY-MM-DD, today, tomorrow or +3d/-1w/+2m", text)
	}
	return d.Format(time.DateOnly), nil
}

// lines renders the editor for the prompt area: a title with the input, the candidates,
// and a hint or the reason the value cannot be written.
func (e *cellEditor) lines(th *Theme, width int) []string {
	if e.loading != "" {
		out := []string{
			th.Render(th.Selected, "edit "+e.loading),
			"› " + th.Render(th.Muted, "‹current value›") + heldPreview(e.held),
			th.Render(th.Muted, "loading the editor… what you type goes after the current value · esc cancels"),
		}
		for i := range out {
			out[i] = fitLine(out[i], width)
		}
		return out
	}
	what := e.key
	if len(e.keys) > 1 {
		what = fmt.Sprintf("%d marked issues", len(e.keys))
	}
	title := fmt.Sprintf("%s of %s", e.meta.editTitle(), what)
	if e.inScreen() {
		sf := e.screen[e.stage]
		title = fmt.Sprintf("%s → %s needs %s (%d/%d)", what, e.status, sf.Name, e.stage+1, len(e.screen))
		if e.history != nil {
			_, _, noun := stepVerb(e.history.redo)
			title = noun + ": " + title
		}
	}
	out := []string{th.Render(th.Selected, "edit "+title) + th.Render(th.Muted, " ["+string(e.meta.Kind)+"]")}
	in, _, _ := scrollInput(e.input, e.inputWidth(width))
	line := "› " + in
	if e.meta.Kind == KindDate && !e.inScreen() {
		if d, err := resolveDate(e.input.Value(), e.now); err == nil && d != strings.TrimSpace(e.input.Value()) {
			line += th.Render(th.Muted, "  = "+d)
		}
	}
	out = append(out, line)
	if e.lists() {
		off := max(e.cur-maxCandidates+1, 0)
		for i := off; i < len(e.cands) && i < off+maxCandidates; i++ {
			c := e.cands[i]
			label := c.Label
			if label == "" {
				label = c.Value
			}
			if label != c.Value && !strings.Contains(label, c.Value) {
				label += th.Render(th.Muted, "  "+c.Value)
			}
			if i == e.cur {
				out = append(out, th.Render(th.Cursor, "▌ ")+label)
			} else {
				out = append(out, "  "+label)
			}
		}
		if len(e.cands) == 0 {
			out = append(out, th.Render(th.Muted, "  no match"))
		}
	}
	if e.errText != "" {
		out = append(out, th.Render(th.Error, e.errText))
	} else {
		out = append(out, th.Render(th.Muted, e.hint()))
	}
	for i := range out {
		out[i] = fitLine(out[i], width)
	}
	return out
}

// inputWidth is the room for the input on its line, after "› ".
func (e *cellEditor) inputWidth(width int) int { return width - 2 }

func (e *cellEditor) hint() string {
	switch {
	case e.heldEnter:
		return "typed while the editor loaded: check the value, enter writes it · esc cancel"
	case e.inScreen() || e.meta.Kind == KindSelect || e.meta.Kind == KindSprint || e.meta.Kind == KindStatus:
		return "type to narrow · ↑/↓ pick · enter set · esc cancel"
	case e.meta.Kind == KindMultiSelect:
		return "comma-separated; +x adds, -x removes · tab completes · enter set · esc cancel"
	case e.meta.Kind == KindUser || e.meta.Kind == KindParent:
		return "type to search · ↑/↓ pick · tab completes · enter set · esc cancel"
	case e.meta.Kind == KindDate:
		return "YYYY-MM-DD, today, +3d, -1w, +2m; empty clears · enter set · esc cancel"
	case e.meta.Kind == KindNumber:
		return "a number; empty clears · enter set · esc cancel"
	}
	return "enter set · esc cancel"
}

// plainDecimal is a number as a number editor takes it.
var plainDecimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)

// heldPreview shows the keys typed while the editor loads as they will act on the current
// value, which is not known yet: text as typed, a backspace past that text as ⌫ (it will
// take a character of the value), enter as ⏎ (the ready editor waits for another).
func heldPreview(held []tea.KeyPressMsg) string {
	var typed []rune
	erased := 0
	for _, k := range held {
		switch k.String() {
		case "backspace":
			if len(typed) > 0 {
				typed = typed[:len(typed)-1]
			} else {
				erased++
			}
		case "enter":
			typed = append(typed, '⏎')
		default:
			typed = append(typed, []rune(k.Text)...)
		}
	}
	return strings.Repeat("⌫", erased) + string(typed)
}
