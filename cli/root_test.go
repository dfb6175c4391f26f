package cli

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"

	"foundation/examples"
	"foundation/lens"
)

// TestUnknownSubcommand: every command that groups others refuses an argument naming none
// of them (exit 2, as `foundation bogus` does) instead of printing its help and exiting 0,
// and suggests the nearest name.
func TestUnknownSubcommand(t *testing.T) {
	e := newCLIEnv(t)
	var parents []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() {
			parents = append(parents, strings.TrimPrefix(c.CommandPath(), "foundation"))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&globals{}))
	for _, want := range []string{"", " lens", " site", " webhook", " completion"} {
		found := false
		for _, p := range parents {
			found = found || p == want
		}
		if !found {
			t.Errorf("%q is not among the parent commands %q", want, parents)
		}
	}
	for _, p := range parents {
		args := append(strings.Fields(p), "bogus")
		r := e.run("", args...)
		want := `unknown command "bogus" for "foundation` + p + `"`
		if r.code != ExitUsage || !strings.Contains(r.stderr, want) {
			t.Errorf("foundation%s bogus: exit %d, stderr %q; want exit 2 with %s", p, r.code, r.stderr, want)
		}
	}
	r := e.run("", "lens", "lst")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "Did you mean this?\n\tlist") {
		t.Errorf("lens lst: exit %d, stderr %q; want a suggestion of list", r.code, r.stderr)
	}
	r = e.run("", "help", "lens", "bogus")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `unknown command "bogus" for "foundation lens"`) {
		t.Errorf("help lens bogus: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, ok := range [][]string{{"lens"}, {"help", "lens"}, {"lens", "--help"}} {
		if r := e.run("", ok...); r.code != 0 || !strings.Contains(r.stdout, "apply") {
			t.Errorf("%v: exit %d, stdout %q; want the help of lens", ok, r.code, r.stdout)
		}
	}
}

// TestHelpDoesNotQueryTerminal: on a terminal that never answers queries (the pty of
// `script`), help and usage errors come at once, without fang's background-colour query
// (`ESC ]11;? BEL ESC [c`, up to 2 s per query). The old code took 4 s for each.
func TestHelpDoesNotQueryTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary")
	}
	script, err := exec.LookPath("script")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("script(1) not installed: .ci/run installs it (bsdutils)")
		}
		t.Skip("script(1) not installed: it gives the command a terminal that ignores queries")
	}
	bin := buildBinary(t, t.TempDir())
	for _, tc := range []struct {
		args string
		env  []string
	}{
		{"--help", nil},
		{"lens", nil},
		{"help lens", nil},
		{"bogus --no-color", nil},
		{"bogus", []string{"NO_COLOR=1"}},
		{"export --lens X --bogus", nil},
	} {
		cmd := exec.Command(script, "-qc", bin+" "+tc.args, "/dev/null")
		cmd.Env = append(os.Environ(), tc.env...)
		cmd.Stdin = strings.NewReader("")
		start := time.Now()
		out, _ := cmd.CombinedOutput()
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("%s %v: took %s on a terminal that ignores queries", tc.args, tc.env, d)
		}
		if strings.Contains(string(out), "]11;?") || strings.Contains(string(out), "\x1b[c") {
			t.Errorf("%s %v: queried the terminal: %q", tc.args, tc.env, out)
		}
		if !strings.Contains(string(out), "foundation") {
			t.Errorf("%s %v: printed %q", tc.args, tc.env, out)
		}
	}
}

func TestDarkBackground(t *testing.T) {
	for in, want := range map[string]bool{"": true, "15;0": true, "0;15": false, "12;8": true, "0;7": false, "default;default": true, "15;default;0": true} {
		if got := darkBackground(in); got != want {
			t.Errorf("darkBackground(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]bool{"--no-color": true, "--no-color=false": false, "-- --no-color": false, "lens --no-color=1": true, "lens": false} {
		if got := noColorArg(strings.Fields(in)); got != want {
			t.Errorf("noColorArg(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestHelpTexts: help reads right after fang capitalises the first word of every flag's
// description ("csv, tsv" became "Csv, tsv", "JQL:" "Jql:"), and says what the commands
// do: every exit code a command group uses, every sample Lens the demo installs.
func TestHelpTexts(t *testing.T) {
	title := cases.Title(language.AmericanEnglish)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			w, _, _ := strings.Cut(strings.TrimSpace(f.Usage), " ")
			if w == "" {
				return
			}
			r, n := utf8.DecodeRuneInString(w)
			if want := string(unicode.ToUpper(r)) + w[n:]; title.String(w) != want {
				t.Errorf("%s --%s: help shows %q for %q", c.CommandPath(), f.Name, title.String(w), w)
			}
			// A value to type (csv, cloud, all...) must not come first, where it would be
			// shown capitalised.
			literal := map[string]bool{"cloud": true, "datacenter": true, "auto": true, "csv": true, "tsv": true, "json": true, "md": true, "table": true, "all": true, "alice": true, "bob": true, "admin": true}
			if strings.Trim(w, ",:;") != w || literal[w] {
				t.Errorf("%s --%s: help starts with %q, which reads as a value to type once capitalised: %q", c.CommandPath(), f.Name, w, f.Usage)
			}
		}
		c.LocalFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&globals{}))

	e := newCLIEnv(t)
	if r := e.run("", "lens", "--help"); !strings.Contains(r.stdout, "4 not allowed") {
		t.Errorf("lens --help does not give exit code 4:\n%s", r.stdout)
	}
	files, err := examples.Files()
	if err != nil {
		t.Fatal(err)
	}
	r := e.run("", "demo", "--help")
	for _, f := range files {
		def, err := lens.Parse(f.Name, f.Data)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.stdout, def.Name) {
			t.Errorf("demo --help does not name the sample Lens %s:\n%s", def.Name, r.stdout)
		}
	}
}

// TestConfigKeysCheckedByEveryCommand: a `keys:` mistake is reported with its file and line
// by any command that loads the config, not only when the TUI starts.
func TestConfigKeysCheckedByEveryCommand(t *testing.T) {
	e := newCLIEnv(t)
	e.writeConfig("https://x.example", "datacenter", "admin", "project = ALPHA")
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("keys:\n  dwn: [j]\n  up: [ctrl+bogus]\n")
	if err := errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"lens", "list"}, {"refresh"}, {"site", "list"}} {
		r := e.run("", args...)
		if r.code == 0 || !has(r.stderr, e.config+":9: keys.dwn: no such action (did you mean down?)") ||
			!has(r.stderr, e.config+`:10: keys.up: "ctrl+bogus" is not a key`) {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
}
