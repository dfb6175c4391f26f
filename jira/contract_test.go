package jira_test

// The contract test: the real client drives every operation it has against the fake Cloud
// site, through a transport that validates each request and response against Atlassian's
// OpenAPI spec (jira/jiratest/contract). Any mismatch fails the test, whichever side is at
// fault; jira/jiratest/contract/FINDINGS.md lists the open ones.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/jira/jiratest/contract"
)

// contractOperations are the Cloud operations the client must have exercised, as the spec
// names them. A client operation that stops being called (or starts calling another endpoint)
// shows up here instead of silently escaping the contract.
var contractOperations = []string{
	"GET /rest/api/3/serverInfo",
	"GET /rest/api/3/myself",
	"GET /rest/api/3/field",
	"GET /rest/api/3/project/search",
	"GET /rest/api/3/issueLinkType",
	"POST /rest/api/3/search/jql",
	"POST /rest/api/3/issue/bulkfetch",
	"GET /rest/api/3/issue/{issueIdOrKey}",
	"PUT /rest/api/3/issue/{issueIdOrKey}",
	"POST /rest/api/3/issue",
	"DELETE /rest/api/3/issue/{issueIdOrKey}",
	"GET /rest/api/3/issue/{issueIdOrKey}/editmeta",
	"GET /rest/api/3/issue/{issueIdOrKey}/transitions",
	"POST /rest/api/3/issue/{issueIdOrKey}/transitions",
	"POST /rest/api/3/issueLink",
	"DELETE /rest/api/3/issueLink/{linkId}",
	"GET /rest/api/3/user/assignable/search",
	"GET /rest/api/3/user/search",
	"GET /rest/api/3/groups/picker",
	"GET /rest/api/3/mypermissions",
	"POST /rest/api/3/permissions/check",
}

// contractErrors are error answers the client must have met (and the fake sent in the
// documented shape).
var contractErrors = []struct {
	operation string
	status    int
}{
	{"GET /rest/api/3/issue/{issueIdOrKey}", http.StatusNotFound},
	{"POST /rest/api/3/search/jql", http.StatusBadRequest},
	{"PUT /rest/api/3/issue/{issueIdOrKey}", http.StatusBadRequest},
	{"PUT /rest/api/3/issue/{issueIdOrKey}", http.StatusForbidden},
	{"POST /rest/api/3/permissions/check", http.StatusForbidden},
	{"GET /rest/api/3/myself", http.StatusUnauthorized},
	{"GET /rest/api/3/mypermissions", http.StatusNotFound},
}

