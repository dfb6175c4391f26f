package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"foundation/config"
	"foundation/jira"
	"foundation/jql"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

func newLensCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lens",
		Short: "List, show, apply, export and delete the Lenses stored in a site's cache",
		Long: `Lenses are saved hierarchical views of Jira issues, stored in the site's cache.
A Lens file (YAML) is applied with "lens apply -f FILE" and written back with
"lens export NAME"; export gives the file as applied, comments included.

Exit codes: 0 ok, 1 error (a bad Lens file names file:line: field), 2 usage,
4 not allowed by the Lens's access list (show, export, apply, delete, acl).`,
	}
	cmd.AddCommand(newLensListCmd(g), newLensShowCmd(g), newLensApplyCmd(g), newLensExportCmd(g), newLensDeleteCmd(g), newLensACLCmd(g))
	return cmd
}

// lensEnv is what every lens command works with: the profile, its cache and its viewer.
// None of it needs Jira: the commands work offline from the cache.
type lensEnv struct {
	site   *config.Site
	db     *store.DB
	viewer refresh.Viewer
	actor  string // who the audit log names
}

// openLensEnv loads the profile, opens its cache and settles who the viewer is: the
// identity Jira confirmed for the profile's credentials (the token is read to check that,
// never sent), from the cache when it remembers one, so the commands work offline. When it
// does not (these credentials were never checked here: another token may have refreshed
// the cache under the same profile name), Jira is asked (myself) before anything is shown;
// when Jira cannot be asked, nothing is shown: exit 3, refresh.ErrUncheckedCredentials.
func (g *globals) openLensEnv(ctx context.Context) (*lensEnv, error) {
	_, site, db, err := g.profileCache(ctx)
	if err != nil {
		return nil, err
	}
	v, err := g.knownViewer(ctx, site, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	if v.Dialect == "" {
		v.Dialect = string(site.Dialect)
	}
	v.Profile = site.Name
	return &lensEnv{site: site, db: db, viewer: v, actor: v.User}, nil
}

// knownViewer is who the profile's credentials sign in as, with the rule of resolveViewer:
// the cache's memory of these credentials, else Jira, else unknown (fail closed).
func (g *globals) knownViewer(ctx context.Context, site *config.Site, db *store.DB) (refresh.Viewer, error) {
	creds, token, err := siteCredentials(ctx, site)
	if err != nil {
		return refresh.Viewer{}, err
	}
	v, ok, err := refresh.RecallViewer(ctx, db, site.Name, creds, time.Now())
	if err != nil || ok {
		return v, err
	}
	// A quick question: no retries, a short deadline; a Jira that cannot answer it now
	// leaves the viewer unknown rather than the command hanging.
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client, err := g.newClient(mctx, site, token, func(o *jira.Options) { o.MaxRetries = -1 })
	if err != nil {
		if unchecked(err) {
			return refresh.Viewer{}, uncheckedError(site.Name, err)
		}
		return refresh.Viewer{}, err
	}
	v, _, err = resolveViewer(mctx, site, client, db)
	return v, err
}

// lensInfo is one row of `lens list`.
type lensInfo struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Owner       string    `json:"owner,omitempty"`
	Version     int64     `json:"version"`
	Updated     time.Time `json:"updated"`
	UpdatedBy   string    `json:"updated_by,omitempty"`
}

func newLensListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the stored Lenses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			e, err := g.openLensEnv(ctx)
			if err != nil {
				return err
			}
			defer e.db.Close()
			ls, err := e.db.Lenses(ctx)
			if err != nil {
				return err
			}
			infos := make([]lensInfo, 0, len(ls))
			for _, l := range ls {
				in := lensInfo{Name: l.Name, Owner: l.Owner, Version: l.Version, Updated: l.UpdatedAt, UpdatedBy: l.UpdatedBy}
				// The description lives in the YAML; a stored file that no longer parses
				// still lists for its owner, and `lens show` says what is wrong with it.
				// A Lens the viewer may not open is not listed at all.
				d, err := lens.Parse(l.Name, []byte(l.YAML))
				switch {
				case err != nil && (l.Owner == "" || l.Owner != e.viewer.User):
					continue
				case err == nil:
					if d.Owner == "" {
						d.Owner = l.Owner
					}
					if refresh.AccessOf(d, e.viewer).Level < lens.LevelView {
						continue
					}
					in.Description = d.Description
				}
				infos = append(infos, in)
			}
			if asJSON {
				return writeJSON(g.stdout, infos)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tOWNER\tUPDATED\tDESCRIPTION")
			for _, in := range infos {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", in.Name, in.Version, in.Owner, in.Updated.Local().Format("2006-01-02 15:04"), in.Description)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func newLensShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a Lens: generators, views, columns, remote queries and formula errors",
		Long: `Show a stored Lens and what building it on the cache gives: how many rows,
which JQL needs Jira (remote queries), and which formula columns fail on which rows.
Exits 1 when the stored definition no longer validates against the site's fields.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			e, err := g.openLensEnv(ctx)
			if err != nil {
				return err
			}
			defer e.db.Close()
			return showLens(ctx, g.stdout, e, args[0])
		},
	}
}

func showLens(ctx context.Context, out io.Writer, e *lensEnv, name string) error {
	st, err := e.db.Lens(ctx, name)
	if err != nil {
		return err
	}
	// The definition (owner, ACL, generators) is the Lens's own business: showing it needs
	// view, like opening it. Nothing is printed before the check.
	if _, err := refresh.RequireLensAccess(ctx, e.db, name, e.viewer, lens.LevelView, "show"); err != nil {
		return err
	}
	def, err := lens.Parse(name, []byte(st.YAML))
	if err != nil {
		return fmt.Errorf("stored lens %q: %w", name, err)
	}
	w := bufio.NewWriter(out)
	defer w.Flush()
	fmt.Fprintf(w, "Lens:        %s\n", def.Name)
	if def.Description != "" {
		fmt.Fprintf(w, "Description: %s\n", def.Description)
	}
	by := st.UpdatedBy
	if names, err := userDisplayNames(ctx, e.db); err == nil && names(by) != "" && names(by) != by {
		by += " (" + names(by) + ")" // as the access list names people
	}
	fmt.Fprintf(w, "Version:     %d, updated %s by %s\n", st.Version, st.UpdatedAt.Local().Format("2006-01-02 15:04"), by)
	if def.Owner != "" {
		fmt.Fprintf(w, "Owner:       %s\n", def.Owner)
	}
	for _, a := range def.ACL {
		fmt.Fprintf(w, "Access:      %s %s\n", a.Principal, a.Level)
	}
	fmt.Fprintln(w, "Generators:")
	writeScope(w, "  ", def.Generators, def.Folders)
	o, openErr := refresh.OpenLens(ctx, e.db, name, e.viewer, refresh.OpenOptions{})
	fmt.Fprintln(w, "Views:")
	for _, v := range def.Views {
		mark := ""
		if v.Name == def.DefaultView() {
			mark = " (default)"
		}
		fmt.Fprintf(w, "  %s%s\n", v.Name, mark)
		var cols []lens.Column
		var view *lens.View
		if openErr == nil {
			if view, err = o.Forest.View(v.Name); err == nil {
				cols = view.Columns()
			}
		}
		for i, c := range v.Columns {
			id := c.ID
			if i < len(cols) {
				id = cols[i].ID
			}
			fmt.Fprintf(w, "    %-12s %s\n", id, describeColumn(c))
		}
		for _, r := range v.Format {
			fmt.Fprintf(w, "    format: %s %s %q -> %s%s\n", r.Column, r.Op, r.Value, r.Style, map[bool]string{true: " (row)"}[r.Row])
		}
		if view != nil {
			for _, p := range view.Problems() {
				fmt.Fprintf(w, "    formula error: %s\n", p)
			}
		}
	}
	if rq := def.RemoteQueries(); len(rq) > 0 {
		fmt.Fprintln(w, "Remote queries (JQL that local evaluation cannot answer by itself):")
		for _, q := range rq {
			how := "openSprints() is answered from the sprints in the cache"
			if why := jiraAnswers(q); why != "" {
				how = "members come from Jira at refresh time: " + why
			}
			fmt.Fprintf(w, "  %s\n    %s\n", q, how)
		}
	}
	if openErr != nil {
		w.Flush()
		return openErr
	}
	fmt.Fprintf(w, "Rows:        %d (cache at change %d)\n", len(o.Forest.Rows), o.Seq)
	for _, n := range o.Notes {
		fmt.Fprintf(w, "Note:        %s\n", n)
	}
	if o.Visibility.Degraded() {
		// As export does: the row count leaves out what could not be verified, so a script
		// must not take it as the Lens's size.
		return withCode(ExitPartial, fmt.Errorf("lens %q is partial: rows are hidden because permissions could not be verified (run `foundation refresh` when Jira is reachable)", name))
	}
	return nil
}

// jiraAnswers says why Jira, not the cache, answers a Lens's remote query (what local
// evaluation lacks), or "" when the cache can: openSprints() is answered from the sprints
// it keeps.
func jiraAnswers(q string) string {
	parsed, err := jql.Parse(q)
	if err != nil {
		return err.Error()
	}
	_, err = parsed.Compile(jql.Env{Location: time.UTC, OpenSprints: func() []string { return nil }})
	if err != nil {
		return err.Error()
	}
	return ""
}

func writeScope(w io.Writer, indent string, gens []lens.Generator, folders []lens.Folder) {
	for i, gen := range gens {
		fmt.Fprintf(w, "%s%d. %s\n", indent, i+1, describeGenerator(gen))
	}
	for _, f := range folders {
		fmt.Fprintf(w, "%sfolder %s:\n", indent, f.Name)
		writeScope(w, indent+"  ", f.Generators, f.Folders)
	}
}

func describeGenerator(g lens.Generator) string {
	switch {
	case g.Insert != nil && len(g.Insert.Keys) > 0:
		return "insert keys " + strings.Join(g.Insert.Keys, ", ")
	case g.Insert != nil:
		return "insert jql " + g.Insert.JQL
	case g.Extend != nil:
		s := "extend by " + g.Extend.By
		if g.Extend.LinkType != "" {
			s += " type " + g.Extend.LinkType
		}
		if g.Extend.Direction != "" {
			s += " " + g.Extend.Direction
		}
		depth := g.Extend.Depth
		if depth == 0 {
			depth = lens.DefaultDepth
		}
		return fmt.Sprintf("%s, depth %d", s, depth)
	case g.Filter != nil:
		f := g.Filter
		var s string
		switch {
		case f.Dedupe:
			s = "filter duplicates"
		case f.JQL != "":
			s = "filter jql " + f.JQL
		default:
			s = strings.TrimSpace(fmt.Sprintf("filter %s %s %s", f.Column, f.Op, f.Value))
		}
		if f.KeepAncestors {
			s += ", keeping ancestors"
		}
		return s
	case g.Group != nil:
		return "group by " + g.Group.By
	case g.Sort != nil && g.Sort.Formula != "":
		return "sort by formula " + g.Sort.Formula + map[bool]string{true: ", descending"}[g.Sort.Desc]
	case g.Sort != nil:
		return "sort by " + strings.Join(g.Sort.By, ", ") + map[bool]string{true: ", descending"}[g.Sort.Desc]
	}
	return "(invalid generator)"
}

func describeColumn(c lens.ColumnDef) string {
	title := ""
	if c.Title != "" {
		title = fmt.Sprintf(" %q", c.Title)
	}
	switch {
	case c.Field != "":
		return "field " + c.Field + title
	case c.Rollup != nil:
		over := c.Rollup.Over
		if over == "" {
			over = "descendants"
		}
		return strings.Join(strings.Fields(fmt.Sprintf("rollup %s %s over %s", c.Rollup.Op, c.Rollup.Field, over)), " ") + title
	case c.Progress != nil:
		by := c.Progress.By
		if by == "" {
			by = "status"
		}
		s := "progress by " + by
		if c.Progress.Field != "" {
			s += " " + c.Progress.Field
		}
		if c.Progress.Weight != "" {
			s += ", weight " + c.Progress.Weight
		}
		return s + title
	case c.Formula != "":
		return "formula " + c.Formula + title
	}
	return "(invalid column)"
}

func newLensApplyCmd(g *globals) *cobra.Command {
	var file string
	var expect int64
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Create or update a Lens from a YAML file (\"-\" reads stdin)",
		Long: `Validate a Lens file against the site's cached field catalog and store it.
The Lens is created, or replaces the stored one of the same name. With
--expect-version N it replaces version N only (0: must not exist yet), so two people
editing one Lens cannot overwrite each other. Applying exactly the stored file
(comments and layout included) says "unchanged" and makes no new version. A bad file
changes nothing and exits 1 naming file:line: field for every problem.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageError(errors.New("lens apply: -f FILE is required"))
			}
			if expect < refresh.AnyVersion {
				return usageError(fmt.Errorf("--expect-version %d: must be 0 or more", expect))
			}
			src, name, err := readInput(g.stdin, file)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			e, err := g.openLensEnv(ctx)
			if err != nil {
				return err
			}
			defer e.db.Close()
			a, err := refresh.ApplyLens(ctx, e.db, name, src, e.viewer, expect)
			if err != nil {
				return err
			}
			verb := "updated"
			switch {
			case a.Created:
				verb = "created"
			case a.Unchanged:
				verb = "unchanged"
			}
			fmt.Fprintf(g.stderr, "lens %q %s: version %d\n", a.Name, verb, a.Version)
			if def, err := lens.Parse(name, src); err == nil {
				for _, q := range def.RemoteQueries() {
					if why := jiraAnswers(q); why != "" {
						fmt.Fprintf(g.stderr, "note: Jira answers %q (%s): its members come with the next `foundation refresh`\n", q, why)
					}
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", "the Lens file (\"-\" for stdin)")
	fl.Int64Var(&expect, "expect-version", refresh.AnyVersion, "replace only this stored version (0: create only)")
	return cmd
}

// readInput reads a file, or stdin for "-"; name labels errors.
func readInput(stdin io.Reader, file string) ([]byte, string, error) {
	if file == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, "", fmt.Errorf("read stdin: %w", err)
		}
		return b, "<stdin>", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, "", err
	}
	return b, file, nil
}

func newLensExportCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export NAME",
		Short: "Write a Lens's YAML, as applied, to stdout or a file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			e, err := g.openLensEnv(ctx)
			if err != nil {
				return err
			}
			defer e.db.Close()
			src, _, err := refresh.ExportLens(ctx, e.db, args[0], e.viewer)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = g.stdout.Write(src)
				return err
			}
			if err := os.WriteFile(out, src, 0o644); err != nil {
				return fmt.Errorf("export lens %q: %w", args[0], err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

func newLensDeleteCmd(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stored Lens (asks first; --yes for scripts)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			e, err := g.openLensEnv(ctx)
			if err != nil {
				return err
			}
			defer e.db.Close()
			st, err := e.db.Lens(ctx, args[0])
			if err != nil {
				return err
			}
			if !yes {
				if !g.stdinTerminal() {
					return usageError(fmt.Errorf("refusing to delete lens %q without confirmation: pass --yes", st.Name))
				}
				ok, err := g.confirm(fmt.Sprintf("Delete lens %q (version %d)?", st.Name, st.Version))
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(g.stderr, "not deleted")
					return nil
				}
			}
			// The version read above is the one confirmed: a change meanwhile is a conflict.
			if err := refresh.DeleteLens(ctx, e.db, st.Name, e.viewer, st.Version); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "lens %q deleted\n", st.Name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask")
	return cmd
}
