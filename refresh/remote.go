package refresh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"

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

// RemoteRefusal is a remote Lens query Jira refused: a function it does not have, an
// issue it cannot find. It is kept in place of the query's members, and the Lens's viewers
// are told when they open it.
type RemoteRefusal struct {
	Lens, JQL string
	Reason    string // Jira's words
}

// RemoteResult is what FetchRemoteMembers did: how many queries Jira answered, and which
// it refused.
type RemoteResult struct {
	Answered int
	Refused  []RemoteRefusal
}

// FetchRemoteMembers asks Jira for the members of the remote JQL of every stored Lens the
// viewer v may open, within the site's scope (Cloud refuses unbounded JQL, and the cache
// holds only the scope anyway), and keeps them. Lenses v may not open are left alone:
// v's refresh neither runs another's private JQL with v's rights nor reports on it.
//
// A query Jira refuses (HTTP 400) is that Lens's problem, not the refresh's: the refusal is
// kept in place of its members, listed in the result, and the other queries still run.
// Any other failure (the site unreachable, the credentials refused) stops the fetch and is
// returned, since every query after it would fail the same way.
func FetchRemoteMembers(ctx context.Context, c *jira.Client, db *store.DB, scope string, v Viewer) (RemoteResult, error) {
	var res RemoteResult
	stored, err := db.Lenses(ctx)
	if err != nil {
		return res, err
	}
	if v, err = withFreshRoles(ctx, db, v); err != nil {
		return res, err
	}
	for _, st := range stored {
		def, err := parseStored(st) // the stored record's owner when the file names none
		if err != nil {
			continue // lens show reports a definition that no longer parses
		}
		if AccessOf(def, v).Level < lens.LevelView {
			continue
		}
		for _, q := range def.RemoteQueries() {
			var kept any
			keys, err := JiraMembers(ctx, c, scope, q)
			var apiErr *jira.APIError
			switch {
			case err == nil:
				kept = keys
				res.Answered++
			case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
				reason := apiErr.Detail()
				if reason == "" {
					reason = apiErr.Error()
				}
				// Jira's positions count in the query sent, the Lens's JQL within the
				// scope, re-rendered: they would point elsewhere in the JQL quoted.
				reason = jqlPosition.ReplaceAllString(reason, "")
				kept = remoteRefused{Refused: reason}
				res.Refused = append(res.Refused, RemoteRefusal{Lens: st.Name, JQL: q, Reason: reason})
			default:
				return res, fmt.Errorf("lens %q: %w", st.Name, err)
			}
			b, err := json.Marshal(kept)
			if err != nil {
				return res, err
			}
			if err := db.PutPref(ctx, remotePrefix+st.Name, q, b); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// jqlPosition is where Jira says a JQL error is: " (line 1, character 62)".
var jqlPosition = regexp.MustCompile(`\s*\(line \d+, character \d+\)`)

// remoteRefused is what the cache keeps for a remote query Jira refused, in place of the
// array of member keys.
type remoteRefused struct {
	Refused string `json:"refused"`
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

// remoteMembers reads what FetchRemoteMembers kept for a Lens's remote queries: the members
// of those Jira answered, and Jira's reason for those it refused.
func remoteMembers(ctx context.Context, db *store.DB, name string, def *lens.Definition) (members map[string][]string, refused map[string]string, err error) {
	qs := def.RemoteQueries()
	if len(qs) == 0 {
		return nil, nil, nil
	}
	members = make(map[string][]string, len(qs))
	for _, q := range qs {
		raw, ok, err := db.Pref(ctx, remotePrefix+name, q)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			continue // not fetched yet: Build notes it
		}
		if r := bytes.TrimSpace(raw); len(r) > 0 && r[0] == '{' {
			var rf remoteRefused
			if err := json.Unmarshal(raw, &rf); err != nil {
				return nil, nil, fmt.Errorf("refusal of %q in the cache: %w", q, err)
			}
			if refused == nil {
				refused = map[string]string{}
			}
			refused[q] = rf.Refused
			continue
		}
		var keys []string
		if err := json.Unmarshal(raw, &keys); err != nil {
			return nil, nil, fmt.Errorf("members of %q in the cache: %w", q, err)
		}
		members[q] = keys
	}
	return members, refused, nil
}
