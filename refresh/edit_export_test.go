package refresh

import (
	"foundation/jira"
	"foundation/store"
)

// PageOf converts issues into the page an edit's read-back writes (the same conversion), so
// a benchmark can time the store's part of an edit on its own.
func PageOf(in []jira.Issue, wk store.WellKnown) (store.Page, error) { return pageOf(in, wk) }
