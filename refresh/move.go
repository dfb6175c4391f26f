package refresh

// Structure edits: moving a row under another issue or into another group of a Lens
// rewrites what the Lens builds that structure from. Which field or link that is comes
// from the Lens (its extend and group generators); the TUI passes it in.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"foundation/jira"
	"foundation/store"
)

// MoveHow says how the Lens hangs children under a parent, as its extend generator does.
type MoveHow struct {
	// By is "parent" (parent field; Epic Link on Data Center for epic children) or "links".
	By string
	// LinkType and Direction describe the links followed (By "links"): the parent row is
	// the outward side by default ("parent <outward> child"); "inward" reverses it.
	LinkType  string
	Direction string
	// OldParent is the row's current parent in the Lens; for links, the link to it of
	// LinkType is removed once the new one exists. Empty keeps existing links.
	OldParent string
}

// AuditActionLink is the audit action of links created or removed by moves.
const AuditActionLink = "issue.link"

// MoveUnder makes newParent the parent of key in the Lens's terms. With By "parent" it
// writes the parent field (Data Center: the Epic Link when newParent is an epic and key is
// not a sub-task) through Set, so conflicts, history and audit apply; an empty newParent
// removes the parent. With By "links" it creates the link to newParent and removes the one
// to OldParent.
func (w *Writer) MoveUnder(ctx context.Context, key, newParent string, how MoveHow, opts SetOptions) (Result, error) {
	key = strings.ToUpper(strings.TrimSpace(key))
	newParent = strings.ToUpper(strings.TrimSpace(newParent))
	switch how.By {
	case "parent", "":
		return w.moveParent(ctx, key, newParent, opts)
	case "links":
		res, err := w.moveLink(ctx, key, newParent, how)
		if err == nil && opts.History != nil {
			opts.History.push(Step{res})
		}
		return res, err
	}
	return Result{Key: key}, fmt.Errorf("move %s: unknown structure %q (want parent or links)", key, how.By)
}

func (w *Writer) moveParent(ctx context.Context, key, newParent string, opts SetOptions) (Result, error) {
	_, wk, err := w.catalog(ctx)
	if err != nil {
		return Result{Key: key}, err
	}
	field := "parent"
	if w.c.Dialect() != jira.Cloud && wk.EpicLink != "" {
		child, err := w.issueShape(ctx, key, wk)
		if err != nil {
			return Result{Key: key}, err
		}
		switch {
		case newParent == "":
			if child.epicLink != "" {
				field = wk.EpicLink
			}
		case !child.subtask:
			p, err := w.issueShape(ctx, newParent, wk)
			if err != nil {
				return Result{Key: key}, err
			}
			if p.epic {
				field = wk.EpicLink
			}
		}
	}
	value := newParent
	if value == "" {
		value = "none"
	}
	return w.Set(ctx, key, field, value, w.cachedBase(ctx, key), opts)
}

// moveShape is what a move needs to know of an issue.
type moveShape struct {
	epic, subtask bool
	epicLink      string
}

// issueShape reads an issue's type from the cache, or from Jira when it is not cached.
func (w *Writer) issueShape(ctx context.Context, key string, wk store.WellKnown) (moveShape, error) {
	if is, err := w.db.Issue(ctx, key); err == nil {
		return moveShape{epic: strings.EqualFold(is.Type, "Epic"), subtask: is.Subtask, epicLink: is.EpicLink}, nil
	}
	ask := []string{"issuetype"}
	if wk.EpicLink != "" {
		ask = append(ask, wk.EpicLink)
	}
	ji, err := w.c.GetIssue(ctx, key, ask)
	if err != nil {
		return moveShape{}, classify(key, "parent", err)
	}
	var t struct {
		Name    string `json:"name"`
		Subtask bool   `json:"subtask"`
	}
	_ = json.Unmarshal(ji.Fields["issuetype"], &t)
	var el string
	if wk.EpicLink != "" {
		_ = json.Unmarshal(ji.Fields[wk.EpicLink], &el)
	}
	return moveShape{epic: strings.EqualFold(t.Name, "Epic"), subtask: t.Subtask, epicLink: el}, nil
}

// cachedBase is the issue's updated in the cache, zero when it is not cached.
func (w *Writer) cachedBase(ctx context.Context, key string) (b time.Time) {
	if is, err := w.db.Issue(ctx, key); err == nil {
		return is.Updated
	}
	return b
}

