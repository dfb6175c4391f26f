package cli

// webhook.go holds `foundation webhook listen|replay|status`: the endpoint Jira's admin
// webhooks deliver to, replay of the journal (and of deliveries captured elsewhere), and
// what the journal holds.

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"foundation/config"
	"foundation/jira"
	"foundation/refresh"
	"foundation/store"
)

func newWebhookCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Receive Jira webhooks into the cache: listen, replay, status",
		Long: `Jira's admin webhooks keep the cache fresh between polls. "webhook listen" receives them,
journals each delivery durably in the site's cache before acknowledging it, and applies the
journal to the cache. "webhook replay" applies what is pending (or imports captured
deliveries), and "webhook status" shows the journal.`,
	}
	cmd.AddCommand(newWebhookListenCmd(g), newWebhookReplayCmd(g), newWebhookStatusCmd(g))
	return cmd
}

type webhookListenFlags struct {
	addr, tlsCert, tlsKey string
	verbose               bool
	summaryEvery          time.Duration
	maxBody               int64
}

func newWebhookListenCmd(g *globals) *cobra.Command {
	var f webhookListenFlags
	cmd := &cobra.Command{
		Use:   "listen --addr ADDR [--tls-cert FILE --tls-key FILE] [--verbose]",
		Short: "Receive Jira webhook deliveries and apply them to the cache",
		Long: `Listen for Jira's admin-webhook deliveries on ADDR (any path). When the profile has a webhook
secret (sites.<name>.webhook), deliveries must carry a valid X-Hub-Signature; otherwise they are
refused with 401. Each accepted delivery is journaled durably in the site's cache before it is
acknowledged (503 when it cannot be, so Jira retries), then applied to the cache.

SIGINT or SIGTERM stops it cleanly: requests in flight are answered, and everything journaled is
applied (or left pending for the next start, refresh or TUI).`,
		Example: "  foundation webhook listen --addr :8443 --tls-cert cert.pem --tls-key key.pem\n" +
			"  foundation webhook listen --site acme --addr 127.0.0.1:9000 --verbose",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWebhookListen(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "", "address to listen on, e.g. :8443 or 127.0.0.1:9000 (required)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM); needs --tls-key")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	fl.BoolVar(&f.verbose, "verbose", false, "print one line per delivery on stderr")
	fl.DurationVar(&f.summaryEvery, "summary-every", time.Minute, "without --verbose, print a summary this often when something happened")
	fl.Int64Var(&f.maxBody, "max-body", refresh.DefaultMaxBody, "largest delivery accepted, in bytes (413 above)")
	_ = cmd.MarkFlagRequired("addr")
	return cmd
}

// lockedWriter serializes lines written by concurrent request handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// webhookSecret reads the profile's webhook secret; none configured is not an error.
func webhookSecret(ctx context.Context, site *config.Site) ([]byte, error) {
	s, err := site.WebhookSecret(ctx)
	if errors.Is(err, config.ErrNotConfigured) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", site.Name, err)
	}
	return []byte(s), nil
}

