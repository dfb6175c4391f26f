package refresh

import (
	"context"
	"encoding/json"
	"fmt"

	"foundation/jira"
	"foundation/jql"
	"foundation/lens"
	"foundation/store"
)

// Insert generators whose JQL local evaluation cannot answer (membersOf() without a group
// directory, functions only Jira knows) take their members from Jira: a refresh asks Jira
// for each such JQL's issue keys and keeps them in the cache, per Lens, where OpenLens
// finds them. The keys are the refreshing identity's view; lens.Build still drops every
// issue the viewer may not browse.

const remotePrefix = "lens.remote:" // pref owner: one per Lens; key: the JQL

// FetchRemoteMembers asks Jira for the members of every stored Lens's remote JQL, within the
// site's scope (Cloud refuses unbounded JQL, and the cache holds only the scope anyway), and
// keeps them. It returns how many queries it answered. A query Jira refuses is reported and
// the others still run.
func FetchRemoteMembers(ctx context.Context, c *jira.Client, db *store.DB, scope string) (int, error) {
	stored, err := db.Lenses(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var failed []error
	for _, st := range stored {
		def, err := lens.Parse(st.Name, []byte(st.YAML))
		if err != nil {
			continue // lens show reports a definition that no longer parses
		}
		for _, q := range def.RemoteQueries() {
			keys, err := JiraMembers(ctx, c, scope, q)
			if err != nil {
				failed = append(failed, fmt.Errorf("lens %q: %w", st.Name, err))
				continue
			}
			b, err := json.Marshal(keys)
			if err != nil {
				return n, err
			}
			if err := db.PutPref(ctx, remotePrefix+st.Name, q, b); err != nil {
				return n, err
			}
			n++
		}
	}
	if len(failed) > 0 {
		return n, fmt.Errorf("remote Lens queries: %w", failed[0])
	}
	return n, nil
}

// JiraMembers asks Jira for the keys of the issues q selects within the site's scope (Cloud
// refuses unbounded JQL, and the cache holds only the scope anyway), as the client's user
// may browse them: what a JQL that local evaluation cannot answer stands for.
func JiraMembers(ctx context.Context, c *jira.Client, scope, q string) ([]string, error) {
	bounded, err := withinScope(scope, q)
	if err != nil {
		return nil, err
	}
	var keys []string
	err = c.ScanIDs(ctx, bounded, func(ids []jira.IssueRef) error {
		for _, r := range ids {
			keys = append(keys, r.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("members of %q: %w", q, err)
	}
	return keys, nil
}

// withinScope is q restricted to the scope: (scope) AND (q's condition), keeping q's order.
func withinScope(scope, q string) (string, error) {
	sq, err := jql.Parse(scope)
	if err != nil {
		return "", fmt.Errorf("scope %q: %w", scope, err)
	}
	lq, err := jql.Parse(q)
	if err != nil {
		return "", fmt.Errorf("JQL %q: %w", q, err)
	}
	both := &jql.Query{Where: sq.Where, OrderBy: lq.OrderBy}
	if sq.Where != nil && lq.Where != nil {
		both.Where = &jql.And{Terms: []jql.Expr{sq.Where, lq.Where}}
	} else if lq.Where != nil {
		both.Where = lq.Where
	}
	return both.String(), nil
}

// remoteMembers reads what FetchRemoteMembers kept for a Lens's remote queries.
func remoteMembers(ctx context.Context, db *store.DB, name string, def *lens.Definition) (map[string][]string, error) {
	qs := def.RemoteQueries()
	if len(qs) == 0 {
		return nil, nil
	}
	out := make(map[string][]string, len(qs))
	for _, q := range qs {
		raw, ok, err := db.Pref(ctx, remotePrefix+name, q)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // not fetched yet: Build notes it
		}
		var keys []string
		if err := json.Unmarshal(raw, &keys); err != nil {
			return nil, fmt.Errorf("members of %q in the cache: %w", q, err)
		}
		out[q] = keys
	}
	return out, nil
}
