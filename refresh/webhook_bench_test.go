package refresh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// hookBench is a cache synced from the fake site and signed issue_updated deliveries built
// from the cached issues (every field the cache keeps, a newer updated and a new summary),
// as Jira Cloud sends them.
type hookBench struct {
	db     *store.DB
	c      *jira.Client
	issues []issueFields
	run    int
}

type issueFields struct {
	id, key string
	fields  map[string]json.RawMessage
}

func newHookBench(b *testing.B, n int) *hookBench {
	b.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: n, Seed: 21})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(site)
	b.Cleanup(srv.Close)
	ctx := context.Background()
	c, err := jira.New(ctx, jira.Options{BaseURL: srv.URL, Email: "admin@example.com", Token: "admin-token", RequestsPerSecond: -1})
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
	cached, err := db.Issues(ctx, store.ReadOptions{WithRaw: true})
	if err != nil {
		b.Fatal(err)
	}
	h := &hookBench{db: db, c: c}
	for _, is := range cached {
		h.issues = append(h.issues, issueFields{strconv.FormatInt(is.ID, 10), is.Key, is.Fields})
	}
	return h
}

type delivery struct {
	header http.Header
	body   []byte
}

// deliveries builds n signed deliveries, each newer than everything before it.
func (h *hookBench) deliveries(b *testing.B, n int) []delivery {
	b.Helper()
	h.run++
	base := time.Now().Add(time.Duration(h.run) * time.Hour)
	out := make([]delivery, n)
	for i := range out {
		is := h.issues[i%len(h.issues)]
		fields := make(map[string]json.RawMessage, len(is.fields))
		for k, v := range is.fields {
			fields[k] = v
		}
		at := base.Add(time.Duration(i) * time.Millisecond)
		fields["updated"], _ = json.Marshal(at.Format("2006-01-02T15:04:05.000-0700"))
		fields["summary"], _ = json.Marshal(fmt.Sprintf("bench %d-%d", h.run, i))
		body, err := json.Marshal(map[string]any{
			"timestamp": at.UnixMilli(), "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_generic",
			"issue": map[string]any{"id": is.id, "key": is.key, "fields": fields},
		})
		if err != nil {
			b.Fatal(err)
		}
		hd := http.Header{}
		hd.Set("Content-Type", "application/json")
		hd.Set("X-Atlassian-Webhook-Identifier", fmt.Sprintf("bench-%d-%d", h.run, i))
		hd.Set("X-Hub-Signature", jiratest.Sign(hookSecret, body))
		out[i] = delivery{hd, body}
	}
	return out
}

// post sends one delivery and returns how long the acknowledgement took.
func post(b *testing.B, client *http.Client, url string, d delivery) time.Duration {
	req, err := http.NewRequest("POST", url, bytes.NewReader(d.body))
	if err != nil {
		b.Error(err)
		return 0
	}
	req.Header = d.header.Clone()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d", resp.StatusCode)
	}
	return took
}

// blast sends every delivery with senders concurrent connections, as Jira does under load.
func blast(b *testing.B, url string, ds []delivery, senders int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ds) {
					return
				}
				post(b, client, url, ds[i])
			}
		})
	}
	wg.Wait()
}

