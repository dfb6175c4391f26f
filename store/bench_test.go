package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"foundation/lens"
)

// Benchmarks report their figure as a ratio against a floor measured in the same run
// (the machine is small and noisy): run with
//
//	go test -run '^$' -bench 'Upsert|Journal' -benchtime 40x ./store/
//	go test -run '^$' -bench LastChange ./store/
//	go test -run '^$' -bench Issues100k -benchtime 3x ./store/

var benchWK = WellKnown{StoryPoints: "customfield_10016", Sprint: "customfield_10020", Rank: "customfield_10019"}

// benchIssue builds a realistic issue: Cloud-shaped raw JSON of about 1 KB, extracted.
func benchIssue(tb testing.TB, i int, updated time.Time) lens.Issue {
	projects := []string{"ALPHA", "BETA", "GAMMA", "DELTA"}
	statuses := []struct{ name, cat string }{{"To Do", "new"}, {"In Progress", "indeterminate"}, {"Review", "indeterminate"}, {"Done", "done"}}
	p := projects[i%len(projects)]
	s := statuses[i%len(statuses)]
	parent := ""
	if i%10 != 0 {
		parent = fmt.Sprintf(`,"parent":{"id":"%d","key":"%s-%d"}`, i-i%10, p, i-i%10)
	}
	raw := fmt.Sprintf(`{
		"project":{"id":"%d","key":"%s","name":"Project %s","self":"https://acme.atlassian.net/rest/api/3/project/%d"},
		"issuetype":{"id":"10001","name":"Story","subtask":false,"iconUrl":"https://acme.atlassian.net/images/icons/story.svg"},
		"status":{"id":"3","name":"%s","statusCategory":{"id":4,"key":"%s","name":"%s"}},
		"priority":{"id":"3","name":"Medium"},"resolution":null%s,
		"assignee":{"accountId":"acc-%d","displayName":"User %d","active":true},
		"reporter":{"accountId":"acc-%d","displayName":"User %d","active":true},
		"summary":"Implement the %d-th thing so that users can do what they need",
		"labels":["team-%d","q%d"],"customfield_10016":%d,"duedate":"2025-0%d-1%d",
		"created":"%s","updated":"%s","customfield_10019":"0|i%06d:",
		"customfield_10020":[{"id":%d,"name":"Sprint %d","state":"active"}],
		"description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Some description text for the issue, long enough to be typical."}]}]}
	}`, 10000+i%4, p, p, 10000+i%4, s.name, s.cat, s.name, parent, i%50, i%50, i%37, i%37, i, i%7, i%4+1, i%13, i%9+1, i%9,
		updated.Add(-time.Hour).Format("2006-01-02T15:04:05.000-0700"), updated.Format("2006-01-02T15:04:05.000-0700"), i, i%20, i%20)
	is, err := Extract(int64(10000+i), fmt.Sprintf("%s-%d", p, i), rawFields(tb, raw), benchWK)
	if err != nil {
		tb.Fatal(err)
	}
	return is
}

// floorSchema is a bare table with the same columns, for the floors.
const floorSchema = `CREATE TABLE issues (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, project_id INTEGER, project TEXT,
	type TEXT, subtask INTEGER, status TEXT, status_category TEXT, priority TEXT, resolution TEXT, parent_key TEXT,
	epic_link TEXT, security_level TEXT, assignee TEXT, reporter TEXT, summary TEXT, labels TEXT, story_points REAL,
	due_date TEXT, created INTEGER, updated INTEGER, rank TEXT, fetched_at INTEGER, hash INTEGER, fields BLOB)`

func openFloor(tb testing.TB) *sql.DB {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "floor.db")
	db, err := sql.Open("sqlite", "file:"+p+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-16384)&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(floorSchema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// floorInsert is the least a batch write can cost: one transaction of plain INSERTs of the
// same row values, with no guard, hash or change feed.
func floorInsert(ctx context.Context, db *sql.DB, batch []lens.Issue) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, "INSERT OR REPLACE INTO issues VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	if err != nil {
		return err
	}
	defer st.Close()
	for i := range batch {
		is := &batch[i]
		raw, err := json.Marshal(is.Fields)
		if err != nil {
			return err
		}
		labels, err := json.Marshal(is.Labels)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, is.ID, is.Key, is.ProjectID, is.Project, is.Type, is.Subtask, is.Status, is.StatusCategory,
			is.Priority, is.Resolution, is.Parent, is.EpicLink, is.SecurityLevel, is.Assignee, is.Reporter, is.Summary,
			string(labels), is.StoryPoints, is.DueDate, ms(is.Created), ms(is.Updated), is.Rank, 0, 0, raw); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// BenchmarkUpsert measures version-guarded upserts of new issues in 500-issue batches
