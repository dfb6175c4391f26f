package refresh_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"foundation/jira/jiratest"
	"foundation/lens"
	"foundation/refresh"
	"foundation/store"
)

const hookSecret = "hook-s3cret"

// hookFixture is a synced cache, a listener journaling into it on an httptest server, and
// the fake site's dispatcher delivering to that server.
type hookFixture struct {
	*fixture
	l       *refresh.Listener
	url     string
	applier *refresh.Applier
}

func newHookFixture(t *testing.T, dialect string, issues int, scope string) *hookFixture {
	t.Helper()
	f := newFixture(t, dialect, issues, scope)
	if _, err := f.eng.Full(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := refresh.NewListener(f.db, refresh.ListenerOptions{Secret: []byte(hookSecret)})
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	t.Cleanup(f.site.Webhooks().Close)
	return &hookFixture{fixture: f, l: l, url: srv.URL, applier: refresh.NewApplier(f.c, f.db, refresh.ApplyOptions{Scope: scope})}
}

func (h *hookFixture) flushAndApply(t *testing.T) refresh.ApplyStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.site.Webhooks().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := h.applier.ApplyPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// capture records deliveries instead of applying them, so a test can replay them to the
// listener in an order of its choosing.
type capture struct {
	mu   sync.Mutex
	reqs []captured
}

type captured struct {
	header http.Header
	body   []byte
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.reqs = append(c.reqs, captured{r.Header.Clone(), b})
	c.mu.Unlock()
}

func (c *capture) take() []captured {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reqs
	c.reqs = nil
	return out
}

// capturing registers a capture with the site (signed) and returns it.
func (h *hookFixture) capturing(t *testing.T) *capture {
	t.Helper()
	c := &capture{}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	h.site.Webhooks().Register(srv.URL, hookSecret, nil, "")
	return c
}

func (h *hookFixture) deliver(t *testing.T, c captured) int {
	t.Helper()
	req, err := http.NewRequest("POST", h.url, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (h *hookFixture) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.site.Webhooks().Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func (h *hookFixture) issueKeys(t *testing.T, project string, n int) []string {
	t.Helper()
	var out []string
	for _, fi := range h.site.Issues() {
		if fi.Project == project && !fi.Subtask && fi.Type != "Epic" {
			out = append(out, fi.Key)
			if len(out) == n {
				return out
			}
		}
	}
	t.Fatalf("fewer than %d plain issues in %s", n, project)
	return nil
}

func cached(t *testing.T, db *store.DB, key string) (lens.Issue, bool) {
	t.Helper()
	is, err := db.Issue(context.Background(), key)
	if errors.Is(err, store.ErrNotFound) {
		return is, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return is, true
}

func journalStats(t *testing.T, db *store.DB) store.JournalStats {
	t.Helper()
	st, err := db.JournalStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sameLinks compares the cache's links with Jira's among the issues of projects.
func assertLinks(t *testing.T, site *jiratest.Site, db *store.DB, projects ...string) {
	t.Helper()
	in := map[string]bool{}
	for _, fi := range site.Issues() {
		if slices.Contains(projects, fi.Project) {
			in[fi.Key] = true
		}
	}
	want := map[int64]lens.Link{}
	for _, l := range site.Links() {
		if in[l.From] || in[l.To] {
			want[l.ID] = l
		}
	}
	got, err := db.Links(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]lens.Link{}
	for _, l := range got {
		have[l.ID] = l
	}
	for id, w := range want {
		if g, ok := have[id]; !ok || g.From != w.From || g.To != w.To || g.Type != w.Type {
			t.Errorf("link %d: cache %+v, jira %+v", id, g, w)
		}
	}
	for id, g := range have {
		if _, ok := want[id]; !ok {
			t.Errorf("link %d %+v cached but not in Jira", id, g)
		}
	}
}

// TestWebhooksConverge drives edits, creations, deletions, moves, comments and links
// through the fake site, delivered by its dispatcher with duplicates and reordering to the
// signed listener: once applied, the cache equals Jira's scope.
func TestWebhooksConverge(t *testing.T) {
	for _, dialect := range []string{"cloud", "datacenter"} {
		t.Run(dialect, func(t *testing.T) {
			h := newHookFixture(t, dialect, 300, "project = ALPHA")
			h.site.Webhooks().Register(h.url, hookSecret, nil, "")
			h.site.Webhooks().SetDuplicates(0.3)
			h.site.Webhooks().SetReorder(6)
			ctx := context.Background()
			keys := h.issueKeys(t, "ALPHA", 12)
			for i, k := range keys[:6] {
				if err := h.site.Update(k, map[string]any{"summary": fmt.Sprintf("edit %d", i)}); err != nil {
					t.Fatal(err)
				}
				if err := h.site.Update(k, map[string]any{"summary": fmt.Sprintf("edit %d again", i), "labels": []string{"hooked"}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := h.c.CreateIssue(ctx, map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Task"}, "summary": "born in a webhook"}); err != nil {
				t.Fatal(err)
			}
			if err := h.site.Delete(keys[6]); err != nil {
				t.Fatal(err)
			}
			if _, err := h.site.Move(keys[7], "GAMMA"); err != nil {
				t.Fatal(err)
			}
			if err := h.c.CreateLink(ctx, "Blocks", keys[8], keys[9]); err != nil {
				t.Fatal(err)
			}
			addComment(t, h.srv.URL, dialect, keys[10], "a comment from the webhook test")
			h.flush(t)
			st, err := h.applier.ApplyPending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			js := journalStats(t, h.db)
			ds := h.site.Webhooks().Stats()
			t.Logf("apply %+v", st)
			if ds.Failed != 0 || ds.Delivered != ds.Emitted {
				t.Errorf("dispatcher %+v: every delivery should be acknowledged", ds)
			}
			if js.Pending != 0 || js.Quarantined != 0 || int(js.Total) != ds.Emitted-ds.Duplicated {
				t.Errorf("journal %+v after %+v: want every distinct delivery applied once", js, ds)
			}
			if st.Applied != int(js.Applied) || st.Fetched == 0 {
				t.Errorf("apply %+v: want %d applied and the comment's issue re-read", st, js.Applied)
			}
			assertConverged(t, h.site, h.db, "ALPHA")
			assertLinks(t, h.site, h.db, "ALPHA")
			// A second apply finds nothing and changes nothing.
			before, _ := h.db.LastChange(ctx)
			if st, err := h.applier.ApplyPending(ctx); err != nil || st.Applied != 0 {
				t.Errorf("second apply %+v, %v: want nothing to do", st, err)
			}
			if after, _ := h.db.LastChange(ctx); after != before {
				t.Errorf("a second apply moved the change feed from %d to %d", before, after)
			}
		})
	}
}

func addComment(t *testing.T, base, dialect, key, text string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"body": text})
	req, _ := http.NewRequest("POST", base+"/rest/api/2/issue/"+key+"/comment", bytes.NewReader(body))
	if dialect == "cloud" {
		req.SetBasicAuth("admin@example.com", "admin-token")
	} else {
		req.Header.Set("Authorization", "Bearer admin-token")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("add comment to %s: status %d", key, resp.StatusCode)
	}
}

// TestWebhookOrdering replays captured deliveries in adverse orders.
func TestWebhookOrdering(t *testing.T) {
	h := newHookFixture(t, "cloud", 200, "project = ALPHA")
	cap := h.capturing(t)
	keys := h.issueKeys(t, "ALPHA", 2)

	// An older update after a newer one leaves the newer state.
	if err := h.site.Update(keys[0], map[string]any{"summary": "older"}); err != nil {
		t.Fatal(err)
	}
	if err := h.site.Update(keys[0], map[string]any{"summary": "newer"}); err != nil {
		t.Fatal(err)
	}
	// A delete followed by a late update stays deleted.
	if err := h.site.Update(keys[1], map[string]any{"summary": "doomed"}); err != nil {
		t.Fatal(err)
	}
	if err := h.site.Delete(keys[1]); err != nil {
		t.Fatal(err)
	}
	h.flush(t)
	got := cap.take()
	if len(got) != 4 {
		t.Fatalf("captured %d deliveries, want 4", len(got))
	}
	ctx := context.Background()
	// Newest first, applying after each one, so the late ones meet the applied newer state.
	for i := len(got) - 1; i >= 0; i-- {
		if code := h.deliver(t, got[i]); code != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, code)
		}
		if _, err := h.applier.ApplyPending(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if is, ok := cached(t, h.db, keys[0]); !ok || is.Summary != "newer" {
		t.Errorf("%s summary %q (cached %t), want the newer state", keys[0], is.Summary, ok)
	}
	if is, ok := cached(t, h.db, keys[1]); ok {
		t.Errorf("%s resurrected by a late update: %+v", keys[1], is)
	}
	// The same deliveries again, all at once: duplicates, acknowledged and ignored.
	for _, c := range got {
		if code := h.deliver(t, c); code != http.StatusOK {
			t.Fatalf("duplicate: status %d", code)
		}
	}
	if st := journalStats(t, h.db); st.Total != 4 || st.Pending != 0 {
		t.Errorf("journal %+v, want 4 entries, none pending", st)
	}
	if ls := h.l.Stats(); ls.Duplicates != 4 || ls.Journaled != 4 {
		t.Errorf("listener %+v, want 4 journaled and 4 duplicates", ls)
	}
}

// TestWebhookRetried: Jira retries a delivery whose answer it did not get; the journal
// keeps one entry with the retry count.
func TestWebhookRetried(t *testing.T) {
	h := newHookFixture(t, "cloud", 100, "project = ALPHA")
	var mu sync.Mutex
	first := true
	// The first attempt is journaled, but its answer is lost (as when a proxy times out).
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lose := first
		first = false
		mu.Unlock()
		if lose {
			h.l.ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "gateway timeout", http.StatusGatewayTimeout)
			return
		}
		h.l.ServeHTTP(w, r)
	}))
	defer lossy.Close()
	h.site.Webhooks().Register(lossy.URL, hookSecret, nil, "")
	key := h.issueKeys(t, "ALPHA", 1)[0]
	if err := h.site.Update(key, map[string]any{"summary": "sent twice"}); err != nil {
		t.Fatal(err)
	}
	h.flushAndApply(t)
	ds := h.site.Webhooks().Stats()
	if ds.Retries != 1 || ds.Delivered != 1 {
		t.Fatalf("dispatcher %+v: want one retry, then delivered", ds)
	}
	all, err := h.db.Journal(context.Background(), store.JournalAll, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Retry != 1 || all[0].AppliedAt.IsZero() {
		t.Fatalf("journal %+v: want one applied entry with retry 1", all)
	}
	if is, _ := cached(t, h.db, key); is.Summary != "sent twice" {
		t.Errorf("summary %q", is.Summary)
	}
}

// TestListenerRefuses checks every refusal answers its status and journals nothing.
func TestListenerRefuses(t *testing.T) {
	h := newHookFixture(t, "cloud", 50, "project = ALPHA")
	cap := h.capturing(t)
	key := h.issueKeys(t, "ALPHA", 1)[0]
	if err := h.site.Update(key, map[string]any{"summary": "x"}); err != nil {
		t.Fatal(err)
	}
	h.flush(t)
	good := cap.take()[0]
	small := refresh.NewListener(h.db, refresh.ListenerOptions{Secret: []byte(hookSecret), MaxBody: 64})
	withHeader := func(k, v string) http.Header {
		hd := good.header.Clone()
		if v == "" {
			hd.Del(k)
		} else {
			hd.Set(k, v)
		}
		return hd
	}
	malformed := []byte(`{"webhookEvent": "jira:issue_updated", "timestamp": 1`)
	tests := []struct {
		name    string
		h       http.Handler
		method  string
		header  http.Header
		body    []byte
		want    int
		journal bool
	}{
		{"signed", h.l, "POST", good.header, good.body, 200, true},
		{"wrong method", h.l, "GET", good.header, nil, 405, false},
		{"wrong content type", h.l, "POST", withHeader("Content-Type", "text/plain"), good.body, 415, false},
		{"unsigned", h.l, "POST", withHeader("X-Hub-Signature", ""), good.body, 401, false},
		{"forged", h.l, "POST", withHeader("X-Hub-Signature", jiratest.Sign("guess", good.body)), good.body, 401, false},
		{"tampered body", h.l, "POST", good.header, bytes.Replace(good.body, []byte(`"x"`), []byte(`"y"`), 1), 401, false},
		{"oversized", small, "POST", good.header, good.body, 413, false},
		{"malformed", h.l, "POST", withHeader("X-Hub-Signature", jiratest.Sign(hookSecret, malformed)), malformed, 400, false},
		{"no event", h.l, "POST", withHeader("X-Hub-Signature", jiratest.Sign(hookSecret, []byte(`{"timestamp":1}`))), []byte(`{"timestamp":1}`), 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := journalStats(t, h.db).Total
			req := httptest.NewRequest(tt.method, "/", bytes.NewReader(tt.body))
			req.Header = tt.header.Clone()
			req.Header.Set("X-Atlassian-Webhook-Identifier", "refuse-"+strings.ReplaceAll(tt.name, " ", "-"))
			w := httptest.NewRecorder()
			tt.h.ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if grew := journalStats(t, h.db).Total > before; grew != tt.journal {
				t.Errorf("journaled %t, want %t", grew, tt.journal)
			}
		})
	}
	all, err := h.db.Journal(context.Background(), store.JournalAll, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if e.Identifier == "refuse-signed" && (e.Event != "jira:issue_updated" || e.EventTime.IsZero() || e.Headers.Get("X-Hub-Signature") == "") {
			t.Errorf("journal entry %+v lacks what the delivery said", e)
		}
	}
}

// TestListenerCannotPersist: a journal that cannot be written answers 503, so Jira retries.
func TestListenerCannotPersist(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "closed.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	l := refresh.NewListener(db, refresh.ListenerOptions{})
	body := []byte(`{"timestamp":1700000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"ALPHA-1","fields":{}}}`)
	req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	w := httptest.NewRecorder()
	l.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	if st := l.Stats(); st.Failed != 1 || st.Journaled != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestListenerKeepsNoSecrets: credentials a proxy might add are not journaled.
func TestListenerKeepsNoSecrets(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := refresh.NewListener(db, refresh.ListenerOptions{})
	body := []byte(`{"timestamp":1700000000000,"webhookEvent":"sprint_started"}`)
	req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer tok-123")
	req.Header.Set("Cookie", "session=abc")
	req.Header.Set("X-Api-Token", "tok-456")
	req.Header.Set("X-Atlassian-Webhook-Flow", "Primary")
	w := httptest.NewRecorder()
	l.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	all, err := db.Journal(context.Background(), store.JournalAll, 0)
	if err != nil || len(all) != 1 {
		t.Fatalf("journal %v, %v", all, err)
	}
	hd, _ := json.Marshal(all[0].Headers)
	for _, s := range []string{"tok-123", "abc", "tok-456"} {
		if bytes.Contains(hd, []byte(s)) {
			t.Errorf("journaled headers keep a secret: %s", hd)
		}
	}
	if all[0].Headers.Get("X-Atlassian-Webhook-Flow") != "Primary" || !strings.HasPrefix(all[0].Identifier, "sha256:") {
		t.Errorf("entry %+v: want the flow header kept and an identifier from the body", all[0])
	}
}

// TestServePrunesAppliedEntries: applied entries older than KeepApplied leave the journal
// when Serve starts; pending ones are applied and stay.
func TestServePrunesAppliedEntries(t *testing.T) {
	for _, tt := range []struct {
		keep time.Duration
		want int64
	}{{time.Nanosecond, 1}, {-1, 2}} {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "prune.db"))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		old := store.JournalEntry{Identifier: "old", Event: "sprint_started", EventTime: time.UnixMilli(1), Body: []byte(`{"timestamp":1,"webhookEvent":"sprint_started"}`)}
		if _, err := db.AppendJournal(ctx, old); err != nil {
			t.Fatal(err)
		}
		if _, err := refresh.ReplayJournal(ctx, db, nil); err != nil {
			t.Fatal(err)
		}
		// Pending at Serve's start: applied by Serve after the prune.
		pending := store.JournalEntry{Identifier: "new", Event: "comment_created", EventTime: time.UnixMilli(2), Body: []byte(`{"timestamp":2,"webhookEvent":"comment_created","issue":{"id":"5","key":"A-1"},"comment":{"id":"9"}}`)}
		if _, err := db.AppendJournal(ctx, pending); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		cancel() // start, prune, apply, stop
		l := refresh.NewListener(db, refresh.ListenerOptions{})
		if err := refresh.Serve(sctx, ln, l, refresh.NewApplier(nil, db, refresh.ApplyOptions{}), refresh.ServeOptions{KeepApplied: tt.keep}); err != nil {
			t.Fatal(err)
		}
		st := journalStats(t, db)
		if st.Total != tt.want || st.Pending != 0 {
			t.Errorf("keep %s: journal %+v, want %d entries, none pending", tt.keep, st, tt.want)
		}
		db.Close()
	}
}

func journal(t *testing.T, db *store.DB, ident string, at int64, body string) {
	t.Helper()
	var head struct {
		Event string `json:"webhookEvent"`
	}
	_ = json.Unmarshal([]byte(body), &head)
	if _, err := db.AppendJournal(context.Background(), store.JournalEntry{Identifier: ident, Event: head.Event, EventTime: time.UnixMilli(at), Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
}

// TestApplierEvents applies each kind of event from journal entries, with entries that
// cannot be applied in between: those are quarantined with their reason and the others
// still apply, in event-time order.
func TestApplierEvents(t *testing.T) {
	h := newHookFixture(t, "cloud", 200, "project = ALPHA")
	ctx := context.Background()
	cap := h.capturing(t)
	keys := h.issueKeys(t, "ALPHA", 3)
	if err := h.site.Update(keys[0], map[string]any{"summary": "applied after two bad ones"}); err != nil {
		t.Fatal(err)
	}
	h.flush(t)
	upd := cap.take()[0]
	links, err := h.db.Links(ctx)
	if err != nil || len(links) == 0 {
		t.Fatalf("links %v, %v: the fake site should have some", links, err)
	}
	victim, _ := cached(t, h.db, keys[1])
	if victim.Assignee == "" {
		t.Fatalf("%s has no assignee to purge", keys[1])
	}
	at := time.Now().Add(time.Hour).UnixMilli()
	journal(t, h.db, "bad", at, fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"jira:issue_updated"}`, at))
	journal(t, h.db, "unknown", at+1, fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"mystery_event"}`, at+1))
	journal(t, h.db, "update", at+2, string(upd.body))
	journal(t, h.db, "unlink", at+3, fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"issuelink_deleted","issueLink":{"id":%d,"sourceIssueId":1,"destinationIssueId":2}}`, at+3, links[0].ID))
	journal(t, h.db, "purge", at+4, fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"user_deleted","user":{"accountId":%q}}`, at+4, victim.Assignee))

	// Offline first. The fake site's update payload lacks a field the cache keeps (the
	// description), so that entry needs Jira and waits; the others apply.
	st, err := refresh.NewApplier(nil, h.db, refresh.ApplyOptions{Scope: "project = ALPHA"}).ApplyPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Applied != 2 || st.Quarantined != 2 || st.Deferred != 1 || st.LinksRemoved != 1 || st.UsersPurged != 1 {
		t.Errorf("apply %+v: want 2 applied, 2 quarantined, 1 deferred, a link removed, a user purged", st)
	}
	q, err := h.db.Journal(ctx, store.JournalQuarantined, 0)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range q {
		reasons[e.Identifier] = e.Quarantined
	}
	if !strings.Contains(reasons["bad"], "issue: missing") || !strings.Contains(reasons["unknown"], `unknown event "mystery_event"`) {
		t.Errorf("quarantine reasons %v", reasons)
	}
	if after, _ := h.db.Links(ctx); len(after) != len(links)-1 {
		t.Errorf("%d links after deleting one of %d", len(after), len(links))
	}
	users, err := h.db.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.ID == victim.Assignee {
			t.Errorf("user %s still cached after user_deleted", u.ID)
		}
	}

	// A comment needs a re-read too; with a client both apply.
	fi, _ := h.site.Issue(keys[2])
	journal(t, h.db, "comment", at+5, fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"comment_created","issue":{"id":"%d","key":%q},"comment":{"id":"77"}}`, at+5, fi.ID, fi.Key))
	st, err = refresh.NewApplier(nil, h.db, refresh.ApplyOptions{}).ApplyPending(ctx)
	if err != nil || st.Deferred != 2 || st.Applied != 0 {
		t.Errorf("offline apply %+v, %v: want the update and the comment deferred", st, err)
	}
	st, err = h.applier.ApplyPending(ctx)
	if err != nil || st.Applied != 2 || st.Fetched != 2 {
		t.Errorf("apply %+v, %v: want both applied by re-reading their issues", st, err)
	}
	if is, _ := cached(t, h.db, keys[0]); is.Summary != "applied after two bad ones" {
		t.Errorf("%s summary %q: the good entry was blocked", keys[0], is.Summary)
	}

	// Deleting the project removes its issues; a late update cannot bring one back.
	journal(t, h.db, "project", at+6, fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"project_deleted","project":{"id":"10000","key":"ALPHA","name":"Alpha"}}`, at+6))
	journal(t, h.db, "late", at-1000, strings.Replace(string(upd.body), "applied after two bad ones", "late", 1))
	if st, err = h.applier.ApplyPending(ctx); err != nil {
		t.Fatal(err)
	}
	left, err := h.db.Issues(ctx, store.ReadOptions{Projects: []string{"ALPHA"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 || st.Deleted == 0 {
		t.Errorf("apply %+v: %d ALPHA issues left after project_deleted", st, len(left))
	}
	if js := journalStats(t, h.db); js.Pending != 0 || js.Quarantined != 2 {
		t.Errorf("journal %+v", js)
	}
}

// TestServeTLS: with a certificate, Serve speaks HTTPS (Jira Cloud delivers only to https).
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "tls.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- refresh.Serve(ctx, ln, refresh.NewListener(db, refresh.ListenerOptions{}), refresh.NewApplier(nil, db, refresh.ApplyOptions{}),
			refresh.ServeOptions{TLSCert: certFile, TLSKey: keyFile})
	}()
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := `{"timestamp":1700000000000,"webhookEvent":"sprint_started"}`
	resp, err := client.Post("https://"+ln.Addr().String()+"/hook", "application/json", strings.NewReader(body))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || journalStats(t, db).Applied != 1 {
		t.Errorf("status %d, journal %+v: want the delivery acknowledged and applied", resp.StatusCode, journalStats(t, db))
	}
}

