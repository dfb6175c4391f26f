package cli

import (
	"context"

	"foundation/config"
	"foundation/store"
)

// openCache opens the per-site cache of a profile: one file per Jira host, shared by every
// profile of that site.
func openCache(ctx context.Context, site *config.Site) (*store.DB, error) {
	dir, err := config.CacheDir()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Path(dir, site.URL))
}
