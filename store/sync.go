package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SyncState is refresh's bookkeeping for one scope (a bounded JQL).
type SyncState struct {
	Scope         string
	Watermark     time.Time // newest `updated` committed; polls start from here minus an overlap
	LastFull      time.Time
	LastPoll      time.Time
	LastReconcile time.Time
	Cursor        string // where an interrupted full sync resumes ("" when none is running)
}

// SyncState returns the state for scope; a scope never synced gives a zero state (with Scope
// set) and no error.
func (db *DB) SyncState(ctx context.Context, scope string) (SyncState, error) {
	s := SyncState{Scope: scope}
	var wm, full, poll, rec int64
	err := db.r.QueryRowContext(ctx, "SELECT watermark, last_full, last_poll, last_reconcile, cursor FROM sync_state WHERE scope = ?", scope).
		Scan(&wm, &full, &poll, &rec, &s.Cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("sync state: %w", err)
	}
	s.Watermark, s.LastFull, s.LastPoll, s.LastReconcile = fromMS(wm), fromMS(full), fromMS(poll), fromMS(rec)
	return s, nil
}

// PutSyncState stores s, replacing the state of its scope.
func (db *DB) PutSyncState(ctx context.Context, s SyncState) error {
	return db.write(ctx, "put sync state", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO sync_state(scope, watermark, last_full, last_poll, last_reconcile, cursor) VALUES (?, ?, ?, ?, ?, ?)",
			s.Scope, ms(s.Watermark), ms(s.LastFull), ms(s.LastPoll), ms(s.LastReconcile), s.Cursor)
		return err
	})
}

// SyncScopes lists every scope that has sync state in this cache: the scopes of the profiles
// whose refreshes put issues here. A webhook applier keeps an issue while any of them may
// cover it.
func (db *DB) SyncScopes(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT scope FROM sync_state ORDER BY scope")
	if err != nil {
		return nil, fmt.Errorf("sync scopes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("sync scopes: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sync scopes: %w", err)
	}
	return out, nil
}