func TestContractCloudClient(t *testing.T) {
	spec, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 500, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	// Ranking is Jira Software's Agile API, described by the software spec, not this one.
	spec.Ignore("/rest/agile/")
	validated := &http.Client{Transport: spec.Transport(t, srv.Client().Transport)}
	ctx := t.Context()

	login := func(name, token string) *jira.Client {
		t.Helper()
		c, err := jira.New(ctx, jira.Options{
			BaseURL: srv.URL, Dialect: jira.Cloud, Email: name + "@example.com", Token: token,
			HTTPClient: validated, MaxRetries: -1, RequestsPerSecond: -1,
		})
		if err != nil {
			t.Fatalf("jira.New as %s: %v", name, err)
		}
		return c
	}
	admin, alice, bob := login("admin", "admin-token"), login("alice", "alice-token"), login("bob", "bob-token")
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	// Dialect detection asks serverInfo.
	if c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token",
		HTTPClient: validated, MaxRetries: -1, RequestsPerSecond: -1}); err != nil {
		t.Errorf("detect dialect: %v", err)
	} else if c.Dialect() != jira.Cloud {
		t.Errorf("detected dialect %q, want cloud", c.Dialect())
	}
	_, err = admin.ServerInfo(ctx)
	check("ServerInfo", err)

	me, err := alice.Myself(ctx)
	check("Myself", err)
	fields, err := admin.Fields(ctx)
	check("Fields", err)
	_ = jira.ResolveWellKnown(fields)
	projects, err := admin.Projects(ctx)
	check("Projects", err)
	_, err = admin.LinkTypes(ctx)
	check("LinkTypes", err)

	// Search across several pages, with the fields a refresh asks for.
	var keys []string
	var ids []int64
	err = admin.Search(ctx, jira.SearchRequest{
		JQL:      "project = ALPHA ORDER BY key ASC",
		Fields:   []string{"summary", "status", "issuetype", "parent", "assignee", "updated", "labels", "priority", "issuelinks"},
		PageSize: 40,
	}, func(p jira.Page) error {
		for _, is := range p.Issues {
			keys = append(keys, is.Key)
			id, err := strconv.ParseInt(is.ID, 10, 64)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	check("Search", err)
	if len(keys) < 41 {
		t.Fatalf("Search returned %d ALPHA issues; the test needs more than one page", len(keys))
	}
	_, _, err = alice.SearchPage(ctx, jira.SearchRequest{JQL: "project = BETA", Fields: []string{"summary"}, PageSize: 10}, "")
	check("SearchPage", err)
	_, _, err = admin.SearchPage(ctx, jira.SearchRequest{JQL: "project = ALPHA", Fields: []string{"summary"}, Expand: []string{"names", "schema"},
		ReconcileIssues: ids[:3], PageSize: 5}, "")
	check("SearchPage with expand and reconcileIssues", err)

	var scanned int
	check("ScanIDs", admin.ScanIDs(ctx, "project in (ALPHA, BETA, GAMMA)", func(refs []jira.IssueRef) error {
		scanned += len(refs)
		return nil
	}))
	if scanned == 0 {
		t.Error("ScanIDs saw no issues")
	}

	// More than 100 ids, so bulk fetch is chunked.
	bulk := make([]string, 0, len(ids))
	for _, id := range ids {
		bulk = append(bulk, strconv.FormatInt(id, 10))
	}
	_, err = admin.BulkFetch(ctx, bulk, []string{"summary", "status"})
	check("BulkFetch", err)

	key := keys[0]
	_, err = alice.GetIssue(ctx, key, []string{"summary", "status", "issuelinks", "comment"})
	check("GetIssue", err)
	_, err = alice.EditMeta(ctx, key)
	check("EditMeta", err)
	off := false
	check("EditIssue fields", alice.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"summary": "Edited by the contract test"}}))
	// Only admins may silence notifications.
	check("EditIssue without notifications", admin.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"summary": "Edited quietly"}, NotifyUsers: &off}))
	check("EditIssue update", alice.EditIssue(ctx, key, jira.Edit{Update: map[string][]map[string]any{"labels": {{"add": "contract"}}}}))
	check("RankIssues", alice.RankIssues(ctx, []string{key}, "", keys[1]))
	trs, err := alice.Transitions(ctx, key)
	check("Transitions", err)
	if len(trs) == 0 {
		t.Errorf("no transitions offered on %s", key)
	} else {
		check("DoTransition", alice.DoTransition(ctx, key, trs[0].ID, nil))
	}
	_, err = alice.AssignableUsers(ctx, key, "b")
	check("AssignableUsers", err)
	_, err = admin.SearchUsers(ctx, "al")
	check("SearchUsers", err)
	_, err = admin.SearchGroups(ctx, "jira")
	check("SearchGroups", err)

	// Create an issue, link it, unlink it, delete it.
	created, err := admin.CreateIssue(ctx, map[string]any{
		"project":   map[string]any{"key": "ALPHA"},
		"issuetype": map[string]any{"name": "Task"},
		"summary":   "Created by the contract test",
	})
	check("CreateIssue", err)
	if created.Key != "" {
		check("CreateLink", admin.CreateLink(ctx, "Blocks", created.Key, key))
		linked, err := admin.GetIssue(ctx, created.Key, []string{"issuelinks"})
		check("GetIssue links", err)
		if linked != nil {
			var links []struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(linked.Fields["issuelinks"], &links); err != nil || len(links) == 0 {
				t.Errorf("created link not on %s (%v): %s", created.Key, err, linked.Fields["issuelinks"])
			} else {
				check("DeleteLink", admin.DeleteLink(ctx, links[0].ID))
			}
		}
		check("DeleteIssue", admin.DeleteIssue(ctx, created.Key, false))
	}

	// Permissions: by project and by issue, bulk for oneself and (as admin) for another user.
	_, err = bob.MyPermissions(ctx, jira.PermissionScope{ProjectKey: "ALPHA"}, "BROWSE_PROJECTS", "EDIT_ISSUES")
	check("MyPermissions project", err)
	_, err = alice.MyPermissions(ctx, jira.PermissionScope{IssueKey: key}, "BROWSE_PROJECTS")
	check("MyPermissions issue", err)
	projectIDs := make([]int64, 0, len(projects))
	for _, p := range projects {
		projectIDs = append(projectIDs, p.ID)
	}
	_, _, err = bob.CheckPermissions(ctx, "", "BROWSE_PROJECTS", projectIDs, ids)
	check("CheckPermissions self", err)
	if me != nil {
		_, _, err = admin.CheckPermissions(ctx, me.AccountID, "BROWSE_PROJECTS", projectIDs, ids[:10])
		check("CheckPermissions other user as admin", err)
	}

	// The error answers the client branches on.
	var nf *jira.NotFoundError
	if _, err := bob.GetIssue(ctx, "GAMMA-1", []string{"summary"}); !errors.As(err, &nf) {
		t.Errorf("bob GET GAMMA-1: got %v, want a NotFoundError", err)
	}
	if perms, err := bob.MyPermissions(ctx, jira.PermissionScope{IssueKey: "GAMMA-1"}, "BROWSE_PROJECTS"); err != nil || perms["BROWSE_PROJECTS"] {
		t.Errorf("bob mypermissions on GAMMA-1: %v, %v; want not granted", perms, err)
	}
	var api *jira.APIError
	if err := admin.Search(ctx, jira.SearchRequest{JQL: "ORDER BY key", Fields: []string{"summary"}}, func(jira.Page) error { return nil }); !errors.As(err, &api) {
		t.Errorf("unbounded JQL: got %v, want an APIError", err)
	}
	if err := admin.Search(ctx, jira.SearchRequest{JQL: "project = = ALPHA", Fields: []string{"summary"}}, func(jira.Page) error { return nil }); !errors.As(err, &api) {
		t.Errorf("malformed JQL: got %v, want an APIError", err)
	}
	if err := alice.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"customfield_99999": "x"}}); !errors.As(err, &api) {
		t.Errorf("edit of an unknown field: got %v, want an APIError", err)
	}
	var forbidden *jira.ForbiddenError
	if err := alice.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"summary": "x"}, NotifyUsers: &off}); !errors.As(err, &forbidden) {
		t.Errorf("notifyUsers=false as a non-admin: got %v, want a ForbiddenError", err)
	}
	if _, _, err := alice.CheckPermissions(ctx, "61a0000000000000000000a1", "BROWSE_PROJECTS", projectIDs, nil); !errors.As(err, &forbidden) {
		t.Errorf("alice checking admin's permissions: got %v, want a ForbiddenError", err)
	}
	var unauth *jira.UnauthorizedError
	if _, err := login("alice", "wrong-token").Myself(ctx); !errors.As(err, &unauth) {
		t.Errorf("wrong token: got %v, want an UnauthorizedError", err)
	}

	rec := spec.Recorder()
	if missing := rec.Missing(contractOperations...); len(missing) > 0 {
		t.Errorf("operations never validated (not called, or every exchange mismatched): %q", missing)
	}
	for _, e := range contractErrors {
		if got := rec.Statuses(e.operation); !slices.Contains(got, e.status) {
			t.Errorf("%s: no validated %d answer (saw %v)", e.operation, e.status, got)
		}
	}
}

