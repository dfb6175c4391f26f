package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Pref returns the JSON value stored for identity and key, and whether there is one.
func (db *DB) Pref(ctx context.Context, identity, key string) (json.RawMessage, bool, error) {
	var v string
	err := db.r.QueryRowContext(ctx, "SELECT value FROM prefs WHERE identity = ? AND key = ?", identity, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pref %s: %w", key, err)
	}
	return json.RawMessage(v), true, nil
}

// PutPref stores a JSON value for identity and key; a nil value deletes it.
func (db *DB) PutPref(ctx context.Context, identity, key string, value json.RawMessage) error {
	if value != nil && !json.Valid(value) {
		return fmt.Errorf("pref %s: value is not valid JSON", key)
	}
	return db.write(ctx, "put pref "+key, func(tx *sql.Tx) error {
		if value == nil {
			_, err := tx.ExecContext(ctx, "DELETE FROM prefs WHERE identity = ? AND key = ?", identity, key)
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO prefs(identity, key, value) VALUES (?, ?, ?)", identity, key, string(value))
		return err
	})
}

// PrefOrPut returns the value stored for identity and key, storing value first when there
// is none: of processes racing to create it, all get the one that was stored first.
func (db *DB) PrefOrPut(ctx context.Context, identity, key string, value json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(value) {
		return nil, fmt.Errorf("pref %s: value is not valid JSON", key)
	}
	var got string
	err := db.write(ctx, "put pref "+key, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO prefs(identity, key, value) VALUES (?, ?, ?)", identity, key, string(value)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT value FROM prefs WHERE identity = ? AND key = ?", identity, key).Scan(&got)
	})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(got), nil
}

// PutPrefNoting is PutPref that also appends a change feed entry of kind (detail says what
// changed) in the same transaction, for a pref whose change invalidates builds: a viewer's
// identity or groups.
func (db *DB) PutPrefNoting(ctx context.Context, identity, key string, value json.RawMessage, kind ChangeKind, detail string) error {
	if value != nil && !json.Valid(value) {
		return fmt.Errorf("pref %s: value is not valid JSON", key)
	}
	return db.write(ctx, "put pref "+key, func(tx *sql.Tx) error {
		if value == nil {
			if _, err := tx.ExecContext(ctx, "DELETE FROM prefs WHERE identity = ? AND key = ?", identity, key); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO prefs(identity, key, value) VALUES (?, ?, ?)", identity, key, string(value)); err != nil {
			return err
		}
		return addChange(ctx, tx, kind, "", detail)
	})
}
