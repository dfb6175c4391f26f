package jql

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// rec is a Record backed by a map, for tests.
type rec map[string][]Value

func (r rec) Values(field string) []Value { return r[field] }

func strs(ss ...string) []Value {
	out := make([]Value, len(ss))
	for i, s := range ss {
		out[i] = StringValue(s)
	}
	return out
}

// now is a Wednesday, for the date tests.
var testNow = time.Date(2024, 1, 31, 14, 5, 30, 0, time.UTC)

func at(s string) []Value {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return []Value{TimeValue(t)}
}

func num(f float64) []Value { return []Value{NumberValue(f)} }

// issues is a small fixed data set; each case names the keys it expects.
var issues = []rec{
	{
		"key": strs("ALPHA-1"), "id": num(10001), "project": {StringValue("ALPHA", "Alpha Project", "10000")},
		"issuetype": strs("Epic"), "status": strs("In Progress"), "statuscategory": strs("indeterminate"),
		"assignee": {StringValue("alice", "Alice Smith", "alice@example.com")}, "reporter": strs("bob"),
		"priority": strs("High"), "labels": strs("backend", "api"), "component": strs("Core"),
		"fixversion": strs("1.0"), "sprint": {StringValue("Sprint 1", "1")},
		"summary": strs("Login page crashes on submit"), "description": strs("Stack trace attached."),
		"created": at("2024-01-01 09:00:00"), "updated": at("2024-01-31 14:05:10"), "duedate": at("2024-02-01 00:00:00"),
		"story points": num(8), "cf[10050]": strs("gold"), "rank": strs("0|a"),
		"level": {StringValue("Internal", "10100")},
	},
	{
		"key": strs("ALPHA-2"), "id": num(10002), "project": {StringValue("ALPHA", "Alpha Project", "10000")},
		"issuetype": strs("Story"), "status": strs("Done"), "statuscategory": strs("done"),
		"assignee": {StringValue("bob")}, "reporter": strs("alice"), "priority": strs("Low"),
		"labels": strs("frontend"), "parent": {StringValue("ALPHA-1", "10001")}, "epic link": {StringValue("ALPHA-1", "10001")},
		"summary": strs("Disk full warning"), "resolution": strs("Fixed"), "sprint": {StringValue("Sprint 2", "2")},
		"created": at("2024-01-20 12:00:00"), "updated": at("2024-01-30 08:00:00"),
		"story points": num(3), "cf[10050]": num(42), "rank": strs("0|b"),
	},
	{
		"key": strs("ALPHA-10"), "id": num(10010), "project": {StringValue("ALPHA", "Alpha Project", "10000")},
		"issuetype": strs("Bug"), "status": strs("To Do"), "statuscategory": strs("new"),
		"reporter": strs("carol"), "priority": strs("Highest"),
		"summary": strs("Crash in résumé parser"), "text": strs("comment: logs show a NullPointer"),
		"created": at("2024-01-31 14:00:00"), "updated": at("2024-01-31 14:00:00"), "duedate": at("2024-01-31 00:00:00"),
		"cf[10050]": at("2024-01-15 00:00:00"), "rank": strs("0|c"),
	},
	{
		"key": strs("BETA-3"), "id": num(20003), "project": {StringValue("BETA", "Beta", "10001")},
		"issuetype": strs("Task"), "status": strs("Done"), "statuscategory": strs("done"),
		"assignee": {StringValue("carol")}, "reporter": {StringValue("")}, "priority": strs("Medium"),
		"labels": strs("backend"), "component": strs("UI", "Core"), "fixversion": strs("2.0", "1.0"),
		"summary": strs("Backend: login API"), "description": strs("Disk quota"),
		"created": at("2023-12-01 00:00:00"), "updated": at("2024-01-10 10:00:00"),
		"story points": num(5), "rank": strs("0|aa"),
	},
}

func keysOf(t *testing.T, src string, env Env) []string {
	t.Helper()
	q, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	m, err := q.Compile(env)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	var out []string
	for _, r := range issues {
		if m(r) {
			out = append(out, r["key"][0].Str)
		}
	}
	return out
}

func testEnv() Env {
	return Env{
		Now:         testNow,
		CurrentUser: "alice",
		MembersOf: func(g string) []string {
			switch g {
			case "devs":
				return []string{"alice", "bob"}
			case "big":
				var m []string
				for i := range 20 {
					m = append(m, fmt.Sprintf("user%d", i))
				}
				return append(m, "CAROL")
			}
			return nil
		},
		OpenSprints: func() []string { return []string{"Sprint 2"} },
	}
}

