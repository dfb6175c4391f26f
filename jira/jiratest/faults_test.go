package jiratest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultBackend answers every request with a fixed JSON body of known size.
var faultBody = `{"issues":[` + strings.Repeat(`{"id":"1","key":"ALPHA-1"},`, 40) + `{"id":"2"}]}`

func newFaultServer(t *testing.T, f *Faults) *httptest.Server {
	t.Helper()
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, faultBody)
	})
	srv := httptest.NewServer(WithFaults(backend, f))
	t.Cleanup(srv.Close)
	return srv
}

type faultResult struct {
	status int
	header http.Header
	body   string
	err    error
}

func doFault(t *testing.T, srv *httptest.Server, method, path string) faultResult {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh connection each time, so a dropped connection never leaks into the next call.
	req.Close = true
	resp, err := srv.Client().Do(req)
	if err != nil {
		return faultResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return faultResult{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func assertJiraError(t *testing.T, res faultResult, status int) {
	t.Helper()
	if res.err != nil || res.status != status {
		t.Fatalf("got status %d err %v, want %d", res.status, res.err, status)
	}
	var body struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(res.body), &body); err != nil || len(body.ErrorMessages) == 0 || body.Errors == nil {
		t.Fatalf("body %q is not a Jira error (%v)", res.body, err)
	}
}

func TestFaultsNoneByDefault(t *testing.T) {
	f := NewFaults(1)
	srv := newFaultServer(t, f)
	for range 5 {
		res := doFault(t, srv, "GET", "/rest/api/3/myself")
		if res.err != nil || res.status != 200 || res.body != faultBody {
			t.Fatalf("unexpected answer: %d %v", res.status, res.err)
		}
	}
	if got := f.Stats(); got != (FaultStats{Requests: 5}) {
		t.Fatalf("stats = %+v", got)
	}
}

func TestFaultsLatency(t *testing.T) {
	f := NewFaults(1)
	srv := newFaultServer(t, f)
	f.SetLatency(40*time.Millisecond, 20*time.Millisecond)
	start := time.Now()
	if res := doFault(t, srv, "GET", "/x"); res.err != nil || res.status != 200 {
		t.Fatalf("answer %d %v", res.status, res.err)
	}
	if el := time.Since(start); el < 40*time.Millisecond {
		t.Fatalf("request took %v, want at least the fixed latency", el)
	}
	if f.Stats().Delayed != 1 {
		t.Fatalf("stats = %+v", f.Stats())
	}
}

// TestFaultsLatencyEndsWithTheClient: a client that gives up on a long latency (a silent
// site) ends the delayed handler, POST with a body too, so the server can close.
func TestFaultsLatencyEndsWithTheClient(t *testing.T) {
	f := NewFaults(1)
	srv := httptest.NewServer(WithFaults(http.NotFoundHandler(), f))
	f.SetLatency(time.Hour, 0)
	hc := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := hc.Post(srv.URL+"/rest/api/3/search/jql", "application/json", strings.NewReader(`{"jql":"project = A"}`)); err == nil {
		t.Fatal("answered within an hour's latency")
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("the delayed handler outlived the client that gave up on it")
	}
}

func TestFaultsJitterDeterministic(t *testing.T) {
	delays := func(seed uint64) []time.Duration {
		f := NewFaults(seed)
		f.SetLatency(time.Millisecond, time.Second)
		var out []time.Duration
		for range 20 {
			d := f.decide(httptest.NewRequest("GET", "/x", nil))
			if d.delay < time.Millisecond || d.delay >= time.Second+time.Millisecond {
				t.Fatalf("delay %v outside [fixed, fixed+jitter)", d.delay)
			}
			out = append(out, d.delay)
		}
		return out
	}
	a, b, c := delays(7), delays(7), delays(8)
	if !slices.Equal(a, b) {
		t.Fatal("same seed gave different jitter")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds gave the same jitter")
	}
}

// fakeClock is a settable clock for the token buckets.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestFaultsBurstRateLimit(t *testing.T) {
	f := NewFaults(1)
	clk := &fakeClock{t: time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)}
	f.SetClock(clk.now)
	f.SetRateLimit(RateLimit{Burst: 5, PerSecond: 0.5})
	srv := newFaultServer(t, f)

	// Five GETs on one endpoint (different issue keys) use the bucket up.
	for i, key := range []string{"ALPHA-1", "ALPHA-2", "BETA-3", "ALPHA-4", "10001"} {
		res := doFault(t, srv, "GET", "/rest/api/3/issue/"+key)
		if res.status != 200 {
			t.Fatalf("request %d: status %d", i, res.status)
		}
		if got, want := res.header.Get("X-RateLimit-Remaining"), []string{"4", "3", "2", "1", "0"}[i]; got != want {
			t.Fatalf("request %d: remaining %q, want %q", i, got, want)
		}
		if got := res.header.Get("X-RateLimit-Limit"); got != "5" {
			t.Fatalf("limit header %q", got)
		}
		if near := res.header.Get("X-RateLimit-NearLimit"); (near == "true") != (i == 4) {
			t.Fatalf("request %d: NearLimit %q", i, near)
		}
	}
	res := doFault(t, srv, "GET", "/rest/api/3/issue/ALPHA-9")
	assertJiraError(t, res, http.StatusTooManyRequests)
	if got := res.header.Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After %q, want 2 (one token at 0.5/s)", got)
	}
	if got := res.header.Get("RateLimit-Reason"); got != "jira-burst-based" {
		t.Fatalf("reason %q", got)
	}
	reset, err := time.Parse(time.RFC3339, res.header.Get("X-RateLimit-Reset"))
	if err != nil || !reset.Equal(clk.now().Add(2*time.Second)) {
		t.Fatalf("reset %q (%v)", res.header.Get("X-RateLimit-Reset"), err)
	}
	// Another method or endpoint has its own bucket.
	if res := doFault(t, srv, "PUT", "/rest/api/3/issue/ALPHA-1"); res.status != 200 {
		t.Fatalf("PUT shares the GET bucket: %d", res.status)
	}
	if res := doFault(t, srv, "GET", "/rest/api/3/search/jql"); res.status != 200 {
		t.Fatalf("search shares the issue bucket: %d", res.status)
	}
	// After the announced wait, one request passes again, then the next is limited.
	clk.add(2 * time.Second)
	if res := doFault(t, srv, "GET", "/rest/api/3/issue/ALPHA-1"); res.status != 200 {
		t.Fatalf("after Retry-After: %d", res.status)
	}
	assertJiraError(t, doFault(t, srv, "GET", "/rest/api/3/issue/ALPHA-1"), http.StatusTooManyRequests)
	if got := f.Stats().RateLimited; got != 2 {
		t.Fatalf("RateLimited = %d", got)
	}
	// Turning limits off lets everything through.
	f.SetRateLimit(RateLimit{})
	if res := doFault(t, srv, "GET", "/rest/api/3/issue/ALPHA-1"); res.status != 200 || res.header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("limits off: %d %v", res.status, res.header)
	}
}

