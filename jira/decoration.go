package jira

import "bytes"

// Decoration names the members Jira adds to every object it nests in a field value for
// browsers and REST clients: "self" (the object's REST URL), "iconUrl" (statuses, types,
// priorities) and "avatarUrls" (users, projects: four URLs each). They are more than half of
// what Jira sends for an issue (≈5 KB for ≈2 KB of content). Issue fields as this package
// hands them over (search and bulk fetch pages, GetIssue, webhook payloads) leave them out:
// nothing here reads them, REST URLs come from the base URL, a terminal shows no images,
// and avatar URLs are personal data besides. A field's own name is never dropped, only
// members of objects inside field values, matched by their exact bytes.
var Decoration = []string{"self", "iconUrl", "avatarUrls"}

var quotedDecoration = func() [][]byte {
	out := make([][]byte, len(Decoration))
	for i, d := range Decoration {
		out[i] = []byte(`"` + d + `"`)
	}
	return out
}()

// isDecoration reports whether the quoted object key q is one of Decoration.
func isDecoration(q []byte) bool {
	for _, d := range quotedDecoration {
		if bytes.Equal(q, d) {
			return true
		}
	}
	return false
}

// StripDecoration appends the valid JSON value v to dst without Decoration members at any
// depth: what the page decoder does while it scans, for values that come another way.
// A key is found by its bytes: a quote that is not escaped, the name, the closing quote and
// (after any space) a colon can only be an object key in valid JSON, so v is searched, not
// parsed, and mostly copied in a few large pieces.
func StripDecoration(dst, v []byte) []byte {
	for {
		p, n := nextDecoration(v)
		if p < 0 {
			return append(dst, v...)
		}
		s := scanner{b: v, i: p + n}
		if s.expect(':') != nil || s.skip(1) != nil { // not valid JSON after all: keep it
			return append(dst, v...)
		}
		ve := s.i
		// Cut ",member" when a member comes before it (in v, or already in dst), else
		// "member," up to the next key, or the lone member.
		before := p - 1
		for before >= 0 && isSpace(v[before]) {
			before--
		}
		var prev byte
		if before >= 0 {
			prev = v[before]
		} else if i := lastNonSpace(dst); i >= 0 {
			prev = dst[i]
		}
		cutStart, cutEnd := p, ve
		if prev == ',' {
			if before >= 0 {
				cutStart = before
			} else { // the comma was copied already: take it back
				dst = dst[:lastNonSpace(dst)]
			}
		} else if next := s.peek(); next == ',' {
			cutEnd = s.i + 1
			for cutEnd < len(v) && isSpace(v[cutEnd]) {
				cutEnd++
			}
		}
		dst = append(dst, v[:cutStart]...)
		v = v[cutEnd:]
	}
}

// stripped is v without Decoration: v itself when it has none.
func stripped(v []byte) []byte {
	if p, _ := nextDecoration(v); p < 0 {
		return v
	}
	return StripDecoration(make([]byte, 0, len(v)), v)
}

// nextDecoration finds the first Decoration key in v: its position and the length of its
// quoted name, or -1.
func nextDecoration(v []byte) (int, int) {
	best, bestLen := -1, 0
	for _, k := range quotedDecoration {
		limit := v
		if best >= 0 {
			limit = v[:best]
		}
		for off := 0; ; {
			i := bytes.Index(limit[off:], k)
			if i < 0 {
				break
			}
			i += off
			if isKeyAt(v, i, len(k)) {
				best, bestLen = i, len(k)
				break
			}
			off = i + 1
		}
	}
	return best, bestLen
}

// isKeyAt reports whether the quoted name at v[i:i+n] is an object key: its opening quote
// is not escaped (else the name is inside a string) and a colon follows it.
func isKeyAt(v []byte, i, n int) bool {
	if escapedAt(v, i) {
		return false
	}
	j := i + n
	for j < len(v) && isSpace(v[j]) {
		j++
	}
	return j < len(v) && v[j] == ':'
}

func lastNonSpace(b []byte) int {
	i := len(b) - 1
	for i >= 0 && isSpace(b[i]) {
		i--
	}
	return i
}
