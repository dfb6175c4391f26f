package jiratest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for tests of time-dependent behaviour.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a site served over real HTTP.
type fixture struct {
	t    *testing.T
	site *Site
	url  string
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	return &fixture{t: t, site: s, url: srv.URL}
}

// authFor builds the Authorization header a real client of the dialect sends.
func (f *fixture) authFor(user string) string {
	for _, u := range f.site.Users() {
		if u.Name != user {
			continue
		}
		if f.site.Dialect() == dialectCloud {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Email+":"+u.Token))
		}
		return "Bearer " + u.Token
	}
	f.t.Fatalf("no user %s", user)
	return ""
}

// do sends a request as user and returns the status and body. body may be nil, a string
// or anything JSON-marshalable.
func (f *fixture) do(user, method, path string, body any) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", f.authFor(user))
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// doJSON is do that expects status want and decodes the answer.
func (f *fixture) doJSON(user, method, path string, body any, want int, into any) {
	f.t.Helper()
	status, out := f.do(user, method, path, body)
	if status != want {
		f.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, user, status, want, out)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			f.t.Fatalf("%s %s: decode: %v: %s", method, path, err, out)
		}
	}
}

type searchPage struct {
	Issues []struct {
		ID     string         `json:"id"`
		Key    string         `json:"key"`
		Fields map[string]any `json:"fields"`
	} `json:"issues"`
	IsLast        *bool   `json:"isLast"`
	NextPageToken *string `json:"nextPageToken"`
	StartAt       int     `json:"startAt"`
	MaxResults    int     `json:"maxResults"`
	Total         int     `json:"total"`
}

