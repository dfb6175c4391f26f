package lens

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// testFields is a field catalog like the fake site's.
var testFields = []Field{
	{ID: "summary", Name: "Summary", SchemaType: "string"},
	{ID: "description", Name: "Description", SchemaType: "string"},
	{ID: "components", Name: "Components", SchemaType: "array", SchemaItems: "component"},
	{ID: "fixVersions", Name: "Fix versions", SchemaType: "array", SchemaItems: "version"},
	{ID: "timeoriginalestimate", Name: "Original estimate", SchemaType: "number"},
	{ID: "customfield_10016", Name: "Story Points", Custom: true, SchemaType: "number", SchemaCustom: "com.pyxis.greenhopper.jira:jsw-story-points"},
	{ID: "customfield_10020", Name: "Sprint", Custom: true, SchemaType: "array", SchemaItems: "json", SchemaCustom: "com.pyxis.greenhopper.jira:gh-sprint"},
	{ID: "customfield_10019", Name: "Rank", Custom: true, SchemaType: "any", SchemaCustom: "com.pyxis.greenhopper.jira:gh-lexo-rank"},
	{ID: "customfield_10050", Name: "Team", Custom: true, SchemaType: "option"},
	{ID: "customfield_10051", Name: "Owner", Custom: true, SchemaType: "user"},
	{ID: "customfield_10052", Name: "Target start", Custom: true, SchemaType: "date"},
}

var testUsers = map[string]string{"u-alice": "Alice Adams", "u-bob": "Bob Brown", "u-carol": "Carol Chen"}

// testData generates a deterministic site: per project, epics with stories (some with
// sub-tasks), loose tasks and bugs, and links between some of them. size scales the
// number of epics.
func testData(epicsPerProject int) *Data {
	rng := rand.New(rand.NewPCG(7, uint64(epicsPerProject)))
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	d := &Data{Fields: testFields, Users: testUsers, Dialect: "cloud", Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), CurrentUser: "u-alice"}
	users := []string{"u-alice", "u-bob", "u-carol", ""}
	statuses := []struct{ name, cat string }{{"To Do", "new"}, {"In Progress", "indeterminate"}, {"In Review", "indeterminate"}, {"Done", "done"}}
	prios := []string{"Highest", "High", "Medium", "Low", "Lowest"}
	labelSets := [][]string{nil, {"backend"}, {"frontend"}, {"backend", "frontend"}, {"infra"}}
	var id int64
	rank := 0
	num := map[string]int{}
	add := func(project, typ, parent string) *Issue {
		id++
		num[project]++
		st := statuses[rng.IntN(len(statuses))]
		is := Issue{
			ID: id, Key: fmt.Sprintf("%s-%d", project, num[project]), ProjectID: int64(len(project)), Project: project,
			Type: typ, Subtask: typ == "Sub-task", Status: st.name, StatusCategory: st.cat,
			Priority: prios[rng.IntN(len(prios))], Parent: parent,
			Assignee: users[rng.IntN(len(users))], Reporter: users[rng.IntN(3)],
			Summary: fmt.Sprintf("%s %s number %d", project, typ, num[project]),
			Labels:  labelSets[rng.IntN(len(labelSets))],
			Created: base.Add(time.Duration(id) * time.Hour), Updated: base.Add(time.Duration(id)*time.Hour + 30*time.Minute),
			Fields: map[string]json.RawMessage{},
		}
		rank++
		is.Rank = fmt.Sprintf("0|i%05d:", (rank*7919)%100000)
		if st.cat == "done" {
			is.Resolution = "Done"
		}
		if typ == "Story" || typ == "Bug" || typ == "Task" {
			if n := rng.IntN(6); n > 0 {
				sp := float64([]int{1, 2, 3, 5, 8}[n-1])
				is.StoryPoints = &sp
				is.Fields["customfield_10016"] = json.RawMessage(fmt.Sprint(sp))
			}
		}
		if rng.IntN(3) == 0 {
			is.DueDate = base.AddDate(0, 0, rng.IntN(90)).Format("2006-01-02")
		}
		if rng.IntN(2) == 0 {
			is.Fields["customfield_10020"] = json.RawMessage(fmt.Sprintf(`[{"id":%d,"name":"Sprint %d","state":"active"}]`, 10+rng.IntN(3), 1+rng.IntN(3)))
		}
		is.Fields["customfield_10050"] = json.RawMessage(fmt.Sprintf(`{"value":"Team %c"}`, 'A'+rune(rng.IntN(3))))
		is.Fields["timeoriginalestimate"] = json.RawMessage(fmt.Sprint(3600 * (1 + rng.IntN(8))))
		is.Fields["description"] = json.RawMessage(`{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"Details of ` + is.Key + `"}]}]}`)
		is.Fields["fixVersions"] = json.RawMessage(`[{"name":"1.0"},{"name":"1.1"}]`)
		d.Issues = append(d.Issues, is)
		return &d.Issues[len(d.Issues)-1]
	}
	for _, p := range []string{"ALPHA", "BETA"} {
		for e := 0; e < epicsPerProject; e++ {
			epic := add(p, "Epic", "").Key
			for s := 0; s < 2+rng.IntN(3); s++ {
				story := add(p, "Story", epic).Key
				for t := 0; t < rng.IntN(3); t++ {
					add(p, "Sub-task", story)
				}
			}
		}
		add(p, "Task", "")
		for b := 0; b < 3; b++ {
			add(p, "Bug", "")
		}
	}
	if len(d.Issues) > 0 && d.Issues[len(d.Issues)-1].Project == "BETA" {
		d.Issues[len(d.Issues)-1].SecurityLevel = "Internal"
	}
	n := len(d.Issues)
	for i := 0; i < n/4; i++ {
		a, b := rng.IntN(n), rng.IntN(n)
		if a == b {
			continue
		}
		lt := []Link{{Type: "Blocks", Outward: "blocks", Inward: "is blocked by"}, {Type: "Relates", Outward: "relates to", Inward: "relates to"}}[rng.IntN(2)]
		lt.ID, lt.From, lt.To = int64(i+1), d.Issues[a].Key, d.Issues[b].Key
		d.Links = append(d.Links, lt)
	}
	// A fixed chain with a cycle, for the link extender: ALPHA-1 blocks ALPHA-2 blocks
	// ALPHA-3 blocks ALPHA-1; BETA-1 relates to ALPHA-1.
	for i, l := range [][2]string{{"ALPHA-1", "ALPHA-2"}, {"ALPHA-2", "ALPHA-3"}, {"ALPHA-3", "ALPHA-1"}} {
		d.Links = append(d.Links, Link{ID: int64(1000 + i), Type: "Blocks", Outward: "blocks", Inward: "is blocked by", From: l[0], To: l[1]})
	}
	d.Links = append(d.Links, Link{ID: 1100, Type: "Relates", Outward: "relates to", Inward: "relates to", From: "BETA-1", To: "ALPHA-1"})
	return d
}
