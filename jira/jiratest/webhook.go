package jiratest

// Webhook delivery for the fake site, behaving like Jira Cloud's admin webhooks: signed
// POSTs with Jira's headers, retries with backoff on the statuses Jira retries, and, on
// request, the duplicates and reordering that real deliveries suffer.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DispatcherOptions configure a Dispatcher. The zero value is usable.
type DispatcherOptions struct {
	// Client sends the deliveries; nil means a client with a 10 s timeout.
	Client *http.Client
	// Backoff is the wait before the first retry; each further retry waits twice as long.
	// Zero means one second.
	Backoff time.Duration
	// MaxAttempts is the number of tries per delivery, the first included. Zero means 5,
	// as Jira Cloud retries about five times.
	MaxAttempts int
	// Seed drives duplication and reordering, so a test sees the same sequence each run.
	Seed uint64
}

// Attempt is one HTTP try of one delivery, as the Dispatcher's log keeps it.
type Attempt struct {
	Hook       int    // registration id
	Identifier string // X-Atlassian-Webhook-Identifier
	Event      string
	Retry      int    // 0 for the first try, then 1, 2, ... (X-Atlassian-Webhook-Retry)
	Status     int    // HTTP status, 0 when the connection failed
	Err        string // connection error, if any
}

// DispatchStats counts what a Dispatcher did.
type DispatchStats struct {
	Emitted    int // deliveries created (one per matching registration and event, plus duplicates)
	Duplicated int // extra copies made by SetDuplicates
	Attempts   int // HTTP tries
	Retries    int // tries after the first
	Delivered  int // deliveries answered 2xx
	Failed     int // deliveries given up: a status Jira does not retry, or attempts exhausted
	Pending    int // deliveries not finished yet (held back, queued, in flight or waiting to retry)
}

// Dispatcher delivers webhook events to registered URLs asynchronously. It is safe for
// concurrent use. The fake site calls Emit for each event; tests call Flush to wait for
// delivery and Close when done:
//
//	d := jiratest.NewDispatcher(jiratest.DispatcherOptions{Backoff: 10 * time.Millisecond})
//	defer d.Close()
//	d.Register(listener.URL, "s3cret", []string{"jira:issue_updated"}, "project = ALPHA")
//	... writes through the site ...
//	err := d.Flush(ctx)
type Dispatcher struct {
	client      *http.Client
	backoff     time.Duration
	maxAttempts int

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	rng       *rand.Rand
	hooks     map[int]*hookTarget
	nextHook  int
	nextIdent uint64
	dupProb   float64
	window    int
	held      []*delivery
	timers    map[*time.Timer]*delivery
	idle      chan struct{} // closed when pending drops to zero, then replaced
	closed    bool
	stats     DispatchStats
	log       []Attempt
}

// hookTarget is one registration.
type hookTarget struct {
	id      int
	url     string
	secret  string
	events  []string // empty: every event
	filter  string   // JQL, empty: every issue
	queue   []*delivery
	wake    chan struct{}
	removed bool
}

// delivery is one event on its way to one registration; duplicates share the identifier.
type delivery struct {
	hook  *hookTarget
	ident string
	event string
	body  []byte
	retry int
}

// NewDispatcher returns a Dispatcher with no registrations.
func NewDispatcher(opts DispatcherOptions) *Dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{
		client:      opts.Client,
		backoff:     opts.Backoff,
		maxAttempts: opts.MaxAttempts,
		ctx:         ctx,
		cancel:      cancel,
		rng:         rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5851f42d4c957f2d)),
		hooks:       map[int]*hookTarget{},
		timers:      map[*time.Timer]*delivery{},
		idle:        make(chan struct{}),
	}
	if d.client == nil {
		d.client = &http.Client{Timeout: 10 * time.Second}
	}
	if d.backoff <= 0 {
		d.backoff = time.Second
	}
	if d.maxAttempts <= 0 {
		d.maxAttempts = 5
	}
	return d
}

