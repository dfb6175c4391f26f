package cli

// demo.go holds `foundation demo`: the fake Jira site in-process, a throw-away profile and
// cache, the sample Lenses, a refresh, then the TUI. Nothing of the user's own config,
// cache or keyring is read or written.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"foundation/config"
	"foundation/examples"
	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

// The demo's two profiles: the viewer (--as) is the default, and a service profile signed
// in as admin fills the cache, the way a team would run `refresh` under a service account.
const (
	demoProfile      = "demo"
	demoAdminProfile = "demo-admin"
	// The token variables the demo profiles name. The demo supplies them to its own config
	// only (never to the process environment, so child processes such as a browser never
	// see them); whoever reuses a kept demo exports them.
	demoTokenEnv      = "FOUNDATION_DEMO_TOKEN"
	demoAdminTokenEnv = "FOUNDATION_DEMO_ADMIN_TOKEN"
	demoScope         = "project in (ALPHA, BETA, GAMMA)"
	// demoLens is the Lens the TUI opens on.
	demoLens = "Roadmap"
	// demoStateFile remembers, in a kept directory, what the site was generated from, so
	// `demo --keep DIR` run again serves the same data at the same address.
	demoStateFile = "demo.json"
)

type demoFlags struct {
	issues  int
	seed    int64
	keep    string
	serve   string
	dialect string
	as      string
	noTUI   bool
	// changed tells whether a flag was given on the command line (a kept demo takes its
	// own values for the flags left out).
	changed func(name string) bool
}

func newDemoCmd(g *globals) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try Foundation on a fake Jira site with sample data and Lenses, no setup",
		Long: `Starts a fake Jira site inside this process (generated projects ALPHA, BETA and GAMMA with
epics, stories, sub-tasks, bugs and sprints), writes a demo profile and cache in a temporary
directory, installs the sample Lenses (Roadmap, Sprint, Bugs, Finished), fills the cache
with a refresh and opens the TUI on the Roadmap. Your own config, cache and keyring are not touched; the
temporary directory is removed on exit unless --keep names one.

A service profile (demo-admin) fills the cache; the TUI views it as --as (alice by default),
as a team sharing one cache would.

When stdout is not a terminal, or with --no-tui, everything but the TUI is done and a summary
of the Lenses is printed. With --serve the fake site also listens on ADDR for other clients
(its users and tokens are printed on stderr) until the demo ends.`,
		Example: "  foundation demo\n" +
			"  foundation demo --issues 20000 --as bob\n" +
			"  foundation demo --keep ~/foundation-demo --serve 127.0.0.1:8089",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.changed = func(name string) bool { return cmd.Flags().Changed(name) }
			if err := f.validate(); err != nil {
				return usageError(err)
			}
			return runDemo(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.issues, "issues", 3000, "number of generated issues")
	fl.Int64Var(&f.seed, "seed", 1, "seed of the generated data set (same seed and size, same data)")
	fl.StringVar(&f.keep, "keep", "", "keep the demo's config and cache in DIR (run the demo again with the same DIR to reuse them)")
	fl.StringVar(&f.serve, "serve", "", "also serve the fake site on ADDR (e.g. 127.0.0.1:8089) so other clients can join")
	fl.StringVar(&f.dialect, "dialect", "cloud", "the fake site's dialect: cloud or datacenter")
	fl.StringVar(&f.as, "as", "alice", "the user the TUI views as: alice, bob or admin")
	fl.BoolVar(&f.noTUI, "no-tui", false, "do everything but the TUI and print a summary")
	return cmd
}

func (f demoFlags) validate() error {
	switch {
	case f.dialect != "cloud" && f.dialect != "datacenter":
		return fmt.Errorf("--dialect must be cloud or datacenter, not %q", f.dialect)
	case f.issues < 1:
		return fmt.Errorf("--issues must be at least 1, not %d", f.issues)
	case !slices.Contains([]string{"alice", "bob", "admin"}, f.as):
		return fmt.Errorf("--as must be alice, bob or admin, not %q", f.as)
	}
	return nil
}

// demoState is what a kept demo directory records about its site.
type demoState struct {
	Issues  int    `json:"issues"`
	Seed    int64  `json:"seed"`
	Dialect string `json:"dialect"`
	Addr    string `json:"addr"`
}

