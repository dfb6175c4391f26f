package jira

// Atlassian Document Format (the v3 rich text of descriptions and comments) rendered as plain
// text for table cells, previews and exports.

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

type adfNode struct {
	Type    string         `json:"type"`
	Text    string         `json:"text"`
	Attrs   map[string]any `json:"attrs"`
	Marks   []adfMark      `json:"marks"`
	Content []adfNode      `json:"content"`
}

type adfMark struct {
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attrs"`
}

// maxADFDepth stops pathological nesting; real documents are a few levels deep.
const maxADFDepth = 100

// ADFText renders an ADF document as readable plain text: paragraphs separated by blank lines,
// headings, "- " and "1. " lists, indented code, "> " quotes, @mentions, links as
// "text (url)", tables as " | "-separated rows, panels, task lists; unknown nodes degrade to
// their text. A JSON string (Data Center and v2 wiki markup) comes back as is, null as "", and
// anything that is not JSON as its raw text.
func ADFText(doc json.RawMessage) string {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || string(doc) == "null" {
		return ""
	}
	if doc[0] == '"' {
		var s string
		if json.Unmarshal(doc, &s) == nil {
			return s
		}
	}
	var n adfNode
	if doc[0] != '{' || json.Unmarshal(doc, &n) != nil {
		return string(doc)
	}
	return tidy(renderBlock(n, 0))
}

// tidy trims trailing spaces per line and blank lines at both ends.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

func attr(n map[string]any, key string) string {
	switch v := n[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// isInline reports whether a node flows inside a paragraph rather than standing as a block.
func isInline(t string) bool {
	switch t {
	case "text", "hardBreak", "mention", "emoji", "date", "status", "inlineCard", "placeholder", "inlineExtension", "mediaInline":
		return true
	}
	return false
}

// renderBlocks renders children as blocks separated by sep; runs of inline children (which
// appear where a schema is loose) are joined into one block.
func renderBlocks(nodes []adfNode, depth int, sep string) string {
	var parts []string
	var inline strings.Builder
	flush := func() {
		if inline.Len() > 0 {
			parts = append(parts, inline.String())
			inline.Reset()
		}
	}
	for _, c := range nodes {
		if isInline(c.Type) {
			inline.WriteString(renderInline(c, depth+1))
			continue
		}
		flush()
		if s := renderBlock(c, depth+1); strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	flush()
	return strings.Join(parts, sep)
}

func renderInlines(nodes []adfNode, depth int) string {
	var b strings.Builder
	for _, c := range nodes {
		if isInline(c.Type) {
			b.WriteString(renderInline(c, depth+1))
		} else {
			b.WriteString(renderBlock(c, depth+1))
		}
	}
	return b.String()
}

func renderInline(n adfNode, depth int) string {
	if depth > maxADFDepth {
		return ""
	}
	switch n.Type {
	case "text":
		for _, m := range n.Marks {
			if m.Type == "link" {
				if href := attr(m.Attrs, "href"); href != "" && href != n.Text {
					return n.Text + " (" + href + ")"
				}
			}
		}
		return n.Text
	case "hardBreak":
		return "\n"
	case "mention":
		t := attr(n.Attrs, "text")
		if t == "" {
			t = attr(n.Attrs, "id")
		}
		if t != "" && !strings.HasPrefix(t, "@") {
			t = "@" + t
		}
		return t
	case "emoji":
		if t := attr(n.Attrs, "text"); t != "" {
			return t
		}
		return attr(n.Attrs, "shortName")
	case "date":
		ts, err := strconv.ParseInt(attr(n.Attrs, "timestamp"), 10, 64)
		if err != nil {
			return attr(n.Attrs, "timestamp")
		}
		return time.UnixMilli(ts).UTC().Format("2006-01-02")
	case "status":
		return "[" + attr(n.Attrs, "text") + "]"
	case "inlineCard":
		return attr(n.Attrs, "url")
	case "placeholder":
		return ""
	}
	if n.Text != "" {
		return n.Text
	}
	return renderInlines(n.Content, depth)
}

func renderBlock(n adfNode, depth int) string {
	if depth > maxADFDepth {
		return ""
	}
	switch n.Type {
	case "doc", "blockquote", "panel", "layoutSection", "layoutColumn", "bodiedExtension", "mediaSingle", "mediaGroup":
		body := renderBlocks(n.Content, depth, "\n\n")
		switch n.Type {
		case "blockquote":
			return prefixLines(body, "> ", "> ")
		case "panel":
			if kind := attr(n.Attrs, "panelType"); kind != "" {
				return prefixLines(body, strings.ToUpper(kind)+": ", "")
			}
		case "mediaSingle", "mediaGroup":
			if strings.TrimSpace(body) == "" {
				return "[attachment]"
			}
		}
		return body
	case "paragraph":
		return renderInlines(n.Content, depth)
	case "heading":
		return renderInlines(n.Content, depth)
	case "codeBlock":
		return prefixLines(renderInlines(n.Content, depth), "    ", "    ")
	case "rule":
		return "---"
	case "bulletList":
		return renderList(n.Content, depth, func(int) string { return "- " })
	case "orderedList":
		start := 1
		if s, err := strconv.Atoi(attr(n.Attrs, "order")); err == nil && s > 0 {
			start = s
		}
		return renderList(n.Content, depth, func(i int) string { return strconv.Itoa(start+i) + ". " })
	case "taskList":
		return renderList(n.Content, depth, func(int) string { return "" })
	case "decisionList":
		return renderList(n.Content, depth, func(int) string { return "" })
	case "taskItem":
		box := "[ ] "
		if attr(n.Attrs, "state") == "DONE" {
			box = "[x] "
		}
		return box + renderBlocks(n.Content, depth, "\n")
	case "decisionItem":
		return "Decision: " + renderBlocks(n.Content, depth, "\n")
	case "listItem":
		return renderBlocks(n.Content, depth, "\n")
	case "table":
		rows := make([]string, 0, len(n.Content))
		for _, r := range n.Content {
			if depth+1 > maxADFDepth {
				break
			}
			cells := make([]string, 0, len(r.Content))
			for _, c := range r.Content {
				cells = append(cells, strings.Join(strings.Fields(renderBlocks(c.Content, depth+2, " ")), " "))
			}
			rows = append(rows, strings.Join(cells, " | "))
		}
		return strings.Join(rows, "\n")
	case "expand", "nestedExpand":
		body := renderBlocks(n.Content, depth, "\n\n")
		if title := attr(n.Attrs, "title"); title != "" {
			return title + "\n" + body
		}
		return body
	case "media":
		if alt := attr(n.Attrs, "alt"); alt != "" {
			return "[" + alt + "]"
		}
		return "[attachment]"
	case "blockCard", "embedCard":
		return attr(n.Attrs, "url")
	}
	if isInline(n.Type) {
		return renderInline(n, depth)
	}
	// Unknown block: keep whatever text it holds.
	if n.Text != "" {
		return n.Text
	}
	return renderBlocks(n.Content, depth, "\n\n")
}

// renderList renders list items, marking the first line of each and indenting the rest so
// nested lists stay readable.
func renderList(items []adfNode, depth int, marker func(int) string) string {
	lines := make([]string, 0, len(items))
	for i, it := range items {
		m := marker(i)
		lines = append(lines, prefixLines(renderBlock(it, depth+1), m, strings.Repeat(" ", len(m))))
	}
	return strings.Join(lines, "\n")
}

func prefixLines(s, first, rest string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = first + lines[i]
		} else {
			lines[i] = rest + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}
