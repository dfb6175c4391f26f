package jira_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"

	"foundation/jira"
	"foundation/jira/jiratest"
)

func TestRankIssuesFake(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			site, err := jiratest.New(jiratest.Options{Dialect: string(d), Issues: 80, Seed: 7,
				Users: []jiratest.User{{Name: "rita", Projects: []string{"ALPHA", "BETA"}, ReadOnly: true}}})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(site)
			t.Cleanup(srv.Close)
			t.Cleanup(site.Close)
			f := &fakeSite{site: site, url: srv.URL}
			admin, rita := f.login(t, "admin", nil), f.login(t, "rita", nil)
			ctx := t.Context()

			all := site.Issues()
			sort.Slice(all, func(a, b int) bool { return all[a].Rank < all[b].Rank })
			a, b, mover := all[5], all[6], all[40]
			if err := admin.RankIssues(ctx, []string{mover.Key}, b.Key, ""); err != nil {
				t.Fatalf("rank before: %v", err)
			}
			got, _ := site.Issue(mover.Key)
			if got.Rank <= a.Rank || got.Rank >= b.Rank {
				t.Errorf("rank before %s: %q not between %q and %q", b.Key, got.Rank, a.Rank, b.Rank)
			}
			if err := admin.RankIssues(ctx, []string{mover.Key}, "", b.Key); err != nil {
				t.Fatalf("rank after: %v", err)
			}
			if got, _ := site.Issue(mover.Key); got.Rank <= b.Rank || got.Rank >= all[7].Rank {
				t.Errorf("rank after %s: %q not between %q and %q", b.Key, got.Rank, b.Rank, all[7].Rank)
			}
			// The issue read back through the client carries the new rank.
			iss, err := admin.GetIssue(ctx, mover.Key, []string{"customfield_10019"})
			if err != nil {
				t.Fatal(err)
			}
			var rank string
			if err := json.Unmarshal(iss.Fields["customfield_10019"], &rank); err != nil {
				t.Fatalf("read back rank: %v", err)
			}
			if want, _ := site.Issue(mover.Key); rank != want.Rank {
				t.Errorf("read back rank %q, want %q", rank, want.Rank)
			}

			var forbidden *jira.ForbiddenError
			alpha := func(i jiratest.FakeIssue) bool { return i.Project == "ALPHA" && i.SecurityLevel == "" }
			var x, y string
			for _, is := range all {
				if alpha(is) {
					if x == "" {
						x = is.Key
					} else if y == "" {
						y = is.Key
					}
				}
			}
			if err := rita.RankIssues(ctx, []string{x}, y, ""); !errors.As(err, &forbidden) {
				t.Errorf("read-only rank: %v, want *ForbiddenError", err)
			}
		})
	}
}

func TestRankIssuesArguments(t *testing.T) {
	f := newFake(t, jira.Cloud, 10)
	c := f.login(t, "admin", nil)
	many := make([]string, 51)
	for k := range many {
		many[k] = "ALPHA-1"
	}
	for _, tc := range []struct {
		name          string
		keys          []string
		before, after string
	}{
		{"no issues", nil, "ALPHA-1", ""},
		{"too many", many, "ALPHA-2", ""},
		{"no anchor", []string{"ALPHA-1"}, "", ""},
		{"both anchors", []string{"ALPHA-1"}, "ALPHA-2", "ALPHA-3"},
	} {
		if err := c.RankIssues(t.Context(), tc.keys, tc.before, tc.after); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// A 207 names the issues Jira left in place; the request carries Jira's documented body.
func TestRankIssuesPartial(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rest/api/2/serverInfo" || r.URL.Path == "/rest/api/3/serverInfo" {
			_, _ = io.WriteString(w, `{"deploymentType":"Cloud","version":"1001.0.0"}`)
			return
		}
		if r.Method != http.MethodPut || r.URL.Path != "/rest/agile/1.0/issue/rank" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMultiStatus)
		_, _ = io.WriteString(w, `{"entries":[{"issueId":10000,"issueKey":"PR-1","status":200},{"issueId":10002,"issueKey":"PR-3","status":503,"errors":["JIRA Agile cannot execute the rank operation at this time. Please try again later."]}]}`)
	}))
	t.Cleanup(srv.Close)
	c, err := jira.New(t.Context(), jira.Options{BaseURL: srv.URL, Dialect: jira.Cloud, Email: "a@example.com", Token: "t", RequestsPerSecond: -1, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	err = c.RankIssues(t.Context(), []string{"PR-1", "PR-3"}, "", "PR-4")
	var re *jira.RankError
	if !errors.As(err, &re) || len(re.Failures) != 1 || re.Failures[0].Key != "PR-3" || re.Failures[0].Status != 503 {
		t.Fatalf("err = %v, want a RankError for PR-3", err)
	}
	if got["rankAfterIssue"] != "PR-4" || got["rankBeforeIssue"] != nil || len(got["issues"].([]any)) != 2 {
		t.Errorf("request body %v", got)
	}
}
