package jira

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WebhookEvent is one webhook delivery from Jira (Cloud or Data Center admin webhooks).
type WebhookEvent struct {
	// Event is webhookEvent, e.g. "jira:issue_updated", "comment_created", "issuelink_deleted".
	Event string
	// IssueEventType is issue_event_type_name, e.g. "issue_generic", "issue_assigned".
	IssueEventType string
	// Timestamp is when Jira raised the event; order deliveries by it, not by arrival.
	Timestamp time.Time
	// TimestampMillis is the raw timestamp, for exact ordering and de-duplication.
	TimestampMillis int64
	User            *User
	Issue           *WebhookIssue
	Changelog       *Changelog
	Comment         *Comment
	Worklog         *Worklog
	IssueLink       *WebhookLink
	Project         *Project
	// Raw is the whole payload, kept for journaling and replay.
	Raw json.RawMessage
}

// Category is the family of the event: "issue", "comment", "worklog", "issuelink", "user",
// "project", "version", "sprint", "issue_property", or "other".
func (e *WebhookEvent) Category() string {
	ev := strings.TrimPrefix(e.Event, "jira:")
	for _, c := range []string{"issuelink", "issue_property", "issue", "comment", "worklog", "user", "project", "version", "sprint"} {
		if strings.HasPrefix(ev, c+"_") {
			return c
		}
	}
	return "other"
}

// WebhookIssue is the issue snapshot a webhook carries: its fields as of the event, without
// Decoration.
type WebhookIssue struct {
	ID     int64
	Key    string
	Fields map[string]json.RawMessage
}

// Changelog lists what an update changed.
type Changelog struct {
	ID    string
	Items []ChangeItem
}

// ChangeItem is one changed field.
type ChangeItem struct {
	Field      string `json:"field"`
	FieldID    string `json:"fieldId"`
	FieldType  string `json:"fieldtype"`
	From       string `json:"from"`
	FromString string `json:"fromString"`
	To         string `json:"to"`
	ToString   string `json:"toString"`
}

// Comment is an issue comment. Body is ADF on Cloud v3 and a wiki string elsewhere: see ADFText.
type Comment struct {
	ID      string
	Author  *User
	Body    json.RawMessage
	Created string
	Updated string
}

// Worklog is a work log entry.
type Worklog struct {
	ID               string
	IssueID          string
	Author           *User
	TimeSpentSeconds int64
	Started          string
}

// WebhookLink is the issue link of issuelink_created / issuelink_deleted.
type WebhookLink struct {
	ID                 int64
	SourceIssueID      int64
	DestinationIssueID int64
	TypeID             int64
	TypeName           string
	OutwardName        string
	InwardName         string
	SystemLink         bool
}

// WebhookError says what is wrong with a webhook payload.
type WebhookError struct {
	Event  string // webhookEvent when it could be read
	Field  string // JSON path of the offending member
	Reason string
}

func (e *WebhookError) Error() string {
	if e.Event != "" {
		return fmt.Sprintf("webhook %s: %s: %s", e.Event, e.Field, e.Reason)
	}
	return fmt.Sprintf("webhook: %s: %s", e.Field, e.Reason)
}

// flexInt reads an id Jira sends as a number on one route and a string on another.
type flexInt struct {
	v   int64
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if len(s) > 0 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("want an integer id, got %s", excerpt(b))
	}
	f.v, f.set = n, true
	return nil
}

// lenientInt is a flexInt that keeps what it could not read instead of failing: the
// decoder stops at an unmarshaler's error, before later members (the event name among
// them) are read, so the caller reports it once the event is known.
type lenientInt struct {
	flexInt
	bad string
}

func (l *lenientInt) UnmarshalJSON(b []byte) error {
	if err := l.flexInt.UnmarshalJSON(b); err != nil {
		l.flexInt, l.bad = flexInt{}, err.Error()
	}
	return nil
}

// flexString reads a value Jira sends as a string or a number (changelog ids, comment ids).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or number, got %s", excerpt(b))
	}
	*f = flexString(n.String())
	return nil
}

type wireWebhook struct {
	Timestamp      *flexInt `json:"timestamp"`
	WebhookEvent   *string  `json:"webhookEvent"`
	IssueEventType string   `json:"issue_event_type_name"`
	User           *User    `json:"user"`
	// Issue is decoded in the same pass as the rest: an id it cannot read is kept as a
	// reason (lenientInt), so the error can name the event and the member.
	Issue *struct {
		ID     lenientInt                 `json:"id"`
		Key    string                     `json:"key"`
		Fields map[string]json.RawMessage `json:"fields"`
	} `json:"issue"`
	Changelog *struct {
		ID    flexString   `json:"id"`
		Items []ChangeItem `json:"items"`
	} `json:"changelog"`
	Comment *struct {
		ID      flexString      `json:"id"`
		Author  *User           `json:"author"`
		Body    json.RawMessage `json:"body"`
		Created string          `json:"created"`
		Updated string          `json:"updated"`
	} `json:"comment"`
	Worklog *struct {
		ID               flexString `json:"id"`
		IssueID          flexString `json:"issueId"`
		Author           *User      `json:"author"`
		TimeSpentSeconds int64      `json:"timeSpentSeconds"`
		Started          string     `json:"started"`
	} `json:"worklog"`
	IssueLink *struct {
		ID                 flexInt `json:"id"`
		SourceIssueID      flexInt `json:"sourceIssueId"`
		DestinationIssueID flexInt `json:"destinationIssueId"`
		SystemLink         bool    `json:"systemLink"`
		IssueLinkType      struct {
			ID          flexInt `json:"id"`
			Name        string  `json:"name"`
			OutwardName string  `json:"outwardName"`
			InwardName  string  `json:"inwardName"`
		} `json:"issueLinkType"`
	} `json:"issueLink"`
	Project *wireProject `json:"project"`
}

