package jiratest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"foundation/lens"
)

// FakeIssue is an issue of the fake site as tests compare it. The embedded lens.Issue holds
// the fields Lenses extract (Fields is left nil); the rest are fields the cache keeps raw.
type FakeIssue struct {
	lens.Issue
	Description string   // plain text; "" for none
	Components  []string // names
	FixVersions []string // names
	Sprints     []string // names
	Comments    []string // bodies, oldest first
}

// Errors of the test helpers.
var (
	ErrNoIssue = errors.New("jiratest: no such issue")
	ErrNoUser  = errors.New("jiratest: no such user")
	ErrInvalid = errors.New("jiratest: invalid change")
)

// Issue returns the live issue with key (or id), as an administrator sees it.
func (s *Site) Issue(key string) (FakeIssue, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.lookup(key)
	if !ok {
		return FakeIssue{}, false
	}
	return s.fake(i), true
}

// Issues returns a snapshot of every live issue, in id order.
func (s *Site) Issues() []FakeIssue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]FakeIssue, 0, len(s.issues))
	for i := range s.issues {
		if !s.issues[i].deleted {
			out = append(out, s.fake(int32(i)))
		}
	}
	return out
}

// VisibleTo returns the keys of the live issues user (by name) may browse, in id order:
// the expected answer of every permission test.
func (s *Site) VisibleTo(user string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.userIndex(user)
	if u < 0 {
		return nil, fmt.Errorf("visible to %q: %w", user, ErrNoUser)
	}
	var out []string
	for i := range s.issues {
		if s.canSee(u, int32(i)) {
			out = append(out, s.key(int32(i)))
		}
	}
	return out, nil
}

// Links returns every live issue link in Jira's outward direction.
func (s *Site) Links() []lens.Link {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []lens.Link
	for k := range s.links {
		l := &s.links[k]
		if l.deleted || s.issues[l.from].deleted || s.issues[l.to].deleted {
			continue
		}
		lt := &linkTypes[l.typ]
		out = append(out, lens.Link{ID: linkID(int32(k)), Type: lt.name, Outward: lt.outward, Inward: lt.inward, From: s.key(l.from), To: s.key(l.to)})
	}
	return out
}

func (s *Site) fake(i int32) FakeIssue {
	is := &s.issues[i]
	f := FakeIssue{Issue: lens.Issue{
		ID:             issueID(i),
		Key:            s.key(i),
		ProjectID:      projects[is.project].id,
		Project:        projects[is.project].key,
		Type:           issueTypes[is.typ].name,
		Subtask:        issueTypes[is.typ].subtask,
		Status:         statuses[is.status].name,
		StatusCategory: statusCategories[statuses[is.status].category].key,
		Priority:       priorities[is.priority].name,
		Summary:        s.summary(i),
		Labels:         slices.Clone(s.labels(i)),
		Created:        time.Unix(is.created, 0).UTC(),
		Updated:        time.UnixMilli(is.updated).UTC(),
		Rank:           rankOf(is),
		Reporter:       s.userRef(int(is.reporter)),
		Assignee:       s.userRef(int(is.assignee)),
	}}
	if is.resolution >= 0 {
		f.Resolution = resolutions[is.resolution].name
	}
	if is.parent >= 0 {
		f.Parent = s.key(is.parent)
	}
	if is.epic >= 0 {
		f.EpicLink = s.key(is.epic)
	}
	if is.security {
		f.SecurityLevel = securityLevelName
	}
	if !math.IsNaN(float64(is.points)) {
		p := float64(is.points)
		f.StoryPoints = &p
	}
	if is.due != 0 {
		f.DueDate = fmtDate(is.due)
	}
	f.Description, _ = s.description(i)
	for k, c := range projects[is.project].components {
		if is.components&(1<<k) != 0 {
			f.Components = append(f.Components, c)
		}
	}
	for k, v := range projects[is.project].versions {
		if is.versions&(1<<k) != 0 {
			f.FixVersions = append(f.FixVersions, v.name)
		}
	}
	for k, sp := range sprints {
		if is.sprints&(1<<k) != 0 {
			f.Sprints = append(f.Sprints, sp.name)
		}
	}
	if is.ext != nil {
		for _, c := range is.ext.comments {
			f.Comments = append(f.Comments, c.body)
		}
	}
	return f
}

// helperView is the view test helpers write through: the administrator on REST v2, so
// rich text is plain strings on both dialects.
func (s *Site) helperView() view { return view{base: "http://jira.invalid", api: "2", user: 0} }

