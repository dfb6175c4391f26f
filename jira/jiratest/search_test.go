package jiratest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const allProjects = "project in (ALPHA, BETA, GAMMA)"

// TestPermissions checks that every default user (and carol, who lacks the Internal
// level) sees exactly what the directory grants, through every read path.
func TestPermissions(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 1500, Seed: 3, Users: []User{carol}})
		all := f.site.Issues()
		for _, user := range []string{"admin", "alice", "bob", "carol"} {
			want, err := f.site.VisibleTo(user)
			if err != nil {
				t.Fatal(err)
			}
			visible := map[string]bool{}
			for _, k := range want {
				visible[k] = true
			}
			// Expected from the directory, independently of canSee.
			for _, is := range all {
				exp := false
				switch user {
				case "admin":
					exp = true
				case "alice":
					exp = is.Project == "ALPHA" || is.Project == "BETA"
				case "bob":
					exp = is.Project == "ALPHA"
				case "carol":
					exp = is.Project == "BETA" && is.SecurityLevel == ""
				}
				if exp != visible[is.Key] {
					t.Fatalf("%s %s: visible(%s)=%v, directory says %v", d, user, is.Key, visible[is.Key], exp)
				}
			}

			got, _ := f.scan(user, allProjects, []string{"key"}, 1000)
			slices.Sort(got)
			sorted := slices.Clone(want)
			slices.Sort(sorted)
			if !slices.Equal(got, sorted) {
				t.Errorf("%s %s: search found %d issues, want %d", d, user, len(got), len(want))
			}

			// GET, editmeta and mypermissions per issue (a sample to keep the test short).
			for k, is := range all {
				if k%37 != 0 {
					continue
				}
				wantStatus := 404
				if visible[is.Key] {
					wantStatus = 200
				}
				if status, body := f.do(user, "GET", "/rest/api/2/issue/"+is.Key+"?fields=summary", nil); status != wantStatus {
					t.Errorf("%s %s GET %s: %d, want %d: %s", d, user, is.Key, status, wantStatus, body)
				}
				status, body := f.do(user, "GET", "/rest/api/2/mypermissions?permissions=BROWSE_PROJECTS&issueKey="+is.Key, nil)
				if status != wantStatus {
					t.Errorf("%s %s mypermissions %s: %d, want %d", d, user, is.Key, status, wantStatus)
				} else if status == 200 && !strings.Contains(string(body), `"havePermission":true`) {
					t.Errorf("%s %s mypermissions %s: %s", d, user, is.Key, body)
				}
			}
			for _, p := range projects {
				exp := map[string]bool{"admin": true, "alice": p.key != "GAMMA", "bob": p.key == "ALPHA", "carol": p.key == "BETA"}[user]
				status, _ := f.do(user, "GET", "/rest/api/2/mypermissions?permissions=BROWSE_PROJECTS&projectKey="+p.key, nil)
				if (status == 200) != exp || (status != 200 && status != 404) {
					t.Errorf("%s %s mypermissions project %s: %d, want visible=%v", d, user, p.key, status, exp)
				}
			}

			if d != dialectCloud {
				status, _ := f.do(user, "POST", "/rest/api/3/issue/bulkfetch", map[string]any{"issueIdsOrKeys": []string{"ALPHA-1"}})
				if status != 404 {
					t.Errorf("datacenter bulkfetch: %d, want 404", status)
				}
				continue
			}
			// bulkfetch: the first 100 issues; hidden ones come back as issueErrors.
			var refs []string
			var ids []int64
			for _, is := range all[:100] {
				refs = append(refs, is.Key)
				ids = append(ids, is.ID)
			}
			var bf struct {
				Issues      []struct{ Key string }
				IssueErrors []struct{ ID string }
			}
			f.doJSON(user, "POST", "/rest/api/3/issue/bulkfetch", map[string]any{"issueIdsOrKeys": refs, "fields": []string{"summary"}}, 200, &bf)
			for _, is := range bf.Issues {
				if !visible[is.Key] {
					t.Errorf("%s bulkfetch returned hidden %s", user, is.Key)
				}
			}
			for _, e := range bf.IssueErrors {
				if visible[e.ID] {
					t.Errorf("%s bulkfetch refused visible %s", user, e.ID)
				}
			}
			if len(bf.Issues)+len(bf.IssueErrors) != 100 {
				t.Errorf("%s bulkfetch: %d issues + %d errors, want 100", user, len(bf.Issues), len(bf.IssueErrors))
			}

			// permissions/check with ids.
			var check struct {
				ProjectPermissions []struct {
					Permission string
					Projects   []int64
					Issues     []int64
				}
			}
			f.doJSON(user, "POST", "/rest/api/3/permissions/check", map[string]any{"projectPermissions": []map[string]any{
				{"permissions": []string{"BROWSE_PROJECTS"}, "projects": []int64{10000, 10001, 10002}, "issues": ids},
			}}, 200, &check)
			if len(check.ProjectPermissions) != 1 {
				t.Fatalf("permissions/check: %+v", check)
			}
			for _, id := range ids {
				is := all[id-10000]
				if slices.Contains(check.ProjectPermissions[0].Issues, id) != visible[is.Key] {
					t.Errorf("%s permissions/check issue %s: granted=%v visible=%v", user, is.Key, !visible[is.Key], visible[is.Key])
				}
			}
			wantProjects := map[string][]int64{"admin": {10000, 10001, 10002}, "alice": {10000, 10001}, "bob": {10000}, "carol": {10001}}[user]
			if !slices.Equal(check.ProjectPermissions[0].Projects, wantProjects) {
				t.Errorf("%s permissions/check projects %v, want %v", user, check.ProjectPermissions[0].Projects, wantProjects)
			}
		}
		if d == dialectCloud {
			// Checking another user needs Administer Jira.
			body := map[string]any{"accountId": "61a0000000000000000000a3", "projectPermissions": []map[string]any{{"permissions": []string{"BROWSE_PROJECTS"}, "projects": []int64{10001}}}}
			if status, _ := f.do("alice", "POST", "/rest/api/3/permissions/check", body); status != 403 {
				t.Errorf("alice checking bob: %d, want 403", status)
			}
			var check struct{ ProjectPermissions []struct{ Projects []int64 } }
			f.doJSON("admin", "POST", "/rest/api/3/permissions/check", body, 200, &check)
			if len(check.ProjectPermissions[0].Projects) != 0 {
				t.Errorf("admin checking bob on BETA: %+v", check)
			}
		}
	}
}

