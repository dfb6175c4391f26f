package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"foundation/jira"
	"foundation/refresh"
	"foundation/store"
)

type editFlags struct {
	json, overwrite bool
}

func newEditCmd(g *globals) *cobra.Command {
	var f editFlags
	cmd := &cobra.Command{
		Use:   "edit KEY FIELD=VALUE...",
		Short: "Change fields of an issue in Jira through the write-back path (headless)",
		Long: `Edit an issue the way the TUI does: check for a conflicting change, write to Jira,
read the issue back into the cache and audit the change.

FIELD is a Lens column name, a Jira field name or an id (summary, priority, labels,
components, fixVersions, assignee, due, "story points", sprint, parent, "epic link",
status, customfield_10016...). Fields Jira sets itself (key, project, created, updated,
resolved...) cannot be edited. VALUE follows the field's type:
  text              as is
  number            a plain decimal: 5, 2.5, -1; none clears
  date              2026-12-24, today, tomorrow, +3d, -1w, +2m, +1y (years 1000-9999);
                    none clears
  select, priority  one of the allowed values, case-insensitive
  labels, components, fixVersions
                    a,b sets the list; +a adds, -b removes; none empties it
  assignee, users   account id, user name, email or display name; none unassigns
  sprint            an open or future sprint's name (or id); none removes
  parent            an issue key; none removes (Data Center: an epic is "Epic Link")
  status            the target status (or transition name): runs the transition Jira
                    offers; fields its screen needs come from the other pairs, e.g.
                    status=Done resolution=Done

All pairs are one edit: every value is checked before anything is written, the fields
go to Jira in one request (which Jira applies as a whole or not at all), and a status
change runs its transition after it. If the transition is then refused, the fields stay
written: exit 3, and the output says which fields were written and which not.

An edit whose field changed in Jira after the cached copy is refused (exit 1) with both
values shown, and stays refused when rerun as long as Jira holds their value: --overwrite
writes yours.

Exit codes: 0 ok, 1 refused or failed, nothing written (Jira's message is shown),
2 malformed arguments or a field that cannot be edited, nothing sent, 3 partial (some
fields written, or written but not read back into the cache), 4 authentication or
permission.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEdit(cmd.Context(), g, f, args[0], args[1:])
		},
	}
	cmd.Flags().BoolVar(&f.json, "json", false, "print per-field results as JSON on stdout")
	cmd.Flags().BoolVar(&f.overwrite, "overwrite", false, "write even when the field changed in Jira since the cached copy")
	return cmd
}

// editPair is one FIELD=VALUE argument.
type editPair struct{ field, value string }

// parsePairs reads the FIELD=VALUE arguments. A field given twice is a usage error, before
// anything is written: one edit cannot hold two values for a field, and which one was
// meant is the user's call. Field names are compared as Jira does, ignoring case.
func parsePairs(args []string) ([]editPair, error) {
	pairs := make([]editPair, 0, len(args))
	seen := map[string]string{}
	for _, a := range args {
		field, value, ok := strings.Cut(a, "=")
		field = strings.TrimSpace(field)
		if !ok || field == "" {
			return nil, usageError(fmt.Errorf("%q: want FIELD=VALUE", a))
		}
		if first, dup := seen[strings.ToLower(field)]; dup {
			return nil, usageError(fmt.Errorf("field %q given twice (%q and %q): give each field once; nothing was written", field, first, a))
		}
		seen[strings.ToLower(field)] = a
		pairs = append(pairs, editPair{field, value})
	}
	return pairs, nil
}

// editOutcome is one field's result, and its --json shape. ok: the field holds the value
// asked for (written, or already there); written: Jira applied it (a read-back failure
// leaves ok false and written true); new: the value written, or the value that was to be
// written when it was not.
type editOutcome struct {
	Key        string     `json:"key"`
	Field      string     `json:"field"`
	OK         bool       `json:"ok"`
	Written    bool       `json:"written"`
	Old        string     `json:"old"`
	New        string     `json:"new"`
	Later      *string    `json:"later,omitempty"` // what Jira held at the read-back, when a later change overtook ours
	Transition string     `json:"transition,omitempty"`
	Screen     bool       `json:"screen,omitempty"` // went with the transition, on its screen
	Unchanged  bool       `json:"unchanged,omitempty"`
	Updated    *time.Time `json:"updated,omitempty"`
	Error      string     `json:"error,omitempty"`
	Conflict   *struct {
		Theirs        string     `json:"theirs"`
		TheirsUpdated time.Time  `json:"theirs_updated"`
		Mine          string     `json:"mine"`
		Base          time.Time  `json:"base"`
		RefusedAt     *time.Time `json:"refused_before,omitempty"`
	} `json:"conflict,omitempty"`
	Missing []string `json:"missing,omitempty"`
	err     error
}

func runEdit(ctx context.Context, g *globals, f editFlags, key string, args []string) error {
	pairs, err := parsePairs(args)
	if err != nil {
		return err
	}
	key = strings.ToUpper(strings.TrimSpace(key))
	var w *refresh.Writer
	// The client reports rate-limit waits on the requesting goroutine, after w is set.
	site, client, err := g.openSiteWith(ctx, func(o *jira.Options) {
		o.OnEvent = func(ev jira.Event) {
			if w != nil {
				w.OnClientEvent(ev)
			}
		}
	})
	if err != nil {
		return err
	}
	db, err := openCache(ctx, site)
	if err != nil {
		return err
	}
	defer db.Close()
	// The identity Jira confirmed for this client's credentials; none asks Jira (myself).
	actor := ""
	if id, err := recallIdentity(ctx, db, site.Name, client.Credentials()); err == nil && id != nil {
		actor = id.ID
	}
	w = refresh.NewWriter(client, db, refresh.WriterOptions{Actor: actor, Progress: editProgress(g.stderr)})

	var base time.Time
	if is, err := db.Issue(ctx, key); err == nil {
		base = is.Updated
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// One edit: every value is checked before anything is written, the fields go in one
	// PUT and a status change runs its transition after it (its screen takes the fields
	// it asks for from the other pairs). A conflict refused before stays refused on a plain
	// rerun: a retry loop must not overwrite someone else's change.
	vals := make([]refresh.FieldValue, len(pairs))
	for i, p := range pairs {
		vals[i] = refresh.FieldValue{Field: p.field, Value: p.value}
	}
	results, _ := w.SetFields(ctx, key, vals, base, refresh.SetOptions{Overwrite: f.overwrite, KeepConflicts: true})
	outs := make([]editOutcome, len(results))
	for i, r := range results {
		outs[i] = outcomeOf(key, r)
	}
	if f.json {
		if err := writeEditJSON(g.stdout, outs); err != nil {
			return err
		}
	} else {
		for _, o := range outs {
			switch {
			case o.Screen && o.OK:
				// Written with the transition, shown on the status line's screen.
			case o.OK && o.Unchanged:
				fmt.Fprintf(g.stdout, "%s\t%s\t%s\t(unchanged)\n", o.Key, o.Field, show(o.Old))
			case o.Written:
				line := fmt.Sprintf("%s\t%s\t%s\t%s", o.Key, o.Field, show(o.Old), show(o.New))
				if o.Later != nil {
					line += "\t(changed again in Jira since: now " + show(*o.Later) + ")"
				}
				fmt.Fprintln(g.stdout, line)
			}
		}
	}
	return editExit(key, outs)
}

func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func outcomeOf(key string, r refresh.FieldOutcome) editOutcome {
	o := editOutcome{Key: key, Field: r.Field, Old: r.Old, New: r.New, Transition: r.Transition, Screen: r.Screen,
		Unchanged: r.Unchanged, Written: r.Written, err: r.Err}
	if r.Overtaken {
		later := r.Later
		o.Later = &later
	}
	if !r.Updated.IsZero() {
		u := r.Updated
		o.Updated = &u
	}
	if r.Err == nil {
		o.OK = true
		return o
	}
	if !r.Written {
		o.New = r.Value // what was to be written
	}
	o.Error = r.Err.Error()
	var ce *refresh.ConflictError
	if errors.As(r.Err, &ce) {
		o.Conflict = &struct {
			Theirs        string     `json:"theirs"`
			TheirsUpdated time.Time  `json:"theirs_updated"`
			Mine          string     `json:"mine"`
			Base          time.Time  `json:"base"`
			RefusedAt     *time.Time `json:"refused_before,omitempty"`
		}{Theirs: ce.Theirs, TheirsUpdated: ce.TheirsUpdated, Mine: ce.Mine, Base: ce.Base}
		if ce.RefusedAt.IsZero() {
			o.Error = fmt.Sprintf("%s %s changed in Jira at %s, after the cached copy (%s): theirs %s, yours %s; nothing written. Rerun with --overwrite to write yours (a plain rerun is refused the same way)",
				key, r.Field, ce.TheirsUpdated.Format(time.RFC3339), ce.Base.Format(time.RFC3339), show(ce.Theirs), show(ce.Mine))
		} else {
			at := ce.RefusedAt
			o.Conflict.RefusedAt = &at
			o.Error = fmt.Sprintf("%s %s was refused as a conflict at %s and Jira still holds theirs, %s: yours, %s, is refused again; nothing written. Rerun with --overwrite to write yours",
				key, r.Field, ce.RefusedAt.Local().Format(time.RFC3339), show(ce.Theirs), show(ce.Mine))
		}
	}
	var fe *refresh.FieldError
	if errors.As(r.Err, &fe) {
		o.Missing = fe.Missing
	}
	return o
}

func writeEditJSON(w io.Writer, outs []editOutcome) error {
	if outs == nil {
		outs = []editOutcome{}
	}
	b, err := json.MarshalIndent(outs, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// editExit picks the exit code. Some fields written and others not is partial (3), and so
// is a write whose read-back failed: the script must not assume nothing changed. Otherwise
// a malformed edit (unknown or read-only field, a field twice) is usage (2), before
// anything was sent; a permission refusal (4) outranks other failures (1).
func editExit(key string, outs []editOutcome) error {
	var errs, notes []error
	var written, not []string
	code := ExitOK
	for _, o := range outs {
		if o.Written && !o.Screen {
			written = append(written, o.Field)
		}
		if o.err == nil {
			continue
		}
		if !o.Written {
			not = append(not, o.Field)
		}
		var pe *refresh.PermissionError
		var ee *exitError
		var nw *refresh.NotWrittenError
		switch {
		case errors.As(o.err, &nw):
			notes = append(notes, o.err) // follows from the others: listed after them
			continue
		case errors.Is(o.err, refresh.ErrMalformedEdit) && code == ExitOK:
			code = ExitUsage
		case errors.As(o.err, &pe):
			code = ExitAuth
		case errors.As(o.err, &ee) && code == ExitOK:
			code = ee.code
		case code == ExitOK:
			code = ExitError
		}
		switch {
		case o.Conflict != nil:
			errs = append(errs, errors.New(o.Error))
		case !slices.Contains(errs, o.err): // one read-back failure covers every field
			errs = append(errs, o.err)
		}
	}
	errs = append(errs, notes...)
	if len(errs) == 0 {
		return nil
	}
	if len(written) > 0 {
		msg := fmt.Sprintf("%s partly changed: written: %s", key, strings.Join(written, ", "))
		if len(not) > 0 {
			msg += "; not written: " + strings.Join(not, ", ")
		}
		return withCode(ExitPartial, errors.Join(append(errs, errors.New(msg))...))
	}
	return withCode(code, errors.Join(errs...))
}

// editProgress reports rate-limit waits on stderr: an edit that sits out a per-issue write
// limit should say why it is slow.
func editProgress(w io.Writer) func(refresh.EditEvent) {
	return func(ev refresh.EditEvent) {
		switch ev.Kind {
		case "rate-limited":
			fmt.Fprintf(w, "rate limited by Jira, waiting %s %s\n", ev.Wait.Round(time.Millisecond), ev.Key)
		case "retry":
			fmt.Fprintf(w, "retrying %s in %s (%s)\n", ev.Key, ev.Wait.Round(time.Millisecond), ev.Reason)
		}
	}
}
