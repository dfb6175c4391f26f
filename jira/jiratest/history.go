package jiratest

import (
	"slices"
	"time"

	"foundation/jql"
)

// issueHistory is the change history of one issue for the fields JQL's WAS and CHANGED
// search, oldest change first.
type issueHistory map[string][]jql.Change

// History makes record a jql.HistoryRecord. A generated issue that was never written has
// the history its state implies (see impliedHistory); once written, its history is kept.
// A stale snapshot sees only the changes it had been through.
func (r *record) History(field string) []jql.Change {
	h, ok := r.s.history[r.i]
	if !ok {
		return r.s.impliedHistory(r.is)[field]
	}
	changes := h[field]
	cut := len(changes)
	for cut > 0 && changes[cut-1].At.UnixMilli() > r.is.updated {
		cut--
	}
	return changes[:cut]
}

// impliedHistory is the history a generated issue's state implies: it walked its
// workflow's path from the first status to its own, one step at a time, evenly between its
// creation and its last update (the last step is that update), each step by its assignee
// (or reporter); the step to Done set its resolution.
func (s *Site) impliedHistory(is *issue) issueHistory {
	path := workflowPath[issueTypes[is.typ].workflow]
	k := slices.Index(path, int(is.status))
	if k <= 0 {
		return nil
	}
	by := is.reporter
	if is.assignee >= 0 {
		by = is.assignee
	}
	created, updated := is.created*1000, is.updated
	h := issueHistory{}
	for j := 1; j <= k; j++ {
		at := time.UnixMilli(created + (updated-created)*int64(j)/int64(k))
		h["status"] = append(h["status"], jql.Change{At: at, By: s.jv.users[by][0],
			From: s.jv.statuses[path[j-1]], To: s.jv.statuses[path[j]]})
		if path[j] == stDone && is.resolution >= 0 {
			h["resolution"] = append(h["resolution"], jql.Change{At: at, By: s.jv.users[by][0],
				To: s.jv.resolution[is.resolution]})
		}
	}
	return h
}

// keptHistory returns the kept history of issue i, first keeping the history implied by is,
// its state before any write. The caller holds s.mu for writing.
func (s *Site) keptHistory(i int32, is *issue) issueHistory {
	h, ok := s.history[i]
	if !ok {
		if h = s.impliedHistory(is); h == nil {
			h = issueHistory{}
		}
		s.history[i] = h
	}
	return h
}

// recordHistory keeps what a write changes in the searchable fields of issue i: old is the
// issue before the write, n after it, u the user who wrote it. An issue's first write first
// keeps the history its generated state implied. The caller holds s.mu for writing.
func (s *Site) recordHistory(i int32, old, n *issue, u int, now time.Time) {
	h := s.keptHistory(i, old)
	by := s.jv.users[u][0]
	add := func(field string, from, to []jql.Value) {
		h[field] = append(h[field], jql.Change{At: now, By: by, From: from, To: to})
	}
	user := func(k int16) []jql.Value {
		if k < 0 {
			return nil
		}
		return s.jv.users[k]
	}
	if old.status != n.status {
		add("status", s.jv.statuses[old.status], s.jv.statuses[n.status])
	}
	if old.assignee != n.assignee {
		add("assignee", user(old.assignee), user(n.assignee))
	}
	if old.reporter != n.reporter {
		add("reporter", user(old.reporter), user(n.reporter))
	}
	if old.priority != n.priority {
		add("priority", s.jv.priorities[old.priority], s.jv.priorities[n.priority])
	}
	if old.resolution != n.resolution {
		res := func(k int8) []jql.Value {
			if k < 0 {
				return nil
			}
			return s.jv.resolution[k]
		}
		add("resolution", res(old.resolution), res(n.resolution))
	}
	if old.versions != n.versions || old.project != n.project {
		vs := func(is *issue) []jql.Value {
			var out []jql.Value
			for k, v := range s.jv.versions[is.project] {
				if is.versions&(1<<k) != 0 {
					out = append(out, v)
				}
			}
			return out
		}
		if from, to := vs(old), vs(n); !slices.EqualFunc(from, to, func(a, b jql.Value) bool { return a.Str == b.Str }) {
			add("fixversion", from, to)
		}
	}
}
