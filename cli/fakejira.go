package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"foundation/jira/jiratest"
)

// newFakeJiraCmd runs the fake Jira site on its own, for other clients and scripts.
func newFakeJiraCmd(g *globals) *cobra.Command {
	var (
		addr    string
		issues  int
		seed    int64
		dialect string
		users   string
		faults  fakeFaults
	)
	cmd := &cobra.Command{
		Use:   "fake-jira",
		Short: "Run the fake Jira site (generated data, users, permissions, webhooks)",
		Long: "Serves a fake Jira Cloud or Data Center site over HTTP with a deterministic generated data set,\n" +
			"the default users admin, alice and bob (token <name>-token), JQL search, writes and webhooks.\n" +
			"Prints the base URL, users and tokens, then serves until interrupted.\n\n" +
			"To see how a client copes with a slow or strict Jira: --latency and --jitter delay every\n" +
			"answer, --rate-limit answers 429 with Retry-After past that many requests a second per\n" +
			"endpoint (--burst at once), --down refuses everything with 503.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dialect != "cloud" && dialect != "datacenter" {
				return usageError(fmt.Errorf("--dialect must be cloud or datacenter, not %q", dialect))
			}
			if issues < 0 {
				return usageError(fmt.Errorf("--issues must not be negative"))
			}
			if err := faults.check(); err != nil {
				return usageError(err)
			}
			opts := jiratest.Options{Dialect: dialect, Issues: issues, Seed: seed}
			if users != "" {
				data, err := os.ReadFile(users)
				if err != nil {
					return fmt.Errorf("fake-jira: %w", err)
				}
				if opts.Users, err = jiratest.LoadUsers(data); err != nil {
					return usageError(fmt.Errorf("fake-jira: %s: %w", users, err))
				}
			}
			return runFakeJira(cmd.Context(), g, addr, opts, faults)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8089", "address to listen on")
	f.IntVar(&issues, "issues", 5000, "number of generated issues")
	f.Int64Var(&seed, "seed", 1, "seed of the generated data set (same seed and size, same data)")
	f.StringVar(&dialect, "dialect", "cloud", "the fake site's dialect: cloud or datacenter")
	f.StringVar(&users, "users", "", "a YAML file of extra users (name, email, token, projects, groups, admin, security_levels, read_only)")
	f.DurationVar(&faults.latency, "latency", 0, "delay every answer by this much (e.g. 150ms)")
	f.DurationVar(&faults.jitter, "jitter", 0, "and by up to this much more, at random")
	f.Float64Var(&faults.rate, "rate-limit", 0, "requests a second per endpoint before 429s with Retry-After (0: no limit)")
	f.IntVar(&faults.burst, "burst", 0, "requests at once per endpoint under --rate-limit (default: the rate, at least 1)")
	f.BoolVar(&faults.down, "down", false, "refuse every request with 503, as a site in an outage")
	return cmd
}

// fakeFaults are the steady faults fake-jira can serve with.
type fakeFaults struct {
	latency, jitter time.Duration
	rate            float64
	burst           int
	down            bool
}

func (f fakeFaults) check() error {
	switch {
	case f.latency < 0 || f.jitter < 0:
		return errors.New("--latency and --jitter must not be negative")
	case f.rate < 0 || f.burst < 0:
		return errors.New("--rate-limit and --burst must not be negative")
	case f.burst > 0 && f.rate == 0:
		return errors.New("--burst needs --rate-limit")
	}
	return nil
}

func (f fakeFaults) apply(to *jiratest.Faults) {
	to.SetLatency(f.latency, f.jitter)
	if f.rate > 0 {
		burst := f.burst
		if burst == 0 {
			burst = max(int(f.rate), 1)
		}
		to.SetRateLimit(jiratest.RateLimit{Burst: burst, PerSecond: f.rate})
	}
	to.SetDown(f.down, false)
}

// describe says what faults are on, for the banner ("" for none).
func (f fakeFaults) describe() string {
	var on []string
	if f.latency > 0 || f.jitter > 0 {
		on = append(on, fmt.Sprintf("latency %v+%v", f.latency, f.jitter))
	}
	if f.rate > 0 {
		on = append(on, fmt.Sprintf("rate limit %g/s per endpoint", f.rate))
	}
	if f.down {
		on = append(on, "down (503)")
	}
	return strings.Join(on, ", ")
}

func runFakeJira(ctx context.Context, g *globals, addr string, opts jiratest.Options, faults fakeFaults) error {
	site, err := jiratest.New(opts)
	if err != nil {
		return fmt.Errorf("fake-jira: %w", err)
	}
	faults.apply(site.Faults())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake-jira: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: site, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	printFakeJira(g, base, site)
	if d := faults.describe(); d != "" {
		fmt.Fprintf(g.stdout, "Faults: %s\n", d)
	}

	select {
	case err := <-served:
		return fmt.Errorf("fake-jira: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("fake-jira: shut down: %w", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("fake-jira: serve: %w", err)
	}
	site.Close()
	fmt.Fprintln(g.stderr, "fake-jira: stopped")
	return nil
}

func printFakeJira(g *globals, base string, site *jiratest.Site) {
	fmt.Fprintf(g.stdout, "Fake Jira (%s) at %s\n", site.Dialect(), base)
	if site.Dialect() == "cloud" {
		fmt.Fprintln(g.stdout, "Auth: Basic <email>:<token>")
	} else {
		fmt.Fprintln(g.stdout, "Auth: Bearer <token>")
	}
	tw := tabwriter.NewWriter(g.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tEMAIL\tTOKEN\tACCOUNT ID\tPROJECTS")
	for _, u := range site.Users() {
		projects := strings.Join(u.Projects, ",")
		if u.Admin {
			projects = "all (admin)"
		}
		if u.ReadOnly {
			// Browses them, but every write is refused: say so, or a client's failing
			// edits look like a fault of the site.
			projects += " (read-only)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Email, u.Token, u.AccountID, projects)
	}
	_ = tw.Flush() // stdout failures surface on the next write anyway
}
