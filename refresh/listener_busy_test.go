package refresh_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"foundation/refresh"
	"foundation/store"
)

// While another process holds the cache's write lock, a delivery is answered 503 within
// the listener's ack timeout (well under Jira's request timeout), not held until the lock
// goes; its retry once the cache is free is stored exactly once.
func TestListenerAnswers503WhileTheCacheIsBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	l := refresh.NewListener(db, refresh.ListenerOptions{AckTimeout: time.Second})
	srv := httptest.NewServer(l)
	defer srv.Close()
	post := func() (int, string, time.Duration) {
		body := []byte(`{"timestamp":1700000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"ALPHA-1","fields":{}}}`)
		req, _ := http.NewRequest("POST", srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Atlassian-Webhook-Identifier", "busy-1")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start)
	}
	code, retry, took := post()
	if code != http.StatusServiceUnavailable || retry == "" || took > 3*time.Second {
		t.Errorf("busy cache: HTTP %d (Retry-After %q) after %v; want 503 within about a second", code, retry, took)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if code, _, took := post(); code != http.StatusOK || took > 3*time.Second {
		t.Errorf("free cache: HTTP %d after %v; want 200", code, took)
	}
	if st := journalStats(t, db); st.Pending+st.Applied != 1 {
		t.Errorf("journal %+v: want the delivery stored once", st)
	}
}
