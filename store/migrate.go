package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles are the schema steps, named NNNN_what.sql. Each runs once, in its own
// transaction, and sets PRAGMA user_version to its number; schema_migrations keeps a history.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded steps in order. Their numbering is checked so that a
// missing or duplicated file fails every test rather than corrupting a user's cache.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		body, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate brings the file at w up to date. It refuses a newer schema before touching the
// file (journal mode included), and re-reads the version inside each step's write
// transaction so that processes opening a fresh file at the same moment apply each step once.
func migrate(ctx context.Context, w *sql.DB, file string) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	known := len(steps)
	have, err := userVersion(ctx, w)
	if err != nil {
		return fmt.Errorf("open cache %s: %w", file, err)
	}
	if have > known {
		return &SchemaTooNewError{Path: file, Have: have, Known: known}
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("open cache %s: set WAL: %w", file, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open cache %s: journal mode is %q, want wal", file, mode)
	}
	for _, m := range steps {
		if m.version <= have {
			continue
		}
		err := func() error {
			tx, err := beginWrite(ctx, w.BeginTx)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var cur int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
				return err
			}
			if cur > known {
				return &SchemaTooNewError{Path: file, Have: cur, Known: known}
			}
			if cur >= m.version {
				return nil // another process got here first
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, ms(now())); err != nil {
				return err
			}
			// PRAGMA takes no bound parameters; the version is an int from our own files.
			if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(m.version)); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			if _, ok := err.(*SchemaTooNewError); ok {
				return err
			}
			return fmt.Errorf("open cache %s: migration %s: %w", file, m.name, err)
		}
	}
	return nil
}

func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