// Update changes fields of issue key as an administrator's API edit would: the values take
// the JSON shapes of PUT /rest/api/2/issue (e.g. "summary": "x", "priority":
// map[string]any{"name": "High"}, "labels": []string{"a"}), and additionally "status" takes
// a status name and moves the issue there directly (resolving it when the status is Done).
// It bumps updated and emits jira:issue_updated.
func (s *Site) Update(key string, fields map[string]any) error {
	s.mu.Lock()
	i, ok := s.lookup(key)
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("update %s: %w", key, ErrNoIssue)
	}
	v := s.helperView()
	e := s.newEdit(i, v)
	body := &editBody{Fields: map[string]json.RawMessage{}}
	for f, val := range fields {
		raw, err := json.Marshal(val)
		if err != nil {
			s.mu.Unlock()
			return fmt.Errorf("update %s field %s: %w", key, f, err)
		}
		body.Fields[f] = raw
	}
	errs := e.applyBody(0, body, "status")
	if st, ok := fields["status"]; ok {
		name, _ := st.(string)
		k := slices.IndexFunc(statuses, func(x status) bool { return x.name == name })
		if k < 0 {
			errs["status"] = "no status named " + name
		} else if k != int(e.n.status) {
			e.change("status", "status", formatInt(statuses[e.n.status].id), statuses[e.n.status].name, formatInt(statuses[k].id), statuses[k].name)
			e.n.status = uint8(k)
			done := statuses[k].category == 2
			if done && e.n.resolution < 0 {
				e.n.resolution, e.n.resolved = 0, s.now().Unix()
				e.change("resolution", "resolution", "", "", formatInt(resolutions[0].id), resolutions[0].name)
			} else if !done && e.n.resolution >= 0 {
				e.n.resolution, e.n.resolved = -1, 0
				e.change("resolution", "resolution", formatInt(resolutions[0].id), resolutions[0].name, "", "")
			}
		}
	}
	if len(errs) > 0 {
		s.mu.Unlock()
		return fmt.Errorf("update %s: %w: %v", key, ErrInvalid, errs)
	}
	var evs []event
	if len(e.items) > 0 {
		e.commit(s.now())
		evs = append(evs, s.issueEvent(v, "jira:issue_updated", typeName(e.items), i, e.items, nil))
	}
	s.mu.Unlock()
	s.publish(evs)
	return nil
}

// Delete deletes issue key with its sub-tasks and links, emitting jira:issue_deleted.
func (s *Site) Delete(key string) error {
	s.mu.Lock()
	i, ok := s.lookup(key)
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("delete %s: %w", key, ErrNoIssue)
	}
	evs := s.deleteLocked(s.helperView(), i)
	s.mu.Unlock()
	s.publish(evs)
	return nil
}

// Move moves issue key to another project, as Jira's move does: the issue keeps its id
// and gets a new key (the old key still resolves), loses its parent, components, versions
// and sprints, and emits jira:issue_updated with project and Key changes. Sub-tasks and
// issues with sub-tasks are refused.
func (s *Site) Move(key, projectKey string) (string, error) {
	s.mu.Lock()
	i, ok := s.lookup(key)
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("move %s: %w", key, ErrNoIssue)
	}
	p := projectIndex(projectKey)
	is := &s.issues[i]
	switch {
	case p < 0:
		s.mu.Unlock()
		return "", fmt.Errorf("move %s to %s: %w: no such project", key, projectKey, ErrInvalid)
	case is.typ == typeSubtask || is.firstSub >= 0:
		s.mu.Unlock()
		return "", fmt.Errorf("move %s: %w: sub-tasks move with their parent only", key, ErrInvalid)
	case int(is.project) == p:
		s.mu.Unlock()
		return key, nil
	}
	now := s.now()
	s.remember(i, true, now)
	before := *is
	oldKey, oldProject := s.key(i), projects[is.project]
	s.setParent(i, -1)
	is = &s.issues[i]
	is.epic, is.components, is.versions, is.sprints = -1, 0, 0, 0
	is.project = uint8(p)
	s.nextNum[p]++
	is.num = s.nextNum[p]
	s.byNum[p] = append(s.byNum[p], i)
	if p != 1 {
		is.security = false
	}
	s.recordHistory(i, &before, is, 0, now)
	s.touch(i, now)
	newKey := s.key(i)
	items := []changeItem{
		{field: "project", fieldType: "jira", fieldID: "project", from: strp(formatInt(oldProject.id)), fromString: strp(oldProject.name), to: strp(formatInt(projects[p].id)), toString: strp(projects[p].name)},
		{field: "Key", fieldType: "jira", fieldID: "issuekey", fromString: strp(oldKey), toString: strp(newKey)},
	}
	ev := s.issueEvent(s.helperView(), "jira:issue_updated", "issue_moved", i, items, nil)
	s.mu.Unlock()
	s.publish([]event{ev})
	return newKey, nil
}

// GrantProject lets user browse (and work in) project projectKey.
func (s *Site) GrantProject(user, projectKey string) error {
	return s.setGrant(user, projectKey, true)
}

// RevokeProject takes project projectKey away from user.
func (s *Site) RevokeProject(user, projectKey string) error {
	return s.setGrant(user, projectKey, false)
}

func (s *Site) setGrant(user, projectKey string, grant bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userIndex(user)
	if u < 0 {
		return fmt.Errorf("grant %s on %s: %w", user, projectKey, ErrNoUser)
	}
	p := projectIndex(projectKey)
	if p < 0 {
		return fmt.Errorf("grant %s on %s: %w: no such project", user, projectKey, ErrInvalid)
	}
	key := projects[p].key
	usr := &s.users[u]
	has := slices.Contains(usr.Projects, key)
	switch {
	case grant && !has:
		usr.Projects = append(slices.Clone(usr.Projects), key)
	case !grant && has:
		usr.Projects = slices.DeleteFunc(slices.Clone(usr.Projects), func(k string) bool { return k == key })
	}
	s.writes++ // cached search results were computed with the old grants
	return nil
}