func runWebhookListen(ctx context.Context, g *globals, f webhookListenFlags) error {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError(errors.New("--tls-cert and --tls-key go together"))
	}
	if f.maxBody <= 0 {
		return usageError(fmt.Errorf("--max-body %d: must be positive", f.maxBody))
	}
	if f.tlsCert != "" {
		// Checked before listening: a missing or mismatched file is a mistake to report
		// alone, not after announcing an address that never serves.
		if _, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey); err != nil {
			return fmt.Errorf("webhook listen: TLS certificate: %w", err)
		}
	}
	cfg, site, db, err := g.profileCache(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, err := webhookSecret(ctx, site)
	if err != nil {
		return err
	}
	out := &lockedWriter{w: g.stderr}
	client, err := webhookClient(ctx, g, cfg, db)
	if err != nil {
		return err
	}
	if client == nil {
		out.printf("Jira is unreachable and the site's dialect is not known yet: deliveries are journaled and applied, those needing a re-read from Jira wait for the next listen, refresh or TUI start\n")
	}
	l := refresh.NewListener(db, refresh.ListenerOptions{
		Secret:  secret,
		MaxBody: f.maxBody,
		OnDelivery: func(d refresh.Delivery) {
			// Refusals and failures are always worth a line (a misconfigured secret, a
			// proxy mangling bodies, a full disk); acknowledgements only with --verbose.
			if f.verbose || d.Status >= 300 {
				out.printf("%s\n", deliveryLine(d))
			}
		},
	})
	applier := refresh.NewApplier(client, db, refresh.ApplyOptions{Scope: site.Scope})
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("webhook listen: %w", err)
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	check := "signatures checked"
	if len(secret) == 0 {
		check = "NO secret configured: deliveries are not authenticated (set sites." + site.Name + ".webhook)"
	}
	out.printf("listening on %s://%s for site %s; %s\n", scheme, ln.Addr(), site.Name, check)

	var applied refresh.ApplyStats
	var amu sync.Mutex
	summaryCtx, stopSummary := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if !f.verbose && f.summaryEvery > 0 {
		wg.Go(func() {
			t := time.NewTicker(f.summaryEvery)
			defer t.Stop()
			var last refresh.ListenerStats
			for {
				select {
				case <-summaryCtx.Done():
					return
				case <-t.C:
					if s := l.Stats(); s != last {
						last = s
						amu.Lock()
						a := applied
						amu.Unlock()
						out.printf("%s\n", listenSummary(s, a))
					}
				}
			}
		})
	}
	err = refresh.Serve(ctx, ln, l, applier, refresh.ServeOptions{
		TLSCert: f.tlsCert, TLSKey: f.tlsKey,
		OnApply: func(st refresh.ApplyStats, err error) {
			amu.Lock()
			applied.Add(st)
			amu.Unlock()
			if err != nil {
				out.printf("apply: %v (entries stay journaled; retrying)\n", err)
			} else if f.verbose {
				out.printf("applied %d entries (%d quarantined, %d issues re-read)\n", st.Applied, st.Quarantined, st.Fetched)
			}
		},
	})
	stopSummary()
	wg.Wait()
	amu.Lock()
	a := applied
	amu.Unlock()
	out.printf("stopped: %s\n", listenSummary(l.Stats(), a))
	if js, jerr := db.JournalStats(context.WithoutCancel(ctx)); jerr == nil && js.Pending > 0 {
		out.printf("%d journal entries still pending: they are applied by the next listen, refresh or TUI start\n", js.Pending)
	}
	return err
}

func deliveryLine(d refresh.Delivery) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d", d.At.UTC().Format(time.RFC3339), d.Status)
	if d.Event != "" {
		fmt.Fprintf(&b, " %s", d.Event)
	}
	if d.Identifier != "" {
		fmt.Fprintf(&b, " id=%s", d.Identifier)
	}
	if d.Seq != 0 {
		fmt.Fprintf(&b, " seq=%d", d.Seq)
	}
	if d.Retry > 0 {
		fmt.Fprintf(&b, " retry=%d", d.Retry)
	}
	if d.Duplicate {
		b.WriteString(" duplicate")
	}
	fmt.Fprintf(&b, " %dB", d.Bytes)
	if d.Reason != "" {
		fmt.Fprintf(&b, ": %s", d.Reason)
	}
	return b.String()
}

func listenSummary(s refresh.ListenerStats, a refresh.ApplyStats) string {
	return fmt.Sprintf("%d received, %d journaled, %d duplicates, %d refused, %d failed; %d applied, %d quarantined",
		s.Received, s.Journaled, s.Duplicates, s.Rejected, s.Failed, a.Applied, a.Quarantined)
}

type webhookReplayFlags struct {
	file             string
	retryQuarantined bool
	unsigned         bool
	json             bool
}

