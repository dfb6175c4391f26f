package lens

import "testing"

func TestAccess(t *testing.T) {
	d := mustParse(t, `name: a
owner: carol
acl:
  - {principal: anyone, level: view}
  - {principal: group:Developers, level: edit}
  - {principal: role:ALPHA/Administrators, level: generators}
  - {principal: user:bob, level: control}
`)
	closed := mustParse(t, "name: b\nowner: carol\nacl: [{principal: user:bob, level: view}]\n")
	for _, tc := range []struct {
		name string
		d    *Definition
		v    Viewer
		want Level
	}{
		{"owner", d, Viewer{User: "carol"}, LevelControl},
		{"anyone", d, Viewer{User: "dave"}, LevelView},
		{"group, any case", d, Viewer{User: "dave", Groups: []string{"developers"}}, LevelEdit},
		{"highest wins", d, Viewer{User: "dave", Groups: []string{"Developers"}, Roles: []string{"ALPHA/Administrators"}}, LevelGenerators},
		{"user", d, Viewer{User: "bob"}, LevelControl},
		{"no match", closed, Viewer{User: "dave", Groups: []string{"Developers"}}, LevelNone},
		{"anonymous", closed, Viewer{}, LevelNone},
		{"listed user", closed, Viewer{User: "bob"}, LevelView},
	} {
		if got := tc.d.Access(tc.v); got != tc.want {
			t.Errorf("%s: Access = %s, want %s", tc.name, got, tc.want)
		}
	}
	if l, ok := ParseLevel("generators"); !ok || l != LevelGenerators {
		t.Errorf("ParseLevel = %v %v", l, ok)
	}
	if _, ok := ParseLevel("admin"); ok {
		t.Error("ParseLevel accepts admin")
	}
}