// reports collects what the validating transport reports, without failing the test.
type reports struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *reports) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// The contract test can fail: a fake that drifts from the spec (here, one extra property in
// GET myself, as a Data Center-ism would add) is caught on the client's real traffic.
func TestContractDetectsDrift(t *testing.T) {
	spec, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rest/api/3/myself" {
			site.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		site.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Errorf("fake myself: %v", err)
		}
		body["name"] = "alice" // Data Center's login name: Cloud has none
		body["login"] = "alice"
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	}))
	defer srv.Close()
	tb := &reports{TB: t}
	c, err := jira.New(t.Context(), jira.Options{BaseURL: srv.URL, Dialect: jira.Cloud, Email: "alice@example.com", Token: "alice-token",
		HTTPClient: &http.Client{Transport: spec.Transport(tb, srv.Client().Transport)}, MaxRetries: -1, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Myself(t.Context()); err != nil {
		t.Fatalf("Myself: %v", err)
	}
	if len(tb.msgs) != 1 || !strings.Contains(tb.msgs[0], "GET /rest/api/3/myself") || !strings.Contains(tb.msgs[0], "login") {
		t.Errorf("reports %q, want one naming GET /rest/api/3/myself and the property login", tb.msgs)
	}
	if missing := spec.Recorder().Missing("GET /rest/api/3/myself"); len(missing) != 1 {
		t.Error("a mismatched exchange was recorded as validated")
	}
}
