package config

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

var update = flag.Bool("update", false, "rewrite golden files")

func envOf(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPaths(t *testing.T) {
	tests := []struct {
		name                 string
		env                  map[string]string
		config, cache, state string
		wantErr              bool
	}{
		{
			name:   "home only",
			env:    map[string]string{"HOME": "/h"},
			config: "/h/.config/foundation/config.yaml", cache: "/h/.cache/foundation", state: "/h/.local/state/foundation",
		},
		{
			name:   "xdg set",
			env:    map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/c", "XDG_CACHE_HOME": "/k", "XDG_STATE_HOME": "/s"},
			config: "/c/foundation/config.yaml", cache: "/k/foundation", state: "/s/foundation",
		},
		{
			name:   "FOUNDATION_CONFIG wins",
			env:    map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/c", "FOUNDATION_CONFIG": "/x/f.yaml"},
			config: "/x/f.yaml", cache: "/h/.cache/foundation", state: "/h/.local/state/foundation",
		},
		{
			name:   "relative xdg ignored",
			env:    map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "rel", "XDG_CACHE_HOME": "rel"},
			config: "/h/.config/foundation/config.yaml", cache: "/h/.cache/foundation", state: "/h/.local/state/foundation",
		},
		{name: "nothing", env: map[string]string{}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := envOf(tt.env)
			cfg, err1 := l.DefaultPath()
			cache, err2 := l.CacheDir()
			state, err3 := l.StateDir()
			if tt.wantErr {
				for _, err := range []error{err1, err2, err3} {
					if !errors.Is(err, ErrNoHome) {
						t.Errorf("err = %v, want ErrNoHome", err)
					}
				}
				return
			}
			if err := errors.Join(err1, err2, err3); err != nil {
				t.Fatal(err)
			}
			if cfg != tt.config || cache != tt.cache || state != tt.state {
				t.Errorf("got %s %s %s, want %s %s %s", cfg, cache, state, tt.config, tt.cache, tt.state)
			}
		})
	}
}

const fullConfig = `default_site: acme
sites:
  acme:
    url: https://acme.atlassian.net/
    dialect: auto
    email: alice@acme.com
    token_env: ACME_JIRA_TOKEN
    scope: project in (ALPHA, BETA)
    poll_interval: 30s
    permission_ttl: 10m
    requests_per_second: 50
    webhook: {secret_env: ACME_WEBHOOK_SECRET}
  dc:
    url: http://jira.internal:8080/jira
    dialect: DataCenter
    keyring: true
    scope: project = OPS
    requests_per_second: unlimited
keys:
  down: [j, down]
  quit: q
tui: {mouse: false}
`

