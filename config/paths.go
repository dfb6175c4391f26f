package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// LookupEnv reads one environment variable, like os.LookupEnv. Every function of this package
// that depends on the environment goes through one, so tests never see the real home.
type LookupEnv func(key string) (string, bool)

// OSEnv is the process environment.
func OSEnv() LookupEnv { return os.LookupEnv }

// ErrNoHome means neither the XDG variable nor a home directory was set, so there is nowhere
// to put the file.
var ErrNoHome = errors.New("neither the XDG base directory nor $HOME is set")

// DefaultPath is the config file of the process environment: $FOUNDATION_CONFIG, else
// $XDG_CONFIG_HOME/foundation/config.yaml, else ~/.config/foundation/config.yaml.
func DefaultPath() (string, error) { return OSEnv().DefaultPath() }

// CacheDir is where the per-site caches live: $XDG_CACHE_HOME/foundation, else
// ~/.cache/foundation.
func CacheDir() (string, error) { return OSEnv().CacheDir() }

// StateDir is where logs and other state live: $XDG_STATE_HOME/foundation, else
// ~/.local/state/foundation.
func StateDir() (string, error) { return OSEnv().StateDir() }

// DefaultPath is DefaultPath read through l.
func (l LookupEnv) DefaultPath() (string, error) {
	if p := l.get("FOUNDATION_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := l.xdg("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", fmt.Errorf("config file: %w", err)
	}
	return filepath.Join(dir, "config.yaml"), nil
}

// CacheDir is CacheDir read through l.
func (l LookupEnv) CacheDir() (string, error) {
	dir, err := l.xdg("XDG_CACHE_HOME", ".cache")
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	return dir, nil
}

// StateDir is StateDir read through l.
func (l LookupEnv) StateDir() (string, error) {
	dir, err := l.xdg("XDG_STATE_HOME", filepath.Join(".local", "state"))
	if err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return dir, nil
}

func (l LookupEnv) get(key string) string {
	if l == nil {
		return ""
	}
	v, _ := l(key)
	return v
}

// xdg resolves one XDG base directory. The same layout is used on every OS, macOS included,
// because terminal users expect their dotfiles where the XDG spec puts them. A relative
// value is ignored, as the XDG spec requires.
func (l LookupEnv) xdg(variable, underHome string) (string, error) {
	if v := l.get(variable); v != "" && filepath.IsAbs(v) {
		return filepath.Join(v, "foundation"), nil
	}
	home := l.get("HOME")
	if home == "" {
		home = l.get("USERPROFILE")
	}
	if home == "" {
		return "", fmt.Errorf("$%s: %w", variable, ErrNoHome)
	}
	return filepath.Join(home, underHome, "foundation"), nil
}
