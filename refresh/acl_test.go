package refresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

const aclLens = `name: Guarded
owner: olga
acl:
  - {principal: user:vera, level: view}
  - {principal: group:Editors, level: edit}
  - {principal: role:ALPHA/Builders, level: generators}
  - {principal: user:carl, level: control}
generators:
  - insert: {jql: "project = ALPHA"}
views: [{name: v, columns: [{field: key}]}]
`

func viewerOf(user string, groups, roles []string) refresh.Viewer {
	v := refresh.Viewer{Dialect: "cloud"}
	v.User, v.Groups, v.Roles = user, groups, roles
	return v
}

// TestACLLevels: every level allows exactly the actions at or below it, on every path that
// enforces the Lens ACL, and refusals are typed, audited and change nothing.
func TestACLLevels(t *testing.T) {
	viewers := []struct {
		name  string
		v     refresh.Viewer
		level lens.Level
		owner bool
	}{
		{"stranger", viewerOf("sam", nil, nil), lens.LevelNone, false},
		{"view by user", viewerOf("vera", nil, nil), lens.LevelView, false},
		{"edit by group, any case", viewerOf("eddie", []string{"editors"}, nil), lens.LevelEdit, false},
		{"generators by role", viewerOf("gina", []string{"Editors"}, []string{"ALPHA/Builders"}), lens.LevelGenerators, false},
		{"control by user", viewerOf("carl", nil, nil), lens.LevelControl, false},
		{"owner", viewerOf("olga", nil, nil), lens.LevelControl, true},
		{"owner by alias", refresh.Viewer{Viewer: lens.Viewer{User: "5b10ac8d"}, Aliases: []string{"olga"}}, lens.LevelControl, true},
		{"unknown identity", refresh.Viewer{}, lens.LevelNone, false},
	}
	type action struct {
		name  string
		need  lens.Level
		owner bool // only the owner may
		do    func(ctx context.Context, db *store.DB, v refresh.Viewer) error
	}
	changed := strings.Replace(aclLens, "project = ALPHA", "project = BETA", 1)
	moreACL := strings.Replace(aclLens, "  - {principal: user:carl, level: control}\n", "  - {principal: user:carl, level: control}\n  - {principal: anyone, level: view}\n", 1)
	actions := []action{
		{"open", lens.LevelView, false, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			_, err := refresh.OpenLens(ctx, db, "Guarded", v, refresh.OpenOptions{})
			return err
		}},
		{"export", lens.LevelView, false, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			_, _, err := refresh.ExportLens(ctx, db, "Guarded", v)
			return err
		}},
		{"edit cells", lens.LevelEdit, false, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			st, err := db.Lens(ctx, "Guarded")
			if err != nil {
				return err
			}
			def, err := lens.Parse(st.Name, []byte(st.YAML))
			if err != nil {
				return err
			}
			return refresh.RequireAccess(def, v, lens.LevelEdit, refresh.ActionEditCells)
		}},
		{"change generators", lens.LevelGenerators, false, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			_, err := refresh.ApplyLens(ctx, db, "g.yaml", []byte(changed), v, refresh.AnyVersion)
			return err
		}},
		{"change the ACL by apply", lens.LevelControl, false, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			_, err := refresh.ApplyLens(ctx, db, "g.yaml", []byte(moreACL), v, refresh.AnyVersion)
			return err
		}},
		{"change the ACL", lens.LevelControl, false, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			_, _, err := refresh.ChangeACL(ctx, db, "Guarded", v, refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "group:qa", Level: "view"}}}, refresh.AnyVersion)
			return err
		}},
		{"transfer ownership", lens.LevelControl, true, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			_, _, err := refresh.ChangeACL(ctx, db, "Guarded", v, refresh.ACLEdit{Owner: "user:carl"}, refresh.AnyVersion)
			return err
		}},
		{"delete", lens.LevelControl, false, func(ctx context.Context, db *store.DB, v refresh.Viewer) error {
			return refresh.DeleteLens(ctx, db, "Guarded", v, refresh.AnyVersion)
		}},
	}
	db := refreshedCache(t, "cloud", 30)
	ctx := context.Background()
	for _, vc := range viewers {
		for _, ac := range actions {
			t.Run(vc.name+"/"+ac.name, func(t *testing.T) {
				// Each case starts from the same stored Lens.
				if err := reset(ctx, db); err != nil {
					t.Fatal(err)
				}
				grantAll(t, db, vc.v, mustIssues(t, db), time.Hour)
				before, err := db.Lens(ctx, "Guarded")
				if err != nil {
					t.Fatal(err)
				}
				err = ac.do(ctx, db, vc.v)
				allowed := vc.level >= ac.need && (!ac.owner || vc.owner)
				var refused *refresh.AccessError
				switch {
				case allowed && err != nil:
					t.Fatalf("refused: %v", err)
				case !allowed && !errors.As(err, &refused):
					t.Fatalf("err = %v, want an AccessError", err)
				case !allowed:
					if !strings.Contains(err.Error(), "may not") || (refused.Have != vc.level && !refused.OwnerOnly) {
						t.Errorf("refusal %q (have %v, want %v)", err, refused.Have, vc.level)
					}
					after, err := db.Lens(ctx, "Guarded")
					if err != nil || after.Version != before.Version {
						t.Errorf("a refused %s changed the Lens: %v -> %v (%v)", ac.name, before.Version, after.Version, err)
					}
				}
			})
		}
	}
}

