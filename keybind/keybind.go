// Package keybind holds what the config file's `keys:` section may name: the TUI's actions
// and the grammar of key names. It is shared by config, which checks a file when it is
// loaded, and tui, which binds the keys, so a mistake is reported with its file and line
// by every command and not only when the TUI starts.
package keybind

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// actions are the names of the TUI's actions, in the order of its help. tui.DefaultKeymap
// binds exactly these (a test there keeps the two in step).
var actions = []string{
	"up", "down", "top", "bottom", "half-page-down", "half-page-up", "column-left", "column-right",
	"edit-cell", "undo", "redo", "mark-row", "mark-range", "set-on-marked", "cut-row", "paste-row",
	"indent-row", "outdent-row", "move-row-up", "move-row-down",
	"collapse", "expand", "toggle", "expand-subtree", "collapse-subtree", "expand-all", "collapse-all", "expand-to-level",
	"next-view", "sort-by-column", "widen-column", "narrow-column", "choose-columns", "toggle-detail",
	"search", "next-match", "previous-match", "filter-jql", "clear-filter",
	"open-in-browser", "copy-key",
	"refresh", "access-list", "back", "home", "palette", "help", "toggle-mouse", "quit",
}

// Actions returns the action names a config may bind, in help order.
func Actions() []string { return slices.Clone(actions) }

// IsAction reports whether name is one of the TUI's actions.
func IsAction(name string) bool { return slices.Contains(actions, name) }

// modifiers in the order the terminal library writes them: a key press reads as
// "ctrl+alt+x", never "alt+ctrl+x", so a binding must use this order to ever match.
var modifiers = []string{"ctrl", "alt", "shift", "meta", "hyper", "super"}

// named are the keys written as words (as the terminal library names them); f1 to f63
// are checked apart.
var named = []string{
	"enter", "tab", "backspace", "esc", "space", "up", "down", "left", "right", "begin", "find",
	"insert", "delete", "select", "pgup", "pgdown", "home", "end", "equal", "mul", "plus", "comma",
	"minus", "period", "div", "sep", "capslock", "scrolllock", "numlock", "printscreen", "pause",
	"menu", "mediaplay", "mediapause", "mediaplaypause", "mediareverse", "mediastop",
	"mediafastforward", "mediarewind", "medianext", "mediaprev", "mediarecord", "lowervol",
	"raisevol", "mute",
}

// CheckKey returns why name is not a key a binding can match, or nil. A key is zero or more
// modifiers (ctrl+, alt+, shift+, meta+, hyper+, super+, in that order) and then one
// printable character or a key name such as enter, pgdown or f2.
func CheckKey(name string) error {
	rest, last := name, -1
	for {
		mod, after, ok := strings.Cut(rest, "+")
		if !ok || after == "" { // "+" alone, or "ctrl++", is the plus key
			break
		}
		i := slices.Index(modifiers, mod)
		if i < 0 {
			if utf8.RuneCountInString(mod) > 1 {
				return fmt.Errorf("%q: %q is not a modifier: use ctrl, alt, shift, meta, hyper or super", name, mod)
			}
			break // a character such as "a" in "a+b": rejected below as not one key
		}
		if i <= last {
			return fmt.Errorf("%q: write modifiers in the order %s", name, strings.Join(modifiers, "+"))
		}
		last, rest = i, after
	}
	if utf8.RuneCountInString(rest) == 1 {
		if r, _ := utf8.DecodeRuneInString(rest); unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return nil
		}
		return fmt.Errorf("%q is not a key: write a space as space", name)
	}
	if slices.Contains(named, rest) {
		return nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(rest, "f")); err == nil && strings.HasPrefix(rest, "f") && n >= 1 && n <= 63 && !strings.HasPrefix(rest, "f0") {
		return nil
	}
	return fmt.Errorf("%q is not a key: %q is neither one character nor a key name such as enter, esc, space, tab, up, pgdown, home or f2", name, rest)
}
