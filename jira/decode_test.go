package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		issues  int
		isLast  string // "true", "false" or "nil"
		token   string
		total   int
		wantErr bool
	}{
		{"cloud page", `{"issues":[{"id":"10001","key":"A-1","self":"x","fields":{"summary":"a \"quoted\" \u00e9","status":{"self":"u","name":"Done","iconUrl":"i","n":[1,2.5e3,-0.1,true,false,null]},"self":"a field","assignee":{ "avatarUrls" : {"self":1} , "self":"x"}}},{"expand":"","id":"10002","key":"A-2","fields":{}}],"nextPageToken":"tok\/1","isLast":false}`, 2, "false", "tok/1", 0, false},
		{"dc page", ` {"startAt":100, "maxResults":50,"total":1234,"issues":[{"id":"1","key":"B-1","fields":{"x":null}}], "names":{"x":"X"}} `, 1, "nil", "", 1234, false},
		{"bulkfetch", `{"issues":[],"issueErrors":[]}`, 0, "nil", "", 0, false},
		{"null members", `{"issues":null,"isLast":null,"nextPageToken":null}`, 0, "nil", "", 0, false},
		{"numeric id", `{"issues":[{"id":10001,"key":"A-1"}]}`, 1, "nil", "", 0, false},
		{"truncated", `{"issues":[{"id":"1","key":"A-1","fields":{"summary":"abc`, 0, "", "", 0, true},
		{"trailing garbage", `{"issues":[]} x`, 0, "", "", 0, true},
		{"bad literal", `{"issues":[{"id":"1","fields":{"a":tru}}]}`, 0, "", "", 0, true},
		{"bad number", `{"issues":[{"id":"1","fields":{"a":01}}]}`, 0, "", "", 0, true},
		{"bad escape", `{"issues":[{"id":"1","fields":{"a":"\x"}}]}`, 0, "", "", 0, true},
		{"missing colon", `{"issues" []}`, 0, "", "", 0, true},
		{"not an object", `[1]`, 0, "", "", 0, true},
		{"isLast string", `{"isLast":"yes"}`, 0, "", "", 0, true},
		{"control char", "{\"issues\":[{\"key\":\"a\nb\"}]}", 0, "", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodePage([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, errSyntax) {
					t.Fatalf("err %v, want a syntax error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Issues) != tt.issues || p.NextPageToken != tt.token || p.Total != tt.total {
				t.Errorf("page %+v", p)
			}
			last := "nil"
			if p.IsLast != nil {
				last = map[bool]string{true: "true", false: "false"}[*p.IsLast]
			}
			if last != tt.isLast {
				t.Errorf("isLast %s, want %s", last, tt.isLast)
			}
			checkAgainstStdlib(t, []byte(tt.in), p)
		})
	}
}

