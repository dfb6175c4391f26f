package refresh

// The applier: replays the webhook journal into the cache in event-time order. Every step
// is idempotent (the version guard, tombstones, link ids, purges), so an entry applied but
// not yet marked when the process died is applied again harmlessly on restart.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"foundation/jira"
	"foundation/jql"
	"foundation/lens"
	"foundation/store"
)

// DefaultApplyBatch is how many journal entries one round of ApplyPending reads. Small
// rounds keep each cache write short, so the listener's journal commits (which share the
// one writer) are not held up behind them: acknowledgement latency stays low.
const DefaultApplyBatch = 64

// ApplyOptions configure an Applier.
type ApplyOptions struct {
	// Scope is the applying profile's bounded JQL. When set, issue events are weighed
	// against every scope the cache mirrors (this one and those with sync state: the
	// profiles sharing the cache): an issue no scope covers is not brought in, and a cached
	// issue an event takes out of all of them is removed, as reconcile would. An issue
	// outside this scope alone is updated like any other: another profile's scope covers
	// it, and only that profile's scans speak for it. Empty: every issue event is applied.
	Scope string
	// Batch is how many entries one round reads (default DefaultApplyBatch).
	Batch int
}

// ApplyStats is what applying the journal did.
type ApplyStats struct {
	Applied     int `json:"applied"`     // entries applied and marked
	Quarantined int `json:"quarantined"` // entries set aside with a reason
	// Deferred entries need Jira (a re-fetch) and had no client to ask: they stay pending.
	Deferred     int               `json:"deferred"`
	Fetched      int               `json:"fetched"` // issues re-read from Jira
	Issues       store.UpsertStats `json:"issues"`
	Deleted      int               `json:"deleted"` // cached issues removed
	LinksAdded   int               `json:"links_added"`
	LinksRemoved int               `json:"links_removed"`
	UsersPurged  int               `json:"users_purged"`
}

// Add accumulates o into s, for callers totalling many runs.
func (s *ApplyStats) Add(o ApplyStats) {
	s.Applied += o.Applied
	s.Quarantined += o.Quarantined
	s.Deferred += o.Deferred
	s.Fetched += o.Fetched
	s.Issues = s.Issues.Add(o.Issues)
	s.Deleted += o.Deleted
	s.LinksAdded += o.LinksAdded
	s.LinksRemoved += o.LinksRemoved
	s.UsersPurged += o.UsersPurged
}

// Applier applies journaled webhook deliveries to a cache. Calls to ApplyPending are
// serialized; several processes may apply one journal at once (each step is idempotent).
type Applier struct {
	c   *jira.Client // nil: no re-fetches; entries needing one are deferred
	db  *store.DB
	opt ApplyOptions
	mu  sync.Mutex
}

// NewApplier returns an Applier for db. c may be nil (offline replay): entries that need
// Jira stay pending until an applier with a client runs. A scope that does not compile
// locally (functions evaluated only by Jira) cannot be filtered on; polling and reconcile
// keep the cache to it.
func NewApplier(c *jira.Client, db *store.DB, opt ApplyOptions) *Applier {
	if opt.Batch <= 0 {
		opt.Batch = DefaultApplyBatch
	}
	return &Applier{c: c, db: db, opt: opt}
}

// ReplayJournal applies every pending journal entry of db, re-fetching through c (which may
// be nil) where a payload is not enough. The TUI and `refresh` call it when they start.
func ReplayJournal(ctx context.Context, db *store.DB, c *jira.Client) (ApplyStats, error) {
	return NewApplier(c, db, ApplyOptions{}).ApplyPending(ctx)
}

// ReplayJournal applies the pending journal with the engine's client and scope.
func (e *Engine) ReplayJournal(ctx context.Context) (ApplyStats, error) {
	return NewApplier(e.c, e.db, ApplyOptions{Scope: e.opt.Scope}).ApplyPending(ctx)
}

