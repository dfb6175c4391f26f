package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"foundation/lens"
)

// ReplaceLinks makes links the complete set of links touching issueKey (either end), as read
// from that issue's issuelinks field, and records one change.
func (db *DB) ReplaceLinks(ctx context.Context, issueKey string, links []lens.Link) error {
	return db.write(ctx, "replace links of "+issueKey, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM links WHERE from_key = ? OR to_key = ?", issueKey, issueKey); err != nil {
			return err
		}
		if err := putLinks(ctx, tx, db.ws, links); err != nil {
			return err
		}
		return addChange(ctx, tx, ChangeLinks, issueKey, "")
	})
}

// UpsertLinks adds or replaces links by id (e.g. from issuelink_created webhooks), recording
// a change for each end.
func (db *DB) UpsertLinks(ctx context.Context, links []lens.Link) error {
	if len(links) == 0 {
		return nil
	}
	return db.write(ctx, "upsert links", func(tx *sql.Tx) error {
		if err := putLinks(ctx, tx, db.ws, links); err != nil {
			return err
		}
		for _, l := range links {
			id := strconv.FormatInt(l.ID, 10)
			if err := addChange(ctx, tx, ChangeLinks, l.From, id); err != nil {
				return err
			}
			if err := addChange(ctx, tx, ChangeLinks, l.To, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// linkUpsert replaces a link row by id only when something in it differs: rewriting an
// identical row would still dirty its pages (and those of both indexes), and every page
// dirtied is a WAL frame written at commit. An edit or a webhook re-reads an issue whose
// links rarely changed.
const linkUpsert = ` ON CONFLICT(id) DO UPDATE SET type = excluded.type, outward = excluded.outward,
	inward = excluded.inward, from_key = excluded.from_key, to_key = excluded.to_key
	WHERE type IS NOT excluded.type OR outward IS NOT excluded.outward OR inward IS NOT excluded.inward
		OR from_key IS NOT excluded.from_key OR to_key IS NOT excluded.to_key`

const insertLinkQuery = "INSERT INTO links(id, type, outward, inward, from_key, to_key) VALUES (?, ?, ?, ?, ?, ?)" + linkUpsert

// insertLinksQuery is insertLinkQuery for linksPerInsert rows: a full sync writes a link or
// so per issue, and each statement execution has a fixed cost.
var insertLinksQuery = "INSERT INTO links(id, type, outward, inward, from_key, to_key) VALUES " +
	strings.Repeat("(?, ?, ?, ?, ?, ?),", linksPerInsert-1) + "(?, ?, ?, ?, ?, ?)" + linkUpsert

const linksPerInsert = 32

// putLinks writes links, linksPerInsert to a statement. Within one statement a later row
// replaces an earlier one with the same id, as consecutive statements would.
func putLinks(ctx context.Context, tx *sql.Tx, sc *stmtCache, links []lens.Link) error {
	for _, l := range links {
		if l.ID == 0 || l.From == "" || l.To == "" {
			return fmt.Errorf("link %d %s->%s: id and both ends are required", l.ID, l.From, l.To)
		}
	}
	args := make([]any, 0, 6*linksPerInsert)
	if full := len(links) / linksPerInsert * linksPerInsert; full > 0 {
		many, err := sc.stmt(ctx, tx, insertLinksQuery)
		if err != nil {
			return err
		}
		defer many.Close()
		for i := 0; i < full; i += linksPerInsert {
			args = args[:0]
			for _, l := range links[i : i+linksPerInsert] {
				args = append(args, l.ID, l.Type, l.Outward, l.Inward, l.From, l.To)
			}
			if _, err := many.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("links %d..%d: %w", links[i].ID, links[i+linksPerInsert-1].ID, err)
			}
		}
		links = links[full:]
	}
	if len(links) == 0 {
		return nil
	}
	st, err := sc.stmt(ctx, tx, insertLinkQuery)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, l := range links {
		if _, err := st.ExecContext(ctx, l.ID, l.Type, l.Outward, l.Inward, l.From, l.To); err != nil {
			return fmt.Errorf("link %d: %w", l.ID, err)
		}
	}
	return nil
}

// DeleteLink removes one link by id; deleting an unknown id is not an error.
func (db *DB) DeleteLink(ctx context.Context, id int64) error {
	return db.write(ctx, "delete link", func(tx *sql.Tx) error {
		var from, to string
		err := tx.QueryRowContext(ctx, "DELETE FROM links WHERE id = ? RETURNING from_key, to_key", id).Scan(&from, &to)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		detail := strconv.FormatInt(id, 10)
		if err := addChange(ctx, tx, ChangeLinks, from, detail); err != nil {
			return err
		}
		return addChange(ctx, tx, ChangeLinks, to, detail)
	})
}

// Links returns every cached link, ordered by id.
func (db *DB) Links(ctx context.Context) ([]lens.Link, error) {
	var out []lens.Link
	err := db.read(ctx, "links", func(tx *sql.Tx) error {
		var err error
		out, err = readLinks(ctx, tx)
		return err
	})
	return out, err
}

func readLinks(ctx context.Context, tx *sql.Tx) ([]lens.Link, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, type, outward, inward, from_key, to_key FROM links ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	in := interner{}
	var out []lens.Link
	for rows.Next() {
		var l lens.Link
		if err := rows.Scan(&l.ID, &l.Type, &l.Outward, &l.Inward, &l.From, &l.To); err != nil {
			return nil, err
		}
		l.Type, l.Outward, l.Inward = in.get(l.Type), in.get(l.Outward), in.get(l.Inward)
		out = append(out, l)
	}
	return out, rows.Err()
}
