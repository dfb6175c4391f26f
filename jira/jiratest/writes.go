package jiratest

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// editable lists the fields on the edit screen, with the operations Jira allows on each.
var editable = map[string][]string{
	"summary":        {"set"},
	"description":    {"set"},
	"priority":       {"set"},
	"assignee":       {"set"},
	"reporter":       {"set"},
	"labels":         {"add", "set", "remove"},
	"components":     {"add", "set", "remove"},
	"fixVersions":    {"add", "set", "remove"},
	"duedate":        {"set"},
	"parent":         {"set"},
	"security":       {"set"},
	fieldStoryPoints: {"set"},
	fieldSprint:      {"set"},
	fieldEpicLink:    {"set"},
	// comment is not a field of the issue but Jira takes update.comment[{add:{body}}] on
	// edits and transitions, and clients use it.
	"comment": {"add"},
}

// onScreen reports whether field f is on issue i's edit screen for user u.
func (s *Site) onScreen(u int, i int32, f string) bool {
	if _, ok := editable[f]; !ok {
		return false
	}
	usr := &s.users[u]
	if usr.ReadOnly {
		return false
	}
	is := &s.issues[i]
	switch f {
	case fieldEpicLink:
		return s.dialect == dialectDataCenter && is.typ != typeEpic && is.typ != typeSubtask
	case "parent":
		if s.dialect == dialectDataCenter {
			return is.typ == typeSubtask
		}
		return is.typ != typeEpic
	case "security":
		return usr.Admin
	case fieldSprint, fieldStoryPoints:
		return is.typ != typeEpic || f == fieldStoryPoints
	}
	return true
}

// fieldError is a validation failure on one field.
type fieldError struct{ field, msg string }

func cannotSet(f string) *fieldError {
	return &fieldError{f, "Field '" + f + "' cannot be set. It is not on the appropriate screen, or unknown."}
}

// edit is one issue being changed: a private copy of the compact issue and its ext, the
// changelog so far, and where a parent change must be applied at commit.
type edit struct {
	s         *Site
	i         int32
	n         issue
	ext       issueExt
	extDirty  bool
	items     []changeItem
	parentSet bool
	newParent int32
	commented bool // update.comment added a comment
	v         view
}

func (s *Site) newEdit(i int32, v view) *edit {
	e := &edit{s: s, i: i, n: s.issues[i], v: v, newParent: s.issues[i].parent}
	if s.issues[i].ext != nil {
		e.ext = *s.issues[i].ext
		e.ext.labels = slices.Clone(e.ext.labels)
		e.ext.comments = slices.Clone(e.ext.comments)
	}
	return e
}

func (e *edit) change(field, fieldID, from, fromStr, to, toStr string) {
	ft := "jira"
	if strings.HasPrefix(fieldID, "customfield_") {
		ft = "custom"
	}
	e.items = append(e.items, changeItem{field: field, fieldType: ft, fieldID: fieldID,
		from: optp(from), fromString: optp(fromStr), to: optp(to), toString: optp(toStr)})
}

// commit writes the edit back. The caller holds s.mu for writing.
func (e *edit) commit(now time.Time) {
	s := e.s
	s.remember(e.i, true, now)
	old := s.issues[e.i]
	n := e.n
	// Linkage is owned by the live issue; parent changes go through setParent.
	n.firstSub, n.nextSub, n.linkHead, n.parent = old.firstSub, old.nextSub, old.linkHead, old.parent
	if e.extDirty {
		ext := e.ext
		for k := range ext.comments {
			if ext.comments[k].id < 0 {
				s.commentSeq++
				ext.comments[k].id = 10000 + s.commentSeq
				ext.comments[k].created = now.UnixMilli()
			}
		}
		n.ext = &ext
	}
	s.recordHistory(e.i, &old, &n, e.v.user, now)
	s.issues[e.i] = n
	if e.parentSet && e.newParent != old.parent {
		s.setParent(e.i, e.newParent)
	}
	s.touch(e.i, now)
}

// events renders the webhook events of a committed edit: jira:issue_updated with the
// changelog (or, for a comment alone, issue_commented with the comment).
func (e *edit) events(v view) []event {
	s := e.s
	var cm *comment
	if e.commented {
		cs := s.issues[e.i].ext.comments
		cm = &cs[len(cs)-1]
	}
	name := typeName(e.items)
	if len(e.items) == 0 {
		name = "issue_commented"
	}
	var items []changeItem
	if len(e.items) > 0 {
		items = e.items
	}
	evs := []event{s.issueEvent(v, "jira:issue_updated", name, e.i, items, cm)}
	if cm != nil {
		evs = append(evs, s.issueEvent(v, "comment_created", "issue_commented", e.i, nil, cm))
	}
	return evs
}

