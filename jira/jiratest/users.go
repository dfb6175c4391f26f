package jiratest

import (
	"bytes"
	"fmt"

	"crypto/sha256"
	"encoding/hex"
	"github.com/goccy/go-yaml"
	"slices"
)

// User is one account of the fake site's directory.
//
// The default directory (DefaultUsers) is:
//
//	name   email               token         Cloud accountId            can browse          security levels  groups
//	admin  admin@example.com   admin-token   61a0000000000000000000a1   everything          all              jira-administrators, jira-developers
//	alice  alice@example.com   alice-token   61a0000000000000000000a2   ALPHA, BETA         Internal         jira-developers
//	bob    bob@example.com     bob-token     61a0000000000000000000a3   ALPHA               -                jira-developers
//
// On Data Center the user name is also the user key.
type User struct {
	Name        string   `yaml:"name"` // login name; Data Center name and key
	DisplayName string   `yaml:"display_name"`
	Email       string   `yaml:"email"`
	Token       string   `yaml:"token"`      // Cloud API token, Data Center personal access token
	AccountID   string   `yaml:"account_id"` // Cloud accountId; derived from Name when empty
	Groups      []string `yaml:"groups"`
	// Admin holds the global Administer Jira permission, browses every project and sees
	// every security level.
	Admin bool `yaml:"admin"`
	// Projects are the keys of the projects the user may browse and work in.
	Projects []string `yaml:"projects"`
	// SecurityLevels are the issue security levels (by name) the user belongs to.
	SecurityLevels []string `yaml:"security_levels"`
	// ReadOnly users browse their projects but may not create, edit, transition, assign,
	// link or comment: Jira hides the edit screen and workflow from them.
	ReadOnly bool `yaml:"read_only"`
}

// DefaultUsers returns the documented default directory.
func DefaultUsers() []User {
	return []User{
		{Name: "admin", DisplayName: "Ada Admin", Email: "admin@example.com", Token: "admin-token", AccountID: "61a0000000000000000000a1",
			Groups: []string{"jira-administrators", "jira-developers"}, Admin: true, Projects: []string{"ALPHA", "BETA", "GAMMA"}, SecurityLevels: []string{securityLevelName}},
		{Name: "alice", DisplayName: "Alice Anders", Email: "alice@example.com", Token: "alice-token", AccountID: "61a0000000000000000000a2",
			Groups: []string{"jira-developers"}, Projects: []string{"ALPHA", "BETA"}, SecurityLevels: []string{securityLevelName}},
		{Name: "bob", DisplayName: "Bob Brown", Email: "bob@example.com", Token: "bob-token", AccountID: "61a0000000000000000000a3",
			Groups: []string{"jira-developers"}, Projects: []string{"ALPHA"}},
	}
}

// normalizeUser fills the defaults of an extra user so every user has an email, token,
// display name and a stable accountId.
func normalizeUser(u User) User {
	if u.DisplayName == "" {
		u.DisplayName = u.Name
	}
	if u.Email == "" {
		u.Email = u.Name + "@example.com"
	}
	if u.Token == "" {
		u.Token = u.Name + "-token"
	}
	if u.AccountID == "" {
		sum := sha256.Sum256([]byte("foundation-fake-jira:" + u.Name))
		u.AccountID = hex.EncodeToString(sum[:12])
	}
	u.Groups = slices.Clone(u.Groups)
	u.Projects = slices.Clone(u.Projects)
	u.SecurityLevels = slices.Clone(u.SecurityLevels)
	return u
}

// canBrowse reports whether user u may browse project p.
func (u *User) canBrowse(p int) bool {
	return u.Admin || slices.Contains(u.Projects, projects[p].key)
}

func (u *User) inLevel(level string) bool {
	return u.Admin || slices.Contains(u.SecurityLevels, level)
}

func (u *User) inGroup(g string) bool {
	return slices.Contains(u.Groups, g)
}

// LoadUsers reads extra users from YAML: a list of users with the keys name, display_name,
// email, token, account_id, groups, admin, projects, security_levels and read_only. Unknown
// keys are errors, so a typo does not silently grant nothing.
//
//   - name: carol
//     projects: [BETA]
//     groups: [jira-developers]
func LoadUsers(data []byte) ([]User, error) {
	var users []User
	if err := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField()).Decode(&users); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	for k, u := range users {
		if u.Name == "" {
			return nil, fmt.Errorf("users: entry %d: %w: no name", k+1, ErrOptions)
		}
	}
	return users, nil
}
