package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// openEditable starts the app on an editing backend and opens Lens number n of the home
// list (0 Roadmap, 1 Bugs, 2 Work) with every row expanded.
func openEditable(t *testing.T, n, w, h int) (*driver, *editBackend) {
	t.Helper()
	b := newEditBackend(t)
	d := newDriver(t, b, w, h)
	for range n {
		d.keys("j")
	}
	d.keys("enter", "E")
	if d.app.screen != screenLens {
		t.Fatalf("Lens %d did not open:\n%s", n, d.screen())
	}
	return d, b
}

// to puts the cursor on the row showing key and the column titled col.
func (d *driver) to(key, col string) {
	d.t.Helper()
	d.app.jumpTo(key)
	if r := d.app.lens.issueAt(d.app.lens.table.CursorRow()); r == nil || r.Key != key {
		d.t.Fatalf("no row for %s:\n%s", key, d.screen())
	}
	cols := d.app.lens.table.Tree().Columns()
	for d.app.lens.table.ColumnCursor() > 0 {
		before := d.app.lens.table.ColumnCursor()
		d.keys("shift+tab")
		if d.app.lens.table.ColumnCursor() == before {
			break
		}
	}
	for range cols {
		if cols[d.app.lens.table.ColumnCursor()].Title == col {
			return
		}
		d.keys("tab")
	}
	d.t.Fatalf("no column %q", col)
}

// press delivers a key without running the commands it starts: the state in between
// (a write in flight) can be looked at, then idle() lets the commands finish.
func (d *driver) press(name string) {
	d.t.Helper()
	d.handle(keyPress(name))
}

// promptLacks checks the prompt area (editor, dialog) alone, not the table above it.
func (d *driver) promptLacks(s string) {
	d.t.Helper()
	p := ansi.Strip(strings.Join(d.app.promptLines(), "\n"))
	if strings.Contains(p, s) {
		d.t.Fatalf("prompt shows %q:\n%s", s, p)
	}
}

func (b *editBackend) value(t *testing.T, key, field string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	is, ok := b.issue(key)
	if !ok {
		t.Fatalf("no issue %s", key)
	}
	return get(is, field)
}

func (b *editBackend) lastSet() string {
	b.emu.Lock()
	defer b.emu.Unlock()
	if len(b.sets) == 0 {
		return ""
	}
	return b.sets[len(b.sets)-1]
}

func TestEditText(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Summary")
	d.keys("enter")
	if d.app.mode != modeEdit {
		t.Fatalf("enter on a field cell did not open an editor:\n%s", d.screen())
	}
	d.mustSee("edit summary of ALPHA-2 [text]")
	d.mustSee("› Story 1.1 of Checkout revamp")
	d.keys("ctrl+u", "enter") // summary is required
	d.mustSee("summary is required")
	d.typeText("Pay with one click")
	d.press("enter")
	d.mustSee("✎ Pay with one click") // pending until Jira answers
	d.idle()
	d.mustNotSee("✎")
	d.mustSee("ALPHA-2  Pay with one click")
	d.mustSee("ALPHA-2 Summary: Story 1.1 of Checkout revamp → Pay with one click")
	if got := b.value(t, "ALPHA-2", "summary"); got != "Pay with one click" {
		t.Fatalf("summary %q", got)
	}
	// esc cancels without writing
	d.keys("enter", "ctrl+u")
	d.typeText("never")
	d.keys("esc")
	if d.app.mode != modeNormal || b.value(t, "ALPHA-2", "summary") != "Pay with one click" {
		t.Fatal("esc wrote the value")
	}
}

