package keybind

import (
	"strings"
	"testing"
)

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"j", "G", "?", "+", "=", "ctrl+d", "shift+tab", "alt+up", "ctrl+alt+x", "ctrl++", "f2", "f63", "pgdown", "space", "é"} {
		if err := CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v", k, err)
		}
	}
	for k, want := range map[string]string{
		"ctrl+bogus": `"bogus" is neither one character nor a key name`,
		"Enter":      "neither one character",
		"bogus+x":    `"bogus" is not a modifier`,
		"alt+ctrl+x": "in the order ctrl+alt",
		"f0":         "is not a key",
		"f64":        "is not a key",
		" ":          "write a space as space",
		"":           "is not a key",
	} {
		if err := CheckKey(k); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckKey(%q) = %v, want %q", k, err, want)
		}
	}
}
