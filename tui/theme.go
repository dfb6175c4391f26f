package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Theme is the app's semantic styles, resolved once from the terminal background (and again
// only if the terminal reports a new one). With NoColor every Render returns the text as is:
// the cursor row stays findable through the "▌" gutter, which is text, not style.
type Theme struct {
	NoColor bool
	Dark    bool

	Title, Header, HeaderCursor, Cursor, Guide, Muted, Accent, Good, Warn, Bad,
	Match, Flash, Error, Status, StatusKey, Selected, Border lipgloss.Style
	// Pending is a value being written to Jira; Marked the multi-select mark.
	Pending, Marked lipgloss.Style

	// sgr caches each style's escape sequences. Rendering through lipgloss per cell is the
	// bulk of a frame's cost; wrapping text in a cached prefix and suffix is a concatenation.
	sgr map[sgrKey]sgrPair
}

type sgrKey struct {
	named string // a fixed style by name, or "" for a cell style
	cell  Cell   // Text unused
}

type sgrPair struct{ pre, post string }

// paint renders text with a style through the escape-sequence cache.
func (t *Theme) paint(k sgrKey, st func() lipgloss.Style, text string) string {
	if t.NoColor || text == "" {
		return text
	}
	p, ok := t.sgr[k]
	if !ok {
		r := st().Render("X")
		i := strings.Index(r, "X") // SGR sequences never contain X
		p = sgrPair{r[:i], r[i+1:]}
		if t.sgr == nil {
			t.sgr = map[sgrKey]sgrPair{}
		}
		t.sgr[k] = p
	}
	return p.pre + text + p.post
}

// paintNamed renders text with one of the theme's fixed styles, cached by name.
func (t *Theme) paintNamed(name string, s lipgloss.Style, text string) string {
	return t.paint(sgrKey{named: name}, func() lipgloss.Style { return s }, text)
}

// NoColorEnv reports whether the NO_COLOR convention asks for no color: any non-empty value.
func NoColorEnv(getenv func(string) string) bool { return getenv("NO_COLOR") != "" }

// NewTheme resolves the palette for a dark or light background.
func NewTheme(dark, noColor bool) *Theme {
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) lipgloss.Style {
		return lipgloss.NewStyle().Foreground(ld(lipgloss.Color(light), lipgloss.Color(darkc)))
	}
	bg := func(light, darkc string) lipgloss.Style {
		return lipgloss.NewStyle().Background(ld(lipgloss.Color(light), lipgloss.Color(darkc)))
	}
	t := &Theme{NoColor: noColor, Dark: dark}
	t.Title = c("#5A3FC0", "#B9A7FF").Bold(true)
	t.Header = c("#555555", "#A8A8A8").Bold(true)
	t.HeaderCursor = c("#5A3FC0", "#B9A7FF").Bold(true).Underline(true)
	t.Cursor = bg("#DCD3FF", "#3B2F73").Foreground(ld(lipgloss.Color("#000000"), lipgloss.Color("#FFFFFF")))
	t.Guide = c("#9A9A9A", "#5F5F5F")
	t.Muted = c("#8A8A8A", "#7A7A7A")
	t.Accent = c("#1F6FD1", "#6CB6FF")
	t.Good = c("#1A7F37", "#57D37A")
	t.Warn = c("#9A6700", "#E3B341")
	t.Bad = c("#CF222E", "#FF7B72")
	t.Match = bg("#FFE08A", "#6B5300")
	t.Flash = bg("#FFF1B8", "#4D3B00")
	t.Error = c("#CF222E", "#FF7B72").Bold(true)
	t.Status = bg("#E8E8E8", "#262626").Foreground(ld(lipgloss.Color("#333333"), lipgloss.Color("#D0D0D0")))
	t.StatusKey = bg("#E8E8E8", "#262626").Foreground(ld(lipgloss.Color("#5A3FC0"), lipgloss.Color("#B9A7FF"))).Bold(true)
	t.Selected = c("#5A3FC0", "#B9A7FF").Bold(true)
	t.Border = c("#BBBBBB", "#444444")
	t.Pending = c("#9A6700", "#E3B341").Italic(true).Underline(true)
	t.Marked = c("#5A3FC0", "#B9A7FF").Bold(true)
	return t
}

// Render applies s to text unless colors are off.
func (t *Theme) Render(s lipgloss.Style, text string) string {
	if t.NoColor || text == "" {
		return text
	}
	return s.Render(text)
}

func (t *Theme) tone(tn Tone) lipgloss.Style {
	switch tn {
	case ToneMuted:
		return t.Muted
	case ToneAccent:
		return t.Accent
	case ToneGood:
		return t.Good
	case ToneWarn:
		return t.Warn
	case ToneBad:
		return t.Bad
	}
	return lipgloss.NewStyle()
}

// renderCell draws an already padded cell with its tone, explicit colors and the search
// query highlighted.
func (t *Theme) renderCell(c Cell, padded, query string) string {
	if t.NoColor {
		return padded
	}
	c.Text = ""
	st := func() lipgloss.Style {
		st := t.tone(c.Tone)
		st = st.Bold(c.Bold).Italic(c.Italic).Underline(c.Underline).Faint(c.Faint).Strikethrough(c.Strike)
		if c.FG != "" {
			st = st.Foreground(lipgloss.Color(c.FG))
		}
		if c.BG != "" {
			st = st.Background(lipgloss.Color(c.BG))
		}
		return st
	}
	k := sgrKey{cell: c}
	if query != "" {
		lp, lq := strings.ToLower(padded), strings.ToLower(query)
		if i := strings.Index(lp, lq); i >= 0 && len(lp) == len(padded) {
			j := i + len(query)
			return t.paint(k, st, padded[:i]) + t.paintNamed("match", t.Match, padded[i:j]) + t.paint(k, st, padded[j:])
		}
	}
	return t.paint(k, st, padded)
}
