package jiratest

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an eventSink that keeps what the site emits.
type recorder struct {
	mu     sync.Mutex
	events []recorded
}

type recorded struct {
	name    string
	payload map[string]any
	matches func(string) bool
}

func (r *recorder) Emit(event string, payload []byte, matches func(string) bool) {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		panic("site emitted invalid JSON: " + err.Error()) // a test double: fail loudly
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, recorded{event, m, matches})
}

func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// pick finds an issue of the site matching pred.
func pick(t *testing.T, s *Site, pred func(FakeIssue) bool) FakeIssue {
	t.Helper()
	for _, is := range s.Issues() {
		if pred(is) {
			return is
		}
	}
	t.Fatal("no issue fits")
	return FakeIssue{}
}

func TestEdit(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 400, Seed: 2})
		rec := &recorder{}
		f.site.sink = rec
		is := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Story" })
		before := is.Updated
		assignee := map[string]any{"accountId": "61a0000000000000000000a3"}
		if d == dialectDataCenter {
			assignee = map[string]any{"name": "bob"}
		}
		body := map[string]any{
			"fields": map[string]any{"summary": "Renamed by test", "assignee": assignee, "customfield_10016": 8, "priority": map[string]any{"name": "High"}, "duedate": "2027-01-02"},
			"update": map[string]any{"labels": []map[string]any{{"add": "needs-qa"}}},
		}
		status, out := f.do("alice", "PUT", "/rest/api/2/issue/"+is.Key, body)
		if status != 204 {
			t.Fatalf("%s edit: %d %s", d, status, out)
		}
		got, _ := f.site.Issue(is.Key)
		if got.Summary != "Renamed by test" || got.Assignee != f.site.userRef(2) || *got.StoryPoints != 8 || got.Priority != "High" ||
			!slices.Contains(got.Labels, "needs-qa") || got.DueDate != "2027-01-02" || !got.Updated.After(before) {
			t.Errorf("%s after edit: %+v", d, got.Issue)
		}
		// Search reflects the write.
		q := "project = ALPHA AND summary ~ \"Renamed by test\""
		keys, _ := f.scan("alice", q, []string{"key"}, 100)
		if !slices.Equal(keys, []string{is.Key}) {
			t.Errorf("%s search after edit: %v", d, keys)
		}
		evs := rec.take()
		if len(evs) != 1 || evs[0].name != "jira:issue_updated" {
			t.Fatalf("%s events: %+v", d, evs)
		}
		items := evs[0].payload["changelog"].(map[string]any)["items"].([]any)
		var changed []string
		for _, it := range items {
			changed = append(changed, it.(map[string]any)["fieldId"].(string))
		}
		slices.Sort(changed)
		if want := []string{"assignee", "customfield_10016", "duedate", "labels", "priority", "summary"}; !slices.Equal(changed, want) {
			t.Errorf("%s changelog fields %v, want %v", d, changed, want)
		}
		if !evs[0].matches("project = ALPHA") || evs[0].matches("project = BETA") {
			t.Errorf("%s webhook filter evaluation wrong", d)
		}

		// Validation: every bad field named, nothing applied.
		bad := map[string]any{"fields": map[string]any{"summary": "", "priority": map[string]any{"name": "Urgent"}, "status": "Done", "nonsense": 1, "customfield_10016": "many"}}
		status, out = f.do("alice", "PUT", "/rest/api/2/issue/"+is.Key, bad)
		var e struct{ Errors map[string]string }
		_ = json.Unmarshal(out, &e)
		for _, k := range []string{"summary", "priority", "status", "nonsense", "customfield_10016"} {
			if e.Errors[k] == "" {
				t.Errorf("%s: bad edit did not name %s: %s", d, k, out)
			}
		}
		if status != 400 {
			t.Errorf("%s bad edit: %d", d, status)
		}
		if after, _ := f.site.Issue(is.Key); after.Summary != "Renamed by test" {
			t.Errorf("%s: a refused edit changed the issue", d)
		}
		if len(rec.take()) != 0 {
			t.Errorf("%s: a refused edit emitted a webhook", d)
		}
		// Hidden issues are 404 for writes too; notifyUsers=false needs admin.
		gamma := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "GAMMA" })
		if status, _ := f.do("alice", "PUT", "/rest/api/2/issue/"+gamma.Key, map[string]any{"fields": map[string]any{"summary": "x"}}); status != 404 {
			t.Errorf("%s edit hidden issue: %d", d, status)
		}
		if status, _ := f.do("alice", "PUT", "/rest/api/2/issue/"+is.Key+"?notifyUsers=false", map[string]any{"fields": map[string]any{"summary": "quiet"}}); status != 403 {
			t.Errorf("%s notifyUsers=false as alice: %d, want 403", d, status)
		}
		if status, _ := f.do("admin", "PUT", "/rest/api/2/issue/"+is.Key+"?notifyUsers=false", map[string]any{"fields": map[string]any{"summary": "quiet"}}); status != 204 {
			t.Errorf("%s notifyUsers=false as admin: %d, want 204", d, status)
		}
		// A field in both fields and update is refused.
		both := map[string]any{"fields": map[string]any{"labels": []string{"a"}}, "update": map[string]any{"labels": []map[string]any{{"add": "b"}}}}
		if status, _ := f.do("alice", "PUT", "/rest/api/2/issue/"+is.Key, both); status != 400 {
			t.Errorf("%s field in fields and update: %d", d, status)
		}
	}
}

