package contract

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"sync"
	"testing"
)

// Transport wraps base (http.DefaultTransport when nil) so that every request is validated
// before it is sent and every response after it is received. A mismatch, or a request to a
// path the spec does not describe and that is not ignored, is reported with tb.Errorf naming
// the method, path and what is wrong; the exchange still goes ahead, so one test run lists
// every mismatch rather than stopping at the first. Validated exchanges are recorded in
// s.Recorder().
func (s *Spec) Transport(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{spec: s, tb: tb, base: base}
}

type transport struct {
	spec *Spec
	tb   testing.TB
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.spec.ignored(req.URL.Path) {
		return t.base.RoundTrip(req)
	}
	reqBody, err := readBody(req.Body)
	if err != nil {
		return nil, fmt.Errorf("contract: read request body of %s %s: %w", req.Method, req.URL.Path, err)
	}
	// A RoundTripper must not modify the caller's request: send a clone with a fresh reader.
	out := req.Clone(req.Context())
	if req.Body != nil {
		out.Body = io.NopCloser(bytes.NewReader(reqBody))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	in, reqErr := t.spec.checkRequest(req, reqBody)
	if reqErr != nil {
		t.tb.Errorf("%v", reqErr)
	}

	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	respBody, err := readBody(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("contract: read response body of %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	if in == nil {
		return resp, nil // not in the spec: already reported
	}
	if err := t.spec.checkResponse(in, resp, respBody); err != nil {
		t.tb.Errorf("%v", err)
	} else if reqErr == nil {
		t.spec.recorder.add(Exchange{Method: req.Method, Route: in.Route.Path, Path: req.URL.Path, Status: resp.StatusCode})
	}
	return resp, nil
}

func readBody(body io.ReadCloser) ([]byte, error) {
	if body == nil || body == http.NoBody {
		return nil, nil
	}
	defer body.Close()
	return io.ReadAll(body)
}

// Exchange is one validated request/response pair.
type Exchange struct {
	Method string
	Route  string // the spec's path template, e.g. /rest/api/3/issue/{issueIdOrKey}
	Path   string // the path as sent, e.g. /rest/api/2/issue/ALPHA-1
	Status int
}

// Recorder lists the exchanges a Transport validated, so a test can assert that the
// operations it meant to check were in fact exercised. Safe for concurrent use.
type Recorder struct {
	mu sync.Mutex
	ex []Exchange
}

func (r *Recorder) add(e Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ex = append(r.ex, e)
}

// Exchanges returns a copy of everything recorded, in order.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ex)
}

// Statuses returns the distinct statuses recorded for the operation "METHOD /template", in
// ascending order.
func (r *Recorder) Statuses(operation string) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, e := range r.ex {
		if e.Method+" "+e.Route == operation && !slices.Contains(out, e.Status) {
			out = append(out, e.Status)
		}
	}
	sort.Ints(out)
	return out
}

// Missing returns the operations, written "METHOD /rest/api/3/template", for which no
// exchange was recorded.
func (r *Recorder) Missing(operations ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool, len(r.ex))
	for _, e := range r.ex {
		seen[e.Method+" "+e.Route] = true
	}
	var missing []string
	for _, op := range operations {
		if !seen[op] {
			missing = append(missing, op)
		}
	}
	return missing
}
