package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"foundation/refresh"
	"foundation/store"
)

type auditFlags struct {
	since  string
	issue  string
	action string
	limit  int
	json   bool
}

func newAuditCmd(g *globals) *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log of the site's cache: edits, Lens and ACL changes",
		Long: `Print the audit log of a site profile's cache, newest first: who did what, when, to
which issue or Lens, the value before and after, and the outcome (ok, failed: <message>
or conflict: <message>). It reads the cache only; no request goes to Jira.

Only entries the profile's viewer may see are listed: about issues the viewer may browse
(by the permissions last checked with Jira, as Lenses and exports decide it) and Lenses
the viewer may view. When permissions could not be verified those entries are left out,
a note says which projects, and the exit code is 3 (run refresh first in scripts).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), g, f, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "", "only entries since then: a duration back from now (24h, 7d) or a date (2026-11-01, RFC 3339)")
	fl.StringVar(&f.issue, "issue", "", "only entries about this issue key (or Lens name)")
	fl.StringVar(&f.action, "action", "", "only this action: "+strings.Join(refresh.AuditActions(), ", "))
	fl.IntVar(&f.limit, "limit", 1000, "at most this many entries")
	fl.BoolVar(&f.json, "json", false, "print the entries as JSON")
	return cmd
}

// parseSince reads --since: a Go duration, a number of days ("7d"), a date or an RFC 3339
// time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %s: must not be negative", s)
		}
		return now.Add(-d), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, now.Location()); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (24h, 7d), a date (2026-11-01) or an RFC 3339 time", s)
}

func runAudit(ctx context.Context, g *globals, f auditFlags, now time.Time) error {
	since, err := parseSince(f.since, now)
	if err != nil {
		return usageError(err)
	}
	if f.limit <= 0 {
		return usageError(fmt.Errorf("--limit %d: must be positive", f.limit))
	}
	action := strings.ToLower(strings.TrimSpace(f.action))
	if action != "" && !slices.Contains(refresh.AuditActions(), action) {
		return usageError(fmt.Errorf("--action %q: no such action; the audit log records %s", f.action, strings.Join(refresh.AuditActions(), ", ")))
	}
	e, err := g.openLensEnv(ctx)
	if err != nil {
		return err
	}
	defer e.db.Close()
	target := strings.TrimSpace(f.issue)
	if looksLikeKey(target) {
		target = strings.ToUpper(target)
	}
	// Only what the viewer may see, decided as Lens builds and exports decide it, from the
	// cache alone; --limit counts what is shown.
	entries, st, err := refresh.AuditLog(ctx, e.db, e.viewer, store.AuditFilter{Target: target, Action: action, Since: since, Limit: f.limit}, now)
	if err != nil {
		return err
	}
	for _, n := range st.Notes(now) {
		fmt.Fprintln(g.stderr, "note:", n)
	}
	if f.json {
		err = writeAuditJSON(g.stdout, entries)
	} else {
		err = writeAuditTable(g.stdout, entries, stdoutTerminal(g.stdout))
	}
	if err == nil && st.Degraded() {
		// Fail closed, as export does: entries about issues whose permissions could not be
		// verified were left out; the notes say which projects. Never how many.
		err = withCode(ExitPartial, errors.New("the audit log may be partial: entries about issues whose permissions could not be verified are not shown (run `foundation refresh` when Jira is reachable)"))
	}
	return err
}

// looksLikeKey tells an issue key (abc-12) from a Lens name, so keys match in any case.
func looksLikeKey(s string) bool {
	p, n, ok := strings.Cut(s, "-")
	if !ok || p == "" || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil && !strings.ContainsAny(p, " \t")
}

// auditRow is one entry as --json prints it.
type auditRow struct {
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Target  string          `json:"target"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
	Outcome string          `json:"outcome"`
}

func writeAuditJSON(w io.Writer, entries []store.AuditEntry) error {
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		rows[i] = auditRow{At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, Before: validJSON(e.Before), After: validJSON(e.After), Outcome: e.Outcome}
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// validJSON keeps a stored document only when it parses: one bad row must not make the
// whole listing fail to encode.
func validJSON(b json.RawMessage) json.RawMessage {
	if len(b) == 0 || !json.Valid(b) {
		return nil
	}
	return b
}

// change renders an entry's before and after: "field: old -> new" for edits, the documents
// themselves otherwise.
func change(e store.AuditEntry) string {
	var before, after struct {
		Field string  `json:"field"`
		Value *string `json:"value"`
	}
	if json.Unmarshal(e.Before, &before) == nil && json.Unmarshal(e.After, &after) == nil && after.Field != "" && after.Value != nil {
		old := ""
		if before.Value != nil {
			old = *before.Value
		}
		return fmt.Sprintf("%s: %s -> %s", after.Field, show(old), show(*after.Value))
	}
	var parts []string
	if len(e.Before) > 0 {
		parts = append(parts, "before "+oneLine(string(e.Before)))
	}
	if len(e.After) > 0 {
		parts = append(parts, "after "+oneLine(string(e.After)))
	}
	return strings.Join(parts, "; ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:117]) + "..."
	}
	return s
}

// writeAuditTable prints aligned columns for a person, tab-separated values for a script.
func writeAuditTable(w io.Writer, entries []store.AuditEntry, human bool) error {
	out := w
	var tw *tabwriter.Writer
	if human {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		out = tw
	}
	fmt.Fprintln(out, "AT\tACTOR\tACTION\tTARGET\tCHANGE\tOUTCOME")
	for _, e := range entries {
		fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Target,
			strings.ReplaceAll(change(e), "\t", " "), strings.ReplaceAll(oneLine(e.Outcome), "\t", " "))
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}