// ApplyPending applies pending entries until none is left (or only deferred ones are).
// An entry that cannot be applied is quarantined and does not stop the others; an error
// (the cache cannot be written, Jira cannot be reached) stops the run with the entries not
// yet applied still pending, to be applied by the next run.
func (a *Applier) ApplyPending(ctx context.Context) (ApplyStats, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var total ApplyStats
	r, err := a.newRound(ctx)
	if err != nil {
		return total, err
	}
	deferred := map[int64]bool{}
	for {
		entries, err := a.db.PendingJournal(ctx, a.opt.Batch)
		if err != nil {
			return total, err
		}
		if len(entries) == 0 {
			break
		}
		st, settled, err := r.apply(ctx, entries, deferred)
		total.Add(st)
		if err != nil {
			return total, err
		}
		// Deferred entries come back first in every read: stop once a read settles nothing.
		if settled == 0 || len(entries) < a.opt.Batch {
			break
		}
	}
	total.Deferred = len(deferred)
	return total, nil
}

// round is one ApplyPending run's knowledge of the cache.
type round struct {
	a    *Applier
	wk   store.WellKnown
	keep []string         // the fields the cache keeps for every issue
	keys map[int64]string // id -> key of cached issues, read when a link event needs it
	// filter: the applier has a scope, so issue events are weighed against scopes.
	filter bool
	// scopes are the cache's scopes (this profile's and those with sync state) compiled
	// for this run; an issue belongs when any matches.
	scopes []jql.Matcher
	// scopeUnknown: one of the scopes is one local evaluation cannot answer (membersOf(),
	// WAS...). Issues no compiled scope covers are then neither brought in nor removed:
	// whether they belong is that profile's next poll's to say, as it asks Jira.
	scopeUnknown bool
	scopeNames   []string // for the tombstone's reason
}

func (a *Applier) newRound(ctx context.Context) (*round, error) {
	wk, err := a.db.WellKnown(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := a.db.Fields(ctx)
	if err != nil {
		return nil, err
	}
	keep := append([]string(nil), systemFields...)
	for _, f := range cat {
		if f.Custom {
			keep = append(keep, f.ID)
		}
	}
	r := &round{a: a, wk: wk, keep: keep}
	if a.opt.Scope != "" {
		// Every profile sharing the cache applies the one journal, and whichever applies an
		// entry decides for all: so the decision weighs every scope the cache mirrors.
		stored, err := a.db.SyncScopes(ctx)
		if err != nil {
			return nil, err
		}
		r.filter = true
		r.scopeNames = append([]string{a.opt.Scope}, stored...)
		slices.Sort(r.scopeNames)
		r.scopeNames = slices.Compact(r.scopeNames)
		for _, sc := range r.scopeNames {
			// Compiled per run: relative dates in a scope ("updated >= -30d") move with
			// the clock of a long-running listener.
			q, err := jql.Parse(sc)
			if err != nil {
				r.scopeUnknown = true
				continue
			}
			m, err := q.Compile(jql.Env{})
			if err != nil {
				r.scopeUnknown = true
				continue
			}
			r.scopes = append(r.scopes, m)
		}
	}
	return r, nil
}

// issueOp is one issue event waiting in a run: its payload, or a re-fetch of the issue.
type issueOp struct {
	seq   int64
	id    int64
	fetch bool
	*decoded
}

// decoded is one journal entry parsed, and for an issue payload its cache row extracted:
// the CPU-bound part of applying, done for a whole read in parallel.
type decoded struct {
	ev       *jira.WebhookEvent
	parseErr error
	is       lens.Issue      // issue payloads: the row
	raw      json.RawMessage // and its fields as the cache stores them, encoded here, off the writer
	links    []lens.Link     // and its issuelinks, when the payload has the field
	hasLinks bool
	rowErr   error // the payload's fields do not have Jira's shapes
}

// decodeAll parses entries (and extracts issue payloads) on up to GOMAXPROCS goroutines.
func (r *round) decodeAll(entries []store.JournalEntry) []decoded {
	out := make([]decoded, len(entries))
	one := func(i int) {
		d := &out[i]
		d.ev, d.parseErr = jira.ParseWebhook(entries[i].Body)
		if d.parseErr != nil || d.ev.Category() != "issue" || d.ev.Event == "jira:issue_deleted" {
			return
		}
		wi := d.ev.Issue
		// The row's fields are the stored encoding, so the hash sees what the cache keeps.
		// ParseWebhook has validated the payload.
		var fields map[string]json.RawMessage
		d.raw, fields = store.EncodeFields(wi.Fields)
		if d.is, d.rowErr = store.Extract(wi.ID, wi.Key, fields, r.wk); d.rowErr != nil {
			return
		}
		var raw json.RawMessage
		if raw, d.hasLinks = fields["issuelinks"]; d.hasLinks {
			d.links, d.rowErr = issueLinks(wi.Key, raw)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), 4, len(entries)/8)
	if workers < 2 {
		for i := range entries {
			one(i)
		}
		return out
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(entries); i = int(next.Add(1)) - 1 {
				one(i)
			}
		})
	}
	wg.Wait()
	return out
}

