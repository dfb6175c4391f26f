package contract_test

// Validates the fake Cloud site directly: raw requests to every endpoint it serves, as
// several users, answered with success and with errors. Every exchange goes through the
// validating transport, and each request also states the status it expects, so a fake that
// answers the wrong path (an error where a success was meant) cannot pass by accident.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"foundation/jira/jiratest"
	"foundation/jira/jiratest/contract"
)

type fakeCall struct {
	user   string // "" sends no credentials
	method string
	path   string
	body   string
	want   int
}

func TestContractFakeCloud(t *testing.T) {
	spec, err := contract.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 300, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	spec.Ignore("/rest/webhooks/1.0/") // admin webhooks: not part of the platform spec
	hc := &http.Client{Transport: spec.Transport(t, srv.Client().Transport)}

	do := func(c fakeCall) []byte {
		t.Helper()
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		req, err := http.NewRequestWithContext(t.Context(), c.method, srv.URL+c.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/json")
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		switch c.user {
		case "":
		case "nobody":
			req.SetBasicAuth("alice@example.com", "not-the-token")
		default:
			req.SetBasicAuth(c.user+"@example.com", c.user+"-token")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s %s as %q: status %d, want %d: %.300s", c.method, c.path, c.user, resp.StatusCode, c.want, b)
		}
		return b
	}

	// Facts the later calls need: an ALPHA issue, its transitions, a project id.
	var page struct {
		Issues []struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		} `json:"issues"`
	}
	if err := json.Unmarshal(do(fakeCall{"admin", "POST", "/rest/api/3/search/jql",
		`{"jql":"project = ALPHA ORDER BY key","fields":["summary"],"maxResults":5}`, 200}), &page); err != nil || len(page.Issues) < 2 {
		t.Fatalf("search for fixtures: %v, %d issues", err, len(page.Issues))
	}
	key, id, other := page.Issues[0].Key, page.Issues[0].ID, page.Issues[1].Key
	var trs struct {
		Transitions []struct {
			ID string `json:"id"`
		} `json:"transitions"`
	}
	if err := json.Unmarshal(do(fakeCall{"alice", "GET", "/rest/api/3/issue/" + key + "/transitions?expand=transitions.fields", "", 200}), &trs); err != nil || len(trs.Transitions) == 0 {
		t.Fatalf("transitions of %s: %v, %d", key, err, len(trs.Transitions))
	}
	var projects []struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal(do(fakeCall{"admin", "GET", "/rest/api/3/project", "", 200}), &projects); err != nil || len(projects) == 0 {
		t.Fatalf("projects: %v", err)
	}
	projectIDs := make([]string, len(projects))
	for i, p := range projects {
		projectIDs[i] = p.ID
	}
	ids := "[" + strings.Join(projectIDs, ",") + "]"

	calls := []fakeCall{
		{"", "GET", "/rest/api/3/serverInfo", "", 200},
		{"", "GET", "/rest/api/2/serverInfo", "", 200},
		{"alice", "GET", "/rest/api/3/myself?expand=groups,applicationRoles", "", 200},
		{"bob", "GET", "/rest/api/2/myself", "", 200},
		{"nobody", "GET", "/rest/api/3/myself", "", 401},
		{"", "GET", "/rest/api/3/myself", "", 401},
		{"admin", "GET", "/rest/api/2/field", "", 200},
		{"admin", "GET", "/rest/api/3/field", "", 200},
		{"bob", "GET", "/rest/api/3/project", "", 200},
		{"alice", "GET", "/rest/api/3/project/search?startAt=0&maxResults=2", "", 200},
		{"alice", "GET", "/rest/api/3/project/ALPHA", "", 200},
		{"bob", "GET", "/rest/api/3/project/GAMMA", "", 404},
		{"admin", "GET", "/rest/api/3/issueLinkType", "", 200},

		// Search: the removed endpoints, the current one by GET and POST, paging, errors.
		{"admin", "GET", "/rest/api/3/search?jql=project%3DALPHA", "", 410},
		{"admin", "POST", "/rest/api/2/search", `{"jql":"project = ALPHA"}`, 410},
		{"admin", "GET", "/rest/api/3/search/jql?jql=project%3DALPHA&fields=summary,status&maxResults=3", "", 200},
		{"alice", "POST", "/rest/api/3/search/jql", `{"jql":"project = BETA ORDER BY updated DESC","fields":["*navigable"],"maxResults":2,"expand":"names,schema"}`, 200},
		{"bob", "POST", "/rest/api/3/search/jql", `{"jql":"project = ALPHA","fields":["id"],"maxResults":5000}`, 200},
		{"admin", "POST", "/rest/api/3/search/jql", `{"jql":"project = ALPHA","fields":["summary"],"reconcileIssues":[` + id + `]}`, 200},
		{"admin", "POST", "/rest/api/3/search/jql", `{"jql":"ORDER BY key","fields":["summary"]}`, 400},
		{"admin", "POST", "/rest/api/3/search/jql", `{"jql":"project = = ALPHA"}`, 400},
		{"admin", "POST", "/rest/api/3/search/jql", `{"jql":"project = ALPHA","nextPageToken":"not-a-token"}`, 400},
		{"admin", "POST", "/rest/api/3/search/approximate-count", `{"jql":"project = ALPHA"}`, 200},
		{"admin", "POST", "/rest/api/3/issue/bulkfetch", `{"issueIdsOrKeys":["` + key + `","` + id + `","GAMMA-1"],"fields":["summary","status"]}`, 200},
		{"bob", "POST", "/rest/api/3/issue/bulkfetch", `{"issueIdsOrKeys":["GAMMA-1","NOPE-1"],"fields":["summary"]}`, 200},

		// Issues: read, edit, metadata, transitions, comments, create, links, delete.
		{"alice", "GET", "/rest/api/3/issue/" + key, "", 200},
		{"alice", "GET", "/rest/api/2/issue/" + id + "?fields=summary,description,comment,issuelinks,subtasks,parent&expand=names", "", 200},
		{"bob", "GET", "/rest/api/3/issue/GAMMA-1", "", 404},
		{"alice", "GET", "/rest/api/3/issue/NOPE-1", "", 404},
		{"alice", "GET", "/rest/api/3/issue/" + key + "/editmeta", "", 200},
		{"alice", "PUT", "/rest/api/3/issue/" + key, `{"fields":{"summary":"Edited by the fake contract test"}}`, 204},
		{"alice", "PUT", "/rest/api/3/issue/" + key, `{"update":{"labels":[{"add":"contract"}]}}`, 204},
		{"admin", "PUT", "/rest/api/3/issue/" + key + "?notifyUsers=false", `{"update":{"labels":[{"remove":"contract"}]}}`, 204},
		{"alice", "PUT", "/rest/api/3/issue/" + key + "?notifyUsers=false", `{"fields":{"summary":"quiet"}}`, 403},
		{"alice", "PUT", "/rest/api/3/issue/" + key, `{"fields":{"customfield_99999":"x"}}`, 400},
		{"bob", "PUT", "/rest/api/3/issue/GAMMA-1", `{"fields":{"summary":"x"}}`, 404},
		{"alice", "POST", "/rest/api/3/issue/" + key + "/transitions", `{"transition":{"id":"` + trs.Transitions[0].ID + `"}}`, 204},
		{"alice", "POST", "/rest/api/3/issue/" + key + "/transitions", `{"transition":{"id":"999999"}}`, 400},
		{"alice", "GET", "/rest/api/3/issue/" + key + "/comment", "", 200},
		{"alice", "POST", "/rest/api/3/issue/" + key + "/comment",
			`{"body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hello"}]}]}}`, 201},
		{"alice", "POST", "/rest/api/2/issue/" + key + "/comment", `{"body":"hello in wiki markup"}`, 201},
		{"admin", "POST", "/rest/api/3/issue", `{"fields":{"project":{"key":"ALPHA"},"issuetype":{"name":"Task"},"summary":"Created by the fake contract test"}}`, 201},
		{"admin", "POST", "/rest/api/3/issue", `{"fields":{"project":{"key":"ALPHA"}}}`, 400},
		{"admin", "POST", "/rest/api/3/issueLink", `{"type":{"name":"Relates"},"inwardIssue":{"key":"` + key + `"},"outwardIssue":{"key":"` + other + `"}}`, 201},
		{"admin", "GET", "/rest/api/3/issueLink/999999", "", 404},
		{"admin", "DELETE", "/rest/api/3/issueLink/999999", "", 404},

		// Users and permissions.
		{"alice", "GET", "/rest/api/3/user/assignable/search?issueKey=" + key + "&query=b", "", 200},
		{"admin", "GET", "/rest/api/3/user/search?query=al", "", 200},
		{"admin", "GET", "/rest/api/3/user?accountId=61a0000000000000000000a2", "", 200},
		{"admin", "GET", "/rest/api/3/user?accountId=nobody-has-this", "", 404},
		{"admin", "GET", "/rest/api/3/groups/picker?query=jira", "", 200},
		{"bob", "GET", "/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS,EDIT_ISSUES&projectKey=ALPHA", "", 200},
		{"alice", "GET", "/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS&issueKey=" + key, "", 200},
		{"bob", "GET", "/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS&issueKey=GAMMA-1", "", 404},
		{"bob", "GET", "/rest/api/3/mypermissions", "", 400},
		{"bob", "POST", "/rest/api/3/permissions/check", `{"projectPermissions":[{"permissions":["BROWSE_PROJECTS"],"projects":` + ids + `,"issues":[` + id + `]}]}`, 200},
		{"admin", "POST", "/rest/api/3/permissions/check", `{"accountId":"61a0000000000000000000a3","globalPermissions":["ADMINISTER"],"projectPermissions":[{"permissions":["BROWSE_PROJECTS","EDIT_ISSUES"],"projects":` + ids + `}]}`, 200},
		{"alice", "POST", "/rest/api/3/permissions/check", `{"accountId":"61a0000000000000000000a1","projectPermissions":[{"permissions":["BROWSE_PROJECTS"],"projects":` + ids + `}]}`, 403},
	}
	for _, c := range calls {
		do(c)
	}

	// Calls that need what earlier answers hold: a created issue, a link, a role, a type.
	var created struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(do(fakeCall{"admin", "POST", "/rest/api/3/issue",
		`{"fields":{"project":{"key":"ALPHA"},"issuetype":{"name":"Task"},"summary":"To be linked and deleted"}}`, 201}), &created); err != nil || created.Key == "" {
		t.Fatalf("create issue: %v", err)
	}
	do(fakeCall{"admin", "POST", "/rest/api/3/issueLink", `{"type":{"name":"Blocks"},"inwardIssue":{"key":"` + created.Key + `"},"outwardIssue":{"key":"` + key + `"}}`, 201})
	var linked struct {
		Fields struct {
			IssueLinks []struct {
				ID string `json:"id"`
			} `json:"issuelinks"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(do(fakeCall{"admin", "GET", "/rest/api/3/issue/" + created.Key + "?fields=issuelinks", "", 200}), &linked); err != nil || len(linked.Fields.IssueLinks) == 0 {
		t.Errorf("link on %s: %v", created.Key, err)
	} else {
		link := linked.Fields.IssueLinks[0].ID
		do(fakeCall{"admin", "GET", "/rest/api/3/issueLink/" + link, "", 200})
		do(fakeCall{"admin", "DELETE", "/rest/api/3/issueLink/" + link, "", 204})
	}
	do(fakeCall{"bob", "DELETE", "/rest/api/3/issue/" + created.Key, "", 403})
	do(fakeCall{"admin", "DELETE", "/rest/api/3/issue/" + created.Key + "?deleteSubtasks=false", "", 204})
	do(fakeCall{"admin", "GET", "/rest/api/3/issue/" + created.Key, "", 404})

	var roles map[string]string
	if err := json.Unmarshal(do(fakeCall{"admin", "GET", "/rest/api/3/project/ALPHA/role", "", 200}), &roles); err != nil || len(roles) == 0 {
		t.Errorf("project roles: %v", err)
	}
	for _, self := range roles {
		do(fakeCall{"admin", "GET", "/rest/api/3/project/ALPHA/role/" + self[strings.LastIndexByte(self, '/')+1:], "", 200})
		break
	}
	var types struct {
		IssueTypes []struct {
			ID string `json:"id"`
		} `json:"issueTypes"`
	}
	if err := json.Unmarshal(do(fakeCall{"admin", "GET", "/rest/api/3/issue/createmeta/ALPHA/issuetypes", "", 200}), &types); err != nil || len(types.IssueTypes) == 0 {
		t.Errorf("createmeta issue types: %v", err)
	} else {
		do(fakeCall{"admin", "GET", "/rest/api/3/issue/createmeta/ALPHA/issuetypes/" + types.IssueTypes[0].ID, "", 200})
	}

	// Every operation the fake serves on Cloud was validated at least once.
	want := []string{
		"GET /rest/api/3/serverInfo", "GET /rest/api/3/myself", "GET /rest/api/3/field",
		"GET /rest/api/3/project", "GET /rest/api/3/project/search", "GET /rest/api/3/project/{projectIdOrKey}",
		"GET /rest/api/3/project/{projectIdOrKey}/role", "GET /rest/api/3/project/{projectIdOrKey}/role/{id}",
		"GET /rest/api/3/issueLinkType",
		"GET /rest/api/3/search", "POST /rest/api/3/search", "GET /rest/api/3/search/jql", "POST /rest/api/3/search/jql",
		"POST /rest/api/3/search/approximate-count", "POST /rest/api/3/issue/bulkfetch",
		"GET /rest/api/3/issue/{issueIdOrKey}", "PUT /rest/api/3/issue/{issueIdOrKey}", "DELETE /rest/api/3/issue/{issueIdOrKey}",
		"GET /rest/api/3/issue/{issueIdOrKey}/editmeta", "GET /rest/api/3/issue/{issueIdOrKey}/transitions",
		"POST /rest/api/3/issue/{issueIdOrKey}/transitions", "GET /rest/api/3/issue/{issueIdOrKey}/comment",
		"POST /rest/api/3/issue/{issueIdOrKey}/comment", "GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
		"GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
		"POST /rest/api/3/issue", "POST /rest/api/3/issueLink", "GET /rest/api/3/issueLink/{linkId}",
		"DELETE /rest/api/3/issueLink/{linkId}", "GET /rest/api/3/user/assignable/search", "GET /rest/api/3/user/search",
		"GET /rest/api/3/user", "GET /rest/api/3/groups/picker", "GET /rest/api/3/mypermissions",
		"POST /rest/api/3/permissions/check",
	}
	if missing := spec.Recorder().Missing(want...); len(missing) > 0 {
		t.Errorf("operations with no validated exchange: %q", missing)
	}
}
