package tui

import (
	"slices"
	"strings"
	"testing"
)

// Pickers open on the field's value, so enter right away changes nothing (and writes
// nothing): they used to open on the first option, and enter turned Low into High.
func TestPickersOpenOnCurrentValue(t *testing.T) {
	d, b := openEditable(t, 0, 160, 40)
	d.to("ALPHA-2", "Priority") // Low
	d.keys("enter")
	d.mustSee("▌ Low")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "priority"); got != "Low" {
		t.Fatalf("enter on the opened picker set priority %q", got)
	}
	d.mustSee("ALPHA-2 Priority unchanged: already Low")
	d.to("ALPHA-2", "Assignee") // carol
	d.keys("enter")
	d.mustSee("▌ Carol Chen")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "assignee"); got != "carol" {
		t.Fatalf("enter on the opened user picker set assignee %q", got)
	}
	if len(b.sets) != 0 {
		t.Fatalf("unchanged values were written: %v", b.sets)
	}
	// Moving off the current value still picks.
	d.keys("enter", "up", "enter")
	if got := b.value(t, "ALPHA-2", "assignee"); got != "bob" {
		t.Fatalf("assignee %q after picking the one above Carol", got)
	}
	d.mustSee("ALPHA-2 Assignee: Carol Chen → Bob Brown") // names, not account ids
}

// enter in a list editor takes the highlighted suggestion, as the pickers do; a list
// written back as it was is not written at all.
func TestListEditorEnterTakesHighlight(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-8", "Labels") // backend
	d.keys("enter")
	d.mustSee("› backend,")
	d.keys("enter") // nothing changed
	if len(b.sets) != 0 {
		t.Fatalf("the unchanged list was written: %v", b.sets)
	}
	d.mustSee("ALPHA-8 Labels unchanged: already backend")
	d.keys("enter")
	d.mustSee("▌ frontend")
	d.keys("down")
	d.mustSee("▌ perf")
	d.keys("enter")
	if got := b.value(t, "ALPHA-8", "labels"); got != "backend,perf" {
		t.Fatalf("labels %q, want the highlighted perf added", got)
	}
	// Typing without picking keeps what was typed: a new label is not a typo.
	d.keys("enter")
	d.typeText("fr")
	d.keys("enter")
	if got := b.value(t, "ALPHA-8", "labels"); got != "backend,perf,fr" {
		t.Fatalf("labels %q, want the typed fr kept", got)
	}
}

// The labels editor starts with the current labels; typing +x/-y after them, as its hint
// says, changes the list instead of being refused as a mix.
func TestListEditorChangesAfterPrefill(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-8", "Labels") // backend
	d.keys("enter")
	d.typeText("-backend, +docs")
	d.keys("enter")
	if got := b.value(t, "ALPHA-8", "labels"); got != "docs" {
		t.Fatalf("labels %q, want docs", got)
	}
	if got := b.lastSet(); got != "ALPHA-8 labels=-backend,+docs" {
		t.Fatalf("wrote %q, want the changes alone (they never conflict)", got)
	}
	// Plain values edited and changes typed: the list they make is set.
	d.keys("enter", "ctrl+u")
	d.typeText("ui, api, -api, +perf")
	d.keys("enter")
	if got := b.value(t, "ALPHA-8", "labels"); got != "ui,perf" {
		t.Fatalf("labels %q, want ui,perf", got)
	}
	for _, tc := range []struct{ text, cur, want string }{
		{"a, b", "a", "a,b"}, {"+a, -b", "", "+a,-b"}, {"a, b, -b, +c", "a,b", "-b,+c"},
		{"x, -x", "a", ""}, {"", "a", ""},
	} {
		if got := listValue(tc.text, tc.cur); got != tc.want {
			t.Errorf("listValue(%q, %q) = %q, want %q", tc.text, tc.cur, got, tc.want)
		}
	}
}

func TestSameValue(t *testing.T) {
	for _, tc := range []struct {
		kind      FieldKind
		cur, v    string
		unchanged bool
	}{
		{KindMultiSelect, "a,b", "b, a", true}, {KindMultiSelect, "a", "+a", true}, {KindMultiSelect, "a", "-b", true},
		{KindMultiSelect, "a", "+b", false}, {KindMultiSelect, "", "none", true}, {KindMultiSelect, "", "1.1", false},
		{KindNumber, "3", "3.0", true}, {KindNumber, "", "0", false}, {KindSelect, "Low", "low", true},
		{KindSelect, "", "none", true}, {KindText, "Ab", "ab", false}, {KindStatus, "To Do", "to do", true},
		{KindDate, "2026-01-01", "2026-01-02", false},
	} {
		if got := SameValue(tc.kind, tc.cur, tc.v); got != tc.unchanged {
			t.Errorf("SameValue(%s, %q, %q) = %v", tc.kind, tc.cur, tc.v, got)
		}
	}
}