// apply applies one read of entries in order. Consecutive issue events form a run applied
// together (one fetch, one upsert); anything else flushes the run first, so effects keep
// event-time order. It returns how many entries were applied or quarantined.
func (r *round) apply(ctx context.Context, entries []store.JournalEntry, deferred map[int64]bool) (ApplyStats, int, error) {
	var st ApplyStats
	var done []int64 // applied, to be marked
	var run []issueOp
	settled := 0
	quarantine := func(seq int64, reason string) error {
		if err := r.a.db.Quarantine(ctx, seq, reason); err != nil {
			return err
		}
		st.Quarantined++
		settled++
		return nil
	}
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		ok, bad, later, err := r.applyIssues(ctx, run, &st)
		run = run[:0]
		if err != nil {
			return err
		}
		done = append(done, ok...)
		for seq, reason := range bad {
			if err := quarantine(seq, reason); err != nil {
				return err
			}
		}
		for _, seq := range later {
			deferred[seq] = true
		}
		return nil
	}
	step := func(e store.JournalEntry, d *decoded) error {
		ev, err := d.ev, d.parseErr
		if err != nil {
			return quarantine(e.Seq, err.Error())
		}
		switch ev.Category() {
		case "issue":
			if ev.Event == "jira:issue_deleted" {
				if err := flush(); err != nil {
					return err
				}
				n, err := r.a.db.DeleteIssues(ctx, []int64{ev.Issue.ID}, "deleted")
				if err != nil {
					return err
				}
				r.forget(ev.Issue.ID)
				st.Deleted += n
				done = append(done, e.Seq)
				return nil
			}
			run = append(run, issueOp{seq: e.Seq, id: ev.Issue.ID, decoded: d})
			return nil
		case "comment", "worklog":
			// The event changes the issue (its updated, comment and time fields) without
			// carrying the new state: re-read it, if the cache has it.
			id := int64(0)
			if ev.Issue != nil {
				id = ev.Issue.ID
			} else if ev.Worklog != nil {
				id, _ = strconv.ParseInt(ev.Worklog.IssueID, 10, 64)
			}
			if id == 0 {
				return quarantine(e.Seq, ev.Event+": no issue id to re-read")
			}
			if err := r.loadKeys(ctx); err != nil {
				return err
			}
			if _, ok := r.keys[id]; ok {
				run = append(run, issueOp{seq: e.Seq, id: id, fetch: true})
			} else {
				done = append(done, e.Seq)
			}
			return nil
		}
		if err := flush(); err != nil {
			return err
		}
		switch ev.Category() {
		case "issuelink":
			ok, reason, err := r.applyLink(ctx, ev, &st)
			switch {
			case err != nil:
				return err
			case reason != "":
				return quarantine(e.Seq, reason)
			case !ok:
				deferred[e.Seq] = true
				return nil
			}
			// Linking and unlinking bump both issues in Jira (updated, issuelinks): re-read
			// the cached ends, so their stored issuelinks agree with the links table. The
			// entry is marked with that run.
			var ends []issueOp
			for _, id := range []int64{ev.IssueLink.SourceIssueID, ev.IssueLink.DestinationIssueID} {
				if _, ok := r.keys[id]; ok && r.a.c != nil {
					ends = append(ends, issueOp{seq: e.Seq, id: id, fetch: true})
				}
			}
			if len(ends) > 0 {
				run = append(run, ends...)
				return nil
			}
		case "user":
			if ev.Event == "user_deleted" {
				id := ev.User.ID()
				if id == "" {
					return quarantine(e.Seq, "user_deleted: user has neither accountId nor name")
				}
				if _, err := r.a.db.PurgeUser(ctx, id); err != nil {
					return err
				}
				st.UsersPurged++
			}
		case "project":
			if err := r.applyProject(ctx, ev, &st); err != nil {
				return err
			}
		case "version", "sprint", "issue_property":
			// Known events that change nothing the cache keeps.
		default:
			return quarantine(e.Seq, "unknown event "+strconv.Quote(ev.Event))
		}
		done = append(done, e.Seq)
		return nil
	}

	var err error
	dec := r.decodeAll(entries)
	for i, e := range entries {
		if err = step(e, &dec[i]); err != nil {
			break
		}
	}
	if err == nil {
		err = flush()
	}
	// Mark what was applied even when a later step failed: it is in the cache. A link
	// event re-reads two issues, so its entry can be listed twice.
	slices.Sort(done)
	done = slices.Compact(done)
	if merr := r.a.db.MarkApplied(context.WithoutCancel(ctx), done...); merr != nil {
		err = errors.Join(err, merr)
	} else {
		st.Applied += len(done)
		settled += len(done)
	}
	if err != nil {
		return st, settled, fmt.Errorf("apply webhook journal: %w", err)
	}
	return st, settled, nil
}

