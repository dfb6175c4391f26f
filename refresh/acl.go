package refresh

// Lens ACLs: who may do what with a stored Lens, one check used by every path (open,
// export, apply, delete, inline edits, the ACL editor), and audited ACL changes.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"foundation/lens"
	"foundation/store"
)

// Actions named in refusals.
const (
	ActionOpen       = "open"
	ActionExport     = "export"
	ActionEditCells  = "edit cells of"
	ActionMoveRows   = "move rows of"
	ActionDefinition = "change the generators, columns or views of"
	ActionACL        = "change the access list of"
	ActionDelete     = "delete"
	ActionOwner      = "transfer ownership of"
)

// AccessError is a refusal by a Lens ACL: the viewer's level is below what the action
// needs, or (OwnerOnly) only the owner may do it. Headless commands exit with code 4.
type AccessError struct {
	Lens      string
	Viewer    string // who asked ("" when the identity is unknown)
	Action    string
	Need      lens.Level
	Have      lens.Level
	OwnerOnly bool
}

func (e *AccessError) Error() string {
	who := e.Viewer
	if who == "" {
		who = "an unknown viewer (run `foundation refresh` with this profile)"
	}
	if e.OwnerOnly {
		return fmt.Sprintf("lens %q: %s may not %s it: only its owner may", e.Lens, who, e.Action)
	}
	have := e.Have.String() + " access"
	if e.Have == lens.LevelNone {
		have = "no access"
	}
	return fmt.Sprintf("lens %q: %s may not %s it: that needs %s access, and %s has %s", e.Lens, who, e.Action, e.Need, who, have)
}

// Access is a viewer's level on a Lens and what it comes from.
type Access struct {
	Level lens.Level `json:"-"`
	// Via is "owner" or the ACL principal that grants Level ("group:jira-developers"); ""
	// when the viewer has no access.
	Via string `json:"via,omitempty"`
}

// MarshalJSON writes the level by name.
func (a Access) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Level string `json:"level"`
		Via   string `json:"via,omitempty"`
	}{a.Level.String(), a.Via})
}

// Explain says it in a line: "bob: edit via group jira-developers".
func (a Access) Explain(who string) string {
	switch {
	case a.Level == lens.LevelNone:
		return who + ": no access"
	case a.Via == "owner":
		return who + ": control as owner"
	}
	return fmt.Sprintf("%s: %s via %s", who, a.Level, describePrincipal(a.Via))
}

// AccessOf is the viewer's level on the Lens: control for the owner, else the highest level
// of the ACL entries matching the viewer (first such entry names it). User principals and
// the owner match the viewer's id or one of its aliases exactly; group and role names
// compare case-insensitively, as Jira does. Entries that do not parse grant nothing.
func AccessOf(def *lens.Definition, v Viewer) Access {
	if def.Owner != "" && v.is(def.Owner) {
		return Access{Level: lens.LevelControl, Via: "owner"}
	}
	var best Access
	for _, e := range def.ACL {
		l, ok := lens.ParseLevel(e.Level)
		if !ok || l <= best.Level {
			continue
		}
		p, err := lens.ParsePrincipal(e.Principal)
		if err != nil || !v.matches(p) {
			continue
		}
		best = Access{Level: l, Via: principalString(p)}
	}
	return best
}

// is reports whether id names the viewer.
func (v Viewer) is(id string) bool {
	return v.User != "" && (id == v.User || slices.Contains(v.Aliases, id))
}

func (v Viewer) matches(p lens.Principal) bool {
	fold := func(list []string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, p.Name) })
	}
	switch p.Kind {
	case "anyone":
		return true
	case "user":
		return v.is(p.Name)
	case "group":
		return fold(v.Groups)
	case "role":
		return fold(v.Roles)
	}
	return false
}

func principalString(p lens.Principal) string {
	if p.Kind == "anyone" {
		return "anyone"
	}
	return p.Kind + ":" + p.Name
}

func describePrincipal(s string) string {
	p, err := lens.ParsePrincipal(s)
	if err != nil {
		return s
	}
	switch p.Kind {
	case "anyone":
		return "anyone"
	case "role":
		project, role, _ := strings.Cut(p.Name, "/")
		return fmt.Sprintf("role %s in %s", role, project)
	}
	return p.Kind + " " + p.Name
}

