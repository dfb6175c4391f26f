package tui

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"foundation/keybind"
)

// Action names one thing the user can do. The names are what config `keys:` maps and what the
// command palette lists, so they are part of the user interface: keep them stable.
type Action string

const (
	ActQuit          Action = "quit"
	ActHelp          Action = "help"
	ActPalette       Action = "palette"
	ActUp            Action = "up"
	ActDown          Action = "down"
	ActTop           Action = "top"
	ActBottom        Action = "bottom"
	ActHalfDown      Action = "half-page-down"
	ActHalfUp        Action = "half-page-up"
	ActCollapse      Action = "collapse"
	ActExpand        Action = "expand"
	ActToggle        Action = "toggle"
	ActExpandSubtree Action = "expand-subtree"
	ActCollapseSub   Action = "collapse-subtree"
	ActExpandAll     Action = "expand-all"
	ActCollapseAll   Action = "collapse-all"
	ActLevel         Action = "expand-to-level"
	ActColLeft       Action = "column-left"
	ActColRight      Action = "column-right"
	ActWiden         Action = "widen-column"
	ActNarrow        Action = "narrow-column"
	ActSort          Action = "sort-by-column"
	ActNextView      Action = "next-view"
	ActChooseColumns Action = "choose-columns"
	ActSearch        Action = "search"
	ActNextMatch     Action = "next-match"
	ActPrevMatch     Action = "previous-match"
	ActFilter        Action = "filter-jql"
	ActDetail        Action = "toggle-detail"
	ActOpen          Action = "open-in-browser"
	ActCopy          Action = "copy-key"
	ActRefresh       Action = "refresh"
	ActHome          Action = "home"
	ActBack          Action = "back"
	ActSelect        Action = "select"
	ActToggleMouse   Action = "toggle-mouse"
	ActClearFilter   Action = "clear-filter"
	ActEdit          Action = "edit-cell"
	ActUndo          Action = "undo"
	ActRedo          Action = "redo"
	ActMark          Action = "mark-row"
	ActVisual        Action = "mark-range"
	ActBulkSet       Action = "set-on-marked"
	ActCut           Action = "cut-row"
	ActPaste         Action = "paste-row"
	ActIndent        Action = "indent-row"
	ActOutdent       Action = "outdent-row"
	ActRankUp        Action = "move-row-up"
	ActRankDown      Action = "move-row-down"
	ActACL           Action = "access-list"
)

// groupEdit is the help group of the actions that write to Jira: hidden, with their keys
// falling through to other bindings, when the backend cannot edit.
const groupEdit = "Edit"

// Binding is one entry of the keymap: the action, the group it is listed under in help, and
// the keys with their help text.
type Binding struct {
	Action Action
	Group  string
	key.Binding
}

// Keymap is the app's key bindings as data: help, the palette and config remapping all read
// the same list, so they cannot drift apart.
type Keymap struct {
	bindings []Binding
}

func bind(a Action, group, desc string, keys ...string) Binding {
	help := strings.Join(keys, "/")
	if a == ActLevel {
		help = "1-9"
	}
	return Binding{Action: a, Group: group, Binding: key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))}
}

// DefaultKeymap is the built-in key map. Order matters where bindings share a key: the
// first available one wins, so the edit bindings (enter, space) come before detail and
// expand/collapse, which take those keys when the backend cannot edit.
func DefaultKeymap() *Keymap {
	return &Keymap{bindings: []Binding{
		bind(ActUp, "Move", "move up", "k", "up"),
		bind(ActDown, "Move", "move down", "j", "down"),
		bind(ActTop, "Move", "first row", "g", "home"),
		bind(ActBottom, "Move", "last row", "G", "end"),
		bind(ActHalfDown, "Move", "half a page down", "ctrl+d", "pgdown"),
		bind(ActHalfUp, "Move", "half a page up", "ctrl+u", "pgup"),
		bind(ActColLeft, "Move", "column to the left", "shift+tab", "H"),
		bind(ActColRight, "Move", "column to the right", "tab", "L"),
		bind(ActEdit, groupEdit, "edit the cell (enter on a field column)", "enter", "e", "f2"),
		bind(ActUndo, groupEdit, "undo the last edit, bulk edit or move", "u"),
		bind(ActRedo, groupEdit, "redo", "ctrl+r"),
		bind(ActMark, groupEdit, "mark or unmark the row", "space"),
		bind(ActVisual, groupEdit, "mark a range: from here to where the next V is pressed", "V"),
		bind(ActBulkSet, groupEdit, "set the cursor column's field on the marked rows", "="),
		bind(ActCut, groupEdit, "cut the row (to paste under another)", "x"),
		bind(ActPaste, groupEdit, "paste the cut row under the cursor row or group", "p"),
		bind(ActIndent, groupEdit, "move the row under the row above it", "alt+right", "ctrl+right"),
		bind(ActOutdent, groupEdit, "move the row up a level", "alt+left", "ctrl+left"),
		bind(ActRankUp, groupEdit, "move the row up among its siblings (Jira rank)", "alt+up", "ctrl+up"),
		bind(ActRankDown, groupEdit, "move the row down among its siblings (Jira rank)", "alt+down", "ctrl+down"),
		bind(ActCollapse, "Tree", "collapse / go to parent", "h", "left"),
		bind(ActExpand, "Tree", "expand", "l", "right"),
		bind(ActToggle, "Tree", "expand or collapse", "space", "z"),
		bind(ActExpandSubtree, "Tree", "expand subtree", "+"),
		bind(ActCollapseSub, "Tree", "collapse subtree", "-"),
		bind(ActExpandAll, "Tree", "expand all", "E"),
		bind(ActCollapseAll, "Tree", "collapse all", "C"),
		bind(ActLevel, "Tree", "expand to level 1-9", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
		bind(ActNextView, "View", "next view", "v"),
		bind(ActSort, "View", "sort by column (asc, desc, off)", "s"),
		bind(ActWiden, "View", "widen column", ">"),
		bind(ActNarrow, "View", "narrow column", "<"),
		bind(ActChooseColumns, "View", "choose columns", "c"),
		bind(ActDetail, "View", "detail pane", "enter", "d"),
		bind(ActSearch, "Find", "search visible text", "/"),
		bind(ActNextMatch, "Find", "next match", "n"),
		bind(ActPrevMatch, "Find", "previous match", "N"),
		bind(ActFilter, "Find", "filter by JQL", "f"),
		bind(ActClearFilter, "Find", "clear the filter", "F"),
		bind(ActOpen, "Issue", "open in browser", "o"),
		bind(ActCopy, "Issue", "copy key", "y"),
		bind(ActRefresh, "App", "refresh from Jira", "r"),
		bind(ActACL, "App", "access list (who may see, change)", "a"),
		bind(ActBack, "App", "back out of a mode or pane", "esc"),
		bind(ActHome, "App", "back to the Lens list", "backspace"),
		bind(ActPalette, "App", "command palette", ":"),
		bind(ActHelp, "App", "help", "?"),
		bind(ActToggleMouse, "App", "mouse on/off", "M"),
		bind(ActQuit, "App", "quit", "q", "ctrl+c"),
	}}
}

// Remap replaces the keys of actions from config (`keys: {action: [keys]}`). Unknown actions,
// empty key lists and key names no key press matches are errors naming the action. Loading
// the config checks the same (against keybind), with the file and line; this guards
// keymaps built in code.
func (k *Keymap) Remap(keys map[string][]string) error {
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		i := slices.IndexFunc(k.bindings, func(b Binding) bool { return string(b.Action) == name })
		if i < 0 {
			return &UnknownActionError{Action: name}
		}
		if len(keys[name]) == 0 {
			return fmt.Errorf("keys.%s: no keys given", name)
		}
		for _, kn := range keys[name] {
			if err := keybind.CheckKey(kn); err != nil {
				return fmt.Errorf("keys.%s: %w", name, err)
			}
		}
		desc := k.bindings[i].Help().Desc
		k.bindings[i].Binding = key.NewBinding(key.WithKeys(keys[name]...), key.WithHelp(strings.Join(keys[name], "/"), desc))
	}
	return nil
}

