package config

import (
	"testing"

	"github.com/goccy/go-yaml/parser"
)

// BenchmarkParse measures loading a config with every feature in use. The floor is go-yaml
// parsing the same bytes to a syntax tree, which Parse does first: the ratio is the cost of
// walking, validating and locating problems on top of plain YAML parsing.
func BenchmarkParse(b *testing.B) {
	data := []byte(fullConfig)
	b.Run("floor=yaml-parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parser.ParseBytes(data, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse("config.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
