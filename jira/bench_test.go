package jira_test

import (
	"encoding/base64"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

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
				got := searchCount(b, c, jql, fields)
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

// BenchmarkCloudSearchVsBulkFetch answers issue 3's question for Cloud full syncs: walk the
// scope with search/jql page tokens (one request at a time), or scan its ids (5,000 a page)
// and fetch the issues by bulkfetch, 100 a request, four requests at once. Both fetch and
// decode the same 20,000 issues with the fields a sync asks for; the rounds alternate which
// goes first. x-search is bulk fetch / search (above 1: search is faster).
func BenchmarkCloudSearchVsBulkFetch(b *testing.B) {
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 20000, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	c, err := jira.New(b.Context(), jira.Options{BaseURL: srv.URL, Dialect: jira.Cloud, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
	if err != nil {
		b.Fatal(err)
	}
	fields := []string{"summary", "issuetype", "project", "status", "priority", "resolution", "resolutiondate",
		"parent", "security", "assignee", "reporter", "creator", "labels", "components", "fixVersions",
		"versions", "duedate", "created", "updated", "description", "issuelinks", "subtasks",
		"customfield_10016", "customfield_10019", "customfield_10020"}
	const jql = "project in (ALPHA, BETA, GAMMA) ORDER BY id ASC"
	search := func() int { return searchCount(b, c, jql, fields) }
	bulk := func() int {
		var ids []string
		err := c.ScanIDs(b.Context(), jql, func(refs []jira.IssueRef) error {
			for _, r := range refs {
				ids = append(ids, strconv.FormatInt(r.ID, 10))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		var got atomic.Int64
		g, ctx := errgroup.WithContext(b.Context())
		g.SetLimit(4)
		for start := 0; start < len(ids); start += 100 {
			g.Go(func() error {
				is, err := c.BulkFetch(ctx, ids[start:min(start+100, len(ids))], fields)
				got.Add(int64(len(is)))
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		return int(got.Load())
	}
	var searches, bulks []time.Duration
	i := 0
	for b.Loop() {
		run := func(f func() int, into *[]time.Duration) {
			start := time.Now()
			if n := f(); n != 20000 {
				b.Fatalf("fetched %d issues, want 20000", n)
			}
			*into = append(*into, time.Since(start))
		}
		if i%2 == 0 {
			run(search, &searches)
			run(bulk, &bulks)
		} else {
			run(bulk, &bulks)
			run(search, &searches)
		}
		i++
	}
	med := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	b.ReportMetric(med(searches).Seconds()*1000, "search-ms")
	b.ReportMetric(med(bulks).Seconds()*1000, "bulkfetch-ms")
	b.ReportMetric(float64(med(bulks))/float64(med(searches)), "x-search")
}

// searchCount walks jql with the client's Search, 100 a page, and counts the issues.
func searchCount(b *testing.B, c *jira.Client, jql string, fields []string) int {
	got := 0
	err := c.Search(b.Context(), jira.SearchRequest{JQL: jql, Fields: fields, PageSize: 100}, func(p jira.Page) error {
		got += len(p.Issues)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return got
}
