package jira

// The retrying, pacing, redacting HTTP transport every request of the client goes through.
// go-jira does no rate-limit handling at all, so the whole policy lives here, below go-jira.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// EventKind says why the client waited.
type EventKind string

const (
	// EventRetry: an attempt failed (5xx or connection error) and is retried after Wait.
	EventRetry EventKind = "retry"
	// EventRateLimited: Jira answered 429 (or 503 with Retry-After); the client waits Wait.
	EventRateLimited EventKind = "rate-limited"
	// EventNearLimit: Jira flagged the client as near its limit; pacing is halved for a while.
	EventNearLimit EventKind = "near-limit"
	// EventQuotaWait: Jira said no requests remain until the window resets; the client waits Wait.
	EventQuotaWait EventKind = "quota-wait"
)

// Event reports a retry or a rate-limit wait, for progress display.
type Event struct {
	Kind    EventKind
	Method  string
	Path    string
	Attempt int // 1-based number of the attempt that triggered the event
	Wait    time.Duration
	Status  int   // HTTP status of that attempt; 0 for a connection error
	Err     error // the connection error, when Status is 0
}

// Reason says in a few words what the attempt behind the event met: "HTTP 503", or for a
// connection error "connection refused", "connection reset", "timed out", ...
func (e Event) Reason() string {
	if e.Status != 0 {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return connReason(e.Err)
}

// connReason names a connection error the way a person would say it.
func connReason(err error) string {
	var dns *net.DNSError
	var ne net.Error
	var te *TimeoutError
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &te):
		return "no answer within " + shortDuration(te.Limit)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed without an answer"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "host not found"
		}
		return "DNS lookup failed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// Stats are cumulative counters of a client's traffic.
type Stats struct {
	Requests       int64 // attempts sent, retries included
	Retries        int64 // attempts that were retries
	RateLimitWaits int64 // waits caused by 429/503 Retry-After or an exhausted quota
	NearLimit      int64 // responses flagged near the limit
}

type counters struct {
	requests, retries, rateLimitWaits, nearLimit atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests:       c.requests.Load(),
		Retries:        c.retries.Load(),
		RateLimitWaits: c.rateLimitWaits.Load(),
		NearLimit:      c.nearLimit.Load(),
	}
}

// replayablePOSTs are POST endpoints that only read: they can be sent again after a dropped
// connection without doing anything twice.
var replayablePOSTs = []string{
	"/rest/api/3/search/jql",
	"/rest/api/2/search/jql",
	"/rest/api/2/search", // Data Center's POST search
	"/rest/api/3/search/approximate-count",
	"/rest/api/2/search/approximate-count",
	"/rest/api/3/issue/bulkfetch",
	"/rest/api/2/issue/bulkfetch",
	"/rest/api/3/permissions/check",
	"/rest/api/2/permissions/check",
}

// replayable reports whether a request may be sent again once it may have reached the server.
func replayable(method, path string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost:
		for _, p := range replayablePOSTs {
			if strings.HasSuffix(path, p) {
				return true
			}
		}
	}
	return false
}

type transport struct {
	base          http.RoundTripper
	authorization atomic.Pointer[string] // the Authorization header value; swapped after dialect detection
	maxRetries    int
	baseBackoff   time.Duration
	maxBackoff    time.Duration
	maxRetryAfter time.Duration
	headerTimeout time.Duration // per attempt, until the answer's headers; <= 0 means none
	reqTimeout    time.Duration // per attempt, until the end of the answer; <= 0 means none
	pacer         *pacer
	onEvent       func(Event)
	stats         *counters

	debug   io.Writer
	debugMu sync.Mutex
	secrets []string // literal strings scrubbed from every dump

	// sleep and jitter are replaced in tests to observe waits without spending them.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(d time.Duration) time.Duration
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// equalJitter keeps at least half the delay so a storm of clients still spreads out but never
// hammers the server immediately.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func (t *transport) backoff(attempt int) time.Duration {
	d := t.baseBackoff
	for i := 1; i < attempt && d < t.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, t.maxBackoff)
	return t.jitter(d)
}

