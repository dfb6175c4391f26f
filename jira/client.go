// Package jira is Foundation's Jira REST client for Cloud and Data Center. It sends through
// go-jira and adds what go-jira lacks: the Cloud search API that replaced /search, bulk fetch
// and permission checks, a retrying and pacing transport, typed errors, fast page decoding,
// webhook payloads and signatures, and ADF rendering.
package jira

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gojira "github.com/andygrunwald/go-jira"
)

// Dialect is the flavour of Jira a site runs.
type Dialect string

const (
	Cloud      Dialect = "cloud"
	DataCenter Dialect = "datacenter"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the site, e.g. https://acme.atlassian.net or https://jira.example.com/jira.
	BaseURL string
	// Dialect is Cloud or DataCenter; empty asks serverInfo.
	Dialect Dialect
	// Email and Token: Cloud authenticates with Basic email:API token, Data Center with the
	// token alone as a Bearer personal access token.
	Email, Token string
	// HTTPClient is an optional base: its Transport and Timeout are kept, its redirect policy
	// is replaced by one that refuses other hosts.
	HTTPClient *http.Client
	// Debug receives an HTTP dump of every attempt, with credentials redacted.
	Debug io.Writer
	// MaxRetries is how often a failed attempt is retried: 0 means 5, negative means never.
	// An attempt that ran out of time is retried at most twice: each one costs the whole limit.
	MaxRetries int
	// BaseBackoff is the first retry delay, doubled per attempt (default 500ms).
	BaseBackoff time.Duration
	// MaxBackoff caps the exponential backoff (default 30s).
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client sits out; a longer one comes back as
	// a RateLimitedError at once (default 2m).
	MaxRetryAfter time.Duration
	// RequestsPerSecond paces requests client-side: 0 means DefaultRequestsPerSecond,
	// negative means unpaced (Jira's 429s and Retry-After still slow the client down).
	RequestsPerSecond float64
	// HeaderTimeout is how long one attempt waits for Jira to begin its answer (connect, send
	// the request, receive status and headers): 0 means DefaultHeaderTimeout, negative means
	// no limit. Without it a site that accepts connections but never answers holds a
	// request, and the refresh behind it, forever.
	HeaderTimeout time.Duration
	// RequestTimeout bounds one attempt as a whole, its answer read to the end included: 0
	// means DefaultRequestTimeout, negative means no limit. It is longer than HeaderTimeout
	// so that a large search page that began in time has room to stream.
	RequestTimeout time.Duration
	// OnEvent is told about retries and rate-limit waits, e.g. to show progress. It runs on the
	// requesting goroutine and must be quick.
	OnEvent func(Event)
}

// Defaults of the Options left zero.
const (
	DefaultRequestsPerSecond = 20
	DefaultHeaderTimeout     = 30 * time.Second
	DefaultRequestTimeout    = 60 * time.Second
)

// Client talks to one Jira site. It is safe for concurrent use.
type Client struct {
	jc      *gojira.Client
	baseStr string // base.String(), which every request's URL starts with
	base    *url.URL
	dialect Dialect
	t       *transport
	stats   *counters
	cred    Credentials // what it signs in with; only ever fingerprinted
	// pages recycles the answer buffers of lazy search pages (*bytes.Buffer): a full sync
	// reads half a gigabyte of them, garbage the moment each page is decoded.
	pages sync.Pool
}

// New builds a client and, when o.Dialect is empty, asks the site which dialect it runs.
func New(ctx context.Context, o Options) (*Client, error) {
	base, err := parseBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	switch o.Dialect {
	case "", Cloud, DataCenter:
	default:
		return nil, fmt.Errorf("jira: unknown dialect %q (want %q or %q)", o.Dialect, Cloud, DataCenter)
	}
	hc := &http.Client{}
	var rt http.RoundTripper = http.DefaultTransport
	if o.HTTPClient != nil {
		hc.Timeout = o.HTTPClient.Timeout
		if o.HTTPClient.Transport != nil {
			rt = o.HTTPClient.Transport
		}
	}
	stats := &counters{}
	t := &transport{
		base:          rt,
		maxRetries:    o.MaxRetries,
		baseBackoff:   o.BaseBackoff,
		maxBackoff:    o.MaxBackoff,
		maxRetryAfter: o.MaxRetryAfter,
		headerTimeout: o.HeaderTimeout,
		reqTimeout:    o.RequestTimeout,
		pacer:         newPacer(o.RequestsPerSecond),
		onEvent:       o.OnEvent,
		stats:         stats,
		debug:         o.Debug,
		sleep:         sleepCtx,
		jitter:        equalJitter,
	}
	if t.maxRetries == 0 {
		t.maxRetries = 5
	} else if t.maxRetries < 0 {
		t.maxRetries = 0
	}
	if t.baseBackoff <= 0 {
		t.baseBackoff = 500 * time.Millisecond
	}
	if t.maxBackoff <= 0 {
		t.maxBackoff = 30 * time.Second
	}
	if t.maxRetryAfter <= 0 {
		t.maxRetryAfter = 2 * time.Minute
	}
	if o.RequestsPerSecond == 0 {
		t.pacer = newPacer(DefaultRequestsPerSecond)
	}
	if t.headerTimeout == 0 {
		t.headerTimeout = DefaultHeaderTimeout
	}
	if t.reqTimeout == 0 {
		t.reqTimeout = DefaultRequestTimeout
	}
	basic := base64.StdEncoding.EncodeToString([]byte(o.Email + ":" + o.Token))
	t.secrets = []string{o.Token, basic}
	hc.Transport = t
	hc.CheckRedirect = checkRedirect(base)

	jc, err := gojira.NewClient(hc, base.String()+"/")
	if err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	c := &Client{jc: jc, baseStr: base.String(), base: base, dialect: o.Dialect, t: t, stats: stats,
		cred: Credentials{baseURL: base.String(), email: o.Email, token: o.Token}}

	authFor := func(d Dialect) (string, error) {
		switch {
		case o.Token == "":
			return "", nil // anonymous access
		case d == Cloud && o.Email == "":
			return "", errors.New("jira: a Cloud site needs the account email with the API token")
		case d == Cloud:
			return "Basic " + basic, nil
		default:
			return "Bearer " + o.Token, nil
		}
	}
	if c.dialect == "" {
		// Until serverInfo answers, guess from the credentials: only Cloud logs in by email.
		guess := DataCenter
		if o.Email != "" {
			guess = Cloud
		}
		a, _ := authFor(guess)
		t.authorization.Store(&a)
		info, err := c.ServerInfo(ctx)
		if err != nil {
			return nil, fmt.Errorf("jira: detect dialect of %s: %w", base.Host, err)
		}
		c.dialect = info.Dialect()
	}
	a, err := authFor(c.dialect)
	if err != nil {
		return nil, err
	}
	t.authorization.Store(&a)
	return c, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(raw), "/"))
	if err != nil {
		return nil, fmt.Errorf("jira: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("jira: base URL %q: want http(s)://host[/path]", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("jira: base URL %q: credentials belong in the token settings, not the URL", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("jira: base URL %q: no query or fragment allowed", u.Redacted())
	}
	return u, nil
}

