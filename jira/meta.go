package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ServerInfo is what /rest/api/2/serverInfo says about the site.
type ServerInfo struct {
	BaseURL        string `json:"baseUrl"`
	Version        string `json:"version"`
	VersionNumbers []int  `json:"versionNumbers"`
	DeploymentType string `json:"deploymentType"`
	BuildNumber    int64  `json:"buildNumber"`
	ServerTitle    string `json:"serverTitle"`
}

// Dialect is Cloud when Jira says so, Data Center for anything else ("Server", "DataCenter").
func (s *ServerInfo) Dialect() Dialect {
	if strings.EqualFold(s.DeploymentType, "Cloud") {
		return Cloud
	}
	return DataCenter
}

// ServerInfo asks the site about itself. It works on both dialects, before and after login.
func (c *Client) ServerInfo(ctx context.Context) (*ServerInfo, error) {
	var info ServerInfo
	if err := c.do(ctx, "GET", c.api("serverInfo"), nil, nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// User is a Jira user. Cloud identifies users by AccountID only (GDPR); Data Center by Name
// (the login) and Key.
type User struct {
	AccountID   string
	Name        string
	Key         string
	DisplayName string
	Email       string
	Active      bool
	Groups      []string // filled by Myself
}

// ID is the identifier Jira wants back for this user in the site's dialect: the account id on
// Cloud, the user name on Data Center.
func (u *User) ID() string {
	if u.AccountID != "" {
		return u.AccountID
	}
	return u.Name
}

// UnmarshalJSON reads Jira's user shape on both dialects, including Myself's expanded groups.
func (u *User) UnmarshalJSON(b []byte) error {
	var w struct {
		AccountID    string `json:"accountId"`
		Name         string `json:"name"`
		Key          string `json:"key"`
		DisplayName  string `json:"displayName"`
		EmailAddress string `json:"emailAddress"`
		Active       *bool  `json:"active"`
		Groups       struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = User{AccountID: w.AccountID, Name: w.Name, Key: w.Key, DisplayName: w.DisplayName, Email: w.EmailAddress, Active: w.Active == nil || *w.Active}
	for _, g := range w.Groups.Items {
		u.Groups = append(u.Groups, g.Name)
	}
	return nil
}

// Myself is the authenticated user with the groups it belongs to.
func (c *Client) Myself(ctx context.Context) (*User, error) {
	var u User
	q := url.Values{"expand": {"groups"}}
	if err := c.do(ctx, "GET", c.api("myself"), q, nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// FieldSchema is the type description of a field.
type FieldSchema struct {
	Type     string `json:"type"`
	Items    string `json:"items,omitempty"`
	System   string `json:"system,omitempty"`
	Custom   string `json:"custom,omitempty"`
	CustomID int64  `json:"customId,omitempty"`
}

// Field is one entry of the site's field catalog.
type Field struct {
	ID     string      `json:"id"`
	Key    string      `json:"key,omitempty"`
	Name   string      `json:"name"`
	Custom bool        `json:"custom"`
	Schema FieldSchema `json:"schema"`
}

// Fields lists the site's fields, system and custom.
func (c *Client) Fields(ctx context.Context) ([]Field, error) {
	var fields []Field
	if err := c.do(ctx, "GET", c.api("field"), nil, nil, &fields); err != nil {
		return nil, err
	}
	return fields, nil
}

// WellKnown holds the site-specific ids of the custom fields Foundation understands; an empty
// string means the site has no such field.
type WellKnown struct {
	StoryPoints string
	Sprint      string
	EpicLink    string
	Rank        string
}

// Custom field types, from the field's schema.custom.
const (
	customStoryPoints = "com.pyxis.greenhopper.jira:jsw-story-points"
	customSprint      = "com.pyxis.greenhopper.jira:gh-sprint"
	customEpicLink    = "com.pyxis.greenhopper.jira:gh-epic-link"
	customRank        = "com.pyxis.greenhopper.jira:gh-lexo-rank"
	customFloat       = "com.atlassian.jira.plugin.system.customfieldtypes:float"
)

// ResolveWellKnown finds the well-known custom fields by schema type, since ids differ per site
// and names are not unique. Story points fall back to a number field named "Story Points" or
// "Story point estimate" (company-managed projects often use a plain float field). When several
// fields qualify, the lowest custom field id wins, so the answer is stable.
func ResolveWellKnown(fields []Field) WellKnown {
	var w WellKnown
	pick := func(cur *string, id string) {
		if *cur == "" || customNumber(id) < customNumber(*cur) {
			*cur = id
		}
	}
	var fallbackPoints string
	for _, f := range fields {
		switch f.Schema.Custom {
		case customStoryPoints:
			pick(&w.StoryPoints, f.ID)
		case customSprint:
			pick(&w.Sprint, f.ID)
		case customEpicLink:
			pick(&w.EpicLink, f.ID)
		case customRank:
			pick(&w.Rank, f.ID)
		}
		if (f.Schema.Custom == customFloat || f.Schema.Type == "number") && f.Custom &&
			(strings.EqualFold(f.Name, "Story Points") || strings.EqualFold(f.Name, "Story point estimate")) {
			pick(&fallbackPoints, f.ID)
		}
	}
	if w.StoryPoints == "" {
		w.StoryPoints = fallbackPoints
	}
	return w
}

func customNumber(id string) int64 {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "customfield_"), 10, 64)
	if err != nil {
		return 1 << 62
	}
	return n
}

// Project is a Jira project.
type Project struct {
	ID   int64
	Key  string
	Name string
}

type wireProject struct {
	ID   flexString `json:"id"`
	Key  string     `json:"key"`
	Name string     `json:"name"`
}

func (p wireProject) project() (Project, error) {
	id, err := strconv.ParseInt(string(p.ID), 10, 64)
	if err != nil {
		return Project{}, fmt.Errorf("project %s: id %q: %w", p.Key, p.ID, err)
	}
	return Project{ID: id, Key: p.Key, Name: p.Name}, nil
}

// Projects lists the projects the identity can see. Cloud pages through project/search; Data
// Center returns them in one list.
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var out []Project
	if c.dialect != Cloud {
		var ws []wireProject
		if err := c.do(ctx, "GET", c.api("project"), nil, nil, &ws); err != nil {
			return nil, err
		}
		for _, w := range ws {
			p, err := w.project()
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", c.api("project"), err)
			}
			out = append(out, p)
		}
		return out, nil
	}
	for startAt := 0; ; {
		var page struct {
			StartAt    int           `json:"startAt"`
			MaxResults int           `json:"maxResults"`
			Total      int           `json:"total"`
			IsLast     bool          `json:"isLast"`
			Values     []wireProject `json:"values"`
		}
		q := url.Values{"startAt": {strconv.Itoa(startAt)}, "maxResults": {"100"}}
		if err := c.do(ctx, "GET", c.api("project/search"), q, nil, &page); err != nil {
			return nil, err
		}
		for _, w := range page.Values {
			p, err := w.project()
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", c.api("project/search"), err)
			}
			out = append(out, p)
		}
		startAt += len(page.Values)
		if page.IsLast || len(page.Values) == 0 || (page.Total > 0 && startAt >= page.Total) {
			return out, nil
		}
	}
}

// LinkType is an issue link type, e.g. Blocks: "blocks" / "is blocked by".
type LinkType struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Inward  string `json:"inward"`
	Outward string `json:"outward"`
}

// LinkTypes lists the site's issue link types.
func (c *Client) LinkTypes(ctx context.Context) ([]LinkType, error) {
	var out struct {
		IssueLinkTypes []LinkType `json:"issueLinkTypes"`
	}
	if err := c.do(ctx, "GET", c.api("issueLinkType"), nil, nil, &out); err != nil {
		return nil, err
	}
	return out.IssueLinkTypes, nil
}
