package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"foundation/jql"
	"foundation/lens"
)

// editBackend is memBackend plus an Editor over the same in-memory data: edits change the
// issues and append to the change feed, the way the real write-back path upserts the
// cache. Tests inject Jira's refusals, conflicts and a gate that holds writes in flight.
type editBackend struct {
	*memBackend

	emu      sync.Mutex
	history  [][]memEdit // undo stack of steps
	redo     [][]memEdit
	refuse   map[string]string // "KEY field" -> Jira's message
	theirs   map[string]string // "KEY field" -> a value someone wrote in Jira meanwhile
	sets     []string          // "KEY field=value" in order, for assertions
	suggests []string          // queries asked of Suggest
	moves    []MoveRequest
	ranks    []string      // "KEY before|after OTHER" as Jira's rank was asked, in order
	gate     chan struct{} // when set, Set waits for a receive before writing
	// denied, when set, is the refusal of a viewer with only view access to every Lens.
	denied error
	// bulkScreens are the transition screen values each bulk write was given.
	bulkScreens []map[string]string
}

type memEdit struct{ key, field, old, new string }

const workYAML = `
name: Work
description: Epics and stories with the fields every editor kind needs.
owner: alice
generators:
  - insert: {jql: "issuetype = Epic"}
  - extend: {by: parent}
views:
  - name: work
    columns:
      - field: story points
      - field: duedate
      - field: sprint
      - field: parent
      - field: labels
      - field: status
`

func newEditBackend(t testing.TB) *editBackend {
	t.Helper()
	m := newMemBackend(t)
	m.data.Fields = append(m.data.Fields, lens.Field{ID: "customfield_10020", Name: "Sprint", Custom: true,
		SchemaType: "array", SchemaItems: "json", SchemaCustom: "com.pyxis.greenhopper.jira:gh-sprint"})
	d, err := lens.Parse("work.yaml", []byte(workYAML))
	if err != nil {
		t.Fatalf("parse work: %v", err)
	}
	m.defs["work"] = d
	m.order = append(m.order, "work")
	return &editBackend{memBackend: m, refuse: map[string]string{}, theirs: map[string]string{}}
}

var memStatuses = map[string][]string{ // the fake workflow: transitions by current status
	"To Do":       {"In Progress", "Done"},
	"In Progress": {"To Do", "Done"},
	"Done":        {"To Do"},
}

// fieldOf names a column's field the way the backend keys it.
func fieldOf(field string) string {
	switch strings.ToLower(field) {
	case "story points", "customfield_10016":
		return "story points"
	case "sprint", "customfield_10020":
		return "sprint"
	}
	return strings.ToLower(field)
}

func (b *editBackend) issue(key string) (lens.Issue, bool) {
	for _, is := range b.data.Issues {
		if is.Key == key {
			return is, true
		}
	}
	return lens.Issue{}, false
}

func get(is lens.Issue, field string) string {
	switch fieldOf(field) {
	case "rank":
		return is.Rank
	case "summary":
		return is.Summary
	case "status":
		return is.Status
	case "assignee":
		return is.Assignee
	case "priority":
		return is.Priority
	case "duedate":
		return is.DueDate
	case "labels":
		return strings.Join(is.Labels, ",")
	case "parent":
		return is.Parent
	case "story points":
		if is.StoryPoints == nil {
			return ""
		}
		return strconv.FormatFloat(*is.StoryPoints, 'f', -1, 64)
	case "sprint":
		var sps []struct{ Name string }
		_ = json.Unmarshal(is.Fields["customfield_10020"], &sps)
		if len(sps) > 0 {
			return sps[0].Name
		}
	}
	return ""
}

func put(is *lens.Issue, field, v string) error {
	if strings.EqualFold(v, "none") {
		v = ""
	}
	switch fieldOf(field) {
	case "rank":
		is.Rank = v
	case "summary":
		is.Summary = v
	case "status":
		is.Status = v
		is.StatusCategory = map[string]string{"To Do": "new", "In Progress": "indeterminate", "Done": "done"}[v]
	case "assignee":
		is.Assignee = v
	case "priority":
		is.Priority = v
	case "duedate":
		is.DueDate = v
	case "labels":
		items := splitValues(v)
		if len(items) > 0 && (strings.HasPrefix(items[0], "+") || strings.HasPrefix(items[0], "-")) {
			items = applyChanges(is.Labels, items) // +x/-y change the list as it is
		}
		is.Labels = items
	case "parent":
		is.Parent = v
	case "story points":
		if v == "" {
			is.StoryPoints = nil
			delete(is.Fields, "customfield_10016")
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return &FieldError{Key: is.Key, Field: field, Message: "not a number"}
		}
		is.StoryPoints = &f
		is.Fields["customfield_10016"] = json.RawMessage(v)
	case "sprint":
		is.Fields["customfield_10020"] = json.RawMessage(fmt.Sprintf(`[{"id":1,"name":%q,"state":"active"}]`, v))
	default:
		return &FieldError{Key: is.Key, Field: field, Message: "not on the edit screen"}
	}
	return nil
}