func TestGrantRevoke(t *testing.T) {
	f := newFixture(t, Options{Issues: 300, Seed: 5})
	before, _ := f.scan("bob", allProjects, []string{"key"}, 1000)
	if err := f.site.GrantProject("bob", "GAMMA"); err != nil {
		t.Fatal(err)
	}
	granted, _ := f.scan("bob", allProjects, []string{"key"}, 1000)
	if len(granted) <= len(before) {
		t.Errorf("grant: %d issues, before %d", len(granted), len(before))
	}
	if err := f.site.RevokeProject("bob", "ALPHA"); err != nil {
		t.Fatal(err)
	}
	after, _ := f.scan("bob", allProjects, []string{"key"}, 1000)
	for _, k := range after {
		if !strings.HasPrefix(k, "GAMMA-") {
			t.Errorf("revoked ALPHA but bob still finds %s", k)
		}
	}
	var roles map[string]string
	f.doJSON("bob", "GET", "/rest/api/3/project/GAMMA/role", nil, 200, &roles)
	var dev struct {
		Actors []struct{ DisplayName string }
	}
	u, _ := url.Parse(roles["Developers"])
	f.doJSON("bob", "GET", u.Path, nil, 200, &dev)
	if len(dev.Actors) != 1 || dev.Actors[0].DisplayName != "Bob Brown" {
		t.Errorf("GAMMA developers %+v", dev)
	}
	if err := f.site.GrantProject("nobody", "ALPHA"); err == nil {
		t.Error("granting an unknown user succeeded")
	}
}