func (w *Writer) moveLink(ctx context.Context, key, newParent string, how MoveHow) (Result, error) {
	res := Result{Key: key, Field: "link " + how.LinkType, Old: strings.ToUpper(how.OldParent), New: newParent, move: &how}
	if how.LinkType == "" {
		return res, fmt.Errorf("move %s: a move by links needs the link type", key)
	}
	pair := func(parent string) (inward, outward string) {
		if how.Direction == "inward" {
			return key, parent // child <outward> parent
		}
		return parent, key // parent <outward> child
	}
	var errs []error
	touched := []string{key}
	if newParent != "" {
		in, out := pair(newParent)
		if err := w.c.CreateLink(ctx, how.LinkType, in, out); err != nil {
			err = classify(key, res.Field, err)
			w.auditLink(ctx, res, "failed: "+err.Error())
			return res, err
		}
		touched = append(touched, newParent)
	}
	if how.OldParent != "" && !strings.EqualFold(how.OldParent, newParent) {
		in, out := pair(strings.ToUpper(how.OldParent))
		links, err := w.db.Links(ctx)
		if err != nil {
			return res, err
		}
		for _, l := range links {
			if strings.EqualFold(l.Type, how.LinkType) && l.From == in && l.To == out {
				if err := w.c.DeleteLink(ctx, strconv.FormatInt(l.ID, 10)); err != nil {
					errs = append(errs, classify(key, res.Field, err))
				}
			}
		}
		touched = append(touched, strings.ToUpper(how.OldParent))
	}
	if err := w.reread(ctx, touched); err != nil {
		errs = append(errs, err)
	}
	if is, err := w.db.Issue(ctx, key); err == nil {
		res.Updated = is.Updated
	}
	err := errors.Join(errs...)
	outcome := "ok"
	if err != nil {
		outcome = "failed: " + err.Error()
	}
	w.auditLink(ctx, res, outcome)
	return res, err
}

func (w *Writer) auditLink(ctx context.Context, res Result, outcome string) {
	before, _ := json.Marshal(auditValue{Field: res.Field, Value: res.Old})
	after, _ := json.Marshal(auditValue{Field: res.Field, Value: res.New})
	_ = w.db.Audit(context.WithoutCancel(ctx), store.AuditEntry{Actor: w.who(ctx), Action: AuditActionLink, Target: res.Key, Before: before, After: after, Outcome: outcome})
}

// reread fetches issues again and upserts them with their links.
func (w *Writer) reread(ctx context.Context, keys []string) error {
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return err
	}
	var got []jira.Issue
	for _, k := range keys {
		ji, err := w.readBack(ctx, k, fieldList(cat))
		if err != nil {
			return fmt.Errorf("read back %s: %w", k, err)
		}
		got = append(got, *ji)
	}
	b, err := convert(got, wk)
	if err != nil {
		return err
	}
	us := make([]store.User, 0, len(b.users))
	for _, u := range b.users {
		us = append(us, u)
	}
	page := store.Page{Issues: b.issues, Links: b.links, Users: us}
	w.sighted(ctx, &page)
	_, err = w.db.ApplyPage(context.WithoutCancel(ctx), page, true)
	return err
}

// MoveToGroup moves key from one group of a Lens grouped by groupField to another: a
// multi-valued field loses from and gains to (labels, components, versions); a single-valued
// field is set to to ("" clears it). It goes through Set.
func (w *Writer) MoveToGroup(ctx context.Context, key, groupField, from, to string, opts SetOptions) (Result, error) {
	cat, wk, err := w.catalog(ctx)
	if err != nil {
		return Result{Key: key}, err
	}
	f, err := resolveField(groupField, cat, wk)
	if err != nil {
		return Result{Key: key}, &FieldError{Key: key, Field: groupField, Message: err.Error()}
	}
	value := to
	switch f.Kind {
	case kindLabels, kindMultiOption:
		var parts []string
		if from != "" {
			parts = append(parts, "-"+from)
		}
		if to != "" {
			parts = append(parts, "+"+to)
		}
		if len(parts) == 0 {
			return Result{Key: key, Field: groupField, Unchanged: true}, nil
		}
		value = strings.Join(parts, ",")
	default:
		if to == "" {
			value = "none"
		}
	}
	return w.Set(ctx, key, groupField, value, w.cachedBase(ctx, key), opts)
}
