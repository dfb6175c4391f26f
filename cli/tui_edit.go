package cli

// The TUI's write side on a real site: siteBackend plus tui.Editor over refresh.Writer, so
// a cell edit, a bulk edit, an undo and a move take the same path as `foundation edit`
// (editmeta check, conflict check against the cached updated the edit started from, PUT or
// transition, read-back, version-guarded upsert, change feed, audit).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"foundation/jira"
	"foundation/jql"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
	"foundation/tui"
)

// editingBackend is a siteBackend that can edit: the TUI shows its edit keys.
type editingBackend struct {
	*siteBackend
	w    *refresh.Writer
	hist *refresh.History // the session's undo and redo

	emu       sync.Mutex
	progress  func(done, total int) // the running bulk edit's, nil when none
	waitUntil time.Time             // a write waits for Jira until then
	waitWhat  string
	sprints   map[string][]string // open and future sprints seen in the cache, by project

	inflight atomic.Int64    // writes in flight (Set, Bulk, Undo, Redo, Move, Rank)
	idle     []chan struct{} // closed when inflight drops to 0 (emu)
}

var _ tui.Editor = (*editingBackend)(nil)

// newEditingBackend adds the write-back path to b; edits are audited as the viewer.
func newEditingBackend(b *siteBackend) *editingBackend {
	e := &editingBackend{siteBackend: b, hist: &refresh.History{}, sprints: map[string][]string{}}
	e.w = refresh.NewWriter(b.client, b.db, refresh.WriterOptions{Actor: b.viewer.User, Engine: b.eng, Progress: e.onProgress})
	return e
}

// OnClientEvent takes the Jira client's retry and rate-limit events (wire it as the
// client's jira.Options.OnEvent) so the status bar says when a write is waiting.
func (e *editingBackend) OnClientEvent(ev jira.Event) { e.w.OnClientEvent(ev) }

// Status adds what a write is waiting for to the site's status.
func (e *editingBackend) Status(ctx context.Context) (tui.Status, error) {
	st, err := e.siteBackend.Status(ctx)
	e.emu.Lock()
	if left := time.Until(e.waitUntil); left > 0 {
		st.Waiting = e.waitWhat + " " + left.Round(time.Second).String()
	}
	e.emu.Unlock()
	return st, err
}

func (e *editingBackend) onProgress(ev refresh.EditEvent) {
	if ev.Kind == "rate-limited" || ev.Kind == "retry" {
		what := "Jira rate limit: waiting"
		if ev.Kind == "retry" {
			what = "Jira retry in"
		}
		if ev.Key != "" {
			what = ev.Key + ": " + what
		}
		e.emu.Lock()
		e.waitUntil, e.waitWhat = time.Now().Add(ev.Wait), what
		e.emu.Unlock()
		return
	}
	if ev.Kind != "bulk" {
		return
	}
	e.emu.Lock()
	p := e.progress
	e.emu.Unlock()
	if p != nil {
		p(ev.Done, ev.Total)
	}
}

// editField is a Lens column's field resolved against the cached catalog.
type editField struct {
	id, name string
	schema   lens.Field
}

// tuiSystemFields are the spellings of system fields a Lens column may use.
var tuiSystemFields = map[string]string{
	"summary": "summary", "description": "description", "status": "status", "priority": "priority",
	"resolution": "resolution", "assignee": "assignee", "reporter": "reporter", "labels": "labels",
	"components": "components", "fixversions": "fixVersions", "fix versions": "fixVersions",
	"versions": "versions", "duedate": "duedate", "due": "duedate", "due date": "duedate",
	"parent": "parent", "security": "security", "issuetype": "issuetype", "type": "issuetype",
}

