package store

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Jira decorates every object it nests in a field value with links for browsers and REST
// clients: "self" (the object's REST URL), "iconUrl" (statuses, types, priorities) and
// "avatarUrls" (users, projects; four URLs each). Nothing in Foundation reads them: the
// terminal shows no images, and REST URLs are built from the site's base URL. They are
// more than half of what Jira sends for an issue (≈5 KB for ≈2 KB of content), and every
// byte the cache keeps is written twice in a full sync (WAL, then database file), so the
// cache keeps an issue's fields without them. Avatar URLs are personal data besides.
var droppedKeys = [...][]byte{[]byte(`"self"`), []byte(`"iconUrl"`), []byte(`"avatarUrls"`)}

// EncodeFields is how the cache stores an issue's fields: one JSON object, keys sorted,
// each value without the members named in droppedKeys at any depth (the fields themselves
// are all kept, whatever their names). It returns the stored bytes and each field's value
// within them. Values must be valid JSON, as Jira's decoders here hand them over (the
// search page decoder and ParseWebhook validate what they split); marshalFields checks
// them for other callers.
func EncodeFields(f map[string]json.RawMessage) (json.RawMessage, map[string]json.RawMessage) {
	keys := make([]string, 0, len(f))
	size := 2
	for k, v := range f {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	type span struct{ start, end int }
	spans := make([]span, len(keys))
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		start := len(b)
		b = compactValue(b, fieldValue(f[k]))
		spans[i] = span{start, len(b)}
	}
	b = append(b, '}')
	b = b[:len(b):len(b)]
	members := make(map[string]json.RawMessage, len(keys))
	for i, k := range keys {
		members[k] = json.RawMessage(b[spans[i].start:spans[i].end:spans[i].end])
	}
	return b, members
}

// compactValue appends the valid JSON value v to dst without the object members named in
// droppedKeys. A key is found by its bytes: a quote that is not escaped, the name, the
// closing quote and (after any space) a colon can only be an object key in valid JSON, so
// the value is searched, not parsed, and most of it is copied in a few large pieces.
func compactValue(dst, v []byte) []byte {
	for {
		p, n := nextDroppedKey(v)
		if p < 0 {
			return append(dst, v...)
		}
		vs := wsEnd(v, p+n)
		vs = wsEnd(v, vs+1) // past the colon
		ve := skipJSON(v, vs, 1)
		if ve < 0 { // not valid JSON after all: keep it as it came
			return append(dst, v...)
		}
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
			} else { // the comma was already copied: take it back
				dst = dst[:lastNonSpace(dst)]
			}
		} else if next := wsEnd(v, ve); next < len(v) && v[next] == ',' {
			cutEnd = wsEnd(v, next+1)
		}
		dst = append(dst, v[:cutStart]...)
		v = v[cutEnd:]
	}
}

// nextDroppedKey finds the first key in v named in droppedKeys: its position and the
// length of its quoted name, or -1.
func nextDroppedKey(v []byte) (int, int) {
	best, bestLen := -1, 0
	for _, k := range droppedKeys {
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
			if isKey(v, i, len(k)) {
				best, bestLen = i, len(k)
				break
			}
			off = i + 1
		}
	}
	return best, bestLen
}

// isKey reports whether the quoted name at v[i:i+n] is an object key: its opening quote is
// not escaped (else the name is inside a string) and a colon follows it.
func isKey(v []byte, i, n int) bool {
	backslashes := 0
	for j := i - 1; j >= 0 && v[j] == '\\'; j-- {
		backslashes++
	}
	if backslashes%2 == 1 {
		return false
	}
	j := wsEnd(v, i+n)
	return j < len(v) && v[j] == ':'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func lastNonSpace(b []byte) int {
	i := len(b) - 1
	for i >= 0 && isSpace(b[i]) {
		i--
	}
	return i
}
