package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"foundation/jql"
	"foundation/lens"
)

// memBackend is a Backend over an in-memory data set built with the real Lens engine, so the
// screens are tested against what lens.Build and NewBuilt produce.
type memBackend struct {
	mu      sync.Mutex
	now     time.Time
	defs    map[string]*lens.Definition
	order   []string
	data    *lens.Data
	prefs   map[string][]byte
	changes []memChange
	status  Status

	builds     int
	refreshes  int
	refreshErr error
	lensesErr  error
	// jira answers filters asked of Jira (BuildRequest.FilterByJira) by their text; a
	// filter not in it fails as if Jira were unreachable.
	jira      map[string][]string
	jiraAsked int
}

type memChange struct {
	seq int64
	key string
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const roadmapYAML = `
name: Roadmap
description: Epics with their stories and sub-tasks, story points rolled up.
owner: alice
generators:
  - insert: {jql: "issuetype = Epic"}
  - extend: {by: parent}
  - extend: {by: subtasks}
views:
  - name: plan
    default: true
    columns:
      - field: status
      - field: assignee
      - field: priority
      - title: Points
        rollup: {op: sum, field: story points}
      - title: Progress
        progress: {by: status}
    format:
      - {column: status, op: "=", value: Done, style: {fg: muted}, row: true}
  - name: dates
    columns:
      - field: duedate
      - field: created
      - field: labels
`

const bugsYAML = `
name: Bugs by priority
description: Open bugs grouped by priority.
owner: bob
generators:
  - insert: {jql: "issuetype = Bug"}
  - group: {by: priority}
views:
  - name: triage
    columns:
      - field: status
      - field: assignee
`

func newMemBackend(t testing.TB) *memBackend {
	t.Helper()
	b := &memBackend{now: testNow, defs: map[string]*lens.Definition{}, prefs: map[string][]byte{},
		status: Status{Profile: "demo", LastRefresh: testNow.Add(-3 * time.Minute)}}
	for _, y := range []struct{ id, src string }{{"roadmap", roadmapYAML}, {"bugs", bugsYAML}} {
		d, err := lens.Parse(y.id+".yaml", []byte(y.src))
		if err != nil {
			t.Fatalf("parse %s: %v", y.id, err)
		}
		b.defs[y.id] = d
		b.order = append(b.order, y.id)
	}
	b.data = memData()
	return b
}

// memData is 3 epics x 4 stories x 2 sub-tasks in ALPHA, plus 6 bugs, deterministically.
func memData() *lens.Data { return genData(3, 4, 2, 6) }

// genData generates epics x stories x sub-tasks plus bugs, deterministically.
func genData(nEpics, nStories, nSubs, nBugs int) *lens.Data {
	d := &lens.Data{Dialect: "cloud", Now: testNow, CurrentUser: "alice",
		Fields: []lens.Field{
			{ID: "summary", Name: "Summary", SchemaType: "string"},
			{ID: "description", Name: "Description", SchemaType: "string"},
			{ID: "customfield_10016", Name: "Story Points", Custom: true, SchemaType: "number", SchemaCustom: "com.pyxis.greenhopper.jira:jsw-story-points"},
			{ID: "reporter", Name: "Reporter", SchemaType: "user"},
			{ID: "labels", Name: "Labels", SchemaType: "array", SchemaItems: "string"},
			{ID: "duedate", Name: "Due date", SchemaType: "date"},
			{ID: "created", Name: "Created", SchemaType: "datetime"},
		},
		Users: map[string]string{"alice": "Alice Adams", "bob": "Bob Brown", "carol": "Carol Chen"}}
	statuses := []struct{ name, cat string }{{"To Do", "new"}, {"In Progress", "indeterminate"}, {"Done", "done"}}
	users := []string{"alice", "bob", "carol", ""}
	prios := []string{"High", "Medium", "Low"}
	n := 0
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	add := func(typ, parent, summary string) string {
		n++
		st := statuses[n%3]
		is := lens.Issue{ID: int64(n), Key: fmt.Sprintf("ALPHA-%d", n), Project: "ALPHA", ProjectID: 1,
			Type: typ, Subtask: typ == "Sub-task", Status: st.name, StatusCategory: st.cat,
			Priority: prios[n%3], Parent: parent, Assignee: users[n%4], Reporter: "alice",
			Summary: summary, Created: base.Add(time.Duration(n) * time.Hour), Updated: base.Add(time.Duration(n) * 2 * time.Hour),
			Rank: fmt.Sprintf("0|i%05d:", n), Fields: map[string]json.RawMessage{}}
		if typ == "Story" || typ == "Bug" {
			sp := float64([]int{1, 2, 3, 5, 8}[n%5])
			is.StoryPoints = &sp
			is.Fields["customfield_10016"] = json.RawMessage(fmt.Sprint(sp))
		}
		if n%4 == 0 {
			is.DueDate = base.AddDate(0, 1, n).Format("2006-01-02")
			is.Labels = []string{"backend"}
		}
		if n%5 == 1 {
			is.Fields["description"] = json.RawMessage(`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Make ` + summary + ` happen."}]},{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"first step"}]}]}]}]}`)
		}
		if st.cat == "done" {
			is.Resolution = "Done"
		}
		d.Issues = append(d.Issues, is)
		return is.Key
	}
	names := []string{"Checkout revamp", "Search speed", "Mobile offline mode"}
	for e := 0; e < nEpics; e++ {
		es := fmt.Sprintf("Epic %d", e+1)
		if e < len(names) {
			es = names[e]
		}
		ek := add("Epic", "", es)
		for s := 0; s < nStories; s++ {
			sk := add("Story", ek, fmt.Sprintf("Story %d.%d of %s", e+1, s+1, es))
			for k := 0; k < nSubs; k++ {
				add("Sub-task", sk, fmt.Sprintf("Task %d.%d.%d", e+1, s+1, k+1))
			}
		}
	}
	for i := 0; i < nBugs; i++ {
		add("Bug", "", fmt.Sprintf("Crash number %d when paying", i+1))
	}
	d.Links = []lens.Link{{ID: 1, Type: "Blocks", Outward: "blocks", Inward: "is blocked by", From: "ALPHA-2", To: "ALPHA-11"}}
	return d
}

func (b *memBackend) Lenses(ctx context.Context) ([]LensInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lensesErr != nil {
		return nil, b.lensesErr
	}
	var out []LensInfo
	for _, id := range b.order {
		d := b.defs[id]
		f, err := lens.Build(d, b.data, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, LensInfo{ID: id, Name: d.Name, Description: d.Description, Owner: d.Owner,
			Size: len(f.Rows), LastRefresh: b.status.LastRefresh})
	}
	return out, nil
}

func (b *memBackend) Build(ctx context.Context, req BuildRequest) (*Built, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.builds++
	d, ok := b.defs[req.Lens]
	if !ok {
		return nil, fmt.Errorf("no Lens %q", req.Lens)
	}
	d, err := WithColumns(d, req.View, req.Extra)
	if err != nil {
		return nil, err
	}
	f, err := lens.Build(d, b.data, nil)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", d.Name, err)
	}
	var built *Built
	if req.FilterByJira {
		keys, ok := b.jira[req.Filter]
		if !ok {
			return nil, fmt.Errorf("Jira is unreachable")
		}
		b.jiraAsked++
		built, err = NewBuiltMatching(f, req.View, func(is *lens.Issue) bool { return slices.Contains(keys, is.Key) })
	} else {
		env := jql.Env{Now: b.now, CurrentUser: b.data.CurrentUser, HasField: lens.NewCatalog(b.data.Fields).JQLHasField()}
		built, err = NewBuilt(f, req.View, req.Filter, env)
	}
	if err != nil {
		return nil, err
	}
	built.Fields = b.data.Fields
	users := b.data.Users
	built.UserName = func(id string) string {
		if n, ok := users[id]; ok {
			return n
		}
		return id
	}
	links := b.data.Links
	built.Links = func(key string) []lens.Link {
		var out []lens.Link
		for _, l := range links {
			if l.From == key || l.To == key {
				out = append(out, l)
			}
		}
		return out
	}
	return built, nil
}