func (e *editingBackend) resolve(ctx context.Context, name string) (editField, error) {
	cat, err := e.db.Fields(ctx)
	if err != nil {
		return editField{}, err
	}
	wk, err := e.db.WellKnown(ctx)
	if err != nil {
		return editField{}, err
	}
	n := strings.ToLower(strings.TrimSpace(name))
	id := tuiSystemFields[n]
	switch n {
	case "story points", "storypoints", "sp", "points":
		id = wk.StoryPoints
	case "sprint":
		id = wk.Sprint
	case "epic link", "epiclink", "epic":
		id = wk.EpicLink
	}
	for _, f := range cat {
		if (id != "" && f.ID == id) || (id == "" && (strings.EqualFold(f.ID, n) || strings.EqualFold(f.Name, name))) {
			return editField{id: f.ID, name: f.Name, schema: f}, nil
		}
	}
	if id != "" {
		return editField{id: id, name: name, schema: lens.Field{ID: id, Name: name}}, nil
	}
	return editField{}, fmt.Errorf("unknown field %q", name)
}

// editorKind picks the TUI editor for a field.
func editorKind(f lens.Field, wk store.WellKnown) tui.FieldKind {
	switch {
	case f.ID == "status":
		return tui.KindStatus
	case f.ID == "parent" || (wk.EpicLink != "" && f.ID == wk.EpicLink):
		return tui.KindParent
	case f.ID == "labels" || (f.SchemaType == "array" && f.SchemaItems == "string"):
		return tui.KindMultiSelect
	case wk.Sprint != "" && f.ID == wk.Sprint, f.SchemaCustom == "com.pyxis.greenhopper.jira:gh-sprint":
		return tui.KindSprint
	case f.ID == "duedate" || f.SchemaType == "date":
		return tui.KindDate
	case f.ID == "assignee" || f.ID == "reporter" || f.SchemaType == "user":
		return tui.KindUser
	case f.SchemaType == "number":
		return tui.KindNumber
	case f.SchemaType == "array":
		return tui.KindMultiSelect
	case f.ID == "priority" || f.ID == "resolution" || f.ID == "security" || f.ID == "issuetype",
		slices.Contains([]string{"option", "priority", "resolution", "securitylevel", "version", "component"}, f.SchemaType):
		return tui.KindSelect
	}
	return tui.KindText
}

// requireEdit refuses a viewer without edit level on the Lens.
func (e *editingBackend) requireEdit(ctx context.Context, lensID string) (*lens.Definition, error) {
	return e.requireEditTo(ctx, lensID, refresh.ActionEditCells)
}

// requireEditTo is requireEdit for an action named in the refusal (moving rows).
func (e *editingBackend) requireEditTo(ctx context.Context, lensID, action string) (*lens.Definition, error) {
	// The one Lens ACL check (owner from the record when the file names none); a refusal
	// is a *refresh.AccessError saying who, what is needed and what they have.
	v := e.who()
	def, err := refresh.RequireLensAccess(ctx, e.db, lensID, v, lens.LevelEdit, action)
	var ae *refresh.AccessError
	if errors.As(err, &ae) && ae.Viewer == v.User && v.DisplayName != "" {
		// Messages name the viewer as people know them, not by account id.
		named := *ae
		named.Viewer = v.DisplayName
		return def, &named
	}
	return def, err
}

