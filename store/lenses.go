package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Lens is a stored Lens definition. The YAML (with its ACL) is the lens package's business;
// the store keeps it verbatim with a version for optimistic concurrency.
type Lens struct {
	Name      string
	YAML      string
	Version   int64 // 1 on creation, +1 on every change
	Owner     string
	UpdatedAt time.Time
	UpdatedBy string
}

// LensConflictError reports a write based on a version that is no longer current: someone
// else changed (or created, or deleted) the Lens first. Actual is 0 when it does not exist.
type LensConflictError struct {
	Name     string
	Expected int64
	Actual   int64
}

// Error says what the writer expected and what it found.
func (e *LensConflictError) Error() string {
	switch {
	case e.Expected == 0:
		return fmt.Sprintf("lens %q already exists (version %d)", e.Name, e.Actual)
	case e.Actual == 0:
		return fmt.Sprintf("lens %q no longer exists (expected version %d)", e.Name, e.Expected)
	default:
		return fmt.Sprintf("lens %q changed meanwhile: now version %d, expected %d", e.Name, e.Actual, e.Expected)
	}
}

// PutLens stores l (Name, YAML, Owner, UpdatedBy; UpdatedAt zero means now) if the stored
// version is expectVersion, where 0 means "must not exist yet". It returns the new version,
// or *LensConflictError.
func (db *DB) PutLens(ctx context.Context, l Lens, expectVersion int64) (int64, error) {
	if l.Name == "" {
		return 0, errors.New("put lens: empty name")
	}
	at := l.UpdatedAt
	if at.IsZero() {
		at = now()
	}
	var next int64
	err := db.write(ctx, "put lens "+l.Name, func(tx *sql.Tx) error {
		cur, err := lensVersion(ctx, tx, l.Name)
		if err != nil {
			return err
		}
		if cur != expectVersion {
			return &LensConflictError{Name: l.Name, Expected: expectVersion, Actual: cur}
		}
		next = cur + 1
		if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO lenses(name, yaml, version, owner, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)",
			l.Name, l.YAML, next, l.Owner, ms(at), l.UpdatedBy); err != nil {
			return err
		}
		return addChange(ctx, tx, ChangeLens, "", l.Name)
	})
	return next, err
}

// DeleteLens removes a Lens if its stored version is expectVersion (*LensConflictError
// otherwise, including when it does not exist).
func (db *DB) DeleteLens(ctx context.Context, name string, expectVersion int64) error {
	return db.write(ctx, "delete lens "+name, func(tx *sql.Tx) error {
		cur, err := lensVersion(ctx, tx, name)
		if err != nil {
			return err
		}
		if cur == 0 || cur != expectVersion {
			return &LensConflictError{Name: name, Expected: expectVersion, Actual: cur}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM lenses WHERE name = ?", name); err != nil {
			return err
		}
		return addChange(ctx, tx, ChangeLens, "", name)
	})
}

func lensVersion(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, "SELECT version FROM lenses WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// Lens returns one stored Lens; a missing one is ErrNotFound.
func (db *DB) Lens(ctx context.Context, name string) (Lens, error) {
	ls, err := db.lenses(ctx, "WHERE name = ?", name)
	if err != nil {
		return Lens{}, err
	}
	if len(ls) == 0 {
		return Lens{}, fmt.Errorf("lens %q: %w", name, ErrNotFound)
	}
	return ls[0], nil
}

// Lenses returns every stored Lens ordered by name.
func (db *DB) Lenses(ctx context.Context) ([]Lens, error) {
	return db.lenses(ctx, "")
}

func (db *DB) lenses(ctx context.Context, where string, args ...any) ([]Lens, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT name, yaml, version, owner, updated_at, updated_by FROM lenses "+where+" ORDER BY name", args...)
	if err != nil {
		return nil, fmt.Errorf("lenses: %w", err)
	}
	defer rows.Close()
	var out []Lens
	for rows.Next() {
		var l Lens
		var at int64
		if err := rows.Scan(&l.Name, &l.YAML, &l.Version, &l.Owner, &at, &l.UpdatedBy); err != nil {
			return nil, fmt.Errorf("lenses: %w", err)
		}
		l.UpdatedAt = fromMS(at)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lenses: %w", err)
	}
	return out, nil
}
