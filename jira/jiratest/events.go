package jiratest

import (
	"strconv"
	"time"

	"foundation/jql"
)

// eventSink receives webhook events. The Dispatcher of webhook.go is the real one; the
// interface keeps writes independent of delivery.
type eventSink interface {
	Emit(event string, payload []byte, matches func(jql string) bool)
}

// changeItem is one entry of a changelog, as webhook payloads carry it.
type changeItem struct {
	field, fieldType, fieldID string
	from, fromString          *string
	to, toString              *string
}

func strp(s string) *string { return &s }

// optp is nil for the empty string: Jira sends null for "no value".
func optp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// event is a webhook event rendered while the write still holds the lock, delivered after.
type event struct {
	name    string
	payload []byte
	snap    issue // the issue as written, for the webhook's JQL filter
	idx     int32 // -1 for events without an issue
}

func appendOptStr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendStr(b, *s)
}

// issueEvent renders a jira:issue_* or comment_* event for issue i. Webhook payloads use
// the REST v2 shapes (rich text as strings) on both dialects. The caller holds s.mu.
func (s *Site) issueEvent(v view, name, typeName string, i int32, items []changeItem, cm *comment) event {
	now := s.now()
	v.api = "2"
	b := []byte(`{"timestamp":`)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"webhookEvent":`...)
	b = appendStr(b, name)
	if typeName != "" {
		b = append(b, `,"issue_event_type_name":`...)
		b = appendStr(b, typeName)
	}
	b = append(b, `,"user":`...)
	b = s.appendUser(b, v, v.user)
	b = append(b, `,"issue":`...)
	fs := s.parseFields(nil, "*navigable")
	b = s.appendIssue(b, view{base: v.base, api: "2", user: 0}, i, &s.issues[i], fs)
	if items != nil {
		s.changeSeq++
		b = append(b, `,"changelog":{"id":`...)
		b = appendIntStr(b, 10000+s.changeSeq)
		b = append(b, `,"items":[`...)
		for k, it := range items {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field":`...)
			b = appendStr(b, it.field)
			b = append(b, `,"fieldtype":`...)
			b = appendStr(b, it.fieldType)
			b = append(b, `,"fieldId":`...)
			b = appendStr(b, it.fieldID)
			b = append(b, `,"from":`...)
			b = appendOptStr(b, it.from)
			b = append(b, `,"fromString":`...)
			b = appendOptStr(b, it.fromString)
			b = append(b, `,"to":`...)
			b = appendOptStr(b, it.to)
			b = append(b, `,"toString":`...)
			b = appendOptStr(b, it.toString)
			b = append(b, '}')
		}
		b = append(b, `]}`...)
	}
	if cm != nil {
		b = append(b, `,"comment":`...)
		b = s.appendComment(b, v, i, cm)
	}
	b = append(b, '}')
	return event{name: name, payload: b, snap: s.issues[i], idx: i}
}

// linkEvent renders issuelink_created / issuelink_deleted. The caller holds s.mu.
func (s *Site) linkEvent(name string, idx int32) event {
	l := &s.links[idx]
	lt := &linkTypes[l.typ]
	b := []byte(`{"timestamp":`)
	b = strconv.AppendInt(b, s.now().UnixMilli(), 10)
	b = append(b, `,"webhookEvent":`...)
	b = appendStr(b, name)
	b = append(b, `,"issueLink":{"id":`...)
	b = strconv.AppendInt(b, linkID(idx), 10)
	b = append(b, `,"sourceIssueId":`...)
	b = strconv.AppendInt(b, issueID(l.from), 10)
	b = append(b, `,"destinationIssueId":`...)
	b = strconv.AppendInt(b, issueID(l.to), 10)
	b = append(b, `,"issueLinkType":{"id":`...)
	b = strconv.AppendInt(b, lt.id, 10)
	b = append(b, `,"name":`...)
	b = appendStr(b, lt.name)
	b = append(b, `,"outwardName":`...)
	b = appendStr(b, lt.outward)
	b = append(b, `,"inwardName":`...)
	b = appendStr(b, lt.inward)
	b = append(b, `,"isSubTaskLinkType":false,"isSystemLinkType":false},"sequence":0,"systemLink":false}}`...)
	return event{name: name, payload: b, snap: s.issues[l.from], idx: l.from}
}

// publish hands events to the webhook sink. It must be called without s.mu held: the
// sink may evaluate filters, which take the read lock.
func (s *Site) publish(evs []event) {
	if s.sink == nil {
		return
	}
	for _, ev := range evs {
		ev := ev
		s.sink.Emit(ev.name, ev.payload, func(filter string) bool { return s.matchesSnapshot(filter, ev.idx, &ev.snap) })
	}
}

// matchesSnapshot evaluates a webhook's JQL filter against an issue as it was written.
// Filters are evaluated with the administrator's view, as Jira evaluates admin webhooks.
func (s *Site) matchesSnapshot(filter string, idx int32, snap *issue) bool {
	if filter == "" {
		return true
	}
	if idx < 0 {
		return false
	}
	q, err := jql.Parse(filter)
	if err != nil {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	match, err := q.Compile(s.jqlEnv(0))
	if err != nil {
		return false
	}
	return match(&record{s: s, i: idx, is: snap})
}

// touch bumps issue i's updated time. Each write moves it forward by at least a
// millisecond, so clients guarding by updated never see two writes at one instant. It is
// the only way updated may change after generation: search's updated index relies on it.
func (s *Site) touch(i int32, now time.Time) {
	s.keptHistory(i, &s.issues[i]) // the history a generated issue implies hangs on its last update
	ms := now.UnixMilli()
	if ms <= s.issues[i].updated {
		ms = s.issues[i].updated + 1
	}
	s.issues[i].updated = ms
	s.search.updated.touched(s.issues, i)
	s.writes++
}

// remember snapshots issue i before a write for eventual consistency: until the delay
// passes, search keeps seeing the version from before the first write in the window.
// existed is false for an issue being created. The caller holds s.mu for writing.
func (s *Site) remember(i int32, existed bool, now time.Time) {
	if s.delay <= 0 {
		return
	}
	for k, st := range s.stale {
		if !now.Before(st.until) {
			delete(s.stale, k)
		}
	}
	if st, ok := s.stale[i]; ok {
		st.until = now.Add(s.delay)
		s.stale[i] = st
		return
	}
	st := staleIssue{had: existed, until: now.Add(s.delay)}
	if existed {
		st.prev = s.issues[i]
	}
	s.stale[i] = st
}
