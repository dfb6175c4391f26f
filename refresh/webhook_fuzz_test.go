package refresh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"foundation/jira/jiratest"
	"foundation/refresh"
	"foundation/store"
)

// FuzzListener throws arbitrary requests at the listener: it never panics, and it never
// answers 2xx without the delivery being in the journal (the entry it names, with the body
// it was sent), nor journals anything when it refuses.
func FuzzListener(f *testing.F) {
	valid := `{"timestamp":1700000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"10001","key":"ALPHA-1","fields":{"summary":"x"}}}`
	f.Add([]byte(valid), "application/json", uint8(1), "id-1")
	f.Add([]byte(valid), "application/json; charset=utf-8", uint8(0), "")
	f.Add([]byte(valid), "text/plain", uint8(1), "id-2")
	f.Add([]byte(valid), "application/json", uint8(2), "id-3")
	f.Add([]byte(`{"timestamp":"1700000000000","webhookEvent":"comment_created"}`), "application/json", uint8(1), "id-4")
	f.Add([]byte(`{"webhookEvent": 7}`), "application/json", uint8(1), "id-5")
	f.Add([]byte(`[1,2]`), "application/json", uint8(1), "")
	f.Add([]byte(``), "application/json", uint8(1), "id-6")
	f.Add([]byte("{\"timestamp\":1,\"webhookEvent\":\"x\"}\x00"), "application/json", uint8(1), "id-7")

	db, err := store.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	const secret = "fuzz-secret"
	l := refresh.NewListener(db, refresh.ListenerOptions{Secret: []byte(secret), MaxBody: 4096})
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, body []byte, contentType string, mode uint8, ident string) {
		method := "POST"
		if mode&4 != 0 {
			method = "PUT"
		}
		req := httptest.NewRequest(method, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		switch mode % 3 {
		case 1:
			req.Header.Set("X-Hub-Signature", jiratest.Sign(secret, body))
		case 2:
			req.Header.Set("X-Hub-Signature", jiratest.Sign("not-the-secret", body))
		}
		if ident != "" {
			req.Header.Set("X-Atlassian-Webhook-Identifier", ident)
		}
		before, err := db.JournalStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		l.ServeHTTP(w, req)
		after, err := db.JournalStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if w.Code < 200 || w.Code > 299 {
			if after.Total != before.Total {
				t.Fatalf("status %d but the journal grew from %d to %d", w.Code, before.Total, after.Total)
			}
			return
		}
		if mode%3 != 1 || method != "POST" {
			t.Fatalf("status %d for an unsigned, forged or non-POST request (mode %d)", w.Code, mode)
		}
		var ack struct {
			Seq       int64 `json:"seq"`
			Duplicate bool  `json:"duplicate"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &ack); err != nil || ack.Seq <= 0 {
			t.Fatalf("2xx without a journal sequence: %q (%v)", w.Body, err)
		}
		if ack.Duplicate {
			if after.Total != before.Total {
				t.Fatalf("a duplicate grew the journal")
			}
			return
		}
		newest, err := db.Journal(ctx, store.JournalAll, 1)
		if err != nil {
			t.Fatal(err)
		}
		if after.Total != before.Total+1 || len(newest) != 1 || newest[0].Seq != ack.Seq || !bytes.Equal(newest[0].Body, body) {
			t.Fatalf("2xx with seq %d, but the journal's newest entry is %+v", ack.Seq, newest)
		}
		if ident != "" && newest[0].Identifier != ident {
			t.Fatalf("journaled identifier %q, delivery said %q", newest[0].Identifier, ident)
		}
	})
}

// FuzzImportDeliveries feeds arbitrary files to the import: it never panics, every
// non-blank line is journaled, a duplicate, or refused with a reason, and importing the
// same file again journals nothing new.
func FuzzImportDeliveries(f *testing.F) {
	f.Add([]byte(`{"timestamp":1700000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"A-1"}}` + "\n"))
	f.Add([]byte(`{"headers":{"X-Atlassian-Webhook-Identifier":"a","X-Hub-Signature":["sha256=00"]},"body":{"timestamp":5,"webhookEvent":"x"}}` + "\n\n"))
	f.Add([]byte(`{"headers":null,"body":"{\"timestamp\":5,\"webhookEvent\":\"y\"}"}` + "\nnot json\n"))
	f.Add([]byte(`{"headers":{"k":1},"body":{}}`))
	db, err := store.Open(context.Background(), filepath.Join(f.TempDir(), "import.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, file []byte) {
		opt := refresh.ImportOptions{Secret: []byte("s"), MaxBody: 2048}
		st, err := refresh.ImportDeliveries(ctx, db, bytes.NewReader(file), opt)
		if err != nil {
			return // a line longer than the scanner takes: reported, not a panic
		}
		lines := 0
		for _, l := range bytes.Split(file, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		if st.Journaled+st.Duplicates+len(st.Refused) != lines {
			t.Fatalf("%d non-blank lines, import %+v", lines, st)
		}
		for _, r := range st.Refused {
			if r.Reason == "" || r.Line < 1 || r.Line > st.Lines {
				t.Fatalf("refusal %+v", r)
			}
		}
		again, err := refresh.ImportDeliveries(ctx, db, bytes.NewReader(file), opt)
		if err != nil || again.Journaled != 0 {
			t.Fatalf("second import %+v, %v: want nothing new", again, err)
		}
	})
}
