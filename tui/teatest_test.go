package tui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// TestProgramSmoke runs the app in a real Bubble Tea program (teatest's virtual terminal):
// the home screen draws, enter opens the Lens, E expands it, q quits and saves preferences.
func TestProgramSmoke(t *testing.T) {
	b := newMemBackend(t)
	app, err := New(context.Background(), Options{Backend: b, NoColor: true, PollInterval: 50 * time.Millisecond,
		Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(100, 30))
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(out []byte) bool { return bytes.Contains(out, []byte(s)) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	wait("Bugs by priority")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("Mobile offline mode")
	tm.Send(tea.KeyPressMsg{Code: 'E', Text: "E"})
	wait("Task 1.1.1")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if len(b.prefs[prefLensPrefix+"roadmap"]) == 0 {
		t.Fatal("quitting did not save the Lens preferences")
	}
}
