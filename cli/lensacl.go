package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

type lensACLFlags struct {
	json   bool
	grant  []string
	revoke []string
	owner  string
	yes    bool
	expect int64
}

// newLensACLCmd is `foundation lens acl`: print a Lens's access list with what each entry
// means, or change it.
func newLensACLCmd(g *globals) *cobra.Command {
	var f lensACLFlags
	cmd := &cobra.Command{
		Use:   "acl NAME",
		Short: "Show or change who may view, edit, change or control a Lens",
		Long: `Print a Lens's owner and access list, one explanation line per entry, or change it.

Levels: view < edit < generators < control. The owner has control. The highest
level of the entries that match you wins. Opening and exporting need view, inline
edits need edit (and Jira's own permission), changing generators, columns, views or
formatting needs generators, changing the access list or deleting needs control, and
only the owner may hand ownership to someone else.

Principals: user:ID (accountId on Cloud, user name on Data Center; an email works
too), group:NAME, role:PROJECT/ROLE (membership asked of Jira at refresh), anyone.

  foundation lens acl Roadmap --grant group:jira-developers=edit --revoke user:bob
  foundation lens acl Roadmap --owner user:alice --yes

Every change is audited. Exit codes: 0 ok, 1 error, 2 usage, 4 not allowed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLensACL(cmd.Context(), g, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print JSON")
	fl.StringArrayVar(&f.grant, "grant", nil, "grant PRINCIPAL=LEVEL (repeatable); changes the level of an existing entry")
	fl.StringArrayVar(&f.revoke, "revoke", nil, "remove the entry of PRINCIPAL (repeatable)")
	fl.StringVar(&f.owner, "owner", "", "transfer ownership to this user (owner only; asks first)")
	fl.BoolVar(&f.yes, "yes", false, "do not ask before transferring ownership")
	fl.Int64Var(&f.expect, "expect-version", refresh.AnyVersion, "change only this stored version")
	return cmd
}

// parseACLEdit reads the change flags; bad principals or levels are usage errors.
func parseACLEdit(f lensACLFlags) (refresh.ACLEdit, error) {
	var e refresh.ACLEdit
	for _, gr := range f.grant {
		i := strings.LastIndexByte(gr, '=')
		if i < 0 {
			return e, fmt.Errorf("--grant %q: want PRINCIPAL=LEVEL, e.g. group:jira-developers=edit", gr)
		}
		p, l := gr[:i], gr[i+1:]
		if _, err := lens.ParsePrincipal(p); err != nil {
			return e, fmt.Errorf("--grant %q: %w", gr, err)
		}
		if _, ok := lens.ParseLevel(l); !ok {
			return e, fmt.Errorf("--grant %q: level %q: want view, edit, generators or control", gr, l)
		}
		e.Grant = append(e.Grant, lens.ACLEntry{Principal: p, Level: l})
	}
	for _, r := range f.revoke {
		if _, err := lens.ParsePrincipal(r); err != nil {
			return e, fmt.Errorf("--revoke: %w", err)
		}
		e.Revoke = append(e.Revoke, r)
	}
	if f.owner != "" {
		p, err := lens.ParsePrincipal(f.owner)
		switch {
		case err == nil && p.Kind != "user":
			return e, fmt.Errorf("--owner %q: the owner is a user (user:ID)", f.owner)
		case err != nil && strings.Contains(f.owner, ":"):
			return e, fmt.Errorf("--owner: %w", err)
		}
		e.Owner = f.owner
	}
	return e, nil
}

func runLensACL(ctx context.Context, g *globals, name string, f lensACLFlags) error {
	edit, err := parseACLEdit(f)
	if err != nil {
		return usageError(err)
	}
	if f.expect < refresh.AnyVersion || f.expect == 0 {
		return usageError(fmt.Errorf("--expect-version %d: must be 1 or more", f.expect))
	}
	e, err := g.openLensEnv(ctx)
	if err != nil {
		return err
	}
	defer e.db.Close()
	changing := len(edit.Grant) > 0 || len(edit.Revoke) > 0 || edit.Owner != ""
	if edit.Owner != "" && !f.yes {
		if !g.stdinTerminal() {
			return usageError(fmt.Errorf("refusing to transfer ownership of lens %q without confirmation: pass --yes", name))
		}
		ok, err := g.confirm(fmt.Sprintf("Transfer ownership of lens %q to %s? You keep only what the access list gives you.", name, edit.Owner))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(g.stderr, "ownership not transferred")
			return nil
		}
	}
	if changing {
		_, version, err := refresh.ChangeACL(ctx, e.db, name, e.viewer, edit, f.expect)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stderr, "lens %q access list changed: version %d\n", name, version)
	}
	st, err := e.db.Lens(ctx, name)
	if err != nil {
		return err
	}
	def, err := lens.Parse(name, []byte(st.YAML))
	if err != nil {
		return fmt.Errorf("stored lens %q: %w", name, err)
	}
	if def.Owner == "" {
		def.Owner = st.Owner
	}
	// Reading the access list is like opening the Lens: it needs view. Who just changed it
	// (with control) sees the outcome even when they gave their own access away.
	if !changing {
		if err := refresh.RequireAccess(def, e.viewer, lens.LevelView, "read the access list of"); err != nil {
			return err
		}
	}
	names, err := userDisplayNames(ctx, e.db)
	if err != nil {
		return err
	}
	return writeACL(g.stdout, f.json, st, def, e.viewer, names)
}

func userDisplayNames(ctx context.Context, db *store.DB) (func(string) string, error) {
	us, err := db.Users(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(us))
	for _, u := range us {
		m[u.ID] = u.DisplayName
	}
	return func(id string) string { return m[id] }, nil
}

// aclReport is `lens acl --json`.
type aclReport struct {
	Lens    string            `json:"lens"`
	Version int64             `json:"version"`
	Owner   string            `json:"owner,omitempty"`
	Entries []refresh.ACLLine `json:"entries"`
	You     aclYou            `json:"you"`
}

type aclYou struct {
	User        string `json:"user,omitempty"`
	Level       string `json:"level"`
	Via         string `json:"via,omitempty"`
	Explanation string `json:"explanation"`
}

func writeACL(w io.Writer, asJSON bool, st store.Lens, def *lens.Definition, v refresh.Viewer, names func(string) string) error {
	lines := refresh.ExplainACL(def, v, names)
	a := refresh.AccessOf(def, v)
	you := aclYou{User: v.User, Level: a.Level.String(), Via: a.Via, Explanation: a.Explain(v.Label())}
	if asJSON {
		if lines == nil {
			lines = []refresh.ACLLine{}
		}
		return writeJSON(w, aclReport{Lens: def.Name, Version: st.Version, Owner: def.Owner, Entries: lines, You: you})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Lens %s, version %d\n", def.Name, st.Version)
	fmt.Fprintln(tw, "PRINCIPAL\tKIND\tLEVEL\tEXPLANATION")
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Principal, l.Kind, l.Level, l.Explanation)
	}
	if len(def.ACL) == 0 {
		fmt.Fprintln(tw, "(no entries: only the owner has access)\t\t\t")
	}
	fmt.Fprintf(tw, "You: %s\n", you.Explanation)
	return tw.Flush()
}