// Dialect is the site's dialect, configured or detected.
func (c *Client) Dialect() Dialect { return c.dialect }

// BaseURL is the site's base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// Stats returns the traffic counters so far.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// api is the REST path of a resource in the dialect's main API version: v3 on Cloud (ADF rich
// text, the version the spec describes), v2 on Data Center (the only one it has).
func (c *Client) api(resource string) string {
	if c.dialect == Cloud {
		return "/rest/api/3/" + resource
	}
	return "/rest/api/2/" + resource
}

// do sends one request through go-jira and decodes a 2xx JSON answer into out (when not nil).
// Non-2xx answers become the typed errors of errors.go; every error names method and path.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, fullPath, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty 2xx body leaves out untouched
		}
		return fmt.Errorf("%s %s: decode response: %w", method, fullPath, err)
	}
	return nil
}

// doPage sends a search or bulk fetch request and decodes the page with the fast decoder.
func (c *Client) doPage(ctx context.Context, method, path string, body any) (*page, error) {
	b, fullPath, err := c.read(ctx, method, path, nil, body)
	if err != nil {
		return nil, err
	}
	p, err := decodePage(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: decode response: %w", method, fullPath, err)
	}
	return p, nil
}

// read sends a request and returns the whole body of its 2xx answer, for the fast decoders.
func (c *Client) read(ctx context.Context, method, path string, query url.Values, body any) ([]byte, string, error) {
	return c.readInto(ctx, new(bytes.Buffer), method, path, query, body)
}

// readInto is read into buf, which it resets.
func (c *Client) readInto(ctx context.Context, buf *bytes.Buffer, method, path string, query url.Values, body any) ([]byte, string, error) {
	buf.Reset()
	resp, fullPath, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return nil, fullPath, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > 0 {
		// ReadFrom wants MinRead bytes free before each read, the one that finds the end
		// too: without them a body of exactly the announced length is copied once more.
		buf.Grow(int(min(resp.ContentLength, 64<<20)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fullPath, c.t.scrubErr(fmt.Errorf("%s %s: read response: %w", method, fullPath, err))
	}
	return buf.Bytes(), fullPath, nil
}

// send performs the request and returns a 2xx response whose body the caller must close.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, string, error) {
	ref := path
	if len(query) > 0 {
		ref += "?" + query.Encode()
	}
	// The request is built here rather than by go-jira's NewRequest, which parses and
	// resolves the URL twice and encodes through a buffer: about 6 µs of every request,
	// and an edit makes three in a row.
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, path, fmt.Errorf("%s %s: build request: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseStr+ref, rd)
	if err != nil {
		return nil, path, fmt.Errorf("%s %s: build request: %w", method, path, err)
	}
	req.Header["Accept"] = []string{"application/json"}
	if body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	fullPath := req.URL.Path
	jresp, err := c.jc.Do(req, nil)
	var resp *http.Response
	if jresp != nil {
		resp = jresp.Response
	}
	if resp == nil {
		if err == nil {
			err = errors.New("no response")
		}
		var te *TimeoutError
		if errors.As(err, &te) {
			err = te // says it all: net/http's `Post "<url>": ` would only repeat the request
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return nil, fullPath, c.t.scrubErr(fmt.Errorf("%s %s: %w", method, fullPath, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, fullPath, c.t.scrubStatus(newStatusError(method, fullPath, resp.StatusCode, resp.Header, b))
	}
	return resp, fullPath, nil
}