// Register adds a webhook: events to send (Jira names such as "jira:issue_updated"; none
// means all), an optional JQL filter for issue events, and an optional secret that makes
// deliveries carry X-Hub-Signature. It returns the registration id.
func (d *Dispatcher) Register(url, secret string, events []string, jqlFilter string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextHook++
	h := &hookTarget{
		id:     d.nextHook,
		url:    url,
		secret: secret,
		events: slices.Clone(events),
		filter: jqlFilter,
		wake:   make(chan struct{}, 1),
	}
	d.hooks[h.id] = h
	if !d.closed {
		d.wg.Go(func() { d.work(h) })
	}
	return h.id
}

// Unregister removes a webhook; its undelivered events are dropped.
func (d *Dispatcher) Unregister(id int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.hooks[id]
	if h == nil {
		return
	}
	delete(d.hooks, id)
	h.removed = true
	for range h.queue {
		d.finishLocked()
	}
	h.queue = nil
	select {
	case h.wake <- struct{}{}: // let the worker see it is removed
	default:
	}
}

// SetDuplicates makes each delivery be sent twice (same identifier, as Jira's duplicates
// are) with probability p; 0 turns it off.
func (d *Dispatcher) SetDuplicates(p float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dupProb = p
}

// SetReorder holds up to window deliveries back and releases them in random order, so
// later events can arrive first. 0 turns it off and releases what is held. Flush releases
// everything held.
func (d *Dispatcher) SetReorder(window int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.window = max(window, 0)
	d.releaseLocked(d.window)
}

// Emit sends an event to every registration that wants it. payload is the complete JSON
// body (it must not be changed afterwards); matches evaluates a registration's JQL filter
// against the event's issue and may be nil for events without an issue, which then reach
// every registration for the event. Emit does not wait for delivery.
func (d *Dispatcher) Emit(event string, payload []byte, matches func(jql string) bool) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	var targets []*hookTarget
	for _, h := range d.hooks {
		if len(h.events) == 0 || slices.Contains(h.events, event) {
			targets = append(targets, h)
		}
	}
	d.mu.Unlock()
	slices.SortFunc(targets, func(a, b *hookTarget) int { return a.id - b.id })

	// Filters run without the lock: they may take the site's lock.
	kept := targets[:0]
	for _, h := range targets {
		if h.filter == "" || matches == nil || matches(h.filter) {
			kept = append(kept, h)
		}
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	for _, h := range kept {
		if h.removed {
			continue
		}
		d.nextIdent++
		dl := &delivery{hook: h, ident: strconv.FormatUint(d.nextIdent, 10), event: event, body: payload}
		copies := 1
		if d.dupProb > 0 && d.rng.Float64() < d.dupProb {
			copies = 2
			d.stats.Duplicated++
		}
		for c := range copies {
			if c > 0 {
				dup := *dl
				dl = &dup
			}
			d.stats.Emitted++
			d.stats.Pending++
			if d.window > 0 {
				d.held = append(d.held, dl)
			} else {
				d.enqueueLocked(dl)
			}
		}
	}
	d.releaseLocked(d.window)
}

// releaseLocked releases random held deliveries until at most keep remain.
func (d *Dispatcher) releaseLocked(keep int) {
	for len(d.held) > keep {
		i := d.rng.IntN(len(d.held))
		dl := d.held[i]
		d.held = slices.Delete(d.held, i, i+1)
		d.enqueueLocked(dl)
	}
}

