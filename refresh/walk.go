package refresh

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"foundation/jira"
	"foundation/store"
)

// walk fetches every page of req and commits them, in result order, while later pages are
// being fetched and decoded: three stages (fetch, convert, commit) so that the network, JSON
// decoding and SQLite overlap. When the committer falls behind it takes every converted page
// waiting for it into one transaction. after runs once a transaction is committed, with the
// newest updated (ms) and the highest issue id committed so far. A page fetched before ctx
// is cancelled is still committed, so an interrupt never loses work already on the wire.
func (e *Engine) walk(ctx context.Context, req jira.SearchRequest, wk store.WellKnown, rs *runState, after func(maxUpd, maxID int64) error) error {
	// Room for two bulk commits' worth of converted pages, so fetching goes on while the
	// committer writes one.
	pages := make(chan fetched, 2)
	batches := make(chan *batch, 2*minBulkCommit/100)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pages)
		if e.c.Dialect() == jira.DataCenter {
			return e.fetchParallel(gctx, req, pages)
		}
		return e.fetchSequential(gctx, req, pages)
	})
	g.Go(func() error {
		defer close(batches)
		for f := range pages {
			p := f.page
			if f.lazy != nil {
				var err error
				if p, err = f.lazy.Decode(); err != nil {
					return err
				}
			}
			b, err := convert(p.Issues, wk)
			if err != nil {
				return err
			}
			b.total = p.Total
			// Decided here, off the committer: what the page leaves out of the cached
			// issues only because this identity cannot see it stays in the shared cache.
			if b.sight, err = rs.sight.sight(gctx, store.Page{Issues: b.issues, Links: b.links}); err != nil {
				return err
			}
			select {
			case batches <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() (err error) {
		ck := &checkpointer{db: e.db}
		defer func() { err = errors.Join(err, ck.close(context.WithoutCancel(ctx))) }()
		var maxUpd, maxID int64
		for b := range batches {
			pages := 1
			// Group commit: take what is already waiting, up to a bound. Once a walk is
			// bulk, wait for at least minBulkCommit issues: every transaction rewrites
			// the same index leaves and last table pages, so fewer, larger ones write less.
			least := 0
			if rs.sum.Fetched >= bulkAfter {
				least = minBulkCommit
			}
		more:
			for len(b.issues) < maxCommitIssues {
				var nb *batch
				var ok bool
				if len(b.issues) < least {
					nb, ok = <-batches
				} else {
					select {
					case nb, ok = <-batches:
					default:
						break more
					}
				}
				if !ok {
					break more
				}
				b.merge(nb)
				pages++
			}
			if err := e.commit(context.WithoutCancel(ctx), b, rs); err != nil {
				return err
			}
			maxUpd, maxID = max(maxUpd, b.maxUpd), max(maxID, b.maxID)
			rs.pages += pages
			rs.sum.Fetched += len(b.issues)
			rs.total = b.total
			if err := after(maxUpd, maxID); err != nil {
				return err
			}
			rs.report()
			if err := ck.committed(context.WithoutCancel(ctx), rs.sum.Fetched); err != nil {
				return err
			}
		}
		return ck.finish(context.WithoutCancel(ctx))
	})
	return g.Wait()
}

const (
	// bulkAfter is how many issues a walk commits before it moves checkpointing to the
	// background: polls stay as they are, full syncs stop stalling on the WAL copy.
	bulkAfter = 2000
	// walCatchUp is the WAL length (frames) at which the committer waits for the checkpoint
	// to catch up before its next transaction: a fully copied WAL starts over at the next
	// write instead of growing through the whole sync. 64 MB of 4 KB pages.
	walCatchUp = 16384
	// walBackstop is the writer's own checkpoint threshold meanwhile, for when background
	// checkpoints cannot keep up (a reader in another process pinning an old snapshot).
	walBackstop = 2 * walCatchUp
	// kickEvery is how many issues are committed between two background checkpoints. Each
	// checkpoint copies the pages every transaction rewrites (index leaves, the tables'
	// last leaves, interior pages) once more; run after every commit, those copies were a
	// third of the checkpoint's work.
	kickEvery = 5000
)

// checkpointer copies the WAL into the database file in its own goroutine during a bulk
// walk. SQLite's default is to checkpoint in the committing connection every 1,000 pages,
// which with 5 KB issues put a copy of each page and two fsyncs on the committer's path
// every few hundred issues; here they overlap the next transaction. The walk still ends
// with everything copied, so the cache it leaves is the same.
type checkpointer struct {
	db *store.DB
	// after, catchUp and backstop default to bulkAfter, walCatchUp and walBackstop.
	after, catchUp, backstop int
	saved                    store.WriterTuning // the writer's tuning before the walk
	started                  bool
	kick                     chan struct{} // a commit happened: checkpoint when free
	stopped                  chan struct{} // closed when the background loop has returned
	run                      sync.Mutex    // one checkpoint at a time
	frames                   atomic.Int64  // WAL length the last checkpoint saw
	skip                     atomic.Bool   // the committer just caught up: drop a stale kick
	catchUps                 int           // how many times the committer caught up (tests)
	kicked                   int           // issues committed at the last kick
	mu                       sync.Mutex
	err                      error // first background failure
}

// committed is told after each commit how many issues the walk has committed so far.
func (c *checkpointer) committed(ctx context.Context, issues int) error {
	if !c.started {
		if c.after == 0 {
			c.after, c.catchUp, c.backstop = bulkAfter, walCatchUp, walBackstop
		}
		if issues < c.after {
			return nil
		}
		saved, err := c.db.Tuning(ctx)
		if err != nil {
			return err
		}
		// Only the checkpoint threshold: a larger page cache (128 MB) and a memory map of
		// the file made no measurable difference to a 50,000-issue sync.
		bulk := saved
		bulk.AutoCheckpoint = c.backstop
		if err := c.db.Tune(ctx, bulk); err != nil {
			return err
		}
		c.saved = saved
		c.started = true
		c.kick = make(chan struct{}, 1)
		c.stopped = make(chan struct{})
		go c.loop(ctx, c.kick)
	}
	if c.frames.Load() >= int64(c.catchUp) {
		// Copy what the last background run left and make the next transaction start the
		// WAL over. No background run until then: it would only find nothing to copy.
		frames, copied, err := c.once(ctx, true)
		if err != nil {
			return err
		}
		c.catchUps++
		if copied < frames {
			c.frames.Store(int64(frames))
		} else {
			c.frames.Store(0)
			// A kick still pending, or taken by the loop while it waited for this run,
			// is dropped: the WAL holds nothing to copy until the next commit.
			c.skip.Store(true)
			select {
			case <-c.kick:
			default:
			}
			return c.failed()
		}
	}
	if issues-c.kicked < kickEvery {
		return c.failed()
	}
	c.kicked = issues
	c.skip.Store(false)
	select {
	case c.kick <- struct{}{}:
	default: // one is pending already
	}
	return c.failed()
}

// failed returns the first background failure.
func (c *checkpointer) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *checkpointer) loop(ctx context.Context, kick <-chan struct{}) {
	defer close(c.stopped)
	for range kick {
		frames, skipped, err := c.background(ctx)
		if skipped {
			continue
		}
		if err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = err
			}
			c.mu.Unlock()
			continue
		}
		c.frames.Store(int64(frames))
	}
}

