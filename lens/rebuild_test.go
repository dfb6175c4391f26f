package lens

import (
	"testing"
	"time"
)

// TestRebuild changes one issue in several ways and checks that Rebuild reuses the rows
// exactly when it may, and always renders what a full Build renders.
func TestRebuild(t *testing.T) {
	const def = `name: r
generators:
  - insert: {jql: "project = ALPHA AND issuetype = Epic AND status != Done"}
  - extend: {by: parent}
  - extend: {by: subtasks}
  - filter: {column: labels, op: "!=", value: secret}
  - group: {by: priority}
views:
  - name: v
    columns:
      - field: key
      - field: summary
      - {id: sp, rollup: {op: sum, field: story points}}
      - {id: p, progress: {by: status, weight: story points}}
      - {id: f, formula: "sp * 2"}
      - {id: age, formula: "isIssue ? days(created, now) : nil"}
`
	hideInternal := func(is *Issue) bool { return is.SecurityLevel == "" }
	tests := []struct {
		name   string
		change func(is *Issue)
		reuse  bool
		later  time.Duration // how far the clock moves
	}{
		{"story points", func(is *Issue) { is.StoryPoints = f64(21) }, true, 0},
		{"story points, a day later", func(is *Issue) { is.StoryPoints = f64(21) }, true, 24 * time.Hour},
		{"summary and status category", func(is *Issue) { is.Summary = "renamed"; is.StatusCategory = "done" }, true, 0},
		{"status read by the insert JQL", func(is *Issue) { is.Status = "Done" }, false, 0},
		{"label read by the filter", func(is *Issue) { is.Labels = []string{"secret"} }, false, 0},
		{"priority read by the group", func(is *Issue) { is.Priority = "Lowest" }, false, 0},
		{"parent", func(is *Issue) { is.Parent = "" }, false, 0},
		{"visibility", func(is *Issue) { is.SecurityLevel = "Internal" }, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := testData(3)
			d := mustParse(t, def)
			prev, err := Build(d, data, hideInternal)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := prev.View("v"); err != nil {
				t.Fatal(err)
			}
			// A story under an epic of the Lens.
			key := prev.Rows[2].Issue.Key
			before := *prev.Rows[2].Issue
			is := before
			is.Labels = append([]string(nil), is.Labels...)
			tc.change(&is)
			data.SetIssue(is)
			data.Now = data.Now.Add(tc.later)
			got, err := Rebuild(prev, data, hideInternal, map[string]Issue{key: before})
			if err != nil {
				t.Fatal(err)
			}
			if got.reused != tc.reuse {
				t.Fatalf("reused = %v, want %v", got.reused, tc.reuse)
			}
			if tc.reuse && got.seeds["v"] == nil {
				t.Fatal("the reused forest carries no seed of the opened view")
			}
			full, err := Build(mustParse(t, def), data, hideInternal)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := string(dump(t, got, "v")), string(dump(t, full, "v")); a != b {
				t.Fatalf("Rebuild differs from Build:\n%s\n---\n%s", a, b)
			}
		})
	}
}

func TestRebuildClock(t *testing.T) {
	data := testData(2)
	d := mustParse(t, `name: c
generators: [{insert: {jql: "updated >= -30d"}}]
views: [{name: v, columns: [{field: key}]}]
`)
	prev, err := Build(d, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Rebuild(prev, data, nil, nil)
	if err != nil || !f.reused {
		t.Fatalf("same clock: reused %v, %v", f != nil && f.reused, err)
	}
	data.Now = data.Now.Add(48 * time.Hour)
	if f, err = Rebuild(prev, data, nil, nil); err != nil || f.reused {
		t.Fatalf("clock moved: reused %v, %v", f != nil && f.reused, err)
	}
}
