package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// GrantKind is what a permission grant is about.
type GrantKind string

// Grant kinds: BROWSE_PROJECTS on a project, or on one issue (issue security levels).
const (
	GrantProject GrantKind = "project"
	GrantIssue   GrantKind = "issue"
)

// Grant is the outcome of asking Jira whether Identity may browse a project or an issue.
// Denials are stored too so that they are not re-asked before they expire.
type Grant struct {
	Identity  string
	Kind      GrantKind
	ID        int64 // Jira project or issue id
	Granted   bool
	CheckedAt time.Time
	ExpiresAt time.Time
}

// Fresh reports whether the grant may still be relied on at t.
func (g Grant) Fresh(t time.Time) bool { return t.Before(g.ExpiresAt) }

// PutGrants adds or replaces grants, in one transaction.
func (db *DB) PutGrants(ctx context.Context, grants []Grant) error {
	if len(grants) == 0 {
		return nil
	}
	return db.write(ctx, "put grants", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO grants(identity, kind, target_id, granted, checked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer st.Close()
		ids := map[string]bool{}
		for _, g := range grants {
			if g.Kind != GrantProject && g.Kind != GrantIssue {
				return fmt.Errorf("grant kind %q: want project or issue", g.Kind)
			}
			if _, err := st.ExecContext(ctx, g.Identity, string(g.Kind), g.ID, g.Granted, ms(g.CheckedAt), ms(g.ExpiresAt)); err != nil {
				return fmt.Errorf("grant %s %d: %w", g.Kind, g.ID, err)
			}
			ids[g.Identity] = true
		}
		for id := range ids {
			if err := addChange(ctx, tx, ChangeGrants, "", id); err != nil {
				return err
			}
		}
		return nil
	})
}

// Grants returns every stored grant of identity, expired ones included (the caller decides
// with Fresh, and fails closed on what is missing or stale).
func (db *DB) Grants(ctx context.Context, identity string) ([]Grant, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT kind, target_id, granted, checked_at, expires_at FROM grants WHERE identity = ? ORDER BY kind, target_id", identity)
	if err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		g := Grant{Identity: identity}
		var kind string
		var checked, expires int64
		if err := rows.Scan(&kind, &g.ID, &g.Granted, &checked, &expires); err != nil {
			return nil, fmt.Errorf("grants: %w", err)
		}
		g.Kind, g.CheckedAt, g.ExpiresAt = GrantKind(kind), fromMS(checked), fromMS(expires)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	return out, nil
}

// DeleteGrants forgets every grant of identity, e.g. when its credentials change.
func (db *DB) DeleteGrants(ctx context.Context, identity string) error {
	return db.write(ctx, "delete grants", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM grants WHERE identity = ?", identity); err != nil {
			return err
		}
		return addChange(ctx, tx, ChangeGrants, "", identity)
	})
}

// SecuredIssue is a cached issue with an issue security level: who may browse it is asked
// of Jira issue by issue.
type SecuredIssue struct {
	ID, ProjectID int64
}

// GrantTargets lists what a permission check asks Jira about: the projects of the cached
// issues, and the cached issues with a security level. Two scans that return a few rows
// cost a fraction of reading every issue.
func (db *DB) GrantTargets(ctx context.Context) (projects []int64, secured []SecuredIssue, err error) {
	err = db.read(ctx, "grant targets", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT DISTINCT project_id FROM issues WHERE project_id <> 0 ORDER BY project_id")
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			projects = append(projects, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, "SELECT id, project_id FROM issues WHERE security_level <> '' ORDER BY id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s SecuredIssue
			if err := rows.Scan(&s.ID, &s.ProjectID); err != nil {
				return err
			}
			secured = append(secured, s)
		}
		return rows.Err()
	})
	return projects, secured, err
}