func TestCloudPaging(t *testing.T) {
	f := newFixture(t, Options{Issues: 2500, Seed: 9})
	want, _ := f.site.VisibleTo("admin")
	cases := []struct {
		fields   []string
		max, cap int
	}{
		{[]string{"id"}, 10000, 5000},
		{[]string{"key"}, 700, 700},
		{[]string{"summary", "status"}, 500, 100},
		{[]string{"*navigable"}, 37, 37},
	}
	for _, tc := range cases {
		keys, pages := f.scan("admin", allProjects+" ORDER BY key ASC", tc.fields, tc.max)
		if len(keys) != len(want) {
			t.Errorf("fields %v: %d issues, want %d", tc.fields, len(keys), len(want))
		}
		for k, n := range pages {
			if n > tc.cap || (k < len(pages)-1 && n != tc.cap) {
				t.Errorf("fields %v max %d: page %d holds %d, cap %d", tc.fields, tc.max, k, n, tc.cap)
			}
		}
	}
	// ids only by default, and tokens are stable: the same token gives the same page.
	var p1 searchPage
	f.doJSON("admin", "GET", "/rest/api/3/search/jql?jql="+url.QueryEscape(allProjects)+"&maxResults=10", nil, 200, &p1)
	if len(p1.Issues) != 10 || p1.Issues[0].Key != "" || p1.Issues[0].Fields != nil {
		t.Fatalf("default fields: %+v", p1.Issues[0])
	}
	tok := url.QueryEscape(*p1.NextPageToken)
	var a, b searchPage
	f.doJSON("admin", "GET", "/rest/api/3/search/jql?jql="+url.QueryEscape(allProjects)+"&maxResults=10&nextPageToken="+tok, nil, 200, &a)
	f.doJSON("admin", "GET", "/rest/api/3/search/jql?jql="+url.QueryEscape(allProjects)+"&maxResults=10&nextPageToken="+tok, nil, 200, &b)
	if fmt.Sprint(a.Issues) != fmt.Sprint(b.Issues) || a.Issues[0].ID == p1.Issues[0].ID {
		t.Error("page token is not stable")
	}
	// A token does not work with another query.
	if status, _ := f.do("admin", "GET", "/rest/api/3/search/jql?jql=project=ALPHA&nextPageToken="+tok, nil); status != 400 {
		t.Errorf("token replayed on another query: %d, want 400", status)
	}
}

func TestDataCenterPaging(t *testing.T) {
	f := newFixture(t, Options{Dialect: dialectDataCenter, Issues: 2500, Seed: 9})
	want, _ := f.site.VisibleTo("alice")
	for _, tc := range []struct {
		fields   []string
		max, cap int
	}{{[]string{"id"}, 5000, 1000}, {[]string{"summary"}, 5000, 100}, {[]string{"summary"}, 30, 30}} {
		keys, _ := f.scan("alice", allProjects, tc.fields, tc.max)
		if len(keys) != len(want) {
			t.Errorf("fields %v: %d issues, want %d", tc.fields, len(keys), len(want))
		}
		q := url.Values{"jql": {allProjects}, "maxResults": {fmt.Sprint(tc.max)}, "fields": {strings.Join(tc.fields, ",")}}
		var p searchPage
		f.doJSON("alice", "GET", "/rest/api/2/search?"+q.Encode(), nil, 200, &p)
		if p.MaxResults != tc.cap || p.Total != len(want) || len(p.Issues) != tc.cap {
			t.Errorf("fields %v max %d: maxResults %d total %d issues %d, want %d/%d", tc.fields, tc.max, p.MaxResults, p.Total, len(p.Issues), tc.cap, len(want))
		}
	}
	// POST search works too; search/jql does not exist on Data Center.
	var p searchPage
	f.doJSON("alice", "POST", "/rest/api/2/search", map[string]any{"jql": "project = BETA", "startAt": 5, "maxResults": 5}, 200, &p)
	if p.StartAt != 5 || len(p.Issues) != 5 {
		t.Errorf("POST search: %+v", p)
	}
	if status, _ := f.do("alice", "GET", "/rest/api/3/search/jql?jql=project=ALPHA", nil); status != 404 {
		t.Errorf("search/jql on Data Center: %d, want 404", status)
	}
	// Data Center has no bounded-query rule.
	f.doJSON("alice", "GET", "/rest/api/2/search?jql=", nil, 200, &p)
	if p.Total != len(want) {
		t.Errorf("empty JQL: total %d, want %d", p.Total, len(want))
	}
}

