package jira

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrNotSupported is returned (wrapped) by operations the site's dialect does not offer, such as
// the bulk permission check on Data Center. Callers fall back to another route.
var ErrNotSupported = errors.New("not supported by this Jira dialect")

// APIError is a non-2xx answer from Jira. Every more specific error type below embeds it and
// unwraps to it, so errors.As(err, &*APIError) matches any failed request.
type APIError struct {
	Method string
	Path   string // URL path without query: queries can be long and hold JQL
	Status int
	// ErrorMessages and Errors are Jira's error body: general messages and per-field messages.
	ErrorMessages []string
	Errors        map[string]string
	// Body is a short, single-line excerpt of a body that was not Jira's JSON error shape.
	Body string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	detail := e.Detail()
	if detail != "" {
		b.WriteString(": ")
		b.WriteString(detail)
	}
	return b.String()
}

// Detail is Jira's own explanation of the failure: its error messages, or an excerpt of a
// body that was not its JSON error shape; "" when it gave none.
func (e *APIError) Detail() string {
	parts := append([]string(nil), e.ErrorMessages...)
	keys := make([]string, 0, len(e.Errors))
	for k := range e.Errors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, k+": "+e.Errors[k])
	}
	if len(parts) == 0 && e.Body != "" {
		parts = append(parts, e.Body)
	}
	return strings.Join(parts, "; ")
}

// UnauthorizedError is a 401: missing, wrong or expired credentials.
type UnauthorizedError struct{ APIError }

// Unwrap exposes the embedded APIError to errors.As.
func (e *UnauthorizedError) Unwrap() error { return &e.APIError }

// ForbiddenError is a 403: the identity is known but lacks the permission.
type ForbiddenError struct{ APIError }

// Unwrap exposes the embedded APIError to errors.As.
func (e *ForbiddenError) Unwrap() error { return &e.APIError }

// NotFoundError is a 404: the resource does not exist or the identity may not see it; Jira does
// not tell the two apart.
type NotFoundError struct{ APIError }

// Unwrap exposes the embedded APIError to errors.As.
func (e *NotFoundError) Unwrap() error { return &e.APIError }

// GoneError is a 410: Jira removed the endpoint (Cloud's old /search answers this).
type GoneError struct{ APIError }

// Unwrap exposes the embedded APIError to errors.As.
func (e *GoneError) Unwrap() error { return &e.APIError }

func (e *GoneError) Error() string {
	return e.APIError.Error() + " (the endpoint was removed from Jira; Cloud search must use POST /rest/api/3/search/jql)"
}

// RateLimitedError is a 429 (or 503 with Retry-After) that outlasted the retries, or whose
// Retry-After is longer than the client is willing to wait.
type RateLimitedError struct {
	APIError
	// Wait is what Jira asked for in Retry-After; 0 when it did not say.
	Wait time.Duration
	// Reason is Jira's RateLimit-Reason header (e.g. "jira-burst-based"), when present.
	Reason string
}

// Unwrap exposes the embedded APIError to errors.As.
func (e *RateLimitedError) Unwrap() error { return &e.APIError }

func (e *RateLimitedError) Error() string {
	s := e.APIError.Error()
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Wait > 0 {
		s += "; retry after " + e.Wait.String()
	}
	return s
}

// TimeoutError is a request Jira did not answer in time: no status and headers within
// Options.HeaderTimeout, or no complete answer within Options.RequestTimeout, on every
// attempt the client made. With Body set the answer began in time but stopped before its
// end; that is not retried (a refresh resumes where it stopped). Like a refused connection
// it is a net.Error whose Timeout is true: callers treat Jira as unreachable.
type TimeoutError struct {
	Limit    time.Duration // the limit that ran out
	Attempts int           // attempts made; 0 or 1 is not worth saying
	Body     bool          // the answer's body stalled
}

func (e *TimeoutError) Error() string {
	what := "Jira did not answer"
	if e.Body {
		what = "Jira did not finish answering"
	}
	s := what + " within " + shortDuration(e.Limit)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (%d attempts)", e.Attempts)
	}
	return s
}

// Timeout makes a TimeoutError a net.Error that timed out.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary completes net.Error: the site may answer again later.
func (e *TimeoutError) Temporary() bool { return true }

// shortDuration writes a duration the way people say it: 1m rather than 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// maxErrorBody bounds how much of an error body is read and kept.
const maxErrorBody = 64 << 10

// newStatusError turns a non-2xx response into the typed error for its status.
func newStatusError(method, path string, status int, header http.Header, body []byte) error {
	base := APIError{Method: method, Path: path, Status: status}
	var wire struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	if json.Unmarshal(body, &wire) == nil && (len(wire.ErrorMessages) > 0 || len(wire.Errors) > 0 || wire.Message != "") {
		base.ErrorMessages = wire.ErrorMessages
		if wire.Message != "" {
			base.ErrorMessages = append(base.ErrorMessages, wire.Message)
		}
		base.Errors = wire.Errors
	} else {
		base.Body = excerpt(body)
	}
	switch status {
	case http.StatusUnauthorized:
		return &UnauthorizedError{base}
	case http.StatusForbidden:
		return &ForbiddenError{base}
	case http.StatusNotFound:
		return &NotFoundError{base}
	case http.StatusGone:
		return &GoneError{base}
	case http.StatusTooManyRequests:
		wait, _ := retryAfter(header, time.Now())
		return &RateLimitedError{APIError: base, Wait: wait, Reason: rateHeader(header, "RateLimit-Reason")}
	case http.StatusServiceUnavailable:
		if wait, ok := retryAfter(header, time.Now()); ok {
			return &RateLimitedError{APIError: base, Wait: wait, Reason: rateHeader(header, "RateLimit-Reason")}
		}
	}
	return &base
}

// excerpt keeps an error body readable in one line: HTML error pages can be kilobytes long.
func excerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	const limit = 200
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// retryAfter parses Retry-After (with the Beta- prefixes) as seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := rateHeader(h, "Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			secs = 0
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// rateHeader reads one of Jira's rate-limit headers. Jira sends them as X-RateLimit-*,
// RateLimit-*, and the newer ones with Beta- or X-Beta- prefixes; proxies may change the case.
// name is given without any prefix ("Retry-After", "RateLimit-Reset", ...).
// Of several present, the earliest prefix in rateHeaderPrefixes wins. One walk over the
// headers serves every prefix: every answer is asked for three of them.
func rateHeader(h http.Header, name string) string {
	best, val := len(rateHeaderPrefixes), ""
	for k, v := range h {
		if len(v) == 0 || len(k) < len(name) || !strings.EqualFold(k[len(k)-len(name):], name) {
			continue
		}
		prefix := k[:len(k)-len(name)]
		for i, p := range rateHeaderPrefixes[:best] {
			if strings.EqualFold(prefix, p) {
				best, val = i, v[0]
				break
			}
		}
	}
	return strings.TrimSpace(val)
}

// rateHeaderPrefixes are the prefixes of Jira's rate-limit headers, most authoritative first.
var rateHeaderPrefixes = []string{"", "X-", "Beta-", "X-Beta-", "Beta-X-"}
