package refresh

// This file is the one path every consumer (export, lens show, the TUI, permissions) takes
// to open a stored Lens for a viewer, and to store, export and delete definitions.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"foundation/jira"
	"foundation/lens"
	"foundation/store"
)

// Viewer is who opens a Lens: the identity of the profile in use (which may differ from the
// identity that filled the cache) with what Jira reports about it.
type Viewer struct {
	lens.Viewer // user id, groups and project roles, for the Lens ACL
	// Dialect is the site's ("cloud" or "datacenter"): Epic Link children are followed on
	// Data Center only.
	Dialect string
	// DisplayName and Profile label the viewer in messages; Aliases are the other ids the
	// viewer goes by in ACL user principals and owners (Data Center user name, email).
	// ResolveViewer and RecallViewer (grants.go) fill them.
	DisplayName string
	Profile     string
	Aliases     []string
}

// Label names the viewer in messages as ACL explanations do, "id (Display Name)": the id
// alone when the name is unknown, "you (identity unknown)" when the id is.
func (v Viewer) Label() string {
	switch {
	case v.User == "":
		return "you (identity unknown)"
	case v.DisplayName != "" && v.DisplayName != v.User:
		return v.User + " (" + v.DisplayName + ")"
	}
	return v.User
}

// visibility is the viewer's permission predicate, applied by lens.Build before anything
// else, so no row, count, roll-up or export can show an issue the viewer may not browse:
// the viewer's stored grants, failing closed (grants.go). Grants expire by the wall clock,
// whatever clock the build's formulas use.
func visibility(ctx context.Context, db *store.DB, v Viewer) (visible func(*lens.Issue) bool, st VisibilityStatus, err error) {
	return Visibility(ctx, db, v, time.Now())
}

// OpenOptions adjust OpenLens.
type OpenOptions struct {
	// View is the view to compute ("" for the Lens's default view).
	View string
	// WithRaw reads every issue's raw field JSON even when the Lens itself does not need it
	// (a detail pane showing all fields, a filter on a custom field: lens.QueryNeedsRaw).
	// Lenses that need it get it regardless.
	WithRaw bool
	// Now is the clock of relative dates and formulas; zero means the time of each build.
	Now time.Time
	// Adjust, when set, changes the parsed definition before the build without storing it:
	// the columns a TUI viewer added to a view for themselves.
	Adjust func(*lens.Definition) (*lens.Definition, error)
}

// Opened is a Lens built for a viewer from one consistent snapshot of the cache.
type Opened struct {
	Stored store.Lens       // the stored definition: name, YAML, version, owner
	Def    *lens.Definition // parsed from Stored.YAML
	Data   *lens.Data       // the snapshot the forest was built from
	Forest *lens.Forest
	View   *lens.View // the requested view, its aggregates computed
	// Seq is the change feed position the forest reflects: Changes after Seq are what it
	// does not show yet.
	Seq int64
	// Notes are the build's caveats (remote JQL without members, hidden rows...).
	Notes []string
	// Access is the viewer's level on the Lens (at least view, or OpenLens refuses).
	Access Access
	// Visibility says whether the viewer's permissions could be verified; when Degraded,
	// rows are hidden for that reason and Notes say why (export exits 3).
	Visibility VisibilityStatus

	viewer  Viewer
	opt     OpenOptions
	withRaw bool
	visible func(*lens.Issue) bool // the last build's
}

// Sees reports whether the viewer may see the cached issue key, as the last build decided:
// for what refers to other issues outside the forest's rows (a detail pane's links). The shared cache holds links, sub-tasks and parents other profiles were shown;
// an issue the cache does not hold is not seen (fail closed).
func (o *Opened) Sees(key string) bool {
	is := o.Data.Lookup(key)
	return is != nil && (o.visible == nil || o.visible(is))
}

// Redact returns the cached issue is as the viewer is shown it, as the last build shows its
// rows: without the parent, Epic Link, sub-tasks and links that name issues the viewer may
// not see (lens.Redacted). For issues read from the cache outside the rows (a detail
// pane's full copy, an editor's starting value).
func (o *Opened) Redact(is *lens.Issue) *lens.Issue {
	return lens.Redacted(is, o.Data.Fields, o.Sees)
}

