package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"foundation/lens"
)

// WellKnown names the field ids that play fixed roles but differ per site: custom fields
// found in the field catalog by their schema (see JIRA.md). An empty id means the site has no
// such field.
type WellKnown struct {
	StoryPoints string // e.g. "customfield_10016"
	Sprint      string
	EpicLink    string // Data Center only; Cloud uses parent
	Rank        string
}

// ExtractError reports a field whose JSON does not have the shape Jira gives it.
type ExtractError struct {
	Key   string
	Field string
	Err   error
}

// Error names the issue and the field.
func (e *ExtractError) Error() string {
	return fmt.Sprintf("issue %s: field %s: %v", e.Key, e.Field, e.Err)
}

// Unwrap gives the decoding error.
func (e *ExtractError) Unwrap() error { return e.Err }

// jiraTimeLayouts are the forms Jira uses for created/updated: the REST form
// (2024-01-31T14:05:06.789+0000) and, from some webhooks and tools, RFC 3339.
var jiraTimeLayouts = [...]string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
}

// Extract turns Jira's raw field JSON for one issue into a lens.Issue: the extracted columns
// plus fields itself (kept, not copied). Absent or null fields leave their column empty; a
// field whose JSON has the wrong shape is an *ExtractError.
func Extract(id int64, key string, fields map[string]json.RawMessage, wk WellKnown) (lens.Issue, error) {
	is := lens.Issue{ID: id, Key: key, Fields: fields}
	if key == "" {
		return is, &ExtractError{Key: strconv.FormatInt(id, 10), Field: "key", Err: fmt.Errorf("empty issue key")}
	}
	fail := func(field string, err error) (lens.Issue, error) {
		return is, &ExtractError{Key: key, Field: field, Err: err}
	}

	var project struct {
		ID  jsonID `json:"id"`
		Key string `json:"key"`
	}
	if err := decode(fields["project"], &project); err != nil {
		return fail("project", err)
	}
	is.ProjectID, is.Project = int64(project.ID), project.Key

	var itype struct {
		Name    string `json:"name"`
		Subtask bool   `json:"subtask"`
	}
	if err := decode(fields["issuetype"], &itype); err != nil {
		return fail("issuetype", err)
	}
	is.Type, is.Subtask = itype.Name, itype.Subtask

	var status struct {
		Name     string `json:"name"`
		Category struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	}
	if err := decode(fields["status"], &status); err != nil {
		return fail("status", err)
	}
	is.Status, is.StatusCategory = status.Name, status.Category.Key

	var err error
	if is.Priority, err = nameOf(fields["priority"]); err != nil {
		return fail("priority", err)
	}
	if is.Resolution, err = nameOf(fields["resolution"]); err != nil {
		return fail("resolution", err)
	}
	if is.SecurityLevel, err = nameOf(fields["security"]); err != nil {
		return fail("security", err)
	}

	var parent struct {
		Key string `json:"key"`
	}
	if err := decode(fields["parent"], &parent); err != nil {
		return fail("parent", err)
	}
	is.Parent = parent.Key

	if wk.EpicLink != "" {
		if err := decode(fields[wk.EpicLink], &is.EpicLink); err != nil {
			return fail(wk.EpicLink, err)
		}
	}
	if is.Assignee, err = userID(fields["assignee"]); err != nil {
		return fail("assignee", err)
	}
	if is.Reporter, err = userID(fields["reporter"]); err != nil {
		return fail("reporter", err)
	}
	if err := decode(fields["summary"], &is.Summary); err != nil {
		return fail("summary", err)
	}
	if err := decode(fields["labels"], &is.Labels); err != nil {
		return fail("labels", err)
	}
	if len(is.Labels) == 0 {
		is.Labels = nil // one spelling of "no labels", as reads from the store give it
	}
	if wk.StoryPoints != "" {
		if err := decode(fields[wk.StoryPoints], &is.StoryPoints); err != nil {
			return fail(wk.StoryPoints, err)
		}
	}
	if err := decode(fields["duedate"], &is.DueDate); err != nil {
		return fail("duedate", err)
	}
	if is.DueDate != "" {
		if _, err := time.Parse(time.DateOnly, is.DueDate); err != nil {
			return fail("duedate", err)
		}
	}
	if is.Created, err = jiraTime(fields["created"]); err != nil {
		return fail("created", err)
	}
	if is.Updated, err = jiraTime(fields["updated"]); err != nil {
		return fail("updated", err)
	}
	if wk.Rank != "" {
		if err := decode(fields[wk.Rank], &is.Rank); err != nil {
			return fail(wk.Rank, err)
		}
	}
	return is, nil
}

// decode unmarshals raw into v unless it is absent or null, which leave v as it is.
func decode(raw json.RawMessage, v any) error {
	if isNull(raw) {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// nameOf reads the "name" of an object field such as priority, resolution or security.
func nameOf(raw json.RawMessage) (string, error) {
	var v struct {
		Name string `json:"name"`
	}
	err := decode(raw, &v)
	return v.Name, err
}

// userID reads a user object's identity: accountId on Cloud, name on Data Center.
func userID(raw json.RawMessage) (string, error) {
	var u struct {
		AccountID string `json:"accountId"`
		Name      string `json:"name"`
	}
	if err := decode(raw, &u); err != nil {
		return "", err
	}
	if u.AccountID != "" {
		return u.AccountID, nil
	}
	return u.Name, nil
}

// jiraTime parses a created/updated value, keeping its millisecond precision, in UTC.
func jiraTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := decode(raw, &s); err != nil || s == "" {
		return time.Time{}, err
	}
	for _, layout := range jiraTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

// jsonID accepts Jira's ids both as strings ("10000", the REST form) and as numbers.
type jsonID int64

func (j *jsonID) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	s := string(bytes.Trim(bytes.TrimSpace(b), `"`))
	if s == "" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("id %s: %w", b, err)
	}
	*j = jsonID(v)
	return nil
}