// serving runs the real listener and applier (refresh.Serve) on a loopback port.
func (h *hookBench) serving(b *testing.B) (url string, stop func()) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l := refresh.NewListener(h.db, refresh.ListenerOptions{Secret: []byte(hookSecret)})
	a := refresh.NewApplier(h.c, h.db, refresh.ApplyOptions{Scope: "project in (ALPHA, BETA, GAMMA)"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- refresh.Serve(ctx, ln, l, a, refresh.ServeOptions{ApplyDelay: 20 * time.Millisecond, ApplyEvery: 100 * time.Millisecond})
	}()
	return "http://" + ln.Addr().String(), func() {
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// floorServer is a bare HTTP handler that reads and discards each body: what HTTP alone
// costs on this machine, in the same run.
func floorServer(b *testing.B) string {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

func (h *hookBench) waitApplied(b *testing.B) {
	b.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Millisecond) {
		st, err := h.db.JournalStats(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if st.Pending == 0 {
			if st.Quarantined > 0 {
				b.Fatalf("%d entries quarantined", st.Quarantined)
			}
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("journal still has %d pending", st.Pending)
		}
	}
}

// BenchmarkWebhookIngest measures sustained webhook ingest: b.N signed deliveries from 16
// concurrent senders to the real listener (signature check, durable group-committed journal,
// 2xx) while the applier writes them to a 3,000-issue cache, until the last one is applied.
// deliveries/s is the rate journaled and applied (target >= 2,000). The floors, in the same
// run: the same deliveries to a bare handler that discards them (x-http-floor is our time
// over its time), and one durable AppendJournal per delivery without HTTP (raw-appends/s;
// x-append-floor is that rate over ours: below 1 means group commit journals and applies
// faster than bare one-by-one journaling).
func BenchmarkWebhookIngest(b *testing.B) {
	h := newHookBench(b, 3000)
	const senders = 16
	floorURL := floorServer(b)
	ds := h.deliveries(b, b.N)

	floorStart := time.Now()
	blast(b, floorURL, ds, senders)
	floor := time.Since(floorStart)

	appendN := min(b.N, 500)
	appendStart := time.Now()
	for i := range appendN {
		e := store.JournalEntry{Identifier: fmt.Sprintf("raw-%d-%d", h.run, i), Event: "jira:issue_updated", EventTime: time.UnixMilli(int64(i + 1)), Body: ds[i].body}
		if _, err := h.db.AppendJournal(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	appendRate := float64(appendN) / time.Since(appendStart).Seconds()
	// The raw appends are not deliveries: settle them so the timed run starts from an empty backlog.
	if _, err := refresh.NewApplier(h.c, h.db, refresh.ApplyOptions{}).ApplyPending(context.Background()); err != nil {
		b.Fatal(err)
	}

	url, stop := h.serving(b)
	b.ResetTimer()
	start := time.Now()
	blast(b, url, ds, senders)
	acked := time.Since(start)
	h.waitApplied(b)
	took := time.Since(start)
	b.StopTimer()
	stop()

	rate := float64(b.N) / took.Seconds()
	b.ReportMetric(rate, "deliveries/s")
	// Where the time goes: how fast the listener acknowledged, apart from the applier.
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked/s")
	b.ReportMetric(took.Seconds()/floor.Seconds(), "x-http-floor")
	b.ReportMetric(appendRate, "raw-appends/s")
	b.ReportMetric(appendRate/rate, "x-append-floor")
}

// BenchmarkWebhookAckLatency measures how fast deliveries are acknowledged at a steady 200
// per second (Jira's pace in a busy site), with the applier running alongside: p50 and p99
// in milliseconds, and the same percentiles of the bare discarding handler paced the same
// way in the same run (x-floor-p50, x-floor-p99 are the ratios).
func BenchmarkWebhookAckLatency(b *testing.B) {
	h := newHookBench(b, 3000)
	floorURL := floorServer(b)
	ds := h.deliveries(b, b.N)
	paced := func(url string) []time.Duration {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		defer client.CloseIdleConnections()
		lat := make([]time.Duration, len(ds))
		var wg sync.WaitGroup
		tick := time.NewTicker(5 * time.Millisecond) // 200/s
		defer tick.Stop()
		for i := range ds {
			<-tick.C
			wg.Go(func() { lat[i] = post(b, client, url, ds[i]) })
		}
		wg.Wait()
		slices.Sort(lat)
		return lat
	}
	pct := func(lat []time.Duration, p float64) float64 {
		i := min(len(lat)-1, int(float64(len(lat))*p))
		return float64(lat[i].Microseconds()) / 1000
	}
	floor := paced(floorURL)
	url, stop := h.serving(b)
	b.ResetTimer()
	got := paced(url)
	b.StopTimer()
	h.waitApplied(b)
	stop()
	b.ReportMetric(pct(got, 0.50), "p50-ms")
	b.ReportMetric(pct(got, 0.99), "p99-ms")
	b.ReportMetric(pct(got, 0.50)/max(pct(floor, 0.50), 0.001), "x-floor-p50")
	b.ReportMetric(pct(got, 0.99)/max(pct(floor, 0.99), 0.001), "x-floor-p99")
}

// BenchmarkWebhookJournal splits BenchmarkWebhookIngest in two: the listener alone, with no
// applier sharing the database writer or the CPU (acked/s: deliveries verified, journaled
// durably and acknowledged), then the applier alone over the backlog it left (applied/s).
// Set beside BenchmarkWebhookIngest in the same run, they say where the ingest time goes.
func BenchmarkWebhookJournal(b *testing.B) {
	h := newHookBench(b, 3000)
	ds := h.deliveries(b, b.N)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	l := refresh.NewListener(h.db, refresh.ListenerOptions{Secret: []byte(hookSecret)})
	srv := &http.Server{Handler: l}
	go srv.Serve(ln)
	defer srv.Close()
	b.ResetTimer()
	start := time.Now()
	blast(b, "http://"+ln.Addr().String(), ds, 16)
	took := time.Since(start)
	b.StopTimer()
	if got := l.Stats().Journaled; got != int64(b.N) {
		b.Fatalf("journaled %d of %d deliveries", got, b.N)
	}
	b.ReportMetric(float64(b.N)/took.Seconds(), "acked/s")
	// Then the applier alone over that backlog, with no listener beside it.
	a := refresh.NewApplier(h.c, h.db, refresh.ApplyOptions{Scope: "project in (ALPHA, BETA, GAMMA)"})
	start = time.Now()
	st, err := a.ApplyPending(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if st.Applied != b.N {
		b.Fatalf("applied %d of %d", st.Applied, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "applied/s")
}