func (t *transport) emit(e Event) {
	if t.onEvent != nil {
		t.onEvent(e)
	}
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	body, err := requestBody(req)
	if err != nil {
		return nil, err
	}
	canReplay := replayable(req.Method, req.URL.Path)
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			t.stats.retries.Add(1)
		}
		if err := t.sleep(ctx, t.pacer.reserve(time.Now())); err != nil {
			return nil, err
		}
		actx, gotHeaders, release := t.attemptContext(ctx)
		out := req.Clone(actx)
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
			out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			out.ContentLength = int64(len(body))
		}
		if a := t.authorization.Load(); a != nil && *a != "" {
			out.Header.Set("Authorization", *a)
		}
		// The trace tells whether the request left this process: a POST whose headers never
		// went out cannot have been acted on, so it is safe to send again.
		var connTried, wroteHeaders atomic.Bool
		trace := &httptrace.ClientTrace{
			GetConn:      func(string) { connTried.Store(true) },
			WroteHeaders: func() { wroteHeaders.Store(true) },
		}
		out = out.WithContext(httptrace.WithClientTrace(actx, trace))

		start := time.Now()
		t.dumpRequest(out, body, attempt)
		t.stats.requests.Add(1)
		resp, err := t.base.RoundTrip(out)
		if err != nil {
			release()
			if ctx.Err() != nil {
				t.dumpError(out, err)
				return nil, ctx.Err()
			}
			retries := t.maxRetries
			if te := timedOut(actx); te != nil {
				err = &TimeoutError{Limit: te.Limit, Attempts: attempt}
				retries = min(retries, maxTimeoutRetries)
			}
			t.dumpError(out, err)
			notSent := isDialError(err) || (connTried.Load() && !wroteHeaders.Load())
			if attempt > retries || (!canReplay && !notSent) {
				return nil, err
			}
			wait := t.backoff(attempt)
			t.emit(Event{Kind: EventRetry, Method: req.Method, Path: req.URL.Path, Attempt: attempt, Wait: wait, Err: err})
			if err := t.sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		gotHeaders()
		resp.Body = &attemptBody{ReadCloser: resp.Body, ctx: actx, release: release}
		t.observe(req, resp, attempt)
		resp = t.dumpResponse(req, resp, time.Since(start))

		var wait time.Duration
		kind := EventRetry
		ra, hasRA := retryAfter(resp.Header, time.Now())
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode == http.StatusServiceUnavailable && hasRA):
			// Rejected before any work was done: safe to resend whatever the method.
			kind = EventRateLimited
			wait = ra
			if !hasRA {
				wait = t.backoff(attempt)
			}
			if attempt > t.maxRetries || wait > t.maxRetryAfter {
				return resp, nil
			}
			t.stats.rateLimitWaits.Add(1)
		case resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusBadGateway,
			resp.StatusCode == http.StatusGatewayTimeout, resp.StatusCode == http.StatusInternalServerError:
			// A 500/502/504 may come after the server acted; only replayable requests go again.
			// 503 means the server took nothing in.
			if attempt > t.maxRetries || (!canReplay && resp.StatusCode != http.StatusServiceUnavailable) {
				return resp, nil
			}
			wait = t.backoff(attempt)
		default:
			return resp, nil
		}
		// Drain a little so the connection can be reused, then drop the failed answer.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t.emit(Event{Kind: kind, Method: req.Method, Path: req.URL.Path, Attempt: attempt, Wait: wait, Status: resp.StatusCode})
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// maxTimeoutRetries caps the retries of an attempt that ran out of time: each costs the
// whole limit, and a site silent for three of them in a row is down, not busy.
const maxTimeoutRetries = 2

// attemptContext gives one attempt its own context, which ends with a *TimeoutError as its
// cause when Jira has not begun to answer within headerTimeout, or not finished within
// reqTimeout. gotHeaders stops the first clock; release ends the context and both clocks,
// once the answer is read (closing an attemptBody calls it).
func (t *transport) attemptContext(ctx context.Context) (actx context.Context, gotHeaders, release func()) {
	actx, cancel := context.WithCancelCause(ctx)
	clock := func(limit time.Duration) func() bool {
		if limit <= 0 {
			return func() bool { return false }
		}
		return time.AfterFunc(limit, func() { cancel(&TimeoutError{Limit: limit}) }).Stop
	}
	stopHeaders, stopRequest := clock(t.headerTimeout), clock(t.reqTimeout)
	return actx, func() { stopHeaders() }, func() {
		stopHeaders()
		stopRequest()
		cancel(nil)
	}
}

