package refresh

// The webhook listener: an http.Handler that takes Jira's admin-webhook deliveries, checks
// them, and journals each one durably before it answers 2xx. Nothing is applied to the
// cache here; the Applier does that from the journal, so a crash between the two loses
// nothing and a slow cache write never makes Jira time out and retry.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"foundation/jira"
	"foundation/store"
)

// DefaultMaxBody is the largest delivery the listener accepts unless told otherwise. Jira's
// issue payloads carry every field of the issue; a few hundred KB is already unusual.
const DefaultMaxBody = 4 << 20

// maxGroup bounds how many deliveries share one durable commit.
const maxGroup = 512

// journalTimeout bounds one durable commit. It is detached from the requests: a delivery
// whose sender hung up, or was answered 503 meanwhile, still belongs in a commit that
// other deliveries share (its retry is then a duplicate, acknowledged).
const journalTimeout = 30 * time.Second

// DefaultAckTimeout is how long a delivery waits to be journaled before it is answered
// 503 (so the sender retries): well under the timeouts of Jira's webhook client (about
// 10 s in the fake's dispatcher), so a cache held busy by another process gets a quick
// retryable answer instead of a timed-out request.
const DefaultAckTimeout = 5 * time.Second

// ListenerOptions configure a Listener.
type ListenerOptions struct {
	// Secret, when set, is the webhook secret: deliveries must carry a valid X-Hub-Signature
	// (HMAC-SHA256 of the raw body) or are refused with 401. Empty accepts unsigned ones.
	Secret []byte
	// MaxBody is the largest body accepted (413 above it); zero means DefaultMaxBody.
	MaxBody int64
	// AckTimeout bounds how long a delivery waits to be journaled before it is answered
	// 503; zero means DefaultAckTimeout.
	AckTimeout time.Duration
	// OnDelivery, when set, is told about every request once it is answered: the CLI's
	// --verbose lines and periodic summary. It must not block for long.
	OnDelivery func(Delivery)
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Delivery is what the listener did with one request.
type Delivery struct {
	At         time.Time
	Status     int    // the HTTP status answered
	Identifier string // X-Atlassian-Webhook-Identifier, or the body's hash when Jira sent none
	Event      string // webhookEvent, when the body could be read
	Retry      int    // X-Atlassian-Webhook-Retry
	Seq        int64  // the journal entry (the first one's, for a duplicate); 0 when not journaled
	Duplicate  bool   // a retry of a delivery already journaled: acknowledged, ignored
	// Reason says why a delivery was refused or could not be journaled; "" for 2xx.
	Reason string
	Bytes  int
}

// ListenerStats counts what a Listener answered since it started.
type ListenerStats struct {
	Received   int64 // every request
	Journaled  int64 // new deliveries stored
	Duplicates int64 // retries of stored deliveries, acknowledged
	Rejected   int64 // 4xx: method, content type, size, signature, malformed
	Failed     int64 // 5xx: could not be journaled (Jira retries)
	Last       time.Time
}

// Listener is the webhook endpoint. It is safe for concurrent use.
type Listener struct {
	db  *store.DB
	opt ListenerOptions
	gc  groupCommit
	// kick has room for one signal: new deliveries were journaled since the applier last
	// looked.
	kick chan struct{}

	received, journaled, duplicates, rejected, failed atomic.Int64
	last                                              atomic.Int64 // unix ms of the last request
}

// NewListener returns a Listener journaling into db.
func NewListener(db *store.DB, opt ListenerOptions) *Listener {
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.AckTimeout <= 0 {
		opt.AckTimeout = DefaultAckTimeout
	}
	l := &Listener{db: db, opt: opt, kick: make(chan struct{}, 1)}
	l.gc.commit = db.AppendJournal
	return l
}

// Journaled signals (without blocking the listener) that new deliveries were journaled, so
// an applier can run at once instead of on its next tick.
func (l *Listener) Journaled() <-chan struct{} { return l.kick }

// Stats returns the counters.
func (l *Listener) Stats() ListenerStats {
	s := ListenerStats{
		Received: l.received.Load(), Journaled: l.journaled.Load(), Duplicates: l.duplicates.Load(),
		Rejected: l.rejected.Load(), Failed: l.failed.Load(),
	}
	if ms := l.last.Load(); ms != 0 {
		s.Last = time.UnixMilli(ms).UTC()
	}
	return s
}

// ServeHTTP answers one delivery. The order of checks follows what a sender can fix: the
// method and content type first, then size, then authenticity, then content.
func (l *Listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := l.opt.Now()
	l.received.Add(1)
	l.last.Store(now.UnixMilli())
	d := Delivery{At: now, Identifier: r.Header.Get("X-Atlassian-Webhook-Identifier")}
	d.Retry, _ = strconv.Atoi(r.Header.Get("X-Atlassian-Webhook-Retry"))

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		l.refuse(w, &d, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		l.refuse(w, &d, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q, want application/json", r.Header.Get("Content-Type")))
		return
	}
	if r.ContentLength > l.opt.MaxBody {
		l.refuse(w, &d, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds the limit of %d", r.ContentLength, l.opt.MaxBody))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, l.opt.MaxBody))
	d.Bytes = len(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			l.refuse(w, &d, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds the limit of %d bytes", l.opt.MaxBody))
			return
		}
		l.refuse(w, &d, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	if len(l.opt.Secret) > 0 {
		sig := r.Header.Get("X-Hub-Signature")
		if sig == "" {
			l.refuse(w, &d, http.StatusUnauthorized, "unsigned delivery (no X-Hub-Signature) while a secret is configured")
			return
		}
		if !jira.VerifySignature(l.opt.Secret, body, sig) {
			l.refuse(w, &d, http.StatusUnauthorized, "X-Hub-Signature does not match the body under the configured secret")
			return
		}
	}
	entry, reason := journalEntry(body, r.Header, d.Retry)
	if reason != "" {
		l.refuse(w, &d, http.StatusBadRequest, reason)
		return
	}
	d.Identifier, d.Event = entry.Identifier, entry.Event
	entry.ReceivedAt = now.UTC()

	ctx, cancel := context.WithTimeout(r.Context(), l.opt.AckTimeout)
	res, err := l.gc.append(ctx, entry)
	cancel()
	if err != nil {
		// Jira retries 5xx: the delivery comes back once the cache can take it.
		l.failed.Add(1)
		d.Status, d.Reason = http.StatusServiceUnavailable, "journal: "+err.Error()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "cannot persist the delivery; retry later", d.Status)
		l.report(d)
		return
	}
	d.Seq, d.Duplicate, d.Status = res.Seq, res.Duplicate, http.StatusOK
	if res.Duplicate {
		l.duplicates.Add(1)
	} else {
		l.journaled.Add(1)
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `{"seq":%d,"duplicate":%t}`+"\n", res.Seq, res.Duplicate)
	l.report(d)
}

func (l *Listener) refuse(w http.ResponseWriter, d *Delivery, status int, reason string) {
	l.rejected.Add(1)
	d.Status, d.Reason = status, reason
	http.Error(w, reason, status)
	l.report(*d)
}

func (l *Listener) report(d Delivery) {
	if l.opt.OnDelivery != nil {
		l.opt.OnDelivery(d)
	}
}

// journalEntry turns a verified body into a journal entry, or says why the body is not a
// webhook payload at all. A payload that is a JSON object with an event name and a
// timestamp is journaled even when its content is wrong for the event (an issue event
// without an issue...): the applier quarantines it with jira.ParseWebhook's reason, where
// `webhook status` shows it, instead of Jira dropping it after a 4xx.
func journalEntry(body []byte, h http.Header, retry int) (store.JournalEntry, string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return store.JournalEntry{}, "empty body"
	}
	if trimmed[0] != '{' {
		return store.JournalEntry{}, "body is not a JSON object"
	}
	var head struct {
		Event     json.RawMessage `json:"webhookEvent"`
		Timestamp json.RawMessage `json:"timestamp"`
	}
	// Unmarshal checks the whole body is valid JSON before decoding the two members.
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return store.JournalEntry{}, "body is not valid JSON: " + err.Error()
	}
	var event string
	if json.Unmarshal(head.Event, &event) != nil || event == "" {
		return store.JournalEntry{}, "webhookEvent missing or not a string"
	}
	ms, ok := timestampMillis(head.Timestamp)
	if !ok {
		return store.JournalEntry{}, "timestamp missing or not a number of milliseconds"
	}
	ident := h.Get("X-Atlassian-Webhook-Identifier")
	if ident == "" {
		// Data Center sends no identifier. The body holds the event's timestamp, so equal
		// bodies are the same event sent twice.
		sum := sha256.Sum256(trimmed)
		ident = "sha256:" + hex.EncodeToString(sum[:])
	}
	return store.JournalEntry{
		Identifier: ident,
		Event:      event,
		EventTime:  time.UnixMilli(ms).UTC(),
		Retry:      retry,
		Headers:    keptHeaders(h),
		Body:       body,
	}, ""
}

// timestampMillis reads the payload's timestamp, a number on Cloud and sometimes a string.
func timestampMillis(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(string(raw))
	if len(s) > 1 && s[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	return ms, err == nil && ms > 0
}

// secretHeader reports headers that can carry credentials. The signature stays: it is
// derived from the secret but does not reveal it, and lets a replay re-check the body.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, s := range []string{"secret", "token", "password", "api-key", "apikey", "auth"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// keptHeaders copies the request headers worth keeping with a journaled delivery.
func keptHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if !secretHeader(k) {
			out[k] = v
		}
	}
	return out
}

// groupCommit shares durable journal commits between concurrent deliveries: one
// goroutine, started when a delivery finds none running, commits everything queued while
// the previous commit was syncing, so the fsync per delivery turns into an fsync per group
// under load. A request waits for its group only as long as its context allows: the
// commit goes on without it (a cache write-locked by another process must not hold the
// request past the sender's timeout).
type groupCommit struct {
	commit func(context.Context, ...store.JournalEntry) ([]store.Appended, error)

	mu       sync.Mutex
	queue    []*pendingAppend
	draining bool
}

type pendingAppend struct {
	entry store.JournalEntry
	res   store.Appended
	err   error
	done  chan struct{} // closed when committed or failed
}

func (g *groupCommit) append(ctx context.Context, e store.JournalEntry) (store.Appended, error) {
	p := &pendingAppend{entry: e, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if !g.draining {
		g.draining = true
		go g.drain()
	}
	g.mu.Unlock()
	select {
	case <-p.done:
		return p.res, p.err
	case <-ctx.Done():
		return store.Appended{}, fmt.Errorf("not stored in time, the cache is busy: %w", ctx.Err())
	}
}

// drain commits queued deliveries group by group until none is left.
func (g *groupCommit) drain() {
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		if n == 0 {
			g.draining = false
			g.mu.Unlock()
			return
		}
		group := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()

		entries := make([]store.JournalEntry, len(group))
		for i, q := range group {
			entries[i] = q.entry
		}
		ctx, cancel := context.WithTimeout(context.Background(), journalTimeout)
		res, err := g.commit(ctx, entries...)
		cancel()
		if err == nil && len(res) != len(group) {
			err = fmt.Errorf("journal returned %d results for %d deliveries", len(res), len(group))
		}
		// Two deliveries of one group can share an identifier (a duplicate sent at once):
		// the journal stores the first and reports the second as a duplicate, which is right.
		for i, q := range group {
			if err != nil {
				q.err = err
			} else {
				q.res = res[i]
			}
			close(q.done)
		}
	}
}

// ServeOptions configure Serve.
type ServeOptions struct {
	// TLSCert and TLSKey, both set, serve HTTPS (Jira Cloud only delivers to https URLs).
	TLSCert, TLSKey string
	// ApplyEvery is how often the journal is applied when no delivery prompts it (default
	// 5s): it picks up entries other processes journaled and retries deferred ones.
	ApplyEvery time.Duration
	// ApplyDelay gathers deliveries arriving together into one apply (default 50ms).
	ApplyDelay time.Duration
	// Grace bounds how long a stop waits for requests in flight (default 30s).
	Grace time.Duration
	// OnApply, when set, is told the outcome of every apply that did something or failed.
	OnApply func(ApplyStats, error)
	// KeepApplied is how long applied entries stay in the journal (default 7 days), so a
	// retry Jira sends late is still recognised as a duplicate; older ones are pruned at
	// start and hourly. Negative keeps everything.
	KeepApplied time.Duration
}

// finalApplyWait bounds the apply a stopping listener makes.
const finalApplyWait = 3 * time.Second

// Serve runs the listener on ln and applies the journal as deliveries arrive, until ctx
// ends. Then it stops accepting, waits for the requests in flight to be answered (each is
// journaled or refused), and applies what was journaled, so a stop loses nothing: what was
// acknowledged is in the journal, and what is in the journal is applied now or at the next
// start. An apply that fails is retried on the next tick; only a server failure is returned.
func Serve(ctx context.Context, ln net.Listener, l *Listener, a *Applier, opt ServeOptions) error {
	if opt.ApplyEvery <= 0 {
		opt.ApplyEvery = 5 * time.Second
	}
	if opt.ApplyDelay <= 0 {
		opt.ApplyDelay = 50 * time.Millisecond
	}
	if opt.Grace <= 0 {
		opt.Grace = 30 * time.Second
	}
	if opt.KeepApplied == 0 {
		opt.KeepApplied = 7 * 24 * time.Hour
	}
	srv := &http.Server{
		Handler:           l,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0), // TLS handshake noise from scanners
	}
	served := make(chan error, 1)
	go func() {
		var err error
		if opt.TLSCert != "" || opt.TLSKey != "" {
			err = srv.ServeTLS(ln, opt.TLSCert, opt.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		served <- err
	}()
	apply := func(ctx context.Context) {
		st, err := a.ApplyPending(ctx)
		if err != nil && ctx.Err() != nil {
			err = nil // stopping: the final apply below takes over what this one left
		}
		if opt.OnApply != nil && (err != nil || st.Applied+st.Quarantined > 0) {
			opt.OnApply(st, err)
		}
	}
	prune := func() {
		if opt.KeepApplied > 0 {
			// A failed prune only leaves old entries behind: the next hour tries again.
			_, _ = l.db.PruneJournal(context.WithoutCancel(ctx), time.Now().Add(-opt.KeepApplied))
		}
	}
	prune()
	apply(ctx)
	tick := time.NewTicker(opt.ApplyEvery)
	defer tick.Stop()
	hourly := time.NewTicker(time.Hour)
	defer hourly.Stop()
	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case serveErr = <-served:
			break loop
		case <-l.Journaled():
			select {
			case <-time.After(opt.ApplyDelay):
			case <-ctx.Done():
			}
			apply(ctx)
		case <-tick.C:
			apply(ctx)
		case <-hourly.C:
			prune()
		}
	}
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), opt.Grace)
	defer cancel()
	shutErr := srv.Shutdown(stop)
	if serveErr == nil {
		serveErr = <-served
	}
	// The final apply gets a few seconds of its own: what needs Jira when Jira does not
	// answer stays journaled for the next start rather than holding the stop through the
	// client's retries.
	final, cancelFinal := context.WithTimeout(context.WithoutCancel(ctx), finalApplyWait)
	defer cancelFinal()
	apply(final)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if serveErr != nil {
		return fmt.Errorf("webhook listener: %w", serveErr)
	}
	if shutErr != nil {
		return fmt.Errorf("webhook listener: stop: %w", shutErr)
	}
	return nil
}
