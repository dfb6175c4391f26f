package storetest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"foundation/lens"
)

// RoadmapIssues generates issues in the Roadmap's shape (rounded up to whole epics): per
// epic 8 stories with 2 sub-tasks each, alternating between ALPHA and BETA, each with about
// 600 bytes of raw field JSON as a synced issue keeps. Benchmarks fill caches with it directly, without a sync.
func RoadmapIssues(n int) []lens.Issue {
	statuses := []struct{ name, cat string }{{"To Do", "new"}, {"In Progress", "indeterminate"}, {"Done", "done"}}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]lens.Issue, 0, n+17)
	num := map[string]int{}
	add := func(project, typ, parent string) string {
		num[project]++
		i := len(out)
		st := statuses[i%len(statuses)]
		key := project + "-" + strconv.Itoa(num[project])
		is := lens.Issue{
			ID: int64(10000 + i), Key: key, ProjectID: int64(len(project)), Project: project, Type: typ,
			Subtask: typ == "Sub-task", Status: st.name, StatusCategory: st.cat, Priority: "Medium",
			Parent: parent, Assignee: fmt.Sprintf("acc-%d", i%40), Reporter: fmt.Sprintf("acc-%d", i%13),
			Summary: fmt.Sprintf("Implement the %d-th thing so that users can do what they need", i),
			Labels:  []string{fmt.Sprintf("team-%d", i%7)}, Created: base.Add(time.Duration(i) * time.Minute),
			Updated: base.Add(time.Duration(i)*time.Minute + time.Hour), Rank: fmt.Sprintf("0|i%06d:", i),
		}
		if typ == "Story" {
			sp := float64(i%8 + 1)
			is.StoryPoints = &sp
		}
		if st.cat == "done" {
			is.Resolution = "Done"
		}
		is.Fields = map[string]json.RawMessage{
			"summary":           json.RawMessage(strconv.Quote(is.Summary)),
			"status":            json.RawMessage(fmt.Sprintf(`{"id":"%d","name":%q,"statusCategory":{"id":4,"key":%q}}`, i%3, st.name, st.cat)),
			"assignee":          json.RawMessage(fmt.Sprintf(`{"accountId":"acc-%d","displayName":"User %d","active":true}`, i%40, i%40)),
			"customfield_10020": json.RawMessage(fmt.Sprintf(`[{"id":%d,"name":"Sprint %d","state":"active"}]`, i%20, i%20)),
			"description":       json.RawMessage(`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Some description text for the issue, long enough to be typical of what people write."}]}]}`),
		}
		out = append(out, is)
		return key
	}
	for e := 0; len(out) < n; e++ {
		p := []string{"ALPHA", "BETA"}[e%2]
		epic := add(p, "Epic", "")
		for range 8 {
			story := add(p, "Story", epic)
			add(p, "Sub-task", story)
			add(p, "Sub-task", story)
		}
	}
	return out
}
