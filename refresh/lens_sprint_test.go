package refresh

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

func TestCachedSprints(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []cachedSprint
	}{
		{"null", `null`, nil},
		{"empty", ``, nil},
		{"cloud objects", `[{"id":3,"name":"S 3","state":"closed"},{"id":4,"name":"S 4","state":"active","boardId":1}]`,
			[]cachedSprint{{"3", "closed"}, {"4", "active"}}},
		{"data center strings", `["com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=7,rapidViewId=1,state=FUTURE,name=Next,startDate=<null>]"]`,
			[]cachedSprint{{"7", "future"}}},
		{"string without id", `["Sprint@1[state=ACTIVE,name=x]"]`, nil},
		{"not an array", `{"id":1}`, nil},
		{"mixed junk", `[1, true, {"name":"no id"}, {"id":"12","state":"ACTIVE"}]`, []cachedSprint{{"12", "active"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := cachedSprints(json.RawMessage(tc.raw)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzCachedSprints: any raw value a cache may hold reads without panicking, and every
// sprint read has a numeric id.
func FuzzCachedSprints(f *testing.F) {
	for _, s := range []string{`[{"id":3,"state":"active"}]`, `["x.Sprint@1[id=2,state=CLOSED]"]`, `null`, `[`, `["[]"]`, `["a[id=,]"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, sp := range cachedSprints(json.RawMessage(raw)) {
			if _, err := strconv.ParseInt(sp.id, 10, 64); err != nil {
				if _, ferr := strconv.ParseFloat(sp.id, 64); ferr != nil {
					t.Errorf("sprint id %q from %q is not a number", sp.id, raw)
				}
			}
		}
	})
}