func (e *editingBackend) EditMeta(ctx context.Context, lensID, key, name string) (tui.FieldEdit, error) {
	if _, err := e.requireEdit(ctx, lensID); err != nil {
		return tui.FieldEdit{}, err
	}
	f, err := e.resolve(ctx, name)
	if err != nil {
		return tui.FieldEdit{}, err
	}
	wk, err := e.db.WellKnown(ctx)
	if err != nil {
		return tui.FieldEdit{}, err
	}
	is, err := e.shownIssue(ctx, key)
	if err != nil {
		return tui.FieldEdit{}, fmt.Errorf("%s is not in the cache: %w", key, err)
	}
	fe := tui.FieldEdit{Field: f.id, Name: f.name, Kind: editorKind(f.schema, wk)}
	fe.Current = cachedValue(is, f, fe.Kind, wk)
	switch fe.Kind {
	case tui.KindStatus:
		ts, err := e.client.Transitions(ctx, key)
		if err != nil {
			return fe, fmt.Errorf("transitions of %s: %w", key, err)
		}
		if len(ts) == 0 {
			return fe, fmt.Errorf("Jira offers you no transition on %s", key)
		}
		fe.Required = true
		fe.Screens = map[string][]tui.ScreenField{}
		for _, t := range ts {
			if !slices.Contains(fe.Allowed, t.To.Name) {
				fe.Allowed = append(fe.Allowed, t.To.Name)
			}
			ids := make([]string, 0, len(t.Fields))
			for id := range t.Fields {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				ef := t.Fields[id]
				if ef.Required && !ef.HasDefaultValue {
					fe.Screens[t.To.Name] = append(fe.Screens[t.To.Name], tui.ScreenField{Field: id, Name: ef.Name, Allowed: allowedValueNames(ef)})
				}
			}
		}
		return fe, nil
	case tui.KindSprint:
		fe.Allowed, err = e.openSprints(ctx, is.Project, f.id)
		if err != nil {
			return fe, err
		}
	}
	m, err := e.w.EditMeta(ctx, key, is.Project, is.Type, false)
	if err != nil {
		return fe, fmt.Errorf("edit screen of %s: %w", key, err)
	}
	ef, ok := m.Fields[f.id]
	if !ok {
		// The kept metadata may predate a screen change: ask Jira once more before refusing.
		if m, err = e.w.EditMeta(ctx, key, is.Project, is.Type, true); err != nil {
			return fe, fmt.Errorf("edit screen of %s: %w", key, err)
		}
		ef, ok = m.Fields[f.id]
	}
	if !ok {
		if len(m.Fields) == 0 {
			return fe, fmt.Errorf("Jira lets you edit no field of %s", key)
		}
		return fe, fmt.Errorf("%s cannot be edited on %s (not on its edit screen)", f.name, key)
	}
	// Jira keeps a priority and a type on every issue: it refuses to clear them ("Specify
	// a valid 'id' or 'name' for Priority") even where editmeta calls them optional, so
	// the editor must not offer (none).
	fe.Required = ef.Required || f.id == "priority" || f.id == "issuetype"
	if fe.Kind != tui.KindSprint {
		fe.Allowed = allowedValueNames(ef)
	}
	if fe.Kind == tui.KindSelect && fe.Allowed == nil {
		fe.Kind = tui.KindText // no list to pick from: type the name
	}
	return fe, nil
}

