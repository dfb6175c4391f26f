package jira

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// silent accepts every request and never answers, like a Jira process that is stopped
// (kill -STOP) or wedged: the connection is open, nothing comes back.
func silent(n *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}
}

// shortLimits are time limits a test can afford to run out.
func shortLimits(o *Options) {
	o.HeaderTimeout = 50 * time.Millisecond
	o.RequestTimeout = 200 * time.Millisecond
}

// TestSilentSiteTimesOut: a site that accepts the connection and never answers ends each
// attempt at the header limit; the request is retried with backoff like a dropped
// connection, but only twice, and fails with a message that says what happened.
func TestSilentSiteTimesOut(t *testing.T) {
	var n atomic.Int32
	c := newTestClient(t, silent(&n), shortLimits)
	start := time.Now()
	_, err := c.Myself(context.Background())
	took := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err %v, want a *TimeoutError", err)
	}
	if want := "GET /rest/api/3/myself: Jira did not answer within 50ms (3 attempts)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error that timed out: callers would not see Jira as unreachable", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("%v reads as the caller's own deadline or cancel", err)
	}
	if n.Load() != 3 {
		t.Errorf("server saw %d attempts, want 3 (two retries)", n.Load())
	}
	if got := c.waits.all(); len(got) != 2 || got[0] != 100*time.Millisecond || got[1] != 200*time.Millisecond {
		t.Errorf("backoff %v, want [100ms 200ms]", got)
	}
	if len(*c.events) != 2 || (*c.events)[0].Reason() != "no answer within 50ms" {
		t.Errorf("events %+v, want two retries for want of an answer", *c.events)
	}
	if took > 2*time.Second {
		t.Errorf("took %v for three 50ms attempts", took)
	}
}

// TestSilentSiteWriteNotResent: a create that reached a silent Jira may have been acted on,
// so its timeout is not retried.
func TestSilentSiteWriteNotResent(t *testing.T) {
	var n atomic.Int32
	c := newTestClient(t, silent(&n), shortLimits)
	_, err := c.CreateIssue(context.Background(), map[string]any{"summary": "x"})
	if want := "POST /rest/api/3/issue: Jira did not answer within 50ms"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if n.Load() != 1 {
		t.Errorf("create sent %d times, want once", n.Load())
	}
}

// TestSlowBodyStreams: the header limit stops once the answer begins, so a page that
// streams for longer than it, within the request limit, arrives whole.
func TestSlowBodyStreams(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		fmt.Fprint(w, `{"accountId":"a1",`)
		w.(http.Flusher).Flush()
		time.Sleep(120 * time.Millisecond) // more than the header limit, less than the request's
		fmt.Fprint(w, `"displayName":"Alice"}`)
	})
	c := newTestClient(t, h, shortLimits)
	u, err := c.Myself(context.Background())
	if err != nil || u.DisplayName != "Alice" {
		t.Fatalf("user %+v, err %v", u, err)
	}
}

// TestStalledBodyTimesOut: an answer that begins and then stops ends at the request limit.
func TestStalledBodyTimesOut(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		fmt.Fprint(w, `{"issues":[{"id":"1",`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := newTestClient(t, h, shortLimits)
	start := time.Now()
	_, _, err := c.read(context.Background(), "POST", "/rest/api/3/search/jql", nil, map[string]any{"jql": "project = A"})
	var te *TimeoutError
	if !errors.As(err, &te) || !te.Body {
		t.Fatalf("err %v, want a *TimeoutError for the body", err)
	}
	if want := "POST /rest/api/3/search/jql: read response: Jira did not finish answering within 200ms"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v for a 200ms limit", took)
	}
}

// TestTimeoutDefaults: limits left zero get the defaults; negative ones turn them off.
func TestTimeoutDefaults(t *testing.T) {
	for _, tt := range []struct {
		header, request, wantHeader, wantRequest time.Duration
	}{
		{0, 0, DefaultHeaderTimeout, DefaultRequestTimeout},
		{5 * time.Second, 10 * time.Second, 5 * time.Second, 10 * time.Second},
		{-1, -1, -1, -1},
	} {
		c, err := New(context.Background(), Options{BaseURL: "https://acme.atlassian.net", Dialect: Cloud, HeaderTimeout: tt.header, RequestTimeout: tt.request})
		if err != nil {
			t.Fatal(err)
		}
		if c.t.headerTimeout != tt.wantHeader || c.t.reqTimeout != tt.wantRequest {
			t.Errorf("options %v/%v: limits %v/%v, want %v/%v", tt.header, tt.request, c.t.headerTimeout, c.t.reqTimeout, tt.wantHeader, tt.wantRequest)
		}
	}
	if DefaultHeaderTimeout != 30*time.Second || (&TimeoutError{Limit: DefaultHeaderTimeout}).Error() != "Jira did not answer within 30s" {
		t.Errorf("default header limit %v reads %q", DefaultHeaderTimeout, &TimeoutError{Limit: DefaultHeaderTimeout})
	}
	if s := (&TimeoutError{Limit: DefaultRequestTimeout, Body: true}).Error(); !strings.HasSuffix(s, "within 1m") {
		t.Errorf("request limit reads %q", s)
	}
}