func runDemo(ctx context.Context, g *globals, f demoFlags) (err error) {
	dir, cleanup, err := demoDir(f.keep)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	state, reused, err := loadDemoState(dir, f)
	if err != nil {
		return err
	}
	restore, err := demoEnv(dir, g.debug)
	if err != nil {
		return err
	}
	defer restore()
	// A copy, so the caller's globals keep pointing at the user's own config.
	dg := *g
	dg.configPath = filepath.Join(dir, "config.yaml")

	site, err := startDemoSite(state)
	if err != nil {
		if reused && f.serve == "" {
			return fmt.Errorf("%w (the kept cache belongs to that address; free it, or pass --serve ADDR to fill a new cache at another)", err)
		}
		return err
	}
	defer func() { err = errors.Join(err, site.stop()) }()
	if err := saveDemoState(dir, f.keep != "", demoState{Issues: state.Issues, Seed: state.Seed, Dialect: state.Dialect, Addr: site.addr}); err != nil {
		return err
	}
	announceDemoSite(&dg, site, f.serve != "")

	if reused {
		fmt.Fprintf(g.stderr, "reusing the demo kept in %s\n", dir)
	}
	cfg, err := writeDemoConfig(dg.configPath, site.base, state.Dialect, f.as)
	if err != nil {
		return err
	}
	admin, err := demoClient(ctx, &dg, cfg, demoAdminProfile)
	if err != nil {
		return err
	}
	db, err := openCache(ctx, admin.site)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	actor, err := fillDemoCache(ctx, admin, db)
	if err != nil {
		return err
	}
	if err := applyDemoLenses(ctx, &dg, db, actor); err != nil {
		return err
	}
	// The sample Lens Finished searches history, which only Jira answers: ask it now, as
	// `foundation refresh` would, so the Lens opens with its members.
	rs, err := refresh.FetchRemoteMembers(ctx, admin.client, db, admin.site.Scope, actor)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if len(rs.Refused) > 0 {
		r := rs.Refused[0]
		return fmt.Errorf("demo: sample Lens %q: Jira refused its JQL %q: %s", r.Lens, r.JQL, r.Reason)
	}
	fmt.Fprintf(dg.stderr, "remote Lens queries: %d answered\n", rs.Answered)
	viewer, err := demoClient(ctx, &dg, cfg, demoProfile)
	if err != nil {
		return err
	}
	v, err := checkDemoGrants(ctx, &dg, viewer, db)
	if err != nil {
		return err
	}

	if f.noTUI || !stdoutTerminal(g.stdout) {
		if err := printDemoSummary(ctx, &dg, v, db, site.base, f.as, f.keep != ""); err != nil {
			return err
		}
		if f.serve != "" {
			fmt.Fprintf(g.stderr, "serving the fake site at %s until interrupted\n", site.base)
			select {
			case <-ctx.Done():
			case <-site.done:
				return fmt.Errorf("demo: fake site: %w", site.serveErr)
			}
		}
		if f.keep != "" {
			printDemoReuse(g.stderr, dir, f.as)
		}
		return nil
	}
	terr := runTUI(ctx, &dg, cfg, viewer.site, viewer.client, db, tuiOptions{lens: demoLens})
	if terr != nil && ctx.Err() != nil {
		// Interrupted (SIGTERM, or ctrl+c outside raw mode): the demo ends like a quit.
		terr = nil
	}
	if terr == nil && f.keep != "" {
		printDemoReuse(g.stderr, dir, f.as)
	}
	return terr
}

// demoDir is the directory of the run: --keep DIR (created when missing, kept), else a new
// temporary directory removed by cleanup.
func demoDir(keep string) (dir string, cleanup func() error, err error) {
	if keep != "" {
		abs, err := filepath.Abs(keep)
		if err != nil {
			return "", nil, usageError(fmt.Errorf("--keep %s: %w", keep, err))
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", nil, fmt.Errorf("demo: --keep directory: %w", err)
		}
		return abs, func() error { return nil }, nil
	}
	tmp, err := os.MkdirTemp("", "foundation-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("demo: temporary directory: %w", err)
	}
	return tmp, func() error {
		if err := os.RemoveAll(tmp); err != nil {
			return fmt.Errorf("demo: remove %s: %w", tmp, err)
		}
		return nil
	}, nil
}

