// Package refresh keeps a site's cache in step with Jira: full sync, incremental polling,
// reconcile of deletions, and the conversion of Jira's issue JSON into cached rows.
package refresh

import (
	"context"
	"fmt"
	"sync"
	"time"

	"foundation/jira"
	"foundation/store"
)

// Mode names what a run did.
type Mode string

const (
	ModeFull      Mode = "full"
	ModePoll      Mode = "poll"
	ModeReconcile Mode = "reconcile"
)

// Progress is one report during a run, for a progress bar or log lines.
type Progress struct {
	Mode   Mode
	Pages  int
	Issues int // issues fetched so far (ids scanned, for a reconcile)
	Total  int // expected issues when Jira says (Data Center); -1 when unknown
	// Requests, Retries and Waits count this run's, as its Summary does.
	Requests int64
	Retries  int64
	Waits    int64
}

// Summary is what a run did; `foundation refresh --json` prints it.
type Summary struct {
	Site    string `json:"site"`
	Mode    Mode   `json:"mode"`
	Fetched int    `json:"fetched"` // issues fetched and committed
	// Scanned is how many ids a reconcile's ids-only scan read: the same issues again, so
	// not part of Fetched.
	Scanned   int           `json:"scanned"`
	Inserted  int           `json:"inserted"`
	Updated   int           `json:"updated"`
	Deleted   int           `json:"deleted"`
	Requests  int64         `json:"requests"`
	Retries   int64         `json:"retries"`
	Waits     int64         `json:"rate_limit_waits"`
	Duration  time.Duration `json:"duration_ns"`
	Watermark time.Time     `json:"watermark"`
	// Partial is set when the run stopped early (timeout, interrupt) after committing some
	// pages: what was committed is consistent, and the next run resumes from it.
	Partial bool `json:"partial"`
}

// Options configure an Engine.
type Options struct {
	Site  string // profile name, for summaries
	Scope string // bounded JQL: the set of issues mirrored
	// PageSize asked of search; Jira may send fewer (default 100).
	PageSize int
	// Parallel is how many Data Center pages are fetched at once (default 4).
	Parallel int
	// Overlap is how far before the watermark a poll starts, to cover JQL's minute precision
	// and clock skew between us and Jira (default 2m).
	Overlap time.Duration
	// Progress, when set, is told about every committed page.
	Progress func(Progress)
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Engine refreshes one cache from one Jira client.
type Engine struct {
	c     *jira.Client
	db    *store.DB
	opt   Options
	mu    sync.Mutex
	wrote []int64 // ids written by us since the last poll: passed as reconcileIssues (Cloud)
}

// New returns an Engine for the cache db filled through c.
func New(c *jira.Client, db *store.DB, opt Options) (*Engine, error) {
	if opt.Scope == "" {
		return nil, fmt.Errorf("refresh: the site has no scope: set sites.<name>.scope to a bounded JQL such as `project in (ALPHA, BETA)`")
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 100
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 4
	}
	if opt.Overlap <= 0 {
		opt.Overlap = 2 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Engine{c: c, db: db, opt: opt}, nil
}

// NoteWritten records ids just written through the client, so the next poll asks Jira to
// reflect them despite search being eventually consistent.
func (e *Engine) NoteWritten(ids ...int64) {
	e.mu.Lock()
	e.wrote = append(e.wrote, ids...)
	e.mu.Unlock()
}

func (e *Engine) takeWritten() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := e.wrote
	if len(ids) > 50 { // Jira takes at most 50; the rest wait for the next poll
		e.wrote = append([]int64(nil), ids[50:]...)
		return ids[:50]
	}
	e.wrote = nil
	return ids
}

// Auto runs what the cache needs: a full sync when the scope was never fully synced (or one
// was interrupted), a poll otherwise.
func (e *Engine) Auto(ctx context.Context) (Summary, error) {
	st, err := e.db.SyncState(ctx, e.opt.Scope)
	if err != nil {
		return Summary{}, err
	}
	if st.LastFull.IsZero() || st.Cursor != "" {
		return e.Full(ctx)
	}
	return e.Poll(ctx)
}

// run wraps a mode with timing and the client's counters.
func (e *Engine) run(ctx context.Context, mode Mode, fn func(*runState) error) (Summary, error) {
	start := time.Now()
	before := e.c.Stats()
	rs := &runState{e: e, sum: Summary{Site: e.opt.Site, Mode: mode}, before: before, total: -1, sight: newSighter(e.c, e.db)}
	err := fn(rs)
	after := e.c.Stats()
	rs.sum.Requests = after.Requests - before.Requests
	rs.sum.Retries = after.Retries - before.Retries
	rs.sum.Waits = after.RateLimitWaits - before.RateLimitWaits
	rs.sum.Duration = time.Since(start)
	if st, serr := e.db.SyncState(context.WithoutCancel(ctx), e.opt.Scope); serr == nil {
		rs.sum.Watermark = st.Watermark
	}
	if err != nil && rs.sum.Fetched > 0 {
		rs.sum.Partial = true
	}
	return rs.sum, err
}

// runState accumulates one run's counts and reports progress.
type runState struct {
	e      *Engine
	sum    Summary
	pages  int
	total  int        // as Progress.Total
	before jira.Stats // the client's counters when the run began
	sight  *sighter   // what this run's identity may browse, for the pages it writes
	// readAt, for a full sync, is when its reads began (the store's clock, not opt.Now):
	// what the cache wrote before then gives way to what the sync reads (store.Page.ReadAt).
	readAt time.Time
}

func (rs *runState) report() {
	if rs.e.opt.Progress == nil {
		return
	}
	st := rs.e.c.Stats()
	rs.e.opt.Progress(Progress{
		Mode: rs.sum.Mode, Pages: rs.pages, Issues: rs.sum.Fetched + rs.sum.Scanned, Total: rs.total,
		Requests: st.Requests - rs.before.Requests, Retries: st.Retries - rs.before.Retries,
		Waits: st.RateLimitWaits - rs.before.RateLimitWaits,
	})
}