// A bulk status change offers what any marked issue can reach, asks for the fields the
// transition screen needs once for all of them, and passes them to every write.
func TestBulkStatusTransitionScreen(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-15", "Status") // To Do: In Progress or Done
	d.keys("space")
	d.to("ALPHA-28", "Status") // In Progress: To Do or Done
	d.keys("space")
	d.keys("=")
	d.mustSee("edit Status of 2 marked issues")
	d.mustSee("In Progress  (1 of 2 marked can reach it)")
	d.mustSee("To Do  (1 of 2 marked can reach it)")
	d.typeText("done")
	d.keys("enter")
	d.mustSee("2 marked issues → Done needs Resolution (1/1)")
	d.keys("enter")
	for _, k := range []string{"ALPHA-15", "ALPHA-28"} {
		if got := b.value(t, k, "status"); got != "Done" {
			t.Fatalf("%s status %q after the bulk transition (%v)", k, got, b.sets)
		}
	}
	if len(b.bulkScreens) != 2 || b.bulkScreens[0]["resolution"] != "Fixed" {
		t.Fatalf("bulk writes got screens %v, want resolution Fixed", b.bulkScreens)
	}
	d.mustSee("set Status to Done on 2 of 2 issues")
}

// A bulk edit to a value some issues already have writes only the others.
func TestBulkUnchangedNotWritten(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-15", "Status") // To Do
	d.keys("space")
	d.to("ALPHA-28", "Status") // In Progress
	d.keys("space", "=")
	d.typeText("to do")
	d.keys("enter")
	d.mustSee("set Status to To Do on 1 of 2 issues (1 already To Do: not written)")
	if !slices.Equal(b.sets, []string{"ALPHA-28 status=To Do"}) {
		t.Fatalf("wrote %v, want ALPHA-28 alone", b.sets)
	}
}

// An undo Jira refuses as a conflict gets the conflict dialog: keeping theirs drops the
// step, so the older ones are reachable again; overwriting writes the old value back.
func TestUndoConflictKeepTheirsDropsStep(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "SP")
	d.keys("enter", "ctrl+u")
	d.typeText("8")
	d.keys("enter")
	d.to("ALPHA-2", "Summary")
	d.keys("enter", "ctrl+u")
	d.typeText("Mine")
	d.keys("enter")
	b.theirs["ALPHA-2 summary"] = "Theirs"
	d.keys("u")
	if d.app.mode != modeDialog {
		t.Fatalf("no conflict dialog for a conflicting undo:\n%s", d.screen())
	}
	d.mustSee("conflict: undo of ALPHA-2 Summary: it was changed in Jira")
	d.mustSee("theirs: Theirs")
	d.mustSee("undo writes: Story 1.1 of Checkout revamp")
	d.mustSee("o overwrite theirs · k keep theirs and drop this step · esc decide later")
	d.keys("k")
	d.mustSee("kept theirs; dropped from the undo stack: ALPHA-2 Summary")
	d.keys("u") // the step below: the points
	if got := b.value(t, "ALPHA-2", "story points"); got != "3" {
		t.Fatalf("points %q: the older step was not reachable after keeping theirs", got)
	}
	d.mustSee("undid ALPHA-2 SP 8 → 3")

	// Overwrite: the undo writes the old value over theirs.
	d.to("ALPHA-5", "Summary")
	d.keys("enter", "ctrl+u")
	d.typeText("Mine too")
	d.keys("enter")
	b.theirs["ALPHA-5 summary"] = "Theirs"
	d.keys("u", "o")
	if got := b.value(t, "ALPHA-5", "summary"); got != "Story 1.2 of Checkout revamp" {
		t.Fatalf("summary %q after overwriting with the undo", got)
	}
}

// Undoing a status change whose transition back needs screen fields asks for them.
func TestUndoTransitionAsksForScreenFields(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Status") // Done
	d.keys("enter")
	d.typeText("to do")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "status"); got != "To Do" {
		t.Fatalf("status %q", got)
	}
	d.keys("u")
	if d.app.mode != modeEdit {
		t.Fatalf("undoing To Do → Done did not ask for the resolution:\n%s", d.screen())
	}
	d.mustSee("undo: ALPHA-2 → Done needs Resolution (1/1)")
	d.keys("down", "enter") // Won't Do
	if got := b.value(t, "ALPHA-2", "status"); got != "Done" {
		t.Fatalf("status %q after the undo with its screen", got)
	}
	d.mustSee("undid ALPHA-2 Status To Do → Done")
}

