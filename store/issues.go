package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"foundation/lens"
)

// UpsertStats counts what one UpsertIssues batch did with each incoming issue.
type UpsertStats struct {
	Inserted  int `json:"inserted"`  // new to the cache
	Updated   int `json:"updated"`   // replaced a cached version
	Unchanged int `json:"unchanged"` // same content as cached (nothing written)
	Stale     int `json:"stale"`     // older than the cached version, or equal and not authoritative
	Blocked   int `json:"blocked"`   // tombstoned: deleted earlier and not proven to exist again
}

// Add returns the sum of two stats, for callers totalling many batches.
func (s UpsertStats) Add(o UpsertStats) UpsertStats {
	return UpsertStats{s.Inserted + o.Inserted, s.Updated + o.Updated, s.Unchanged + o.Unchanged, s.Stale + o.Stale, s.Blocked + o.Blocked}
}

// issueColumns is the column list shared by writes and reads; fields stays last.
const issueColumns = `id, key, project_id, project, type, subtask, status, status_category, priority,
	resolution, parent_key, epic_link, security_level, assignee, reporter, summary, labels,
	story_points, due_date, created, updated, rank`

// UpsertIssues writes a batch of issues in one transaction under the version guard:
//
//   - an issue not in the cache is inserted;
//   - a cached issue is replaced only if the incoming Updated is newer, or equal and
//     authoritative (a fresh read from Jira, as opposed to a webhook snapshot);
//   - a tombstoned issue is never resurrected by a non-authoritative write (a late webhook).
//     An authoritative fetch resurrects it only if its Updated is newer than the issue's
//     Updated when it was deleted: Jira showing a changed issue proves it exists again (moved
//     back into scope), while a search page that started before the deletion carries the old
//     Updated and stays blocked. (ApplyPage with Page.ReadAt goes further: see there.)
//
// Every applied insert or update appends to the change feed in the same transaction.
func (db *DB) UpsertIssues(ctx context.Context, issues []lens.Issue, authoritative bool) (UpsertStats, error) {
	var st UpsertStats
	if len(issues) == 0 {
		return st, nil
	}
	err := db.write(ctx, "upsert issues", func(tx *sql.Tx) error {
		var err error
		st, err = upsertIssues(ctx, tx, db.ws, issues, nil, authoritative, 0, nil)
		return err
	})
	return st, err
}