func TestEvaluate(t *testing.T) {
	const a1, a2, a10, b3 = "ALPHA-1", "ALPHA-2", "ALPHA-10", "BETA-3"
	tests := []struct {
		q    string
		want []string
	}{
		{``, []string{a1, a2, a10, b3}},
		{`ORDER BY key`, []string{a1, a2, a10, b3}},
		// project: key, name or id, any case
		{`project = ALPHA`, []string{a1, a2, a10}},
		{`project = alpha`, []string{a1, a2, a10}},
		{`project = "Alpha Project"`, []string{a1, a2, a10}},
		{`project = 10001`, []string{b3}},
		{`project != ALPHA`, []string{b3}},
		{`project in (BETA, nope)`, []string{b3}},
		{`project not in (BETA)`, []string{a1, a2, a10}},
		// key, issuekey, ordering by number within a project
		{`key = alpha-2`, []string{a2}},
		{`issuekey in (ALPHA-1, BETA-3)`, []string{a1, b3}},
		{`issue = ALPHA-10`, []string{a10}},
		// an issue id names the parent or epic as its key does
		{`parent = 10001`, []string{a2}},
		{`"Epic Link" in (10001, BETA-3)`, []string{a2}},
		{`parent > ALPHA-0`, []string{a2}},
		// level: the security level by name or id
		{`level = internal`, []string{a1}},
		{`level in (10100)`, []string{a1}},
		{`level is EMPTY`, []string{a2, a10, b3}},
		{`level != Internal`, nil},
		{`key > ALPHA-2`, []string{a10}},
		{`key >= ALPHA-2`, []string{a2, a10}},
		{`key < ALPHA-10`, []string{a1, a2}},
		{`key <= BETA-3`, []string{b3}},
		// id
		{`id = 10002`, []string{a2}},
		{`id > 10002`, []string{a10, b3}},
		{`id <= 10002`, []string{a1, a2}},
		{`id in (10001, 20003)`, []string{a1, b3}},
		// issuetype / type
		{`issuetype = Bug`, []string{a10}},
		{`type in (Epic, Story)`, []string{a1, a2}},
		{`type != Bug`, []string{a1, a2, b3}},
		// status by name
		{`status = done`, []string{a2, b3}},
		{`status = "In Progress"`, []string{a1}},
		{`status not in (Done, "To Do")`, []string{a1}},
		// statusCategory by name, key or id
		{`statusCategory = "To Do"`, []string{a10}},
		{`statusCategory = new`, []string{a10}},
		{`statusCategory = 4`, []string{a1}},
		{`statusCategory in ("In Progress", done)`, []string{a1, a2, b3}},
		{`statusCategory != Done`, []string{a1, a10}},
		// assignee / reporter: ids, names, emails, empty, functions
		{`assignee = alice`, []string{a1}},
		{`assignee = "alice@example.com"`, []string{a1}},
		{`assignee = "ALICE SMITH"`, []string{a1}},
		{`assignee != alice`, []string{a2, b3}},
		{`NOT assignee = alice`, []string{a2, a10, b3}},
		{`assignee is empty`, []string{a10}},
		{`assignee is null`, []string{a10}},
		{`assignee = EMPTY`, []string{a10}},
		{`assignee != EMPTY`, []string{a1, a2, b3}},
		{`assignee is not empty`, []string{a1, a2, b3}},
		{`assignee in (EMPTY, bob)`, []string{a2, a10}},
		{`assignee not in (EMPTY, bob)`, []string{a1, b3}},
		{`assignee = currentUser()`, []string{a1}},
		{`reporter = currentUser()`, []string{a2}},
		{`assignee in (currentUser(), carol)`, []string{a1, b3}},
		{`assignee in membersOf(devs)`, []string{a1, a2}},
		{`assignee not in membersOf("devs")`, []string{b3}},
		{`reporter in membersOf(big)`, []string{a10}},
		{`reporter is empty`, []string{b3}},
		// priority by name and by scheme order
		{`priority = high`, []string{a1}},
		{`priority > Medium`, []string{a1, a10}},
		{`priority >= Medium`, []string{a1, a10, b3}},
		{`priority < Medium`, []string{a2}},
		{`priority <= Low`, []string{a2}},
		{`priority in (Low, Highest)`, []string{a2, a10}},
		// multi-valued: labels, component, fixVersion, sprint
		{`labels = backend`, []string{a1, b3}},
		{`labels = API`, []string{a1}},
		{`labels != backend`, []string{a2}},
		{`labels not in (api, frontend)`, []string{b3}},
		{`labels in (api, frontend)`, []string{a1, a2}},
		{`labels is empty`, []string{a10}},
		{`labels is not empty`, []string{a1, a2, b3}},
		{`component = core`, []string{a1, b3}},
		{`component = UI`, []string{b3}},
		{`component != UI`, []string{a1}},
		{`fixVersion = "1.0"`, []string{a1, b3}},
		{`fixVersion = 2.0`, []string{b3}},
		{`fixVersion is empty`, []string{a2, a10}},
		{`sprint = "Sprint 1"`, []string{a1}},
		{`sprint = 2`, []string{a2}},
		{`sprint in openSprints()`, []string{a2}},
		{`sprint not in openSprints()`, []string{a1}},
		{`sprint is empty`, []string{a10, b3}},
		// parent, Epic Link
		{`parent = ALPHA-1`, []string{a2}},
		{`parent is empty`, []string{a1, a10, b3}},
		{`"Epic Link" = alpha-1`, []string{a2}},
		{`"epic link" is not empty`, []string{a2}},
		// text search
		{`summary ~ login`, []string{a1, b3}},
		{`summary ~ "LOGIN crash"`, []string{a1}},
		{`summary ~ "crash*"`, []string{a1, a10}},
		{`summary ~ "\"page crashes\""`, []string{a1}},
		{`summary ~ "\"crashes page\""`, nil},
		{`summary !~ login`, []string{a2, a10}},
		{`summary ~ RÉSUMÉ`, []string{a10}},
		{`description ~ disk`, []string{b3}},
		{`description !~ disk`, []string{a1}},
		{`description is empty`, []string{a2, a10}},
		{`text ~ disk`, []string{a2, b3}},
		{`text ~ "nullpointer"`, []string{a10}},
		{`text ~ "stack login"`, []string{a1}},
		{`text !~ disk`, []string{a1, a10}},
		// dates at minute precision, absolute and relative
		{`updated = "2024-01-31 14:05"`, []string{a1}},
		{`updated >= "2024/01/31 14:05"`, []string{a1}},
		{`updated > "2024-01-31 14:00"`, []string{a1}},
		{`updated >= "2024-01-31"`, []string{a1, a10}},
		{`updated < "2024-01-30"`, []string{b3}},
		{`created <= "2024-01-01 09:00"`, []string{a1, b3}},
		{`created = "2023-12-01"`, []string{b3}},
		{`updated >= -15m`, []string{a1, a10}},
		{`updated >= -5m`, []string{a1, a10}},
		{`updated > -5m`, []string{a1}},
		{`updated >= -2d`, []string{a1, a2, a10}},
		{`updated >= "-1d"`, []string{a1, a10}},
		{`updated < -1w`, []string{b3}},
		{`updated >= "-4w 2d"`, []string{a1, a2, a10, b3}},
		{`created >= -4h`, []string{a10}},
		{`created < 1w`, []string{a1, a2, a10, b3}},
		{`created > -1M`, []string{a1, a2, a10}},
		{`created < -1y`, nil},
		{`updated <= now()`, []string{a1, a2, a10, b3}},
		{`updated >= now()`, []string{a1}},
		{`updated >= startOfDay()`, []string{a1, a10}},
		{`updated >= startOfDay(-1d)`, []string{a1, a2, a10}},
		{`updated >= startOfDay(-1)`, []string{a1, a2, a10}},
		{`updated < startOfDay(-1d)`, []string{b3}},
		{`updated <= endOfDay()`, []string{a1, a2, a10, b3}},
		{`updated >= startOfWeek()`, []string{a1, a2, a10}},
		{`updated >= startOfMonth()`, []string{a1, a2, a10, b3}},
		{`created >= startOfYear()`, []string{a1, a2, a10}},
		{`created <= endOfMonth(-1)`, []string{b3}},
		{`created < endOfYear(-1)`, []string{b3}},
		{`duedate = "2024-02-01"`, []string{a1}},
		{`due <= startOfDay()`, []string{a10}},
		{`duedate < 1d`, []string{a1, a10}},
		{`duedate < startOfDay(1)`, []string{a10}},
		{`duedate is empty`, []string{a2, b3}},
		// resolution
		{`resolution = Fixed`, []string{a2}},
		{`resolution is empty`, []string{a1, a10, b3}},
		{`resolution = Unresolved`, []string{a1, a10, b3}},
		{`resolution != unresolved`, []string{a2}},
		{`resolution in (Unresolved, Fixed)`, []string{a1, a2, a10, b3}},
		{`resolution not in (Unresolved, Fixed)`, nil},
		// Story Points
		{`"Story Points" = 8`, []string{a1}},
		{`"story points" > 3`, []string{a1, b3}},
		{`"Story Points" <= 5.0`, []string{a2, b3}},
		{`"Story Points" is empty`, []string{a10}},
		// custom fields by both spellings, compared by the record value's kind
		{`cf[10050] = GOLD`, []string{a1}},
		{`customfield_10050 = 42`, []string{a2}},
		{`cf[10050] > 40`, []string{a2}},
		{`cf[10050] < "2024-02-01"`, []string{a10}},
		{`cf[10050] ~ "gol"`, []string{a1}},
		{`cf[10050] is empty`, []string{b3}},
		{`cf[99] is empty`, []string{a1, a2, a10, b3}},
		// boolean structure
		{`project = ALPHA AND status = Done`, []string{a2}},
		{`project = BETA OR priority = Highest`, []string{a10, b3}},
		{`project = ALPHA AND status = Done OR project = BETA`, []string{a2, b3}},
		{`project = ALPHA AND (status = Done OR project = BETA)`, []string{a2}},
		{`NOT (project = ALPHA AND status = Done)`, []string{a1, a10, b3}},
		{`NOT project = ALPHA AND NOT labels = api`, []string{b3}},
		{`project in (ALPHA, BETA) AND status != Done AND labels = backend ORDER BY updated DESC`, []string{a1}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got := keysOf(t, tt.q, testEnv())
			if !slices.Equal(got, tt.want) {
				t.Fatalf("%s\n got  %v\n want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestCurrentUserAnonymous(t *testing.T) {
	env := testEnv()
	env.CurrentUser = ""
	if got := keysOf(t, `assignee = currentUser() OR reporter = currentUser()`, env); got != nil {
		t.Fatalf("anonymous currentUser() matched %v", got)
	}
}

func TestLocation(t *testing.T) {
	loc := time.FixedZone("UTC+10", 10*3600)
	env := testEnv()
	env.Location = loc
	// 2024-01-31 in UTC+10 starts at 2024-01-30 14:00 UTC.
	got := keysOf(t, `updated >= "2024-01-31" AND updated < "2024-01-31 00:01"`, env)
	if got != nil {
		t.Fatalf("got %v", got)
	}
	if got := keysOf(t, `updated >= "2024-01-31"`, env); !slices.Equal(got, []string{"ALPHA-1", "ALPHA-10"}) {
		t.Fatalf("updated >= 2024-01-31 (UTC+10) = %v", got)
	}
	// startOfDay in UTC+10: now is 2024-02-01 00:05 there, so the day began 2024-01-31 14:00 UTC.
	if got := keysOf(t, `updated >= startOfDay()`, env); !slices.Equal(got, []string{"ALPHA-1", "ALPHA-10"}) {
		t.Fatalf("startOfDay (UTC+10) = %v", got)
	}
}

func TestDueDateIsACalendarDay(t *testing.T) {
	// The site stores due dates as UTC midnight; a viewer in UTC-8 still sees ALPHA-1 due
	// on 2024-02-01, not on the evening of January 31st.
	env := testEnv()
	env.Location = time.FixedZone("UTC-8", -8*3600)
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{`duedate = "2024-02-01"`, []string{"ALPHA-1"}},
		{`duedate >= "2024-02-01"`, []string{"ALPHA-1"}},
		{`duedate < "2024-02-01"`, []string{"ALPHA-10"}},
		{`duedate in ("2024-01-31", "2024-01-30")`, []string{"ALPHA-10"}},
	} {
		if got := keysOf(t, tt.q, env); !slices.Equal(got, tt.want) {
			t.Errorf("%s (UTC-8) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		q         string
		line, col int
		msg       string
	}{
		{`foo = bar`, 1, 1, `Field 'foo' does not exist or you do not have permission to view it.`},
		{`project = P AND "my field" = x`, 1, 17, `Field 'my field' does not exist`},
		{`project = P ORDER BY nosuch`, 1, 22, `Field 'nosuch' does not exist`},
		{`ORDER BY description`, 1, 10, `Field 'description' does not support sorting.`},
		{`rank = x`, 1, 1, `does not support searching`},
		{`summary = x`, 1, 9, `The operator '=' is not supported by the 'summary' field.`},
		{`text in (x)`, 1, 6, `The operator 'IN' is not supported by the 'text' field.`},
		{`status ~ x`, 1, 8, `The operator '~' is not supported by the 'status' field.`},
		{`labels > x`, 1, 8, `The operator '>' is not supported by the 'labels' field.`},
		{`assignee < bob`, 1, 10, `The operator '<' is not supported by the 'assignee' field.`},
		{`created > yesterday`, 1, 11, `Date value 'yesterday' for field 'created' is invalid.`},
		{`created > "2024-13-01"`, 1, 11, `Date value '2024-13-01' for field 'created' is invalid.`},
		{`duedate = -5`, 1, 11, `Date value '-5' for field 'due' is invalid.`},
		{`id = abc`, 1, 6, `The value 'abc' for field 'id' is not a valid number.`},
		{`"Story Points" > lots`, 1, 18, `not a valid number`},
		{`statusCategory = Nope`, 1, 18, `The value 'Nope' does not exist for the field 'statusCategory'.`},
		{`priority > Urgent`, 1, 12, `The value 'Urgent' does not exist for the field 'priority'.`},
		{`key > banana`, 1, 7, `The issue key 'banana' for field 'key' is invalid.`},
		{`status = (x, y)`, 1, 10, `The operator '=' does not support multi-value operands.`},
		{`status in Done`, 1, 11, `needs a list of values`},
		{`assignee = membersOf(devs)`, 1, 12, `does not support multi-value operands`},
		{`assignee = whoami()`, 1, 12, `Unable to find JQL function 'whoami()'.`},
		{`status = currentUser()`, 1, 10, `A value provided by the function 'currentUser' is invalid for the field 'status'.`},
		{`assignee = currentUser(x)`, 1, 12, `Function 'currentUser' expected '0' arguments but received '1'.`},
		{`assignee in membersOf()`, 1, 13, `Function 'membersOf' expected '1' arguments but received '0'.`},
		{`labels in openSprints()`, 1, 11, `invalid for the field 'labels'`},
		{`created > startOfDay(x)`, 1, 11, `The arguments of function 'startOfDay' are invalid`},
		{`created > now(1)`, 1, 11, `The arguments of function 'now' are invalid`},
		{`created > startOfDay(1, 2)`, 1, 11, `The arguments of function 'startOfDay' are invalid`},
		{`summary ~ "*"`, 1, 9, `The field 'summary' does not support searching for an empty string.`},
		{`created < EMPTY`, 1, 9, `The operator '<' does not support the EMPTY value.`},
		{"project = P\nAND bogus = 1", 2, 5, `Field 'bogus' does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			q, err := Parse(tt.q)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = q.Compile(testEnv())
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("Compile error = %v, want *Error", err)
			}
			if je.Line != tt.line || je.Column != tt.col {
				t.Errorf("position = %d:%d, want %d:%d (%v)", je.Line, je.Column, tt.line, tt.col, err)
			}
			if !strings.Contains(je.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", je.Error(), tt.msg)
			}
		})
	}
}

func TestDirectoryFunctionsNeedEnv(t *testing.T) {
	for _, src := range []string{`assignee in membersOf(devs)`, `sprint in openSprints()`} {
		q, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = q.Compile(Env{Now: testNow})
		if err == nil || !strings.Contains(err.Error(), "cannot be evaluated here") {
			t.Errorf("%s without directory: err = %v", src, err)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		order string
		want  []string
	}{
		{`ORDER BY key`, []string{"ALPHA-1", "ALPHA-2", "ALPHA-10", "BETA-3"}},
		{`ORDER BY key DESC`, []string{"BETA-3", "ALPHA-10", "ALPHA-2", "ALPHA-1"}},
		{`ORDER BY updated DESC`, []string{"ALPHA-1", "ALPHA-10", "ALPHA-2", "BETA-3"}},
		{`ORDER BY created`, []string{"BETA-3", "ALPHA-1", "ALPHA-2", "ALPHA-10"}},
		{`ORDER BY priority DESC`, []string{"ALPHA-10", "ALPHA-1", "BETA-3", "ALPHA-2"}},
		{`ORDER BY priority`, []string{"ALPHA-2", "BETA-3", "ALPHA-1", "ALPHA-10"}},
		// empty sorts last ascending, first descending
		{`ORDER BY duedate, key`, []string{"ALPHA-10", "ALPHA-1", "ALPHA-2", "BETA-3"}},
		{`ORDER BY duedate DESC, key`, []string{"ALPHA-2", "BETA-3", "ALPHA-1", "ALPHA-10"}},
		{`ORDER BY "story points"`, []string{"ALPHA-2", "BETA-3", "ALPHA-1", "ALPHA-10"}},
		{`ORDER BY assignee`, []string{"ALPHA-1", "ALPHA-2", "BETA-3", "ALPHA-10"}},
		{`ORDER BY statusCategory, key DESC`, []string{"ALPHA-10", "ALPHA-1", "BETA-3", "ALPHA-2"}},
		{`ORDER BY project DESC, status, key`, []string{"BETA-3", "ALPHA-2", "ALPHA-1", "ALPHA-10"}},
		{`ORDER BY rank`, []string{"ALPHA-1", "BETA-3", "ALPHA-2", "ALPHA-10"}},
		{`ORDER BY labels, key`, []string{"ALPHA-1", "BETA-3", "ALPHA-2", "ALPHA-10"}},
	}
	for _, tt := range tests {
		t.Run(tt.order, func(t *testing.T) {
			q, err := Parse(tt.order)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Compile(testEnv()); err != nil {
				t.Fatal(err)
			}
			rs := slices.Clone(issues)
			slices.Reverse(rs)
			slices.SortStableFunc(rs, func(a, b rec) int { return Compare(a, b, q.OrderBy) })
			var got []string
			for _, r := range rs {
				got = append(got, r["key"][0].Str)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	base := time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		unit byte
		want time.Time
		ok   bool
	}{
		{"-15m", 0, base.Add(-15 * time.Minute), true},
		{"4h", 0, base.Add(4 * time.Hour), true},
		{"+4h", 0, base.Add(4 * time.Hour), true},
		{"-2d", 0, base.AddDate(0, 0, -2), true},
		{"1w", 0, base.AddDate(0, 0, 7), true},
		{"-4w 2d", 0, base.AddDate(0, 0, -30), true},
		{"-1M", 0, base.AddDate(0, -1, 0), true},
		{"1y", 0, base.AddDate(1, 0, 0), true},
		{"-1", 'd', base.AddDate(0, 0, -1), true},
		{"2", 'w', base.AddDate(0, 0, 14), true},
		{"-1", 0, time.Time{}, false},
		{"", 0, time.Time{}, false},
		{"-", 0, time.Time{}, false},
		{"5x", 0, time.Time{}, false},
		{"d", 0, time.Time{}, false},
		{"1d-", 0, time.Time{}, false},
		{"9999999999d", 0, time.Time{}, false},
	}
	for _, tt := range tests {
		p, ok := parsePeriod(tt.in, tt.unit)
		if ok != tt.ok {
			t.Errorf("parsePeriod(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok && !p.addTo(base).Equal(tt.want) {
			t.Errorf("parsePeriod(%q) -> %v, want %v", tt.in, p.addTo(base), tt.want)
		}
	}
}

func TestMatcherDoesNotAllocate(t *testing.T) {
	q, err := Parse(`project in (ALPHA, BETA) AND status != Done AND labels = backend AND reporter in membersOf(big) OR summary ~ "login crash" OR updated >= -1d OR key > ALPHA-2`)
	if err != nil {
		t.Fatal(err)
	}
	m, err := q.Compile(testEnv())
	if err != nil {
		t.Fatal(err)
	}
	var r Record = issues[2]
	allocs := testing.AllocsPerRun(100, func() {
		for _, x := range issues {
			m(x)
		}
		m(r)
	})
	if allocs != 0 {
		t.Fatalf("matcher allocates %v times per run", allocs)
	}
}
