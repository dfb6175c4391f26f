package jira

// A single-pass decoder for search and bulk fetch pages. Pages are the bulk of a sync's bytes
// and encoding/json reads each value twice (once to find its end, once to decode it) and
// allocates per field; this scanner validates the JSON structure once and keeps each field
// as a slice of one per-issue copy, which halves the client's cost over the wire floor.
// Decoration members are cut from that copy while scanning, and only their structure is
// followed: everything kept is validated.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// page is what search and bulk fetch answers hold, across dialects.
type page struct {
	Issues        []Issue
	IsLast        *bool
	NextPageToken string
	StartAt       int
	MaxResults    int
	Total         int
}

type scanner struct {
	b      []byte
	i      int
	intern map[string]string // field ids repeat on every issue: allocate each once per page
	// strip, while set, makes skip record in cuts the byte ranges of decoration members
	// (see Decoration) and of the commas around them, in increasing order.
	strip bool
	cuts  []span
}

// span is a byte range [start, end).
type span struct{ start, end int }

var errSyntax = errors.New("invalid JSON")

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, s.i, what)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.fail("want " + strconv.QuoteRune(rune(c)))
	}
	s.i++
	return nil
}

// skipString moves past a string starting at s.i (on the quote) and reports whether it held
// escapes (and so needs unquoting to be read). Plain text is passed eight bytes at a time.
func (s *scanner) skipString() (escaped bool, err error) {
	s.i++ // opening quote
	for s.i < len(s.b) {
		if s.i+8 <= len(s.b) {
			m := specialInString(binary.LittleEndian.Uint64(s.b[s.i:]))
			if m == 0 {
				s.i += 8
				continue
			}
			s.i += bits.TrailingZeros64(m) / 8 // the first special byte: exact
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return escaped, s.fail("unterminated escape")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return escaped, s.fail("short \\u escape")
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return escaped, s.fail("bad \\u escape")
					}
				}
				s.i += 6
			default:
				return escaped, s.fail("bad escape")
			}
		case c < 0x20:
			return escaped, s.fail("control character in string")
		default:
			s.i++
		}
	}
	return escaped, s.fail("unterminated string")
}

// specialInString marks the bytes of x (little-endian) that end a run of plain string text:
// a quote, a backslash or a control character. SWAR: each test sets the high bit of the
// bytes that match; bits above the lowest match may be false alarms (borrows), the lowest
// one is exact. Zero when all eight bytes are plain.
func specialInString(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - lo) & ^v & hi }
	return (x-lo*0x20)&^x&hi | zero(x^(lo*'"')) | zero(x^(lo*'\\'))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// str reads a string value.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.fail("want a string")
	}
	start := s.i
	escaped, err := s.skipString()
	if err != nil {
		return "", err
	}
	raw := s.b[start:s.i]
	// Escapes and invalid UTF-8 go the slow way, so the text matches what encoding/json gives.
	if !escaped && utf8.Valid(raw) {
		if s.intern != nil {
			if v, ok := s.intern[string(raw[1:len(raw)-1])]; ok {
				return v, nil
			}
		}
		return string(raw[1 : len(raw)-1]), nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", s.fail(err.Error())
	}
	return v, nil
}

// key reads an object key, interning it.
func (s *scanner) key() (string, error) {
	if s.peek() != '"' {
		return "", s.fail("want an object key")
	}
	start := s.i
	escaped, err := s.skipString()
	if err != nil {
		return "", err
	}
	raw := s.b[start+1 : s.i-1]
	escaped = escaped || !utf8.Valid(raw)
	if !escaped && s.intern != nil {
		if v, ok := s.intern[string(raw)]; ok {
			return v, nil
		}
		v := string(raw)
		if len(s.intern) < 4096 {
			s.intern[v] = v
		}
		return v, nil
	}
	if !escaped {
		return string(raw), nil
	}
	var v string
	if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
		return "", s.fail(err.Error())
	}
	return v, nil
}