func (b *editBackend) EditMeta(ctx context.Context, lensID, key, field string) (FieldEdit, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	is, ok := b.issue(key)
	if !ok {
		return FieldEdit{}, fmt.Errorf("no issue %s", key)
	}
	fe := FieldEdit{Field: field, Name: field, Current: get(is, field)}
	switch fieldOf(field) {
	case "summary":
		fe.Kind, fe.Required = KindText, true
	case "story points":
		fe.Kind, fe.Name = KindNumber, "Story Points"
	case "duedate":
		fe.Kind, fe.Name = KindDate, "Due date"
	case "priority":
		fe.Kind, fe.Allowed, fe.Required = KindSelect, []string{"High", "Medium", "Low"}, true
	case "labels":
		fe.Kind, fe.Name = KindMultiSelect, "Labels"
	case "assignee":
		fe.Kind, fe.Name = KindUser, "Assignee"
	case "sprint":
		fe.Kind, fe.Name, fe.Allowed = KindSprint, "Sprint", []string{"Sprint 7", "Sprint 8"}
	case "parent":
		fe.Kind, fe.Name = KindParent, "Parent"
	case "status":
		fe.Kind, fe.Name, fe.Required = KindStatus, "Status", true
		fe.Allowed = memStatuses[is.Status]
		fe.Screens = map[string][]ScreenField{"Done": {{Field: "resolution", Name: "Resolution", Allowed: []string{"Fixed", "Won't Do"}}}}
	default:
		return FieldEdit{}, fmt.Errorf("%s is not on the edit screen of %s", field, key)
	}
	return fe, nil
}

func (b *editBackend) Suggest(ctx context.Context, key, field, query string) ([]Suggestion, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.suggests = append(b.suggests, fieldOf(field)+":"+query)
	var out []Suggestion
	q := strings.ToLower(query)
	switch fieldOf(field) {
	case "assignee":
		ids := make([]string, 0, len(b.data.Users))
		for id := range b.data.Users {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if name := b.data.Users[id]; strings.Contains(strings.ToLower(name+" "+id), q) {
				out = append(out, Suggestion{Value: id, Label: name})
			}
		}
	case "labels":
		seen := map[string]bool{}
		for _, is := range b.data.Issues {
			for _, l := range is.Labels {
				if !seen[l] && strings.Contains(l, q) {
					seen[l] = true
					out = append(out, Suggestion{Value: l, Label: l})
				}
			}
		}
		for _, l := range []string{"frontend", "perf"} { // labels elsewhere in the cache
			if !seen[l] && strings.Contains(l, q) {
				out = append(out, Suggestion{Value: l, Label: l})
			}
		}
	case "parent":
		for _, is := range b.data.Issues {
			if is.Type == "Epic" && strings.Contains(strings.ToLower(is.Key+" "+is.Summary), q) {
				out = append(out, Suggestion{Value: is.Key, Label: is.Key + " " + is.Summary})
			}
		}
	}
	return out, nil
}

// write applies one value under b.mu and appends to the change feed.
func (b *editBackend) write(key, field, value string) (EditResult, error) {
	is, ok := b.issue(key)
	if !ok {
		return EditResult{}, fmt.Errorf("no issue %s", key)
	}
	old := get(is, field)
	is.Fields = maps(is.Fields)
	is.Labels = slices.Clone(is.Labels)
	if err := put(&is, field, value); err != nil {
		return EditResult{}, err
	}
	is.Updated = is.Updated.Add(1e9)
	b.data.SetIssue(is)
	b.changes = append(b.changes, memChange{seq: int64(len(b.changes) + 1), key: key})
	return EditResult{Key: key, Field: field, Old: old, New: get(is, field)}, nil
}