func TestDecodeIssue(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{"cloud issue", `{"expand":"renderedFields","id":"10007","self":"x","key":"ALPHA-7","fields":{"updated":"2026-01-01T10:00:00.000+0000","project":{"key":"ALPHA","name":"Alpha \u00e9"},"summary":"a \"b\""}}`, false},
		{"no fields", `{"id":"1","key":"A-1"}`, false},
		{"null fields", ` {"id":"1","key":"A-1","fields":null} `, false},
		{"numeric id", `{"id":10001,"key":"A-1","fields":{}}`, false},
		{"trailing garbage", `{"id":"1","key":"A-1"}{}`, true},
		{"truncated", `{"id":"1","key":"A-1","fields":{"summary":"x`, true},
		{"not an object", `["A-1"]`, true},
		{"empty", ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is, err := decodeIssue([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, errSyntax) {
					t.Fatalf("err %v, want a syntax error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstStdlib(t, []byte(`{"issues":[`+tt.in+`]}`), &page{Issues: []Issue{is}})
		})
	}
}

func FuzzDecodeIssue(f *testing.F) {
	f.Add([]byte(`{"id":"10001","key":"A-1","fields":{"summary":"x","n":[1,{"a":null}]}}`))
	f.Add([]byte(`{"id":1,"key":null,"fields":{"k":"\u0041\n"},"names":{"k":"K"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		is, err := decodeIssue(in)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			// Only inside Decoration, which is skipped, not read: what is kept is valid.
			keptValid(t, in, []Issue{is})
			return
		}
		checkAgainstStdlib(t, append(append([]byte(`{"issues":[`), in...), ']', '}'), &page{Issues: []Issue{is}})
	})
}

// keptValid checks an answer that is not valid JSON as a whole but was accepted: only a
// Decoration member's insides may be at fault, so everything the decoder kept is valid.
func keptValid(t *testing.T, in []byte, issues []Issue) {
	t.Helper()
	if !bytes.Contains(in, []byte(`"self"`)) && !bytes.Contains(in, []byte(`"iconUrl"`)) && !bytes.Contains(in, []byte(`"avatarUrls"`)) {
		t.Fatalf("accepted invalid JSON %q", in)
	}
	for _, is := range issues {
		if is.Raw != nil && !json.Valid(is.Raw) {
			t.Fatalf("accepted %q and kept invalid fields %q", in, is.Raw)
		}
		for k, v := range is.Fields {
			if !json.Valid(v) {
				t.Fatalf("accepted %q and kept invalid field %s %q", in, k, v)
			}
		}
	}
}

// checkAgainstStdlib compares the fast decoder with encoding/json on the same input. It
// decodes into maps because struct fields in encoding/json match keys case-insensitively,
// where Jira's keys (and the fast decoder) are exact.
func checkAgainstStdlib(t *testing.T, in []byte, p *page) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(in, &top); err != nil {
		t.Fatalf("encoding/json refuses what the fast decoder took: %v", err)
	}
	var issues []map[string]json.RawMessage
	if raw, ok := top["issues"]; ok && json.Unmarshal(raw, &issues) != nil {
		t.Fatalf("encoding/json refuses issues %s", raw)
	}
	if len(issues) != len(p.Issues) {
		t.Fatalf("%d issues, encoding/json %d", len(p.Issues), len(issues))
	}
	for i, m := range issues {
		got := p.Issues[i]
		var id, key string
		if json.Unmarshal(m["id"], &id) != nil && m["id"] != nil && string(m["id"]) != "null" {
			id = string(m["id"])
		}
		json.Unmarshal(m["key"], &key)
		var fields map[string]json.RawMessage
		json.Unmarshal(m["fields"], &fields)
		if got.ID != id || got.Key != key {
			t.Errorf("issue %d: %q %q, encoding/json %q %q", i, got.ID, got.Key, id, key)
		}
		if len(got.Fields) != len(fields) {
			t.Errorf("issue %d: %d fields, encoding/json %d", i, len(got.Fields), len(fields))
		}
		for k, v := range fields {
			// Without Decoration: the scanner's cuts and StripDecoration's search agree.
			if want := StripDecoration(nil, v); !bytes.Equal(got.Fields[k], want) {
				t.Errorf("issue %d field %s: %s, encoding/json %s, stripped %s", i, k, got.Fields[k], v, want)
			}
		}
		// Raw is the fields object with exactly those members: what the cache stores.
		if raw := m["fields"]; string(raw) == "null" || raw == nil {
			if got.Raw != nil {
				t.Errorf("issue %d: raw %s for fields %s", i, got.Raw, raw)
			}
		} else {
			var members map[string]json.RawMessage
			if err := json.Unmarshal(got.Raw, &members); err != nil {
				t.Fatalf("issue %d: raw %s: %v", i, got.Raw, err)
			}
			if len(members) != len(got.Fields) {
				t.Errorf("issue %d: raw %s has %d members, fields %d", i, got.Raw, len(members), len(got.Fields))
			}
			for k, v := range members {
				if !bytes.Equal(v, got.Fields[k]) {
					t.Errorf("issue %d: raw member %s = %s, field %s", i, k, v, got.Fields[k])
				}
			}
		}
	}
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"issues":[{"id":"10001","key":"A-1","fields":{"summary":"x","n":[1,{"a":null}]}}],"nextPageToken":"t","isLast":false}`))
	f.Add([]byte(`{"startAt":0,"maxResults":50,"total":3,"issues":[{"id":"1","key":"B-1","fields":{"k":"\u0041\n"}}]}`))
	f.Add([]byte(`{"issues":[],"issueErrors":[{"id":"9"}]}`))
	f.Add([]byte(`{"a":-1.5e+10,"b":[true,false,null]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := decodePage(in)
		if err != nil {
			return
		}
		// The quick pass a lazy walk pages with reads the same end.
		next, isLast, err := peekPageEnd(in)
		if err != nil || next != p.NextPageToken || isLast != (p.IsLast != nil && *p.IsLast) {
			t.Fatalf("peekPageEnd(%q) = %q, %v, %v; decodePage %q, %v", in, next, isLast, err, p.NextPageToken, p.IsLast)
		}
		if !json.Valid(in) {
			keptValid(t, in, p.Issues)
			return
		}
		checkAgainstStdlib(t, in, p)
	})
}

// BenchmarkDecodePage decodes a 100-issue search page with the fast decoder and with
// encoding/json in the same run and reports the ratio (fast / encoding/json; lower is better).
func BenchmarkDecodePage(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"issues":[`)
	for i := range 100 {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"expand":"operations","id":"%d","self":"https://x.atlassian.net/rest/api/3/issue/%d","key":"ALPHA-%d","fields":{"summary":"Issue number %d with a \"quoted\" word","status":{"self":"https://x","description":"","iconUrl":"https://x/i.png","name":"In Progress","id":"3","statusCategory":{"self":"https://x","id":4,"key":"indeterminate","colorName":"yellow","name":"In Progress"}},"issuetype":{"id":"10001","name":"Story","subtask":false,"hierarchyLevel":0},"parent":{"id":"10000","key":"ALPHA-1"},"assignee":{"accountId":"61a0000000000000000000a2","displayName":"Alice Anders","active":true},"updated":"2026-01-01T10:00:00.000+0000","labels":["backend","q3"],"priority":{"id":"3","name":"Medium"},"customfield_10016":5}}`, 10000+i, 10000+i, i, i)
	}
	buf.WriteString(`],"nextPageToken":"abc","isLast":false}`)
	body := buf.Bytes()
	var fast, std time.Duration
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		start := time.Now()
		if _, err := decodePage(body); err != nil {
			b.Fatal(err)
		}
		fast += time.Since(start)
		start = time.Now()
		var out struct {
			Issues []struct {
				ID     string                     `json:"id"`
				Key    string                     `json:"key"`
				Fields map[string]json.RawMessage `json:"fields"`
			} `json:"issues"`
			IsLast        *bool  `json:"isLast"`
			NextPageToken string `json:"nextPageToken"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			b.Fatal(err)
		}
		std += time.Since(start)
	}
	b.ReportMetric(float64(fast.Nanoseconds())/float64(b.N), "fast-ns/page")
	b.ReportMetric(float64(std.Nanoseconds())/float64(b.N), "encoding-json-ns/page")
	b.ReportMetric(float64(fast)/float64(std), "x-encoding-json")
}

