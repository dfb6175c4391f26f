package refresh

// Looking at and dropping the newest step of a History: a step Jira keeps refusing (a
// conflict the user decided to keep, a transition back that no longer exists) must not
// block the older steps below it.

// Peek returns a copy of the step the next Undo (redo: Redo) replays; nil when none.
func (h *History) Peek(redo bool) Step {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.undo
	if redo {
		st = h.redo
	}
	if len(st) == 0 {
		return nil
	}
	return append(Step(nil), st[len(st)-1]...)
}

// Drop removes that step without writing anything and returns it; false when there is
// none.
func (h *History) Drop(redo bool) (Step, bool) {
	if redo {
		return popStep(h, &h.redo)
	}
	return popStep(h, &h.undo)
}
