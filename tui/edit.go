package tui

// Inline editing: what a Backend must offer for the TUI to edit cells, bulk-set a field on
// selected rows, undo and redo, and move rows in the Lens's structure. A Backend that does
// not implement Editor gets a read-only TUI: the edit keys are hidden from help and the
// palette, and their keys fall through to what they did before (enter: detail, space:
// expand or collapse).

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"foundation/jql"
	"foundation/lens"
)

// Editor is the optional half of a Backend that writes to Jira. Every method may be called
// from a command goroutine and must honour ctx. Values are text in the write-back path's
// value syntax (`foundation edit` takes the same): "none" or "" clears, lists are comma
// separated with +add/-remove, dates take YYYY-MM-DD, today or +3d/-1w/+2m.
type Editor interface {
	// EditMeta says how field (a Lens column's field, by name or id) of issue key is edited
	// from Lens (its ID): the kind, the allowed values (transitions' target statuses for
	// status) and the value now. Every edit and bulk edit starts here, so this is where a
	// viewer without edit level on the Lens, or without Jira's permission, is refused.
	EditMeta(ctx context.Context, lens, key, field string) (FieldEdit, error)
	// Suggest completes query for field: labels from the cache, assignable users from Jira,
	// issue keys from the cache for parent. The TUI debounces it (~250ms).
	Suggest(ctx context.Context, key, field, query string) ([]Suggestion, error)
	// Set writes one value. A change in Jira after opt.Base comes back as *ConflictError
	// (unless opt.Overwrite), a refused value as *FieldError with Jira's message.
	Set(ctx context.Context, key, field, value string, opt SetOptions) (EditResult, error)
	// Undo and Redo replay the session's newest step (an edit, a bulk edit or a move) with
	// the same conflict check; they return what was written. opt.Overwrite writes over a
	// conflicting change (the conflict dialog's answer), opt.Screen gives the fields a
	// transition back requires. What was refused stays on the stack, and the error joins
	// one *ConflictError or *FieldError (or other error) per refused issue.
	Undo(ctx context.Context, opt SetOptions) ([]EditResult, error)
	Redo(ctx context.Context, opt SetOptions) ([]EditResult, error)
	// Step is the step the next Undo (redo: Redo) replays, Old and New as first written;
	// nil when there is none.
	Step(ctx context.Context, redo bool) []EditResult
	// Drop discards that step without writing anything, so the older ones can be reached;
	// it returns what was dropped.
	Drop(ctx context.Context, redo bool) ([]EditResult, error)
	// Bulk sets field on every issue in keys (one undo step), reporting each finished issue
	// to progress, which may be called from several goroutines. opt.Screen gives the
	// fields a transition screen requires (status). An issue whose value already is value
	// comes back in Changed with Unchanged set, and nothing is written to it.
	Bulk(ctx context.Context, keys []string, field, value string, opt SetOptions, progress func(done, total int)) (BulkResult, error)
	// CheckEdit refuses, as PlanMove does, a viewer who may not edit Lens (its ID) and so
	// may not move its rows; nil when they may. x asks it, so a row is not cut where it
	// cannot be pasted.
	CheckEdit(ctx context.Context, lens string) error
	// PlanMove says how Move would write a move and warns when the Lens's generators would
	// put the row back elsewhere (implement it with the package's PlanMove).
	PlanMove(ctx context.Context, req MoveRequest) (MovePlan, error)
	// Move re-parents a row (rewriting parent, Epic Link or a link) or moves it into
	// another group (rewriting the grouped field), as PlanMove describes.
	Move(ctx context.Context, req MoveRequest) (EditResult, error)
	// Rank reorders a row among its siblings in Lens (its ID) by Jira's rank: key goes just
	// before (above) beforeKey or just after (below) afterKey as the Lens shows them;
	// exactly one is given. The backend maps that onto Jira's rank through the Lens's sort
	// direction (implement it with RankOrder) and refuses, wrapping ErrCannotRank, when the
	// Lens does not order siblings by rank. It is one undoable step.
	Rank(ctx context.Context, lens, key, beforeKey, afterKey string) (EditResult, error)
}

// FieldKind picks the cell editor.
type FieldKind string

const (
	KindText        FieldKind = "text"
	KindNumber      FieldKind = "number"
	KindDate        FieldKind = "date"
	KindSelect      FieldKind = "select"      // one of Allowed: priority, single selects
	KindMultiSelect FieldKind = "multiselect" // labels, components, versions
	KindUser        FieldKind = "user"
	KindSprint      FieldKind = "sprint"
	KindParent      FieldKind = "parent"
	KindStatus      FieldKind = "status" // Allowed are the statuses Jira's transitions reach
)