// inScope reports whether an issue belongs in the cache: some scope of the cache covers it.
func (r *round) inScope(is *lens.Issue) bool {
	if !r.filter {
		return true
	}
	for _, m := range r.scopes {
		if m(is) {
			return true
		}
	}
	return false
}

// applyIssues applies a run of issue events. Payloads are written under the version
// guard, the newest of each issue only; an issue is re-read from Jira instead (in batches,
// written as authoritative) when its event carries no state (comments, worklogs, links),
// its payload lacks fields the cached version has, which writing the payload would lose,
// or it lacks its version or project, without which it can be weighed neither against the
// cached version nor against the scopes.
// It returns the entries applied, those to quarantine with their reason, and those
// deferred for want of a client.
func (r *round) applyIssues(ctx context.Context, run []issueOp, st *ApplyStats) (ok []int64, bad map[int64]string, later []int64, err error) {
	bad = map[int64]string{}
	fetch := map[int64]bool{}
	for _, op := range run {
		if op.fetch {
			fetch[op.id] = true
		}
	}
	// Convert each payload alone, so one bad payload quarantines one entry.
	newest := map[int64]*issueOp{}
	links := map[int64][]lens.Link{}
	for _, op := range run {
		if op.fetch {
			continue
		}
		if op.rowErr != nil {
			bad[op.seq] = op.rowErr.Error()
			continue
		}
		is := &op.is
		if cur, seen := newest[is.ID]; seen && !is.Updated.After(cur.is.Updated) {
			continue
		}
		newest[is.ID] = &op
		if op.hasLinks {
			links[is.ID] = op.links
		} else {
			delete(links, is.ID)
		}
	}
	var prev map[int64]store.CachedFields
	if len(newest) > 0 {
		keys := make([]string, 0, len(newest))
		for _, op := range newest {
			keys = append(keys, op.is.Key)
		}
		if prev, err = r.cachedFields(ctx, keys); err != nil {
			return nil, nil, nil, err
		}
		for id, op := range newest {
			if !weighable(op.is.Fields) {
				fetch[id] = true
			} else if p, had := prev[id]; had && p.Updated.Before(op.is.Updated) && lacks(op.is.Fields, p.NonNull) {
				fetch[id] = true
			}
		}
	}
	for _, op := range run {
		if _, isBad := bad[op.seq]; isBad {
			continue
		}
		if fetch[op.id] && r.a.c == nil {
			later = append(later, op.seq)
		} else {
			ok = append(ok, op.seq)
		}
	}

	if len(fetch) > 0 && r.a.c != nil {
		ids := make([]string, 0, len(fetch))
		for id := range fetch {
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		got, err := r.a.c.BulkFetch(ctx, ids, r.keep)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("re-read %d issues: %w", len(ids), err)
		}
		st.Fetched += len(got)
		// Issues Jira no longer shows were deleted (their deletion event follows) or hidden
		// from us; reconcile settles which. Nothing to write for them here.
		b, err := convert(got, r.wk)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("re-read issues: %w", err)
		}
		if err := r.writeIssues(ctx, b.issues, b.raw, b.links, nil, true, true, st); err != nil {
			return nil, nil, nil, err
		}
	}

	issues := make([]lens.Issue, 0, len(newest))
	raws := make([]json.RawMessage, 0, len(newest))
	byKey := map[string][]lens.Link{}
	for id, op := range newest {
		if fetch[id] {
			continue // re-read above, or deferred
		}
		issues = append(issues, op.is)
		raws = append(raws, op.raw)
		if l, ok := links[id]; ok {
			byKey[op.is.Key] = l
		}
	}
	if err := r.writeIssues(ctx, issues, raws, byKey, prev, false, false, st); err != nil {
		return nil, nil, nil, err
	}
	return ok, bad, later, nil
}

