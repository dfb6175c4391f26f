package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"foundation/lens"
)

// Page is one page of issues read from Jira, with what was read alongside them: the complete
// link set of each issue (from its issuelinks field) and the users its fields mention.
type Page struct {
	Issues []lens.Issue
	// Raw, when set, holds for Issues[i] its fields as one JSON object as read from Jira
	// (nil where unknown). The caller vouches that it is valid JSON with exactly the members
	// of Issues[i].Fields, as jira.Issue.Raw is: it is stored as is instead of re-encoding
	// Fields, which at 5 KB an issue is a large part of a full sync's cost.
	Raw   []json.RawMessage
	Links map[string][]lens.Link // by issue key; an issue without an entry keeps its links
	Users []User
}

// ApplyPage writes a page in one transaction: the issues under the version guard (see
// UpsertIssues), the links of the issues that were written (a stale or blocked issue's links
// are not its current ones, and an unchanged issue's are already cached), then the users.
// One transaction per page keeps a full sync of 100,000 issues at a thousand commits
// instead of one per issue.
func (db *DB) ApplyPage(ctx context.Context, p Page, authoritative bool) (UpsertStats, error) {
	var st UpsertStats
	err := db.write(ctx, "apply page", func(tx *sql.Tx) error {
		var written []string
		var err error
		st, err = upsertIssues(ctx, tx, p.Issues, p.Raw, authoritative, func(i int) {
			written = append(written, p.Issues[i].Key)
		})
		if err != nil {
			return err
		}
		if err := replaceLinks(ctx, tx, written, p.Links); err != nil {
			return err
		}
		return putUsers(ctx, tx, p.Users)
	})
	return st, err
}

// replaceLinks makes links[key] the complete link set touching each key in keys.
func replaceLinks(ctx context.Context, tx *sql.Tx, keys []string, links map[string][]lens.Link) error {
	if len(keys) == 0 {
		return nil
	}
	del, err := tx.PrepareContext(ctx, "DELETE FROM links WHERE from_key = ?1 OR to_key = ?1")
	if err != nil {
		return err
	}
	defer del.Close()
	var all []lens.Link
	for _, k := range keys {
		ls, ok := links[k]
		if !ok {
			continue
		}
		if _, err := del.ExecContext(ctx, k); err != nil {
			return fmt.Errorf("links of %s: %w", k, err)
		}
		all = append(all, ls...)
	}
	return putLinks(ctx, tx, all)
}