// loadDemoState reads what a kept directory was made from. A directory reused with other
// flags keeps its own data set (the cache is of that one) and says so.
func loadDemoState(dir string, f demoFlags) (demoState, bool, error) {
	want := demoState{Issues: f.issues, Seed: f.seed, Dialect: f.dialect, Addr: f.serve}
	changed := func(flag string) bool { return f.changed != nil && f.changed(flag) }
	raw, err := os.ReadFile(filepath.Join(dir, demoStateFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, cerr := os.Stat(filepath.Join(dir, "config.yaml")); cerr == nil {
			return want, false, usageError(fmt.Errorf("--keep %s: the directory holds a config.yaml that the demo did not write; choose another directory", dir))
		}
		return want, false, nil
	}
	if err != nil {
		return want, false, fmt.Errorf("demo: %w", err)
	}
	var got demoState
	if err := json.Unmarshal(raw, &got); err != nil {
		return want, false, fmt.Errorf("demo: %s: %w", filepath.Join(dir, demoStateFile), err)
	}
	// Flags left out take the kept values; flags given must agree with them, since the
	// cache holds that data set.
	if !changed("issues") {
		want.Issues = got.Issues
	}
	if !changed("seed") {
		want.Seed = got.Seed
	}
	if !changed("dialect") {
		want.Dialect = got.Dialect
	}
	if got.Issues != want.Issues || got.Seed != want.Seed || got.Dialect != want.Dialect {
		return want, false, usageError(fmt.Errorf("--keep %s holds a demo of %d issues, seed %d, %s; pass the same --issues, --seed and --dialect, or choose another directory",
			dir, got.Issues, got.Seed, got.Dialect))
	}
	// The cache is keyed by the site's host and port: serve at the same address again.
	if want.Addr == "" {
		want.Addr = got.Addr
	}
	return want, true, nil
}

func saveDemoState(dir string, kept bool, s demoState) error {
	if !kept {
		return nil
	}
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, demoStateFile), append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// demoEnv points the XDG directories and FOUNDATION_CONFIG into dir for the rest of the
// process, so nothing the demo does (config, cache, preferences) reaches the user's own
// files. With --debug the state directory stays the user's: the debug log asked for must
// outlive a temporary demo. restore puts the previous values back.
func demoEnv(dir string, debug bool) (restore func(), err error) {
	vars := map[string]string{
		"FOUNDATION_CONFIG": filepath.Join(dir, "config.yaml"),
		"XDG_CONFIG_HOME":   filepath.Join(dir, "config"),
		"XDG_CACHE_HOME":    filepath.Join(dir, "cache"),
	}
	if !debug {
		vars["XDG_STATE_HOME"] = filepath.Join(dir, "state")
	}
	type saved struct {
		value string
		set   bool
	}
	before := map[string]saved{}
	restore = func() {
		for k, s := range before {
			if s.set {
				os.Setenv(k, s.value)
			} else {
				os.Unsetenv(k)
			}
		}
	}
	for k, v := range vars {
		old, set := os.LookupEnv(k)
		before[k] = saved{old, set}
		if err := os.Setenv(k, v); err != nil {
			restore()
			return nil, fmt.Errorf("demo: set %s: %w", k, err)
		}
	}
	return restore, nil
}

// demoSite is the fake Jira site served on a listener of its own.
type demoSite struct {
	site     *jiratest.Site
	srv      *http.Server
	addr     string        // host:port listened on
	base     string        // base URL
	done     chan struct{} // closed when Serve returns
	serveErr error         // what Serve returned; read after done
}

func startDemoSite(s demoState) (*demoSite, error) {
	site, err := jiratest.New(jiratest.Options{Dialect: s.Dialect, Issues: s.Issues, Seed: s.Seed})
	if err != nil {
		return nil, fmt.Errorf("demo: fake site: %w", err)
	}
	addr := "127.0.0.1:0"
	if s.Addr != "" {
		addr = s.Addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		site.Close()
		return nil, fmt.Errorf("demo: listen on %s: %w", addr, err)
	}
	d := &demoSite{
		site: site,
		// The server's own log (malformed requests from other clients) goes nowhere: it
		// would draw over the TUI.
		srv:  &http.Server{Handler: site, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)},
		addr: ln.Addr().String(),
		base: "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		d.serveErr = d.srv.Serve(ln)
		close(d.done)
	}()
	return d, nil
}