func mustIssues(t *testing.T, db *store.DB) []lens.Issue {
	t.Helper()
	is, err := db.Issues(context.Background(), store.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

// reset stores aclLens afresh as its owner.
func reset(ctx context.Context, db *store.DB) error {
	if st, err := db.Lens(ctx, "Guarded"); err == nil {
		if err := db.DeleteLens(ctx, "Guarded", st.Version); err != nil {
			return err
		}
	}
	_, err := refresh.ApplyLens(ctx, db, "guarded.yaml", []byte(aclLens), viewerOf("olga", nil, nil), 0)
	return err
}

// TestChangeACL: grants, level changes, revokes and ownership transfer, each audited with
// the ACL before and after; refused and empty changes are audited or rejected and store
// nothing.
func TestChangeACL(t *testing.T) {
	ctx := context.Background()
	db := refreshedCache(t, "cloud", 10)
	if err := reset(ctx, db); err != nil {
		t.Fatal(err)
	}
	olga, carl, vera := viewerOf("olga", nil, nil), viewerOf("carl", nil, nil), viewerOf("vera", nil, nil)
	steps := []struct {
		who     refresh.Viewer
		edit    refresh.ACLEdit
		wantErr string
		owner   string
		acl     string
	}{
		{carl, refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "group:QA", Level: "view"}, {Principal: "user:vera", Level: "edit"}}}, "",
			"olga", "user:vera=edit group:Editors=edit role:ALPHA/Builders=generators user:carl=control group:QA=view"},
		{carl, refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "group:qa", Level: "generators"}}, Revoke: []string{"role:alpha/builders"}}, "",
			"olga", "user:vera=edit group:Editors=edit user:carl=control group:qa=generators"},
		{vera, refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "user:vera", Level: "control"}}}, "may not change the access list", "", ""},
		{carl, refresh.ACLEdit{Owner: "carl"}, "only its owner may", "", ""},
		{carl, refresh.ACLEdit{Revoke: []string{"user:nobody"}}, "no access entry for user:nobody", "", ""},
		{carl, refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "user:vera", Level: "edit"}}}, "would not change", "", ""},
		{carl, refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "team:x", Level: "edit"}}}, "unknown kind", "", ""},
		{olga, refresh.ACLEdit{Owner: "user:carl"}, "", "carl", "user:vera=edit group:Editors=edit user:carl=control group:qa=generators"},
		{olga, refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "anyone", Level: "view"}}}, "may not change the access list", "", ""},
	}
	for i, s := range steps {
		def, _, err := refresh.ChangeACL(ctx, db, "Guarded", s.who, s.edit, refresh.AnyVersion)
		if s.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), s.wantErr) {
				t.Errorf("step %d: err %v, want %q", i, err, s.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var got []string
		for _, e := range def.ACL {
			got = append(got, e.Principal+"="+e.Level)
		}
		if def.Owner != s.owner || strings.Join(got, " ") != s.acl {
			t.Errorf("step %d: owner %s acl %s, want %s %s", i, def.Owner, strings.Join(got, " "), s.owner, s.acl)
		}
		// What is stored is what came back, and it still opens.
		st, err := db.Lens(ctx, "Guarded")
		if err != nil {
			t.Fatal(err)
		}
		stored, err := lens.Parse("Guarded", []byte(st.YAML))
		if err != nil || !stored.Equal(def) || st.Owner != s.owner {
			t.Errorf("step %d: stored %v owner %s", i, err, st.Owner)
		}
	}
	// A stale version is a conflict.
	_, _, err := refresh.ChangeACL(ctx, db, "Guarded", carl, refresh.ACLEdit{Revoke: []string{"group:qa"}}, 1)
	var conflict *store.LensConflictError
	if !errors.As(err, &conflict) {
		t.Errorf("stale change: %v", err)
	}
	log, err := db.AuditLog(ctx, store.AuditFilter{Action: "acl.change", Target: "Guarded"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		outcome, _, _ := strings.Cut(e.Outcome, ": ") // ok, failed or conflict
		got = append(got, e.Actor+":"+outcome)
	}
	// Newest first: the stale change, olga's refused grant after the transfer, the transfer,
	// the refusals in order, the two changes, and the creation.
	want := "carl:conflict olga:failed olga:ok carl:failed carl:failed carl:failed carl:failed vera:failed carl:ok carl:ok olga:ok"
	if strings.Join(got, " ") != want {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	// The transfer's entry holds the owner before and after.
	var before, after struct{ Owner string }
	if err := json.Unmarshal(log[2].Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(log[2].After, &after); err != nil {
		t.Fatal(err)
	}
	if before.Owner != "olga" || after.Owner != "carl" || log[2].At.IsZero() {
		t.Errorf("transfer audited as %s -> %s at %v", log[2].Before, log[2].After, log[2].At)
	}
}

// TestExplainACL: one line per entry, saying whom it covers and what it gives the viewer.
func TestExplainACL(t *testing.T) {
	def, err := lens.Parse("g", []byte(aclLens))
	if err != nil {
		t.Fatal(err)
	}
	names := func(id string) string { return map[string]string{"vera": "Vera Vogel", "olga": "Olga Owner"}[id] }
	for _, tc := range []struct {
		v     refresh.Viewer
		you   string
		lines []string
	}{
		{viewerOf("eddie", []string{"Editors"}, nil), "eddie: edit via group Editors", []string{
			"olga (Olga Owner): control as owner",
			"vera (Vera Vogel): view",
			"members of group Editors: edit (you, eddie: edit via group Editors)",
			"members of role Builders in ALPHA: generators",
			"carl: control",
		}},
		{viewerOf("vera", []string{"Editors"}, []string{"ALPHA/Builders"}), "vera: generators via role Builders in ALPHA", []string{
			"olga (Olga Owner): control as owner",
			"vera (Vera Vogel): view (you, vera (Vera Vogel): generators via role Builders in ALPHA overrides it)",
			"members of group Editors: edit (you, vera (Vera Vogel): generators via role Builders in ALPHA overrides it)",
			"members of role Builders in ALPHA: generators (you, vera (Vera Vogel): generators via role Builders in ALPHA)",
			"carl: control",
		}},
		{viewerOf("olga", nil, nil), "olga: control as owner", []string{
			"olga (Olga Owner): control as owner (that is you)",
		}},
		{viewerOf("zed", nil, nil), "zed: no access", nil},
	} {
		a := refresh.AccessOf(def, tc.v)
		if got := a.Explain(tc.v.User); got != tc.you {
			t.Errorf("%s: %q, want %q", tc.v.User, got, tc.you)
		}
		lines := refresh.ExplainACL(def, tc.v, names)
		if len(lines) != 5 {
			t.Fatalf("%d lines", len(lines))
		}
		for i, want := range tc.lines {
			if lines[i].Explanation != want {
				t.Errorf("%s line %d: %q, want %q", tc.v.User, i, lines[i].Explanation, want)
			}
		}
		// The same level as lens.Definition.Access for viewers without aliases.
		if l := def.Access(tc.v.Viewer); l != a.Level {
			t.Errorf("%s: AccessOf %v, Definition.Access %v", tc.v.User, a.Level, l)
		}
	}
	if b, err := json.Marshal(refresh.AccessOf(def, viewerOf("carl", nil, nil))); err != nil || string(b) != `{"level":"control","via":"user:carl"}` {
		t.Errorf("json %s %v", b, err)
	}
}

// TestChangeACLKeepsTheFile: an ACL change rewrites only the owner and acl of the stored
// file, keeping comments and layout; keys the file lacks are added; a file whose shape does
// not allow it is formatted afresh; names that YAML would misread are quoted.
func TestChangeACLKeepsTheFile(t *testing.T) {
	ctx := context.Background()
	db := refreshedCache(t, "cloud", 10)
	olga := viewerOf("olga", nil, nil)
	for _, tc := range []struct {
		name, src string
		edit      refresh.ACLEdit
		keep      []string // lines the stored file still has
	}{
		{"comments kept", "# Team board\nname: K1\nowner: olga # the lead\nacl:\n  - {principal: user:vera, level: view}\ngenerators:\n  # epics first\n  - insert: {jql: \"project = ALPHA\"}\nviews: [{name: v, columns: [{field: key}]}]\n",
			refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "group:qa", Level: "edit"}}},
			[]string{"# Team board", "owner: olga # the lead", "  # epics first", "  - {principal: group:qa, level: edit}", "views: [{name: v, columns: [{field: key}]}]"}},
		{"acl comments kept when only the owner changes", "name: K4\nowner: olga # the lead\nacl: # who else\n  - {principal: user:vera, level: view} # reviewer\nviews: [{name: v, columns: [{field: key}]}]\n",
			refresh.ACLEdit{Owner: "user:oscar"},
			[]string{"owner: oscar # the lead", "acl: # who else", "  - {principal: user:vera, level: view} # reviewer"}},
		{"keys added", "# no acl yet\nname: K2\nviews:\n  - name: v\n    columns: [{field: key}]\n",
			refresh.ACLEdit{Grant: []lens.ACLEntry{{Principal: "group:team, west #2", Level: "view"}}},
			[]string{"# no acl yet", "    columns: [{field: key}]", `  - {principal: "group:team, west #2", level: view}`}},
		{"flow file formatted", "{name: K3, views: [{name: v, columns: [{field: key}]}]}\n",
			refresh.ACLEdit{Revoke: nil, Grant: []lens.ACLEntry{{Principal: "anyone", Level: "view"}}},
			[]string{"name: K3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := refresh.ApplyLens(ctx, db, "k.yaml", []byte(tc.src), olga, 0)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := refresh.ChangeACL(ctx, db, a.Name, olga, tc.edit, refresh.AnyVersion)
			if err != nil {
				t.Fatal(err)
			}
			st, err := db.Lens(ctx, a.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range tc.keep {
				if !strings.Contains(st.YAML, line+"\n") {
					t.Errorf("stored file lacks %q:\n%s", line, st.YAML)
				}
			}
			got, err := lens.Parse(a.Name, []byte(st.YAML))
			if err != nil || !got.Equal(want) || got.Owner != want.Owner {
				t.Errorf("stored file reads as %+v (%v), want %+v", got, err, want)
			}
		})
	}
}
