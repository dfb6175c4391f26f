package refresh

// The write-back path: one way for the TUI's cell editors, `foundation edit`, bulk edits,
// undo and structure moves to change an issue in Jira and bring the cache along. Each edit
// reads the issue, checks for a conflicting change, writes, reads the issue back, upserts it
// (so every open view sees it through the change feed) and leaves an audit entry, whether
// the write worked or not.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"foundation/jira"
	"foundation/lens"
	"foundation/store"
)

// AuditActionEdit is the audit action of edits written back to Jira.
const AuditActionEdit = "issue.edit"

// ConflictError is an edit refused because someone changed the field in Jira after the
// cached value the edit started from. Overwrite in SetOptions writes anyway.
type ConflictError struct {
	Key   string
	Field string    // field name
	Base  time.Time // the cached updated the edit started from
	// Theirs is the field's value in Jira now and when the issue was last updated.
	Theirs        string
	TheirsUpdated time.Time
	Mine          string // the value the edit wanted to write
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s: changed in Jira at %s after the cached copy of %s: theirs %q, yours %q (overwrite to write yours anyway)",
		e.Key, e.Field, e.TheirsUpdated.Format(stampLayout), e.Base.Format(stampLayout), e.Theirs, e.Mine)
}

// stampLayout shows Jira's millisecond precision: edits seconds apart must read apart.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// FieldError is a value refused for a field: by Jira (its own message for the field) or by
// the value syntax before anything was sent. Missing lists the fields a transition screen
// requires that were not given.
type FieldError struct {
	Key     string
	Field   string
	Message string
	Missing []string
	Err     error // the Jira error, when Jira refused
}

func (e *FieldError) Error() string { return e.Key + " " + e.Field + ": " + e.Message }

// Unwrap gives Jira's error, when there is one.
func (e *FieldError) Unwrap() error { return e.Err }

// PermissionError is an edit Jira refuses for lack of permission: the issue is not visible
// (Jira answers 404), the identity may not edit or transition it, or Jira answered 401/403.
type PermissionError struct {
	Key    string
	Field  string
	Reason string
	Err    error
}

func (e *PermissionError) Error() string {
	s := e.Key
	if e.Field != "" {
		s += " " + e.Field
	}
	return s + ": permission denied: " + e.Reason
}

// Unwrap gives Jira's error, when there is one.
func (e *PermissionError) Unwrap() error { return e.Err }

// EditEvent reports progress of edits: rate-limit waits and retries, and bulk progress.
type EditEvent struct {
	Kind  string // "rate-limited", "retry", "bulk"
	Key   string // the issue, when known
	Wait  time.Duration
	Done  int // bulk: issues finished so far
	Total int // bulk: issues in all
	Err   error
}

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Actor is the identity written to the audit log; empty asks Jira (myself) once.
	Actor string
	// Progress, when set, is told about waits and bulk progress. Wire the client's
	// jira.Options.OnEvent to Writer.OnClientEvent for the waits.
	Progress func(EditEvent)
	// Engine, when set, is told the ids written so its next poll reconciles them.
	Engine *Engine
	// Now is the clock for relative dates (tests); default time.Now.
	Now func() time.Time
}

// SetOptions adjust one edit.
type SetOptions struct {
	// Overwrite writes even when Jira changed the field after the edit's base.
	Overwrite bool
	// Screen holds values for a transition screen, by field name (e.g. "resolution":
	// "Fixed"). Entries not on the screen are left alone and not reported as used.
	Screen map[string]string
	// History, when set, records the edit as one undoable step.
	History *History
	// NotifyUsers is sent as notifyUsers (admins only; Jira ignores it otherwise).
	NotifyUsers *bool
	// Progress, when set, receives this call's bulk progress instead of the Writer's.
	Progress func(EditEvent)
	// Expect is the field's value at base when the caller knows it (an undo knows what its
	// own write produced); the conflict check then compares it with Jira's value instead of
	// looking for the base in the cache, which later edits may have moved on.
	Expect *string
}