// skip moves past one value, checking its structure. depth bounds nesting like encoding/json.
func (s *scanner) skip(depth int) error {
	if depth > 10000 {
		return s.fail("nested too deeply")
	}
	switch c := s.peek(); {
	case c == '"':
		_, err := s.skipString()
		return err
	case c == '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		kept := false
		prevEnd := 0 // just past the last kept member's value
		for {
			if s.peek() != '"' {
				return s.fail("want an object key")
			}
			ks := s.i
			if _, err := s.skipString(); err != nil {
				return err
			}
			drop := s.strip && isDecoration(s.b[ks:s.i])
			if err := s.expect(':'); err != nil {
				return err
			}
			var err error
			if drop {
				err = s.skipDropped(depth + 1)
			} else {
				err = s.skip(depth + 1)
			}
			if err != nil {
				return err
			}
			ve := s.i
			next := s.peek()
			if drop {
				switch {
				case kept: // ",member", from the kept member before it
					s.cuts = append(s.cuts, span{prevEnd, ve})
				case next == ',': // "member,", up to the next key
					j := s.i + 1
					for j < len(s.b) && isSpace(s.b[j]) {
						j++
					}
					s.cuts = append(s.cuts, span{ks, j})
				default: // the last one left
					s.cuts = append(s.cuts, span{ks, ve})
				}
			} else {
				kept, prevEnd = true, ve
			}
			switch next {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return s.fail("want , or }")
			}
		}
	case c == '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return s.fail("want , or ]")
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	default:
		return s.fail("want a value")
	}
}

// crossString moves past the string opening at s.i by finding its closing quote (one not
// escaped), without reading what is in between.
func (s *scanner) crossString() error {
	for i := s.i + 1; ; {
		j := bytes.IndexByte(s.b[i:], '"')
		if j < 0 {
			s.i = len(s.b)
			return s.fail("unterminated string")
		}
		i += j + 1
		if !escapedAt(s.b, i-1) {
			s.i = i
			return nil
		}
	}
}

// escapedAt reports whether b[i] is escaped: an odd run of backslashes before it.
func escapedAt(b []byte, i int) bool {
	n := 0
	for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

// skipDropped moves past a value that is cut from the output (Decoration): its structure is
// followed, but strings are crossed by finding their closing quote, without checking their
// escapes and characters, since nothing of them is kept. These are most of a page's bytes
// (URLs).
func (s *scanner) skipDropped(depth int) error {
	if depth > 10000 {
		return s.fail("nested too deeply")
	}
	switch s.peek() {
	case '"':
		return s.crossString()
	case '{', '[':
		closer := byte('}')
		if s.b[s.i] == '[' {
			closer = ']'
		}
		object := closer == '}'
		s.i++
		if s.peek() == closer {
			s.i++
			return nil
		}
		for {
			if object {
				if s.peek() != '"' {
					return s.fail("want an object key")
				}
				if err := s.skipDropped(depth + 1); err != nil {
					return err
				}
				if err := s.expect(':'); err != nil {
					return err
				}
			}
			if err := s.skipDropped(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case closer:
				s.i++
				return nil
			default:
				return s.fail("want , or " + string(closer))
			}
		}
	default:
		return s.skip(depth)
	}
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("want " + word)
	}
	s.i += len(word)
	return nil
}

// number checks JSON number syntax: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return s.fail("bad number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.fail("bad number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.fail("bad number")
		}
	}
	return nil
}

// raw skips a value and returns its bytes.
func (s *scanner) raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.skip(0); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

func (s *scanner) intValue() (int, error) {
	r, err := s.raw()
	if err != nil {
		return 0, err
	}
	if string(r) == "null" {
		return 0, nil
	}
	n, err := strconv.Atoi(string(r))
	if err != nil {
		return 0, s.fail("want an integer")
	}
	return n, nil
}

// object walks an object's members, calling fn with the scanner on each value.
func (s *scanner) object(fn func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		k, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("want , or }")
		}
	}
}

// idValue reads an issue id, which Jira sends as a string but some proxies turn into a number.
func (s *scanner) idValue() (string, error) {
	if s.peek() == '"' {
		return s.str()
	}
	r, err := s.raw()
	if err != nil {
		return "", err
	}
	if string(r) == "null" {
		return "", nil
	}
	return string(r), nil
}