// timedOut returns the *TimeoutError that ended an attempt's context, or nil.
func timedOut(actx context.Context) *TimeoutError {
	var te *TimeoutError
	if actx.Err() != nil && errors.As(context.Cause(actx), &te) {
		return te
	}
	return nil
}

// attemptBody is an answer's body, read within its attempt's time limit. Closing it ends
// the attempt.
type attemptBody struct {
	io.ReadCloser
	ctx     context.Context
	release func()
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		if te := timedOut(b.ctx); te != nil {
			err = &TimeoutError{Limit: te.Limit, Body: true}
		}
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// requestBody reads a request body once so every attempt can resend it.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	rc := req.Body
	if req.GetBody != nil {
		var err error
		if rc, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("%s %s: read request body: %w", req.Method, req.URL.Path, err)
		}
		req.Body.Close()
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read request body: %w", req.Method, req.URL.Path, err)
	}
	return b, nil
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// nearLimitSlowdown is how long pacing stays halved after Jira says the client is near its limit.
const nearLimitSlowdown = 10 * time.Second

// observe reads Jira's rate-limit headers and adjusts pacing before the next request.
func (t *transport) observe(req *http.Request, resp *http.Response, attempt int) {
	now := time.Now()
	if v := rateHeader(resp.Header, "RateLimit-NearLimit"); strings.EqualFold(v, "true") {
		t.stats.nearLimit.Add(1)
		t.pacer.slowDown(now.Add(nearLimitSlowdown))
		t.emit(Event{Kind: EventNearLimit, Method: req.Method, Path: req.URL.Path, Attempt: attempt, Status: resp.StatusCode})
	}
	if resp.StatusCode < 300 && rateHeader(resp.Header, "RateLimit-Remaining") == "0" {
		if reset, err := time.Parse(time.RFC3339, rateHeader(resp.Header, "RateLimit-Reset")); err == nil && reset.After(now) {
			until := min(reset.Sub(now), t.maxRetryAfter)
			t.pacer.block(now.Add(until))
			t.stats.rateLimitWaits.Add(1)
			t.emit(Event{Kind: EventQuotaWait, Method: req.Method, Path: req.URL.Path, Attempt: attempt, Wait: until, Status: resp.StatusCode})
		}
	}
}

// pacer is a token bucket shared by all requests of a client, so bursts stay under Jira's
// per-tenant limits instead of being answered with 429s.
type pacer struct {
	mu        sync.Mutex
	rate      float64 // tokens per second; <= 0 means unpaced
	burst     float64
	tokens    float64
	last      time.Time
	slowUntil time.Time
	blocked   time.Time
}

func newPacer(rate float64) *pacer {
	burst := max(1, rate)
	return &pacer{rate: rate, burst: burst, tokens: burst}
}

// reserve takes one token and says how long to wait before using it.
func (p *pacer) reserve(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var wait time.Duration
	if now.Before(p.blocked) {
		wait = p.blocked.Sub(now)
	}
	if p.rate <= 0 {
		return wait
	}
	rate := p.rate
	if now.Before(p.slowUntil) {
		rate /= 2
	}
	if !p.last.IsZero() {
		p.tokens = min(p.burst, p.tokens+now.Sub(p.last).Seconds()*rate)
	}
	p.last = now
	p.tokens--
	if p.tokens < 0 {
		wait = max(wait, time.Duration(-p.tokens/rate*float64(time.Second)))
	}
	return wait
}

func (p *pacer) slowDown(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.slowUntil) {
		p.slowUntil = until
	}
}

func (p *pacer) block(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until.After(p.blocked) {
		p.blocked = until
	}
}

// maxDumpBody bounds each body in the debug dump: search pages can be megabytes.
const maxDumpBody = 8 << 10