// Result is one applied edit.
type Result struct {
	Key   string    `json:"key"`
	Field string    `json:"field"` // the name asked for
	ID    string    `json:"field_id"`
	Old   string    `json:"old"` // the value before, in the value syntax
	New   string    `json:"new"` // the value after, as Jira read it back
	Base  time.Time `json:"base"`
	// Updated is the issue's updated after the write: the base of an undo.
	Updated    time.Time `json:"updated"`
	Transition string    `json:"transition,omitempty"` // the transition taken for status
	ScreenUsed []string  `json:"screen_used,omitempty"`
	Unchanged  bool      `json:"unchanged,omitempty"` // nothing to write: already the value

	move *MoveHow // a move by links: how to undo it (Old and New are the parents)
}

// Writer writes edits to Jira through one client and keeps one cache in step.
// It is safe for concurrent use.
type Writer struct {
	c   *jira.Client
	db  *store.DB
	opt WriterOptions

	mu      sync.Mutex
	actor   string
	cat     []lens.Field
	wk      store.WellKnown
	catOK   bool
	meta    map[string]*jira.EditMeta // by project + "/" + issue type
	sprints map[string][]sprintRef    // by project key
}

// NewWriter returns a Writer for the cache db written through c.
func NewWriter(c *jira.Client, db *store.DB, opt WriterOptions) *Writer {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Writer{c: c, db: db, opt: opt, actor: opt.Actor, meta: map[string]*jira.EditMeta{}, sprints: map[string][]sprintRef{}}
}

// OnClientEvent turns the client's retry and rate-limit events into edit progress. Set it
// as the client's jira.Options.OnEvent.
func (w *Writer) OnClientEvent(ev jira.Event) {
	if w.opt.Progress == nil {
		return
	}
	kind := "rate-limited"
	if ev.Kind == jira.EventRetry {
		kind = "retry"
	}
	w.opt.Progress(EditEvent{Kind: kind, Key: issueOfPath(ev.Path), Wait: ev.Wait, Err: ev.Err})
}

// issueOfPath picks the issue key out of /rest/api/N/issue/KEY[/...].
func issueOfPath(p string) string {
	_, rest, ok := strings.Cut(p, "/issue/")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "/")
	return key
}

// catalog returns the cached field catalog, reading it from Jira into the cache when the
// cache has none yet (an edit before the first refresh).
func (w *Writer) catalog(ctx context.Context) ([]lens.Field, store.WellKnown, error) {
	w.mu.Lock()
	if w.catOK {
		defer w.mu.Unlock()
		return w.cat, w.wk, nil
	}
	w.mu.Unlock()
	cat, err := w.db.Fields(ctx)
	if err != nil {
		return nil, store.WellKnown{}, err
	}
	wk, err := w.db.WellKnown(ctx)
	if err != nil {
		return nil, store.WellKnown{}, err
	}
	if len(cat) == 0 {
		fields, err := w.c.Fields(ctx)
		if err != nil {
			return nil, store.WellKnown{}, fmt.Errorf("read field catalog: %w", err)
		}
		jwk := jira.ResolveWellKnown(fields)
		wk = store.WellKnown{StoryPoints: jwk.StoryPoints, Sprint: jwk.Sprint, EpicLink: jwk.EpicLink, Rank: jwk.Rank}
		for _, f := range fields {
			cat = append(cat, lens.Field{ID: f.ID, Name: f.Name, Custom: f.Custom, SchemaType: f.Schema.Type, SchemaItems: f.Schema.Items, SchemaCustom: f.Schema.Custom})
		}
		if err := w.db.PutFields(ctx, cat, wk); err != nil {
			return nil, store.WellKnown{}, err
		}
	}
	w.mu.Lock()
	w.cat, w.wk, w.catOK = cat, wk, true
	w.mu.Unlock()
	return cat, wk, nil
}

// fieldList is what a read-back asks for: what a sync keeps for every issue.
func fieldList(cat []lens.Field) []string {
	want := append([]string(nil), systemFields...)
	for _, f := range cat {
		if f.Custom {
			want = append(want, f.ID)
		}
	}
	return want
}

// who is the identity the audit log names.
func (w *Writer) who(ctx context.Context) string {
	w.mu.Lock()
	a := w.actor
	w.mu.Unlock()
	if a != "" {
		return a
	}
	u, err := w.c.Myself(ctx)
	if err != nil {
		return "unknown"
	}
	w.mu.Lock()
	w.actor = u.ID()
	w.mu.Unlock()
	return u.ID()
}