func (s *scanner) issue() (Issue, error) {
	var is Issue
	err := s.object(func(k string) error {
		var err error
		switch k {
		case "id":
			is.ID, err = s.idValue()
		case "key":
			if s.peek() == 'n' {
				return s.literal("null")
			}
			is.Key, err = s.str()
		case "fields":
			is.Fields, is.Raw, err = s.fields()
		default:
			err = s.skip(1)
		}
		return err
	})
	return is, err
}

// fields reads an issue's fields object in one pass, returning its members and the whole
// object, both without Decoration. The values are slices of one copy of the object, so a
// kept issue does not pin the whole page in memory. The copy is canonical: members sorted
// by key, no space between them (values as sent, less the cuts), which is how the cache
// encodes fields from elsewhere (store.EncodeFields), so one hash of the bytes tells
// whether a field changed.
func (s *scanner) fields() (map[string]json.RawMessage, json.RawMessage, error) {
	if s.peek() == 'n' {
		return nil, nil, s.literal("null")
	}
	type member struct {
		key        string
		value      span
		cut0, cut1 int // its value's cuts: s.cuts[cut0:cut1]
	}
	var members [40]member
	found := members[:0]
	start := s.i
	s.cuts = s.cuts[:0]
	err := s.object(func(k string) error {
		s.ws()
		m := member{key: k, cut0: len(s.cuts)}
		m.value.start = s.i
		s.strip = true
		err := s.skip(2)
		s.strip = false
		if err != nil {
			return err
		}
		m.value.end, m.cut1 = s.i, len(s.cuts)
		found = append(found, m)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	size := s.i - start + 2*len(found)
	for _, c := range s.cuts {
		size -= c.end - c.start
	}
	slices.SortStableFunc(found, func(a, b member) int { return strings.Compare(a.key, b.key) })
	own := make([]byte, 0, size)
	own = append(own, '{')
	for i := range found {
		f := &found[i]
		if i > 0 {
			own = append(own, ',')
		}
		own = appendKey(own, f.key)
		own = append(own, ':')
		vs, from := len(own), f.value.start
		for _, c := range s.cuts[f.cut0:f.cut1] {
			own = append(own, s.b[from:c.start]...)
			from = c.end
		}
		own = append(own, s.b[from:f.value.end]...)
		f.value = span{vs, len(own)}
	}
	own = append(own, '}')
	m := make(map[string]json.RawMessage, len(found))
	for _, f := range found {
		m[f.key] = own[f.value.start:f.value.end:f.value.end]
	}
	return m, own[:len(own):len(own)], nil
}

// appendKey appends k as a JSON string the way the cache's encoder (store.EncodeFields,
// through its appendJSONString) writes keys: as is when plain (field ids are), else as
// encoding/json writes it. Both must agree byte for byte for the row fingerprint; the full
// sync test checks they do.
func appendKey(b []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(k) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"')
}

// decodeIssue decodes a single issue's answer (GET issue/KEY), with Raw set as in a page.
func decodeIssue(b []byte) (Issue, error) {
	s := scanner{b: b, intern: map[string]string{}}
	is, err := s.issue()
	if err != nil {
		return Issue{}, err
	}
	if s.ws(); s.i != len(s.b) {
		return Issue{}, s.fail("trailing data after the answer")
	}
	return is, nil
}

// decodePage decodes a search/jql, search or bulkfetch answer.
func decodePage(b []byte) (*page, error) {
	s := scanner{b: b, intern: map[string]string{}}
	var p page
	err := s.object(func(k string) error {
		var err error
		switch k {
		case "issues":
			if s.peek() == 'n' {
				return s.literal("null")
			}
			if err := s.expect('['); err != nil {
				return err
			}
			if s.peek() == ']' {
				s.i++
				return nil
			}
			for {
				is, err := s.issue()
				if err != nil {
					return err
				}
				p.Issues = append(p.Issues, is)
				switch s.peek() {
				case ',':
					s.i++
				case ']':
					s.i++
					return nil
				default:
					return s.fail("want , or ]")
				}
			}
		case "isLast":
			var v bool
			switch s.peek() {
			case 't':
				v, err = true, s.literal("true")
			case 'f':
				err = s.literal("false")
			case 'n':
				return s.literal("null")
			default:
				return s.fail("want a boolean isLast")
			}
			p.IsLast = &v
		case "nextPageToken":
			if s.peek() == 'n' {
				return s.literal("null")
			}
			p.NextPageToken, err = s.str()
		case "startAt":
			p.StartAt, err = s.intValue()
		case "maxResults":
			p.MaxResults, err = s.intValue()
		case "total":
			p.Total, err = s.intValue()
		default:
			err = s.skip(1)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.ws(); s.i != len(s.b) {
		return nil, s.fail("trailing data after the answer")
	}
	return &p, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipBalanced moves past one value by its brackets alone: strings are crossed to their
// closing quote with a byte search, everything else but brackets is passed over unread. It
// only promises to stop where a valid value would end; what it crosses is decodePage's to
// check.
func (s *scanner) skipBalanced() error {
	depth := 0
	for s.ws(); s.i < len(s.b); {
		switch s.b[s.i] {
		case '"':
			if err := s.crossString(); err != nil {
				return err
			}
			if depth == 0 {
				return nil
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return nil // a scalar ended, and the enclosing value with it
			}
			depth--
			if depth == 0 {
				s.i++
				return nil
			}
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return nil // a scalar ended
			}
		}
		s.i++
	}
	if depth > 0 {
		return s.fail("unterminated value")
	}
	return nil
}

// peekPageEnd finds a search page's nextPageToken and isLast without decoding its issues.
// Jira sends them after the issues: peekTail reads just the page's last members. Failing
// that, the other members are crossed by their brackets alone (skipBalanced). Only what it
// returns is checked; decodePage checks the rest.
func peekPageEnd(b []byte) (next string, isLast bool, err error) {
	if next, isLast, ok := peekTail(b); ok {
		return next, isLast, nil
	}
	s := scanner{b: b}
	err = s.object(func(k string) error {
		switch k {
		case "nextPageToken":
			if s.peek() == 'n' {
				return s.literal("null")
			}
			v, err := s.str()
			next = v
			return err
		case "isLast":
			switch s.peek() {
			case 't':
				isLast = true
				return s.literal("true")
			case 'f':
				return s.literal("false")
			case 'n':
				return s.literal("null")
			}
			return s.fail("want a boolean isLast")
		default:
			return s.skipBalanced()
		}
	})
	if err == nil {
		if s.ws(); s.i != len(s.b) {
			err = s.fail("trailing data after the answer")
		}
	}
	if err != nil {
		return "", false, err
	}
	return next, isLast, nil
}

// peekTail reads nextPageToken and isLast when they are among the last members of the
// page, after every other: from the earlier of the two keys, it must read members (all
// checked) and then the closing brace that ends the answer. Members that end the answer
// that way belong to the outermost object, so no key nested in an issue can pass; anything
// else (the keys before the issues, neither key there) reports false.
func peekTail(b []byte) (next string, isLast bool, ok bool) {
	start := -1
	for _, k := range [...]string{`"nextPageToken"`, `"isLast"`} {
		if p := lastKey(b, k); p >= 0 && (start < 0 || p < start) {
			start = p
		}
	}
	if start < 0 || lastNonSpace(b[:start]) < 0 || b[lastNonSpace(b[:start])] != ',' {
		return "", false, false
	}
	s := scanner{b: b, i: start}
	for {
		k, err := s.key()
		if err != nil || s.expect(':') != nil {
			return "", false, false
		}
		switch k {
		case "nextPageToken":
			if s.peek() == 'n' {
				err, next = s.literal("null"), ""
			} else {
				next, err = s.str()
			}
		case "isLast":
			switch s.peek() {
			case 't':
				err, isLast = s.literal("true"), true
			case 'f':
				err, isLast = s.literal("false"), false
			case 'n':
				err, isLast = s.literal("null"), false
			default:
				return "", false, false
			}
		default:
			err = s.skip(1)
		}
		if err != nil {
			return "", false, false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.ws()
			return next, isLast, s.i == len(s.b)
		default:
			return "", false, false
		}
	}
}

// lastKey is the position of the last object key q (quoted) in b, or -1: an unescaped
// quote, the name, its closing quote and a colon.
func lastKey(b []byte, q string) int {
	for end := len(b); ; {
		i := bytes.LastIndex(b[:end], []byte(q))
		if i < 0 {
			return -1
		}
		if isKeyAt(b, i, len(q)) {
			return i
		}
		end = i
	}
}
