package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
status, customfield_10016...). VALUE follows the field's type:
  text, number      as is; none clears a number
  date              2026-12-24, today, tomorrow, +3d, -1w, +2m; none clears
  select, priority  one of the allowed values, case-insensitive
  labels, components, fixVersions
                    a,b sets the list; +a adds, -b removes; none empties it
  assignee, users   account id, user name, email or display name; none unassigns
  sprint            an open or future sprint's name (or id); none removes
  parent            an issue key; none removes
  status            the target status (or transition name): runs the transition Jira
                    offers; fields its screen needs come from the other pairs, e.g.
                    status=Done resolution=Done

An edit whose field changed in Jira after the cached copy is refused (exit 1) with both
values shown, unless --overwrite.

Exit codes: 0 ok, 1 refused or failed (Jira's message is shown), 2 malformed arguments,
4 authentication or permission.`,
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

func parsePairs(args []string) ([]editPair, error) {
	pairs := make([]editPair, 0, len(args))
	for _, a := range args {
		field, value, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(field) == "" {
			return nil, usageError(fmt.Errorf("%q: want FIELD=VALUE", a))
		}
		pairs = append(pairs, editPair{strings.TrimSpace(field), value})
	}
	return pairs, nil
}

// editOutcome is one field's result, and its --json shape.
type editOutcome struct {
	Key        string     `json:"key"`
	Field      string     `json:"field"`
	OK         bool       `json:"ok"`
	Old        string     `json:"old"`
	New        string     `json:"new"`
	Transition string     `json:"transition,omitempty"`
	Unchanged  bool       `json:"unchanged,omitempty"`
	Updated    *time.Time `json:"updated,omitempty"`
	Error      string     `json:"error,omitempty"`
	Conflict   *struct {
		Theirs        string    `json:"theirs"`
		TheirsUpdated time.Time `json:"theirs_updated"`
		Mine          string    `json:"mine"`
		Base          time.Time `json:"base"`
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
	actor := ""
	if id, err := recallIdentity(ctx, db, site.Name); err == nil && id != nil {
		actor = id.ID
	}
	w = refresh.NewWriter(client, db, refresh.WriterOptions{Actor: actor, Progress: editProgress(g.stderr)})

	var base time.Time
	if is, err := db.Issue(ctx, key); err == nil {
		base = is.Updated
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	opts := refresh.SetOptions{Overwrite: f.overwrite}
	var outs []editOutcome
	set := func(field, value string, o refresh.SetOptions) refresh.Result {
		res, err := w.Set(ctx, key, field, value, base, o)
		if err == nil && !res.Updated.IsZero() {
			base = res.Updated // the next field starts from what this write produced
		}
		outs = append(outs, outcomeOf(key, field, res, err))
		return res
	}
	// The status goes first: the other pairs may be the fields its transition screen asks
	// for; those it does not take are edited after it.
	used := map[string]bool{}
	for i, p := range pairs {
		if !strings.EqualFold(p.field, "status") {
			continue
		}
		o := opts
		o.Screen = map[string]string{}
		for j, q := range pairs {
			if j != i && !strings.EqualFold(q.field, "status") {
				o.Screen[q.field] = q.value
			}
		}
		res := set(p.field, p.value, o)
		for _, name := range res.ScreenUsed {
			used[strings.ToLower(name)] = true
		}
		break
	}
	statusDone := false
	statusFailed := len(outs) > 0 && outs[0].err != nil
	for _, p := range pairs {
		if statusFailed && !strings.EqualFold(p.field, "status") {
			// The other pairs may have been meant for the transition screen: editing them
			// as fields now would change the issue half-way.
			outs = append(outs, editOutcome{Key: key, Field: p.field, Error: "not attempted: the status change failed"})
			continue
		}
		if strings.EqualFold(p.field, "status") {
			if statusDone {
				outs = append(outs, editOutcome{Key: key, Field: p.field, err: usageError(fmt.Errorf("status given twice"))})
			}
			statusDone = true
			continue
		}
		if used[strings.ToLower(p.field)] {
			continue
		}
		set(p.field, p.value, opts)
	}
	if f.json {
		if err := writeEditJSON(g.stdout, outs); err != nil {
			return err
		}
	} else {
		for _, o := range outs {
			switch {
			case o.OK && o.Unchanged:
				fmt.Fprintf(g.stdout, "%s\t%s\t%s\t(unchanged)\n", o.Key, o.Field, show(o.Old))
			case o.OK:
				fmt.Fprintf(g.stdout, "%s\t%s\t%s\t%s\n", o.Key, o.Field, show(o.Old), show(o.New))
			}
		}
	}
	return editExit(outs)
}

func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func outcomeOf(key, field string, res refresh.Result, err error) editOutcome {
	o := editOutcome{Key: key, Field: field, Old: res.Old, New: res.New, Transition: res.Transition, Unchanged: res.Unchanged, err: err}
	if err == nil {
		o.OK = true
		if !res.Updated.IsZero() {
			u := res.Updated
			o.Updated = &u
		}
		return o
	}
	o.Error = err.Error()
	var ce *refresh.ConflictError
	if errors.As(err, &ce) {
		o.Conflict = &struct {
			Theirs        string    `json:"theirs"`
			TheirsUpdated time.Time `json:"theirs_updated"`
			Mine          string    `json:"mine"`
			Base          time.Time `json:"base"`
		}{ce.Theirs, ce.TheirsUpdated, ce.Mine, ce.Base}
		o.Error = fmt.Sprintf("%s %s changed in Jira at %s, after the cached copy (%s): theirs %s, yours %s; rerun with --overwrite to write yours",
			key, field, ce.TheirsUpdated.Format(time.RFC3339), ce.Base.Format(time.RFC3339), show(ce.Theirs), show(ce.Mine))
	}
	var fe *refresh.FieldError
	if errors.As(err, &fe) {
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

// editExit picks the exit code: a permission refusal (4) outranks other failures (1).
func editExit(outs []editOutcome) error {
	var errs []error
	code := ExitOK
	for _, o := range outs {
		if o.err == nil {
			continue
		}
		var pe *refresh.PermissionError
		var ee *exitError
		switch {
		case errors.As(o.err, &pe):
			code = ExitAuth
		case errors.As(o.err, &ee) && code == ExitOK:
			code = ee.code
		case code == ExitOK:
			code = ExitError
		}
		if o.Conflict != nil {
			errs = append(errs, errors.New(o.Error))
		} else {
			errs = append(errs, o.err)
		}
	}
	if len(errs) == 0 {
		return nil
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
			fmt.Fprintf(w, "retrying %s in %s\n", ev.Key, ev.Wait.Round(time.Millisecond))
		}
	}
}