// RequireAccess returns an *AccessError unless the viewer holds need on the Lens.
func RequireAccess(def *lens.Definition, v Viewer, need lens.Level, action string) error {
	a := AccessOf(def, v)
	if a.Level >= need {
		return nil
	}
	return &AccessError{Lens: def.Name, Viewer: v.User, Action: action, Need: need, Have: a.Level}
}

// ACLLine is one entry of a Lens ACL (the owner first) with what it means.
type ACLLine struct {
	Principal string `json:"principal"` // "owner:ID" for the owner line
	Kind      string `json:"kind"`      // owner, user, group, role, anyone
	Name      string `json:"name,omitempty"`
	Level     string `json:"level"`
	// Explanation says who the entry covers and, when it covers the viewer, what the viewer
	// gets from it: "members of group jira-developers: edit (you, bob: edit via group
	// jira-developers)".
	Explanation string `json:"explanation"`
}

// ExplainACL lists the owner and the ACL entries with an explanation line each, from the
// viewer's side. name turns a user id into a display name (nil: ids as they are).
func ExplainACL(def *lens.Definition, v Viewer, name func(id string) string) []ACLLine {
	if name == nil {
		name = func(id string) string { return id }
	}
	label := func(id string) string {
		if n := name(id); n != "" && n != id {
			return fmt.Sprintf("%s (%s)", id, n)
		}
		return id
	}
	mine := AccessOf(def, v)
	you := "you"
	if v.User != "" {
		you = "you, " + label(v.User)
	}
	var out []ACLLine
	if def.Owner != "" {
		ex := label(def.Owner) + ": control as owner"
		if mine.Via == "owner" {
			ex += " (that is you)"
		}
		out = append(out, ACLLine{Principal: "owner:" + def.Owner, Kind: "owner", Name: def.Owner, Level: lens.LevelControl.String(), Explanation: ex})
	}
	for _, e := range def.ACL {
		line := ACLLine{Principal: e.Principal, Level: e.Level}
		p, err := lens.ParsePrincipal(e.Principal)
		if err != nil {
			line.Kind, line.Explanation = "invalid", "grants nothing: "+err.Error()
			out = append(out, line)
			continue
		}
		line.Kind, line.Name = p.Kind, p.Name
		switch p.Kind {
		case "anyone":
			line.Explanation = "everyone: " + e.Level
		case "user":
			line.Explanation = label(p.Name) + ": " + e.Level
		case "group":
			line.Explanation = fmt.Sprintf("members of group %s: %s", p.Name, e.Level)
		case "role":
			line.Explanation = fmt.Sprintf("members of %s: %s", describePrincipal(e.Principal), e.Level)
		}
		if v.matches(p) {
			if l, ok := lens.ParseLevel(e.Level); ok && l < mine.Level {
				line.Explanation += fmt.Sprintf(" (%s: %s overrides it)", you, strings.TrimPrefix(mine.Explain(""), ": "))
			} else {
				line.Explanation += fmt.Sprintf(" (%s)", mine.Explain(you))
			}
		}
		out = append(out, line)
	}
	return out
}

// ACLEdit is one change to a Lens ACL: entries granted (added, or their level changed),
// principals revoked, and optionally a new owner.
type ACLEdit struct {
	Grant  []lens.ACLEntry
	Revoke []string
	Owner  string // a user id, or "user:ID"; "" keeps the owner
}

// NoACLChangeError is returned for an edit that would leave the ACL as it is, so a typo in a
// revoked principal does not pass silently.
type NoACLChangeError struct {
	Lens   string
	Reason string
}

func (e *NoACLChangeError) Error() string { return fmt.Sprintf("lens %q: %s", e.Lens, e.Reason) }

// aclDoc is what the audit log keeps of an ACL.
type aclDoc struct {
	Owner string          `json:"owner,omitempty"`
	ACL   []lens.ACLEntry `json:"acl"`
}

