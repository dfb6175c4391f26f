// Package config reads and writes Foundation's config file: site profiles, their credential
// sources, TUI preferences, and the XDG directories everything else lives in.
package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialect selects how Foundation talks to a site (JIRA.md, "Two dialects").
type Dialect string

// Dialects a profile may name.
const (
	DialectAuto       Dialect = "auto" // ask serverInfo
	DialectCloud      Dialect = "cloud"
	DialectDataCenter Dialect = "datacenter"
)

// Defaults applied when a profile leaves a field out.
const (
	DefaultPollInterval  = time.Minute
	DefaultPermissionTTL = 5 * time.Minute
	DefaultDialect       = DialectAuto
)

// Unpaced is the RequestsPerSecond of a profile written `requests_per_second: unlimited`:
// its requests are not paced client-side, and only Jira's own 429s slow them down.
const Unpaced = -1

// Config is the whole config file.
type Config struct {
	// DefaultSite names the profile used without --site; empty means the only profile.
	DefaultSite string
	// Sites keeps the file's order, so saving does not reshuffle a user's file.
	Sites []*Site
	// Keys remaps TUI actions to keys. Action and key names are checked against keybind
	// when the file is loaded, so every command reports a mistake, not only the TUI.
	Keys map[string][]string
	TUI  TUI
	// Warnings are problems that do not stop Foundation, such as a plain token in the file.
	// Each names the file and line.
	Warnings []string

	env    LookupEnv
	source []byte // the file this config was loaded from, for its comments
}

// TUI holds the terminal UI preferences.
type TUI struct {
	Mouse bool
}

// New returns an empty config with the defaults Load would give an empty file.
func New() *Config {
	return &Config{Keys: map[string][]string{}, TUI: TUI{Mouse: true}}
}

// Site is one profile: an identity on one Jira site. Several profiles may point at the same
// site (and share its cache) with different identities.
type Site struct {
	Name    string
	URL     string // absolute http(s) base URL, without a trailing slash
	Dialect Dialect
	// Email is the Cloud account for Basic auth; empty on Data Center, where the token is a
	// personal access token sent alone.
	Email         string
	TokenSource   SecretRef
	Scope         string // bounded JQL: the set of issues mirrored in the cache
	PollInterval  time.Duration
	PermissionTTL time.Duration
	// RequestsPerSecond paces the profile's requests to Jira: 0 leaves the client's default
	// (jira.DefaultRequestsPerSecond), Unpaced (or any negative value) turns pacing off.
	RequestsPerSecond float64
	// WebhookSource is where the webhook signing secret comes from; zero when webhooks are
	// not used.
	WebhookSource SecretRef

	env        LookupEnv
	cmdTimeout time.Duration
}

// NewSite returns a profile with the defaults Load applies to missing fields.
func NewSite(name string) *Site {
	return &Site{Name: name, Dialect: DefaultDialect, PollInterval: DefaultPollInterval, PermissionTTL: DefaultPermissionTTL}
}

// String describes the profile without any secret, so a profile can be logged or printed
// with %v safely.
func (s *Site) String() string {
	if s == nil {
		return "<nil site>"
	}
	parts := []string{"site " + s.Name, "url=" + s.URL, "dialect=" + string(s.Dialect)}
	if s.Email != "" {
		parts = append(parts, "email="+s.Email)
	}
	parts = append(parts, "token="+s.TokenSource.String())
	if s.Scope != "" {
		parts = append(parts, fmt.Sprintf("scope=%q", s.Scope))
	}
	parts = append(parts, "poll="+formatDuration(s.PollInterval), "permission_ttl="+formatDuration(s.PermissionTTL))
	if s.RequestsPerSecond != 0 {
		parts = append(parts, "requests_per_second="+formatRate(s.RequestsPerSecond))
	}
	if s.WebhookSource.IsSet() {
		parts = append(parts, "webhook="+s.WebhookSource.String())
	}
	return strings.Join(parts, " ")
}

// GoString keeps %#v from dumping the struct, plain secret included.
func (s *Site) GoString() string { return "config.Site{" + s.String() + "}" }

