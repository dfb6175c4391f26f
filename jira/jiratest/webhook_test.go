package jiratest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// received is one request a test receiver saw.
type received struct {
	header http.Header
	body   string
}

// receiver is a webhook listener that records deliveries and answers with the statuses
// queued in answers (then 200).
type receiver struct {
	mu      sync.Mutex
	got     []received
	answers []int
	srv     *httptest.Server
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	t.Helper()
	rc := &receiver{answers: answers}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: string(b)})
		status := http.StatusOK
		if len(rc.answers) > 0 {
			status, rc.answers = rc.answers[0], rc.answers[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func newTestDispatcher(t *testing.T, maxAttempts int) *Dispatcher {
	t.Helper()
	d := NewDispatcher(DispatcherOptions{Backoff: time.Millisecond, MaxAttempts: maxAttempts, Seed: 42})
	t.Cleanup(d.Close)
	return d
}

func flush(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestWebhookDeliveryHeaders(t *testing.T) {
	rc := newReceiver(t)
	d := newTestDispatcher(t, 0)
	d.Register(rc.srv.URL, "s3cret", nil, "")
	unsigned := newReceiver(t)
	d.Register(unsigned.srv.URL, "", nil, "")
	body := []byte(`{"timestamp":1,"webhookEvent":"jira:issue_updated"}`)
	d.Emit("jira:issue_updated", body, nil)
	d.Emit("jira:issue_updated", body, nil)
	flush(t, d)

	got := rc.all()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	for _, g := range got {
		h := g.header
		if g.body != string(body) {
			t.Errorf("body %q", g.body)
		}
		if h.Get("Content-Type") != "application/json" || h.Get("X-Atlassian-Webhook-Flow") != "Primary" {
			t.Errorf("headers %v", h)
		}
		if _, ok := h["X-Atlassian-Webhook-Retry"]; ok {
			t.Errorf("first try carries a retry header")
		}
		if want := Sign("s3cret", body); !hmac.Equal([]byte(h.Get("X-Hub-Signature")), []byte(want)) {
			t.Errorf("signature %q, want %q", h.Get("X-Hub-Signature"), want)
		}
	}
	if got[0].header.Get("X-Atlassian-Webhook-Identifier") == got[1].header.Get("X-Atlassian-Webhook-Identifier") {
		t.Error("two deliveries share an identifier")
	}
	for _, g := range unsigned.all() {
		if g.header.Get("X-Hub-Signature") != "" {
			t.Error("delivery without secret is signed")
		}
	}
	if len(unsigned.all()) != 2 {
		t.Errorf("second registration got %d deliveries", len(unsigned.all()))
	}
	if st := d.Stats(); st.Emitted != 4 || st.Delivered != 4 || st.Attempts != 4 || st.Pending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookSignKnownValue(t *testing.T) {
	// HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published vector.
	got := Sign("key", []byte("The quick brown fox jumps over the lazy dog"))
	if want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestWebhookEventAndJQLFilters(t *testing.T) {
	created := newReceiver(t)
	alpha := newReceiver(t)
	d := newTestDispatcher(t, 0)
	d.Register(created.srv.URL, "", []string{"jira:issue_created"}, "")
	d.Register(alpha.srv.URL, "", nil, "project = ALPHA")

	var filters []string
	inAlpha := func(project string) func(string) bool {
		return func(jql string) bool {
			filters = append(filters, jql)
			return project == "ALPHA"
		}
	}
	d.Emit("jira:issue_created", []byte(`{"n":1}`), inAlpha("ALPHA"))
	d.Emit("jira:issue_updated", []byte(`{"n":2}`), inAlpha("BETA"))
	d.Emit("jira:issue_updated", []byte(`{"n":3}`), inAlpha("ALPHA"))
	d.Emit("project_created", []byte(`{"n":4}`), nil)
	flush(t, d)

	bodies := func(rc *receiver) []string {
		var out []string
		for _, g := range rc.all() {
			out = append(out, g.body)
		}
		return out
	}
	if got := bodies(created); !slices.Equal(got, []string{`{"n":1}`}) {
		t.Errorf("event filter: got %v", got)
	}
	if got := bodies(alpha); !slices.Equal(got, []string{`{"n":1}`, `{"n":3}`, `{"n":4}`}) {
		t.Errorf("JQL filter: got %v", got)
	}
	if len(filters) != 3 || filters[0] != "project = ALPHA" {
		t.Errorf("filter calls %v", filters)
	}
}

func TestWebhookRetries(t *testing.T) {
	for _, status := range []int{408, 409, 425, 429, 500, 502, 503, 504} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rc := newReceiver(t, status, status)
			d := newTestDispatcher(t, 0)
			d.Register(rc.srv.URL, "", nil, "")
			d.Emit("jira:issue_updated", []byte(`{}`), nil)
			flush(t, d)
			got := rc.all()
			if len(got) != 3 {
				t.Fatalf("%d tries, want 3", len(got))
			}
			id := got[0].header.Get("X-Atlassian-Webhook-Identifier")
			for i, g := range got {
				if g.header.Get("X-Atlassian-Webhook-Identifier") != id {
					t.Errorf("try %d changed the identifier", i)
				}
				wantRetry := ""
				if i > 0 {
					wantRetry = strconv.Itoa(i)
				}
				if r := g.header.Get("X-Atlassian-Webhook-Retry"); r != wantRetry {
					t.Errorf("try %d: retry header %q, want %q", i, r, wantRetry)
				}
			}
			if st := d.Stats(); st.Delivered != 1 || st.Retries != 2 || st.Failed != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestWebhookNoRetry(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 410, 413} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rc := newReceiver(t, status)
			d := newTestDispatcher(t, 0)
			d.Register(rc.srv.URL, "", nil, "")
			d.Emit("jira:issue_updated", []byte(`{}`), nil)
			flush(t, d)
			if n := len(rc.all()); n != 1 {
				t.Fatalf("%d tries, want 1", n)
			}
			if st := d.Stats(); st.Failed != 1 || st.Delivered != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestWebhookGivesUp(t *testing.T) {
	rc := newReceiver(t, 500, 500, 500, 500, 500, 500, 500)
	d := newTestDispatcher(t, 0)
	d.Register(rc.srv.URL, "", nil, "")
	d.Emit("jira:issue_updated", []byte(`{}`), nil)
	flush(t, d)
	if n := len(rc.all()); n != 5 {
		t.Fatalf("%d tries, want the default 5", n)
	}
	if st := d.Stats(); st.Failed != 1 || st.Attempts != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookConnectionFailure(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	d := newTestDispatcher(t, 3)
	hook := d.Register(url, "", nil, "")
	d.Emit("jira:issue_deleted", []byte(`{}`), nil)
	flush(t, d)
	as := d.Attempts()
	if len(as) != 3 {
		t.Fatalf("%d attempts, want 3", len(as))
	}
	for i, a := range as {
		if a.Err == "" || a.Status != 0 || a.Retry != i || a.Hook != hook || a.Event != "jira:issue_deleted" {
			t.Errorf("attempt %d: %+v", i, a)
		}
	}
}

func TestWebhookBackoffGrows(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		w.WriteHeader(503)
	}))
	defer srv.Close()
	d := NewDispatcher(DispatcherOptions{Backoff: 20 * time.Millisecond, MaxAttempts: 4})
	defer d.Close()
	d.Register(srv.URL, "", nil, "")
	d.Emit("e", []byte(`{}`), nil)
	flush(t, d)
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 4 {
		t.Fatalf("%d tries", len(times))
	}
	// Waits are at least 20, 40 and 80 ms.
	for i, min := range []time.Duration{20, 40, 80} {
		if gap := times[i+1].Sub(times[i]); gap < min*time.Millisecond {
			t.Errorf("gap %d = %v, want at least %v ms", i, gap, min)
		}
	}
}

func TestWebhookOrderWithoutReorder(t *testing.T) {
	rc := newReceiver(t)
	d := newTestDispatcher(t, 0)
	d.Register(rc.srv.URL, "", nil, "")
	var want []string
	for i := range 30 {
		b := fmt.Sprintf(`{"n":%d}`, i)
		want = append(want, b)
		d.Emit("jira:issue_updated", []byte(b), nil)
	}
	flush(t, d)
	var got []string
	for _, g := range rc.all() {
		got = append(got, g.body)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order changed without SetReorder:\n%v", got)
	}
}

func TestWebhookReorderAndDuplicates(t *testing.T) {
	run := func(seed uint64) ([]string, DispatchStats) {
		rc := newReceiver(t)
		d := NewDispatcher(DispatcherOptions{Backoff: time.Millisecond, Seed: seed})
		defer d.Close()
		d.Register(rc.srv.URL, "", nil, "")
		d.SetReorder(4)
		d.SetDuplicates(0.5)
		for i := range 20 {
			d.Emit("jira:issue_updated", fmt.Appendf(nil, `{"n":%d}`, i), nil)
		}
		flush(t, d)
		var got []string
		for _, g := range rc.all() {
			got = append(got, g.header.Get("X-Atlassian-Webhook-Identifier")+" "+g.body)
		}
		return got, d.Stats()
	}
	got, st := run(9)
	if st.Duplicated == 0 || st.Duplicated == 20 {
		t.Fatalf("duplicated %d of 20 with p=0.5", st.Duplicated)
	}
	if len(got) != 20+st.Duplicated || st.Delivered != len(got) {
		t.Fatalf("%d deliveries, stats %+v", len(got), st)
	}
	// Every event arrives; duplicates carry the same identifier and body.
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	if len(seen) != 20 {
		t.Fatalf("%d distinct deliveries, want 20", len(seen))
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	if dups != st.Duplicated {
		t.Fatalf("%d repeated deliveries, stats say %d", dups, st.Duplicated)
	}
	if slices.IsSortedFunc(got, func(a, b string) int {
		na, _ := strconv.Atoi(firstField(a)) // identifiers grow with each Emit
		nb, _ := strconv.Atoi(firstField(b))
		return na - nb
	}) {
		t.Fatal("deliveries arrived in order despite SetReorder")
	}
	// The same seed gives the same sequence.
	again, _ := run(9)
	if !slices.Equal(got, again) {
		t.Fatal("same seed, different delivery sequence")
	}
}

// firstField is the identifier of a "identifier body" string.
func firstField(s string) string {
	for i := range s {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

func TestWebhookUnregisterAndClose(t *testing.T) {
	rc := newReceiver(t)
	d := NewDispatcher(DispatcherOptions{Backoff: time.Millisecond})
	id := d.Register(rc.srv.URL, "", nil, "")
	d.SetReorder(10)
	d.Emit("e", []byte(`{"n":1}`), nil)
	d.Unregister(id)
	d.Unregister(id) // twice is harmless
	flush(t, d)
	if n := len(rc.all()); n != 0 {
		t.Fatalf("unregistered hook got %d deliveries", n)
	}
	d.SetReorder(0)
	d.Register(rc.srv.URL, "", nil, "")
	d.Close()
	d.Emit("e", []byte(`{"n":2}`), nil)
	if err := d.Flush(context.Background()); err != nil {
		t.Fatalf("Flush after Close: %v", err)
	}
	if n := len(rc.all()); n != 0 {
		t.Fatalf("closed dispatcher delivered %d", n)
	}
	d.Close() // twice is harmless
}

func TestWebhookFlushHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	d := NewDispatcher(DispatcherOptions{})
	defer d.Close()
	d.Register(srv.URL, "", nil, "")
	d.Emit("e", []byte(`{}`), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush = %v, want deadline exceeded", err)
	}
	if st := d.Stats(); st.Pending != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWebhookConcurrentEmit(t *testing.T) {
	rc := newReceiver(t)
	d := NewDispatcher(DispatcherOptions{Backoff: time.Millisecond, Client: rc.srv.Client()})
	defer d.Close()
	d.Register(rc.srv.URL, "k", nil, "")
	d.Register(rc.srv.URL, "", []string{"jira:issue_created"}, "")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				d.Emit("jira:issue_created", fmt.Appendf(nil, `{"g":%d,"i":%d}`, g, i), func(string) bool { return true })
			}
		})
	}
	wg.Wait()
	flush(t, d)
	if n := len(rc.all()); n != 200 {
		t.Fatalf("%d deliveries, want 200", n)
	}
	ids := map[string]bool{}
	for _, g := range rc.all() {
		ids[g.header.Get("X-Atlassian-Webhook-Identifier")] = true
	}
	if len(ids) != 200 {
		t.Fatalf("%d distinct identifiers, want 200", len(ids))
	}
}

// BenchmarkDispatch measures delivery throughput to a local receiver and, in the same
// iterations, a floor: a bare client POSTing the same body sequentially. It reports
// deliveries/s for both and their ratio (floor time over dispatcher time, so 1.0 means as
// fast as the bare client).
func BenchmarkDispatch(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	client := srv.Client()
	d := NewDispatcher(DispatcherOptions{Client: client, Backoff: time.Millisecond})
	defer d.Close()
	d.Register(srv.URL, "secret", nil, "")
	body := []byte(`{"timestamp":1700000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"ALPHA-1","fields":{"summary":"Login page crashes"}}}`)
	const batch = 200
	var floorT, dispT time.Duration
	iters := 0
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hub-Signature", Sign("secret", body))
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		t1 := time.Now()
		for range batch {
			d.Emit("jira:issue_updated", body, nil)
		}
		if err := d.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		floorT += t1.Sub(t0)
		dispT += t2.Sub(t1)
		iters++
	}
	if st := d.Stats(); st.Delivered != iters*batch {
		b.Fatalf("delivered %d of %d", st.Delivered, iters*batch)
	}
	n := float64(iters * batch)
	b.ReportMetric(n/dispT.Seconds(), "dispatch-deliveries/s")
	b.ReportMetric(n/floorT.Seconds(), "floor-deliveries/s")
	b.ReportMetric(floorT.Seconds()/dispT.Seconds(), "speed-vs-floor")
}
