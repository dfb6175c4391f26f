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
	"math"
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
	// RefusedAt is set when the refusal repeats an earlier one (SetOptions.KeepConflicts):
	// when that was. The cache has their version since, but nobody chose to overwrite it.
	RefusedAt time.Time
}

func (e *ConflictError) Error() string {
	if !e.RefusedAt.IsZero() {
		return fmt.Sprintf("%s %s: refused as a conflict at %s, and Jira still holds theirs %q: yours %q is refused again (overwrite to write yours anyway)",
			e.Key, e.Field, e.RefusedAt.Format(stampLayout), e.Theirs, e.Mine)
	}
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
	// Reason says in a few words what a wait is for: "HTTP 429", "no answer within 30s".
	Reason string
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
	// KeepConflicts refuses a field whose last edit by this identity was refused as a
	// conflict while Jira still holds the value that refusal showed as theirs, although the
	// cache has taken their version since: rerunning a refused edit (a script's retry) does
	// not overwrite someone else's change. Overwrite writes anyway.
	KeepConflicts bool
}

// Result is one applied edit.
type Result struct {
	Key   string `json:"key"`
	Field string `json:"field"` // the name asked for
	ID    string `json:"field_id"`
	Old   string `json:"old"` // the value before, in the value syntax
	// New is the value written, in the value syntax as Jira stores it (its spelling of
	// names, ids of users): what the audit log and an undo take as ours.
	New string `json:"new"`
	// Overtaken says the read-back already showed another value, Later: a change made
	// between our write and its read-back. The cache holds Later; an undo finds it and
	// refuses as a conflict.
	Overtaken bool      `json:"overtaken,omitempty"`
	Later     string    `json:"later,omitempty"`
	Base      time.Time `json:"base"`
	// Updated is the issue's updated after the write: the base of an undo.
	Updated    time.Time `json:"updated"`
	Transition string    `json:"transition,omitempty"` // the transition taken for status
	ScreenUsed []string  `json:"screen_used,omitempty"`
	Unchanged  bool      `json:"unchanged,omitempty"` // nothing to write: already the value
	// Delta is, for a list edit made only of changes (+a,-b), the changes it made: the
	// items it added and removed ("+a,-b"), without those already there or already gone.
	// Undo and redo apply it (reversed for undo) instead of writing the whole list, so
	// they never conflict with others' changes to other items.
	Delta string `json:"delta,omitempty"`

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
	w.opt.Progress(EditEvent{Kind: kind, Key: issueOfPath(ev.Path), Wait: ev.Wait, Err: ev.Err, Reason: ev.Reason()})
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
	values                 []string // the edited fields, rendered, in the order asked
}