// ChangeACL applies edit to the stored Lens name on behalf of the viewer, who needs control
// (and must be the owner to transfer ownership). expectVersion is the version the edit was
// based on (AnyVersion: whatever is stored); a change meanwhile is *store.LensConflictError.
// Every attempt, refused ones included, is audited as "acl.change" with the ACL before and
// after. It returns the new definition and version.
func ChangeACL(ctx context.Context, db *store.DB, name string, v Viewer, edit ACLEdit, expectVersion int64) (*lens.Definition, int64, error) {
	st, err := db.Lens(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	if v, err = withFreshRoles(ctx, db, v); err != nil {
		return nil, 0, err
	}
	def, err := parseStored(st)
	if err != nil {
		return nil, 0, err
	}
	before := aclDoc{Owner: def.Owner, ACL: slices.Clone(def.ACL)}
	next, err := applyACLEdit(def, v, edit)
	if err == nil && expectVersion != AnyVersion && expectVersion != st.Version {
		err = &store.LensConflictError{Name: name, Expected: expectVersion, Actual: st.Version}
	}
	var version int64
	var src []byte
	if err == nil {
		src, err = rewriteACL([]byte(st.YAML), next)
	}
	if err == nil {
		version, err = db.PutLens(ctx, store.Lens{Name: name, YAML: string(src), Owner: next.Owner, UpdatedBy: v.User}, st.Version)
	}
	after := before
	outcome := auditOutcome(err)
	if err == nil {
		after = aclDoc{Owner: next.Owner, ACL: next.ACL}
	}
	if aerr := auditACL(ctx, db, v.User, name, before, after, outcome); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return nil, 0, fmt.Errorf("change access list of lens %q: %w", name, err)
	}
	return next, version, nil
}

// applyACLEdit checks the viewer may make edit and returns the edited definition.
func applyACLEdit(def *lens.Definition, v Viewer, edit ACLEdit) (*lens.Definition, error) {
	if err := RequireAccess(def, v, lens.LevelControl, ActionACL); err != nil {
		return nil, err
	}
	owner := def.Owner
	if edit.Owner != "" {
		if def.Owner == "" || !v.is(def.Owner) {
			return nil, &AccessError{Lens: def.Name, Viewer: v.User, Action: ActionOwner, Need: lens.LevelControl, Have: AccessOf(def, v).Level, OwnerOnly: true}
		}
		o := edit.Owner
		if p, err := lens.ParsePrincipal(o); err == nil {
			if p.Kind != "user" {
				return nil, fmt.Errorf("owner %q: the owner is a user (user:ID)", o)
			}
			o = p.Name
		} else if strings.Contains(o, ":") || o == "" {
			return nil, fmt.Errorf("owner %q: the owner is a user (user:ID)", o)
		}
		owner = o
	}
	acl := slices.Clone(def.ACL)
	index := func(principal string) int {
		return slices.IndexFunc(acl, func(e lens.ACLEntry) bool { return samePrincipal(e.Principal, principal) })
	}
	for _, r := range edit.Revoke {
		p, err := lens.ParsePrincipal(r)
		if err != nil {
			return nil, err
		}
		i := index(principalString(p))
		if i < 0 {
			return nil, &NoACLChangeError{Lens: def.Name, Reason: fmt.Sprintf("no access entry for %s to revoke", r)}
		}
		acl = slices.Delete(acl, i, i+1)
	}
	for _, g := range edit.Grant {
		p, err := lens.ParsePrincipal(g.Principal)
		if err != nil {
			return nil, err
		}
		if _, ok := lens.ParseLevel(g.Level); !ok {
			return nil, fmt.Errorf("level %q for %s: want view, edit, generators or control", g.Level, g.Principal)
		}
		e := lens.ACLEntry{Principal: principalString(p), Level: g.Level}
		if i := index(e.Principal); i >= 0 {
			acl[i] = e
		} else {
			acl = append(acl, e)
		}
	}
	if owner == def.Owner && slices.Equal(acl, def.ACL) {
		return nil, &NoACLChangeError{Lens: def.Name, Reason: "the access list would not change"}
	}
	// A copy through the file format: a Definition holds its compiled form and a lock.
	src, err := def.Format()
	if err != nil {
		return nil, fmt.Errorf("copy lens %q: %w", def.Name, err)
	}
	next, err := lens.Parse(def.Filename(), src)
	if err != nil {
		return nil, fmt.Errorf("copy lens %q: %w", def.Name, err)
	}
	next.Owner, next.ACL = owner, acl
	return next, nil
}

