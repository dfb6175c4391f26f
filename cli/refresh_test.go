package cli

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"foundation/jira/jiratest"
)

// writeConfig writes a config with one profile "t" for url, signed in as user.
func (e *cliEnv) writeConfig(url, dialect, user, scope string) {
	e.t.Helper()
	email := ""
	if dialect == "cloud" {
		email = fmt.Sprintf("email: %s@example.com\n    ", user)
	}
	body := fmt.Sprintf("default_site: t\nsites:\n  t:\n    url: %s\n    dialect: %s\n    %stoken_env: T_TOKEN\n    scope: %s\n", url, dialect, email, scope)
	if err := os.MkdirAll(filepath.Dir(e.config), 0o700); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.config, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.t.Setenv("T_TOKEN", user+"-token")
}

func fakeServer(t *testing.T, dialect string, issues int) string {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: dialect, Issues: issues, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRefreshCommand(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			e := newCLIEnv(t)
			e.writeConfig(fakeServer(t, dialect, 400), dialect, "admin", "project in (ALPHA, BETA, GAMMA)")
			r := e.run("", "refresh", "--json")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			var sum struct {
				Mode     string `json:"mode"`
				Fetched  int    `json:"fetched"`
				Inserted int    `json:"inserted"`
				Requests int    `json:"requests"`
				Duration string `json:"duration"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
				t.Fatalf("stdout is not the JSON summary: %v\n%s", err, r.stdout)
			}
			if sum.Mode != "full" || sum.Fetched != 400 || sum.Inserted != 400 || sum.Requests == 0 || sum.Duration == "" {
				t.Errorf("first refresh summary %+v, want a full sync of 400 issues", sum)
			}
			if !has(r.stderr, "full done: 400 fetched") {
				t.Errorf("stderr lacks progress:\n%s", r.stderr)
			}
			// A second run polls: nothing changed, nothing fetched.
			r = e.run("", "refresh", "--json", "--quiet")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Mode != "poll" || r.stderr != "" {
				t.Errorf("second refresh: mode %q, stderr %q; want a quiet poll", sum.Mode, r.stderr)
			}
			r = e.run("", "refresh", "--full", "--json", "--quiet")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
				t.Fatal(err)
			}
			if sum.Mode != "full+reconcile" {
				t.Errorf("--full ran %q", sum.Mode)
			}
		})
	}
}

func TestRefreshErrors(t *testing.T) {
	url := fakeServer(t, "cloud", 50)
	cases := []struct {
		name, user, scope string
		args              []string
		code              int
		want              string
	}{
		{"bad credentials", "mallory", "project = ALPHA", nil, ExitAuth, "401"},
		{"unbounded scope", "admin", "status = Done", nil, ExitError, "unbounded"},
		{"bad jql", "admin", "project = = ALPHA", nil, ExitError, "character"},
		{"negative timeout", "admin", "project = ALPHA", []string{"--timeout", "-1s"}, ExitUsage, "must not be negative"},
		{"unknown flag", "admin", "project = ALPHA", []string{"--fast"}, ExitUsage, "unknown flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newCLIEnv(t)
			e.writeConfig(url, "cloud", tc.user, tc.scope)
			r := e.run("", append([]string{"refresh", "--quiet"}, tc.args...)...)
			if r.code != tc.code || !has(r.stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q in:\n%s", r.code, tc.code, tc.want, r.stderr)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		e := newCLIEnv(t)
		srv := httptest.NewServer(nil)
		dead := srv.URL
		srv.Close()
		e.writeConfig(dead, "cloud", "admin", "project = ALPHA")
		r := e.run("", "refresh", "--quiet")
		if r.code != ExitError || !has(r.stderr, "connect") {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
}

// TestRefreshRemembersIdentity: a cache deleted and rebuilt by refresh knows again who the
// profile is, for site list and offline opens.
func TestRefreshRemembersIdentity(t *testing.T) {
	e := newCLIEnv(t)
	e.writeConfig(fakeServer(t, "cloud", 60), "cloud", "alice", "project = ALPHA")
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: exit %d\n%s", r.code, r.stderr)
	}
	r := e.run("", "site", "list", "--json")
	var rows []struct {
		Identity *struct {
			ID, DisplayName string
		} `json:"identity"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("site list --json: %v\n%s", err, r.stdout)
	}
	if rows[0].Identity == nil || rows[0].Identity.ID == "" || rows[0].Identity.DisplayName == "" {
		t.Errorf("identity after a refresh into a fresh cache: %+v", rows[0].Identity)
	}
}