func (w *Writer) readCurrent(ctx context.Context, key string, fs []fieldInfo) (currentIssue, error) {
	ask := make([]string, 0, 4+len(fs))
	ask = append(ask, "updated", "project", "issuetype", "status")
	for _, f := range fs {
		if f.ID != "" && !slices.Contains(ask, f.ID) {
			ask = append(ask, f.ID)
		}
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
	cur := currentIssue{project: head.Project, itype: head.Type, status: head.Status, updated: head.Updated, values: make([]string, len(fs))}
	for i, f := range fs {
		if f.Kind == kindStatus {
			cur.values[i] = head.Status
		} else {
			cur.values[i] = renderRaw(f.Kind, is.Fields[f.ID])
		}
	}
	return cur, nil
}

// FieldValue is one field of an edit of several: the field as Set names it and the value
// in the value syntax.
type FieldValue struct {
	Field string
	Value string
}

// FieldOutcome is what an edit of several fields did with one of them.
type FieldOutcome struct {
	Result
	Value string // the value asked for
	// Written says Jira applied the value; Err may still be a *ReadBackError (only the
	// cache lags). An unchanged status is neither written nor an error.
	Written bool
	// Screen says a transition's screen took the value: it was written (or not) with the
	// status, whose outcome lists it in ScreenUsed.
	Screen bool
	Err    error
}

// NotWrittenError is a field left alone because other fields of the same edit were
// refused: an edit of several fields writes all of them or none.
type NotWrittenError struct {
	Key, Field string
	Because    []string // the fields refused
}

func (e *NotWrittenError) Error() string {
	return fmt.Sprintf("%s %s: not written, because %s of the same edit was refused", e.Key, e.Field, strings.Join(e.Because, ", "))
}

// ReadBackError is a write Jira applied whose read-back failed. The edit is done and
// audited with the value written; the cache catches up at the next refresh.
type ReadBackError struct {
	Key    string
	Fields []string
	Err    error
}

func (e *ReadBackError) Error() string {
	return fmt.Sprintf("%s %s written to Jira, but reading it back failed (the next refresh brings it into the cache): %v",
		e.Key, strings.Join(e.Fields, ", "), e.Err)
}

// Unwrap gives the read-back's error.
func (e *ReadBackError) Unwrap() error { return e.Err }

// PartialError is an edit of several fields that Jira applied in part: the fields were
// written and the transition after them refused.
type PartialError struct {
	Key        string
	Written    []string
	NotWritten []string
	Err        error // the refusals, joined
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%s partly changed: %s written, %s not: %v", e.Key, strings.Join(e.Written, ", "), strings.Join(e.NotWritten, ", "), e.Err)
}

// Unwrap gives the refusals.
func (e *PartialError) Unwrap() error { return e.Err }

// Set writes value to one field of the issue key. field is a Lens column name, a Jira field
// name or an id; value is text in the field's value syntax (`foundation edit --help` lists
// it; Describe says which kind a field is). base is the issue's updated in the cached copy
// the edit started from; zero skips the conflict check. A conflict is a change of this
// field in Jira after base: changes of other fields are not lost by the write and do not
// count. On any failure nothing changes in the cache and the failure is audited. A write
// whose read-back failed returns its Result with a *ReadBackError: it is in Jira (and in
// opts.History).
func (w *Writer) Set(ctx context.Context, key, field, value string, base time.Time, opts SetOptions) (Result, error) {
	outs := w.setMany(ctx, key, []FieldValue{{field, value}}, base, opts)
	o := &outs[0]
	if o.Written && opts.History != nil {
		opts.History.push(Step{o.Result})
	}
	return o.Result, o.Err
}

// SetFields writes several fields of one issue as one edit. Every value is checked first
// (field names, value syntax, allowed values, users, sprints, dates, numbers, conflicts, the
// transition and its screen) and nothing is written unless all pass. The plain fields then
// go to Jira in one PUT, which Jira applies as a whole or not at all; a status change runs
// its transition after it, taking the fields its screen asks for from vals (and
// opts.Screen). The issue is read back once, and each field has its own audit row.
// Outcomes come in the order of vals. The error joins the fields' errors; it is a
// *PartialError when some fields were written and others not (a transition refused after
// the PUT).
func (w *Writer) SetFields(ctx context.Context, key string, vals []FieldValue, base time.Time, opts SetOptions) ([]FieldOutcome, error) {
	outs := w.setMany(ctx, key, vals, base, opts)
	var step Step
	var errs []error
	var written, not []string
	for _, o := range outs {
		if o.Written && !o.Screen {
			step = append(step, o.Result)
			written = append(written, o.Field)
		} else if o.Err != nil {
			not = append(not, o.Field)
		}
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	if opts.History != nil {
		opts.History.push(step)
	}
	if len(errs) == 0 {
		return outs, nil
	}
	err := errors.Join(errs...)
	if len(written) > 0 && len(not) > 0 {
		err = &PartialError{Key: outs[0].Key, Written: written, NotWritten: not, Err: err}
	}
	return outs, err
}

func (w *Writer) setMany(ctx context.Context, key string, vals []FieldValue, base time.Time, opts SetOptions) []FieldOutcome {
	key = strings.ToUpper(strings.TrimSpace(key))
	r := editRun{w: w, key: key, base: base, opts: opts, status: -1,
		outs: make([]FieldOutcome, len(vals)), fields: make([]fieldInfo, len(vals)), intent: make([]intent, len(vals))}
	for i, v := range vals {
		r.outs[i] = FieldOutcome{Result: Result{Key: key, Field: v.Field, Base: base}, Value: v.Value}
	}
	r.run(ctx)
	for i := range r.outs {
		o, k := &r.outs[i], r.fields[i].Kind
		if o.Err == nil && !o.Unchanged && onlyChanges(k, o.Value) {
			o.Delta = listDelta(o.Old, o.New, k == kindMultiOption)
		}
	}
	return r.outs
}

// intent is what a write leaves in a field, in the value syntax, when it can be told
// before Jira answers: the audit's and undo's "new" value, whatever the read-back shows.
type intent struct {
	value string
	known bool
}

// editRun is one edit of one or more fields of an issue, from checks to read-back.
type editRun struct {
	w      *Writer
	key    string
	base   time.Time
	opts   SetOptions
	outs   []FieldOutcome
	fields []fieldInfo
	intent []intent
	status int // the index of the status field, -1 for none

	cat []lens.Field
	wk  store.WellKnown
	cur currentIssue

	cached   *lens.Issue // the cached copy, read once for the conflict checks
	cacheErr error
	synced   bool // their version was brought into the cache after a conflict

	plain    []int // the fields the PUT writes
	edit     jira.Edit
	tr       *jira.Transition
	trFields map[string]any
}

func (r *editRun) run(ctx context.Context) {
	cat, wk, err := r.w.catalog(ctx)
	if err != nil {
		for i := range r.outs {
			r.outs[i].Err = fmt.Errorf("edit %s: %w", r.key, err)
		}
		return
	}
	r.cat, r.wk = cat, wk
	if !r.resolve() {
		return
	}
	r.cur, err = r.w.readCurrent(ctx, r.key, r.fields)
	if err != nil {
		for i := range r.outs {
			r.fail(ctx, i, classify(r.key, r.outs[i].Field, err))
		}
		return
	}
	ok := true
	for i := range r.outs {
		r.outs[i].Old = r.cur.values[i]
	}
	for i := range r.outs {
		if err := r.conflict(ctx, i); err != nil {
			r.fail(ctx, i, err)
			ok = false
		}
	}
	if ok && r.status >= 0 {
		ok = r.prepareTransition(ctx)
	}
	if ok {
		ok = r.prepareFields(ctx)
	}
	if !ok {
		r.leaveRest()
		return
	}
	r.write(ctx)
}

// fail audits field i's failure and records it.
func (r *editRun) fail(ctx context.Context, i int, err error) {
	r.outs[i].Err = r.w.fail(ctx, r.outs[i].Result, r.outs[i].Value, err)
}

// leaveRest marks the fields without an error as not written because of those with one.
func (r *editRun) leaveRest() {
	var because []string
	for _, o := range r.outs {
		if o.Err != nil {
			because = append(because, o.Field)
		}
	}
	for i := range r.outs {
		if r.outs[i].Err == nil && !r.outs[i].Unchanged {
			r.outs[i].Err = &NotWrittenError{Key: r.key, Field: r.outs[i].Field, Because: because}
		}
	}
}

// resolve finds every field; a name that is no field, a field Jira sets itself or a field
// given twice stops the edit before anything is asked of Jira.
func (r *editRun) resolve() bool {
	ok := true
	for i := range r.outs {
		o := &r.outs[i]
		f, err := resolveField(o.Field, r.cat, r.wk)
		if err != nil {
			o.Err = &FieldError{Key: r.key, Field: o.Field, Message: err.Error(), Err: err}
			ok = false
			continue
		}
		o.ID = f.ID
		r.fields[i] = f
		for j := range i {
			if r.fields[j].ID == f.ID {
				err := malformedf("given twice (also as %q): give each field once, e.g. labels=+a,-b", r.outs[j].Field)
				o.Err = &FieldError{Key: r.key, Field: o.Field, Message: err.Error(), Err: err}
				ok = false
			}
		}
		if f.Kind == kindStatus {
			r.status = i
		}
	}
	if !ok {
		r.leaveRest()
	}
	return ok
}

// conflict checks field i for a change in Jira after the base: the field itself differs
// from its value at the base (when the cache still holds the base; otherwise any change
// counts), or from opts.Expect. Adding to or removing from a list cannot lose someone
// else's change: Jira applies the operation to the list as it is then.
func (r *editRun) conflict(ctx context.Context, i int) error {
	o, f := &r.outs[i], r.fields[i]
	if r.opts.Overwrite || onlyChanges(f.Kind, o.Value) {
		return nil
	}
	changed := false
	switch {
	case r.opts.Expect != nil:
		// The caller knows what its own write left (an undo): anything else is someone
		// else's, even when Jira's updated says nothing happened since (a write that
		// landed between ours and its read-back).
		changed = !sameValue(f.Kind, *r.opts.Expect, o.Old)
	case !r.base.IsZero() && r.cur.updated.After(r.base):
		changed = true
		if r.cached == nil && r.cacheErr == nil {
			is, err := r.w.db.Issue(ctx, r.key)
			r.cached, r.cacheErr = &is, err
			if err == nil {
				// Compared with Jira's value as the editor sees it, the cached copy is
				// the one the editor may see too: the shared cache may hold a parent or
				// epic the editor cannot browse, and a conflict over it would tell them
				// one exists.
				v := Viewer{Viewer: lens.Viewer{User: r.w.who(ctx)}}
				r.cached, r.cacheErr = RedactFor(ctx, r.w.db, v, &is)
			}
		}
		if r.cacheErr == nil && r.cached.Updated.Equal(r.base) {
			was := renderRaw(f.Kind, r.cached.Fields[f.ID])
			if f.Kind == kindStatus {
				was = r.cached.Status
			}
			changed = !sameValue(f.Kind, was, o.Old)
		}
	}
	if changed {
		// Their version is newer than the cache: bring it in, so that keeping theirs shows
		// theirs at once in every open view. A failure here only leaves that to the next
		// refresh.
		if !r.synced {
			r.synced = true
			_ = r.w.syncIssue(ctx, r.key)
		}
		return &ConflictError{Key: r.key, Field: o.Field, Base: r.base, Theirs: o.Old, TheirsUpdated: r.cur.updated, Mine: o.Value}
	}
	if r.opts.KeepConflicts {
		if at, ok := r.w.refusedBefore(ctx, r.key, f, o.Old); ok {
			return &ConflictError{Key: r.key, Field: o.Field, Base: r.base, Theirs: o.Old, TheirsUpdated: r.cur.updated, Mine: o.Value, RefusedAt: at}
		}
	}
	return nil
}

// refusedBefore reports whether this identity's newest edit of the field was refused as a
// conflict, and Jira still holds the value that refusal showed as theirs (now): then the
// refusal stands, though the cache has since taken their version. When it was refused.
func (w *Writer) refusedBefore(ctx context.Context, key string, f fieldInfo, now string) (time.Time, bool) {
	log, err := w.db.AuditLog(ctx, store.AuditFilter{Actor: w.who(ctx), Action: AuditActionEdit, Target: key, Limit: 200})
	if err != nil {
		return time.Time{}, false
	}
	for _, e := range log {
		var after auditValue
		if json.Unmarshal(e.After, &after) != nil || after.ID != f.ID {
			continue
		}
		var before auditValue
		if !strings.HasPrefix(e.Outcome, "conflict: ") || json.Unmarshal(e.Before, &before) != nil {
			return time.Time{}, false
		}
		return e.At, sameValue(f.Kind, before.Value, now)
	}
	return time.Time{}, false
}

// prepareTransition finds the transition to the status asked for and fills its screen from
// the other fields of the edit and opts.Screen. Nothing is written.
func (r *editRun) prepareTransition(ctx context.Context) bool {
	i := r.status
	o := &r.outs[i]
	key, want := r.key, strings.TrimSpace(o.Value)
	// Screen candidates by field id: opts.Screen, then the edit's other fields.
	type candidate struct {
		name, value string
		out         int // index in outs, -1 for opts.Screen
	}
	given := map[string]candidate{}
	for name, v := range r.opts.Screen {
		if sf, err := resolveField(name, r.cat, r.wk); err == nil {
			given[sf.ID] = candidate{name, v, -1}
		}
	}
	for j := range r.outs {
		if j != i {
			given[r.fields[j].ID] = candidate{r.outs[j].Field, r.outs[j].Value, j}
		}
	}
	take := func(c candidate) {
		o.ScreenUsed = append(o.ScreenUsed, c.name)
		if c.out >= 0 {
			r.outs[c.out].Screen = true
		}
	}
	if strings.EqualFold(r.cur.status, want) {
		o.New, o.Unchanged, o.Updated = r.cur.status, true, r.cur.updated
		// No transition runs, so no screen: a resolution given for it is moot rather than
		// an edit of its own (Jira sets resolutions only through transitions).
		if c, ok := given["resolution"]; ok {
			take(c)
			if c.out >= 0 {
				co := &r.outs[c.out]
				co.Unchanged, co.New, co.Updated = true, co.Old, r.cur.updated
			}
		}
		return true
	}
	ts, err := r.w.c.Transitions(ctx, key)
	if err != nil {
		r.fail(ctx, i, classify(key, o.Field, err))
		return false
	}
	if len(ts) == 0 {
		r.fail(ctx, i, &PermissionError{Key: key, Field: o.Field, Reason: "Jira offers you no transition on this issue"})
		return false
	}
	var t *jira.Transition
	for k := range ts {
		if strings.EqualFold(ts[k].To.Name, want) {
			t = &ts[k]
			break
		}
	}
	if t == nil {
		for k := range ts {
			if strings.EqualFold(ts[k].Name, want) {
				t = &ts[k]
				break
			}
		}
	}
	if t == nil {
		offers := make([]string, len(ts))
		for k, x := range ts {
			offers[k] = x.To.Name + " (" + x.Name + ")"
		}
		r.fail(ctx, i, &FieldError{Key: key, Field: o.Field,
			Message: fmt.Sprintf("no transition from %s to %q; Jira offers: %s", r.cur.status, want, strings.Join(offers, ", "))})
		return false
	}
	o.Transition = t.Name
	edit := jira.Edit{Fields: map[string]any{}, Update: map[string][]map[string]any{}}
	var missing []string
	ids := make([]string, 0, len(t.Fields))
	for id := range t.Fields {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ok := true
	for _, id := range ids {
		ef := t.Fields[id]
		c, found := given[id]
		if !found {
			if ef.Required && !ef.HasDefaultValue {
				m := ef.Name
				if vals := allowedValues(ef); len(vals) > 0 {
					m += " (one of " + allowedNames(vals) + ")"
				}
				missing = append(missing, m)
			}
			continue
		}
		sf := fieldInfo{ID: id, Name: ef.Name, Kind: kindOf(lens.Field{ID: id, SchemaType: ef.Schema.Type, SchemaItems: ef.Schema.Items, SchemaCustom: ef.Schema.Custom}, r.wk)}
		old := ""
		if c.out >= 0 {
			old = r.outs[c.out].Old
		}
		iv, known, err := r.w.build(ctx, key, r.cur.project, sf, ef, c.value, old, &edit)
		if err != nil {
			if c.out >= 0 {
				r.fail(ctx, c.out, err)
			} else {
				r.fail(ctx, i, err)
			}
			ok = false
			continue
		}
		take(c)
		if c.out >= 0 {
			r.intent[c.out] = intent{iv, known}
		}
	}
	if len(missing) > 0 {
		r.fail(ctx, i, &FieldError{Key: key, Field: o.Field, Missing: missing,
			Message: fmt.Sprintf("transition %q to %s needs %s", t.Name, t.To.Name, strings.Join(missing, ", "))})
		return false
	}
	if !ok {
		return false
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
	r.tr, r.trFields = t, fields
	r.intent[i] = intent{t.To.Name, true}
	return true
}

// prepareFields checks the plain fields against the edit metadata and builds the one PUT
// that writes them. Nothing is written.
func (r *editRun) prepareFields(ctx context.Context) bool {
	for i := range r.outs {
		if i != r.status && !r.outs[i].Screen {
			r.plain = append(r.plain, i)
		}
	}
	if len(r.plain) == 0 {
		return true
	}
	w, key := r.w, r.key
	meta, err := w.EditMeta(ctx, key, r.cur.project, r.cur.itype, false)
	if err != nil {
		for _, i := range r.plain {
			r.fail(ctx, i, classify(key, r.outs[i].Field, err))
		}
		return false
	}
	r.edit = jira.Edit{Fields: map[string]any{}, Update: map[string][]map[string]any{}, NotifyUsers: r.opts.NotifyUsers}
	ok, fresh := true, false
	for _, i := range r.plain {
		o, f := &r.outs[i], r.fields[i]
		ef, found := meta.Fields[f.ID]
		if !found && !fresh {
			// The cached metadata may predate a screen change: ask once more before refusing.
			fresh = true
			if meta, err = w.EditMeta(ctx, key, r.cur.project, r.cur.itype, true); err != nil {
				r.fail(ctx, i, classify(key, o.Field, err))
				return false
			}
			ef, found = meta.Fields[f.ID]
		}
		if !found {
			r.fail(ctx, i, w.notEditable(key, o.Field, f, meta, r.wk))
			ok = false
			continue
		}
		iv, known, err := w.build(ctx, key, r.cur.project, f, ef, o.Value, o.Old, &r.edit)
		if err != nil {
			r.fail(ctx, i, err)
			ok = false
			continue
		}
		r.intent[i] = intent{iv, known}
		if known && f.Kind != kindRichText && writtenMatches(f.Kind, iv, o.Old) {
			// Already the value, as Jira holds it now: nothing to write and nothing to
			// audit, as for a status already reached. (Rich text is always written: the
			// same words may carry other formatting.)
			delete(r.edit.Fields, f.ID)
			delete(r.edit.Update, f.ID)
			o.New, o.Unchanged, o.Updated = o.Old, true, r.cur.updated
		}
	}
	r.plain = slices.DeleteFunc(r.plain, func(i int) bool { return r.outs[i].Unchanged })
	return ok
}

// notEditable is the refusal of a field the issue's edit screen does not have, with a hint
// where the field is the other dialect's way to an epic.
func (w *Writer) notEditable(key, field string, f fieldInfo, meta *jira.EditMeta, wk store.WellKnown) error {
	if len(meta.Fields) == 0 {
		return &PermissionError{Key: key, Field: field, Reason: "Jira lets you edit no field of this issue"}
	}
	msg := "not editable on this issue (not on its edit screen)"
	switch {
	case f.ID == "parent" && w.c.Dialect() != jira.Cloud && wk.EpicLink != "":
		if _, ok := meta.Fields[wk.EpicLink]; ok {
			msg += `; on Data Center an issue's epic is its Epic Link: edit "Epic Link" instead (parent is a sub-task's issue)`
		}
	case f.Kind == kindEpicLink && w.c.Dialect() == jira.Cloud:
		if _, ok := meta.Fields["parent"]; ok {
			msg += "; on Jira Cloud an issue's epic is its parent: edit parent instead"
		}
	}
	return &FieldError{Key: key, Field: field, Message: msg}
}

// write sends the PUT, then the transition, then reads the issue back.
func (r *editRun) write(ctx context.Context) {
	w, key := r.w, r.key
	var written []int
	if len(r.plain) > 0 {
		if err := w.c.EditIssue(ctx, key, r.edit); err != nil {
			var api *jira.APIError
			if errors.As(err, &api) && api.Status == http.StatusBadRequest {
				w.forgetMeta(r.cur.project, r.cur.itype) // refreshed on the next edit
			}
			for _, i := range r.plain {
				r.fail(ctx, i, classifyIn(key, r.outs[i].Field, r.fields[i].ID, err, len(r.plain) > 1))
			}
			r.leaveRest()
			return
		}
		written = append(written, r.plain...)
	}
	if r.tr != nil {
		if err := w.c.DoTransition(ctx, key, r.tr.ID, r.trFields); err != nil {
			r.fail(ctx, r.status, classify(key, r.outs[r.status].Field, err))
			for i := range r.outs {
				if r.outs[i].Screen {
					r.outs[i].Err = &NotWrittenError{Key: key, Field: r.outs[i].Field, Because: []string{r.outs[r.status].Field}}
				}
			}
		} else {
			written = append(written, r.status)
			for i := range r.outs {
				if r.outs[i].Screen {
					r.outs[i].Written, r.outs[i].New = true, r.outs[i].Value
					if in := r.intent[i]; in.known {
						r.outs[i].New = in.value
					}
				}
			}
		}
	}
	if len(written) > 0 {
		r.finish(ctx, written)
	}
}

// finish reads the written issue back, upserts it (the change feed tells every view) and
// audits each written field in the same transaction. A field's new value is the value
// written: when the read-back shows another, someone's write landed after ours, and that is
// noted (Overtaken, Later) while the cache takes the read-back as it is.
func (r *editRun) finish(ctx context.Context, written []int) {
	w := r.w
	ji, err := w.readBack(ctx, r.key, fieldList(r.cat))
	if err == nil {
		var page store.Page
		if page, err = pageOf([]jira.Issue{*ji}, r.wk); err == nil {
			is := &page.Issues[0]
			page.Audit = make([]store.AuditEntry, 0, len(written))
			for _, i := range written {
				o, f := &r.outs[i], r.fields[i]
				back := is.Status
				if f.Kind != kindStatus {
					back = renderRaw(f.Kind, ji.Fields[f.ID])
				}
				o.Written, o.Updated, o.New = true, is.Updated, back
				outcome := "ok"
				if in := r.intent[i]; in.known && !writtenMatches(f.Kind, in.value, back) {
					o.New, o.Overtaken, o.Later = in.value, true, back
					outcome = fmt.Sprintf("ok (changed again in Jira before the read-back: now %q)", back)
				}
				page.Audit = append(page.Audit, w.auditEntry(ctx, o.Result, o.Value, outcome))
			}
			// Written after our own write: nothing in the cache can be newer, so the read
			// is authoritative. The audit rows go in the same transaction.
			w.sighted(ctx, &page)
			if _, err = w.db.ApplyPage(context.WithoutCancel(ctx), page, true); err == nil {
				if w.opt.Engine != nil {
					w.opt.Engine.NoteWritten(is.ID)
				}
				return
			}
		}
	}
	// The write is in Jira; only the cache lags, and the next refresh brings it. The audit
	// and undo hold the value written.
	rb := &ReadBackError{Key: r.key, Err: err}
	for _, i := range written {
		rb.Fields = append(rb.Fields, r.outs[i].Field)
	}
	for _, i := range written {
		o := &r.outs[i]
		o.Written, o.Overtaken, o.Later, o.Updated, o.New = true, false, "", time.Time{}, o.Value
		if in := r.intent[i]; in.known {
			o.New = in.value
		}
		o.Err = rb
		w.audit(ctx, o.Result, o.Value, "ok (read-back failed: "+err.Error()+")")
	}
}

// writtenMatches reports whether a field read back holds the value written, as Jira
// normalises it (trimmed text, names in Jira's case, instants in any zone).
func writtenMatches(k editKind, want, got string) bool {
	if sameValue(k, want, got) {
		return true
	}
	switch k {
	case kindText, kindRichText:
		return strings.TrimSpace(want) == strings.TrimSpace(got)
	case kindOption, kindStatus, kindUser, kindParent, kindEpicLink:
		return strings.EqualFold(want, got)
	case kindNumber:
		a, ea := strconv.ParseFloat(want, 64)
		b, eb := strconv.ParseFloat(got, 64)
		// Jira may keep a number in single precision.
		return ea == nil && eb == nil && math.Abs(a-b) <= 1e-6*max(1, math.Abs(a))
	case kindDateTime:
		a, ea := parseStamp(want)
		b, eb := parseStamp(got)
		return ea == nil && eb == nil && a.Equal(b)
	}
	return false
}

// jiraStamp is how Jira writes date-times.
const jiraStamp = "2006-01-02T15:04:05.000-0700"

func parseStamp(s string) (time.Time, error) {
	if t, err := time.Parse(jiraStamp, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// onlyChanges reports whether value adds to or removes from a list rather than setting it.
func onlyChanges(k editKind, value string) bool {
	if k != kindLabels && k != kindMultiOption {
		return false
	}
	_, _, _, isSet, err := splitList(value)
	return err == nil && !isSet
}

// build fills edit with the JSON for value in field f (ef is its editmeta; old the field's
// value now). It says what the write leaves in the field, in the value syntax, when that
// can be told before Jira answers.
func (w *Writer) build(ctx context.Context, key, project string, f fieldInfo, ef jira.EditField, value, old string, edit *jira.Edit) (string, bool, error) {
	bad := func(format string, a ...any) (string, bool, error) {
		return "", false, &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf(format, a...)}
	}
	clear := func() (string, bool, error) {
		edit.Fields[f.ID] = nil
		return "", true, nil
	}
	switch f.Kind {
	case kindText:
		edit.Fields[f.ID] = value
		return strings.TrimSpace(value), true, nil
	case kindRichText:
		if w.c.Dialect() == jira.Cloud {
			doc := adfDoc(value)
			edit.Fields[f.ID] = doc
			b, err := json.Marshal(doc)
			if err != nil {
				return "", false, nil
			}
			return jira.ADFText(b), true, nil
		}
		edit.Fields[f.ID] = value
		return value, true, nil
	case kindNumber:
		if isNone(value) {
			return clear()
		}
		n, err := ParseNumber(value)
		if err != nil {
			return bad("%v", err)
		}
		edit.Fields[f.ID] = n
		return strconv.FormatFloat(n, 'f', -1, 64), true, nil
	case kindDate, kindDateTime:
		if isNone(value) {
			return clear()
		}
		if f.Kind == kindDateTime {
			if t, err := time.Parse(time.RFC3339, strings.TrimSpace(value)); err == nil {
				if err := checkDateRange(t, value); err != nil {
					return bad("%v", err)
				}
				s := t.Format(jiraStamp)
				edit.Fields[f.ID] = s
				return s, true, nil
			}
		}
		d, err := parseDate(value, w.opt.Now())
		if err != nil {
			return bad("%v", err)
		}
		s := d.Format(time.DateOnly)
		if f.Kind == kindDateTime {
			s = d.Format(jiraStamp)
		}
		edit.Fields[f.ID] = s
		return s, true, nil
	case kindOption:
		if isNone(value) {
			return clear()
		}
		vals := allowedValues(ef)
		if len(vals) == 0 {
			name := strings.TrimSpace(value)
			edit.Fields[f.ID] = map[string]string{"name": name}
			return name, true, nil
		}
		v, ok := pickAllowed(vals, value)
		if !ok {
			return bad("%q is not an allowed value; allowed: %s", value, allowedNames(vals))
		}
		edit.Fields[f.ID] = map[string]string{"id": v.ID}
		return v.Name, true, nil
	case kindMultiOption:
		set, add, remove, isSet, err := splitList(value)
		if err != nil {
			return bad("%v", err)
		}
		vals := allowedValues(ef)
		// ref is the reference Jira takes for a name, and the name as Jira spells it.
		ref := func(name string) (map[string]string, string, bool) {
			if len(vals) == 0 {
				return map[string]string{"name": name}, name, true
			}
			v, ok := pickAllowed(vals, name)
			if !ok {
				return nil, "", false
			}
			return map[string]string{"id": v.ID}, v.Name, true
		}
		if isSet {
			items := []map[string]string{}
			names := make([]string, 0, len(set))
			for _, n := range set {
				r, name, ok := ref(n)
				if !ok {
					return bad("%q is not an allowed value; allowed: %s", n, allowedNames(vals))
				}
				items = append(items, r)
				names = append(names, name)
			}
			edit.Fields[f.ID] = items
			return strings.Join(names, ","), true, nil
		}
		var named [2][]string
		for k, op := range []struct {
			name  string
			items []string
		}{{"remove", remove}, {"add", add}} {
			for _, n := range op.items {
				r, name, ok := ref(n)
				if !ok {
					return bad("%q is not an allowed value; allowed: %s", n, allowedNames(vals))
				}
				edit.Update[f.ID] = append(edit.Update[f.ID], map[string]any{op.name: r})
				named[k] = append(named[k], name)
			}
		}
		return applyListOps(old, named[1], named[0], true), true, nil
	case kindLabels:
		set, add, remove, isSet, err := splitList(value)
		if err != nil {
			return bad("%v", err)
		}
		for _, l := range append(append(slices.Clip(set), add...), remove...) {
			if strings.ContainsAny(l, " \t\n") {
				return bad("label %q contains spaces, which Jira does not allow in labels", l)
			}
			if len(l) > 255 {
				return bad("label %q is longer than the 255 characters Jira allows", l)
			}
		}
		if isSet {
			if set == nil {
				set = []string{}
			}
			edit.Fields[f.ID] = set
			return applyListOps("", set, nil, false), true, nil
		}
		for _, l := range remove {
			edit.Update[f.ID] = append(edit.Update[f.ID], map[string]any{"remove": l})
		}
		for _, l := range add {
			edit.Update[f.ID] = append(edit.Update[f.ID], map[string]any{"add": l})
		}
		return applyListOps(old, add, remove, false), true, nil
	case kindUser:
		if isNone(value) {
			return clear()
		}
		u, err := w.findUser(ctx, key, f, value)
		if err != nil {
			return "", false, err
		}
		if w.c.Dialect() == jira.Cloud {
			edit.Fields[f.ID] = map[string]string{"accountId": u.AccountID}
		} else {
			edit.Fields[f.ID] = map[string]string{"name": u.Name}
		}
		return u.ID(), true, nil
	case kindSprint:
		if isNone(value) {
			return clear()
		}
		id, name, err := w.findSprint(ctx, key, project, f, value)
		if err != nil {
			return "", false, err
		}
		edit.Fields[f.ID] = id
		return name, name != "", nil
	case kindParent:
		if isNone(value) {
			edit.Update[f.ID] = []map[string]any{{"set": map[string]bool{"none": true}}}
			return "", true, nil
		}
		k := strings.ToUpper(strings.TrimSpace(value))
		edit.Fields[f.ID] = map[string]string{"key": k}
		return k, true, nil
	case kindEpicLink:
		if isNone(value) {
			return clear()
		}
		k := strings.ToUpper(strings.TrimSpace(value))
		edit.Fields[f.ID] = k
		return k, true, nil
	}
	return bad("cannot be edited here")
}

// applyListOps is a list field's value (comma-separated) after removing and adding items,
// each at most once, as Jira applies them; fold matches names in any case.
func applyListOps(old string, add, remove []string, fold bool) string {
	cur := listItems(old)
	eq := func(a string) func(string) bool {
		return func(b string) bool { return a == b || (fold && strings.EqualFold(a, b)) }
	}
	for _, x := range remove {
		cur = slices.DeleteFunc(cur, eq(x))
	}
	for _, x := range add {
		if !slices.ContainsFunc(cur, eq(x)) {
			cur = append(cur, x)
		}
	}
	return strings.Join(cur, ",")
}

// listItems are the items of a list field's value: comma-separated, trimmed, none empty.
func listItems(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// listDelta is the change from list old to list new as +/- operations: the items new adds,
// then those it drops. Names compare case-insensitively when fold (option names).
func listDelta(old, new string, fold bool) string {
	was, now := listItems(old), listItems(new)
	in := func(list []string, x string) bool {
		return slices.ContainsFunc(list, func(y string) bool { return x == y || (fold && strings.EqualFold(x, y)) })
	}
	var ops []string
	for _, x := range now {
		if !in(was, x) {
			ops = append(ops, "+"+x)
		}
	}
	for _, x := range was {
		if !in(now, x) {
			ops = append(ops, "-"+x)
		}
	}
	return strings.Join(ops, ",")
}

// invertDelta turns list operations around: +a,-b becomes -a,+b.
func invertDelta(delta string) string {
	ops := strings.Split(delta, ",")
	for i, op := range ops {
		switch {
		case strings.HasPrefix(op, "+"):
			ops[i] = "-" + op[1:]
		case strings.HasPrefix(op, "-"):
			ops[i] = "+" + op[1:]
		}
	}
	return strings.Join(ops, ",")
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
// has seen in the project's issues, or takes a numeric sprint id as is. It gives the
// sprint's name too ("" for an id the cache has not seen).
func (w *Writer) findSprint(ctx context.Context, key, project string, f fieldInfo, text string) (int64, string, error) {
	t := strings.TrimSpace(text)
	id, numErr := strconv.ParseInt(t, 10, 64)
	known, err := w.projectSprints(ctx, project, f.ID)
	if numErr == nil {
		for _, sp := range known {
			if sp.ID == id && sp.State != "closed" {
				return id, sp.Name, nil
			}
		}
		return id, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	var open []string
	for _, sp := range known {
		if sp.State == "closed" {
			if strings.EqualFold(sp.Name, t) {
				return 0, "", &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf("sprint %q is closed; issues go only to active or future sprints", sp.Name)}
			}
			continue
		}
		if strings.EqualFold(sp.Name, t) {
			return sp.ID, sp.Name, nil
		}
		open = append(open, sp.Name)
	}
	return 0, "", &FieldError{Key: key, Field: f.Name, Message: fmt.Sprintf("no open or future sprint named %q in %s; known: %s", t, project, strings.Join(open, ", "))}
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
	w.sighted(ctx, &page)
	_, err = w.db.ApplyPage(context.WithoutCancel(ctx), page, true)
	return err
}

// sighted gives a read-back page the Sight of the writer's identity, so that reading an
// issue back as a viewer who cannot see every end of its links, its sub-tasks or its
// parent keeps them in the shared cache (see sighter). When that cannot be worked out,
// everything the page leaves out is kept, and the next refresh settles it.
func (w *Writer) sighted(ctx context.Context, page *store.Page) {
	// The issue written is cached, so the cache is not empty: no need to ask.
	s := &sighter{c: w.c, db: w.db, checked: true}
	page.Sight = s.sightOrKeep(ctx, *page)
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

// classifyIn is classify for one field of a PUT that wrote several (multi): Jira names the
// fields it refused in errors, by id; the others were refused with them.
func classifyIn(key, field, id string, err error, multi bool) error {
	var api *jira.APIError
	if !multi || !errors.As(err, &api) || api.Status != http.StatusBadRequest {
		return classify(key, field, err)
	}
	if msg, ok := api.Errors[id]; ok {
		return &FieldError{Key: key, Field: field, Message: msg, Err: err}
	}
	return &FieldError{Key: key, Field: field, Message: "not written: Jira refused the edit as a whole: " + jiraMessage(err), Err: err}
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