// background runs the loop's checkpoint unless the committer caught up since the kick
// (checked under the lock a catch-up holds).
func (c *checkpointer) background(ctx context.Context) (frames int, skipped bool, err error) {
	c.run.Lock()
	defer c.run.Unlock()
	if c.skip.Swap(false) {
		return 0, true, nil
	}
	frames, _, err = c.db.Checkpoint(ctx, false)
	return frames, false, err
}

// once runs one checkpoint, waiting for one in progress to end first.
func (c *checkpointer) once(ctx context.Context, restart bool) (frames, copied int, err error) {
	c.run.Lock()
	defer c.run.Unlock()
	return c.db.Checkpoint(ctx, restart)
}

// finish copies the rest of the WAL once the last commit is in, and restores the writer's
// own checkpointing.
func (c *checkpointer) finish(ctx context.Context) error {
	if !c.started {
		return nil
	}
	c.stop()
	_, _, err := c.once(ctx, false)
	if rerr := c.restore(ctx); err == nil {
		err = rerr
	}
	return err
}

// close stops the background loop if finish did not, and restores the writer's own
// checkpointing; what is left in the WAL is copied by the next checkpoint.
func (c *checkpointer) close(ctx context.Context) error {
	if !c.started {
		return nil
	}
	c.stop()
	return c.restore(ctx)
}

