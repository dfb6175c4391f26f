package jql

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// histRec is a test record with a change history.
type histRec struct {
	rec
	h map[string][]Change
}

func (r histRec) History(field string) []Change { return r.h[field] }

func tm(s string) time.Time { return at(s)[0].Time }

// historyIssues: H-1 went To Do -> In Progress -> Done and was assigned and given a fix
// version on the way; H-2 never changed; H-3 has no history at all (a plain Record).
func historyIssues() []Record {
	return []Record{
		histRec{rec{
			"key": strs("H-1"), "status": strs("Done"), "assignee": strs("alice"), "reporter": strs("bob"),
			"fixversion": strs("1.0"), "created": at("2024-01-01 09:00:00"),
		}, map[string][]Change{
			"status": {
				{At: tm("2024-01-10 10:00:00"), By: StringValue("alice", "Alice Smith"), From: strs("To Do"), To: strs("In Progress")},
				{At: tm("2024-01-25 16:00:00"), By: StringValue("bob"), From: strs("In Progress"), To: strs("Done")},
			},
			"assignee":   {{At: tm("2024-01-10 10:00:00"), By: StringValue("alice"), From: nil, To: strs("alice")}},
			"fixversion": {{At: tm("2024-01-15 12:00:00"), By: StringValue("carol"), From: nil, To: strs("1.0")}},
		}},
		histRec{rec{
			"key": strs("H-2"), "status": strs("To Do"), "assignee": strs("carol"), "reporter": strs("alice"),
			"created": at("2024-01-20 12:00:00"),
		}, nil},
		rec{"key": strs("H-3"), "status": strs("Done"), "created": at("2024-01-01 09:00:00")},
	}
}

