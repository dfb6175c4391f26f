package contract

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// failures stands in for *testing.T so a test can see what Transport reports without
// failing itself. Embedding testing.TB satisfies the interface's unexported method.
type failures struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (f *failures) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func (f *failures) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

// cannedSite answers a few Cloud endpoints, correctly or not depending on the path, and
// echoes what it received so the test can check the request body arrived intact.
func cannedSite(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server read body: %v", err)
		}
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		switch r.URL.Path {
		case "/rest/api/3/myself":
			io.WriteString(w, alice)
		case "/rest/api/2/serverInfo":
			// Wrong: buildNumber is an integer in the spec.
			io.WriteString(w, `{"baseUrl":"http://x","deploymentType":"Cloud","buildNumber":"100"}`)
		case "/rest/api/3/search/jql":
			io.WriteString(w, `{"issues":[],"isLast":true}`)
		case "/rest/webhooks/1.0/webhook":
			io.WriteString(w, `[{"anything":"goes"}]`)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errorMessages":["not here"],"errors":{}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &bodies
}

func TestTransport(t *testing.T) {
	srv, bodies := cannedSite(t)
	s := mustLoad(t)
	s.Ignore("/rest/webhooks/")
	tb := &failures{TB: t}
	client := &http.Client{Transport: s.Transport(tb, srv.Client().Transport)}

	do := func(method, path, body string) string {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(got)
	}

	search := `{"jql":"project = ALPHA","fields":["id"],"maxResults":5000}`
	steps := []struct {
		method, path, body string
		wantBody           string // the caller still sees the full response body
		wantReport         string // substring of the one report expected; "" for none
	}{
		{"GET", "/rest/api/3/myself", "", alice, ""},
		{"POST", "/rest/api/3/search/jql", search, `{"issues":[],"isLast":true}`, ""},
		{"GET", "/rest/api/2/serverInfo", "", `{"baseUrl":"http://x","deploymentType":"Cloud","buildNumber":"100"}`, "GET /rest/api/2/serverInfo"},
		{"POST", "/rest/api/3/search/jql", `{"jql":"project = ALPHA","startAt":0}`, `{"issues":[],"isLast":true}`, "POST /rest/api/3/search/jql"},
		{"GET", "/rest/api/3/nothing-here", "", `{"errorMessages":["not here"],"errors":{}}`, "no operation"},
		{"GET", "/rest/webhooks/1.0/webhook", "", `[{"anything":"goes"}]`, ""},
	}
	for _, st := range steps {
		before := len(tb.list())
		if got := do(st.method, st.path, st.body); got != st.wantBody {
			t.Errorf("%s %s: caller got body %q, want %q", st.method, st.path, got, st.wantBody)
		}
		reports := tb.list()[before:]
		switch {
		case st.wantReport == "" && len(reports) > 0:
			t.Errorf("%s %s: unexpected reports %q", st.method, st.path, reports)
		case st.wantReport != "" && (len(reports) != 1 || !strings.Contains(reports[0], st.wantReport)):
			t.Errorf("%s %s: reports %q, want one mentioning %q", st.method, st.path, reports, st.wantReport)
		}
	}

	if got := (*bodies)[1]; got != search {
		t.Errorf("server received %q, want the request body unchanged %q", got, search)
	}

	// Only the fully valid exchanges are recorded; ignored and failing ones are not.
	want := []Exchange{
		{Method: "GET", Route: "/rest/api/3/myself", Path: "/rest/api/3/myself", Status: 200},
		{Method: "POST", Route: "/rest/api/3/search/jql", Path: "/rest/api/3/search/jql", Status: 200},
	}
	if got := s.Recorder().Exchanges(); !slices.Equal(got, want) {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
	if got := s.Recorder().Missing("GET /rest/api/3/myself", "GET /rest/api/3/serverInfo", "POST /rest/api/3/search/jql"); !slices.Equal(got, []string{"GET /rest/api/3/serverInfo"}) {
		t.Errorf("Missing = %q", got)
	}
	if got := s.Recorder().Statuses("POST /rest/api/3/search/jql"); !slices.Equal(got, []int{200}) {
		t.Errorf("Statuses = %v", got)
	}
}

// The transport must not consume the caller's request: a retrying client re-sends it.
func TestTransportLeavesRequestReusable(t *testing.T) {
	srv, bodies := cannedSite(t)
	s := mustLoad(t)
	tb := &failures{TB: t}
	rt := s.Transport(tb, srv.Client().Transport)
	body := `{"jql":"project = ALPHA"}`
	req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/rest/api/3/search/jql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for range 2 {
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := *bodies; !slices.Equal(got, []string{body, body}) {
		t.Errorf("server received %q", got)
	}
	if msgs := tb.list(); len(msgs) > 0 {
		t.Errorf("unexpected reports: %q", msgs)
	}
}

// Clients fetch pages in parallel: validation and recording must hold up under -race.
func TestTransportConcurrent(t *testing.T) {
	srv, _ := cannedSite(t)
	s := mustLoad(t)
	tb := &failures{TB: t}
	client := &http.Client{Transport: s.Transport(tb, srv.Client().Transport)}
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/rest/api/3/search/jql", strings.NewReader(`{"jql":"project = ALPHA"}`))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if msgs := tb.list(); len(msgs) > 0 {
		t.Errorf("unexpected reports: %q", msgs)
	}
	if got := len(s.Recorder().Exchanges()); got != n {
		t.Errorf("recorded %d exchanges, want %d", got, n)
	}
}
