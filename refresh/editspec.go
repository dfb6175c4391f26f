package refresh

// What a cell editor needs before an edit: how a field of an issue is edited (its kind, the
// allowed values, its value now, the transitions a status can take with their screens),
// and completions while typing. Both come from the same sources Set uses, so an editor
// never offers a value Set would refuse on its own.

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"foundation/store"
)

// Editor kinds of FieldSpec.
const (
	EditText        = "text"
	EditNumber      = "number"
	EditDate        = "date"
	EditDateTime    = "datetime"
	EditSelect      = "select"      // one of Allowed
	EditMultiSelect = "multiselect" // several of Allowed: components, versions
	EditLabels      = "labels"      // free strings, completed from the cache
	EditUser        = "user"
	EditSprint      = "sprint"
	EditParent      = "parent" // an issue key: parent, or Epic Link on Data Center
	EditStatus      = "status"
)

var kindNames = map[editKind]string{
	kindText: EditText, kindRichText: EditText, kindNumber: EditNumber, kindDate: EditDate,
	kindDateTime: EditDateTime, kindOption: EditSelect, kindMultiOption: EditMultiSelect,
	kindLabels: EditLabels, kindUser: EditUser, kindSprint: EditSprint, kindParent: EditParent,
	kindEpicLink: EditParent, kindStatus: EditStatus,
}

// FieldSpec is how one field of one issue is edited.
type FieldSpec struct {
	Field    string    // the field id, what Set takes
	Name     string    // the field's name
	Kind     string    // one of the Edit* kinds
	Allowed  []string  // selects, multi-selects, open sprints; target statuses for status
	Current  string    // the value now in Jira, in the value syntax
	Updated  time.Time // the issue's updated as read: the base for Set
	Required bool      // the field cannot be cleared
	// Transitions are the ways a status can go (status only), in Jira's order.
	Transitions []TransitionSpec
}

// TransitionSpec is one transition Jira offers, with the fields its screen asks for.
type TransitionSpec struct {
	Name   string
	To     string
	Screen []ScreenSpec
}

// ScreenSpec is one field of a transition screen.
type ScreenSpec struct {
	Field    string
	Name     string
	Required bool
	Allowed  []string // nil for free values
}

// Describe reads how field of issue key is edited, asking Jira for the issue's current
// value and for its edit metadata or transitions. A field the identity may not edit is a
// *PermissionError or *FieldError, as Set would return.
func (w *Writer) Describe(ctx context.Context, key, field string) (FieldSpec, error) {
	key = strings.ToUpper(strings.TrimSpace(key))
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return FieldSpec{}, err
	}
	f, err := resolveField(field, cat, wk)
	if err != nil {
		return FieldSpec{}, &FieldError{Key: key, Field: field, Message: err.Error()}
	}
	cur, err := w.readCurrent(ctx, key, []fieldInfo{f})
	if err != nil {
		return FieldSpec{}, classify(key, field, err)
	}
	spec := FieldSpec{Field: f.ID, Name: f.Name, Kind: kindNames[f.Kind], Current: cur.values[0], Updated: cur.updated}
	if f.Kind == kindStatus {
		spec.Current, spec.Required = cur.status, true
		ts, err := w.c.Transitions(ctx, key)
		if err != nil {
			return spec, classify(key, field, err)
		}
		if len(ts) == 0 {
			return spec, &PermissionError{Key: key, Field: field, Reason: "Jira offers you no transition on this issue"}
		}
		for _, t := range ts {
			ts := TransitionSpec{Name: t.Name, To: t.To.Name}
			ids := make([]string, 0, len(t.Fields))
			for id := range t.Fields {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				ef := t.Fields[id]
				sc := ScreenSpec{Field: id, Name: ef.Name, Required: ef.Required && !ef.HasDefaultValue}
				for _, a := range allowedValues(ef) {
					sc.Allowed = append(sc.Allowed, a.Name)
				}
				ts.Screen = append(ts.Screen, sc)
			}
			spec.Transitions = append(spec.Transitions, ts)
			if !slices.Contains(spec.Allowed, t.To.Name) {
				spec.Allowed = append(spec.Allowed, t.To.Name)
			}
		}
		return spec, nil
	}
	meta, err := w.EditMeta(ctx, key, cur.project, cur.itype, false)
	if err != nil {
		return spec, classify(key, field, err)
	}
	ef, ok := meta.Fields[f.ID]
	if !ok {
		return spec, w.notEditable(key, field, f, meta, wk)
	}
	spec.Required = ef.Required
	switch f.Kind {
	case kindOption, kindMultiOption:
		for _, a := range allowedValues(ef) {
			spec.Allowed = append(spec.Allowed, a.Name)
		}
	case kindSprint:
		sps, err := w.projectSprints(ctx, cur.project, f.ID)
		if err != nil {
			return spec, err
		}
		for _, sp := range sps {
			if sp.State != "closed" {
				spec.Allowed = append(spec.Allowed, sp.Name)
			}
		}
	}
	return spec, nil
}

