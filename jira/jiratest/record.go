package jiratest

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"foundation/jql"
)

// jqlValues holds the catalog values as jql sees them, built once per site so that
// evaluating a query over a million issues allocates almost nothing.
type jqlValues struct {
	projects   [][]jql.Value
	types      [][]jql.Value
	statuses   [][]jql.Value
	categories [][]jql.Value
	priorities [][]jql.Value
	resolution [][]jql.Value
	users      [][]jql.Value
	labels     []jql.Value
	components [][]jql.Value // per project, one value per component
	versions   [][]jql.Value
	sprints    []jql.Value
}

func (s *Site) buildJQLValues() *jqlValues {
	one := func(v jql.Value) []jql.Value { return []jql.Value{v} }
	jv := &jqlValues{}
	for _, p := range projects {
		jv.projects = append(jv.projects, one(jql.StringValue(p.key, p.name, formatInt(p.id))))
		var cs, vs []jql.Value
		for k, c := range p.components {
			cs = append(cs, jql.StringValue(c, formatInt(componentID(projectIndex(p.key), k))))
		}
		for k, v := range p.versions {
			vs = append(vs, jql.StringValue(v.name, formatInt(versionID(projectIndex(p.key), k))))
		}
		jv.components = append(jv.components, cs)
		jv.versions = append(jv.versions, vs)
	}
	for _, t := range issueTypes {
		jv.types = append(jv.types, one(jql.StringValue(t.name, formatInt(t.id))))
	}
	for _, st := range statuses {
		jv.statuses = append(jv.statuses, one(jql.StringValue(st.name, formatInt(st.id))))
		c := statusCategories[st.category]
		jv.categories = append(jv.categories, one(jql.StringValue(c.key, c.name, formatInt(c.id))))
	}
	for _, p := range priorities {
		jv.priorities = append(jv.priorities, one(jql.StringValue(p.name, formatInt(p.id))))
	}
	for _, r := range resolutions {
		jv.resolution = append(jv.resolution, one(jql.StringValue(r.name, formatInt(r.id))))
	}
	for _, u := range s.users {
		if s.dialect == dialectCloud {
			jv.users = append(jv.users, one(jql.StringValue(u.AccountID, u.Name, u.DisplayName, u.Email)))
		} else {
			jv.users = append(jv.users, one(jql.StringValue(u.Name, u.DisplayName, u.Email)))
		}
	}
	for _, l := range baseLabels {
		jv.labels = append(jv.labels, jql.StringValue(l))
	}
	for _, sp := range sprints {
		jv.sprints = append(jv.sprints, jql.StringValue(sp.name, formatInt(sp.id)))
	}
	return jv
}

// record lets jql evaluate one issue (live or a stale snapshot). buf is scratch space for
// the answer to one Values call; jql never keeps a returned slice.
type record struct {
	s   *Site
	i   int32
	is  *issue
	buf []jql.Value
}

func (r *record) one(v jql.Value) []jql.Value {
	r.buf = append(r.buf[:0], v)
	return r.buf
}

func (r *record) keyValue(i int32) []jql.Value {
	if i < 0 {
		return nil
	}
	return r.one(jql.StringValue(r.s.key(i), strconv.FormatInt(issueID(i), 10)))
}