// against the floor of bare INSERTs of the same rows, interleaved batch by batch.
func BenchmarkUpsert(b *testing.B) {
	const batchSize = 500
	ctx := context.Background()
	db := openTest(b)
	floor := openFloor(b)
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	// Pre-build enough batches outside the timing.
	const nBatches = 40
	batches := make([][]lens.Issue, nBatches)
	for j := range batches {
		batches[j] = make([]lens.Issue, batchSize)
		for i := range batches[j] {
			batches[j][i] = benchIssue(b, j*batchSize+i, t0)
		}
	}
	var ours, bare time.Duration
	round := 0
	for b.Loop() {
		batch := batches[round%nBatches]
		if round >= nBatches { // later rounds are updates: move every issue forward in time
			for i := range batch {
				batch[i].Updated = batch[i].Updated.Add(time.Second)
			}
		}
		round++
		start := time.Now()
		if err := floorInsert(ctx, floor, batch); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(start)
		start = time.Now()
		st, err := db.UpsertIssues(ctx, batch, true)
		if err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		if st.Inserted+st.Updated != batchSize {
			b.Fatalf("batch %d: %+v", round, st)
		}
	}
	n := float64(round * batchSize)
	b.ReportMetric(n/ours.Seconds(), "issues/s")
	b.ReportMetric(n/bare.Seconds(), "floor-issues/s")
	b.ReportMetric(ours.Seconds()/bare.Seconds(), "x-floor")
}