// Suggestion is one completion: Value goes into Set, Label is what a person reads.
type Suggestion struct {
	Value string
	Label string
}

// Suggest completes query for field of issue key: labels used in the cache (most used
// first), assignable users from Jira (users other than the assignee from the user search),
// issues from the cache for parent and Epic Link (epics for epic-level parents), allowed
// values for selects and open sprints for the sprint. At most limit come back (0: 20).
func (w *Writer) Suggest(ctx context.Context, key, field, query string, limit int) ([]Suggestion, error) {
	if limit <= 0 {
		limit = 20
	}
	key = strings.ToUpper(strings.TrimSpace(key))
	q := strings.ToLower(strings.TrimSpace(query))
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return nil, err
	}
	f, err := resolveField(field, cat, wk)
	if err != nil {
		return nil, &FieldError{Key: key, Field: field, Message: err.Error()}
	}
	var out []Suggestion
	add := func(v, label string) bool {
		out = append(out, Suggestion{Value: v, Label: label})
		return len(out) < limit
	}
	switch f.Kind {
	case kindLabels:
		issues, err := w.db.Issues(ctx, store.ReadOptions{})
		if err != nil {
			return nil, err
		}
		count := map[string]int{}
		for _, is := range issues {
			for _, l := range is.Labels {
				if strings.Contains(strings.ToLower(l), q) {
					count[l]++
				}
			}
		}
		labels := make([]string, 0, len(count))
		for l := range count {
			labels = append(labels, l)
		}
		sort.Slice(labels, func(i, j int) bool {
			if count[labels[i]] != count[labels[j]] {
				return count[labels[i]] > count[labels[j]]
			}
			return labels[i] < labels[j]
		})
		for _, l := range labels {
			if !add(l, l) {
				break
			}
		}
	case kindUser:
		var users []Suggestion
		var err error
		if f.ID == "assignee" {
			us, e := w.c.AssignableUsers(ctx, key, query)
			err = e
			for _, u := range us {
				users = append(users, Suggestion{Value: u.ID(), Label: userLabel(u.DisplayName, u.Email)})
			}
		} else {
			us, e := w.c.SearchUsers(ctx, query)
			err = e
			for _, u := range us {
				users = append(users, Suggestion{Value: u.ID(), Label: userLabel(u.DisplayName, u.Email)})
			}
		}
		if err != nil {
			return nil, classify(key, field, err)
		}
		for _, u := range users {
			if !add(u.Value, u.Label) {
				break
			}
		}
	case kindParent, kindEpicLink:
		me, err := w.db.Issue(ctx, key)
		if err != nil {
			return nil, err
		}
		issues, err := w.db.Issues(ctx, store.ReadOptions{Projects: []string{me.Project}})
		if err != nil {
			return nil, err
		}
		// A sub-task's parent is a standard issue; anything else's parent is an epic.
		wantEpic := f.Kind == kindEpicLink || !me.Subtask
		for _, is := range issues {
			if is.Key == key || is.Subtask || strings.EqualFold(is.Type, "Epic") != wantEpic {
				continue
			}
			if q != "" && !strings.Contains(strings.ToLower(is.Key), q) && !strings.Contains(strings.ToLower(is.Summary), q) {
				continue
			}
			if !add(is.Key, is.Key+" "+is.Summary) {
				break
			}
		}
	case kindOption, kindMultiOption, kindSprint, kindStatus:
		spec, err := w.Describe(ctx, key, field)
		if err != nil {
			return nil, err
		}
		for _, a := range spec.Allowed {
			if strings.Contains(strings.ToLower(a), q) && !add(a, a) {
				break
			}
		}
	}
	return out, nil
}

func userLabel(name, email string) string {
	if email == "" {
		return name
	}
	return name + " <" + email + ">"
}
