package jira

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// PermissionScope says where a permission is asked about; set exactly one field. The zero
// scope asks about global and any-project permissions.
type PermissionScope struct {
	ProjectKey string
	ProjectID  int64
	IssueKey   string
	IssueID    int64
}

func (s PermissionScope) query(q url.Values) error {
	set := 0
	if s.ProjectKey != "" {
		q.Set("projectKey", s.ProjectKey)
		set++
	}
	if s.ProjectID != 0 {
		q.Set("projectId", strconv.FormatInt(s.ProjectID, 10))
		set++
	}
	if s.IssueKey != "" {
		q.Set("issueKey", s.IssueKey)
		set++
	}
	if s.IssueID != 0 {
		q.Set("issueId", strconv.FormatInt(s.IssueID, 10))
		set++
	}
	if set > 1 {
		return errors.New("permission scope: set one of project key, project id, issue key, issue id")
	}
	return nil
}

// MyPermissions says which of perms the identity holds in scope. A project-level grant does not
// account for issue security levels: ask per issue for those. A 404 means the project or issue
// is not visible, which is an answer (all false), not an error.
func (c *Client) MyPermissions(ctx context.Context, scope PermissionScope, perms ...string) (map[string]bool, error) {
	if len(perms) == 0 {
		return nil, errors.New("my permissions: name at least one permission")
	}
	q := url.Values{"permissions": {strings.Join(perms, ",")}}
	if err := scope.query(q); err != nil {
		return nil, err
	}
	var out struct {
		Permissions map[string]struct {
			HavePermission bool `json:"havePermission"`
		} `json:"permissions"`
	}
	result := make(map[string]bool, len(perms))
	for _, p := range perms {
		result[p] = false
	}
	err := c.do(ctx, "GET", c.api("mypermissions"), q, nil, &out)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		return result, nil
	}
	if err != nil {
		return nil, err
	}
	for _, p := range perms {
		result[p] = out.Permissions[p].HavePermission
	}
	return result, nil
}

// checkChunk is Jira's limit of project ids and of issue ids per permissions/check request.
const checkChunk = 1000

// CheckPermissions asks Cloud in bulk whether a user holds perm on each project and issue id.
// accountID "" means the calling identity; another user's needs Administer Jira (403
// otherwise). Every requested id is in the answer, true when granted. Data Center has no bulk
// check: the error wraps ErrNotSupported and callers use MyPermissions per project or issue.
func (c *Client) CheckPermissions(ctx context.Context, accountID string, perm string, projectIDs, issueIDs []int64) (projects, issues map[int64]bool, err error) {
	if c.dialect != Cloud {
		return nil, nil, fmt.Errorf("bulk permission check: %w", ErrNotSupported)
	}
	// uniqueItems in Jira's schema: duplicates are a 400.
	projectIDs = dedupe(projectIDs)
	issueIDs = dedupe(issueIDs)
	projects = make(map[int64]bool, len(projectIDs))
	issues = make(map[int64]bool, len(issueIDs))
	for _, id := range projectIDs {
		projects[id] = false
	}
	for _, id := range issueIDs {
		issues[id] = false
	}
	for i := 0; i < max(len(projectIDs), len(issueIDs)); i += checkChunk {
		pc := window(projectIDs, i)
		ic := window(issueIDs, i)
		req := map[string]any{"permissions": []string{perm}}
		if len(pc) > 0 {
			req["projects"] = pc
		}
		if len(ic) > 0 {
			req["issues"] = ic
		}
		body := map[string]any{"projectPermissions": []any{req}}
		if accountID != "" {
			body["accountId"] = accountID
		}
		var out struct {
			ProjectPermissions []struct {
				Permission string  `json:"permission"`
				Projects   []int64 `json:"projects"`
				Issues     []int64 `json:"issues"`
			} `json:"projectPermissions"`
		}
		if err := c.do(ctx, "POST", "/rest/api/3/permissions/check", nil, body, &out); err != nil {
			return nil, nil, fmt.Errorf("check %s for %d projects and %d issues: %w", perm, len(pc), len(ic), err)
		}
		for _, g := range out.ProjectPermissions {
			if g.Permission != perm {
				continue
			}
			// Only ids that were asked about count: a grant for anything else is ignored.
			for _, id := range g.Projects {
				if _, asked := projects[id]; asked {
					projects[id] = true
				}
			}
			for _, id := range g.Issues {
				if _, asked := issues[id]; asked {
					issues[id] = true
				}
			}
		}
	}
	return projects, issues, nil
}

func window(ids []int64, from int) []int64 {
	if from >= len(ids) {
		return nil
	}
	return ids[from:min(from+checkChunk, len(ids))]
}

func dedupe(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
