// Command ansipng renders a terminal capture with ANSI colors (tmux capture-pane -e -p) to a
// PNG, one monospace cell per character, so README screenshots come from real runs. It is
// its own module so that the font library never becomes a dependency of Foundation.
//
//	ansipng -in screen.ans -out screen.png -cols 120 -rows 36 \
//	    -font /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf \
//	    -bold /usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ansipng:", err)
		os.Exit(1)
	}
}

func run() error {
	in := flag.String("in", "", "ANSI capture to read")
	out := flag.String("out", "", "PNG to write")
	cols := flag.Int("cols", 120, "terminal width in cells")
	rows := flag.Int("rows", 36, "terminal height in cells")
	regular := flag.String("font", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", "monospace TTF")
	boldPath := flag.String("bold", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf", "bold monospace TTF")
	size := flag.Float64("size", 15, "font size in pixels")
	flag.Parse()
	if *in == "" || *out == "" {
		return errors.New("-in and -out are required")
	}
	src, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	face, err := loadFace(*regular, *size)
	if err != nil {
		return err
	}
	bold, err := loadFace(*boldPath, *size)
	if err != nil {
		return err
	}
	grid := parse(string(src), *cols, *rows)
	img := render(grid, face, bold)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := png.Encode(w, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", *out, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func loadFace(path string, size float64) (font.Face, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	ft, err := opentype.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("font %s: %w", path, err)
	}
	return opentype.NewFace(ft, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

// style is the SGR state of a cell.
type style struct {
	fg, bg          color.Color // nil: the terminal default
	bold, faint     bool
	italic, reverse bool
	underline       bool
}

type cell struct {
	r rune
	style
}

// The palette of the image: a dark terminal (the colors of a common dark theme).
var (
	defaultFG = color.RGBA{0xd8, 0xde, 0xe9, 0xff}
	defaultBG = color.RGBA{0x1e, 0x22, 0x2a, 0xff}
	ansi16    = [16]color.RGBA{
		{0x3b, 0x42, 0x52, 0xff}, {0xbf, 0x61, 0x6a, 0xff}, {0xa3, 0xbe, 0x8c, 0xff}, {0xeb, 0xcb, 0x8b, 0xff},
		{0x81, 0xa1, 0xc1, 0xff}, {0xb4, 0x8e, 0xad, 0xff}, {0x88, 0xc0, 0xd0, 0xff}, {0xe5, 0xe9, 0xf0, 0xff},
		{0x4c, 0x56, 0x6a, 0xff}, {0xd0, 0x87, 0x70, 0xff}, {0xb5, 0xd1, 0x9e, 0xff}, {0xf0, 0xd3, 0x99, 0xff},
		{0x8f, 0xbc, 0xbb, 0xff}, {0xc8, 0x9e, 0xc4, 0xff}, {0x9c, 0xd5, 0xe2, 0xff}, {0xec, 0xef, 0xf4, 0xff},
	}
)

// xterm256 maps a 256-color index to RGB.
func xterm256(n int) color.Color {
	switch {
	case n < 16:
		return ansi16[n]
	case n < 232:
		n -= 16
		level := func(v int) uint8 {
			if v == 0 {
				return 0
			}
			return uint8(55 + 40*v)
		}
		return color.RGBA{level(n / 36), level(n / 6 % 6), level(n % 6), 0xff}
	default:
		v := uint8(8 + 10*(n-232))
		return color.RGBA{v, v, v, 0xff}
	}
}

// parse lays the capture out on a cols x rows grid, applying SGR sequences and skipping
// any other escape sequence.
func parse(src string, cols, rows int) [][]cell {
	grid := make([][]cell, rows)
	for i := range grid {
		grid[i] = make([]cell, cols)
		for j := range grid[i] {
			grid[i][j].r = ' '
		}
	}
	var st style
	lines := strings.Split(strings.ReplaceAll(src, "\r", ""), "\n")
	for y, line := range lines {
		if y >= rows {
			break
		}
		x := 0
		rs := []rune(line)
		for i := 0; i < len(rs); i++ {
			r := rs[i]
			if r == 0x1b && i+1 < len(rs) && rs[i+1] == '[' {
				j := i + 2
				for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
					j++
				}
				if j < len(rs) && rs[j] == 'm' {
					st = applySGR(st, string(rs[i+2:j]))
				}
				i = j
				continue
			}
			if r == 0x1b {
				// Another escape (OSC, charset...): skip to its end.
				j := i + 1
				for j < len(rs) && rs[j] != 0x07 && !(rs[j] == '\\' && rs[j-1] == 0x1b) && rs[j] != 'm' {
					j++
				}
				i = j
				continue
			}
			if x < cols {
				grid[y][x] = cell{r: r, style: st}
			}
			x++
		}
	}
	return grid
}

func applySGR(st style, params string) style {
	if params == "" {
		return style{}
	}
	ps := strings.Split(params, ";")
	num := func(i int) int {
		if i >= len(ps) {
			return 0
		}
		n, _ := strconv.Atoi(strings.SplitN(ps[i], ":", 2)[0])
		return n
	}
	for i := 0; i < len(ps); i++ {
		p := num(i)
		switch {
		case p == 0:
			st = style{}
		case p == 1:
			st.bold = true
		case p == 2:
			st.faint = true
		case p == 3:
			st.italic = true
		case p == 4:
			st.underline = true
		case p == 7:
			st.reverse = true
		case p == 22:
			st.bold, st.faint = false, false
		case p == 23:
			st.italic = false
		case p == 24:
			st.underline = false
		case p == 27:
			st.reverse = false
		case p >= 30 && p <= 37:
			st.fg = ansi16[p-30]
		case p >= 90 && p <= 97:
			st.fg = ansi16[p-90+8]
		case p >= 40 && p <= 47:
			st.bg = ansi16[p-40]
		case p >= 100 && p <= 107:
			st.bg = ansi16[p-100+8]
		case p == 39:
			st.fg = nil
		case p == 49:
			st.bg = nil
		case p == 38 || p == 48:
			var c color.Color
			switch num(i + 1) {
			case 5:
				c = xterm256(num(i + 2))
				i += 2
			case 2:
				c = color.RGBA{uint8(num(i + 2)), uint8(num(i + 3)), uint8(num(i + 4)), 0xff}
				i += 4
			}
			if p == 38 {
				st.fg = c
			} else {
				st.bg = c
			}
		}
	}
	return st
}

func render(grid [][]cell, face, bold font.Face) *image.RGBA {
	m := face.Metrics()
	adv, _ := face.GlyphAdvance('M')
	cw := adv.Ceil()
	ch := (m.Ascent + m.Descent).Ceil() + 2
	const pad = 12
	rows, cols := len(grid), len(grid[0])
	img := image.NewRGBA(image.Rect(0, 0, cols*cw+2*pad, rows*ch+2*pad))
	draw.Draw(img, img.Bounds(), image.NewUniform(defaultBG), image.Point{}, draw.Src)
	for y, row := range grid {
		for x, c := range row {
			fg, bg := c.fg, c.bg
			if fg == nil {
				fg = defaultFG
			}
			if c.reverse {
				fg, bg = orDefault(bg, defaultBG), fg
			}
			if c.faint {
				fg = blend(fg, defaultBG)
			}
			x0, y0 := pad+x*cw, pad+y*ch
			if bg != nil {
				draw.Draw(img, image.Rect(x0, y0, x0+cw, y0+ch), image.NewUniform(bg), image.Point{}, draw.Src)
			}
			if c.r != ' ' {
				f := face
				if c.bold {
					f = bold
				}
				d := font.Drawer{Dst: img, Src: image.NewUniform(fg), Face: f,
					Dot: fixed.P(x0, y0+1+m.Ascent.Ceil())}
				d.DrawString(string(c.r))
			}
			if c.underline {
				draw.Draw(img, image.Rect(x0, y0+ch-2, x0+cw, y0+ch-1), image.NewUniform(fg), image.Point{}, draw.Src)
			}
		}
	}
	return img
}

func orDefault(c color.Color, d color.Color) color.Color {
	if c == nil {
		return d
	}
	return c
}

// blend halves the way from c to the background, as terminals draw faint text.
func blend(c, bg color.Color) color.Color {
	r1, g1, b1, _ := c.RGBA()
	r2, g2, b2, _ := bg.RGBA()
	return color.RGBA{uint8((r1 + r2) >> 9), uint8((g1 + g2) >> 9), uint8((b1 + b2) >> 9), 0xff}
}
