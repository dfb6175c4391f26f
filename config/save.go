package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/goccy/go-yaml"
)

// Marshal renders c as the config file would hold it. A config loaded from a file is that
// file with only what changed rewritten (see patch). Otherwise, or when the file cannot be
// edited in place, it is rendered afresh: sites in their order, each field in a fixed order,
// defaults written out so the file documents them, and the comments of the file c was
// loaded from kept where their field still is.
func Marshal(c *Config) ([]byte, error) {
	if out, ok := patch(c); ok {
		return out, nil
	}
	return render(c, comments(c.source))
}

// render writes c out in full, with the comments in cm.
func render(c *Config, cm yaml.CommentMap) ([]byte, error) {
	var doc yaml.MapSlice
	if c.DefaultSite != "" {
		doc = append(doc, yaml.MapItem{Key: "default_site", Value: c.DefaultSite})
	}
	sites := yaml.MapSlice{}
	for _, s := range c.Sites {
		sites = append(sites, yaml.MapItem{Key: s.Name, Value: siteYAML(s)})
	}
	doc = append(doc, yaml.MapItem{Key: "sites", Value: sites})
	keys := yaml.MapSlice{}
	actions := make([]string, 0, len(c.Keys))
	for a := range c.Keys {
		actions = append(actions, a)
	}
	slices.Sort(actions)
	for _, a := range actions {
		keys = append(keys, yaml.MapItem{Key: a, Value: c.Keys[a]})
	}
	doc = append(doc,
		yaml.MapItem{Key: "keys", Value: keys},
		yaml.MapItem{Key: "tui", Value: yaml.MapSlice{{Key: "mouse", Value: c.TUI.Mouse}}},
	)
	opts := []yaml.EncodeOption{yaml.Indent(2), yaml.IndentSequence(true)}
	if cm != nil {
		opts = append(opts, yaml.WithComment(cm))
	}
	out, err := yaml.MarshalWithOptions(doc, opts...)
	if err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return out, nil
}

func siteYAML(s *Site) yaml.MapSlice {
	m := yaml.MapSlice{{Key: "url", Value: s.URL}, {Key: "dialect", Value: string(s.Dialect)}}
	if s.Email != "" {
		m = append(m, yaml.MapItem{Key: "email", Value: s.Email})
	}
	m = append(m, secretYAML(s.TokenSource, "token_env", "token_cmd", "token")...)
	m = append(m,
		yaml.MapItem{Key: "scope", Value: s.Scope},
		yaml.MapItem{Key: "poll_interval", Value: formatDuration(s.PollInterval)},
		yaml.MapItem{Key: "permission_ttl", Value: formatDuration(s.PermissionTTL)},
	)
	if s.RequestsPerSecond != 0 {
		// Only when set: the default belongs to the client and may change with it.
		m = append(m, yaml.MapItem{Key: "requests_per_second", Value: rateYAML(s.RequestsPerSecond)})
	}
	if s.WebhookSource.IsSet() {
		m = append(m, yaml.MapItem{Key: "webhook", Value: secretYAML(s.WebhookSource, "secret_env", "secret_cmd", "secret")})
	}
	return m
}

// rateYAML is a requests_per_second value: a number, or the word unlimited.
func rateYAML(r float64) any {
	if r < 0 {
		return "unlimited"
	}
	return r
}

func secretYAML(r SecretRef, envKey, cmdKey, plainKey string) yaml.MapSlice {
	var m yaml.MapSlice
	if r.Env != "" {
		m = append(m, yaml.MapItem{Key: envKey, Value: r.Env})
	}
	if r.Cmd != "" {
		m = append(m, yaml.MapItem{Key: cmdKey, Value: r.Cmd})
	}
	if r.Keyring {
		m = append(m, yaml.MapItem{Key: "keyring", Value: true})
	}
	if r.Plain.isSet() {
		// The user chose to keep the secret in the file; Save honours that (Load warns).
		m = append(m, yaml.MapItem{Key: plainKey, Value: r.Plain.reveal()})
	}
	return m
}

// Save validates c and writes it to path atomically: a temporary file in the same
// directory, synced, then renamed over the old one, so a crash leaves either the old or the
// new file, never half of one. The file is 0600 (it may hold a token); a directory created
// for it is 0700.
func Save(path string, c *Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	data, err := Marshal(c)
	if err != nil {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save config: create directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("save config: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save config: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save config: close: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	done = true
	// Make the rename itself durable; a failure here leaves a correct file, so it is not
	// worth an error on systems that cannot sync a directory.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