// EditMeta returns the edit metadata for the issue's project and type, from the Writer's
// cache unless fresh is set (editors ask it for allowed values; a refused write refreshes it).
func (w *Writer) EditMeta(ctx context.Context, key, project, itype string, fresh bool) (*jira.EditMeta, error) {
	ck := project + "/" + itype
	w.mu.Lock()
	m, ok := w.meta[ck]
	w.mu.Unlock()
	if ok && !fresh {
		return m, nil
	}
	m, err := w.c.EditMeta(ctx, key)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.meta[ck] = m
	w.mu.Unlock()
	return m, nil
}

func (w *Writer) forgetMeta(project, itype string) {
	w.mu.Lock()
	delete(w.meta, project+"/"+itype)
	w.mu.Unlock()
}

// currentIssue is the issue as Jira has it when the edit starts.
type currentIssue struct {
	project, itype, status string
	updated                time.Time
	value                  string // the field, rendered
}

func (w *Writer) readCurrent(ctx context.Context, key string, f fieldInfo) (currentIssue, error) {
	ask := []string{"updated", "project", "issuetype", "status"}
	if !slices.Contains(ask, f.ID) {
		ask = append(ask, f.ID)
	}
	is, err := w.c.GetIssue(ctx, key, ask)
	if err != nil {
		return currentIssue{}, err
	}
	// The cache's own extraction reads the four columns the check needs, in one fast pass
	// over just those fields.
	head, err := store.Extract(0, key, map[string]json.RawMessage{
		"updated": is.Fields["updated"], "project": is.Fields["project"],
		"issuetype": is.Fields["issuetype"], "status": is.Fields["status"],
	}, store.WellKnown{})
	if err != nil {
		return currentIssue{}, fmt.Errorf("issue %s: %w", key, err)
	}
	if head.Updated.IsZero() {
		return currentIssue{}, fmt.Errorf("issue %s: Jira sent no updated", key)
	}
	cur := currentIssue{project: head.Project, itype: head.Type, status: head.Status, updated: head.Updated}
	cur.value = renderRaw(f.Kind, is.Fields[f.ID])
	return cur, nil
}

// Set writes value to one field of the issue key. field is a Lens column name, a Jira field
// name or an id; value is text in the field's value syntax (`foundation edit --help` lists
// it; Describe says which kind a field is). base is the issue's updated in the cached copy
// the edit started from; zero skips the conflict check. A conflict is a change of this
// field in Jira after base: changes of other fields are not lost by the write and do not
// count. On any failure nothing changes in the cache and the failure is audited.
func (w *Writer) Set(ctx context.Context, key, field, value string, base time.Time, opts SetOptions) (Result, error) {
	res, err := w.set(ctx, key, field, value, base, opts)
	if err == nil && opts.History != nil && !res.Unchanged {
		opts.History.push(Step{res})
	}
	return res, err
}