// sensitiveParams are query parameter names whose values never appear in a dump.
var sensitiveParams = []string{"token", "access_token", "api_token", "apikey", "api_key", "jwt", "password", "secret", "sig", "signature", "os_password"}

func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	changed := false
	for k := range q {
		lk := strings.ToLower(k)
		if slices.ContainsFunc(sensitiveParams, func(s string) bool { return strings.Contains(lk, s) }) {
			q[k] = []string{"REDACTED"}
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

func (t *transport) writeDump(s string) {
	s = t.scrub(s)
	t.debugMu.Lock()
	defer t.debugMu.Unlock()
	_, _ = io.WriteString(t.debug, s)
}

func dumpHeaders(b *strings.Builder, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch strings.ToLower(k) {
		case "authorization", "cookie", "set-cookie", "proxy-authorization", "x-hub-signature":
			fmt.Fprintf(b, "%s: REDACTED\n", k)
			continue
		}
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

func dumpBody(b *strings.Builder, body []byte) {
	if len(body) == 0 {
		return
	}
	b.WriteByte('\n')
	if len(body) > maxDumpBody {
		b.Write(body[:maxDumpBody])
		fmt.Fprintf(b, "\n… (%d more bytes)", len(body)-maxDumpBody)
	} else {
		b.Write(body)
	}
	b.WriteByte('\n')
}

func (t *transport) dumpRequest(req *http.Request, body []byte, attempt int) {
	if t.debug == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--> %s %s (attempt %d)\n", req.Method, redactURL(req.URL), attempt)
	dumpHeaders(&b, req.Header)
	dumpBody(&b, body)
	b.WriteByte('\n')
	t.writeDump(b.String())
}

func (t *transport) dumpError(req *http.Request, err error) {
	if t.debug == nil {
		return
	}
	t.writeDump(fmt.Sprintf("<-- %s %s: %v\n\n", req.Method, req.URL.Path, err))
}

// dumpResponse writes the response and hands back one whose body can still be read.
func (t *transport) dumpResponse(req *http.Request, resp *http.Response, took time.Duration) *http.Response {
	if t.debug == nil {
		return resp
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var b strings.Builder
	fmt.Fprintf(&b, "<-- %s %s %s (%s)\n", resp.Status, req.Method, req.URL.Path, took.Round(time.Millisecond))
	dumpHeaders(&b, resp.Header)
	dumpBody(&b, body)
	if err != nil {
		fmt.Fprintf(&b, "(body read failed: %v)\n", err)
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
	}
	b.WriteByte('\n')
	t.writeDump(b.String())
	return resp
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// RedirectError is returned when Jira (or something in front of it) redirects to another host:
// Foundation only ever talks to the configured site.
type RedirectError struct {
	From, To string // hosts
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refusing redirect from %s to another host %s", e.From, e.To)
}

func checkRedirect(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !strings.EqualFold(req.URL.Host, base.Host) || (base.Scheme == "https" && req.URL.Scheme != "https") {
			return &RedirectError{From: base.Host, To: req.URL.Host}
		}
		if len(via) >= 10 {
			return fmt.Errorf("stopped after %d redirects", len(via))
		}
		return nil
	}
}

// scrub removes the credentials from s. Jira never echoes them, but a proxy or a hostile
// server might, and error messages end up in logs and on screen.
func (t *transport) scrub(s string) string {
	for _, secret := range t.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

// scrubStatus cleans the server-supplied text of a status error in place.
func (t *transport) scrubStatus(err error) error {
	var api *APIError
	if !errors.As(err, &api) {
		return err
	}
	for i, m := range api.ErrorMessages {
		api.ErrorMessages[i] = t.scrub(m)
	}
	for k, v := range api.Errors {
		api.Errors[k] = t.scrub(v)
	}
	api.Body = t.scrub(api.Body)
	return err
}

// scrubbedError is a transport error whose message had credentials or token-like query
// parameters removed; errors.Is and errors.As still see the cause.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func (t *transport) scrubErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = redactURL(u)
		}
	}
	msg := err.Error()
	if clean := t.scrub(msg); clean != msg {
		return &scrubbedError{msg: clean, err: err}
	}
	return err
}
