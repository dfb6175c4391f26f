package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"foundation/config"
	"foundation/jira"
	"foundation/refresh"
	"foundation/store"
)

// loadConfig reads the config file named by --config, else $FOUNDATION_CONFIG, else the XDG
// default, and prints its warnings (a plain token in the file...) to stderr. It returns the
// path too, for commands that save the config back. A command calls loadConfig (or
// openSite, which calls it) once, so each warning is printed once.
func (g *globals) loadConfig() (*config.Config, string, error) {
	path, err := g.configFile()
	if err != nil {
		return nil, "", err
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, path, err
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(g.stderr, "warning:", w)
	}
	return c, path, nil
}

// configFile is the config path in use.
func (g *globals) configFile() (string, error) {
	if g.configPath != "" {
		return g.configPath, nil
	}
	return config.DefaultPath()
}

// openSite loads the config, picks the profile named by --site (else default_site, else the
// only one), reads its token and returns a Jira client for it. The client is not checked
// against the site: the first request will say whether the credentials work.
func (g *globals) openSite(ctx context.Context) (*config.Site, *jira.Client, error) {
	return g.openSiteWith(ctx)
}

// openSiteWith is openSite with adjustments to the client's options (progress hooks...).
func (g *globals) openSiteWith(ctx context.Context, adjust ...func(*jira.Options)) (*config.Site, *jira.Client, error) {
	c, _, err := g.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	return g.connect(ctx, c, adjust...)
}

// connect is openSite for a command that has already loaded the config.
func (g *globals) connect(ctx context.Context, c *config.Config, adjust ...func(*jira.Options)) (*config.Site, *jira.Client, error) {
	site, err := g.pickSite(c)
	if err != nil {
		return nil, nil, err
	}
	client, err := g.connectSite(ctx, site, adjust...)
	if err != nil {
		return nil, nil, err
	}
	return site, client, nil
}

// connectSite reads the token of a profile already picked and builds its client.
func (g *globals) connectSite(ctx context.Context, site *config.Site, adjust ...func(*jira.Options)) (*jira.Client, error) {
	token, err := site.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", site.Name, err)
	}
	return g.newClient(ctx, site, token, adjust...)
}

// pickSite resolves --site. Naming a profile that does not exist is a usage error (exit 2).
func (g *globals) pickSite(c *config.Config) (*config.Site, error) {
	site, err := c.Site(g.site)
	var unknown *config.UnknownSiteError
	if errors.As(err, &unknown) {
		return nil, usageError(err)
	}
	return site, err
}

// newClient builds the Jira client of a profile with the token already read.
func (g *globals) newClient(ctx context.Context, site *config.Site, token string, adjust ...func(*jira.Options)) (*jira.Client, error) {
	opts := jira.Options{BaseURL: site.URL, Dialect: jiraDialect(site.Dialect), Email: site.Email, Token: token,
		RequestsPerSecond: site.RequestsPerSecond}
	for _, a := range adjust {
		a(&opts)
	}
	if g.client != nil {
		g.client(&opts)
	}
	if g.debug {
		w, err := debugLog()
		if err != nil {
			return nil, err
		}
		opts.Debug = w
	}
	client, err := jira.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", site.Name, err)
	}
	return client, nil
}

// jiraDialect maps the config's dialect to the client's; auto leaves it empty so the client
// asks serverInfo.
func jiraDialect(d config.Dialect) jira.Dialect {
	switch d {
	case config.DialectCloud:
		return jira.Cloud
	case config.DialectDataCenter:
		return jira.DataCenter
	}
	return ""
}

// debugLog is the --debug log: $XDG_STATE_HOME/foundation/debug.log. The client redacts
// credentials before writing.
func debugLog() (io.Writer, error) {
	dir, err := config.StateDir()
	if err != nil {
		return nil, fmt.Errorf("debug log: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("debug log: %w", err)
	}
	return appendFile(filepath.Join(dir, "debug.log")), nil
}

// appendFile opens, appends and closes per write, so a debug log needs no Close from the
// many commands that may turn it on; each write is one whole HTTP exchange.
type appendFile string

func (p appendFile) Write(b []byte) (int, error) {
	f, err := os.OpenFile(string(p), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// The cache remembers who each set of credentials signs in as (refresh.RememberViewer),
// bound to their fingerprint, so `site list` and the commands that work offline know it
// without a network call, and never take it from someone else's token that shares the
// profile name or the cache.

// identity is a profile's Jira user as last seen by site add, refresh or the TUI.
type identity struct {
	ID          string `json:"id"` // accountId on Cloud, user name on Data Center
	DisplayName string `json:"displayName"`
	Dialect     string `json:"dialect,omitempty"` // the detected dialect
}

// siteCredentials reads the profile's token (without sending it anywhere) and returns the
// credentials it signs in with, and the token to build a client from.
func siteCredentials(ctx context.Context, site *config.Site) (jira.Credentials, string, error) {
	token, err := site.Token(ctx)
	if err != nil {
		return jira.Credentials{}, "", fmt.Errorf("site %s: %w", site.Name, err)
	}
	creds, err := jira.NewCredentials(site.URL, site.Email, token)
	if err != nil {
		return jira.Credentials{}, "", fmt.Errorf("site %s: %w", site.Name, err)
	}
	return creds, token, nil
}

// rememberIdentity records in the profile's cache who creds signed in as.
func rememberIdentity(ctx context.Context, site *config.Site, creds jira.Credentials, u *jira.User, d jira.Dialect) error {
	dir, err := config.CacheDir()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Path(dir, site.URL))
	if err != nil {
		return err
	}
	return errors.Join(rememberIdentityIn(ctx, db, site, creds, u, d), db.Close())
}

// rememberIdentityIn is rememberIdentity on an open cache.
func rememberIdentityIn(ctx context.Context, db *store.DB, site *config.Site, creds jira.Credentials, u *jira.User, d jira.Dialect) error {
	_, err := refresh.RememberViewer(ctx, db, site.Name, creds, u, d)
	return err
}

// recallIdentity returns the identity Jira confirmed for creds, or nil when it never did
// in this cache.
func recallIdentity(ctx context.Context, db *store.DB, profile string, creds jira.Credentials) (*identity, error) {
	v, ok, err := refresh.RecallViewer(ctx, db, profile, creds, time.Now())
	if err != nil || !ok {
		return nil, err
	}
	return &identity{ID: v.User, DisplayName: v.DisplayName, Dialect: v.Dialect}, nil
}

// forgetIdentity drops what the cache at path remembers about the credentials of profile
// (when the cache outlives the profile because another profile shares it). Credentials
// that could not be read (zero) leave a memory only the same token could ever use.
func forgetIdentity(ctx context.Context, path, profile string, creds jira.Credentials) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	err = refresh.ForgetViewer(ctx, db, profile, creds)
	return errors.Join(err, db.Close())
}