func TestEditRollbackShowsJiraMessage(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	b.refuse["ALPHA-5 story points"] = "Story Points must be between 0 and 100"
	d.to("ALPHA-5", "SP")
	d.keys("enter", "ctrl+u")
	d.typeText("abc")
	d.keys("enter")
	d.mustSee(`"abc" is not a number`) // checked before anything is sent
	for _, bad := range []string{"NaN", "Inf", "1_000", "0x10", "1e3"} {
		d.keys("ctrl+u")
		d.typeText(bad)
		d.keys("enter")
		d.mustSee(strconv.Quote(bad) + " is not a number")
	}
	if n := len(b.sets); n != 0 {
		t.Fatalf("an invalid number was sent: %v", b.sets)
	}
	d.keys("ctrl+u")
	d.typeText("500")
	d.press("enter")
	d.mustSee("✎ 500")
	d.idle()
	d.mustNotSee("✎ 500")
	d.mustSee("ALPHA-5 SP not set to 500: Story Points must be between 0 and 100") // the column's title
	if got := b.value(t, "ALPHA-5", "story points"); got != "1" {
		t.Fatalf("story points %q after a refused edit, want 1", got)
	}
	delete(b.refuse, "ALPHA-5 story points")
	d.keys("enter", "ctrl+u")
	d.typeText("13")
	d.keys("enter")
	if got := b.value(t, "ALPHA-5", "story points"); got != "13" {
		t.Fatalf("story points %q, want 13", got)
	}
}

func TestEditDateRelative(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Due")
	d.keys("enter")
	d.mustSee("[date]")
	d.typeText("+3d")
	d.mustSee("= 2026-03-04") // testNow is 2026-03-01
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "duedate"); got != "2026-03-04" {
		t.Fatalf("due %q", got)
	}
	d.keys("enter", "ctrl+u")
	d.typeText("next week")
	d.keys("enter")
	d.mustSee("want YYYY-MM-DD")
	d.keys("ctrl+u", "enter") // empty clears
	if got := b.value(t, "ALPHA-2", "duedate"); got != "" {
		t.Fatalf("due %q after clearing", got)
	}
}

func TestResolveDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-05-02", "2026-05-02"}, {"today", "2026-03-01"}, {"tomorrow", "2026-03-02"},
		{"yesterday", "2026-02-28"}, {"+3d", "2026-03-04"}, {"-1w", "2026-02-22"}, {"+2m", "2026-05-01"},
		{"+1y", "2027-03-01"}, {"+100000y", ""}, {"-5000y", ""}, {"+99999m", ""}, {"", "none"}, {"None", "none"}, {"+3x", ""}, {"soon", ""}, {"2026-13-01", ""},
	}
	for _, tc := range tests {
		got, err := resolveDate(tc.in, testNow)
		if tc.want == "" {
			if err == nil {
				t.Errorf("resolveDate(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("resolveDate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestEditSelectNarrows(t *testing.T) {
	d, b := openEditable(t, 0, 160, 40)
	d.to("ALPHA-2", "Priority")
	d.keys("enter")
	d.mustSee("[select]")
	for _, p := range []string{"High", "Medium", "Low"} {
		d.mustSee("  " + p)
	}
	d.promptLacks("(none") // priority is required: it cannot be cleared
	d.typeText("lo")
	d.promptLacks("Medium")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "priority"); got != "Low" {
		t.Fatalf("priority %q", got)
	}
	d.keys("enter")
	d.typeText("zzz")
	d.keys("enter")
	d.mustSee(`nothing matches "zzz"`)
}

func TestEditUserPickerDebounced(t *testing.T) {
	d, b := openEditable(t, 0, 160, 40)
	d.to("ALPHA-2", "Assignee")
	d.keys("enter")
	d.mustSee("[user]")
	if !slices.Equal(b.suggests, []string{"assignee:"}) {
		t.Fatalf("opening asked %v, want one search for everyone", b.suggests)
	}
	d.mustSee("Alice Adams")
	d.typeText("ca")
	d.typeText("r")
	if len(b.suggests) != 1 {
		t.Fatalf("searched while typing: %v", b.suggests)
	}
	d.fire() // the pause: only the newest query is asked
	if !slices.Equal(b.suggests, []string{"assignee:", "assignee:car"}) {
		t.Fatalf("searches %v, want one more for car", b.suggests)
	}
	d.mustSee("Carol Chen")
	d.promptLacks("Alice Adams")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "assignee"); got != "carol" {
		t.Fatalf("assignee %q", got)
	}
	// (none) unassigns
	d.keys("enter")
	d.typeText("none")
	d.fire()
	d.mustSee("(none: clear the field)")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "assignee"); got != "" {
		t.Fatalf("assignee %q after (none)", got)
	}
}

func TestEditMultiSelectCompletes(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-8", "Labels")
	d.keys("enter")
	d.mustSee("[multiselect]")
	d.mustSee("› backend,")
	d.typeText("fr")
	d.fire()
	d.mustSee("frontend")
	d.keys("tab")
	d.mustSee("› backend, frontend,")
	d.keys("enter")
	if got := b.value(t, "ALPHA-8", "labels"); got != "backend,frontend" {
		t.Fatalf("labels %q", got)
	}
}

func TestEditSprintList(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Sprint")
	d.keys("enter")
	d.mustSee("[sprint]")
	d.mustSee("Sprint 7")
	d.mustSee("(none: clear the field)")
	d.mustSee("▌ (none: clear the field)") // ALPHA-2 has no sprint: the editor opens on that
	d.keys("up", "enter")
	if got := b.value(t, "ALPHA-2", "sprint"); got != "Sprint 8" {
		t.Fatalf("sprint %q", got)
	}
}

func TestEditParentPicker(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Parent")
	d.keys("enter")
	d.mustSee("[parent]")
	d.typeText("search")
	d.fire()
	d.mustSee("ALPHA-14 Search speed")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "parent"); got != "ALPHA-14" {
		t.Fatalf("parent %q", got)
	}
	// The cursor follows the row to where the edit put it, and back with the undo.
	if got := d.app.lens.table.CursorID(); got != "ALPHA-14/ALPHA-2" {
		t.Fatalf("cursor on %s after the rebuild, want ALPHA-2 under ALPHA-14:\n%s", got, d.screen())
	}
	d.keys("u")
	if got := d.app.lens.table.CursorID(); got != "ALPHA-1/ALPHA-2" {
		t.Fatalf("cursor on %s after the undo, want ALPHA-2 back under ALPHA-1:\n%s", got, d.screen())
	}
}

