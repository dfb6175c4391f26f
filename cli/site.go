package cli

// site.go holds `foundation site add|list|remove`: the profiles of the config file, their
// stored secrets and their caches.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"foundation/config"
	"foundation/jira"
	"foundation/store"
)

func newSiteCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "site",
		Short: "Manage site profiles: add, list, remove",
		Long: "A site profile is one identity on one Jira site: URL, dialect, credentials and the scope " +
			"(a bounded JQL) mirrored in the local cache. Profiles live in the config file.",
	}
	cmd.AddCommand(newSiteAddCmd(g), newSiteListCmd(g), newSiteRemoveCmd(g))
	return cmd
}

type siteAddFlags struct {
	url, email, tokenEnv, tokenCmd, token, scope, dialect string
	keyring, noCheck, makeDefault, replace                bool
	pollInterval, permissionTTL                           time.Duration
}

func newSiteAddCmd(g *globals) *cobra.Command {
	var f siteAddFlags
	cmd := &cobra.Command{
		Use:   "add NAME --url URL --scope JQL (--token-env VAR | --token-cmd CMD | --keyring | --token TOKEN)",
		Short: "Add a site profile, checking its credentials against Jira first",
		Long: "Adds a profile to the config file. Unless --no-check is given, Foundation signs in to the site " +
			"first and saves nothing if that fails. With --keyring the token is read from stdin (not echoed " +
			"on a terminal) and stored in the OS keyring.",
		Example: "  foundation site add acme --url https://acme.atlassian.net --email alice@acme.com \\\n" +
			"      --token-env ACME_JIRA_TOKEN --scope 'project in (ALPHA, BETA)'\n" +
			"  pass show jira/dc | foundation site add dc --url https://jira.example.com --keyring --scope 'project = OPS'",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.siteAdd(cmd.Context(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "the site's base URL, e.g. https://acme.atlassian.net (required)")
	fl.StringVar(&f.email, "email", "", "account email (Jira Cloud); Data Center uses a personal access token alone")
	fl.StringVar(&f.tokenEnv, "token-env", "", "read the token from this environment variable")
	fl.StringVar(&f.tokenCmd, "token-cmd", "", "read the token from this shell command's output, e.g. 'pass show jira/acme'")
	fl.BoolVar(&f.keyring, "keyring", false, "read the token from stdin and keep it in the OS keyring")
	fl.StringVar(&f.token, "token", "", "keep this token in the config file in plain text (discouraged)")
	fl.StringVar(&f.scope, "scope", "", "bounded JQL of the issues to mirror, e.g. 'project in (ALPHA, BETA)' (required)")
	fl.StringVar(&f.dialect, "dialect", string(config.DefaultDialect), "the site's dialect: cloud, datacenter or auto (ask the site)")
	fl.DurationVar(&f.pollInterval, "poll-interval", config.DefaultPollInterval, "how often to poll Jira for changes")
	fl.DurationVar(&f.permissionTTL, "permission-ttl", config.DefaultPermissionTTL, "how long a permission check stays valid")
	fl.BoolVar(&f.noCheck, "no-check", false, "save without signing in to the site")
	fl.BoolVar(&f.makeDefault, "default", false, "make this the default profile")
	fl.BoolVar(&f.replace, "replace", false, "replace an existing profile of the same name")
	_ = cmd.MarkFlagRequired("url")
	_ = cmd.MarkFlagRequired("scope")
	return cmd
}

func (g *globals) siteAdd(ctx context.Context, name string, f siteAddFlags) error {
	var sources []string
	for flag, set := range map[string]bool{"--token-env": f.tokenEnv != "", "--token-cmd": f.tokenCmd != "", "--keyring": f.keyring, "--token": f.token != ""} {
		if set {
			sources = append(sources, flag)
		}
	}
	switch len(sources) {
	case 0:
		return usageError(errors.New("no token source: pass one of --token-env, --token-cmd, --keyring or --token"))
	case 1:
	default:
		slices.Sort(sources)
		return usageError(fmt.Errorf("several token sources (%s): pass one", strings.Join(sources, ", ")))
	}
	site := config.NewSite(name)
	u, err := config.NormalizeURL(f.url)
	if err != nil {
		return usageError(err)
	}
	site.URL, site.Email, site.Scope = u, strings.TrimSpace(f.email), strings.TrimSpace(f.scope)
	site.Dialect = config.Dialect(strings.ToLower(f.dialect))
	site.PollInterval, site.PermissionTTL = f.pollInterval, f.permissionTTL
	site.TokenSource = config.SecretRef{Env: f.tokenEnv, Cmd: f.tokenCmd, Keyring: f.keyring, Plain: config.Secret(f.token)}

	cfg, path, err := g.loadConfig()
	var nf *config.NotFoundError
	switch {
	case errors.As(err, &nf):
		cfg = config.New() // the first profile creates the file
	case err != nil:
		return err
	}
	old := cfg.Lookup(name)
	if old != nil && !f.replace {
		return usageError(fmt.Errorf("site profile %q already exists in %s: pass --replace to overwrite it", name, path))
	}
	if old != nil {
		// site add has no webhook flags: a replaced profile keeps its webhook secret source.
		site.WebhookSource = old.WebhookSource
	}
	if err := cfg.AddSite(site, f.replace); err != nil {
		return err
	}
	if f.makeDefault || (cfg.DefaultSite == "" && len(cfg.Sites) == 1) {
		cfg.DefaultSite = name
	}
	// Check every rule before asking for a token or calling Jira, so a typo costs nothing.
	if err := cfg.Validate(); err != nil {
		return usageError(err)
	}

	var token string
	if f.keyring {
		if token, err = g.readSecret("Token for " + site.URL + ": "); err != nil {
			return err
		}
	}
	var who *jira.User
	var dialect jira.Dialect
	var creds jira.Credentials
	if !f.noCheck {
		if token == "" {
			if token, err = site.Token(ctx); err != nil {
				return err
			}
		}
		client, err := g.newClient(ctx, site, token)
		if err != nil {
			return err
		}
		if who, err = client.Myself(ctx); err != nil {
			return fmt.Errorf("check credentials for %s: %w", site.URL, err)
		}
		dialect, creds = client.Dialect(), client.Credentials()
		fmt.Fprintf(g.stderr, "signed in as %s (%s), dialect %s\n", who.DisplayName, who.ID(), dialect)
		if err := checkScope(ctx, g, client, site.Scope); err != nil {
			return err
		}
	}

	if f.keyring {
		if err := config.StoreToken(name, token); err != nil {
			return err
		}
	}
	if err := config.Save(path, cfg); err != nil {
		if f.keyring && old == nil {
			_ = config.DeleteStoredSecrets(name) // nothing refers to it now
		}
		return err
	}
	fmt.Fprintf(g.stderr, "saved site profile %s to %s\n", name, path)
	if old != nil && old.TokenSource.Keyring && !f.keyring {
		if err := config.DeleteStoredToken(name); err != nil {
			fmt.Fprintf(g.stderr, "warning: the old token is still in the OS keyring: %v\n", err)
		}
	}
	if f.token != "" {
		fmt.Fprintln(g.stderr, "warning: the token is in the config file in plain text; prefer --token-env, --token-cmd or --keyring")
	}
	if who != nil {
		if err := rememberIdentity(ctx, site, creds, who, dialect); err != nil {
			fmt.Fprintf(g.stderr, "warning: could not record the identity in the cache: %v\n", err)
		}
	}
	return nil
}

// checkScope asks Jira whether it takes the scope: a project, field or value the site does
// not have (or this identity may not see) is a 400 in Jira's words, which would otherwise
// only come out at the first refresh. Such a refusal is a usage error (exit 2).
func checkScope(ctx context.Context, g *globals, client *jira.Client, scope string) error {
	n, err := client.ApproximateCount(ctx, scope)
	var apiErr *jira.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		msg := strings.Join(apiErr.ErrorMessages, "; ")
		if msg == "" {
			msg = apiErr.Error()
		}
		return usageError(fmt.Errorf("--scope %q: Jira refuses it: %s", scope, msg))
	}
	if err != nil {
		return fmt.Errorf("check the scope with Jira: %w", err)
	}
	fmt.Fprintf(g.stderr, "scope %s: about %d issues\n", scope, n)
	return nil
}

// readSecret reads one secret from stdin: without echo on a terminal, else the first line
// (so `pass show x | foundation site add ... --keyring` works).
func (g *globals) readSecret(prompt string) (string, error) {
	if f, ok := g.stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
		fmt.Fprint(g.stderr, prompt)
		b, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(g.stderr)
		if err != nil {
			return "", fmt.Errorf("read token from the terminal: %w", err)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
		return "", usageError(errors.New("no token entered"))
	}
	line, err := bufio.NewReader(io.LimitReader(g.stdin, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read token from stdin: %w", err)
	}
	if s := strings.TrimSpace(line); s != "" {
		return s, nil
	}
	return "", usageError(errors.New("--keyring reads the token from stdin, and stdin was empty"))
}

// stdinTerminal reports whether a person can answer a question on stdin.
func (g *globals) stdinTerminal() bool {
	f, ok := g.stdin.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

func stdoutTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// siteRow is one line of `site list`, and its JSON shape.
type siteRow struct {
	Profile         string     `json:"profile"`
	Default         bool       `json:"default"`
	URL             string     `json:"url"`
	Dialect         string     `json:"dialect"`
	DetectedDialect string     `json:"detectedDialect,omitempty"`
	Identity        *identity  `json:"identity"`
	CachePath       string     `json:"cachePath"`
	CacheBytes      int64      `json:"cacheBytes"`
	LastRefresh     *time.Time `json:"lastRefresh"`
}

func newSiteListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List site profiles with their identity, cache size and last refresh",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.siteList(cmd.Context(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func (g *globals) siteList(ctx context.Context, asJSON bool) error {
	cfg, _, err := g.loadConfig()
	if err != nil {
		return err
	}
	cacheDir, err := config.CacheDir()
	if err != nil {
		return err
	}
	rows := make([]siteRow, 0, len(cfg.Sites))
	for _, s := range cfg.Sites {
		row := siteRow{Profile: s.Name, Default: s.Name == cfg.DefaultSite, URL: s.URL, Dialect: string(s.Dialect),
			CachePath: store.Path(cacheDir, s.URL)}
		if err := fillFromCache(ctx, &row, s); err != nil {
			fmt.Fprintf(g.stderr, "warning: site %s: %v\n", s.Name, err)
		}
		rows = append(rows, row)
	}
	if asJSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	return writeSiteTable(g.stdout, rows, stdoutTerminal(g.stdout))
}

// fillFromCache adds what only the cache knows. A profile that was never refreshed has no
// cache file: that is not an error, and the file is not created just to be listed.
func fillFromCache(ctx context.Context, row *siteRow, s *config.Site) error {
	for _, p := range []string{row.CachePath, row.CachePath + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if p == row.CachePath {
				return nil
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("cache: %w", err)
		}
		row.CacheBytes += fi.Size()
	}
	db, err := store.Open(ctx, row.CachePath)
	if err != nil {
		return err
	}
	defer db.Close()
	// Only the identity Jira confirmed for this profile's own credentials: another config's
	// profile of the same name may share the cache. A token that cannot be read shows none.
	var id *identity
	if creds, _, cerr := siteCredentials(ctx, s); cerr == nil {
		if id, err = recallIdentity(ctx, db, s.Name, creds); err != nil {
			return err
		}
	}
	if id != nil {
		row.Identity = id
		if row.Dialect == string(config.DialectAuto) {
			row.DetectedDialect = id.Dialect
		}
	}
	st, err := db.SyncState(ctx, s.Scope)
	if err != nil {
		return err
	}
	last := st.LastFull
	for _, t := range []time.Time{st.LastPoll, st.LastReconcile} {
		if t.After(last) {
			last = t
		}
	}
	if !last.IsZero() {
		row.LastRefresh = &last
	}
	return nil
}

// writeSiteTable prints aligned columns for a person, tab-separated values for a script.
func writeSiteTable(w io.Writer, rows []siteRow, human bool) error {
	out := w
	var tw *tabwriter.Writer
	if human {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		out = tw
	}
	fmt.Fprintln(out, "PROFILE\tURL\tDIALECT\tIDENTITY\tCACHE\tLAST REFRESH")
	now := time.Now()
	for _, r := range rows {
		name := r.Profile
		if r.Default && human {
			name += " *"
		}
		dialect := r.Dialect
		if r.DetectedDialect != "" {
			dialect += " (" + r.DetectedDialect + ")"
		}
		ident := "-"
		if r.Identity != nil {
			ident = r.Identity.DisplayName + " (" + r.Identity.ID + ")"
		}
		size, last := "-", "-"
		if r.CacheBytes > 0 {
			size = fmt.Sprint(r.CacheBytes)
			if human {
				size = humanize.Bytes(uint64(r.CacheBytes))
			}
		}
		if r.LastRefresh != nil {
			last = r.LastRefresh.UTC().Format(time.RFC3339)
			if human {
				last = humanize.RelTime(*r.LastRefresh, now, "ago", "from now")
			}
		}
		fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", name, r.URL, dialect, ident, size, last)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func newSiteRemoveCmd(g *globals) *cobra.Command {
	var yes, deleteCache bool
	cmd := &cobra.Command{
		Use:   "remove NAME [--delete-cache]",
		Short: "Remove a site profile and its stored secrets; the site's cache is kept unless --delete-cache",
		Long: "Removes the profile from the config file and its secrets from the OS keyring. The site's cache " +
			"stays: other profiles, in this config or another, may share it, and it holds what no refresh can " +
			"bring back from Jira (Lenses, their ACLs, the audit log, the webhook journal). --delete-cache " +
			"deletes it too, but only when no other profile in this config uses it and no process (a TUI, " +
			"refresh or webhook listen) has it open.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.siteRemove(cmd.Context(), args[0], yes, deleteCache)
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&deleteCache, "delete-cache", false, "delete the site's cache too, Lenses and audit log included")
	return cmd
}

func (g *globals) siteRemove(ctx context.Context, name string, yes, deleteCache bool) error {
	cfg, path, err := g.loadConfig()
	if err != nil {
		return err
	}
	site := cfg.Lookup(name)
	if site == nil {
		return usageError(&config.UnknownSiteError{Name: name, Known: cfg.Names()})
	}
	cacheDir, err := config.CacheDir()
	if err != nil {
		return err
	}
	cache := store.Path(cacheDir, site.URL)
	_, statErr := os.Stat(cache)
	hasCache := statErr == nil
	what := "profile " + name + " (" + site.URL + ") and its stored secrets"
	if deleteCache && hasCache {
		var sharers []string
		for _, other := range cfg.Sites {
			if other.Name != name && store.Path(cacheDir, other.URL) == cache {
				sharers = append(sharers, other.Name)
			}
		}
		if len(sharers) > 0 {
			return usageError(fmt.Errorf("--delete-cache: the cache %s is also the cache of profile %s: remove without --delete-cache to keep it for them",
				cache, strings.Join(sharers, ", ")))
		}
		// Only a look, released before the question: the lock is taken again to delete.
		kept, err := lockedKept(ctx, cache)
		if err != nil {
			return err
		}
		what += ", and delete the cache " + cache
		if !kept.Empty() {
			what += " with " + kept.String() + " that Jira cannot give back"
		}
	}
	if !yes {
		if !g.stdinTerminal() {
			return usageError(fmt.Errorf("refusing to remove %s without confirmation: pass --yes", what))
		}
		ok, err := g.confirm("Remove " + what + "?")
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(g.stderr, "not removed")
			return nil
		}
	}
	var locked *store.Exclusive
	if deleteCache && hasCache {
		// Held from before the config changes until the files are gone: a process that
		// opened the cache after the question stops the removal with nothing changed.
		if locked, err = lockCache(ctx, cache); err != nil {
			return err
		}
		defer locked.Close()
	}

	// Read before the secrets go: they are what the cache's memory of the identity is bound to.
	creds, _, _ := siteCredentials(ctx, site)
	wasDefault := cfg.DefaultSite == name
	cfg.RemoveSite(name)
	// The config goes first: once the profile is gone from it, a half-done cleanup below
	// leaves only orphans, never a profile without its secret.
	if err := config.Save(path, cfg); err != nil {
		return err
	}
	var errs []error
	usedKeyring := site.TokenSource.Keyring || site.WebhookSource.Keyring
	if err := config.DeleteStoredSecrets(name); err != nil && usedKeyring {
		// A profile that never used the keyring may run where there is none: only its
		// failures matter for profiles that did.
		errs = append(errs, err)
	}
	switch {
	case locked != nil:
		if err := locked.Delete(); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(g.stderr, "removed %s\n", what)
	case hasCache:
		if err := forgetIdentity(ctx, cache, name, creds); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(g.stderr, "removed %s\nkept the cache %s: profiles of any config on this site may share it, and it holds "+
			"Lenses, the audit log and webhook deliveries that Jira cannot give back (--delete-cache deletes a cache with its profile)\n", what, cache)
	default:
		fmt.Fprintf(g.stderr, "removed %s\n", what)
	}
	if wasDefault && len(cfg.Sites) > 1 {
		// With one profile left, commands take it; with more, they must be told which.
		fmt.Fprintf(g.stderr, "%s was the default profile and there is none now: name one with --site, or set default_site in %s\n", name, path)
	}
	return errors.Join(errs...)
}

// lockCache takes the exclusive lock on a cache about to be deleted, saying what to do when
// a process has it open.
func lockCache(ctx context.Context, cache string) (*store.Exclusive, error) {
	x, err := store.Lock(ctx, cache)
	var inUse *store.InUseError
	if errors.As(err, &inUse) {
		return nil, fmt.Errorf("--delete-cache: %w: nothing was removed; stop it, or remove the profile without --delete-cache", err)
	}
	return x, err
}

// lockedKept counts what the cache holds that Jira cannot give back, under the exclusive
// lock, which it releases.
func lockedKept(ctx context.Context, cache string) (store.Kept, error) {
	x, err := lockCache(ctx, cache)
	if err != nil {
		return store.Kept{}, err
	}
	defer x.Close()
	return x.Kept(ctx)
}

// confirm asks a yes/no question on stderr; anything but y or yes is no.
func (g *globals) confirm(question string) (bool, error) {
	fmt.Fprint(g.stderr, question+" [y/N] ")
	line, err := bufio.NewReader(g.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
