// Package examples embeds the sample Lens definitions (roadmap, sprint, bugs, finished) so that
// `foundation demo` can install them into a fresh cache, and documents them by example.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
)

//go:embed *.yaml
var files embed.FS

// File is one sample Lens: its file name and YAML source.
type File struct {
	Name string // e.g. "roadmap.yaml"
	Data []byte
}

// Files returns the sample Lenses in name order.
func Files() ([]File, error) {
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("examples: list: %w", err)
	}
	slices.Sort(names)
	out := make([]File, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("examples: read %s: %w", n, err)
		}
		out = append(out, File{Name: n, Data: b})
	}
	return out, nil
}
