package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"foundation/jira/jiratest"
)

func TestCloudSearchBody(t *testing.T) {
	var got map[string]any
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/rest/api/3/search/jql" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
		fmt.Fprint(w, `{"issues":[{"id":"1","key":"A-1","fields":{"summary":"s"}}],"isLast":true}`)
	})
	c := newTestClient(t, h, nil)
	recon := make([]int64, 60)
	for i := range recon {
		recon[i] = int64(i + 1)
	}
	page, next, err := c.SearchPage(context.Background(), SearchRequest{JQL: "project = A", Fields: []string{"summary", "status"}, Expand: []string{"names", "changelog"}, PageSize: 42, ReconcileIssues: recon}, "tok")
	if err != nil || next != "" || !page.IsLast || page.Total != -1 || page.StartAt != -1 {
		t.Fatalf("page %+v next %q err %v", page, next, err)
	}
	if got["jql"] != "project = A" || got["maxResults"] != float64(42) || got["nextPageToken"] != "tok" || got["expand"] != "names,changelog" {
		t.Errorf("body %v", got)
	}
	if r := got["reconcileIssues"].([]any); len(r) != 50 || r[0] != float64(11) {
		t.Errorf("reconcileIssues %v: want the last 50", r)
	}
}

func TestSearchStopsOnRepeatedCursor(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"issues":[{"id":"1","key":"A-1"}],"isLast":false,"nextPageToken":"same"}`)
	})
	c := newTestClient(t, h, nil)
	pages := 0
	err := c.Search(context.Background(), SearchRequest{JQL: "project = A"}, func(Page) error { pages++; return nil })
	if err == nil || !strings.Contains(err.Error(), "same page cursor") || pages != 2 {
		t.Errorf("pages %d err %v", pages, err)
	}
}

func TestSearchCallbackErrorStops(t *testing.T) {
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issues":[{"id":"1","key":"A-1"}],"nextPageToken":"t%d"}`, n.Add(1))
	})
	c := newTestClient(t, h, nil)
	stop := errors.New("enough")
	err := c.Search(context.Background(), SearchRequest{JQL: "project = A"}, func(Page) error { return stop })
	if !errors.Is(err, stop) || n.Load() != 1 {
		t.Errorf("err %v after %d requests", err, n.Load())
	}
}

func TestDataCenterSearchReadsBackServerPaging(t *testing.T) {
	// The server caps maxResults at 3 whatever is asked: the client advances by what arrived.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			StartAt    int `json:"startAt"`
			MaxResults int `json:"maxResults"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		var issues []string
		for i := req.StartAt; i < min(req.StartAt+3, 8); i++ {
			issues = append(issues, fmt.Sprintf(`{"id":"%d","key":"A-%d"}`, 100+i, i))
		}
		fmt.Fprintf(w, `{"startAt":%d,"maxResults":3,"total":8,"issues":[%s]}`, req.StartAt, strings.Join(issues, ","))
	})
	c := newTestClient(t, h, func(o *Options) { o.Dialect = DataCenter })
	var starts []int
	var keys []string
	err := c.Search(context.Background(), SearchRequest{JQL: "project = A", PageSize: 50}, func(p Page) error {
		starts = append(starts, p.StartAt)
		for _, is := range p.Issues {
			keys = append(keys, is.Key)
		}
		if p.Total != 8 {
			t.Errorf("total %d", p.Total)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(starts) != "[0 3 6]" || len(keys) != 8 || keys[7] != "A-7" {
		t.Errorf("starts %v keys %v", starts, keys)
	}
	if _, _, err := c.SearchPage(context.Background(), SearchRequest{JQL: "x = 1"}, "abc"); err == nil {
		t.Error("bad Data Center cursor accepted")
	}
	if _, _, err := c.SearchPage(context.Background(), SearchRequest{JQL: "  "}, ""); err == nil {
		t.Error("empty JQL accepted")
	}
}

func TestDataCenterBulkFetchQuery(t *testing.T) {
	var jqls []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			JQL           string `json:"jql"`
			ValidateQuery string `json:"validateQuery"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if req.ValidateQuery != "warn" {
			t.Errorf("validateQuery %q", req.ValidateQuery)
		}
		jqls = append(jqls, req.JQL)
		fmt.Fprint(w, `{"startAt":0,"maxResults":100,"total":0,"issues":[]}`)
	})
	c := newTestClient(t, h, func(o *Options) { o.Dialect = DataCenter })
	ids := []string{"10001", "A-1"}
	for i := range 150 {
		ids = append(ids, fmt.Sprint(20000+i))
	}
	if _, err := c.BulkFetch(context.Background(), ids, []string{"summary"}); err != nil {
		t.Fatal(err)
	}
	if len(jqls) != 2 || !strings.HasPrefix(jqls[0], "id in (10001, 20000") || !strings.HasSuffix(jqls[0], `) OR key in ("A-1")`) {
		t.Errorf("jql %q", jqls)
	}
}

