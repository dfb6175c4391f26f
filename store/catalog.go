package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"foundation/lens"
)

// wellKnownRoles maps the roles stored in well_known_fields to WellKnown's fields.
func wellKnownRoles(wk *WellKnown) map[string]*string {
	return map[string]*string{
		"story_points": &wk.StoryPoints,
		"sprint":       &wk.Sprint,
		"epic_link":    &wk.EpicLink,
		"rank":         &wk.Rank,
	}
}

// PutFields replaces the field catalog and the well-known field map in one transaction.
func (db *DB) PutFields(ctx context.Context, fields []lens.Field, wk WellKnown) error {
	return db.write(ctx, "put fields", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM fields"); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO fields(id, name, custom, schema_type, schema_items, schema_custom) VALUES (?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		for _, f := range fields {
			if f.ID == "" {
				return fmt.Errorf("field %q: empty id", f.Name)
			}
			if _, err := st.ExecContext(ctx, f.ID, f.Name, f.Custom, f.SchemaType, f.SchemaItems, f.SchemaCustom); err != nil {
				return fmt.Errorf("field %s: %w", f.ID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM well_known_fields"); err != nil {
			return err
		}
		for role, id := range wellKnownRoles(&wk) {
			if *id == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO well_known_fields(role, field_id) VALUES (?, ?)", role, *id); err != nil {
				return fmt.Errorf("well-known %s: %w", role, err)
			}
		}
		return addChange(ctx, tx, ChangeFields, "", "")
	})
}

