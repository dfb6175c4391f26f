package tui

// Undo and redo in the app: what they wrote, and what to do when Jira refuses one. A
// refused step stays on top of the stack, so it must never block the ones below it: a
// conflict gets the same overwrite / keep-theirs dialog as an edit (keeping theirs drops
// the step), a transition back that needs screen fields asks for them, and any step can
// be dropped from the dialog.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

type (
	historyMsg struct {
		redo bool
		res  []EditResult
		err  error
		left []EditResult // the step still on the stack after a refusal
	}
	dropMsg struct {
		redo    bool
		dropped []EditResult
		err     error
		why     string // said before "dropped …" (e.g. "kept theirs")
	}
	historyScreenMsg struct {
		redo   bool
		key    string
		target string
		meta   FieldEdit
		err    error
		refuse historyMsg // shown as a refusal when no screen can be asked for
	}
)

// stepVerb is what a history action is called in messages.
func stepVerb(redo bool) (doing, did, noun string) {
	if redo {
		return "redoing", "redid", "redo"
	}
	return "undoing", "undid", "undo"
}

// startHistory replays the newest undo (redo) step with opt.
func (a *App) startHistory(redo bool, opt SetOptions) tea.Cmd {
	ed, ctx := a.editor(), a.ctx
	doing, _, _ := stepVerb(redo)
	a.notice(doing+"…", false)
	a.edit.inflight++
	return func() tea.Msg {
		var res []EditResult
		var err error
		if redo {
			res, err = ed.Redo(ctx, opt)
		} else {
			res, err = ed.Undo(ctx, opt)
		}
		m := historyMsg{redo: redo, res: res, err: err}
		if err != nil {
			m.left = ed.Step(ctx, redo)
		}
		return m
	}
}

