package jiratest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWebhookWiring registers a webhook through Jira's admin REST API and checks that a
// write through the API reaches it, signed, filtered by the registration's JQL.
func TestWebhookWiring(t *testing.T) {
	f := newFixture(t, Options{Issues: 200, Seed: 3})
	var mu sync.Mutex
	var got []map[string]any
	var sigs []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		got = append(got, m)
		sigs = append(sigs, r.Header.Get("X-Hub-Signature")+"|"+Sign("s3cret", body))
		mu.Unlock()
	}))
	defer target.Close()
	reg := map[string]any{"name": "test", "url": target.URL, "events": []string{"jira:issue_updated"},
		"filters": map[string]string{"issue-related-events-section": "project = ALPHA"}, "secret": "s3cret"}
	if status, _ := f.do("alice", "POST", "/rest/webhooks/1.0/webhook", reg); status != 403 {
		t.Errorf("non-admin registration: %d, want 403", status)
	}
	f.doJSON("admin", "POST", "/rest/webhooks/1.0/webhook", reg, 201, nil)

	alpha := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" })
	beta := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "BETA" })
	f.doJSON("alice", "PUT", "/rest/api/2/issue/"+alpha.Key, map[string]any{"fields": map[string]any{"summary": "hooked"}}, 204, nil)
	f.doJSON("alice", "PUT", "/rest/api/2/issue/"+beta.Key, map[string]any{"fields": map[string]any{"summary": "filtered out"}}, 204, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.site.Webhooks().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	issue := got[0]["issue"].(map[string]any)
	if issue["key"] != alpha.Key || got[0]["webhookEvent"] != "jira:issue_updated" || got[0]["timestamp"] == nil {
		t.Errorf("delivery %v", got[0])
	}
	if fields := issue["fields"].(map[string]any); fields["summary"] != "hooked" {
		t.Errorf("payload fields %v", fields["summary"])
	}
	header, want, _ := strings.Cut(sigs[0], "|")
	if header == "" || header != want {
		t.Errorf("X-Hub-Signature %q, want %q", header, want)
	}
}
