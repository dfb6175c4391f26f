package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
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