// stepText says what a step wrote: "ALPHA-2 SP 8 → 5, ALPHA-3 SP 8 → 5 and 2 more".
func (a *App) stepText(rs []EditResult, redo bool) string {
	var parts []string
	for _, r := range rs {
		if len(parts) == 3 {
			break
		}
		from, to := r.New, r.Old
		if redo {
			from, to = r.Old, r.New
		}
		if r.Delta != "" {
			// The changes undone or redone ("undid ALPHA-4 Labels +mine"), not whole
			// lists: others' changes to the list stay.
			parts = append(parts, fmt.Sprintf("%s %s %s", r.Key, a.fieldTitle(r.Field, r.Name), r.Delta))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s %s → %s", r.Key, a.fieldTitle(r.Field, r.Name), a.showValue(from), a.showValue(to)))
	}
	text := strings.Join(parts, ", ")
	if len(rs) > 3 {
		text += fmt.Sprintf(" and %d more", len(rs)-3)
	}
	return text
}

func (a *App) onHistory(msg historyMsg) tea.Cmd {
	_, did, noun := stepVerb(msg.redo)
	var keys []string
	for _, r := range msg.res {
		keys = append(keys, r.Key)
	}
	var rebuild tea.Cmd
	if len(keys) > 0 {
		rebuild = a.rebuildAfterWrite(keys)
	}
	switch {
	case msg.err == nil:
		a.notice(did+" "+a.stepText(msg.res, msg.redo), false)
	case len(msg.left) == 0:
		// Nothing refused stays on the stack: there was nothing to replay.
		a.notice(oneLine(msg.err.Error()), true)
	default:
		if cmd := a.refusedStep(msg, noun); cmd != nil {
			return tea.Batch(rebuild, cmd)
		}
	}
	return rebuild
}

// refusedStep handles a step Jira refused (part of): a transition that needs screen
// fields asks for them; anything else opens the refusal dialog.
func (a *App) refusedStep(msg historyMsg, noun string) tea.Cmd {
	errs := flattenErrors(msg.err)
	if len(errs) == 1 && len(msg.left) == 1 && a.lens != nil {
		var fe *FieldError
		if errors.As(errs[0], &fe) && len(fe.Missing) > 0 {
			r := msg.left[0]
			target := r.Old
			if msg.redo {
				target = r.New
			}
			ctx, ed, lensID := a.ctx, a.editor(), a.lens.info.ID
			return func() tea.Msg {
				m, err := ed.EditMeta(ctx, lensID, r.Key, r.Field)
				return historyScreenMsg{redo: msg.redo, key: r.Key, target: target, meta: m, err: err, refuse: msg}
			}
		}
	}
	a.openRefused(msg, noun)
	return nil
}

// onHistoryScreen opens the transition screen form for an undo (redo) of a status change;
// its answers go with the next try.
func (a *App) onHistoryScreen(msg historyScreenMsg) tea.Cmd {
	_, _, noun := stepVerb(msg.redo)
	fields := msg.meta.Screens[msg.target]
	if msg.err != nil || len(fields) == 0 || a.lens == nil || a.mode != modeNormal {
		a.openRefused(msg.refuse, noun)
		return nil
	}
	e := newCellEditor(a.input, msg.key, -1, msg.meta, time.Time{}, a.opt.Now())
	e.status, e.screen, e.stage, e.answers = msg.target, fields, 0, map[string]string{}
	e.input.SetValue("")
	e.refilter()
	e.history = &historyEdit{redo: msg.redo}
	a.edit.cell = e
	a.mode = modeEdit
	return e.input.Focus()
}

// openRefused shows why a step (part of it) was not replayed, and what can be done: o
// overwrites conflicting changes, k keeps theirs and drops the step, d drops it, esc
// leaves it on the stack.
func (a *App) openRefused(msg historyMsg, noun string) {
	errs := flattenErrors(msg.err)
	var conflicts []*ConflictError
	for _, e := range errs {
		var ce *ConflictError
		if errors.As(e, &ce) {
			conflicts = append(conflicts, ce)
		}
	}
	var lines []string
	if len(errs) == 1 && len(conflicts) == 1 {
		ce := conflicts[0]
		when := ""
		if !ce.When.IsZero() {
			when = " at " + ce.When.Local().Format("2006-01-02 15:04")
		}
		lines = append(lines,
			a.th.Render(a.th.Error, fmt.Sprintf("conflict: %s of %s %s: it was changed in Jira%s, after your edit", noun, ce.Key, a.fieldTitle(ce.Field, ""), when)),
			"  theirs: "+a.showValue(ce.Theirs),
			"  "+noun+" writes: "+a.showValue(ce.Mine))
	} else {
		head := fmt.Sprintf("%s refused: %d of the step's %d edits not written", noun, len(errs), len(msg.left)+len(msg.res))
		if len(errs) == 1 {
			head = fmt.Sprintf("%s refused: %s", noun, a.errText(errs[0]))
		}
		lines = append(lines, a.th.Render(a.th.Error, head))
		if len(errs) > 1 {
			var items []string
			for _, e := range errs {
				items = append(items, "  "+a.errKey(e)+a.errText(e))
			}
			lines = append(lines, a.capLines(items, 2)...)
		}
	}
	hint := fmt.Sprintf("d drop this step, so older ones can be %sne · esc keep it (%s tries again)", noun, keyFor(a, msg.redo))
	if len(conflicts) > 0 {
		hint = "o overwrite theirs · k keep theirs and drop this step · esc decide later"
	}
	lines = append(lines, a.th.Render(a.th.Muted, hint))
	redo := msg.redo
	a.edit.dialog = &dialog{lines: lines, onKey: func(a *App, k string) (bool, tea.Cmd) {
		switch {
		case (k == "o" || k == "O") && len(conflicts) > 0:
			return true, a.startHistory(redo, SetOptions{Overwrite: true})
		case (k == "k" || k == "K") && len(conflicts) > 0:
			return true, a.dropStep(redo, "kept theirs")
		case k == "d" || k == "D":
			return true, a.dropStep(redo, "")
		case k == "esc" || k == "n" || k == "N" || k == "enter":
			a.notice(fmt.Sprintf("the %s step stays: %s tries it again", noun, keyFor(a, redo)), false)
			return true, nil
		}
		return false, nil
	}}
	a.mode = modeDialog
}

// keyFor names the key of undo (redo) for messages.
func keyFor(a *App, redo bool) string {
	act := ActUndo
	if redo {
		act = ActRedo
	}
	if b, ok := a.keys.Binding(act); ok && len(b.Keys()) > 0 {
		return b.Keys()[0]
	}
	return string(act)
}

// errKey prefixes a refusal with its issue when the error knows it and does not say it.
func (a *App) errKey(err error) string {
	var ce *ConflictError
	var fe *FieldError
	switch {
	case errors.As(err, &ce):
		return ce.Key + ": "
	case errors.As(err, &fe):
		return fe.Key + " " + a.fieldTitle(fe.Field, "") + ": "
	}
	return ""
}

// dropStep discards the newest undo (redo) step.
func (a *App) dropStep(redo bool, why string) tea.Cmd {
	ctx, ed := a.ctx, a.editor()
	return func() tea.Msg {
		rs, err := ed.Drop(ctx, redo)
		return dropMsg{redo: redo, dropped: rs, err: err, why: why}
	}
}

func (a *App) onDrop(msg dropMsg) tea.Cmd {
	_, _, noun := stepVerb(msg.redo)
	if msg.err != nil {
		a.notice(oneLine(msg.err.Error()), true)
		return nil
	}
	text := fmt.Sprintf("dropped from the %s stack: %s; older steps are reachable again", noun, a.stepText(msg.dropped, true))
	if msg.why != "" {
		text = msg.why + "; " + text
	}
	a.notice(text, false)
	var keys []string
	for _, r := range msg.dropped {
		keys = append(keys, r.Key)
	}
	return a.rebuildAfterWrite(keys) // theirs shows at once
}

// historyEdit marks a cell editor that asks for an undo's (redo's) transition screen.
type historyEdit struct{ redo bool }

// flattenErrors lists the errors errors.Join put together (one error as itself).
func flattenErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}
