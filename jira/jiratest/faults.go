package jiratest

// Fault injection for the fake site: latency, Jira's rate limiting, 5xx bursts, dropped
// connections, truncated bodies and outages, switchable while a test or the demo runs.

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit configures Jira-style token buckets. A zero Burst disables the burst limit; a
// zero IssueWriteBurst disables the per-issue write limit.
type RateLimit struct {
	// Burst is the capacity of each bucket, one bucket per method and endpoint (paths with
	// issue keys or ids collapsed, so GET /issue/A-1 and GET /issue/A-2 share one).
	Burst int
	// PerSecond is the refill rate of each burst bucket.
	PerSecond float64
	// IssueWriteBurst and IssueWritePerSecond limit PUT and POST to one issue's paths
	// (/rest/api/N/issue/{key}...), answering 429 with reason jira-per-issue-on-write.
	IssueWriteBurst     int
	IssueWritePerSecond float64
	// BetaHeaders sends the rate-limit headers under their Beta-/X-Beta- names
	// (Beta-Retry-After, X-Beta-RateLimit-Limit, Beta-RateLimit-Reason, ...), as Jira Cloud
	// does for limits in their trial phase.
	BetaHeaders bool
}

// FaultStats counts the faults injected since the Faults were made or last Reset.
type FaultStats struct {
	Requests    int // requests seen
	Delayed     int // requests given added latency
	RateLimited int // 429 answers
	Failed      int // 5xx burst answers
	Dropped     int // connections closed without an answer
	Truncated   int // answers cut mid-body
	Refused     int // requests refused while down
}

// Faults is the fault configuration of WithFaults. It is safe for concurrent use and may be
// changed while requests are served. With the same seed and the same sequence of requests,
// the injected jitter and status choices are the same.
type Faults struct {
	mu  sync.Mutex
	rng *rand.Rand
	now func() time.Time

	latency, jitter time.Duration

	limit   RateLimit
	buckets map[string]*tokenBucket

	failN      int
	failStatus int
	failPrefix string

	dropN      int
	dropPrefix string

	truncN      int
	truncPrefix string

	down     bool
	downDrop bool

	stats FaultStats
}

// NewFaults returns Faults that inject nothing until configured. seed drives the latency
// jitter and the 500/503 choice of bursts.
func NewFaults(seed uint64) *Faults {
	return &Faults{
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now:     time.Now,
		buckets: map[string]*tokenBucket{},
	}
}

// SetClock replaces the clock the token buckets refill by (tests use a fake clock).
func (f *Faults) SetClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = now
}

// SetLatency delays every request by fixed plus a uniformly random part of jitter.
func (f *Faults) SetLatency(fixed, jitter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency, f.jitter = max(fixed, 0), max(jitter, 0)
}

// SetRateLimit installs rate limits; RateLimit{} turns them off. Buckets start full.
func (f *Faults) SetRateLimit(rl RateLimit) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit = rl
	f.buckets = map[string]*tokenBucket{}
}

// FailNext makes the next n requests whose path starts with pathPrefix ("" for any) answer
// status with a Jira error body. status 0 picks 500 or 503 at random for each.
func (f *Faults) FailNext(n, status int, pathPrefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN, f.failStatus, f.failPrefix = max(n, 0), status, pathPrefix
}

// DropNext makes the next n requests whose path starts with pathPrefix lose their
// connection: it is closed without an answer.
func (f *Faults) DropNext(n int, pathPrefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropN, f.dropPrefix = max(n, 0), pathPrefix
}

// TruncateNext makes the next n answers to paths starting with pathPrefix stop half-way
// through the body they announced in Content-Length, then close the connection.
func (f *Faults) TruncateNext(n int, pathPrefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.truncN, f.truncPrefix = max(n, 0), pathPrefix
}

// SetDown takes the whole site down (every request refused with 503, or with its connection
// dropped when drop is true) or, with down false, brings it back.
func (f *Faults) SetDown(down, drop bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down, f.downDrop = down, drop
}