func TestParseFull(t *testing.T) {
	c, err := Parse("config.yaml", []byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.DefaultSite != "acme" || len(c.Sites) != 2 || c.TUI.Mouse {
		t.Fatalf("config = %+v", c)
	}
	acme, dc := c.Sites[0], c.Sites[1]
	want := &Site{Name: "acme", URL: "https://acme.atlassian.net", Dialect: DialectAuto, Email: "alice@acme.com",
		TokenSource: SecretRef{Env: "ACME_JIRA_TOKEN"}, Scope: "project in (ALPHA, BETA)", PollInterval: 30 * time.Second,
		PermissionTTL: 10 * time.Minute, RequestsPerSecond: 50, WebhookSource: SecretRef{Env: "ACME_WEBHOOK_SECRET"}}
	if !sameSite(acme, want) {
		t.Errorf("acme = %s\nwant %s", acme, want)
	}
	want = &Site{Name: "dc", URL: "http://jira.internal:8080/jira", Dialect: DialectDataCenter, TokenSource: SecretRef{Keyring: true},
		Scope: "project = OPS", PollInterval: DefaultPollInterval, PermissionTTL: DefaultPermissionTTL, RequestsPerSecond: Unpaced}
	if !sameSite(dc, want) {
		t.Errorf("dc = %s\nwant %s", dc, want)
	}
	if !reflect.DeepEqual(c.Keys, map[string][]string{"down": {"j", "down"}, "quit": {"q"}}) {
		t.Errorf("keys = %v", c.Keys)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings = %v", c.Warnings)
	}
	if dc.Host() != "jira.internal:8080" {
		t.Errorf("host = %q", dc.Host())
	}
}

// sameSite compares the configured fields, ignoring the injected environment.
func sameSite(a, b *Site) bool {
	a2, b2 := *a, *b
	a2.env, b2.env = nil, nil
	return reflect.DeepEqual(a2, b2)
}

func TestParseEmpty(t *testing.T) {
	for _, src := range []string{"", "# nothing yet\n", "sites:\n", "sites: {}\nkeys: {}\n"} {
		c, err := Parse("config.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if len(c.Sites) != 0 || !c.TUI.Mouse {
			t.Errorf("%q: config = %+v", src, c)
		}
		var nse *NoSiteError
		if _, err := c.Site(""); !errors.As(err, &nse) || !strings.Contains(err.Error(), "foundation site add") {
			t.Errorf("%q: Site() err = %v", src, err)
		}
	}
}

const minimalSite = "    url: https://a.example\n    token_env: T\n    scope: project = ALPHA\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // each must appear, in order, one per problem
	}{
		{"bad url", "sites:\n  acme:\n    token_env: T\n    scope: project = ALPHA\n    url: ftp://x\n",
			[]string{"config.yaml:5: sites.acme.url: not an absolute http(s) URL"}},
		{"relative url", "sites:\n  acme:\n    url: acme.atlassian.net\n    token_env: T\n    scope: project = ALPHA\n",
			[]string{"config.yaml:3: sites.acme.url: not an absolute http(s) URL"}},
		{"url with password", "sites:\n  acme:\n    url: https://u:pw@a.example\n    token_env: T\n    scope: project = ALPHA\n",
			[]string{"config.yaml:3: sites.acme.url: must not contain a user name or password"}},
		{"missing url", "sites:\n  acme:\n    token_env: T\n    scope: project = ALPHA\n",
			[]string{"config.yaml:2: sites.acme.url: missing"}},
		{"unknown top key", "sitez: {}\n",
			[]string{"config.yaml:1: sitez: unknown key (did you mean sites?); valid keys: default_site, sites, keys, tui"}},
		{"unknown site key", "sites:\n  acme:\n" + minimalSite + "    tokenenv: X\n",
			[]string{"config.yaml:6: sites.acme.tokenenv: unknown key (did you mean token_env?); valid keys: url, dialect,"}},
		{"unknown far key", "tui:\n  colour: red\n",
			[]string{"config.yaml:2: tui.colour: unknown key; valid keys: mouse"}},
		{"several problems at once", "default_site: nope\nsites:\n  acme:\n    url: x\n    dialect: onprem\n    token_env: 1BAD\n    token_cmd: pass x\n    scope: ''\n    poll_interval: 1ms\n    permission_ttl: soon\n",
			[]string{
				"config.yaml:1: default_site: no site profile \"nope\" (profiles: acme)",
				"config.yaml:3: sites.acme: several secret sources (token_env, token_cmd): keep one",
				"config.yaml:4: sites.acme.url: not an absolute http(s) URL",
				"config.yaml:5: sites.acme.dialect: \"onprem\" is not a dialect",
				"config.yaml:6: sites.acme.token_env: \"1BAD\" is not an environment variable name",
				"config.yaml:8: sites.acme.scope: missing",
				"config.yaml:9: sites.acme.poll_interval: must be at least 1s",
				"config.yaml:10: sites.acme.permission_ttl: \"soon\" is not a duration",
			}},
		{"bad rates", "sites:\n  a:\n" + minimalSite + "    requests_per_second: fast\n  b:\n" + minimalSite + "    requests_per_second: -1\n  c:\n" + minimalSite + "    requests_per_second: .inf\n  d:\n" + minimalSite + "    requests_per_second: [20]\n",
			[]string{
				"config.yaml:6: sites.a.requests_per_second: \"fast\" is not a number of requests per second such as 20, or unlimited",
				"config.yaml:11: sites.b.requests_per_second: must not be negative; write unlimited to turn pacing off",
				"config.yaml:16: sites.c.requests_per_second: \".inf\" is not a number of requests per second",
				"config.yaml:21: sites.d.requests_per_second: expected a number of requests per second such as 20, or unlimited",
			}},
		{"no token source", "sites:\n  acme:\n    url: https://a.example\n    scope: project = ALPHA\n",
			[]string{"config.yaml:2: sites.acme: no token source: set one of token_env, token_cmd, keyring: true or token"}},
		{"cloud needs email", "sites:\n  acme:\n    dialect: cloud\n" + minimalSite,
			[]string{"config.yaml:2: sites.acme.email: missing: Jira Cloud signs in with email and API token"}},
		{"bad email", "sites:\n  acme:\n    email: alice\n" + minimalSite,
			[]string{"config.yaml:3: sites.acme.email: \"alice\" is not an email address"}},
		{"wrong types", "sites:\n  acme:\n    url: 42\n    keyring: yes please\n    scope: project = ALPHA\n",
			[]string{"config.yaml:3: sites.acme.url: expected a string", "config.yaml:4: sites.acme.keyring: expected true or false"}},
		{"sites not a mapping", "sites: [a, b]\n",
			[]string{"config.yaml:1: sites: expected a mapping"}},
		{"top not a mapping", "- a\n",
			[]string{"config.yaml:1: the config must be a mapping"}},
		{"syntax error", "sites:\n  acme: [\n",
			[]string{"config.yaml:2: invalid YAML"}},
		{"duplicate key", "tui: {}\ntui: {}\n",
			[]string{"config.yaml:2: invalid YAML"}},
		{"two documents", "tui: {}\n---\ntui: {}\n",
			[]string{"config.yaml:3: more than one YAML document"}},
		{"bad profile name", "sites:\n  'a b':\n" + minimalSite,
			[]string{"config.yaml:2: sites.a b: profile name must start with a letter or digit"}},
		{"webhook two sources", "sites:\n  acme:\n" + minimalSite + "    webhook: {secret_env: W, keyring: true}\n",
			[]string{"config.yaml:6: sites.acme.webhook: several secret sources (secret_env, keyring): keep one"}},
		{"webhook unknown", "sites:\n  acme:\n" + minimalSite + "    webhook: {secret_envv: W}\n",
			[]string{"config.yaml:6: sites.acme.webhook.secret_envv: unknown key (did you mean secret_env?)"}},
		{"keys shape", "keys:\n  down: {a: b}\n",
			[]string{"config.yaml:2: keys.down: expected a list of keys"}},
		{"unknown action", "tui: {mouse: true}\nkeys:\n  dwn: [j]\n",
			[]string{"config.yaml:3: keys.dwn: no such action (did you mean down?)"}},
		{"far action", "keys:\n  launch-rockets: [x]\n",
			[]string{"config.yaml:2: keys.launch-rockets: no such action; actions: up, down, top,"}},
		{"bad key names", "keys:\n  up: [k]\n  quit: [ctrl+bogus, alt+ctrl+q]\n",
			[]string{"config.yaml:3: keys.quit: \"ctrl+bogus\" is not a key: \"bogus\" is neither one character nor a key name",
				"config.yaml:3: keys.quit: \"alt+ctrl+q\": write modifiers in the order ctrl+alt+shift"}},
		{"no keys", "keys:\n  up: []\n",
			[]string{"config.yaml:2: keys.up: no keys given"}},
		{"merge key", "sites:\n  acme:\n    <<: {url: x}\n",
			[]string{"config.yaml:2: sites.acme.url: missing", "config.yaml:2: sites.acme.scope: missing", "config.yaml:3: sites.acme: merge keys (<<) are not supported"}},
		{"unknown alias target type", "sites:\n  acme:\n    url: &u [x]\n    token_env: T\n    scope: project = ALPHA\n",
			[]string{"config.yaml:3: sites.acme.url: expected a string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("config.yaml", []byte(tt.src))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d = %q\nwant prefix  %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestParseAliases(t *testing.T) {
	src := "sites:\n  a:\n    url: &u https://a.example\n    token_env: T\n    scope: &s project = ALPHA\n  b:\n    url: *u\n    keyring: true\n    scope: *s\n"
	c, err := Parse("config.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Lookup("b"); b.URL != "https://a.example" || b.Scope != "project = ALPHA" {
		t.Errorf("b = %s", b)
	}
}

func TestLoadNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := Load(path)
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Path != path {
		t.Fatalf("err = %v, want *NotFoundError", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("NotFoundError does not wrap fs.ErrNotExist")
	}
	if !strings.Contains(err.Error(), "foundation site add NAME --url") {
		t.Errorf("message does not say how to create one: %v", err)
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("tui: {mouse: 3}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":1: tui.mouse: expected true or false") {
		t.Errorf("err = %v", err)
	}
}

func TestPlainTokenWarning(t *testing.T) {
	src := "sites:\n  acme:\n    url: https://a.example\n    scope: project = ALPHA\n    token: s3cr3t-value\n    webhook:\n      secret: hook-s3cr3t\n"
	c, err := Parse("config.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"config.yaml:5: sites.acme.token: plain token in the config file; prefer token_env, token_cmd or keyring",
		"config.yaml:7: sites.acme.webhook.secret: plain webhook secret in the config file; prefer secret_env, secret_cmd or keyring",
	}
	if !reflect.DeepEqual(c.Warnings, want) {
		t.Errorf("warnings = %q", c.Warnings)
	}
	tok, err := c.Sites[0].Token(context.Background())
	if err != nil || tok != "s3cr3t-value" {
		t.Errorf("Token = %q, %v", tok, err)
	}
	sec, err := c.Sites[0].WebhookSecret(context.Background())
	if err != nil || sec != "hook-s3cr3t" {
		t.Errorf("WebhookSecret = %q, %v", sec, err)
	}
}

func TestSiteSelection(t *testing.T) {
	one := New()
	_ = one.AddSite(&Site{Name: "a"}, false)
	two := New()
	_ = two.AddSite(&Site{Name: "a"}, false)
	_ = two.AddSite(&Site{Name: "b"}, false)
	twoDefault := New()
	_ = twoDefault.AddSite(&Site{Name: "a"}, false)
	_ = twoDefault.AddSite(&Site{Name: "b"}, false)
	twoDefault.DefaultSite = "b"
	tests := []struct {
		name    string
		c       *Config
		ask     string
		want    string
		wantErr any
	}{
		{"only site", one, "", "a", nil},
		{"named", two, "b", "b", nil},
		{"default", twoDefault, "", "b", nil},
		{"named beats default", twoDefault, "a", "a", nil},
		{"ambiguous", two, "", "", new(*NoSiteError)},
		{"none", New(), "", "", new(*NoSiteError)},
		{"unknown", two, "zed", "", new(*UnknownSiteError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.c.Site(tt.ask)
			if tt.wantErr != nil {
				if err == nil || !errors.As(err, tt.wantErr) {
					t.Fatalf("err = %v, want %T", err, tt.wantErr)
				}
				return
			}
			if err != nil || s.Name != tt.want {
				t.Fatalf("Site(%q) = %v, %v; want %s", tt.ask, s, err, tt.want)
			}
		})
	}
	if err := two.AddSite(&Site{Name: "a"}, false); !errors.As(err, new(*SiteExistsError)) {
		t.Errorf("duplicate AddSite err = %v", err)
	}
	if !twoDefault.RemoveSite("b") || twoDefault.DefaultSite != "" || len(twoDefault.Sites) != 1 {
		t.Errorf("RemoveSite left %+v", twoDefault)
	}
	if twoDefault.RemoveSite("b") {
		t.Error("RemoveSite of a missing profile reported true")
	}
}

func TestToken(t *testing.T) {
	keyring.MockInit()
	if err := StoreToken("kr", "keyring-s3cr3t"); err != nil {
		t.Fatal(err)
	}
	if err := StoreWebhookSecret("kr", "keyring-hook"); err != nil {
		t.Fatal(err)
	}
	env := envOf(map[string]string{"SET": "env-s3cr3t", "EMPTY": ""})
	tests := []struct {
		name    string
		ref     SecretRef
		timeout time.Duration
		want    string
		errHas  []string // substrings the error must contain
		errNot  []string // substrings it must not
	}{
		{name: "env", ref: SecretRef{Env: "SET"}, want: "env-s3cr3t"},
		{name: "env unset", ref: SecretRef{Env: "UNSET"}, errHas: []string{"sites.p.token_env", "UNSET is not set"}},
		{name: "env empty", ref: SecretRef{Env: "EMPTY"}, errHas: []string{"EMPTY is not set"}},
		{name: "cmd", ref: SecretRef{Cmd: "printf '  cmd-s3cr3t\\n\\n'"}, want: "cmd-s3cr3t"},
		{name: "cmd fails", ref: SecretRef{Cmd: "printf 'leaked-%s' stdout; echo 'gpg: decryption failed' >&2; exit 3"},
			errHas: []string{"sites.p.token_cmd", "exit status 3", "gpg: decryption failed"}, errNot: []string{"leaked-stdout"}},
		{name: "cmd prints nothing", ref: SecretRef{Cmd: "true"}, errHas: []string{"printed nothing"}},
		{name: "cmd timeout", ref: SecretRef{Cmd: "printf 'partial-%s' s3cr3t; sleep 5"}, timeout: 200 * time.Millisecond,
			errHas: []string{"timed out after 200ms"}, errNot: []string{"partial-s3cr3t"}},
		{name: "keyring", ref: SecretRef{Keyring: true}, want: "keyring-s3cr3t"},
		{name: "plain", ref: SecretRef{Plain: "plain-s3cr3t"}, want: "plain-s3cr3t"},
		{name: "none", ref: SecretRef{}, errHas: []string{"sites.p: no secret source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "p"
			if tt.ref.Keyring {
				name = "kr"
			}
			s := &Site{Name: name, TokenSource: tt.ref, env: env, cmdTimeout: tt.timeout}
			start := time.Now()
			got, err := s.Token(context.Background())
			if tt.timeout > 0 && time.Since(start) > 3*time.Second {
				t.Errorf("timeout not honoured: took %s", time.Since(start))
			}
			if tt.errHas == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Token = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var se *SecretError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SecretError", err)
			}
			for _, h := range tt.errHas {
				if !strings.Contains(err.Error(), h) {
					t.Errorf("error %q lacks %q", err, h)
				}
			}
			for _, n := range tt.errNot {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q leaks %q", err, n)
				}
			}
		})
	}
	s := &Site{Name: "kr", WebhookSource: SecretRef{Keyring: true}}
	if got, err := s.WebhookSecret(context.Background()); err != nil || got != "keyring-hook" {
		t.Errorf("webhook from keyring = %q, %v", got, err)
	}
	if _, err := (&Site{Name: "x"}).WebhookSecret(context.Background()); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("unconfigured webhook err = %v", err)
	}
	if _, err := (&Site{Name: "gone", TokenSource: SecretRef{Keyring: true}}).Token(context.Background()); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("missing keyring entry err = %v", err)
	}
	if err := DeleteStoredSecrets("kr"); err != nil {
		t.Fatal(err)
	}
	if err := DeleteStoredSecrets("kr"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := keyring.Get(KeyringService, KeyringWebhookUser("kr")); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("webhook secret survived delete: %v", err)
	}
}

func TestTokenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &Site{Name: "p", TokenSource: SecretRef{Cmd: "sleep 5; echo x"}}
	if _, err := s.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	s := &Site{Name: "acme", URL: "https://a.example", Dialect: DialectCloud, Email: "a@b.c",
		TokenSource: SecretRef{Plain: "tok-s3cr3t"}, Scope: "project = ALPHA", PollInterval: time.Minute, PermissionTTL: time.Minute,
		WebhookSource: SecretRef{Plain: "hook-s3cr3t"}}
	c := New()
	_ = c.AddSite(s, false)
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{string(js)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, s), fmt.Sprintf(verb, *s), fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c),
			fmt.Sprintf(verb, s.TokenSource), fmt.Sprintf(verb, s.TokenSource.Plain), fmt.Sprintf(verb, []*Site{s}))
	}
	for _, out := range outputs {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("secret printed: %s", out)
		}
	}
	loaded, err := Parse("config.yaml", []byte("sites:\n  a:\n    url: https://a.example\n    scope: project = ALPHA\n    token: tok-s3cr3t\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if got := fmt.Sprintf(verb, *loaded); got != loaded.String() {
			t.Errorf("%s of a loaded config = %s", verb, got)
		}
	}
	if !strings.Contains(s.String(), "token=plain:<redacted>") {
		t.Errorf("String = %s", s)
	}
}

