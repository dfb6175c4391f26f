package store

import (
	"context"
	"database/sql"
)

// stmtCache holds frequent statements, prepared once on a pool when the cache opens: the
// write path's on the writer, the Sight's on both. A transaction takes one through tx.StmtContext, which finds it
// already prepared on the writer connection instead of parsing the SQL again: a full sync
// runs a thousand transactions, and its multi-row INSERTs are long statements. (Preparing
// later would wait for the pool's one connection, which the transaction holds.)
type stmtCache struct {
	m map[string]*sql.Stmt
}

// cachedStatements are the statements worth keeping prepared.
func cachedStatements() []string {
	return []string{
		issueInsert(rowsPerInsert), issueInsert(1), feedInsert(rowsPerInsert), feedInsert(1),
		guardRowsQuery, guardTombsQuery, deleteLinksQuery, insertLinkQuery, insertLinksQuery, insertUserQuery, insertAuditQuery,
		cachedRelationsQuery, cachedLinksQuery, linkEndsQuery,
	}
}

// cachedReads are the reader pool's: what an edit's read-back asks before it writes.
func cachedReads() []string {
	return []string{cachedRelationsQuery, cachedLinksQuery, linkEndsQuery}
}

func newStmtCache(ctx context.Context, db *sql.DB, qs []string) (*stmtCache, error) {
	c := &stmtCache{m: map[string]*sql.Stmt{}}
	for _, q := range qs {
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			c.close()
			return nil, err
		}
		c.m[q] = s
	}
	return c, nil
}

// stmt returns q prepared for tx; the caller closes it (the cached parent stays).
// Statements not cached are prepared on tx.
func (c *stmtCache) stmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if s, ok := c.m[q]; ok {
		return tx.StmtContext(ctx, s), nil
	}
	return tx.PrepareContext(ctx, q)
}

func (c *stmtCache) close() {
	for _, s := range c.m {
		s.Close()
	}
	c.m = nil
}

// query runs q in tx, prepared from sc when it is cached there. The statement stays open
// until the caller's transaction ends (closing it under open rows would finalise a
// statement prepared on the spot); a cached one's parent stays prepared after that.
func query(ctx context.Context, tx *sql.Tx, sc *stmtCache, q string, args ...any) (*sql.Rows, error) {
	st, err := sc.stmt(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