// weighable reports whether a payload carries what deciding its fate needs: its version,
// to weigh it against the cached one, and its project, which every Jira issue has and
// scopes bound. Without them it could neither be found stale nor out of scope: the issue is
// re-read instead.
func weighable(payload map[string]json.RawMessage) bool {
	for _, f := range []string{"updated", "project"} {
		if v, ok := payload[f]; !ok || string(v) == "null" {
			return false
		}
	}
	return true
}

// lacks reports whether the cached issue has a non-null field that payload does not carry.
func lacks(payload map[string]json.RawMessage, cachedNonNull map[string]bool) bool {
	for k := range cachedNonNull {
		if _, ok := payload[k]; !ok {
			return true
		}
	}
	return false
}

// cachedFields reads what writing a newer version of cached issues must compare against:
// their version, which fields they hold, and the fields whose change means a write
// besides the issue row (users, links). Decoding every raw field would cost several times
// more per delivery.
func (r *round) cachedFields(ctx context.Context, keys []string) (map[int64]store.CachedFields, error) {
	return r.a.db.CachedFieldsByKey(ctx, keys, []string{"assignee", "reporter", "creator", "issuelinks"})
}

// cachedByID reads cached issues by key (without raw fields), indexed by id.
func (r *round) cachedByID(ctx context.Context, keys []string) (map[int64]lens.Issue, error) {
	list, err := r.a.db.Issues(ctx, store.ReadOptions{Keys: keys})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]lens.Issue, len(list))
	for _, is := range list {
		out[is.ID] = is
	}
	return out, nil
}