func (w *Writer) set(ctx context.Context, key, field, value string, base time.Time, opts SetOptions) (Result, error) {
	key = strings.ToUpper(strings.TrimSpace(key))
	res := Result{Key: key, Field: field, Base: base}
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return res, fmt.Errorf("edit %s: %w", key, err)
	}
	f, err := resolveField(field, cat, wk)
	if err != nil {
		return res, &FieldError{Key: key, Field: field, Message: err.Error()}
	}
	res.ID = f.ID
	cur, err := w.readCurrent(ctx, key, f)
	if err != nil {
		return res, w.fail(ctx, res, value, classify(key, field, err))
	}
	res.Old = cur.value
	if f.Kind == kindStatus {
		res.Old = cur.status
	}

	// Conflict: Jira moved on since the base, and the field itself differs from the value
	// at the base (when the cache still holds the base; otherwise any change counts).
	// Adding to or removing from a list cannot lose someone else's change: Jira applies
	// the operation to the list as it is then.
	if !base.IsZero() && cur.updated.After(base) && !opts.Overwrite && !onlyChanges(f.Kind, value) {
		changed := true
		if opts.Expect != nil {
			changed = !sameValue(f.Kind, *opts.Expect, res.Old)
		} else if cached, err := w.db.Issue(ctx, key); err == nil && cached.Updated.Equal(base) {
			was := renderRaw(f.Kind, cached.Fields[f.ID])
			if f.Kind == kindStatus {
				was = cached.Status
			}
			changed = !sameValue(f.Kind, was, res.Old)
		}
		if changed {
			// Their version is newer than the cache: bring it in, so that keeping theirs
			// shows theirs at once in every open view. A failure here only leaves that
			// to the next refresh.
			_ = w.syncIssue(ctx, key)
			cerr := &ConflictError{Key: key, Field: field, Base: base, Theirs: res.Old, TheirsUpdated: cur.updated, Mine: value}
			return res, w.fail(ctx, res, value, cerr)
		}
	}

	if f.Kind == kindStatus {
		return w.transition(ctx, res, f, cur, value, opts)
	}
	meta, err := w.EditMeta(ctx, key, cur.project, cur.itype, false)
	if err != nil {
		return res, w.fail(ctx, res, value, classify(key, field, err))
	}
	ef, ok := meta.Fields[f.ID]
	if !ok {
		// The cached metadata may predate a screen change: ask once more before refusing.
		if meta, err = w.EditMeta(ctx, key, cur.project, cur.itype, true); err != nil {
			return res, w.fail(ctx, res, value, classify(key, field, err))
		}
		if ef, ok = meta.Fields[f.ID]; !ok {
			if len(meta.Fields) == 0 {
				return res, w.fail(ctx, res, value, &PermissionError{Key: key, Field: field, Reason: "Jira lets you edit no field of this issue"})
			}
			return res, w.fail(ctx, res, value, &FieldError{Key: key, Field: field, Message: "not editable on this issue (not on its edit screen)"})
		}
	}
	edit := jira.Edit{Fields: map[string]any{}, Update: map[string][]map[string]any{}, NotifyUsers: opts.NotifyUsers}
	if err := w.build(ctx, key, cur.project, f, ef, value, &edit); err != nil {
		return res, w.fail(ctx, res, value, err)
	}
	if err := w.c.EditIssue(ctx, key, edit); err != nil {
		var api *jira.APIError
		if errors.As(err, &api) && api.Status == http.StatusBadRequest {
			w.forgetMeta(cur.project, cur.itype) // refreshed on the next edit
		}
		return res, w.fail(ctx, res, value, classify(key, field, err))
	}
	return w.finish(ctx, res, f, value)
}

// onlyChanges reports whether value adds to or removes from a list rather than setting it.
func onlyChanges(k editKind, value string) bool {
	if k != kindLabels && k != kindMultiOption {
		return false
	}
	_, _, _, isSet, err := splitList(value)
	return err == nil && !isSet
}

