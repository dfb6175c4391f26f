// Package storetest holds what benchmarks of code that reads the cache share: the floor
// they divide by.
package storetest

import (
	"database/sql"
	"fmt"
)

// ScanIssueColumns is the "bare SQLite scan" floor of the Lens-open benchmarks: a plain
// SELECT of the columns the cache extracts for every issue, over database/sql on the cache
// file, every value scanned and dropped. It returns how many rows it read.
func ScanIssueColumns(db *sql.DB) (int, error) {
	rows, err := db.Query(`SELECT id, key, project_id, project, type, subtask, status, status_category, priority,
		resolution, parent_key, epic_link, security_level, assignee, reporter, summary, labels,
		story_points, due_date, created, updated, rank FROM issues ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("floor scan: %w", err)
	}
	defer rows.Close()
	var (
		id, pid, created, updated                      int64
		key, project, typ, status, cat, prio, res      string
		parent, epic, sec, assignee, reporter, summary string
		labels, due, rank                              string
		sub                                            bool
		sp                                             sql.NullFloat64
		n                                              int
	)
	for rows.Next() {
		if err := rows.Scan(&id, &key, &pid, &project, &typ, &sub, &status, &cat, &prio, &res, &parent, &epic, &sec,
			&assignee, &reporter, &summary, &labels, &sp, &due, &created, &updated, &rank); err != nil {
			return n, fmt.Errorf("floor scan: %w", err)
		}
		n++
	}
	return n, rows.Err()
}
