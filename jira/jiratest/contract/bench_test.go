package contract

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkCompile measures parsing, adjusting, validating and routing the spec (what Load
// pays once per process) against the floor of decoding the same JSON into an `any`.
func BenchmarkCompile(b *testing.B) {
	zr, err := gzip.NewReader(bytes.NewReader(specGzip))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	var floor, full time.Duration
	for b.Loop() {
		t0 := time.Now()
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := compileSpec(raw); err != nil {
			b.Fatal(err)
		}
		full += time.Since(t1)
		floor += t1.Sub(t0)
	}
	b.ReportMetric(float64(full.Milliseconds())/float64(b.N), "compile-ms/op")
	b.ReportMetric(float64(floor.Milliseconds())/float64(b.N), "json-floor-ms/op")
	b.ReportMetric(float64(full)/float64(floor), "x-floor")
}

// BenchmarkTransport measures a search/jql page of 100 issues fetched through the validating
// transport against the floor of the same request over the bare transport.
func BenchmarkTransport(b *testing.B) {
	var page strings.Builder
	page.WriteString(`{"isLast":false,"nextPageToken":"tok","issues":[`)
	for i := range 100 {
		if i > 0 {
			page.WriteString(",")
		}
		fmt.Fprintf(&page, `{"id":"%d","key":"ALPHA-%d","self":"http://127.0.0.1/rest/api/3/issue/%d","fields":{"summary":"Issue %d","status":{"name":"To Do","statusCategory":{"key":"new"}},"labels":["a","b"],"customfield_10016":3}}`, 10000+i, i+1, 10000+i, i)
	}
	page.WriteString(`]}`)
	body := page.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	s := mustLoad(b)
	tb := &failures{TB: b}
	bare := srv.Client()
	checked := &http.Client{Transport: s.Transport(tb, bare.Transport)}
	get := func(c *http.Client) {
		req, err := http.NewRequest("POST", srv.URL+"/rest/api/3/search/jql",
			strings.NewReader(`{"jql":"project = ALPHA ORDER BY key","fields":["summary","status","labels"],"maxResults":100}`))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var floor, full time.Duration
	for b.Loop() {
		t0 := time.Now()
		get(bare)
		t1 := time.Now()
		get(checked)
		full += time.Since(t1)
		floor += t1.Sub(t0)
	}
	if msgs := tb.list(); len(msgs) > 0 {
		b.Fatalf("benchmark traffic does not match the spec: %q", msgs[0])
	}
	b.ReportMetric(float64(full.Microseconds())/float64(b.N), "validated-us/op")
	b.ReportMetric(float64(floor.Microseconds())/float64(b.N), "bare-us/op")
	b.ReportMetric(float64(full)/float64(floor), "x-floor")
}