// Format makes every verb (%v, %+v, %#v, %s, %q) print String, never the raw fields.
func (s *Site) Format(f fmt.State, verb rune) { formatSafe(f, verb, s.String()) }

// Host is the site's host (with port when there is one), lowercased: the key the cache is
// shared under.
func (s *Site) Host() string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// String summarises the config without any secret.
func (c Config) String() string {
	return fmt.Sprintf("config: default_site=%q sites=[%s]", c.DefaultSite, strings.Join(c.Names(), " "))
}

// Format makes every verb print String: the raw fields include the loaded file, which may
// hold a plain token.
func (c Config) Format(f fmt.State, verb rune) { formatSafe(f, verb, c.String()) }

// SetEnv makes the config read the environment through l (tests, or an embedding program).
// It applies to every profile, present and future.
func (c *Config) SetEnv(l LookupEnv) {
	c.env = l
	for _, s := range c.Sites {
		s.env = l
	}
}

// Names lists the profile names in file order.
func (c Config) Names() []string {
	names := make([]string, len(c.Sites))
	for i, s := range c.Sites {
		names[i] = s.Name
	}
	return names
}

// Lookup returns the profile called name, or nil.
func (c *Config) Lookup(name string) *Site {
	for _, s := range c.Sites {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Site picks the profile to use: name when given, else default_site, else the only profile.
func (c *Config) Site(name string) (*Site, error) {
	if name == "" {
		name = c.DefaultSite
	}
	if name == "" {
		switch len(c.Sites) {
		case 0:
			return nil, &NoSiteError{}
		case 1:
			return c.Sites[0], nil
		default:
			return nil, &NoSiteError{Known: c.Names()}
		}
	}
	if s := c.Lookup(name); s != nil {
		return s, nil
	}
	return nil, &UnknownSiteError{Name: name, Known: c.Names()}
}

// AddSite appends a profile. An existing profile of the same name is replaced in place only
// when replace is true.
func (c *Config) AddSite(s *Site, replace bool) error {
	for i, old := range c.Sites {
		if old.Name == s.Name {
			if !replace {
				return &SiteExistsError{Name: s.Name}
			}
			s.env = c.env
			c.Sites[i] = s
			return nil
		}
	}
	s.env = c.env
	c.Sites = append(c.Sites, s)
	return nil
}

// RemoveSite drops the profile called name and reports whether it was there. A default_site
// naming it is cleared, since it would no longer resolve.
func (c *Config) RemoveSite(name string) bool {
	i := slices.IndexFunc(c.Sites, func(s *Site) bool { return s.Name == name })
	if i < 0 {
		return false
	}
	c.Sites = slices.Delete(c.Sites, i, i+1)
	if c.DefaultSite == name {
		c.DefaultSite = ""
	}
	return true
}

// NoSiteError means no profile was named and none could be chosen.
type NoSiteError struct {
	Known []string // empty when the config has no profile at all
}

func (e *NoSiteError) Error() string {
	if len(e.Known) == 0 {
		return "no site profile configured; add one with: " + addHint
	}
	return fmt.Sprintf("several site profiles (%s) and no default_site: pass --site NAME or set default_site", strings.Join(e.Known, ", "))
}

// UnknownSiteError means the named profile is not in the config.
type UnknownSiteError struct {
	Name  string
	Known []string
}

func (e *UnknownSiteError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no site profile %q: the config has none; add one with: %s", e.Name, addHint)
	}
	return fmt.Sprintf("no site profile %q (known: %s)", e.Name, strings.Join(e.Known, ", "))
}

// SiteExistsError means a profile of that name is already configured.
type SiteExistsError struct{ Name string }

func (e *SiteExistsError) Error() string {
	return fmt.Sprintf("site profile %q already exists", e.Name)
}

const addHint = "foundation site add NAME --url https://SITE.atlassian.net --email YOU@EXAMPLE.COM --token-env JIRA_TOKEN --scope 'project = KEY'"

// formatDuration writes durations the way people type them: 1m rather than 1m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// formatRate writes a requests_per_second value as the config file spells it.
func formatRate(r float64) string {
	if r < 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'g', -1, 64)
}

// formatSafe writes a redacted description for any verb, quoting it for %q.
func formatSafe(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	_, _ = f.Write([]byte(s))
}