// refString reads {"id":..} / {"key":..} / {"name":..} / {"accountId":..} / a bare string.
func refString(raw json.RawMessage, keys ...string) (string, bool, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", true, true
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, false, true
	}
	var num json.Number
	if json.Unmarshal(raw, &num) == nil {
		return num.String(), false, true
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) != nil {
		return "", false, false
	}
	if none, _ := obj["none"].(bool); none {
		return "", true, true
	}
	for _, k := range keys {
		switch x := obj[k].(type) {
		case string:
			return x, false, true
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), false, true
		case nil:
		}
	}
	return "", false, false
}

// adfText flattens an ADF document to plain text: text nodes joined, block nodes
// separated by blank lines. A string passes through.
func adfText(raw json.RawMessage) (string, bool) {
	var node struct {
		Type    string            `json:"type"`
		Text    string            `json:"text"`
		Content []json.RawMessage `json:"content"`
	}
	if json.Unmarshal(raw, &node) != nil || node.Type == "" {
		return "", false
	}
	if node.Type == "text" {
		return node.Text, true
	}
	var parts []string
	inline := node.Type == "paragraph" || node.Type == "heading"
	for _, c := range node.Content {
		t, ok := adfText(c)
		if !ok {
			return "", false
		}
		parts = append(parts, t)
	}
	if inline {
		return strings.Join(parts, ""), true
	}
	return strings.Join(parts, "\n\n"), true
}