// samePrincipal compares principals as Jira would: kinds exactly, user ids exactly, group
// and role names case-insensitively.
func samePrincipal(a, b string) bool {
	pa, err1 := lens.ParsePrincipal(a)
	pb, err2 := lens.ParsePrincipal(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	if pa.Kind != pb.Kind {
		return false
	}
	if pa.Kind == "user" {
		return pa.Name == pb.Name
	}
	return strings.EqualFold(pa.Name, pb.Name)
}

func auditACL(ctx context.Context, db *store.DB, actor, name string, before, after aclDoc, outcome string) error {
	b, err := json.Marshal(before)
	if err != nil {
		return err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	return db.Audit(context.WithoutCancel(ctx), store.AuditEntry{Actor: actor, Action: AuditActionACL, Target: name, Before: b, After: a, Outcome: outcome})
}

// parseStored parses a stored Lens. A file that names no owner is owned by whoever the
// record says created it.
func parseStored(st store.Lens) (*lens.Definition, error) {
	def, err := lens.Parse(st.Name, []byte(st.YAML))
	if err != nil {
		return nil, fmt.Errorf("stored lens %q: %w", st.Name, err)
	}
	if def.Owner == "" {
		def.Owner = st.Owner
	}
	return def, nil
}

// actorOf is who the audit log names for the viewer.
func actorOf(v Viewer) string {
	switch {
	case v.User != "":
		return v.User
	case v.Profile != "":
		return "profile:" + v.Profile
	}
	return "unknown"
}

// mayApply checks the viewer may store def over before (zero when it does not exist yet),
// with owner the owner it will have. When the owner or ACL change it returns the two
// versions for the audit log.
func mayApply(before store.Lens, def *lens.Definition, owner string, v Viewer) (*[2]aclDoc, error) {
	after := aclDoc{Owner: owner, ACL: def.ACL}
	if before.Version == 0 {
		if v.User == "" {
			return nil, &AccessError{Lens: def.Name, Action: "create", Need: lens.LevelControl}
		}
		return &[2]aclDoc{{}, after}, nil
	}
	prev, err := parseStored(before)
	if err != nil {
		// A stored file that no longer parses has no ACL anyone could hold: only the owner
		// of the record may replace it.
		if before.Owner != "" && v.is(before.Owner) {
			return &[2]aclDoc{{Owner: before.Owner}, after}, nil
		}
		return nil, &AccessError{Lens: def.Name, Viewer: v.User, Action: ActionDefinition, Need: lens.LevelControl, OwnerOnly: true}
	}
	moved := prev.Owner != owner || !slices.EqualFunc(prev.ACL, def.ACL, func(x, y lens.ACLEntry) bool {
		return x.Level == y.Level && samePrincipal(x.Principal, y.Principal)
	})
	if !moved {
		return nil, RequireAccess(prev, v, lens.LevelGenerators, ActionDefinition)
	}
	if err := RequireAccess(prev, v, lens.LevelControl, ActionACL); err != nil {
		return nil, err
	}
	if prev.Owner != owner && !v.is(prev.Owner) {
		return nil, &AccessError{Lens: def.Name, Viewer: v.User, Action: ActionOwner, Need: lens.LevelControl, Have: lens.LevelControl, OwnerOnly: true}
	}
	return &[2]aclDoc{{Owner: prev.Owner, ACL: prev.ACL}, after}, nil
}

// ACLView is a stored Lens's access list as a viewer sees it.
type ACLView struct {
	Lens    string
	Version int64
	Def     *lens.Definition // Owner filled from the record when the file names none
	Lines   []ACLLine        // ExplainACL's lines
	Access  Access           // the viewer's own
}

// LoadACL reads the access list of the stored Lens name with an explanation per entry. The
// viewer needs view access (*AccessError otherwise). name turns user ids into display names
// (nil: the cache's users).
func LoadACL(ctx context.Context, db *store.DB, lensName string, v Viewer, name func(id string) string) (ACLView, error) {
	st, err := db.Lens(ctx, lensName)
	if err != nil {
		return ACLView{}, err
	}
	if v, err = withFreshRoles(ctx, db, v); err != nil {
		return ACLView{}, err
	}
	def, err := parseStored(st)
	if err != nil {
		return ACLView{}, err
	}
	if err := RequireAccess(def, v, lens.LevelView, "read the access list of"); err != nil {
		return ACLView{}, err
	}
	if name == nil {
		users, err := userNames(ctx, db)
		if err != nil {
			return ACLView{}, fmt.Errorf("access list of lens %q: %w", lensName, err)
		}
		name = func(id string) string { return users[id] }
	}
	return ACLView{Lens: st.Name, Version: st.Version, Def: def, Lines: ExplainACL(def, v, name), Access: AccessOf(def, v)}, nil
}

// RequireLensAccess reads the stored Lens name and returns its definition (owner filled from
// the record when the file names none) if the viewer holds need on it, *AccessError
// otherwise. It is the check for paths that act on a Lens without opening it, such as
// inline edits from the TUI (need edit).
func RequireLensAccess(ctx context.Context, db *store.DB, lensName string, v Viewer, need lens.Level, action string) (*lens.Definition, error) {
	st, err := db.Lens(ctx, lensName)
	if err != nil {
		return nil, err
	}
	if v, err = withFreshRoles(ctx, db, v); err != nil {
		return nil, err
	}
	def, err := parseStored(st)
	if err != nil {
		return nil, err
	}
	if err := RequireAccess(def, v, need, action); err != nil {
		return nil, err
	}
	return def, nil
}

// rewriteACL writes next's owner and ACL into the stored file src, keeping everything else
// as written, comments included, so an ACL change does not reformat someone's Lens file.
// When the file's shape does not allow it (not a block mapping, or the result would not
// read back as next), the whole definition is formatted afresh instead.
func rewriteACL(src []byte, next *lens.Definition) ([]byte, error) {
	if out, ok := rewriteACLNodes(src, next); ok {
		return out, nil
	}
	return next.Format()
}

func rewriteACLNodes(src []byte, next *lens.Definition) ([]byte, bool) {
	f, err := parser.ParseBytes(src, parser.ParseComments)
	if err != nil || len(f.Docs) != 1 {
		return nil, false
	}
	prev, err := lens.Parse(next.Filename(), src)
	if err != nil {
		return nil, false
	}
	m, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok || m.IsFlowStyle {
		return nil, false
	}
	values := map[string]string{"owner": yamlScalar(next.Owner), "acl": "[]"}
	if next.Owner == "" {
		values["owner"] = `""`
	}
	if len(next.ACL) > 0 {
		var b strings.Builder
		for _, e := range next.ACL {
			fmt.Fprintf(&b, "\n  - {principal: %s, level: %s}", yamlScalar(e.Principal), yamlScalar(e.Level))
		}
		values["acl"] = b.String()
	}
	var appended strings.Builder
	for _, key := range []string{"owner", "acl"} {
		snippet, err := parser.ParseBytes([]byte(key+": "+values[key]+"\n"), 0)
		if err != nil || len(snippet.Docs) != 1 {
			return nil, false
		}
		sm, ok := snippet.Docs[0].Body.(*ast.MappingNode)
		if !ok || len(sm.Values) != 1 {
			return nil, false
		}
		found := false
		for _, mv := range m.Values {
			if tk := mv.Key.GetToken(); tk == nil || tk.Value != key {
				continue // (the key's String() carries a comment on its line)
			}
			found = true
			if unchangedACLValue(key, prev, next) {
				continue // as written, with its comments
			}
			repl := sm.Values[0].Value
			// A comment on the line of the value (`owner: olga # the lead`) stays.
			if c := mv.Value.GetComment(); c != nil {
				if err := repl.SetComment(c); err != nil {
					return nil, false
				}
			}
			if err := mv.Replace(repl); err != nil {
				return nil, false
			}
		}
		if !found && !(key == "acl" && len(next.ACL) == 0) && !(key == "owner" && next.Owner == "") {
			appended.WriteString(key + ": " + values[key] + "\n")
		}
	}
	out := strings.TrimRight(f.String(), "\n") + "\n" + appended.String()
	// Only a file that reads back as exactly next is kept.
	back, err := lens.Parse(next.Filename(), []byte(out))
	if err != nil || !back.Equal(next) {
		return nil, false
	}
	return []byte(out), true
}

// unchangedACLValue reports whether the stored file's owner or acl (key) already says
// what next does, so the value is left as written: an entry list or owner that an edit
// did not change keeps its layout and comments.
func unchangedACLValue(key string, prev, next *lens.Definition) bool {
	if key == "owner" {
		return prev.Owner == next.Owner
	}
	return slices.Equal(prev.ACL, next.ACL)
}

// plainScalar is what YAML reads as the same string unquoted in a flow mapping.
var plainScalar = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.@:/+-]*$`)

// yamlScalar writes s as a YAML scalar: plain when that reads back as s, else JSON-quoted
// (a JSON string is a YAML double-quoted scalar).
func yamlScalar(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~":
	default:
		if plainScalar.MatchString(s) && !strings.HasSuffix(s, ":") {
			return s
		}
	}
	b, _ := json.Marshal(s)
	return string(b)
}
