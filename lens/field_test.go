package lens

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"foundation/jql"
)

func TestRawValues(t *testing.T) {
	env := &valueEnv{users: map[string]string{"u-1": "Una One"}}
	for _, tc := range []struct {
		name, raw, typ string
		want           string // displays joined by "|", each with its kind
	}{
		{"number", `3.5`, "number", "3.5:number"},
		{"string", `"hello"`, "string", "hello:text"},
		{"null", `null`, "string", ""},
		{"date", `"2026-02-03"`, "date", "2026-02-03:time"},
		{"datetime", `"2026-02-03T14:05:06.000+0000"`, "datetime", "2026-02-03 14:05:time"},
		{"user known", `{"accountId":"u-1","displayName":"Stale Name"}`, "user", "Una One:text"},
		{"user unknown", `{"accountId":"u-2","displayName":"Two"}`, "user", "Two:text"},
		{"option", `{"value":"Team A","id":"1"}`, "option", "Team A:text"},
		{"versions", `[{"name":"1.0"},{"name":"2.0"}]`, "array", "1.0:text|2.0:text"},
		{"sprints", `[{"id":3,"name":"Sprint 3"}]`, "array", "Sprint 3:text"},
		{"labels", `["a","b"]`, "array", "a:text|b:text"},
		{"adf", `{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"Hi "},{"type":"mention","attrs":{"text":"@una"}}]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one"}]}]}]}]}`, "string", "Hi @una one:text"},
		{"bad json", `{`, "string", "{:text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range rawValues(json.RawMessage(tc.raw), tc.typ, env) {
				got = append(got, v.display()+":"+v.Kind.String())
			}
			if g := strings.Join(got, "|"); g != tc.want {
				t.Errorf("got %q, want %q", g, tc.want)
			}
		})
	}
	text := &valueEnv{text: func(json.RawMessage) string { return "from jira.ADFText" }}
	if v := rawValues(json.RawMessage(`{"type":"doc","content":[]}`), "string", text); len(v) != 1 || v[0].Str != "from jira.ADFText" {
		t.Errorf("Data.Text not used: %v", v)
	}
}

func TestResolveField(t *testing.T) {
	cat := NewCatalog(testFields)
	for _, tc := range []struct {
		in    string
		sys   sysField
		id    string
		title string
	}{
		{"Story Points", sysStoryPoints, "", "SP"},
		{"customfield_10016", sysNone, "customfield_10016", "Story Points"},
		{"cf[10020]", sysNone, "customfield_10020", "Sprint"},
		{"sprint", sysNone, "customfield_10020", "Sprint"},
		{"ISSUEKEY", sysKey, "", "Key"},
		{"Due date", sysDue, "", "Due"},
		{"Team", sysNone, "customfield_10050", "Team"},
	} {
		r, err := cat.resolve(tc.in)
		if err != nil || r.sys != tc.sys || r.id != tc.id || r.title != tc.title {
			t.Errorf("resolve(%q) = %+v, %v", tc.in, r, err)
		}
	}
	if _, err := cat.resolve("Flavour"); err == nil || !strings.Contains(err.Error(), "valid: key, summary") || !strings.Contains(err.Error(), "Team") {
		t.Errorf("unknown field error: %v", err)
	}
}

func TestIssueRecord(t *testing.T) {
	sp := 5.0
	is := &Issue{Key: "ALPHA-1", Project: "ALPHA", Labels: []string{"x", "y"}, StoryPoints: &sp, Assignee: "u-1",
		DueDate: "2026-02-03", Fields: map[string]json.RawMessage{"customfield_10020": json.RawMessage(`[{"id":7,"name":"Sprint 7"}]`)}}
	r := &issueRecord{is: is, users: map[string]string{"u-1": "Una"}}
	for _, tc := range []struct {
		field string
		want  string
	}{
		{"key", "ALPHA-1"}, {"labels", "x,y"}, {"story points", "5"}, {"assignee", "u-1/Una"},
		{"sprint", "Sprint 7/7"}, {"cf[10020]", "Sprint 7/7"}, {"duedate", "2026-02-03"}, {"parent", ""},
	} {
		var got []string
		for _, v := range r.Values(tc.field) {
			s := v.Str
			switch v.Kind {
			case jql.Number:
				s = formatNum(v.Num)
			case jql.Time:
				s = v.Time.Format(time.DateOnly)
			}
			if len(v.Alt) > 0 {
				s += "/" + strings.Join(v.Alt, "/")
			}
			got = append(got, s)
		}
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("Values(%q) = %q, want %q", tc.field, g, tc.want)
		}
	}
	if v := is.Values("labels"); len(v) != 2 {
		t.Errorf("(*Issue).Values = %v", v)
	}
}
