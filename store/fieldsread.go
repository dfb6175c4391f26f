package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// CachedFields is what the webhook applier needs of a cached issue to decide how to apply a
// newer snapshot of it: its version, which raw fields it holds, and a few raw fields by
// value. Decoding every raw field into a map (Issues with WithRaw) costs several times more.
type CachedFields struct {
	ID      int64
	Key     string
	Updated time.Time
	// NonNull lists the raw fields the cached issue holds with a value other than null.
	NonNull map[string]bool
	// Raw holds the asked-for fields the cached issue has, as stored (null included).
	Raw map[string]json.RawMessage
}

// CachedFieldsByKey reads, for the cached issues among keys, their version, the names of
// their non-null raw fields and the raw values of the fields in want, indexed by issue id.
// The stored field object is walked once without decoding its values (objectMembers, as
// extraction does); only an object that walk refuses (escaped or non-ASCII keys) is decoded
// whole. Walking it in SQLite (json_each, ->) measured slower than this.
func (db *DB) CachedFieldsByKey(ctx context.Context, keys []string, want []string) (map[int64]CachedFields, error) {
	out := make(map[int64]CachedFields, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	kb, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("cached fields: %w", err)
	}
	err = db.read(ctx, "cached fields", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, key, updated, fields FROM issues
			WHERE key IN (SELECT value FROM json_each(?))`, string(kb))
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			updated int64
			raw     sql.RawBytes // valid until the next Scan: values kept are copied
		)
		for rows.Next() {
			var c CachedFields
			if err := rows.Scan(&c.ID, &c.Key, &updated, &raw); err != nil {
				return err
			}
			c.Updated = fromMS(updated)
			if c.NonNull, c.Raw, err = pickFields(bytes.TrimSpace(raw), want); err != nil {
				return fmt.Errorf("%s fields: %w", c.Key, err)
			}
			out[c.ID] = c
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pickFields lists the non-null members of the raw field object and copies those in want.
func pickFields(raw []byte, want []string) (map[string]bool, map[string]json.RawMessage, error) {
	nonNull := make(map[string]bool, 64)
	picked := make(map[string]json.RawMessage, len(want))
	keep := func(k string, v []byte) {
		if string(v) != "null" {
			nonNull[k] = true
		}
		if slices.Contains(want, k) {
			picked[k] = json.RawMessage(bytes.Clone(v))
		}
	}
	if objectMembers(raw, func(k, v []byte) bool { keep(string(k), v); return true }) {
		return nonNull, picked, nil
	}
	// The walk stopped part way: start over from a full decode.
	clear(nonNull)
	clear(picked)
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, nil, err
	}
	for k, v := range all {
		keep(k, v)
	}
	return nonNull, picked, nil
}

// MarshalFields encodes raw fields as the cache stores them (EncodeFields) after checking
// that every value is valid JSON, so a caller can do it before taking the writer and hand
// the result to ApplyPage in Page.Raw, with the returned members as the Fields.
func MarshalFields(f map[string]json.RawMessage) (json.RawMessage, map[string]json.RawMessage, error) {
	return marshalFields(f)
}
