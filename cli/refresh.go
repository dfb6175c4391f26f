package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"foundation/jira"
	"foundation/refresh"
	"foundation/store"
)

type refreshFlags struct {
	full, reconcile, json, quiet bool
	timeout                      time.Duration
}

func newRefreshCmd(g *globals) *cobra.Command {
	var f refreshFlags
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Bring the site's cache up to date with Jira (headless)",
		Long: `Refresh the cache of a site profile from Jira.

Without flags it runs a full sync the first time (or resumes an interrupted one) and an
incremental poll afterwards. --full walks the whole scope again and then removes what
left it; --reconcile also removes deleted issues after a poll. Then Lens JQL only Jira
can answer is asked of Jira, for the Lenses this profile may open; a query Jira refuses
is noted on its Lens (and here), not a failure of the refresh.

--json prints a summary on stdout, on failure too (with "error"); "partial" is true
exactly when the exit code is 3.

Exit codes: 0 ok, 1 error, 3 partial (stopped by anything after some pages were
committed; rerun to resume; or synced, but the permissions check or the remote Lens
queries could not reach Jira), 4 authentication or permission, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRefresh(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.full, "full", false, "walk the whole scope, then remove what left it")
	fl.BoolVar(&f.reconcile, "reconcile", false, "after the sync, remove cached issues deleted in Jira or gone from the scope")
	fl.BoolVar(&f.json, "json", false, "print a JSON summary on stdout")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	fl.DurationVar(&f.timeout, "timeout", 0, "stop after this long, keeping what was committed (exit 3)")
	return cmd
}

func runRefresh(ctx context.Context, g *globals, f refreshFlags) error {
	if f.timeout < 0 {
		return usageError(fmt.Errorf("--timeout %s: must not be negative", f.timeout))
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	total, err := refreshSite(ctx, g, f)
	if f.json {
		// Written last, and on failure too, so that it agrees with the exit code and a
		// script need not parse stderr.
		if total.Site == "" {
			total.Site = g.site
		}
		if jerr := writeSummary(g.stdout, total, err); jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}

// refreshSite runs the refresh and returns its summary with the error that ends the
// command, exit code included.
func refreshSite(ctx context.Context, g *globals, f refreshFlags) (refresh.Summary, error) {
	prog := newProgress(g.stderr, f.quiet)
	cfg, _, err := g.loadConfig()
	if err != nil {
		return refresh.Summary{}, err
	}
	site, err := g.pickSite(cfg)
	if err != nil {
		return refresh.Summary{}, err
	}
	// The profile is known from here on, so a failure to reach Jira still names it (and
	// the mode, when the flags decide it) in the --json summary.
	none := refresh.Summary{Site: site.Name}
	if f.full {
		none.Mode = refresh.ModeFull
	}
	start := time.Now()
	var retries atomic.Int64 // the client's events may come from several requests at once
	client, err := g.connectSite(ctx, site, func(o *jira.Options) {
		o.OnEvent = func(ev jira.Event) {
			if ev.Kind == jira.EventRetry || ev.Kind == jira.EventRateLimited {
				retries.Add(1)
			}
			prog.event(ev)
		}
	})
	if err != nil {
		// What reaching Jira cost before it failed (detecting the dialect), as the summary
		// of a run that got further counts its own.
		none.Duration, none.Retries = time.Since(start), retries.Load()
		if talkedToJira(err) {
			none.Requests = none.Retries + 1
		}
		return none, err
	}
	db, err := openCache(ctx, site)
	if err != nil {
		return none, err
	}
	defer db.Close()
	eng, err := refresh.New(client, db, refresh.Options{Site: site.Name, Scope: site.Scope, Progress: prog.update})
	if err != nil {
		return none, usageError(err)
	}
	// Webhook deliveries journaled while no listener was applying them go first: they
	// are newer than the cache, and the poll below may then fetch less.
	if rs, rerr := eng.ReplayJournal(ctx); rerr != nil {
		fmt.Fprintf(g.stderr, "warning: webhook journal not fully applied (it is kept for the next run): %v\n", rerr)
	} else if !f.quiet && rs.Applied+rs.Quarantined > 0 {
		fmt.Fprintf(g.stderr, "webhook journal: %d entries applied, %d quarantined\n", rs.Applied, rs.Quarantined)
	}

	var sums []refresh.Summary
	step := func(fn func(context.Context) (refresh.Summary, error)) error {
		s, err := fn(ctx)
		sums = append(sums, s)
		prog.done(s, err)
		return err
	}
	switch {
	case f.full:
		err = step(eng.Full)
	default:
		err = step(eng.Auto)
	}
	if err == nil && (f.full || f.reconcile) {
		err = step(eng.Reconcile)
	}
	total := combine(sums)
	if err != nil {
		err = refreshError(ctx, site.Name, total, sums[len(sums)-1].Mode, err)
		total.Partial = exitCode(err) == ExitPartial
		return total, err
	}
	// Who the profile is decides which Lenses' remote queries it runs and what it may
	// browse. Synced, but that unknown: partial, unless Jira refused the credentials
	// (exit 4 through the error's type).
	partial := func(err error) (refresh.Summary, error) {
		if exitCode(err) == ExitAuth {
			return total, err
		}
		total.Partial = true
		return total, withCode(ExitPartial, err)
	}
	v, err := refresh.ResolveViewer(ctx, client, db, site.Name)
	if err != nil {
		return partial(fmt.Errorf("refresh of %s: synced, but who the profile is could not be checked; rows stay hidden until it is: %w", site.Name, err))
	}
	// Lens JQL that only Jira can answer (membersOf() and the like) gets its members now,
	// for the Lenses this profile may open. A query Jira refuses is noted on its Lens.
	rs, err := refresh.FetchRemoteMembers(ctx, client, db, site.Scope, v)
	if err != nil {
		return partial(fmt.Errorf("refresh of %s: synced, but remote Lens queries could not be asked: %w", site.Name, err))
	}
	if !f.quiet {
		for _, r := range rs.Refused {
			fmt.Fprintf(g.stderr, "note: lens %q: Jira refused its JQL %q (%s); the Lens shows this instead of its members\n", r.Lens, r.JQL, r.Reason)
		}
		if rs.Answered > 0 {
			fmt.Fprintf(g.stderr, "remote Lens queries: %d answered by Jira\n", rs.Answered)
		}
	}
	if err := checkPermissions(ctx, g, client, db, v, site.Name, site.PermissionTTL, f.quiet); err != nil {
		return partial(err)
	}
	return total, nil
}

// checkPermissions rechecks what Jira lets the profile's identity v browse, so the cache
// shows it no more than that (fail closed: until a check succeeds, rows whose grants
// expired stay hidden).
func checkPermissions(ctx context.Context, g *globals, client *jira.Client, db *store.DB, v refresh.Viewer, profile string, ttl time.Duration, quiet bool) error {
	st, err := refresh.CheckGrants(ctx, client, db, v, ttl)
	if err != nil {
		return fmt.Errorf("refresh of %s: synced, but the permissions of %s could not be checked; rows whose grants expired stay hidden: %w", profile, v.User, err)
	}
	if !quiet {
		fmt.Fprintf(g.stderr, "permissions of %s: %d projects and %d secured issues checked, %d granted, %d denied\n",
			v.User, st.Projects, st.Issues, st.Granted, st.Denied)
	}
	return nil
}

// refreshError gives a failed refresh its exit code and a message that says what to do.
// Whatever stopped it, a run that committed something is partial (exit 3): the cache is
// consistent and the next run resumes. Only refused credentials or permission keep their
// own code (4), since running again cannot help.
func refreshError(ctx context.Context, site string, s refresh.Summary, failed refresh.Mode, err error) error {
	if err == nil {
		return nil
	}
	interrupted := ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	committed := s.Fetched > 0 || s.Deleted > 0
	// Stopped by the user (ctrl+c, SIGTERM): say so, rather than Go's "context canceled".
	if errors.Is(ctx.Err(), context.Canceled) || (ctx.Err() == nil && errors.Is(err, context.Canceled)) {
		switch {
		case committed && failed == refresh.ModeReconcile:
			return withCode(ExitPartial, fmt.Errorf("refresh of %s: synced (%d issues committed), but the reconcile was interrupted and removed nothing; run it again with --reconcile", site, s.Fetched))
		case committed:
			return withCode(ExitPartial, fmt.Errorf("refresh of %s interrupted after committing %d issues; run it again to resume", site, s.Fetched))
		}
		return withCode(ExitInterrupted, fmt.Errorf("refresh of %s interrupted before anything was committed", site))
	}
	switch {
	case committed && exitCode(err) == ExitAuth:
		return fmt.Errorf("refresh of %s stopped after committing %d issues: %w", site, s.Fetched, err)
	case committed && failed == refresh.ModeReconcile:
		return withCode(ExitPartial, fmt.Errorf("refresh of %s: synced (%d issues committed), but the reconcile failed and removed nothing; run it again with --reconcile: %w", site, s.Fetched, err))
	case committed:
		return withCode(ExitPartial, fmt.Errorf("refresh of %s stopped after committing %d issues; run it again to resume: %w", site, s.Fetched, err))
	}
	if interrupted {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Nothing was committed, so this is not a partial result: a plain failure.
			return fmt.Errorf("refresh of %s timed out before the first page was committed (raise --timeout): %w", site, err)
		}
		return withCode(ExitInterrupted, fmt.Errorf("refresh of %s interrupted: %w", site, err))
	}
	var apiErr *jira.APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest && strings.Contains(apiErr.Path, "/search") {
		return fmt.Errorf("refresh of %s: Jira refuses the profile's scope (sites.%s.scope): %w", site, site, err)
	}
	var gone *jira.GoneError
	if errors.As(err, &gone) {
		return fmt.Errorf("refresh of %s: Jira removed an endpoint this request used (is the dialect right? set `dialect: cloud`): %w", site, err)
	}
	return fmt.Errorf("refresh of %s: %w", site, err)
}

// combine adds the runs of one command into one summary.
func combine(sums []refresh.Summary) refresh.Summary {
	var t refresh.Summary
	var modes []string
	for _, s := range sums {
		t.Site = s.Site
		modes = append(modes, string(s.Mode))
		t.Fetched += s.Fetched
		t.Scanned += s.Scanned
		t.Inserted += s.Inserted
		t.Updated += s.Updated
		t.Deleted += s.Deleted
		t.Requests += s.Requests
		t.Retries += s.Retries
		t.Waits += s.Waits
		t.Duration += s.Duration
		if s.Watermark.After(t.Watermark) {
			t.Watermark = s.Watermark
		}
	}
	t.Mode = refresh.Mode(strings.Join(modes, "+"))
	return t
}

// writeSummary prints the --json summary. The watermark is left out while there is none
// (a first full sync that has not finished), and error carries the message of a failed run.
func writeSummary(w io.Writer, s refresh.Summary, runErr error) error {
	out := struct {
		refresh.Summary
		Duration  string     `json:"duration"`
		Watermark *time.Time `json:"watermark,omitempty"`
		Error     string     `json:"error,omitempty"`
	}{Summary: s, Duration: s.Duration.Round(time.Millisecond).String()}
	if !s.Watermark.IsZero() {
		out.Watermark = &s.Watermark
	}
	if runErr != nil {
		out.Error = runErr.Error()
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// progress shows a refresh on stderr: a bar redrawn in place on a terminal, plain lines
// otherwise, nothing with --quiet.
type progress struct {
	w     io.Writer
	quiet bool
	tty   bool

	mu        sync.Mutex // retries and waits are reported from the fetching goroutines
	last      time.Time
	drawn     bool
	lastPage  int
	nearUntil time.Time // near-limit slowdown already reported until then
	lastWait  time.Time // when a wait was last reported
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet}
	if f, ok := w.(*os.File); ok {
		p.tty = term.IsTerminal(f.Fd())
	}
	return p
}

func (p *progress) update(pr refresh.Progress) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) < 80*time.Millisecond {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "\r\x1b[K%s %s", pr.Mode, bar(pr.Issues, pr.Total))
		fmt.Fprintf(p.w, "  %d pages  %d requests", pr.Pages, pr.Requests)
		if pr.Retries > 0 || pr.Waits > 0 {
			fmt.Fprintf(p.w, "  %d retries  %d rate-limit waits", pr.Retries, pr.Waits)
		}
		p.drawn = true
		return
	}
	// Plain lines: one every 10 pages, enough to follow a log without flooding it.
	if pr.Pages-p.lastPage < 10 && pr.Pages != 1 {
		return
	}
	p.lastPage = pr.Pages
	if pr.Mode == refresh.ModeReconcile {
		fmt.Fprintf(p.w, "%s: %d ids scanned, %d pages, %d requests\n", pr.Mode, pr.Issues, pr.Pages, pr.Requests)
		return
	}
	total := "?"
	if pr.Total >= 0 {
		total = fmt.Sprint(pr.Total)
	}
	fmt.Fprintf(p.w, "%s: %d/%s issues, %d pages, %d requests\n", pr.Mode, pr.Issues, total, pr.Pages, pr.Requests)
}

// event reports retries and rate-limit waits as they happen: what happened and how long
// the client waits. Jira's "near the limit" flag comes on every answer while it holds, so
// the slowdown it causes is reported once per slowdown, and waits at most once a second
// (the summary counts them all).
func (p *progress) event(ev jira.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	var msg string
	switch ev.Kind {
	case jira.EventRetry:
		msg = fmt.Sprintf("retrying %s %s in %s (attempt %d: %s)", ev.Method, ev.Path, waitText(ev.Wait), ev.Attempt, ev.Reason())
	case jira.EventNearLimit:
		if now.Before(p.nearUntil) {
			return
		}
		p.nearUntil = now.Add(10 * time.Second)
		msg = fmt.Sprintf("near Jira's rate limit (%s %s): slowing down", ev.Method, ev.Path)
	default:
		if now.Sub(p.lastWait) < time.Second {
			return
		}
		p.lastWait = now
		what := "rate limited"
		if ev.Kind == jira.EventQuotaWait {
			what = "rate-limit quota used up"
		}
		msg = fmt.Sprintf("%s (%s %s, %s): waiting %s", what, ev.Method, ev.Path, ev.Reason(), waitText(ev.Wait))
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", msg)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, msg)
}

// waitText shows a wait as a person reads it: milliseconds below a tenth of a second,
// tenths below a minute (0.4s, 2.5s, 1s), whole seconds above.
func waitText(d time.Duration) string {
	if d < 100*time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	if d < time.Minute {
		return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', -1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

func (p *progress) done(s refresh.Summary, err error) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	state := "done"
	if err != nil {
		state = "stopped"
	}
	if s.Mode == refresh.ModeReconcile {
		fmt.Fprintf(p.w, "%s %s: %d ids scanned, %d deleted, %d requests in %s\n",
			s.Mode, state, s.Scanned, s.Deleted, s.Requests, s.Duration.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(p.w, "%s %s: %d fetched, %d new, %d updated, %d deleted, %d requests in %s\n",
		s.Mode, state, s.Fetched, s.Inserted, s.Updated, s.Deleted, s.Requests, s.Duration.Round(time.Millisecond))
}

func bar(n, total int) string {
	const width = 30
	if total <= 0 {
		return fmt.Sprintf("%d issues", n)
	}
	fill := min(width, n*width/total)
	return fmt.Sprintf("[%s%s] %d/%d issues", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), n, total)
}

// talkedToJira reports whether err came from a request to Jira (an answer, or none in
// time, or a connection that failed) rather than from before any (a missing token).
func talkedToJira(err error) bool {
	var api *jira.APIError
	var timeout *jira.TimeoutError
	var ne net.Error
	var op *net.OpError
	return errors.As(err, &api) || errors.As(err, &timeout) || errors.As(err, &ne) || errors.As(err, &op)
}
