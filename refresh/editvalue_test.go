package refresh

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"foundation/lens"
	"foundation/store"
)

var testCatalog = []lens.Field{
	{ID: "summary", Name: "Summary", SchemaType: "string"},
	{ID: "status", Name: "Status", SchemaType: "status"},
	{ID: "priority", Name: "Priority", SchemaType: "priority"},
	{ID: "labels", Name: "Labels", SchemaType: "array", SchemaItems: "string"},
	{ID: "components", Name: "Components", SchemaType: "array", SchemaItems: "component"},
	{ID: "fixVersions", Name: "Fix versions", SchemaType: "array", SchemaItems: "version"},
	{ID: "duedate", Name: "Due date", SchemaType: "date"},
	{ID: "assignee", Name: "Assignee", SchemaType: "user"},
	{ID: "parent", Name: "Parent", SchemaType: "issuelink"},
	{ID: "description", Name: "Description", SchemaType: "string"},
	{ID: "customfield_10014", Name: "Epic Link", Custom: true, SchemaType: "any", SchemaCustom: "com.pyxis.greenhopper.jira:gh-epic-link"},
	{ID: "customfield_10016", Name: "Story Points", Custom: true, SchemaType: "number", SchemaCustom: "com.pyxis.greenhopper.jira:jsw-story-points"},
	{ID: "customfield_10020", Name: "Sprint", Custom: true, SchemaType: "array", SchemaItems: "json", SchemaCustom: "com.pyxis.greenhopper.jira:gh-sprint"},
	{ID: "customfield_10100", Name: "Team", Custom: true, SchemaType: "option"},
	{ID: "customfield_10101", Name: "Notes", Custom: true, SchemaType: "string", SchemaCustom: "com.atlassian.jira.plugin.system.customfieldtypes:textarea"},
	{ID: "customfield_10102", Name: "Start", Custom: true, SchemaType: "datetime"},
	{ID: "customfield_10200", Name: "Dup", Custom: true, SchemaType: "string"},
	{ID: "customfield_10201", Name: "Dup", Custom: true, SchemaType: "string"},
}

var testWK = store.WellKnown{StoryPoints: "customfield_10016", Sprint: "customfield_10020", EpicLink: "customfield_10014"}

func TestResolveField(t *testing.T) {
	cases := []struct {
		in   string
		id   string
		kind editKind
		err  string
	}{
		{in: "summary", id: "summary", kind: kindText},
		{in: " Summary ", id: "summary", kind: kindText},
		{in: "SP", id: "customfield_10016", kind: kindNumber},
		{in: "story points", id: "customfield_10016", kind: kindNumber},
		{in: "cf[10016]", id: "customfield_10016", kind: kindNumber},
		{in: "customfield_10016", id: "customfield_10016", kind: kindNumber},
		{in: "due", id: "duedate", kind: kindDate},
		{in: "Fix versions", id: "fixVersions", kind: kindMultiOption},
		{in: "fixversion", id: "fixVersions", kind: kindMultiOption},
		{in: "component", id: "components", kind: kindMultiOption},
		{in: "labels", id: "labels", kind: kindLabels},
		{in: "sprint", id: "customfield_10020", kind: kindSprint},
		{in: "Epic Link", id: "customfield_10014", kind: kindEpicLink},
		{in: "status", id: "status", kind: kindStatus},
		{in: "parent", id: "parent", kind: kindParent},
		{in: "assignee", id: "assignee", kind: kindUser},
		{in: "description", id: "description", kind: kindRichText},
		{in: "notes", id: "customfield_10101", kind: kindRichText},
		{in: "team", id: "customfield_10100", kind: kindOption},
		{in: "start", id: "customfield_10102", kind: kindDateTime},
		{in: "priority", id: "priority", kind: kindOption},
		{in: "dup", err: "ambiguous; use one of the ids customfield_10200, customfield_10201"},
		{in: "nope", err: `unknown field "nope"`},
		{in: "", err: "empty field name"},
	}
	for _, tc := range cases {
		f, err := resolveField(tc.in, testCatalog, testWK)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || f.ID != tc.id || f.Kind != tc.kind {
			t.Errorf("%q: %+v %v, want %s kind %d", tc.in, f, err, tc.id, tc.kind)
		}
	}
	// An empty catalog (an edit before the first refresh) still knows the system fields.
	if f, err := resolveField("labels", nil, store.WellKnown{}); err != nil || f.ID != "labels" || f.Kind != kindLabels {
		t.Errorf("labels without a catalog: %+v %v", f, err)
	}
	// A role the site has no field for is no alias.
	if f, err := resolveField("sp", nil, store.WellKnown{}); err == nil {
		t.Errorf("sp without a story points field: %+v", f)
	}
}

