package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"foundation/keybind"
	"foundation/lens"
)

// openRoadmap starts the app and opens the first Lens (Roadmap).
func openRoadmap(t *testing.T, w, h int) (*driver, *memBackend) {
	t.Helper()
	b := newMemBackend(t)
	d := newDriver(t, b, w, h)
	d.keys("enter")
	if d.app.screen != screenLens {
		t.Fatalf("enter on home did not open the Lens:\n%s", d.screen())
	}
	return d, b
}

func TestMovementKeys(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys("E") // everything open: 39 rows
	tests := []struct {
		keys []string
		want string // cursor row id
	}{
		{[]string{"j"}, "ALPHA-1/ALPHA-2"},
		{[]string{"down", "down"}, "ALPHA-1/ALPHA-2/ALPHA-4"},
		{[]string{"k"}, "ALPHA-1/ALPHA-2/ALPHA-3"},
		{[]string{"up"}, "ALPHA-1/ALPHA-2"},
		{[]string{"G"}, "ALPHA-27/ALPHA-37/ALPHA-39"},
		{[]string{"g"}, "ALPHA-1"},
		{[]string{"end"}, "ALPHA-27/ALPHA-37/ALPHA-39"},
		{[]string{"home"}, "ALPHA-1"},
		{[]string{"ctrl+d"}, "ALPHA-1/ALPHA-11"}, // half of the 20-row body
		{[]string{"ctrl+u"}, "ALPHA-1"},
		{[]string{"pgdown", "pgup"}, "ALPHA-1"},
	}
	for _, tc := range tests {
		d.keys(tc.keys...)
		if got := d.app.lens.table.CursorID(); got != tc.want {
			t.Fatalf("after %v cursor on %s, want %s", tc.keys, got, tc.want)
		}
	}
}

func TestTreeKeys(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	tb := func() *Table { return d.app.lens.table }
	tests := []struct {
		keys    []string
		visible int
	}{
		{[]string{"l"}, 7},                // ALPHA-1 open: 3 epics + 4 stories
		{[]string{"h"}, 3},                // closed again
		{[]string{"right"}, 7},            // arrows too
		{[]string{"left"}, 3},             //
		{[]string{"space"}, 7},            // toggle
		{[]string{"space"}, 3},            //
		{[]string{"+"}, 15},               // subtree: 1 + 4 stories + 8 sub-tasks under ALPHA-1
		{[]string{"-"}, 3},                // collapse subtree
		{[]string{"E"}, 39},               // all
		{[]string{"C"}, 3},                // none
		{[]string{"2"}, 15},               // epics and stories
		{[]string{"3"}, 39},               // and sub-tasks
		{[]string{"1"}, 3},                // roots
		{[]string{"j", "l", "j", "h"}, 7}, // h on a leaf goes to the parent, keeps it open
	}
	for _, tc := range tests {
		d.keys(tc.keys...)
		if got := tb().Visible(); got != tc.visible {
			t.Fatalf("after %v: %d rows visible, want %d\n%s", tc.keys, got, tc.visible, d.screen())
		}
	}
	if got := tb().CursorID(); got != "ALPHA-14" {
		t.Errorf("h on a leaf: cursor on %s, want ALPHA-14", got)
	}
}

func TestColumnKeysSortAndWidth(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	ls := func() *lensState { return d.app.lens }
	d.keys("tab", "tab")
	if c := ls().table.ColumnCursor(); ls().base.Columns()[c].Title != "Status" {
		t.Fatalf("column cursor on %q, want Status", ls().base.Columns()[c].Title)
	}
	d.keys("shift+tab")
	if c := ls().table.ColumnCursor(); ls().base.Columns()[c].Title != "Summary" {
		t.Fatalf("column cursor on %q after shift+tab, want Summary", ls().base.Columns()[c].Title)
	}
	d.keys("L", "L", "L", "L") // to Points, the rollup (scrolls sideways at 80 columns)
	if title := ls().base.Columns()[ls().table.ColumnCursor()].Title; title != "Points" {
		t.Fatalf("column cursor on %q, want Points", title)
	}
	d.mustSee("Points")
	d.keys("s")
	if ls().sortCol != "Points" || ls().sortDesc {
		t.Fatalf("sort = %q desc=%v, want Points ascending", ls().sortCol, ls().sortDesc)
	}
	d.keys("g")
	if got := ls().table.CursorID(); got != "ALPHA-1" { // 11 points < 16 < 18
		t.Fatalf("ascending by points starts with %s", got)
	}
	d.keys("s", "g")
	if got := ls().table.CursorID(); got != "ALPHA-27" {
		t.Fatalf("descending by points starts with %s", got)
	}
	d.mustSee("sort Points↓")
	d.keys("s")
	if ls().sortCol != "" {
		t.Fatalf("third s should turn sorting off, got %q", ls().sortCol)
	}
	w := ls().table.layout().width[ls().table.ColumnCursor()]
	d.keys(">", ">")
	if got := ls().table.layout().width[ls().table.ColumnCursor()]; got != w+4 {
		t.Fatalf("width %d after >>, want %d", got, w+4)
	}
	d.keys("<")
	if got := ls().table.layout().width[ls().table.ColumnCursor()]; got != w+2 {
		t.Fatalf("width %d after <, want %d", got, w+2)
	}
}

func TestViewSwitchKeepsCursor(t *testing.T) {
	d, b := openRoadmap(t, 100, 30)
	d.keys("E", "j", "j")
	id := d.app.lens.table.CursorID()
	builds := b.builds
	d.keys("v")
	if d.app.lens.view != "dates" {
		t.Fatalf("view %q after v, want dates", d.app.lens.view)
	}
	if b.builds != builds {
		t.Errorf("view switch made %d Lens builds, want none (same forest, other view)", b.builds-builds)
	}
	if got := d.app.lens.table.CursorID(); got != id {
		t.Errorf("cursor on %s after view switch, want %s", got, id)
	}
	d.mustSee("Labels")
	d.keys("d") // what the backend added to the Built survives the switch
	d.mustSee("Reporter   Alice Adams")
	d.keys("d", "v")
	if d.app.lens.view != "plan" {
		t.Fatalf("view %q after second v, want plan (wraps)", d.app.lens.view)
	}
}

// TestChooserSkipsShownFields: a field the view shows under a title of its own is not
// offered again; adding it made a duplicate column id and broke the build.
func TestChooserSkipsShownFields(t *testing.T) {
	d, _ := openRoadmap(t, 100, 30)
	d.keys("c")
	d.mustSee("[+] Due date") // the plan view does not show it
	d.keys("esc", "v")        // the dates view does
	d.keys("c")
	if strings.Contains(d.screen(), "[+] Due date") {
		t.Fatalf("the dates view offers Due date again:\n%s", d.screen())
	}
}

func TestChooseColumns(t *testing.T) {
	d, _ := openRoadmap(t, 100, 30)
	d.keys("c")
	if d.app.mode != modeColumns {
		t.Fatal("c did not open the column chooser")
	}
	d.mustSee("[x] Assignee")
	d.keys("space") // the tree column cannot be hidden
	d.mustSee("tree column always shows")
	d.keys("down", "down", "down", "space")
	d.mustSee("▌ [ ] Assignee")
	d.keys("esc")
	if d.app.mode != modeNormal {
		t.Fatal("esc did not close the column chooser")
	}
	if strings.Contains(strings.Split(d.screen(), "\n")[1], "Assignee") {
		t.Fatalf("hidden column still drawn:\n%s", d.screen())
	}

	// The cache's fields not shown follow the view's columns, by name.
	d.keys("c")
	at := func(s string) int {
		t.Helper()
		i := strings.Index(d.screen(), s)
		if i < 0 {
			t.Fatalf("screen lacks %q:\n%s", s, d.screen())
		}
		return i
	}
	names := []string{"[x] Progress", "[+] Created", "[+] Description", "[+] Due date", "[+] Labels", "[+] Reporter", "[+] Story Points"}
	for i := 1; i < len(names); i++ {
		if at(names[i-1]) > at(names[i]) {
			t.Fatalf("%s listed after %s:\n%s", names[i-1], names[i], d.screen())
		}
	}
	// Space adds the field under the cursor, and the cursor stays on it, now a column above
	// the fields: space again removes it, not the field that took its place.
	d.keys("down", "down", "down", "down", "down", "down", "down", "down", "down", "down") // Labels
	d.mustSee("▌ [+] Labels")
	d.keys("space")
	d.mustSee("▌ [-] Labels")
	d.keys("space")
	d.mustSee("▌ [+] Labels")
	if got := d.app.lens.extras["plan"]; len(got) != 0 {
		t.Fatalf("extras %v after adding and removing Labels", got)
	}

	// Typing narrows the list: a field is found by name, and added.
	d.typeText("crea")
	d.mustSee("▌ [+] Created")
	d.mustNotSee("Description")
	d.keys("space")
	d.mustSee("▌ [-] Created")
	d.keys("esc")
	header := strings.Split(d.screen(), "\n")[1]
	if !strings.Contains(header, "Created") {
		t.Fatalf("added column not drawn: %q", header)
	}
	if got := d.app.lens.extras["plan"]; len(got) != 1 || got[0] != "created" {
		t.Fatalf("extras %v, want [created]", got)
	}
	d.keys("v", "v") // other view and back: the added column stays with its view
	if !strings.Contains(strings.Split(d.screen(), "\n")[1], "Created") {
		t.Fatal("added column lost after a view round trip")
	}
	d.keys("c")
	d.typeText("created")
	d.mustSee("▌ [-] Created")
	d.keys("space", "esc")
	if strings.Contains(strings.Split(d.screen(), "\n")[1], "Created") {
		t.Fatal("removed column still drawn")
	}
	d.keys("c")
	d.typeText("zzz")
	d.mustSee("no column or field matches")
	d.keys("space", "enter")
	if d.app.mode != modeNormal {
		t.Fatal("enter did not close the column chooser")
	}
}

