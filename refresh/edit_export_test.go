package refresh

import (
	"foundation/jira"
	"foundation/store"
)

// PageOf converts issues into the page a sync or an edit's read-back writes, so a benchmark
// can time the store's part of an edit on its own.
func PageOf(in []jira.Issue, wk store.WellKnown) (store.Page, error) {
	b, err := convert(in, wk)
	if err != nil {
		return store.Page{}, err
	}
	us := make([]store.User, 0, len(b.users))
	for _, u := range b.users {
		us = append(us, u)
	}
	return store.Page{Issues: b.issues, Links: b.links, Users: us}, nil
}
