package jira

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testEmail = "alice@example.com"
	testToken = "s3cr3t-api-token-value"
)

// waits records the delays the transport would have slept, without sleeping them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

type testClient struct {
	*Client
	srv    *httptest.Server
	waits  *waits
	debug  *bytes.Buffer
	events *[]Event
}

// newTestClient serves h and returns a Cloud client for it whose waits are recorded, not slept,
// and whose jitter is off so backoff is exact.
func newTestClient(t *testing.T, h http.Handler, mod func(*Options)) *testClient {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var dbg bytes.Buffer
	var mu sync.Mutex
	var events []Event
	o := Options{
		BaseURL: srv.URL, Dialect: Cloud, Email: testEmail, Token: testToken,
		Debug: &dbg, RequestsPerSecond: -1, BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
		OnEvent: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	c.t.sleep = w.sleep
	c.t.jitter = func(d time.Duration) time.Duration { return d }
	return &testClient{Client: c, srv: srv, waits: w, debug: &dbg, events: &events}
}

func TestRetryAfterHonoured(t *testing.T) {
	date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		status  int
		header  string
		value   string
		want    time.Duration
		slack   time.Duration
		retries int64
	}{
		{"429 seconds", 429, "Retry-After", "7", 7 * time.Second, 0, 3},
		{"429 fractional", 429, "retry-after", "0.5", 500 * time.Millisecond, 0, 3},
		{"503 seconds", 503, "Retry-After", "2", 2 * time.Second, 0, 3},
		{"429 Beta prefix", 429, "Beta-Retry-After", "4", 4 * time.Second, 0, 3},
		{"429 X-Beta prefix", 429, "X-Beta-Retry-After", "5", 5 * time.Second, 0, 3},
		{"429 http date", 429, "Retry-After", date, 3 * time.Second, 1100 * time.Millisecond, 3},
		{"429 without header backs off", 429, "", "", 0, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= 3 {
					if tt.header != "" {
						w.Header()[tt.header] = []string{tt.value} // raw key: case must not matter
					}
					w.WriteHeader(tt.status)
					return
				}
				fmt.Fprint(w, `{"accountId":"a1","displayName":"Alice"}`)
			})
			c := newTestClient(t, h, nil)
			u, err := c.Myself(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if u.AccountID != "a1" {
				t.Fatalf("user %+v", u)
			}
			got := c.waits.all()
			if len(got) != 3 {
				t.Fatalf("waits %v, want 3", got)
			}
			for i, d := range got {
				want := tt.want
				if tt.header == "" {
					want = 100 * time.Millisecond << i
				}
				if d < want-tt.slack || d > want {
					t.Errorf("wait %d = %v, want %v (slack %v)", i, d, want, tt.slack)
				}
			}
			st := c.Stats()
			if st.Requests != 4 || st.Retries != 3 || st.RateLimitWaits != 3 {
				t.Errorf("stats %+v", st)
			}
			if len(*c.events) != 3 || (*c.events)[0].Kind != EventRateLimited || (*c.events)[0].Status != tt.status {
				t.Errorf("events %+v", *c.events)
			}
		})
	}
}