func TestSearchErrors(t *testing.T) {
	f := newFixture(t, Options{Issues: 100})
	type errBody struct{ ErrorMessages []string }
	cases := []struct {
		method, path string
		body         any
		status       int
		msg          string
	}{
		{"GET", "/rest/api/2/search?jql=project=ALPHA", nil, 410, msgSearchGone},
		{"POST", "/rest/api/3/search", map[string]any{"jql": "project=ALPHA"}, 410, msgSearchGone},
		{"GET", "/rest/api/3/search/jql?jql=status%3DDone", nil, 400, msgUnbounded},
		{"GET", "/rest/api/3/search/jql?jql=", nil, 400, msgUnbounded},
		{"POST", "/rest/api/3/search/jql", map[string]any{"jql": "project != ALPHA"}, 400, msgUnbounded},
		{"POST", "/rest/api/3/search/jql", map[string]any{"jql": "project = ALPHA AND"}, 400, "Error in the JQL Query"},
		{"POST", "/rest/api/3/search/jql", map[string]any{"jql": "nosuchfield = 1"}, 400, "Field 'nosuchfield' does not exist"},
		{"POST", "/rest/api/3/search/jql", map[string]any{"jql": "project = ALPHA", "nextPageToken": "garbage"}, 400, msgBadToken},
		{"POST", "/rest/api/3/search/approximate-count", map[string]any{"jql": "labels = ux"}, 400, msgUnbounded},
	}
	for _, tc := range cases {
		status, body := f.do("alice", tc.method, tc.path, tc.body)
		var e errBody
		_ = json.Unmarshal(body, &e)
		if status != tc.status || len(e.ErrorMessages) != 1 || !strings.Contains(e.ErrorMessages[0], tc.msg) {
			t.Errorf("%s %s: %d %s, want %d %q", tc.method, tc.path, status, body, tc.status, tc.msg)
		}
	}
	// Atlassian's own example of a bounded query is served.
	var mine struct{ Issues []json.RawMessage }
	f.doJSON("alice", "POST", "/rest/api/3/search/jql", map[string]any{"jql": "assignee = currentUser() order by key", "fields": []string{"key"}}, 200, &mine)
	var count struct{ Count int }
	f.doJSON("alice", "POST", "/rest/api/3/search/approximate-count", map[string]any{"jql": "project = BETA"}, 200, &count)
	keys, _ := f.scan("alice", "project = BETA", []string{"key"}, 5000)
	if count.Count != len(keys) || count.Count == 0 {
		t.Errorf("approximate-count %d, search %d", count.Count, len(keys))
	}
}

func TestSearchFieldsAndOrder(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 800, Seed: 11})
		keys, _ := f.scan("admin", "project = ALPHA AND issuetype = Story ORDER BY created DESC", []string{"created", "issuetype", "customfield_10016", "customfield_10020", "description"}, 100)
		if len(keys) == 0 {
			t.Fatalf("%s: no stories", d)
		}
		prev := ""
		for _, k := range keys {
			is, _ := f.site.Issue(k)
			if is.Type != "Story" || is.Project != "ALPHA" {
				t.Errorf("%s: %s is a %s in %s", d, k, is.Type, is.Project)
			}
			c := is.Created.Format("20060102150405")
			if prev != "" && c > prev {
				t.Errorf("%s: not ordered by created DESC at %s", d, k)
			}
			prev = c
		}
		// Description: ADF on Cloud v3, a string on v2 and Data Center.
		var v3, v2 struct{ Fields map[string]any }
		path := "/rest/api/%s/issue/" + keys[0] + "?fields=description,customfield_10014,parent"
		if d == dialectCloud {
			f.doJSON("admin", "GET", fmt.Sprintf(path, "3"), nil, 200, &v3)
			if doc, ok := v3.Fields["description"].(map[string]any); !ok || doc["type"] != "doc" {
				t.Errorf("cloud v3 description: %v", v3.Fields["description"])
			}
			if _, ok := v3.Fields["customfield_10014"]; ok {
				t.Error("cloud renders the Data Center Epic Link field")
			}
		}
		f.doJSON("admin", "GET", fmt.Sprintf(path, "2"), nil, 200, &v2)
		if _, ok := v2.Fields["description"].(string); !ok {
			t.Errorf("%s v2 description: %v", d, v2.Fields["description"])
		}
	}
}