// build fills edit with the JSON for value in field f (ef is its editmeta).
func (w *Writer) build(ctx context.Context, key, project string, f fieldInfo, ef jira.EditField, value string, edit *jira.Edit) error {
	bad := func(format string, a ...any) error {
		return &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf(format, a...)}
	}
	switch f.Kind {
	case kindText:
		edit.Fields[f.ID] = value
	case kindRichText:
		if w.c.Dialect() == jira.Cloud {
			edit.Fields[f.ID] = adfDoc(value)
		} else {
			edit.Fields[f.ID] = value
		}
	case kindNumber:
		if isNone(value) {
			edit.Fields[f.ID] = nil
			return nil
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return bad("%q is not a number", value)
		}
		edit.Fields[f.ID] = n
	case kindDate, kindDateTime:
		if isNone(value) {
			edit.Fields[f.ID] = nil
			return nil
		}
		if f.Kind == kindDateTime {
			if t, err := time.Parse(time.RFC3339, strings.TrimSpace(value)); err == nil {
				edit.Fields[f.ID] = t.Format("2006-01-02T15:04:05.000-0700")
				return nil
			}
		}
		d, err := parseDate(value, w.opt.Now())
		if err != nil {
			return bad("%v", err)
		}
		if f.Kind == kindDate {
			edit.Fields[f.ID] = d.Format(time.DateOnly)
		} else {
			edit.Fields[f.ID] = d.Format("2006-01-02T15:04:05.000-0700")
		}
	case kindOption:
		if isNone(value) {
			edit.Fields[f.ID] = nil
			return nil
		}
		vals := allowedValues(ef)
		if len(vals) == 0 {
			edit.Fields[f.ID] = map[string]string{"name": strings.TrimSpace(value)}
			return nil
		}
		v, ok := pickAllowed(vals, value)
		if !ok {
			return bad("%q is not an allowed value; allowed: %s", value, allowedNames(vals))
		}
		edit.Fields[f.ID] = map[string]string{"id": v.ID}
	case kindMultiOption:
		set, add, remove, isSet, err := splitList(value)
		if err != nil {
			return bad("%v", err)
		}
		vals := allowedValues(ef)
		ref := func(name string) (map[string]string, error) {
			if len(vals) == 0 {
				return map[string]string{"name": name}, nil
			}
			v, ok := pickAllowed(vals, name)
			if !ok {
				return nil, bad("%q is not an allowed value; allowed: %s", name, allowedNames(vals))
			}
			return map[string]string{"id": v.ID}, nil
		}
		if isSet {
			items := []map[string]string{}
			for _, n := range set {
				r, err := ref(n)
				if err != nil {
					return err
				}
				items = append(items, r)
			}
			edit.Fields[f.ID] = items
			return nil
		}
		for _, op := range []struct {
			name  string
			items []string
		}{{"remove", remove}, {"add", add}} {
			for _, n := range op.items {
				r, err := ref(n)
				if err != nil {
					return err
				}
				edit.Update[f.ID] = append(edit.Update[f.ID], map[string]any{op.name: r})
			}
		}
	case kindLabels:
		set, add, remove, isSet, err := splitList(value)
		if err != nil {
			return bad("%v", err)
		}
		if isSet {
			if set == nil {
				set = []string{}
			}
			edit.Fields[f.ID] = set
			return nil
		}
		for _, l := range remove {
			edit.Update[f.ID] = append(edit.Update[f.ID], map[string]any{"remove": l})
		}
		for _, l := range add {
			edit.Update[f.ID] = append(edit.Update[f.ID], map[string]any{"add": l})
		}
	case kindUser:
		if isNone(value) {
			edit.Fields[f.ID] = nil
			return nil
		}
		u, err := w.findUser(ctx, key, f, value)
		if err != nil {
			return err
		}
		if w.c.Dialect() == jira.Cloud {
			edit.Fields[f.ID] = map[string]string{"accountId": u.AccountID}
		} else {
			edit.Fields[f.ID] = map[string]string{"name": u.Name}
		}
	case kindSprint:
		if isNone(value) {
			edit.Fields[f.ID] = nil
			return nil
		}
		id, err := w.findSprint(ctx, key, project, f, value)
		if err != nil {
			return err
		}
		edit.Fields[f.ID] = id
	case kindParent:
		if isNone(value) {
			edit.Update[f.ID] = []map[string]any{{"set": map[string]bool{"none": true}}}
			return nil
		}
		edit.Fields[f.ID] = map[string]string{"key": strings.ToUpper(strings.TrimSpace(value))}
	case kindEpicLink:
		if isNone(value) {
			edit.Fields[f.ID] = nil
			return nil
		}
		edit.Fields[f.ID] = strings.ToUpper(strings.TrimSpace(value))
	default:
		return bad("cannot be edited here")
	}
	return nil
}

// findUser resolves a user by id, email, login name or display name: assignable users for
// the assignee, the user search for other user fields.
func (w *Writer) findUser(ctx context.Context, key string, f fieldInfo, text string) (jira.User, error) {
	q := strings.TrimSpace(text)
	var users []jira.User
	var err error
	if f.ID == "assignee" {
		users, err = w.c.AssignableUsers(ctx, key, q)
	} else {
		users, err = w.c.SearchUsers(ctx, q)
	}
	if err != nil {
		return jira.User{}, classify(key, f.Name, fmt.Errorf("find user %q: %w", q, err))
	}
	for _, match := range []func(u jira.User) bool{
		func(u jira.User) bool { return u.ID() == q },
		func(u jira.User) bool { return strings.EqualFold(u.Email, q) },
		func(u jira.User) bool { return u.Name != "" && strings.EqualFold(u.Name, q) },
		func(u jira.User) bool { return strings.EqualFold(u.DisplayName, q) },
	} {
		var hits []jira.User
		for _, u := range users {
			if match(u) {
				hits = append(hits, u)
			}
		}
		if len(hits) == 1 {
			return hits[0], nil
		}
	}
	switch len(users) {
	case 0:
		what := "user"
		if f.ID == "assignee" {
			what = "assignable user"
		}
		return jira.User{}, &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf("no %s matches %q", what, q)}
	case 1:
		return users[0], nil
	}
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.DisplayName
	}
	return jira.User{}, &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf("%q matches several users (%s); give an email or id", q, strings.Join(names, ", "))}
}