func TestSearch(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys("E", "/")
	if d.app.mode != modeSearch {
		t.Fatal("/ did not start a search")
	}
	d.typeText("story 2.")
	if got := d.app.lens.table.CursorID(); got != "ALPHA-14/ALPHA-15" {
		t.Fatalf("incremental search landed on %s", got)
	}
	d.keys("enter")
	if d.app.mode != modeNormal {
		t.Fatal("enter did not end the search prompt")
	}
	d.keys("n")
	if got := d.app.lens.table.CursorID(); got != "ALPHA-14/ALPHA-18" {
		t.Fatalf("n went to %s", got)
	}
	d.keys("N")
	if got := d.app.lens.table.CursorID(); got != "ALPHA-14/ALPHA-15" {
		t.Fatalf("N went to %s", got)
	}
	d.keys("esc") // clears the search
	if d.app.lens.search != "" {
		t.Fatal("esc kept the search")
	}
	d.keys("/")
	d.typeText("zzz")
	d.mustSee("no match")
	d.keys("esc")
	if d.app.mode != modeNormal || d.app.lens.search != "" {
		t.Fatal("esc did not cancel the search prompt")
	}
	// A search that finds nothing leaves the cursor where / found it, not on the match of
	// the text typed on the way ("task 3.4.2" matched).
	d.keys("g")
	from := d.app.lens.table.CursorID()
	d.keys("/")
	d.typeText("task 3.4.29")
	d.mustSee("no match")
	if got := d.app.lens.table.CursorID(); got != from {
		t.Errorf("a search that found nothing left the cursor on %s, want %s", got, from)
	}
}

func TestFilterInstantWithErrorColumn(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys("f")
	if d.app.mode != modeFilter {
		t.Fatal("f did not open the filter prompt")
	}
	d.typeText("status = Done")
	d.pause()
	ls := d.app.lens
	if ls.table.Tree().Len() >= ls.built.Total || ls.table.Tree().Len() == 0 {
		t.Fatalf("filter kept %d of %d rows", ls.table.Tree().Len(), ls.built.Total)
	}
	// Ancestors of matches stay: every shown row is Done or above a Done row.
	d.keys("backspace", "backspace", "backspace", "backspace")
	if d.app.filterErr == nil {
		t.Fatalf("no error for %q", d.app.input.Value())
	}
	col := d.app.filterErr.Column
	lines := strings.Split(d.screen(), "\n")
	caretLine := lines[len(lines)-2]
	if i := strings.Index(caretLine, "^"); i != 15+col-1 { // the prompt is 15 cells wide
		t.Errorf("caret at byte %d for column %d:\n%s", i, col, caretLine)
	}
	d.keys("enter") // refused while broken
	if d.app.mode != modeFilter {
		t.Fatal("enter accepted a broken filter")
	}
	d.typeText("Done")
	d.keys("enter")
	if d.app.mode != modeNormal || d.app.lens.filter != "status = Done" {
		t.Fatalf("filter not kept: mode %v filter %q", d.app.mode, d.app.lens.filter)
	}
	d.mustSee("filter: status = Done")
	// esc in a new prompt restores the previous filter.
	d.keys("f")
	d.typeText(" AND priority = High")
	d.keys("esc")
	if d.app.lens.filter != "status = Done" {
		t.Fatalf("esc left filter %q", d.app.lens.filter)
	}
	d.keys("F")
	if d.app.lens.filter != "" || d.app.lens.table.Tree().Len() != d.app.lens.built.Total {
		t.Fatalf("F did not clear the filter: %q", d.app.lens.filter)
	}
	// A filter that matches nothing says so where the rows would be.
	d.keys("f")
	d.typeText(`summary ~ "no such words"`)
	d.keys("enter")
	if d.app.lens.table.Tree().Len() != 0 {
		t.Fatalf("%d rows match nothing", d.app.lens.table.Tree().Len())
	}
	d.mustSee("no rows match the filter · F clears it")
}

func TestPaletteRunsActionsAndJumps(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys(":")
	if d.app.mode != modePalette {
		t.Fatal(": did not open the palette")
	}
	// every action available here is listed by name (this backend cannot edit)
	for _, b := range d.app.keys.Bindings() {
		if !d.app.available(b) {
			continue
		}
		found := false
		for _, it := range d.app.palette {
			if it.label == string(b.Action) {
				found = true
			}
		}
		if !found {
			t.Errorf("palette lacks action %s", b.Action)
		}
	}
	d.typeText("expand-all")
	d.keys("enter")
	if d.app.lens.table.Visible() != 39 {
		t.Fatalf("palette expand-all: %d visible", d.app.lens.table.Visible())
	}
	d.keys("C", ":")
	d.typeText("alpha-33")
	d.mustSee("jump to issue ALPHA-33")
	d.keys("enter")
	if got := d.app.lens.table.CursorID(); got != "ALPHA-27/ALPHA-31/ALPHA-33" {
		t.Fatalf("jump landed on %s", got)
	}
	d.keys(":")
	d.typeText("ALPHA-999")
	d.keys("enter")
	d.mustSee("ALPHA-999 is not in this Lens")
	d.keys(":", "down", "up", "esc")
	if d.app.mode != modeNormal {
		t.Fatal("esc did not close the palette")
	}
	d.keys(":")
	d.typeText("open bugs")
	d.keys("enter")
	if d.app.lens == nil || d.app.lens.info.ID != "bugs" {
		t.Fatal("palette did not open the Bugs Lens")
	}
}

func TestHelpIsGeneratedFromKeymap(t *testing.T) {
	d, _ := openRoadmap(t, 120, 50)
	d.keys("?")
	if d.app.mode != modeHelp {
		t.Fatal("? did not open help")
	}
	for _, b := range d.app.keys.Bindings() {
		if d.app.available(b) {
			d.mustSee(b.Help().Desc)
		} else {
			d.mustNotSee(b.Help().Desc) // the backend cannot edit: edit keys are hidden
		}
	}
	d.keys("j", "k", "esc")
	if d.app.mode != modeNormal {
		t.Fatal("esc did not close help")
	}
	d.keys("?", "?")
	if d.app.mode != modeNormal {
		t.Fatal("? did not close help")
	}
}

func TestDetailPane(t *testing.T) {
	d, _ := openRoadmap(t, 160, 48)
	d.keys("l", "j", "j", "j", "j", "enter")
	if !d.app.lens.detail {
		t.Fatal("enter did not open the detail pane")
	}
	d.mustSee("Story 1.4 of Checkout revamp")
	d.mustSee("Make Story 1.4 of Checkout revamp happen.") // ADF description as text
	d.mustSee("• first step")
	d.mustSee("is blocked by ALPHA-2") // links
	d.mustSee("Under      ALPHA-1")
	d.mustSee("Reporter   Alice Adams") // display names, not ids
	d.keys("esc")
	if d.app.lens.detail {
		t.Fatal("esc did not close the detail pane")
	}
	d.keys("d")
	if !d.app.lens.detail {
		t.Fatal("d did not open the detail pane")
	}
}