func TestEditStatusAsksForScreenFields(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-28", "Status")
	d.keys("enter")
	d.mustSee("[status]")
	d.mustSee("  Done") // the transitions Jira offers from In Progress
	d.mustSee("  To Do")
	d.typeText("done")
	d.keys("enter")
	d.mustSee("ALPHA-28 → Done needs Resolution (1/1)")
	d.mustSee("▌ Fixed") // the screen's own values: not the status the issue has now
	d.promptLacks("(now)")
	d.mustSee("Won't Do")
	d.keys("enter")
	if got := b.value(t, "ALPHA-28", "status"); got != "Done" {
		t.Fatalf("status %q (last set %s)", got, b.lastSet())
	}
	d.mustSee("ALPHA-28 Status: In Progress → Done")
}

func TestConflictOverwriteOrKeep(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	b.theirs["ALPHA-2 summary"] = "Their title"
	d.to("ALPHA-2", "Summary")
	d.keys("enter", "ctrl+u")
	d.typeText("My title")
	d.keys("enter")
	if d.app.mode != modeDialog {
		t.Fatalf("no conflict dialog:\n%s", d.screen())
	}
	d.mustSee("conflict: ALPHA-2 Summary was changed in Jira")
	d.mustSee("theirs: Their title")
	d.mustSee("mine:   My title")
	d.mustNotSee("✎") // rolled back while the question is open
	d.keys("x")       // not an answer: the dialog stays
	if d.app.mode != modeDialog {
		t.Fatal("a stray key closed the conflict dialog")
	}
	d.keys("k")
	if d.app.mode != modeNormal || b.value(t, "ALPHA-2", "summary") == "My title" {
		t.Fatal("keep theirs wrote mine")
	}
	d.mustSee("kept theirs")

	d.keys("enter", "ctrl+u")
	d.typeText("My title")
	d.keys("enter", "o")
	if got := b.value(t, "ALPHA-2", "summary"); got != "My title" {
		t.Fatalf("overwrite left %q", got)
	}
}