// writeIssues writes issues under the version guard with the links that changed, then the
// users of the ones that took effect. raw[i], when raw is not nil, is issues[i]'s fields
// encoded as stored. An issue no scope of the cache covers is not brought in; a cached one
// is removed when the version showing it out is one the guard would let replace it (a late
// delivery from before the cached version removes nothing), unless some scope cannot be
// evaluated here (then it is updated, and that profile's poll and reconcile settle it). An
// issue outside the applying profile's scope but inside another's is written like any
// other: no profile removes what another's scan speaks for.
// fetched says the issues were read through the applier's client, as its profile sees them
// (a webhook's payload is the whole issue): what they leave out that the profile cannot
// browse stays in the shared cache (see sighter).
func (r *round) writeIssues(ctx context.Context, issues []lens.Issue, raw []json.RawMessage, links map[string][]lens.Link, prev map[int64]store.CachedFields, authoritative, fetched bool, st *ApplyStats) error {
	var in []lens.Issue
	var inRaw []json.RawMessage
	var out []int
	for i := range issues {
		if r.inScope(&issues[i]) {
			in = append(in, issues[i])
			if raw != nil {
				inRaw = append(inRaw, raw[i])
			}
		} else {
			out = append(out, i)
		}
	}
	if len(out) > 0 {
		// Only cached issues are kept up to date or removed: a tombstone for an issue never
		// cached would keep it out when it moves in. Looked up by id: a move changes the key.
		ids := make([]int64, len(out))
		for j, i := range out {
			ids[j] = issues[i].ID
		}
		cached, err := r.a.db.CachedIDs(ctx, ids)
		if err != nil {
			return err
		}
		gone := map[int64]time.Time{} // by id, the version that has it out of scope
		for _, i := range out {
			id := issues[i].ID
			if !cached[id] {
				continue
			}
			if r.scopeUnknown {
				in = append(in, issues[i])
				if raw != nil {
					inRaw = append(inRaw, raw[i])
				}
				continue
			}
			gone[id] = issues[i].Updated
		}
		if len(gone) > 0 {
			// Under the version guard, as a write would be: a late delivery from before
			// the cached version cannot remove it.
			removed, err := r.a.db.DeleteIssuesAsOf(ctx, gone, authoritative, "left every scope: "+strings.Join(r.scopeNames, " | "))
			if err != nil {
				return err
			}
			r.forget(removed...)
			st.Deleted += len(removed)
		}
	}
	if len(in) == 0 {
		return nil
	}
	keys := make([]string, len(in))
	for i := range in {
		keys[i] = in[i].Key
	}
	if prev == nil {
		var err error
		if prev, err = r.cachedFields(ctx, keys); err != nil {
			return err
		}
	}
	// Links go in the same transaction, only where they differ from the cached issue's:
	// ApplyPage writes them for the issues the guard let in, which are the ones that took
	// effect. The fields come encoded (inRaw), so the writer is held for the SQL alone.
	page := store.Page{Issues: in, Raw: inRaw, Links: map[string][]lens.Link{}}
	for i := range in {
		is := &in[i]
		l, ok := links[is.Key]
		if !ok {
			continue
		}
		if p, had := prev[is.ID]; had && sameJSON(p.Raw["issuelinks"], is.Fields["issuelinks"]) {
			continue
		}
		page.Links[is.Key] = l
	}
	if fetched {
		page.Sight = newSighter(r.a.c, r.a.db).sightOrKeep(ctx, page)
	}
	us, err := r.a.db.ApplyPage(ctx, page, authoritative)
	if err != nil {
		return err
	}
	st.Issues = st.Issues.Add(us)
	if us.Inserted+us.Updated == 0 {
		return nil
	}
	// Which issues took effect: the guard lets one in when it is newer than the cached
	// version (or equal, from an authoritative read). Only issues the cache did not hold
	// need reading back, as a tombstone may have kept them out.
	var fresh []string
	for i := range in {
		if _, had := prev[in[i].ID]; !had {
			fresh = append(fresh, in[i].Key)
		}
	}
	var landed map[int64]lens.Issue
	if us.Inserted < len(fresh) {
		if landed, err = r.cachedByID(ctx, fresh); err != nil {
			return err
		}
	}
	var put []store.User
	for i := range in {
		is := &in[i]
		p, had := prev[is.ID]
		switch {
		case !had && landed != nil:
			if cur, ok := landed[is.ID]; !ok || !cur.Updated.Equal(is.Updated) {
				continue // tombstoned
			}
		case had && authoritative && is.Updated.Before(p.Updated):
			continue
		case had && !authoritative && !p.Updated.Before(is.Updated):
			continue // stale, or the cache already had this version
		}
		if r.keys != nil {
			r.keys[is.ID] = is.Key
		}
		// Personal data only when it changed: every PutUsers is a write and a feed entry.
		// Changed means what the users table keeps differs, not the JSON: payloads and
		// searches format the same user differently (escapes, avatar sizes, order).
		for _, f := range []string{"assignee", "reporter", "creator"} {
			if had && bytes.Equal(p.Raw[f], is.Fields[f]) {
				continue // checked before decoding: most events leave these fields alone
			}
			u, ok := userOf(is.Fields[f])
			if !ok {
				continue
			}
			if had {
				if pu, pok := userOf(p.Raw[f]); pok && pu == u {
					continue
				}
			}
			put = append(put, u)
		}
	}
	if len(put) > 0 {
		if err := r.a.db.PutUsers(ctx, put); err != nil {
			return err
		}
	}
	return nil
}

