package cli

// e2e_test.go drives the real binary's `foundation demo` in a real terminal (tmux): the
// fake site, the refresh, the TUI and its exit, end to end. It waits on what the screen
// shows, never on fixed sleeps.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxSession is one detached tmux session on a server of its own (its own socket), so the
// test neither sees nor disturbs the user's sessions.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
	env    []string
}

func (s *tmuxSession) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...)
	cmd.Env = s.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("tmux %s: %w: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// screen is the pane's text as shown, without colors.
func (s *tmuxSession) screen() string {
	s.t.Helper()
	out, err := s.tmux("capture-pane", "-p", "-t", s.name)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// keys sends tmux key names (Enter, BSpace, q...).
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if _, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatal(err)
	}
}

// text types literal text.
func (s *tmuxSession) text(text string) {
	s.t.Helper()
	if _, err := s.tmux("send-keys", "-t", s.name, "-l", text); err != nil {
		s.t.Fatal(err)
	}
}

// waitFor polls the screen until ok accepts it, failing with the last screen after timeout.
func (s *tmuxSession) waitFor(what string, timeout time.Duration, ok func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sc := s.screen()
		if ok(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waited %s for %s; the screen shows:\n%s", timeout, what, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether the session still exists.
func (s *tmuxSession) alive() bool {
	_, err := s.tmux("has-session", "-t", s.name)
	return err == nil
}

// needTmux skips without tmux, except in CI, where .ci/run installs it and a skip would
// hide that the end-to-end test never ran.
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tmux not installed (CI=true, and .ci/run should have installed it): %v", err)
		}
		t.Skip("tmux not installed: the end-to-end test of `foundation demo` needs it (apt-get install tmux); .ci/run installs it")
	}
}

// buildBinary builds the foundation command into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not on PATH: %v", err)
	}
	bin := filepath.Join(dir, "foundation")
	cmd := exec.Command(goTool, "build", "-o", bin, "foundation")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var (
	issueKeyRE = regexp.MustCompile(`\b[A-Z]+-\d+\b`)
	// cursorRE finds the cursor row of a screen: the table marks it with a bar.
	cursorRE = regexp.MustCompile(`(?m)^▌.*$`)
)

func TestE2EDemoTmux(t *testing.T) {
	needTmux(t)
	if testing.Short() {
		t.Skip("-short: the end-to-end run builds the binary and drives it under tmux")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	tmp := filepath.Join(dir, "tmp") // the demo's TMPDIR: it must be empty after the run
	home := filepath.Join(dir, "home")
	for _, d := range []string{tmp, home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	exitFile := filepath.Join(dir, "exit")

	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "TMUX", "TMUX_PANE", "HOME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "FOUNDATION_CONFIG", "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "TMPDIR="+tmp)
	s := &tmuxSession{t: t, socket: filepath.Join(dir, "tmux.sock"), name: "demo", env: env}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })

	// The shell records the exit code once the demo ends, and then the session ends.
	command := fmt.Sprintf("%s demo --issues 800; echo $? > %s", shellQuote(bin), shellQuote(exitFile))
	if _, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "120", "-y", "36", command); err != nil {
		t.Fatal(err)
	}

	// 1. The fake site is filled into the cache, then the TUI opens on the Roadmap.
	s.waitFor("the Roadmap Lens", 90*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Roadmap") && strings.Contains(sc, "rows") && issueKeyRE.MatchString(sc)
	})

	// 2. Back to the Lens list: the three sample Lenses are there.
	s.keys("BSpace")
	home1 := s.waitFor("the Lens list", 10*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Lenses") && strings.Contains(sc, "3 Lenses")
	})
	for _, name := range []string{"Roadmap", "Sprint", "Bugs"} {
		if !regexp.MustCompile(`(?m)^\S*\s*` + name + `\s`).MatchString(home1) {
			t.Errorf("the Lens list lacks %s:\n%s", name, home1)
		}
	}

	// 3. Open one by filtering the list: the Bugs Lens, then back and the Roadmap.
	s.keys("/")
	s.text("bugs")
	s.keys("Enter")
	s.waitFor("the Bugs Lens", 10*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Bugs") && strings.Contains(sc, "│ Bugs │")
	})
	s.keys("BSpace")
	s.waitFor("the Lens list narrowed to Bugs", 10*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Lenses") && !strings.Contains(sc, "Sprint")
	})
	// The list keeps its filter; esc clears it.
	s.keys("Escape")
	s.waitFor("the whole Lens list", 10*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Lenses") && strings.Contains(sc, "Sprint")
	})
	s.keys("/")
	s.text("roadmap")
	s.keys("Enter")
	collapsed := s.waitFor("the Roadmap Lens again", 10*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Roadmap") && strings.Contains(sc, "│ Roadmap │") && cursorRE.MatchString(sc)
	})
	if strings.Contains(collapsed, "├─") || strings.Contains(collapsed, "└─") {
		t.Fatalf("the Roadmap opens expanded; the test expects its epics collapsed:\n%s", collapsed)
	}

	// 4. Expand the epic under the cursor: its stories appear under it with tree guides.
	s.keys("g", "l")
	expanded := s.waitFor("the first epic expanded", 10*time.Second, func(sc string) bool {
		return strings.Contains(sc, "▾") && (strings.Contains(sc, "├─") || strings.Contains(sc, "└─"))
	})
	cur := cursorRE.FindString(expanded)
	if !strings.Contains(cur, "▾") {
		t.Errorf("the cursor row %q is not the expanded epic:\n%s", cur, expanded)
	}

	// 5. Search for the key of a row further down: the cursor jumps to it.
	lines := strings.Split(expanded, "\n")
	target := ""
	for i := len(lines) - 1; i >= 0 && target == ""; i-- {
		if strings.Contains(lines[i], "├─") || strings.Contains(lines[i], "└─") {
			target = issueKeyRE.FindString(lines[i])
		}
	}
	if target == "" {
		t.Fatalf("no child row with a key on screen:\n%s", expanded)
	}
	s.keys("/")
	s.text(target)
	s.keys("Enter")
	found := s.waitFor("the cursor on "+target, 10*time.Second, func(sc string) bool {
		return strings.Contains(cursorRE.FindString(sc), target)
	})
	if strings.Contains(found, "no match") {
		t.Errorf("search for %s says no match:\n%s", target, found)
	}

	// 6. Quit: the demo ends, with exit code 0, and leaves nothing behind.
	s.keys("q")
	deadline := time.Now().Add(15 * time.Second)
	for s.alive() {
		if time.Now().After(deadline) {
			t.Fatalf("the session is still alive 15s after q:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, err := os.ReadFile(exitFile)
	if err != nil {
		t.Fatalf("the demo's exit code was not recorded: %v", err)
	}
	if got := strings.TrimSpace(string(code)); got != "0" {
		t.Errorf("demo exited %s after q, want 0", got)
	}
	left, err := os.ReadDir(tmp)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("the demo left %v in its TMPDIR", left)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("the demo wrote into HOME: %v", entries)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