// TestWebhooksUnderScopeOnlyJiraAnswers: with a scope local evaluation cannot answer (WAS
// needs history the cache does not keep), webhooks update the issues the cache holds and
// bring in no others: whether those belong is the next poll's to say, asking Jira.
func TestWebhooksUnderScopeOnlyJiraAnswers(t *testing.T) {
	const scope = `project = ALPHA AND status WAS "In Progress"`
	h := newHookFixture(t, "cloud", 300, scope)
	h.site.Webhooks().Register(h.url, hookSecret, nil, "")
	var in, out string
	for _, fi := range h.site.Issues() {
		if fi.Project != "ALPHA" {
			continue
		}
		switch fi.Status {
		case "Done":
			in = fi.Key // walked through In Progress: in the scope and the cache
		case "To Do":
			out = fi.Key // never was: Jira leaves it out of the scope
		}
	}
	if _, ok := cached(t, h.db, in); !ok {
		t.Fatalf("%s is not cached after the full sync", in)
	}
	if _, ok := cached(t, h.db, out); ok {
		t.Fatalf("%s is cached, but the scope leaves it out", out)
	}
	for _, k := range []string{in, out} {
		if err := h.site.Update(k, map[string]any{"summary": "changed " + k}); err != nil {
			t.Fatal(err)
		}
	}
	h.flushAndApply(t)
	if is, ok := cached(t, h.db, in); !ok || is.Summary != "changed "+in {
		t.Errorf("cached %s not updated: %q", in, is.Summary)
	}
	if _, ok := cached(t, h.db, out); ok {
		t.Errorf("a webhook brought %s, outside the scope, into the cache", out)
	}
}