// stop shuts the server down. Requests in flight get a moment to finish; then every
// connection is closed, since net/http counts a connection that was opened but never sent a
// request (the clients' parallel fetchers leave some) as busy for five seconds, and the
// demo's own clients are done by now.
func (d *demoSite) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var err error
	if serr := d.srv.Shutdown(ctx); errors.Is(serr, context.DeadlineExceeded) {
		err = d.srv.Close()
	} else {
		err = serr
	}
	<-d.done
	if serr := d.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	d.site.Close()
	if err != nil {
		return fmt.Errorf("demo: stop the fake site: %w", err)
	}
	return nil
}

// announceDemoSite says where the site is. With --serve other clients will want the users
// and tokens (the fake site's own, printed by fake-jira too); otherwise the site is only
// for this process and its tokens stay unprinted.
func announceDemoSite(g *globals, d *demoSite, serving bool) {
	if !serving {
		fmt.Fprintf(g.stderr, "Fake Jira (%s, %d issues) at %s (loopback, this process only)\n", d.site.Dialect(), len(d.site.Issues()), d.base)
		return
	}
	printFakeJira(&globals{stdout: g.stderr}, d.base, d.site)
}

// writeDemoConfig writes the demo's two profiles. Tokens are named by variable, never
// written; the variables are supplied to this config alone, from the fake site's
// documented tokens.
func writeDemoConfig(path, base, dialect, as string) (*config.Config, error) {
	cfg := config.New()
	cfg.DefaultSite = demoProfile
	d := config.DialectCloud
	if dialect == "datacenter" {
		d = config.DialectDataCenter
	}
	for _, p := range []struct{ name, user, env string }{{demoProfile, as, demoTokenEnv}, {demoAdminProfile, "admin", demoAdminTokenEnv}} {
		s := config.NewSite(p.name)
		s.URL = base
		s.Dialect = d
		if d == config.DialectCloud {
			s.Email = p.user + "@example.com"
		}
		s.TokenSource = config.SecretRef{Env: p.env}
		s.Scope = demoScope
		// Short enough that the demo shows background refresh, long enough to stay quiet.
		s.PollInterval = 30 * time.Second
		if err := cfg.AddSite(s, false); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := config.Save(path, cfg); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// What runs is what was written: load it back, as a later `foundation` would.
	loaded, err := config.Load(path)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	tokens := map[string]string{demoTokenEnv: as + "-token", demoAdminTokenEnv: "admin-token"}
	loaded.SetEnv(func(k string) (string, bool) {
		if v, ok := tokens[k]; ok {
			return v, true
		}
		return os.LookupEnv(k)
	})
	return loaded, nil
}

// demoConn is one profile of the demo with its client.
type demoConn struct {
	site   *config.Site
	client *jira.Client
	prog   *progress
}

func demoClient(ctx context.Context, g *globals, cfg *config.Config, profile string) (*demoConn, error) {
	site := cfg.Lookup(profile)
	if site == nil {
		return nil, fmt.Errorf("demo: profile %s missing from the demo config", profile)
	}
	token, err := site.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: site %s: %w", profile, err)
	}
	prog := newProgress(g.stderr, false)
	client, err := g.newClient(ctx, site, token, func(o *jira.Options) { o.OnEvent = prog.event })
	if err != nil {
		return nil, err
	}
	return &demoConn{site: site, client: client, prog: prog}, nil
}

// fillDemoCache refreshes the cache as the service profile, with progress on stderr: a
// full sync the first time, a poll when a kept cache is reused. It returns the service
// identity, which the sample Lenses are applied as.
func fillDemoCache(ctx context.Context, admin *demoConn, db *store.DB) (refresh.Viewer, error) {
	me, err := admin.client.Myself(ctx)
	if err != nil {
		return refresh.Viewer{}, fmt.Errorf("demo: sign in as admin: %w", err)
	}
	if err := rememberIdentityIn(ctx, db, admin.site, admin.client.Credentials(), me, admin.client.Dialect()); err != nil {
		return refresh.Viewer{}, err
	}
	eng, err := refresh.New(admin.client, db, refresh.Options{Site: admin.site.Name, Scope: admin.site.Scope, Progress: admin.prog.update})
	if err != nil {
		return refresh.Viewer{}, fmt.Errorf("demo: %w", err)
	}
	s, err := eng.Auto(ctx)
	admin.prog.done(s, err)
	if err != nil {
		return refresh.Viewer{}, refreshError(ctx, admin.site.Name, s, s.Mode, err)
	}
	v, err := refresh.ResolveViewer(ctx, admin.client, db, admin.site.Name)
	if err != nil {
		return refresh.Viewer{}, fmt.Errorf("demo: %w", err)
	}
	return v, nil
}

