package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

const issueUpdated = `{
  "timestamp": 1767225600123,
  "webhookEvent": "jira:issue_updated",
  "issue_event_type_name": "issue_generic",
  "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Alice", "active": true},
  "issue": {"id": "10042", "key": "ALPHA-42", "self": "https://wrong.example/rest/api/2/issue/10042",
    "fields": {"summary": "Fix the thing", "status": {"name": "In Progress"}, "updated": "2026-01-01T00:00:00.000+0000"}},
  "changelog": {"id": "10101", "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
    "from": "10000", "fromString": "To Do", "to": "3", "toString": "In Progress"}]}
}`

func TestParseWebhook(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		category string
		check    func(t *testing.T, e *WebhookEvent)
	}{
		{"issue updated", issueUpdated, "issue", func(t *testing.T, e *WebhookEvent) {
			if e.Issue.ID != 10042 || e.Issue.Key != "ALPHA-42" || string(e.Issue.Fields["summary"]) != `"Fix the thing"` {
				t.Errorf("issue %+v", e.Issue)
			}
			if e.TimestampMillis != 1767225600123 || !e.Timestamp.Equal(time.UnixMilli(1767225600123)) {
				t.Errorf("timestamp %v", e.Timestamp)
			}
			if e.User.AccountID != "5b10a2844c20165700ede21g" || e.IssueEventType != "issue_generic" {
				t.Errorf("user %+v type %q", e.User, e.IssueEventType)
			}
			if e.Changelog.ID != "10101" || len(e.Changelog.Items) != 1 || e.Changelog.Items[0].ToString != "In Progress" {
				t.Errorf("changelog %+v", e.Changelog)
			}
		}},
		{"issue deleted, Data Center numeric id", `{"timestamp":1,"webhookEvent":"jira:issue_deleted","user":{"name":"bob","key":"JIRAUSER10100"},"issue":{"id":10001,"key":"BETA-1","fields":{}}}`, "issue",
			func(t *testing.T, e *WebhookEvent) {
				if e.Issue.ID != 10001 || e.User.Name != "bob" || e.User.ID() != "bob" {
					t.Errorf("issue %+v user %+v", e.Issue, e.User)
				}
			}},
		{"comment created", `{"timestamp":2,"webhookEvent":"comment_created","comment":{"id":"100","author":{"accountId":"a"},"body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]},"created":"2026-01-01T00:00:00.000+0000"},"issue":{"id":"10001","key":"A-1","fields":{}}}`, "comment",
			func(t *testing.T, e *WebhookEvent) {
				if e.Comment.ID != "100" || ADFText(e.Comment.Body) != "hi" || e.Issue.Key != "A-1" {
					t.Errorf("comment %+v", e.Comment)
				}
			}},
		{"worklog", `{"timestamp":3,"webhookEvent":"worklog_updated","worklog":{"id":"7","issueId":"10001","timeSpentSeconds":3600,"started":"2026-01-01T09:00:00.000+0000"}}`, "worklog",
			func(t *testing.T, e *WebhookEvent) {
				if e.Worklog.ID != "7" || e.Worklog.IssueID != "10001" || e.Worklog.TimeSpentSeconds != 3600 {
					t.Errorf("worklog %+v", e.Worklog)
				}
			}},
		{"issuelink created", `{"timestamp":4,"webhookEvent":"issuelink_created","issueLink":{"id":10300,"sourceIssueId":10001,"destinationIssueId":10002,"issueLinkType":{"id":10000,"name":"Blocks","outwardName":"blocks","inwardName":"is blocked by","isSubTaskLinkType":false,"isSystemLinkType":false},"systemLink":false}}`, "issuelink",
			func(t *testing.T, e *WebhookEvent) {
				l := e.IssueLink
				if l.ID != 10300 || l.SourceIssueID != 10001 || l.DestinationIssueID != 10002 || l.TypeName != "Blocks" || l.InwardName != "is blocked by" {
					t.Errorf("link %+v", l)
				}
			}},
		{"user created", `{"timestamp":5,"webhookEvent":"user_created","user":{"accountId":"x","displayName":"Xavier","emailAddress":"x@example.com"}}`, "user",
			func(t *testing.T, e *WebhookEvent) {
				if e.User.DisplayName != "Xavier" || e.User.Email != "x@example.com" {
					t.Errorf("user %+v", e.User)
				}
			}},
		{"project deleted", `{"timestamp":6,"webhookEvent":"project_deleted","project":{"id":10000,"key":"ALPHA","name":"Alpha"}}`, "project",
			func(t *testing.T, e *WebhookEvent) {
				if e.Project.ID != 10000 || e.Project.Key != "ALPHA" {
					t.Errorf("project %+v", e.Project)
				}
			}},
		{"sprint event passes", `{"timestamp":7,"webhookEvent":"sprint_started","sprint":{"id":1}}`, "sprint", nil},
		{"unknown event passes", `{"timestamp":8,"webhookEvent":"board_created"}`, "other", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseWebhook([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if e.Category() != tt.category {
				t.Errorf("category %q, want %q", e.Category(), tt.category)
			}
			if len(e.Raw) == 0 {
				t.Error("raw payload not kept")
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestParseWebhookErrors(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{``, "webhook: body: empty"},
		{`[1,2]`, "webhook: body: not a JSON object"},
		{`{"timestamp":1,`, "webhook: body: invalid JSON"},
		{`{"timestamp":1}`, "webhook: webhookEvent: missing"},
		{`{"webhookEvent":"jira:issue_created"}`, "webhook jira:issue_created: timestamp: missing"},
		{`{"timestamp":"soon","webhookEvent":"jira:issue_created"}`, "webhook: body: invalid JSON"},
		{`{"timestamp":1,"webhookEvent":"jira:issue_created"}`, "webhook jira:issue_created: issue: missing"},
		{`{"timestamp":1,"webhookEvent":"jira:issue_created","issue":{"key":"A-1"}}`, "webhook jira:issue_created: issue.id: missing"},
		{`{"timestamp":1,"webhookEvent":"jira:issue_created","issue":{"id":"x1","key":"A-1"}}`, "webhook jira:issue_created: issue: want an integer id"},
		{`{"timestamp":1,"webhookEvent":"jira:issue_updated","issue":{"id":"1"}}`, "webhook jira:issue_updated: issue.key: missing"},
		{`{"timestamp":1,"webhookEvent":"comment_deleted","issue":{"id":"1","key":"A-1"}}`, "webhook comment_deleted: comment: missing"},
		{`{"timestamp":1,"webhookEvent":"issuelink_deleted"}`, "webhook issuelink_deleted: issueLink: missing"},
		{`{"timestamp":1,"webhookEvent":"issuelink_deleted","issueLink":{"id":1,"sourceIssueId":2}}`, "webhook issuelink_deleted: issueLink: missing sourceIssueId or destinationIssueId"},
		{`{"timestamp":1,"webhookEvent":"user_deleted"}`, "webhook user_deleted: user: missing"},
		{`{"timestamp":1,"webhookEvent":"project_created"}`, "webhook project_created: project: missing"},
		{`{"timestamp":1,"webhookEvent":"project_created","project":{"id":"P","key":"P"}}`, "webhook project_created: project.id:"},
	}
	for _, tt := range tests {
		_, err := ParseWebhook([]byte(tt.body))
		var we *WebhookError
		if !errors.As(err, &we) {
			t.Errorf("%s: err %T %v, want *WebhookError", tt.body, err, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant prefix %s", tt.body, err, tt.want)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(issueUpdated))
	f.Add([]byte(`{"timestamp":4,"webhookEvent":"issuelink_created","issueLink":{"id":1,"sourceIssueId":2,"destinationIssueId":3}}`))
	f.Add([]byte(`{"timestamp":"5","webhookEvent":"comment_updated","comment":{"id":9,"body":"wiki *text*"}}`))
	f.Add([]byte(`{"webhookEvent":"project_deleted","timestamp":1,"project":{"id":"10000","key":"A"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseWebhook(body)
		if err != nil {
			var we *WebhookError
			if !errors.As(err, &we) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if e.Event == "" {
			t.Fatal("parsed event without webhookEvent")
		}
		switch e.Category() {
		case "issue":
			if e.Issue == nil || e.Issue.Key == "" {
				t.Fatal("issue event without issue key")
			}
		case "issuelink":
			if e.IssueLink == nil {
				t.Fatal("link event without link")
			}
		}
	})
}

func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	body := issueUpdated
	good := sign("s3cret", body)
	tests := []struct {
		name   string
		secret string
		body   string
		header string
		want   bool
	}{
		{"valid", "s3cret", body, good, true},
		{"upper-case algo", "s3cret", body, "SHA256=" + strings.TrimPrefix(good, "sha256="), true},
		{"upper-case hex", "s3cret", body, "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), true},
		{"wrong secret", "other", body, good, false},
		{"body changed", "s3cret", body + " ", good, false},
		{"sha1", "s3cret", body, "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"no prefix", "s3cret", body, strings.TrimPrefix(good, "sha256="), false},
		{"not hex", "s3cret", body, "sha256=zz", false},
		{"truncated", "s3cret", body, good[:len(good)-2], false},
		{"empty header", "s3cret", body, "", false},
		{"empty secret", "", body, sign("", body), false},
	}
	for _, tt := range tests {
		if got := VerifySignature([]byte(tt.secret), []byte(tt.body), tt.header); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
