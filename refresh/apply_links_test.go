package refresh_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"foundation/lens"
	"foundation/refresh"
)

// An issue payload's issuelinks is the issue's complete link set: the applier writes it when
// the payload takes effect and it differs from the cached one, and never from a stale payload.
func TestApplierPayloadLinks(t *testing.T) {
	h := newHookFixture(t, "cloud", 50, "project in (ALPHA, BETA)")
	ctx := context.Background()
	keys := h.issueKeys(t, "ALPHA", 2)
	base, err := h.db.Issue(ctx, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	const linkID = 987654
	withLinks := fmt.Sprintf(`[{"id":"%d","type":{"name":"Blocks","inward":"is blocked by","outward":"blocks"},"outwardIssue":{"key":%q}}]`, linkID, keys[1])
	start := base.Updated.Add(time.Hour)
	payload := func(at time.Time, links string) string {
		fields := map[string]json.RawMessage{}
		for k, v := range base.Fields {
			fields[k] = v
		}
		fields["updated"], _ = json.Marshal(at.Format("2006-01-02T15:04:05.000-0700"))
		fields["issuelinks"] = json.RawMessage(links)
		b, err := json.Marshal(map[string]any{"timestamp": at.UnixMilli(), "webhookEvent": "jira:issue_updated",
			"issue": map[string]any{"id": fmt.Sprint(base.ID), "key": base.Key, "fields": fields}})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	hasLink := func() bool {
		t.Helper()
		all, err := h.db.Links(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range all {
			if l.ID == linkID {
				if l.From != keys[0] || l.To != keys[1] || l.Type != "Blocks" {
					t.Errorf("link %+v", l)
				}
				return true
			}
		}
		return false
	}
	// No client: every step must apply from the payload alone.
	a := refresh.NewApplier(nil, h.db, refresh.ApplyOptions{})
	steps := []struct {
		name  string
		at    time.Time
		links string
		want  bool
	}{
		{"link added", start, withLinks, true},
		{"same links again", start.Add(time.Minute), withLinks, true},
		{"stale payload without the link", start.Add(-time.Minute), `[]`, true},
		{"link removed", start.Add(2 * time.Minute), `[]`, false},
		{"stale payload with the link", start.Add(time.Minute), withLinks, false},
	}
	for i, s := range steps {
		journal(t, h.db, fmt.Sprintf("links-%d", i), s.at.UnixMilli(), payload(s.at, s.links))
		st, err := a.ApplyPending(ctx)
		if err != nil || st.Applied != 1 || st.Deferred != 0 || st.Quarantined != 0 {
			t.Fatalf("%s: apply %+v, %v", s.name, st, err)
		}
		if got := hasLink(); got != s.want {
			t.Errorf("%s: link cached %v, want %v", s.name, got, s.want)
		}
	}
}

// After issuelink_deleted the link row goes and the cached ends' stored issuelinks no
// longer name it: the ends are re-read, as for a new link.
func TestWebhookUnlinkKeepsStoredLinksConsistent(t *testing.T) {
	h := newHookFixture(t, "cloud", 300, "project in (ALPHA, BETA)")
	h.site.Webhooks().Register(h.url, hookSecret, nil, "")
	ctx := context.Background()
	links, err := h.db.Links(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var victim lens.Link
	for _, l := range links {
		_, a := cached(t, h.db, l.From)
		_, b := cached(t, h.db, l.To)
		if a && b && rawLinkIDs(t, h.db, l.From)[l.ID] && rawLinkIDs(t, h.db, l.To)[l.ID] {
			victim = l
			break
		}
	}
	if victim.ID == 0 {
		t.Fatal("fixture: no link with both ends cached")
	}
	if err := h.c.DeleteLink(ctx, strconv.FormatInt(victim.ID, 10)); err != nil {
		t.Fatal(err)
	}
	st := h.flushAndApply(t)
	if st.LinksRemoved != 1 {
		t.Errorf("apply %+v: want the link removed", st)
	}
	after, err := h.db.Links(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range after {
		if l.ID == victim.ID {
			t.Errorf("link %d still cached", l.ID)
		}
	}
	for _, k := range []string{victim.From, victim.To} {
		if rawLinkIDs(t, h.db, k)[victim.ID] {
			t.Errorf("%s's stored issuelinks still name deleted link %d", k, victim.ID)
		}
	}
}
