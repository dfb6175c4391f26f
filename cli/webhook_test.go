package cli

import (
	"bytes"
	"context"
	"encoding/json"
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

	// replay --file: a captured delivery, an unknown event (quarantined), a forged one
	// (refused), and a line that is not JSON.
	body := `{"timestamp":1800000000000,"webhookEvent":"jira:issue_updated","issue":{"id":"10002","key":"` + alpha[0] + `","fields":{"summary":"x"}}}`
	unknown := `{"timestamp":1800000000001,"webhookEvent":"mystery_event"}`
	env, _ := json.Marshal(map[string]any{"headers": map[string]string{"X-Atlassian-Webhook-Identifier": "cap-1"}, "body": json.RawMessage(unknown)})
	forged, _ := json.Marshal(map[string]any{"headers": map[string]string{"X-Hub-Signature": jiratest.Sign("nope", []byte(body))}, "body": body})
	file := filepath.Join(t.TempDir(), "captured.jsonl")
	if err := os.WriteFile(file, []byte(string(env)+"\n"+string(forged)+"\n\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.run("", "webhook", "replay", "--file", file)
	if r.code != ExitPartial || !has(r.stderr, "2: refused: X-Hub-Signature does not match") || !has(r.stderr, "4: refused: not a JSON object") || !has(r.stderr, "1 new deliveries") {
		t.Errorf("replay: exit %d\n%s", r.code, r.stderr)
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