// scan walks a whole search as user and returns the keys in order and the page sizes.
func (f *fixture) scan(user, jqlQuery string, fields []string, maxResults int) (keys []string, pages []int) {
	f.t.Helper()
	if f.site.Dialect() == dialectCloud {
		token := ""
		for n := 0; ; n++ {
			body := map[string]any{"jql": jqlQuery, "fields": fields, "maxResults": maxResults}
			if token != "" {
				body["nextPageToken"] = token
			}
			var p searchPage
			f.doJSON(user, "POST", "/rest/api/3/search/jql", body, 200, &p)
			if p.IsLast == nil {
				f.t.Fatal("page without isLast")
			}
			pages = append(pages, len(p.Issues))
			for _, is := range p.Issues {
				keys = append(keys, is.Key)
			}
			if *p.IsLast {
				if p.NextPageToken != nil {
					f.t.Fatal("last page carries a nextPageToken")
				}
				return keys, pages
			}
			if p.NextPageToken == nil || *p.NextPageToken == "" {
				f.t.Fatal("non-last page without nextPageToken")
			}
			token = *p.NextPageToken
			if n > 10000 {
				f.t.Fatal("search does not end")
			}
		}
	}
	start := 0
	for {
		q := url.Values{"jql": {jqlQuery}, "startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(maxResults)}, "fields": {strings.Join(fields, ",")}}
		var p searchPage
		f.doJSON(user, "GET", "/rest/api/2/search?"+q.Encode(), nil, 200, &p)
		if p.StartAt != start {
			f.t.Fatalf("startAt read back %d, want %d", p.StartAt, start)
		}
		pages = append(pages, len(p.Issues))
		for _, is := range p.Issues {
			keys = append(keys, is.Key)
		}
		start += len(p.Issues)
		if len(p.Issues) == 0 || start >= p.Total {
			return keys, pages
		}
	}
}

var bothDialects = []string{dialectCloud, dialectDataCenter}

// carol browses BETA without the Internal security level: she must not see Internal issues.
var carol = User{Name: "carol", Projects: []string{"BETA"}, Groups: []string{"jira-developers"}}

func TestDeterminism(t *testing.T) {
	for _, d := range bothDialects {
		a, err := New(Options{Dialect: d, Issues: 3000, Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(Options{Dialect: d, Issues: 3000, Seed: 42, Now: func() time.Time { return time.Now().Add(time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(Options{Dialect: d, Issues: 3000, Seed: 43})
		if err != nil {
			t.Fatal(err)
		}
		strip := func(in []FakeIssue) []FakeIssue {
			out := slices.Clone(in)
			for k := range out { // dates are relative to the clock; the rest must be identical
				out[k].Created, out[k].Updated = time.Time{}, time.Time{}
				out[k].DueDate = ""
			}
			return out
		}
		ia, ib, ic := a.Issues(), b.Issues(), c.Issues()
		if len(ia) != 3000 {
			t.Fatalf("%s: %d issues, want 3000", d, len(ia))
		}
		if !reflect.DeepEqual(strip(ia), strip(ib)) {
			t.Errorf("%s: same seed gave different data", d)
		}
		if reflect.DeepEqual(strip(ia), strip(ic)) {
			t.Errorf("%s: different seeds gave the same data", d)
		}
		if !reflect.DeepEqual(a.Links(), b.Links()) {
			t.Errorf("%s: same seed gave different links", d)
		}
	}
}

func TestDataSetShape(t *testing.T) {
	for _, d := range bothDialects {
		s, err := New(Options{Dialect: d, Issues: 5000, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]FakeIssue{}
		types := map[string]int{}
		var internal, epicLinks, parents int
		for _, is := range s.Issues() {
			byKey[is.Key] = is
			types[is.Type]++
		}
		for _, is := range byKey {
			if is.SecurityLevel != "" {
				internal++
				if is.Project != "BETA" {
					t.Errorf("%s: %s has a security level outside BETA", d, is.Key)
				}
			}
			if is.Subtask && is.Parent == "" {
				t.Errorf("%s: sub-task %s without parent", d, is.Key)
			}
			if is.Parent != "" {
				parents++
				p := byKey[is.Parent]
				switch {
				case is.Subtask && (p.Subtask || p.Type == "Epic"):
					t.Errorf("%s: sub-task %s under %s %s", d, is.Key, p.Type, p.Key)
				case !is.Subtask && d == dialectDataCenter:
					t.Errorf("%s: %s has a parent on Data Center but is no sub-task", d, is.Key)
				case !is.Subtask && p.Type != "Epic":
					t.Errorf("%s: %s parent %s is a %s", d, is.Key, p.Key, p.Type)
				}
			}
			if is.EpicLink != "" {
				epicLinks++
				if d == dialectCloud || byKey[is.EpicLink].Type != "Epic" {
					t.Errorf("%s: %s has Epic Link %s", d, is.Key, is.EpicLink)
				}
			}
			if (is.StatusCategory == "done") != (is.Resolution != "") {
				t.Errorf("%s: %s status %s with resolution %q", d, is.Key, is.Status, is.Resolution)
			}
			if is.Updated.Before(is.Created) {
				t.Errorf("%s: %s updated before created", d, is.Key)
			}
		}
		for _, typ := range []string{"Epic", "Story", "Task", "Bug", "Sub-task"} {
			if types[typ] == 0 {
				t.Errorf("%s: no %s generated", d, typ)
			}
		}
		if internal == 0 || parents == 0 || len(s.Links()) == 0 {
			t.Errorf("%s: internal=%d parents=%d links=%d, want all > 0", d, internal, parents, len(s.Links()))
		}
		if d == dialectDataCenter && epicLinks == 0 {
			t.Errorf("%s: no Epic Links", d)
		}
	}
}

func TestAuth(t *testing.T) {
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	cases := []struct {
		dialect, auth string
		want          int
	}{
		{dialectCloud, basic("alice@example.com", "alice-token"), 200},
		{dialectCloud, basic("ALICE@example.com", "alice-token"), 200},
		{dialectCloud, basic("alice@example.com", "bob-token"), 401},
		{dialectCloud, basic("alice", "alice-token"), 401},
		{dialectCloud, "Bearer alice-token", 401},
		{dialectCloud, "", 401},
		{dialectDataCenter, "Bearer alice-token", 200},
		{dialectDataCenter, "Bearer nope", 401},
		{dialectDataCenter, basic("alice", "alice-token"), 401},
		{dialectDataCenter, "", 401},
	}
	for _, tc := range cases {
		f := newFixture(t, Options{Dialect: tc.dialect, Issues: 10})
		req, _ := http.NewRequest("GET", f.url+"/rest/api/2/myself", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %q: status %d, want %d", tc.dialect, tc.auth, resp.StatusCode, tc.want)
		}
		if tc.want == 401 {
			if !strings.Contains(string(body), "Client must be authenticated") {
				t.Errorf("%s: 401 body %s", tc.dialect, body)
			}
			if strings.Contains(string(body), "token") {
				t.Errorf("401 body mentions the token: %s", body)
			}
		}
		// serverInfo answers anonymously: clients detect the dialect before logging in.
		status, body := f.do("", "GET", "/rest/api/2/serverInfo", nil)
		var info struct{ DeploymentType string }
		_ = json.Unmarshal(body, &info)
		wantType := map[string]string{dialectCloud: "Cloud", dialectDataCenter: "Server"}[tc.dialect]
		if status != 200 || info.DeploymentType != wantType {
			t.Errorf("%s serverInfo: %d %s", tc.dialect, status, body)
		}
	}
}

func TestMyselfAndDirectory(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 10})
		for _, u := range f.site.Users() {
			var me struct {
				AccountID string `json:"accountId"`
				Name      string `json:"name"`
				Email     string `json:"emailAddress"`
				Groups    struct {
					Items []struct{ Name string } `json:"items"`
				} `json:"groups"`
			}
			f.doJSON(u.Name, "GET", "/rest/api/2/myself?expand=groups", nil, 200, &me)
			if d == dialectCloud && (me.AccountID != u.AccountID || me.Name != "") {
				t.Errorf("cloud myself %s: accountId %q name %q", u.Name, me.AccountID, me.Name)
			}
			if d == dialectDataCenter && (me.Name != u.Name || me.AccountID != "") {
				t.Errorf("dc myself %s: name %q accountId %q", u.Name, me.Name, me.AccountID)
			}
			var groups []string
			for _, g := range me.Groups.Items {
				groups = append(groups, g.Name)
			}
			if !slices.Equal(groups, u.Groups) {
				t.Errorf("%s groups %v, want %v", u.Name, groups, u.Groups)
			}
		}
	}
}

func TestLoadUsers(t *testing.T) {
	users, err := LoadUsers([]byte("- name: carol\n  projects: [BETA]\n  groups: [jira-developers]\n- name: dave\n  read_only: true\n  projects: [ALPHA]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Projects[0] != "BETA" || !users[1].ReadOnly {
		t.Fatalf("loaded %+v", users)
	}
	f := newFixture(t, Options{Issues: 200, Users: users})
	is := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" })
	// dave reads ALPHA but has no edit screen, no transitions and cannot comment.
	if status, _ := f.do("dave", "GET", "/rest/api/2/issue/"+is.Key, nil); status != 200 {
		t.Errorf("dave GET: %d", status)
	}
	var meta struct{ Fields map[string]any }
	f.doJSON("dave", "GET", "/rest/api/2/issue/"+is.Key+"/editmeta", nil, 200, &meta)
	if len(meta.Fields) != 0 {
		t.Errorf("read-only editmeta: %v", meta.Fields)
	}
	if status, _ := f.do("dave", "PUT", "/rest/api/2/issue/"+is.Key, map[string]any{"fields": map[string]any{"summary": "x"}}); status != 400 {
		t.Errorf("read-only edit: %d, want 400", status)
	}
	if status, _ := f.do("dave", "POST", "/rest/api/2/issue/"+is.Key+"/comment", map[string]any{"body": "x"}); status != 403 {
		t.Errorf("read-only comment: %d, want 403", status)
	}
	var perms struct {
		Permissions map[string]struct{ HavePermission bool }
	}
	f.doJSON("dave", "GET", "/rest/api/2/mypermissions?permissions=BROWSE_PROJECTS,EDIT_ISSUES&projectKey=ALPHA", nil, 200, &perms)
	if !perms.Permissions["BROWSE_PROJECTS"].HavePermission || perms.Permissions["EDIT_ISSUES"].HavePermission {
		t.Errorf("read-only permissions %+v", perms)
	}
	for _, bad := range []string{"- name: x\n  projcts: [A]\n", "- display_name: nameless\n", "{"} {
		if _, err := LoadUsers([]byte(bad)); err == nil {
			t.Errorf("LoadUsers(%q) accepted", bad)
		}
	}
	if _, err := New(Options{Users: []User{{Name: "alice"}}}); err == nil {
		t.Error("a duplicate user was accepted")
	}
}

func TestProjectsAndPermissionLists(t *testing.T) {
	f := newFixture(t, Options{Issues: 20})
	var page struct {
		Total   int
		IsLast  bool
		StartAt int
		Values  []struct{ Key string }
	}
	f.doJSON("alice", "GET", "/rest/api/3/project/search?startAt=1&maxResults=1", nil, 200, &page)
	if page.Total != 2 || !page.IsLast || len(page.Values) != 1 || page.Values[0].Key != "BETA" {
		t.Errorf("project search page: %+v", page)
	}
	if status, _ := f.do("alice", "GET", "/rest/api/3/mypermissions", nil); status != 400 {
		t.Errorf("cloud mypermissions without permissions: %d, want 400", status)
	}
	dc := newFixture(t, Options{Dialect: dialectDataCenter, Issues: 20})
	var perms struct {
		Permissions map[string]struct{ HavePermission bool }
	}
	dc.doJSON("bob", "GET", "/rest/api/2/mypermissions?projectKey=ALPHA", nil, 200, &perms)
	if len(perms.Permissions) != len(permissions) || !perms.Permissions["EDIT_ISSUES"].HavePermission || perms.Permissions["ADMINISTER"].HavePermission {
		t.Errorf("data center mypermissions without a list: %+v", perms)
	}
}

func TestUnknownRoutes(t *testing.T) {
	f := newFixture(t, Options{Issues: 10})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"PATCH", "/rest/api/3/issue/ALPHA-1", 405},
		{"DELETE", "/rest/api/3/myself", 405},
		{"GET", "/rest/api/3/nothing-here", 404},
		{"GET", "/rest/api/3/search/jql/extra", 404},
		{"GET", "/rest/api/latest/myself", 404}, // Cloud serves 2 and 3 only
	} {
		status, body := f.do("alice", tc.method, tc.path, nil)
		var e struct{ ErrorMessages []string }
		if status != tc.status || json.Unmarshal(body, &e) != nil || len(e.ErrorMessages) != 1 {
			t.Errorf("%s %s: %d %s, want %d with an ErrorCollection", tc.method, tc.path, status, body, tc.status)
		}
	}
}
