package jql

import (
	"errors"
	"strings"
	"testing"
)

// TestHasField: with the site's field catalog, a custom field id or a name the site does
// not have is refused in Jira's words, and not as unknown (Jira refuses it too), in the
// condition and in ORDER BY; a field the site has compiles as before.
func TestHasField(t *testing.T) {
	site := map[string]bool{"cf[10016]": true, "team": true}
	has := func(f string) bool { return site[strings.ToLower(f)] }
	for _, tc := range []struct {
		src, want string // want "" compiles
		unknown   bool   // without a catalog: refused as unknown (Jira may answer)
	}{
		{"project = ALPHA AND cf[99999] = 1", "Field 'cf[99999]' does not exist or you do not have permission to view it.", false},
		{"customfield_99999 = 1", "Field 'cf[99999]' does not exist", false},
		{"project = ALPHA ORDER BY cf[99999]", "Field 'cf[99999]' does not exist", false},
		{`"Team Name" = x`, "Field 'Team Name' does not exist", true},
		{"cf[10016] > 3 ORDER BY customfield_10016", "", false},
		{"Team = x", "", true}, // the site has it by name: Jira answers, not the cache
	} {
		q, err := Parse(tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		_, err = q.Compile(Env{HasField: has})
		jerr := q.JiraErrorWith(has)
		switch {
		case tc.want == "" && tc.unknown:
			if err == nil || jerr != nil {
				t.Errorf("%s: compile %v, Jira error %v; want unknown here, answered by Jira", tc.src, err, jerr)
			}
		case tc.want == "":
			if err != nil || jerr != nil {
				t.Errorf("%s: %v / %v", tc.src, err, jerr)
			}
		default:
			var e *Error
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &e) || e.Unknown || jerr == nil {
				t.Errorf("%s: compile %v, Jira error %v; want %q, not unknown", tc.src, err, jerr, tc.want)
			}
			// Without a catalog, custom field ids are taken on trust as before.
			_, err = q.Compile(Env{})
			if got := err != nil && errors.As(err, &e) && e.Unknown; got != tc.unknown || (err != nil) != tc.unknown {
				t.Errorf("%s without a catalog: %v", tc.src, err)
			}
		}
	}
}

// A field the site has but Foundation does not evaluate is refused with that reason, not
// as a field that does not exist.
func TestSiteFieldNotEvaluatedHere(t *testing.T) {
	q, err := Parse(`creator = bob`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = q.Compile(Env{HasField: func(f string) bool { return f == "creator" }})
	var je *Error
	if !errors.As(err, &je) || !je.Unknown || !strings.Contains(je.Msg, "Field 'creator' cannot be searched here: only Jira answers queries on it.") {
		t.Errorf("creator: %v", err)
	}
}
