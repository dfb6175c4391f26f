package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"charm.land/fang/v2"

	"foundation/jira/jiratest"
	"foundation/store"
)

func TestWebhookCommands(t *testing.T) {
	e := newCLIEnv(t)
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 150, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Webhooks().Close()
	srv := httptest.NewServer(site)
	defer srv.Close()
	e.writeConfig(srv.URL, "cloud", "admin", "project = ALPHA")
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("    webhook:\n      secret_env: T_HOOK\n")
	f.Close()
	t.Setenv("T_HOOK", "cli-hook-secret")
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: exit %d\n%s", r.code, r.stderr)
	}

	// listen, fed by the fake site, until interrupted.
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		var out bytes.Buffer
		g := &globals{stdin: strings.NewReader(""), stdout: &out, stderr: &stderr}
		root := newRoot(g)
		root.SetArgs([]string{"webhook", "listen", "--addr", "127.0.0.1:0", "--verbose"})
		root.SetOut(&out)
		root.SetErr(&stderr)
		err := fang.Execute(ctx, root, fang.WithoutManpage(), fang.WithErrorHandler(errorHandler))
		done <- finalCode(context.Background(), err)
	}()
	addrRE := regexp.MustCompile(`listening on (http://[0-9.:]+) for site t; signatures checked`)
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("listen did not start:\n%s", stderr.String())
	}
	site.Webhooks().Register(url, "cli-hook-secret", nil, "")
	site.Webhooks().Register(url, "wrong-secret", nil, "") // every delivery also arrives forged
	var alpha []string
	for _, fi := range site.Issues() {
		if fi.Project == "ALPHA" && !fi.Subtask && fi.Type != "Epic" {
			alpha = append(alpha, fi.Key)
		}
	}
	for _, k := range alpha[:3] {
		if err := site.Update(k, map[string]any{"summary": "via listen " + k}); err != nil {
			t.Fatal(err)
		}
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer fcancel()
	if err := site.Webhooks().Flush(fctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("listen: exit %d\n%s", code, stderr.String())
	}
	log := stderr.String()
	if strings.Count(log, " 200 jira:issue_updated") != 3 || strings.Count(log, " 401 ") != 3 || !strings.Contains(log, "stopped: 6 received, 3 journaled") {
		t.Errorf("listen log:\n%s", log)
	}
	if strings.Contains(log, "cli-hook-secret") {
		t.Errorf("listen printed the secret:\n%s", log)
	}
	db, err := store.Open(context.Background(), store.Path(e.cache, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range alpha[:3] {
		is, err := db.Issue(context.Background(), k)
		if err != nil || is.Summary != "via listen "+k {
			t.Errorf("%s: %q, %v: the delivery was not applied before listen stopped", k, is.Summary, err)
		}
	}
	db.Close()

	// status shows an empty backlog and the last delivery.
	r := e.run("", "webhook", "status", "--json")
	var st webhookStatus
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if st.Total != 3 || st.Pending != 0 || st.Applied != 3 || st.LastDelivery == nil || st.LastDelivery.Event != "jira:issue_updated" {
		t.Errorf("status %+v", st)
	}

	// replay --file: a captured delivery of an unknown event (quarantined), a forged one
	// (refused), a line that is not JSON, and a body without a signature: refused, as
	// listen refuses it, unless --unsigned.
	body := `{"timestamp":1800000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"10002","key":"` + alpha[0] + `","fields":{"summary":"x"}}}`
	unknown := `{"timestamp":1800000000001,"webhookEvent":"mystery_event"}`
	env, _ := json.Marshal(map[string]any{"headers": map[string]string{"X-Atlassian-Webhook-Identifier": "cap-1", "X-Hub-Signature": jiratest.Sign("cli-hook-secret", []byte(unknown))}, "body": unknown})
	forged, _ := json.Marshal(map[string]any{"headers": map[string]string{"X-Hub-Signature": jiratest.Sign("nope", []byte(body))}, "body": body})
	unsigned := `{"timestamp":1800000000002,"webhookEvent":"jira:version_created","version":{"id":"1"}}`
	file := filepath.Join(t.TempDir(), "captured.jsonl")
	if err := os.WriteFile(file, []byte(string(env)+"\n"+string(forged)+"\n\nnot json\n"+unsigned+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.run("", "webhook", "replay", "--file", file)
	if r.code != ExitPartial || !has(r.stderr, "2: refused: X-Hub-Signature does not match") || !has(r.stderr, "4: refused: not a JSON object") ||
		!has(r.stderr, "5: refused: unsigned delivery") || !has(r.stderr, "1 new deliveries") {
		t.Errorf("replay: exit %d\n%s", r.code, r.stderr)
	}
	r = e.run("", "webhook", "replay", "--file", file, "--unsigned", "--json")
	if r.code != ExitPartial || has(r.stderr, "5: refused") || !has(r.stderr, "1 new deliveries, 1 already journaled") {
		t.Errorf("replay --unsigned: exit %d\n%s", r.code, r.stderr)
	}
	// The JSON summary speaks snake_case throughout, as refresh --json does.
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("replay --json: %v\n%s", err, r.stdout)
	}
	if iss, _ := sum["apply"].(map[string]any)["issues"].(map[string]any); iss == nil || iss["inserted"] == nil || iss["Inserted"] != nil {
		t.Errorf("replay --json apply.issues: %v", sum["apply"])
	}
	r = e.run("", "webhook", "status")
	if r.code != 0 || !strings.Contains(r.stdout, `unknown event "mystery_event"`) || !strings.Contains(r.stdout, "1 quarantined") {
		t.Errorf("status after replay: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = e.run("", "webhook", "replay", "--retry-quarantined", "--json")
	if r.code != ExitPartial || !strings.Contains(r.stdout, `"requeued": 1`) {
		t.Errorf("replay --retry-quarantined: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// refresh applies what a listener journaled but did not apply.
	db, err = store.Open(context.Background(), store.Path(e.cache, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if err := site.Update(alpha[4], map[string]any{"summary": "journaled only"}); err != nil {
		t.Fatal(err)
	}
	fi, _ := site.Issue(alpha[4])
	payload := `{"timestamp":` + jsonInt(fi.Updated.UnixMilli()) + `,"webhookEvent":"comment_created","issue":{"id":"` + jsonInt(fi.ID) + `","key":"` + fi.Key + `"},"comment":{"id":"1"}}`
	if _, err := db.AppendJournal(context.Background(), store.JournalEntry{Identifier: "pending-1", Event: "comment_created", EventTime: fi.Updated, Body: []byte(payload)}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r = e.run("", "refresh")
	if r.code != 0 || !has(r.stderr, "webhook journal: 1 entries applied") {
		t.Errorf("refresh: exit %d\n%s", r.code, r.stderr)
	}
}

func jsonInt(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Listening and replaying need no Jira once the site's dialect is known: listen journals,
// replay applies what needs no re-read and leaves the rest pending. A TLS file that cannot
// be read is reported before anything claims to listen.
func TestWebhookWithoutJira(t *testing.T) {
	e := newCLIEnv(t)
	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 150, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Webhooks().Close()
	srv := httptest.NewServer(site)
	defer srv.Close()
	cfg := "default_site: t\nsites:\n  t:\n    url: " + srv.URL + "\n    dialect: auto\n    email: admin@example.com\n    token_env: T_TOKEN\n    scope: project = ALPHA\n"
	if err := os.MkdirAll(filepath.Dir(e.config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("T_TOKEN", "admin-token")
	if r := e.run("", "refresh", "--quiet"); r.code != 0 {
		t.Fatalf("refresh: exit %d\n%s", r.code, r.stderr)
	}
	var alpha []jiratest.FakeIssue
	for _, fi := range site.Issues() {
		if fi.Project == "ALPHA" && !fi.Subtask && fi.Type != "Epic" {
			alpha = append(alpha, fi)
		}
	}
	srv.Close() // Jira is gone: connection refused

	r := e.run("", "webhook", "listen", "--addr", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key")
	if r.code == 0 || has(r.stderr, "listening on") || has(r.stderr, "stopped:") || !has(r.stderr, "TLS certificate") {
		t.Errorf("listen with missing TLS files: exit %d\n%s", r.code, r.stderr)
	}

	// Two journaled deliveries: a comment (needs a re-read) and a project update (does not).
	db, err := store.Open(context.Background(), store.Path(e.cache, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	comment := `{"timestamp":1800000000000,"webhookEvent":"comment_created","issue":{"id":"` + jsonInt(alpha[0].ID) + `","key":"` + alpha[0].Key + `"},"comment":{"id":"1"}}`
	project := `{"timestamp":1800000000001,"webhookEvent":"project_updated","project":{"id":10000,"key":"ALPHA","name":"Alpha renamed"}}`
	for i, b := range []string{comment, project} {
		ev := []string{"comment_created", "project_updated"}[i]
		if _, err := db.AppendJournal(context.Background(), store.JournalEntry{Identifier: ev, Event: ev, EventTime: time.UnixMilli(1800000000000 + int64(i)), Body: []byte(b)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	start := time.Now()
	r = e.run("", "webhook", "replay", "--json")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("offline replay took %v: want no waiting on Jira's retries", took)
	}
	if r.code != 0 || !has(r.stderr, "Jira unreachable") || !strings.Contains(r.stdout, `"pending": 1`) || !strings.Contains(r.stdout, `"applied": 1`) {
		t.Errorf("offline replay: exit %d after %v\n%s%s", r.code, time.Since(start), r.stdout, r.stderr)
	}

	// listen starts and journals without Jira.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		var out bytes.Buffer
		g := &globals{stdin: strings.NewReader(""), stdout: &out, stderr: &stderr}
		root := newRoot(g)
		root.SetArgs([]string{"webhook", "listen", "--addr", "127.0.0.1:0"})
		root.SetOut(&out)
		root.SetErr(&stderr)
		err := fang.Execute(ctx, root, fang.WithoutManpage(), fang.WithErrorHandler(errorHandler))
		done <- finalCode(context.Background(), err)
	}()
	addrRE := regexp.MustCompile(`listening on (http://[0-9.:]+) for site t`)
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("listen did not start without Jira within 5s:\n%s", stderr.String())
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"timestamp":1800000000002,"webhookEvent":"jira:version_created","version":{"id":"1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 || resp.StatusCode != 200 {
		t.Errorf("listen without Jira: HTTP %d, exit %d\n%s", resp.StatusCode, code, stderr.String())
	}
}