// sameJSON compares two JSON values ignoring insignificant whitespace.
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// loadKeys reads the id and key of every cached issue, once per round and only when an
// event needs to know what the cache holds by id; writes keep it current.
func (r *round) loadKeys(ctx context.Context) error {
	if r.keys != nil {
		return nil
	}
	all, err := r.a.db.Issues(ctx, store.ReadOptions{})
	if err != nil {
		return err
	}
	r.keys = make(map[int64]string, len(all))
	for _, is := range all {
		r.keys[is.ID] = is.Key
	}
	return nil
}

// forget drops deleted issues from the id index.
func (r *round) forget(ids ...int64) {
	if r.keys != nil {
		for _, id := range ids {
			delete(r.keys, id)
		}
	}
}

// applyLink applies issuelink_created / issuelink_deleted. It returns ok=false when the
// link needs Jira to name an end and there is no client, and a reason when the entry can
// never be applied.
func (r *round) applyLink(ctx context.Context, ev *jira.WebhookEvent, st *ApplyStats) (ok bool, reason string, err error) {
	l := ev.IssueLink
	if ev.Event == "issuelink_deleted" {
		if err := r.a.db.DeleteLink(ctx, l.ID); err != nil {
			return false, "", err
		}
		st.LinksRemoved++
		if r.a.c != nil {
			// The cached ends' stored issuelinks still name the link: they are re-read
			// (see step), as for a new link. Offline, the next poll re-reads them (Jira
			// bumped their updated).
			if err := r.loadKeys(ctx); err != nil {
				return false, "", err
			}
		}
		return true, "", nil
	}
	if ev.Event != "issuelink_created" {
		return true, "", nil
	}
	if l.ID == 0 {
		return false, "issuelink_created: link without an id", nil
	}
	if err := r.loadKeys(ctx); err != nil {
		return false, "", err
	}
	from, to := r.keys[l.SourceIssueID], r.keys[l.DestinationIssueID]
	if from == "" && to == "" {
		return true, "", nil // neither end is cached: nothing of ours links to it
	}
	if from == "" || to == "" {
		// One end is outside the cache (another project): Jira knows its key.
		if r.a.c == nil {
			return false, "", nil
		}
		missing := l.SourceIssueID
		if from != "" {
			missing = l.DestinationIssueID
		}
		got, err := r.a.c.BulkFetch(ctx, []string{strconv.FormatInt(missing, 10)}, []string{"key"})
		if err != nil {
			return false, "", fmt.Errorf("issuelink %d: read issue %d: %w", l.ID, missing, err)
		}
		if len(got) == 0 {
			return true, "", nil // gone or hidden: the link is not one we can show
		}
		if from == "" {
			from = got[0].Key
		} else {
			to = got[0].Key
		}
	}
	link := lens.Link{ID: l.ID, Type: l.TypeName, Outward: l.OutwardName, Inward: l.InwardName, From: from, To: to}
	if err := r.a.db.UpsertLinks(ctx, []lens.Link{link}); err != nil {
		return false, "", err
	}
	st.LinksAdded++
	return true, "", nil
}

// applyProject removes the issues of a deleted or archived project (Jira sends no per-issue
// deletions then) and records created or updated projects.
func (r *round) applyProject(ctx context.Context, ev *jira.WebhookEvent, st *ApplyStats) error {
	p := ev.Project
	switch ev.Event {
	case "project_deleted", "project_soft_deleted", "project_archived":
		key := p.Key
		if key == "" {
			ps, err := r.a.db.Projects(ctx)
			if err != nil {
				return err
			}
			for _, cp := range ps {
				if cp.ID == p.ID {
					key = cp.Key
				}
			}
		}
		if key == "" {
			return nil // a project we never cached
		}
		vers, err := r.a.db.IssueVersions(ctx, []string{key})
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(vers))
		for id := range vers {
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return nil
		}
		n, err := r.a.db.DeleteIssues(ctx, ids, ev.Event)
		if err != nil {
			return err
		}
		r.forget(ids...)
		st.Deleted += n
	case "project_created", "project_updated", "project_restored_deleted", "project_restored_archived":
		if p.ID != 0 && p.Key != "" {
			return r.a.db.PutProjects(ctx, []store.Project{{ID: p.ID, Key: p.Key, Name: p.Name}})
		}
	}
	return nil
}