// TestServeStopsPromptlyWhenJiraIsDown: stopping a listener whose journal holds an entry
// that needs Jira (a comment re-reads its issue) while Jira does not answer returns within
// the final apply's few seconds, not after the client's retries, and leaves the entry
// pending for the next start.
func TestServeStopsPromptlyWhenJiraIsDown(t *testing.T) {
	f := newFixture(t, "cloud", 20, "project = ALPHA")
	if _, err := f.eng.Full(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.srv.Close() // Jira is down from here on
	is, err := f.db.Issue(context.Background(), "ALPHA-1")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		// Applies only when told to stop: the entry meets Jira down in the final apply.
		done <- refresh.Serve(ctx, ln, refresh.NewListener(f.db, refresh.ListenerOptions{}),
			refresh.NewApplier(f.c, f.db, refresh.ApplyOptions{Scope: "project = ALPHA"}),
			refresh.ServeOptions{ApplyDelay: time.Hour, ApplyEvery: time.Hour})
	}()
	body := fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"comment_created","issue":{"id":"%d","key":"ALPHA-1"},"comment":{"id":"9001","body":"hi"}}`,
		time.Now().UnixMilli(), is.ID)
	resp, err := http.Post("http://"+ln.Addr().String()+"/hook", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("delivery answered %d", resp.StatusCode)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve still running 30 s after the stop")
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("stop took %v with Jira down, want a few seconds", took.Round(100*time.Millisecond))
	}
	if st := journalStats(t, f.db); st.Pending != 1 {
		t.Errorf("journal %+v: want the comment pending for the next start", st)
	}
}