// RedactFor returns the cached issue is as the viewer v is shown it (lens.Redacted), deciding
// from the cache and v's stored grants, failing closed, as a build would: for an issue read
// outside a Lens build, such as the value an editor starts from.
func RedactFor(ctx context.Context, db *store.DB, v Viewer, is *lens.Issue) (*lens.Issue, error) {
	visible, _, err := Visibility(ctx, db, v, time.Now())
	if err != nil {
		return nil, err
	}
	fields, err := db.Fields(ctx)
	if err != nil {
		return nil, err
	}
	var ferr error
	seen := map[string]bool{}
	sees := func(key string) bool {
		if s, ok := seen[key]; ok {
			return s
		}
		other, err := db.Issue(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			ferr = err
		default:
			seen[key] = visible(&other)
		}
		return seen[key]
	}
	r := lens.Redacted(is, fields, sees)
	if ferr != nil {
		return nil, ferr
	}
	return r, nil
}

// OpenLens reads the stored Lens name, a snapshot of the cache (issues, links and the feed
// position in one read transaction), the field catalog and users, and builds the Lens for
// the viewer. A missing Lens is store.ErrNotFound; a stored definition that no longer
// validates against the cached field catalog is lens.DefinitionErrors.
func OpenLens(ctx context.Context, db *store.DB, name string, v Viewer, opt OpenOptions) (*Opened, error) {
	st, err := db.Lens(ctx, name)
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
	if err := RequireAccess(def, v, lens.LevelView, ActionOpen); err != nil {
		return nil, err
	}
	if opt.Adjust != nil {
		if def, err = opt.Adjust(def); err != nil {
			return nil, fmt.Errorf("lens %q: %w", name, err)
		}
	}
	fields, err := db.Fields(ctx)
	if err != nil {
		return nil, fmt.Errorf("open lens %q: %w", name, err)
	}
	withRaw := opt.WithRaw || def.NeedsRaw(fields)
	snap, err := db.Snapshot(ctx, store.ReadOptions{WithRaw: withRaw})
	if err != nil {
		return nil, fmt.Errorf("open lens %q: %w", name, err)
	}
	users, err := userNames(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("open lens %q: %w", name, err)
	}
	data := &lens.Data{
		Issues: snap.Issues, Links: snap.Links, Fields: fields, Users: users,
		Dialect: v.Dialect, Now: opt.Now, CurrentUser: v.User, Text: jira.ADFText,
	}
	if withRaw {
		data.OpenSprints = openSprints(data)
	}
	if data.RemoteMembers, data.RemoteRefused, err = remoteMembers(ctx, db, name, def); err != nil {
		return nil, fmt.Errorf("open lens %q: %w", name, err)
	}
	o := &Opened{Stored: st, Def: def, Data: data, Seq: snap.Seq, Access: AccessOf(def, v), viewer: v, opt: opt, withRaw: withRaw}
	if err := o.build(ctx, db); err != nil {
		return nil, err
	}
	return o, nil
}

// ReadsRaw reports whether the issues were read with their raw field JSON, so a filter
// that needs it (lens.QueryNeedsRaw) can be evaluated over o's issues.
func (o *Opened) ReadsRaw() bool { return o.withRaw }

// build runs lens.Build with the viewer's visibility and computes the requested view.
func (o *Opened) build(ctx context.Context, db *store.DB) error {
	visible, vst, err := visibility(ctx, db, o.viewer)
	if err != nil {
		return fmt.Errorf("open lens %q: visibility: %w", o.Stored.Name, err)
	}
	f, err := lens.BuildContext(ctx, o.Def, o.Data, visible)
	if err != nil {
		return fmt.Errorf("lens %q: %w", o.Stored.Name, err)
	}
	view, err := f.View(o.opt.View)
	if err != nil {
		return err // it names the Lens
	}
	o.Forest, o.View, o.Visibility, o.visible = f, view, vst, visible
	// Visibility notes are made after the build: it is the build that meets the issues
	// whose grants are missing.
	o.Notes = append(vst.Notes(time.Now()), f.Notes...)
	return nil
}

