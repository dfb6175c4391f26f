package jiratest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// WireFloorScan walks every issue matching jqlQuery the cheapest way a client can: one
// bare net/http client, the largest pages the server allows, no JSON decoding (it finds the
// page token and counts issues with a byte scan) and no storage. It is the floor the sync
// benchmarks divide by, so they can call it in the same run against the same server.
//
// auth is the whole Authorization header value. dialect "cloud" pages POST
// /rest/api/3/search/jql by nextPageToken; "datacenter" pages GET /rest/api/2/search by
// startAt, reading back the server's maxResults. fields are asked for as given.
func WireFloorScan(ctx context.Context, baseURL, auth, dialect, jqlQuery string, fields []string) (issues int, err error) {
	client := &http.Client{}
	base := strings.TrimRight(baseURL, "/")
	get := func(req *http.Request) ([]byte, error) {
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("wire floor %s %s: %w", req.Method, req.URL.Path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("wire floor %s %s: read: %w", req.Method, req.URL.Path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("wire floor %s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
		}
		return body, nil
	}
	switch dialect {
	case dialectCloud:
		token := ""
		for page := 0; ; page++ {
			reqBody := map[string]any{"jql": jqlQuery, "fields": fields, "maxResults": cloudIDCap}
			if token != "" {
				reqBody["nextPageToken"] = token
			}
			raw, err := json.Marshal(reqBody)
			if err != nil {
				return issues, fmt.Errorf("wire floor: %w", err)
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/rest/api/3/search/jql", bytes.NewReader(raw))
			if err != nil {
				return issues, fmt.Errorf("wire floor: %w", err)
			}
			req.Header.Set("Content-Type", "application/json")
			body, err := get(req)
			if err != nil {
				return issues, fmt.Errorf("page %d: %w", page, err)
			}
			n, err := countIssues(body)
			if err != nil {
				return issues, fmt.Errorf("wire floor page %d: %w", page, err)
			}
			issues += n
			token = pageToken(body)
			if token == "" {
				return issues, nil
			}
		}
	case dialectDataCenter:
		start := 0
		for {
			q := url.Values{"jql": {jqlQuery}, "startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(dcIDCap)}, "fields": {strings.Join(fields, ",")}}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/rest/api/2/search?"+q.Encode(), nil)
			if err != nil {
				return issues, fmt.Errorf("wire floor: %w", err)
			}
			body, err := get(req)
			if err != nil {
				return issues, fmt.Errorf("startAt %d: %w", start, err)
			}
			n, err := countIssues(body)
			if err != nil {
				return issues, fmt.Errorf("wire floor startAt %d: %w", start, err)
			}
			total, ok := numberAfter(body, `"total":`)
			if !ok {
				return issues, fmt.Errorf("wire floor startAt %d: %w", start, errNoTotal)
			}
			issues += n
			start += n
			if n == 0 || start >= total {
				return issues, nil
			}
		}
	}
	return 0, fmt.Errorf("wire floor: dialect %q: %w", dialect, ErrOptions)
}

var (
	errNoTotal  = errors.New("response has no total")
	errNoIssues = errors.New("response has no issues array")
)

// countIssues counts the objects of the top-level "issues" array with a byte scan that
// only tracks nesting and skips string contents.
func countIssues(body []byte) (int, error) {
	k := bytes.Index(body, []byte(`"issues":[`))
	if k < 0 {
		return 0, errNoIssues
	}
	depth, n := 0, 0
	for i := k + len(`"issues":[`); i < len(body); i++ {
		switch body[i] {
		case '"':
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth == 0 && body[i] == '{' {
				n++
			}
			depth++
		case '}':
			depth--
		case ']':
			if depth == 0 {
				return n, nil
			}
			depth--
		}
	}
	return 0, errNoIssues
}

// pageToken finds nextPageToken after the issues (where the fake and Jira put it).
func pageToken(body []byte) string {
	const key = `"nextPageToken":"`
	k := bytes.LastIndex(body, []byte(key))
	if k < 0 {
		return ""
	}
	rest := body[k+len(key):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return ""
	}
	return string(rest[:end])
}

func numberAfter(body []byte, key string) (int, bool) {
	k := bytes.Index(body, []byte(key))
	if k < 0 {
		return 0, false
	}
	rest := body[k+len(key):]
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(string(rest[:end]))
	return n, err == nil
}