// Values answers jql's field questions with the canonical names of jql.Record.
func (r *record) Values(field string) []jql.Value {
	s, is, jv := r.s, r.is, r.s.jv
	switch field {
	case "project":
		return jv.projects[is.project]
	case "key":
		// Jira takes an issue id wherever it takes a key (key = 10079).
		return r.one(jql.StringValue(projects[is.project].key+"-"+strconv.Itoa(int(is.num)), strconv.FormatInt(issueID(r.i), 10)))
	case "id":
		return r.one(jql.NumberValue(float64(issueID(r.i))))
	case "issuetype":
		return jv.types[is.typ]
	case "status":
		return jv.statuses[is.status]
	case "statuscategory":
		return jv.categories[is.status]
	case "assignee":
		if is.assignee < 0 {
			return nil
		}
		return jv.users[is.assignee]
	case "reporter":
		return jv.users[is.reporter]
	case "priority":
		return jv.priorities[is.priority]
	case "resolution":
		if is.resolution < 0 {
			return nil
		}
		return jv.resolution[is.resolution]
	case "labels":
		r.buf = r.buf[:0]
		if is.ext != nil && is.ext.labelsSet {
			for _, l := range is.ext.labels {
				r.buf = append(r.buf, jql.StringValue(l))
			}
			return r.buf
		}
		for k := range baseLabels {
			if is.labels&(1<<k) != 0 {
				r.buf = append(r.buf, jv.labels[k])
			}
		}
		return r.buf
	case "component":
		r.buf = r.buf[:0]
		for k, v := range jv.components[is.project] {
			if is.components&(1<<k) != 0 {
				r.buf = append(r.buf, v)
			}
		}
		return r.buf
	case "fixversion":
		r.buf = r.buf[:0]
		for k, v := range jv.versions[is.project] {
			if is.versions&(1<<k) != 0 {
				r.buf = append(r.buf, v)
			}
		}
		return r.buf
	case "sprint", "cf[10020]":
		r.buf = r.buf[:0]
		for k, v := range jv.sprints {
			if is.sprints&(1<<k) != 0 {
				r.buf = append(r.buf, v)
			}
		}
		return r.buf
	case "parent":
		return r.keyValue(is.parent)
	case "epic link", "cf[10014]":
		if s.dialect == dialectDataCenter {
			return r.keyValue(is.epic)
		}
		// Cloud answers the retired Epic Link clause from the parent when it is an epic.
		if is.parent >= 0 && s.issues[is.parent].typ == typeEpic {
			return r.keyValue(is.parent)
		}
		return nil
	case "summary":
		if is.ext != nil && is.ext.summary != nil {
			return r.one(jql.StringValue(*is.ext.summary))
		}
		return r.one(jql.StringValue(s.generatedSummary(r.i)))
	case "description":
		if is.ext != nil && is.ext.description != nil {
			return r.one(jql.StringValue(*is.ext.description))
		}
		if is.typ == typeSubtask {
			return nil
		}
		return r.one(jql.StringValue(s.generatedDescription(r.i)))
	case "text":
		if is.ext == nil || len(is.ext.comments) == 0 {
			return nil
		}
		r.buf = r.buf[:0]
		for _, c := range is.ext.comments {
			r.buf = append(r.buf, jql.StringValue(c.body))
		}
		return r.buf
	case "created":
		return r.one(jql.TimeValue(time.Unix(is.created, 0)))
	case "updated":
		return r.one(jql.TimeValue(time.UnixMilli(is.updated)))
	case "level":
		if !is.security {
			return nil
		}
		return r.one(jql.StringValue(securityLevelName, formatInt(securityLevelID)))
	case "resolutiondate":
		if is.resolved == 0 {
			return nil
		}
		return r.one(jql.TimeValue(time.Unix(is.resolved, 0)))
	case "duedate":
		if is.due == 0 {
			return nil
		}
		return r.one(jql.TimeValue(time.Unix(int64(is.due)*day, 0)))
	case "story points", "cf[10016]":
		if math.IsNaN(float64(is.points)) {
			return nil
		}
		return r.one(jql.NumberValue(float64(is.points)))
	case "rank", "cf[10019]":
		return r.one(jql.StringValue(rankOf(is)))
	}
	return nil
}

// jqlEnv is the evaluation environment for user u.
func (s *Site) jqlEnv(u int) jql.Env {
	spell := func(k int) string {
		if s.dialect == dialectCloud {
			return s.users[k].AccountID
		}
		return s.users[k].Name
	}
	return jql.Env{
		History:     true,
		Now:         s.now(),
		CurrentUser: spell(u),
		MembersOf: func(group string) []string {
			var out []string
			for k := range s.users {
				if s.users[k].inGroup(group) {
					out = append(out, spell(k))
				}
			}
			return out
		},
		OpenSprints: func() []string {
			var out []string
			for _, sp := range sprints {
				if sp.state != "closed" {
					out = append(out, formatInt(sp.id))
				}
			}
			return out
		},
		Location: time.UTC,
	}
}

// searchEnv is jqlEnv for a search, which Jira checks as it runs it: a custom field the
// site does not have, or a value it does not have (a project, status, user or issue key
// that does not exist...), is a 400, not an empty result. The caller holds s.mu.
//
// Values are checked for existence only. Jira also answers "does not exist" for a
// project or issue the user may not see; the fake does not (yet), since clients share
// scopes across identities that see less of them.
func (s *Site) searchEnv(u int) jql.Env {
	env := s.jqlEnv(u)
	env.HasField = func(field string) bool {
		for _, f := range fieldCatalog { // Cloud answers the retired Epic Link too
			if f.custom && strings.EqualFold(field, "cf["+formatInt(f.customID)+"]") {
				return true
			}
			if strings.EqualFold(field, f.id) || strings.EqualFold(field, f.name) ||
				slices.ContainsFunc(f.clauses, func(c string) bool { return strings.EqualFold(c, field) }) {
				return true
			}
		}
		return false
	}
	env.HasValue = s.hasValue
	return env
}

// hasValue reports whether the site has value for a field.
func (s *Site) hasValue(field, value string) bool {
	anyOf := func(vals [][]jql.Value) bool {
		for _, vs := range vals {
			for _, v := range vs {
				if spells(v, value) {
					return true
				}
			}
		}
		return false
	}
	jv := s.jv
	switch field {
	case "project":
		return projectIndex(value) >= 0
	case "issuetype":
		return anyOf(jv.types)
	case "status":
		return anyOf(jv.statuses)
	case "priority":
		return anyOf(jv.priorities)
	case "resolution":
		return anyOf(jv.resolution)
	case "assignee", "reporter":
		return anyOf(jv.users)
	case "component":
		return anyOf(jv.components)
	case "fixversion":
		return anyOf(jv.versions)
	case "sprint":
		return anyOf([][]jql.Value{jv.sprints})
	case "key", "parent", "epic link":
		if _, err := strconv.ParseInt(value, 10, 64); err == nil {
			return true // an issue id: not checked
		}
		_, ok := s.lookup(strings.ToUpper(value))
		return ok
	}
	return true
}

// spells reports whether v is spelt text (any case), by its value or an alternative.
func spells(v jql.Value, text string) bool {
	if strings.EqualFold(v.Str, text) {
		return true
	}
	return slices.ContainsFunc(v.Alt, func(a string) bool { return strings.EqualFold(a, text) })
}