// UnknownActionError is a `keys:` entry naming no action.
type UnknownActionError struct{ Action string }

func (e *UnknownActionError) Error() string {
	return fmt.Sprintf("keys.%s: no such action (see the command palette for the names)", e.Action)
}

// Lookup returns the action bound to the key press.
func (k *Keymap) Lookup(msg tea.KeyPressMsg) (Action, bool) {
	return k.LookupAvailable(msg, nil)
}

// LookupAvailable returns the first action bound to the key press that is available (nil
// available: all are), so a key shared by an edit action and another falls through to the
// other when the backend cannot edit.
func (k *Keymap) LookupAvailable(msg tea.KeyPressMsg, available func(Binding) bool) (Action, bool) {
	for _, b := range k.bindings {
		if key.Matches(msg, b.Binding) && (available == nil || available(b)) {
			return b.Action, true
		}
	}
	return "", false
}

// Bindings returns the bindings in help order.
func (k *Keymap) Bindings() []Binding { return k.bindings }

// Binding returns the binding for an action.
func (k *Keymap) Binding(a Action) (Binding, bool) {
	i := slices.IndexFunc(k.bindings, func(b Binding) bool { return b.Action == a })
	if i < 0 {
		return Binding{}, false
	}
	return k.bindings[i], true
}

// HelpLines renders the help screen text, grouped, from the bindings themselves.
func (k *Keymap) HelpLines() []string { return k.helpLines(nil) }

// liveKeys gives, for each available binding (nil: all), the keys that run it, as help
// shows them: a key taken by an earlier available binding is left off a later one, as
// LookupAvailable would never reach it there (space marks rows when the backend can edit,
// and toggles only when it cannot). An action whose keys are all taken maps to "".
func (k *Keymap) liveKeys(available func(Binding) bool) map[Action]string {
	out := map[Action]string{}
	taken := map[string]bool{}
	for _, b := range k.bindings {
		if available != nil && !available(b) {
			continue
		}
		var free []string
		for _, key := range b.Keys() {
			if !taken[key] {
				free = append(free, key)
				taken[key] = true
			}
		}
		switch {
		case len(free) == len(b.Keys()):
			out[b.Action] = b.Help().Key // as bound: "1-9" stays short
		default:
			out[b.Action] = strings.Join(free, "/")
		}
	}
	return out
}

// helpLines renders help for the available bindings (nil: all), each with its live keys.
func (k *Keymap) helpLines(available func(Binding) bool) []string {
	return k.helpLinesSaying(available, nil)
}

// helpLinesSaying is helpLines with some actions described otherwise (what they do on the
// Lens list).
func (k *Keymap) helpLinesSaying(available func(Binding) bool, say map[Action]string) []string {
	live := k.liveKeys(available)
	width := 0
	for _, keys := range live {
		width = max(width, len(keys))
	}
	var out []string
	var group string
	for _, b := range k.bindings {
		keys, ok := live[b.Action]
		if !ok || keys == "" {
			continue
		}
		if b.Group != group {
			if group != "" {
				out = append(out, "")
			}
			group = b.Group
			out = append(out, group)
		}
		desc := b.Help().Desc
		if d, ok := say[b.Action]; ok {
			desc = d
		}
		out = append(out, fmt.Sprintf("  %-*s %s", width, keys, desc))
	}
	return out
}
