package refresh

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"foundation/jira"
	"foundation/jql"
	"foundation/lens"
	"foundation/store"
)

// metadata refreshes the field catalog and projects, and returns the well-known field ids
// and the fields to request for each issue.
func (e *Engine) metadata(ctx context.Context) (store.WellKnown, []string, error) {
	fields, err := e.c.Fields(ctx)
	if err != nil {
		return store.WellKnown{}, nil, fmt.Errorf("read field catalog: %w", err)
	}
	jwk := jira.ResolveWellKnown(fields)
	wk := store.WellKnown{StoryPoints: jwk.StoryPoints, Sprint: jwk.Sprint, EpicLink: jwk.EpicLink, Rank: jwk.Rank}
	cat := make([]lens.Field, 0, len(fields))
	want := append([]string(nil), systemFields...)
	for _, f := range fields {
		cat = append(cat, lens.Field{ID: f.ID, Name: f.Name, Custom: f.Custom, SchemaType: f.Schema.Type, SchemaItems: f.Schema.Items, SchemaCustom: f.Schema.Custom})
		// The cache keeps every custom field so any of them can become a Lens column
		// without a resync.
		if f.Custom {
			want = append(want, f.ID)
		}
	}
	if err := e.db.PutFields(ctx, cat, wk); err != nil {
		return wk, nil, err
	}
	projects, err := e.c.Projects(ctx)
	if err != nil {
		return wk, nil, fmt.Errorf("read projects: %w", err)
	}
	ps := make([]store.Project, len(projects))
	for i, p := range projects {
		ps[i] = store.Project{ID: p.ID, Key: p.Key, Name: p.Name}
	}
	if err := e.db.PutProjects(ctx, ps); err != nil {
		return wk, nil, err
	}
	return wk, want, nil
}

// since renders a JQL lower bound on updated as a relative date: Jira reads absolute JQL
// dates in the profile's time zone, which we do not know, while "-Nm" is relative to Jira's
// own clock. The bound is rounded down to whole minutes and widened by the overlap.
func (e *Engine) since(t time.Time) string {
	mins := int(math.Ceil(e.opt.Now().Sub(t.Add(-e.opt.Overlap)).Minutes()))
	if mins < 1 {
		mins = 1
	}
	return fmt.Sprintf(`updated >= "-%dm"`, mins)
}

// Full walks the whole scope and writes every issue, committing page by page.
//
// It asks for the issues in id order, the order of the cache's issues table: each page
// appends to the table instead of rewriting leaves all over it, which is what made a full
// sync in `updated` order several times slower than the network. The sync state's cursor
// names the last committed id and when the sync began, so an interrupted full sync
// resumes after the last committed page. The watermark becomes that beginning (by this
// machine's clock, as polls measure their relative bound with it): an issue changed while
// the walk was past it is caught by the next poll.
func (e *Engine) Full(ctx context.Context) (Summary, error) {
	return e.run(ctx, ModeFull, func(rs *runState) error {
		wk, fields, err := e.metadata(ctx)
		if err != nil {
			return err
		}
		st, err := e.db.SyncState(ctx, e.opt.Scope)
		if err != nil {
			return err
		}
		cur, ok := parseFullCursor(st.Cursor)
		if !ok {
			cur = fullCursor{began: e.opt.Now().UnixMilli()}
			st.Cursor = cur.String()
			if err := e.db.PutSyncState(ctx, st); err != nil {
				return err
			}
		}
		jql := fmt.Sprintf("(%s) ORDER BY id ASC", e.opt.Scope)
		if cur.after > 0 {
			jql = fmt.Sprintf("(%s) AND id > %d ORDER BY id ASC", e.opt.Scope, cur.after)
		}
		req := jira.SearchRequest{JQL: jql, Fields: fields, PageSize: e.opt.PageSize}
		// A full sync is Jira's word on every issue it returns: it overwrites what was
		// cached before it began, even a version dated later or a tombstone (a resumed sync
		// reads its remaining pages after this run began, so this run's start is enough).
		rs.readAt = time.Now()
		err = e.walk(ctx, req, wk, rs, func(_, maxID int64) error {
			cur.after = max(cur.after, maxID)
			st.Cursor = cur.String()
			return e.db.PutSyncState(context.WithoutCancel(ctx), st)
		})
		if err != nil {
			return err
		}
		st.Cursor = ""
		if began := time.UnixMilli(cur.began); began.After(st.Watermark) {
			st.Watermark = began
		}
		st.LastFull = e.opt.Now()
		st.LastPoll = st.LastFull
		return e.db.PutSyncState(context.WithoutCancel(ctx), st)
	})
}

// fullCursor is where an interrupted full sync stands: the last committed issue id, and
// when the sync began (ms). Stored as "id:<after>:<began>".
type fullCursor struct{ after, began int64 }

func (c fullCursor) String() string { return fmt.Sprintf("id:%d:%d", c.after, c.began) }