func allowedValueNames(ef jira.EditField) []string {
	var out []string
	for _, raw := range ef.AllowedValues {
		if n := optionValueText(raw); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// optionValueText is an option's name (or value), a string as is.
func optionValueText(raw json.RawMessage) string {
	var o struct {
		Name, Value, Key string
	}
	if json.Unmarshal(raw, &o) == nil {
		switch {
		case o.Name != "":
			return o.Name
		case o.Value != "":
			return o.Value
		}
		return o.Key
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return strconv.FormatFloat(n, 'f', -1, 64)
	}
	return ""
}

// cachedValue is the field's cached value in the value syntax (users by id, lists comma
// separated), what the editor starts from.
func cachedValue(is lens.Issue, f editField, kind tui.FieldKind, wk store.WellKnown) string {
	switch f.id {
	case "summary":
		return is.Summary
	case "status":
		return is.Status
	case "priority":
		return is.Priority
	case "assignee":
		return is.Assignee
	case "reporter":
		return is.Reporter
	case "duedate":
		return is.DueDate
	case "labels":
		return strings.Join(is.Labels, ",")
	case "parent":
		return is.Parent
	}
	if wk.EpicLink != "" && f.id == wk.EpicLink {
		return is.EpicLink
	}
	if wk.StoryPoints != "" && f.id == wk.StoryPoints && is.StoryPoints != nil {
		return strconv.FormatFloat(*is.StoryPoints, 'f', -1, 64)
	}
	raw := is.Fields[f.id]
	switch kind {
	case tui.KindSprint:
		var sps []tuiSprint
		_ = json.Unmarshal(raw, &sps) // a value that does not decode starts the editor empty
		var names []string
		for _, sp := range sps {
			if sp.State != "closed" {
				names = append(names, sp.Name)
			}
		}
		return strings.Join(names, ",")
	case tui.KindUser:
		var u struct {
			AccountID string `json:"accountId"`
			Name      string `json:"name"`
		}
		_ = json.Unmarshal(raw, &u)
		if u.AccountID != "" {
			return u.AccountID
		}
		return u.Name
	case tui.KindMultiSelect:
		var list []json.RawMessage
		_ = json.Unmarshal(raw, &list)
		var names []string
		for _, it := range list {
			if n := optionValueText(it); n != "" {
				names = append(names, n)
			}
		}
		return strings.Join(names, ",")
	case tui.KindText:
		if len(raw) > 0 && raw[0] == '{' {
			return jira.ADFText(raw) // a rich text field on Cloud
		}
	}
	return optionValueText(raw)
}

// tuiSprint is a sprint as the sprint field holds it.
type tuiSprint struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// openSprints lists the active and future sprints the cache has seen in a project (what
// the Writer resolves sprint names against).
func (e *editingBackend) openSprints(ctx context.Context, project, id string) ([]string, error) {
	e.emu.Lock()
	s, ok := e.sprints[project]
	e.emu.Unlock()
	if ok {
		return s, nil
	}
	issues, err := e.db.Issues(ctx, store.ReadOptions{WithRaw: true, Projects: []string{project}})
	if err != nil {
		return nil, fmt.Errorf("sprints of %s: %w", project, err)
	}
	seen := map[int64]bool{}
	var refs []tuiSprint
	for _, is := range issues {
		var sps []tuiSprint
		if json.Unmarshal(is.Fields[id], &sps) != nil {
			continue
		}
		for _, sp := range sps {
			if !seen[sp.ID] && sp.State != "closed" {
				seen[sp.ID] = true
				refs = append(refs, sp)
			}
		}
	}
	slices.SortFunc(refs, func(a, b tuiSprint) int { return int(a.ID - b.ID) })
	for _, r := range refs {
		s = append(s, r.Name)
	}
	e.emu.Lock()
	e.sprints[project] = s
	e.emu.Unlock()
	return s, nil
}

const maxTUISuggestions = 20

// Suggest completes users from Jira (assignable ones for the assignee), and labels and
// parent keys from the rows of the Lenses open in this session: those are what the
// viewer may see, so no hidden issue leaks through a completion. Parents are only those
// Jira takes for the issue (canParent).
func (e *editingBackend) Suggest(ctx context.Context, key, name, query string) ([]tui.Suggestion, error) {
	f, err := e.resolve(ctx, name)
	if err != nil {
		return nil, err
	}
	wk, err := e.db.WellKnown(ctx)
	if err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(query))
	var out []tui.Suggestion
	switch editorKind(f.schema, wk) {
	case tui.KindUser:
		var users []jira.User
		if f.id == "assignee" {
			users, err = e.client.AssignableUsers(ctx, key, query)
		} else {
			users, err = e.client.SearchUsers(ctx, query)
		}
		if err != nil {
			return nil, fmt.Errorf("find users %q: %w", query, err)
		}
		for _, u := range users {
			out = append(out, tui.Suggestion{Value: u.ID(), Label: u.DisplayName})
		}
	case tui.KindMultiSelect:
		seen := map[string]bool{}
		for _, is := range e.visibleIssues() {
			for _, l := range is.Labels {
				if !seen[l] && strings.Contains(strings.ToLower(l), q) {
					seen[l] = true
					out = append(out, tui.Suggestion{Value: l, Label: l})
				}
			}
		}
		slices.SortFunc(out, func(a, b tui.Suggestion) int { return strings.Compare(a.Value, b.Value) })
	case tui.KindParent:
		child, err := e.shownIssue(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("%s is not in the cache: %w", key, err)
		}
		for _, is := range e.visibleIssues() {
			if is.Key != key && canParent(*is, child, f.id != "parent") && strings.Contains(strings.ToLower(is.Key+" "+is.Summary), q) {
				out = append(out, tui.Suggestion{Value: is.Key, Label: is.Key + " " + is.Summary})
			}
		}
	}
	if len(out) > maxTUISuggestions {
		out = out[:maxTUISuggestions]
	}
	return out, nil
}

// canParent reports whether Jira takes p as the parent of child (epicLink: as its Epic
// Link), so the parent picker suggests nothing Jira always refuses: an issue one level
// up the hierarchy (an epic for a story, task or bug), and for a sub-task a standard
// issue of its own project. An Epic Link is always an epic.
func canParent(p, child lens.Issue, epicLink bool) bool {
	pl, cl := hierarchyLevel(p), hierarchyLevel(child)
	switch {
	case epicLink:
		return pl == 1
	case cl < 0:
		return pl == 0 && p.Project == child.Project
	}
	return pl == cl+1
}

// hierarchyLevel is the level of an issue's type in Jira's hierarchy: -1 sub-task, 0
// standard, 1 epic (Cloud may define more above). Jira Cloud sends it with the issue
// type; Data Center does not, so it is read from the type there.
func hierarchyLevel(is lens.Issue) int {
	var t struct {
		HierarchyLevel *int `json:"hierarchyLevel"`
	}
	if json.Unmarshal(is.Fields["issuetype"], &t) == nil && t.HierarchyLevel != nil {
		return *t.HierarchyLevel
	}
	switch {
	case is.Subtask:
		return -1
	case strings.EqualFold(is.Type, "Epic"):
		return 1
	}
	return 0
}

// visibleIssues are the issues on the rows of the Lens on screen, each once.
func (e *editingBackend) visibleIssues() []*lens.Issue {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := map[string]bool{}
	var out []*lens.Issue
	if o := e.opened; o != nil {
		for i := range o.Forest.Rows {
			if is := o.Forest.Rows[i].Issue; is != nil && !seen[is.Key] {
				seen[is.Key] = true
				out = append(out, is)
			}
		}
	}
	return out
}

func (e *editingBackend) Set(ctx context.Context, key, name, value string, opt tui.SetOptions) (tui.EditResult, error) {
	defer e.writing()()
	r, err := e.w.Set(ctx, key, name, value, opt.Base, refresh.SetOptions{Overwrite: opt.Overwrite, Screen: opt.Screen, History: e.hist})
	var rb *refresh.ReadBackError
	if errors.As(err, &rb) {
		// Jira has the value, the audit log and the undo history too: the cell keeps it.
		res := e.editResult(ctx, r)
		res.Note = fmt.Sprintf("reading it back failed (%v); the next refresh brings it into the cache", rb.Err)
		return res, nil
	}
	if err != nil {
		return tui.EditResult{}, editError(err)
	}
	return e.editResult(ctx, r), nil
}

// writing counts a write in flight until the function it returns is called: runTUI waits
// for those still in flight when the TUI is quit, so what Jira took is also cached and
// audited before the process ends.
func (e *editingBackend) writing() func() {
	e.inflight.Add(1)
	return func() {
		if e.inflight.Add(-1) == 0 {
			e.emu.Lock()
			for _, ch := range e.idle {
				close(ch)
			}
			e.idle = nil
			e.emu.Unlock()
		}
	}
}

// waitWrites waits until no write is in flight, ctx ends or limit passes; it returns how
// many were still in flight then.
func (e *editingBackend) waitWrites(ctx context.Context, limit time.Duration) int64 {
	e.emu.Lock()
	if e.inflight.Load() == 0 {
		e.emu.Unlock()
		return 0
	}
	ch := make(chan struct{})
	e.idle = append(e.idle, ch)
	e.emu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
	case <-t.C:
	}
	return e.inflight.Load()
}