// maxIncremental is how many changed issues Update applies one by one; past it, reading
// the whole snapshot again is as cheap and simpler.
const maxIncremental = 500

// Update catches the Lens up with the change feed. When only issues were created or
// changed (the common case: a poll, a webhook, an edit) it re-reads just those issues and
// rebuilds over the kept snapshot, whose index lens.Data updates in place. Grants that
// changed or expired rebuild over it too, with the viewer's roles read again; anything
// else (deletions, links, the field catalog, this Lens's definition) reopens it. It
// returns o itself when nothing relevant changed.
//
// Update changes o.Data in place, so o's forest and view must not be read while Update
// runs; afterwards they show the new issue values on their old rows, and the returned
// Opened is the one to draw.
func (o *Opened) Update(ctx context.Context, db *store.DB) (*Opened, error) {
	changes, err := db.Changes(ctx, o.Seq, maxIncremental+1)
	if err != nil {
		return nil, fmt.Errorf("update lens %q: %w", o.Stored.Name, err)
	}
	// Grants that expired since the build hide their rows now, without waiting for a change.
	expired := !o.Visibility.Expires.IsZero() && !time.Now().Before(o.Visibility.Expires)
	if len(changes) == 0 && !expired {
		return o, nil
	}
	reopen := len(changes) > maxIncremental
	// Grants that changed or expired only change who sees what: the build recomputes
	// visibility from the cache every time, so the snapshot is kept (reading 100,000
	// issues again after every permission check cost more than the rest of a poll).
	regrant := expired
	users := false
	var keys []string
	seen := map[string]bool{}
	for _, c := range changes {
		switch c.Kind {
		case store.ChangeIssueCreated, store.ChangeIssueUpdated:
			if !seen[c.IssueKey] {
				seen[c.IssueKey] = true
				keys = append(keys, c.IssueKey)
			}
		case store.ChangeUsers:
			users = true
		case store.ChangeProjects:
			// Projects do not take part in builds.
		case store.ChangeLens:
			reopen = reopen || c.Detail == o.Stored.Name
		case store.ChangeGrants:
			regrant = true
		default:
			reopen = true
		}
	}
	if reopen {
		return OpenLens(ctx, db, o.Stored.Name, o.viewer, o.opt)
	}
	if len(keys) > 0 {
		issues, err := db.Issues(ctx, store.ReadOptions{Keys: keys, WithRaw: o.withRaw})
		if err != nil {
			return nil, fmt.Errorf("update lens %q: %w", o.Stored.Name, err)
		}
		for _, is := range issues {
			o.Data.SetIssue(is)
		}
	}
	if users {
		if o.Data.Users, err = userNames(ctx, db); err != nil {
			return nil, fmt.Errorf("update lens %q: %w", o.Stored.Name, err)
		}
	}
	n := &Opened{Stored: o.Stored, Def: o.Def, Data: o.Data, Seq: o.Seq, Access: o.Access, viewer: o.viewer, opt: o.opt, withRaw: o.withRaw}
	if len(changes) > 0 {
		n.Seq = changes[len(changes)-1].Seq
	}
	if regrant {
		// A check also renews the viewer's roles, which the Lens's ACL may name.
		v, err := withFreshRoles(ctx, db, o.viewer)
		if err != nil {
			return nil, err
		}
		if err := RequireAccess(o.Def, v, lens.LevelView, ActionOpen); err != nil {
			return nil, err
		}
		n.viewer, n.Access = v, AccessOf(o.Def, v)
	}
	if err := n.build(ctx, db); err != nil {
		return nil, err
	}
	return n, nil
}

func userNames(ctx context.Context, db *store.DB) (map[string]string, error) {
	us, err := db.Users(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(us))
	for _, u := range us {
		m[u.ID] = u.DisplayName
	}
	return m, nil
}

