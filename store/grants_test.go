package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"foundation/lens"
)

// TestGrantTargets: the projects of the cached issues, each once, and the issues with a
// security level, with their projects.
func TestGrantTargets(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a1, a2, b1 := issue(1, "A-1", t0, "a"), issue(2, "A-2", t0, "b"), issue(3, "B-1", t0, "c")
	a2.SecurityLevel = "Internal"
	b1.Project, b1.ProjectID, b1.SecurityLevel = "BETA", 7, "Staff"
	if _, err := db.UpsertIssues(ctx, []lens.Issue{a1, a2, b1}, true); err != nil {
		t.Fatal(err)
	}
	projects, secured, err := db.GrantTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(projects, []int64{1, 7}) {
		t.Errorf("projects %v, want [1 7]", projects)
	}
	if want := []SecuredIssue{{2, 1}, {3, 7}}; !reflect.DeepEqual(secured, want) {
		t.Errorf("secured %v, want %v", secured, want)
	}
}
