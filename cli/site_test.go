package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"foundation/config"
	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/store"
)

// cliEnv is a sandbox: its own home, XDG directories, config file and keyring.
type cliEnv struct {
	t      *testing.T
	config string
	cache  string
	client func(*jira.Options) // adjusts every Jira client the commands build
}

func newCLIEnv(t *testing.T) *cliEnv {
	keyring.MockInit()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("FOUNDATION_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
	return &cliEnv{t: t, config: filepath.Join(home, "config", "foundation", "config.yaml"), cache: filepath.Join(home, "cache", "foundation")}
}

type result struct {
	code           int
	stdout, stderr string
}

// has reports whether stderr says want. fang capitalises and re-wraps messages, so
// whitespace and case are ignored.
func has(stderr, want string) bool {
	squash := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	return strings.Contains(squash(stderr), squash(want))
}

// run drives the command line the way Main does, with stdin and the outputs captured.
func (e *cliEnv) run(stdin string, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	g := &globals{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut, client: e.client}
	root := newRoot(g)
	root.SetIn(g.stdin)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := execute(context.Background(), root, args)
	code := exitCode(err)
	if err != nil && isUsage(err) {
		code = ExitUsage
	}
	r := result{code: code, stdout: out.String(), stderr: errOut.String()}
	for _, secret := range []string{"alice-token", "bob-token", "admin-token", "kr-s3cr3t"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			e.t.Errorf("%v printed a token:\n%s%s", args, r.stdout, r.stderr)
		}
	}
	return r
}