// Reset turns every fault off and zeroes the statistics.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency, f.jitter = 0, 0
	f.limit = RateLimit{}
	f.buckets = map[string]*tokenBucket{}
	f.failN, f.dropN, f.truncN = 0, 0, 0
	f.down = false
	f.stats = FaultStats{}
}

// Stats returns the counts of injected faults.
func (f *Faults) Stats() FaultStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// faultAction is what to do with one request, decided under the lock.
type faultAction int

const (
	actServe faultAction = iota
	actFail
	actDrop
	actTruncate
	actRateLimited
	actRefuse
)

type faultDecision struct {
	action  faultAction
	delay   time.Duration
	status  int
	headers http.Header // rate-limit headers for any answer
	reason  string
}

// decide settles the fate of a request. Counters of "next N" faults are consumed only by
// requests they apply to.
func (f *Faults) decide(r *http.Request) faultDecision {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Requests++
	var d faultDecision
	if f.latency > 0 || f.jitter > 0 {
		d.delay = f.latency
		if f.jitter > 0 {
			d.delay += time.Duration(f.rng.Int64N(int64(f.jitter)))
		}
		f.stats.Delayed++
	}
	path := r.URL.Path
	switch {
	case f.down:
		if f.downDrop {
			d.action = actDrop
			f.stats.Dropped++
		} else {
			d.action, d.status = actRefuse, http.StatusServiceUnavailable
			f.stats.Refused++
		}
		return d
	case f.dropN > 0 && strings.HasPrefix(path, f.dropPrefix):
		f.dropN--
		d.action = actDrop
		f.stats.Dropped++
		return d
	case f.failN > 0 && strings.HasPrefix(path, f.failPrefix):
		f.failN--
		d.action, d.status = actFail, f.failStatus
		if d.status == 0 {
			d.status = http.StatusInternalServerError
			if f.rng.IntN(2) == 1 {
				d.status = http.StatusServiceUnavailable
			}
		}
		f.stats.Failed++
		return d
	}
	if f.limit.Burst > 0 || f.limit.IssueWriteBurst > 0 {
		if f.rateLimit(r, &d) {
			f.stats.RateLimited++
			return d
		}
	}
	if f.truncN > 0 && strings.HasPrefix(path, f.truncPrefix) {
		f.truncN--
		d.action = actTruncate
		f.stats.Truncated++
	}
	return d
}

// tokenBucket is one rate-limit bucket.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// take refills the bucket and takes a token; when none is left it returns how long until
// one is.
func (b *tokenBucket) take(now time.Time, burst int, perSecond float64) (ok bool, remaining int, wait time.Duration) {
	if perSecond > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*perSecond)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, int(b.tokens), 0
	}
	if perSecond <= 0 {
		return false, 0, time.Hour
	}
	return false, 0, time.Duration((1 - b.tokens) / perSecond * float64(time.Second))
}

// rateLimit applies the burst and per-issue buckets, filling d's headers; it reports
// whether the request is refused.
func (f *Faults) rateLimit(r *http.Request, d *faultDecision) bool {
	now := f.now()
	d.headers = http.Header{}
	check := func(key string, burst int, perSecond float64, reason string) bool {
		b := f.buckets[key]
		if b == nil {
			b = &tokenBucket{tokens: float64(burst), last: now}
			f.buckets[key] = b
		}
		ok, remaining, wait := b.take(now, burst, perSecond)
		f.setHeader(d.headers, "X-RateLimit-Limit", strconv.Itoa(burst))
		f.setHeader(d.headers, "X-RateLimit-Remaining", strconv.Itoa(remaining))
		if float64(remaining) < 0.2*float64(burst) {
			f.setHeader(d.headers, "X-RateLimit-NearLimit", "true")
		}
		if ok {
			return false
		}
		secs := int(math.Ceil(wait.Seconds()))
		if secs < 1 {
			secs = 1
		}
		f.setHeader(d.headers, "Retry-After", strconv.Itoa(secs))
		f.setHeader(d.headers, "X-RateLimit-Reset", now.Add(wait).UTC().Format(time.RFC3339))
		f.setHeader(d.headers, "RateLimit-Reason", reason)
		d.action, d.status, d.reason = actRateLimited, http.StatusTooManyRequests, reason
		return true
	}
	if f.limit.IssueWriteBurst > 0 && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
		if key, ok := issueOfPath(r.URL.Path); ok {
			if check("issue-write "+key, f.limit.IssueWriteBurst, f.limit.IssueWritePerSecond, "jira-per-issue-on-write") {
				return true
			}
		}
	}
	if f.limit.Burst > 0 {
		return check(r.Method+" "+endpointOf(r.URL.Path), f.limit.Burst, f.limit.PerSecond, "jira-burst-based")
	}
	return false
}