// BenchmarkIssues100k reads 100,000 issues (extracted columns, as a Lens build does) against
// the floor of a bare SELECT scanning the same columns into reused variables.
func BenchmarkIssues100k(b *testing.B) {
	const total = 100_000
	ctx := context.Background()
	db := filledBench(b, total)

	bareScan := func() int {
		rows, err := db.r.QueryContext(ctx, "SELECT "+issueColumns+" FROM issues ORDER BY id")
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		var (
			id, pid, created, updated                                              int64
			key, project, typ, status, cat, prio, res, parent, epic, sec, asg, rep string
			summary, labels, due, rank                                             string
			sub                                                                    bool
			sp                                                                     sql.NullFloat64
		)
		n := 0
		for rows.Next() {
			if err := rows.Scan(&id, &key, &pid, &project, &typ, &sub, &status, &cat, &prio, &res, &parent, &epic, &sec,
				&asg, &rep, &summary, &labels, &sp, &due, &created, &updated, &rank); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return n
	}

	var ours, bare time.Duration
	rounds := 0
	for b.Loop() {
		start := time.Now()
		if n := bareScan(); n != total {
			b.Fatalf("floor scanned %d", n)
		}
		bare += time.Since(start)
		start = time.Now()
		got, err := db.Issues(ctx, ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		if len(got) != total {
			b.Fatalf("read %d", len(got))
		}
		rounds++
	}
	b.ReportMetric(float64(ours.Milliseconds())/float64(rounds), "ms/read")
	b.ReportMetric(float64(bare.Milliseconds())/float64(rounds), "floor-ms/scan")
	b.ReportMetric(ours.Seconds()/bare.Seconds(), "x-floor")

	// Memory, outside the timing: the heap the result keeps, and the heap's peak while
	// reading (sampled), both over the heap before the read.
	retained, peak := readMemory(b, func() any {
		got, err := db.Issues(ctx, ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return got
	})
	b.ReportMetric(float64(retained)/(1<<20), "retained-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
}

// readMemory runs read once and returns the live heap its result holds and the peak live
// heap seen during the read, both relative to the heap before it.
func readMemory(tb testing.TB, read func() any) (retained, peak uint64) {
	tb.Helper()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := heap()
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var max uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if h := heap(); h > max {
				max = h
			}
			select {
			case <-stop:
				done <- max
				return
			case <-tick.C:
			}
		}
	}()
	result := read()
	close(stop)
	maxHeap := <-done
	runtime.GC()
	after := heap()
	runtime.KeepAlive(result)
	if after > base {
		retained = after - base
	}
	if maxHeap > base {
		peak = maxHeap - base
	}
	return retained, peak
}

// BenchmarkJournalAppend measures durable journaling of webhook deliveries, one per
// transaction and grouped 50 per transaction, against the floor of the same inserts without
// the durability sync (synchronous=NORMAL, as the rest of the cache uses).
func BenchmarkJournalAppend(b *testing.B) {
	ctx := context.Background()
	db := openTest(b)
	body := []byte(`{"timestamp":1700000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"A-1","fields":{"summary":"x"}}}`)
	n := 0
	entry := func() JournalEntry {
		n++
		return JournalEntry{Identifier: fmt.Sprintf("d-%d", n), Event: "jira:issue_updated", EventTime: time.UnixMilli(int64(n)), Body: body}
	}
	var single, grouped, floor time.Duration
	const group = 50
	rounds := 0
	for b.Loop() {
		start := time.Now()
		for range group {
			if _, err := db.AppendJournal(ctx, entry()); err != nil {
				b.Fatal(err)
			}
		}
		single += time.Since(start)

		batch := make([]JournalEntry, group)
		for i := range batch {
			batch[i] = entry()
		}
		start = time.Now()
		if _, err := db.AppendJournal(ctx, batch...); err != nil {
			b.Fatal(err)
		}
		grouped += time.Since(start)

		start = time.Now()
		for range group {
			e := entry()
			if err := db.write(ctx, "floor", func(tx *sql.Tx) error {
				// The same rows a delivery is stored as: the entry, and its body beside it.
				var seq int64
				if err := tx.QueryRowContext(ctx, "INSERT INTO journal(identifier, event, event_time, received_at) VALUES (?, ?, ?, ?) RETURNING seq",
					e.Identifier, e.Event, ms(e.EventTime), ms(time.Now())).Scan(&seq); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, "INSERT INTO journal_bodies(seq, body) VALUES (?, ?)", seq, e.Body)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
		floor += time.Since(start)
		rounds++
	}
	total := float64(rounds * group)
	b.ReportMetric(total/single.Seconds(), "durable-single/s")
	b.ReportMetric(total/grouped.Seconds(), "durable-grouped50/s")
	b.ReportMetric(total/floor.Seconds(), "floor-nosync/s")
	b.ReportMetric(single.Seconds()/floor.Seconds(), "x-floor-single")
	b.ReportMetric(grouped.Seconds()/floor.Seconds(), "x-floor-grouped")
}

// BenchmarkLastChange measures the change feed poll every open TUI runs twice a second, on a
// feed of 100,000 entries, against the floor of the cheapest query there is (SELECT 1).
func BenchmarkLastChange(b *testing.B) {
	ctx := context.Background()
	db := openTest(b)
	if err := db.write(ctx, "fill feed", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
			INSERT INTO changes(at, kind, issue_key) SELECT i, 'issue.updated', 'A-' || i FROM n`)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	var ours, floor time.Duration
	rounds := 0
	for b.Loop() {
		start := time.Now()
		var one int
		if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
		floor += time.Since(start)
		start = time.Now()
		seq, err := db.LastChange(ctx)
		if err != nil || seq != 100000 {
			b.Fatalf("LastChange %d, %v", seq, err)
		}
		ours += time.Since(start)
		rounds++
	}
	b.ReportMetric(float64(ours.Microseconds())/float64(rounds), "µs/poll")
	b.ReportMetric(ours.Seconds()/floor.Seconds(), "x-floor")
}

// BenchmarkGrantTargets100k: what a permission check reads from a cache of 100,000 issues
// (their projects and the secured ones), against reading every issue as it did before.
func BenchmarkGrantTargets100k(b *testing.B) {
	ctx := context.Background()
	db := filledBench(b, 100_000)
	var ours, all time.Duration
	b.ResetTimer()
	for range b.N {
		t1 := time.Now()
		if _, _, err := db.GrantTargets(ctx); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(t1)
		t1 = time.Now()
		if _, err := db.Issues(ctx, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
		all += time.Since(t1)
	}
	b.ReportMetric(float64(ours.Milliseconds())/float64(b.N), "targets-ms")
	b.ReportMetric(float64(all.Milliseconds())/float64(b.N), "all-issues-ms")
	b.ReportMetric(ours.Seconds()/all.Seconds(), "x-all-issues")
}

// filledBench is a cache of n generated issues (benchIssue), written 1,000 to a batch.
func filledBench(b *testing.B, n int) *DB {
	b.Helper()
	db := openTest(b)
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]lens.Issue, 0, 1000)
	for i := range n {
		batch = append(batch, benchIssue(b, i, t0))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := db.UpsertIssues(context.Background(), batch, true); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return db
}

// BenchmarkOneRowCommit is the least any cache write costs with the prescribed driver
// (modernc.org/sqlite): one short row INSERTed into a table without indexes and committed,
// in WAL mode with synchronous=NORMAL as the cache runs, in the test's temporary directory
// and on tmpfs (/dev/shm, when there is one). The edit benchmark's min-write (one audit
// row, three B-trees) compares with it.
func BenchmarkOneRowCommit(b *testing.B) {
	dirs := map[string]string{"tempdir": b.TempDir()}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "onerow"); err == nil {
			b.Cleanup(func() { os.RemoveAll(d) })
			dirs["tmpfs"] = d
		}
	}
	for name, dir := range dirs {
		b.Run(name, func(b *testing.B) {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "one.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Exec("INSERT INTO t (v) VALUES (?)", "x"); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