func (e *cliEnv) load() *config.Config {
	e.t.Helper()
	c, err := config.Load(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func testCredentials(t *testing.T, url, email, token string) jira.Credentials {
	t.Helper()
	c, err := jira.NewCredentials(url, email, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fakeSite(t *testing.T, dialect string) string {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: 50, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSiteAdd(t *testing.T) {
	cloud := fakeSite(t, "cloud")
	dc := fakeSite(t, "datacenter")
	tests := []struct {
		name     string
		env      map[string]string
		stdin    string
		args     []string
		code     int
		stderr   string // substring
		saved    bool
		check    func(t *testing.T, s *config.Site)
		keyringV string // token expected in the keyring
	}{
		{name: "cloud env token", env: map[string]string{"ACME_TOKEN": "alice-token"},
			args:   []string{"acme", "--url", cloud + "/", "--email", "alice@example.com", "--token-env", "ACME_TOKEN", "--scope", "project = ALPHA"},
			stderr: "signed in as Alice Anders (61a0000000000000000000a2), dialect cloud", saved: true,
			check: func(t *testing.T, s *config.Site) {
				if s.URL != cloud || s.TokenSource.Env != "ACME_TOKEN" || s.Dialect != config.DialectAuto || s.PollInterval != time.Minute {
					t.Errorf("saved %s", s)
				}
			}},
		{name: "cloud token command", args: []string{"acme", "--url", cloud, "--email", "bob@example.com", "--token-cmd", "printf bob-token", "--scope", "project = ALPHA", "--dialect", "cloud", "--poll-interval", "30s"},
			stderr: "signed in as Bob Brown", saved: true,
			check: func(t *testing.T, s *config.Site) {
				if s.Dialect != config.DialectCloud || s.PollInterval != 30*time.Second || s.TokenSource.Cmd != "printf bob-token" {
					t.Errorf("saved %s", s)
				}
			}},
		{name: "data center pat from keyring", stdin: "admin-token\n",
			args:   []string{"dc", "--url", dc, "--keyring", "--scope", "project = GAMMA"},
			stderr: "signed in as Ada Admin (admin), dialect datacenter", saved: true, keyringV: "admin-token",
			check: func(t *testing.T, s *config.Site) {
				if !s.TokenSource.Keyring || s.Email != "" {
					t.Errorf("saved %s", s)
				}
			}},
		{name: "wrong token saves nothing", env: map[string]string{"ACME_TOKEN": "wrong"},
			args: []string{"acme", "--url", cloud, "--email", "alice@example.com", "--token-env", "ACME_TOKEN", "--scope", "project = ALPHA"},
			code: ExitAuth, stderr: "401"},
		{name: "wrong keyring token stores nothing", stdin: "wrong\n",
			args: []string{"dc", "--url", dc, "--keyring", "--scope", "project = GAMMA"}, code: ExitAuth},
		{name: "unset variable", args: []string{"acme", "--url", cloud, "--email", "alice@example.com", "--token-env", "NOPE_UNSET", "--scope", "project = ALPHA"},
			code: ExitError, stderr: "NOPE_UNSET is not set"},
		{name: "no check", args: []string{"off", "--url", "https://offline.invalid", "--token-env", "X", "--scope", "project = ALPHA", "--no-check"},
			saved: true},
		{name: "plain token", args: []string{"plain", "--url", cloud, "--email", "alice@example.com", "--token", "alice-token", "--scope", "project = ALPHA"},
			saved: true, stderr: "signed in as Alice Anders"},
		{name: "missing scope", args: []string{"acme", "--url", cloud, "--token-env", "X"}, code: ExitUsage, stderr: "scope"},
		{name: "no token source", args: []string{"acme", "--url", cloud, "--scope", "project = ALPHA"}, code: ExitUsage},
		{name: "two token sources", args: []string{"acme", "--url", cloud, "--scope", "project = ALPHA", "--token-env", "X", "--keyring"}, code: ExitUsage},
		{name: "relative url", args: []string{"acme", "--url", "acme.atlassian.net", "--scope", "project = ALPHA", "--token-env", "X", "--no-check"}, code: ExitUsage, stderr: "not an absolute http(s) URL"},
		{name: "bad dialect", args: []string{"acme", "--url", cloud, "--scope", "project = ALPHA", "--token-env", "X", "--dialect", "server", "--no-check"}, code: ExitUsage, stderr: "not a dialect"},
		{name: "cloud without email", args: []string{"acme", "--url", cloud, "--scope", "project = ALPHA", "--token-env", "X", "--dialect", "cloud", "--no-check"}, code: ExitUsage, stderr: "email: missing"},
		{name: "bad name", args: []string{"a/b", "--url", cloud, "--scope", "project = ALPHA", "--token-env", "X", "--no-check"}, code: ExitUsage, stderr: "profile name"},
		{name: "unbounded scope", args: []string{"acme", "--url", cloud, "--scope", "status = Done", "--token-env", "X", "--no-check"}, code: ExitUsage, stderr: "unbounded JQL"},
		{name: "broken scope", args: []string{"acme", "--url", cloud, "--scope", "project = (", "--token-env", "X", "--no-check"}, code: ExitUsage, stderr: "character"},
		{name: "scope Jira refuses, cloud", env: map[string]string{"ACME_TOKEN": "alice-token"},
			args: []string{"acme", "--url", cloud, "--email", "alice@example.com", "--token-env", "ACME_TOKEN", "--scope", "project = NOPE"},
			code: ExitUsage, stderr: `--scope "project = NOPE": Jira refuses it: The value 'NOPE' does not exist for the field 'project'.`},
		{name: "scope Jira refuses, data center", stdin: "admin-token\n",
			args: []string{"dc", "--url", dc, "--keyring", "--scope", "project = ALPHA AND cf[99999] = 1"},
			code: ExitUsage, stderr: "Field 'cf[99999]' does not exist"},
		{name: "empty keyring stdin", args: []string{"dc", "--url", dc, "--keyring", "--scope", "project = ALPHA"}, code: ExitUsage, stderr: "stdin was empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCLIEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r := e.run(tt.stdin, append([]string{"site", "add"}, tt.args...)...)
			if r.code != tt.code || !has(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			_, statErr := os.Stat(e.config)
			if !tt.saved {
				if !errors.Is(statErr, fs.ErrNotExist) {
					t.Errorf("config written on failure: %v", statErr)
				}
				if _, err := keyring.Get(config.KeyringService, tt.args[0]); !errors.Is(err, keyring.ErrNotFound) {
					t.Errorf("keyring written on failure: %v", err)
				}
				return
			}
			c := e.load()
			s, err := c.Site("")
			if err != nil || s.Name != tt.args[0] || c.DefaultSite != tt.args[0] {
				t.Fatalf("saved config: default %q, site %v, %v", c.DefaultSite, s, err)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
			if tt.keyringV != "" {
				if v, err := keyring.Get(config.KeyringService, s.Name); err != nil || v != tt.keyringV {
					t.Errorf("keyring holds %v", err)
				}
			}
		})
	}
}

func TestSiteAddExisting(t *testing.T) {
	e := newCLIEnv(t)
	add := func(extra ...string) result {
		return e.run("", append([]string{"site", "add", "acme", "--url", "https://a.example", "--token-env", "T", "--scope", "project = ALPHA", "--no-check"}, extra...)...)
	}
	if r := add(); r.code != 0 {
		t.Fatalf("first add: %d %s", r.code, r.stderr)
	}
	if r := add(); r.code != ExitUsage || !has(r.stderr, "--replace") {
		t.Fatalf("second add: %d %s", r.code, r.stderr)
	}
	if r := add("--replace", "--poll-interval", "2m"); r.code != 0 {
		t.Fatalf("replace: %d %s", r.code, r.stderr)
	}
	if s := e.load().Lookup("acme"); s.PollInterval != 2*time.Minute {
		t.Errorf("not replaced: %s", s)
	}
	// Moving a profile off the keyring drops its stored token; its webhook source stays.
	c := e.load()
	c.Lookup("acme").WebhookSource = config.SecretRef{Env: "HOOK"}
	if err := config.Save(e.config, c); err != nil {
		t.Fatal(err)
	}
	base := []string{"site", "add", "acme", "--url", "https://a.example", "--scope", "project = ALPHA", "--no-check", "--replace"}
	if r := e.run("kr-s3cr3t\n", append(base, "--keyring")...); r.code != 0 {
		t.Fatalf("replace with keyring: %d %s", r.code, r.stderr)
	}
	if v, err := keyring.Get(config.KeyringService, "acme"); err != nil || v != "kr-s3cr3t" {
		t.Fatalf("keyring token not stored: %v", err)
	}
	if r := e.run("", append(base, "--token-env", "T")...); r.code != 0 {
		t.Fatalf("replace off the keyring: %d %s", r.code, r.stderr)
	}
	if _, err := keyring.Get(config.KeyringService, "acme"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("old keyring token kept: %v", err)
	}
	if s := e.load().Lookup("acme"); s.WebhookSource.Env != "HOOK" || s.TokenSource.Env != "T" {
		t.Errorf("after replaces: %s", s)
	}
	r := e.run("", "site", "add", "beta", "--url", "https://b.example", "--token-env", "T", "--scope", "project = B", "--no-check")
	if r.code != 0 || e.load().DefaultSite != "acme" {
		t.Fatalf("second profile changed the default: %d %s", r.code, r.stderr)
	}
	r = e.run("", "site", "add", "gamma", "--url", "https://g.example", "--token-env", "T", "--scope", "project = G", "--no-check", "--default")
	if c := e.load(); r.code != 0 || c.DefaultSite != "gamma" || strings.Join(c.Names(), ",") != "acme,beta,gamma" {
		t.Fatalf("--default: %d %s %v", r.code, c.DefaultSite, c.Names())
	}
}

func TestSiteList(t *testing.T) {
	e := newCLIEnv(t)
	cloud := fakeSite(t, "cloud")
	t.Setenv("ALICE", "alice-token")
	for _, args := range [][]string{
		{"acme", "--url", cloud, "--email", "alice@example.com", "--token-env", "ALICE", "--scope", "project = ALPHA"},
		{"acme-bob", "--url", cloud, "--email", "bob@example.com", "--token", "bob-token", "--scope", "project = ALPHA"},
		{"off", "--url", "https://offline.invalid", "--token-env", "X", "--scope", "project = ALPHA", "--no-check", "--dialect", "datacenter"},
	} {
		if r := e.run("", append([]string{"site", "add"}, args...)...); r.code != 0 {
			t.Fatalf("add %s: %d %s", args[0], r.code, r.stderr)
		}
	}
	// A refresh would record its progress like this.
	db, err := store.Open(context.Background(), store.Path(e.cache, cloud))
	if err != nil {
		t.Fatal(err)
	}
	polled := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := db.PutSyncState(context.Background(), store.SyncState{Scope: "project = ALPHA", LastPoll: polled, LastFull: polled.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	r := e.run("", "site", "list")
	if r.code != 0 {
		t.Fatalf("list: %d %s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "plain token in the config file"); n != 1 {
		t.Errorf("plain-token warning printed %d times:\n%s", n, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || lines[0] != "PROFILE\tURL\tDIALECT\tIDENTITY\tCACHE\tLAST REFRESH" {
		t.Fatalf("list output:\n%s", r.stdout)
	}
	acme := strings.Split(lines[1], "\t")
	if acme[0] != "acme" || acme[1] != cloud || acme[2] != "auto (cloud)" || acme[3] != "Alice Anders (61a0000000000000000000a2)" || acme[4] == "-" || acme[5] != "2026-03-04T05:06:07Z" {
		t.Errorf("acme row = %q", acme)
	}
	if bob := strings.Split(lines[2], "\t"); bob[3] != "Bob Brown (61a0000000000000000000a3)" || bob[4] != acme[4] {
		t.Errorf("acme-bob row = %q (shares acme's cache)", bob)
	}
	if off := strings.Split(lines[3], "\t"); strings.Join(off[2:], "|") != "datacenter|-|-|-" {
		t.Errorf("never-refreshed row = %q", off)
	}
	if _, err := os.Stat(store.Path(e.cache, "https://offline.invalid")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("list created a cache file: %v", err)
	}

	r = e.run("", "site", "list", "--json")
	var rows []siteRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 {
		t.Fatalf("--json: %v, %d\n%s", err, r.code, r.stdout)
	}
	if len(rows) != 3 || !rows[0].Default || rows[1].Default || rows[0].Identity == nil || rows[0].Identity.ID != "61a0000000000000000000a2" ||
		rows[0].LastRefresh == nil || !rows[0].LastRefresh.Equal(polled) || rows[0].CacheBytes == 0 || rows[2].Identity != nil || rows[2].LastRefresh != nil {
		t.Errorf("json rows = %+v", rows)
	}
}

func TestSiteListWithoutConfig(t *testing.T) {
	e := newCLIEnv(t)
	r := e.run("", "site", "list")
	if r.code != ExitError || !has(r.stderr, "foundation site add NAME --url") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = e.run("", "--config", filepath.Join(t.TempDir(), "bad.yaml"), "site", "list")
	if r.code != ExitError {
		t.Errorf("--config to a missing file: exit %d", r.code)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("sites:\n  acme:\n    url: nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.run("", "--config", bad, "site", "list")
	if r.code != ExitError || !has(r.stderr, "bad.yaml:3: sites.acme.url: not an absolute http(s) URL") {
		t.Errorf("invalid config: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestSiteRemove(t *testing.T) {
	ctx := context.Background()
	e := newCLIEnv(t)
	cloud := fakeSite(t, "cloud")
	for _, args := range [][]string{
		{"acme", "--url", cloud, "--email", "alice@example.com", "--keyring", "--scope", "project = ALPHA"},
		{"acme-bob", "--url", cloud, "--email", "bob@example.com", "--keyring", "--scope", "project = ALPHA"},
	} {
		token := map[string]string{"acme": "alice-token\n", "acme-bob": "bob-token\n"}[args[0]]
		if r := e.run(token, append([]string{"site", "add"}, args...)...); r.code != 0 {
			t.Fatalf("add %s: %d %s", args[0], r.code, r.stderr)
		}
	}
	cache := store.Path(e.cache, cloud)

	// No terminal and no --yes: refuse, change nothing.
	if r := e.run("y\n", "site", "remove", "acme"); r.code != ExitUsage || !has(r.stderr, "--yes") {
		t.Fatalf("remove without --yes: %d %s", r.code, r.stderr)
	}
	if len(e.load().Sites) != 2 {
		t.Fatal("profile removed without confirmation")
	}
	if r := e.run("", "site", "remove", "nope", "--yes"); r.code != ExitUsage || !has(r.stderr, `no site profile "nope"`) {
		t.Fatalf("remove unknown: %d %s", r.code, r.stderr)
	}

	// The cache is shared with acme-bob: it stays, minus what it knew about acme.
	if r := e.run("", "site", "remove", "acme", "--yes"); r.code != 0 {
		t.Fatalf("remove acme: %d %s", r.code, r.stderr)
	}
	if c := e.load(); strings.Join(c.Names(), ",") != "acme-bob" || c.DefaultSite != "" {
		t.Errorf("after remove: %v default %q", c.Names(), c.DefaultSite)
	}
	if _, err := keyring.Get(config.KeyringService, "acme"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("acme's token still in the keyring: %v", err)
	}
	if _, err := keyring.Get(config.KeyringService, "acme-bob"); err != nil {
		t.Errorf("acme-bob's token gone: %v", err)
	}
	db, err := store.Open(ctx, cache)
	if err != nil {
		t.Fatalf("shared cache gone: %v", err)
	}
	gone, err1 := recallIdentity(ctx, db, "acme", testCredentials(t, cloud, "alice@example.com", "alice-token"))
	kept, err2 := recallIdentity(ctx, db, "acme-bob", testCredentials(t, cloud, "bob@example.com", "bob-token"))
	db.Close()
	if gone != nil || kept == nil || err1 != nil || err2 != nil {
		t.Errorf("identities after remove: acme %v, acme-bob %v (%v %v)", gone, kept, err1, err2)
	}

	// The last profile of the host no longer takes the cache with it: other configs may
	// use it, and it holds what Jira cannot give back.
	if r := e.run("", "site", "remove", "acme-bob", "-y"); r.code != 0 || !has(r.stderr, "kept the cache "+cache) {
		t.Fatalf("remove acme-bob: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("cache deleted without --delete-cache: %v", err)
	}
	if _, err := keyring.Get(config.KeyringService, "acme-bob"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("acme-bob's token still in the keyring: %v", err)
	}
	if len(e.load().Sites) != 0 {
		t.Error("profiles left")
	}
}

// TestSiteRemoveDeleteCache: --delete-cache deletes a cache only when no other profile of
// the config and no process uses it, and says what was in it.
func TestSiteRemoveDeleteCache(t *testing.T) {
	ctx := context.Background()
	e := newCLIEnv(t)
	const site = "https://x.example"
	for _, name := range []string{"carol", "admin"} {
		if r := e.run("", "site", "add", name, "--url", site, "--token-env", "T", "--scope", "project = ALPHA", "--no-check"); r.code != 0 {
			t.Fatalf("add %s: %d %s", name, r.code, r.stderr)
		}
	}
	cache := store.Path(e.cache, site)
	db, err := store.Open(ctx, cache)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, store.AuditEntry{Action: "lens.apply", Target: "Roadmap"}); err != nil {
		t.Fatal(err)
	}
	unchanged := func(step string) {
		t.Helper()
		if n := len(e.load().Sites); n != 2 {
			t.Errorf("%s: %d profiles left, want 2", step, n)
		}
		if _, err := os.Stat(cache); err != nil {
			t.Errorf("%s: cache gone: %v", step, err)
		}
	}
	// Another profile of this config shares the cache.
	if r := e.run("", "site", "remove", "carol", "--delete-cache", "--yes"); r.code != ExitUsage || !has(r.stderr, "also the cache of profile admin") {
		t.Fatalf("remove carol --delete-cache: %d %s", r.code, r.stderr)
	}
	unchanged("shared")
	// Another config's process (here, an open cache) uses it: nothing changes.
	other := writeFile(t, t.TempDir(), "other.yaml", "sites:\n  carol:\n    url: "+site+"\n    token_env: T\n    scope: project = ALPHA\n")
	if r := e.run("", "--config", other, "site", "remove", "carol", "--delete-cache", "--yes"); r.code != ExitError || !has(r.stderr, "open in another process") || !has(r.stderr, "nothing was removed") {
		t.Fatalf("remove while open: %d %s", r.code, r.stderr)
	}
	unchanged("in use")
	if c, err := config.Load(other); err != nil || len(c.Sites) != 1 {
		t.Fatalf("other config changed: %v %v", c, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.run("", "--config", other, "site", "remove", "carol", "--delete-cache", "--yes")
	if r.code != 0 || !has(r.stderr, "delete the cache "+cache+" with 1 audit entry") {
		t.Fatalf("remove --delete-cache: %d %s", r.code, r.stderr)
	}
	for _, p := range []string{cache, cache + "-wal", cache + "-shm"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived: %v", p, err)
		}
	}
}

func TestOpenSite(t *testing.T) {
	ctx := context.Background()
	e := newCLIEnv(t)
	cloud := fakeSite(t, "cloud")
	t.Setenv("BOB", "bob-token")
	if r := e.run("", "site", "add", "bob", "--url", cloud, "--email", "bob@example.com", "--token-env", "BOB", "--scope", "project = ALPHA", "--no-check", "--dialect", "cloud"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	var errOut bytes.Buffer
	g := &globals{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &errOut}
	site, client, err := g.openSite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if site.Name != "bob" || client.BaseURL() != cloud {
		t.Errorf("opened %s at %s", site, client.BaseURL())
	}
	if u, err := client.Myself(ctx); err != nil || u.DisplayName != "Bob Brown" {
		t.Errorf("myself = %v, %v", u, err)
	}
	g.site = "carol"
	if _, _, err := g.openSite(ctx); exitCode(err) != ExitUsage {
		t.Errorf("unknown --site: %v (exit %d)", err, exitCode(err))
	}
	g.site = ""
	t.Setenv("BOB", "")
	if _, _, err := g.openSite(ctx); err == nil || !strings.Contains(err.Error(), "BOB is not set") {
		t.Errorf("unset token variable: %v", err)
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		answer string
		want   bool
	}{
		{"y\n", true}, {"YES\n", true}, {" yes ", true},
		{"\n", false}, {"", false}, {"n\n", false}, {"yep\n", false}, {"no\n", false},
	}
	for _, tt := range tests {
		var errOut bytes.Buffer
		g := &globals{stdin: strings.NewReader(tt.answer), stderr: &errOut}
		got, err := g.confirm("Remove it?")
		if err != nil || got != tt.want {
			t.Errorf("answer %q: %v, %v; want %v", tt.answer, got, err, tt.want)
		}
		if errOut.String() != "Remove it? [y/N] " {
			t.Errorf("prompt = %q", errOut.String())
		}
	}
}

// TestSiteRemoveDefaultSays: removing the default profile while two others remain says
// there is no default any more, and how to name one; with one left, commands take it.
func TestSiteRemoveDefaultSays(t *testing.T) {
	e := newCLIEnv(t)
	cloud := fakeSite(t, "cloud")
	for _, who := range []string{"alice", "bob", "admin"} {
		args := []string{"site", "add", who, "--url", cloud, "--email", who + "@example.com", "--keyring", "--scope", "project = ALPHA"}
		if r := e.run(who+"-token\n", args...); r.code != 0 {
			t.Fatalf("add %s: %d %s", who, r.code, r.stderr)
		}
	}
	if c := e.load(); c.DefaultSite != "alice" {
		t.Fatalf("default %q, want the first profile added", c.DefaultSite)
	}
	r := e.run("", "site", "remove", "alice", "--yes")
	if r.code != 0 || !has(r.stderr, "alice was the default profile and there is none now") || !has(r.stderr, "default_site in "+e.config) {
		t.Errorf("remove the default: %d\n%s", r.code, r.stderr)
	}
	if r := e.run("", "site", "remove", "bob", "--yes"); r.code != 0 || has(r.stderr, "default profile") {
		t.Errorf("remove a profile that is not the default: %d\n%s", r.code, r.stderr)
	}
}
