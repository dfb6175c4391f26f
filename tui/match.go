package tui

import (
	"strings"
	"unicode"
)

// Match ranks, best first: how a query matched a name or label.
const (
	matchExact     = iota // the whole text
	matchPrefix           // the start of the text
	matchWordStart        // the start of one of its words (after a space, '-', '/', …)
	matchContains         // anywhere in it
	matchFuzzy            // its letters in order, scattered
	matchNone      = -1
)

// matchRank is how well q matches s, ignoring case: one of the match ranks, or matchNone.
// An empty query matches everything exactly.
func matchRank(q, s string) int {
	q = strings.ToLower(strings.TrimSpace(q))
	s = strings.ToLower(s)
	switch {
	case q == "" || q == s:
		return matchExact
	case strings.HasPrefix(s, q):
		return matchPrefix
	case wordStart(q, s):
		return matchWordStart
	case strings.Contains(s, q):
		return matchContains
	case fuzzy(q, s):
		return matchFuzzy
	}
	return matchNone
}

// bestRank is the best rank q gets against any of texts, matchNone when none matches.
func bestRank(q string, texts ...string) int {
	best := matchNone
	for _, s := range texts {
		if r := matchRank(q, s); r != matchNone && (best == matchNone || r < best) {
			best = r
		}
	}
	return best
}

// wordStart reports whether q (lower case) occurs in s (lower case) at the start of a word.
func wordStart(q, s string) bool {
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], q)
		if k < 0 {
			return false
		}
		at := i + k
		if at == 0 || !isWordRune(rune(s[at-1])) {
			return true
		}
		i = at + 1
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r >= 0x80 }

// wordsIn reports whether every word of q occurs in s as a substring, ignoring case: how
// descriptions and owners match, where scattered letters would match almost anything.
func wordsIn(q, s string) bool {
	words := strings.Fields(strings.ToLower(q))
	if len(words) == 0 {
		return true
	}
	s = strings.ToLower(s)
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
