package jiratest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func (s *Site) serverInfo(w http.ResponseWriter, r *http.Request) {
	if !s.versionOK(r.PathValue("v")) {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
		return
	}
	info := map[string]any{
		"baseUrl":        baseURL(r),
		"serverTime":     s.now().UTC().Format("2006-01-02T15:04:05.000-0700"),
		"serverTitle":    "Jira",
		"scmInfo":        "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",
		"buildDate":      "2026-01-05T00:00:00.000-0000",
		"serverTimeZone": "UTC",
	}
	if s.dialect == dialectCloud {
		info["version"] = "1001.0.0-SNAPSHOT"
		info["versionNumbers"] = []int{1001, 0, 0}
		info["deploymentType"] = "Cloud"
		info["buildNumber"] = 100289
		info["defaultLocale"] = map[string]string{"locale": "en_US"}
	} else {
		info["version"] = "9.12.2"
		info["versionNumbers"] = []int{9, 12, 2}
		info["deploymentType"] = "Server"
		info["buildNumber"] = 9120002
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Site) myself(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.appendUser(nil, c.v, c.v.user)
	b = b[:len(b)-1]
	u := &s.users[c.v.user]
	b = append(b, `,"locale":"en_US","expand":"groups,applicationRoles","groups":{"size":`...)
	b = strconv.AppendInt(b, int64(len(u.Groups)), 10)
	b = append(b, `,"items":[`...)
	for k, g := range u.Groups {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendGroup(b, c.v, g)
	}
	b = append(b, `]},"applicationRoles":{"size":1,"items":[]}}`...)
	writeRaw(w, http.StatusOK, b)
}

// groupID gives each group a stable uuid-shaped id, as Cloud has.
func groupID(name string) string {
	h := hash64(0, int64(len(name)), 0)
	for _, c := range name {
		h = hash64(h, int64(c), 1)
	}
	x := strconv.FormatUint(h, 16)
	for len(x) < 16 {
		x = "0" + x
	}
	return "00000000-0000-4000-8000-" + x[:12]
}

func appendGroup(b []byte, v view, g string) []byte {
	b = append(b, `{"name":`...)
	b = appendStr(b, g)
	b = append(b, `,"groupId":`...)
	b = appendStr(b, groupID(g))
	b = append(b, `,"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/group?groupId="+groupID(g))
	return append(b, '}')
}

func (s *Site) fields(w http.ResponseWriter, r *http.Request, c *call) {
	type schema struct {
		Type     string `json:"type"`
		Items    string `json:"items,omitempty"`
		System   string `json:"system,omitempty"`
		Custom   string `json:"custom,omitempty"`
		CustomID int64  `json:"customId,omitempty"`
	}
	type field struct {
		ID          string   `json:"id"`
		Key         string   `json:"key"`
		Name        string   `json:"name"`
		Custom      bool     `json:"custom"`
		Orderable   bool     `json:"orderable"`
		Navigable   bool     `json:"navigable"`
		Searchable  bool     `json:"searchable"`
		ClauseNames []string `json:"clauseNames"`
		Schema      schema   `json:"schema"`
	}
	var out []field
	for _, f := range fieldsFor(s.dialect) {
		out = append(out, field{ID: f.id, Key: f.id, Name: f.name, Custom: f.custom, Orderable: f.orderable,
			Navigable: f.navigable, Searchable: true, ClauseNames: f.clauses,
			Schema: schema{Type: f.schemaType, Items: f.items, System: f.system, Custom: f.customType, CustomID: f.customID}})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Site) visibleProjects(u int) []int {
	var out []int
	for p := range projects {
		if s.users[u].canBrowse(p) {
			out = append(out, p)
		}
	}
	return out
}

func (s *Site) projectList(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := []byte{'['}
	for k, p := range s.visibleProjects(c.v.user) {
		if k > 0 {
			b = append(b, ',')
		}
		b = s.appendProject(b, c.v, p)
	}
	writeRaw(w, http.StatusOK, append(b, ']'))
}

func (s *Site) projectSearch(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ps := s.visibleProjects(c.v.user)
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("startAt"))
	start = max0(min(start, len(ps)))
	max, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || max <= 0 || max > 100 {
		max = 50
	}
	end := min(start+max, len(ps))
	b := []byte(`{"self":`)
	b = appendStr(b, c.v.base+r.URL.RequestURI())
	b = append(b, `,"maxResults":`...)
	b = strconv.AppendInt(b, int64(max), 10)
	b = append(b, `,"startAt":`...)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(len(ps)), 10)
	b = append(b, `,"isLast":`...)
	b = strconv.AppendBool(b, end == len(ps))
	b = append(b, `,"values":[`...)
	for k, p := range ps[start:end] {
		if k > 0 {
			b = append(b, ',')
		}
		b = s.appendProject(b, c.v, p)
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

// projectFor resolves the {key} path value as the caller sees it, answering 404 itself.
// The caller must hold s.mu.
func (s *Site) projectFor(w http.ResponseWriter, ref string, c *call) (int, bool) {
	p := projectIndex(ref)
	if p < 0 || !s.users[c.v.user].canBrowse(p) {
		writeErrors(w, http.StatusNotFound, []string{"No project could be found with key '" + ref + "'."}, nil)
		return 0, false
	}
	return p, true
}

func (s *Site) projectGet(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.projectFor(w, r.PathValue("key"), c)
	if !ok {
		return
	}
	b := s.appendProject(nil, c.v, p)
	b = b[:len(b)-1]
	b = append(b, `,"description":"","lead":`...)
	b = s.appendUser(b, c.v, 0)
	b = append(b, `,"issueTypes":[`...)
	for t := range issueTypes {
		if t > 0 {
			b = append(b, ',')
		}
		b = appendIssueType(b, c.v, t)
	}
	b = append(b, `],"components":[`...)
	for k, name := range projects[p].components {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendIntStr(b, componentID(p, k))
		b = append(b, `,"name":`...)
		b = appendStr(b, name)
		b = append(b, '}')
	}
	b = append(b, `],"versions":[`...)
	for k, ver := range projects[p].versions {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendIntStr(b, versionID(p, k))
		b = append(b, `,"name":`...)
		b = appendStr(b, ver.name)
		b = append(b, `,"archived":false,"released":`...)
		b = strconv.AppendBool(b, ver.released)
		b = append(b, `,"releaseDate":`...)
		b = appendStr(b, ver.releaseDate)
		b = append(b, '}')
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

// Project roles: Administrators hold the admins, Developers the other users granted the
// project. Membership follows GrantProject and RevokeProject.
var roles = []struct {
	id   int64
	name string
}{{10002, "Administrators"}, {10001, "Developers"}}

func (s *Site) roleMembers(p int, role int64) []int {
	var out []int
	for u := range s.users {
		usr := &s.users[u]
		switch {
		case role == 10002 && usr.Admin:
			out = append(out, u)
		case role == 10001 && !usr.Admin && usr.canBrowse(p):
			out = append(out, u)
		}
	}
	return out
}

func (s *Site) projectRoles(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.projectFor(w, r.PathValue("key"), c)
	if !ok {
		return
	}
	out := map[string]string{}
	for _, role := range roles {
		out[role.name] = c.v.base + "/rest/api/" + c.v.api + "/project/" + formatInt(projects[p].id) + "/role/" + formatInt(role.id)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Site) projectRole(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.projectFor(w, r.PathValue("key"), c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	k := slices.IndexFunc(roles, func(x struct {
		id   int64
		name string
	}) bool {
		return x.id == id
	})
	if k < 0 {
		writeErrors(w, http.StatusNotFound, []string{"Can not retrieve a role actor for a null project role."}, nil)
		return
	}
	b := []byte(`{"self":`)
	b = appendStr(b, c.v.base+"/rest/api/"+c.v.api+"/project/"+formatInt(projects[p].id)+"/role/"+formatInt(id))
	b = append(b, `,"name":`...)
	b = appendStr(b, roles[k].name)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"description":"","actors":[`...)
	for n, u := range s.roleMembers(p, id) {
		if n > 0 {
			b = append(b, ',')
		}
		usr := &s.users[u]
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, int64(20000+u), 10)
		b = append(b, `,"displayName":`...)
		b = appendStr(b, usr.DisplayName)
		b = append(b, `,"type":"atlassian-user-role-actor",`...)
		if s.dialect == dialectCloud {
			b = append(b, `"actorUser":{"accountId":`...)
			b = appendStr(b, usr.AccountID)
			b = append(b, '}')
		} else {
			b = append(b, `"name":`...)
			b = appendStr(b, usr.Name)
		}
		b = append(b, '}')
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

func (s *Site) linkTypes(w http.ResponseWriter, r *http.Request, c *call) {
	b := []byte(`{"issueLinkTypes":[`)
	for k := range linkTypes {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendLinkType(b, c.v, &linkTypes[k])
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

// appendNames adds the "names" map (field id -> display name) that expand=names asks for.
func appendNames(b []byte, fs fieldSet) []byte {
	b = append(b, `"names":{`...)
	for k, id := range fs.ids {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendKey(b, id)
		for _, f := range fieldCatalog {
			if f.id == id {
				b = appendStr(b, f.name)
				break
			}
		}
	}
	return append(b, '}')
}

func hasExpand(vals []string, what string) bool {
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == what {
				return true
			}
		}
	}
	return false
}

func (s *Site) issueGet(w http.ResponseWriter, r *http.Request, c *call) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.issueFor(w, r, c)
	if !ok {
		return
	}
	q := r.URL.Query()
	fs := s.parseFields(q["fields"], "*all")
	if fs.idOnly {
		fs.idOnly = false // GET always carries key and self
	}
	b := s.appendIssue(nil, c.v, i, &s.issues[i], fs)
	if hasExpand(q["expand"], "names") {
		b = append(b[:len(b)-1], ',')
		b = appendNames(b, fs)
		b = append(b, '}')
	}
	writeRaw(w, http.StatusOK, b)
}

func (s *Site) bulkFetch(w http.ResponseWriter, r *http.Request, c *call) {
	if s.dialect != dialectCloud {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
		return
	}
	var req struct {
		IssueIdsOrKeys []string `json:"issueIdsOrKeys"`
		Fields         []string `json:"fields"`
		Expand         []string `json:"expand"`
		Properties     []string `json:"properties"`
		FieldsByKeys   bool     `json:"fieldsByKeys"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if len(req.IssueIdsOrKeys) == 0 {
		writeErrors(w, http.StatusBadRequest, []string{"issueIdsOrKeys must not be empty."}, nil)
		return
	}
	if len(req.IssueIdsOrKeys) > 100 {
		writeErrors(w, http.StatusBadRequest, []string{"The number of issues requested (" + strconv.Itoa(len(req.IssueIdsOrKeys)) + ") exceeds the maximum of 100."}, nil)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	fs := s.parseFields(req.Fields, "*navigable")
	fs.idOnly = false
	b := []byte(`{"expand":"schema,names","issues":[`)
	var errs []string
	first := true
	for _, ref := range req.IssueIdsOrKeys {
		i, ok := s.lookup(ref)
		if !ok || !s.canSee(c.v.user, i) {
			errs = append(errs, ref)
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = s.appendIssue(b, c.v, i, &s.issues[i], fs)
	}
	b = append(b, `],"issueErrors":[`...)
	for k, ref := range errs {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendStr(b, ref)
		b = append(b, `,"errorMessage":`...)
		b = appendStr(b, msgIssueNotFound)
		b = append(b, '}')
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

// Permissions.

type permission struct {
	id, key, name string
	global        bool
	adminOnly     bool // project permissions only project administrators (our admins) hold
}

var permissions = []permission{
	{"0", "ADMINISTER", "Administer Jira", true, true},
	{"44", "SYSTEM_ADMIN", "Jira System Administrators", true, true},
	{"27", "USER_PICKER", "Browse users and groups", true, false},
	{"10", "BROWSE_PROJECTS", "Browse Projects", false, false},
	{"11", "CREATE_ISSUES", "Create Issues", false, false},
	{"12", "EDIT_ISSUES", "Edit Issues", false, false},
	{"46", "TRANSITION_ISSUES", "Transition Issues", false, false},
	{"13", "ASSIGN_ISSUES", "Assign Issues", false, false},
	{"17", "ASSIGNABLE_USER", "Assignable User", false, false},
	{"14", "RESOLVE_ISSUES", "Resolve Issues", false, false},
	{"18", "CLOSE_ISSUES", "Close Issues", false, false},
	{"28", "SCHEDULE_ISSUES", "Schedule Issues", false, false},
	{"20", "WORK_ON_ISSUES", "Work On Issues", false, false},
	{"21", "LINK_ISSUES", "Link Issues", false, false},
	{"15", "ADD_COMMENTS", "Add Comments", false, false},
	{"16", "DELETE_ISSUES", "Delete Issues", false, true},
	{"25", "MOVE_ISSUES", "Move Issues", false, true},
	{"26", "SET_ISSUE_SECURITY", "Set Issue Security", false, true},
	{"23", "ADMINISTER_PROJECTS", "Administer Projects", false, true},
}

func findPermission(key string) (*permission, bool) {
	for k := range permissions {
		if permissions[k].key == key {
			return &permissions[k], true
		}
	}
	return nil, false
}

// hasPermission decides permission perm for user u in project p (or -1 for "any
// project") and on issue i (or -1).
func (s *Site) hasPermission(u int, perm *permission, p int, i int32) bool {
	usr := &s.users[u]
	if perm.global {
		return !perm.adminOnly || usr.Admin
	}
	if perm.adminOnly && !usr.Admin {
		return false
	}
	if usr.ReadOnly && perm.key != "BROWSE_PROJECTS" {
		return false
	}
	if i >= 0 {
		return s.canSee(u, i)
	}
	if p >= 0 {
		return usr.canBrowse(p)
	}
	return len(s.visibleProjects(u)) > 0
}

func (s *Site) myPermissions(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	raw := q.Get("permissions")
	var asked []*permission
	if raw == "" {
		// Cloud requires the list; Data Center answers every permission without one.
		if s.dialect == dialectCloud {
			writeErrors(w, http.StatusBadRequest, []string{"The 'permissions' query parameter is required."}, nil)
			return
		}
		for k := range permissions {
			asked = append(asked, &permissions[k])
		}
	}
	for _, k := range strings.Split(raw, ",") {
		if raw == "" {
			break
		}
		k = strings.TrimSpace(k)
		perm, ok := findPermission(k)
		if !ok {
			writeErrors(w, http.StatusBadRequest, []string{"The permission with the key '" + k + "' does not exist."}, nil)
			return
		}
		asked = append(asked, perm)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, i := -1, int32(-1)
	switch {
	case q.Get("issueKey") != "" || q.Get("issueId") != "":
		ref := q.Get("issueKey")
		if ref == "" {
			ref = q.Get("issueId")
		}
		var ok bool
		i, ok = s.lookup(ref)
		if !ok || !s.canSee(c.v.user, i) {
			writeErrors(w, http.StatusNotFound, []string{msgIssueNotFound}, nil)
			return
		}
		p = int(s.issues[i].project)
	case q.Get("projectKey") != "" || q.Get("projectId") != "":
		ref := q.Get("projectKey")
		if ref == "" {
			ref = q.Get("projectId")
		}
		var ok bool
		if p, ok = s.projectFor(w, ref, c); !ok {
			return
		}
	}
	b := []byte(`{"permissions":{`)
	for k, perm := range asked {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendKey(b, perm.key)
		b = append(b, `{"id":`...)
		b = appendStr(b, perm.id)
		b = append(b, `,"key":`...)
		b = appendStr(b, perm.key)
		b = append(b, `,"name":`...)
		b = appendStr(b, perm.name)
		b = append(b, `,"type":`...)
		if perm.global {
			b = appendStr(b, "GLOBAL")
		} else {
			b = appendStr(b, "PROJECT")
		}
		b = append(b, `,"description":`...)
		b = appendStr(b, "Ability to "+strings.ToLower(perm.name)+".")
		b = append(b, `,"havePermission":`...)
		b = strconv.AppendBool(b, s.hasPermission(c.v.user, perm, p, i))
		b = append(b, '}')
	}
	writeRaw(w, http.StatusOK, append(b, `}}`...))
}

func (s *Site) permissionsCheck(w http.ResponseWriter, r *http.Request, c *call) {
	if s.dialect != dialectCloud {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
		return
	}
	var req struct {
		AccountID          string   `json:"accountId"`
		GlobalPermissions  []string `json:"globalPermissions"`
		ProjectPermissions []struct {
			Permissions []string `json:"permissions"`
			Projects    []int64  `json:"projects"`
			Issues      []int64  `json:"issues"`
		} `json:"projectPermissions"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := c.v.user
	if req.AccountID != "" && req.AccountID != s.users[u].AccountID {
		if !s.users[u].Admin {
			writeErrors(w, http.StatusForbidden, []string{"You don't have permission to check the permissions of other users."}, nil)
			return
		}
		u = -1
		for k := range s.users {
			if s.users[k].AccountID == req.AccountID {
				u = k
			}
		}
		if u < 0 {
			writeErrors(w, http.StatusBadRequest, []string{"Specified user does not exist or you do not have required permissions"}, nil)
			return
		}
	}
	type grant struct {
		Permission string  `json:"permission"`
		Projects   []int64 `json:"projects"`
		Issues     []int64 `json:"issues"`
	}
	out := struct {
		GlobalPermissions  []string `json:"globalPermissions"`
		ProjectPermissions []grant  `json:"projectPermissions"`
	}{GlobalPermissions: []string{}, ProjectPermissions: []grant{}}
	for _, key := range req.GlobalPermissions {
		perm, ok := findPermission(key)
		if !ok || !perm.global {
			writeErrors(w, http.StatusBadRequest, []string{"Unrecognized permission keys: " + key}, nil)
			return
		}
		if s.hasPermission(u, perm, -1, -1) {
			out.GlobalPermissions = append(out.GlobalPermissions, key)
		}
	}
	for _, pp := range req.ProjectPermissions {
		if len(pp.Projects) > 1000 || len(pp.Issues) > 1000 {
			writeErrors(w, http.StatusBadRequest, []string{"You can check permissions for up to 1000 projects and 1000 issues in a single request."}, nil)
			return
		}
		for _, key := range pp.Permissions {
			perm, ok := findPermission(key)
			if !ok || perm.global {
				writeErrors(w, http.StatusBadRequest, []string{"Unrecognized permission keys: " + key}, nil)
				return
			}
			g := grant{Permission: key, Projects: []int64{}, Issues: []int64{}}
			for _, pid := range pp.Projects {
				if p := projectIndex(formatInt(pid)); p >= 0 && s.hasPermission(u, perm, p, -1) {
					g.Projects = append(g.Projects, pid)
				}
			}
			for _, id := range pp.Issues {
				if i, ok := s.lookup(formatInt(id)); ok && s.hasPermission(u, perm, int(s.issues[i].project), i) {
					g.Issues = append(g.Issues, id)
				}
			}
			out.ProjectPermissions = append(out.ProjectPermissions, g)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// Users and groups.

// userMatches is Jira's user query: a prefix of the name, email or any word of the
// display name, ignoring case.
func userMatches(u *User, query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return true
	}
	if strings.HasPrefix(strings.ToLower(u.Name), q) || strings.HasPrefix(strings.ToLower(u.Email), q) || u.AccountID == query {
		return true
	}
	for _, word := range strings.Fields(strings.ToLower(u.DisplayName)) {
		if strings.HasPrefix(word, q) {
			return true
		}
	}
	return strings.HasPrefix(strings.ToLower(u.DisplayName), q)
}

func userQuery(q map[string][]string) string {
	for _, k := range []string{"query", "username", "accountId"} {
		if v := q[k]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return ""
}

func (s *Site) userSearch(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	query := userQuery(q)
	if query == "" {
		writeErrors(w, http.StatusBadRequest, []string{"The query parameter 'query' or 'accountId' is required."}, nil)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.writeUsers(w, c, func(u int) bool { return userMatches(&s.users[u], query) }, q)
}

func (s *Site) writeUsers(w http.ResponseWriter, c *call, keep func(u int) bool, q map[string][]string) {
	start, _ := strconv.Atoi(first(q["startAt"]))
	max, err := strconv.Atoi(first(q["maxResults"]))
	if err != nil || max <= 0 || max > 1000 {
		max = 50
	}
	b := []byte{'['}
	n := 0
	for u := range s.users {
		if !keep(u) {
			continue
		}
		if n >= start && n < start+max {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = s.appendUser(b, c.v, u)
		}
		n++
	}
	writeRaw(w, http.StatusOK, append(b, ']'))
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (s *Site) assignableSearch(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := -1
	switch {
	case q.Get("issueKey") != "" || q.Get("issueId") != "":
		ref := q.Get("issueKey")
		if ref == "" {
			ref = q.Get("issueId")
		}
		i, ok := s.lookup(ref)
		if !ok || !s.canSee(c.v.user, i) {
			writeErrors(w, http.StatusNotFound, []string{msgIssueNotFound}, nil)
			return
		}
		p = int(s.issues[i].project)
	case q.Get("project") != "":
		var ok bool
		if p, ok = s.projectFor(w, q.Get("project"), c); !ok {
			return
		}
	default:
		writeErrors(w, http.StatusBadRequest, []string{"A project, issue key or action descriptor is required."}, nil)
		return
	}
	query := userQuery(q)
	s.writeUsers(w, c, func(u int) bool {
		return s.users[u].canBrowse(p) && userMatches(&s.users[u], query)
	}, q)
}

func (s *Site) userGet(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	ref := q.Get("accountId")
	if s.dialect == dialectDataCenter {
		ref = q.Get("username")
		if ref == "" {
			ref = q.Get("key")
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := -1
	for k := range s.users {
		if ref != "" && (s.users[k].AccountID == ref && s.dialect == dialectCloud || s.users[k].Name == ref && s.dialect == dialectDataCenter) {
			u = k
		}
	}
	if u < 0 {
		writeErrors(w, http.StatusNotFound, []string{"Specified user does not exist or you do not have required permissions"}, nil)
		return
	}
	writeRaw(w, http.StatusOK, s.appendUser(nil, c.v, u))
}

func (s *Site) groupsPicker(w http.ResponseWriter, r *http.Request, c *call) {
	query := strings.ToLower(r.URL.Query().Get("query"))
	s.mu.RLock()
	var groups []string
	for _, u := range s.users {
		for _, g := range u.Groups {
			if !slices.Contains(groups, g) && strings.Contains(strings.ToLower(g), query) {
				groups = append(groups, g)
			}
		}
	}
	s.mu.RUnlock()
	slices.Sort(groups)
	b := []byte(`{"header":`)
	b = appendStr(b, "Showing "+strconv.Itoa(len(groups))+" of "+strconv.Itoa(len(groups))+" matching groups")
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(len(groups)), 10)
	b = append(b, `,"groups":[`...)
	for k, g := range groups {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendStr(b, g)
		b = append(b, `,"html":`...)
		b = appendStr(b, g)
		b = append(b, `,"groupId":`...)
		b = appendStr(b, groupID(g))
		b = append(b, `,"labels":[]}`...)
	}
	writeRaw(w, http.StatusOK, append(b, `]}`...))
}

// sortedKeys returns a map's keys in order, for stable JSON.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
