package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// View is the root view: alt screen, mouse mode, window title.
func (a *App) View() tea.View {
	v := tea.NewView(a.Render())
	v.AltScreen = true
	if a.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "Foundation"
	if a.lens != nil {
		v.WindowTitle = "Foundation · " + a.lens.info.Name
	}
	// The input's own Cursor ignores how far the text is scrolled: the cell comes from
	// scrollInput, as drawn.
	if a.mode == modeEdit && a.edit.cell != nil {
		e := a.edit.cell
		if c := e.input.Cursor(); c != nil {
			// The editor's input is its second line, after "› ".
			_, x, _ := scrollInput(e.input, e.inputWidth(a.width))
			c.X = 2 + x
			c.Y = a.height - 1 - len(a.promptLines()) + 1
			v.Cursor = c
		}
	} else if c := a.input.Cursor(); c != nil {
		_, x, _ := a.inputView()
		ox, y := a.inputOrigin()
		c.X = ox + x
		c.Y = y
		v.Cursor = c
	}
	return v
}

// inputView is the text input as the current mode's prompt shows it: scrolled to fit the
// screen after the prompt's text. x is the cursor's cell in it; off the first rune shown.
func (a *App) inputView() (view string, x, off int) {
	ox, _ := a.inputOrigin()
	return scrollInput(a.input, a.width-ox)
}

// scrollInput renders a text input in w cells, scrolled sideways so the cursor shows:
// text before the cursor that does not fit is cut at the left, text after it at the
// right, each marked …. x is the cursor's cell in the rendering and off the index of the
// first rune shown, so a marker under a rune of the text can follow the scroll.
//
// (textinput scrolls by itself when given a width, but keeps the offset private and its
// Cursor ignores it, so neither the terminal cursor nor a marker could line up.)
func scrollInput(in textinput.Model, w int) (view string, x, off int) {
	r := []rune(in.Value())
	p := in.Position()
	width := func(rs []rune) int { return ansi.StringWidth(string(rs)) }
	if width(r)+1 <= w { // the cursor cell after the text fits too
		return in.View(), width(r[:p]), 0
	}
	w = max(w, 3)
	cut := func(off int) int { // the cell the left … takes
		if off > 0 {
			return 1
		}
		return 0
	}
	right := 0 // a cell for the right … when text follows the cursor
	if p < len(r) {
		right = 1
	}
	for off < p && cut(off)+width(r[off:p])+1+right > w {
		off++
	}
	end := min(p+1, len(r))
	for end < len(r) {
		more := 0
		if end+1 < len(r) {
			more = 1
		}
		if cut(off)+width(r[off:end+1])+more > w {
			break
		}
		end++
	}
	shown := in
	shown.SetValue(string(r[off:end]))
	shown.SetCursor(p - off)
	view = shown.View()
	if off > 0 {
		view = "…" + view
	}
	if end < len(r) {
		view += "…"
	}
	return view, cut(off) + width(r[off:p]), off
}

// inputOrigin is where the text input starts on screen in the current mode.
func (a *App) inputOrigin() (x, y int) {
	switch a.mode {
	case modePalette:
		return 2, 1 + a.bannerLines()
	case modeFilter:
		return ansi.StringWidth(filterPrompt), a.height - 3
	case modeHomeFilter:
		return ansi.StringWidth(homeFilterPrompt), a.height - 2
	}
	return 1, a.height - 2
}

const (
	filterPrompt     = "filter (JQL) › "
	homeFilterPrompt = "filter › "
)

// Render draws the whole screen as exactly height lines of at most width cells.
func (a *App) Render() string {
	if a.quitting {
		return ""
	}
	var lines []string
	switch {
	case a.screen == screenLens && a.lens != nil:
		a.layout()
		lines = a.renderLens()
	default:
		lines = a.renderHome()
	}
	return fitScreen(lines, a.width, a.height)
}

// fitScreen truncates every line to w cells and pads or cuts the list to h lines.
func fitScreen(lines []string, w, h int) string {
	out := make([]string, h)
	for i := 0; i < h && i < len(lines); i++ {
		out[i] = ansi.Truncate(lines[i], w, "")
	}
	return strings.Join(out, "\n")
}

