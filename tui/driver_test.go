package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// driver runs the app headlessly, the way lazygit's integration tests do: every message is
// fed through Update and every command it returns is run, until nothing is pending (idle).
// Timers (change-feed poll, flash end, background refresh) do not count as pending: they
// are parked and fire only when the test asks, so no test sleeps.
type driver struct {
	t      testing.TB
	app    *App
	queue  []tea.Cmd
	timers []parkedTimer
	quit   bool
	opened []string
	copied []string
}

type parkedTimer struct {
	d  time.Duration
	fn func(time.Time) tea.Msg
}

func newDriver(t testing.TB, b Backend, w, h int, tweak ...func(*Options)) *driver {
	t.Helper()
	d := &driver{t: t}
	opt := Options{
		Backend: b,
		SiteURL: "https://acme.atlassian.net",
		Now:     func() time.Time { return testNow },
		Tick: func(dur time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
			return func() tea.Msg {
				d.timers = append(d.timers, parkedTimer{dur, fn})
				return nil
			}
		},
		OpenURL: func(u string) error { d.opened = append(d.opened, u); return nil },
		Copy:    func(s string) error { d.copied = append(d.copied, s); return nil },
	}
	for _, f := range tweak {
		f(&opt)
	}
	app, err := New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	d.app = app
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.enqueue(app.Init())
	d.idle()
	return d
}

func (d *driver) enqueue(c tea.Cmd) {
	if c != nil {
		d.queue = append(d.queue, c)
	}
}

func (d *driver) handle(msg tea.Msg) {
	switch m := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range m {
			d.enqueue(c)
		}
	case tea.QuitMsg:
		d.quit = true
	default:
		_, cmd := d.app.Update(msg)
		d.enqueue(cmd)
	}
}

// idle runs pending commands until there are none.
func (d *driver) idle() {
	d.t.Helper()
	for steps := 0; len(d.queue) > 0; steps++ {
		if steps > 10000 {
			d.t.Fatal("app never went idle")
		}
		c := d.queue[0]
		d.queue = d.queue[1:]
		d.handle(c())
	}
}

// send delivers a message and waits for idle.
func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	d.handle(msg)
	d.idle()
}

// keys presses keys by their names ("j", "enter", "ctrl+d", "space") in order.
func (d *driver) keys(names ...string) {
	d.t.Helper()
	for _, n := range names {
		d.send(keyPress(n))
	}
}

// typeText types printable text one rune at a time.
func (d *driver) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// fire runs the parked timers (all that are due now), as if their time had come.
func (d *driver) fire() {
	d.t.Helper()
	ts := d.timers
	d.timers = nil
	for _, tm := range ts {
		d.send(tm.fn(testNow))
	}
}

// screen is the rendered screen without ANSI codes.
func (d *driver) screen() string { return ansi.Strip(d.app.Render()) }

func (d *driver) mustSee(s string) {
	d.t.Helper()
	if !strings.Contains(d.screen(), s) {
		d.t.Fatalf("screen lacks %q:\n%s", s, d.screen())
	}
}

func (d *driver) mustNotSee(s string) {
	d.t.Helper()
	if strings.Contains(d.screen(), s) {
		d.t.Fatalf("screen shows %q:\n%s", s, d.screen())
	}
}

func keyPress(name string) tea.KeyPressMsg {
	special := map[string]tea.KeyPressMsg{
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "tab": {Code: tea.KeyTab},
		"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift}, "space": {Code: tea.KeySpace, Text: " "},
		"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown}, "left": {Code: tea.KeyLeft}, "right": {Code: tea.KeyRight},
		"backspace": {Code: tea.KeyBackspace}, "home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd},
		"pgdown": {Code: tea.KeyPgDown}, "pgup": {Code: tea.KeyPgUp},
	}
	if k, ok := special[name]; ok {
		return k
	}
	if strings.HasPrefix(name, "ctrl+") {
		return tea.KeyPressMsg{Code: rune(name[5]), Mod: tea.ModCtrl}
	}
	r := []rune(name)[0]
	return tea.KeyPressMsg{Code: r, Text: name}
}

func TestKeyPressNames(t *testing.T) {
	for _, n := range []string{"enter", "esc", "tab", "shift+tab", "space", "ctrl+d", "ctrl+c", "j", "G", "?", ":", "/", "up", "backspace"} {
		if got := keyPress(n).String(); got != n {
			t.Errorf("keyPress(%q).String() = %q", n, got)
		}
	}
}

// pause lets the filter prompt's typing pause: the parked filter timers fire (filterPause),
// and the other timers stay parked.
func (d *driver) pause() {
	d.t.Helper()
	var keep []parkedTimer
	ts := d.timers
	d.timers = nil
	for _, tm := range ts {
		if tm.d == filterPause {
			d.send(tm.fn(testNow))
		} else {
			keep = append(keep, tm)
		}
	}
	d.timers = append(keep, d.timers...)
}