func TestUndoRedoChain(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.keys("u")
	d.mustSee("nothing to undo")
	d.to("ALPHA-2", "SP")
	for _, v := range []string{"5", "8"} {
		d.keys("enter", "ctrl+u")
		d.typeText(v)
		d.keys("enter")
	}
	steps := []struct {
		key, want, see string
	}{
		{"u", "5", "undid ALPHA-2 SP 8 → 5"},
		{"u", "3", "undid ALPHA-2 SP 5 → 3"},
		{"ctrl+r", "5", "redid ALPHA-2 SP 3 → 5"},
		{"ctrl+r", "8", "redid ALPHA-2 SP 5 → 8"},
	}
	for _, s := range steps {
		d.keys(s.key)
		if got := b.value(t, "ALPHA-2", "story points"); got != s.want {
			t.Fatalf("after %s: points %q, want %s", s.key, got, s.want)
		}
		d.mustSee(s.see)
	}
	d.keys("ctrl+r")
	d.mustSee("nothing to redo")
}

func TestBulkSetWithPartialFailure(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	b.refuse["ALPHA-5 duedate"] = "You may not set a due date on this issue"
	d.to("ALPHA-2", "Due")
	d.keys("=")
	d.mustSee("no rows marked")
	d.keys("space") // marks ALPHA-2 and moves down
	if got := d.app.lens.table.CursorID(); got != "ALPHA-1/ALPHA-5" {
		t.Fatalf("space left the cursor on %s", got)
	}
	d.keys("V", "j", "V") // ALPHA-5 and ALPHA-8
	d.mustSee("3 marked")
	d.mustSee(" ●")
	d.keys("=")
	d.mustSee("edit Due date of 3 marked issues")
	d.typeText("2026-04-01")
	d.keys("enter")
	if d.app.mode != modeDialog {
		t.Fatalf("no summary for a bulk edit with a failure:\n%s", d.screen())
	}
	d.mustSee("set Due to 2026-04-01 on 2 of 3 issues; 1 failed (still marked):")
	d.mustSee("ALPHA-5: You may not set a due date on this issue")
	d.keys("esc")
	if got := d.app.markedKeys(); !slices.Equal(got, []string{"ALPHA-5"}) {
		t.Fatalf("still marked %v, want the failure alone", got)
	}
	for _, k := range []string{"ALPHA-2", "ALPHA-8"} {
		if got := b.value(t, k, "duedate"); got != "2026-04-01" {
			t.Fatalf("%s due %q", k, got)
		}
	}
	d.keys("u") // one step undoes the whole bulk edit
	if b.value(t, "ALPHA-2", "duedate") != "" || b.value(t, "ALPHA-8", "duedate") != "2026-02-13" {
		t.Fatalf("undo of the bulk edit left %q and %q", b.value(t, "ALPHA-2", "duedate"), b.value(t, "ALPHA-8", "duedate"))
	}
	d.mustSee("undid ALPHA-2 Due 2026-04-01 → (none), ALPHA-8 Due 2026-04-01 → 2026-02-13")
	d.keys("esc")
	if len(d.app.edit.marks) != 0 {
		t.Fatal("esc did not clear the marks")
	}
}

func TestBulkProgressShown(t *testing.T) {
	d, _ := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Due")
	d.keys("space", "space", "k", "k", "=")
	d.typeText("today")
	d.press("enter")
	d.mustSee("setting Due 0/2") // the status bar, before the backend answers
	d.mustSee("✎ 2026-03-01")
	d.idle()
	d.mustNotSee("setting Due")
	d.mustSee("set Due to 2026-03-01 on 2 of 2 issues")
}

