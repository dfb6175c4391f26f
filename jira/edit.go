package jira

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
)

// Edit is a change to one issue. A field goes in Fields (set the value) or in Update
// (operations such as {"add": "x"}), never both: Jira refuses that.
type Edit struct {
	Fields map[string]any
	Update map[string][]map[string]any
	// NotifyUsers, when set, is sent as notifyUsers=true|false. Jira honours false only for
	// admins. go-jira drops a false value (omitempty), hence the hand-built query.
	NotifyUsers *bool
}

// EditIssue applies e to the issue. A 400 comes back as *APIError with Jira's per-field errors.
func (c *Client) EditIssue(ctx context.Context, key string, e Edit) error {
	for f := range e.Fields {
		if _, both := e.Update[f]; both {
			return errors.New("edit " + key + ": field " + f + " is in both fields and update")
		}
	}
	var q url.Values
	if e.NotifyUsers != nil {
		q = url.Values{"notifyUsers": {strconv.FormatBool(*e.NotifyUsers)}}
	}
	body := map[string]any{}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	if len(e.Update) > 0 {
		body["update"] = e.Update
	}
	return c.do(ctx, "PUT", c.api("issue/"+url.PathEscape(key)), q, body, nil)
}

// EditField describes how one field of one issue may be edited.
type EditField struct {
	Key             string            `json:"key"`
	Name            string            `json:"name"`
	Required        bool              `json:"required"`
	Schema          FieldSchema       `json:"schema"`
	Operations      []string          `json:"operations"`
	AllowedValues   []json.RawMessage `json:"allowedValues,omitempty"`
	AutoCompleteURL string            `json:"autoCompleteUrl,omitempty"`
	HasDefaultValue bool              `json:"hasDefaultValue,omitempty"`
	DefaultValue    json.RawMessage   `json:"defaultValue,omitempty"`
}

// EditMeta is what the identity may edit on an issue, by field id. A field absent from it is
// not editable (no permission, not on the screen, or not in the workflow step).
type EditMeta struct {
	Fields map[string]EditField `json:"fields"`
}

// Editable reports whether a field may be edited with the operation (e.g. "set", "add").
func (m *EditMeta) Editable(fieldID, op string) bool {
	f, ok := m.Fields[fieldID]
	if !ok {
		return false
	}
	for _, o := range f.Operations {
		if o == op {
			return true
		}
	}
	return false
}

// EditMeta fetches the edit metadata of an issue.
func (c *Client) EditMeta(ctx context.Context, key string) (*EditMeta, error) {
	var m EditMeta
	if err := c.do(ctx, "GET", c.api("issue/"+url.PathEscape(key)+"/editmeta"), nil, nil, &m); err != nil {
		return nil, err
	}
	if m.Fields == nil {
		m.Fields = map[string]EditField{}
	}
	return &m, nil
}

// Status is a workflow status.
type Status struct {
	ID          string
	Name        string
	CategoryKey string // "new", "indeterminate" or "done"
}

// UnmarshalJSON flattens Jira's nested statusCategory into CategoryKey.
func (s *Status) UnmarshalJSON(b []byte) error {
	var w struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		StatusCategory struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = Status{ID: w.ID, Name: w.Name, CategoryKey: w.StatusCategory.Key}
	return nil
}

// Transition is a workflow transition available to the identity on an issue.
type Transition struct {
	ID        string               `json:"id"`
	Name      string               `json:"name"`
	To        Status               `json:"to"`
	HasScreen bool                 `json:"hasScreen"`
	Fields    map[string]EditField `json:"fields"`
}

// Transitions lists the transitions the identity may take on the issue, with their screen
// fields. Jira answers an empty list, not an error, when the identity may not transition.
func (c *Client) Transitions(ctx context.Context, key string) ([]Transition, error) {
	var out struct {
		Transitions []Transition `json:"transitions"`
	}
	q := url.Values{"expand": {"transitions.fields"}}
	if err := c.do(ctx, "GET", c.api("issue/"+url.PathEscape(key)+"/transitions"), q, nil, &out); err != nil {
		return nil, err
	}
	return out.Transitions, nil
}

// DoTransition moves the issue along a transition, setting the screen fields given.
func (c *Client) DoTransition(ctx context.Context, key, transitionID string, fields map[string]any) error {
	body := map[string]any{"transition": map[string]string{"id": transitionID}}
	if len(fields) > 0 {
		body["fields"] = fields
	}
	return c.do(ctx, "POST", c.api("issue/"+url.PathEscape(key)+"/transitions"), nil, body, nil)
}

// CreateIssue creates an issue from its fields (project, issuetype and summary at least).
func (c *Client) CreateIssue(ctx context.Context, fields map[string]any) (IssueRef, error) {
	var out struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := c.do(ctx, "POST", c.api("issue"), nil, map[string]any{"fields": fields}, &out); err != nil {
		return IssueRef{}, err
	}
	id, err := strconv.ParseInt(out.ID, 10, 64)
	if err != nil {
		return IssueRef{}, errors.New("create issue: Jira answered a non-numeric id " + strconv.Quote(out.ID))
	}
	return IssueRef{ID: id, Key: out.Key}, nil
}

// DeleteIssue deletes an issue; with subtasks false Jira refuses to delete a parent.
func (c *Client) DeleteIssue(ctx context.Context, key string, subtasks bool) error {
	q := url.Values{"deleteSubtasks": {strconv.FormatBool(subtasks)}}
	return c.do(ctx, "DELETE", c.api("issue/"+url.PathEscape(key)), q, nil, nil)
}

// CreateLink links two issues: outward "blocks" inward for the Blocks type.
func (c *Client) CreateLink(ctx context.Context, linkType, inwardKey, outwardKey string) error {
	body := map[string]any{
		"type":         map[string]string{"name": linkType},
		"inwardIssue":  map[string]string{"key": inwardKey},
		"outwardIssue": map[string]string{"key": outwardKey},
	}
	return c.do(ctx, "POST", c.api("issueLink"), nil, body, nil)
}

// DeleteLink removes an issue link by its id.
func (c *Client) DeleteLink(ctx context.Context, linkID string) error {
	return c.do(ctx, "DELETE", c.api("issueLink/"+url.PathEscape(linkID)), nil, nil, nil)
}