func (b *memBackend) Refresh(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refreshes++
	return b.refreshErr
}

func (b *memBackend) LastChange(ctx context.Context) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int64(len(b.changes)), nil
}

func (b *memBackend) ChangedKeys(ctx context.Context, after int64) ([]string, int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []string
	for _, c := range b.changes {
		if c.seq > after && c.key != "" {
			keys = append(keys, c.key)
		}
	}
	sort.Strings(keys)
	return keys, int64(len(b.changes)), nil
}

func (b *memBackend) Status(ctx context.Context) (Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, nil
}

func (b *memBackend) Pref(ctx context.Context, name string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.prefs[name], nil
}

func (b *memBackend) SetPref(ctx context.Context, name string, v []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if name == "" {
		return errors.New("empty pref name")
	}
	if !json.Valid(v) { // the store refuses anything else
		return fmt.Errorf("pref %s: value is not valid JSON", name)
	}
	b.prefs[name] = append([]byte(nil), v...)
	return nil
}

// edit changes an issue's summary the way another process writing the cache would: the
// data changes and the change feed grows.
func (b *memBackend) edit(key, summary string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, is := range b.data.Issues {
		if is.Key == key {
			is.Summary = summary
			b.data.SetIssue(is)
		}
	}
	b.changes = append(b.changes, memChange{seq: int64(len(b.changes) + 1), key: key})
}