// openSprints answers JQL's openSprints() from the cache: the sprints on cached issues
// that are not closed. Only those can hold cached issues, so for a Lens over the cache
// this is the same answer Jira gives. It is computed once, on first use, and is safe for
// concurrent builds.
func openSprints(d *lens.Data) func() []string {
	return sync.OnceValue(func() []string {
		var ids []string
		sprintField := ""
		for _, f := range d.Fields {
			if f.SchemaCustom == "com.pyxis.greenhopper.jira:gh-sprint" {
				sprintField = f.ID
			}
		}
		if sprintField == "" {
			return nil
		}
		seen := map[string]bool{}
		for i := range d.Issues {
			for _, sp := range cachedSprints(d.Issues[i].Fields[sprintField]) {
				if sp.state != "closed" && !seen[sp.id] {
					seen[sp.id] = true
					ids = append(ids, sp.id)
				}
			}
		}
		return ids
	})
}

type cachedSprint struct{ id, state string }

// cachedSprints reads a sprint field: Cloud's (and newer Data Center's) array of objects, or
// older Data Center's array of "...Sprint@1a[id=3,rapidViewId=1,state=ACTIVE,name=...]".
func cachedSprints(raw json.RawMessage) []cachedSprint {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []cachedSprint
	for _, it := range items {
		var obj struct {
			ID    json.Number `json:"id"`
			State string      `json:"state"`
		}
		if json.Unmarshal(it, &obj) == nil && obj.ID != "" {
			out = append(out, cachedSprint{string(obj.ID), strings.ToLower(obj.State)})
			continue
		}
		var s string
		if json.Unmarshal(it, &s) != nil {
			continue
		}
		if i, j := strings.IndexByte(s, '['), strings.LastIndexByte(s, ']'); i >= 0 && j > i {
			var sp cachedSprint
			for _, kv := range strings.Split(s[i+1:j], ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "id":
					sp.id = v
				case "state":
					sp.state = strings.ToLower(v)
				}
			}
			if _, err := strconv.ParseInt(sp.id, 10, 64); err == nil {
				out = append(out, sp)
			}
		}
	}
	return out
}

// AnyVersion makes ApplyLens overwrite whatever version is stored (or create the Lens).
const AnyVersion int64 = -1

// AppliedLens is what ApplyLens stored.
type AppliedLens struct {
	Name    string
	Version int64 // the new version: 1 when created; the stored one when Unchanged
	Created bool
	// Unchanged is an apply of exactly the file stored (comments and layout included,
	// since the stored file is what `lens export` gives back): nothing is written, no
	// version is made and nothing is audited, as for an edit to the value a field holds.
	Unchanged bool
}

// ApplyLens validates a Lens file against the cached field catalog and stores it, creating
// it or replacing the stored version expectVersion (AnyVersion: whatever is stored; 0: it
// must not exist yet). The source is stored verbatim, comments included, so ExportLens
// gives back the file as written. Bad files are lens.DefinitionErrors naming file, line and
// field, and change nothing; a stale expectVersion is *store.LensConflictError. Every
// attempt that reaches the store is audited as "lens.put" by the viewer; an apply of the
// stored file itself, by a viewer who may change it, is Unchanged and stores nothing.
//
// The Lens ACL applies: creating needs a known viewer, who owns the Lens when the file names
// no owner; replacing needs generators access, or control when the owner or ACL change
// (also audited as "acl.change"). Refusals are *AccessError, audited too.
func ApplyLens(ctx context.Context, db *store.DB, filename string, src []byte, v Viewer, expectVersion int64) (AppliedLens, error) {
	actor := actorOf(v)
	def, err := lens.Parse(filename, src)
	if err != nil {
		return AppliedLens{}, err
	}
	if v, err = withFreshRoles(ctx, db, v); err != nil {
		return AppliedLens{}, err
	}
	fields, err := db.Fields(ctx)
	if err != nil {
		return AppliedLens{}, fmt.Errorf("apply %s: %w", filename, err)
	}
	if err := def.Validate(lens.NewCatalog(fields)); err != nil {
		return AppliedLens{}, err
	}
	before, err := db.Lens(ctx, def.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		before = store.Lens{}
	case err != nil:
		return AppliedLens{}, fmt.Errorf("apply %s: %w", filename, err)
	}
	expect := expectVersion
	if expect == AnyVersion {
		expect = before.Version
	}
	owner := def.Owner
	if owner == "" {
		owner = before.Owner // the record keeps the creator when the file names no owner
	}
	if owner == "" {
		owner = v.User
	}
	l := store.Lens{Name: def.Name, YAML: string(src), Owner: owner, UpdatedBy: actor}
	aclMoved, err := mayApply(before, def, owner, v)
	if err == nil && before.Version > 0 && expect == before.Version && before.YAML == l.YAML && before.Owner == owner {
		return AppliedLens{Name: def.Name, Version: before.Version, Unchanged: true}, nil
	}
	var version int64
	if err == nil {
		version, err = db.PutLens(ctx, l, expect)
	}
	outcome := auditOutcome(err)
	after := l
	after.Version = version
	if aerr := auditLensChange(ctx, db, AuditActionLensPut, actor, def.Name, before, after, outcome); aerr != nil && err == nil {
		err = aerr
	}
	if err == nil && aclMoved != nil {
		err = auditACL(ctx, db, actor, def.Name, aclMoved[0], aclMoved[1], "ok")
	}
	if err != nil {
		return AppliedLens{}, fmt.Errorf("apply %s: %w", filename, err)
	}
	return AppliedLens{Name: def.Name, Version: version, Created: before.Version == 0}, nil
}

