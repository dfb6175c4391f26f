package refresh_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// BenchmarkEditOverhead measures Writer.Set against the floor of the same HTTP requests sent
// by a bare http.Client, alternating one of each per iteration so noise falls on both.
// Set of a summary makes three requests once the edit metadata is cached: GET the issue's
// updated and field (conflict check), PUT the edit, and the read-back (Cloud: POST
// issue/bulkfetch with the fields a sync keeps). The floor sends those three with the same
// bodies and discards the answers.
//
// Reported: set-µs and floor-µs per edit, put-µs (the bare PUT alone), x-floor = Set /
// floor, and overhead-of-put = (Set − floor) / bare PUT: the local work of an edit (value
// parsing, JSON, go-jira, read-back conversion, the cache upsert with its change feed entry
// and the audit row) as a fraction of one PUT. Target: overhead-of-put under 0.10.
// store-µs is the cost of the two cache writes alone (upsert, audit row), done bare in the
// same run, and own-overhead-of-put leaves them out: what the write-back path adds on top
// of the HTTP requests and the store's own transactions.
func BenchmarkEditOverhead(b *testing.B) {
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 2000, Seed: 5})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(site)
	b.Cleanup(srv.Close)
	ctx := context.Background()
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Dialect: jira.Cloud, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	eng, err := refresh.New(c, db, refresh.Options{Scope: "project in (ALPHA, BETA, GAMMA)"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := eng.Full(ctx); err != nil {
		b.Fatal(err)
	}
	cat, err := db.Fields(ctx)
	if err != nil {
		b.Fatal(err)
	}
	full := []string{"summary", "issuetype", "project", "status", "priority", "resolution", "resolutiondate",
		"parent", "security", "assignee", "reporter", "creator", "labels", "components",
		"fixVersions", "versions", "duedate", "created", "updated", "description", "issuelinks",
		"subtasks", "timeestimate", "timeoriginalestimate", "timespent", "environment"}
	for _, f := range cat {
		if f.Custom {
			full = append(full, f.ID)
		}
	}
	w := refresh.NewWriter(c, db, refresh.WriterOptions{Actor: "admin"})
	key := site.Issues()[10].Key
	// Warm the catalog and edit metadata caches, as an editing session would have them.
	if _, err := w.Set(ctx, key, "summary", "warm", time.Time{}, refresh.SetOptions{}); err != nil {
		b.Fatal(err)
	}

	hc := &http.Client{}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:admin-token"))
	issueURL := srv.URL + "/rest/api/3/issue/" + key
	do := func(method, u string, body []byte) time.Duration {
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, r)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode/100 != 2 {
			b.Fatalf("%s %s: %d", method, u, resp.StatusCode)
		}
		return d
	}
	check := issueURL + "?fields=" + url.QueryEscape("updated,project,issuetype,status,summary")
	readBack, err := json.Marshal(map[string]any{"issueIdsOrKeys": []string{key}, "fields": full})
	if err != nil {
		b.Fatal(err)
	}

	// The cache writes every edit needs, done bare: the read-back issue converted and
	// upserted with its links and users, and one audit row, each its own transaction as the
	// store offers them.
	ji, err := c.GetIssue(ctx, key, full)
	if err != nil {
		b.Fatal(err)
	}
	wk, err := db.WellKnown(ctx)
	if err != nil {
		b.Fatal(err)
	}
	storeWrites := func() time.Duration {
		t0 := time.Now()
		page, err := refresh.PageOf([]jira.Issue{*ji}, wk)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.ApplyPage(ctx, page, true); err != nil {
			b.Fatal(err)
		}
		if err := db.Audit(ctx, store.AuditEntry{Actor: "admin", Action: "bench", Target: key, Outcome: "ok"}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}

	var tSet, tFloor, tPut, tStore time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d1 := do("GET", check, nil)
		dPut := do("PUT", issueURL, []byte(fmt.Sprintf(`{"fields":{"summary":"bare %d"}}`, i)))
		d3 := do("POST", srv.URL+"/rest/api/3/issue/bulkfetch", readBack)
		tFloor += d1 + dPut + d3
		tPut += dPut

		t0 := time.Now()
		if _, err := w.Set(ctx, key, "summary", fmt.Sprintf("set %d", i), time.Time{}, refresh.SetOptions{}); err != nil {
			b.Fatal(err)
		}
		tSet += time.Since(t0)
		tStore += storeWrites()
	}
	n := float64(b.N)
	b.ReportMetric(float64(tSet.Microseconds())/n, "set-µs")
	b.ReportMetric(float64(tFloor.Microseconds())/n, "floor-µs")
	b.ReportMetric(float64(tPut.Microseconds())/n, "put-µs")
	b.ReportMetric(float64(tSet)/float64(tFloor), "x-floor")
	b.ReportMetric(float64(tStore.Microseconds())/n, "store-µs")
	b.ReportMetric(float64(tSet-tFloor)/float64(tPut), "overhead-of-put")
	b.ReportMetric(float64(tSet-tFloor-tStore)/float64(tPut), "own-overhead-of-put")
}