func TestWireFloorScan(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 2500, Seed: 21})
		for _, user := range []string{"admin", "bob"} {
			want, _ := f.site.VisibleTo(user)
			for _, fields := range [][]string{{"id"}, {"summary", "parent", "issuelinks"}} {
				n, err := WireFloorScan(t.Context(), f.url, f.authFor(user), d, allProjects, fields)
				if err != nil || n != len(want) {
					t.Errorf("%s %s %v: %d issues, %v; want %d", d, user, fields, n, err, len(want))
				}
			}
		}
		_, err := WireFloorScan(t.Context(), f.url, "Bearer secret-token-value", d, allProjects, []string{"id"})
		if err == nil || strings.Contains(err.Error(), "secret-token-value") {
			t.Errorf("%s bad auth: %v", d, err)
		}
	}
}

func TestSearchFunctions(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 1500, Seed: 13})
		var mine, inSprint, devs int
		for _, is := range f.site.Issues() {
			if is.Project != "ALPHA" {
				continue
			}
			if is.Assignee == f.site.userRef(2) {
				mine++
			}
			for _, sp := range is.Sprints {
				if sp == "ALPHA Sprint 4" || sp == "ALPHA Sprint 5" {
					inSprint++
					break
				}
			}
			if is.Assignee != "" {
				devs++ // every default user is in jira-developers
			}
		}
		for _, tc := range []struct {
			jql  string
			want int
		}{
			{"project = ALPHA AND assignee = currentUser()", mine},
			{"project = ALPHA AND sprint in openSprints()", inSprint},
			{"project = ALPHA AND assignee in membersOf(\"jira-developers\")", devs},
		} {
			keys, _ := f.scan("bob", tc.jql, []string{"key"}, 1000)
			if len(keys) != tc.want || tc.want == 0 {
				t.Errorf("%s %s: %d, want %d", d, tc.jql, len(keys), tc.want)
			}
		}
	}
}