func TestMoveCutPasteAndFollow(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Key")
	d.keys("x")
	d.mustSee("cut ALPHA-2")
	d.mustSee("✂")
	d.to("ALPHA-14", "Key")
	d.keys("p")
	if got := b.value(t, "ALPHA-2", "parent"); got != "ALPHA-14" {
		t.Fatalf("parent %q after paste", got)
	}
	if got := d.app.lens.table.CursorID(); got != "ALPHA-14/ALPHA-2" {
		t.Fatalf("cursor on %s, want it to follow the row to ALPHA-14/ALPHA-2", got)
	}
	d.mustNotSee("✂")
	d.mustSee("moved ALPHA-2 from ALPHA-1 to ALPHA-14")
	d.keys("u")
	if got := b.value(t, "ALPHA-2", "parent"); got != "ALPHA-1" {
		t.Fatalf("parent %q after undoing the move", got)
	}

	// Indent: under the row above; outdent: to the top, where this Lens shows no stories.
	d.to("ALPHA-8", "Key")
	d.send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModAlt}) // a reorder this Lens refuses (no rank sort): nothing
	d.send(tea.KeyPressMsg{Code: tea.KeyRight, Mod: tea.ModAlt})
	if got := b.value(t, "ALPHA-8", "parent"); got != "ALPHA-5" {
		t.Fatalf("indent: parent %q, want the row above (ALPHA-5)", got)
	}
	d.send(tea.KeyPressMsg{Code: tea.KeyLeft, Mod: tea.ModAlt})
	if got := b.value(t, "ALPHA-8", "parent"); got != "ALPHA-1" {
		t.Fatalf("outdent: parent %q, want ALPHA-1", got)
	}
	d.to("ALPHA-8", "Key")
	d.send(tea.KeyPressMsg{Code: tea.KeyLeft, Mod: tea.ModAlt})
	if got := b.value(t, "ALPHA-8", "parent"); got != "" {
		t.Fatalf("outdent to the top: parent %q", got)
	}
	d.mustSee("ALPHA-8 moved; this Lens does not show it there")
}

// In a Lens the viewer may only view, x is refused as p would be: no row is left cut with
// a promise that p pastes it.
func TestCutRefusedInViewOnlyLens(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	const refusal = `lens "roadmap": Ada may not edit cells of it: that needs edit access, and Ada has view access`
	b.denied = errors.New(refusal)
	d.to("ALPHA-2", "Key")
	d.keys("x")
	d.mustSee(refusal)
	d.mustNotSee("cut ALPHA-2")
	d.mustNotSee("✂")
	if d.app.edit.cut != nil {
		t.Fatalf("x cut %s in a view-only Lens", d.app.edit.cut.key)
	}
	b.denied = nil
	d.keys("x")
	d.mustSee("cut ALPHA-2: p pastes it")
}

func TestMoveWarnsWhenGeneratorsPutItBack(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-14", "Key")
	d.keys("x")
	d.to("ALPHA-1", "Key")
	d.keys("p")
	if d.app.mode != modeDialog {
		t.Fatalf("no warning before moving an epic the insert JQL also matches:\n%s", d.screen())
	}
	d.mustSee(`ALPHA-14 matches the Lens's insert "issuetype = Epic", so it stays at the top as well`)
	d.keys("n")
	if len(b.moves) != 0 {
		t.Fatal("n moved the row")
	}
	d.keys("p", "y")
	if got := b.value(t, "ALPHA-14", "parent"); got != "ALPHA-1" {
		t.Fatalf("y did not move: parent %q", got)
	}
}

func TestMoveIntoGroupRewritesField(t *testing.T) {
	d, b := openEditable(t, 1, 160, 40) // Bugs by priority
	first := d.app.lens.issueAt(1)
	if first == nil {
		t.Fatalf("no bug under the first group:\n%s", d.screen())
	}
	key, was := first.Key, first.Priority
	d.to(key, "Key")
	d.keys("x")
	// the first group of another priority
	tr := d.app.lens.table.Tree()
	target := -1
	for i := 0; i < tr.Len(); i++ {
		if g := d.app.rowRef(i).Group; g != nil && g.Value != was {
			target = i
			break
		}
	}
	if target < 0 {
		t.Fatal("no other group")
	}
	want := d.app.rowRef(target).Group.Value
	d.app.lens.table.GoToRow(target)
	d.keys("p")
	if got := b.value(t, key, "priority"); got != want {
		t.Fatalf("priority %q after moving into group %s", got, want)
	}
	if !strings.HasSuffix(d.app.lens.table.CursorID(), "/"+key) {
		t.Fatalf("cursor on %s, want the moved row", d.app.lens.table.CursorID())
	}
}

