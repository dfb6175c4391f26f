package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Issue is an issue as Jira sends it, with its fields left raw by field id (what a field holds
// depends on the site, and the cache stores the raw JSON anyway), less Decoration.
type Issue struct {
	ID     string
	Key    string
	Fields map[string]json.RawMessage
	// Raw is the fields object as Jira sent it without Decoration, when a page decoder read
	// and validated it (nil otherwise); Fields' values are slices of it. The cache stores it
	// as is instead of re-encoding Fields, the bulk of a full sync's bytes.
	Raw json.RawMessage
}

// IssueRef names an issue by id and key.
type IssueRef struct {
	ID  int64
	Key string
}

// SearchRequest is one JQL search.
type SearchRequest struct {
	JQL    string
	Fields []string // field ids; Cloud returns only ids when empty, so ask for what you need
	Expand []string
	// PageSize is the page size asked for; the server may send fewer (default 100).
	PageSize int
	// ReconcileIssues are ids just written (Cloud, at most 50): search then reflects them even
	// though its index is eventually consistent.
	ReconcileIssues []int64
}

// Page is one page of search results.
type Page struct {
	Issues []Issue
	// StartAt is the position of the first issue in the whole result: counted by Search on
	// Cloud, Jira's own on Data Center; -1 from SearchPage on Cloud past the first page.
	StartAt int
	// Total is the result size on Data Center; -1 on Cloud, which does not say.
	Total  int
	IsLast bool
}

const (
	defaultPageSize = 100
	// idPageSize is for id-only scans: Cloud serves up to 5,000 ids a page; Data Center caps
	// maxResults server-side (and says so in the response).
	idPageSize   = 5000
	maxReconcile = 50
)

// Search runs a JQL search and hands every page to fn, in order, until the last page or until
// fn returns an error (returned as is).
func (c *Client) Search(ctx context.Context, req SearchRequest, fn func(Page) error) error {
	cursor := ""
	seen := 0
	for {
		page, next, err := c.SearchPage(ctx, req, cursor)
		if err != nil {
			return err
		}
		if c.dialect == Cloud {
			page.StartAt = seen
		}
		seen += len(page.Issues)
		if err := fn(page); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if next == cursor {
			return fmt.Errorf("search %q: server returned the same page cursor %q twice", req.JQL, next)
		}
		cursor = next
	}
}

// SearchPage fetches one page. cursor is "" for the first page, then the returned next cursor:
// Cloud's nextPageToken, or the decimal startAt on Data Center (so Data Center callers may
// compute cursors themselves and fetch pages in parallel). next is "" after the last page.
func (c *Client) SearchPage(ctx context.Context, req SearchRequest, cursor string) (Page, string, error) {
	if strings.TrimSpace(req.JQL) == "" {
		return Page{}, "", errors.New("search: empty JQL (Jira needs a bounded query)")
	}
	size := req.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	if c.dialect == Cloud {
		return c.searchCloud(ctx, req, size, cursor)
	}
	return c.searchDC(ctx, req, size, cursor, false)
}

// LazyPage is a Cloud search page read but not yet decoded: see SearchPageLazy.
type LazyPage struct {
	body  []byte
	buf   *bytes.Buffer // holds body; back to the client's pool once decoded
	pool  *sync.Pool
	jql   string
	first bool
}

// SearchPageLazy is SearchPage on Cloud for a walk that decodes pages in another goroutine:
// it reads the answer, finds the next page token with a quick structural pass (strings are
// crossed, not checked) and leaves the decoding, which validates everything, to
// LazyPage.Decode. The next request can then go out while this page is decoded. An answer
// the quick pass misreads is not valid JSON, and Decode reports it.
func (c *Client) SearchPageLazy(ctx context.Context, req SearchRequest, cursor string) (LazyPage, string, error) {
	if c.dialect != Cloud {
		return LazyPage{}, "", errors.New("search: lazy pages are for Cloud's token paging")
	}
	if strings.TrimSpace(req.JQL) == "" {
		return LazyPage{}, "", errors.New("search: empty JQL (Jira needs a bounded query)")
	}
	size := req.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	buf, _ := c.pages.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	b, fullPath, err := c.readInto(ctx, buf, "POST", "/rest/api/3/search/jql", nil, cloudSearchBody(req, size, cursor))
	if err != nil {
		c.pages.Put(buf)
		return LazyPage{}, "", fmt.Errorf("search %q: %w", req.JQL, err)
	}
	next, isLast, err := peekPageEnd(b)
	if err != nil {
		c.pages.Put(buf)
		return LazyPage{}, "", fmt.Errorf("search %q: POST %s: decode response: %w", req.JQL, fullPath, err)
	}
	if isLast {
		next = ""
	}
	return LazyPage{body: b, buf: buf, pool: &c.pages, jql: req.JQL, first: cursor == ""}, next, nil
}

// Decode decodes the page, once: what it returns holds copies, so the answer's buffer goes
// back to the client for the next page.
func (p *LazyPage) Decode() (Page, error) {
	if p.buf == nil {
		return Page{}, errors.New("search: page decoded twice")
	}
	out, err := decodePage(p.body)
	p.pool.Put(p.buf)
	p.body, p.buf = nil, nil
	if err != nil {
		return Page{}, fmt.Errorf("search %q: decode response: %w", p.jql, err)
	}
	page := Page{Issues: out.Issues, Total: -1, StartAt: -1}
	if p.first {
		page.StartAt = 0
	}
	return page, nil
}

// cloudSearchBody is the body of a search/jql request.
func cloudSearchBody(req SearchRequest, size int, cursor string) map[string]any {
	body := map[string]any{"jql": req.JQL, "maxResults": size}
	if len(req.Fields) > 0 {
		body["fields"] = req.Fields
	}
	if len(req.Expand) > 0 {
		// search/jql takes expand as one comma-separated string, unlike its siblings.
		body["expand"] = strings.Join(req.Expand, ",")
	}
	if cursor != "" {
		body["nextPageToken"] = cursor
	}
	if len(req.ReconcileIssues) > 0 {
		ids := req.ReconcileIssues
		if len(ids) > maxReconcile {
			ids = ids[len(ids)-maxReconcile:] // the most recent writes matter most
		}
		body["reconcileIssues"] = ids
	}
	return body
}

func (c *Client) searchCloud(ctx context.Context, req SearchRequest, size int, cursor string) (Page, string, error) {
	out, err := c.doPage(ctx, "POST", "/rest/api/3/search/jql", cloudSearchBody(req, size, cursor))
	if err != nil {
		return Page{}, "", fmt.Errorf("search %q: %w", req.JQL, err)
	}
	page := Page{Issues: out.Issues, Total: -1, StartAt: -1}
	if cursor == "" {
		page.StartAt = 0
	}
	// isLast is authoritative; a missing token also ends the walk, since there is no next page
	// to ask for.
	page.IsLast = out.NextPageToken == "" || (out.IsLast != nil && *out.IsLast)
	if page.IsLast {
		return page, "", nil
	}
	return page, out.NextPageToken, nil
}

func (c *Client) searchDC(ctx context.Context, req SearchRequest, size int, cursor string, lenient bool) (Page, string, error) {
	startAt := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return Page{}, "", fmt.Errorf("search %q: bad Data Center cursor %q (want a startAt)", req.JQL, cursor)
		}
		startAt = n
	}
	// POST so long JQL (bulk fetch by ids) does not overflow the URL.
	body := map[string]any{"jql": req.JQL, "startAt": startAt, "maxResults": size}
	if len(req.Fields) > 0 {
		body["fields"] = req.Fields
	}
	if len(req.Expand) > 0 {
		body["expand"] = req.Expand
	}
	if lenient {
		// Missing or invisible keys turn into warnings instead of a 400, like bulkfetch on Cloud.
		body["validateQuery"] = "warn"
	}
	out, err := c.doPage(ctx, "POST", "/rest/api/2/search", body)
	if err != nil {
		return Page{}, "", fmt.Errorf("search %q: %w", req.JQL, err)
	}
	page := Page{Issues: out.Issues, StartAt: out.StartAt, Total: out.Total}
	// The server may cap maxResults below what was asked: advance by what came back.
	next := out.StartAt + len(out.Issues)
	page.IsLast = len(out.Issues) == 0 || next >= out.Total
	if page.IsLast {
		return page, "", nil
	}
	return page, strconv.Itoa(next), nil
}