// splitLines splits a rendered block, keeping exactly n lines.
func splitLines(s string, n int) []string {
	ls := strings.Split(s, "\n")
	for len(ls) < n {
		ls = append(ls, "")
	}
	return ls[:n]
}

func (a *App) banner() []string {
	var out []string
	if a.status.Offline {
		txt := " OFFLINE — Jira is unreachable; showing the cache"
		if !a.status.LastRefresh.IsZero() {
			txt += " as of " + a.age(a.status.LastRefresh)
		}
		out = append(out, a.th.Render(a.th.Error, padRight(txt, a.width)))
	} else if short, unavailable, _ := jiraProblem(a.status.Err); a.status.Err != "" && unavailable {
		// Jira answers, but with a server error (an outage, maintenance): as good as
		// offline for the viewer, so the same banner says what they are looking at.
		txt := " JIRA UNAVAILABLE — " + short + "; showing the cache"
		if !a.status.LastRefresh.IsZero() {
			txt += " as of " + a.age(a.status.LastRefresh)
		}
		out = append(out, a.th.Render(a.th.Error, padRight(txt, a.width)))
	}
	// The build's caveats stay on screen while the Lens shows: rows hidden because
	// permissions could not be verified (which projects, why, since when), remote queries
	// without members. They never name a hidden issue.
	if a.screen == screenLens && a.lens != nil && a.lens.built != nil {
		notes := a.lens.built.Notes
		for i, n := range notes {
			if i == maxBannerNotes {
				out = append(out, a.th.Render(a.th.Muted, fmt.Sprintf(" … %d more notes (foundation lens show)", len(notes)-i)))
				break
			}
			out = append(out, a.th.Render(a.th.Warn, padRight(" ! "+n, a.width)))
		}
	}
	return out
}

// maxBannerNotes is how many build notes the Lens screen shows above the table.
const maxBannerNotes = 2

func padRight(s string, w int) string {
	if d := w - ansi.StringWidth(s); d > 0 {
		return s + strings.Repeat(" ", d)
	}
	return s
}

