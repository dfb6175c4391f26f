package cli

import (
	"context"
	"errors"
	"slices"
	"strings"

	"foundation/jira"
	"foundation/refresh"
	"foundation/store"
	"foundation/tui"
)

// aclService is the TUI ACL editor's backend: the access list from the cache, changes
// through refresh.ChangeACL (audited, on the change feed so other open views follow), and
// the pickers' searches against Jira. The TUI backend hands it out as
//
//	func (b *siteBackend) ACL() tui.ACLBackend { return newACLService(b.db, b.client, b.viewer) }
type aclService struct {
	db     *store.DB
	client *jira.Client // nil offline: the pickers then say so
	viewer refresh.Viewer
}

func newACLService(db *store.DB, client *jira.Client, viewer refresh.Viewer) *aclService {
	return &aclService{db: db, client: client, viewer: viewer}
}

var _ tui.ACLBackend = (*aclService)(nil)

// errNoJira is what the pickers say without a client.
var errNoJira = errors.New("searching needs Jira, and this session has no connection to it")

func (s *aclService) LoadACL(ctx context.Context, lensID string) (tui.ACLState, error) {
	v, err := refresh.LoadACL(ctx, s.db, lensID, s.viewer, nil)
	if err != nil {
		return tui.ACLState{}, err
	}
	st := tui.ACLState{Lens: v.Lens, Version: v.Version, Owner: v.Def.Owner, Level: v.Access.Level.String(),
		IsOwner: v.Access.Via == "owner"}
	st.You = v.Access.Explain(s.viewer.Label())
	for _, l := range v.Lines {
		st.Entries = append(st.Entries, tui.ACLRow{Principal: l.Principal, Kind: l.Kind, Level: l.Level, Explanation: l.Explanation})
	}
	return st, nil
}

func (s *aclService) ChangeACL(ctx context.Context, lensID string, c tui.ACLChange, version int64) (tui.ACLState, error) {
	if _, _, err := refresh.ChangeACL(ctx, s.db, lensID, s.viewer, refresh.ACLEdit{Grant: c.Grant, Revoke: c.Revoke, Owner: c.Owner}, version); err != nil {
		return tui.ACLState{}, err
	}
	return s.LoadACL(ctx, lensID)
}

func (s *aclService) SearchUsers(ctx context.Context, query string) ([]tui.ACLCandidate, error) {
	if s.client == nil {
		return nil, errNoJira
	}
	us, err := s.client.SearchUsers(ctx, query)
	if err != nil {
		return nil, err
	}
	out := make([]tui.ACLCandidate, 0, len(us))
	for _, u := range us {
		label := u.DisplayName
		if u.Email != "" {
			label += " <" + u.Email + ">"
		}
		out = append(out, tui.ACLCandidate{ID: u.ID(), Label: strings.TrimSpace(label)})
	}
	return out, nil
}

func (s *aclService) SearchGroups(ctx context.Context, query string) ([]tui.ACLCandidate, error) {
	if s.client == nil {
		return nil, errNoJira
	}
	gs, err := s.client.SearchGroups(ctx, query)
	if err != nil {
		return nil, err
	}
	out := make([]tui.ACLCandidate, len(gs))
	for i, g := range gs {
		out[i] = tui.ACLCandidate{ID: g}
	}
	return out, nil
}

func (s *aclService) Projects(ctx context.Context) ([]tui.ACLCandidate, error) {
	ps, err := s.db.Projects(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]tui.ACLCandidate, len(ps))
	for i, p := range ps {
		out[i] = tui.ACLCandidate{ID: p.Key, Label: p.Name}
	}
	return out, nil
}

func (s *aclService) ProjectRoles(ctx context.Context, project string) ([]tui.ACLCandidate, error) {
	if s.client == nil {
		return nil, errNoJira
	}
	roles, err := s.client.ProjectRoles(ctx, project)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(roles))
	for n := range roles {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]tui.ACLCandidate, len(names))
	for i, n := range names {
		out[i] = tui.ACLCandidate{ID: n}
	}
	return out, nil
}