func TestSaveGolden(t *testing.T) {
	c := New()
	c.DefaultSite = "acme"
	acme := NewSite("acme")
	acme.URL, acme.Email, acme.Scope = "https://acme.atlassian.net", "alice@acme.com", "project in (ALPHA, BETA)"
	acme.TokenSource = SecretRef{Env: "ACME_JIRA_TOKEN"}
	acme.WebhookSource = SecretRef{Env: "ACME_WEBHOOK_SECRET"}
	dc := NewSite("dc")
	dc.URL, dc.Dialect, dc.Scope = "https://jira.example.com", DialectDataCenter, `project = OPS AND labels = "on-call"`
	dc.TokenSource = SecretRef{Cmd: "pass show jira/dc"}
	dc.PollInterval, dc.PermissionTTL, dc.RequestsPerSecond = 90*time.Second, time.Hour, 2.5
	zed := NewSite("zed") // added before "b": order must survive
	zed.URL, zed.Scope, zed.TokenSource = "http://127.0.0.1:8089", "key = A-1", SecretRef{Keyring: true}
	zed.RequestsPerSecond = Unpaced
	b := NewSite("b")
	b.URL, b.Scope, b.TokenSource = "https://b.example", "project = B", SecretRef{Plain: "plain-value"}
	for _, s := range []*Site{acme, dc, zed, b} {
		if err := c.AddSite(s, false); err != nil {
			t.Fatal(err)
		}
	}
	c.Keys["down"] = []string{"j", "down"}
	c.Keys["quit"] = []string{"q", "ctrl+c"}

	dir := filepath.Join(t.TempDir(), "new")
	path := filepath.Join(dir, "config.yaml")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "saved.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("saved config differs from %s (rerun with -update):\n%s", golden, got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, %v", fi.Mode(), err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameConfig(t, back, c)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func assertSameConfig(t *testing.T, got, want *Config) {
	t.Helper()
	if got.DefaultSite != want.DefaultSite || got.TUI != want.TUI || !reflect.DeepEqual(got.Keys, want.Keys) || len(got.Sites) != len(want.Sites) {
		t.Fatalf("config = %+v\nwant %+v", got, want)
	}
	for i := range want.Sites {
		if !sameSite(got.Sites[i], want.Sites[i]) {
			t.Errorf("site %d = %s\nwant %s", i, got.Sites[i], want.Sites[i])
		}
	}
}

func TestSaveRejectsInvalid(t *testing.T) {
	c := New()
	bad := NewSite("acme")
	bad.URL = "not a url"
	_ = c.AddSite(bad, false)
	path := filepath.Join(t.TempDir(), "config.yaml")
	err := Save(path, c)
	if err == nil || !strings.Contains(err.Error(), "sites.acme.url") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("invalid config written: %v", err)
	}
}