// apply performs one operation on one field, validating the value like Jira.
func (e *edit) apply(u int, field, op string, raw json.RawMessage) *fieldError {
	s, n := e.s, &e.n
	ops, ok := editable[field]
	if !ok || !s.onScreen(u, e.i, field) {
		return cannotSet(field)
	}
	if !slices.Contains(ops, op) {
		return &fieldError{field, "Field '" + field + "' does not support operation '" + op + "'"}
	}
	switch field {
	case "comment":
		var c struct {
			Body json.RawMessage `json:"body"`
		}
		if json.Unmarshal(raw, &c) != nil {
			return &fieldError{field, "Comment body can not be empty!"}
		}
		var text string
		if s.adf(e.v) {
			t, ok := adfText(c.Body)
			if !ok {
				return &fieldError{field, "Comment body must be an Atlassian Document."}
			}
			text = t
		} else if json.Unmarshal(c.Body, &text) != nil {
			return &fieldError{field, "Comment body can not be empty!"}
		}
		if strings.TrimSpace(text) == "" {
			return &fieldError{field, "Comment body can not be empty!"}
		}
		// The id is taken at commit: a refused edit must not consume one.
		e.ext.comments = append(e.ext.comments, comment{id: -1, author: int16(u), body: text})
		e.extDirty, e.commented = true, true
	case "summary":
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return &fieldError{field, "Operation value must be a string"}
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return &fieldError{field, "You must specify a summary of the issue."}
		}
		if len([]rune(v)) > 255 {
			return &fieldError{field, "Summary must be less than 255 characters."}
		}
		old := s.summaryOf(e)
		e.ext.summary, e.extDirty = &v, true
		e.change("summary", "summary", "", old, "", v)
	case "description":
		var text string
		if string(bytes.TrimSpace(raw)) != "null" {
			if s.adf(e.v) {
				t, ok := adfText(raw)
				if !ok {
					return &fieldError{field, "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}
				}
				text = t
			} else if json.Unmarshal(raw, &text) != nil {
				return &fieldError{field, "Operation value must be a string"}
			}
		}
		old, _ := s.description(e.i)
		e.ext.description, e.extDirty = &text, true
		e.change("description", "description", "", old, "", text)
	case "priority":
		ref, null, ok := refString(raw, "id", "name")
		k := slices.IndexFunc(priorities, func(p named) bool { return formatInt(p.id) == ref || strings.EqualFold(p.name, ref) })
		if !ok || null || k < 0 {
			return &fieldError{field, "Specify a valid 'id' or 'name' for Priority"}
		}
		e.change("priority", "priority", formatInt(priorities[n.priority].id), priorities[n.priority].name, formatInt(priorities[k].id), priorities[k].name)
		n.priority = uint8(k)
	case "assignee", "reporter":
		keys := []string{"accountId"}
		if s.dialect == dialectDataCenter {
			keys = []string{"name", "key"}
		}
		ref, null, ok := refString(raw, keys...)
		if !ok {
			return &fieldError{field, "Operation value must be a user"}
		}
		target := -1
		if !null {
			for k := range s.users {
				if (s.dialect == dialectCloud && s.users[k].AccountID == ref) || (s.dialect == dialectDataCenter && s.users[k].Name == ref) {
					target = k
				}
			}
			if target < 0 || !s.users[target].canBrowse(int(n.project)) {
				return &fieldError{field, "User '" + ref + "' cannot be assigned issues."}
			}
		} else if field == "reporter" {
			return &fieldError{field, "Reporter is required."}
		}
		cur := &n.assignee
		if field == "reporter" {
			cur = &n.reporter
		}
		e.change(field, field, s.userRef(int(*cur)), s.userName(int(*cur)), s.userRef(target), s.userName(target))
		*cur = int16(target)
	case "labels":
		labels := s.labelsOf(e)
		var vals []string
		if op == "set" {
			if json.Unmarshal(raw, &vals) != nil {
				return &fieldError{field, "Operation value must be an array of strings"}
			}
		} else {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				return &fieldError{field, "Operation value must be a string"}
			}
			vals = []string{one}
		}
		for _, l := range vals {
			if l == "" || strings.ContainsAny(l, " \t\n") {
				return &fieldError{field, "The label '" + l + "' contains spaces which is invalid."}
			}
			if len(l) > 255 {
				return &fieldError{field, "The label '" + l + "' exceeds the 255 character limit."}
			}
		}
		next := slices.Clone(labels)
		switch op {
		case "set":
			next = nil
			for _, l := range vals {
				if !slices.Contains(next, l) {
					next = append(next, l)
				}
			}
		case "add":
			if !slices.Contains(next, vals[0]) {
				next = append(next, vals[0])
			}
		case "remove":
			next = slices.DeleteFunc(next, func(l string) bool { return l == vals[0] })
		}
		e.ext.labels, e.ext.labelsSet, e.extDirty = next, true, true
		e.change("labels", "labels", "", strings.Join(labels, " "), "", strings.Join(next, " "))
	case "components", "fixVersions":
		var names []string
		if field == "components" {
			names = projects[n.project].components
		} else {
			for _, v := range projects[n.project].versions {
				names = append(names, v.name)
			}
		}
		idOf := func(k int) int64 {
			if field == "components" {
				return componentID(int(n.project), k)
			}
			return versionID(int(n.project), k)
		}
		find := func(r json.RawMessage) (int, bool) {
			ref, null, ok := refString(r, "id", "name")
			if !ok || null {
				return 0, false
			}
			for k, nm := range names {
				if formatInt(idOf(k)) == ref || nm == ref {
					return k, true
				}
			}
			return 0, false
		}
		mask := &n.components
		if field == "fixVersions" {
			mask = &n.versions
		}
		old := *mask
		var items []json.RawMessage
		if op == "set" {
			if json.Unmarshal(raw, &items) != nil {
				return &fieldError{field, "Operation value must be an array"}
			}
		} else {
			items = []json.RawMessage{raw}
		}
		var m uint8
		for _, it := range items {
			k, ok := find(it)
			if !ok {
				what := "Component"
				if field == "fixVersions" {
					what = "Version"
				}
				return &fieldError{field, what + " '" + string(bytes.TrimSpace(it)) + "' is not valid"}
			}
			m |= 1 << k
		}
		switch op {
		case "set":
			*mask = m
		case "add":
			*mask |= m
		case "remove":
			*mask &^= m
		}
		join := func(mask uint8) string {
			var out []string
			for k, nm := range names {
				if mask&(1<<k) != 0 {
					out = append(out, nm)
				}
			}
			return strings.Join(out, ", ")
		}
		label := "Component"
		if field == "fixVersions" {
			label = "Fix Version"
		}
		e.change(label, field, "", join(old), "", join(*mask))
	case "duedate":
		ref, null, ok := refString(raw)
		var d int32
		if !null {
			t, err := time.Parse("2006-01-02", ref)
			if !ok || err != nil {
				return &fieldError{field, "Error parsing date string: " + string(bytes.TrimSpace(raw))}
			}
			d = int32(t.Unix() / day)
		}
		from, to := "", ""
		if n.due != 0 {
			from = fmtDate(n.due)
		}
		if d != 0 {
			to = fmtDate(d)
		}
		e.change("duedate", "duedate", from, from, to, to)
		n.due = d
	case "parent", fieldEpicLink:
		ref, null, ok := refString(raw, "key", "id")
		if !ok {
			return &fieldError{field, "Could not find issue by id or key."}
		}
		target := int32(-1)
		if !null {
			t, found := s.lookup(ref)
			if !found || !s.canSee(u, t) {
				return &fieldError{field, "Could not find issue by id or key."}
			}
			target = t
			pt := s.issues[t].typ
			valid := false
			switch {
			case field == fieldEpicLink:
				valid = pt == typeEpic
			case n.typ == typeSubtask:
				valid = pt != typeEpic && pt != typeSubtask && s.issues[t].project == n.project
			default:
				valid = pt == typeEpic
			}
			if !valid || t == e.i {
				return &fieldError{field, "Given parent work item does not belong to appropriate hierarchy."}
			}
		} else if n.typ == typeSubtask && field == "parent" {
			return &fieldError{field, "A sub-task must have a parent."}
		}
		cur := e.newParent
		if field == fieldEpicLink {
			cur = n.epic
		}
		name := "Parent"
		if field == fieldEpicLink {
			name = "Epic Link"
		}
		e.change(name, field, s.idRef(cur), s.keyRef(cur), s.idRef(target), s.keyRef(target))
		if field == fieldEpicLink {
			n.epic = target
		} else {
			e.parentSet, e.newParent = true, target
		}
	case "security":
		ref, null, ok := refString(raw, "id", "name")
		if !ok || (!null && ref != formatInt(securityLevelID) && ref != securityLevelName) {
			return &fieldError{field, "Security level '" + ref + "' is not valid."}
		}
		from, to := "", ""
		if n.security {
			from = securityLevelName
		}
		if !null {
			to = securityLevelName
		}
		e.change("security", "security", from, from, to, to)
		n.security = !null
	case fieldStoryPoints:
		raw = bytes.TrimSpace(raw)
		v := math.NaN()
		if string(raw) != "null" {
			if json.Unmarshal(raw, &v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return &fieldError{field, "Operation value must be a number"}
			}
		}
		from, to := "", ""
		if !math.IsNaN(float64(n.points)) {
			from = strconv.FormatFloat(float64(n.points), 'f', -1, 32)
		}
		if !math.IsNaN(v) {
			to = strconv.FormatFloat(v, 'f', -1, 64)
		}
		e.change("Story Points", field, "", from, "", to)
		n.points = float32(v)
	case fieldSprint:
		ref, null, ok := refString(raw, "id")
		var m uint32
		if !null {
			k := slices.IndexFunc(sprints, func(sp sprint) bool { return formatInt(sp.id) == ref })
			if !ok || k < 0 {
				return &fieldError{field, "Sprint with id '" + ref + "' does not exist."}
			}
			if sprints[k].state == "closed" {
				return &fieldError{field, "Issue can be assigned only active or future sprints."}
			}
			m = 1 << k
		}
		e.change("Sprint", field, "", sprintNames(n.sprints), "", sprintNames(m))
		n.sprints = m
	}
	return nil
}