// Any refused undo can be dropped (d), so the older steps stay reachable; esc keeps it.
func TestUndoRefusedCanBeDropped(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-5", "Summary")
	d.keys("enter", "ctrl+u")
	d.typeText("First")
	d.keys("enter")
	d.to("ALPHA-5", "SP")
	d.keys("enter", "ctrl+u")
	d.typeText("13")
	d.keys("enter")
	b.refuse["ALPHA-5 story points"] = "Story Points is locked"
	d.keys("u")
	d.mustSee("undo refused: Story Points is locked")
	d.mustSee("d drop this step, so older ones can be undone · esc keep it (u tries again)")
	d.keys("esc")
	d.mustSee("the undo step stays")
	d.keys("u", "d")
	d.mustSee("dropped from the undo stack: ALPHA-5 SP 1 → 13")
	d.keys("u")
	if got := b.value(t, "ALPHA-5", "summary"); got != "Story 1.2 of Checkout revamp" {
		t.Fatalf("summary %q: the older step was not undone after dropping the refused one", got)
	}
}

// A bulk undo with several refusals says so in a dialog that fits the screen; a notice
// of several lines stays one line (help shows all of it).
func TestErrorsFitTheLayout(t *testing.T) {
	d, b := openEditable(t, 2, 100, 20)
	d.to("ALPHA-2", "Due")
	d.keys("space", "space", "=")
	d.typeText("2026-04-01")
	d.keys("enter")
	b.refuse["ALPHA-2 duedate"] = "Due date is locked\nby an automation rule"
	b.refuse["ALPHA-5 duedate"] = "Due date is locked"
	d.keys("u")
	lines := strings.Split(d.screen(), "\n")
	if len(lines) != 20 || !strings.Contains(lines[19], "demo │ Work") {
		t.Fatalf("%d lines, status bar %q:\n%s", len(lines), lines[len(lines)-1], d.screen())
	}
	d.mustSee("undo refused: 2 of the step's 2 edits not written")
	d.mustSee("ALPHA-2 Due: Due date is locked; by an automation rule")
	d.keys("esc")

	d.app.notice("first line\nsecond line\nthird line", true)
	lines = strings.Split(d.screen(), "\n")
	if len(lines) != 20 || !strings.Contains(lines[19], "demo │ Work") {
		t.Fatalf("a notice of 3 lines: %d lines on screen:\n%s", len(lines), d.screen())
	}
	d.mustSee("first line (+2 more: ? shows all)")
	d.keys("?")
	d.mustSee("Last message")
	d.mustSee("third line")
}

// q while a write is in flight waits for it to land (Jira, cache, audit), then quits; a
// second q quits at once.
func TestQuitWaitsForWritesInFlight(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-2", "Summary")
	d.keys("enter", "ctrl+u")
	d.typeText("Written before quitting")
	d.press("enter")
	d.press("q")
	if d.app.quitting {
		t.Fatal("q quit with a write in flight")
	}
	d.mustSee("waiting for 1 edit to reach Jira, the cache and the audit log, then quitting · q again: quit now")
	d.idle()
	if !d.app.quitting || !d.quit {
		t.Fatal("the app did not quit when the write landed")
	}
	if got := b.value(t, "ALPHA-2", "summary"); got != "Written before quitting" {
		t.Fatalf("summary %q", got)
	}

	e, _ := openEditable(t, 2, 160, 40)
	e.to("ALPHA-2", "Summary")
	e.keys("enter", "ctrl+u")
	e.typeText("x")
	e.press("enter")
	e.press("ctrl+c")
	if e.app.quitting {
		t.Fatal("ctrl+c quit with a write in flight")
	}
	e.press("ctrl+c")
	if !e.app.quitting {
		t.Fatal("a second ctrl+c did not force the quit")
	}
}