func TestRateLimitStormGivesUp(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("RateLimit-Reason", "jira-burst-based")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"errorMessages":["Rate limit exceeded."]}`)
	})
	c := newTestClient(t, h, func(o *Options) { o.MaxRetries = 4 })
	_, err := c.Myself(context.Background())
	var rl *RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("err %T %v, want RateLimitedError", err, err)
	}
	if rl.Wait != time.Second || rl.Reason != "jira-burst-based" || rl.Status != 429 {
		t.Errorf("rate limited %+v", rl)
	}
	if got := c.Stats().Requests; got != 5 {
		t.Errorf("requests %d, want 5 (1 + 4 retries)", got)
	}
	if want := "GET /rest/api/3/myself: 429 Too Many Requests: Rate limit exceeded. (jira-burst-based); retry after 1s"; err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
}

func TestRetryAfterLongerThanLimitReturnsAtOnce(t *testing.T) {
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(429)
	})
	c := newTestClient(t, h, func(o *Options) { o.MaxRetryAfter = time.Minute })
	_, err := c.Myself(context.Background())
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.Wait != time.Hour {
		t.Fatalf("err %v", err)
	}
	if n.Load() != 1 || len(c.waits.all()) != 0 {
		t.Errorf("requests %d waits %v: want one request and no wait", n.Load(), c.waits.all())
	}
}

func TestServerErrorRetries(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		status   int
		wantReqs int32
		wantErr  bool
	}{
		{"GET 500 retried", "GET", "/rest/api/3/myself", 500, 3, false},
		{"GET 502 retried", "GET", "/rest/api/3/myself", 502, 3, false},
		{"GET 504 retried", "GET", "/rest/api/3/myself", 504, 3, false},
		{"PUT 500 retried", "PUT", "/rest/api/3/issue/A-1", 500, 3, false},
		{"search POST 500 retried", "POST", "/rest/api/3/search/jql", 500, 3, false},
		{"create POST 500 not retried", "POST", "/rest/api/3/issue", 500, 1, true},
		{"create POST 503 retried", "POST", "/rest/api/3/issue", 503, 3, false},
		{"GET 501 not retried", "GET", "/rest/api/3/myself", 501, 1, true},
		{"GET 400 not retried", "GET", "/rest/api/3/myself", 400, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			var bodies []string
			var mu sync.Mutex
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
				if n.Add(1) <= 2 {
					w.WriteHeader(tt.status)
					return
				}
				fmt.Fprint(w, `{"id":"1","key":"A-1"}`)
			})
			c := newTestClient(t, h, nil)
			var body any
			if tt.method != "GET" {
				body = map[string]any{"jql": "project = A"}
			}
			err := c.do(context.Background(), tt.method, tt.path, nil, body, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if n.Load() != tt.wantReqs {
				t.Errorf("requests %d, want %d", n.Load(), tt.wantReqs)
			}
			for _, b := range bodies[1:] {
				if b != bodies[0] {
					t.Errorf("retried body %q differs from first %q", b, bodies[0])
				}
			}
			if !tt.wantErr && tt.wantReqs == 3 {
				got := c.waits.all()
				if len(got) != 2 || got[0] != 100*time.Millisecond || got[1] != 200*time.Millisecond {
					t.Errorf("backoff %v, want [100ms 200ms]", got)
				}
			}
		})
	}
}

func TestBackoffCapAndJitter(t *testing.T) {
	tr := &transport{baseBackoff: 100 * time.Millisecond, maxBackoff: 450 * time.Millisecond, jitter: func(d time.Duration) time.Duration { return d }}
	want := []time.Duration{100, 200, 400, 450, 450, 450}
	for i, w := range want {
		if got := tr.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	for range 1000 {
		d := equalJitter(time.Second)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jitter %v outside [500ms, 1s]", d)
		}
	}
}

// dropping hijacks the connection after reading the request: the request reached the server,
// the answer never comes back.
func dropping(n *atomic.Int32, okAfter int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1) <= okAfter {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		fmt.Fprint(w, `{"id":"10001","key":"A-1","issues":[],"isLast":true}`)
	}
}

func TestDroppedConnection(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		wantReqs int32
		wantErr  bool
	}{
		{"create issue not replayed", "POST", "/rest/api/3/issue", 1, true},
		{"transition not replayed", "POST", "/rest/api/3/issue/A-1/transitions", 1, true},
		{"search/jql replayed", "POST", "/rest/api/3/search/jql", 2, false},
		{"bulkfetch replayed", "POST", "/rest/api/3/issue/bulkfetch", 2, false},
		{"permissions/check replayed", "POST", "/rest/api/3/permissions/check", 2, false},
		{"GET replayed", "GET", "/rest/api/3/issue/A-1", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			c := newTestClient(t, dropping(&n, 1), nil)
			var body any
			if tt.method == "POST" {
				body = map[string]any{"x": 1}
			}
			err := c.do(context.Background(), tt.method, tt.path, nil, body, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if n.Load() != tt.wantReqs {
				t.Errorf("server saw %d requests, want %d", n.Load(), tt.wantReqs)
			}
			if err != nil && !strings.HasPrefix(err.Error(), tt.method+" "+tt.path+": ") {
				t.Errorf("error does not name the request: %v", err)
			}
		})
	}
}

func TestPOSTRetriedWhenNeverSent(t *testing.T) {
	// A refused connection means nothing reached the server: even a create may go again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(context.Background(), Options{BaseURL: "http://" + addr, Dialect: DataCenter, Token: testToken, MaxRetries: 2, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	w := &waits{}
	c.t.sleep = w.sleep
	_, err = c.CreateIssue(context.Background(), map[string]any{"summary": "x"})
	if err == nil {
		t.Fatal("want a connection error")
	}
	if got := c.Stats().Requests; got != 3 {
		t.Errorf("attempts %d, want 3", got)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("token in error: %v", err)
	}
}

func TestContextCancelDuringWait(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(429)
	})
	c := newTestClient(t, h, nil)
	c.t.sleep = sleepCtx // really wait, so the cancel has something to interrupt
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Myself(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("cancel took %v", took)
	}
}

func TestContextCancelDuringPacing(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })
	c := newTestClient(t, h, func(o *Options) { o.RequestsPerSecond = 0.01 })
	c.t.sleep = sleepCtx
	if _, err := c.Myself(context.Background()); err != nil { // spends the one token
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Myself(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded while paced", err)
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	var evilHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
	}))
	defer evil.Close()
	h := http.NewServeMux()
	h.HandleFunc("/rest/api/3/myself", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/steal", http.StatusFound)
	})
	h.HandleFunc("/rest/api/3/field", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/rest/api/2/field", http.StatusMovedPermanently)
	})
	h.HandleFunc("/rest/api/2/field", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(401)
			return
		}
		fmt.Fprint(w, `[]`)
	})
	c := newTestClient(t, h, nil)
	_, err := c.Myself(context.Background())
	var re *RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("err %v, want RedirectError", err)
	}
	if evilHits.Load() != 0 {
		t.Errorf("the other host was contacted")
	}
	// A same-host redirect is followed, with credentials.
	if err := c.do(context.Background(), "GET", "/rest/api/3/field", nil, nil, nil); err != nil {
		t.Errorf("same-host redirect: %v", err)
	}
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		status int
		body   string
		check  func(error) bool
		msg    string
	}{
		{401, `{"errorMessages":["You are not authenticated."]}`, func(e error) bool { var x *UnauthorizedError; return errors.As(e, &x) },
			"GET /rest/api/3/myself: 401 Unauthorized: You are not authenticated."},
		{403, `{"errorMessages":["No permission."],"errors":{}}`, func(e error) bool { var x *ForbiddenError; return errors.As(e, &x) },
			"GET /rest/api/3/myself: 403 Forbidden: No permission."},
		{404, `{"errorMessages":["Issue does not exist or you do not have permission to see it."]}`, func(e error) bool { var x *NotFoundError; return errors.As(e, &x) },
			"GET /rest/api/3/myself: 404 Not Found: Issue does not exist or you do not have permission to see it."},
		{410, `{"errorMessages":["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."]}`, func(e error) bool { var x *GoneError; return errors.As(e, &x) },
			"GET /rest/api/3/myself: 410 Gone: The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. (the endpoint was removed from Jira; Cloud search must use POST /rest/api/3/search/jql)"},
		{400, `{"errorMessages":[],"errors":{"summary":"Summary is required.","assignee":"User does not exist."}}`, func(e error) bool {
			var x *APIError
			return errors.As(e, &x) && x.Errors["summary"] == "Summary is required."
		}, "GET /rest/api/3/myself: 400 Bad Request: assignee: User does not exist.; summary: Summary is required."},
		{500, "<html>\n<body>Oops</body>\n</html>", func(e error) bool { var x *APIError; return errors.As(e, &x) && x.Status == 500 },
			"GET /rest/api/3/myself: 500 Internal Server Error: <html> <body>Oops</body> </html>"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			c := newTestClient(t, h, func(o *Options) { o.MaxRetries = -1 })
			_, err := c.Myself(context.Background())
			if err == nil || !tt.check(err) {
				t.Fatalf("err %T %v", err, err)
			}
			var api *APIError
			if !errors.As(err, &api) || api.Status != tt.status || api.Method != "GET" || api.Path != "/rest/api/3/myself" {
				t.Errorf("APIError %+v", api)
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got %s\nwant %s", err, tt.msg)
			}
		})
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte(testEmail + ":" + testToken))
	h := http.NewServeMux()
	for status, path := range map[int]string{401: "/401", 403: "/403", 404: "/404", 410: "/410", 429: "/429", 400: "/400", 500: "/500"} {
		h.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			// A hostile or buggy server echoing the credentials back must not leak them either.
			w.Header().Set("Retry-After", "0")
			w.Header().Set("Set-Cookie", "session="+testToken)
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"errorMessages":["bad auth %s"]}`, r.Header.Get("Authorization"))
		})
	}
	h.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.invalid/?token="+testToken, http.StatusFound)
	})
	h.HandleFunc("/drop", func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	h.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })
	for _, dialect := range []Dialect{Cloud, DataCenter} {
		t.Run(string(dialect), func(t *testing.T) {
			c := newTestClient(t, h, func(o *Options) { o.Dialect = dialect; o.MaxRetries = 1 })
			paths := []string{"/401", "/403", "/404", "/410", "/429", "/400", "/500", "/redirect", "/drop"}
			for _, p := range paths {
				err := c.do(context.Background(), "POST", p, nil, map[string]string{"a": "b"}, nil)
				if err == nil {
					t.Fatalf("%s: want an error", p)
				}
				for _, s := range []string{testToken, basic} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%s: secret in error: %v", p, err)
					}
				}
			}
			if err := c.do(context.Background(), "GET", "/ok", url1("apiToken", testToken), nil, nil); err != nil {
				t.Fatal(err)
			}
			dump := c.debug.String()
			for _, s := range []string{testToken, basic} {
				if strings.Contains(dump, s) {
					t.Errorf("secret in debug dump:\n%s", dump)
				}
			}
			if !strings.Contains(dump, "Authorization: REDACTED") || !strings.Contains(dump, "--> POST") || !strings.Contains(dump, "<-- 401") {
				t.Errorf("dump lacks expected lines:\n%s", dump)
			}
		})
	}
}