func sprintNames(m uint32) string {
	var out []string
	for k, sp := range sprints {
		if m&(1<<k) != 0 {
			out = append(out, sp.name)
		}
	}
	return strings.Join(out, ", ")
}

func (s *Site) summaryOf(e *edit) string {
	if e.ext.summary != nil {
		return *e.ext.summary
	}
	return s.generatedSummary(e.i)
}

func (s *Site) labelsOf(e *edit) []string {
	if e.ext.labelsSet {
		return e.ext.labels
	}
	return s.labels(e.i)
}

// userRef is how changelogs name a user: accountId on Cloud, name on Data Center.
func (s *Site) userRef(u int) string {
	if u < 0 {
		return ""
	}
	if s.dialect == dialectCloud {
		return s.users[u].AccountID
	}
	return s.users[u].Name
}

func (s *Site) userName(u int) string {
	if u < 0 {
		return ""
	}
	return s.users[u].DisplayName
}

func (s *Site) idRef(i int32) string {
	if i < 0 {
		return ""
	}
	return formatInt(issueID(i))
}

func (s *Site) keyRef(i int32) string {
	if i < 0 {
		return ""
	}
	return s.key(i)
}

// editBody is the body of an edit, a create and a transition.
type editBody struct {
	Fields     map[string]json.RawMessage              `json:"fields"`
	Update     map[string][]map[string]json.RawMessage `json:"update"`
	Transition *struct {
		ID string `json:"id"`
	} `json:"transition"`
}

// applyBody applies fields and update of a body to e, collecting every field's error.
// skip names fields the caller handles itself (project, issuetype, resolution).
func (e *edit) applyBody(u int, body *editBody, skip ...string) map[string]string {
	errs := map[string]string{}
	for _, f := range sortedKeys(keysOf(body.Fields)) {
		if slices.Contains(skip, f) {
			continue
		}
		if _, both := body.Update[f]; both {
			errs[f] = "Field '" + f + "' cannot be set in both 'fields' and 'update'."
			continue
		}
		if fe := e.apply(u, f, "set", body.Fields[f]); fe != nil {
			errs[fe.field] = fe.msg
		}
	}
	for _, f := range sortedKeys(keysOf(body.Update)) {
		if slices.Contains(skip, f) {
			continue
		}
		for _, opMap := range body.Update[f] {
			for _, op := range sortedKeys(keysOf(opMap)) {
				if fe := e.apply(u, f, op, opMap[op]); fe != nil {
					errs[fe.field] = fe.msg
				}
			}
		}
	}
	return errs
}

func keysOf[V any](m map[string]V) map[string]string {
	out := make(map[string]string, len(m))
	for k := range m {
		out[k] = ""
	}
	return out
}

// typeName picks the issue_event_type_name Jira gives an update.
func typeName(items []changeItem) string {
	if len(items) == 1 && items[0].fieldID == "assignee" {
		return "issue_assigned"
	}
	for _, it := range items {
		if it.fieldID == "status" {
			return "issue_generic" // what Jira's default workflows fire on transitions
		}
	}
	return "issue_updated"
}

