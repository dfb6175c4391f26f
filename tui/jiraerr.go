package tui

import (
	"regexp"
	"strconv"
	"strings"
)

// jiraProblem says in a few words what went wrong talking to Jira, from an error's text
// (which is long: the JQL, the method and path, then the cause): "Jira unreachable:
// connection refused", "Jira answered 503 Service Unavailable". unavailable reports a server
// error (HTTP 5xx): Jira is there but not serving, which the screen treats like being
// offline. ok is false when the text names no cause it knows; short is then the text as is.
func jiraProblem(text string) (short string, unavailable, ok bool) {
	low := strings.ToLower(text)
	for _, c := range []struct{ needle, say string }{
		{"connection refused", "Jira unreachable: connection refused"},
		{"no such host", "Jira unreachable: no such host"},
		{"network is unreachable", "Jira unreachable: network is unreachable"},
		{"no route to host", "Jira unreachable: no route to host"},
		{"connection reset", "Jira unreachable: connection reset"},
		{"i/o timeout", "Jira unreachable: timed out"},
		{"client.timeout exceeded", "Jira unreachable: timed out"},
		{"context deadline exceeded", "Jira unreachable: timed out"},
		{"tls handshake timeout", "Jira unreachable: timed out"},
		{"x509:", "Jira's certificate is not trusted"},
	} {
		if strings.Contains(low, c.needle) {
			return c.say, false, true
		}
	}
	if m := silentRE.FindStringSubmatch(text); m != nil {
		return "Jira unreachable: no answer within " + m[1], false, true
	}
	if m := httpStatusRE.FindStringSubmatch(text); m != nil {
		code, _ := strconv.Atoi(m[1])
		say := "Jira answered " + m[1]
		if t := strings.TrimSpace(m[2]); t != "" {
			say += " " + t
		}
		return say, code >= 500, true
	}
	return text, false, false
}

// silentRE finds the client's time limit running out (jira.TimeoutError's text): Jira
// accepted the connection, or not even that, and sent nothing back in time.
var silentRE = regexp.MustCompile(`Jira did not (?:answer|finish answering) within (\S+)`)

// httpStatusRE finds the status of a Jira API error ("POST /rest/api/3/search/jql: 503
// Service Unavailable: …", jira.APIError's text).
var httpStatusRE = regexp.MustCompile(`(?:GET|POST|PUT|DELETE|PATCH|HEAD) /\S*: ([1-5][0-9][0-9])((?: [A-Z][A-Za-z'-]*)*)`)