func newWebhookReplayCmd(g *globals) *cobra.Command {
	var f webhookReplayFlags
	cmd := &cobra.Command{
		Use:   "replay [--file F.jsonl] [--retry-quarantined]",
		Short: "Apply the pending webhook journal, optionally importing captured deliveries first",
		Long: `Apply every pending journal entry to the cache, re-reading issues from Jira where a payload
is not enough. --file imports deliveries captured elsewhere first, one JSON per line: a webhook
body as Jira sent it, or {"headers": {...}, "body": {...}}. Deliveries already journaled (same
X-Atlassian-Webhook-Identifier, or the same body without one) are skipped. When the profile has
a webhook secret, lines are checked as "listen" checks deliveries: a line without an
X-Hub-Signature, or whose signature does not match, is refused (--unsigned takes lines without
one, for a capture that kept bodies only). --retry-quarantined puts quarantined entries back in
the queue first.

Jira need not be reachable: what needs a re-read from Jira stays pending for the next replay,
listen, refresh or TUI start.

Exit codes: 0 ok, 3 when lines were refused or entries quarantined, 1 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWebhookReplay(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.file, "file", "", "import deliveries from this JSON-lines file first (- for stdin)")
	fl.BoolVar(&f.retryQuarantined, "retry-quarantined", false, "requeue quarantined entries before applying")
	fl.BoolVar(&f.unsigned, "unsigned", false, "with --file, take lines without an X-Hub-Signature although the profile has a webhook secret")
	fl.BoolVar(&f.json, "json", false, "print a JSON summary on stdout")
	return cmd
}

// webhookClient builds the profile's Jira client without asking Jira when the dialect is
// known (configured, or remembered in the cache): listening and journaling need no Jira,
// and replay applies what needs no re-read. When the dialect is unknown and Jira cannot be
// reached, it returns a nil client (the applier then defers entries that need Jira).
func webhookClient(ctx context.Context, g *globals, cfg *config.Config, db *store.DB) (*jira.Client, error) {
	client, err := g.connectCached(ctx, cfg, db)
	if err != nil && isNetworkError(err) {
		return nil, nil
	}
	return client, err
}

// jiraReachable asks Jira once, without retries and briefly, whether it answers at all.
func jiraReachable(ctx context.Context, g *globals, cfg *config.Config, db *store.DB) bool {
	probe, err := g.connectCached(ctx, cfg, db, func(o *jira.Options) { o.MaxRetries = -1 })
	if err != nil {
		return !isNetworkError(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = probe.ServerInfo(pctx)
	return err == nil || !(isNetworkError(err) || errors.Is(err, context.DeadlineExceeded))
}

func runWebhookReplay(ctx context.Context, g *globals, f webhookReplayFlags) error {
	cfg, site, db, err := g.profileCache(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	client, err := webhookClient(ctx, g, cfg, db)
	if err != nil {
		return err
	}
	if client != nil && !jiraReachable(ctx, g, cfg, db) {
		client = nil // not worth the client's retries: what needs Jira waits for the next run
	}
	var out struct {
		Import    *refresh.ImportStats `json:"import,omitempty"`
		Requeued  int                  `json:"requeued"`
		Apply     refresh.ApplyStats   `json:"apply"`
		Remaining store.JournalStats   `json:"-"`
		Pending   int64                `json:"pending"`
	}
	if f.file != "" {
		secret, err := webhookSecret(ctx, site)
		if err != nil {
			return err
		}
		var r io.Reader = g.stdin
		if f.file != "-" {
			fh, err := os.Open(f.file)
			if err != nil {
				return fmt.Errorf("webhook replay: %w", err)
			}
			defer fh.Close()
			r = fh
		}
		st, err := refresh.ImportDeliveries(ctx, db, r, refresh.ImportOptions{Secret: secret, Unsigned: f.unsigned})
		out.Import = &st
		for _, le := range st.Refused {
			fmt.Fprintf(g.stderr, "%s:%d: refused: %s\n", f.file, le.Line, le.Reason)
		}
		if err != nil {
			return fmt.Errorf("webhook replay %s: %w", f.file, err)
		}
		fmt.Fprintf(g.stderr, "imported %s: %d lines, %d new deliveries, %d already journaled, %d refused\n",
			f.file, st.Lines, st.Journaled, st.Duplicates, len(st.Refused))
	}
	if f.retryQuarantined {
		for {
			q, err := db.Journal(ctx, store.JournalQuarantined, 1000)
			if err != nil {
				return err
			}
			if len(q) == 0 {
				break
			}
			for _, e := range q {
				if err := db.Requeue(ctx, e.Seq); err != nil {
					return err
				}
				out.Requeued++
			}
		}
	}
	applier := refresh.NewApplier(client, db, refresh.ApplyOptions{Scope: site.Scope})
	out.Apply, err = applier.ApplyPending(ctx)
	if client == nil || (err != nil && isNetworkError(err)) {
		// Jira is out of reach: apply what needs no re-read, and leave the rest pending.
		if client != nil {
			fmt.Fprintf(g.stderr, "replay: Jira unreachable (%v): applying what needs no re-read\n", err)
			st, oerr := refresh.NewApplier(nil, db, refresh.ApplyOptions{Scope: site.Scope}).ApplyPending(ctx)
			out.Apply.Add(st)
			out.Apply.Deferred = st.Deferred
			err = oerr
		} else {
			fmt.Fprintln(g.stderr, "replay: Jira unreachable: applying what needs no re-read")
		}
	}
	if js, jerr := db.JournalStats(context.WithoutCancel(ctx)); jerr == nil {
		out.Pending = js.Pending
	}
	fmt.Fprintf(g.stderr, "replay: %d applied, %d quarantined, %d issues re-read, %d still pending\n",
		out.Apply.Applied, out.Apply.Quarantined, out.Apply.Fetched, out.Pending)
	if f.json {
		b, jerr := json.MarshalIndent(out, "", "  ")
		if jerr != nil {
			return jerr
		}
		fmt.Fprintf(g.stdout, "%s\n", b)
	}
	if err != nil {
		return fmt.Errorf("webhook replay of %s: %w", site.Name, err)
	}
	if out.Apply.Quarantined > 0 || (out.Import != nil && len(out.Import.Refused) > 0) {
		return withCode(ExitPartial, fmt.Errorf("webhook replay of %s: some deliveries were refused or quarantined; see `foundation webhook status`", site.Name))
	}
	return nil
}

func newWebhookStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show the webhook journal: backlog, last delivery, quarantined entries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWebhookStatus(cmd.Context(), g, asJSON, limit)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON on stdout")
	cmd.Flags().IntVar(&limit, "limit", 50, "show at most this many quarantined entries")
	return cmd
}

// statusEntry is one journal entry as `webhook status` shows it: no body, no headers.
type statusEntry struct {
	Seq         int64      `json:"seq"`
	Identifier  string     `json:"identifier"`
	Event       string     `json:"event"`
	EventTime   time.Time  `json:"event_time"`
	ReceivedAt  time.Time  `json:"received_at"`
	Retry       int        `json:"retry"`
	AppliedAt   *time.Time `json:"applied_at,omitempty"`
	Quarantined string     `json:"quarantined,omitempty"`
}

func toStatusEntry(e store.JournalEntry) statusEntry {
	s := statusEntry{Seq: e.Seq, Identifier: e.Identifier, Event: e.Event, EventTime: e.EventTime, ReceivedAt: e.ReceivedAt, Retry: e.Retry, Quarantined: e.Quarantined}
	if !e.AppliedAt.IsZero() {
		t := e.AppliedAt
		s.AppliedAt = &t
	}
	return s
}

type webhookStatus struct {
	Site          string        `json:"site"`
	Cache         string        `json:"cache"`
	Total         int64         `json:"total"`
	Pending       int64         `json:"pending"`
	Applied       int64         `json:"applied"`
	Quarantined   int64         `json:"quarantined"`
	OldestPending *time.Time    `json:"oldest_pending,omitempty"`
	LastDelivery  *statusEntry  `json:"last_delivery,omitempty"`
	Quarantine    []statusEntry `json:"quarantined_entries"`
}

func runWebhookStatus(ctx context.Context, g *globals, asJSON bool, limit int) error {
	_, site, db, err := g.profileCache(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	js, err := db.JournalStats(ctx)
	if err != nil {
		return err
	}
	st := webhookStatus{Site: site.Name, Cache: db.Path(), Total: js.Total, Pending: js.Pending, Applied: js.Applied, Quarantined: js.Quarantined, Quarantine: []statusEntry{}}
	if !js.OldestPending.IsZero() {
		t := js.OldestPending
		st.OldestPending = &t
	}
	last, err := db.Journal(ctx, store.JournalAll, 1)
	if err != nil {
		return err
	}
	if len(last) > 0 {
		e := toStatusEntry(last[0])
		st.LastDelivery = &e
	}
	if limit <= 0 {
		limit = 50
	}
	q, err := db.Journal(ctx, store.JournalQuarantined, limit)
	if err != nil {
		return err
	}
	for _, e := range q {
		st.Quarantine = append(st.Quarantine, toStatusEntry(e))
	}
	if asJSON {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(g.stdout, "%s\n", b)
		return err
	}
	w := g.stdout
	fmt.Fprintf(w, "site %s (cache %s)\n", st.Site, st.Cache)
	fmt.Fprintf(w, "journal: %d entries, %d pending, %d applied, %d quarantined\n", st.Total, st.Pending, st.Applied, st.Quarantined)
	if st.OldestPending != nil {
		fmt.Fprintf(w, "oldest pending event: %s\n", st.OldestPending.Format(time.RFC3339))
	}
	if e := st.LastDelivery; e != nil {
		state := "pending"
		switch {
		case e.Quarantined != "":
			state = "quarantined"
		case e.AppliedAt != nil:
			state = "applied"
		}
		fmt.Fprintf(w, "last delivery: %s %s (seq %d, id %s) %s\n", e.ReceivedAt.Format(time.RFC3339), e.Event, e.Seq, e.Identifier, state)
	} else {
		fmt.Fprintln(w, "last delivery: none")
	}
	if len(st.Quarantine) > 0 {
		fmt.Fprintln(w, "quarantined:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  SEQ\tEVENT\tEVENT TIME\tREASON")
		for _, e := range st.Quarantine {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", e.Seq, e.Event, e.EventTime.Format(time.RFC3339), e.Quarantined)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if st.Quarantined > int64(len(st.Quarantine)) {
			fmt.Fprintf(w, "  ... and %d more (--limit)\n", st.Quarantined-int64(len(st.Quarantine)))
		}
		fmt.Fprintln(w, "retry them with: foundation webhook replay --retry-quarantined")
	}
	return nil
}
