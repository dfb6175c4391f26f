package refresh

import (
	"context"
	"fmt"
	"sync"

	"foundation/jira"
	"foundation/store"
)

// sighter works out, for pages read through one client, what that client's identity may
// browse among what the pages leave out (store.Sight): the cache is shared by every
// profile of the site, and an issue read by one that cannot see the other end of a link
// (or a sub-task, or the parent) comes without it, which is not the link being gone.
//
// Most pages leave nothing out, and cost one cache read. Otherwise the projects the
// identity may browse are asked of Jira once, and what they do not settle (issues with a
// security level, issues the cache does not hold) is asked with one bulk read: Jira shows
// an issue only to someone who may browse it.
type sighter struct {
	c  *jira.Client
	db *store.DB

	mu       sync.Mutex
	projects map[string]bool // nil until asked
	checked  bool            // whether the cache was found empty yet
	empty    bool            // the cache held no issue when the run began
}

func newSighter(c *jira.Client, db *store.DB) *sighter { return &sighter{c: c, db: db} }

// sight returns the Sight to apply p with: nil when p leaves out nothing the cache holds.
func (s *sighter) sight(ctx context.Context, p store.Page) (*store.Sight, error) {
	sg := &store.Sight{Issues: map[string]bool{}}
	s.mu.Lock()
	checked, empty := s.checked, s.empty
	s.mu.Unlock()
	if !checked {
		has, err := s.db.HasIssues(ctx)
		if err != nil {
			return nil, err
		}
		empty = !has
		s.mu.Lock()
		s.checked, s.empty = true, empty
		s.mu.Unlock()
	}
	if empty {
		// A first sync: the pages can leave out nothing cached before the run. Should
		// another process fill the cache meanwhile, what they leave out of it is kept
		// (an unknown Sight keeps everything), and the next run settles it.
		return sg, nil
	}
	un, err := s.db.Unseen(ctx, p)
	if err != nil {
		return nil, err
	}
	if len(un) == 0 {
		// Nothing cached is left out: the page is complete, and writing it need not look
		// again inside the write transaction (which holds every other writer back).
		return nil, nil
	}
	s.mu.Lock()
	sg.Projects = s.projects
	s.mu.Unlock()
	if sg.Projects == nil {
		ps, err := s.c.Projects(ctx)
		if err != nil {
			return nil, fmt.Errorf("projects this profile may browse: %w", err)
		}
		sg.Projects = make(map[string]bool, len(ps))
		for _, p := range ps {
			sg.Projects[p.Key] = true
		}
		s.mu.Lock()
		s.projects = sg.Projects
		s.mu.Unlock()
	}
	var ask []string
	for _, u := range un {
		if _, known := sg.Sees(u.Key, u.End); !known {
			ask = append(ask, u.Key)
		}
	}
	if len(ask) == 0 {
		return sg, nil
	}
	got, err := s.c.BulkFetch(ctx, ask, []string{"project"})
	if err != nil {
		return nil, fmt.Errorf("which of %d linked issues this profile may browse: %w", len(ask), err)
	}
	for _, k := range ask {
		sg.Issues[k] = false
	}
	for _, ji := range got {
		sg.Issues[ji.Key] = true
	}
	return sg, nil
}

// sightOrKeep is sight for a single write that need not fail with it: when the Sight
// cannot be worked out (Jira unreachable for the check), everything p leaves out is kept,
// and the next refresh settles it.
func (s *sighter) sightOrKeep(ctx context.Context, p store.Page) *store.Sight {
	sg, err := s.sight(ctx, p)
	if err != nil {
		return &store.Sight{Issues: map[string]bool{}}
	}
	return sg
}

// mergeSight combines the sights of two pages read by the same identity.
func mergeSight(a, b *store.Sight) *store.Sight {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	if a.Projects == nil {
		a.Projects = b.Projects
	}
	for k, v := range b.Issues {
		a.Issues[k] = v
	}
	return a
}
