package config

// edit.go saves a loaded config by editing the file it came from: only the profiles a
// command added, replaced or removed, and default_site, change. Every other line (comments,
// flow lists such as [j, ctrl+n], fields left at their defaults) stays as the user wrote it.

import (
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// lineEdit replaces lines [from, to) of a file with text (to == from inserts).
type lineEdit struct {
	from, to int
	text     string
}

// patch returns the file c was loaded from with c's changes applied, or false when the
// file's shape does not allow an edit in place (flow-style mappings, multi-line
// default_site, anchors a removed profile held) or the result would not read back as c:
// Marshal then renders the whole file afresh.
func patch(c *Config) ([]byte, bool) {
	if len(c.source) == 0 {
		return nil, false
	}
	src := string(c.source)
	if !strings.HasSuffix(src, "\n") {
		src += "\n"
	}
	old, err := Parse("config", []byte(src))
	if err != nil {
		return nil, false
	}
	f, err := parser.ParseBytes([]byte(src), parser.ParseComments)
	if err != nil || len(f.Docs) != 1 {
		return nil, false
	}
	top, ok := blockEntries(f.Docs[0].Body)
	if !ok {
		return nil, false
	}
	lines := strings.SplitAfter(src, "\n")
	lines = lines[:len(lines)-1] // the empty string after the final newline

	var edits []lineEdit
	var defaultEntry, sitesEntry *ast.MappingValueNode
	for _, e := range top {
		switch keyName(e) {
		case "default_site":
			defaultEntry = e
		case "sites":
			sitesEntry = e
		}
	}
	// next returns the 0-based line where the top-level entry after e starts, or the end.
	next := func(e *ast.MappingValueNode) int {
		i := slices.Index(top, e)
		if i+1 < len(top) {
			return line(top[i+1]) - 1
		}
		return len(lines)
	}

	if old.DefaultSite != c.DefaultSite {
		text := ""
		if c.DefaultSite != "" {
			b, err := yaml.Marshal(yaml.MapSlice{{Key: "default_site", Value: c.DefaultSite}})
			if err != nil {
				return nil, false
			}
			text = string(b)
		}
		switch {
		case defaultEntry == nil:
			edits = append(edits, lineEdit{line(top[0]) - 1, line(top[0]) - 1, text})
		case line(defaultEntry.Value) != line(defaultEntry):
			return nil, false
		default:
			// Only the line itself: the comments above it (often the file's own heading) stay.
			n := line(defaultEntry) - 1
			if cm := defaultEntry.Value.GetComment(); cm != nil && text != "" {
				text = strings.TrimSuffix(text, "\n") + " " + cm.String() + "\n"
			}
			edits = append(edits, lineEdit{n, n + 1, text})
		}
	}

	oldSites := map[string]*Site{}
	for _, s := range old.Sites {
		oldSites[s.Name] = s
	}
	var entries []*ast.MappingValueNode
	indent, insertAt, header := "  ", len(lines), ""
	switch {
	case sitesEntry == nil:
		header = "sites:\n"
	case isNull(sitesEntry.Value):
		if line(sitesEntry.Value) > line(sitesEntry) {
			return nil, false // `sites:` then `~` or `null` on its own line
		}
		insertAt = line(sitesEntry)
	default:
		if entries, ok = blockEntries(sitesEntry.Value); !ok {
			return nil, false
		}
		indent = strings.Repeat(" ", column(entries[0])-1)
	}
	for i, e := range entries {
		name := keyName(e)
		start, end := line(e)-1, next(sitesEntry)
		if i+1 < len(entries) {
			end = line(entries[i+1]) - 1
		}
		// Blank lines and comments at the profiles' own indent that end the block belong to
		// what follows; deeper comments (a commented-out field) belong to this profile.
		for end-1 > start && (isBlank(lines[end-1]) || isComment(lines[end-1]) && indentOf(lines[end-1]) <= len(indent)) {
			end--
		}
		insertAt = end
		now := c.Lookup(name)
		switch {
		case now == nil:
			// A removed profile takes the comments written just above it along.
			for start-1 >= line(sitesEntry) && isComment(lines[start-1]) && indentOf(lines[start-1]) == len(indent) {
				start--
			}
			edits = append(edits, lineEdit{start, end, ""})
		case siteText(now, indent) != siteText(oldSites[name], indent):
			edits = append(edits, lineEdit{start, end, siteText(now, indent)})
		}
	}
	added := strings.Builder{}
	added.WriteString(header)
	for _, s := range c.Sites {
		if oldSites[s.Name] == nil {
			added.WriteString(siteText(s, indent))
		}
	}
	if added.Len() > len(header) {
		edits = append(edits, lineEdit{insertAt, insertAt, added.String()})
	}

	// Apply from the bottom up so earlier line numbers stay valid; an insertion at the
	// line where a replaced range ends goes after it.
	slices.SortStableFunc(edits, func(a, b lineEdit) int { return b.from - a.from })
	for _, ed := range edits {
		lines = slices.Replace(lines, ed.from, ed.to, ed.text)
	}
	out := []byte(strings.Join(lines, ""))
	back, err := Parse("config", out)
	if err != nil || !sameConfig(back, c) {
		return nil, false
	}
	return out, true
}

// siteText renders one profile as an entry of the sites mapping, indented by indent.
func siteText(s *Site, indent string) string {
	b, err := yaml.MarshalWithOptions(yaml.MapSlice{{Key: s.Name, Value: siteYAML(s)}}, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return ""
	}
	lines := strings.SplitAfter(string(b), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = indent + l
		}
	}
	return strings.Join(lines, "")
}

// sameConfig reports whether a and b would be saved as the same file, comments aside.
func sameConfig(a, b *Config) bool {
	x, errX := render(a, nil)
	y, errY := render(b, nil)
	return errX == nil && errY == nil && string(x) == string(y)
}

// blockEntries returns the entries of a non-empty block-style mapping.
func blockEntries(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch v := n.(type) {
	case *ast.MappingNode:
		return v.Values, !v.IsFlowStyle && len(v.Values) > 0
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	}
	return nil, false
}

func keyName(e *ast.MappingValueNode) string {
	if tk := e.Key.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

func isNull(n ast.Node) bool {
	_, ok := n.(*ast.NullNode)
	return ok
}

func column(n ast.Node) int {
	if e, ok := n.(*ast.MappingValueNode); ok && e.Key != nil {
		n = e.Key
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Column
	}
	return 1
}

func isBlank(l string) bool   { return strings.TrimSpace(l) == "" }
func isComment(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "#") }
func indentOf(l string) int   { return len(l) - len(strings.TrimLeft(l, " ")) }