func maps(m map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (b *editBackend) set(key, field, value string, opt SetOptions) (EditResult, error) {
	b.emu.Lock()
	msg, refused := b.refuse[key+" "+fieldOf(field)]
	theirs, conflict := b.theirs[key+" "+fieldOf(field)]
	b.sets = append(b.sets, fmt.Sprintf("%s %s=%s", key, fieldOf(field), value))
	b.emu.Unlock()
	if refused {
		return EditResult{}, &FieldError{Key: key, Field: field, Message: msg}
	}
	if conflict && !opt.Overwrite {
		return EditResult{}, &ConflictError{Key: key, Field: field, Theirs: theirs, Mine: value}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if fieldOf(field) == "status" {
		is, _ := b.issue(key)
		if !slices.Contains(memStatuses[is.Status], value) && is.Status != value {
			return EditResult{}, &FieldError{Key: key, Field: field, Message: "no transition from " + is.Status + " to " + value}
		}
		if value == "Done" && opt.Screen["resolution"] == "" {
			return EditResult{}, &FieldError{Key: key, Field: field, Message: "Resolution is required", Missing: []string{"Resolution"}}
		}
	}
	return b.write(key, field, value)
}

func (b *editBackend) Set(ctx context.Context, key, field, value string, opt SetOptions) (EditResult, error) {
	if b.gate != nil {
		<-b.gate
	}
	r, err := b.set(key, field, value, opt)
	if err == nil {
		b.emu.Lock()
		b.history = append(b.history, []memEdit{{key, field, r.Old, r.New}})
		b.redo = nil
		b.emu.Unlock()
	}
	return r, err
}

// replay writes a step back (undo) or again (redo) through set, so refusals and conflicts
// apply as they do to edits: what was refused stays on the stack, like refresh.History.
func (b *editBackend) replay(from, to *[][]memEdit, undo bool, opt SetOptions) ([]EditResult, error) {
	b.emu.Lock()
	if len(*from) == 0 {
		b.emu.Unlock()
		if undo {
			return nil, errors.New("nothing to undo")
		}
		return nil, errors.New("nothing to redo")
	}
	step := (*from)[len(*from)-1]
	*from = (*from)[:len(*from)-1]
	b.emu.Unlock()
	var done, left []memEdit
	var errs []error
	for i := range step {
		e := step[i]
		v := e.new
		if undo {
			e = step[len(step)-1-i]
			v = e.old
		}
		if _, err := b.set(e.key, e.field, v, opt); err != nil {
			errs = append(errs, err)
			left = append(left, e)
			continue
		}
		done = append(done, e)
	}
	if undo { // like refresh.Writer.Undo: results in the step's order
		slices.Reverse(done)
		slices.Reverse(left)
	}
	b.emu.Lock()
	if len(left) > 0 {
		*from = append(*from, left)
	}
	if len(done) > 0 {
		*to = append(*to, done)
	}
	b.emu.Unlock()
	return memResults(done), errors.Join(errs...)
}

func memResults(step []memEdit) []EditResult {
	var out []EditResult
	for _, e := range step {
		out = append(out, EditResult{Key: e.key, Field: e.field, Old: e.old, New: e.new})
	}
	return out
}

func (b *editBackend) Undo(ctx context.Context, opt SetOptions) ([]EditResult, error) {
	return b.replay(&b.history, &b.redo, true, opt)
}

func (b *editBackend) Redo(ctx context.Context, opt SetOptions) ([]EditResult, error) {
	return b.replay(&b.redo, &b.history, false, opt)
}

func (b *editBackend) stack(redo bool) *[][]memEdit {
	if redo {
		return &b.redo
	}
	return &b.history
}

func (b *editBackend) Step(ctx context.Context, redo bool) []EditResult {
	b.emu.Lock()
	defer b.emu.Unlock()
	st := b.stack(redo)
	if len(*st) == 0 {
		return nil
	}
	return memResults((*st)[len(*st)-1])
}

func (b *editBackend) Drop(ctx context.Context, redo bool) ([]EditResult, error) {
	b.emu.Lock()
	defer b.emu.Unlock()
	st := b.stack(redo)
	if len(*st) == 0 {
		return nil, errors.New("nothing to drop")
	}
	top := (*st)[len(*st)-1]
	*st = (*st)[:len(*st)-1]
	return memResults(top), nil
}

// Bulk writes like the real backend: a value an issue already has is not written.
func (b *editBackend) Bulk(ctx context.Context, keys []string, field, value string, opt SetOptions, progress func(done, total int)) (BulkResult, error) {
	var res BulkResult
	var step []memEdit
	for i, k := range keys {
		b.mu.Lock()
		is, _ := b.issue(k)
		now := get(is, field)
		b.mu.Unlock()
		if strings.EqualFold(now, value) {
			res.Changed = append(res.Changed, EditResult{Key: k, Field: field, Old: now, New: now, Unchanged: true})
			progress(i+1, len(keys))
			continue
		}
		b.emu.Lock()
		b.bulkScreens = append(b.bulkScreens, opt.Screen)
		b.emu.Unlock()
		r, err := b.set(k, field, value, opt)
		if err != nil {
			res.Failed = append(res.Failed, BulkFailure{Key: k, Err: err})
		} else {
			res.Changed = append(res.Changed, r)
			step = append(step, memEdit{k, field, r.Old, r.New})
		}
		progress(i+1, len(keys))
	}
	if len(step) > 0 {
		b.emu.Lock()
		b.history = append(b.history, step)
		b.redo = nil
		b.emu.Unlock()
	}
	return res, nil
}

func (b *editBackend) CheckEdit(ctx context.Context, lensID string) error { return b.denied }

func (b *editBackend) PlanMove(ctx context.Context, req MoveRequest) (MovePlan, error) {
	if b.denied != nil {
		return MovePlan{}, b.denied
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	is, _ := b.issue(req.Key)
	return PlanMove(b.defs[req.Lens], &is, req, jql.Env{Now: b.now, CurrentUser: b.data.CurrentUser})
}

func (b *editBackend) Move(ctx context.Context, req MoveRequest) (EditResult, error) {
	plan, err := b.PlanMove(ctx, req)
	if err != nil {
		return EditResult{}, err
	}
	b.emu.Lock()
	b.moves = append(b.moves, req)
	b.emu.Unlock()
	switch plan.By {
	case "group":
		v := req.To.Group.Value
		if req.To.Group.None {
			v = "none"
		}
		return b.Set(ctx, req.Key, plan.GroupField, v, SetOptions{})
	case "parent":
		v := req.To.Key
		if v == "" {
			v = "none"
		}
		return b.Set(ctx, req.Key, "parent", v, SetOptions{})
	}
	return EditResult{}, fmt.Errorf("move by %s: not supported here", plan.By)
}

// Rank ranks key next to another issue the way Jira does: a rank strictly between the
// target and its neighbour, nobody else's rank touched, one undoable step.
func (b *editBackend) Rank(ctx context.Context, lensID, key, beforeKey, afterKey string) (EditResult, error) {
	b.mu.Lock()
	desc, err := RankOrder(b.defs[lensID])
	b.mu.Unlock()
	if err != nil {
		return EditResult{}, err
	}
	if desc { // shown highest first: above in the Lens is after in Jira's rank
		beforeKey, afterKey = afterKey, beforeKey
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	target := beforeKey + afterKey
	t, ok := b.issue(target)
	if !ok {
		return EditResult{}, fmt.Errorf("no issue %s", target)
	}
	var ranks []string
	for _, is := range b.data.Issues {
		if is.Key != key {
			ranks = append(ranks, b.mustIssue(is.Key).Rank)
		}
	}
	slices.Sort(ranks)
	at := slices.Index(ranks, t.Rank)
	lo, hi := t.Rank, ""
	if at+1 < len(ranks) {
		hi = ranks[at+1]
	}
	if beforeKey != "" {
		lo, hi = "", t.Rank
		if at > 0 {
			lo = ranks[at-1]
		}
	}
	b.emu.Lock()
	b.ranks = append(b.ranks, key+" "+placementOf(beforeKey, afterKey))
	b.emu.Unlock()
	r, err := b.write(key, "rank", memRankBetween(lo, hi))
	if err != nil {
		return EditResult{}, err
	}
	b.emu.Lock()
	b.history = append(b.history, []memEdit{{key, "rank", r.Old, r.New}})
	b.redo = nil
	b.emu.Unlock()
	return r, nil
}

func placementOf(before, after string) string {
	if before != "" {
		return "before " + before
	}
	return "after " + after
}

// memRankBetween is a string strictly between lo and hi ("" hi: no upper bound).
func memRankBetween(lo, hi string) string {
	for k := 0; ; k++ {
		c := lo + strings.Repeat("0", k) + "m"
		if hi == "" || c < hi {
			return c
		}
	}
}

// mustIssue is the current copy of an issue (b.mu held).
func (b *editBackend) mustIssue(key string) lens.Issue {
	is, _ := b.issue(key)
	return is
}
