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
	"strconv"
	"strings"
	"syscall"
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

// e2eRun is one run of the built binary in a tmux session, with its own HOME and TMPDIR.
type e2eRun struct {
	*tmuxSession
	dir, tmp, home string
}

// startE2E builds the binary and starts `command` (given the binary's path, shell-quoted,
// and the run's directory) in a 120x36 tmux session.
func startE2E(t *testing.T, command func(bin, dir string) string) *e2eRun {
	t.Helper()
	needTmux(t)
	if testing.Short() {
		t.Skip("-short: the end-to-end run builds the binary and drives it under tmux")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	r := &e2eRun{dir: dir, tmp: filepath.Join(dir, "tmp"), home: filepath.Join(dir, "home")}
	for _, d := range []string{r.tmp, r.home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// An empty config keeps the user's ~/.tmux.conf (key bindings, hooks) out of the run.
	conf := filepath.Join(dir, "tmux.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "TMUX", "TMUX_PANE", "HOME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "FOUNDATION_CONFIG", "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	// The demo's TMPDIR must be empty after the run, and HOME untouched.
	env = append(env, "HOME="+r.home, "TMPDIR="+r.tmp)
	r.tmuxSession = &tmuxSession{t: t, socket: filepath.Join(dir, "tmux.sock"), name: "demo", env: env}
	t.Cleanup(func() { _, _ = r.tmux("kill-server") })
	if _, err := r.tmux("-f", conf, "new-session", "-d", "-s", r.name, "-x", "120", "-y", "36", command(shellQuote(bin), dir)); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkLeftovers fails when the demo left files in its TMPDIR or HOME.
func (r *e2eRun) checkLeftovers() {
	r.t.Helper()
	left, err := os.ReadDir(r.tmp)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		r.t.Fatal(err)
	}
	if len(left) != 0 {
		r.t.Errorf("the demo left %v in its TMPDIR", left)
	}
	if entries, _ := os.ReadDir(r.home); len(entries) != 0 {
		r.t.Errorf("the demo wrote into HOME: %v", entries)
	}
}

// waitRoadmap waits for the TUI's first screen: the demo opens on the Roadmap Lens.
func (r *e2eRun) waitRoadmap() {
	r.t.Helper()
	r.waitFor("the Roadmap Lens", 90*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Roadmap") && strings.Contains(sc, "rows") && issueKeyRE.MatchString(sc)
	})
}

// TestE2EDemoTmux: open a Lens from the list, expand, search, quit with q.
func TestE2EDemoTmux(t *testing.T) {
	var exitFile string
	s := startE2E(t, func(bin, dir string) string {
		// The shell records the exit code once the demo ends; then the session ends.
		exitFile = filepath.Join(dir, "exit")
		return fmt.Sprintf("%s demo --issues 800; echo $? > %s", bin, shellQuote(exitFile))
	})

	// 1. The fake site is filled into the cache, then the TUI opens on the Roadmap.
	s.waitRoadmap()

	// 2. Back to the Lens list: the four sample Lenses are there.
	s.keys("BSpace")
	home1 := s.waitFor("the Lens list", 20*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Lenses") && strings.Contains(sc, "4 Lenses")
	})
	for _, name := range []string{"Roadmap", "Sprint", "Bugs", "Finished"} {
		if !regexp.MustCompile(`(?m)^\S*\s*` + name + `\s`).MatchString(home1) {
			t.Errorf("the Lens list lacks %s:\n%s", name, home1)
		}
	}

	// 3. Open one by filtering the list: the Bugs Lens, then back and the Roadmap.
	s.keys("/")
	s.text("bugs")
	s.keys("Enter")
	s.waitFor("the Bugs Lens", 20*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Bugs") && strings.Contains(sc, "│ Bugs │")
	})
	s.keys("BSpace")
	s.waitFor("the Lens list narrowed to Bugs", 20*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Lenses") && !strings.Contains(sc, "Sprint")
	})
	// The list keeps its filter; esc clears it.
	s.keys("Escape")
	s.waitFor("the whole Lens list", 20*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Lenses") && strings.Contains(sc, "Sprint")
	})
	s.keys("/")
	s.text("roadmap")
	s.keys("Enter")
	collapsed := s.waitFor("the Roadmap Lens again", 20*time.Second, func(sc string) bool {
		return strings.Contains(sc, "Foundation › Roadmap") && strings.Contains(sc, "│ Roadmap │") && cursorRE.MatchString(sc)
	})
	if strings.Contains(collapsed, "├─") || strings.Contains(collapsed, "└─") {
		t.Fatalf("the Roadmap opens expanded; the test expects its epics collapsed:\n%s", collapsed)
	}

	// 4. Expand the epic under the cursor: its stories appear under it with tree guides.
	s.keys("g", "l")
	expanded := s.waitFor("the first epic expanded", 20*time.Second, func(sc string) bool {
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
	found := s.waitFor("the cursor on "+target, 20*time.Second, func(sc string) bool {
		return strings.Contains(cursorRE.FindString(sc), target)
	})
	if strings.Contains(found, "no match") {
		t.Errorf("search for %s says no match:\n%s", target, found)
	}

	// 6. Quit: the demo ends with exit code 0, the session ends, nothing is left behind.
	s.keys("q")
	if code := waitExitFile(t, exitFile, 15*time.Second, s); code != "0" {
		t.Errorf("demo exited %s after q, want 0", code)
	}
	deadline := time.Now().Add(15 * time.Second)
	for s.alive() {
		if time.Now().After(deadline) {
			t.Fatalf("the session is still alive 15s after the demo ended:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.checkLeftovers()
}

// TestE2EDemoSIGTERM: SIGTERM while the TUI runs ends the demo cleanly (exit 0, fake site
// stopped, temporary directory removed).
func TestE2EDemoSIGTERM(t *testing.T) {
	var pidFile, exitFile string
	s := startE2E(t, func(bin, dir string) string {
		pidFile, exitFile = filepath.Join(dir, "pid"), filepath.Join(dir, "exit")
		// The inner shell records its pid and becomes the demo (exec), so the pid is the
		// demo's; the outer shell records the demo's exit code.
		inner := fmt.Sprintf("echo $$ > %s; exec %s demo --issues 300", shellQuote(pidFile), bin)
		return fmt.Sprintf("sh -c %s; echo $? > %s", shellQuote(inner), shellQuote(exitFile))
	})
	s.waitRoadmap()
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("pid file %q: %v", raw, err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := waitExitFile(t, exitFile, 15*time.Second, s)
	if code != "0" {
		t.Errorf("demo exited %s after SIGTERM, want 0", code)
	}
	s.checkLeftovers()
}

// TestE2EDemoCtrlC: ctrl+c in the TUI quits like q.
func TestE2EDemoCtrlC(t *testing.T) {
	var exitFile string
	s := startE2E(t, func(bin, dir string) string {
		exitFile = filepath.Join(dir, "exit")
		return fmt.Sprintf("%s demo --issues 300 --dialect datacenter --as bob; echo $? > %s", bin, shellQuote(exitFile))
	})
	s.waitRoadmap()
	s.keys("C-c")
	if code := waitExitFile(t, exitFile, 15*time.Second, s); code != "0" {
		t.Errorf("demo exited %s after ctrl+c, want 0", code)
	}
	s.checkLeftovers()
}

// waitExitFile waits for the shell around the demo to record its exit code.
func waitExitFile(t *testing.T, path string, timeout time.Duration, s *e2eRun) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not end within %s; the screen shows:\n%s", timeout, s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
