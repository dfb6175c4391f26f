package tui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"foundation/lens"
)

// issueRef is an issue with the shown row it sits on.
type issueRef struct {
	*lens.Issue
	row int
}

// renderDetail draws the detail pane for the cursor row: fields, parent path, description
// and links, wrapped to w cells.
func (a *App) renderDetail(w, h int) string {
	ls := a.lens
	t := ls.table.Tree()
	row := ls.table.CursorRow()
	if row < 0 || h <= 0 {
		return ""
	}
	w = max(w, 10)
	var b []string
	add := func(label, value string) {
		if value == "" {
			return
		}
		b = append(b, a.th.Render(a.th.Muted, pad(label, 10, false))+" "+value)
	}
	// The tree path: what the row sits under in this Lens.
	var path []string
	for p := t.Parent(row); p >= 0; p = t.Parent(p) {
		path = append([]string{strings.TrimSpace(t.Cell(p, 0).Text)}, path...)
	}
	r := ls.issueAt(row)
	if r == nil {
		b = append(b, a.th.Render(a.th.Selected, t.Cell(row, 0).Text))
		var kids int
		for j := row + 1; j < t.End(row); j = t.End(j) {
			kids++
		}
		add("Children", strconv.Itoa(kids))
		add("Rows", strconv.Itoa(t.End(row)-row-1))
		add("Under", strings.Join(path, " › "))
		return strings.Join(b, "\n")
	}
	is := r.Issue
	if is.Fields == nil && ls.built.Detail != nil {
		// The Lens was built without raw field JSON (it needs none); the pane does.
		if full := ls.built.Detail(is.Key); full != nil {
			is = full
		}
	}
	b = append(b, a.th.Render(a.th.Selected, is.Key)+"  "+is.Type+" · "+is.Status)
	b = append(b, strings.Split(ansi.Wordwrap(is.Summary, w, ""), "\n")...)
	b = append(b, "")
	add("Under", strings.Join(path, " › "))
	if ls.built.Sees == nil || ls.built.Sees(is.Parent) {
		add("Parent", is.Parent)
	}
	add("Priority", is.Priority)
	user := func(id string) string {
		if ls.built.UserName != nil && id != "" {
			return ls.built.UserName(id)
		}
		return id
	}
	add("Assignee", user(is.Assignee))
	add("Reporter", user(is.Reporter))
	add("Resolution", is.Resolution)
	add("Labels", strings.Join(is.Labels, ", "))
	if is.StoryPoints != nil {
		add("Points", strconv.FormatFloat(*is.StoryPoints, 'f', -1, 64))
	}
	add("Due", is.DueDate)
	add("Security", is.SecurityLevel)
	if !is.Created.IsZero() {
		add("Created", is.Created.Format("2006-01-02 15:04"))
	}
	if !is.Updated.IsZero() {
		add("Updated", is.Updated.Format("2006-01-02 15:04")+" ("+a.age(is.Updated)+")")
	}
	if raw, ok := is.Fields["description"]; ok {
		text := ""
		if ls.built.Text != nil {
			text = ls.built.Text(raw)
		} else {
			text = adfText(raw)
		}
		if text = strings.TrimSpace(text); text != "" {
			b = append(b, "", a.th.Render(a.th.Header, "Description"))
			b = append(b, strings.Split(ansi.Wrap(text, w, ""), "\n")...)
		}
	}
	if ls.built.Links != nil {
		if links := ls.built.Links(is.Key); len(links) > 0 {
			b = append(b, "", a.th.Render(a.th.Header, "Links"))
			for _, l := range links {
				if l.From == is.Key {
					b = append(b, fmt.Sprintf("  %s %s", l.Outward, l.To))
				} else {
					b = append(b, fmt.Sprintf("  %s %s", l.Inward, l.From))
				}
			}
		}
	}
	for i := range b {
		b[i] = ansi.Truncate(b[i], w, "…")
	}
	return strings.Join(b, "\n")
}

// adfText renders a field's raw JSON as text: a JSON string as is, an Atlassian Document
// Format tree by its text nodes, with paragraphs, headings and list items on their own lines.
func adfText(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	var b strings.Builder
	var walk func(n any, prefix string)
	walk = func(n any, prefix string) {
		switch n := n.(type) {
		case string:
			b.WriteString(n)
		case []any:
			for _, c := range n {
				walk(c, prefix)
			}
		case map[string]any:
			typ, _ := n["type"].(string)
			switch typ {
			case "text":
				s, _ := n["text"].(string)
				b.WriteString(s)
				return
			case "hardBreak":
				b.WriteString("\n")
				return
			case "mention", "emoji", "status":
				if attrs, ok := n["attrs"].(map[string]any); ok {
					s, _ := attrs["text"].(string)
					b.WriteString(s)
				}
				return
			case "listItem":
				b.WriteString(prefix + "• ")
			}
			walk(n["content"], prefix)
			switch typ {
			case "paragraph", "heading", "codeBlock", "blockquote", "rule":
				b.WriteString("\n")
			}
		}
	}
	walk(v, "")
	return strings.TrimRight(b.String(), "\n")
}