// Fields returns the field catalog ordered by id.
func (db *DB) Fields(ctx context.Context) ([]lens.Field, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT id, name, custom, schema_type, schema_items, schema_custom FROM fields ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	defer rows.Close()
	var out []lens.Field
	for rows.Next() {
		var f lens.Field
		if err := rows.Scan(&f.ID, &f.Name, &f.Custom, &f.SchemaType, &f.SchemaItems, &f.SchemaCustom); err != nil {
			return nil, fmt.Errorf("fields: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fields: %w", err)
	}
	return out, nil
}

// WellKnown returns the stored well-known field ids (empty where the site has none).
func (db *DB) WellKnown(ctx context.Context) (WellKnown, error) {
	var wk WellKnown
	roles := wellKnownRoles(&wk)
	rows, err := db.r.QueryContext(ctx, "SELECT role, field_id FROM well_known_fields")
	if err != nil {
		return wk, fmt.Errorf("well-known fields: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var role, id string
		if err := rows.Scan(&role, &id); err != nil {
			return wk, fmt.Errorf("well-known fields: %w", err)
		}
		if p, ok := roles[role]; ok {
			*p = id
		}
	}
	if err := rows.Err(); err != nil {
		return wk, fmt.Errorf("well-known fields: %w", err)
	}
	return wk, nil
}

// Project is one Jira project.
type Project struct {
	ID   int64
	Key  string
	Name string
}

// PutProjects adds or replaces projects by id.
func (db *DB) PutProjects(ctx context.Context, projects []Project) error {
	return db.write(ctx, "put projects", func(tx *sql.Tx) error {
		for _, p := range projects {
			if p.ID == 0 || p.Key == "" {
				return fmt.Errorf("project %q (id %d): id and key are required", p.Key, p.ID)
			}
			if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO projects(id, key, name) VALUES (?, ?, ?)", p.ID, p.Key, p.Name); err != nil {
				return fmt.Errorf("project %s: %w", p.Key, err)
			}
		}
		return addChange(ctx, tx, ChangeProjects, "", "")
	})
}

// Projects returns the cached projects ordered by key.
func (db *DB) Projects(ctx context.Context) ([]Project, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT id, key, name FROM projects ORDER BY key")
	if err != nil {
		return nil, fmt.Errorf("projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		if err := rows.Scan(&p.ID, &p.Key, &p.Name); err != nil {
			return nil, fmt.Errorf("projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projects: %w", err)
	}
	return out, nil
}

// User is the personal data kept about one Jira user. It lives only in the users table (and
// inside raw issue JSON, which PurgeUser scrubs) so it can be purged on request.
type User struct {
	ID          string // accountId on Cloud, user name on Data Center
	DisplayName string
	Email       string
	FetchedAt   time.Time
}

// PutUsers adds or replaces users by id; a zero FetchedAt is stamped with the current time.
func (db *DB) PutUsers(ctx context.Context, users []User) error {
	return db.write(ctx, "put users", func(tx *sql.Tx) error {
		return putUsers(ctx, tx, db.ws, users)
	})
}

// Unchanged users are left alone, so a sync page that mentions the same people again adds
// nothing to the change feed.
const insertUserQuery = `INSERT INTO users(id, display_name, email, fetched_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name, email = excluded.email,
			fetched_at = excluded.fetched_at
		WHERE display_name IS NOT excluded.display_name OR email IS NOT excluded.email`

func putUsers(ctx context.Context, tx *sql.Tx, sc *stmtCache, users []User) error {
	if len(users) == 0 {
		return nil
	}
	at := now()
	st, err := sc.stmt(ctx, tx, insertUserQuery)
	if err != nil {
		return err
	}
	defer st.Close()
	changed := false
	for _, u := range users {
		if u.ID == "" {
			return errors.New("user with empty id")
		}
		f := u.FetchedAt
		if f.IsZero() {
			f = at
		}
		res, err := st.ExecContext(ctx, u.ID, u.DisplayName, u.Email, ms(f))
		if err != nil {
			return fmt.Errorf("user: %w", err) // no id: it is personal data
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return addChange(ctx, tx, ChangeUsers, "", "")
}

// Users returns the cached users ordered by id.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT id, display_name, email, fetched_at FROM users ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var f int64
		if err := rows.Scan(&u.ID, &u.DisplayName, &u.Email, &f); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		u.FetchedAt = fromMS(f)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

// PurgeUser removes a user's personal data: the users row, and within every cached issue's
// raw JSON each user object naming them (by accountId, name or key) is reduced to its id.
// Extracted assignee/reporter columns hold only the id and stay. It returns how many issues
// were scrubbed.
func (db *DB) PurgeUser(ctx context.Context, id string) (int, error) {
	if id == "" {
		return 0, errors.New("purge user: empty id")
	}
	n := 0
	err := db.write(ctx, "purge user", func(tx *sql.Tx) error {
		n = 0
		if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id); err != nil {
			return err
		}
		// instr narrows the scan to issues whose JSON mentions the id at all.
		rows, err := tx.QueryContext(ctx, "SELECT id, fields FROM issues WHERE instr(fields, ?) > 0", id)
		if err != nil {
			return err
		}
		type hit struct {
			id  int64
			raw []byte
		}
		var hits []hit
		for rows.Next() {
			var h hit
			if err := rows.Scan(&h.id, &h.raw); err != nil {
				rows.Close()
				return err
			}
			hits = append(hits, h)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, h := range hits {
			var v any
			dec := json.NewDecoder(bytes.NewReader(h.raw))
			dec.UseNumber() // keep big ids and exact decimals as they were
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("issue %d: fields: %w", h.id, err)
			}
			v, changed := scrubUser(v, id)
			if !changed {
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("issue %d: %w", h.id, err)
			}
			// The hash changes so an authoritative re-fetch rewrites the row (and may bring
			// the data back, which is Jira's to decide, not ours).
			if _, err := tx.ExecContext(ctx, "UPDATE issues SET fields = ?, hash = 0 WHERE id = ?", b, h.id); err != nil {
				return fmt.Errorf("issue %d: %w", h.id, err)
			}
			n++
		}
		return addChange(ctx, tx, ChangeUsers, "", "purged")
	})
	return n, err
}

// scrubUser walks decoded JSON and replaces every user object identifying id with an object
// holding only the identifying keys. A user object is one with user-only keys, so a status or
// project that happens to be named like a Data Center user name is left alone.
func scrubUser(v any, id string) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		_, hasAccount := t["accountId"]
		_, hasDisplay := t["displayName"]
		_, hasEmail := t["emailAddress"]
		isUser := hasAccount || hasDisplay || hasEmail
		for _, k := range []string{"accountId", "name", "key"} {
			if s, ok := t[k].(string); ok && s == id && isUser {
				stub := map[string]any{}
				for _, keep := range []string{"accountId", "name", "key"} {
					if x, ok := t[keep]; ok {
						stub[keep] = x
					}
				}
				return stub, len(stub) != len(t)
			}
		}
		changed := false
		for k, x := range t {
			if nx, c := scrubUser(x, id); c {
				t[k] = nx
				changed = true
			}
		}
		return t, changed
	case []any:
		changed := false
		for i, x := range t {
			if nx, c := scrubUser(x, id); c {
				t[i] = nx
				changed = true
			}
		}
		return t, changed
	}
	return v, false
}
