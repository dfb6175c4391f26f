package store

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"foundation/lens"
)

// CachedFieldsByKey must agree with decoding the whole raw field map (Issues WithRaw).
func TestCachedFieldsByKey(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	wk := WellKnown{StoryPoints: "customfield_10016", Rank: "customfield_10019"}
	raws := map[string]string{
		"A-1": `{"project":{"id":"10000","key":"A"},"issuetype":{"name":"Bug"},"status":{"name":"Open","statusCategory":{"key":"new"}},
			"summary":"caf\u00e9 \"quoted\" <b>","updated":"2024-01-02T03:04:05.678+0000",
			"assignee":{"accountId":"u1","displayName":"Ann \u003cA\u003e","active":true},"reporter":null,
			"flag":false,"on":true,"big":12345678901234567890,"issuelinks":[{"id":"1","type":{"name":"Blocks"}}],
			"odd key/with spaces":1,"caf\u00e9":2,"customfield_10016":null}`,
		"A-2": `{"project":{"id":"10000","key":"A"},"issuetype":{"name":"Task"},"status":{"name":"Done","statusCategory":{"key":"done"}},
			"summary":"two","updated":"2024-02-02T00:00:00.000+0000"}`,
	}
	var batch []lens.Issue
	for i, k := range []string{"A-1", "A-2"} {
		var f map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raws[k]), &f); err != nil {
			t.Fatal(err)
		}
		is, err := Extract(int64(100+i), k, f, wk)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, is)
	}
	if _, err := db.UpsertIssues(ctx, batch, true); err != nil {
		t.Fatal(err)
	}
	want := []string{"assignee", "reporter", "creator", "issuelinks", "summary", "flag", "on", "big", "odd key/with spaces", "café"}

	tests := []struct {
		name string
		keys []string
		ids  []int64
	}{
		{"both", []string{"A-1", "A-2"}, []int64{100, 101}},
		{"one and an unknown key", []string{"A-2", "NOPE-9"}, []int64{101}},
		{"none cached", []string{"NOPE-9"}, nil},
		{"no keys", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.CachedFieldsByKey(ctx, tt.keys, want)
			if err != nil {
				t.Fatal(err)
			}
			if ids := slices.Sorted(maps.Keys(got)); !slices.Equal(ids, tt.ids) {
				t.Fatalf("ids %v, want %v", ids, tt.ids)
			}
			if len(tt.keys) == 0 {
				return
			}
			full, err := db.Issues(ctx, ReadOptions{WithRaw: true, Keys: tt.keys})
			if err != nil {
				t.Fatal(err)
			}
			for _, is := range full {
				c := got[is.ID]
				if c.Key != is.Key || !c.Updated.Equal(is.Updated) || c.Updated.IsZero() {
					t.Errorf("%s: key %q updated %v, want %q %v", is.Key, c.Key, c.Updated, is.Key, is.Updated)
				}
				nonNull := map[string]bool{}
				for k, v := range is.Fields {
					if string(v) != "null" {
						nonNull[k] = true
					}
				}
				if !reflect.DeepEqual(c.NonNull, nonNull) {
					t.Errorf("%s: non-null %v, want %v", is.Key, slices.Sorted(maps.Keys(c.NonNull)), slices.Sorted(maps.Keys(nonNull)))
				}
				for _, w := range want {
					v, ok := is.Fields[w]
					g, gok := c.Raw[w]
					if ok != gok {
						t.Errorf("%s %s: present %v, want %v", is.Key, w, gok, ok)
						continue
					}
					if ok && !sameValue(t, g, v) {
						t.Errorf("%s %s: %s, want %s", is.Key, w, g, v)
					}
				}
			}
		})
	}
}

// sameValue compares JSON values by meaning; numbers as written, so a big one must survive.
func sameValue(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var va, vb any
	da := json.NewDecoder(strings.NewReader(string(a)))
	da.UseNumber()
	db := json.NewDecoder(strings.NewReader(string(b)))
	db.UseNumber()
	if err := da.Decode(&va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := db.Decode(&vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// The applier reads a handful of issues per delivery: this is the cost it pays, against the
// whole-map read it replaced.
func BenchmarkCachedFields(b *testing.B) {
	ctx := context.Background()
	db := openTest(b)
	wk := WellKnown{}
	var batch []lens.Issue
	keys := []string{}
	for i := range 200 {
		f := map[string]json.RawMessage{
			"summary":     json.RawMessage(`"an issue summary of ordinary length"`),
			"updated":     json.RawMessage(`"2024-01-02T03:04:05.678+0000"`),
			"assignee":    json.RawMessage(`{"accountId":"u1","displayName":"Ann","active":true,"avatarUrls":{"48x48":"https://x/a.png"}}`),
			"reporter":    json.RawMessage(`{"accountId":"u2","displayName":"Bob","active":true}`),
			"description": json.RawMessage(`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"` + strings.Repeat("words ", 80) + `"}]}]}`),
			"issuelinks":  json.RawMessage(`[]`),
			"labels":      json.RawMessage(`["a","b"]`),
		}
		for c := range 30 {
			f["customfield_"+string(rune('a'+c%26))+string(rune('a'+c/26))] = json.RawMessage(`null`)
		}
		is, err := Extract(int64(i+1), "K-"+string(rune('A'+i%26))+string(rune('A'+i/26)), f, wk)
		if err != nil {
			b.Fatal(err)
		}
		is.Updated = time.Unix(int64(i), 0)
		batch = append(batch, is)
		keys = append(keys, is.Key)
	}
	if _, err := db.UpsertIssues(ctx, batch, true); err != nil {
		b.Fatal(err)
	}
	want := []string{"assignee", "reporter", "creator", "issuelinks"}
	b.Run("floor=IssuesWithRaw", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := db.Issues(ctx, ReadOptions{WithRaw: true, Keys: keys[i%50*4 : i%50*4+4]}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CachedFieldsByKey", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := db.CachedFieldsByKey(ctx, keys[i%50*4:i%50*4+4], want); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEncodeFields(t *testing.T) {
	raw, members := EncodeFields(map[string]json.RawMessage{
		"status": json.RawMessage(` {"name":"Done"} `),
		"empty":  nil,
		"a":      json.RawMessage(`1`),
	})
	if want := `{"a":1,"empty":null,"status":{"name":"Done"}}`; string(raw) != want {
		t.Errorf("EncodeFields = %s, want %s", raw, want)
	}
	var back map[string]json.RawMessage
	if err := json.Unmarshal(raw, &back); err != nil || len(back) != len(members) {
		t.Fatalf("members %v of %s: %v", members, raw, err)
	}
	for k, v := range back {
		if string(members[k]) != string(v) {
			t.Errorf("member %s = %s, want %s", k, members[k], v)
		}
	}
	if _, _, err := MarshalFields(map[string]json.RawMessage{"ok": json.RawMessage(`1`), "bad": json.RawMessage(`{"a":}`)}); err == nil || err.Error() != "raw field bad: invalid JSON" {
		t.Errorf("MarshalFields of an invalid value: %v", err)
	}
}
