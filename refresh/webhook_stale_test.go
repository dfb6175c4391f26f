package refresh_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"foundation/lens"
	"foundation/refresh"
)

// deliverIssue posts a signed jira:issue_updated delivery for issue id with fields to the
// fixture's listener, dated at.
func (h *hookFixture) deliverIssue(t *testing.T, at time.Time, id int64, key string, fields map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"webhookEvent": "jira:issue_updated", "timestamp": at.UnixMilli(),
		"issue": map[string]any{"id": id, "key": key, "fields": fields},
	})
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write(body)
	code := h.deliver(t, captured{header: map[string][]string{
		"Content-Type": {"application/json"}, "X-Hub-Signature": {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
	}, body: body})
	if code != 200 {
		t.Fatalf("delivery for %s: HTTP %d", key, code)
	}
}

// wholeFields is the cached issue's raw fields, as a payload carrying all of them would,
// with the given fields replaced.
func wholeFields(is lens.Issue, set map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range is.Fields {
		out[k] = v
	}
	for k, v := range set {
		out[k] = v
	}
	return out
}

// jiraTime formats t as Jira dates its fields.
func jiraTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

var zeta = map[string]any{"id": "19999", "key": "ZETA", "name": "Zeta"}

// A delivery older than the cached issue that has it out of every scope is stale news: the
// newer cached issue stays, as it does against an older in-scope update. A newer one still
// removes it.
func TestWebhookLeavingScopeHonoursVersions(t *testing.T) {
	h := newHookFixture(t, "cloud", 200, "project = ALPHA")
	ctx := context.Background()
	keys := h.issueKeys(t, "ALPHA", 2)
	old, _ := cached(t, h.db, keys[0])
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	h.deliverIssue(t, past, old.ID, old.Key, wholeFields(old, map[string]any{"project": zeta, "updated": jiraTime(past)}))
	st, err := h.applier.ApplyPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if is, ok := cached(t, h.db, old.Key); !ok || !is.Updated.Equal(old.Updated) || st.Deleted != 0 {
		t.Errorf("a 2020 delivery moving %s out of scope: cached %v (updated %v, was %v), %d deleted; want the newer cached issue kept",
			old.Key, ok, is.Updated, old.Updated, st.Deleted)
	}
	if tombs, err := h.db.Tombstones(ctx); err != nil || len(tombs) != 0 {
		t.Errorf("tombstones %+v, %v: want none", tombs, err)
	}
	if js := journalStats(t, h.db); js.Pending != 0 || js.Quarantined != 0 {
		t.Errorf("journal %+v: want the stale delivery applied (as a no-op)", js)
	}

	// Newer than the cache: it left the scope.
	moved, _ := cached(t, h.db, keys[1])
	later := moved.Updated.Add(time.Minute)
	h.deliverIssue(t, later, moved.ID, "ZETA-1", wholeFields(moved, map[string]any{"project": zeta, "updated": jiraTime(later)}))
	if st, err = h.applier.ApplyPending(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := cached(t, h.db, moved.Key); ok || st.Deleted != 1 {
		t.Errorf("a newer delivery moving %s out of scope: cached %v, %d deleted; want it removed", moved.Key, ok, st.Deleted)
	}
	tombs, err := h.db.Tombstones(ctx)
	if err != nil || len(tombs) != 1 || tombs[0].IssueID != moved.ID || !tombs[0].LastUpdated.Equal(later.Truncate(time.Millisecond)) {
		t.Errorf("tombstones %+v, %v: want one for %s at the delivery's version %v", tombs, err, moved.Key, later)
	}
}

// A payload that lacks what deciding the issue's fate needs (its project, or its version)
// is not out of scope nor stale: the issue is re-read from Jira, or the delivery waits for
// a run that can ask it.
func TestWebhookIncompletePayloadIsReread(t *testing.T) {
	h := newHookFixture(t, "cloud", 200, "project = ALPHA")
	ctx := context.Background()
	keys := h.issueKeys(t, "ALPHA", 3)
	noProject, _ := cached(t, h.db, keys[0])
	noProjectNewer, _ := cached(t, h.db, keys[1])
	noUpdated, _ := cached(t, h.db, keys[2])
	now := time.Now()
	h.deliverIssue(t, now, noProject.ID, noProject.Key, map[string]any{"summary": "x"})
	h.deliverIssue(t, now, noProjectNewer.ID, noProjectNewer.Key, map[string]any{"summary": "x", "updated": jiraTime(noProjectNewer.Updated.Add(time.Minute))})
	// In scope and whole but for its version, which Jira has moved on since.
	if err := h.site.Update(noUpdated.Key, map[string]any{"summary": "changed in Jira"}); err != nil {
		t.Fatal(err)
	}
	fields := wholeFields(noUpdated, map[string]any{"summary": "changed in Jira"})
	delete(fields, "updated")
	h.deliverIssue(t, now, noUpdated.ID, noUpdated.Key, fields)

	st, err := refresh.NewApplier(nil, h.db, refresh.ApplyOptions{Scope: "project = ALPHA"}).ApplyPending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Deferred != 3 || st.Deleted != 0 || st.Applied != 0 {
		t.Errorf("offline apply %+v: want all three deferred, nothing deleted", st)
	}
	for _, is := range []lens.Issue{noProject, noProjectNewer, noUpdated} {
		if got, ok := cached(t, h.db, is.Key); !ok || got.Summary != is.Summary {
			t.Errorf("offline: %s cached %v, summary %q; want it kept as it was (%q)", is.Key, ok, got.Summary, is.Summary)
		}
	}

	if st, err = h.applier.ApplyPending(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Applied != 3 || st.Fetched != 3 || st.Deleted != 0 {
		t.Errorf("apply %+v: want all three applied by re-reading their issues", st)
	}
	for _, is := range []lens.Issue{noProject, noProjectNewer, noUpdated} {
		fi, _ := h.site.Issue(is.Key)
		if got, ok := cached(t, h.db, is.Key); !ok || got.Summary != fi.Summary || got.Project != "ALPHA" {
			t.Errorf("%s cached %v, summary %q in %q; want it as Jira has it (%q)", is.Key, ok, got.Summary, got.Project, fi.Summary)
		}
	}
	if tombs, err := h.db.Tombstones(ctx); err != nil || len(tombs) != 0 {
		t.Errorf("tombstones %+v, %v: want none", tombs, err)
	}
	if js := journalStats(t, h.db); js.Pending != 0 {
		t.Errorf("journal %+v: want nothing pending", js)
	}
}
