package store

import (
	"context"
	"fmt"
)

// Counts is a summary of what a cache holds, for `site list` and diagnostics.
type Counts struct {
	Issues, Links, Tombstones, Projects, Users, Lenses, Changes, JournalPending int64
}

// Counts reads the row counts in one snapshot.
func (db *DB) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := db.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM issues), (SELECT count(*) FROM links), (SELECT count(*) FROM tombstones),
		(SELECT count(*) FROM projects), (SELECT count(*) FROM users), (SELECT count(*) FROM lenses),
		(SELECT count(*) FROM changes),
		(SELECT count(*) FROM journal WHERE applied_at = 0 AND quarantined = '')`).
		Scan(&c.Issues, &c.Links, &c.Tombstones, &c.Projects, &c.Users, &c.Lenses, &c.Changes, &c.JournalPending)
	if err != nil {
		return c, fmt.Errorf("counts: %w", err)
	}
	return c, nil
}