// TestSearchHistory: WAS and CHANGED search the history a generated issue's status implies
// (it walked its workflow to where it is) and every write made since, on both dialects.
func TestSearchHistory(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 600, Seed: 4})
		search := func(q string) []string {
			t.Helper()
			keys, _ := f.scan("bob", "project = ALPHA AND "+q, []string{"key"}, 100)
			slices.Sort(keys)
			return keys
		}
		want := func(pred func(FakeIssue) bool) []string {
			var keys []string
			for _, is := range f.site.Issues() {
				if is.Project == "ALPHA" && pred(is) {
					keys = append(keys, is.Key)
				}
			}
			slices.Sort(keys)
			return keys
		}
		// Every workflow passes In Progress on its way to In Review and Done.
		past := func(is FakeIssue) bool {
			return slices.Contains([]string{"In Progress", "In Review", "Done"}, is.Status)
		}
		if got, exp := search(`status WAS "In Progress"`), want(past); !slices.Equal(got, exp) || len(exp) == 0 {
			t.Errorf("%s WAS: %d issues, want %d", d, len(got), len(exp))
		}
		if got, exp := search(`status WAS NOT "In Progress"`), want(func(is FakeIssue) bool { return !past(is) }); !slices.Equal(got, exp) || len(exp) == 0 {
			t.Errorf("%s WAS NOT: %d issues, want %d", d, len(got), len(exp))
		}
		if got, exp := search(`status WAS Triage`), want(func(is FakeIssue) bool { return is.Type == "Bug" }); !slices.Equal(got, exp) || len(exp) == 0 {
			t.Errorf("%s bugs start in Triage: %d issues, want %d", d, len(got), len(exp))
		}
		if got, exp := search(`resolution CHANGED FROM EMPTY`), want(func(is FakeIssue) bool { return is.Resolution != "" }); !slices.Equal(got, exp) || len(exp) == 0 {
			t.Errorf("%s resolution CHANGED: %d issues, want %d", d, len(got), len(exp))
		}

		// A transition and an edit by bob are history from then on.
		is := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Task" && i.Status == "To Do" })
		if got := search(`status CHANGED BY bob AFTER -10m`); slices.Contains(got, is.Key) {
			t.Fatalf("%s %s changed before anyone touched it", d, is.Key)
		}
		f.doJSON("bob", "POST", "/rest/api/2/issue/"+is.Key+"/transitions", map[string]any{"transition": map[string]any{"id": "11"}}, 204, nil)
		if got, _ := f.site.Issue(is.Key); got.Status != "In Progress" {
			t.Fatalf("%s transition left %s in %s", d, is.Key, got.Status)
		}
		f.doJSON("bob", "PUT", "/rest/api/2/issue/"+is.Key, map[string]any{"fields": map[string]any{"priority": map[string]any{"name": "Lowest"}}}, 204, nil)
		for _, q := range []string{
			`status CHANGED FROM "To Do" TO "In Progress" BY bob AFTER -10m`,
			`status WAS "To Do" AND status = "In Progress"`,
			`priority CHANGED TO Lowest BY "Bob Brown" ON now()`,
			`priority WAS NOT Lowest BEFORE -10m AND priority = Lowest`,
		} {
			if got := search(q); !slices.Contains(got, is.Key) {
				t.Errorf("%s %s: %s missing from %v", d, q, is.Key, got)
			}
		}
		if got := search(`status CHANGED FROM "To Do" TO "In Progress" BY alice AFTER -10m`); slices.Contains(got, is.Key) {
			t.Errorf("%s BY alice found bob's change", d)
		}
		// History of a field Jira keeps none for is refused, as Jira does.
		status, body := f.do("bob", "GET", "/rest/api/2/search?jql="+url.QueryEscape("project = ALPHA AND summary WAS x"), nil)
		if d == dialectCloud {
			body, _ = json.Marshal(map[string]any{"jql": "project = ALPHA AND summary WAS x"})
			status, body = f.do("bob", "POST", "/rest/api/3/search/jql", json.RawMessage(body))
		}
		if status != 400 || !strings.Contains(string(body), "history is searchable for") {
			t.Errorf("%s summary WAS: %d %s", d, status, body)
		}
	}
}

// TestSearchByIssueID: as in Jira, an issue id stands for the issue wherever a key does
// (key, its alias issue, parent, Epic Link), and level searches the security level.
func TestSearchByIssueID(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 600, Seed: 3})
		var sub FakeIssue
		var secured []string
		for _, is := range f.site.Issues() {
			if sub.Key == "" && is.Subtask {
				sub = is
			}
			if is.SecurityLevel != "" {
				secured = append(secured, is.Key)
			}
		}
		parent, _ := f.site.Issue(sub.Parent)
		id := func(is FakeIssue) string { return fmt.Sprint(is.ID) }
		for _, tc := range []struct{ byID, byKey string }{
			{"key = " + id(sub), "key = " + sub.Key},
			{"issue in (" + id(sub) + ")", "issuekey = " + sub.Key},
			{"parent = " + id(parent), "parent = " + parent.Key},
		} {
			got, _ := f.scan("admin", tc.byID, []string{"key"}, 1000)
			want, _ := f.scan("admin", tc.byKey, []string{"key"}, 1000)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s %s: %v; %s: %v", d, tc.byID, got, tc.byKey, want)
			}
		}
		got, _ := f.scan("admin", allProjects+" AND level = Internal", []string{"key"}, 1000)
		slices.Sort(got)
		slices.Sort(secured)
		if len(secured) == 0 || !slices.Equal(got, secured) {
			t.Errorf("%s level = Internal: %d issues, want %d", d, len(got), len(secured))
		}
	}
}
