package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"foundation/lens"
)

func rawFields(t testing.TB, s string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	return m
}

func ptr(f float64) *float64 { return &f }

func TestExtract(t *testing.T) {
	wk := WellKnown{StoryPoints: "customfield_10016", EpicLink: "customfield_10014", Rank: "customfield_10019", Sprint: "customfield_10020"}
	tests := []struct {
		name   string
		fields string
		want   lens.Issue
	}{
		{
			name: "cloud issue with every extracted field",
			fields: `{
				"project": {"id": "10000", "key": "ALPHA", "name": "Alpha"},
				"issuetype": {"name": "Story", "subtask": false},
				"status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
				"priority": {"name": "High"},
				"resolution": null,
				"parent": {"key": "ALPHA-1", "id": "10001"},
				"security": {"name": "Internal"},
				"assignee": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Alice"},
				"reporter": {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
				"summary": "Make it \"fast\"",
				"labels": ["perf", "backend"],
				"customfield_10016": 5.5,
				"duedate": "2024-03-01",
				"created": "2024-01-31T14:05:06.789+0000",
				"updated": "2024-02-01T09:00:00.001+0100",
				"customfield_10019": "0|i0000f:"
			}`,
			want: lens.Issue{
				ID: 10042, Key: "ALPHA-42", ProjectID: 10000, Project: "ALPHA", Type: "Story",
				Status: "In Progress", StatusCategory: "indeterminate", Priority: "High",
				Parent: "ALPHA-1", SecurityLevel: "Internal", Assignee: "5b10a2844c20165700ede21g",
				Reporter: "5b10ac8d82e05b22cc7d4ef5", Summary: `Make it "fast"`, Labels: []string{"perf", "backend"},
				StoryPoints: ptr(5.5), DueDate: "2024-03-01",
				Created: time.Date(2024, 1, 31, 14, 5, 6, 789e6, time.UTC),
				Updated: time.Date(2024, 2, 1, 8, 0, 0, 1e6, time.UTC),
				Rank:    "0|i0000f:",
			},
		},
		{
			name: "data center sub-task with epic link and user names",
			fields: `{
				"project": {"id": 10100, "key": "BETA"},
				"issuetype": {"name": "Sub-task", "subtask": true},
				"status": {"name": "Done", "statusCategory": {"key": "done"}},
				"resolution": {"name": "Fixed"},
				"parent": {"key": "BETA-3"},
				"customfield_10014": "BETA-1",
				"assignee": {"name": "bob", "key": "JIRAUSER10100"},
				"reporter": {"name": "carol"},
				"summary": "x",
				"labels": [],
				"customfield_10016": null,
				"created": "2024-01-31T14:05:06+0000",
				"updated": "2024-01-31T14:05:06.000Z"
			}`,
			want: lens.Issue{
				ID: 10042, Key: "ALPHA-42", ProjectID: 10100, Project: "BETA", Type: "Sub-task", Subtask: true,
				Status: "Done", StatusCategory: "done", Resolution: "Fixed", Parent: "BETA-3", EpicLink: "BETA-1",
				Assignee: "bob", Reporter: "carol", Summary: "x",
				Created: time.Date(2024, 1, 31, 14, 5, 6, 0, time.UTC),
				Updated: time.Date(2024, 1, 31, 14, 5, 6, 0, time.UTC),
			},
		},
		{
			name:   "nulls and absences leave columns empty",
			fields: `{"assignee": null, "priority": null, "labels": null, "duedate": null, "parent": null}`,
			want:   lens.Issue{ID: 10042, Key: "ALPHA-42"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := rawFields(t, tt.fields)
			got, err := Extract(10042, "ALPHA-42", f, wk)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			tt.want.Fields = f
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Extract:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestExtractErrors(t *testing.T) {
	wk := WellKnown{StoryPoints: "customfield_10016"}
	tests := []struct {
		name, fields, field string
	}{
		{"project id not a number", `{"project": {"id": "ten"}}`, "project"},
		{"status is a string", `{"status": "Done"}`, "status"},
		{"labels not strings", `{"labels": [1, 2]}`, "labels"},
		{"story points text", `{"customfield_10016": "five"}`, "customfield_10016"},
		{"bad updated", `{"updated": "yesterday"}`, "updated"},
		{"bad due date", `{"duedate": "2024-13-01"}`, "duedate"},
		{"assignee is a number", `{"assignee": 7}`, "assignee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Extract(1, "A-1", rawFields(t, tt.fields), wk)
			var ee *ExtractError
			if !errors.As(err, &ee) {
				t.Fatalf("want *ExtractError, got %v", err)
			}
			if ee.Field != tt.field || ee.Key != "A-1" {
				t.Errorf("error names %s/%s, want A-1/%s", ee.Key, ee.Field, tt.field)
			}
		})
	}
	if _, err := Extract(1, "", nil, wk); err == nil {
		t.Error("empty key accepted")
	}
}

// FuzzExtract feeds arbitrary JSON objects: Extract must never panic, and whatever it accepts
// must survive a store round trip unchanged in its extracted columns.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		`{"project":{"id":"1","key":"A"},"status":{"name":"Done","statusCategory":{"key":"done"}},"updated":"2024-01-31T14:05:06.789+0000"}`,
		`{"labels":["a","b\"c"],"customfield_1":3,"assignee":{"name":"x"}}`,
		`{"parent":{"key":"A-1"},"customfield_2":"A-0","customfield_3":"0|a:"}`,
		`{"created":"2024-01-31T14:05:06Z","duedate":"2024-02-29"}`,
		`{}`,
	} {
		f.Add(s)
	}
	wk := WellKnown{StoryPoints: "customfield_1", EpicLink: "customfield_2", Rank: "customfield_3"}
	f.Fuzz(func(t *testing.T, s string) {
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		is, err := Extract(7, "A-7", m, wk)
		if err != nil {
			var ee *ExtractError
			if !errors.As(err, &ee) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if is.ID != 7 || is.Key != "A-7" {
			t.Fatalf("identity lost: %d %s", is.ID, is.Key)
		}
		if !is.Updated.IsZero() && is.Updated.Location() != time.UTC {
			t.Fatalf("updated not UTC: %v", is.Updated)
		}
		labels := appendLabels(nil, is.Labels)
		if want, err := json.Marshal(is.Labels); err != nil || len(is.Labels) > 0 && string(want) != string(labels) {
			t.Fatalf("labels %q encode as %s, json.Marshal %s (%v)", is.Labels, labels, want, err)
		}
		back, err := parseLabels(string(labels), interner{})
		if err != nil {
			t.Fatalf("labels %s do not parse back: %v", labels, err)
		}
		if len(back) != len(is.Labels) {
			t.Fatalf("labels %q came back as %q", is.Labels, back)
		}
		for i := range back {
			if back[i] != is.Labels[i] {
				t.Fatalf("labels %q came back as %q", is.Labels, back)
			}
		}
	})
}

// fastCases are field sets that take each way through Extract's scanner: the shapes Jira
// sends, and the ones it hands to encoding/json (escapes, keys differing in case, wrong
// types, odd spacing, repeated members).
var fastCases = []string{
	`{"project":{"id":"10000","key":"ALPHA"},"issuetype":{"name":"Story","subtask":false},"status":{"name":"In Progress","statusCategory":{"key":"indeterminate","id":4}},"priority":{"name":"High"},"resolution":null,"security":{"name":"Internal"},"parent":{"id":"1","key":"ALPHA-1","fields":{"summary":"s"}},"customfield_2":"ALPHA-0","assignee":{"accountId":"a1","displayName":"Ada","avatarUrls":{"48x48":"http://x/48","16x16":"http://x/16"}},"reporter":{"name":"bob"},"summary":"plain","labels":["x","y"],"customfield_1":2.5,"duedate":"2024-02-29","created":"2024-01-31T14:05:06.789+0000","updated":"2024-01-31T14:05:06Z","customfield_3":"0|a:"}`,
	`{"project":{"id":10100,"key":"BETA"},"issuetype":{"name":"Sub-task","subtask":true},"summary":"caf\u00e9 \"quoted\"","labels":[]}`,
	`{"project":{"ID":"7","key":"A"},"issuetype":{"Name":"Bug"},"status":{"NAME":"Done","statusCategory":{"KEY":"done"}},"priority":{"name":"Low","Name":"High"}}`,
	`{"priority":{"name":"a","name":"b"},"summary":"first","summary":"second","parent":{"key":"A-1","key":"A-2"}}`,
	`{"status":"Done","priority":5,"labels":[1],"customfield_1":"five","summary":7,"issuetype":{"subtask":"yes"}}`,
	`{"customfield_1":1e999,"duedate":"2024-13-01","updated":"soon"}`,
	`{"project":{"id":{"n":1},"key":"A"},"assignee":{"accountId":"a\u0031"},"reporter":[]}`,
	` {"project" : { "id" : " 5 " , "key" : "A" } , "labels" : [ "a" , "b" ] , "summary" : null , "customfield_1" : -0.5e+2 }`,
	`{"assignee":{"accountId":"","name":"dc-user","avatarUrls":{"48x48":null}},"reporter":{"accountId":"x","avatarUrls":{"48x48":1}}}`,
	`{"project":{"id":"1","key":"A","k\u00e9y":"B"},"labels":["\u00e9"],"summary":"\ud800"}`,
	`{"summary":"é ünïcode","labels":["ü"],"parent":{"kéy":"x","key":"P-1"}}`,
}

// TestExtractFastMatchesEncodingJSON compares Extract with the same extraction done
// entirely through encoding/json.
func TestExtractFastMatchesEncodingJSON(t *testing.T) {
	for i, s := range fastCases {
		t.Run(strconv.Itoa(i), func(t *testing.T) { compareExtract(t, s) })
	}
}

func compareExtract(t *testing.T, s string) {
	t.Helper()
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &m) != nil {
		return
	}
	wk := WellKnown{StoryPoints: "customfield_1", EpicLink: "customfield_2", Rank: "customfield_3"}
	got, gerr := extract(7, "A-7", m, wk, true)
	want, werr := extract(7, "A-7", m, wk, false)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%s:\nerror %v\nencoding/json %v", s, gerr, werr)
	}
	if gerr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", s, got, want)
	}
	for _, f := range []string{"assignee", "reporter", "creator", "parent", "summary"} {
		gu, gok := extractUser(m[f], true)
		wu, wok := extractUser(m[f], false)
		if gu != wu || gok != wok {
			t.Fatalf("user %s of %s: %+v %v, encoding/json %+v %v", f, s, gu, gok, wu, wok)
		}
	}
}