func (s *Site) issueEdit(w http.ResponseWriter, r *http.Request, c *call) {
	var body editBody
	if !readJSON(w, r, &body) {
		return
	}
	if nu := r.URL.Query().Get("notifyUsers"); nu == "false" {
		s.mu.RLock()
		admin := s.users[c.v.user].Admin
		s.mu.RUnlock()
		if !admin {
			writeErrors(w, http.StatusForbidden, []string{"To discard the user notification either admin or project admin permissions are required."}, nil)
			return
		}
	}
	s.mu.Lock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		s.mu.Unlock()
		return
	}
	e := s.newEdit(i, c.v)
	if errs := e.applyBody(c.v.user, &body); len(errs) > 0 {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, nil, errs)
		return
	}
	var evs []event
	if len(e.items) > 0 || e.commented {
		e.commit(s.now())
		evs = append(evs, e.events(c.v)...)
	}
	s.mu.Unlock()
	s.publish(evs)
	w.WriteHeader(http.StatusNoContent)
}

// Edit metadata.

func (s *Site) appendFieldMeta(b []byte, v view, f fieldDef, ops []string, required bool, project int) []byte {
	b = appendKey(b, f.id)
	b = append(b, `{"required":`...)
	b = strconv.AppendBool(b, required)
	b = append(b, `,"schema":{"type":`...)
	b = appendStr(b, f.schemaType)
	if f.items != "" {
		b = append(b, `,"items":`...)
		b = appendStr(b, f.items)
	}
	if f.custom {
		b = append(b, `,"custom":`...)
		b = appendStr(b, f.customType)
		b = append(b, `,"customId":`...)
		b = strconv.AppendInt(b, f.customID, 10)
	} else {
		b = append(b, `,"system":`...)
		b = appendStr(b, f.system)
	}
	b = append(b, `},"name":`...)
	b = appendStr(b, f.name)
	b = append(b, `,"key":`...)
	b = appendStr(b, f.id)
	b = append(b, `,"hasDefaultValue":false,"operations":[`...)
	for k, op := range ops {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, op)
	}
	b = append(b, ']')
	switch f.id {
	case "priority":
		b = append(b, `,"allowedValues":[`...)
		for k := range priorities {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendPriority(b, v, k)
		}
		b = append(b, ']')
	case "resolution":
		b = append(b, `,"allowedValues":[`...)
		for k := range resolutions {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendResolution(b, v, k)
		}
		b = append(b, ']')
	case "components", "fixVersions":
		b = append(b, `,"allowedValues":[`...)
		p := &projects[project]
		if f.id == "components" {
			for k, name := range p.components {
				if k > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"id":`...)
				b = appendIntStr(b, componentID(project, k))
				b = append(b, `,"name":`...)
				b = appendStr(b, name)
				b = append(b, '}')
			}
		} else {
			for k, ver := range p.versions {
				if k > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"id":`...)
				b = appendIntStr(b, versionID(project, k))
				b = append(b, `,"name":`...)
				b = appendStr(b, ver.name)
				b = append(b, `,"released":`...)
				b = strconv.AppendBool(b, ver.released)
				b = append(b, `,"archived":false}`...)
			}
		}
		b = append(b, ']')
	case "security":
		b = append(b, `,"allowedValues":[{"id":`...)
		b = appendIntStr(b, securityLevelID)
		b = append(b, `,"name":`...)
		b = appendStr(b, securityLevelName)
		b = append(b, `}]`...)
	case "assignee", "reporter":
		b = append(b, `,"autoCompleteUrl":`...)
		b = appendStr(b, v.base+"/rest/api/"+v.api+"/user/search?query=")
	case "labels":
		b = append(b, `,"autoCompleteUrl":`...)
		b = appendStr(b, v.base+"/rest/api/1.0/labels/suggest?query=")
	}
	return append(b, '}')
}

func (s *Site) editMeta(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		return
	}
	b := []byte(`{"fields":{`)
	first := true
	for _, f := range fieldsFor(s.dialect) {
		if !s.onScreen(c.v.user, i, f.id) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = s.appendFieldMeta(b, c.v, f, editable[f.id], f.id == "summary" || f.id == "reporter", int(s.issues[i].project))
	}
	writeRaw(w, http.StatusOK, append(b, `}}`...))
}

// Transitions.

func (s *Site) available(u int, i int32) []*transition {
	if s.users[u].ReadOnly {
		return nil // no TRANSITION_ISSUES: Jira lists nothing
	}
	is := &s.issues[i]
	wf := &workflows[issueTypes[is.typ].workflow]
	var out []*transition
	for k := range wf.transitions {
		t := &wf.transitions[k]
		if slices.Contains(t.from, int(is.status)) {
			out = append(out, t)
		}
	}
	return out
}