// parseFullCursor reads a cursor String wrote. Anything else (none, or one written by a
// version that walked in another order) starts the sync over, which the version guard
// makes safe.
func parseFullCursor(s string) (fullCursor, bool) {
	var c fullCursor
	rest, ok := strings.CutPrefix(s, "id:")
	if !ok {
		return c, false
	}
	a, b, ok := strings.Cut(rest, ":")
	if !ok {
		return c, false
	}
	var err1, err2 error
	c.after, err1 = strconv.ParseInt(a, 10, 64)
	c.began, err2 = strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || c.after < 0 || c.began <= 0 {
		return fullCursor{}, false
	}
	return c, true
}

// Poll fetches what changed since the watermark. Its cost follows the number of changes,
// not the size of the cache.
func (e *Engine) Poll(ctx context.Context) (Summary, error) {
	return e.run(ctx, ModePoll, func(rs *runState) error {
		wk, err := e.db.WellKnown(ctx)
		if err != nil {
			return err
		}
		st, err := e.db.SyncState(ctx, e.opt.Scope)
		if err != nil {
			return err
		}
		if st.LastFull.IsZero() {
			return errors.New("poll: the scope was never fully synced; run a full refresh first")
		}
		fields, err := e.cachedFieldList(ctx)
		if err != nil {
			return err
		}
		req := jira.SearchRequest{
			JQL:             fmt.Sprintf("(%s) AND %s ORDER BY updated ASC", e.opt.Scope, e.since(st.Watermark)),
			Fields:          fields,
			PageSize:        e.opt.PageSize,
			ReconcileIssues: e.takeWritten(),
		}
		if e.c.Dialect() != jira.Cloud {
			req.ReconcileIssues = nil
		}
		err = e.walk(ctx, req, wk, rs, func(maxUpd, _ int64) error {
			if t := time.UnixMilli(maxUpd); maxUpd > 0 && t.After(st.Watermark) {
				st.Watermark = t
			}
			return e.db.PutSyncState(context.WithoutCancel(ctx), st)
		})
		if err != nil {
			return err
		}
		st.LastPoll = e.opt.Now()
		return e.db.PutSyncState(context.WithoutCancel(ctx), st)
	})
}

// cachedFieldList is the list of fields to request, from the cached catalog.
func (e *Engine) cachedFieldList(ctx context.Context) ([]string, error) {
	cat, err := e.db.Fields(ctx)
	if err != nil {
		return nil, err
	}
	want := append([]string(nil), systemFields...)
	for _, f := range cat {
		if f.Custom {
			want = append(want, f.ID)
		}
	}
	return want, nil
}

// Reconcile scans the ids in scope and removes cached issues that are no longer there
// (deleted, or moved out of scope). A scan that fails part-way deletes nothing.
//
// Several profiles (identities, scopes) may share one cache, so an issue missing from this
// scan is removed only when the scan speaks for it: it matches this scope when the scope is
// evaluated over the cache, its project is one this identity can browse, and it carries no
// security level (which could hide it from this identity alone). Anything else was put
// there by another profile, or may merely be invisible to this one, and stays.
func (e *Engine) Reconcile(ctx context.Context) (Summary, error) {
	return e.run(ctx, ModeReconcile, func(rs *runState) error {
		inScope, err := e.scopeMatcher()
		if err != nil {
			return err
		}
		projects, err := e.c.Projects(ctx)
		if err != nil {
			return fmt.Errorf("reconcile: read projects: %w", err)
		}
		browsable := make(map[string]bool, len(projects))
		for _, p := range projects {
			browsable[p.Key] = true
		}
		live := make(map[int64]bool)
		err = e.c.ScanIDs(ctx, e.opt.Scope, func(ids []jira.IssueRef) error {
			for _, r := range ids {
				live[r.ID] = true
			}
			rs.pages++
			rs.sum.Scanned += len(ids)
			rs.report()
			return nil
		})
		if err != nil {
			return fmt.Errorf("reconcile: scan %q: %w", e.opt.Scope, err)
		}
		cached, err := e.db.Issues(ctx, store.ReadOptions{})
		if err != nil {
			return err
		}
		var gone []int64
		for i := range cached {
			is := &cached[i]
			if !live[is.ID] && browsable[is.Project] && is.SecurityLevel == "" && inScope(is) {
				gone = append(gone, is.ID)
			}
		}
		if len(gone) > 0 {
			n, err := e.db.DeleteIssues(ctx, gone, "not in scope "+e.opt.Scope)
			if err != nil {
				return err
			}
			rs.sum.Deleted = n
		}
		st, err := e.db.SyncState(ctx, e.opt.Scope)
		if err != nil {
			return err
		}
		st.LastReconcile = e.opt.Now()
		return e.db.PutSyncState(context.WithoutCancel(ctx), st)
	})
}

// scopeMatcher evaluates the scope over cached issues. A scope that needs Jira to evaluate
// (functions such as membersOf) matches nothing, so reconcile then removes nothing.
func (e *Engine) scopeMatcher() (func(*lens.Issue) bool, error) {
	q, err := jql.Parse(e.opt.Scope)
	if err != nil {
		return nil, fmt.Errorf("scope %q: %w", e.opt.Scope, err)
	}
	m, err := q.Compile(jql.Env{Now: e.opt.Now()})
	if err != nil {
		return func(*lens.Issue) bool { return false }, nil
	}
	return func(is *lens.Issue) bool { return m(is) }, nil
}
