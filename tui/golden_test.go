package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// updating reports the -update flag. teatest's golden package already defines it for the
// test binary, so it is looked up rather than defined twice.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestGoldenScreens renders each screen at a narrow and a wide size and compares the text
// (ANSI stripped) with testdata/<name>-<w>x<h>.golden. Run with -update after a deliberate
// change and review the diff.
func TestGoldenScreens(t *testing.T) {
	screens := []struct {
		name  string
		setup func(b *memBackend)
		keys  func(d *driver)
	}{
		{"home", nil, func(d *driver) {}},
		{"lens-collapsed", nil, func(d *driver) { d.keys("enter") }},
		{"lens-expanded", nil, func(d *driver) { d.keys("enter", "E", "j", "j") }},
		{"lens-scrolled-right", nil, func(d *driver) { d.keys("enter", "2", "L", "L", "L", "L", "L", "L") }},
		{"lens-grouped", nil, func(d *driver) { d.keys("j", "enter", "E") }},
		{"detail", nil, func(d *driver) { d.keys("enter", "l", "j", "j", "j", "j", "enter") }},
		{"help", nil, func(d *driver) { d.keys("?") }},
		{"help-lens", nil, func(d *driver) { d.keys("enter", "?") }},
		{"palette", nil, func(d *driver) { d.keys("enter", ":"); d.typeText("exp") }},
		{"filter-error", nil, func(d *driver) { d.keys("enter", "f"); d.typeText("status = Done AND (priority"); d.pause() }},
		{"filter", nil, func(d *driver) { d.keys("enter", "f"); d.typeText("status = Done"); d.keys("enter", "E") }},
		{"search", nil, func(d *driver) { d.keys("enter", "E", "/"); d.typeText("task 2.3") }},
		{"offline", func(b *memBackend) { b.status.Offline = true; b.status.PendingWebhooks = 2 }, func(d *driver) { d.keys("enter") }},
	}
	for _, sc := range screens {
		for _, size := range [][2]int{{80, 24}, {160, 48}} {
			name := fmt.Sprintf("%s-%dx%d", sc.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				b := newMemBackend(t)
				if sc.setup != nil {
					sc.setup(b)
				}
				d := newDriver(t, b, size[0], size[1])
				sc.keys(d)
				got := d.screen()
				lines := strings.Split(got, "\n")
				if len(lines) != size[1] {
					t.Errorf("%d lines, want %d", len(lines), size[1])
				}
				// Trailing blanks carry no meaning and make diffs noisy.
				for i := range lines {
					lines[i] = strings.TrimRight(lines[i], " ")
				}
				got = strings.Join(lines, "\n") + "\n"
				path := filepath.Join("testdata", name+".golden")
				if updating() {
					if err := os.MkdirAll("testdata", 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./tui -run TestGoldenScreens -update)", err)
				}
				if got != string(want) {
					t.Errorf("screen differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
				}
			})
		}
	}
}
