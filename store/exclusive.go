package store

// exclusive.go deletes a cache safely: only when no other process has it open, and only
// after saying what in it Jira cannot give back.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// exclusiveWait is how long Lock waits for another connection to let go: long enough for a
// short write to finish, short enough that an open TUI or `webhook listen` is reported
// rather than waited for.
const exclusiveWait = 500 * time.Millisecond

// InUseError means another connection, usually another process (a TUI, a refresh,
// `webhook listen`), has the cache open.
type InUseError struct{ Path string }

func (e *InUseError) Error() string {
	return fmt.Sprintf("cache %s is open in another process (a TUI, refresh or webhook listen)", e.Path)
}

// Kept counts what a cache holds that no refresh can bring back from Jira.
type Kept struct {
	Lenses, Audit, Journal int64
}

// Empty reports whether nothing would be lost.
func (k Kept) Empty() bool { return k == Kept{} }

// String lists the non-zero counts, such as "2 Lenses, 14 audit entries".
func (k Kept) String() string {
	var parts []string
	for _, c := range []struct {
		n         int64
		one, many string
	}{{k.Lenses, "Lens", "Lenses"}, {k.Audit, "audit entry", "audit entries"}, {k.Journal, "webhook delivery", "webhook deliveries"}} {
		switch {
		case c.n == 1:
			parts = append(parts, "1 "+c.one)
		case c.n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.many))
		}
	}
	return strings.Join(parts, ", ")
}

// Exclusive is a cache no other connection may open: SQLite's exclusive lock, held until
// Close. It is not a *DB: it neither migrates nor creates the file.
type Exclusive struct {
	path string
	db   *sql.DB
	conn *sql.Conn
}

// Lock takes the exclusive lock on the existing cache at path, waiting briefly. Another
// process with the cache open, even idle, holds a shared lock on it, so this fails with
// *InUseError while any does; a missing file is fs.ErrNotExist.
func Lock(ctx context.Context, path string) (*Exclusive, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	dsn := fmt.Sprintf("file:%s?mode=rw&_pragma=busy_timeout(%d)&_pragma=locking_mode(EXCLUSIVE)", pathURI(path), exclusiveWait.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("lock cache %s: %w", path, err)
	}
	conn, err := db.Conn(ctx)
	if err == nil {
		_, err = conn.ExecContext(ctx, "BEGIN EXCLUSIVE")
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		db.Close()
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked") {
			return nil, &InUseError{Path: path}
		}
		return nil, fmt.Errorf("lock cache %s: %w", path, err)
	}
	return &Exclusive{path: path, db: db, conn: conn}, nil
}

// Kept counts the Lenses, audit entries and webhook deliveries in the cache. Tables a
// cache does not have yet (a new or foreign file) count as empty.
func (x *Exclusive) Kept(ctx context.Context) (Kept, error) {
	var k Kept
	for table, n := range map[string]*int64{"lenses": &k.Lenses, "audit": &k.Audit, "journal": &k.Journal} {
		var exists int
		if err := x.conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&exists); err != nil {
			return k, fmt.Errorf("cache %s: %w", x.path, err)
		}
		if exists == 0 {
			continue
		}
		if err := x.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(n); err != nil {
			return k, fmt.Errorf("cache %s: count %s: %w", x.path, table, err)
		}
	}
	return k, nil
}

// Delete removes the cache file with its -wal and -shm while still holding the lock, so no
// process can open it in between, and then lets go. A file that cannot be removed while
// open (Windows) is removed once the lock is released.
func (x *Exclusive) Delete() error {
	var left []string
	for _, p := range []string{x.path, x.path + "-wal", x.path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			left = append(left, p)
		}
	}
	closeErr := x.Close()
	var errs []error
	for _, p := range left {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete cache: %w", err))
		}
	}
	if len(errs) > 0 {
		errs = append(errs, closeErr)
	}
	return errors.Join(errs...)
}

// Close releases the lock without changing anything.
func (x *Exclusive) Close() error {
	_, _ = x.conn.ExecContext(context.Background(), "ROLLBACK")
	return errors.Join(x.conn.Close(), x.db.Close())
}
