package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// JournalEntry is one webhook delivery as received, kept durably before the listener answers
// 2xx so that nothing acknowledged can be lost.
type JournalEntry struct {
	Seq         int64
	Identifier  string      // X-Atlassian-Webhook-Identifier (same across retries of a delivery)
	Event       string      // webhookEvent
	EventTime   time.Time   // the payload's timestamp (ms); replay order
	Retry       int         // X-Atlassian-Webhook-Retry
	ReceivedAt  time.Time   // zero: stamped with the current time
	Headers     http.Header // as kept by the listener, which strips anything secret
	Body        []byte
	AppliedAt   time.Time // zero while pending
	Quarantined string    // why it cannot be applied; "" otherwise
}

// JournalState selects entries by where they are in their life.
type JournalState int

// Journal states.
const (
	JournalAll JournalState = iota
	JournalPending
	JournalApplied
	JournalQuarantined
)

// JournalStats counts journal entries by state.
type JournalStats struct {
	Total, Pending, Applied, Quarantined int64
	OldestPending                        time.Time // zero when nothing is pending
}

// Appended is what AppendJournal did with one delivery.
type Appended struct {
	Seq       int64 // the entry's sequence number (the first delivery's, for a duplicate)
	Duplicate bool  // the Identifier was already journaled: Jira retried; nothing new stored
}

