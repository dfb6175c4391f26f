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
	st := t.tone(c.Tone)
	st = st.Bold(c.Bold).Italic(c.Italic).Underline(c.Underline).Faint(c.Faint).Strikethrough(c.Strike)
	if c.FG != "" {
		st = st.Foreground(lipgloss.Color(c.FG))
	}
	if c.BG != "" {
		st = st.Background(lipgloss.Color(c.BG))
	}
	if query != "" {
		if i := strings.Index(strings.ToLower(padded), strings.ToLower(query)); i >= 0 && len(strings.ToLower(padded)) == len(padded) {
			j := i + len(query)
			return st.Render(padded[:i]) + t.Match.Render(padded[i:j]) + st.Render(padded[j:])
		}
	}
	return st.Render(padded)
}