// upsertIssues is UpsertIssues inside tx. raw, when not nil, holds for issues[i] its fields
// as one JSON object already validated (see Page.Raw); a nil entry means encode Fields.
// readAt (Unix ms, 0 for none) is when the authoritative read that produced issues began:
// cached rows and tombstones written before it are superseded whatever their Updated (see
// Page.ReadAt). written, when set, is called with the index of every issue inserted or
// updated.
func upsertIssues(ctx context.Context, tx *sql.Tx, sc *stmtCache, issues []lens.Issue, raw []json.RawMessage, authoritative bool, readAt int64, written func(i int)) (UpsertStats, error) {
	if !authoritative {
		readAt = 0
	}
	var st UpsertStats
	if raw != nil && len(raw) != len(issues) {
		return st, fmt.Errorf("%d raw field objects for %d issues", len(raw), len(issues))
	}
	at := ms(now())
	err := func() error {
		// What the guard needs for the whole batch in two queries instead of one per issue.
		g, err := loadGuard(ctx, tx, sc, issues)
		if err != nil {
			return err
		}
		w := &rowWriter{ctx: ctx, tx: tx, sc: sc}
		defer w.close()
		var untomb *sql.Stmt // rarely needed: prepared on first use
		defer func() {
			if untomb != nil {
				untomb.Close()
			}
		}()

		var labels []byte
		for i := range issues {
			is := &issues[i]
			if is.ID == 0 || is.Key == "" {
				return fmt.Errorf("issue %q (id %d): id and key are required", is.Key, is.ID)
			}
			updated := ms(is.Updated)
			if tomb, ok := g.tombs[is.ID]; ok {
				// A read that began after the deletion and still finds the issue proves it
				// exists (a removal for the wrong reason heals); one that may have begun
				// before it must show a change since.
				if !authoritative || (updated <= tomb.updated && tomb.deletedAt >= readAt) {
					st.Blocked++
					continue
				}
				if untomb == nil {
					if untomb, err = tx.PrepareContext(ctx, "DELETE FROM tombstones WHERE issue_id = ?"); err != nil {
						return err
					}
				}
				if _, err := untomb.ExecContext(ctx, is.ID); err != nil {
					return fmt.Errorf("issue %s: %w", is.Key, err)
				}
				delete(g.tombs, is.ID)
			}

			cur, cached := g.rows[is.ID]
			// A row written before the read began is older news than the read, whatever
			// Updated it carries (a delivery dated in the future would pin it otherwise).
			superseded := cached && cur.fetchedAt < readAt
			if cached && !superseded && (updated < cur.updated || (updated == cur.updated && !authoritative)) {
				st.Stale++
				continue
			}
			var fields []byte
			if raw != nil && raw[i] != nil {
				fields = raw[i]
			} else if fields, _, err = marshalFields(is.Fields); err != nil {
				return fmt.Errorf("issue %s: %w", is.Key, err)
			}
			labels = appendLabels(labels[:0], is.Labels)
			h := rowHash(is, labels, fields)
			kind := ChangeIssueCreated
			if cached {
				if h == cur.hash {
					st.Unchanged++
					continue
				}
				kind = ChangeIssueUpdated
			}

			var sp any
			if is.StoryPoints != nil {
				sp = *is.StoryPoints
			}
			if err := w.add(is.Key, []any{is.ID, is.Key, is.ProjectID, is.Project, is.Type, is.Subtask,
				is.Status, is.StatusCategory, is.Priority, is.Resolution, is.Parent, is.EpicLink,
				is.SecurityLevel, is.Assignee, is.Reporter, is.Summary, string(labels), sp, is.DueDate,
				ms(is.Created), updated, is.Rank, at, h, fields},
				[]any{at, kind, is.Key, strconv.FormatInt(is.ID, 10)}); err != nil {
				return err
			}
			g.wrote(is.ID, is.Key, updated, h, at)
			if kind == ChangeIssueCreated {
				st.Inserted++
			} else {
				st.Updated++
			}
			if written != nil {
				written(i)
			}
		}
		return w.flush()
	}()
	return st, err
}

// rowsPerInsert is how many issue rows (and change feed rows) one INSERT writes. Each
// statement execution costs some microseconds in database/sql and the driver whatever it
// writes, a tenth of a sync's write path when paid per issue. 32 rows of 25 values stay far
// below SQLite's limit on parameters.
const rowsPerInsert = 32

// rowWriter writes issue rows and their change feed rows in multi-row INSERTs, in the
// order added. Rows wait in memory until rowsPerInsert are there or flush is called.
type rowWriter struct {
	ctx            context.Context
	tx             *sql.Tx
	sc             *stmtCache
	issueArgs      []any
	feedArgs       []any
	keys           []string // of the waiting rows, for errors
	many, manyFeed *sql.Stmt
	one, oneFeed   *sql.Stmt
}

// add queues one issue row (its 25 column values) and its change feed row.
func (w *rowWriter) add(key string, issue, feed []any) error {
	w.issueArgs = append(w.issueArgs, issue...)
	w.feedArgs = append(w.feedArgs, feed...)
	w.keys = append(w.keys, key)
	if len(w.keys) < rowsPerInsert {
		return nil
	}
	return w.flush()
}

// issueInsert is an INSERT of n issue rows. OR REPLACE also clears a stale row holding the
// same key under another id; within one statement a later row replaces an earlier one with
// the same id, as consecutive statements would.
func issueInsert(n int) string {
	row := "(" + strings.Repeat("?,", 24) + "?)"
	return "INSERT OR REPLACE INTO issues(" + issueColumns + ", fetched_at, hash, fields) VALUES " + strings.Repeat(row+",", n-1) + row
}