func TestEditDescriptionADF(t *testing.T) {
	f := newFixture(t, Options{Issues: 50})
	doc := map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "First"}}},
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "Second"}}},
	}}
	f.doJSON("alice", "PUT", "/rest/api/3/issue/ALPHA-1", map[string]any{"fields": map[string]any{"description": doc}}, 204, nil)
	if is, _ := f.site.Issue("ALPHA-1"); is.Description != "First\n\nSecond" {
		t.Errorf("description %q", is.Description)
	}
	var v2 struct{ Fields struct{ Description string } }
	f.doJSON("alice", "GET", "/rest/api/2/issue/ALPHA-1?fields=description", nil, 200, &v2)
	if v2.Fields.Description != "First\n\nSecond" {
		t.Errorf("v2 description %q", v2.Fields.Description)
	}
	if status, _ := f.do("alice", "PUT", "/rest/api/3/issue/ALPHA-1", map[string]any{"fields": map[string]any{"description": "plain"}}); status != 400 {
		t.Errorf("string description on v3: %d, want 400", status)
	}
}

func TestTransitions(t *testing.T) {
	f := newFixture(t, Options{Issues: 600, Seed: 4})
	is := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Task" && i.Status == "In Review" })
	var list struct {
		Transitions []struct {
			ID     string
			Name   string
			To     struct{ Name string }
			Fields map[string]struct{ Required bool }
		}
	}
	f.doJSON("bob", "GET", "/rest/api/2/issue/"+is.Key+"/transitions?expand=transitions.fields", nil, 200, &list)
	var names []string
	doneID := ""
	for _, tr := range list.Transitions {
		names = append(names, tr.To.Name)
		if tr.To.Name == "Done" {
			doneID = tr.ID
			if !tr.Fields["resolution"].Required {
				t.Error("transition to Done does not require resolution")
			}
		}
	}
	slices.Sort(names)
	if want := []string{"Done", "In Progress", "To Do"}; !slices.Equal(names, want) {
		t.Errorf("transitions from In Review lead to %v, want %v", names, want)
	}
	type errs struct {
		ErrorMessages []string
		Errors        map[string]string
	}
	var e errs
	f.doJSON("bob", "POST", "/rest/api/2/issue/"+is.Key+"/transitions", map[string]any{"transition": map[string]any{"id": "11"}}, 400, &e)
	if len(e.ErrorMessages) == 0 {
		t.Error("invalid transition without message")
	}
	e = errs{}
	f.doJSON("bob", "POST", "/rest/api/2/issue/"+is.Key+"/transitions", map[string]any{"transition": map[string]any{"id": doneID}}, 400, &e)
	if e.Errors["resolution"] == "" {
		t.Errorf("missing resolution not reported: %+v", e)
	}
	f.doJSON("bob", "POST", "/rest/api/2/issue/"+is.Key+"/transitions", map[string]any{"transition": map[string]any{"id": doneID}, "fields": map[string]any{"resolution": map[string]any{"name": "Won't Do"}}}, 204, nil)
	got, _ := f.site.Issue(is.Key)
	if got.Status != "Done" || got.StatusCategory != "done" || got.Resolution != "Won't Do" {
		t.Errorf("after transition: %s %s %s", got.Status, got.StatusCategory, got.Resolution)
	}
	keys, _ := f.scan("bob", "key = "+is.Key+" AND statusCategory = Done AND resolution = \"Won't Do\"", []string{"key"}, 10)
	if len(keys) != 1 {
		t.Errorf("search after transition: %v", keys)
	}
	// Reopen clears the resolution; bugs have their own workflow starting in Triage.
	f.doJSON("bob", "POST", "/rest/api/2/issue/"+is.Key+"/transitions", map[string]any{"transition": map[string]any{"id": "51"}}, 204, nil)
	if got, _ := f.site.Issue(is.Key); got.Status != "To Do" || got.Resolution != "" {
		t.Errorf("after reopen: %s %q", got.Status, got.Resolution)
	}
	var created struct{ Key string }
	f.doJSON("bob", "POST", "/rest/api/2/issue", map[string]any{"fields": map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Bug"}, "summary": "crash"}}, 201, &created)
	if got, _ := f.site.Issue(created.Key); got.Status != "Triage" {
		t.Errorf("new bug in %s, want Triage", got.Status)
	}
}

func TestCreate(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 300, Seed: 6})
		rec := &recorder{}
		f.site.sink = rec
		story := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Story" })
		epic := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Epic" })
		type errs struct{ Errors map[string]string }
		cases := []struct {
			name   string
			fields map[string]any
			status int
			errKey string
		}{
			{"no project", map[string]any{"issuetype": map[string]any{"name": "Task"}, "summary": "x"}, 400, "project"},
			{"hidden project", map[string]any{"project": map[string]any{"key": "GAMMA"}, "issuetype": map[string]any{"name": "Task"}, "summary": "x"}, 400, "project"},
			{"bad type", map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Saga"}, "summary": "x"}, 400, "issuetype"},
			{"no summary", map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Task"}}, 400, "summary"},
			{"orphan sub-task", map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Sub-task"}, "summary": "x"}, 400, "parent"},
			{"sub-task under epic", map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Sub-task"}, "summary": "x", "parent": map[string]any{"key": epic.Key}}, 400, "parent"},
			{"sub-task", map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Sub-task"}, "summary": "child", "parent": map[string]any{"key": story.Key}}, 201, ""},
			{"task", map[string]any{"project": map[string]any{"id": "10000"}, "issuetype": map[string]any{"id": "10002"}, "summary": "a task", "labels": []string{"x"}}, 201, ""},
		}
		for _, tc := range cases {
			status, out := f.do("alice", "POST", "/rest/api/2/issue", map[string]any{"fields": tc.fields})
			if status != tc.status {
				t.Errorf("%s %s: %d %s", d, tc.name, status, out)
				continue
			}
			if tc.status != 201 {
				var e errs
				_ = json.Unmarshal(out, &e)
				if e.Errors[tc.errKey] == "" {
					t.Errorf("%s %s: error does not name %s: %s", d, tc.name, tc.errKey, out)
				}
				continue
			}
			var c struct{ ID, Key, Self string }
			_ = json.Unmarshal(out, &c)
			got, ok := f.site.Issue(c.Key)
			if !ok || got.Summary != tc.fields["summary"] || !strings.HasSuffix(c.Self, "/issue/"+c.ID) {
				t.Errorf("%s %s: created %+v", d, tc.name, got.Issue)
			}
			if tc.name == "sub-task" {
				var parent struct {
					Fields struct{ Subtasks []struct{ Key string } }
				}
				f.doJSON("alice", "GET", "/rest/api/2/issue/"+story.Key+"?fields=subtasks", nil, 200, &parent)
				found := false
				for _, st := range parent.Fields.Subtasks {
					found = found || st.Key == c.Key
				}
				if !found || got.Parent != story.Key {
					t.Errorf("%s: new sub-task %s not under %s", d, c.Key, story.Key)
				}
			}
			keys, _ := f.scan("alice", "key = "+c.Key, []string{"key"}, 10)
			if len(keys) != 1 {
				t.Errorf("%s: search does not find created %s", d, c.Key)
			}
		}
		evs := rec.take()
		if len(evs) != 2 || evs[0].name != "jira:issue_created" {
			t.Errorf("%s create events: %d", d, len(evs))
		}
		// createmeta by project and issue type.
		var types struct {
			IssueTypes []struct{ ID, Name string } `json:"issueTypes"`
			Values     []struct{ ID, Name string } `json:"values"`
		}
		f.doJSON("alice", "GET", "/rest/api/2/issue/createmeta/ALPHA/issuetypes", nil, 200, &types)
		if len(types.IssueTypes)+len(types.Values) != len(issueTypes) {
			t.Errorf("%s createmeta types: %+v", d, types)
		}
		var fields struct {
			Fields []struct {
				FieldID  string
				Required bool
			} `json:"fields"`
			Values []struct {
				FieldID  string
				Required bool
			} `json:"values"`
		}
		f.doJSON("alice", "GET", "/rest/api/2/issue/createmeta/ALPHA/issuetypes/10004", nil, 200, &fields)
		required := map[string]bool{}
		for _, fd := range append(fields.Fields, fields.Values...) {
			required[fd.FieldID] = fd.Required
		}
		if !required["summary"] || !required["parent"] || required["labels"] {
			t.Errorf("%s sub-task createmeta required: %v", d, required)
		}
		if status, _ := f.do("bob", "GET", "/rest/api/2/issue/createmeta/GAMMA/issuetypes", nil); status != 404 {
			t.Errorf("%s createmeta on a hidden project: %d", d, status)
		}
	}
}

func TestDeleteLinksComments(t *testing.T) {
	f := newFixture(t, Options{Issues: 500, Seed: 8})
	rec := &recorder{}
	f.site.sink = rec
	a := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Task" })
	b := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Bug" })

	// Links: inwardIssue is the source, so "a blocks b".
	f.doJSON("bob", "POST", "/rest/api/2/issueLink", map[string]any{"type": map[string]any{"name": "Blocks"}, "inwardIssue": map[string]any{"key": a.Key}, "outwardIssue": map[string]any{"key": b.Key}}, 201, nil)
	var linkID string
	for _, l := range f.site.Links() {
		if l.From == a.Key && l.To == b.Key && l.Type == "Blocks" {
			linkID = formatInt(l.ID)
		}
	}
	if linkID == "" {
		t.Fatal("link not created")
	}
	var got struct {
		Fields struct {
			Issuelinks []struct {
				ID           string
				OutwardIssue *struct{ Key string }
			}
		}
	}
	f.doJSON("bob", "GET", "/rest/api/2/issue/"+a.Key+"?fields=issuelinks", nil, 200, &got)
	found := false
	for _, l := range got.Fields.Issuelinks {
		found = found || (l.ID == linkID && l.OutwardIssue != nil && l.OutwardIssue.Key == b.Key)
	}
	if !found {
		t.Errorf("issuelinks of %s lack the new link", a.Key)
	}
	gamma := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "GAMMA" })
	if status, _ := f.do("bob", "POST", "/rest/api/2/issueLink", map[string]any{"type": map[string]any{"name": "Blocks"}, "inwardIssue": map[string]any{"key": a.Key}, "outwardIssue": map[string]any{"key": gamma.Key}}); status != 404 {
		t.Errorf("link to a hidden issue: %d", status)
	}
	f.doJSON("bob", "DELETE", "/rest/api/2/issueLink/"+linkID, nil, 204, nil)
	if status, _ := f.do("bob", "GET", "/rest/api/2/issueLink/"+linkID, nil); status != 404 {
		t.Errorf("deleted link still there: %d", status)
	}

	// Comments: v3 takes ADF, v2 strings; both read back.
	f.doJSON("bob", "POST", "/rest/api/3/issue/"+a.Key+"/comment", map[string]any{"body": map[string]any{"type": "doc", "version": 1, "content": []any{map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "looks good"}}}}}}, 201, nil)
	f.doJSON("bob", "POST", "/rest/api/2/issue/"+a.Key+"/comment", map[string]any{"body": "second"}, 201, nil)
	var cs struct {
		Total    int
		Comments []struct{ Body string }
	}
	f.doJSON("bob", "GET", "/rest/api/2/issue/"+a.Key+"/comment", nil, 200, &cs)
	if cs.Total != 2 || cs.Comments[0].Body != "looks good" || cs.Comments[1].Body != "second" {
		t.Errorf("comments: %+v", cs)
	}
	if keys, _ := f.scan("bob", "project = ALPHA AND text ~ \"looks good\"", []string{"key"}, 10); !slices.Equal(keys, []string{a.Key}) {
		t.Errorf("text search for a comment: %v", keys)
	}

	// Delete needs DELETE_ISSUES (admins only here); sub-tasks need deleteSubtasks=true.
	if status, _ := f.do("bob", "DELETE", "/rest/api/2/issue/"+a.Key, nil); status != 403 {
		t.Errorf("bob deleting: %d, want 403", status)
	}
	parent := pick(t, f.site, func(i FakeIssue) bool {
		if i.Subtask || i.Project != "ALPHA" {
			return false
		}
		for _, o := range f.site.Issues() {
			if o.Parent == i.Key && o.Subtask {
				return true
			}
		}
		return false
	})
	if status, _ := f.do("admin", "DELETE", "/rest/api/2/issue/"+parent.Key, nil); status != 400 {
		t.Errorf("deleting an issue with sub-tasks without deleteSubtasks: %d", status)
	}
	rec.take()
	f.doJSON("admin", "DELETE", "/rest/api/2/issue/"+parent.Key+"?deleteSubtasks=true", nil, 204, nil)
	if _, ok := f.site.Issue(parent.Key); ok {
		t.Error("deleted issue still there")
	}
	for _, is := range f.site.Issues() {
		if is.Parent == parent.Key && is.Subtask {
			t.Errorf("sub-task %s survived its parent", is.Key)
		}
	}
	if status, _ := f.do("admin", "GET", "/rest/api/2/issue/"+parent.Key, nil); status != 404 {
		t.Errorf("GET deleted: %d", status)
	}
	evs := rec.take()
	if len(evs) < 2 || evs[len(evs)-1].name != "jira:issue_deleted" {
		t.Errorf("delete events: %d", len(evs))
	}
}

