package jira

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestADFText(t *testing.T) {
	p := func(inline ...string) string {
		return `{"type":"paragraph","content":[` + strings.Join(inline, ",") + `]}`
	}
	txt := func(s string) string { return `{"type":"text","text":` + strconvQuote(s) + `}` }
	doc := func(blocks ...string) string {
		return `{"type":"doc","version":1,"content":[` + strings.Join(blocks, ",") + `]}`
	}
	li := func(blocks ...string) string {
		return `{"type":"listItem","content":[` + strings.Join(blocks, ",") + `]}`
	}
	tests := []struct {
		name, in, want string
	}{
		{"null", `null`, ""},
		{"empty", ``, ""},
		{"wiki string", `"h1. Title\n*bold*"`, "h1. Title\n*bold*"},
		{"not json", `plain words`, "plain words"},
		{"paragraphs", doc(p(txt("one")), p(txt("two "), txt("more"))), "one\n\ntwo more"},
		{"hard break", doc(p(txt("a"), `{"type":"hardBreak"}`, txt("b"))), "a\nb"},
		{"heading", doc(`{"type":"heading","attrs":{"level":2},"content":[`+txt("Plan")+`]}`, p(txt("body"))), "Plan\n\nbody"},
		{"link", doc(p(`{"type":"text","text":"docs","marks":[{"type":"link","attrs":{"href":"https://x.dev"}}]}`)), "docs (https://x.dev)"},
		{"link same as text", doc(p(`{"type":"text","text":"https://x.dev","marks":[{"type":"strong"},{"type":"link","attrs":{"href":"https://x.dev"}}]}`)), "https://x.dev"},
		{"mention", doc(p(txt("ping "), `{"type":"mention","attrs":{"id":"abc","text":"@Alice"}}`)), "ping @Alice"},
		{"mention without @", doc(p(`{"type":"mention","attrs":{"id":"abc","text":"Bob"}}`)), "@Bob"},
		{"emoji date status", doc(p(`{"type":"emoji","attrs":{"shortName":":smile:","text":"😄"}}`, txt(" "), `{"type":"date","attrs":{"timestamp":"1767225600000"}}`, txt(" "), `{"type":"status","attrs":{"text":"DONE","color":"green"}}`)), "😄 2026-01-01 [DONE]"},
		{"bullet list", doc(`{"type":"bulletList","content":[` + li(p(txt("a"))) + `,` + li(p(txt("b"))) + `]}`), "- a\n- b"},
		{"ordered nested", doc(`{"type":"orderedList","attrs":{"order":3},"content":[` + li(p(txt("x")), `{"type":"bulletList","content":[`+li(p(txt("y")))+`]}`) + `]}`), "3. x\n   - y"},
		{"code", doc(`{"type":"codeBlock","attrs":{"language":"go"},"content":[` + txt("a := 1\nb := 2") + `]}`), "    a := 1\n    b := 2"},
		{"quote", doc(`{"type":"blockquote","content":[` + p(txt("said")) + `,` + p(txt("twice")) + `]}`), "> said\n>\n> twice"},
		{"rule", doc(p(txt("a")), `{"type":"rule"}`, p(txt("b"))), "a\n\n---\n\nb"},
		{"panel", doc(`{"type":"panel","attrs":{"panelType":"warning"},"content":[` + p(txt("careful")) + `]}`), "WARNING: careful"},
		{"table", doc(`{"type":"table","content":[{"type":"tableRow","content":[{"type":"tableHeader","content":[` + p(txt("Key")) + `]},{"type":"tableHeader","content":[` + p(txt("Sum")) + `]}]},{"type":"tableRow","content":[{"type":"tableCell","content":[` + p(txt("A-1")) + `]},{"type":"tableCell","content":[` + p(txt("x")) + `,` + p(txt("y")) + `]}]}]}`), "Key | Sum\nA-1 | x y"},
		{"tasks", doc(`{"type":"taskList","content":[{"type":"taskItem","attrs":{"state":"DONE"},"content":[` + txt("ship") + `]},{"type":"taskItem","attrs":{"state":"TODO"},"content":[` + txt("test") + `]}]}`), "[x] ship\n[ ] test"},
		{"media and cards", doc(`{"type":"mediaSingle","content":[{"type":"media","attrs":{"type":"file","id":"1"}}]}`, p(`{"type":"inlineCard","attrs":{"url":"https://a.b/c"}}`), `{"type":"blockCard","attrs":{"url":"https://d.e"}}`), "[attachment]\n\nhttps://a.b/c\n\nhttps://d.e"},
		{"expand", doc(`{"type":"expand","attrs":{"title":"More"},"content":[` + p(txt("hidden")) + `]}`), "More\nhidden"},
		{"unknown block degrades", doc(`{"type":"fancyWidget","content":[` + p(txt("inside")) + `]}`), "inside"},
		{"unknown inline degrades", doc(p(`{"type":"sparkle","text":"✨"}`)), "✨"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ADFText(json.RawMessage(tt.in)); got != tt.want {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestADFDeepNestingBounded(t *testing.T) {
	deep := strings.Repeat(`{"type":"blockquote","content":[`, 5000) + `{"type":"text","text":"x"}` + strings.Repeat(`]}`, 5000)
	_ = ADFText(json.RawMessage(deep)) // must return, not exhaust the stack
}

func FuzzADFText(f *testing.F) {
	f.Add([]byte(`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}`))
	f.Add([]byte(`{"type":"doc","content":[{"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]}]}]}]}`))
	f.Add([]byte(`{"type":"table","content":[{"type":"tableRow","content":[{"type":"tableCell","content":[]}]}]}`))
	f.Add([]byte(`"wiki"`))
	f.Add([]byte(`{"type":"date","attrs":{"timestamp":12}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out := ADFText(doc)
		if utf8.Valid(doc) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 input gave invalid output %q", out)
		}
	})
}