// A key typed in full is the parent written, not the first suggestion that merely starts
// with it: ALPHA-2 typed (a story, so not suggested) used to write ALPHA-27. Jira's
// refusal names the key it refused.
func TestParentPickerWritesTheKeyTyped(t *testing.T) {
	d, b := openEditable(t, 2, 160, 40)
	d.to("ALPHA-5", "Parent")
	d.keys("enter")
	d.typeText("alpha-2")
	d.fire()
	d.mustSee("▌ ALPHA-27") // suggested, highlighted, and still not what enter takes
	b.refuse["ALPHA-5 parent"] = "Given parent work item does not belong to appropriate hierarchy."
	d.keys("enter")
	if got := b.lastSet(); got != "ALPHA-5 parent=ALPHA-2" {
		t.Fatalf("wrote %q, want the key typed", got)
	}
	d.mustSee("ALPHA-5 Parent not set to ALPHA-2: Given parent work item does not belong")
	// Moving onto a suggestion takes it.
	delete(b.refuse, "ALPHA-5 parent")
	d.keys("enter")
	d.typeText("ALPHA-2")
	d.fire()
	d.keys("down", "up", "enter")
	if got := b.value(t, "ALPHA-5", "parent"); got != "ALPHA-27" {
		t.Fatalf("parent %q, want the suggestion moved onto", got)
	}
}

// A user typed exactly (account or display name) is the one written, wherever the
// highlight is; text that only searches takes the highlight, as the screen shows.
func TestUserPickerTakesTheExactMatch(t *testing.T) {
	d, b := openEditable(t, 0, 160, 40)
	b.data.Users["bobby"] = "Bo"
	d.to("ALPHA-2", "Assignee")
	d.keys("enter")
	d.typeText("Bo")
	d.fire()
	d.mustSee("▌ Bob Brown")
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "assignee"); got != "bobby" {
		t.Fatalf("assignee %q, want bobby (named Bo), not the highlighted Bob Brown", got)
	}
	d.keys("enter")
	d.typeText("bob")
	d.fire()
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "assignee"); got != "bob" {
		t.Fatalf("assignee %q, want the account typed", got)
	}
	d.keys("enter")
	d.typeText("car")
	d.fire()
	d.keys("enter")
	if got := b.value(t, "ALPHA-2", "assignee"); got != "carol" {
		t.Fatalf("assignee %q, want the one highlighted for car", got)
	}
}

// The editor opens at once and takes the keys typed while Jira is asked how the field is
// edited: they used to run as commands (s sorted, space marked, d opened the details) and
// the editor then opened on another row.
func TestKeysTypedWhileTheEditorLoadsGoToIt(t *testing.T) {
	d, b := openEditable(t, 0, 160, 40)
	d.to("ALPHA-2", "Summary")
	was := b.value(t, "ALPHA-2", "summary")
	d.press("e") // the editor's metadata is asked for, not answered yet
	d.mustSee("edit Summary of ALPHA-2")
	d.mustSee("loading the editor")
	for _, r := range " pending edit test" {
		d.handle(keyPress(string(r)))
	}
	d.handle(keyPress("space"))
	d.handle(keyPress("j"))
	d.mustSee("› ‹current value› pending edit test j")
	d.idle()
	if r := d.app.lens.issueAt(d.app.lens.table.CursorRow()); r == nil || r.Key != "ALPHA-2" {
		t.Fatalf("the cursor left ALPHA-2 while the editor loaded:\n%s", d.screen())
	}
	if d.app.lens.sortCol != "" || len(d.app.edit.marks) != 0 || d.app.lens.detail {
		t.Fatalf("keys typed into the loading editor ran as commands (sort %q, marks %v, detail %v)", d.app.lens.sortCol, d.app.edit.marks, d.app.lens.detail)
	}
	d.mustSee("summary of ALPHA-2 [text]") // ready, on the row it was opened on
	d.keys("enter")
	if got, want := b.value(t, "ALPHA-2", "summary"), was+" pending edit test j"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}

	// An enter typed while it loads does not write what the preview could not show (the
	// current value with the typed keys after it): the ready editor shows it, and another
	// enter writes it. A backspace past the typed text shows as taking from the value.
	was = b.value(t, "ALPHA-2", "summary")
	d.press("e")
	for _, k := range []string{"Q", "backspace", "backspace", "Z", "enter"} {
		d.handle(keyPress(k))
	}
	d.mustSee("› ‹current value›⌫Z⏎")
	d.idle()
	if got := b.value(t, "ALPHA-2", "summary"); got != was {
		t.Fatalf("an enter typed while the editor loaded wrote %q", got)
	}
	d.mustSee("check the value, enter writes it")
	d.keys("enter")
	if got, want := b.value(t, "ALPHA-2", "summary"), was[:len(was)-1]+"Z"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}

	// esc cancels a loading editor; the answer that comes later opens nothing.
	d.press("e")
	d.press("esc")
	d.idle()
	if d.app.mode != modeNormal || d.app.edit.cell != nil {
		t.Fatalf("the cancelled editor opened:\n%s", d.screen())
	}
	d.promptLacks("edit Summary")
}
