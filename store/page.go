package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"foundation/lens"
)

// Page is one page of issues read from Jira, with what was read alongside them: the complete
// link set of each issue (from its issuelinks field) and the users its fields mention.
type Page struct {
	Issues []lens.Issue
	// Raw, when set, holds for Issues[i] its fields as the cache stores them (nil where not
	// encoded yet): jira.Issue.Raw, or the output of EncodeFields or MarshalFields, with
	// Issues[i].Fields its members. It is stored as is instead of encoding Fields on the writer,
	// off the path every other write waits for.
	Raw   []json.RawMessage
	Links map[string][]lens.Link // by issue key; an issue without an entry keeps its links
	Users []User
	// Audit entries are written in the same transaction: an edit's read-back and its audit
	// row cost one commit, not two.
	Audit []AuditEntry
	// Sight, when set, is what the identity that read the page may browse: its issues'
	// links, sub-tasks and parent that it left out because it cannot see them are kept (see
	// Sight). Without one the page is complete: what it leaves out is gone from Jira.
	Sight *Sight
	// ReadAt, when set on an authoritative page, is when the read that produced it began (a
	// full sync's start). Cached versions and tombstones written before then are older news
	// than the page and give way to it whatever their Updated: a tombstone left by a removal
	// Jira does not bear out, or a version dated in the future, cannot keep Jira's current
	// copy out. Whatever was written after ReadAt (a webhook or poll racing the read) keeps
	// the ordinary guard. The store's clock decides; processes sharing a cache share it.
	ReadAt time.Time
}

// ApplyPage writes a page in one transaction: the issues under the version guard (see
// UpsertIssues), the links of the issues that were written (a stale or blocked issue's links
// are not its current ones, and an unchanged issue's are already cached), then the users.
// One transaction per page keeps a full sync of 100,000 issues at a thousand commits
// instead of one per issue.
func (db *DB) ApplyPage(ctx context.Context, p Page, authoritative bool) (UpsertStats, error) {
	var st UpsertStats
	err := db.write(ctx, "apply page", func(tx *sql.Tx) error {
		var written []string
		var err error
		if p.Sight != nil {
			if err := applySight(ctx, tx, db.ws, &p); err != nil {
				return err
			}
		}
		st, err = upsertIssues(ctx, tx, db.ws, p.Issues, p.Raw, authoritative, ms(p.ReadAt), func(i int) {
			written = append(written, p.Issues[i].Key)
		})
		if err != nil {
			return err
		}
		if err := replaceLinks(ctx, tx, db.ws, written, p.Links); err != nil {
			return err
		}
		if err := putUsers(ctx, tx, db.ws, p.Users); err != nil {
			return err
		}
		for _, e := range p.Audit {
			if err := insertAudit(ctx, tx, db.ws, e); err != nil {
				return err
			}
		}
		return nil
	})
	return st, err
}

// deleteLinksQuery removes the links touching any key in a JSON array (?1) except those
// whose ids are in another (?2), which are written next: one statement per page instead of
// one per issue, and a link that stays is not deleted only to be inserted again.
const deleteLinksQuery = `DELETE FROM links WHERE (from_key IN (SELECT value FROM json_each(?1))
	OR to_key IN (SELECT value FROM json_each(?1))) AND id NOT IN (SELECT value FROM json_each(?2))`

// replaceLinks makes links[key] the complete link set touching each key in keys.
func replaceLinks(ctx context.Context, tx *sql.Tx, sc *stmtCache, keys []string, links map[string][]lens.Link) error {
	var all []lens.Link
	replaced := make([]string, 0, len(keys))
	for _, k := range keys {
		if ls, ok := links[k]; ok {
			replaced = append(replaced, k)
			all = append(all, ls...)
		}
	}
	if len(replaced) == 0 {
		return nil
	}
	arr, err := json.Marshal(replaced)
	if err != nil {
		return err
	}
	ids := make([]int64, len(all))
	for i, l := range all {
		ids[i] = l.ID
	}
	kept, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	del, err := sc.stmt(ctx, tx, deleteLinksQuery)
	if err != nil {
		return err
	}
	defer del.Close()
	if _, err := del.ExecContext(ctx, string(arr), string(kept)); err != nil {
		return fmt.Errorf("links of %d issues: %w", len(replaced), err)
	}
	return putLinks(ctx, tx, sc, all)
}

// Checkpoint copies the WAL's committed frames into the database file. It runs on a reader
// connection, so a bulk writer can hand the copy (and its fsyncs) to another goroutine and
// go on with its next transaction instead of checkpointing at commit. Without restart it is
// SQLite's PASSIVE checkpoint, which waits for no reader or writer. With restart it waits
// (up to the busy timeout) for the writer to be idle and for readers to leave the WAL, so
// the next write transaction starts the WAL over instead of growing it: what a bulk writer
// does between two transactions now and then. It reports the WAL's length in frames and
// how many of them are now in the database file. Another process checkpointing at the same
// moment is not an error: this one copies nothing and says so.
func (db *DB) Checkpoint(ctx context.Context, restart bool) (frames, copied int, err error) {
	q := "PRAGMA wal_checkpoint(PASSIVE)"
	if restart {
		q = "PRAGMA wal_checkpoint(RESTART)"
	}
	var busy int
	if err := db.r.QueryRowContext(ctx, q).Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	if frames < 0 { // not in WAL mode: nothing to copy
		return 0, 0, nil
	}
	if busy != 0 && copied == frames {
		// Everything copied but readers stayed: the WAL will not start over yet.
		copied--
	}
	return frames, copied, nil
}

// WriterTuning is what a bulk writer may change on the writer connection for a while: each
// is per connection, so readers and other processes keep theirs.
type WriterTuning struct {
	// AutoCheckpoint is the WAL size, in pages, at which a commit checkpoints by itself
	// (wal_autocheckpoint).
	AutoCheckpoint int
	// CacheSize is the page cache as PRAGMA cache_size puts it: pages if positive, KiB if
	// negative.
	CacheSize int
	// MmapSize is how many bytes of the database file are read through a memory map instead
	// of a read call per page (mmap_size; 0 for none).
	MmapSize int64
}

// Tuning reads the writer connection's current tuning, for restoring it after a bulk run.
func (db *DB) Tuning(ctx context.Context) (WriterTuning, error) {
	var t WriterTuning
	for _, q := range []struct {
		pragma string
		dst    any
	}{{"wal_autocheckpoint", &t.AutoCheckpoint}, {"cache_size", &t.CacheSize}, {"mmap_size", &t.MmapSize}} {
		// The writer pool holds one connection, so this reads the connection that commits.
		if err := db.w.QueryRowContext(ctx, "PRAGMA "+q.pragma).Scan(q.dst); err != nil {
			return t, fmt.Errorf("writer tuning: %s: %w", q.pragma, err)
		}
	}
	return t, nil
}

// Tune sets the writer connection's tuning.
func (db *DB) Tune(ctx context.Context, t WriterTuning) error {
	if t.AutoCheckpoint <= 0 || t.CacheSize == 0 || t.MmapSize < 0 {
		return fmt.Errorf("writer tuning %+v: want a positive checkpoint size, a cache size and a map size of 0 or more", t)
	}
	for _, q := range []string{
		fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", t.AutoCheckpoint),
		fmt.Sprintf("PRAGMA cache_size = %d", t.CacheSize),
		fmt.Sprintf("PRAGMA mmap_size = %d", t.MmapSize),
	} {
		if _, err := db.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("writer tuning: %s: %w", q, err)
		}
	}
	return nil
}
