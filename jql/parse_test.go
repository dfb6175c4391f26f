package jql

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stripPos zeroes positions so parsed queries can be compared structurally.
func stripPos(q *Query) *Query {
	q.orderPos = nil
	var op func(o Operand)
	op = func(o Operand) {
		switch x := o.(type) {
		case *Literal:
			x.pos = Pos{}
		case *Func:
			x.pos = Pos{}
		case *Empty:
			x.pos = Pos{}
		case *List:
			x.pos = Pos{}
			for _, it := range x.Items {
				op(it)
			}
		}
	}
	var ex func(e Expr)
	ex = func(e Expr) {
		switch x := e.(type) {
		case *And:
			for _, t := range x.Terms {
				ex(t)
			}
		case *Or:
			for _, t := range x.Terms {
				ex(t)
			}
		case *Not:
			ex(x.X)
		case *Clause:
			x.pos, x.opPos = Pos{}, Pos{}
			op(x.Operand)
			for i := range x.Preds {
				x.Preds[i].pos = Pos{}
				op(x.Preds[i].Operand)
			}
		}
	}
	ex(q.Where)
	return q
}

func TestParseString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{``, ``},
		{`   `, ``},
		{`project = ALPHA`, `project = ALPHA`},
		{`PROJECT=alpha`, `project = alpha`},
		{`project != ALPHA`, `project != ALPHA`},
		{`id < 10`, `id < 10`},
		{`id <= 10`, `id <= 10`},
		{`id > 10`, `id > 10`},
		{`id >= 10`, `id >= 10`},
		{`summary ~ "disk full"`, `summary ~ "disk full"`},
		{`summary !~ disk`, `summary !~ disk`},
		{`status in (Done, "In Progress")`, `status IN (Done, "In Progress")`},
		{`status not in (Done)`, `status NOT IN (Done)`},
		{`labels is empty`, `labels IS EMPTY`},
		{`labels IS NULL`, `labels IS EMPTY`},
		{`labels is not empty`, `labels IS NOT EMPTY`},
		{`labels = EMPTY`, `labels = EMPTY`},
		{`issuekey = ALPHA-1`, `key = ALPHA-1`},
		{`issue = ALPHA-1`, `key = ALPHA-1`},
		{`type = Bug`, `issuetype = Bug`},
		{`"Epic Link" = ALPHA-1`, `"Epic Link" = ALPHA-1`},
		{`"story points" > 3`, `"Story Points" > 3`},
		{`statusCategory = "To Do"`, `statusCategory = "To Do"`},
		{`fixVersion = "1.0"`, `fixVersion = 1.0`},
		{`customfield_10016 = 5`, `cf[10016] = 5`},
		{`cf[10016] = 5`, `cf[10016] = 5`},
		{`due < 1w`, `duedate < 1w`},
		{`assignee = currentuser()`, `assignee = currentUser()`},
		{`assignee in membersOf("jira-devs")`, `assignee IN membersOf(jira-devs)`},
		{`assignee in membersOf("jira devs")`, `assignee IN membersOf("jira devs")`},
		{`sprint in openSprints()`, `sprint IN openSprints()`},
		{`updated > startOfDay(-1d)`, `updated > startOfDay(-1d)`},
		{`created > now()`, `created > now()`},
		{`f1 = b AND c = d OR e = f`, `f1 = b AND c = d OR e = f`},
		{`f1 = b AND (c = d OR e = f)`, `f1 = b AND (c = d OR e = f)`},
		{`(f1 = b AND c = d) AND e = f`, `f1 = b AND c = d AND e = f`},
		{`f1 = b AND (c = d AND e = f)`, `f1 = b AND c = d AND e = f`},
		{`(f1 = b OR c = d) OR e = f`, `f1 = b OR c = d OR e = f`},
		{`NOT f1 = b`, `NOT f1 = b`},
		{`not (f1 = b or c = d)`, `NOT (f1 = b OR c = d)`},
		{`NOT NOT f1 = b`, `NOT NOT f1 = b`},
		{`order by updated`, `ORDER BY updated ASC`},
		{`project = P order by updated desc, KEY asc, priority`, `project = P ORDER BY updated DESC, key ASC, priority ASC`},
		{`summary ~ "say \"hi\"\n"`, `summary ~ "say \"hi\"\n"`},
		{`summary ~ 'single'`, `summary ~ single`},
		{`summary ~ "and"`, `summary ~ "and"`},
		{`summary ~ "\u0041"`, `summary ~ "A"`},
		{`summary ~ "\u0042"`, `summary ~ B`},
		{`labels = a\ b`, `labels = "a b"`},
		{"project = P\nAND status = B", `project = P AND status = B`},
		{`project in (P, EMPTY)`, `project IN (P, EMPTY)`},
		{`"my field" = x`, `"my field" = x`},
		{`project = "AS"`, `project = "AS"`},
		{`labels in ('start', "End", desc2)`, `labels IN ("start", "End", desc2)`},
		{`"date" = x`, `"date" = x`},
		{`status was Done`, `status WAS Done`},
		{`status was not Done`, `status WAS NOT Done`},
		{`status WAS in (Done, "In Progress")`, `status WAS IN (Done, "In Progress")`},
		{`status was not in (Done) before "2024/01/01"`, `status WAS NOT IN (Done) BEFORE 2024/01/01`},
		{`assignee was empty`, `assignee WAS EMPTY`},
		{`assignee changed`, `assignee CHANGED`},
		{`assignee changed by currentUser() after -1w AND project = P`, `assignee CHANGED BY currentUser() AFTER -1w AND project = P`},
		{`status changed from "To Do" to Done during ("2024-01-01", "2024-01-31")`, `status CHANGED FROM "To Do" TO Done DURING (2024-01-01, 2024-01-31)`},
		{`priority was High on 2024-01-05 by (bob, alice)`, `priority WAS High ON 2024-01-05 BY (bob, alice)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got := q.String()
			if got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			again, err := Parse(got)
			if err != nil {
				t.Fatalf("reparse %q: %v", got, err)
			}
			if !reflect.DeepEqual(stripPos(q), stripPos(again)) {
				t.Fatalf("reparse of %q differs:\n%#v\n%#v", got, q, again)
			}
		})
	}
}

func TestParseTree(t *testing.T) {
	q, err := Parse(`project in (P, "B", EMPTY) AND NOT (status = Done OR assignee = currentUser()) ORDER BY updated DESC`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Query{
		Where: &And{Terms: []Expr{
			&Clause{Field: "project", Op: OpIn, Operand: &List{Items: []Operand{&Literal{Text: "P"}, &Literal{Text: "B"}, &Empty{}}}},
			&Not{X: &Or{Terms: []Expr{
				&Clause{Field: "status", Op: OpEq, Operand: &Literal{Text: "Done"}},
				&Clause{Field: "assignee", Op: OpEq, Operand: &Func{Name: "currentUser"}},
			}}},
		}},
		OrderBy: []SortKey{{Field: "updated", Desc: true}},
	}
	if got := stripPos(q); !reflect.DeepEqual(got, want) {
		t.Fatalf("tree:\n%#v\nwant\n%#v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
		msg       string
	}{
		{`project foo`, 1, 9, `Error in the JQL Query: Expecting operator but got 'foo'. (line 1, character 9)`},
		{`project`, 1, 8, `Expecting operator before the end of the query.`},
		{`project = `, 1, 11, `Expecting either a value, list or function before the end of the query.`},
		{`project = P status = B`, 1, 13, `Expecting either 'OR' or 'AND' but got 'status'.`},
		{`project = "abc`, 1, 11, `The quoted string '"abc' has not been completed.`},
		{`project in (x, y`, 1, 17, `Expecting ',' or ')' before the end of the query.`},
		{`project in (x y)`, 1, 15, `Expecting ',' or ')' but got 'y'.`},
		{`status = order`, 1, 10, `'order' is a reserved JQL word.`},
		{`project = AS`, 1, 11, `Error in the JQL Query: 'AS' is a reserved JQL word. You must surround it in quotation marks to use it in a query. (line 1, character 11)`},
		{`project in (ALPHA, set)`, 1, 20, `'set' is a reserved JQL word.`},
		{`status = OR`, 1, 10, `Expecting either a value, list or function but got 'OR'. You must surround 'OR' in quotation marks to use it as a value.`},
		{`date = x`, 1, 1, `'date' is a reserved JQL word.`},
		{`ORDER BY user`, 1, 10, `'user' is a reserved JQL word.`},
		{`= A`, 1, 1, `Expecting a field name but got '='.`},
		{`project = P AND`, 1, 16, `Expecting a field name at the end of the query.`},
		{`(project = P`, 1, 13, `Expecting ')' before the end of the query.`},
		{`project = P)`, 1, 12, `A ')' has no matching '('.`},
		{`project is A`, 1, 12, `The operator 'IS' only supports the 'EMPTY' or 'NULL' values`},
		{`project not = A`, 1, 13, `Expecting 'IN' but got '='.`},
		{`project = P ORDER updated`, 1, 19, `Expecting 'by' but got 'updated'.`},
		{`ORDER BY`, 1, 9, `Expecting a field name at the end of the query.`},
		{`ORDER BY updated sideways`, 1, 18, `Expecting either 'ASC', 'DESC' or ',' but got 'sideways'.`},
		{`project ! A`, 1, 9, `The character '!' is a reserved JQL character.`},
		{"project = P\n  AND foo", 2, 10, `Expecting operator before the end of the query.`},
		{"summary ~ \"x\\q\"", 1, 11, `The escape sequence '\q' is illegal.`},
		{`assignee = f(a b)`, 1, 16, `Expecting ',' or ')' but got 'b'.`},
		{`project = ()`, 1, 12, `Expecting either a value, list or function but got ')'.`},
		{`project = "ünï" foo`, 1, 17, `Expecting either 'OR' or 'AND' but got 'foo'.`},
		{`status was`, 1, 11, `Expecting either a value, list or function before the end of the query.`},
		{`status was not in`, 1, 18, `Expecting either a value, list or function before the end of the query.`},
		{`status changed after`, 1, 21, `Expecting either a value, list or function before the end of the query.`},
		{`status changed by (x y)`, 1, 22, `Expecting ',' or ')' but got 'y'.`},
		{`status = Done after -1d`, 1, 15, `Expecting either 'OR' or 'AND' but got 'after'.`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("Parse(%q) error = %v, want *Error", tt.in, err)
			}
			if je.Line != tt.line || je.Column != tt.col {
				t.Errorf("position = line %d, character %d; want %d, %d (%v)", je.Line, je.Column, tt.line, tt.col, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err.Error(), tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "Error in the JQL Query: ") {
				t.Errorf("message %q lacks Jira's prefix", err.Error())
			}
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	deep := strings.Repeat("(", 10000) + "x = y" + strings.Repeat(")", 10000)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("deep nesting: err = %v", err)
	}
	nots := strings.Repeat("NOT ", 10000) + "x = y"
	if _, err := Parse(nots); err == nil {
		t.Fatal("deep NOT chain parsed without error")
	}
}