func TestOpenAndCopy(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys("o", "y")
	if len(d.opened) != 1 || d.opened[0] != "https://acme.atlassian.net/browse/ALPHA-1" {
		t.Fatalf("opened %v", d.opened)
	}
	if len(d.copied) != 1 || d.copied[0] != "ALPHA-1" {
		t.Fatalf("copied %v", d.copied)
	}
	d.mustSee("copied ALPHA-1")
	// No system clipboard (no X, or an SSH session): the terminal's, through OSC 52.
	var osc52 []string
	d.app.opt.Copy = func(string) error { return errors.New("no clipboard") }
	d.app.opt.CopyTerminal = func(s string) tea.Cmd { osc52 = append(osc52, s); return nil }
	d.keys("y")
	if len(osc52) != 1 || osc52[0] != "ALPHA-1" {
		t.Fatalf("copied through the terminal: %v", osc52)
	}
	d.mustSee("copied ALPHA-1 through the terminal (OSC 52; no clipboard)")
}

func TestSystemClipboardRefusedOverSSH(t *testing.T) {
	t.Setenv("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22")
	if err := systemClipboard("ALPHA-1"); !errors.Is(err, errRemoteClipboard) {
		t.Errorf("system clipboard in an SSH session: %v", err)
	}
}

func TestQuitSavesPrefsAndReopenRestores(t *testing.T) {
	d, b := openRoadmap(t, 80, 24)
	d.keys("E", "v", "j", "j", "L", "L", "s", "q")
	if !d.quit {
		t.Fatal("q did not quit")
	}
	var p lensPrefs
	if err := json.Unmarshal(b.prefs[prefLensPrefix+"roadmap"], &p); err != nil {
		t.Fatalf("prefs: %v", err)
	}
	if p.View != "dates" || len(p.Expanded) == 0 || p.SortCol == "" {
		t.Fatalf("saved prefs %+v", p)
	}
	// Reopen: the last Lens opens directly, with its view, expansion and sort.
	d2 := newDriver(t, b, 80, 24)
	if d2.app.screen != screenLens || d2.app.lens.view != "dates" || d2.app.lens.sortCol != p.SortCol {
		t.Fatalf("reopen: screen %v view %q sort %q", d2.app.screen, d2.app.lens.view, d2.app.lens.sortCol)
	}
	if d2.app.lens.table.Visible() != 39 {
		t.Fatalf("reopen: %d rows visible, want all 39", d2.app.lens.table.Visible())
	}
	d2.keys("ctrl+c")
	if !d2.quit {
		t.Fatal("ctrl+c did not quit")
	}
}

func TestHomeKeys(t *testing.T) {
	b := newMemBackend(t)
	d := newDriver(t, b, 80, 24)
	d.keys("j")
	if d.app.homeCursor != 1 {
		t.Fatalf("j on home: cursor %d", d.app.homeCursor)
	}
	d.keys("k", "G", "g", "/")
	if d.app.mode != modeHomeFilter {
		t.Fatal("/ on home did not start the filter")
	}
	d.typeText("bgs")
	if l := d.app.homeList(); len(l) != 1 || l[0].ID != "bugs" {
		t.Fatalf("fuzzy filter bgs: %v", l)
	}
	d.keys("enter")
	if d.app.lens == nil || d.app.lens.info.ID != "bugs" {
		t.Fatal("enter in the home filter did not open the match")
	}
	d.mustSee("High")
	d.keys("backspace")
	if d.app.screen != screenHome {
		t.Fatal("backspace did not go home")
	}
	d.keys("/")
	d.typeText("x")
	d.keys("esc")
	if d.app.homeFilter != "" || d.app.mode != modeNormal {
		t.Fatal("esc did not clear the home filter")
	}
}

func TestChangeFeedRebuildsKeepsCursorAndFlashes(t *testing.T) {
	d, b := openRoadmap(t, 80, 24)
	d.keys("E", "j", "j", "j")
	id := d.app.lens.table.CursorID()
	builds := b.builds
	d.fire() // poll: nothing changed
	if b.builds != builds {
		t.Fatalf("a quiet poll rebuilt (%d builds)", b.builds-builds)
	}
	b.edit("ALPHA-5", "Renamed by another process")
	d.fire()
	if b.builds != builds+1 {
		t.Fatalf("change feed moved but %d rebuilds", b.builds-builds)
	}
	d.mustSee("Renamed by another process")
	if got := d.app.lens.table.CursorID(); got != id {
		t.Fatalf("cursor moved to %s after the rebuild, want %s", got, id)
	}
	if !d.app.lens.table.flash["ALPHA-1/ALPHA-5"] {
		t.Fatal("changed row is not flashing")
	}
	d.fire() // flash end (and the next poll)
	if len(d.app.lens.table.flash) != 0 {
		t.Fatal("flash did not end")
	}
}

func TestRefreshAndStatusBar(t *testing.T) {
	d, b := openRoadmap(t, 120, 30)
	d.keys("r")
	if b.refreshes != 1 {
		t.Fatalf("r ran %d refreshes", b.refreshes)
	}
	d.mustSee("refreshed")
	b.refreshErr = errors.New("jira said 503")
	d.keys("r")
	d.mustSee("refresh: jira said 503")
	b.status.PendingWebhooks = 4
	b.status.Refreshing = true
	b.status.Err = "token expired"
	d.fire()
	for _, s := range []string{"demo │ Roadmap", "view plan", "39/39 rows", "refreshed 3m ago", "refreshing…", "4 webhooks pending", "error: token expired"} {
		d.mustSee(s)
	}
}

// TestBackgroundRefreshKeepsTheMessage: a background refresh that succeeds says nothing,
// so what an edit just reported stays; one the viewer asked for says "refreshed".
func TestBackgroundRefreshKeepsTheMessage(t *testing.T) {
	d, _ := openRoadmap(t, 120, 30)
	d.app.notice("ALPHA-5 Summary: old → new (u undoes)", false)
	d.app.refreshing = true
	d.app.Update(refreshMsg{})
	d.mustSee("(u undoes)")
	if d.app.refreshing {
		t.Error("still refreshing after the refresh ended")
	}
}

func TestOfflineBanner(t *testing.T) {
	b := newMemBackend(t)
	b.status.Offline = true
	d := newDriver(t, b, 80, 24)
	d.mustSee("OFFLINE — Jira is unreachable")
	d.keys("enter")
	d.mustSee("OFFLINE")
}

func TestMouse(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys("E")
	d.send(tea.MouseClickMsg{X: 10, Y: d.app.bodyTop() + 3, Button: tea.MouseLeft})
	if got := d.app.lens.table.Cursor(); got != 3 {
		t.Fatalf("click on body row 3: cursor %d", got)
	}
	d.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if d.app.lens.table.offset != 3 {
		t.Fatalf("wheel down: offset %d, want 3", d.app.lens.table.offset)
	}
	d.send(tea.MouseClickMsg{X: 10, Y: 23, Button: tea.MouseLeft}) // the status bar is no row
	if got := d.app.lens.table.Cursor(); got != 3 {
		t.Fatalf("click on the status bar moved the cursor to %d", got)
	}
	d.send(tea.MouseWheelMsg{Button: tea.MouseWheelUp}) // back to the top: ALPHA-1 first
	vis := d.app.lens.table.Visible()
	d.send(tea.MouseClickMsg{X: 0, Y: d.app.bodyTop(), Button: tea.MouseLeft}) // gutter toggles
	if d.app.lens.table.Visible() == vis {
		t.Fatal("click on the gutter did not toggle the row")
	}
	d.keys("M") // mouse off
	before := d.app.lens.table.Cursor()
	d.send(tea.MouseClickMsg{X: 10, Y: d.app.bodyTop() + 5, Button: tea.MouseLeft})
	if d.app.lens.table.Cursor() != before {
		t.Fatal("click moved the cursor with the mouse off")
	}
	if d.app.View().MouseMode != tea.MouseModeNone {
		t.Fatal("mouse mode still on")
	}
}

