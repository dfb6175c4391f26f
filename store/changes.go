package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ChangeKind says what a change feed entry is about.
type ChangeKind = string

// Change feed kinds.
const (
	ChangeIssueCreated ChangeKind = "issue.created" // Detail: the issue id
	ChangeIssueUpdated ChangeKind = "issue.updated" // Detail: the issue id
	ChangeIssueDeleted ChangeKind = "issue.deleted" // Detail: the reason
	ChangeLinks        ChangeKind = "links"         // IssueKey's links changed; Detail: link id when one
	ChangeFields       ChangeKind = "fields"        // the field catalog changed
	ChangeProjects     ChangeKind = "projects"
	ChangeUsers        ChangeKind = "users"  // Detail: user id when one was purged
	ChangeLens         ChangeKind = "lens"   // Detail: the Lens name
	ChangeGrants       ChangeKind = "grants" // Detail: the identity
)

// Change is one change feed entry. Seq grows strictly with every entry, across processes.
type Change struct {
	Seq      int64
	At       time.Time
	Kind     ChangeKind
	IssueKey string
	Detail   string
}

// Changes returns up to limit entries with Seq > afterSeq, oldest first.
func (db *DB) Changes(ctx context.Context, afterSeq int64, limit int) ([]Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.r.QueryContext(ctx, "SELECT seq, at, kind, issue_key, detail FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&c.Seq, &at, &c.Kind, &c.IssueKey, &c.Detail); err != nil {
			return nil, fmt.Errorf("changes: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return out, nil
}

// LastChange returns the newest change feed sequence number (0 for none). It reads one row
// of sqlite_sequence, so TUIs can poll it every few hundred milliseconds.
func (db *DB) LastChange(ctx context.Context) (int64, error) {
	seq, err := lastChange(ctx, db.r)
	if err != nil {
		return 0, fmt.Errorf("last change: %w", err)
	}
	return seq, nil
}

// queryer is what both *sql.DB and *sql.Tx offer for single-row reads.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func lastChange(ctx context.Context, q queryer) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, "SELECT seq FROM sqlite_sequence WHERE name = 'changes'").Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// TrimChanges deletes feed entries older than before, keeping sequence numbers monotonic.
// It returns how many were deleted.
func (db *DB) TrimChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "trim changes", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM changes WHERE at < ?", ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// addChange appends one feed entry inside tx.
func addChange(ctx context.Context, tx *sql.Tx, kind ChangeKind, issueKey, detail string) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO changes(at, kind, issue_key, detail) VALUES (?, ?, ?, ?)", ms(now()), kind, issueKey, detail); err != nil {
		return fmt.Errorf("change feed: %w", err)
	}
	return nil
}
