package jiratest

import (
	"net/url"
	"strings"
	"testing"
)

// TestSearchRefusesWhatTheSiteLacks: like Jira, the fake answers 400 with Jira's message
// to a search naming a custom field, project, status, user, issue key... that the site
// does not have, on both dialects, instead of an empty result; values it has (by name, id
// or key, any case) still search.
func TestSearchRefusesWhatTheSiteLacks(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 200, Seed: 3})
		search := func(jql string) (int, string) {
			if d == dialectCloud {
				st, b := f.do("admin", "POST", "/rest/api/3/search/jql", map[string]any{"jql": jql, "fields": []string{"key"}})
				return st, string(b)
			}
			st, b := f.do("admin", "GET", "/rest/api/2/search?"+url.Values{"jql": {jql}, "fields": {"key"}}.Encode(), nil)
			return st, string(b)
		}
		for _, tc := range []struct{ jql, want string }{
			{"project = NOPE", "The value 'NOPE' does not exist for the field 'project'."},
			{"project in (ALPHA, NOPE)", "The value 'NOPE' does not exist for the field 'project'."},
			{"project not in (NOPE) AND updated >= -1d", "The value 'NOPE' does not exist for the field 'project'."},
			{"project = 99999", "A value with ID '99999' does not exist for the field 'project'."},
			{"project = ALPHA AND cf[99999] = 1", "Field 'cf[99999]' does not exist or you do not have permission to view it."},
			{"project = ALPHA AND customfield_99999 = 1", "Field 'cf[99999]' does not exist"},
			{"project = ALPHA AND status = Nope", "The value 'Nope' does not exist for the field 'status'."},
			{"project = ALPHA AND issuetype in (Story, Saga)", "The value 'Saga' does not exist for the field 'issuetype'."},
			{"project = ALPHA AND priority = Urgent", "The value 'Urgent' does not exist for the field 'priority'."},
			{"project = ALPHA AND resolution = Nope", "The value 'Nope' does not exist for the field 'resolution'."},
			{"assignee = nobody", "The value 'nobody' does not exist for the field 'assignee'."},
			{"key = NOPE-1", "An issue with key 'NOPE-1' does not exist for field 'key'."},
			{"key in (ALPHA-1, ALPHA-99999)", "An issue with key 'ALPHA-99999' does not exist for field 'key'."},
			{"parent = ALPHA-99999", "An issue with key 'ALPHA-99999' does not exist for field 'parent'."},
			{"project = ALPHA AND component = Nope", "The value 'Nope' does not exist for the field 'component'."},
			{"project = ALPHA AND fixVersion = 9.9", "The value '9.9' does not exist for the field 'fixVersion'."},
		} {
			st, body := search(tc.jql)
			if st != 400 || !strings.Contains(body, tc.want) {
				t.Errorf("%s %q: %d %s; want 400 with %q", d, tc.jql, st, body, tc.want)
			}
		}
		for _, jql := range []string{
			"project = alpha", "project in (Alpha, 10001)", "project = ALPHA AND status in (done, \"In Progress\") AND issuetype = story",
			"project = ALPHA AND resolution = Unresolved", "project = ALPHA AND assignee in (alice, currentUser()) OR reporter = admin@example.com",
			"key in (ALPHA-1, alpha-2) OR parent = ALPHA-1", "project = ALPHA AND cf[10016] > 1 ORDER BY customfield_10016",
			"project = ALPHA AND labels = never-used", "project = ALPHA AND component = api AND fixVersion = 1.0",
			"project = ALPHA AND status != Nope", // != is checked too: see above for =
		} {
			st, body := search(jql)
			want := 200
			if strings.Contains(jql, "Nope") {
				want = 400
			}
			if st != want {
				t.Errorf("%s %q: %d %s; want %d", d, jql, st, body, want)
			}
		}
	}
}
