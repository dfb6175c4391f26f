package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that no input panics the loader, that every failure is a located
// *ValidationError, and that whatever loads survives a Save/Load round trip unchanged.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(fullConfig))
	f.Add([]byte("sites:\n  a:\n" + minimalSite + "    token: x\n"))
	f.Add([]byte("sites:\n  a:\n    url: &u https://a.example\n    keyring: true\n    scope: s\n  b:\n    url: *u\n    token_env: T\n    scope: s\n"))
	f.Add([]byte("keys: {up: [k, 'up'], quit: q}\ntui: {mouse: false}\n"))
	f.Add([]byte("sites: [a]\n---\nx: 1\n"))
	f.Add([]byte("? a\n: b\n"))
	f.Add([]byte("sites:\n  a:\n    url: |\n      https://a.example\n    token_env: T\n    scope: >\n      project = A\n"))
	if src, err := os.ReadFile(filepath.Join("testdata", "commented.yaml")); err == nil {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("config.yaml", data)
		if err != nil {
			ve, ok := err.(*ValidationError)
			if !ok || len(ve.Problems) == 0 {
				t.Fatalf("error %T %v is not a *ValidationError with problems", err, err)
			}
			if !strings.HasPrefix(err.Error(), "config.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal of a loaded config: %v", err)
		}
		back, err := Parse("config.yaml", out)
		if err != nil {
			t.Fatalf("reloading the saved config: %v\n--- input\n%q\n--- saved\n%s", err, data, out)
		}
		assertSameConfig(t, back, c)
		// site remove edits the file in place: what remains must read back the same.
		if len(c.Sites) > 0 {
			c.RemoveSite(c.Sites[0].Name)
			if out, err = Marshal(c); err != nil {
				t.Fatalf("Marshal after removing a profile: %v", err)
			}
			back, err := Parse("config.yaml", out)
			if err != nil {
				t.Fatalf("reloading after removing a profile: %v\n--- input\n%q\n--- saved\n%s", err, data, out)
			}
			assertSameConfig(t, back, c)
		}
	})
}
