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

// profileCache loads the config, picks the profile and opens its cache, without reading the
// token or calling Jira: what every command that works from the cache alone needs. The
// caller closes the cache.
func (g *globals) profileCache(ctx context.Context) (*config.Config, *config.Site, *store.DB, error) {
	cfg, _, err := g.loadConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	site, err := g.pickSite(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := openCache(ctx, site)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, site, db, nil
}
