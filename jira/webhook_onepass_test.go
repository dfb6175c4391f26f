package jira

import (
	"errors"
	"strings"
	"testing"
)

// The single-pass decode must still report a malformed issue against the issue, naming the
// event, whatever member order the body has.
func TestParseWebhookIssueErrorsOnePass(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"issue not an object", `{"timestamp":1,"webhookEvent":"jira:issue_created","issue":5}`, "webhook jira:issue_created: issue: "},
		{"fields not an object", `{"timestamp":1,"webhookEvent":"jira:issue_created","issue":{"id":"1","key":"A-1","fields":[1]}}`, "webhook jira:issue_created: issue: "},
		{"bad id before the event name", `{"issue":{"id":"x1","key":"A-1"},"timestamp":1,"webhookEvent":"jira:issue_created"}`, "webhook jira:issue_created: issue: want an integer id"},
		{"bad id, event missing", `{"issue":{"id":"x1","key":"A-1"},"timestamp":1}`, "webhook: webhookEvent: missing"},
		{"bad issue, timestamp missing", `{"issue":7,"webhookEvent":"jira:issue_created"}`, "webhook jira:issue_created: timestamp: missing"},
		{"type error outside the issue", `{"timestamp":1,"webhookEvent":"comment_created","issue":{"id":"1","key":"A-1"},"comment":{"id":"1","created":5}}`, "webhook: body: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWebhook([]byte(tt.body))
			var we *WebhookError
			if !errors.As(err, &we) {
				t.Fatalf("err %T %v, want *WebhookError", err, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v\nwant prefix %s", err, tt.want)
			}
		})
	}
}

func TestParseWebhookIssueNull(t *testing.T) {
	e, err := ParseWebhook([]byte(`{"timestamp":1,"webhookEvent":"sprint_started","issue":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if e.Issue != nil {
		t.Errorf("issue %+v, want nil", e.Issue)
	}
}
