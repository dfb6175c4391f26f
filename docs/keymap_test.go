// Package docs holds the user documentation that is generated from the code: keymap.md is
// the TUI's key map as data (tui.DefaultKeymap), so the README's keys cannot drift from the
// keys the TUI answers to. Regenerate with: go test ./docs -update
package docs

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"

	"foundation/tui"
)

var update = flag.Bool("update", false, "rewrite keymap.md from the key map")

// keymapMarkdown renders the default key map as markdown tables, one per help group, with
// the action names that config `keys:` remaps.
func keymapMarkdown(km *tui.Keymap) []byte {
	var b bytes.Buffer
	b.WriteString("<!-- Generated from tui.DefaultKeymap by `go test ./docs -update`; do not edit. -->\n")
	b.WriteString("# Foundation key map\n\n")
	b.WriteString("Every action can be bound to other keys in the config file, by the name in the last column:\n\n")
	b.WriteString("```yaml\nkeys:\n  help: [\"?\", f1]\n```\n")
	group := ""
	for _, bd := range km.Bindings() {
		if bd.Group != group {
			group = bd.Group
			fmt.Fprintf(&b, "\n## %s\n\n| Keys | Action | Name |\n|---|---|---|\n", group)
		}
		h := bd.Help()
		fmt.Fprintf(&b, "| `%s` | %s | `%s` |\n", h.Key, h.Desc, bd.Action)
	}
	return b.Bytes()
}

func TestKeymapDoc(t *testing.T) {
	got := keymapMarkdown(tui.DefaultKeymap())
	if *update {
		if err := os.WriteFile("keymap.md", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("keymap.md")
	if err != nil {
		t.Fatalf("%v (generate it with: go test ./docs -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/keymap.md is out of date with tui.DefaultKeymap: run `go test ./docs -update` and commit it")
	}
}
