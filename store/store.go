// Package store is Foundation's per-site SQLite cache: issues with their raw field JSON and
// indexed extracted columns, links, the field catalog, projects, personal data, tombstones,
// sync state, the change feed, the audit log, stored Lenses, permission grants, the webhook
// journal and preferences.
//
// One file serves several processes at once (a refresh, a webhook listener, TUIs): WAL mode
// lets readers proceed while one writer commits, and every write transaction starts with
// BEGIN IMMEDIATE so competing writers queue on the busy timeout instead of failing.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// busyTimeout is how long SQLite itself waits for another connection's lock. It is generous
// because a refresh commits pages of hundreds of issues while listeners and TUIs wait.
const busyTimeout = 10 * time.Second

// writeWait bounds how long a write keeps trying to start. SQLite's busy handler polls, so
// a writer can lose the lock to processes that commit back to back for longer than
// busyTimeout; beginning again (within the caller's context) turns that starvation into
// a wait instead of a "database is locked" failure.
const writeWait = 2 * time.Minute

// readers is the size of the read pool: enough for a TUI polling the change feed while it
// builds a Lens, small enough that idle connections cost little.
const readers = 4

// DB is an open cache file. It is safe for concurrent use by many goroutines.
type DB struct {
	path string
	w    *sql.DB    // exactly one connection: this process's writer
	r    *sql.DB    // read-only pool
	ws   *stmtCache // the writer's prepared statements
	rs   *stmtCache // the readers'
	// split admits one split snapshot at a time (see splitSnapshot): it holds two reader
	// connections at once, and several doing so could each hold one and wait for another.
	split chan struct{}
}

// ErrNotFound is returned (wrapped) when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// SchemaTooNewError reports a cache written by a newer Foundation. The file is left untouched.
type SchemaTooNewError struct {
	Path  string
	Have  int // the file's schema version
	Known int // the newest version this binary knows
}

// Error says which file, which versions, and what to do.
func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("cache %s has schema version %d, newer than this Foundation knows (%d): upgrade Foundation or use another cache directory", e.Path, e.Have, e.Known)
}

// Path returns the cache file for siteURL under cacheDir: <cacheDir>/<host>.db, where the
// host is lower-cased, a port is kept (127.0.0.1:8089 -> 127.0.0.1_8089.db) so two sites on
// one host do not share a file, and anything but letters, digits, '.' and '-' becomes '_'.
func Path(cacheDir, siteURL string) string {
	host := siteURL
	if u, err := url.Parse(siteURL); err == nil && u.Host != "" {
		host = u.Host
	}
	host = strings.ToLower(host)
	var b strings.Builder
	for _, r := range host {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), ".")
	if name == "" {
		name = "_"
	}
	return filepath.Join(cacheDir, name+".db")
}

// Open opens (creating if needed) the cache at path, applies pending migrations and returns
// it. The directory is created 0700 and the file 0600. A file whose schema is newer than this
// binary knows is refused with *SchemaTooNewError and not modified.
func Open(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open cache: create directory: %w", err)
	}
	// Create the file ourselves so it is 0600 from the first byte; SQLite gives its -wal and
	// -shm files the same mode as the database.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	// A file made by something else may be readable by others; the cache holds issue data.
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("open cache %s: restrict permissions: %w", path, err)
		}
	}

	ms := busyTimeout.Milliseconds()
	// The writer's DSN leaves journal_mode alone: it is a persistent change to the file and
	// must not happen before the schema version check.
	// temp_store=MEMORY keeps statement journals (INSERT OR REPLACE needs them) off disk;
	// the larger page cache holds the issue table's indexes during a batch. page_size
	// applies only to a new file (SQLite ignores it once the file has tables): an issue row
	// is about 2.4 KB, so 4 KB pages held one each, half empty, where 8 KB pages hold three.
	// A new cache is ≈27% smaller for it, and a full sync writes that much less twice
	// (WAL, then the database file).
	wdsn := fmt.Sprintf("file:%s?_pragma=page_size(8192)&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16384)&_txlock=immediate", pathURI(path), ms)
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := migrate(ctx, w, path); err != nil {
		w.Close()
		return nil, err
	}

	rdsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-8192)&_pragma=query_only(1)", pathURI(path), ms)
	r, err := sql.Open("sqlite", rdsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open cache %s: %w", path, err)
	}
	ws, err := newStmtCache(ctx, w, cachedStatements())
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open cache %s: prepare: %w", path, err)
	}
	rs, err := newStmtCache(ctx, r, cachedReads())
	if err != nil {
		ws.close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open cache %s: prepare: %w", path, err)
	}
	return &DB{path: path, w: w, r: r, ws: ws, rs: rs, split: make(chan struct{}, 1)}, nil
}

// pathURI escapes the characters that would end the path part of a file: URI.
func pathURI(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Close releases both connection pools. In WAL mode the last connection to close
// checkpoints and removes the -wal file.
func (db *DB) Close() error {
	db.ws.close()
	db.rs.close()
	return errors.Join(db.r.Close(), db.w.Close())
}

// Path returns the file the cache lives in.
func (db *DB) Path() string { return db.path }

// Size returns the bytes the cache occupies on disk: the database file plus its WAL.
func (db *DB) Size(ctx context.Context) (int64, error) {
	var total int64
	for _, p := range []string{db.path, db.path + "-wal"} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("cache size: %w", err)
		}
		total += st.Size()
	}
	return total, nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE via _txlock) and commits it.
func (db *DB) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := beginWrite(ctx, db.w.BeginTx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// writeDurable is write with synchronous=FULL for this one transaction: the commit is on
// stable storage when it returns, not just safe against a process crash. The webhook
// journal needs that before the listener answers 2xx; the rest of the cache can be re-read
// from Jira and keeps the cheaper NORMAL.
func (db *DB) writeDurable(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	conn, err := db.w.Conn(ctx) // the only writer connection: held, nothing interleaves
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// Restore even when ctx is done: a connection left at FULL would only be slower.
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL")
	tx, err := beginWrite(ctx, conn.BeginTx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// beginWrite starts a write transaction (BEGIN IMMEDIATE), beginning again while the
// database stays busy, until writeWait or ctx runs out.
func beginWrite(ctx context.Context, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error)) (*sql.Tx, error) {
	deadline := time.Now().Add(writeWait)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		tx, err := begin(ctx, nil)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waiting for another writer: %v)", ctx.Err(), err)
		case <-time.After(pause):
		}
	}
}

// isBusy reports SQLITE_BUSY (and its extended codes): another connection holds the lock.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// read runs fn in one read transaction, so everything it reads comes from one snapshot.
func (db *DB) read(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ms converts a time to the Unix milliseconds stored in the cache; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms: 0 becomes the zero time; others are UTC.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// now is the store's clock for its own bookkeeping times (fetched_at, deleted_at, feed).
func now() time.Time { return time.Now().UTC() }
