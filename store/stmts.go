package store

import (
	"context"
	"database/sql"
)

// stmtCache holds the write path's frequent statements, prepared once on the writer pool
// when the cache opens. A transaction takes one through tx.StmtContext, which finds it
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
	}
}

func newStmtCache(ctx context.Context, db *sql.DB) (*stmtCache, error) {
	c := &stmtCache{m: map[string]*sql.Stmt{}}
	for _, q := range cachedStatements() {
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