// age renders how long ago t was, coarsely.
func (a *App) age(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := a.opt.Now().Sub(t)
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func (a *App) titleLine(parts ...string) string {
	s := " " + a.th.Render(a.th.Title, "Foundation")
	for _, p := range parts {
		if p != "" {
			s += " › " + p
		}
	}
	return s
}

// statusLine is the bottom bar: profile, Lens, view, rows, refresh, journal, offline, errors.
// When it does not fit, the parts that matter least go first (profile, view, sort...), so
// OFFLINE, an error or a rate-limit wait stays on screen in a narrow terminal.
func (a *App) statusLine() string {
	st := a.status
	var parts []statusPart
	add := func(keep int, text string) { parts = append(parts, statusPart{text, keep}) }
	if st.Profile != "" {
		add(1, st.Profile)
	}
	if ls := a.lens; ls != nil && a.screen == screenLens {
		add(4, ls.info.Name)
		add(2, "view "+ls.view)
		add(5, fmt.Sprintf("%d/%d rows", ls.table.Tree().Len(), ls.built.Total))
		if ls.sortCol != "" {
			dir := "↑"
			if ls.sortDesc {
				dir = "↓"
			}
			add(2, "sort "+ls.sortCol+dir)
		}
	} else {
		add(5, fmt.Sprintf("%d Lenses", len(a.lenses)))
	}
	add(3, "refreshed "+a.age(st.LastRefresh))
	if b := a.edit.bulk; b != nil {
		add(8, b.String())
	}
	if a.askingJira {
		add(8, "asking Jira for the filter…")
	}
	if a.refreshing || st.Refreshing {
		add(6, "refreshing…")
	}
	if st.PendingWebhooks > 0 {
		add(6, fmt.Sprintf("%d webhooks pending", st.PendingWebhooks))
	}
	if st.Waiting != "" {
		add(8, st.Waiting)
	}
	if st.Offline {
		add(mustShow, "OFFLINE")
	}
	if st.Err != "" {
		// The cause in a few words, not the request it failed in: the rest of the bar
		// (Lens, rows, refresh age) stays, and ? shows the whole text.
		short, _, _ := jiraProblem(st.Err)
		add(mustShow, "error: "+ansi.Truncate(short, max(a.width/2, 24), "…"))
	}
	line := padRight(fitParts(parts, a.width), a.width)
	return a.th.Render(a.th.Status, line)
}

// mustShow is the keep of status parts that are never dropped (OFFLINE, an error), only cut.
const mustShow = 9

// statusPart is one part of the status bar; parts with a lower keep are dropped first.
type statusPart struct {
	text string
	keep int
}

// fitParts joins parts as the status bar shows them, dropping the parts that matter least
// until the line fits in w cells, then cutting what is left with an ellipsis.
func fitParts(parts []statusPart, w int) string {
	parts = slices.Clone(parts) // dropping must not disturb the caller's slice
	join := func() string {
		texts := make([]string, len(parts))
		for i, p := range parts {
			texts[i] = p.text
		}
		return " " + strings.Join(texts, " │ ")
	}
	line := join()
	for ansi.StringWidth(line) > w {
		drop := -1
		for i, p := range parts {
			if p.keep < mustShow && (drop < 0 || p.keep < parts[drop].keep) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		parts = slices.Delete(parts, drop, drop+1)
		line = join()
	}
	return ansi.Truncate(line, w, "…")
}

// modeHints are the key hints of the modes that take over the screen, shown instead of the
// Lens's own.
var modeHints = map[mode]string{
	modeHelp:    "j/k scroll · esc or ? closes",
	modeColumns: "type to narrow · ↑/↓ move · space shows, hides, adds or removes the column · enter or esc closes",
	modePalette: "type to narrow · ↑/↓ pick · enter runs · esc closes",
}

// promptLine is the line above the status bar: an input prompt, a notice or a key hint.
func (a *App) promptLines() []string {
	switch a.mode {
	case modeSearch:
		in, _, _ := a.inputView()
		line := "/" + in
		if a.message != "" {
			line += "  " + a.th.Render(a.th.Error, a.message)
		}
		return []string{line}
	case modeFilter:
		in, _, off := a.inputView()
		first := filterPrompt + in
		if e := a.filterErr; e != nil {
			// The marker goes under the rune at fault as scrolled into view, or under the
			// … that hides it.
			col := max(e.Column-1, 0)
			cell := 0
			if r := []rune(a.input.Value()); col > off {
				cell = ansi.StringWidth(string(r[off:min(col, len(r))]))
				if off > 0 {
					cell++
				}
			}
			at := ansi.StringWidth(filterPrompt) + min(cell, ansi.StringWidth(in)-1)
			msg := strings.TrimPrefix(e.Msg, "Error in the JQL Query: ")
			if a.filterAskJira && a.status.Offline {
				msg = "OFFLINE: Jira cannot answer this now (esc, r retries Jira) · " + msg
			} else if a.filterAskJira {
				msg = "enter asks Jira · " + msg // first, so a narrow screen keeps it
			}
			after, before := a.width-at-2, at-1
			line := strings.Repeat(" ", at) + "^ " + ansi.Truncate(msg, max(after, 0), "…")
			if ansi.StringWidth(msg) > after && before > after {
				// More room left of the caret: end the message at it instead.
				msg = ansi.Truncate(msg, before, "…")
				line = strings.Repeat(" ", at-1-ansi.StringWidth(msg)) + msg + " ^"
			}
			return []string{first, a.th.Render(a.th.Error, line)}
		}
		if a.filterEnter {
			return []string{first, a.th.Render(a.th.Muted, "filtering… · esc restores the previous filter")}
		}
		return []string{first, a.th.Render(a.th.Muted, "enter keeps the filter · esc restores the previous one")}
	case modeHomeFilter:
		in, _, _ := a.inputView()
		return []string{homeFilterPrompt + in}
	case modeEdit, modeDialog:
		if l := a.editPromptLines(); l != nil {
			return l
		}
	}
	if a.message != "" {
		st := a.th.Muted
		if a.msgErr {
			st = a.th.Error
		}
		msg := a.message
		if a.msgErr && len(a.msgMore) > 0 && ansi.StringWidth(msg) > a.width {
			const more = " · ? shows all"
			msg = ansi.Truncate(msg, max(a.width-ansi.StringWidth(more), 1), "…") + more
		}
		return []string{fitLine(a.th.Render(st, msg), a.width)}
	}
	if hint, ok := modeHints[a.mode]; ok {
		return []string{fitLine(a.th.Render(a.th.Muted, hint), a.width)}
	}
	if a.screen == screenHome {
		return []string{fitLine(a.th.Render(a.th.Muted, "enter open · / filter · : commands · ? help · q quit"), a.width)}
	}
	if a.editor() != nil {
		return []string{fitLine(a.th.Render(a.th.Muted, "enter edit · space mark · u undo · x/p move · d detail · f filter · ? help"), a.width)}
	}
	return []string{fitLine(a.th.Render(a.th.Muted, "h/l fold · / search · f filter · v view · s sort · d detail · : cmds · ? help"), a.width)}
}

func (a *App) renderHome() []string {
	lines := []string{a.titleLine("Lenses")}
	lines = append(lines, a.banner()...)
	prompt := a.promptLines()
	avail := a.height - len(lines) - len(prompt) - 1
	var main []string
	switch a.mode {
	case modeHelp:
		main = a.renderHelp(avail)
	case modePalette:
		main = a.renderPalette(avail)
	case modeACL:
		main = a.aclLines(avail)
	default:
		main = a.renderHomeList(avail)
	}
	lines = append(lines, splitLines(strings.Join(main, "\n"), avail)...)
	lines = append(lines, prompt...)
	return append(lines, a.statusLine())
}

func (a *App) renderHomeList(avail int) []string {
	list := a.homeList()
	if a.lensesErr != nil {
		return []string{a.th.Render(a.th.Error, " "+a.lensesErr.Error())}
	}
	if len(a.lenses) == 0 {
		return []string{" No Lenses you may open yet. Apply one with `foundation lens apply -f FILE`."}
	}
	nameW := 12
	ownerW := 5
	for _, l := range list {
		nameW = max(nameW, min(ansi.StringWidth(l.Name), 36))
		ownerW = max(ownerW, min(ansi.StringWidth(l.Owner), 20))
	}
	listLines := []string{a.th.Render(a.th.Header, fmt.Sprintf("  %s %s %7s  %s", pad("LENS", nameW, false), pad("OWNER", ownerW, false), "ROWS", "REFRESHED"))}
	previewW := 0
	if a.width >= 100 {
		previewW = a.width * 2 / 5
	}
	listH := avail - 1
	if previewW == 0 {
		listH = max(avail-7, 3)
	}
	off := max(a.homeCursor-listH+1, 0)
	for i := off; i < len(list) && i < off+listH; i++ {
		l := list[i]
		size := "?"
		if l.Size >= 0 {
			size = fmt.Sprint(l.Size)
		}
		row := fmt.Sprintf("%s %s %7s  %s", pad(l.Name, nameW, false), pad(l.Owner, ownerW, false), size, a.age(l.LastRefresh))
		if i == a.homeCursor {
			listLines = append(listLines, a.th.Render(a.th.Cursor, "▌ "+row))
		} else {
			listLines = append(listLines, "  "+row)
		}
	}
	if len(list) == 0 {
		listLines = append(listLines, a.th.Render(a.th.Muted, "  nothing matches "+a.homeFilter))
	}
	var preview []string
	if a.homeCursor < len(list) {
		l := list[a.homeCursor]
		w := max(previewW-2, 20)
		if previewW == 0 {
			w = a.width - 2
		}
		preview = append(preview, a.th.Render(a.th.Selected, l.Name))
		if l.Description != "" {
			preview = append(preview, strings.Split(ansi.Wordwrap(l.Description, w, ""), "\n")...)
		}
		size := "unknown"
		if l.Size >= 0 {
			size = fmt.Sprintf("%d rows", l.Size)
		}
		preview = append(preview, "", "Size      "+size, "Owner     "+l.Owner, "Refreshed "+a.age(l.LastRefresh))
	}
	if previewW == 0 {
		out := splitLines(strings.Join(listLines, "\n"), listH+1)
		out = append(out, a.th.Render(a.th.Border, strings.Repeat("─", a.width)))
		for _, p := range preview {
			out = append(out, " "+p)
		}
		return out
	}
	left := splitLines(strings.Join(listLines, "\n"), avail)
	right := splitLines(strings.Join(preview, "\n"), avail)
	out := make([]string, avail)
	lw := a.width - previewW - 1
	for i := range out {
		out[i] = padRight(ansi.Truncate(left[i], lw, ""), lw) + a.th.Render(a.th.Border, "│") + " " + right[i]
	}
	return out
}

func (a *App) renderLens() []string {
	ls := a.lens
	views := make([]string, len(ls.built.Views))
	for i, v := range ls.built.Views {
		if v == ls.view {
			views[i] = a.th.Render(a.th.Selected, "["+v+"]")
		} else {
			views[i] = v
		}
	}
	title := a.titleLine(ls.info.Name) + "   " + strings.Join(views, " ")
	if ls.filter != "" {
		label := "filter: "
		if ls.filterJira {
			label = "filter (answered by Jira): "
		}
		title += "   " + a.th.Render(a.th.Accent, label+ls.filter)
		if slices.ContainsFunc(ls.base.Columns(), func(c Column) bool { return c.Aggregate }) {
			// Roll-ups stay the Lens's totals (a group's SP counts its hidden rows too):
			// the filter narrows what shows, not what is counted.
			for _, say := range []string{" · roll-ups count hidden rows too", " · roll-ups: all rows"} {
				if ansi.StringWidth(title)+ansi.StringWidth(say) <= a.width {
					title += a.th.Render(a.th.Muted, say)
					break
				}
			}
		}
	}
	lines := []string{title}
	lines = append(lines, a.banner()...)
	prompt := a.promptLines()
	avail := a.height - len(lines) - len(prompt) - 1
	var main []string
	switch a.mode {
	case modeHelp:
		main = a.renderHelp(avail)
	case modePalette:
		main = a.renderPalette(avail)
	case modeColumns:
		main = a.renderColumns(avail)
	case modeACL:
		main = a.aclLines(avail)
	default:
		main = a.renderTableAndDetail(avail)
	}
	lines = append(lines, splitLines(strings.Join(main, "\n"), avail)...)
	lines = append(lines, prompt...)
	return append(lines, a.statusLine())
}

func (a *App) renderTableAndDetail(avail int) []string {
	ls := a.lens
	tw, bodyH, dw, dh := a.lensGeometry()
	if extra := len(a.promptLines()) - 1; extra > 0 { // a two-line prompt takes a body row
		bodyH = max(bodyH-extra, 1)
		dh = max(dh-extra, 0)
	}
	ls.table.SetSize(tw, bodyH)
	table := splitLines(ls.table.View(a.th), bodyH+1)
	if ls.table.Tree().Len() == 0 && len(table) > 1 {
		// An empty body says why rather than looking like a Lens still loading.
		why := "  no rows you may see in this Lens"
		switch {
		case ls.filter != "" && ls.built.Total > 0:
			why = "  no rows match the filter · F clears it"
		case len(ls.built.Notes) > 0:
			// Not the filter's doing: nothing was left to filter (permissions that could
			// not be verified hid the rows, and the note above says so).
			why = "  no rows you may see in this Lens: the note above says why"
		}
		table[1] = fitLine(a.th.Render(a.th.Muted, why), tw)
	}
	if !ls.detail {
		return table
	}
	if dw == a.width { // below the table
		out := append(table, a.th.Render(a.th.Border, strings.Repeat("─", a.width)))
		return append(out, splitLines(a.renderDetail(dw-2, dh-1), max(dh-1, 0))...)
	}
	detail := splitLines(a.renderDetail(dw-2, avail), avail)
	out := make([]string, avail)
	for i := range out {
		left := ""
		if i < len(table) {
			left = table[i]
		}
		out[i] = padRight(ansi.Truncate(left, tw, ""), tw) + a.th.Render(a.th.Border, "│") + " " + detail[i]
	}
	return out
}

func (a *App) renderHelp(avail int) []string {
	var lines []string
	if len(a.msgMore) > 0 {
		// The last message too long for the prompt line, in full.
		lines = append(lines, a.th.Render(a.th.Title, "Last message"))
		for _, l := range a.msgMore {
			lines = append(lines, wrapIndented(l, a.width)...)
		}
		lines = append(lines, "")
	}
	if e := a.status.Err; e != "" && !slices.ContainsFunc(a.msgMore, func(l string) bool { return strings.Contains(l, e) }) {
		// The status bar's error in full: it shows only the cause.
		lines = append(lines, a.th.Render(a.th.Title, "Last error talking to Jira"))
		lines = append(lines, wrapIndented(e, a.width)...)
		lines = append(lines, "")
	}
	lines = append(lines, a.th.Render(a.th.Title, "Keys")+a.th.Render(a.th.Muted, "  (esc closes; remap any action in config under keys:)"))
	var say map[Action]string
	if a.screen == screenHome {
		say = homeSay
	}
	help := a.keys.helpLinesSaying(a.helpAvailable, say)
	// Two columns when the terminal is wide enough for them.
	if a.width >= 100 {
		half := (len(help) + 1) / 2
		// break at a group boundary near the middle
		for half < len(help) && help[half] != "" {
			half++
		}
		left, right := help[:half], help[min(half+1, len(help)):]
		colW := a.width / 2
		for i := 0; i < max(len(left), len(right)); i++ {
			l, r := "", ""
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			// Each description ends inside its column, cut with … (one cell apart).
			l = ansi.Truncate(l, colW-1, "…")
			r = ansi.Truncate(r, a.width-colW, "…")
			lines = append(lines, padRight(l, colW)+r)
		}
	} else {
		for _, l := range help {
			lines = append(lines, fitLine(l, a.width))
		}
	}
	off := min(a.helpOff, max(len(lines)-avail, 0))
	a.helpOff = off
	return lines[off:]
}

// wrapIndented wraps text to width, indented by two cells.
func wrapIndented(text string, width int) []string {
	var out []string
	for _, l := range strings.Split(ansi.Wrap(text, max(width-3, 10), " /"), "\n") {
		out = append(out, "  "+l)
	}
	return out
}

func (a *App) renderPalette(avail int) []string {
	in, _, _ := a.inputView()
	lines := []string{": " + in, a.th.Render(a.th.Border, strings.Repeat("─", a.width))}
	n := avail - 2
	off := max(a.palCursor-n+1, 0)
	for i := off; i < len(a.palette) && i < off+n; i++ {
		it := a.palette[i]
		row := fmt.Sprintf("%-24s %s", it.label, a.th.Render(a.th.Muted, it.hint))
		if i == a.palCursor {
			lines = append(lines, a.th.Render(a.th.Cursor, "▌ ")+row)
		} else {
			lines = append(lines, "  "+row)
		}
	}
	if len(a.palette) == 0 {
		lines = append(lines, a.th.Render(a.th.Muted, "  no command matches"))
	}
	return lines
}

func (a *App) renderColumns(avail int) []string {
	lines := []string{a.th.Render(a.th.Title, "Columns of view "+a.lens.view) + a.th.Render(a.th.Muted, "  (space shows/hides or adds/removes, esc closes)"),
		"› " + a.input.View()}
	hidden := a.lens.table.Hidden()
	items := a.chooserItems()
	cur := a.chooserCursor(items)
	var rows []string
	curRow := 0 // cur's index among rows
	if len(items) == 0 {
		rows = append(rows, a.th.Render(a.th.Muted, "  no column or field matches"))
	}
	for i, it := range items {
		if it.col < 0 && (i == 0 || items[i-1].col >= 0) {
			rows = append(rows, a.th.Render(a.th.Muted, "  fields in the cache:"))
		}
		var mark string
		switch {
		case it.col < 0:
			mark = "[+]"
		case hidden[it.title]:
			mark = "[ ]"
		case it.added:
			mark = "[-]"
		default:
			mark = "[x]"
		}
		row := mark + " " + it.title
		if i == cur {
			curRow = len(rows)
			rows = append(rows, a.th.Render(a.th.Cursor, "▌ "+row))
		} else {
			rows = append(rows, "  "+row)
		}
	}
	// keep the cursor row in the window
	n := max(avail-len(lines), 1)
	off := max(curRow-n+1, 0)
	return append(lines, rows[off:min(off+n, len(rows))]...)
}