// enqueueLocked queues a delivery for its registration's worker.
func (d *Dispatcher) enqueueLocked(dl *delivery) {
	h := dl.hook
	if h.removed || d.closed {
		d.finishLocked()
		return
	}
	h.queue = append(h.queue, dl)
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// finishLocked accounts for a delivery that is done, one way or another.
func (d *Dispatcher) finishLocked() {
	if d.closed || d.stats.Pending == 0 {
		return
	}
	d.stats.Pending--
	if d.stats.Pending == 0 {
		close(d.idle)
		d.idle = make(chan struct{})
	}
}

// work sends one registration's deliveries in queue order, one at a time, so without
// reordering a receiver sees events in the order they happened (retries aside).
func (d *Dispatcher) work(h *hookTarget) {
	for {
		select {
		case <-h.wake:
		case <-d.ctx.Done():
			return
		}
		for {
			d.mu.Lock()
			if h.removed || d.closed {
				d.mu.Unlock()
				return
			}
			if len(h.queue) == 0 {
				d.mu.Unlock()
				break
			}
			dl := h.queue[0]
			h.queue = h.queue[1:]
			d.mu.Unlock()
			d.attempt(dl)
		}
	}
}

// retryable reports whether Jira retries a delivery answered with status.
func retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// attempt makes one HTTP try and settles what follows: done, retry later, or give up.
func (d *Dispatcher) attempt(dl *delivery) {
	status, err := d.post(dl)
	d.mu.Lock()
	defer d.mu.Unlock()
	a := Attempt{Hook: dl.hook.id, Identifier: dl.ident, Event: dl.event, Retry: dl.retry, Status: status}
	if err != nil {
		a.Err = err.Error()
	}
	d.log = append(d.log, a)
	d.stats.Attempts++
	if dl.retry > 0 {
		d.stats.Retries++
	}
	if d.closed {
		return
	}
	switch {
	case dl.hook.removed:
		d.finishLocked() // unregistered while in flight: dropped, not failed
	case err == nil && status >= 200 && status < 300:
		d.stats.Delivered++
		d.finishLocked()
	case (err != nil || retryable(status)) && dl.retry+1 < d.maxAttempts:
		wait := d.backoff << dl.retry
		dl.retry++
		var t *time.Timer
		t = time.AfterFunc(wait, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if _, ok := d.timers[t]; !ok {
				return // Close took it over
			}
			delete(d.timers, t)
			d.enqueueLocked(dl)
		})
		d.timers[t] = dl
	default:
		d.stats.Failed++
		d.finishLocked()
	}
}

// post sends one try with Jira's headers.
func (d *Dispatcher) post(dl *delivery) (int, error) {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, dl.hook.url, bytes.NewReader(dl.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Atlassian Webhook HTTP Client")
	req.Header.Set("X-Atlassian-Webhook-Identifier", dl.ident)
	req.Header.Set("X-Atlassian-Webhook-Flow", "Primary")
	if dl.retry > 0 {
		req.Header.Set("X-Atlassian-Webhook-Retry", strconv.Itoa(dl.retry))
	}
	if dl.hook.secret != "" {
		req.Header.Set("X-Hub-Signature", Sign(dl.hook.secret, dl.body))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	// Drain a little so the connection can be reused; receivers answer with small bodies.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// Sign returns the X-Hub-Signature value Jira sends for body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Flush releases held-back deliveries and waits until every delivery has finished
// (delivered, given up, or dropped by Unregister), or ctx ends.
func (d *Dispatcher) Flush(ctx context.Context) error {
	d.mu.Lock()
	d.releaseLocked(0)
	d.mu.Unlock()
	for {
		d.mu.Lock()
		if d.stats.Pending == 0 || d.closed {
			d.mu.Unlock()
			return nil
		}
		idle := d.idle
		d.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops delivery: pending retries and held deliveries are dropped and in-flight
// requests cancelled. Emit does nothing afterwards. Close waits for the workers to stop.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	for t := range d.timers {
		t.Stop()
	}
	d.timers = map[*time.Timer]*delivery{}
	d.held = nil
	for _, h := range d.hooks {
		h.queue = nil
	}
	d.stats.Pending = 0
	close(d.idle)
	d.closed = true
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}

// Stats returns the delivery counters.
func (d *Dispatcher) Stats() DispatchStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Attempts returns every HTTP try made so far, in the order they completed.
func (d *Dispatcher) Attempts() []Attempt {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.log)
}
