package store

import (
	"context"
	"fmt"
	"testing"
)

// AuditLog pages backwards by id with Before, so a caller that filters what it reads can
// go on past a page without seeing an entry twice or skipping one.
func TestAuditLogPages(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for i := range 7 {
		if err := db.Audit(ctx, AuditEntry{Actor: "a", Action: "issue.edit", Target: fmt.Sprintf("A-%d", i), Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	f := AuditFilter{Action: "issue.edit", Limit: 3}
	for {
		page, err := db.AuditLog(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			got = append(got, e.Target)
		}
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	if fmt.Sprint(got) != "[A-6 A-5 A-4 A-3 A-2 A-1 A-0]" {
		t.Errorf("pages: %v", got)
	}
}
