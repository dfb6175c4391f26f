package refresh

// Who sees which audit entries. The audit log keeps values before and after (an issue's
// summary, a Lens's whole file with its ACL), so it is filtered for the viewer the way Lens
// builds are: an entry about an issue shows only when the viewer may browse the issue (the
// stored grants, failing closed), an entry about a Lens only when the viewer may view it.

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"foundation/lens"
	"foundation/store"
)

// Audit actions written by Lens and ACL changes (issue edits: AuditActionEdit,
// AuditActionLink).
const (
	AuditActionLensPut    = "lens.put"
	AuditActionLensDelete = "lens.delete"
	AuditActionACL        = "acl.change"
)

// AuditActions lists every action the audit log records, for filters to check against: a
// misspelt action would otherwise match nothing and look like an empty log.
func AuditActions() []string {
	return []string{AuditActionEdit, AuditActionLink, AuditActionLensPut, AuditActionLensDelete, AuditActionACL}
}

// auditOutcome is the outcome an audit entry records for err, in the form the README
// documents: "ok", "conflict: …" when someone else changed it meanwhile, "failed: …".
func auditOutcome(err error) string {
	var lc *store.LensConflictError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &lc):
		return "conflict: " + err.Error()
	}
	return "failed: " + err.Error()
}

// AuditLog returns the newest audit entries matching f that the viewer may see, newest
// first; f.Limit (0: 1000) counts only those. An entry is shown when:
//   - it is about an issue (issue.edit, issue.link) the viewer may browse now, by the same
//     predicate Lens builds use (Visibility: fresh grants, failing closed), and every issue
//     an issue-valued field names in it (parent, Epic Link, rank, links) is one too. An
//     issue no longer in the cache (deleted, moved out of scope, renamed by a move) can no
//     longer be checked, so its entries are hidden;
//   - it is about a Lens (lens.put, lens.delete, acl.change) the viewer may view by its
//     current ACL, or, when it is deleted, by the ACL of the version that was deleted.
//
// Who acted does not matter: the viewer's own entries hold values read from the cache
// (a refused edit's old value, a refused apply's current file), which the viewer may no
// longer be allowed to see. Entries of any other action are hidden. The status says
// whether grants could be relied on (the caller reports it as export does); it never
// counts hidden entries. Nothing here asks Jira.
func AuditLog(ctx context.Context, db *store.DB, v Viewer, f store.AuditFilter, now time.Time) ([]store.AuditEntry, VisibilityStatus, error) {
	a, err := newAuditVisibility(ctx, db, v, now)
	if err != nil {
		return nil, VisibilityStatus{}, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	page := f
	page.Limit = min(max(limit, 100), 1000)
	var out []store.AuditEntry
	for {
		entries, err := db.AuditLog(ctx, page)
		if err != nil {
			return nil, a.status, err
		}
		if err := a.loadIssues(ctx, entries); err != nil {
			return nil, a.status, err
		}
		for _, e := range entries {
			ok, err := a.visible(ctx, e)
			if err != nil {
				return nil, a.status, err
			}
			if ok {
				out = append(out, e)
				if len(out) == limit {
					return out, a.status, nil
				}
			}
		}
		if len(entries) < page.Limit {
			return out, a.status, nil
		}
		page.Before = entries[len(entries)-1].ID
	}
}

// auditVisibility decides, entry by entry, what the viewer may see of the audit log.
type auditVisibility struct {
	db     *store.DB
	v      Viewer
	browse func(*lens.Issue) bool
	status VisibilityStatus
	wk     store.WellKnown
	issues map[string]bool // issue key -> the viewer may browse it (false: not cached)
	lenses map[string]bool // Lens name -> the viewer may view it
}

func newAuditVisibility(ctx context.Context, db *store.DB, v Viewer, now time.Time) (*auditVisibility, error) {
	v, err := withFreshRoles(ctx, db, v)
	if err != nil {
		return nil, err
	}
	browse, st, err := Visibility(ctx, db, v, now)
	if err != nil {
		return nil, err
	}
	wk, err := db.WellKnown(ctx)
	if err != nil {
		return nil, err
	}
	return &auditVisibility{db: db, v: v, browse: browse, status: st, wk: wk, issues: map[string]bool{}, lenses: map[string]bool{}}, nil
}

// issueKeyPattern finds issue keys in issue-valued fields ("ALPHA-7", "before beta-3").
var issueKeyPattern = regexp.MustCompile(`(?i)\b[a-z][a-z0-9_]*-[0-9]+\b`)

// auditIssueDoc is an issue entry's before or after document (auditValue).
type auditIssueDoc struct {
	Field string `json:"field"`
	ID    string `json:"field_id"`
	Value string `json:"value"`
}

// issueKeys are the issues an issue entry is about: its target first, then those its
// issue-valued fields name. ok is false when a document cannot be read, so what it names
// cannot be checked.
func (a *auditVisibility) issueKeys(e store.AuditEntry) (keys []string, ok bool) {
	keys = []string{strings.ToUpper(strings.TrimSpace(e.Target))}
	for _, raw := range []json.RawMessage{e.Before, e.After} {
		if len(raw) == 0 {
			continue
		}
		var d auditIssueDoc
		if json.Unmarshal(raw, &d) != nil {
			return keys, false
		}
		if e.Action != AuditActionLink && !a.issueValued(d) {
			continue
		}
		for _, k := range issueKeyPattern.FindAllString(d.Value, -1) {
			keys = append(keys, strings.ToUpper(k))
		}
	}
	return keys, true
}

// issueValued reports whether an edited field's values are issue keys.
func (a *auditVisibility) issueValued(d auditIssueDoc) bool {
	for _, id := range []string{"parent", "issuelinks", "subtasks", a.wk.EpicLink, a.wk.Rank} {
		if id != "" && strings.EqualFold(d.ID, id) {
			return true
		}
	}
	switch strings.ToLower(d.Field) {
	case "parent", "epic link", FieldRank, "issuelinks", "linked issues", "sub-tasks", "subtasks":
		return true
	}
	return false
}

// loadIssues reads from the cache, in one query, the issues the entries name that have
// not been decided yet.
func (a *auditVisibility) loadIssues(ctx context.Context, entries []store.AuditEntry) error {
	var want []string
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Action != AuditActionEdit && e.Action != AuditActionLink {
			continue
		}
		keys, _ := a.issueKeys(e)
		for _, k := range keys {
			if _, done := a.issues[k]; !done && !seen[k] {
				seen[k] = true
				want = append(want, k)
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	found, err := a.db.Issues(ctx, store.ReadOptions{Keys: want})
	if err != nil {
		return err
	}
	for _, k := range want {
		a.issues[k] = false // not cached: nothing can say the viewer may browse it
	}
	for i := range found {
		a.issues[found[i].Key] = a.browse(&found[i])
	}
	return nil
}

func (a *auditVisibility) visible(ctx context.Context, e store.AuditEntry) (bool, error) {
	switch e.Action {
	case AuditActionEdit, AuditActionLink:
		keys, ok := a.issueKeys(e)
		if !ok {
			return false, nil
		}
		for _, k := range keys {
			if !a.issues[k] {
				return false, nil
			}
		}
		return true, nil
	case AuditActionLensPut, AuditActionLensDelete, AuditActionACL:
		return a.lensVisible(ctx, e.Target)
	}
	return false, nil
}

// lensVisible reports whether the viewer may view the Lens name: by its stored ACL, or, for
// a deleted Lens, by the version that was deleted. A Lens of which no version is known
// (a refused creation) is visible to nobody.
func (a *auditVisibility) lensVisible(ctx context.Context, name string) (bool, error) {
	if ok, done := a.lenses[name]; done {
		return ok, nil
	}
	st, err := a.db.Lens(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		st, err = a.deletedLens(ctx, name)
	}
	if err != nil {
		return false, err
	}
	ok := false
	if st.Version != 0 {
		def, err := parseStored(st)
		if err != nil {
			// A file that no longer parses has no ACL anyone could hold: only the owner
			// of the record (as for replacing it).
			ok = st.Owner != "" && a.v.is(st.Owner)
		} else {
			ok = AccessOf(def, a.v).Level >= lens.LevelView
		}
	}
	a.lenses[name] = ok
	return ok, nil
}

// deletedLens is the last version of a deleted Lens, as its successful lens.delete entry
// recorded it; zero when there is none.
func (a *auditVisibility) deletedLens(ctx context.Context, name string) (store.Lens, error) {
	f := store.AuditFilter{Action: AuditActionLensDelete, Target: name, Limit: 100}
	for {
		entries, err := a.db.AuditLog(ctx, f)
		if err != nil {
			return store.Lens{}, err
		}
		for _, e := range entries {
			var d lensAuditDoc
			if e.Outcome == "ok" && json.Unmarshal(e.Before, &d) == nil && d.Version != 0 {
				return store.Lens{Name: name, Version: d.Version, Owner: d.Owner, YAML: d.YAML}, nil
			}
		}
		if len(entries) < f.Limit {
			return store.Lens{}, nil
		}
		f.Before = entries[len(entries)-1].ID
	}
}
