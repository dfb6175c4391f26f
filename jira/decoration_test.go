package jira

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func TestStripDecoration(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`null`, `null`},
		{`"self"`, `"self"`},
		{`["self","iconUrl"]`, `["self","iconUrl"]`},
		{`{}`, `{}`},
		{`{"self":"u","accountId":"a1","avatarUrls":{"48x48":"x"},"displayName":"Ada"}`, `{"accountId":"a1","displayName":"Ada"}`},
		{`{"self":"u","iconUrl":"i"}`, `{}`},
		{`{"name":"Done","self":"u"}`, `{"name":"Done"}`},
		{`{"name":"Done", "self" : "u" , "id":"3"}`, `{"name":"Done" , "id":"3"}`},
		{`{ "self" : "u" , "iconUrl":"i", "id":"3"}`, `{ "id":"3"}`},
		{`{"key":"A-1","fields":{"status":{"self":"s","statusCategory":{"self":"c","key":"done"}}}}`,
			`{"key":"A-1","fields":{"status":{"statusCategory":{"key":"done"}}}}`},
		{`[{"self":"v","id":"1"},{"id":"2","self":"v"}]`, `[{"id":"1"},{"id":"2"}]`},
		{`{"selfish":1,"Self":2,"self":{"deep":[1,{"self":3}]}}`, `{"selfish":1,"Self":2}`},
		{`{"a":"x\"self\": y","self":1}`, `{"a":"x\"self\": y"}`},
		{`{"x\"self":1,"b":"\\","self":2}`, `{"x\"self":1,"b":"\\"}`},
		{`{"a":"self","b":["self"],"self":"self"}`, `{"a":"self","b":["self"]}`},
	} {
		if got := StripDecoration(nil, []byte(tc.in)); string(got) != tc.want {
			t.Errorf("StripDecoration(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
		// The page decoder cuts the same while it scans.
		p, err := decodePage([]byte(`{"issues":[{"id":"1","key":"A-1","fields":{"f":` + tc.in + `}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Issues[0].Fields["f"]; string(got) != tc.want {
			t.Errorf("decoded field %s\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestWebhookFieldsWithoutDecoration(t *testing.T) {
	ev, err := ParseWebhook([]byte(`{"timestamp":1,"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"A-1",
		"fields":{"summary":"s","assignee":{"self":"u","accountId":"a1","avatarUrls":{"48x48":"x"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ev.Issue.Fields["assignee"]); got != `{"accountId":"a1"}` {
		t.Errorf("assignee %s, want it without decoration", got)
	}
}

// undecorated is the reference: the decoded value without Decoration members.
func undecorated(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "self" || k == "iconUrl" || k == "avatarUrls" {
				delete(x, k)
				continue
			}
			x[k] = undecorated(e)
		}
	case []any:
		for i, e := range x {
			x[i] = undecorated(e)
		}
	}
	return v
}

func FuzzStripDecoration(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":{"self":1,"b":[{"iconUrl":2},{"c":3}]}}`, `{"x":{"avatarUrls":{"1":"u"},"y":1}}`,
		`{"b":1, "self":2 ,"c":3}`, `{"a\n":1}`, `{"self":{}}`, `[1]`, `{"a":1,"self":{"self":2}}`, `{"x\"self":1}`, `"\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var ref any
		if json.Unmarshal(in, &ref) != nil {
			return // values come validated
		}
		out := StripDecoration(nil, in)
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("StripDecoration(%q) = %q: invalid: %v", in, out, err)
		}
		// Keys are matched by their bytes: an escaped spelling of a name is not one.
		if !bytes.Contains(in, []byte(`\`)) {
			if want := undecorated(ref); !reflect.DeepEqual(got, want) {
				t.Fatalf("StripDecoration(%q) = %q\n got %#v\nwant %#v", in, out, got, want)
			}
		}
		p, err := decodePage(append(append([]byte(`{"issues":[{"id":"1","fields":{"f":`), in...), "}}]}"...))
		if err != nil {
			t.Fatalf("decodePage refuses a valid value %q: %v", in, err)
		}
		if d := p.Issues[0].Fields["f"]; !bytes.Equal(d, bytes.TrimSpace(out)) {
			t.Fatalf("decoder cut %q to %q, StripDecoration to %q", in, d, out)
		}
	})
}