func (c *checkpointer) stop() {
	if c.kick != nil {
		close(c.kick)
		c.kick = nil
		<-c.stopped
	}
}

func (c *checkpointer) restore(ctx context.Context) error {
	if !c.started {
		return nil
	}
	c.started = false
	return c.db.Tune(ctx, c.saved)
}

// maxCommitIssues bounds how many issues one group commit takes; minBulkCommit is how many
// a bulk walk's commit waits for (fewer only at the end).
const (
	maxCommitIssues = 2000
	minBulkCommit   = 1000
)

// commit writes one converted page in one transaction: issues under the version guard,
// the links of the issues written, and the users they mention.
func (e *Engine) commit(ctx context.Context, b *batch, rs *runState) error {
	us := make([]store.User, 0, len(b.users))
	for _, u := range b.users {
		us = append(us, u)
	}
	st, err := e.db.ApplyPage(ctx, store.Page{Issues: b.issues, Raw: b.raw, Links: b.links, Users: us, Sight: b.sight, ReadAt: rs.readAt}, true)
	if err != nil {
		return err
	}
	rs.sum.Inserted += st.Inserted
	rs.sum.Updated += st.Updated
	return nil
}

// fetched is a page on its way from the fetcher to the converter: decoded already, or a
// Cloud page the converter decodes, so that the next request is not held up by decoding.
type fetched struct {
	page jira.Page
	lazy *jira.LazyPage
}

// fetchSequential follows Cloud's nextPageToken chain.
func (e *Engine) fetchSequential(ctx context.Context, req jira.SearchRequest, out chan<- fetched) error {
	cursor := ""
	for {
		p, next, err := e.c.SearchPageLazy(ctx, req, cursor)
		if err != nil {
			return err
		}
		select {
		case out <- fetched{lazy: &p}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if next == "" {
			return nil
		}
		cursor = next
		req.ReconcileIssues = nil
	}
}

// fetchParallel fetches Data Center pages by startAt, several at once, and hands them on in
// order. The first page tells the total and the page size the server really uses.
func (e *Engine) fetchParallel(ctx context.Context, req jira.SearchRequest, out chan<- fetched) error {
	first, next, err := e.c.SearchPage(ctx, req, "")
	if err != nil {
		return err
	}
	select {
	case out <- fetched{page: first}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if next == "" || first.IsLast || len(first.Issues) == 0 {
		return nil
	}
	step := len(first.Issues)
	var starts []int
	for s := first.StartAt + step; s < first.Total; s += step {
		starts = append(starts, s)
	}
	// Fetch up to Parallel pages ahead; deliver in order through one slot per page.
	slots := make([]chan jira.Page, len(starts))
	for i := range slots {
		slots[i] = make(chan jira.Page, 1)
	}
	g, gctx := errgroup.WithContext(ctx)
	sem := make(chan struct{}, e.opt.Parallel)
	g.Go(func() error {
		for i, s := range starts {
			select {
			case sem <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			g.Go(func() error {
				p, _, err := e.c.SearchPage(gctx, req, strconv.Itoa(s))
				if err != nil {
					return err
				}
				slots[i] <- p
				return nil
			})
		}
		return nil
	})
	g.Go(func() error {
		for i := range slots {
			var p jira.Page
			select {
			case p = <-slots[i]:
			case <-gctx.Done():
				return gctx.Err()
			}
			<-sem
			select {
			case out <- fetched{page: p}:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}