func resolutionField() fieldDef {
	return fieldDef{id: "resolution", name: "Resolution", schemaType: "resolution", system: "resolution"}
}

func (s *Site) transitionList(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		return
	}
	withFields := hasExpand(r.URL.Query()["expand"], "transitions.fields")
	b := []byte(`{"expand":"transitions","transitions":[`)
	for k, t := range s.available(c.v.user, i) {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendStr(b, t.id)
		b = append(b, `,"name":`...)
		b = appendStr(b, t.name)
		b = append(b, `,"to":`...)
		b = appendStatus(b, c.v, t.to)
		b = append(b, `,"hasScreen":`...)
		b = strconv.AppendBool(b, t.needsResolution)
		b = append(b, `,"isGlobal":false,"isInitial":false,"isAvailable":true,"isConditional":false,"isLooped":false`...)
		if withFields {
			b = append(b, `,"fields":{`...)
			if t.needsResolution {
				b = s.appendFieldMeta(b, c.v, resolutionField(), []string{"set"}, true, int(s.issues[i].project))
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

func (s *Site) transitionDo(w http.ResponseWriter, r *http.Request, c *call) {
	var body editBody
	if !readJSON(w, r, &body) {
		return
	}
	if body.Transition == nil || body.Transition.ID == "" {
		writeErrors(w, http.StatusBadRequest, []string{"Missing 'transition' identifier"}, nil)
		return
	}
	s.mu.Lock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		s.mu.Unlock()
		return
	}
	var t *transition
	for _, cand := range s.available(c.v.user, i) {
		if cand.id == body.Transition.ID {
			t = cand
		}
	}
	if t == nil {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, []string{"Transition id '" + body.Transition.ID + "' is not valid for this issue."}, nil)
		return
	}
	e := s.newEdit(i, c.v)
	errs := e.applyBody(c.v.user, &body, "resolution")
	res := int8(-1)
	rawRes, hasRes := body.Fields["resolution"]
	switch {
	case t.needsResolution && !hasRes:
		errs["resolution"] = "Resolution is required."
	case hasRes && !t.needsResolution:
		errs["resolution"] = "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."
	case hasRes:
		ref, null, ok := refString(rawRes, "id", "name")
		k := slices.IndexFunc(resolutions, func(n named) bool { return formatInt(n.id) == ref || strings.EqualFold(n.name, ref) })
		if !ok || null || k < 0 {
			errs["resolution"] = "Resolution is required."
		} else {
			res = int8(k)
		}
	}
	if len(errs) > 0 {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, nil, errs)
		return
	}
	now := s.now()
	n := &e.n
	from := statuses[n.status]
	e.change("status", "status", formatInt(from.id), from.name, formatInt(statuses[t.to].id), statuses[t.to].name)
	n.status = uint8(t.to)
	if res >= 0 {
		e.change("resolution", "resolution", "", "", formatInt(resolutions[res].id), resolutions[res].name)
		n.resolution, n.resolved = res, now.Unix()
	}
	if t.clearsResolution && n.resolution >= 0 {
		e.change("resolution", "resolution", formatInt(resolutions[n.resolution].id), resolutions[n.resolution].name, "", "")
		n.resolution, n.resolved = -1, 0
	}
	e.commit(now)
	evs := e.events(c.v)
	s.mu.Unlock()
	s.publish(evs)
	w.WriteHeader(http.StatusNoContent)
}

// Create and delete.