func TestDialectDetectionAndAuth(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(testEmail+":"+testToken))
	tests := []struct {
		deployment string
		email      string
		want       Dialect
		wantAuth   string
	}{
		{"Cloud", testEmail, Cloud, basic},
		{"Server", "", DataCenter, "Bearer " + testToken},
		{"DataCenter", "", DataCenter, "Bearer " + testToken},
	}
	for _, tt := range tests {
		t.Run(tt.deployment, func(t *testing.T) {
			var gotAuth atomic.Value
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/rest/api/2/serverInfo":
					fmt.Fprintf(w, `{"deploymentType":%q,"version":"9.12.0"}`, tt.deployment)
				default:
					gotAuth.Store(r.Header.Get("Authorization"))
					fmt.Fprint(w, `{"name":"bob","key":"JIRAUSER1","displayName":"Bob","active":true,"groups":{"size":1,"items":[{"name":"jira-users"}]}}`)
				}
			})
			c := newTestClient(t, h, func(o *Options) { o.Dialect = ""; o.Email = tt.email })
			if c.Dialect() != tt.want {
				t.Fatalf("dialect %q, want %q", c.Dialect(), tt.want)
			}
			u, err := c.Myself(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if gotAuth.Load() != tt.wantAuth {
				t.Errorf("auth %q, want %q", gotAuth.Load(), tt.wantAuth)
			}
			if len(u.Groups) != 1 || u.Groups[0] != "jira-users" || u.ID() != "bob" {
				t.Errorf("user %+v", u)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []Options{
		{BaseURL: "acme.atlassian.net", Dialect: Cloud},
		{BaseURL: "ftp://acme", Dialect: Cloud},
		{BaseURL: "https://user:pw@acme.atlassian.net", Dialect: Cloud},
		{BaseURL: "https://acme.atlassian.net?x=1", Dialect: Cloud},
		{BaseURL: "https://acme.atlassian.net", Dialect: "server"},
		{BaseURL: "https://acme.atlassian.net", Dialect: Cloud, Token: testToken}, // no email
	}
	for _, o := range tests {
		if _, err := New(context.Background(), o); err == nil {
			t.Errorf("%+v: want an error", o)
		} else if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), testToken) {
			t.Errorf("secret in error: %v", err)
		}
	}
}