// ScanIDs walks the ids (and keys) of every issue matching jql in large pages, for reconcile.
func (c *Client) ScanIDs(ctx context.Context, jql string, fn func(ids []IssueRef) error) error {
	req := SearchRequest{JQL: jql, Fields: []string{"id", "key"}, PageSize: idPageSize}
	if c.dialect != Cloud {
		// Data Center has no id-only field list: ask for one cheap field.
		req.Fields = []string{"key"}
	}
	return c.Search(ctx, req, func(p Page) error {
		refs := make([]IssueRef, 0, len(p.Issues))
		for _, is := range p.Issues {
			id, err := strconv.ParseInt(is.ID, 10, 64)
			if err != nil {
				return fmt.Errorf("scan %q: issue id %q: %w", jql, is.ID, err)
			}
			refs = append(refs, IssueRef{ID: id, Key: is.Key})
		}
		return fn(refs)
	})
}

// bulkFetchSize is Jira's limit of ids or keys per bulkfetch call.
const bulkFetchSize = 100

// BulkFetch fetches issues by id or key, 100 a call. Missing and invisible issues are left out
// silently, as Jira does. Data Center has no bulkfetch and searches by id and key instead.
func (c *Client) BulkFetch(ctx context.Context, idsOrKeys []string, fields []string) ([]Issue, error) {
	var out []Issue
	for start := 0; start < len(idsOrKeys); start += bulkFetchSize {
		chunk := idsOrKeys[start:min(start+bulkFetchSize, len(idsOrKeys))]
		var got []Issue
		var err error
		if c.dialect == Cloud {
			got, err = c.bulkFetchCloud(ctx, chunk, fields)
		} else {
			got, err = c.bulkFetchDC(ctx, chunk, fields)
		}
		if err != nil {
			return nil, fmt.Errorf("bulk fetch %d issues from %d: %w", len(chunk), start, err)
		}
		out = append(out, got...)
	}
	return out, nil
}

