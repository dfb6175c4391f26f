package jql

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind says which member of a Value holds its content.
type Kind uint8

// The kinds of field values.
const (
	String Kind = iota // Str, with optional other spellings in Alt
	Number             // Num
	Time               // Time; for duedate only the calendar date (in Time's own zone) counts
)

// Value is one value of a field on a record. A string value may be known by several
// spellings, all equally valid in JQL: a project by key ("ALPHA"), name ("Alpha") and id
// ("10000"); a user by accountId or name, display name and email; a sprint by name and id.
// Str is the primary spelling (used for ORDER BY), Alt the others. Equality on strings is
// case-insensitive, as in Jira.
type Value struct {
	Kind Kind
	Str  string
	Alt  []string
	Num  float64
	Time time.Time
}

// StringValue returns a string Value with optional alternative spellings.
func StringValue(s string, alt ...string) Value {
	return Value{Kind: String, Str: s, Alt: alt}
}

// NumberValue returns a number Value.
func NumberValue(f float64) Value { return Value{Kind: Number, Num: f} }

// TimeValue returns a time Value.
func TimeValue(t time.Time) Value { return Value{Kind: Time, Time: t} }

// Record gives the evaluator access to one issue's fields. field is always a canonical
// name: "project", "key", "id", "issuetype", "status", "statuscategory", "assignee",
// "reporter", "priority", "labels", "component", "fixversion", "sprint", "parent",
// "epic link", "summary", "description", "text", "created", "updated", "duedate",
// "resolution", "resolutiondate", "story points", "rank" (ORDER BY only) and "cf[NNNNN]"
// for custom fields.
//
// Values returns nil (or an empty slice) when the field is empty; a single String value
// with Str == "" and no Alt counts as empty too. Multi-valued fields (labels, component,
// fixversion, sprint) return one Value each. "text" is extra searchable text (comments,
// say): "text ~ x" searches summary, description and text. "statuscategory" should be
// Jira's category key ("new", "indeterminate", "done") or name. The evaluator never keeps
// or modifies the returned slice, so an implementation may return shared storage; to keep
// evaluation allocation-free, it should not allocate either.
type Record interface {
	Values(field string) []Value
}

// isEmpty reports whether vals holds no value.
func isEmpty(vals []Value) bool {
	for i := range vals {
		v := &vals[i]
		if v.Kind != String || v.Str != "" || len(v.Alt) > 0 {
			return false
		}
	}
	return true
}

// minuteOf is the minute a time falls in, as a count since the epoch: JQL compares dates at
// minute precision.
func minuteOf(t time.Time) int64 {
	u := t.Unix()
	if u < 0 && u%60 != 0 {
		return u/60 - 1
	}
	return u / 60
}

// containsFold reports whether hay contains needle, ignoring case. needle must already be
// lower case. ASCII text takes an allocation-free path.
func containsFold(hay, needle string) bool {
	if needle == "" {
		return true
	}
	if !isASCII(hay) || !isASCII(needle) {
		return containsFoldUnicode(hay, needle)
	}
	n := len(needle)
	first := needle[0]
	for i := 0; i+n <= len(hay); i++ {
		if lowerASCII(hay[i]) != first {
			continue
		}
		j := 1
		for j < n && lowerASCII(hay[i+j]) == needle[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// containsFoldUnicode compares rune by rune with simple case folding, trying each start.
func containsFoldUnicode(hay, needle string) bool {
	for i := 0; i < len(hay); {
		if hasPrefixFold(hay[i:], needle) {
			return true
		}
		_, w := utf8.DecodeRuneInString(hay[i:])
		i += w
	}
	return false
}

func hasPrefixFold(s, lowerPrefix string) bool {
	for _, pr := range lowerPrefix {
		if s == "" {
			return false
		}
		r, w := utf8.DecodeRuneInString(s)
		if unicode.ToLower(r) != pr {
			return false
		}
		s = s[w:]
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// compareFold orders two strings ignoring case, without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, wa := utf8.DecodeRuneInString(a)
		rb, wb := utf8.DecodeRuneInString(b)
		la, lb := unicode.ToLower(ra), unicode.ToLower(rb)
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[wa:], b[wb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}