// editResult is a Writer result for the TUI, with the field's name for its messages.
func (e *editingBackend) editResult(ctx context.Context, r refresh.Result) tui.EditResult {
	out := editResult(r)
	id := r.ID
	if id == "" {
		id = r.Field
	}
	if f, err := e.resolve(ctx, id); err == nil {
		out.Name = f.name
	}
	return out
}

func editResult(r refresh.Result) tui.EditResult {
	return tui.EditResult{Key: r.Key, Field: r.Field, Old: r.Old, New: r.New, Unchanged: r.Unchanged, Delta: r.Delta}
}

// editError turns the Writer's typed errors into the TUI's, which it shows as a conflict
// dialog or Jira's message for the field; errors joined (an undo of a bulk edit) are
// turned one by one.
func editError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, editError(e))
		}
		return errors.Join(out...)
	}
	var ce *refresh.ConflictError
	var fe *refresh.FieldError
	switch {
	case errors.As(err, &ce):
		return &tui.ConflictError{Key: ce.Key, Field: ce.Field, Theirs: ce.Theirs, Mine: ce.Mine, When: ce.TheirsUpdated}
	case errors.As(err, &fe):
		return &tui.FieldError{Key: fe.Key, Field: fe.Field, Message: fe.Message, Missing: fe.Missing}
	}
	return err
}