func TestPeekPageEnd(t *testing.T) {
	for _, tc := range []struct {
		in     string
		next   string
		isLast bool
		bad    bool
	}{
		{`{"issues":[{"id":"1","fields":{"summary":"a \"nextPageToken\": x"}}],"nextPageToken":"t\/2","isLast":false}`, "t/2", false, false},
		{`{"isLast":true,"issues":[]}`, "", true, false},
		{`{"nextPageToken":null,"issues":[{"fields":{"nextPageToken":"inner"}}]}`, "", false, false},
		{`{"issues":[{"id":"1"}],"nextPageToken":"abc"`, "", false, true},
		{`{"isLast":"yes"}`, "", false, true},
		// Where Jira puts them, after the issues: read from the end.
		{`{"issues":[{"id":"1","fields":{"x":{"nextPageToken":"nested","isLast":true}}}],"nextPageToken":"t2" , "isLast":false}`, "t2", false, false},
		// Before the issues, with the same keys nested in an issue: the whole walk.
		{`{"isLast":false,"nextPageToken":"t3","issues":[{"id":"1","fields":{"x":{"nextPageToken":"nested","isLast":true}}}]}`, "t3", false, false},
		{`{"issues":[],"nextPageToken":"t4","isLast":false} x`, "", false, true},
	} {
		next, isLast, err := peekPageEnd([]byte(tc.in))
		if (err != nil) != tc.bad || next != tc.next || isLast != tc.isLast {
			t.Errorf("peekPageEnd(%s) = %q, %v, %v", tc.in, next, isLast, err)
		}
		if p, err := decodePage([]byte(tc.in)); err == nil && !tc.bad {
			last := p.IsLast != nil && *p.IsLast
			if p.NextPageToken != next || last != isLast {
				t.Errorf("peekPageEnd(%s) disagrees with decodePage: %q %v", tc.in, p.NextPageToken, last)
			}
		}
	}
}