// ParseWebhook decodes a webhook body. It checks what the event's category needs (an issue for
// issue events, a link for link events, ...) and says exactly what is missing or malformed.
func ParseWebhook(body []byte) (*WebhookEvent, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &WebhookError{Field: "body", Reason: "empty"}
	}
	if trimmed[0] != '{' {
		return nil, &WebhookError{Field: "body", Reason: "not a JSON object"}
	}
	var w wireWebhook
	// One pass over the body. A value of the wrong type inside the issue does not stop
	// the decoder (it finishes and reports the first such error), so the event is known
	// and the error is reported against the issue, as a second decode of it would.
	var issueErr error
	if err := json.Unmarshal(trimmed, &w); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || (te.Field != "issue" && !strings.HasPrefix(te.Field, "issue.")) {
			return nil, &WebhookError{Field: "body", Reason: "invalid JSON: " + err.Error()}
		}
		issueErr = err
	}
	if w.WebhookEvent == nil || *w.WebhookEvent == "" {
		return nil, &WebhookError{Field: "webhookEvent", Reason: "missing"}
	}
	e := &WebhookEvent{Event: *w.WebhookEvent, IssueEventType: w.IssueEventType, User: w.User, Raw: json.RawMessage(trimmed)}
	fail := func(field, reason string) (*WebhookEvent, error) {
		return nil, &WebhookError{Event: e.Event, Field: field, Reason: reason}
	}
	if w.Timestamp == nil || !w.Timestamp.set {
		return fail("timestamp", "missing")
	}
	e.TimestampMillis = w.Timestamp.v
	e.Timestamp = time.UnixMilli(w.Timestamp.v).UTC()

	if issueErr != nil {
		return fail("issue", issueErr.Error())
	}
	if wi := w.Issue; wi != nil {
		if wi.ID.bad != "" {
			return fail("issue", wi.ID.bad)
		}
		if !wi.ID.set {
			return fail("issue.id", "missing")
		}
		for k, v := range wi.Fields {
			wi.Fields[k] = stripped(v)
		}
		e.Issue = &WebhookIssue{ID: wi.ID.v, Key: wi.Key, Fields: wi.Fields}
	}
	if w.Changelog != nil {
		e.Changelog = &Changelog{ID: string(w.Changelog.ID), Items: w.Changelog.Items}
	}
	if c := w.Comment; c != nil {
		e.Comment = &Comment{ID: string(c.ID), Author: c.Author, Body: c.Body, Created: c.Created, Updated: c.Updated}
	}
	if wl := w.Worklog; wl != nil {
		e.Worklog = &Worklog{ID: string(wl.ID), IssueID: string(wl.IssueID), Author: wl.Author, TimeSpentSeconds: wl.TimeSpentSeconds, Started: wl.Started}
	}
	if l := w.IssueLink; l != nil {
		e.IssueLink = &WebhookLink{
			ID: l.ID.v, SourceIssueID: l.SourceIssueID.v, DestinationIssueID: l.DestinationIssueID.v,
			TypeID: l.IssueLinkType.ID.v, TypeName: l.IssueLinkType.Name,
			OutwardName: l.IssueLinkType.OutwardName, InwardName: l.IssueLinkType.InwardName,
			SystemLink: l.SystemLink,
		}
	}
	if w.Project != nil {
		p, err := w.Project.project()
		if err != nil {
			return fail("project.id", err.Error())
		}
		e.Project = &p
	}

	switch e.Category() {
	case "issue":
		if e.Issue == nil {
			return fail("issue", "missing")
		}
		if e.Issue.Key == "" {
			return fail("issue.key", "missing")
		}
	case "comment":
		if e.Comment == nil {
			return fail("comment", "missing")
		}
		if e.Comment.ID == "" {
			return fail("comment.id", "missing")
		}
	case "worklog":
		if e.Worklog == nil {
			return fail("worklog", "missing")
		}
	case "issuelink":
		if e.IssueLink == nil {
			return fail("issueLink", "missing")
		}
		if e.IssueLink.SourceIssueID == 0 || e.IssueLink.DestinationIssueID == 0 {
			return fail("issueLink", "missing sourceIssueId or destinationIssueId")
		}
	case "user":
		if e.User == nil {
			return fail("user", "missing")
		}
	case "project":
		if e.Project == nil {
			return fail("project", "missing")
		}
	}
	return e, nil
}

// VerifySignature checks an X-Hub-Signature header ("sha256=<hex>") against the HMAC-SHA256 of
// the raw body, in constant time. An empty secret verifies nothing: with no secret anyone could
// compute the signature.
func VerifySignature(secret, body []byte, header string) bool {
	if len(secret) == 0 {
		return false
	}
	algo, sig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok || !strings.EqualFold(algo, "sha256") {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