// findSprint resolves a sprint by name among the open (active or future) sprints the cache
// has seen in the project's issues, or takes a numeric sprint id as is.
func (w *Writer) findSprint(ctx context.Context, key, project string, f fieldInfo, text string) (int64, error) {
	t := strings.TrimSpace(text)
	if id, err := strconv.ParseInt(t, 10, 64); err == nil {
		return id, nil
	}
	known, err := w.projectSprints(ctx, project, f.ID)
	if err != nil {
		return 0, err
	}
	var open []string
	for _, sp := range known {
		if sp.State == "closed" {
			if strings.EqualFold(sp.Name, t) {
				return 0, &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf("sprint %q is closed; issues go only to active or future sprints", sp.Name)}
			}
			continue
		}
		if strings.EqualFold(sp.Name, t) {
			return sp.ID, nil
		}
		open = append(open, sp.Name)
	}
	return 0, &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf("no open or future sprint named %q in %s; known: %s", t, project, strings.Join(open, ", "))}
}

// projectSprints lists the sprints the cache has seen in a project's issues, read once per
// Writer: Foundation has no board API to ask, and every sprint an issue can go to already
// holds issues of the project, or was named in one when it was planned.
func (w *Writer) projectSprints(ctx context.Context, project, fieldID string) ([]sprintRef, error) {
	w.mu.Lock()
	known, ok := w.sprints[project]
	w.mu.Unlock()
	if ok {
		return known, nil
	}
	issues, err := w.db.Issues(ctx, store.ReadOptions{WithRaw: true, Projects: []string{project}})
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, is := range issues {
		var sps []sprintRef
		if json.Unmarshal(is.Fields[fieldID], &sps) != nil {
			continue
		}
		for _, sp := range sps {
			if !seen[sp.ID] {
				seen[sp.ID] = true
				known = append(known, sp)
			}
		}
	}
	slices.SortFunc(known, func(a, b sprintRef) int { return int(a.ID - b.ID) })
	w.mu.Lock()
	w.sprints[project] = known
	w.mu.Unlock()
	return known, nil
}