func (s *Site) issueCreate(w http.ResponseWriter, r *http.Request, c *call) {
	var body editBody
	if !readJSON(w, r, &body) {
		return
	}
	s.mu.Lock()
	errs := map[string]string{}
	pref, _, _ := refString(body.Fields["project"], "key", "id")
	p := projectIndex(pref)
	tref, _, _ := refString(body.Fields["issuetype"], "id", "name")
	t := slices.IndexFunc(issueTypes, func(it issueType) bool { return formatInt(it.id) == tref || strings.EqualFold(it.name, tref) })
	switch {
	case pref == "" || p < 0 || !s.users[c.v.user].canBrowse(p):
		errs["project"] = "Specify a valid project ID or key"
	case s.users[c.v.user].ReadOnly:
		errs["project"] = "You do not have permission to create issues in this project."
	}
	if tref == "" || t < 0 {
		errs["issuetype"] = "Specify an issue type"
	}
	if len(errs) > 0 {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, nil, errs)
		return
	}
	if _, ok := body.Fields["summary"]; !ok {
		if _, ok := body.Update["summary"]; !ok {
			errs["summary"] = "You must specify a summary of the issue."
		}
	}
	now := s.now()
	// Build the new issue in place; it is discarded below if validation fails.
	idx := int32(len(s.issues))
	wf := workflows[issueTypes[t].workflow]
	is := issue{created: now.Unix(), updated: now.UnixMilli(), points: float32(math.NaN()),
		num: s.nextNum[p] + 1, parent: -1, epic: -1, firstSub: -1, nextSub: -1, linkHead: -1,
		rank: uint32(idx)*64 + 32, assignee: -1, reporter: int16(c.v.user), project: uint8(p), typ: uint8(t),
		status: uint8(wf.initial), priority: 2, resolution: -1}
	s.issues = append(s.issues, is)
	e := s.newEdit(idx, c.v)
	for f, err := range e.applyBody(c.v.user, &body, "project", "issuetype") {
		errs[f] = err
	}
	if t == typeSubtask && !e.parentSet {
		errs["parent"] = "Given parent work item does not belong to appropriate hierarchy."
	}
	if len(errs) > 0 {
		s.issues = s.issues[:idx]
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, nil, errs)
		return
	}
	s.nextNum[p]++
	s.byNum[p] = append(s.byNum[p], idx)
	s.remember(idx, false, now)
	e.items = nil
	e.commit(now)
	if e.n.typ == typeSubtask {
		s.issues[idx].security = s.issues[s.issues[idx].parent].security
	}
	key := s.key(idx)
	ev := s.issueEvent(c.v, "jira:issue_created", "issue_created", idx, nil, nil)
	s.mu.Unlock()
	s.publish([]event{ev})
	b := []byte(`{"id":`)
	b = appendIntStr(b, issueID(idx))
	b = append(b, `,"key":`...)
	b = appendStr(b, key)
	b = append(b, `,"self":`...)
	b = appendStr(b, c.v.base+"/rest/api/"+c.v.api+"/issue/"+formatInt(issueID(idx)))
	writeRaw(w, http.StatusCreated, append(b, '}'))
}

func (s *Site) issueDelete(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		s.mu.Unlock()
		return
	}
	perm, _ := findPermission("DELETE_ISSUES")
	if !s.hasPermission(c.v.user, perm, int(s.issues[i].project), i) {
		s.mu.Unlock()
		writeErrors(w, http.StatusForbidden, []string{"You do not have permission to delete issues in this project."}, nil)
		return
	}
	if s.issues[i].firstSub >= 0 && r.URL.Query().Get("deleteSubtasks") != "true" {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, []string{"The issue has sub-tasks. Set the 'deleteSubtasks' parameter to true to delete the issue with its sub-tasks."}, nil)
		return
	}
	evs := s.deleteLocked(c.v, i)
	s.mu.Unlock()
	s.publish(evs)
	w.WriteHeader(http.StatusNoContent)
}

// deleteLocked deletes issue i, its sub-tasks and its links. The caller holds s.mu.
func (s *Site) deleteLocked(v view, i int32) []event {
	now := s.now()
	var evs []event
	for c := s.issues[i].firstSub; c >= 0; c = s.issues[c].nextSub {
		evs = append(evs, s.deleteLocked(v, c)...)
	}
	s.eachLink(i, func(idx int32, l *link) { l.deleted = true })
	evs = append(evs, s.issueEvent(v, "jira:issue_deleted", "issue_deleted", i, nil, nil))
	s.remember(i, true, now)
	s.issues[i].deleted = true
	s.writes++
	return evs
}

// Links.

func (s *Site) linkCreate(w http.ResponseWriter, r *http.Request, c *call) {
	var body struct {
		Type struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"type"`
		InwardIssue  struct{ ID, Key string } `json:"inwardIssue"`
		OutwardIssue struct{ ID, Key string } `json:"outwardIssue"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	t := slices.IndexFunc(linkTypes, func(lt linkType) bool {
		return formatInt(lt.id) == body.Type.ID || (body.Type.Name != "" && strings.EqualFold(lt.name, body.Type.Name))
	})
	if t < 0 {
		writeErrors(w, http.StatusNotFound, []string{"No issue link type with name '" + body.Type.Name + "' found."}, nil)
		return
	}
	s.mu.Lock()
	ref := func(id, key string) (int32, bool) {
		if key == "" {
			key = id
		}
		i, ok := s.lookup(key)
		return i, ok && s.canSee(c.v.user, i)
	}
	// Jira links inwardIssue as the source: "inwardIssue <outward> outwardIssue".
	from, ok1 := ref(body.InwardIssue.ID, body.InwardIssue.Key)
	to, ok2 := ref(body.OutwardIssue.ID, body.OutwardIssue.Key)
	if !ok1 || !ok2 {
		s.mu.Unlock()
		writeErrors(w, http.StatusNotFound, []string{msgIssueNotFound}, nil)
		return
	}
	if s.refuseReadOnly(w, c, "You do not have the permission to link issues.") {
		return
	}
	if from == to {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, []string{"You cannot link an issue to itself."}, nil)
		return
	}
	now := s.now()
	s.remember(from, true, now)
	s.remember(to, true, now)
	idx := s.addLink(uint8(t), from, to)
	s.touch(from, now)
	s.touch(to, now)
	ev := s.linkEvent("issuelink_created", idx)
	s.mu.Unlock()
	s.publish([]event{ev})
	w.Header().Set("Location", c.v.base+"/rest/api/"+c.v.api+"/issueLink/"+formatInt(linkID(idx)))
	w.WriteHeader(http.StatusCreated)
}

