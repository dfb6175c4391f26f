package refresh

import (
	"context"
	"strconv"

	"golang.org/x/sync/errgroup"

	"foundation/jira"
	"foundation/store"
)

// walk fetches every page of req and commits them, in result order, while later pages are
// being fetched and decoded: three stages (fetch, convert, commit) so that the network, JSON
// decoding and SQLite overlap. When the committer falls behind it takes every converted page
// waiting for it into one transaction. after runs once a transaction is committed, with the
// newest updated (ms) committed so far. A page fetched before ctx is cancelled is still
// committed, so an interrupt never loses work already on the wire.
func (e *Engine) walk(ctx context.Context, req jira.SearchRequest, wk store.WellKnown, rs *runState, after func(maxUpd int64) error) error {
	pages := make(chan jira.Page, 2)
	batches := make(chan *batch, 8)
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
		for p := range pages {
			b, err := convert(p.Issues, wk)
			if err != nil {
				return err
			}
			b.total = p.Total
			select {
			case batches <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		var maxUpd int64
		for b := range batches {
			pages := 1
			// Group commit: take what is already waiting, up to a bound.
		more:
			for len(b.issues) < maxCommitIssues {
				select {
				case nb, ok := <-batches:
					if !ok {
						break more
					}
					b.merge(nb)
					pages++
				default:
					break more
				}
			}
			if err := e.commit(context.WithoutCancel(ctx), b, rs); err != nil {
				return err
			}
			maxUpd = max(maxUpd, b.maxUpd)
			rs.pages += pages
			rs.sum.Fetched += len(b.issues)
			rs.total = b.total
			if err := after(maxUpd); err != nil {
				return err
			}
			rs.report()
		}
		return nil
	})
	return g.Wait()
}

// maxCommitIssues bounds how many issues one group commit takes.
const maxCommitIssues = 2000

// commit writes one converted page in one transaction: issues under the version guard,
// the links of the issues written, and the users they mention.
func (e *Engine) commit(ctx context.Context, b *batch, rs *runState) error {
	us := make([]store.User, 0, len(b.users))
	for _, u := range b.users {
		us = append(us, u)
	}
	st, err := e.db.ApplyPage(ctx, store.Page{Issues: b.issues, Raw: b.raw, Links: b.links, Users: us}, true)
	if err != nil {
		return err
	}
	rs.sum.Inserted += st.Inserted
	rs.sum.Updated += st.Updated
	return nil
}

// fetchSequential follows Cloud's nextPageToken chain.
func (e *Engine) fetchSequential(ctx context.Context, req jira.SearchRequest, out chan<- jira.Page) error {
	cursor := ""
	for {
		p, next, err := e.c.SearchPage(ctx, req, cursor)
		if err != nil {
			return err
		}
		select {
		case out <- p:
		case <-ctx.Done():
			return ctx.Err()
		}
		if next == "" || p.IsLast {
			return nil
		}
		cursor = next
		req.ReconcileIssues = nil
	}
}

// fetchParallel fetches Data Center pages by startAt, several at once, and hands them on in
// order. The first page tells the total and the page size the server really uses.
func (e *Engine) fetchParallel(ctx context.Context, req jira.SearchRequest, out chan<- jira.Page) error {
	first, next, err := e.c.SearchPage(ctx, req, "")
	if err != nil {
		return err
	}
	select {
	case out <- first:
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
			case out <- p:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}