// FuzzExtractFast: the scanner and encoding/json agree on any fields, errors included.
func FuzzExtractFast(f *testing.F) {
	for _, s := range fastCases {
		f.Add(s)
	}
	f.Fuzz(compareExtract)
}

// BenchmarkExtract extracts a typical Cloud issue with the scanner and through encoding/json
// in the same run; x-json is the scanner's time over encoding/json's (lower is better).
func BenchmarkExtract(b *testing.B) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(fastCases[0]), &m); err != nil {
		b.Fatal(err)
	}
	wk := WellKnown{StoryPoints: "customfield_1", EpicLink: "customfield_2", Rank: "customfield_3"}
	var fast, slow time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := extract(7, "A-7", m, wk, true); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := extract(7, "A-7", m, wk, false); err != nil {
			b.Fatal(err)
		}
		fast, slow = fast+t1.Sub(t0), slow+time.Since(t1)
	}
	b.ReportMetric(float64(fast)/float64(slow), "x-json")
}

// TestSpecialInString checks the eight-byte test against a byte loop: every byte value at
// every position, among plain and among high bytes.
func TestSpecialInString(t *testing.T) {
	for _, fill := range []byte{'a', 0xff, 0x80, ' '} {
		for pos := range 8 {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				want := false
				for _, b := range w {
					want = want || b == '"' || b == '\\' || b < 0x20
				}
				if got := specialInString(binary.LittleEndian.Uint64(w[:])); got != want {
					t.Fatalf("%q: %v, want %v", w, got, want)
				}
			}
		}
	}
}

