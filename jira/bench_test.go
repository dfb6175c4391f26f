package jira_test

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
)

// BenchmarkSearchVsWireFloor walks a 20,000-issue fake site with the client's Search and with
// jiratest.WireFloorScan (a bare HTTP client that neither decodes nor stores) in the same run,
// and reports the client's cost as a ratio of that floor: what paging, retries, pacing
// bookkeeping and JSON decoding into Issue add.
func BenchmarkSearchVsWireFloor(b *testing.B) {
	fields := []string{"summary", "status", "issuetype", "parent", "assignee", "updated", "labels", "priority"}
	const jql = "project in (ALPHA, BETA, GAMMA) ORDER BY id ASC"
	for _, d := range []jira.Dialect{jira.Cloud, jira.DataCenter} {
		b.Run(string(d), func(b *testing.B) {
			site, err := jiratest.New(jiratest.Options{Dialect: string(d), Issues: 20000, Seed: 3})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(site)
			defer srv.Close()
			o := jira.Options{BaseURL: srv.URL, Dialect: d, Token: "admin-token", RequestsPerSecond: -1}
			auth := "Bearer admin-token"
			if d == jira.Cloud {
				o.Email = "admin@example.com"
				auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@example.com:admin-token"))
			}
			c, err := jira.New(b.Context(), o)
			if err != nil {
				b.Fatal(err)
			}
			var floor, client time.Duration
			b.ResetTimer()
			scanFloor := func() int {
				start := time.Now()
				n, err := jiratest.WireFloorScan(b.Context(), srv.URL, auth, string(d), jql, fields)
				if err != nil {
					b.Fatal(err)
				}
				floor += time.Since(start)
				return n
			}
			scanClient := func() int {
				start := time.Now()
				got := 0
				err := c.Search(b.Context(), jira.SearchRequest{JQL: jql, Fields: fields, PageSize: 100}, func(p jira.Page) error {
					got += len(p.Issues)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				client += time.Since(start)
				return got
			}
			i := 0
			for b.Loop() {
				// Alternate who goes first so neither always meets a cold server cache.
				var n, got int
				if i%2 == 0 {
					n, got = scanFloor(), scanClient()
				} else {
					got, n = scanClient(), scanFloor()
				}
				i++
				if got != n {
					b.Fatalf("client saw %d issues, floor %d", got, n)
				}
			}
			b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/op")
			b.ReportMetric(float64(client.Nanoseconds())/float64(b.N), "client-ns/op")
			b.ReportMetric(float64(client)/float64(floor), "x-floor")
		})
	}
}