func TestParseDate(t *testing.T) {
	now := time.Date(2026, 1, 31, 18, 30, 0, 0, time.UTC)
	cases := map[string]string{
		"2026-02-14": "2026-02-14", "today": "2026-01-31", "Tomorrow": "2026-02-01", "yesterday": "2026-01-30",
		"+3d": "2026-02-03", "-1w": "2026-01-24", "+1m": "2026-02-28", "+13m": "2027-02-28", "-2y": "2024-01-31", "-11m": "2025-02-28", " +0d ": "2026-01-31",
	}
	for in, want := range cases {
		got, err := parseDate(in, now)
		if err != nil || got.Format(time.DateOnly) != want {
			t.Errorf("%q: %s %v, want %s", in, got.Format(time.DateOnly), err, want)
		}
	}
	for _, bad := range []string{"", "3d", "+d", "+3x", "+-3d", "2026-13-01", "31/01/2026", "+99999999d"} {
		if _, err := parseDate(bad, now); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSplitList(t *testing.T) {
	cases := []struct {
		in                 string
		set, add, remove   []string
		isSet, wantFailure bool
	}{
		{in: "a,b", set: []string{"a", "b"}, isSet: true},
		{in: " a , ,b ", set: []string{"a", "b"}, isSet: true},
		{in: "none", isSet: true},
		{in: "", isSet: true},
		{in: "+a", add: []string{"a"}},
		{in: "-a,+b", add: []string{"b"}, remove: []string{"a"}},
		{in: "a,+b", wantFailure: true},
	}
	for _, tc := range cases {
		set, add, remove, isSet, err := splitList(tc.in)
		if tc.wantFailure {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || !slices.Equal(set, tc.set) || !slices.Equal(add, tc.add) || !slices.Equal(remove, tc.remove) || isSet != tc.isSet {
			t.Errorf("%q: set %v add %v remove %v isSet %v err %v", tc.in, set, add, remove, isSet, err)
		}
	}
}

func TestRenderRaw(t *testing.T) {
	cases := []struct {
		k    editKind
		raw  string
		want string
	}{
		{kindText, `"hello"`, "hello"},
		{kindRichText, `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}`, "hi"},
		{kindNumber, `3.5`, "3.5"},
		{kindNumber, `null`, ""},
		{kindDate, `"2026-02-01"`, "2026-02-01"},
		{kindUser, `{"accountId":"abc","displayName":"A"}`, "abc"},
		{kindUser, `{"name":"bob","key":"bob","displayName":"Bob"}`, "bob"},
		{kindOption, `{"id":"3","name":"Medium"}`, "Medium"},
		{kindOption, `{"id":"10","value":"Red"}`, "Red"},
		{kindStatus, `{"id":"3","name":"In Progress","statusCategory":{"key":"indeterminate"}}`, "In Progress"},
		{kindLabels, `["a","b"]`, "a,b"},
		{kindLabels, `[]`, ""},
		{kindMultiOption, `[{"id":"1","name":"API"},{"id":"2","name":"Web"}]`, "API,Web"},
		{kindSprint, `[{"id":1,"name":"S1","state":"closed"},{"id":4,"name":"S4","state":"active"}]`, "S4"},
		{kindParent, `{"id":"10001","key":"ALPHA-1","fields":{}}`, "ALPHA-1"},
		{kindEpicLink, `"ALPHA-2"`, "ALPHA-2"},
	}
	for _, tc := range cases {
		if got := renderRaw(tc.k, json.RawMessage(tc.raw)); got != tc.want {
			t.Errorf("kind %d %s: %q, want %q", tc.k, tc.raw, got, tc.want)
		}
	}
}

func TestSameValue(t *testing.T) {
	if !sameValue(kindLabels, "b,a", "a, b") || sameValue(kindLabels, "a", "a,b") {
		t.Error("lists compare as sets")
	}
	if !sameValue(kindNumber, "5", "5.0") || sameValue(kindNumber, "5", "6") {
		t.Error("numbers compare by value")
	}
	if sameValue(kindText, "A", "a") {
		t.Error("text compares exactly")
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-02-14", "today", "+3d", "-1w", "+2m", "-1y", "", "+", "+99999d", "-0d"} {
		f.Add(s)
	}
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDate(s, now)
		if err != nil {
			return
		}
		// Whatever parses is a whole day, and formats back to a date that parses again.
		if d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 {
			t.Fatalf("%q: %s is not a day", s, d)
		}
		again, err := parseDate(d.Format(time.DateOnly), now)
		if err != nil || !again.Equal(d) {
			t.Fatalf("%q: %s does not round-trip: %s %v", s, d, again, err)
		}
	})
}

func FuzzSplitList(f *testing.F) {
	for _, s := range []string{"a,b", "+a,-b", "none", "", "a,+b", ",,", "+,-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, add, remove, isSet, err := splitList(s)
		if err != nil {
			return
		}
		if isSet && (len(add) > 0 || len(remove) > 0) {
			t.Fatalf("%q: a set with changes", s)
		}
		if !isSet && len(set) > 0 {
			t.Fatalf("%q: changes with a set", s)
		}
		for _, v := range slices.Concat(set, add, remove) {
			if v != strings.TrimSpace(v) || strings.Contains(v, ",") {
				t.Fatalf("%q: item %q not trimmed or split", s, v)
			}
		}
	})
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]float64{"5": 5, "2.5": 2.5, "-1": -1, "+3": 3, " 8 ": 8, ".5": 0.5, "5.": 5, "0": 0} {
		if got, err := ParseNumber(in); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "NaN", "nan", "Inf", "+Inf", "-Infinity", "1_000", "0x10", "0x1p4", "1e3", "1,5", "--1", "1-", ".", "-", "1.2.3", "5 points", strings.Repeat("9", 400)} {
		if got, err := ParseNumber(bad); err == nil {
			t.Errorf("%q: %v, want an error", bad, got)
		}
	}
}

func TestParseDateYears(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, bad := range []string{"+99999y", "-2000y", "0999-12-31", "0001-01-01", "+8000y"} {
		if d, err := parseDate(bad, now); err == nil || !strings.Contains(err.Error(), "1000-9999") {
			t.Errorf("%q: %s %v, want refused", bad, d, err)
		}
	}
	for _, ok := range []string{"1000-01-01", "9999-12-31", "+7000y", "-1000y"} {
		if _, err := parseDate(ok, now); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"5", "2.5", "-1", "+3", ".5", "5.", "NaN", "Inf", "1_000", "0x10", "1e3", "", "-", ".", "1e400", "99999999999999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			return
		}
		// Whatever parses is finite, and was a plain decimal: digits, one dot, a leading sign.
		if math.IsNaN(n) || math.IsInf(n, 0) {
			t.Fatalf("%q parsed to %v", s, n)
		}
		if !plainDecimalText.MatchString(strings.TrimSpace(s)) {
			t.Fatalf("%q is not a plain decimal but parsed to %v", s, n)
		}
	})
}

var plainDecimalText = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)