func (c *Client) bulkFetchCloud(ctx context.Context, chunk, fields []string) ([]Issue, error) {
	body := map[string]any{"issueIdsOrKeys": chunk}
	if len(fields) > 0 {
		body["fields"] = fields
	}
	out, err := c.doPage(ctx, "POST", "/rest/api/3/issue/bulkfetch", body)
	if err != nil {
		return nil, err
	}
	return out.Issues, nil
}

// bulkFetchDC reads a chunk with a search. Jira refuses a whole `key in (...)` search when
// one key does not exist, or is hidden from the caller ("An issue with key 'X' does not
// exist for field 'key'."): the keys it names are left out and the search asked again, so
// a bulk read returns what exists and may be browsed, as Cloud's bulkfetch does.
func (c *Client) bulkFetchDC(ctx context.Context, chunk, fields []string) ([]Issue, error) {
	for {
		out, err := c.bulkFetchDCOnce(ctx, chunk, fields)
		var api *APIError
		if err == nil || !errors.As(err, &api) || api.Status != http.StatusBadRequest {
			return out, err
		}
		gone := map[string]bool{}
		for _, m := range api.ErrorMessages {
			if k := missingKeyRE.FindStringSubmatch(m); k != nil {
				gone[strings.ToUpper(k[1])] = true
			}
		}
		rest := slices.DeleteFunc(slices.Clone(chunk), func(s string) bool { return gone[strings.ToUpper(s)] })
		if len(gone) == 0 || len(rest) == len(chunk) {
			return nil, err
		}
		if len(rest) == 0 {
			return nil, nil
		}
		chunk = rest
	}
}

// missingKeyRE is Jira's message for a key a search names that does not exist (or that the
// caller may not browse).
var missingKeyRE = regexp.MustCompile(`An issue with key '([^']+)' does not exist for field '`)

func (c *Client) bulkFetchDCOnce(ctx context.Context, chunk, fields []string) ([]Issue, error) {
	var ids, keys []string
	for _, s := range chunk {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, s)
		} else {
			keys = append(keys, strconv.Quote(s))
		}
	}
	var clauses []string
	if len(ids) > 0 {
		clauses = append(clauses, "id in ("+strings.Join(ids, ", ")+")")
	}
	if len(keys) > 0 {
		clauses = append(clauses, "key in ("+strings.Join(keys, ", ")+")")
	}
	req := SearchRequest{JQL: strings.Join(clauses, " OR "), Fields: fields, PageSize: bulkFetchSize}
	var out []Issue
	for cursor := ""; ; {
		page, next, err := c.searchDC(ctx, req, bulkFetchSize, cursor, true)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Issues...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// GetIssue fetches one issue; fields nil means Jira's default (all navigable fields). It is
// read by the page decoder: an edit's conflict check and Data Center's read-back make one
// call each, and Raw saves the cache from re-encoding the fields.
func (c *Client) GetIssue(ctx context.Context, key string, fields []string) (*Issue, error) {
	var q url.Values
	if len(fields) > 0 {
		q = url.Values{"fields": {strings.Join(fields, ",")}}
	}
	body, fullPath, err := c.read(ctx, "GET", c.api("issue/"+url.PathEscape(key)), q, nil)
	if err != nil {
		return nil, err
	}
	is, err := decodeIssue(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: decode response: %w", fullPath, err)
	}
	return &is, nil
}

// ApproximateCount estimates how many issues match jql, for progress bars. Cloud answers from
// its approximate-count endpoint (an estimate); Data Center from a zero-size search (exact).
func (c *Client) ApproximateCount(ctx context.Context, jql string) (int, error) {
	if strings.TrimSpace(jql) == "" {
		return 0, errors.New("count: empty JQL (Jira needs a bounded query)")
	}
	if c.dialect == Cloud {
		var out struct {
			Count int `json:"count"`
		}
		if err := c.do(ctx, "POST", "/rest/api/3/search/approximate-count", nil, map[string]string{"jql": jql}, &out); err != nil {
			return 0, fmt.Errorf("count %q: %w", jql, err)
		}
		return out.Count, nil
	}
	body := map[string]any{"jql": jql, "startAt": 0, "maxResults": 0, "fields": []string{"key"}}
	out, err := c.doPage(ctx, "POST", "/rest/api/2/search", body)
	if err != nil {
		return 0, fmt.Errorf("count %q: %w", jql, err)
	}
	return out.Total, nil
}