// FieldEdit is how one field of one issue is edited.
type FieldEdit struct {
	Field    string // what Set takes (the id, or the name asked for)
	Name     string // shown in the editor's title
	Kind     FieldKind
	Allowed  []string // selects, multi-selects, sprints and statuses; nil when free
	Current  string   // the value now, in the value syntax
	Required bool     // the field cannot be cleared
	// Screens lists, per target status (KindStatus only), the fields the transition screen
	// requires; the TUI asks for them after the status is picked.
	Screens map[string][]ScreenField
}

// ScreenField is a field a transition screen asks for.
type ScreenField struct {
	Field   string
	Name    string
	Allowed []string // nil for free text
}

// SetOptions adjust one Set.
type SetOptions struct {
	// Base is the issue's updated in the copy the user saw when the edit began: Jira
	// changed since means a conflict. Zero skips the check.
	Base time.Time
	// Overwrite writes even over a conflicting change (the conflict dialog's answer).
	Overwrite bool
	// Screen holds transition screen values by field (KindStatus).
	Screen map[string]string
}

// EditResult is one applied edit.
type EditResult struct {
	Key, Field string
	Name       string // the field's name, for messages ("" when unknown)
	Old, New   string
	Unchanged  bool // the value was already there: nothing written
	// Delta is, for a list edit of +/- changes only, the changes it made ("+a,-b"): what
	// its undo reverses and its redo repeats, rather than the whole lists.
	Delta string
	// Note is what the viewer should know of a write that was made: its read-back failed,
	// so the cache shows it only after the next refresh.
	Note string
}

// BulkResult is what a bulk edit did, per issue.
type BulkResult struct {
	Changed []EditResult
	Failed  []BulkFailure
}

// BulkFailure is one issue a bulk edit did not change.
type BulkFailure struct {
	Key string
	Err error
}

// ConflictError says Jira changed the field after the edit's base. The TUI shows both
// values and asks: overwrite (Set again with Overwrite) or keep theirs.
type ConflictError struct {
	Key, Field   string
	Theirs, Mine string
	When         time.Time // when theirs was written; zero when unknown
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s changed in Jira: theirs %q, yours %q", e.Key, e.Field, e.Theirs, e.Mine)
}

// FieldError is a value refused for a field; Message is Jira's own words for it.
type FieldError struct {
	Key, Field string
	Message    string
	Missing    []string // fields a transition screen requires that were not given
}

func (e *FieldError) Error() string { return e.Key + " " + e.Field + ": " + e.Message }

// RowRef names a row of the Lens for a move: an issue (Key) or a group (Group), or the top
// level when both are empty.
type RowRef struct {
	Key   string
	Group *lens.GroupInfo
}

func (r RowRef) String() string {
	switch {
	case r.Key != "":
		return r.Key
	case r.Group != nil && r.Group.None:
		return "(none)"
	case r.Group != nil:
		return r.Group.Value
	}
	return "the top level"
}

// MoveRequest moves issue Key from under From to under To in Lens (the Lens's ID).
type MoveRequest struct {
	Lens     string
	Key      string
	From, To RowRef
}

// MovePlan is how a move is written and what the user is told before it.
type MovePlan struct {
	By string // "parent", "links" or "group"
	// LinkType and Direction are the links of the Lens's extend generator (By "links").
	LinkType, Direction string
	// GroupField is the grouped field (By "group").
	GroupField string
	// Warning says why the Lens may not show the row where it was put; "" when it will.
	Warning string
}

// ErrCannotMove is a move the Lens has no structure for (e.g. into a folder).
var ErrCannotMove = errors.New("cannot move there")

// PlanMove decides how a move is written from the Lens's generators: into a group rewrites
// the group's field; under an issue rewrites parent when the Lens extends by parent, else
// creates a link when it extends by links. It warns when generators would put the row back
// elsewhere: the Lens has no extend generator for the target, or the issue also matches
// the Lens's insert JQL so it stays at the top as well. Backends call it so the TUI and
// every backend agree.
func PlanMove(def *lens.Definition, moving *lens.Issue, req MoveRequest, env jql.Env) (MovePlan, error) {
	if req.To.Group != nil {
		return MovePlan{By: "group", GroupField: req.To.Group.Field}, nil
	}
	var gens []lens.Generator
	var collect func(gs []lens.Generator, fs []lens.Folder)
	collect = func(gs []lens.Generator, fs []lens.Folder) {
		gens = append(gens, gs...)
		for _, f := range fs {
			collect(f.Generators, f.Folders)
		}
	}
	collect(def.Generators, def.Folders)
	var plan MovePlan
	for _, g := range gens {
		if e := g.Extend; e != nil && (e.By == "parent" || (e.By == "links" && plan.By == "")) {
			plan.By = e.By
			plan.LinkType, plan.Direction = e.LinkType, e.Direction
		}
	}
	if plan.By == "" {
		if req.To.Key == "" {
			return MovePlan{}, fmt.Errorf("move %s to the top: %w (the Lens has no parent or link structure)", req.Key, ErrCannotMove)
		}
		plan.By = "parent"
		plan.Warning = fmt.Sprintf("this Lens does not extend by parent or links: %s gets parent %s but will not show under it", req.Key, req.To.Key)
		return plan, nil
	}
	if plan.By == "links" && plan.LinkType == "" {
		return MovePlan{}, fmt.Errorf("move %s: %w (the Lens follows links of every type; which one to create is unclear)", req.Key, ErrCannotMove)
	}
	if moving != nil && req.To.Key != "" {
		for _, g := range gens {
			if g.Insert == nil || g.Insert.JQL == "" {
				continue
			}
			q, err := jql.Parse(g.Insert.JQL)
			if err != nil {
				continue // a Lens that built has JQL that parses; nothing to warn about
			}
			match, err := q.Compile(env)
			if err == nil && match(moving) {
				plan.Warning = fmt.Sprintf("%s matches the Lens's insert %q, so it stays at the top as well", req.Key, g.Insert.JQL)
				break
			}
		}
	}
	return plan, nil
}