// AppendJournal stores deliveries durably (synced to disk before it returns) in one
// transaction, so a listener can group the deliveries that arrive together into one sync.
// A delivery whose Identifier is already journaled is a retry by Jira: it is not stored
// again, and the higher retry count is kept.
func (db *DB) AppendJournal(ctx context.Context, entries ...JournalEntry) ([]Appended, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	type row struct {
		headers string
		recv    int64
		body    []byte
	}
	rows := make([]row, len(entries))
	at := now()
	for i, e := range entries {
		if e.Identifier == "" {
			return nil, errors.New("journal: empty delivery identifier")
		}
		h, err := json.Marshal(e.Headers)
		if err != nil {
			return nil, fmt.Errorf("journal %s: headers: %w", e.Identifier, err)
		}
		recv := e.ReceivedAt
		if recv.IsZero() {
			recv = at
		}
		body := e.Body
		if body == nil {
			body = []byte{}
		}
		rows[i] = row{string(h), ms(recv), body}
	}
	out := make([]Appended, len(entries))
	err := db.writeDurable(ctx, "journal", func(tx *sql.Tx) error {
		// One multi-row INSERT per chunk: a statement per delivery (with a look-up before
		// it) cost more than the commit's sync. Conflicts are retries; they are settled
		// after, by identifier.
		seqOf := make(map[string]int64, len(entries))
		for lo := 0; lo < len(entries); lo += journalChunk {
			hi := min(lo+journalChunk, len(entries))
			var q strings.Builder
			q.WriteString("INSERT INTO journal(identifier, event, event_time, retry, received_at) VALUES ")
			args := make([]any, 0, 5*(hi-lo))
			for i := lo; i < hi; i++ {
				if i > lo {
					q.WriteByte(',')
				}
				q.WriteString("(?,?,?,?,?)")
				e := entries[i]
				args = append(args, e.Identifier, e.Event, ms(e.EventTime), e.Retry, rows[i].recv)
			}
			q.WriteString(" ON CONFLICT(identifier) DO NOTHING RETURNING seq, identifier")
			res, err := tx.QueryContext(ctx, q.String(), args...)
			if err != nil {
				return err
			}
			for res.Next() {
				var seq int64
				var ident string
				if err := res.Scan(&seq, &ident); err != nil {
					res.Close()
					return err
				}
				seqOf[ident] = seq
			}
			if err := res.Close(); err != nil {
				return err
			}
			if err := res.Err(); err != nil {
				return err
			}
		}
		var bodies strings.Builder
		var bodyArgs []any
		flushBodies := func() error {
			if len(bodyArgs) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO journal_bodies(seq, headers, body) VALUES "+bodies.String(), bodyArgs...)
			bodies.Reset()
			bodyArgs = bodyArgs[:0]
			return err
		}
		for i, e := range entries {
			if seq, fresh := seqOf[e.Identifier]; fresh {
				out[i] = Appended{Seq: seq}
				delete(seqOf, e.Identifier) // a second delivery of it in this group is a retry
				if len(bodyArgs) > 0 {
					bodies.WriteByte(',')
				}
				bodies.WriteString("(?,?,?)")
				bodyArgs = append(bodyArgs, seq, rows[i].headers, rows[i].body)
				if len(bodyArgs) >= 3*journalChunk {
					if err := flushBodies(); err != nil {
						return err
					}
				}
				continue
			}
			var seq int64
			if err := tx.QueryRowContext(ctx, "UPDATE journal SET retry = max(retry, ?) WHERE identifier = ? RETURNING seq", e.Retry, e.Identifier).Scan(&seq); err != nil {
				return fmt.Errorf("journal %s: retry: %w", e.Identifier, err)
			}
			out[i] = Appended{Seq: seq, Duplicate: true}
		}
		return flushBodies()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// journalChunk is how many deliveries one INSERT carries: at most 5 parameters each stays
// well under SQLite's limit of 32766.
const journalChunk = 512

// PendingJournal returns up to limit entries neither applied nor quarantined, in replay
// order: event time, then arrival.
func (db *DB) PendingJournal(ctx context.Context, limit int) ([]JournalEntry, error) {
	return db.journal(ctx, "WHERE applied_at = 0 AND quarantined = '' ORDER BY event_time, j.seq LIMIT ?", limitOr(limit))
}

// Journal lists entries in state, newest first.
func (db *DB) Journal(ctx context.Context, state JournalState, limit int) ([]JournalEntry, error) {
	where := map[JournalState]string{
		JournalAll:         "",
		JournalPending:     "WHERE applied_at = 0 AND quarantined = ''",
		JournalApplied:     "WHERE applied_at <> 0",
		JournalQuarantined: "WHERE quarantined <> ''",
	}[state]
	return db.journal(ctx, where+" ORDER BY j.seq DESC LIMIT ?", limitOr(limit))
}

func limitOr(n int) int {
	if n <= 0 {
		return 1000
	}
	return n
}

func (db *DB) journal(ctx context.Context, tail string, args ...any) ([]JournalEntry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT j.seq, identifier, event, event_time, retry, received_at, coalesce(b.headers, '{}'), coalesce(b.body, x''), applied_at, quarantined
		FROM journal j LEFT JOIN journal_bodies b USING (seq) `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []JournalEntry
	for rows.Next() {
		var e JournalEntry
		var et, recv, applied int64
		var headers string
		if err := rows.Scan(&e.Seq, &e.Identifier, &e.Event, &et, &e.Retry, &recv, &headers, &e.Body, &applied, &e.Quarantined); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
			return nil, fmt.Errorf("journal %d: headers: %w", e.Seq, err)
		}
		e.EventTime, e.ReceivedAt, e.AppliedAt = fromMS(et), fromMS(recv), fromMS(applied)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return out, nil
}

// MarkApplied records that entries were applied to the cache.
func (db *DB) MarkApplied(ctx context.Context, seqs ...int64) error {
	if len(seqs) == 0 {
		return nil
	}
	at := ms(now())
	return db.write(ctx, "journal applied", func(tx *sql.Tx) error {
		// One statement per chunk rather than per entry: the applier marks a whole read at once.
		for lo := 0; lo < len(seqs); lo += journalChunk {
			chunk := seqs[lo:min(lo+journalChunk, len(seqs))]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, at)
			for _, s := range chunk {
				args = append(args, s)
			}
			q := "UPDATE journal SET applied_at = ? WHERE seq IN (?" + strings.Repeat(",?", len(chunk)-1) + ")"
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("entries %d..: %w", chunk[0], err)
			}
		}
		return nil
	})
}

// Quarantine sets aside an entry that cannot be applied (bad payload, unknown event), with
// the reason, so replay skips it and `webhook status` shows it.
func (db *DB) Quarantine(ctx context.Context, seq int64, reason string) error {
	if reason == "" {
		return errors.New("quarantine: empty reason")
	}
	return db.write(ctx, "quarantine", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE journal SET quarantined = ? WHERE seq = ?", reason, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("journal entry %d: %w", seq, ErrNotFound)
		}
		return nil
	})
}

// Requeue makes a quarantined or applied entry pending again (after a fix, for replay).
func (db *DB) Requeue(ctx context.Context, seq int64) error {
	return db.write(ctx, "requeue", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE journal SET quarantined = '', applied_at = 0 WHERE seq = ?", seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("journal entry %d: %w", seq, ErrNotFound)
		}
		return nil
	})
}

// PruneJournal deletes applied entries applied before t and returns how many. Their
// identifiers are forgotten, so keep them at least as long as Jira retries (hours).
func (db *DB) PruneJournal(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, "prune journal", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM journal WHERE applied_at <> 0 AND applied_at < ?", ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// JournalStats counts entries by state.
func (db *DB) JournalStats(ctx context.Context) (JournalStats, error) {
	var s JournalStats
	var oldest sql.NullInt64
	err := db.r.QueryRowContext(ctx, `SELECT count(*),
		count(*) FILTER (WHERE applied_at = 0 AND quarantined = ''),
		count(*) FILTER (WHERE applied_at <> 0),
		count(*) FILTER (WHERE quarantined <> ''),
		min(event_time) FILTER (WHERE applied_at = 0 AND quarantined = '')
		FROM journal`).Scan(&s.Total, &s.Pending, &s.Applied, &s.Quarantined, &oldest)
	if err != nil {
		return s, fmt.Errorf("journal stats: %w", err)
	}
	if oldest.Valid {
		s.OldestPending = fromMS(oldest.Int64)
	}
	return s, nil
}
