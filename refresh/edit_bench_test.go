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
	"strconv"
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
// store-µs is the cache write alone (the read-back issue with its links, users, change feed
// row and audit row in one transaction, as Set writes it), done bare in the same run, and
// own-overhead-of-put leaves it out: what the write-back path adds on top of the HTTP
// requests and the store's own transaction.
//
// Each iteration runs the floor in Set's order (GET, PUT, POST, cache write) just before
// Set, so each part of either follows the same kind of work: a SQLite write right after
// another runs on warm caches and a third faster than one after HTTP, which favoured the
// floor when its write came right after Set's.
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

	// The cache write every edit needs, done bare: the read-back issue with its links and
	// users, and the audit row, in one ApplyPage transaction as Set writes them. It goes to a
	// twin of the edited issue (its fields, links and users, with links of other ids so the
	// two do not take each other's link rows) written over another cached issue in the middle
	// of the table, as the edited one is: a new id past the end would always append to the
	// last leaf, which costs less than rewriting a row among others. Its updated and summary
	// move on every iteration, so each write is a real update with its change feed row, as
	// Set's is: a copy of the edited issue itself would be older than Set's read-back and
	// skipped by the version guard. The page is converted before the clock starts:
	// conversion is the write-back path's own work, not the store's.
	ji, err := c.BulkFetch(ctx, []string{key}, full)
	if err != nil || len(ji) != 1 {
		b.Fatalf("read %s: %v", key, err)
	}
	wk, err := db.WellKnown(ctx)
	if err != nil {
		b.Fatal(err)
	}
	other := site.Issues()[len(site.Issues())/2]
	cachedOther, err := db.Issue(ctx, other.Key)
	if err != nil {
		b.Fatal(err)
	}
	twin := ji[0]
	twin.ID, twin.Key = strconv.FormatInt(cachedOther.ID, 10), other.Key
	twinFields := map[string]json.RawMessage{}
	for k, v := range twin.Fields {
		twinFields[k] = v
	}
	var links []map[string]json.RawMessage
	if err := json.Unmarshal(twin.Fields["issuelinks"], &links); err != nil {
		b.Fatal(err)
	}
	for _, l := range links {
		var id string
		if err := json.Unmarshal(l["id"], &id); err != nil {
			b.Fatal(err)
		}
		l["id"], _ = json.Marshal("99" + id)
	}
	if twinFields["issuelinks"], err = json.Marshal(links); err != nil {
		b.Fatal(err)
	}
	since := time.Now()
	if cachedOther.Updated.After(since) {
		since = cachedOther.Updated
	}
	since = since.Add(time.Millisecond)
	storeWrites := func(i int) time.Duration {
		stamp, _ := json.Marshal(since.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000-0700"))
		twinFields["updated"] = stamp
		twinFields["summary"], _ = json.Marshal(fmt.Sprintf("store %d", i))
		is := twin
		is.Fields = twinFields
		if is.Raw, err = json.Marshal(twinFields); err != nil {
			b.Fatal(err)
		}
		page, err := refresh.PageOf([]jira.Issue{is}, wk)
		if err != nil {
			b.Fatal(err)
		}
		page.Audit = []store.AuditEntry{{Actor: "admin", Action: refresh.AuditActionEdit, Target: is.Key, Outcome: "ok",
			Before: []byte(`{"field":"summary","field_id":"summary","value":"before"}`), After: []byte(`{"field":"summary","field_id":"summary","value":"after"}`)}}
		t0 := time.Now()
		st, err := db.ApplyPage(ctx, page, true)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if st.Inserted+st.Updated != 1 {
			b.Fatalf("bare store write of %s wrote nothing: %+v", is.Key, st)
		}
		return d
	}
	storeWrites(-1) // the twin's first write replaces the other issue

	// The cheapest write the cache can do: one audit row in a transaction of its own. No
	// synchronous cache write of an edit can cost less than this.
	minWrite := func() time.Duration {
		t0 := time.Now()
		if err := db.Audit(ctx, store.AuditEntry{Actor: "admin", Action: refresh.AuditActionEdit, Target: key, Outcome: "ok"}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}

	var tSet, tFloor, tPut, tStore, tMin time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d1 := do("GET", check, nil)
		dPut := do("PUT", issueURL, []byte(fmt.Sprintf(`{"fields":{"summary":"bare %d"}}`, i)))
		d3 := do("POST", srv.URL+"/rest/api/3/issue/bulkfetch", readBack)
		tFloor += d1 + dPut + d3
		tPut += dPut
		tStore += storeWrites(i)
		tMin += minWrite()

		t0 := time.Now()
		if _, err := w.Set(ctx, key, "summary", fmt.Sprintf("set %d", i), time.Time{}, refresh.SetOptions{}); err != nil {
			b.Fatal(err)
		}
		tSet += time.Since(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tSet.Microseconds())/n, "set-µs")
	b.ReportMetric(float64(tFloor.Microseconds())/n, "floor-µs")
	b.ReportMetric(float64(tPut.Microseconds())/n, "put-µs")
	b.ReportMetric(float64(tSet)/float64(tFloor), "x-floor")
	b.ReportMetric(float64(tStore.Microseconds())/n, "store-µs")
	b.ReportMetric(float64(tSet-tFloor)/float64(tPut), "overhead-of-put")
	b.ReportMetric(float64(tSet-tFloor-tStore)/float64(tPut), "own-overhead-of-put")
	b.ReportMetric(float64(tMin.Microseconds())/n, "min-write-µs")
	b.ReportMetric(float64(tMin)/float64(tPut), "min-write-of-put")
}