func TestCanonicalField(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"project", "project", true},
		{"issuekey", "key", true},
		{"issue", "key", true},
		{"level", "level", true},
		{"KEY", "key", true},
		{"id", "id", true},
		{"type", "issuetype", true},
		{"IssueType", "issuetype", true},
		{"status", "status", true},
		{"statusCategory", "statuscategory", true},
		{"assignee", "assignee", true},
		{"reporter", "reporter", true},
		{"priority", "priority", true},
		{"labels", "labels", true},
		{"component", "component", true},
		{"fixVersion", "fixversion", true},
		{"sprint", "sprint", true},
		{"parent", "parent", true},
		{"Epic Link", "epic link", true},
		{"summary", "summary", true},
		{"description", "description", true},
		{"text", "text", true},
		{"created", "created", true},
		{"updated", "updated", true},
		{"duedate", "duedate", true},
		{"due", "duedate", true},
		{"resolution", "resolution", true},
		{"resolved", "resolutiondate", true},
		{"resolutionDate", "resolutiondate", true},
		{"Story Points", "story points", true},
		{"customfield_10016", "cf[10016]", true},
		{"cf[10016]", "cf[10016]", true},
		{"CF[ 010016 ]", "cf[10016]", true},
		{"cf[]", "", false},
		{"cf[abc]", "", false},
		{"customfield_", "", false},
		{"nosuchfield", "", false},
	}
	for _, tt := range tests {
		got, ok := CanonicalField(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CanonicalField(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFieldsFunctions(t *testing.T) {
	q, err := Parse(`issuekey = A-1 AND (assignee = currentUser() OR reporter in (bob, currentUser())) AND updated > startOfDay(-1) ORDER BY key, priority DESC`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := q.Fields(), []string{"key", "assignee", "reporter", "updated", "priority"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
	if got, want := q.Functions(), []string{"currentUser", "startOfDay"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Functions() = %v, want %v", got, want)
	}
}

func TestBounded(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{``, false},
		{`ORDER BY updated`, false},
		{`project = ALPHA`, true},
		{`project in (ALPHA, BETA)`, true},
		{`project != ALPHA`, false},
		{`project not in (ALPHA)`, false},
		{`project is empty`, false},
		{`key = A-1`, true},
		{`issuekey in (A-1, A-2)`, true},
		{`id = 10001`, true},
		{`parent = A-1`, true},
		{`updated >= -1d`, true},
		{`created > "2024-01-01"`, true},
		{`updated < -1d`, false},
		{`status = Done`, false},
		{`status = Done AND project = ALPHA`, true},
		{`status = Done OR project = ALPHA`, false},
		{`project = ALPHA OR key = B-1`, true},
		{`(project = ALPHA OR key = B-1) AND status = Done`, true},
		{`NOT project = ALPHA`, false},
		{`status = Done AND (project = ALPHA AND labels = x)`, true},
		// Atlassian's example of a bounded query.
		{`assignee = currentUser() ORDER BY key`, true},
		{`reporter in (alice, bob) AND status = Done`, true},
		{`assignee = currentUser() OR status = Done`, false},
		{`assignee != currentUser()`, false},
		{`assignee is EMPTY`, false},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := q.Bounded(); got != tt.want {
			t.Errorf("Bounded(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`project in (ALPHA, BETA) AND status != Done AND labels = backend ORDER BY updated DESC`,
		`assignee = currentUser() OR reporter in membersOf("devs")`,
		`"Epic Link" = A-1 and cf[10016] > 3 and summary ~ "\"x y\"" and created >= -2d`,
		`NOT (a = b OR c IS NOT EMPTY) ORDER BY key ASC, rank`,
		`updated < startOfDay(-1d) and due <= "2024-01-31 14:05"`,
		`labels = a\ b and x = 'y\u0041'`,
		`status was not in (Done, EMPTY) before -1w by currentUser() or assignee changed from x to (y, z) during (-2d, now())`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if je.Line < 1 || je.Column < 1 {
				t.Fatalf("bad position in %v", err)
			}
			return
		}
		s1 := q.String()
		q2, err := Parse(s1)
		if err != nil {
			t.Fatalf("String() %q of %q does not reparse: %v", s1, src, err)
		}
		if s2 := q2.String(); s2 != s1 {
			t.Fatalf("String not stable: %q -> %q -> %q", src, s1, s2)
		}
		if !reflect.DeepEqual(stripPos(q), stripPos(q2)) {
			t.Fatalf("reparse of %q differs structurally", s1)
		}
		// Compiling must not panic whatever the query holds; when it succeeds, the reparsed
		// query selects the same records and NOT selects the complement.
		env := testEnv()
		env.History = true
		// A site catalog that has nothing refuses with a positioned *Error, never panics;
		// one that has everything changes nothing.
		strict := env
		strict.HasField = func(string) bool { return false }
		strict.HasValue = func(string, string) bool { return false }
		fresh, _ := Parse(src) // q's positions were stripped above
		if _, err := fresh.Compile(strict); err != nil {
			var je *Error
			if !errors.As(err, &je) || je.Line < 1 || je.Column < 1 {
				t.Fatalf("%q against an empty site: %v (%T)", src, err, err)
			}
		}
		lax := env
		lax.HasField = func(string) bool { return true }
		lax.HasValue = func(string, string) bool { return true }
		_, laxErr := q.Compile(lax)
		m1, err := q.Compile(env)
		if (err == nil) != (laxErr == nil) {
			t.Fatalf("%q: compiles %v without a catalog, %v with one that has everything", src, err, laxErr)
		}
		if err != nil {
			return
		}
		if jerr := q.JiraError(); jerr != nil {
			t.Fatalf("%q compiles with every capability, yet JiraError says %v", src, jerr)
		}
		m2, err := q2.Compile(env)
		if err != nil {
			t.Fatalf("%q compiles but its String %q does not: %v", src, s1, err)
		}
		var mNot Matcher
		if q.Where != nil {
			mNot, err = (&Query{Where: &Not{X: q.Where}}).Compile(env)
			if err != nil {
				t.Fatalf("NOT of a compiling query fails: %v", err)
			}
		}
		records := historyIssues()
		for _, r := range issues {
			records = append(records, r)
		}
		for _, r := range records {
			a := m1(r)
			if m2(r) != a {
				t.Fatalf("%q and its String %q disagree on %v", src, s1, r.Values("key"))
			}
			if mNot != nil && mNot(r) == a {
				t.Fatalf("NOT (%s) does not complement it on %v", s1, r.Values("key"))
			}
		}
	})
}