func TestGoneOnOldSearch(t *testing.T) {
	// A Cloud site asked the way go-jira (and a misconfigured Data Center client) asks.
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	c, err := New(context.Background(), Options{BaseURL: srv.URL, Email: "alice@example.com", Token: "alice-token"})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "POST"} {
		var body any
		if method == "POST" {
			body = map[string]any{"jql": "project = ALPHA"}
		}
		err := c.do(context.Background(), method, "/rest/api/2/search", nil, body, nil)
		var gone *GoneError
		if !errors.As(err, &gone) || !strings.Contains(err.Error(), "/rest/api/3/search/jql") {
			t.Errorf("%s old search: %v, want GoneError with the migration hint", method, err)
		}
	}
}

func TestResolveWellKnown(t *testing.T) {
	f := func(id, name, custom, typ string) Field {
		return Field{ID: id, Name: name, Custom: strings.HasPrefix(id, "customfield_"), Schema: FieldSchema{Type: typ, Custom: custom}}
	}
	tests := []struct {
		name   string
		fields []Field
		want   WellKnown
	}{
		{"by schema", []Field{
			f("summary", "Summary", "", "string"),
			f("customfield_10016", "Story point estimate", customStoryPoints, "number"),
			f("customfield_10020", "Sprint", customSprint, "array"),
			f("customfield_10014", "Epic Link", customEpicLink, "any"),
			f("customfield_10019", "Rank", customRank, "any"),
		}, WellKnown{StoryPoints: "customfield_10016", Sprint: "customfield_10020", EpicLink: "customfield_10014", Rank: "customfield_10019"}},
		{"story points by float name", []Field{
			f("customfield_10500", "Story Points", customFloat, "number"),
			f("customfield_10400", "Sprint", customSprint, "array"),
		}, WellKnown{StoryPoints: "customfield_10500", Sprint: "customfield_10400"}},
		{"schema beats name", []Field{
			f("customfield_10002", "Story Points", customFloat, "number"),
			f("customfield_10300", "Points", customStoryPoints, "number"),
		}, WellKnown{StoryPoints: "customfield_10300"}},
		{"duplicates: lowest id wins", []Field{
			f("customfield_10200", "Sprint", customSprint, "array"),
			f("customfield_10100", "Sprint (old)", customSprint, "array"),
		}, WellKnown{Sprint: "customfield_10100"}},
		{"name alone is not enough for text", []Field{f("customfield_1", "Story Points", "com.atlassian.jira.plugin.system.customfieldtypes:textfield", "string")}, WellKnown{}},
		{"none", nil, WellKnown{}},
	}
	for _, tt := range tests {
		if got := ResolveWellKnown(tt.fields); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestMyPermissionsQuery(t *testing.T) {
	var q string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q = r.URL.RawQuery
		fmt.Fprint(w, `{"permissions":{"BROWSE_PROJECTS":{"havePermission":true},"EDIT_ISSUES":{"havePermission":false}}}`)
	})
	c := newTestClient(t, h, nil)
	got, err := c.MyPermissions(context.Background(), PermissionScope{IssueID: 10001}, "BROWSE_PROJECTS", "EDIT_ISSUES")
	if err != nil || !got["BROWSE_PROJECTS"] || got["EDIT_ISSUES"] {
		t.Fatalf("%v %v", got, err)
	}
	if q != "issueId=10001&permissions=BROWSE_PROJECTS%2CEDIT_ISSUES" {
		t.Errorf("query %q", q)
	}
	if _, err := c.MyPermissions(context.Background(), PermissionScope{ProjectKey: "A", IssueKey: "A-1"}, "BROWSE_PROJECTS"); err == nil {
		t.Error("two scopes accepted")
	}
	if _, err := c.MyPermissions(context.Background(), PermissionScope{}); err == nil {
		t.Error("no permission named accepted")
	}
}
