package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// maxRankIssues is Jira's limit on the issues one rank request may move.
const maxRankIssues = 50

// rankPath is the Jira Software (Agile) rank operation. It has no dialect difference: Cloud and
// Data Center both serve it under /rest/agile/1.0, outside the platform API.
const rankPath = "/rest/agile/1.0/issue/rank"

// RankFailure is one issue Jira did not rank in an otherwise answered request (a 207 entry).
type RankFailure struct {
	Key    string
	Status int
	Errors []string
}

// RankError reports a 207 answer: some issues were ranked and Failures were not.
type RankError struct {
	Failures []RankFailure
}

func (e *RankError) Error() string {
	parts := make([]string, 0, len(e.Failures))
	for _, f := range e.Failures {
		msg := fmt.Sprintf("%s: %d %s", f.Key, f.Status, http.StatusText(f.Status))
		if len(f.Errors) > 0 {
			msg += ": " + strings.Join(f.Errors, "; ")
		}
		parts = append(parts, msg)
	}
	return "rank: not ranked: " + strings.Join(parts, ", ")
}

// rankEntries is the 207 body: one entry per issue with its own status.
type rankEntries struct {
	Entries []struct {
		IssueID  int64    `json:"issueId"`
		IssueKey string   `json:"issueKey"`
		Status   int      `json:"status"`
		Errors   []string `json:"errors"`
	} `json:"entries"`
}

// RankIssues moves keys (in that order) to just before the issue before, or just after the
// issue after; exactly one of the two is given. Jira ranks globally, so the issues keep their
// place relative to every other issue. A partial success (207) is a *RankError naming the
// issues left where they were; a refusal is the usual typed error (403 *ForbiddenError when
// the identity may not schedule the issues).
func (c *Client) RankIssues(ctx context.Context, keys []string, before, after string) error {
	if len(keys) == 0 {
		return errors.New("rank: no issues to rank")
	}
	if len(keys) > maxRankIssues {
		return fmt.Errorf("rank: %d issues, Jira ranks at most %d at once", len(keys), maxRankIssues)
	}
	if (before == "") == (after == "") {
		return fmt.Errorf("rank %s: give exactly one of before and after", strings.Join(keys, ","))
	}
	body := map[string]any{"issues": keys}
	if before != "" {
		body["rankBeforeIssue"] = before
	} else {
		body["rankAfterIssue"] = after
	}
	var out rankEntries
	if err := c.do(ctx, http.MethodPut, rankPath, nil, body, &out); err != nil {
		return fmt.Errorf("rank %s: %w", strings.Join(keys, ","), err)
	}
	var failed []RankFailure
	for _, e := range out.Entries {
		if e.Status < 200 || e.Status > 299 {
			failed = append(failed, RankFailure{Key: e.IssueKey, Status: e.Status, Errors: e.Errors})
		}
	}
	if len(failed) > 0 {
		return &RankError{Failures: failed}
	}
	return nil
}