func TestResizeKeepsCursorRow(t *testing.T) {
	d, _ := openRoadmap(t, 160, 48)
	d.keys("E", "G", "k", "k")
	id := d.app.lens.table.CursorID()
	for _, sz := range [][2]int{{80, 24}, {40, 10}, {200, 60}} {
		d.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		d.app.Render()
		if got := d.app.lens.table.CursorID(); got != id {
			t.Fatalf("resize to %v: cursor on %s, want %s", sz, got, id)
		}
		if !strings.Contains(d.screen(), "▌") {
			t.Fatalf("resize to %v: cursor row not drawn:\n%s", sz, d.screen())
		}
	}
}

func TestBackendErrorsShown(t *testing.T) {
	b := newMemBackend(t)
	b.lensesErr = errors.New("cache locked")
	d := newDriver(t, b, 80, 24)
	d.mustSee("list Lenses: cache locked")
}

func TestRemapFromConfig(t *testing.T) {
	km := DefaultKeymap()
	if err := km.Remap(map[string][]string{"down": {"ctrl+j", "x"}, "quit": {"Q"}}); err != nil {
		t.Fatal(err)
	}
	b := newMemBackend(t)
	d := newDriver(t, b, 80, 24, func(o *Options) { o.Keymap = km })
	d.keys("enter", "x")
	if d.app.lens.table.Cursor() != 1 {
		t.Fatal("remapped down key did nothing")
	}
	d.keys("j")
	if d.app.lens.table.Cursor() != 1 {
		t.Fatal("old key j still moves down")
	}
	d.keys("?")
	d.mustSee("ctrl+j/x")
	d.keys("esc", "q")
	if d.quit {
		t.Fatal("q still quits after remapping quit to Q")
	}
	d.keys("Q")
	if !d.quit {
		t.Fatal("Q did not quit")
	}

	var ua *UnknownActionError
	if err := km.Remap(map[string][]string{"fly": {"f"}}); !errors.As(err, &ua) || ua.Action != "fly" {
		t.Fatalf("unknown action: %v", err)
	}
	if err := km.Remap(map[string][]string{"up": {}}); err == nil {
		t.Fatal("empty key list accepted")
	}
	if err := km.Remap(map[string][]string{"up": {"ctrl+bogus"}}); err == nil || !strings.Contains(err.Error(), "keys.up") {
		t.Fatalf("bad key name: %v", err)
	}
}

// TestKeymapActionsAreKeybinds: the config checks `keys:` against keybind's list, so it
// must name exactly the actions the keymap binds, in help order.
func TestKeymapActionsAreKeybinds(t *testing.T) {
	var got []string
	for _, b := range DefaultKeymap().Bindings() {
		got = append(got, string(b.Action))
		for _, k := range b.Keys() {
			if err := keybind.CheckKey(k); err != nil {
				t.Errorf("default key of %s: %v", b.Action, err)
			}
		}
	}
	if want := keybind.Actions(); !slices.Equal(got, want) {
		t.Errorf("keymap actions:\n%v\nkeybind actions:\n%v", got, want)
	}
}

func TestNoColor(t *testing.T) {
	if !NoColorEnv(func(string) string { return "1" }) || NoColorEnv(func(string) string { return "" }) {
		t.Fatal("NO_COLOR: any non-empty value disables color, empty does not")
	}
	b := newMemBackend(t)
	d := newDriver(t, b, 80, 24, func(o *Options) { o.NoColor = true })
	d.keys("enter", "E", "/")
	d.typeText("story")
	if out := d.app.Render(); strings.Contains(out, "\x1b[") {
		t.Fatalf("escape codes with no color: %q", out[:200])
	}
	d2 := newDriver(t, b, 80, 24)
	d2.keys("enter")
	if !strings.Contains(d2.app.Render(), "\x1b[") {
		t.Fatal("no styling with colors on")
	}
	d2.send(tea.BackgroundColorMsg{Color: color.White})
	if d2.app.th.Dark {
		t.Fatal("white background resolved a dark theme")
	}
	d2.send(tea.BackgroundColorMsg{Color: color.Black})
	if !d2.app.th.Dark {
		t.Fatal("black background resolved a light theme")
	}
}

func TestStaleBuildDropped(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	stale := builtMsg{seq: d.app.buildSeq - 1, info: d.app.lens.info, reason: reasonView, err: errors.New("stale")}
	d.send(stale)
	if d.app.message != "" {
		t.Fatalf("stale answer was applied: %q", d.app.message)
	}
}

func TestBackgroundRefreshTimer(t *testing.T) {
	b := newMemBackend(t)
	d := newDriver(t, b, 80, 24, func(o *Options) { o.RefreshInterval = time.Minute })
	if b.refreshes != 0 {
		t.Fatalf("%d refreshes before the interval", b.refreshes)
	}
	d.fire()
	if b.refreshes != 1 {
		t.Fatalf("%d refreshes after one interval, want 1", b.refreshes)
	}
	d.fire()
	if b.refreshes != 2 {
		t.Fatalf("%d refreshes after two intervals, want 2 (the timer re-arms)", b.refreshes)
	}
}