// ErrCannotRank is a reorder the Lens cannot show: its siblings are not ordered by rank.
var ErrCannotRank = errors.New("cannot reorder by rank")

// RankOrder says whether def orders sibling rows by Jira's rank, and in which direction:
// every sort generator must sort by rank first (a field after rank never decides, ranks
// being unique), all in one direction. Otherwise moving a row up or down would change a
// rank the Lens does not show, so the error (wrapping ErrCannotRank) says why not.
func RankOrder(def *lens.Definition) (desc bool, err error) {
	var sorts []*lens.SortGen
	var collect func(gs []lens.Generator, fs []lens.Folder)
	collect = func(gs []lens.Generator, fs []lens.Folder) {
		for _, g := range gs {
			if g.Sort != nil {
				sorts = append(sorts, g.Sort)
			}
		}
		for _, f := range fs {
			collect(f.Generators, f.Folders)
		}
	}
	collect(def.Generators, def.Folders)
	if len(sorts) == 0 {
		return false, fmt.Errorf("%w: the Lens has no sort generator, so its rows keep the order its generators give (add sort: {by: [rank]})", ErrCannotRank)
	}
	for k, sg := range sorts {
		if sg.Formula != "" || len(sg.By) == 0 {
			return false, fmt.Errorf("%w: the Lens sorts by a formula, not by rank", ErrCannotRank)
		}
		by := strings.ToLower(strings.TrimSpace(sg.By[0]))
		d := sg.Desc
		if strings.HasPrefix(by, "-") {
			by, d = strings.TrimSpace(by[1:]), !d
		}
		if by != "rank" {
			return false, fmt.Errorf("%w: the Lens sorts by %s, not by rank", ErrCannotRank, sg.By[0])
		}
		if k > 0 && d != desc {
			return false, fmt.Errorf("%w: the Lens sorts by rank in both directions", ErrCannotRank)
		}
		desc = d
	}
	return desc, nil
}

// editTitle is the field's name for messages.
func (fe FieldEdit) editTitle() string {
	if fe.Name != "" {
		return fe.Name
	}
	return fe.Field
}

// splitValues splits a comma-separated list, trimming blanks.
func splitValues(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SameValue reports whether writing value (in the value syntax) to a field of kind whose
// value now is current would change nothing: such an edit is not written at all, so it
// reaches neither Jira, nor the audit log, nor the undo history. Lists compare as sets
// (+x/-y changes applied to current first); "none" and "" are both empty.
func SameValue(kind FieldKind, current, value string) bool {
	norm := func(s string) string {
		s = strings.TrimSpace(s)
		if strings.EqualFold(s, "none") {
			return ""
		}
		return s
	}
	cur, v := norm(current), norm(value)
	switch kind {
	case KindMultiSelect, KindSprint:
		items := splitValues(v)
		var plain, changes []string
		for _, it := range items {
			if (strings.HasPrefix(it, "+") || strings.HasPrefix(it, "-")) && len(it) > 1 {
				changes = append(changes, it[:1]+strings.TrimSpace(it[1:]))
			} else {
				plain = append(plain, it)
			}
		}
		if len(changes) > 0 && len(plain) > 0 {
			return false // the write path refuses the mix; let it say so
		}
		if len(changes) > 0 {
			return sameList(applyChanges(splitValues(cur), changes), splitValues(cur))
		}
		return sameList(plain, splitValues(cur))
	case KindNumber:
		if cur == "" || v == "" {
			return cur == v
		}
		a, errA := strconv.ParseFloat(cur, 64)
		b, errB := strconv.ParseFloat(v, 64)
		return errA == nil && errB == nil && a == b
	case KindText, KindDate:
		return cur == v
	}
	return strings.EqualFold(cur, v)
}
