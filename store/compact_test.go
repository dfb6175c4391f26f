package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestCompactValue(t *testing.T) {
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
		got := compactValue(nil, []byte(tc.in))
		if string(got) != tc.want {
			t.Errorf("compactValue(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestEncodeFields(t *testing.T) {
	in := map[string]json.RawMessage{
		"self":     json.RawMessage(`"a field of that name is kept"`),
		"status":   json.RawMessage(` {"self":"u","name":"Done"} `),
		"assignee": json.RawMessage(`{"accountId":"a1","avatarUrls":{"48x48":"x"}}`),
		"empty":    nil,
	}
	raw, members := EncodeFields(in)
	want := `{"assignee":{"accountId":"a1"},"empty":null,"self":"a field of that name is kept","status":{"name":"Done"}}`
	if string(raw) != want {
		t.Errorf("EncodeFields = %s, want %s", raw, want)
	}
	checkMembers(t, raw, members)
	if _, _, err := marshalFields(map[string]json.RawMessage{"ok": json.RawMessage(`1`), "bad": json.RawMessage(`{"a":}`)}); err == nil || err.Error() != "raw field bad: invalid JSON" {
		t.Errorf("marshalFields of an invalid value: %v", err)
	}
}

// checkMembers checks that members are the values of the object out, by encoding/json.
func checkMembers(t *testing.T, out json.RawMessage, members map[string]json.RawMessage) {
	t.Helper()
	var want map[string]json.RawMessage
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("output %s is not an object: %v", out, err)
	}
	if len(want) != len(members) {
		t.Fatalf("%d members for %s, want %d", len(members), out, len(want))
	}
	for k, v := range want {
		if string(members[k]) != string(v) {
			t.Errorf("member %q = %s, want %s", k, members[k], v)
		}
	}
}

// stripped is the reference: the decoded value without the dropped members.
func stripped(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "self" || k == "iconUrl" || k == "avatarUrls" {
				delete(x, k)
				continue
			}
			x[k] = stripped(e)
		}
	case []any:
		for i, e := range x {
			x[i] = stripped(e)
		}
	}
	return v
}

func FuzzCompactValue(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":{"self":1,"b":[{"iconUrl":2},{"c":3}]}}`, `{"x":{"avatarUrls":{"1":"u"},"y":1}}`,
		`{"b":1, "self":2 ,"c":3}`, `{"a\n":1}`, `{"self":{}}`, `[1]`, `{"a":1,"self":{"self":2}}`, `{"x\"self":1}`, `"\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var ref any
		if json.Unmarshal(in, &ref) != nil {
			return // values come validated
		}
		out := compactValue(nil, in)
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("compactValue(%q) = %q: invalid: %v", in, out, err)
		}
		if want := stripped(ref); !reflect.DeepEqual(got, want) {
			t.Fatalf("compactValue(%q) = %q\n got %#v\nwant %#v", in, out, got, want)
		}
	})
}
