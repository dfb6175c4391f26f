package tui

import "testing"

func TestJiraProblem(t *testing.T) {
	for _, tc := range []struct {
		in          string
		short       string
		unavailable bool
	}{
		{`search "(project in (ALPHA)) AND updated >= \"-6m\" ORDER BY updated ASC": POST /rest/api/3/search/jql: dial tcp 127.0.0.1:41234: connect: connection refused`, "Jira unreachable: connection refused", false},
		{`search "(project in (ALPHA)) AND updated >= \"-6m\" ORDER BY updated ASC": POST /rest/api/3/search/jql: 503 Service Unavailable: upstream down`, "Jira answered 503 Service Unavailable", true},
		{`GET /rest/api/3/myself: 401 Unauthorized`, "Jira answered 401 Unauthorized", false},
		{`GET /rest/api/3/field: Get "https://x": context deadline exceeded`, "Jira unreachable: timed out", false},
		{`resolve viewer of acme: GET /rest/api/3/myself: Jira did not answer within 30s (3 attempts)`, "Jira unreachable: no answer within 30s", false},
		{`search "project = A": POST /rest/api/3/search/jql: read response: Jira did not finish answering within 1m`, "Jira unreachable: no answer within 1m", false},
		{`token expired`, "token expired", false},
	} {
		short, un, _ := jiraProblem(tc.in)
		if short != tc.short || un != tc.unavailable {
			t.Errorf("jiraProblem(%q) = %q, %v; want %q, %v", tc.in, short, un, tc.short, tc.unavailable)
		}
	}
}
