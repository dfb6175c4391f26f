package main

import (
	"image/color"
	"testing"
)

func TestParse(t *testing.T) {
	red := ansi16[1]
	for _, tc := range []struct {
		name, src string
		x, y      int
		want      cell
	}{
		{"plain", "ab", 1, 0, cell{r: 'b'}},
		{"basic fg", "\x1b[31mX", 0, 0, cell{r: 'X', style: style{fg: red}}},
		{"reset", "\x1b[31mX\x1b[0mY", 1, 0, cell{r: 'Y'}},
		{"256 bg", "\x1b[48;5;196mX", 0, 0, cell{r: 'X', style: style{bg: color.RGBA{255, 0, 0, 255}}}},
		{"true color and bold", "\x1b[1;38;2;1;2;3mX", 0, 0, cell{r: 'X', style: style{fg: color.RGBA{1, 2, 3, 255}, bold: true}}},
		{"second line", "a\n\x1b[7mb", 0, 1, cell{r: 'b', style: style{reverse: true}}},
		{"box drawing takes one cell each", "├─x", 2, 0, cell{r: 'x'}},
		{"other escapes skipped", "\x1b]0;title\x07z", 0, 0, cell{r: 'z'}},
		{"past the width dropped, not wrapped", "abcdef", 0, 1, cell{r: ' '}},
	} {
		g := parse(tc.src, 4, 2)
		if got := g[tc.y][tc.x]; got != tc.want {
			t.Errorf("%s: cell (%d,%d) = %+v, want %+v", tc.name, tc.x, tc.y, got, tc.want)
		}
	}
}

// FuzzParse: any capture lays out on the grid without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "\x1b[", "\x1b[38;5m", "\x1b[48;2;1mX", "\x1b]8;;\x1b\\", "a\nb\n\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g := parse(s, 5, 3)
		if len(g) != 3 || len(g[0]) != 5 {
			t.Fatalf("grid %dx%d, want 5x3", len(g[0]), len(g))
		}
	})
}
