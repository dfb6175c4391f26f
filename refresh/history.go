package refresh

// Session undo and redo, and bulk edits. An undo is an edit like any other: it writes the
// old value back through Set, with the conflict check against the updated our own write
// produced, so a change someone made since is never overwritten silently.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Step is one undoable unit: a single edit, or every issue a bulk edit changed.
type Step []Result

// History is a session's undo and redo stacks. It is safe for concurrent use.
type History struct {
	mu   sync.Mutex
	undo []Step
	redo []Step
}

// push records a new step; a new edit drops what could have been redone.
func (h *History) push(s Step) {
	if len(s) == 0 {
		return
	}
	h.mu.Lock()
	h.undo = append(h.undo, s)
	h.redo = nil
	h.mu.Unlock()
}

// Len reports how many steps can be undone and redone.
func (h *History) Len() (undo, redo int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.undo), len(h.redo)
}

// ErrNothingToUndo and ErrNothingToRedo say the stack is empty.
var (
	ErrNothingToUndo = errors.New("nothing to undo")
	ErrNothingToRedo = errors.New("nothing to redo")
)

func popStep(h *History, stack *[]Step) (Step, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(*stack)
	if n == 0 {
		return nil, false
	}
	s := (*stack)[n-1]
	*stack = (*stack)[:n-1]
	return s, true
}

// Undo writes back the old values of the newest step. The edits that worked move to the
// redo stack; those that failed (a conflict, a refusal) stay undoable, and their errors are
// returned joined.
func (w *Writer) Undo(ctx context.Context, h *History, opts SetOptions) ([]Result, error) {
	s, ok := popStep(h, &h.undo)
	if !ok {
		return nil, ErrNothingToUndo
	}
	done, left, err := w.replay(ctx, s, true, opts)
	h.mu.Lock()
	if len(left) > 0 {
		h.undo = append(h.undo, left)
	}
	if len(done) > 0 {
		h.redo = append(h.redo, done)
	}
	h.mu.Unlock()
	return done, err
}

// Redo writes again the new values of the newest undone step.
func (w *Writer) Redo(ctx context.Context, h *History, opts SetOptions) ([]Result, error) {
	s, ok := popStep(h, &h.redo)
	if !ok {
		return nil, ErrNothingToRedo
	}
	done, left, err := w.replay(ctx, s, false, opts)
	h.mu.Lock()
	if len(left) > 0 {
		h.redo = append(h.redo, left)
	}
	if len(done) > 0 {
		h.undo = append(h.undo, done)
	}
	h.mu.Unlock()
	return done, err
}

// replay writes each result's old (undo) or new (redo) value, based on the updated the
// previous write produced. done holds the step as it now stands, ready for the other
// stack: Old and New keep their meaning of the original edit, Updated the new base.
func (w *Writer) replay(ctx context.Context, s Step, undo bool, opts SetOptions) (done, left Step, err error) {
	opts.History = nil
	var errs []error
	// Undo in reverse order, so several edits of one field unwind to the first old value.
	for i := range s {
		r := s[i]
		if undo {
			r = s[len(s)-1-i]
		}
		value, expect := r.New, r.Old
		if undo {
			value, expect = r.Old, r.New
		}
		if r.Field == FieldRank {
			got, err := w.replayRank(ctx, r, undo)
			if err != nil {
				errs = append(errs, err)
				left = append(left, r)
				continue
			}
			done = append(done, got)
			continue
		}
		if r.move != nil {
			// A move by links: link to the parent it had, unlink from the one it got.
			how := *r.move
			how.OldParent = expect
			if _, err := w.moveLink(ctx, r.Key, value, how); err != nil {
				errs = append(errs, err)
				left = append(left, r)
				continue
			}
			done = append(done, r)
			continue
		}
		opts.Expect = &expect
		if r.Delta != "" {
			// Changes to a list undo as the opposite changes: others' changes to other
			// items since stay, and nothing conflicts (as for the edit itself).
			value, opts.Expect = r.Delta, nil
			if undo {
				value = invertDelta(r.Delta)
			}
		}
		field := r.ID
		if field == "" {
			field = r.Field
		}
		got, err := w.Set(ctx, r.Key, field, value, r.Updated, opts)
		if err != nil {
			errs = append(errs, err)
			left = append(left, r)
			continue
		}
		r.Updated = got.Updated
		done = append(done, r)
	}
	if undo {
		// Keep the original order within the step for the redo stack.
		for i, j := 0, len(done)-1; i < j; i, j = i+1, j-1 {
			done[i], done[j] = done[j], done[i]
		}
		for i, j := 0, len(left)-1; i < j; i, j = i+1, j-1 {
			left[i], left[j] = left[j], left[i]
		}
	}
	return done, left, errors.Join(errs...)
}

// BulkFailure is one issue a bulk edit could not change.
type BulkFailure struct {
	Key string
	Err error
}

// BulkResult is what a bulk edit did, per issue.
type BulkResult struct {
	Results []Result      // the issues changed, in the order of the keys
	Failed  []BulkFailure // the issues not changed, in the order of the keys
}

// Err summarises the failures, nil when there were none.
func (b BulkResult) Err() error {
	if len(b.Failed) == 0 {
		return nil
	}
	errs := make([]error, len(b.Failed))
	for i, f := range b.Failed {
		errs[i] = f.Err
	}
	return fmt.Errorf("%d of %d issues not changed: %w", len(b.Failed), len(b.Failed)+len(b.Results), errors.Join(errs...))
}

// BulkConcurrency is how many issues a bulk edit writes at once: enough to hide round
// trips, few enough to stay inside Jira's burst limits.
const BulkConcurrency = 4

// Bulk sets field to value on every issue in keys, BulkConcurrency at a time. Each issue's
// base is its cached updated (no conflict check for issues not in the cache). Progress
// reports every finished issue; the issues changed go to opts.History as one step.
func (w *Writer) Bulk(ctx context.Context, keys []string, field, value string, opts SetOptions) BulkResult {
	hist := opts.History
	opts.History = nil
	progress := opts.Progress
	if progress == nil {
		progress = w.opt.Progress
	}
	type out struct {
		res Result
		err error
	}
	outs := make([]out, len(keys))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	finished := 0
	for range min(BulkConcurrency, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				key := keys[i]
				var base time.Time
				if is, err := w.db.Issue(ctx, key); err == nil {
					base = is.Updated
				}
				r, err := w.Set(ctx, key, field, value, base, opts)
				outs[i] = out{r, err}
				mu.Lock()
				finished++
				n := finished
				mu.Unlock()
				if progress != nil {
					progress(EditEvent{Kind: "bulk", Key: key, Done: n, Total: len(keys), Err: err})
				}
			}
		}()
	}
	for i := range keys {
		if ctx.Err() != nil {
			// Interrupted: the issues not started are failures, not silently skipped.
			outs[i].err = fmt.Errorf("%s: not changed: %w", keys[i], ctx.Err())
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	var b BulkResult
	for i, o := range outs {
		if o.err != nil {
			b.Failed = append(b.Failed, BulkFailure{Key: keys[i], Err: o.err})
			continue
		}
		b.Results = append(b.Results, o.res)
	}
	if hist != nil {
		var s Step
		for _, r := range b.Results {
			if !r.Unchanged {
				s = append(s, r)
			}
		}
		hist.push(s)
	}
	return b
}