func TestHistoryOperators(t *testing.T) {
	env := Env{Now: testNow, CurrentUser: "alice", History: true}
	tests := []struct {
		q    string
		want []string
	}{
		// WAS: the current value and every earlier one; never for a record without history.
		{`status WAS "In Progress"`, []string{"H-1"}},
		{`status was "to do"`, []string{"H-1", "H-2"}},
		{`status WAS Done`, []string{"H-1"}},
		{`status WAS IN (Done, Closed) AFTER -1w`, []string{"H-1"}},
		// Dates bound the period the value was held.
		{`status WAS "In Progress" BEFORE 2024-01-10`, nil},
		{`status WAS "In Progress" BEFORE "2024-01-10 11:00"`, []string{"H-1"}},
		{`status WAS "In Progress" AFTER 2024-01-26`, nil},
		{`status WAS "In Progress" ON 2024-01-25`, []string{"H-1"}},
		{`status WAS "In Progress" DURING (2024-01-11, 2024-01-12)`, []string{"H-1"}},
		{`status WAS "To Do" DURING (2024-01-11, 2024-01-12)`, nil},
		// BY: who set the value; the first value was set by the reporter.
		{`status WAS "To Do" BY bob`, []string{"H-1"}},
		{`status WAS "In Progress" BY "Alice Smith"`, []string{"H-1"}},
		{`status WAS Done BY (alice, carol)`, nil},
		// WAS NOT: never held it (within the predicates).
		{`status WAS NOT "In Progress"`, []string{"H-2"}},
		{`status WAS NOT IN (Done, "In Progress")`, []string{"H-2"}},
		{`status WAS NOT Done BEFORE 2024-01-20`, []string{"H-1", "H-2"}},
		{`NOT status WAS Done`, []string{"H-2", "H-3"}},
		// EMPTY and functions.
		{`assignee WAS EMPTY`, []string{"H-1"}},
		{`assignee WAS currentUser()`, []string{"H-1"}},
		{`fixVersion WAS 1.0`, []string{"H-1"}},
		{`fixVersion WAS EMPTY BEFORE 2024-01-15`, []string{"H-1"}},
		// CHANGED: some change meets every predicate.
		{`status CHANGED`, []string{"H-1"}},
		{`status CHANGED FROM "To Do" TO "In Progress"`, []string{"H-1"}},
		{`status CHANGED FROM "In Progress" TO "To Do"`, nil},
		{`status CHANGED TO (Done, Closed) BY bob`, []string{"H-1"}},
		{`status CHANGED BY bob AFTER -1w`, []string{"H-1"}},
		{`status CHANGED BY bob AFTER startOfWeek()`, nil},
		{`status CHANGED ON 2024-01-25`, []string{"H-1"}},
		{`status CHANGED DURING (2024-01-11, 2024-01-24)`, nil},
		{`assignee CHANGED FROM EMPTY`, []string{"H-1"}},
		{`fixVersion CHANGED TO 1.0 BEFORE 2024-01-16`, []string{"H-1"}},
		{`reporter CHANGED`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q, err := Parse(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			m, err := q.Compile(env)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range historyIssues() {
				if m(r) {
					got = append(got, r.Values("key")[0].Str)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHistoryErrors(t *testing.T) {
	full := Env{Now: testNow, History: true}
	tests := []struct {
		q   string
		env Env
		msg string
	}{
		{`summary WAS x`, full, `The operator 'WAS' is not supported by the 'summary' field: history is searchable for Assignee, Fix Version, Priority, Reporter, Resolution and Status.`},
		{`labels CHANGED`, full, `not supported by the 'labels' field`},
		{`status WAS (Done, Closed)`, full, `The operator 'WAS' does not support multi-value operands; use 'WAS IN'.`},
		{`status WAS Done FROM "To Do"`, full, `The predicate 'FROM' is supported by the operator 'CHANGED' only.`},
		{`status CHANGED AFTER soon`, full, `Date value 'soon' for predicate 'AFTER' is invalid.`},
		{`status CHANGED BEFORE currentUser()`, full, `The function 'currentUser' does not give a date the predicate 'BEFORE' can use.`},
		{`status CHANGED DURING (-1d)`, full, `The predicate 'DURING' needs two dates in parentheses`},
		{`status CHANGED DURING -1d`, full, `The predicate 'DURING' needs two dates in parentheses`},
		{`status CHANGED AFTER -1d AFTER -2d`, full, `The predicate 'AFTER' is given more than once.`},
		{`status CHANGED ON EMPTY`, full, `The predicate 'ON' needs a date.`},
		{`status CHANGED BY membersOf(devs)`, full, `no group directory is available`},
		// Valid, but the environment has no history: callers ask Jira instead.
		{`status WAS Done`, Env{Now: testNow}, `The operator 'WAS' cannot be evaluated here: no change history is available.`},
		{`status CHANGED AFTER -1w`, Env{Now: testNow}, `The operator 'CHANGED' cannot be evaluated here`},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q, err := Parse(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			_, err = q.Compile(tt.env)
			var je *Error
			if !errors.As(err, &je) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Compile error %v, want one containing %q", err, tt.msg)
			}
			if je.Line != 1 || je.Column < 1 {
				t.Errorf("position %d:%d", je.Line, je.Column)
			}
		})
	}
}

// History clauses never bound a Cloud search, whatever their field.
func TestHistoryNotBounded(t *testing.T) {
	for _, src := range []string{`assignee WAS currentUser()`, `project CHANGED`, `status WAS IN (x) AND priority CHANGED`} {
		q, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if q.Bounded() {
			t.Errorf("%s: bounded", src)
		}
	}
	q, _ := Parse(`project = P AND status WAS Done`)
	if !q.Bounded() {
		t.Error("a project restriction beside WAS no longer bounds")
	}
}

// JiraError tells a query Jira may answer, though Compile here refuses it, from one Jira
// would refuse as well.
func TestJiraError(t *testing.T) {
	for src, want := range map[string]string{
		`status WAS Done AFTER -1w`:                      "",
		`assignee in membersOf(devs) AND status = x`:     "",
		`sprint in openSprints()`:                        "",
		`Team = red`:                                     "", // a field Jira may know by its name
		`key in portfolioChildIssuesOf("X-1")`:           "", // a function an app may add
		`created > soon`:                                 "Date value 'soon' for field 'created' is invalid",
		`status WAS Done AFTER soon`:                     "Date value 'soon' for predicate 'AFTER' is invalid",
		`summary = x`:                                    "The operator '=' is not supported by the 'summary' field",
		`assignee in membersOf(devs) AND created > nope`: "Date value 'nope' for field 'created' is invalid",
	} {
		q, err := Parse(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		err = q.JiraError()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: JiraError %v, want %q", src, err, want)
		}
	}
}
