package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// promptLine is the screen line that starts with prefix (the editor's or the filter's).
func (d *driver) promptLine(prefix string) (int, string) {
	d.t.Helper()
	lines := strings.Split(d.screen(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return i, l
		}
	}
	d.t.Fatalf("no line starts with %q:\n%s", prefix, d.screen())
	return 0, ""
}

// Text longer than the edit line scrolls so the cursor and what was just typed show: it
// used to be cut at the right, so the end of a long summary could not be seen.
func TestEditLineScrollsToTheCursor(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		b := newEditBackend(t)
		d := newDriver(t, b, 40, 20, func(o *Options) { o.NoColor = noColor })
		d.keys("enter", "E")
		d.to("ALPHA-2", "Summary")
		d.keys("enter")
		d.typeText(" with a very long tail that ends HERE")
		y, line := d.promptLine("› ")
		if !strings.HasSuffix(strings.TrimRight(line, " "), "ends HERE") || !strings.HasPrefix(line, "› …") {
			t.Fatalf("no color %v: the edit line does not show the end typed:\n%q", noColor, line)
		}
		if w := ansi.StringWidth(line); w > 40 {
			t.Fatalf("edit line %d cells wide at 40 columns: %q", w, line)
		}
		if c := d.app.View().Cursor; noColor && (c == nil || c.Y != y || c.X != ansi.StringWidth(strings.TrimRight(line, " "))) {
			t.Fatalf("terminal cursor %+v, want just after the text on line %d: %q", c, y, line)
		}
		d.keys("home")
		if _, line = d.promptLine("› "); !strings.HasPrefix(line, "› Story 1.1") || !strings.HasSuffix(line, "…") {
			t.Fatalf("no color %v: home does not show the start, cut at the right with …:\n%q", noColor, line)
		}
		if c := d.app.View().Cursor; noColor && (c == nil || c.X != 2) {
			t.Fatalf("terminal cursor %+v after home, want column 2", c)
		}
	}
}

// A long JQL filter scrolls the same way, and the error marker stays under the rune at
// fault as shown: it used to point past the screen's edge.
func TestFilterLineScrollsWithItsErrorMarker(t *testing.T) {
	d, _ := openRoadmap(t, 50, 24)
	d.keys("f")
	d.typeText(`status = Done AND priority = High AND summary ~ "checkout" AND `)
	if d.app.filterErr == nil {
		t.Fatalf("no error for %q", d.app.input.Value())
	}
	y, first := d.promptLine(filterPrompt)
	if !strings.HasPrefix(first, filterPrompt+"…") || ansi.StringWidth(first) > 50 {
		t.Fatalf("the filter line is not scrolled to its end within 50 cells:\n%q", first)
	}
	marker := strings.Split(d.screen(), "\n")[y+1]
	at := caretCell(marker)
	if at < 0 || at >= 50 {
		t.Fatalf("marker at %d, off the 50-cell screen:\n%q\n%q", at, first, marker)
	}
	// The error is at the end of the input: the marker is under the cursor cell after it.
	if want := ansi.StringWidth(strings.TrimRight(first, " ")); at != want {
		t.Fatalf("marker at %d, want %d (after the text shown):\n%q\n%q", at, want, first, marker)
	}
	d.keys("home")
	if _, first = d.promptLine(filterPrompt); !strings.HasPrefix(first, filterPrompt+"status = Done") || !strings.HasSuffix(first, "…") {
		t.Fatalf("home does not show the start of the filter, cut with …:\n%q", first)
	}
	marker = strings.Split(d.screen(), "\n")[y+1]
	if at := caretCell(marker); at != 49 {
		t.Fatalf("marker at %d, want under the … that hides the fault (49):\n%q\n%q", at, first, marker)
	}
}

// caretCell is the cell of the error marker ^ in a line, -1 when there is none.
func caretCell(line string) int {
	i := strings.Index(line, "^")
	if i < 0 {
		return -1
	}
	return ansi.StringWidth(line[:i])
}