func TestFaultsBetaHeaders(t *testing.T) {
	f := NewFaults(1)
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	f.SetClock(clk.now)
	f.SetRateLimit(RateLimit{Burst: 1, PerSecond: 1, BetaHeaders: true})
	srv := newFaultServer(t, f)
	doFault(t, srv, "GET", "/rest/api/3/myself")
	res := doFault(t, srv, "GET", "/rest/api/3/myself")
	assertJiraError(t, res, http.StatusTooManyRequests)
	for _, h := range []string{"Beta-Retry-After", "X-Beta-RateLimit-Limit", "X-Beta-RateLimit-Remaining", "X-Beta-RateLimit-Reset", "X-Beta-RateLimit-NearLimit", "Beta-RateLimit-Reason"} {
		if res.header.Get(h) == "" {
			t.Errorf("header %s missing: %v", h, res.header)
		}
	}
	for _, h := range []string{"Retry-After", "X-RateLimit-Limit", "RateLimit-Reason"} {
		if res.header.Get(h) != "" {
			t.Errorf("plain header %s sent with BetaHeaders", h)
		}
	}
}

func TestFaultsPerIssueWriteLimit(t *testing.T) {
	f := NewFaults(1)
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	f.SetClock(clk.now)
	f.SetRateLimit(RateLimit{IssueWriteBurst: 2, IssueWritePerSecond: 0.1})
	srv := newFaultServer(t, f)
	for range 2 {
		if res := doFault(t, srv, "PUT", "/rest/api/3/issue/ALPHA-1"); res.status != 200 {
			t.Fatalf("write: %d", res.status)
		}
	}
	res := doFault(t, srv, "POST", "/rest/api/3/issue/ALPHA-1/transitions")
	assertJiraError(t, res, http.StatusTooManyRequests)
	if got := res.header.Get("RateLimit-Reason"); got != "jira-per-issue-on-write" {
		t.Fatalf("reason %q", got)
	}
	if got := res.header.Get("Retry-After"); got != "10" {
		t.Fatalf("Retry-After %q, want 10", got)
	}
	// Reads of that issue and writes to another are not limited by it.
	for _, c := range []struct{ method, path string }{
		{"GET", "/rest/api/3/issue/ALPHA-1"},
		{"PUT", "/rest/api/3/issue/ALPHA-2"},
		{"POST", "/rest/api/3/issue"},
		{"POST", "/rest/api/3/search/jql"},
	} {
		if res := doFault(t, srv, c.method, c.path); res.status != 200 {
			t.Fatalf("%s %s: %d", c.method, c.path, res.status)
		}
	}
}