// transition moves the issue to the status named value, through a transition Jira offers.
func (w *Writer) transition(ctx context.Context, res Result, f fieldInfo, cur currentIssue, value string, opts SetOptions) (Result, error) {
	key := res.Key
	want := strings.TrimSpace(value)
	if strings.EqualFold(cur.status, want) {
		res.New, res.Unchanged, res.Updated = cur.status, true, cur.updated
		// No transition runs, so no screen: a resolution given for it is moot rather than
		// an edit of its own (Jira sets resolutions only through transitions).
		if cat, wk, err := w.catalog(ctx); err == nil {
			for name := range opts.Screen {
				if sf, err := resolveField(name, cat, wk); err == nil && sf.ID == "resolution" {
					res.ScreenUsed = append(res.ScreenUsed, name)
				}
			}
		}
		return res, nil
	}
	ts, err := w.c.Transitions(ctx, key)
	if err != nil {
		return res, w.fail(ctx, res, value, classify(key, res.Field, err))
	}
	if len(ts) == 0 {
		return res, w.fail(ctx, res, value, &PermissionError{Key: key, Field: res.Field, Reason: "Jira offers you no transition on this issue"})
	}
	var t *jira.Transition
	for i := range ts {
		if strings.EqualFold(ts[i].To.Name, want) {
			t = &ts[i]
			break
		}
	}
	if t == nil {
		for i := range ts {
			if strings.EqualFold(ts[i].Name, want) {
				t = &ts[i]
				break
			}
		}
	}
	if t == nil {
		offers := make([]string, len(ts))
		for i, x := range ts {
			offers[i] = x.To.Name + " (" + x.Name + ")"
		}
		return res, w.fail(ctx, res, value, &FieldError{Key: key, Field: res.Field,
			Message: fmt.Sprintf("no transition from %s to %q; Jira offers: %s", cur.status, want, strings.Join(offers, ", "))})
	}
	res.Transition = t.Name
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return res, err
	}
	// Screen values by field id.
	given := map[string]string{}
	names := map[string]string{}
	for name, v := range opts.Screen {
		sf, err := resolveField(name, cat, wk)
		if err != nil {
			continue // not a field; the caller reports it as an edit of its own
		}
		given[sf.ID], names[sf.ID] = v, name
	}
	edit := jira.Edit{Fields: map[string]any{}, Update: map[string][]map[string]any{}}
	var missing []string
	ids := make([]string, 0, len(t.Fields))
	for id := range t.Fields {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		ef := t.Fields[id]
		v, ok := given[id]
		if !ok {
			if ef.Required && !ef.HasDefaultValue {
				m := ef.Name
				if vals := allowedValues(ef); len(vals) > 0 {
					m += " (one of " + allowedNames(vals) + ")"
				}
				missing = append(missing, m)
			}
			continue
		}
		sf := fieldInfo{ID: id, Name: ef.Name, Kind: kindOf(lens.Field{ID: id, SchemaType: ef.Schema.Type, SchemaItems: ef.Schema.Items, SchemaCustom: ef.Schema.Custom}, wk)}
		if err := w.build(ctx, key, cur.project, sf, ef, v, &edit); err != nil {
			return res, w.fail(ctx, res, value, err)
		}
		res.ScreenUsed = append(res.ScreenUsed, names[id])
	}
	if len(missing) > 0 {
		return res, w.fail(ctx, res, value, &FieldError{Key: key, Field: res.Field, Missing: missing,
			Message: fmt.Sprintf("transition %q to %s needs %s", t.Name, t.To.Name, strings.Join(missing, ", "))})
	}
	fields := edit.Fields
	for id, ops := range edit.Update {
		// A transition screen takes set values only; fold single-valued updates into fields.
		if len(ops) == 1 {
			if v, ok := ops[0]["set"]; ok {
				fields[id] = v
			}
		}
	}
	if err := w.c.DoTransition(ctx, key, t.ID, fields); err != nil {
		return res, w.fail(ctx, res, value, classify(key, res.Field, err))
	}
	return w.finish(ctx, res, f, value)
}

// finish reads the written issue back, upserts it (the change feed tells every view) and
// audits the edit.
func (w *Writer) finish(ctx context.Context, res Result, f fieldInfo, value string) (Result, error) {
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return res, err
	}
	ji, err := w.readBack(ctx, res.Key, fieldList(cat))
	if err == nil {
		var page store.Page
		if page, err = pageOf([]jira.Issue{*ji}, wk); err == nil {
			is := &page.Issues[0]
			done := res
			done.Updated = is.Updated
			if f.Kind == kindStatus {
				done.New = is.Status
			} else {
				done.New = renderRaw(f.Kind, ji.Fields[f.ID])
			}
			// Written after our own write: nothing in the cache can be newer, so the read
			// is authoritative. The audit row goes in the same transaction.
			page.Audit = []store.AuditEntry{w.auditEntry(ctx, done, value, "ok")}
			if _, err = w.db.ApplyPage(context.WithoutCancel(ctx), page, true); err == nil {
				if w.opt.Engine != nil {
					w.opt.Engine.NoteWritten(is.ID)
				}
				return done, nil
			}
		}
	}
	// The write is in Jira; only the cache lags, and the next refresh brings it.
	w.audit(ctx, res, value, "ok (read-back failed: "+err.Error()+")")
	return res, fmt.Errorf("%s %s written to Jira, but reading it back failed (the next refresh brings it): %w", res.Key, res.Field, err)
}

// maxFieldsQuery bounds the fields list sent in a GET's query string: sites with thousands
// of custom fields would otherwise build URLs that proxies refuse.
const maxFieldsQuery = 6000

// readBack fetches one issue with the fields a sync keeps. Cloud uses bulkfetch: a POST that
// carries the field list in its body and reads Jira's own state (not the eventually
// consistent search index). Data Center GETs the issue, with all fields when the list is too
// long for a URL.
func (w *Writer) readBack(ctx context.Context, key string, fields []string) (*jira.Issue, error) {
	if w.c.Dialect() == jira.Cloud {
		got, err := w.c.BulkFetch(ctx, []string{key}, fields)
		if err != nil {
			return nil, err
		}
		for i := range got {
			if strings.EqualFold(got[i].Key, key) {
				return &got[i], nil
			}
		}
		return nil, fmt.Errorf("read back %s: Jira no longer returns the issue (deleted, moved or hidden)", key)
	}
	if len(strings.Join(fields, ",")) > maxFieldsQuery {
		fields = nil // Jira's default for a GET is every field
	}
	return w.c.GetIssue(ctx, key, fields)
}

