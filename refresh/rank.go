package refresh

// Reordering by rank. Jira's rank is one global order (a lexorank per issue) that only the
// Agile API changes: an issue is ranked just before or just after another. A move records
// where the issue stood (after the issue ranked just below it in the cache, or before the
// one just above when it was first), so an undo ranks it back beside that neighbour.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"foundation/jira"
	"foundation/lens"
	"foundation/store"
)

// FieldRank is the Field of a rank move's Result.
const FieldRank = "rank"

// ErrRankPlace says a rank move was asked without exactly one neighbour, or relative to the
// issue itself.
var ErrRankPlace = errors.New("rank: give exactly one other issue to rank before or after")

// MoveRank ranks key just before beforeKey or just after afterKey (exactly one is given),
// reads the issue back into the cache and audits the move in the same transaction. With
// opts.History the move is one undoable step; undo ranks the issue back next to the issue
// it followed (or preceded) before. Refusals are *PermissionError like any edit.
func (w *Writer) MoveRank(ctx context.Context, key, beforeKey, afterKey string, opts SetOptions) (Result, error) {
	key = strings.ToUpper(strings.TrimSpace(key))
	beforeKey = strings.ToUpper(strings.TrimSpace(beforeKey))
	afterKey = strings.ToUpper(strings.TrimSpace(afterKey))
	if key == "" || (beforeKey == "") == (afterKey == "") || key == beforeKey || key == afterKey {
		return Result{Key: key, Field: FieldRank}, fmt.Errorf("rank %s: %w", key, ErrRankPlace)
	}
	old, err := w.rankPlace(ctx, key)
	if err != nil {
		return Result{Key: key, Field: FieldRank}, err
	}
	res, err := w.rank(ctx, Result{Key: key, Field: FieldRank, Old: old, New: placement(beforeKey, afterKey)}, beforeKey, afterKey)
	if err == nil && opts.History != nil {
		opts.History.push(Step{res})
	}
	return res, err
}

// placement renders where a move puts an issue: "before KEY" or "after KEY".
func placement(before, after string) string {
	if before != "" {
		return "before " + before
	}
	return "after " + after
}

// parsePlacement reads placement's output back.
func parsePlacement(p string) (before, after string, ok bool) {
	how, k, found := strings.Cut(p, " ")
	if !found || k == "" {
		return "", "", false
	}
	switch how {
	case "before":
		return k, "", true
	case "after":
		return "", k, true
	}
	return "", "", false
}

// rankPlace says where key stands now among the cached issues the viewer (the Writer's
// identity) may browse: after the one ranked just below it, or before the one just above
// when nothing is below. "" when the cache holds no rank for it (the move works; only its
// undo has nowhere to go back to). Only issues the viewer may browse are neighbours, as in
// a Lens build: the shared cache may hold issues of projects the viewer cannot see, and
// Jira refuses to rank next to those (naming them in its refusal).
func (w *Writer) rankPlace(ctx context.Context, key string) (string, error) {
	visible, _, err := Visibility(ctx, w.db, Viewer{Viewer: lens.Viewer{User: w.who(ctx)}}, time.Now())
	if err != nil {
		return "", fmt.Errorf("rank %s: %w", key, err)
	}
	all, err := w.db.Issues(ctx, store.ReadOptions{})
	if err != nil {
		return "", fmt.Errorf("rank %s: read the cache for its neighbours: %w", key, err)
	}
	var at string
	for i := range all {
		if all[i].Key == key {
			at = all[i].Rank
			break
		}
	}
	if at == "" {
		return "", nil
	}
	var below, above, belowKey, aboveKey string
	for i := range all {
		r := all[i].Rank
		if r == "" || all[i].Key == key || !visible(&all[i]) {
			continue
		}
		if r < at && (belowKey == "" || r > below) {
			below, belowKey = r, all[i].Key
		}
		if r > at && (aboveKey == "" || r < above) {
			above, aboveKey = r, all[i].Key
		}
	}
	switch {
	case belowKey != "":
		return placement("", belowKey), nil
	case aboveKey != "":
		return placement(aboveKey, ""), nil
	}
	return "", nil
}

// rank writes one rank move and reads the issue back. res carries Key, Field, Old and New.
func (w *Writer) rank(ctx context.Context, res Result, before, after string) (Result, error) {
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return res, err
	}
	res.ID = wk.Rank
	res.Base = w.cachedBase(ctx, res.Key)
	value := placement(before, after)
	if err := w.c.RankIssues(ctx, []string{res.Key}, before, after); err != nil {
		return res, w.fail(ctx, res, value, classify(res.Key, FieldRank, err))
	}
	ji, err := w.readBack(ctx, res.Key, fieldList(cat))
	if err == nil {
		var b *batch
		if b, err = convert([]jira.Issue{*ji}, wk); err == nil {
			us := make([]store.User, 0, len(b.users))
			for _, u := range b.users {
				us = append(us, u)
			}
			done := res
			done.Updated = b.issues[0].Updated
			// Our own write's read-back: authoritative, with its audit row in one transaction.
			page := store.Page{Issues: b.issues, Links: b.links, Users: us, Audit: []store.AuditEntry{w.auditEntry(ctx, done, value, "ok")}}
			w.sighted(ctx, &page)
			if _, err = w.db.ApplyPage(context.WithoutCancel(ctx), page, true); err == nil {
				if w.opt.Engine != nil {
					w.opt.Engine.NoteWritten(b.issues[0].ID)
				}
				return done, nil
			}
		}
	}
	w.audit(ctx, res, value, "ok (read-back failed: "+err.Error()+")")
	return res, fmt.Errorf("%s ranked in Jira, but reading it back failed (the next refresh brings it): %w", res.Key, err)
}

// replayRank moves a recorded rank move's issue to its old place (undo) or new one (redo).
func (w *Writer) replayRank(ctx context.Context, r Result, undo bool) (Result, error) {
	to := r.New
	if undo {
		to = r.Old
	}
	before, after, ok := parsePlacement(to)
	if !ok {
		return r, fmt.Errorf("rank %s: no recorded place to move it back to", r.Key)
	}
	got, err := w.rank(ctx, r, before, after)
	if err != nil {
		return r, err
	}
	r.Updated = got.Updated
	return r, nil
}