// checkDemoGrants asks the fake site what the viewer may browse, so the TUI shows the
// viewer's share of a cache the service profile filled: alice sees ALPHA and BETA with
// their Internal issues, bob ALPHA only, admin everything.
func checkDemoGrants(ctx context.Context, g *globals, viewer *demoConn, db *store.DB) (refresh.Viewer, error) {
	v, _, err := resolveViewer(ctx, viewer.site, viewer.client, db)
	if err != nil {
		return v, fmt.Errorf("demo: %w", err)
	}
	st, err := refresh.CheckGrants(ctx, viewer.client, db, v, viewer.site.PermissionTTL)
	if err != nil {
		return v, fmt.Errorf("demo: permissions of %s: %w", viewer.site.Name, err)
	}
	fmt.Fprintf(g.stderr, "permissions of %s: %d projects and %d secured issues checked, %d granted, %d denied\n",
		v.DisplayName, st.Projects, st.Issues, st.Granted, st.Denied)
	return v, nil
}

// applyDemoLenses installs the sample Lenses. A kept cache that has them already keeps its
// versions, with whatever the user changed in them.
func applyDemoLenses(ctx context.Context, g *globals, db *store.DB, actor refresh.Viewer) error {
	files, err := examples.Files()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, f := range files {
		def, err := lens.Parse(f.Name, f.Data)
		if err != nil {
			return fmt.Errorf("demo: sample Lens %s: %w", f.Name, err)
		}
		switch _, err := db.Lens(ctx, def.Name); {
		case err == nil:
			continue
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("demo: sample Lens %s: %w", f.Name, err)
		}
		a, err := refresh.ApplyLens(ctx, db, f.Name, f.Data, actor, 0)
		if err != nil {
			return fmt.Errorf("demo: sample Lens %s: %w", f.Name, err)
		}
		fmt.Fprintf(g.stderr, "installed Lens %s (%s)\n", a.Name, f.Name)
	}
	return nil
}

// printDemoSummary is the demo without a terminal: what the cache holds and each Lens as
// the viewer sees it, tab-separated on stdout.
func printDemoSummary(ctx context.Context, g *globals, v refresh.Viewer, db *store.DB, base, as string, kept bool) error {
	counts, err := db.Counts(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	lenses, err := db.Lenses(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "site\t%s\n", base)
	fmt.Fprintf(tw, "viewer\t%s (%s)\n", as, v.User)
	where := db.Path()
	if !kept {
		where += " (removed on exit)"
	}
	fmt.Fprintf(tw, "cache\t%s\n", where)
	fmt.Fprintf(tw, "issues\t%d\n", counts.Issues)
	fmt.Fprintf(tw, "links\t%d\n", counts.Links)
	for _, l := range lenses {
		o, err := refresh.OpenLens(ctx, db, l.Name, v, refresh.OpenOptions{})
		if err != nil {
			return fmt.Errorf("demo: open Lens %s: %w", l.Name, err)
		}
		fmt.Fprintf(tw, "lens\t%s\t%d rows\n", l.Name, len(o.Forest.Rows))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// printDemoReuse tells how to come back to a kept demo. Its token stays unprinted even
// though it is the fake site's: the variable is named, and where the value comes from.
func printDemoReuse(w io.Writer, dir, as string) {
	fmt.Fprintf(w, "The demo is kept in %s. Run it again (same site address; the cache is polled, not refilled):\n", dir)
	fmt.Fprintf(w, "  foundation demo --keep %s\n", dir)
	fmt.Fprintf(w, "or open the kept cache offline in the TUI, with %s set to %s's token on the fake site (NAME-token):\n", demoTokenEnv, as)
	fmt.Fprintf(w, "  XDG_CACHE_HOME=%s FOUNDATION_CONFIG=%s foundation\n", filepath.Join(dir, "cache"), filepath.Join(dir, "config.yaml"))
}