func TestFaultsFailBurst(t *testing.T) {
	f := NewFaults(3)
	srv := newFaultServer(t, f)
	f.FailNext(3, 0, "/rest/api/3/search")
	// Requests elsewhere do not consume the burst.
	if res := doFault(t, srv, "GET", "/rest/api/3/myself"); res.status != 200 {
		t.Fatalf("unrelated path failed: %d", res.status)
	}
	var statuses []int
	for range 3 {
		res := doFault(t, srv, "POST", "/rest/api/3/search/jql")
		if res.status != 500 && res.status != 503 {
			t.Fatalf("status %d, want 500 or 503", res.status)
		}
		assertJiraError(t, res, res.status)
		statuses = append(statuses, res.status)
	}
	if res := doFault(t, srv, "POST", "/rest/api/3/search/jql"); res.status != 200 {
		t.Fatalf("after the burst: %d", res.status)
	}
	// The same seed chooses the same statuses.
	g := NewFaults(3)
	g.FailNext(3, 0, "")
	for i := range 3 {
		if d := g.decide(httptest.NewRequest("GET", "/", nil)); d.status != statuses[i] {
			t.Fatalf("seeded status %d = %d, want %d", i, d.status, statuses[i])
		}
	}
	f.FailNext(1, http.StatusBadGateway, "")
	assertJiraError(t, doFault(t, srv, "GET", "/a"), http.StatusBadGateway)
	if got := f.Stats().Failed; got != 4 {
		t.Fatalf("Failed = %d", got)
	}
}

func TestFaultsDropAndTruncate(t *testing.T) {
	f := NewFaults(1)
	srv := newFaultServer(t, f)

	f.DropNext(2, "/rest/api/3/issue")
	for range 2 {
		if res := doFault(t, srv, "GET", "/rest/api/3/issue/ALPHA-1"); res.err == nil {
			t.Fatalf("dropped connection answered %d", res.status)
		}
	}
	if res := doFault(t, srv, "GET", "/rest/api/3/issue/ALPHA-1"); res.status != 200 {
		t.Fatalf("after drops: %v %d", res.err, res.status)
	}

	f.TruncateNext(1, "")
	res := doFault(t, srv, "GET", "/rest/api/3/search/jql")
	if !errors.Is(res.err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated body: err %v", res.err)
	}
	if res.status != 200 || len(res.body) != len(faultBody)/2 || !strings.HasPrefix(faultBody, res.body) {
		t.Fatalf("truncated answer: status %d, %d of %d bytes", res.status, len(res.body), len(faultBody))
	}
	if res := doFault(t, srv, "GET", "/rest/api/3/search/jql"); res.err != nil || res.body != faultBody {
		t.Fatalf("after truncation: %v", res.err)
	}
	if st := f.Stats(); st.Dropped != 2 || st.Truncated != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFaultsDown(t *testing.T) {
	f := NewFaults(1)
	srv := newFaultServer(t, f)
	f.SetDown(true, false)
	assertJiraError(t, doFault(t, srv, "GET", "/rest/api/3/myself"), http.StatusServiceUnavailable)
	f.SetDown(true, true)
	if res := doFault(t, srv, "GET", "/rest/api/3/myself"); res.err == nil {
		t.Fatalf("down with drop answered %d", res.status)
	}
	f.SetDown(false, false)
	if res := doFault(t, srv, "GET", "/rest/api/3/myself"); res.status != 200 {
		t.Fatalf("back up: %v %d", res.err, res.status)
	}
	f.SetLatency(time.Millisecond, 0)
	f.FailNext(5, 500, "")
	f.Reset()
	if res := doFault(t, srv, "GET", "/"); res.status != 200 {
		t.Fatalf("after Reset: %d", res.status)
	}
	if st := f.Stats(); st != (FaultStats{Requests: 1}) {
		t.Fatalf("stats after Reset = %+v", st)
	}
}

func TestFaultsConcurrent(t *testing.T) {
	f := NewFaults(1)
	srv := newFaultServer(t, f)
	f.FailNext(10, 503, "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range 8 {
		wg.Go(func() {
			for range 5 {
				res := doFault(t, srv, "GET", "/x")
				if res.status == 503 {
					mu.Lock()
					failed++
					mu.Unlock()
				}
				f.SetLatency(0, time.Millisecond)
			}
		})
	}
	wg.Wait()
	if failed != 10 {
		t.Fatalf("%d requests failed, want exactly the 10 of the burst", failed)
	}
}

func TestEndpointOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/rest/api/3/issue/ALPHA-12", "/rest/api/{}/issue/{}"},
		{"/rest/api/3/issue/10001/transitions", "/rest/api/{}/issue/{}/transitions"},
		{"/rest/api/3/search/jql", "/rest/api/{}/search/jql"},
		{"/rest/api/2/project/ALPHA", "/rest/api/{}/project/ALPHA"},
		{"/rest/api/3/issue/not-a-key", "/rest/api/{}/issue/not-a-key"},
	}
	for _, tt := range tests {
		if got := endpointOf(tt.in); got != tt.want {
			t.Errorf("endpointOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if k, ok := issueOfPath("/rest/api/3/issue/ALPHA-1/comment"); !ok || k != "ALPHA-1" {
		t.Errorf("issueOfPath = %q %v", k, ok)
	}
	if _, ok := issueOfPath("/rest/api/3/issue/bulkfetch"); ok {
		t.Error("bulkfetch taken for an issue")
	}
}
