package lens

import (
	"slices"
	"time"

	"foundation/jql"
)

// Rebuild is Build after a few issues changed since prev was built. before maps the key of
// each changed issue to the issue as prev saw it; data holds the new versions in place
// (Data.SetIssue does that and keeps the index current). When no change can add, remove,
// move or regroup a row, Rebuild keeps prev's rows and, in the views prev had opened,
// recomputes only the cells of the changed rows and their ancestors: that is what an
// inline edit of, say, story points or a summary costs. Otherwise it runs Build.
//
// A change can move rows when it touches the issue's key, parent, Epic Link, sub-task
// flag or visibility, when the issue is or would be shown redacted (it names an issue
// the viewer may not see), or a field that a generator reads (a JQL clause or ORDER BY of an
// insert or filter, a filter column, a group or sort field); sort formulas and sorts by
// column read everything. Rebuild also runs Build when the data was re-indexed (issues
// added, links replaced) or, for Lenses with JQL on dates or functions, when the clock
// moved. It assumes nothing else changed: a new viewer, directory or RemoteMembers needs
// Build.
func Rebuild(prev *Forest, data *Data, visible func(*Issue) bool, before map[string]Issue) (*Forest, error) {
	comp, err := prev.def.compile(data.Fields)
	if err != nil {
		return nil, err
	}
	now := data.Now
	if now.IsZero() {
		now = time.Now()
	}
	if !prev.reusableFor(comp, data, visible, before, now) {
		return Build(prev.def, data, visible)
	}
	// The redacted copies of prev stand: they are of issues that did not change, and the
	// changed ones need none (reusableFor).
	f := &Forest{Rows: prev.Rows, Notes: prev.Notes, def: prev.def, comp: comp, data: data,
		venv: &valueEnv{users: data.Users, text: data.Text}, now: now, idx: prev.idx, groups: prev.groups, reused: true,
		sh: shown{issues: data.Issues, red: prev.sh.red}}
	prev.mu.Lock()
	for name, v := range prev.views {
		if f.seeds == nil {
			f.seeds = map[string]*viewSeed{}
		}
		f.seeds[name] = &viewSeed{cv: v.cv, computed: v.computed, issueBelow: v.issueBelow, now: prev.now}
	}
	prev.mu.Unlock()
	for key := range before {
		f.dirty = append(f.dirty, prev.idx.byKey[key])
	}
	return f, nil
}

// reusableFor decides whether prev's rows stand for data after the changes in before.
func (f *Forest) reusableFor(comp *compiled, data *Data, visible func(*Issue) bool, before map[string]Issue, now time.Time) bool {
	if comp != f.comp || data != f.data || data.index() != f.idx || comp.structure.everything {
		return false
	}
	if comp.structure.clock && !now.Equal(f.now) {
		return false
	}
	venv := &valueEnv{users: data.Users, text: data.Text}
	ra, rb := newRecord(data, f.idx, comp), newRecord(data, f.idx, comp)
	sees := func(key string) bool {
		o, ok := f.idx.byKey[key]
		return ok && visible(&data.Issues[o])
	}
	for key, old := range before {
		ord, ok := f.idx.byKey[key]
		if !ok {
			return false
		}
		is := &data.Issues[ord]
		if is.Key != old.Key || is.Parent != old.Parent || is.EpicLink != old.EpicLink || is.Subtask != old.Subtask {
			return false
		}
		if visible != nil && visible(is) != visible(&old) {
			return false
		}
		// A row shown as a redacted copy points at the copy, not at the changed issue;
		// and a change that names an issue the viewer may not see needs one made.
		if f.sh.redacted(ord) {
			return false
		}
		if visible != nil && redact(is, comp.refs, sees, is.Parent == "" || sees(is.Parent), is.EpicLink == "" || sees(is.EpicLink)) != nil {
			return false
		}
		ra.is, rb.is = &old, is
		for _, field := range comp.structure.jqlFields {
			if !sameJQLValues(ra.Values(field), rb.Values(field)) {
				return false
			}
		}
		for _, fr := range comp.structure.fields {
			if !slices.Equal(fr.values(&old, venv), fr.values(is, venv)) {
				return false
			}
		}
	}
	return true
}

func sameJQLValues(a, b []jql.Value) bool {
	return slices.EqualFunc(a, b, func(x, y jql.Value) bool {
		return x.Kind == y.Kind && x.Str == y.Str && x.Num == y.Num && x.Time.Equal(y.Time) && slices.Equal(x.Alt, y.Alt)
	})
}

// structure is what generators read of an issue: what Rebuild compares to tell whether a
// change can move rows.
type structure struct {
	jqlFields  []string   // canonical JQL fields of insert and filter queries
	fields     []fieldRef // group, sort and filter-column fields
	clock      bool       // some query depends on the time (dates, functions)
	everything bool       // a sort formula or column sort may read any field
}

func (s *structure) addQuery(q *jql.Query) {
	for _, f := range q.Fields() {
		if !slices.Contains(s.jqlFields, f) {
			s.jqlFields = append(s.jqlFields, f)
		}
	}
	if len(q.Functions()) > 0 {
		s.clock = true
	}
	for _, f := range q.Fields() {
		switch f {
		case "created", "updated", "duedate":
			s.clock = true
		}
		if len(f) > 3 && f[:3] == "cf[" {
			s.clock = true // a custom date field may take relative dates too
		}
	}
}

// collect fills the structure from a compiled scope and its folders.
func (s *structure) collect(sc *cscope) {
	for _, in := range sc.inserts {
		if in.query != nil {
			s.addQuery(in.query)
		}
	}
	for _, fl := range sc.filters {
		if fl.query != nil {
			s.addQuery(fl.query)
		} else if !fl.dedupe {
			s.fields = append(s.fields, fl.field)
		}
	}
	for _, g := range sc.groups {
		s.fields = append(s.fields, g.field)
	}
	for _, so := range sc.sorts {
		if so.formula != nil {
			s.everything = true
		}
		for _, k := range so.keys {
			if k.col != nil {
				s.everything = true
			} else {
				s.fields = append(s.fields, k.field)
			}
		}
	}
	for _, fo := range sc.folders {
		s.collect(fo.scope)
	}
}
