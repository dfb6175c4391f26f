package jira

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// RoleActor is one member of a project role: a user or a group.
type RoleActor struct {
	// User is the member's id (accountId on Cloud, user name on Data Center); "" for groups.
	User string
	// Group is the member group's name; "" for users.
	Group       string
	DisplayName string
}

// ProjectRole is a project role with its members.
type ProjectRole struct {
	ID     int64
	Name   string
	Actors []RoleActor
}

// ProjectRoles lists the roles of a project by name, with their ids. A project the identity
// may not browse is a *NotFoundError.
func (c *Client) ProjectRoles(ctx context.Context, projectKey string) (map[string]int64, error) {
	p := c.api("project/" + url.PathEscape(projectKey) + "/role")
	var links map[string]string
	if err := c.do(ctx, "GET", p, nil, nil, &links); err != nil {
		return nil, err
	}
	// Jira answers with the URL of each role; its id is the last path segment.
	out := make(map[string]int64, len(links))
	for name, link := range links {
		u, err := url.Parse(link)
		if err != nil {
			return nil, fmt.Errorf("GET %s: role %q: %w", p, name, err)
		}
		id, err := strconv.ParseInt(path.Base(u.Path), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("GET %s: role %q: id in %q: %w", p, name, link, err)
		}
		out[name] = id
	}
	return out, nil
}

// ProjectRole reads one role of a project with its actors (users and groups).
func (c *Client) ProjectRole(ctx context.Context, projectKey string, roleID int64) (*ProjectRole, error) {
	p := c.api("project/" + url.PathEscape(projectKey) + "/role/" + strconv.FormatInt(roleID, 10))
	var w struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Actors []struct {
			Type        string `json:"type"`
			Name        string `json:"name"` // Data Center: user or group name
			DisplayName string `json:"displayName"`
			ActorUser   *struct {
				AccountID string `json:"accountId"`
			} `json:"actorUser"`
			ActorGroup *struct {
				Name string `json:"name"`
			} `json:"actorGroup"`
		} `json:"actors"`
	}
	if err := c.do(ctx, "GET", p, nil, nil, &w); err != nil {
		return nil, err
	}
	r := &ProjectRole{ID: w.ID, Name: w.Name}
	for _, a := range w.Actors {
		act := RoleActor{DisplayName: a.DisplayName}
		switch {
		case a.ActorUser != nil && a.ActorUser.AccountID != "":
			act.User = a.ActorUser.AccountID
		case a.ActorGroup != nil && a.ActorGroup.Name != "":
			act.Group = a.ActorGroup.Name
		case strings.Contains(a.Type, "group"):
			act.Group = a.Name
		default:
			act.User = a.Name
		}
		if act.User == "" && act.Group == "" {
			continue // an actor Jira no longer resolves (deleted user) grants nothing
		}
		r.Actors = append(r.Actors, act)
	}
	return r, nil
}

// HasMember reports whether the user with id userID, belonging to groups, is in the role.
// Group names compare case-insensitively, as Jira does.
func (r *ProjectRole) HasMember(userID string, groups []string) bool {
	for _, a := range r.Actors {
		if a.User != "" && a.User == userID {
			return true
		}
		if a.Group != "" {
			for _, g := range groups {
				if strings.EqualFold(g, a.Group) {
					return true
				}
			}
		}
	}
	return false
}
