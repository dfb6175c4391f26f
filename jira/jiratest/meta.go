package jiratest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// createFields are the fields of the create screen, in screen order.
var createFields = []string{"project", "issuetype", "summary", "description", "priority", "assignee", "reporter",
	"labels", "components", "fixVersions", "duedate", "parent", fieldEpicLink, fieldStoryPoints, fieldSprint, "security"}

func (s *Site) createMetaTypes(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.projectFor(w, r.PathValue("project"), c); !ok {
		return
	}
	list := "issueTypes"
	if s.dialect == dialectDataCenter {
		list = "values"
	}
	b := []byte(`{"maxResults":50,"startAt":0,"total":`)
	b = strconv.AppendInt(b, int64(len(issueTypes)), 10)
	b = append(b, ',')
	b = appendKey(b, list)
	b = append(b, '[')
	for t := range issueTypes {
		if t > 0 {
			b = append(b, ',')
		}
		b = appendIssueType(b, c.v, t)
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

func (s *Site) createMetaFields(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.projectFor(w, r.PathValue("project"), c)
	if !ok {
		return
	}
	ref := r.PathValue("type")
	t := slices.IndexFunc(issueTypes, func(it issueType) bool { return formatInt(it.id) == ref })
	if t < 0 {
		writeErrors(w, http.StatusNotFound, []string{"Issue type with id '" + ref + "' does not exist or is not visible to you."}, nil)
		return
	}
	usr := &s.users[c.v.user]
	var defs []fieldDef
	for _, id := range createFields {
		for _, f := range fieldsFor(s.dialect) {
			if f.id != id {
				continue
			}
			switch {
			case id == "security" && !usr.Admin,
				id == "parent" && (t == typeEpic || (s.dialect == dialectDataCenter && t != typeSubtask)),
				id == fieldEpicLink && (t == typeEpic || t == typeSubtask),
				id == fieldSprint && t == typeEpic:
				continue
			}
			defs = append(defs, f)
		}
	}
	list := "fields"
	if s.dialect == dialectDataCenter {
		list = "values"
	}
	b := []byte(`{"maxResults":50,"startAt":0,"total":`)
	b = strconv.AppendInt(b, int64(len(defs)), 10)
	b = append(b, ',')
	b = appendKey(b, list)
	b = append(b, '[')
	for k, f := range defs {
		if k > 0 {
			b = append(b, ',')
		}
		required := f.id == "project" || f.id == "issuetype" || f.id == "summary" || (f.id == "parent" && t == typeSubtask)
		ops := editable[f.id]
		if ops == nil {
			ops = []string{"set"}
		}
		// appendFieldMeta renders "id":{...}; createmeta lists objects carrying fieldId.
		m := s.appendFieldMeta(nil, c.v, f, ops, required, p)
		m = m[len(f.id)+3:] // drop the `"id":` key
		b = append(b, `{"fieldId":`...)
		b = appendStr(b, f.id)
		b = append(b, ',')
		b = append(b, m[1:]...)
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

// webhookRegistry is the Dispatcher's registration side (webhook.go).
type webhookRegistry interface {
	Register(url, secret string, events []string, jqlFilter string) int
}

// webhookRegister is Jira's admin webhook REST API (POST /rest/webhooks/1.0/webhook).
func (s *Site) webhookRegister(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	admin := s.users[c.v.user].Admin
	reg := s.registry
	s.mu.RUnlock()
	if !admin {
		writeErrors(w, http.StatusForbidden, []string{"Only Jira administrators can manage webhooks."}, nil)
		return
	}
	if reg == nil {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
		return
	}
	var body struct {
		Name        string            `json:"name"`
		URL         string            `json:"url"`
		Events      []string          `json:"events"`
		Filters     map[string]string `json:"filters"`
		ExcludeBody bool              `json:"excludeBody"`
		Secret      string            `json:"secret"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	errs := map[string]string{}
	if body.Name == "" {
		errs["name"] = "Name is required."
	}
	if !strings.HasPrefix(body.URL, "http://") && !strings.HasPrefix(body.URL, "https://") {
		errs["url"] = "URL must be an absolute http or https URL."
	}
	if len(body.Events) == 0 {
		errs["events"] = "At least one event is required."
	}
	filter := body.Filters["issue-related-events-section"]
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, nil, errs)
		return
	}
	id := reg.Register(body.URL, body.Secret, body.Events, filter)
	out := map[string]any{
		"name":            body.Name,
		"url":             body.URL,
		"events":          body.Events,
		"filters":         map[string]string{"issue-related-events-section": filter},
		"excludeBody":     body.ExcludeBody,
		"enabled":         true,
		"self":            c.v.base + "/rest/webhooks/1.0/webhook/" + strconv.Itoa(id),
		"lastUpdatedUser": s.userRef(c.v.user),
	}
	writeJSON(w, http.StatusCreated, out)
}