func TestNearLimitAndQuota(t *testing.T) {
	reset := time.Now().Add(20 * time.Second).UTC().Format(time.RFC3339)
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header()["x-ratelimit-nearlimit"] = []string{"true"}
		case 2:
			w.Header().Set("X-Beta-RateLimit-Remaining", "0")
			w.Header().Set("X-Beta-RateLimit-Reset", reset)
		}
		fmt.Fprint(w, `{}`)
	})
	c := newTestClient(t, h, nil)
	for range 3 {
		if _, err := c.Myself(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.NearLimit != 1 || st.RateLimitWaits != 1 {
		t.Errorf("stats %+v", st)
	}
	got := c.waits.all()
	if len(got) != 1 || got[0] < 15*time.Second || got[0] > 20*time.Second {
		t.Errorf("waits %v, want one wait until the reset", got)
	}
	kinds := []EventKind{}
	for _, e := range *c.events {
		kinds = append(kinds, e.Kind)
	}
	if fmt.Sprint(kinds) != fmt.Sprint([]EventKind{EventNearLimit, EventQuotaWait}) {
		t.Errorf("events %v", kinds)
	}
}

func TestPacer(t *testing.T) {
	p := newPacer(10) // burst 10
	now := time.Unix(1000, 0)
	for i := range 10 {
		if d := p.reserve(now); d != 0 {
			t.Fatalf("request %d within burst waited %v", i, d)
		}
	}
	if d := p.reserve(now); d != 100*time.Millisecond {
		t.Errorf("11th waits %v, want 100ms", d)
	}
	if d := p.reserve(now); d != 200*time.Millisecond {
		t.Errorf("12th waits %v, want 200ms", d)
	}
	// After a second the bucket has refilled by 10, minus the two borrowed.
	now = now.Add(time.Second)
	for i := range 8 {
		if d := p.reserve(now); d != 0 {
			t.Fatalf("refilled request %d waited %v", i, d)
		}
	}
	p.slowDown(now.Add(time.Minute))
	if d := p.reserve(now); d != 200*time.Millisecond {
		t.Errorf("slowed pacer waits %v, want 200ms at half rate", d)
	}
	if d := newPacer(-1).reserve(now); d != 0 {
		t.Errorf("unpaced waited %v", d)
	}
}

func TestRateHeaderLookup(t *testing.T) {
	tests := []struct {
		key, name, want string
	}{
		{"Retry-After", "Retry-After", "3"},
		{"Beta-X-Retry-After", "Retry-After", "3"},
		{"XRetry-After", "Retry-After", ""},
		{"Foo-Retry-After", "Retry-After", ""},
		{"After", "Retry-After", ""},
		{"retry-after", "Retry-After", "3"},
		{"Beta-Retry-After", "Retry-After", "3"},
		{"X-Beta-Retry-After", "Retry-After", "3"},
		{"x-ratelimit-reset", "RateLimit-Reset", "3"},
		{"RateLimit-Reset", "RateLimit-Reset", "3"},
		{"X-Beta-RateLimit-NearLimit", "RateLimit-NearLimit", "3"},
		{"X-Something-Else", "Retry-After", ""},
	}
	for _, tt := range tests {
		h := http.Header{tt.key: {" 3 "}}
		if got := rateHeader(h, tt.name); got != tt.want {
			t.Errorf("%s as %s: %q, want %q", tt.key, tt.name, got, tt.want)
		}
	}
	// Several present: the earlier prefix wins, whatever the map's order; an empty value
	// does not count.
	for _, h := range []http.Header{
		{"Beta-X-Retry-After": {"5"}, "X-Beta-Retry-After": {"4"}, "Beta-Retry-After": {"3"}, "X-Retry-After": {"2"}, "Retry-After": {"1"}},
		{"Beta-X-Retry-After": {"5"}, "x-retry-after": {"1"}, "Retry-After": {}},
	} {
		for range 20 {
			if got := rateHeader(h, "Retry-After"); got != "1" {
				t.Fatalf("%v: %q, want the unprefixed or X- value 1", h, got)
			}
		}
	}
	if got := rateHeader(http.Header{"Beta-X-Retry-After": {"5"}, "X-Beta-Retry-After": {"4"}}, "Retry-After"); got != "4" {
		t.Errorf("X-Beta- and Beta-X-: %q, want 4", got)
	}
}

func url1(k, v string) map[string][]string { return map[string][]string{k: {v}} }