func (e *editingBackend) Undo(ctx context.Context, opt tui.SetOptions) ([]tui.EditResult, error) {
	defer e.writing()()
	rs, err := e.w.Undo(ctx, e.hist, refresh.SetOptions{Overwrite: opt.Overwrite, Screen: opt.Screen})
	return e.editResults(ctx, rs), historyError(err)
}

func (e *editingBackend) Redo(ctx context.Context, opt tui.SetOptions) ([]tui.EditResult, error) {
	defer e.writing()()
	rs, err := e.w.Redo(ctx, e.hist, refresh.SetOptions{Overwrite: opt.Overwrite, Screen: opt.Screen})
	return e.editResults(ctx, rs), historyError(err)
}

// historyError is an undo's (redo's) error for the TUI; nil stays nil.
func historyError(err error) error {
	if err == nil {
		return nil
	}
	return editError(err)
}

func (e *editingBackend) Step(ctx context.Context, redo bool) []tui.EditResult {
	s := e.hist.Peek(redo)
	if s == nil {
		return nil
	}
	return e.editResults(ctx, s)
}

func (e *editingBackend) Drop(ctx context.Context, redo bool) ([]tui.EditResult, error) {
	s, ok := e.hist.Drop(redo)
	if !ok {
		if redo {
			return nil, refresh.ErrNothingToRedo
		}
		return nil, refresh.ErrNothingToUndo
	}
	return e.editResults(ctx, s), nil
}

func (e *editingBackend) editResults(ctx context.Context, rs []refresh.Result) []tui.EditResult {
	out := make([]tui.EditResult, len(rs))
	for i, r := range rs {
		out[i] = e.editResult(ctx, r)
	}
	return out
}

// shownIssue reads an issue from the cache as the viewer is shown it: an editor must not
// start from, nor a bulk edit skip by, a parent or Epic Link the viewer may not see.
func (e *editingBackend) shownIssue(ctx context.Context, key string) (lens.Issue, error) {
	is, err := e.db.Issue(ctx, key)
	if err != nil {
		return lens.Issue{}, err
	}
	r, err := refresh.RedactFor(ctx, e.db, e.who(), &is)
	if err != nil {
		return lens.Issue{}, err
	}
	return *r, nil
}