func TestExtractLinks(t *testing.T) {
	for _, in := range []string{
		``, `null`, `[]`, ` [ ] `,
		`[{"id":"10020","type":{"id":"1","name":"Blocks","inward":"is blocked by","outward":"blocks"},"outwardIssue":{"id":"2","key":"A-2","fields":{"summary":"s"}}}]`,
		`[{"id":"10021","type":{"name":"Relates","inward":"relates to","outward":"relates to"},"inwardIssue":{"key":"B-1"}},{"id":"10022","type":{"name":"Blocks"},"inwardIssue":null,"outwardIssue":{"key":"C-3"}}]`,
		`[{"id":"10023","type":{"name":"Blocks"}}]`,
		`[{"id":"10024","type":{"Name":"Case"},"outwardIssue":{"KEY":"D-1"}}]`,
		`[{"id":10025,"type":{"name":"Blocks"},"outwardIssue":{"key":"A-1"}}]`,
		`[{"id":"x","type":{"name":"Blocks"},"outwardIssue":{"key":"A-1"}}]`,
		`[null]`, `[1]`, `{"id":"1"}`, `[{"id":"1","type":{"name":"a\u00e9"},"outwardIssue":{"key":"A-\u0031"}}]`,
	} {
		fast, ferr := ExtractLinks("K-1", json.RawMessage(in))
		var slow []lens.Link
		var serr error
		if trimmed := strings.TrimSpace(in); trimmed == "" || trimmed == "null" {
			slow = nil
		} else {
			slow, serr = slowLinks("K-1", json.RawMessage(in))
		}
		if (ferr != nil) != (serr != nil) || (ferr != nil && ferr.Error() != serr.Error()) {
			t.Errorf("ExtractLinks(%s): error %v, encoding/json %v", in, ferr, serr)
			continue
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) && !(len(fast) == 0 && len(slow) == 0 && (fast == nil) == (slow == nil)) {
			t.Errorf("ExtractLinks(%s) = %+v, encoding/json %+v", in, fast, slow)
		}
	}
}

func FuzzExtractLinks(f *testing.F) {
	f.Add([]byte(`[{"id":"10021","type":{"name":"Relates","inward":"r","outward":"r"},"inwardIssue":{"key":"B-1"}}]`))
	f.Add([]byte(`[{"id":"1","type":{"name":"B"},"inwardIssue":null,"outwardIssue":{"key":"C-3"}}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) || len(bytes.TrimSpace(in)) == 0 || string(bytes.TrimSpace(in)) == "null" {
			return
		}
		fast, ferr := ExtractLinks("K-1", in)
		slow, serr := slowLinks("K-1", in)
		if (ferr != nil) != (serr != nil) {
			t.Fatalf("ExtractLinks(%s): error %v, encoding/json %v", in, ferr, serr)
		}
		if ferr == nil && len(fast)+len(slow) > 0 && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("ExtractLinks(%s) = %+v, encoding/json %+v", in, fast, slow)
		}
	})
}
