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
