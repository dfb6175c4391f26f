package config

import (
	"fmt"
	"foundation/jql"
	"foundation/keybind"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	siteNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// minPollInterval keeps a typo (1ms) from hammering Jira's rate limits.
const minPollInterval = time.Second

// Validate checks a config built in code (Save calls it) with the rules Load applies.
func (c *Config) Validate() error {
	problems := validate(c)
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{File: "config", Problems: problems}
}

// validate holds the rules on values; the loader adds the rules on shape (types, unknown
// keys) and the line numbers.
func validate(c *Config) []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for _, s := range c.Sites {
		f := "sites." + s.Name
		if !siteNameRE.MatchString(s.Name) {
			add(f, "profile name must start with a letter or digit and hold only letters, digits, '.', '_' or '-' (at most 64)")
		}
		if seen[s.Name] {
			add(f, "defined twice")
		}
		seen[s.Name] = true
		if msg := checkURL(s.URL); msg != "" {
			add(f+".url", "%s", msg)
		}
		switch s.Dialect {
		case DialectAuto, DialectCloud, DialectDataCenter:
		default:
			add(f+".dialect", "%q is not a dialect: use cloud, datacenter or auto", s.Dialect)
		}
		if s.Email != "" && !looksLikeEmail(s.Email) {
			add(f+".email", "%q is not an email address", s.Email)
		}
		if s.Email == "" && s.Dialect == DialectCloud {
			add(f+".email", "missing: Jira Cloud signs in with email and API token")
		}
		ps = append(ps, checkSecretRef(s.TokenSource, f, "token_env", "token_cmd", "token", true)...)
		if strings.TrimSpace(s.Scope) == "" {
			add(f+".scope", "missing: a bounded JQL such as project in (ALPHA, BETA)")
		} else if q, err := jql.Parse(s.Scope); err != nil {
			add(f+".scope", "%v", err)
		} else if !q.Bounded() {
			add(f+".scope", "unbounded JQL %q: restrict it by project, key or a lower bound on updated, such as project in (ALPHA, BETA)", s.Scope)
		} else if len(q.OrderBy) > 0 {
			add(f+".scope", "ORDER BY does not belong in a scope (refresh orders its own queries)")
		}
		if s.PollInterval < minPollInterval {
			add(f+".poll_interval", "must be at least %s", minPollInterval)
		}
		if s.PermissionTTL <= 0 {
			add(f+".permission_ttl", "must be positive")
		}
		if math.IsNaN(s.RequestsPerSecond) || math.IsInf(s.RequestsPerSecond, 0) {
			add(f+".requests_per_second", "must be a number of requests per second such as 20, or unlimited")
		}
		if s.WebhookSource.IsSet() {
			ps = append(ps, checkSecretRef(s.WebhookSource, f+".webhook", "secret_env", "secret_cmd", "secret", false)...)
		}
	}
	if c.DefaultSite != "" && !seen[c.DefaultSite] {
		add("default_site", "no site profile %q (profiles: %s)", c.DefaultSite, orNone(c.Names()))
	}
	// In name order, so problems on one line (a flow mapping) come out the same every time.
	for _, action := range slices.Sorted(maps.Keys(c.Keys)) {
		keys, f := c.Keys[action], "keys."+action
		switch {
		case strings.TrimSpace(action) == "":
			add("keys", "empty action name")
		case !keybind.IsAction(action):
			if near := nearest(action, keybind.Actions()); near != "" {
				add(f, "no such action (did you mean %s?)", near)
			} else {
				add(f, "no such action; actions: %s", strings.Join(keybind.Actions(), ", "))
			}
		case len(keys) == 0:
			add(f, "no keys given")
		}
		for _, k := range keys {
			if err := keybind.CheckKey(k); err != nil {
				add(f, "%v", err)
			}
		}
	}
	return ps
}

func checkSecretRef(r SecretRef, field, envKey, cmdKey, plainKey string, required bool) []Problem {
	var ps []Problem
	var set []string
	if r.Env != "" {
		set = append(set, envKey)
		if !envNameRE.MatchString(r.Env) {
			ps = append(ps, Problem{Field: field + "." + envKey, Message: fmt.Sprintf("%q is not an environment variable name", r.Env)})
		}
	}
	if r.Cmd != "" {
		set = append(set, cmdKey)
		if strings.TrimSpace(r.Cmd) == "" {
			ps = append(ps, Problem{Field: field + "." + cmdKey, Message: "empty command"})
		}
	}
	if r.Keyring {
		set = append(set, "keyring")
	}
	if r.Plain.isSet() {
		set = append(set, plainKey)
	}
	switch {
	case len(set) == 0 && required:
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf("no token source: set one of %s, %s, keyring: true or %s", envKey, cmdKey, plainKey)})
	case len(set) > 1:
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf("several secret sources (%s): keep one", strings.Join(set, ", "))})
	}
	return ps
}

// checkURL returns why raw is not a usable site base URL, or "".
func checkURL(raw string) string {
	if raw == "" {
		return "missing: the site's base URL such as https://acme.atlassian.net"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return "not an absolute http(s) URL"
	}
	if u.User != nil {
		// Credentials in the URL would end up in logs and error messages.
		return "must not contain a user name or password; use email and a token source"
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		return "must not have a query or fragment"
	}
	return ""
}

func looksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n") && strings.Count(s, "@") == 1
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// NormalizeURL trims what people paste along with a site URL (spaces, trailing slashes)
// and checks the rest, for commands that take a URL on the command line.
func NormalizeURL(raw string) (string, error) {
	u := strings.TrimRight(strings.TrimSpace(raw), "/")
	if msg := checkURL(u); msg != "" {
		if strings.Contains(u, "@") {
			return "", fmt.Errorf("url: %s", msg) // may hold a password: do not echo it
		}
		return "", fmt.Errorf("url %q: %s", raw, msg)
	}
	return u, nil
}