// ExportLens returns the stored definition as applied, which ApplyLens reads back as the
// same definition, and the stored record (version, owner, updated). The viewer needs view
// access (*AccessError otherwise).
func ExportLens(ctx context.Context, db *store.DB, name string, v Viewer) ([]byte, store.Lens, error) {
	l, err := db.Lens(ctx, name)
	if err != nil {
		return nil, store.Lens{}, err
	}
	if v, err = withFreshRoles(ctx, db, v); err != nil {
		return nil, store.Lens{}, err
	}
	def, err := parseStored(l)
	if err != nil {
		return nil, store.Lens{}, err
	}
	if err := RequireAccess(def, v, lens.LevelView, ActionExport); err != nil {
		return nil, store.Lens{}, err
	}
	return []byte(l.YAML), l, nil
}

// DeleteLens removes the stored Lens if its version is expectVersion (AnyVersion: any),
// audited as "lens.delete" by the viewer, who needs control (*AccessError otherwise,
// audited too).
func DeleteLens(ctx context.Context, db *store.DB, name string, v Viewer, expectVersion int64) error {
	actor := actorOf(v)
	before, err := db.Lens(ctx, name)
	if err != nil {
		return err
	}
	if v, err = withFreshRoles(ctx, db, v); err != nil {
		return err
	}
	expect := expectVersion
	if expect == AnyVersion {
		expect = before.Version
	}
	def, err := parseStored(before)
	if err == nil {
		err = RequireAccess(def, v, lens.LevelControl, ActionDelete)
	}
	if err == nil {
		err = db.DeleteLens(ctx, name, expect)
	}
	outcome := auditOutcome(err)
	if aerr := auditLensChange(ctx, db, AuditActionLensDelete, actor, name, before, store.Lens{}, outcome); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return fmt.Errorf("delete lens %q: %w", name, err)
	}
	return nil
}

// lensAuditDoc is what the audit log keeps of a Lens version.
type lensAuditDoc struct {
	Version int64  `json:"version"`
	Owner   string `json:"owner,omitempty"`
	YAML    string `json:"yaml"`
}

func auditLensChange(ctx context.Context, db *store.DB, action, actor, target string, before, after store.Lens, outcome string) error {
	doc := func(l store.Lens) (json.RawMessage, error) {
		if l.Version == 0 {
			return nil, nil
		}
		return json.Marshal(lensAuditDoc{l.Version, l.Owner, l.YAML})
	}
	b, err := doc(before)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	a, err := doc(after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	// The audit entry is written even when the request failed, so refused changes are on
	// record; the caller's context may be cancelled by then, so it does not decide.
	return db.Audit(context.WithoutCancel(ctx), store.AuditEntry{Actor: actor, Action: action, Target: target, Before: b, After: a, Outcome: outcome})
}
