package jira_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"foundation/jira"
)

// Project roles as each default user sees them: Developers holds the non-admin users granted
// the project, Administrators the admins; a project the caller cannot browse is a 404.
func TestProjectRoles(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 50)
			admin := f.login(t, "admin", nil)
			me, err := admin.Myself(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			roles, err := admin.ProjectRoles(t.Context(), "BETA")
			if err != nil {
				t.Fatal(err)
			}
			devID, ok := roles["Developers"]
			if !ok || roles["Administrators"] == 0 {
				t.Fatalf("roles = %v, want Developers and Administrators", roles)
			}
			dev, err := admin.ProjectRole(t.Context(), "BETA", devID)
			if err != nil {
				t.Fatal(err)
			}
			alice := f.login(t, "alice", nil)
			am, err := alice.Myself(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !dev.HasMember(am.ID(), nil) {
				t.Errorf("alice not in BETA/Developers: %+v", dev.Actors)
			}
			if dev.HasMember(me.ID(), nil) {
				t.Errorf("admin in BETA/Developers: %+v", dev.Actors)
			}
			adm, err := admin.ProjectRole(t.Context(), "BETA", roles["Administrators"])
			if err != nil {
				t.Fatal(err)
			}
			if !adm.HasMember(me.ID(), nil) || adm.Name != "Administrators" {
				t.Errorf("admin not in BETA/Administrators: %+v", adm)
			}
			bob := f.login(t, "bob", nil)
			_, err = bob.ProjectRoles(t.Context(), "BETA")
			var nf *jira.NotFoundError
			if !errors.As(err, &nf) {
				t.Errorf("bob reading BETA roles: err = %v, want 404", err)
			}
		})
	}
}

// Group actors and Data Center's name-only actors, from recorded shapes of both dialects.
func TestProjectRoleActors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dialect jira.Dialect
		body    string
		user    string
		groups  []string
		want    bool
	}{
		{"cloud user", jira.Cloud, `{"id":1,"name":"R","actors":[{"type":"atlassian-user-role-actor","actorUser":{"accountId":"a1"}}]}`, "a1", nil, true},
		{"cloud group", jira.Cloud, `{"id":1,"name":"R","actors":[{"type":"atlassian-group-role-actor","name":"devs","actorGroup":{"name":"Devs","groupId":"x"}}]}`, "a9", []string{"devs"}, true},
		{"cloud other user", jira.Cloud, `{"id":1,"name":"R","actors":[{"type":"atlassian-user-role-actor","actorUser":{"accountId":"a1"}}]}`, "a2", []string{"a1"}, false},
		{"dc user", jira.DataCenter, `{"id":1,"name":"R","actors":[{"type":"atlassian-user-role-actor","name":"bob"}]}`, "bob", nil, true},
		{"dc group", jira.DataCenter, `{"id":1,"name":"R","actors":[{"type":"atlassian-group-role-actor","name":"qa"}]}`, "bob", []string{"QA"}, true},
		{"dc group is not a user", jira.DataCenter, `{"id":1,"name":"R","actors":[{"type":"atlassian-group-role-actor","name":"qa"}]}`, "qa", nil, false},
		{"empty actor", jira.Cloud, `{"id":1,"name":"R","actors":[{"type":"atlassian-user-role-actor"}]}`, "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, err := jira.New(t.Context(), jira.Options{BaseURL: srv.URL, Dialect: tc.dialect, RequestsPerSecond: -1})
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.ProjectRole(t.Context(), "ALPHA", 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.HasMember(tc.user, tc.groups); got != tc.want {
				t.Errorf("HasMember(%q, %v) = %v, want %v (actors %+v)", tc.user, tc.groups, got, tc.want, r.Actors)
			}
		})
	}
}
