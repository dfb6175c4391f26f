package jiratest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// call is one authenticated request: who asks and how answers are shaped.
type call struct {
	v view
}

type callHandler func(w http.ResponseWriter, r *http.Request, c *call)

// routes builds the REST surface. Version segments are checked per dialect: Cloud answers
// /rest/api/2 and /3, Data Center /rest/api/2 and /latest.
func (s *Site) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h callHandler) {
		mux.HandleFunc(pattern, s.authed(h))
	}
	mux.HandleFunc("GET /rest/api/{v}/serverInfo", s.serverInfo)
	handle("GET /rest/api/{v}/myself", s.myself)
	handle("GET /rest/api/{v}/field", s.fields)
	handle("GET /rest/api/{v}/project", s.projectList)
	handle("GET /rest/api/{v}/project/search", s.projectSearch)
	handle("GET /rest/api/{v}/project/{key}", s.projectGet)
	handle("GET /rest/api/{v}/project/{key}/role", s.projectRoles)
	handle("GET /rest/api/{v}/project/{key}/role/{id}", s.projectRole)
	handle("GET /rest/api/{v}/issueLinkType", s.linkTypes)
	handle("GET /rest/api/{v}/search", s.searchOld)
	handle("POST /rest/api/{v}/search", s.searchOld)
	handle("GET /rest/api/{v}/search/jql", s.searchJQL)
	handle("POST /rest/api/{v}/search/jql", s.searchJQL)
	handle("POST /rest/api/{v}/search/approximate-count", s.approximateCount)
	handle("POST /rest/api/{v}/issue/bulkfetch", s.bulkFetch)
	handle("GET /rest/api/{v}/issue/{key}", s.issueGet)
	handle("PUT /rest/api/{v}/issue/{key}", s.issueEdit)
	handle("DELETE /rest/api/{v}/issue/{key}", s.issueDelete)
	handle("POST /rest/api/{v}/issue", s.issueCreate)
	handle("GET /rest/api/{v}/issue/{key}/editmeta", s.editMeta)
	handle("GET /rest/api/{v}/issue/{key}/transitions", s.transitionList)
	handle("POST /rest/api/{v}/issue/{key}/transitions", s.transitionDo)
	handle("GET /rest/api/{v}/issue/{key}/comment", s.commentList)
	handle("POST /rest/api/{v}/issue/{key}/comment", s.commentAdd)
	handle("GET /rest/api/{v}/issue/createmeta/{project}/issuetypes", s.createMetaTypes)
	handle("GET /rest/api/{v}/issue/createmeta/{project}/issuetypes/{type}", s.createMetaFields)
	handle("POST /rest/api/{v}/issueLink", s.linkCreate)
	handle("GET /rest/api/{v}/issueLink/{id}", s.linkGet)
	handle("DELETE /rest/api/{v}/issueLink/{id}", s.linkDelete)
	handle("GET /rest/api/{v}/mypermissions", s.myPermissions)
	handle("POST /rest/api/{v}/permissions/check", s.permissionsCheck)
	handle("GET /rest/api/{v}/user/assignable/search", s.assignableSearch)
	handle("GET /rest/api/{v}/user/search", s.userSearch)
	handle("GET /rest/api/{v}/user", s.userGet)
	handle("GET /rest/api/{v}/groups/picker", s.groupsPicker)
	mux.HandleFunc("PUT /rest/agile/1.0/issue/rank", s.authedAny(s.rankIssues))
	mux.HandleFunc("POST /rest/webhooks/1.0/webhook", s.authedAny(s.webhookRegister))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A known path asked with another method is 405, still with Jira's error body.
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); m != r.Method && pattern != "/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeErrors(w, http.StatusMethodNotAllowed, []string{"Method " + r.Method + " is not allowed for " + r.URL.Path + "."}, nil)
			return
		}
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
	})
	return mux
}

// versionOK reports whether the dialect serves REST version v.
func (s *Site) versionOK(v string) bool {
	if s.dialect == dialectCloud {
		return v == "2" || v == "3"
	}
	return v == "2" || v == "latest"
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// authenticate returns the user index behind the request's credentials, or -1.
// Cloud takes Basic email:token; Data Center a personal access token as Bearer. A PAT sent
// as a Basic password is refused, as Data Center refuses it.
func (s *Site) authenticate(r *http.Request) int {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return -1
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.dialect == dialectCloud && strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return -1
		}
		email, token, ok := strings.Cut(string(raw), ":")
		if !ok {
			return -1
		}
		for i := range s.users {
			if strings.EqualFold(s.users[i].Email, email) && s.users[i].Token == token {
				return i
			}
		}
	case s.dialect == dialectDataCenter && strings.EqualFold(scheme, "Bearer"):
		token := strings.TrimSpace(cred)
		for i := range s.users {
			if s.users[i].Token == token {
				return i
			}
		}
	}
	return -1
}

func (s *Site) unauthorized(w http.ResponseWriter) {
	if s.dialect == dialectCloud {
		w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Jira"`)
	}
	writeErrors(w, http.StatusUnauthorized, []string{"Client must be authenticated to access this resource."}, nil)
}

func (s *Site) authed(h callHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := r.PathValue("v")
		if !s.versionOK(v) {
			writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
			return
		}
		u := s.authenticate(r)
		if u < 0 {
			s.unauthorized(w)
			return
		}
		api := v
		if api == "latest" {
			api = "2"
		}
		h(w, r, &call{v: view{base: baseURL(r), api: api, user: u}})
	}
}

// authedAny authenticates a route outside /rest/api (no version segment).
func (s *Site) authedAny(h callHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := s.authenticate(r)
		if u < 0 {
			s.unauthorized(w)
			return
		}
		h(w, r, &call{v: view{base: baseURL(r), api: "2", user: u}})
	}
}

// writeErrors answers with Jira's ErrorCollection.
func writeErrors(w http.ResponseWriter, status int, messages []string, fields map[string]string) {
	b := []byte(`{"errorMessages":[`)
	for k, m := range messages {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, m)
	}
	b = append(b, `],"errors":{`...)
	first := true
	for _, k := range sortedKeys(fields) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendKey(b, k)
		b = appendStr(b, fields[k])
	}
	b = append(b, `}}`...)
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client that hung up is not our error to report
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, []string{"internal error rendering the response"}, nil)
		return
	}
	writeRaw(w, status, b)
}

// readJSON decodes a request body; on failure it answers Jira's 400 and reports false.
func readJSON(w http.ResponseWriter, r *http.Request, into any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 10<<20))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		writeErrors(w, http.StatusBadRequest, []string{"Unexpected JSON in the request body: " + err.Error()}, nil)
		return false
	}
	return true
}

const msgIssueNotFound = "Issue does not exist or you do not have permission to see it."

// issueFor resolves the {key} path value as the caller sees it; it answers 404 itself.
// The caller must hold s.mu.
func (s *Site) issueFor(w http.ResponseWriter, r *http.Request, c *call) (int32, bool) {
	i, ok := s.lookup(r.PathValue("key"))
	if !ok || !s.canSee(c.v.user, i) {
		writeErrors(w, http.StatusNotFound, []string{msgIssueNotFound}, nil)
		return 0, false
	}
	return i, true
}
