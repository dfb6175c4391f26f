package cli

import (
	"strings"
	"testing"
)

func TestExportRenderOptions(t *testing.T) {
	tests := []struct {
		depth   int
		expand  string
		want    int
		wantErr string
	}{
		{0, "all", 0, ""},
		{3, "all", 3, ""},
		{0, "0", 1, ""},
		{0, "2", 3, ""},
		{2, "5", 2, ""}, // the shallower wins
		{5, "1", 2, ""},
		{-1, "all", 0, "must not be negative"},
		{0, "-1", 0, "want all or a number"},
		{0, "deep", 0, "want all or a number"},
	}
	for _, tc := range tests {
		got, err := exportFlags{depth: tc.depth, expand: tc.expand}.renderOptions()
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("--depth %d --expand %s: error %v, want %q", tc.depth, tc.expand, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got.Depth != tc.want):
			t.Errorf("--depth %d --expand %s: depth %d (%v), want %d", tc.depth, tc.expand, got.Depth, err, tc.want)
		}
	}
}
