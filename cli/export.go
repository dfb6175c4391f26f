package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"foundation/jql"
	"foundation/lens"
	"foundation/refresh"
)

type exportFlags struct {
	lens, view, format, expand, filter string
	depth                              int
}

// tableFormat is the aligned, indented table written to a terminal; scripts get TSV.
const tableFormat = "table"

func newExportCmd(g *globals) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export --lens NAME",
		Short: "Write a Lens's rows and columns to stdout as csv, tsv, json, md or an aligned table",
		Long: `Build a Lens from the site's cache (no Jira call) and write its tree through a view.

csv, tsv and json start each row with its depth, kind (issue, group or folder) and title
(KEY Summary, or the group or folder name), then the view's columns. md and table have
no depth or kind columns: the title is indented by depth, group and folder titles in
bold (md) or ending in a slash (table). md escapes pipes and backslashes and turns tabs
and line breaks into spaces, so every cell stays one Markdown table cell. JSON carries
the lens, view and columns, then one object per row with depth, kind, key, path and
typed cells ({"type","value","display","style"}); a list field's cells (labels,
components, versions, sprints: columns marked "multi") also carry "values", one typed
value each.

Without --format: an aligned, indented table when stdout is a terminal, plain TSV
(no quoting; tabs and newlines in values become spaces) otherwise.

--depth N keeps the top N levels; --expand N shows rows expanded N levels below the
top ones (the top level plus N), --expand all everything (the default). They are two
ways to say the same thing: give one (both is a usage error).

Exit codes: 0 ok, 1 error, 2 usage, 3 rows hidden because permissions could not be
verified (run foundation refresh), 4 no view access to the Lens.

--filter JQL keeps the issue rows it matches and the rows above them, as the TUI's f
does, evaluated over the cache. JQL that only Jira can answer (WAS, CHANGED) is refused
with the reason: put it in a Lens insert, whose members refresh fetches.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("depth") && cmd.Flags().Changed("expand") {
				return usageError(errors.New("--depth and --expand both limit the levels written: give one (--depth N is --expand N-1)"))
			}
			return runExport(cmd, g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.lens, "lens", "", "the Lens to export (required)")
	fl.StringVar(&f.view, "view", "", "the view whose columns to write (default: the Lens's default view)")
	fl.StringVar(&f.format, "format", "", "one of csv, tsv, json, md or table (default: table on a terminal, tsv otherwise)")
	fl.IntVar(&f.depth, "depth", 0, "keep only the top N levels (0: all; not with --expand)")
	fl.StringVar(&f.expand, "expand", "all", "how many levels below the top one to keep: N, or all (not with --depth)")
	fl.StringVar(&f.filter, "filter", "", "keep the issue rows this JQL matches and the rows above them")
	return cmd
}

// renderOptions turns --depth and --expand into what lens.Render takes: the shallower wins.
func (f exportFlags) renderOptions() (lens.RenderOptions, error) {
	if f.depth < 0 {
		return lens.RenderOptions{}, fmt.Errorf("--depth %d: must not be negative", f.depth)
	}
	depth := f.depth
	if f.expand != "all" {
		n, err := strconv.Atoi(f.expand)
		if err != nil || n < 0 {
			return lens.RenderOptions{}, fmt.Errorf("--expand %q: want all or a number of levels (0 or more)", f.expand)
		}
		if depth == 0 || n+1 < depth {
			depth = n + 1
		}
	}
	return lens.RenderOptions{Depth: depth}, nil
}

func runExport(cmd *cobra.Command, g *globals, f exportFlags) error {
	if f.lens == "" {
		return usageError(errors.New("export: --lens NAME is required"))
	}
	format := f.format
	if format == "" {
		format = "tsv"
		if stdoutTerminal(g.stdout) {
			format = tableFormat
		}
	}
	if !slices.Contains(lens.Formats, format) && format != tableFormat {
		return usageError(fmt.Errorf("--format %q: valid: %s, %s", format, strings.Join(lens.Formats, ", "), tableFormat))
	}
	opts, err := f.renderOptions()
	if err != nil {
		return usageError(err)
	}
	var filter *jql.Query
	if strings.TrimSpace(f.filter) != "" {
		if filter, err = jql.Parse(f.filter); err != nil {
			return usageError(fmt.Errorf("--filter: %w", err))
		}
	}
	ctx := cmd.Context()
	e, err := g.openLensEnv(ctx)
	if err != nil {
		return err
	}
	defer e.db.Close()
	var match jql.Matcher
	if filter != nil {
		// The cached field catalog is Jira's full field list: a custom field the site does
		// not have is refused, as Jira refuses it, instead of matching nothing.
		fields, err := e.db.Fields(ctx)
		if err != nil {
			return err
		}
		match, err = filter.Compile(jql.Env{Now: time.Now(), CurrentUser: e.viewer.User, HasField: lens.NewCatalog(fields).JQLHasField()})
		if err != nil {
			return usageError(fmt.Errorf("--filter: %w", err))
		}
	}
	// The filter may read fields the Lens's own columns do not (a custom field, fix
	// versions): they are read for it, so the rows kept never depend on the columns.
	o, err := refresh.OpenLens(ctx, e.db, f.lens, e.viewer, refresh.OpenOptions{View: f.view, WithRaw: lens.QueryNeedsRaw(filter)})
	if errors.Is(err, lens.ErrUnknownView) {
		return usageError(err)
	}
	if err != nil {
		return err
	}
	if match != nil {
		opts.Match = o.Forest.MatchJQL(match)
	}
	for _, n := range o.Notes {
		fmt.Fprintln(g.stderr, "note:", n)
	}
	if format == tableFormat {
		err = renderTable(g.stdout, o.Forest, o.View.Name(), opts)
	} else {
		err = lens.Render(g.stdout, o.Forest, o.View.Name(), format, opts)
	}
	if err == nil && o.Visibility.Degraded() {
		// Fail closed: the rows went out without what could not be verified; the notes
		// above say which projects and since when. Exit 3 tells scripts it is partial.
		err = withCode(ExitPartial, fmt.Errorf("export of %q is partial: rows are hidden because permissions could not be verified (run `foundation refresh` when Jira is reachable)", f.lens))
	}
	return err
}

// renderTable writes the TSV export as an aligned table for people: the title indented by
// depth takes the place of the depth and kind columns, and group and folder titles end in
// a slash, as directories do in a listing.
func renderTable(w io.Writer, f *lens.Forest, view string, opts lens.RenderOptions) error {
	var buf bytes.Buffer
	if err := lens.Render(&buf, f, view, "tsv", opts); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	header := true
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 3 {
			return fmt.Errorf("export table: malformed row %q", sc.Text())
		}
		title := fs[2]
		if !header {
			depth, err := strconv.Atoi(fs[0])
			if err != nil {
				return fmt.Errorf("export table: depth %q: %w", fs[0], err)
			}
			if fs[1] != "issue" {
				title += "/"
			}
			title = strings.Repeat("  ", depth) + title
		}
		header = false
		if _, err := fmt.Fprintln(tw, strings.Join(append([]string{title}, fs[3:]...), "\t")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return tw.Flush()
}