func TestADFText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"plain"`, "plain"},
		{`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"mention","attrs":{"text":"@bob"}}]},{"type":"paragraph","content":[{"type":"text","text":"b"}]}]}`, "a\n@bob\nb"},
		{`{"type":"doc","content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"x"}]}]}]}]}`, "• x"},
		{`not json`, ""},
		{`null`, ""},
	}
	for _, tc := range tests {
		if got := adfText([]byte(tc.in)); got != tc.want {
			t.Errorf("adfText(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzADFText(f *testing.F) {
	f.Add([]byte(`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]}]}`))
	f.Add([]byte(`"s"`))
	f.Add([]byte(`[1,{"type":"text"}]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := adfText(raw)
		if strings.HasSuffix(out, "\n") {
			t.Fatalf("trailing newline in %q", out)
		}
	})
}

func FuzzTableOps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7})
	f.Fuzz(func(t *testing.T, ops []byte) {
		tb := NewTable(newSynth(3, 2, 2))
		tb.SetSize(40, 4)
		for _, op := range ops {
			switch op % 10 {
			case 0:
				tb.Expand()
			case 1:
				tb.Collapse()
			case 2:
				tb.ExpandSubtree()
			case 3:
				tb.CollapseSubtree()
			case 4:
				tb.ExpandToLevel(int(op/10)%4 + 1)
			case 5:
				tb.Move(int(op/10)%7 - 3)
			case 6:
				tb.MoveColumn(int(op/10)%3 - 1)
			case 7:
				tb.ResizeColumn(int(op/10)%5 - 2)
			case 8:
				tb.Scroll(int(op/10)%7 - 3)
			case 9:
				tb.Toggle()
			}
			if want := naiveVisible(tb); !slices.Equal(tb.vis, want) {
				t.Fatalf("visible %v, want %v", tb.vis, want)
			}
		}
		_ = tb.View(NewTheme(true, true))
	})
}

func TestChangeDuringBuildIsNotLost(t *testing.T) {
	d, b := openRoadmap(t, 80, 24)
	d.app.building = true // as if a filter build were in flight
	builds, seq := b.builds, d.app.lastSeq
	b.edit("ALPHA-1", "Edited while building")
	d.fire()
	if b.builds != builds || d.app.lastSeq != seq {
		t.Fatalf("during a build: %d rebuilds, feed at %d (was %d)", b.builds-builds, d.app.lastSeq, seq)
	}
	d.app.building = false
	d.fire()
	if b.builds != builds+1 || d.app.lastSeq != seq+1 {
		t.Fatalf("after the build: %d rebuilds, feed at %d, want 1 and %d", b.builds-builds, d.app.lastSeq, seq+1)
	}
	if !d.app.lens.table.flash["ALPHA-1"] {
		t.Fatal("the change was not flashed")
	}
}

func TestDebugLogGoesToTheInjectedLogger(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b := newMemBackend(t)
	d := newDriver(t, b, 80, 24, func(o *Options) { o.Logger = log })
	d.keys("enter")
	if !strings.Contains(buf.String(), "msg=build") || !strings.Contains(buf.String(), "lens=roadmap") {
		t.Fatalf("no build line in the debug log:\n%s", buf.String())
	}
	if strings.Contains(d.screen(), "msg=") {
		t.Fatal("log output reached the screen")
	}
}

func TestEmptyResultIsUsable(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys("f")
	d.typeText("key = ALPHA-999")
	d.keys("enter")
	d.mustSee("0/39 rows")
	// Every key on an empty table is harmless.
	d.keys("j", "k", "G", "g", "ctrl+d", "l", "h", "space", "+", "-", "E", "C", "3", "tab", "s", "s", ">", "enter", "o", "y", "n", "/", "x", "esc", "c", "space", "esc")
	if len(d.opened)+len(d.copied) != 0 {
		t.Fatal("open or copy acted on an empty table")
	}
	d.mustSee("0/39 rows")
}

// TestRefreshAtStart: with RefreshAtStart the app catches up with Jira once as it starts,
// after drawing from the cache.
func TestRefreshAtStart(t *testing.T) {
	b := newMemBackend(t)
	d := newDriver(t, b, 80, 24, func(o *Options) { o.RefreshAtStart = true })
	d.mustSee("Roadmap")
	if b.refreshes != 1 {
		t.Fatalf("%d refreshes at start, want 1", b.refreshes)
	}
	plain := newMemBackend(t)
	newDriver(t, plain, 80, 24)
	if plain.refreshes != 0 {
		t.Fatalf("%d refreshes at start without the option", plain.refreshes)
	}
}

// orderBackend records the order of builds and refreshes, and can hold builds back.
type orderBackend struct {
	*memBackend
	calls []string
}

func (b *orderBackend) Build(ctx context.Context, req BuildRequest) (*Built, error) {
	b.calls = append(b.calls, "build")
	return b.memBackend.Build(ctx, req)
}

func (b *orderBackend) Refresh(ctx context.Context) error {
	b.calls = append(b.calls, "refresh")
	return b.memBackend.Refresh(ctx)
}

// The startup refresh waits for the first frame of the Lens that opens at start (on a
// small machine it would otherwise take the cores the first build needs), but starts at
// once when there is no Lens to open or the cache was never refreshed.
func TestRefreshAtStartWaitsForTheFirstFrame(t *testing.T) {
	b := &orderBackend{memBackend: newMemBackend(t)}
	b.prefs[prefLastLens] = []byte(`"roadmap"`)
	d := newDriver(t, b, 80, 24, func(o *Options) { o.RefreshAtStart = true })
	d.mustSee("39/39 rows")
	if !slices.Equal(b.calls, []string{"build", "refresh"}) {
		t.Fatalf("calls %v, want the build, then the refresh", b.calls)
	}
	// Held: until the build lands, no refresh.
	b2 := &orderBackend{memBackend: newMemBackend(t)}
	b2.prefs[prefLastLens] = []byte(`"roadmap"`)
	app, build := startHoldingTheBuild(t, b2)
	if slices.Contains(b2.calls, "refresh") || build == nil {
		t.Fatalf("before the first build landed: calls %v", b2.calls)
	}
	_, next := app.Update(build())
	if next == nil {
		t.Fatal("the first build landed and no refresh started")
	}
	next()
	if !slices.Equal(b2.calls, []string{"build", "refresh"}) {
		t.Fatalf("calls %v, want the build, then the refresh", b2.calls)
	}

	// No Lens to open: the list is the first screen, and the refresh starts with it.
	home := &orderBackend{memBackend: newMemBackend(t)}
	newDriver(t, home, 80, 24, func(o *Options) { o.RefreshAtStart = true })
	if !slices.Equal(home.calls, []string{"refresh"}) {
		t.Fatalf("home: calls %v, want a refresh", home.calls)
	}
	// A cache never refreshed: Jira first, before the build of the Lens.
	empty := &orderBackend{memBackend: newMemBackend(t)}
	empty.prefs[prefLastLens] = []byte(`"roadmap"`)
	empty.status.LastRefresh = time.Time{}
	app, build = startHoldingTheBuild(t, empty)
	if !slices.Equal(empty.calls, []string{"build", "refresh"}) {
		t.Fatalf("never refreshed: calls %v, want the refresh while the build runs", empty.calls)
	}
	if _, next := app.Update(build()); next != nil {
		if m := next(); m != nil {
			t.Fatalf("a second refresh after the first build: %T", m)
		}
	}
}

// startHoldingTheBuild starts an app with RefreshAtStart on b and runs what Init starts,
// except the build of the Lens opening at start: its command is returned (it has run
// to the backend call; its answer is not handed to the app) with the app.
func startHoldingTheBuild(t *testing.T, b Backend) (*App, tea.Cmd) {
	t.Helper()
	app, err := New(context.Background(), Options{Backend: b, RefreshAtStart: true,
		Tick: func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var built tea.Msg
	queue := []tea.Cmd{app.Init()}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch m := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, m...)
		case builtMsg:
			built = m
		case nil:
		default:
			_, next := app.Update(m)
			queue = append(queue, next)
		}
	}
	if built == nil {
		t.Fatal("no Lens was built at start")
	}
	return app, func() tea.Msg { return built }
}

// A key shared by two available bindings is shown only on the first, the one it runs.
func TestHelpShowsEachKeyOnceWhereItActs(t *testing.T) {
	k := DefaultKeymap()
	line := func(lines []string, desc string) string {
		for _, l := range lines {
			if strings.HasSuffix(l, " "+desc) {
				return strings.Fields(l)[0]
			}
		}
		return ""
	}
	all := k.helpLines(nil) // an editing backend: every binding is available
	if got := line(all, "mark or unmark the row"); got != "space" {
		t.Errorf("mark: keys %q, want space", got)
	}
	if got := line(all, "expand or collapse"); got != "z" {
		t.Errorf("toggle: keys %q, want z (space marks here)", got)
	}
	if got := line(all, "detail pane"); got != "d" {
		t.Errorf("detail: keys %q, want d (enter edits here)", got)
	}
	// The command palette shows the same keys beside each action.
	if live := k.liveKeys(nil); live[ActToggle] != "z" || live[ActMark] != "space" || live[ActLevel] != "1-9" {
		t.Errorf("live keys: toggle %q, mark %q, level %q", live[ActToggle], live[ActMark], live[ActLevel])
	}
	readOnly := k.helpLines(func(b Binding) bool { return b.Group != groupEdit })
	if got := line(readOnly, "expand or collapse"); got != "space/z" {
		t.Errorf("read-only toggle: keys %q, want space/z", got)
	}
	if got := line(readOnly, "detail pane"); got != "enter/d" {
		t.Errorf("read-only detail: keys %q, want enter/d", got)
	}
}

// The status bar keeps what matters when it does not fit: OFFLINE and an error outlast the
// profile, the view and the refresh age; whatever is left is cut with an ellipsis.
func TestStatusBarDropsLeastImportantFirst(t *testing.T) {
	parts := []statusPart{{"demo", 1}, {"Roadmap", 4}, {"view plan", 2}, {"39/39 rows", 5},
		{"refreshed 3m ago", 3}, {"OFFLINE", 9}, {"error: Jira unreachable (HTTP 503)", 9}}
	if got, want := fitParts(parts, 200), " demo │ Roadmap │ view plan │ 39/39 rows │ refreshed 3m ago │ OFFLINE │ error: Jira unreachable (HTTP 503)"; got != want {
		t.Errorf("wide: %q, want %q", got, want)
	}
	if got, want := fitParts(parts, 60), " 39/39 rows │ OFFLINE │ error: Jira unreachable (HTTP 503)"; got != want {
		t.Errorf("60 cells: %q, want %q", got, want)
	}
	got := fitParts(parts, 30)
	if !strings.HasPrefix(got, " OFFLINE │ error: Jira") || !strings.HasSuffix(got, "…") || ansi.StringWidth(got) != 30 {
		t.Errorf("30 cells: %q", got)
	}
}

// The home filter puts Lenses whose name starts with or holds the text before fuzzy name
// matches, then descriptions holding its words; letters scattered through a description do
// not match.
func TestHomeFilterRanksNamesFirst(t *testing.T) {
	a := &App{lenses: []LensInfo{
		{ID: "bugs", Name: "Bugs", Description: "Open bugs grouped by priority with formatting"},
		{ID: "refine", Name: "Backlog refinement"},
		{ID: "ff", Name: "Fixes for next"},
		{ID: "finished", Name: "Finished"},
	}}
	for filter, want := range map[string][]string{
		"fin":      {"finished", "refine", "ff"}, // not bugs: "with formatting" holds f…i…n scattered
		"priority": {"bugs"},                     // a word of the description
		"bugs":     {"bugs"},
		"":         {"bugs", "refine", "ff", "finished"},
	} {
		a.homeFilter = filter
		var got []string
		for _, l := range a.homeList() {
			got = append(got, l.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("filter %q: %v, want %v", filter, got, want)
		}
	}
}

// A filter local evaluation cannot answer (WAS needs history the cache does not keep) is
// asked of Jira on enter; its rows follow Jira's answer through rebuilds, and a failed ask
// puts the previous filter back.
func TestFilterAskedOfJira(t *testing.T) {
	d, b := openRoadmap(t, 100, 30)
	var done []string
	for _, is := range b.data.Issues {
		if is.StatusCategory == "done" && len(done) < 2 {
			done = append(done, is.Key)
		}
	}
	if len(done) != 2 {
		t.Fatalf("test data has %d done issues", len(done))
	}
	const q = `status WAS Done`
	b.jira = map[string][]string{q: done}

	// A syntax error cannot be asked: enter stays in the prompt.
	d.keys("f")
	d.typeText("status WAS (")
	if d.app.filterErr == nil || d.app.filterAskJira {
		t.Fatalf("syntax error: err %v, askable %v", d.app.filterErr, d.app.filterAskJira)
	}
	d.keys("enter")
	if d.app.mode != modeFilter {
		t.Fatal("enter asked Jira about a query that does not parse")
	}
	d.keys("esc")
	// Nor one Jira would refuse as well: a date it cannot read.
	d.keys("f")
	d.typeText("status WAS Done AFTER soon")
	d.pause()
	if d.app.filterErr == nil || d.app.filterAskJira {
		t.Fatalf("bad date: err %v, askable %v", d.app.filterErr, d.app.filterAskJira)
	}
	d.keys("esc")

	d.keys("f")
	d.typeText(q)
	d.pause()
	if d.app.filterErr == nil || !d.app.filterAskJira {
		t.Fatalf("WAS: err %v, askable %v", d.app.filterErr, d.app.filterAskJira)
	}
	d.mustSee("enter asks Jira · The operator 'WAS' cannot be evaluated here")
	d.keys("enter")
	ls := d.app.lens
	if d.app.mode != modeNormal || ls.filter != q || !ls.filterJira || b.jiraAsked != 1 {
		t.Fatalf("after enter: mode %v, filter %q (Jira %v), asked %d", d.app.mode, ls.filter, ls.filterJira, b.jiraAsked)
	}
	d.mustSee("filter (answered by Jira): " + q)
	if strings.Contains(d.screen(), "asking Jira") {
		t.Error("'asking Jira…' stays after Jira answered")
	}
	d.keys("E")
	for _, k := range done {
		if !strings.Contains(d.screen(), k) {
			t.Errorf("%s, which Jira answered, is not shown:\n%s", k, d.screen())
		}
	}
	if n := ls.table.Tree().Len(); n >= ls.built.Total {
		t.Errorf("the Jira filter kept %d of %d rows", n, ls.built.Total)
	}
	// A view switch or a rebuild keeps asking for Jira's answer, not for a local one.
	if req := ls.request(); !req.FilterByJira || req.Filter != q {
		t.Errorf("rebuild request %+v", req)
	}

	// Jira cannot answer another one: the message says so and the previous filter returns.
	d.keys("f")
	d.typeText(" AND priority WAS High")
	d.keys("enter")
	if ls := d.app.lens; ls.filter != q || !ls.filterJira {
		t.Errorf("after a failed ask: filter %q (Jira %v), want %q back", ls.filter, ls.filterJira, q)
	}
	d.mustSee("filter: Jira is unreachable")

	d.keys("F")
	if ls := d.app.lens; ls.filter != "" || ls.filterJira {
		t.Errorf("F left filter %q (Jira %v)", ls.filter, ls.filterJira)
	}

	// The preference remembers a Jira filter: reopening asks Jira again; if it cannot
	// answer, the Lens opens unfiltered rather than not at all.
	d.keys("f")
	d.typeText(q)
	d.keys("enter", "q")
	asked := b.jiraAsked
	d2 := newDriver(t, b, 100, 30)
	if ls := d2.app.lens; ls == nil || ls.filter != q || !ls.filterJira || b.jiraAsked != asked+1 {
		t.Fatalf("reopen with a Jira filter: lens %v, asked %d times more", ls != nil, b.jiraAsked-asked)
	}
	d2.keys("q")
	b.jira = nil // Jira unreachable
	d3 := newDriver(t, b, 100, 30)
	if ls := d3.app.lens; ls == nil || ls.filter != "" || ls.filterJira || ls.table.Tree().Len() == 0 {
		t.Fatalf("reopen with Jira unreachable: %+v", ls)
	}
	d3.mustSee("opened without your saved filter and columns: Jira is unreachable")

	// Jira's answer arriving after a newer build (a view switch) is dropped, and says so.
	d3.app.buildSeq++
	d3.app.onBuilt(builtMsg{seq: d3.app.buildSeq - 1, reason: reasonFilter, req: BuildRequest{Lens: "roadmap", Filter: q, FilterByJira: true}})
	d3.mustSee("the view changed before Jira's answer arrived")
	// Also when the newer build stopped it before Jira answered.
	d3.app.message = ""
	d3.app.buildSeq++
	d3.app.onBuilt(builtMsg{seq: d3.app.buildSeq - 1, reason: reasonFilter, err: fmt.Errorf("ask Jira: %w", context.Canceled),
		req: BuildRequest{Lens: "roadmap", Filter: q, FilterByJira: true}})
	d3.mustSee("the view changed before Jira's answer arrived")
}

// The palette ranks an action whose name or label the text is, starts, or starts a word of,
// above actions that merely hold its letters: enter runs the one named.
func TestPaletteRanksNamesFirst(t *testing.T) {
	d, _ := openRoadmap(t, 120, 40)
	for q, want := range map[string]string{
		"sort":     "sort-by-column",
		"help":     "help",
		"collapse": "collapse",
		"filter":   "filter-jql",
		"widen":    "widen-column",
		"level":    "expand-to-level",
		"mouse":    "toggle-mouse",
	} {
		d.keys(":")
		d.typeText(q)
		if len(d.app.palette) == 0 || d.app.palette[0].label != want {
			var got []string
			for _, it := range d.app.palette {
				got = append(got, it.label)
			}
			t.Errorf(": %s lists %v first, want %s", q, got, want)
		}
		d.keys("esc")
	}
	d.keys(":")
	d.typeText("help")
	d.keys("enter")
	if d.app.mode != modeHelp {
		t.Errorf(": help, enter: mode %v, want help", d.app.mode)
	}
}

// Rows keep their expanded state across filtering: rows a filter hid come back as open as
// they were when it is cleared, and so do rows a Jira-answered filter hid. Collapse all
// also closes rows the filter hides.
func TestFilterKeepsExpandedRows(t *testing.T) {
	d, b := openRoadmap(t, 120, 50)
	d.keys("E")
	if n := d.app.lens.table.Visible(); n != 39 {
		t.Fatalf("E: %d visible", n)
	}
	d.keys("f")
	d.typeText("issuetype = Epic")
	d.keys("enter")
	if n := d.app.lens.table.Tree().Len(); n == 0 || n >= 39 {
		t.Fatalf("filter kept %d rows", n)
	}
	// Saved while filtered, the open rows the filter hides are remembered too.
	if ids := d.app.lens.table.ExpandedIDs(); !slices.Contains(ids, "ALPHA-1/ALPHA-2") {
		t.Errorf("expanded ids while filtered lack a hidden open story: %v", ids)
	}
	d.keys("F")
	if n := d.app.lens.table.Visible(); n != 39 {
		t.Errorf("after F: %d visible, want all 39 open again\n%s", n, d.screen())
	}

	b.jira = map[string][]string{"status WAS Done": {"ALPHA-1"}}
	d.keys("f")
	d.typeText("status WAS Done")
	d.keys("enter")
	if !d.app.lens.filterJira {
		t.Fatal("the filter was not asked of Jira")
	}
	d.keys("F")
	if n := d.app.lens.table.Visible(); n != 39 {
		t.Errorf("after a Jira filter and F: %d visible, want 39", n)
	}

	d.keys("f")
	d.typeText("issuetype = Epic")
	d.keys("enter", "C", "F")
	if n := d.app.lens.table.Visible(); n != 3 {
		t.Errorf("C while filtered, then F: %d visible, want the 3 roots", n)
	}
}

// A failed refresh's notice goes when a later refresh succeeds, without a keypress: the
// viewer's own, a background one, or one in another process (the feed's last refresh).
func TestRefreshErrorClearedWhenJiraRecovers(t *testing.T) {
	const dial = `search "(project in (ALPHA)) AND updated >= \"-6m\" ORDER BY updated ASC": POST /rest/api/3/search/jql: dial tcp 127.0.0.1:41234: connect: connection refused`
	d, b := openRoadmap(t, 120, 30)
	b.refreshErr = errors.New(dial)
	d.send(refreshTickMsg{})
	d.mustSee("refresh failed: Jira unreachable: connection refused")
	b.refreshErr = nil
	d.send(refreshTickMsg{})
	d.mustNotSee("refresh failed")

	// Another process refreshes: the status's last refresh moves past the failure.
	b.refreshErr = errors.New(dial)
	d.send(refreshTickMsg{})
	d.mustSee("refresh failed")
	b.status.LastRefresh = testNow.Add(time.Minute)
	b.status.Err = dial // this process's backend still remembers its own failure
	d.send(pollMsg{})
	d.mustNotSee("refresh failed")
}

// While Jira has an error the status bar says the cause in a few words and keeps the Lens,
// view, rows and refresh age; ? shows the whole error. A server error (503) shows the
// banner as being offline does.
func TestJiraErrorKeepsTheStatusBar(t *testing.T) {
	const e503 = `search "(project in (ALPHA)) AND updated >= \"-6m\" ORDER BY updated ASC": POST /rest/api/3/search/jql: 503 Service Unavailable: upstream connect error or disconnect/reset before headers`
	d, b := openRoadmap(t, 120, 30)
	b.status.Err = e503
	b.refreshErr = errors.New(e503)
	d.keys("r")
	d.fire()
	lines := strings.Split(d.screen(), "\n")
	status := lines[len(lines)-1]
	for _, s := range []string{"Roadmap", "view plan", "39/39 rows", "refreshed 3m ago", "error: Jira answered 503 Service Unavailable"} {
		if !strings.Contains(status, s) {
			t.Errorf("status bar lacks %q: %q", s, status)
		}
	}
	d.mustSee("JIRA UNAVAILABLE — Jira answered 503 Service Unavailable; showing the cache as of 3m ago")
	if prompt := lines[len(lines)-2]; strings.Contains(prompt, "POST /rest") {
		t.Errorf("the prompt line repeats the request: %q", prompt)
	}
	d.keys("?")
	d.mustSee("disconnect/reset before headers") // the full text, wrapped
	d.keys("esc")

	b.status.Err = `GET /rest/api/3/myself: dial tcp: lookup acme.atlassian.net: no such host`
	d.fire()
	d.mustSee("error: Jira unreachable: no such host")
	d.mustNotSee("JIRA UNAVAILABLE")
}

// Asking Jira for a filter says so at once and for as long as Jira takes, even when a
// failed refresh replaces the notice; while OFFLINE it is not asked at all: the prompt says
// Jira cannot answer now instead of waiting out the retries.
func TestFilterAskedOfJiraFeedback(t *testing.T) {
	const q = `status WAS Done`
	d, b := openRoadmap(t, 140, 30)
	b.jira = map[string][]string{q: {"ALPHA-1"}}
	d.keys("f")
	d.typeText(q)
	d.pause()
	cmd := d.app.onKey(keyPress("enter")) // Jira has not answered yet
	d.mustSee("asking Jira for the filter…")
	d.app.Update(refreshMsg{err: errors.New("GET /rest/api/3/myself: dial tcp: connect: connection refused")})
	lines := strings.Split(d.screen(), "\n")
	if status := lines[len(lines)-1]; !strings.Contains(status, "asking Jira for the filter…") {
		t.Errorf("a failed refresh took 'asking Jira' off the screen: %q", status)
	}
	d.enqueue(cmd)
	d.idle()
	d.mustNotSee("asking Jira")
	if !d.app.lens.filterJira {
		t.Fatal("Jira's answer did not land")
	}
	d.keys("F")

	b.status.Offline = true
	d.fire()
	d.keys("f")
	d.typeText(q)
	asked := b.jiraAsked
	d.keys("enter")
	if d.app.mode != modeFilter || b.jiraAsked != asked {
		t.Fatalf("offline enter: mode %v, asked Jira %d times", d.app.mode, b.jiraAsked-asked)
	}
	d.mustSee("OFFLINE: Jira cannot answer this now")
	d.keys("esc")
	if d.app.lens.filter != "" {
		t.Errorf("esc left filter %q", d.app.lens.filter)
	}
}

// Help's two columns never run into each other: a description too long for its column ends
// in … inside it (120x40 with editing, where "mark a range…" used to run into "Issue").
// The Lens list's help lists only the keys that act there.
func TestHelpColumnsDoNotCollide(t *testing.T) {
	d := newDriver(t, newEditBackend(t), 120, 40)
	d.keys("enter", "?")
	d.mustSee("mark a range")
	for i, l := range strings.Split(d.screen(), "\n") {
		if i < 2 || ansi.StringWidth(l) <= 60 {
			continue
		}
		if r := []rune(l); len(r) > 60 && r[59] != ' ' {
			t.Errorf("line %d runs across the column gap: %q", i, l)
		}
	}
	d.keys("esc", "backspace", "?")
	for _, lensOnly := range []string{"expand all", "sort by column", "next view", "copy key", "clear the filter"} {
		d.mustNotSee(lensOnly)
	}
	d.mustSee("open the Lens")
	d.mustSee("narrow the list")
}

// A rebuild for a change that lands while the filter prompt shows an error (an unclosed
// quote) keeps the error: it built the last good filter, not the one typed.
func TestFilterErrorSurvivesChangeRebuild(t *testing.T) {
	d, b := openRoadmap(t, 120, 30)
	d.keys("f")
	d.typeText(`status = "Done`)
	d.mustSee("has not been completed")
	b.edit("ALPHA-5", "changed elsewhere")
	d.fire()
	d.mustSee("has not been completed")
	d.mustNotSee("enter keeps the filter")
	d.keys("enter")
	if d.app.mode != modeFilter {
		t.Error("enter kept a filter with an unclosed quote")
	}
}

// Keys that can do nothing say why instead of staying silent: o and y on a group row, v on
// a Lens with one view; M says what it turned on or off.
func TestSilentKeysSaySomething(t *testing.T) {
	d := newDriver(t, newMemBackend(t), 120, 30)
	d.keys("j", "enter") // Bugs by priority: grouped, one view
	if d.app.lens == nil || d.app.lens.info.ID != "bugs" {
		t.Fatal("Bugs did not open")
	}
	if d.app.lens.issueAt(d.app.lens.table.CursorRow()) != nil {
		t.Fatal("the first row of Bugs is not a group")
	}
	d.keys("o")
	d.mustSee("a group row has no issue to open")
	d.keys("y")
	d.mustSee("a group row has no issue to copy")
	if len(d.opened) != 0 || len(d.copied) != 0 {
		t.Errorf("opened %v, copied %v", d.opened, d.copied)
	}
	d.keys("v")
	d.mustSee("this Lens has one view (triage)")
	d.keys("M")
	d.mustSee("mouse off")
	d.keys("M")
	d.mustSee("mouse on")
}

// notedBackend adds build notes, as the real backend does when permissions hid rows.
type notedBackend struct {
	*memBackend
	notes []string
}

func (b notedBackend) Build(ctx context.Context, req BuildRequest) (*Built, error) {
	built, err := b.memBackend.Build(ctx, req)
	if built != nil {
		built.Notes = b.notes
	}
	return built, err
}

// An empty Lens says why: the filter only when it is the filter that left nothing; when
// permissions hid every row, the note does.
func TestEmptyLensSaysTheRightReason(t *testing.T) {
	mem := newMemBackend(t)
	mem.data = genData(0, 0, 0, 0)
	d := newDriver(t, notedBackend{mem, []string{"permissions for ALPHA could not be verified: 39 rows hidden"}}, 120, 30)
	d.keys("enter", "f")
	d.typeText("status = Done")
	d.keys("enter")
	d.mustSee("! permissions for ALPHA")
	d.mustSee("no rows you may see in this Lens: the note above says why")
	d.mustNotSee("no rows match the filter")
}

// < never narrows the tree column past its keys, and the ‹ marker of columns scrolled away
// to the left sits in the gap before the first one shown instead of cutting its title.
func TestNarrowKeepsKeysAndScrollMarker(t *testing.T) {
	d, _ := openRoadmap(t, 80, 24)
	d.keys("E")
	for range 30 {
		d.keys("<")
	}
	for _, k := range []string{"ALPHA-1 ", "ALPHA-3 ", "ALPHA-14 "} {
		d.mustSee(k)
	}
	d.keys("2")
	for range 6 {
		d.keys("L")
	}
	header := strings.Split(d.screen(), "\n")[1]
	if !strings.Contains(header, "‹Priority ") {
		t.Errorf("scrolled header %q: the ‹ marker cut the title", header)
	}
}

// A filtered Lens says its roll-ups are still the totals over every row, hidden ones too.
func TestFilteredRollupsSaySo(t *testing.T) {
	d, _ := openRoadmap(t, 160, 30)
	d.mustNotSee("roll-ups count hidden rows too")
	d.keys("f")
	d.typeText("issuetype = Epic")
	d.keys("enter")
	d.mustSee("roll-ups count hidden rows too")
	d.keys("backspace", "j", "enter", "f") // Bugs has no roll-ups: nothing to say
	d.typeText("priority = High")
	d.keys("enter")
	d.mustNotSee("roll-ups count")
}

// A filter on a field the site does not have is refused at the prompt, as Jira, export and
// lens apply refuse it: a custom field does not just match nothing, and a named one is not
// offered to Jira to be refused there.
func TestFilterRefusesFieldTheSiteLacks(t *testing.T) {
	for _, q := range []string{"cf[99999] > 10", "nosuchfield = 1"} {
		d, b := openRoadmap(t, 120, 30)
		d.keys("f")
		d.typeText(q)
		d.pause()
		if d.app.filterErr == nil || d.app.filterAskJira {
			t.Fatalf("%s: err %v, askable %v", q, d.app.filterErr, d.app.filterAskJira)
		}
		field := strings.Fields(q)[0]
		d.mustSee("Field '" + field + "' does not exist or you do not have permission to view it.")
		d.keys("enter")
		if d.app.mode != modeFilter || b.jiraAsked != 0 {
			t.Errorf("%s: enter left the prompt (mode %v) or asked Jira (%d)", q, d.app.mode, b.jiraAsked)
		}
	}
}

// On a big Lens a build takes a while: the prompt's error is still always the typed text's,
// not one left from an earlier text whose build answered, and enter while the text's build
// is in flight applies the text when it answers instead of being refused for the old error.
func TestFilterPromptWhileBuildsAreSlow(t *testing.T) {
	d, _ := openRoadmap(t, 120, 30)
	d.keys("f")
	d.typeText("status = Done A")
	d.mustSee("Expecting either 'OR' or 'AND' but got 'A'")
	// Builds in flight: their commands are held, as a slow backend would.
	var held []tea.Cmd
	press := func(k tea.KeyPressMsg) {
		d.handle(k)
		held, d.queue = append(held, d.queue...), nil
	}
	for _, r := range "ND priority = High" {
		press(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if d.app.filterErr != nil {
		t.Fatalf("an earlier text's error shows for %q: %v", d.app.input.Value(), d.app.filterErr)
	}
	d.mustNotSee("Expecting either")
	press(keyPress("enter"))
	if d.app.mode != modeFilter {
		t.Fatal("enter left the prompt before the filter's build answered")
	}
	d.mustSee("filtering…")
	d.queue = held
	d.idle()
	if d.app.mode != modeNormal || d.app.lens.filter != "status = Done AND priority = High" {
		t.Fatalf("enter did not apply the typed filter: mode %v, filter %q", d.app.mode, d.app.lens.filter)
	}

	// A syntax error in the text typed shows at once, before its build answers; enter
	// on a text whose build then refuses it stays in the prompt.
	d.keys("f")
	held = nil
	for _, r := range " AND (" {
		press(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	if d.app.filterErr == nil {
		t.Fatal("a syntax error waits for its build")
	}
	press(keyPress("backspace"))
	for _, r := range "nosuchfield = 1" {
		press(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	press(keyPress("enter"))
	d.queue = held
	d.idle()
	if d.app.mode != modeFilter || d.app.filterErr == nil {
		t.Fatalf("enter applied a filter its build refused: mode %v, err %v", d.app.mode, d.app.filterErr)
	}
	d.mustSee("Field 'nosuchfield' does not exist")
}

// The chooser narrows by title, and by a whole field id, not by parts of ids: every custom
// field's id holds "sto" (customfield_...).
func TestChooserNarrowsByTitleOrWholeID(t *testing.T) {
	b := newMemBackend(t)
	b.data.Fields = append(b.data.Fields, lens.Field{ID: "customfield_10099", Name: "Team", Custom: true, SchemaType: "string"})
	d := newDriver(t, b, 100, 30)
	d.keys("enter", "c")
	d.typeText("sto")
	d.mustSee("▌ [+] Story Points")
	d.mustNotSee("Team")
	d.keys("esc", "c")
	d.typeText("customfield_10099")
	d.mustSee("▌ [+] Team")
	d.mustNotSee("Story Points")
}

// ctxBackend records the context of every Build, to see which builds were stopped.
type ctxBackend struct {
	*memBackend
	ctxs []context.Context
	drv  *driver
}

func (b *ctxBackend) Build(ctx context.Context, req BuildRequest) (*Built, error) {
	b.ctxs = append(b.ctxs, ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.memBackend.Build(ctx, req)
}

// Typing a filter builds once typing pauses, not on every keystroke (on a 100,000-issue
// Lens a build takes up to a second); enter builds at once; a build the next keystroke
// supersedes is stopped, not left to run and be ignored.
func TestFilterBuildsAfterAPauseAndStopsStaleBuilds(t *testing.T) {
	b := &ctxBackend{memBackend: newMemBackend(t)}
	d := newDriver(t, b, 120, 30)
	b.drv = d
	d.keys("enter")
	builds := b.builds
	d.keys("f")
	d.typeText("status = Done")
	if b.builds != builds {
		t.Fatalf("%d builds while typing, want none before a pause", b.builds-builds)
	}
	d.mustSee("39/39 rows")
	d.pause()
	if b.builds != builds+1 {
		t.Fatalf("%d builds after the pause, want 1", b.builds-builds)
	}
	d.mustSee("/39 rows")
	d.mustNotSee("39/39 rows")

	// enter does not wait for the pause.
	d.typeText(" AND priority = High")
	builds = b.builds
	d.keys("enter")
	if b.builds != builds+1 || d.app.mode != modeNormal || d.app.lens.filter != "status = Done AND priority = High" {
		t.Fatalf("enter: %d builds, mode %v, filter %q", b.builds-builds, d.app.mode, d.app.lens.filter)
	}
	d.pause() // the timer of the last keystroke finds nothing left to build
	if b.builds != builds+1 {
		t.Fatalf("the pause after enter built again (%d builds)", b.builds-builds)
	}

	// A build in flight (held, as a slow backend's) is cancelled by the next keystroke,
	// and its answer, when it lands, is dropped.
	d.keys("f", "backspace", "backspace", "backspace", "backspace")
	d.typeText("Low")
	held := d.app.onKey(keyPress("enter")) // built at once, answer held
	d.typeText("est")
	if err := b.runCtx(t, held); !errors.Is(err, context.Canceled) {
		t.Fatalf("the superseded build ran with context error %v, want canceled", err)
	}
	if d.app.mode != modeFilter {
		t.Fatal("the dropped build's answer took enter's effect")
	}
	d.pause()
	d.keys("enter")
	if d.app.mode != modeNormal || d.app.lens.filter != "status = Done AND priority = Lowest" {
		t.Fatalf("after the pause and enter: mode %v, filter %q", d.app.mode, d.app.lens.filter)
	}
}

// runCtx runs a build command and returns the error of the context it was given.
func (b *ctxBackend) runCtx(t *testing.T, cmd tea.Cmd) error {
	t.Helper()
	n := len(b.ctxs)
	msg := cmd()
	if len(b.ctxs) != n+1 {
		t.Fatalf("the command ran %d builds", len(b.ctxs)-n)
	}
	if m, ok := msg.(builtMsg); ok && m.err != nil && !errors.Is(m.err, context.Canceled) {
		t.Fatalf("the build failed otherwise: %v", m.err)
	}
	err := b.ctxs[n].Err()
	_, next := b.drv.app.Update(msg)
	b.drv.enqueue(next)
	b.drv.idle()
	return err
}