// Bulk sets a field on the marked issues. An issue whose cached value already is value is
// not written (no request, audit entry or undo step) and comes back Unchanged; a status is
// left to the Writer, which asks Jira and runs no transition to the status an issue has.
func (e *editingBackend) Bulk(ctx context.Context, keys []string, name, value string, opt tui.SetOptions, progress func(done, total int)) (tui.BulkResult, error) {
	defer e.writing()()
	var out tui.BulkResult
	write := keys
	if f, err := e.resolve(ctx, name); err == nil {
		if wk, err := e.db.WellKnown(ctx); err == nil {
			if kind := editorKind(f.schema, wk); kind != tui.KindStatus {
				write = nil
				for _, k := range keys {
					is, err := e.shownIssue(ctx, k)
					if err == nil && tui.SameValue(kind, cachedValue(is, f, kind, wk), value) {
						v := cachedValue(is, f, kind, wk)
						out.Changed = append(out.Changed, tui.EditResult{Key: k, Field: name, Name: f.name, Old: v, New: v, Unchanged: true})
						continue
					}
					write = append(write, k)
				}
			}
		}
	}
	skipped := len(keys) - len(write)
	if skipped > 0 && progress != nil {
		progress(skipped, len(keys))
	}
	if len(write) == 0 {
		return out, nil
	}
	e.emu.Lock()
	if e.progress != nil {
		e.emu.Unlock()
		return tui.BulkResult{}, errors.New("another bulk edit is running")
	}
	if progress != nil {
		e.progress = func(done, total int) { progress(skipped+done, skipped+total) }
	}
	e.emu.Unlock()
	defer func() {
		e.emu.Lock()
		e.progress = nil
		e.emu.Unlock()
	}()
	br := e.w.Bulk(ctx, write, name, value, refresh.SetOptions{History: e.hist, Screen: opt.Screen})
	for _, r := range br.Results {
		out.Changed = append(out.Changed, e.editResult(ctx, r))
	}
	for _, f := range br.Failed {
		out.Failed = append(out.Failed, tui.BulkFailure{Key: f.Key, Err: editError(f.Err)})
	}
	return out, nil
}

func (e *editingBackend) CheckEdit(ctx context.Context, lensID string) error {
	_, err := e.requireEditTo(ctx, lensID, refresh.ActionMoveRows)
	return err
}

func (e *editingBackend) PlanMove(ctx context.Context, req tui.MoveRequest) (tui.MovePlan, error) {
	def, err := e.requireEditTo(ctx, req.Lens, refresh.ActionMoveRows)
	if err != nil {
		return tui.MovePlan{}, err
	}
	var moving *lens.Issue
	if is, err := e.db.Issue(ctx, req.Key); err == nil {
		moving = &is
	}
	return tui.PlanMove(def, moving, req, jql.Env{Now: time.Now(), CurrentUser: e.who().User})
}

func (e *editingBackend) Move(ctx context.Context, req tui.MoveRequest) (tui.EditResult, error) {
	defer e.writing()()
	plan, err := e.PlanMove(ctx, req)
	if err != nil {
		return tui.EditResult{}, err
	}
	opts := refresh.SetOptions{History: e.hist}
	var r refresh.Result
	switch plan.By {
	case "group":
		from := ""
		if g := req.From.Group; g != nil && !g.None {
			from = g.Value
		}
		to := ""
		if !req.To.Group.None {
			to = req.To.Group.Value
		}
		r, err = e.w.MoveToGroup(ctx, req.Key, plan.GroupField, from, to, opts)
	default:
		r, err = e.w.MoveUnder(ctx, req.Key, req.To.Key, refresh.MoveHow{By: plan.By, LinkType: plan.LinkType,
			Direction: plan.Direction, OldParent: req.From.Key}, opts)
	}
	if err != nil {
		return tui.EditResult{}, editError(err)
	}
	return e.editResult(ctx, r), nil
}

// Rank reorders a row among its siblings by Jira's rank. The Lens must sort siblings by rank
// (tui.RankOrder says so, and which way); above in a descending Lens is after in Jira.
func (e *editingBackend) Rank(ctx context.Context, lensID, key, beforeKey, afterKey string) (tui.EditResult, error) {
	defer e.writing()()
	def, err := e.requireEditTo(ctx, lensID, refresh.ActionMoveRows)
	if err != nil {
		return tui.EditResult{}, err
	}
	desc, err := tui.RankOrder(def)
	if err != nil {
		return tui.EditResult{}, fmt.Errorf("lens %s: %w", lensID, err)
	}
	if desc {
		beforeKey, afterKey = afterKey, beforeKey
	}
	r, err := e.w.MoveRank(ctx, key, beforeKey, afterKey, refresh.SetOptions{History: e.hist})
	if err != nil {
		return tui.EditResult{}, editError(err)
	}
	return e.editResult(ctx, r), nil
}

// plural is "1 edit", "2 edits".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