// setHeader writes a rate-limit header under its plain or beta name.
func (f *Faults) setHeader(h http.Header, name, value string) {
	if f.limit.BetaHeaders {
		if strings.HasPrefix(name, "X-") {
			name = "X-Beta-" + name[2:]
		} else {
			name = "Beta-" + name
		}
	}
	h.Set(name, value)
}

// endpointOf collapses the variable segments of a path (numbers and issue keys) so that one
// bucket serves an endpoint, as Jira's burst limits are per endpoint.
func endpointOf(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if isVariableSegment(s) {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

func isVariableSegment(s string) bool {
	if s == "" {
		return false
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	_, err := strconv.ParseInt(s[i+1:], 10, 64)
	return err == nil && strings.ToUpper(s[:i]) == s[:i]
}

// issueOfPath returns the issue key or id of /rest/api/{v}/issue/{key}[/...] paths.
func issueOfPath(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/rest/api/")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || parts[1] != "issue" || !isVariableSegment(parts[2]) {
		return "", false
	}
	return parts[2], true
}

// WithFaults wraps the fake site's handler with the faults f describes. Wrap once and keep
// f to change faults at run time:
//
//	f := jiratest.NewFaults(1)
//	srv := httptest.NewServer(jiratest.WithFaults(site, f))
//	f.SetRateLimit(jiratest.RateLimit{Burst: 10, PerSecond: 5})
func WithFaults(h http.Handler, f *Faults) http.Handler {
	if f == nil {
		return h // no faults configured: serve as is
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := f.decide(r)
		if d.delay > 0 {
			// Read the request body first: net/http notices a client that hangs up (and ends
			// r.Context()) only once the body is read, and a client that gives up on a long
			// latency must not leave the handler waiting it out.
			if body, err := io.ReadAll(r.Body); err == nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			t := time.NewTimer(d.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		for k, vs := range d.headers {
			w.Header()[k] = vs
		}
		switch d.action {
		case actDrop:
			dropConnection(w)
		case actRefuse:
			writeFaultError(w, d.status, "Service unavailable: the site is down for maintenance.")
		case actFail:
			writeFaultError(w, d.status, "Internal server error. The request could not be completed.")
		case actRateLimited:
			writeFaultError(w, d.status, "Rate limit exceeded.")
		case actTruncate:
			serveTruncated(w, r, h)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// writeFaultError answers with Jira's error body.
func writeFaultError(w http.ResponseWriter, status int, msg string) {
	body, err := json.Marshal(struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}{[]string{msg}, map[string]string{}})
	if err != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// dropConnection closes the client's connection without an answer. Servers that cannot
// hand over the connection (HTTP/2) abort the handler, which resets the stream.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http's documented way to abort a response
}

// bufferedResponse records a handler's answer so it can be replayed cut short.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// serveTruncated runs the handler, announces the full length, sends half the body and
// closes the connection, so the client sees an unexpected EOF mid-body.
func serveTruncated(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &bufferedResponse{header: http.Header{}}
	for k, vs := range w.Header() {
		rec.header[k] = vs
	}
	h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	body := rec.body.Bytes()
	for k, vs := range rec.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.status)
	_, _ = w.Write(body[:len(body)/2])
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	dropConnection(w)
}
