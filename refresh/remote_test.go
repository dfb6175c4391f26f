package refresh

import (
	"testing"

	"foundation/jql"
)

func TestWithinScope(t *testing.T) {
	cases := []struct{ scope, q, want string }{
		{"project in (ALPHA, BETA)", `sprint in openSprints() AND issuetype != Sub-task`,
			`project in (ALPHA, BETA) AND sprint in openSprints() AND issuetype != Sub-task`},
		{"project = ALPHA OR project = BETA", `assignee in membersOf("dev") OR reporter in membersOf("dev") ORDER BY rank`,
			`(project = ALPHA OR project = BETA) AND (assignee in membersOf("dev") OR reporter in membersOf("dev")) ORDER BY rank`},
	}
	for _, c := range cases {
		got, err := withinScope(c.scope, c.q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := jql.Parse(c.want)
		if err != nil {
			t.Fatal(err)
		}
		g, err := jql.Parse(got)
		if err != nil {
			t.Fatalf("%q does not parse: %v", got, err)
		}
		if g.String() != want.String() {
			t.Errorf("withinScope(%q, %q) = %q, want %q", c.scope, c.q, got, want.String())
		}
	}
}