func TestSaveReplacesAtomically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	c := New()
	s := NewSite("a")
	s.URL, s.Scope, s.TokenSource = "https://a.example", "project = ALPHA", SecretRef{Env: "T"}
	_ = c.AddSite(s, false)
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	c.RemoveSite("a")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil || len(back.Sites) != 0 {
		t.Fatalf("reloaded %v, %v", back, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after replace = %v", fi.Mode())
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct{ in, want, errHas string }{
		{" https://acme.atlassian.net/ ", "https://acme.atlassian.net", ""},
		{"http://h:8080/jira/", "http://h:8080/jira", ""},
		{"acme.atlassian.net", "", "not an absolute"},
		{"https://me:pw@acme.atlassian.net", "", "user name or password"},
		{"https://a.example/?x=1", "", "query"},
	}
	for _, tt := range tests {
		got, err := NormalizeURL(tt.in)
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || strings.Contains(err.Error(), "pw") {
				t.Errorf("NormalizeURL(%q) err = %v", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeURL(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// TestSaveKeepsComments edits a hand-written file the way `site add` and `site remove` do:
// comments of fields that remain must survive.
func TestSaveKeepsComments(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "commented.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c.RemoveSite("legacy")
	s := NewSite("dc")
	s.URL, s.Scope, s.Dialect, s.TokenSource = "https://jira.example.com", "project = OPS", DialectDataCenter, SecretRef{Keyring: true}
	if err := c.AddSite(s, false); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "commented.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("saved config differs from %s (rerun with -update):\n%s", golden, got)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	assertSameConfig(t, back, c)
}

// TestSaveEditsInPlace: `site add` and `site remove` change only the profile and the
// default_site they mean to; the rest of the file keeps its comments, flow lists and the
// fields its author left to their defaults.
func TestSaveEditsInPlace(t *testing.T) {
	const two = `# My Foundation config.
default_site: carol
sites:
  carol:
    url: https://x.example
    token_env: T
    scope: project = ALPHA
  # the admin identity
  admin:
    url: https://x.example
    token_env: T2
    scope: project = ALPHA
keys:
  down: [j, ctrl+n]
`
	dc := NewSite("dc")
	dc.URL, dc.Scope, dc.TokenSource = "https://dc.example", "project = OPS", SecretRef{Env: "DC"}
	tests := []struct {
		name, src string
		edit      func(c *Config)
		want      string
	}{{
		name: "remove the default profile",
		src:  two,
		edit: func(c *Config) { c.RemoveSite("carol") },
		want: `# My Foundation config.
sites:
  # the admin identity
  admin:
    url: https://x.example
    token_env: T2
    scope: project = ALPHA
keys:
  down: [j, ctrl+n]
`,
	}, {
		name: "remove a commented profile",
		src:  two,
		edit: func(c *Config) { c.RemoveSite("admin") },
		want: `# My Foundation config.
default_site: carol
sites:
  carol:
    url: https://x.example
    token_env: T
    scope: project = ALPHA
keys:
  down: [j, ctrl+n]
`,
	}, {
		name: "add a default profile",
		src:  two,
		edit: func(c *Config) { _ = c.AddSite(dc, false); c.DefaultSite = "dc" },
		want: `# My Foundation config.
default_site: dc
sites:
  carol:
    url: https://x.example
    token_env: T
    scope: project = ALPHA
  # the admin identity
  admin:
    url: https://x.example
    token_env: T2
    scope: project = ALPHA
  dc:
    url: https://dc.example
    dialect: auto
    token_env: DC
    scope: project = OPS
    poll_interval: 1m
    permission_ttl: 5m
keys:
  down: [j, ctrl+n]
`,
	}, {
		name: "replace a profile",
		src:  two,
		edit: func(c *Config) { c.Lookup("carol").PollInterval = 2 * time.Minute },
		want: `# My Foundation config.
default_site: carol
sites:
  carol:
    url: https://x.example
    dialect: auto
    token_env: T
    scope: project = ALPHA
    poll_interval: 2m
    permission_ttl: 5m
  # the admin identity
  admin:
    url: https://x.example
    token_env: T2
    scope: project = ALPHA
keys:
  down: [j, ctrl+n]
`,
	}, {
		name: "add to an empty sites",
		src:  "# nothing yet\nsites:\nkeys: {up: [k]}\n",
		edit: func(c *Config) { _ = c.AddSite(dc, false); c.DefaultSite = "dc" },
		want: "# nothing yet\ndefault_site: dc\nsites:\n  dc:\n    url: https://dc.example\n    dialect: auto\n    token_env: DC\n" +
			"    scope: project = OPS\n    poll_interval: 1m\n    permission_ttl: 5m\nkeys: {up: [k]}\n",
	}, {
		name: "add without sites",
		src:  "keys: {up: [k]} # mine",
		edit: func(c *Config) { _ = c.AddSite(dc, false) },
		want: "keys: {up: [k]} # mine\nsites:\n  dc:\n    url: https://dc.example\n    dialect: auto\n    token_env: DC\n" +
			"    scope: project = OPS\n    poll_interval: 1m\n    permission_ttl: 5m\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("config.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(c)
			got, err := Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("saved:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
