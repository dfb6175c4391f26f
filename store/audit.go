package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one audited action: Lens and ACL changes, edits written back to Jira, purges.
// Before and After are JSON documents (nil for none). Never put secrets in them.
type AuditEntry struct {
	ID      int64
	At      time.Time // zero: stamped with the current time
	Actor   string    // identity that acted
	Action  string    // e.g. "lens.put", "acl.change", "issue.edit"
	Target  string    // e.g. a Lens name or issue key
	Before  json.RawMessage
	After   json.RawMessage
	Outcome string // "ok", or what went wrong
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Actor  string
	Action string
	Target string
	Since  time.Time
	Before int64 // only entries older than the one with this ID (paging); 0: no bound
	Limit  int   // newest N; 0 means 1000
}

// Audit appends e to the audit log.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	return db.write(ctx, "audit", func(tx *sql.Tx) error { return insertAudit(ctx, tx, db.ws, e) })
}

// insertAuditQuery appends one audit row.
const insertAuditQuery = "INSERT INTO audit(at, actor, action, target, before, after, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)"

// insertAudit appends e inside tx, through the writer's statement cache: every edit writes
// one audit row with its read-back.
func insertAudit(ctx context.Context, tx *sql.Tx, sc *stmtCache, e AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("audit: empty action")
	}
	at := e.At
	if at.IsZero() {
		at = now()
	}
	st, err := sc.stmt(ctx, tx, insertAuditQuery)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.ExecContext(ctx, ms(at), e.Actor, e.Action, e.Target, string(e.Before), string(e.After), e.Outcome)
	return err
}

// AuditLog returns the newest entries matching f, newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, ms(f.Since))
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := "SELECT id, at, actor, action, target, before, after, outcome FROM audit"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		var before, after string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &before, &after, &e.Outcome); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = fromMS(at)
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