// linkFor resolves the {id} path value to a live link both ends of which the caller sees.
func (s *Site) linkFor(w http.ResponseWriter, r *http.Request, c *call) (int32, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	idx := int32(id - 10000)
	if err != nil || idx < 0 || int(idx) >= len(s.links) || s.links[idx].deleted ||
		!s.canSee(c.v.user, s.links[idx].from) || !s.canSee(c.v.user, s.links[idx].to) {
		writeErrors(w, http.StatusNotFound, []string{"No issue link with id '" + r.PathValue("id") + "' exists."}, nil)
		return 0, false
	}
	return idx, true
}

func (s *Site) linkGet(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx, ok := s.linkFor(w, r, c)
	if !ok {
		return
	}
	l := &s.links[idx]
	b := []byte(`{"id":`)
	b = appendIntStr(b, linkID(idx))
	b = append(b, `,"self":`...)
	b = appendStr(b, c.v.base+"/rest/api/"+c.v.api+"/issueLink/"+formatInt(linkID(idx)))
	b = append(b, `,"type":`...)
	b = appendLinkType(b, c.v, &linkTypes[l.typ])
	b = append(b, `,"inwardIssue":`...)
	b = s.appendIssueRef(b, c.v, l.from)
	b = append(b, `,"outwardIssue":`...)
	b = s.appendIssueRef(b, c.v, l.to)
	writeRaw(w, http.StatusOK, append(b, '}'))
}

func (s *Site) linkDelete(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.Lock()
	idx, ok := s.linkFor(w, r, c)
	if !ok {
		s.mu.Unlock()
		return
	}
	if s.refuseReadOnly(w, c, "You do not have the permission to delete links.") {
		return
	}
	now := s.now()
	l := &s.links[idx]
	s.remember(l.from, true, now)
	s.remember(l.to, true, now)
	l.deleted = true
	s.touch(l.from, now)
	s.touch(l.to, now)
	ev := s.linkEvent("issuelink_deleted", idx)
	s.mu.Unlock()
	s.publish([]event{ev})
	w.WriteHeader(http.StatusNoContent)
}

// Comments.

func (s *Site) commentList(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		return
	}
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("startAt"))
	max, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || max <= 0 || max > 5000 {
		max = 5000
	}
	var cs []comment
	if e := s.issues[i].ext; e != nil {
		cs = e.comments
	}
	start = max0(min(start, len(cs)))
	end := min(start+max, len(cs))
	b := []byte(`{"startAt":`)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, `,"maxResults":`...)
	b = strconv.AppendInt(b, int64(max), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(len(cs)), 10)
	b = append(b, `,"comments":[`...)
	for k := start; k < end; k++ {
		if k > start {
			b = append(b, ',')
		}
		b = s.appendComment(b, c.v, i, &cs[k])
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

func (s *Site) commentAdd(w http.ResponseWriter, r *http.Request, c *call) {
	var body struct {
		Body json.RawMessage `json:"body"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	s.mu.Lock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		s.mu.Unlock()
		return
	}
	if s.refuseReadOnly(w, c, "You do not have the permission to comment on this issue.") {
		return
	}
	var text string
	if s.adf(c.v) {
		t, ok := adfText(body.Body)
		if !ok {
			s.mu.Unlock()
			writeErrors(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body must be an Atlassian Document."})
			return
		}
		text = t
	} else if json.Unmarshal(body.Body, &text) != nil {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body can not be empty!"})
		return
	}
	if strings.TrimSpace(text) == "" {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body can not be empty!"})
		return
	}
	now := s.now()
	s.remember(i, true, now)
	s.commentSeq++
	cm := comment{id: 10000 + s.commentSeq, author: int16(c.v.user), body: text, created: now.UnixMilli()}
	ext := s.mutExt(i)
	ext.comments = append(ext.comments, cm)
	s.touch(i, now)
	out := s.appendComment(nil, c.v, i, &cm)
	ev := s.issueEvent(c.v, "comment_created", "issue_commented", i, nil, &cm)
	s.mu.Unlock()
	s.publish([]event{ev})
	writeRaw(w, http.StatusCreated, out)
}

// refuseReadOnly answers 403 with msg, as Jira does, when the caller is a read-only user, and
// then releases s.mu, which the caller holds. It reports whether it refused.
func (s *Site) refuseReadOnly(w http.ResponseWriter, c *call, msg string) bool {
	if !s.users[c.v.user].ReadOnly {
		return false
	}
	s.mu.Unlock()
	writeErrors(w, http.StatusForbidden, []string{msg}, nil)
	return true
}