func feedInsert(n int) string {
	return "INSERT INTO changes(at, kind, issue_key, detail) VALUES " + strings.Repeat("(?,?,?,?),", n-1) + "(?,?,?,?)"
}

// flush writes the waiting rows: a full group with one statement, fewer row by row.
func (w *rowWriter) flush() error {
	n := len(w.keys)
	if n == 0 {
		return nil
	}
	issues, feed, size := &w.one, &w.oneFeed, 1
	if n == rowsPerInsert {
		issues, feed, size = &w.many, &w.manyFeed, rowsPerInsert
	}
	if *issues == nil {
		var err error
		if *issues, err = w.sc.stmt(w.ctx, w.tx, issueInsert(size)); err != nil {
			return err
		}
		if *feed, err = w.sc.stmt(w.ctx, w.tx, feedInsert(size)); err != nil {
			return err
		}
	}
	for i := 0; i < n; i += size {
		what := "issue " + w.keys[i]
		if size > 1 {
			what = "issues " + w.keys[i] + ".." + w.keys[i+size-1]
		}
		if _, err := (*issues).ExecContext(w.ctx, w.issueArgs[25*i:25*(i+size)]...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if _, err := (*feed).ExecContext(w.ctx, w.feedArgs[4*i:4*(i+size)]...); err != nil {
			return fmt.Errorf("%s: change feed: %w", what, err)
		}
	}
	clear(w.issueArgs) // drop references to the written rows' fields
	w.issueArgs, w.feedArgs, w.keys = w.issueArgs[:0], w.feedArgs[:0], w.keys[:0]
	return nil
}

func (w *rowWriter) close() {
	for _, st := range []*sql.Stmt{w.many, w.manyFeed, w.one, w.oneFeed} {
		if st != nil {
			st.Close()
		}
	}
}

// cachedRow is what the version guard reads of a cached issue.
type cachedRow struct {
	key       string
	updated   int64
	hash      int64
	fetchedAt int64 // when the row was written (the store's clock, ms)
}

// cachedTomb is what the version guard reads of a tombstone.
type cachedTomb struct {
	updated   int64 // the issue's Updated when deleted
	deletedAt int64 // when it was deleted (the store's clock, ms)
}

// guard holds, for the issues of one batch, their cached rows and tombstones, and follows
// the batch's own writes: an issue may come twice in a batch (changed between two pages),
// and INSERT OR REPLACE removes the row of another id holding the same key.
type guard struct {
	rows  map[int64]cachedRow
	owner map[string]int64 // cached key -> id, for the ids in rows
	tombs map[int64]cachedTomb
}

// The version guard's reads: one JSON parameter instead of one per id, so no limit on the
// batch size.
const (
	guardRowsQuery  = "SELECT id, key, updated, hash, fetched_at FROM issues WHERE id IN (SELECT value FROM json_each(?))"
	guardTombsQuery = "SELECT issue_id, last_updated, deleted_at FROM tombstones WHERE issue_id IN (SELECT value FROM json_each(?))"
)

// loadGuard reads the cached rows and tombstones of the batch's issues.
func loadGuard(ctx context.Context, tx *sql.Tx, sc *stmtCache, issues []lens.Issue) (*guard, error) {
	g := &guard{rows: make(map[int64]cachedRow, len(issues)), owner: make(map[string]int64, len(issues)), tombs: map[int64]cachedTomb{}}
	ids := make([]byte, 0, 12*len(issues)+2)
	ids = append(ids, '[')
	for i := range issues {
		if i > 0 {
			ids = append(ids, ',')
		}
		ids = strconv.AppendInt(ids, issues[i].ID, 10)
	}
	ids = append(ids, ']')
	// One JSON parameter instead of one per id: no limit on the batch size.
	cachedRows, err := sc.stmt(ctx, tx, guardRowsQuery)
	if err != nil {
		return nil, fmt.Errorf("cached versions: %w", err)
	}
	defer cachedRows.Close()
	tombRows, err := sc.stmt(ctx, tx, guardTombsQuery)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer tombRows.Close()
	rows, err := cachedRows.QueryContext(ctx, string(ids))
	if err != nil {
		return nil, fmt.Errorf("cached versions: %w", err)
	}
	for rows.Next() {
		var id int64
		var r cachedRow
		if err := rows.Scan(&id, &r.key, &r.updated, &r.hash, &r.fetchedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cached versions: %w", err)
		}
		g.rows[id] = r
		g.owner[r.key] = id
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("cached versions: %w", err)
	}
	rows, err = tombRows.QueryContext(ctx, string(ids))
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t cachedTomb
		if err := rows.Scan(&id, &t.updated, &t.deletedAt); err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		g.tombs[id] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	return g, nil
}

// wrote records that issue id now holds key at version updated with hash h. A row of
// another id that held key is gone (INSERT OR REPLACE), as is the issue's own old key.
func (g *guard) wrote(id int64, key string, updated, h, at int64) {
	if other, ok := g.owner[key]; ok && other != id {
		delete(g.rows, other)
	}
	if old, ok := g.rows[id]; ok && old.key != key {
		delete(g.owner, old.key)
	}
	g.rows[id] = cachedRow{key: key, updated: updated, hash: h, fetchedAt: at}
	g.owner[key] = id
}

// DeleteIssues removes issues (by Jira id) with their links and leaves a tombstone for each,
// recording reason ("deleted", "left scope", ...). Ids not in the cache are tombstoned too, so
// a webhook racing ahead of the first sync cannot bring them in. It returns how many cached
// issues were removed.
func (db *DB) DeleteIssues(ctx context.Context, ids []int64, reason string) (int, error) {
	removed := 0
	at := ms(now())
	err := db.write(ctx, "delete issues", func(tx *sql.Tx) error {
		removed = 0
		for _, id := range ids {
			var key string
			var updated int64
			err := tx.QueryRowContext(ctx, "SELECT key, updated FROM issues WHERE id = ?", id).Scan(&key, &updated)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				// Unknown issue: with no Updated to go by, block anything not newer than now.
				// An existing tombstone already says more and is kept.
				if _, err := tx.ExecContext(ctx, `INSERT INTO tombstones(issue_id, key, deleted_at, last_updated, reason)
					VALUES (?, '', ?, ?, ?) ON CONFLICT(issue_id) DO NOTHING`, id, at, at, reason); err != nil {
					return fmt.Errorf("tombstone %d: %w", id, err)
				}
				continue
			case err != nil:
				return fmt.Errorf("issue %d: %w", id, err)
			}
			if err := deleteIssue(ctx, tx, id, key, updated, at, reason); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	return removed, err
}

// DeleteIssuesAsOf removes cached issues that a version of each shows gone from the cache's
// scopes, under the version guard of UpsertIssues: versions maps an issue's id to the
// Updated of that version, and removes the cached issue only if it is newer than the cached
// one, or equal and authoritative. A cached issue newer than the version is newer news (the
// version is a late webhook) and stays. The comparison is made in the write, so a newer
// version another process writes meanwhile wins. Issues not in the cache are left alone: a
// tombstone would keep them out should they move in. The tombstone carries the version
// removed, so only a later change brings the issue back. It returns the ids removed.
func (db *DB) DeleteIssuesAsOf(ctx context.Context, versions map[int64]time.Time, authoritative bool, reason string) ([]int64, error) {
	var removed []int64
	at := ms(now())
	err := db.write(ctx, "delete issues", func(tx *sql.Tx) error {
		removed = removed[:0]
		for _, id := range slices.Sorted(maps.Keys(versions)) { // the change feed in id order
			v := versions[id]
			var key string
			var updated int64
			err := tx.QueryRowContext(ctx, "SELECT key, updated FROM issues WHERE id = ?", id).Scan(&key, &updated)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				continue
			case err != nil:
				return fmt.Errorf("issue %d: %w", id, err)
			}
			if version := ms(v); version < updated || (version == updated && !authoritative) {
				continue
			}
			if err := deleteIssue(ctx, tx, id, key, ms(v), at, reason); err != nil {
				return err
			}
			removed = append(removed, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// deleteIssue removes cached issue id (key) with its links, tombstones it at version
// updated and records the removal in the change feed.
func deleteIssue(ctx context.Context, tx *sql.Tx, id int64, key string, updated, at int64, reason string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM issues WHERE id = ?", id); err != nil {
		return fmt.Errorf("issue %s: %w", key, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM links WHERE from_key = ? OR to_key = ?", key, key); err != nil {
		return fmt.Errorf("issue %s: links: %w", key, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO tombstones(issue_id, key, deleted_at, last_updated, reason)
		VALUES (?, ?, ?, ?, ?)`, id, key, at, updated, reason); err != nil {
		return fmt.Errorf("issue %s: tombstone: %w", key, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO changes(at, kind, issue_key, detail) VALUES (?, ?, ?, ?)", at, ChangeIssueDeleted, key, reason); err != nil {
		return fmt.Errorf("issue %s: change feed: %w", key, err)
	}
	return nil
}

// Tombstone is the record a deleted issue leaves behind.
type Tombstone struct {
	IssueID     int64
	Key         string // "" when the issue was never cached
	DeletedAt   time.Time
	LastUpdated time.Time // the issue's Updated when deleted; authoritative fetches must beat it
	Reason      string
}

// Tombstones lists every tombstone, oldest first.
func (db *DB) Tombstones(ctx context.Context) ([]Tombstone, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT issue_id, key, deleted_at, last_updated, reason FROM tombstones ORDER BY deleted_at, issue_id")
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer rows.Close()
	var out []Tombstone
	for rows.Next() {
		var t Tombstone
		var del, upd int64
		if err := rows.Scan(&t.IssueID, &t.Key, &del, &upd, &t.Reason); err != nil {
			return nil, fmt.Errorf("tombstones: %w", err)
		}
		t.DeletedAt, t.LastUpdated = fromMS(del), fromMS(upd)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	return out, nil
}

// ReadOptions narrows and shapes an Issues read.
type ReadOptions struct {
	WithRaw  bool     // also decode each issue's raw field JSON into Issue.Fields
	Projects []string // only these project keys (none: all)
	Keys     []string // only these issue keys (none: all)
}

// Issues reads cached issues ordered by id (Jira's creation order, and the cheapest scan).
// Raw field JSON is read only when asked: most Lenses need only the extracted columns.
func (db *DB) Issues(ctx context.Context, opt ReadOptions) ([]lens.Issue, error) {
	var out []lens.Issue
	err := db.read(ctx, "read issues", func(tx *sql.Tx) error {
		var err error
		out, err = readIssues(ctx, tx, opt)
		return err
	})
	return out, err
}

// Issue reads one cached issue by key, raw fields included. A missing issue is ErrNotFound.
func (db *DB) Issue(ctx context.Context, key string) (lens.Issue, error) {
	out, err := db.Issues(ctx, ReadOptions{WithRaw: true, Keys: []string{key}})
	if err != nil {
		return lens.Issue{}, err
	}
	if len(out) == 0 {
		return lens.Issue{}, fmt.Errorf("issue %s: %w", key, ErrNotFound)
	}
	return out[0], nil
}

// CachedIDs reports which of ids the cache holds, in one query whatever the cache's size.
func (db *DB) CachedIDs(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("cached ids: %w", err)
	}
	err = db.read(ctx, "cached ids", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id FROM issues WHERE id IN (SELECT value FROM json_each(?))", string(b))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out[id] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IssueVersions returns the Updated of every cached issue by id, optionally only in the
// given projects: what a full sync compares against Jira to fetch only what is new or
// changed, and what reconcile compares against an id-only scan to find deletions.
func (db *DB) IssueVersions(ctx context.Context, projects []string) (map[int64]time.Time, error) {
	q := "SELECT id, updated FROM issues"
	var args []any
	if len(projects) > 0 {
		b, err := json.Marshal(projects)
		if err != nil {
			return nil, fmt.Errorf("issue versions: %w", err)
		}
		q += " WHERE project IN (SELECT value FROM json_each(?))"
		args = append(args, string(b))
	}
	out := map[int64]time.Time{}
	err := db.read(ctx, "issue versions", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, upd int64
			if err := rows.Scan(&id, &upd); err != nil {
				return err
			}
			out[id] = fromMS(upd)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Snapshot is a consistent view of the cache for building a Lens: the issues, the links,
// and the change feed position they include, all read in one transaction. Polling Changes
// after Seq then yields exactly what the snapshot does not contain yet.
type Snapshot struct {
	Seq    int64
	Issues []lens.Issue
	Links  []lens.Link
}

// Snapshot reads issues (as Issues does with opt) and every link in one read transaction,
// or, for a large cache, in two at the same change-feed position (see splitSnapshot).
func (db *DB) Snapshot(ctx context.Context, opt ReadOptions) (Snapshot, error) {
	if len(opt.Projects) == 0 && len(opt.Keys) == 0 {
		s, ok, err := db.splitSnapshot(ctx, opt)
		if err != nil {
			return Snapshot{}, fmt.Errorf("snapshot: %w", err)
		}
		if ok {
			return s, nil
		}
	}
	var s Snapshot
	err := db.read(ctx, "snapshot", func(tx *sql.Tx) error {
		var err error
		if s.Seq, err = lastChange(ctx, tx); err != nil {
			return err
		}
		if s.Issues, err = readIssues(ctx, tx, opt); err != nil {
			return err
		}
		s.Links, err = readLinks(ctx, tx)
		return err
	})
	return s, err
}

// splitSnapshotAt is the cache size from which Snapshot reads in two halves at once.
const splitSnapshotAt = 20000

// splitSnapshot reads a large cache's snapshot on two connections at once, each half of the
// issues by id (converting rows is most of a Lens open, and there are two cores for it).
// Both read transactions must sit at the same change-feed position: every commit that
// touches issues or links appends to the feed in the same transaction, so equal positions
// mean both see the same issues and links. When a commit slips in between, the cache is
// small, or another split snapshot is running (two reader connections each), it reports
// false and Snapshot reads in one transaction.
func (db *DB) splitSnapshot(ctx context.Context, opt ReadOptions) (Snapshot, bool, error) {
	select {
	case db.split <- struct{}{}:
		defer func() { <-db.split }()
	default:
		return Snapshot{}, false, nil // another is running: read in one transaction
	}
	ro := &sql.TxOptions{ReadOnly: true}
	a, err := db.r.BeginTx(ctx, ro)
	if err != nil {
		return Snapshot{}, false, err
	}
	defer a.Rollback()
	var s Snapshot
	if s.Seq, err = lastChange(ctx, a); err != nil { // the first read fixes a's view
		return Snapshot{}, false, err
	}
	var n int
	var lo, hi sql.NullInt64
	if err := a.QueryRowContext(ctx, "SELECT count(*) FROM issues").Scan(&n); err != nil {
		return Snapshot{}, false, err
	}
	if n < splitSnapshotAt {
		return Snapshot{}, false, nil
	}
	if err := a.QueryRowContext(ctx, "SELECT min(id) FROM issues").Scan(&lo); err != nil {
		return Snapshot{}, false, err
	}
	if err := a.QueryRowContext(ctx, "SELECT max(id) FROM issues").Scan(&hi); err != nil {
		return Snapshot{}, false, err
	}
	b, err := db.r.BeginTx(ctx, ro)
	if err != nil {
		return Snapshot{}, false, err
	}
	defer b.Rollback()
	if seq, err := lastChange(ctx, b); err != nil || seq != s.Seq {
		return Snapshot{}, false, err
	}
	mid := lo.Int64 + (hi.Int64-lo.Int64)/2
	var second []lens.Issue
	var errB error
	done := make(chan struct{})
	go func() {
		defer close(done)
		second, errB = readIssueRange(ctx, b, opt, idRange{after: mid, upTo: hi.Int64, capacity: n/2 + n/8})
	}()
	// The first half's slice has room for both: the second is appended without a copy.
	first, errA := readIssueRange(ctx, a, opt, idRange{after: lo.Int64 - 1, upTo: mid, capacity: n})
	if errA == nil {
		s.Links, errA = readLinks(ctx, a)
	}
	<-done
	if err := errors.Join(errA, errB); err != nil {
		return Snapshot{}, false, err
	}
	s.Issues = append(first, second...)
	return s, true, nil
}

func readIssues(ctx context.Context, tx *sql.Tx, opt ReadOptions) ([]lens.Issue, error) {
	return readIssueRange(ctx, tx, opt, idRange{})
}

// idRange restricts a read to ids in (after, upTo]; capacity sizes the result. The zero
// value reads every id.
type idRange struct {
	after, upTo int64
	capacity    int
}

func readIssueRange(ctx context.Context, tx *sql.Tx, opt ReadOptions, r idRange) ([]lens.Issue, error) {
	q := "SELECT " + issueColumns
	if opt.WithRaw {
		q += ", fields"
	}
	q += " FROM issues"
	var where []string
	var args []any
	for _, f := range []struct {
		col  string
		vals []string
	}{{"project", opt.Projects}, {"key", opt.Keys}} {
		if len(f.vals) == 0 {
			continue
		}
		b, err := json.Marshal(f.vals)
		if err != nil {
			return nil, err
		}
		// One JSON parameter instead of one per value: no limit on how many.
		where = append(where, f.col+" IN (SELECT value FROM json_each(?))")
		args = append(args, string(b))
	}
	n := r.capacity
	if r != (idRange{}) {
		where = append(where, "id > ? AND id <= ?")
		args = append(args, r.after, r.upTo)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	} else if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM issues").Scan(&n); err != nil {
		return nil, err
	}
	q += " ORDER BY id"

	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]lens.Issue, 0, n)
	// Low-cardinality columns repeat across thousands of rows: sharing one string per value
	// keeps a 100,000-issue read small in memory.
	in := interner{}
	var (
		sub     bool
		labels  string
		sp      sql.NullFloat64
		created int64
		updated int64
		raw     []byte
	)
	dest := make([]any, 0, 23)
	for rows.Next() {
		// Scan straight into the result's own slot: a local Issue would escape to the heap
		// through the Scan pointers and cost an extra object and copy per row.
		out = append(out, lens.Issue{})
		is := &out[len(out)-1]
		dest = append(dest[:0], &is.ID, &is.Key, &is.ProjectID, &is.Project, &is.Type, &sub, &is.Status,
			&is.StatusCategory, &is.Priority, &is.Resolution, &is.Parent, &is.EpicLink, &is.SecurityLevel,
			&is.Assignee, &is.Reporter, &is.Summary, &labels, &sp, &is.DueDate, &created, &updated, &is.Rank)
		if opt.WithRaw {
			dest = append(dest, &raw)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		is.Subtask = sub
		is.Project = in.get(is.Project)
		is.Type = in.get(is.Type)
		is.Status = in.get(is.Status)
		is.StatusCategory = in.get(is.StatusCategory)
		is.Priority = in.get(is.Priority)
		is.Resolution = in.get(is.Resolution)
		is.SecurityLevel = in.get(is.SecurityLevel)
		is.Assignee = in.get(is.Assignee)
		is.Reporter = in.get(is.Reporter)
		if is.Labels, err = parseLabels(labels, in); err != nil {
			return nil, fmt.Errorf("%s labels: %w", is.Key, err)
		}
		if sp.Valid {
			v := sp.Float64
			is.StoryPoints = &v
		}
		is.Created, is.Updated = fromMS(created), fromMS(updated)
		if opt.WithRaw {
			if err := json.Unmarshal(raw, &is.Fields); err != nil {
				return nil, fmt.Errorf("%s fields: %w", is.Key, err)
			}
		}
	}
	return out, rows.Err()
}

// interner shares one copy of each repeated string value within a read.
type interner map[string]string

func (in interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

// parseLabels decodes the stored JSON array of labels. Jira labels hold no spaces and rarely
// anything needing escapes, so a direct scan handles them and encoding/json the rest.
func parseLabels(s string, in interner) ([]string, error) {
	if s == "[]" || s == "" {
		return nil, nil
	}
	if !strings.Contains(s, `\`) && len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		body := s[1 : len(s)-1]
		out := make([]string, 0, strings.Count(body, ",")+1)
		ok := true
		for part := range strings.SplitSeq(body, ",") {
			if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' || strings.Contains(part[1:len(part)-1], `"`) {
				ok = false
				break
			}
			out = append(out, in.get(part[1:len(part)-1]))
		}
		if ok {
			return out, nil
		}
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	return out, nil
}

// EncodeFields encodes raw fields as the cache stores them when they come without the
// object Jira sent (webhooks): one JSON object, keys sorted, values verbatim. It returns the
// bytes and each field's value within them, to become the issue's Fields. Values must be
// valid JSON, as the jira package's decoders hand them over; marshalFields checks them for
// other callers. Jira's decoration of nested objects is gone already (jira.Decoration).
func EncodeFields(f map[string]json.RawMessage) (json.RawMessage, map[string]json.RawMessage) {
	keys := make([]string, 0, len(f))
	size := 2
	for k, v := range f {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	type span struct{ start, end int }
	spans := make([]span, len(keys))
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		start := len(b)
		b = append(b, fieldValue(f[k])...)
		spans[i] = span{start, len(b)}
	}
	b = append(b, '}')
	b = b[:len(b):len(b)]
	members := make(map[string]json.RawMessage, len(keys))
	for i, k := range keys {
		members[k] = json.RawMessage(b[spans[i].start:spans[i].end:spans[i].end])
	}
	return b, members
}

// marshalFields is EncodeFields for fields nobody has validated yet (UpsertIssues callers,
// MarshalFields): it fails, naming the field, when a value is not valid JSON.
func marshalFields(f map[string]json.RawMessage) ([]byte, map[string]json.RawMessage, error) {
	for k, v := range f {
		if !json.Valid(fieldValue(v)) {
			return nil, nil, fmt.Errorf("raw field %s: invalid JSON", k)
		}
	}
	raw, members := EncodeFields(f)
	return raw, members, nil
}

// fieldValue is a raw field value as stored: without surrounding space, absent as null.
func fieldValue(v json.RawMessage) json.RawMessage {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

// appendJSONString appends s as a JSON string; field ids are plain ASCII, so the common case
// is a straight copy.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendLabels appends labels as a JSON array, exactly as json.Marshal writes it ([] for none).
func appendLabels(b []byte, labels []string) []byte {
	b = append(b, '[')
	for i, l := range labels {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, l)
	}
	return append(b, ']')
}

// rowHash fingerprints everything an issue row stores except bookkeeping, so a re-fetch of
// an unchanged issue writes nothing and adds nothing to the change feed. The fields are
// hashed as stored: canonical (keys sorted, see EncodeFields and the jira page decoder), so
// the same fields from a search and from a webhook hash alike. xxHash: a full sync hashes
// every stored byte, and FNV's byte at a time was 5% of its CPU.
func rowHash(is *lens.Issue, labels []byte, fields []byte) int64 {
	h := xxhash.New()
	var num [8]byte
	str := func(s string) {
		binary.LittleEndian.PutUint64(num[:], uint64(len(s)))
		h.Write(num[:])
		h.WriteString(s)
	}
	i64 := func(v int64) {
		binary.LittleEndian.PutUint64(num[:], uint64(v))
		h.Write(num[:])
	}
	i64(is.ID)
	str(is.Key)
	i64(is.ProjectID)
	for _, s := range []string{is.Project, is.Type, is.Status, is.StatusCategory, is.Priority, is.Resolution,
		is.Parent, is.EpicLink, is.SecurityLevel, is.Assignee, is.Reporter, is.Summary, is.DueDate, is.Rank} {
		str(s)
	}
	if is.Subtask {
		i64(1)
	} else {
		i64(0)
	}
	if is.StoryPoints != nil {
		i64(1)
		i64(int64(math.Float64bits(*is.StoryPoints)))
	} else {
		i64(0)
	}
	i64(ms(is.Created))
	i64(ms(is.Updated))
	h.Write(labels)
	h.Write(fields)
	return int64(h.Sum64())
}