func TestEventualConsistency(t *testing.T) {
	clk := &clock{t: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	f := newFixture(t, Options{Issues: 200, Seed: 1, Now: clk.now, ConsistencyDelay: 2 * time.Second})
	is := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Story" })
	f.doJSON("alice", "PUT", "/rest/api/3/issue/"+is.Key, map[string]any{"fields": map[string]any{"summary": "eventually"}}, 204, nil)
	q := "project = ALPHA AND summary ~ eventually"
	if keys, _ := f.scan("alice", q, []string{"key"}, 10); len(keys) != 0 {
		t.Errorf("search saw the write inside the delay: %v", keys)
	}
	// GET is consistent at once, and reconcileIssues makes search so.
	var got struct{ Fields struct{ Summary string } }
	f.doJSON("alice", "GET", "/rest/api/3/issue/"+is.Key+"?fields=summary", nil, 200, &got)
	if got.Fields.Summary != "eventually" {
		t.Errorf("GET after write: %q", got.Fields.Summary)
	}
	var p searchPage
	f.doJSON("alice", "POST", "/rest/api/3/search/jql", map[string]any{"jql": q, "fields": []string{"summary"}, "reconcileIssues": []int64{is.ID}}, 200, &p)
	if len(p.Issues) != 1 || p.Issues[0].Fields["summary"] != "eventually" {
		t.Errorf("reconcileIssues: %+v", p.Issues)
	}
	// A created issue is not found until the delay passes.
	var c struct{ Key string }
	f.doJSON("alice", "POST", "/rest/api/3/issue", map[string]any{"fields": map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Task"}, "summary": "fresh"}}, 201, &c)
	if keys, _ := f.scan("alice", "key = "+c.Key, []string{"key"}, 10); len(keys) != 0 {
		t.Error("created issue searchable inside the delay")
	}
	clk.advance(3 * time.Second)
	if keys, _ := f.scan("alice", q, []string{"key"}, 10); !slices.Equal(keys, []string{is.Key}) {
		t.Errorf("after the delay: %v", keys)
	}
	if keys, _ := f.scan("alice", "key = "+c.Key, []string{"key"}, 10); len(keys) != 1 {
		t.Error("created issue not searchable after the delay")
	}
}

func TestHelpers(t *testing.T) {
	f := newFixture(t, Options{Issues: 300, Seed: 12})
	rec := &recorder{}
	f.site.sink = rec
	is := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Story" && i.Status == "To Do" })
	if err := f.site.Update(is.Key, map[string]any{"status": "Done", "summary": "helper"}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.site.Issue(is.Key)
	if got.Status != "Done" || got.Resolution == "" || got.Summary != "helper" || !got.Updated.After(is.Updated) {
		t.Errorf("after Update: %+v", got.Issue)
	}
	if err := f.site.Update(is.Key, map[string]any{"status": "Nope"}); err == nil {
		t.Error("Update to an unknown status succeeded")
	}
	if err := f.site.Update("ALPHA-99999", map[string]any{"summary": "x"}); err == nil {
		t.Error("Update of a missing issue succeeded")
	}
	newKey, err := f.site.Move(is.Key, "GAMMA")
	if err != nil {
		t.Fatal(err)
	}
	moved, _ := f.site.Issue(newKey)
	if !strings.HasPrefix(newKey, "GAMMA-") || moved.ID != is.ID || moved.Parent != "" {
		t.Errorf("moved: %s %+v", newKey, moved.Issue)
	}
	if status, _ := f.do("bob", "GET", "/rest/api/2/issue/"+newKey, nil); status != 404 {
		t.Errorf("bob sees the issue moved to GAMMA: %d", status)
	}
	if err := f.site.Delete(newKey); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, e := range rec.take() {
		names = append(names, e.name+"/"+e.payload["issue_event_type_name"].(string))
	}
	want := []string{"jira:issue_updated/issue_generic", "jira:issue_updated/issue_moved", "jira:issue_deleted/issue_deleted"}
	if !slices.Equal(names, want) {
		t.Errorf("helper events %v, want %v", names, want)
	}
}

func TestUsersAndGroups(t *testing.T) {
	for _, d := range bothDialects {
		f := newFixture(t, Options{Dialect: d, Issues: 50})
		var users []struct{ DisplayName string }
		f.doJSON("bob", "GET", "/rest/api/2/user/assignable/search?issueKey=ALPHA-1&query=", nil, 200, &users)
		if len(users) != 3 {
			t.Errorf("%s assignable on ALPHA: %v", d, users)
		}
		f.doJSON("bob", "GET", "/rest/api/2/user/search?query=ali", nil, 200, &users)
		if len(users) != 1 || users[0].DisplayName != "Alice Anders" {
			t.Errorf("%s user search: %v", d, users)
		}
		var groups struct {
			Total  int
			Groups []struct{ Name string }
		}
		f.doJSON("bob", "GET", "/rest/api/2/groups/picker?query="+url.QueryEscape("jira-"), nil, 200, &groups)
		if groups.Total != 2 {
			t.Errorf("%s groups picker: %+v", d, groups)
		}
	}
}

func TestCommentThroughEditAndTransition(t *testing.T) {
	f := newFixture(t, Options{Issues: 300, Seed: 4})
	rec := &recorder{}
	f.site.sink = rec
	is := pick(t, f.site, func(i FakeIssue) bool { return i.Project == "ALPHA" && i.Type == "Task" && i.Status == "To Do" })
	f.doJSON("bob", "PUT", "/rest/api/2/issue/"+is.Key, map[string]any{"update": map[string]any{"comment": []map[string]any{{"add": map[string]any{"body": "via edit"}}}}}, 204, nil)
	f.doJSON("bob", "POST", "/rest/api/2/issue/"+is.Key+"/transitions", map[string]any{"transition": map[string]any{"id": "11"},
		"update": map[string]any{"comment": []map[string]any{{"add": map[string]any{"body": "starting"}}}}}, 204, nil)
	got, _ := f.site.Issue(is.Key)
	if !slices.Equal(got.Comments, []string{"via edit", "starting"}) || got.Status != "In Progress" {
		t.Errorf("comments %v status %s", got.Comments, got.Status)
	}
	var names []string
	for _, e := range rec.take() {
		names = append(names, e.name+"/"+e.payload["issue_event_type_name"].(string))
	}
	want := []string{"jira:issue_updated/issue_commented", "comment_created/issue_commented", "jira:issue_updated/issue_generic", "comment_created/issue_commented"}
	if !slices.Equal(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}
	// An empty comment refuses the whole edit.
	status, _ := f.do("bob", "PUT", "/rest/api/2/issue/"+is.Key, map[string]any{"fields": map[string]any{"summary": "x"}, "update": map[string]any{"comment": []map[string]any{{"add": map[string]any{"body": " "}}}}})
	if got, _ := f.site.Issue(is.Key); status != 400 || got.Summary == "x" {
		t.Errorf("empty comment: %d, summary %q", status, got.Summary)
	}
	var cs struct {
		Comments []struct{ ID string }
	}
	f.doJSON("bob", "GET", "/rest/api/2/issue/"+is.Key+"/comment", nil, 200, &cs)
	if len(cs.Comments) != 2 || cs.Comments[0].ID == cs.Comments[1].ID || cs.Comments[0].ID == "-1" {
		t.Errorf("comment ids %+v", cs.Comments)
	}
}

// TestConcurrentReadsAndWrites runs searches, reads and every kind of write at once; with
// -race it checks the locking, and afterwards search must agree with the site's state.
func TestConcurrentReadsAndWrites(t *testing.T) {
	f := newFixture(t, Options{Issues: 1000, Seed: 17, ConsistencyDelay: time.Millisecond})
	stories := []string{}
	for _, is := range f.site.Issues() {
		if is.Project == "ALPHA" && is.Type == "Story" && len(stories) < 40 {
			stories = append(stories, is.Key)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 30 {
				key := stories[(w*30+k)%len(stories)]
				switch k % 5 {
				case 0:
					f.do("alice", "PUT", "/rest/api/2/issue/"+key, map[string]any{"fields": map[string]any{"summary": "w" + key}})
				case 1:
					f.do("bob", "POST", "/rest/api/3/search/jql", map[string]any{"jql": "project = ALPHA ORDER BY updated DESC", "fields": []string{"summary"}, "maxResults": 20})
				case 2:
					f.do("alice", "POST", "/rest/api/2/issue/"+key+"/comment", map[string]any{"body": "c"})
				case 3:
					f.do("admin", "POST", "/rest/api/2/issue", map[string]any{"fields": map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Task"}, "summary": "parallel"}})
				case 4:
					_ = f.site.Update(key, map[string]any{"labels": []string{"parallel"}})
				}
			}
		}()
	}
	wg.Wait()
	time.Sleep(5 * time.Millisecond) // past the consistency delay
	want, _ := f.site.VisibleTo("alice")
	got, _ := f.scan("alice", allProjects, []string{"key"}, 5000)
	if len(got) != len(want) {
		t.Errorf("after concurrent writes search finds %d, site has %d", len(got), len(want))
	}
	created, _ := f.scan("admin", "project = ALPHA AND summary ~ parallel", []string{"key"}, 100)
	if len(created) != 24 {
		t.Errorf("%d issues created in parallel found, want 24", len(created))
	}
}
