package jira

import (
	"context"
	"net/url"
)

// AssignableUsers finds users who may be assigned the issue, matching query (name or email
// prefix). Cloud's parameter is query, Data Center's is username.
func (c *Client) AssignableUsers(ctx context.Context, issueKey, query string) ([]User, error) {
	q := url.Values{"issueKey": {issueKey}}
	c.userQuery(q, query)
	var users []User
	if err := c.do(ctx, "GET", c.api("user/assignable/search"), q, nil, &users); err != nil {
		return nil, err
	}
	return users, nil
}

// SearchUsers finds users matching query.
func (c *Client) SearchUsers(ctx context.Context, query string) ([]User, error) {
	q := url.Values{}
	c.userQuery(q, query)
	var users []User
	if err := c.do(ctx, "GET", c.api("user/search"), q, nil, &users); err != nil {
		return nil, err
	}
	return users, nil
}

func (c *Client) userQuery(q url.Values, query string) {
	if c.dialect == Cloud {
		q.Set("query", query)
	} else {
		q.Set("username", query)
	}
}

// SearchGroups finds group names matching query.
func (c *Client) SearchGroups(ctx context.Context, query string) ([]string, error) {
	var out struct {
		Groups []struct {
			Name string `json:"name"`
		} `json:"groups"`
	}
	if err := c.do(ctx, "GET", c.api("groups/picker"), url.Values{"query": {query}}, nil, &out); err != nil {
		return nil, err
	}
	names := make([]string, len(out.Groups))
	for i, g := range out.Groups {
		names[i] = g.Name
	}
	return names, nil
}
