package cli

// execute.go runs the command line under fang (styled help and usage) without fang's
// terminal query. Rendering help or an error, fang asks the terminal for its background
// colour (OSC 11, then DA1) whenever stdin and stdout are terminals, and waits up to 2 s on
// each of them for an answer: a terminal that ignores queries (a serial console, `script`,
// some multiplexers) stalled `foundation --help` and every usage error by 4 s, with the
// query echoed as `^[]11;?^G^[[c`. Help and errors do not need the answer: without it they
// use the dark scheme (fang's own fallback), or the one COLORFGBG names, and none at all with
// --no-color or NO_COLOR. The commands themselves see the real stdin; the TUI detects the
// background through Bubble Tea, which does not block on it.

import (
	"context"
	"os"
	"strconv"
	"strings"

	"charm.land/fang/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

// execute runs root with args the way Main does (tests use it too).
func execute(ctx context.Context, root *cobra.Command, args []string) error {
	root.SetArgs(args)
	if noColorArg(args) {
		// fang's help writer takes its colour profile from the environment.
		restore := setEnv("NO_COLOR", "1")
		defer restore()
	}
	// fang queries only when stdin is a terminal: stand /dev/null in for it while cobra and
	// fang parse, print help and print errors, and hand the commands the real one.
	if real := os.Stdin; real != nil && term.IsTerminal(real.Fd()) {
		if null, err := os.Open(os.DevNull); err == nil {
			os.Stdin = null
			defer func() {
				os.Stdin = real
				null.Close()
			}()
			withStdin(root, real, null)
		}
	}
	return fang.Execute(ctx, root, fang.WithoutManpage(), fang.WithErrorHandler(errorHandler),
		fang.WithColorSchemeFunc(func(lipgloss.LightDarkFunc) fang.ColorScheme {
			return fang.DefaultColorScheme(lipgloss.LightDark(darkBackground(os.Getenv("COLORFGBG"))))
		}))
}

// withStdin makes every command run with os.Stdin set to real, and puts hidden back when
// it returns (for fang's error output).
func withStdin(cmd *cobra.Command, real, hidden *os.File) {
	if run := cmd.RunE; run != nil && cmd.Annotations[helpOnly] == "" {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			os.Stdin = real
			defer func() { os.Stdin = hidden }()
			return run(c, args)
		}
	}
	for _, sub := range cmd.Commands() {
		withStdin(sub, real, hidden)
	}
}

// helpOnly marks a command whose run only prints its help: it keeps the hidden stdin.
const helpOnly = "foundation/help-only"

func markHelpOnly(cmd *cobra.Command) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[helpOnly] = "yes"
}

// noColorArg reports whether the command line turns colour off (--no-color before any
// "--").
func noColorArg(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--no-color":
			return true
		case strings.HasPrefix(a, "--no-color="):
			on, err := strconv.ParseBool(strings.TrimPrefix(a, "--no-color="))
			return err == nil && on
		}
	}
	return false
}

// darkBackground reads the terminal's background from COLORFGBG ("15;0": white on black),
// which many terminals set, without asking the terminal; dark when it does not say.
func darkBackground(colorfgbg string) bool {
	parts := strings.Split(colorfgbg, ";")
	bg, err := strconv.Atoi(parts[len(parts)-1])
	if colorfgbg == "" || err != nil {
		return true
	}
	return bg < 7 || bg == 8 // the dark ANSI colours: black, the dim ones, bright black
}

// setEnv sets an environment variable and returns what puts the previous state back.
func setEnv(key, value string) (restore func()) {
	old, had := os.LookupEnv(key)
	os.Setenv(key, value)
	return func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	}
}