func TestEditKeysNeedAnEditor(t *testing.T) {
	d, _ := openRoadmap(t, 160, 40)
	d.to("ALPHA-1", "Status")
	d.keys("enter")
	if d.app.mode != modeNormal || !d.app.lens.detail {
		t.Fatal("enter without an Editor should open the detail pane")
	}
	d.keys("d", "g", "space")
	if d.app.lens.table.Visible() != 7 && d.app.lens.table.Visible() != 3 {
		t.Fatalf("space without an Editor should expand or collapse, %d visible", d.app.lens.table.Visible())
	}
	if len(d.app.edit.marks) != 0 {
		t.Fatal("space marked a row without an Editor")
	}
	d.keys("u", "x", "=")
	d.mustNotSee("undo")

	e, _ := openEditable(t, 0, 160, 40)
	e.keys("?")
	for _, b := range e.app.keys.Bindings() {
		e.mustSee(b.Help().Desc)
	}
	e.keys("esc")
	e.to("ALPHA-1", "Key")
	e.keys("enter") // the key column is not a field: detail
	if !e.app.lens.detail || e.app.mode != modeNormal {
		t.Fatal("enter on the Key column should open the detail pane")
	}
	e.keys("d")
	e.to("ALPHA-1", "Progress")
	e.keys("e")
	e.mustSee("the Progress column is computed")
}

func TestEditGoldenScreens(t *testing.T) {
	screens := []struct {
		name string
		lens int
		keys func(d *driver, b *editBackend)
	}{
		{"edit-status", 2, func(d *driver, b *editBackend) { d.to("ALPHA-28", "Status"); d.keys("enter") }},
		{"edit-user", 0, func(d *driver, b *editBackend) {
			d.to("ALPHA-2", "Assignee")
			d.keys("enter")
			d.typeText("b")
			d.fire()
		}},
		{"edit-conflict", 2, func(d *driver, b *editBackend) {
			b.theirs["ALPHA-5 labels"] = "frontend"
			d.to("ALPHA-5", "Labels")
			d.keys("enter")
			d.typeText("perf")
			d.keys("enter")
		}},
		{"edit-pending", 2, func(d *driver, b *editBackend) {
			d.to("ALPHA-5", "Summary")
			d.keys("space", "k", "enter", "ctrl+u")
			d.typeText("Quick pay")
			d.press("enter")
		}},
	}
	for _, sc := range screens {
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			name := fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				d, b := openEditable(t, sc.lens, size[0], size[1])
				sc.keys(d, b)
				compareGolden(t, d, name, size[1])
			})
		}
	}
}

// compareGolden compares the screen with testdata/<name>.golden (-update rewrites it).
func compareGolden(t *testing.T, d *driver, name string, height int) {
	t.Helper()
	lines := strings.Split(d.screen(), "\n")
	if len(lines) != height {
		t.Errorf("%d lines, want %d", len(lines), height)
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -run TestEditGoldenScreens -update)", err)
	}
	if got != string(want) {
		t.Errorf("screen differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// FuzzResolveDate: whatever is typed, the date editor either explains why it cannot read
// it or produces a date Jira takes (YYYY-MM-DD) or "none".
func FuzzResolveDate(f *testing.F) {
	for _, s := range []string{"2026-05-02", "today", "+3d", "-1w", "+2m", "+1y", "", "none", "+99999999d", "-0d", "+d", "+100000y", "+9000m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := resolveDate(s, testNow)
		if err != nil {
			return
		}
		if got == "none" {
			return
		}
		if _, perr := time.Parse(time.DateOnly, got); perr != nil {
			t.Fatalf("resolveDate(%q) = %q, not a date", s, got)
		}
	})
}