// syncIssue reads an issue from Jira into the cache (authoritative: a fresh read).
func (w *Writer) syncIssue(ctx context.Context, key string) error {
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return err
	}
	ji, err := w.readBack(ctx, key, fieldList(cat))
	if err != nil {
		return err
	}
	page, err := pageOf([]jira.Issue{*ji}, wk)
	if err != nil {
		return err
	}
	_, err = w.db.ApplyPage(context.WithoutCancel(ctx), page, true)
	return err
}

// pageOf converts read-back issues into the page that writes them: each with its fields
// object as Jira sent it (stored as is, not re-encoded), its links and the users it names.
func pageOf(in []jira.Issue, wk store.WellKnown) (store.Page, error) {
	b, err := convert(in, wk)
	if err != nil {
		return store.Page{}, err
	}
	us := make([]store.User, 0, len(b.users))
	for _, u := range b.users {
		us = append(us, u)
	}
	return store.Page{Issues: b.issues, Raw: b.raw, Links: b.links, Users: us}, nil
}

// fail audits a failed edit and returns err.
func (w *Writer) fail(ctx context.Context, res Result, value string, err error) error {
	outcome := "failed: " + err.Error()
	var ce *ConflictError
	if errors.As(err, &ce) {
		outcome = "conflict: " + err.Error()
	}
	w.audit(ctx, res, value, outcome)
	return err
}

// auditValue is what an edit's audit entry holds before and after.
type auditValue struct {
	Field string `json:"field"`
	ID    string `json:"field_id,omitempty"`
	Value string `json:"value"`
}

func (w *Writer) audit(ctx context.Context, res Result, value, outcome string) {
	// An audit failure must not turn a write Jira already applied into a reported failure,
	// so its error is dropped here; the audit table lives in the same cache that was just
	// written, so it rarely fails alone.
	_ = w.db.Audit(context.WithoutCancel(ctx), w.auditEntry(ctx, res, value, outcome))
}

// auditEntry is the audit row of an edit: who, the issue, the field's old and new value.
func (w *Writer) auditEntry(ctx context.Context, res Result, value, outcome string) store.AuditEntry {
	after := res.New
	if !strings.HasPrefix(outcome, "ok") {
		after = value // what was asked for
	}
	before, _ := json.Marshal(auditValue{Field: res.Field, ID: res.ID, Value: res.Old})
	aft, _ := json.Marshal(auditValue{Field: res.Field, ID: res.ID, Value: after})
	return store.AuditEntry{Actor: w.who(ctx), Action: AuditActionEdit, Target: res.Key, Before: before, After: aft, Outcome: outcome}
}

// classify turns Jira's refusals into the edit's typed errors.
func classify(key, field string, err error) error {
	var un *jira.UnauthorizedError
	var fb *jira.ForbiddenError
	var nf *jira.NotFoundError
	var api *jira.APIError
	switch {
	case errors.As(err, &un), errors.As(err, &fb):
		return &PermissionError{Key: key, Field: field, Reason: jiraMessage(err), Err: err}
	case errors.As(err, &nf):
		return &PermissionError{Key: key, Field: field, Reason: "the issue does not exist or you may not see it", Err: err}
	case errors.As(err, &api) && api.Status == http.StatusBadRequest:
		msg := jiraMessage(err)
		return &FieldError{Key: key, Field: field, Message: msg, Err: err}
	}
	return fmt.Errorf("edit %s %s: %w", key, field, err)
}

// jiraMessage is Jira's own words from an error: field messages first, then general ones.
func jiraMessage(err error) string {
	var api *jira.APIError
	if !errors.As(err, &api) {
		return err.Error()
	}
	var parts []string
	keys := make([]string, 0, len(api.Errors))
	for k := range api.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, api.Errors[k])
	}
	parts = append(parts, api.ErrorMessages...)
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, "; ")
}
