package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"foundation/lens"
)

// WellKnown names the field ids that play fixed roles but differ per site: custom fields
// found in the field catalog by their schema (see JIRA.md). An empty id means the site has no
// such field.
type WellKnown struct {
	StoryPoints string // e.g. "customfield_10016"
	Sprint      string
	EpicLink    string // Data Center only; Cloud uses parent
	Rank        string
}

// ExtractError reports a field whose JSON does not have the shape Jira gives it.
type ExtractError struct {
	Key   string
	Field string
	Err   error
}

// Error names the issue and the field.
func (e *ExtractError) Error() string {
	return fmt.Sprintf("issue %s: field %s: %v", e.Key, e.Field, e.Err)
}

// Unwrap gives the decoding error.
func (e *ExtractError) Unwrap() error { return e.Err }

// jiraTimeLayouts are the forms Jira uses for created/updated: the REST form
// (2024-01-31T14:05:06.789+0000) and, from some webhooks and tools, RFC 3339.
var jiraTimeLayouts = [...]string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
}

// Extract turns Jira's raw field JSON for one issue into a lens.Issue: the extracted columns
// plus fields itself (kept, not copied). Absent or null fields leave their column empty; a
// field whose JSON has the wrong shape is an *ExtractError.
//
// Each field is first read by a small scanner that takes only the shapes Jira sends (plain
// strings, exact key names); anything else (escapes, other types, keys differing only in
// case) goes through encoding/json, so results and errors are encoding/json's. A full sync
// extracts every issue, and encoding/json was most of its decoding cost.
func Extract(id int64, key string, fields map[string]json.RawMessage, wk WellKnown) (lens.Issue, error) {
	return extract(id, key, fields, wk, true)
}

// extract is Extract; fast false reads every field through encoding/json (tests compare).
func extract(id int64, key string, fields map[string]json.RawMessage, wk WellKnown, fast bool) (lens.Issue, error) {
	is := lens.Issue{ID: id, Key: key, Fields: fields}
	if key == "" {
		return is, &ExtractError{Key: strconv.FormatInt(id, 10), Field: "key", Err: fmt.Errorf("empty issue key")}
	}
	fail := func(field string, err error) (lens.Issue, error) {
		return is, &ExtractError{Key: key, Field: field, Err: err}
	}

	if v, ok := fastMembers(fast, fields["project"], "id", "key"); ok && v[1].str() {
		var pid jsonID
		if err := pid.UnmarshalJSON(v[0].raw); err != nil {
			return fail("project", err)
		}
		is.ProjectID, is.Project = int64(pid), v[1].s
	} else {
		var project struct {
			ID  jsonID `json:"id"`
			Key string `json:"key"`
		}
		if err := decode(fields["project"], &project); err != nil {
			return fail("project", err)
		}
		is.ProjectID, is.Project = int64(project.ID), project.Key
	}

	if v, ok := fastMembers(fast, fields["issuetype"], "name", "subtask"); ok && v[0].str() && v[1].boolean() {
		is.Type, is.Subtask = v[0].s, v[1].b
	} else {
		var itype struct {
			Name    string `json:"name"`
			Subtask bool   `json:"subtask"`
		}
		if err := decode(fields["issuetype"], &itype); err != nil {
			return fail("issuetype", err)
		}
		is.Type, is.Subtask = itype.Name, itype.Subtask
	}

	done := false
	if v, ok := fastMembers(fast, fields["status"], "name", "statusCategory"); ok && v[0].str() {
		if c, ok := fastMembers(fast, v[1].raw, "key"); ok && c[0].str() {
			is.Status, is.StatusCategory, done = v[0].s, c[0].s, true
		}
	}
	if !done {
		var status struct {
			Name     string `json:"name"`
			Category struct {
				Key string `json:"key"`
			} `json:"statusCategory"`
		}
		if err := decode(fields["status"], &status); err != nil {
			return fail("status", err)
		}
		is.Status, is.StatusCategory = status.Name, status.Category.Key
	}

	var err error
	if is.Priority, err = nameOf(fast, fields["priority"]); err != nil {
		return fail("priority", err)
	}
	if is.Resolution, err = nameOf(fast, fields["resolution"]); err != nil {
		return fail("resolution", err)
	}
	if is.SecurityLevel, err = nameOf(fast, fields["security"]); err != nil {
		return fail("security", err)
	}
	if is.Parent, err = memberString(fast, fields["parent"], "key"); err != nil {
		return fail("parent", err)
	}
	if wk.EpicLink != "" {
		if is.EpicLink, err = stringOf(fast, fields[wk.EpicLink]); err != nil {
			return fail(wk.EpicLink, err)
		}
	}
	if is.Assignee, err = userID(fast, fields["assignee"]); err != nil {
		return fail("assignee", err)
	}
	if is.Reporter, err = userID(fast, fields["reporter"]); err != nil {
		return fail("reporter", err)
	}
	if is.Summary, err = stringOf(fast, fields["summary"]); err != nil {
		return fail("summary", err)
	}
	if labels, ok := fastStrings(fast, fields["labels"]); ok {
		is.Labels = labels
	} else if err := decode(fields["labels"], &is.Labels); err != nil {
		return fail("labels", err)
	}
	if len(is.Labels) == 0 {
		is.Labels = nil // one spelling of "no labels", as reads from the store give it
	}
	if wk.StoryPoints != "" {
		if f, ok := fastNumber(fast, fields[wk.StoryPoints]); ok {
			is.StoryPoints = f
		} else if err := decode(fields[wk.StoryPoints], &is.StoryPoints); err != nil {
			return fail(wk.StoryPoints, err)
		}
	}
	if is.DueDate, err = stringOf(fast, fields["duedate"]); err != nil {
		return fail("duedate", err)
	}
	if is.DueDate != "" {
		if _, err := time.Parse(time.DateOnly, is.DueDate); err != nil {
			return fail("duedate", err)
		}
	}
	if is.Created, err = jiraTime(fast, fields["created"]); err != nil {
		return fail("created", err)
	}
	if is.Updated, err = jiraTime(fast, fields["updated"]); err != nil {
		return fail("updated", err)
	}
	if wk.Rank != "" {
		if is.Rank, err = stringOf(fast, fields[wk.Rank]); err != nil {
			return fail(wk.Rank, err)
		}
	}
	return is, nil
}

// decode unmarshals raw into v unless it is absent or null, which leave v as it is.
func decode(raw json.RawMessage, v any) error {
	if isNull(raw) {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// nameOf reads the "name" of an object field such as priority, resolution or security.
func nameOf(fast bool, raw json.RawMessage) (string, error) {
	return memberString(fast, raw, "name")
}

// memberString reads one string member of an object field.
func memberString(fast bool, raw json.RawMessage, name string) (string, error) {
	if v, ok := fastMembers(fast, raw, name); ok && v[0].str() {
		return v[0].s, nil
	}
	return slowMemberString(raw, name)
}

// slowMemberString decodes {name: string} through a struct, as encoding/json matches struct
// fields: case-insensitively.
func slowMemberString(raw json.RawMessage, name string) (string, error) {
	switch name {
	case "name":
		var v struct {
			Name string `json:"name"`
		}
		err := decode(raw, &v)
		return v.Name, err
	case "key":
		var v struct {
			Key string `json:"key"`
		}
		err := decode(raw, &v)
		return v.Key, err
	}
	return "", fmt.Errorf("no decoder for member %q", name)
}

// stringOf reads a string field.
func stringOf(fast bool, raw json.RawMessage) (string, error) {
	if v, ok := fastValue(fast, raw); ok && v.str() {
		return v.s, nil
	}
	var s string
	err := decode(raw, &s)
	return s, err
}

// userID reads a user object's identity: accountId on Cloud, name on Data Center.
func userID(fast bool, raw json.RawMessage) (string, error) {
	var u struct {
		AccountID string `json:"accountId"`
		Name      string `json:"name"`
	}
	if v, ok := fastMembers(fast, raw, "accountId", "name"); ok && v[0].str() && v[1].str() {
		u.AccountID, u.Name = v[0].s, v[1].s
	} else if err := decode(raw, &u); err != nil {
		return "", err
	}
	if u.AccountID != "" {
		return u.AccountID, nil
	}
	return u.Name, nil
}

// jiraTime parses a created/updated value, keeping its millisecond precision, in UTC.
func jiraTime(fast bool, raw json.RawMessage) (time.Time, error) {
	s, err := stringOf(fast, raw)
	if err != nil || s == "" {
		return time.Time{}, err
	}
	for _, layout := range jiraTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

// ExtractUser reads the user object of a user field (assignee, reporter...): identity and
// the personal data the users table keeps. It reports false for null, for anything that is
// not a user object and for a user without an identity.
func ExtractUser(raw json.RawMessage) (User, bool) {
	return extractUser(raw, true)
}

func extractUser(raw json.RawMessage, fast bool) (User, bool) {
	if isNull(raw) {
		return User{}, false
	}
	var u struct {
		AccountID    string `json:"accountId"`
		Name         string `json:"name"`
		DisplayName  string `json:"displayName"`
		EmailAddress string `json:"emailAddress"`
	}
	v, ok := fastMembers(fast, raw, "accountId", "name", "displayName", "emailAddress")
	if ok && v[0].str() && v[1].str() && v[2].str() && v[3].str() {
		u.AccountID, u.Name, u.DisplayName, u.EmailAddress = v[0].s, v[1].s, v[2].s, v[3].s
	} else if json.Unmarshal(raw, &u) != nil {
		return User{}, false
	}
	id := u.AccountID
	if id == "" {
		id = u.Name
	}
	if id == "" {
		return User{}, false
	}
	return User{ID: id, DisplayName: u.DisplayName, Email: u.EmailAddress}, true
}

// jsonID accepts Jira's ids both as strings ("10000", the REST form) and as numbers.
type jsonID int64

func (j *jsonID) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	s := string(bytes.Trim(bytes.TrimSpace(b), `"`))
	if s == "" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("id %s: %w", b, err)
	}
	*j = jsonID(v)
	return nil
}

// A small validating JSON scanner for the shapes Jira sends. It reads a value's bytes in
// place and reports false for anything it does not take as is, and the caller then uses
// encoding/json, so together they accept and reject exactly what encoding/json does.

// jv is one value read by the scanner: its bytes (nil when absent), and what str or boolean
// read from them.
type jv struct {
	raw []byte
	s   string
	b   bool
}

// str reads v as encoding/json reads a Go string from it, when that needs no unescaping:
// absent or null leave "", a quoted string without escapes in valid UTF-8 is its text.
func (v *jv) str() bool {
	switch {
	case v.raw == nil || string(v.raw) == "null":
		v.s = ""
		return true
	case len(v.raw) >= 2 && v.raw[0] == '"':
		body := v.raw[1 : len(v.raw)-1]
		if bytes.IndexByte(body, '\\') >= 0 || !utf8.Valid(body) {
			return false
		}
		v.s = string(body)
		return true
	}
	return false
}

// boolean reads v as a Go bool: absent or null leave false.
func (v *jv) boolean() bool {
	switch string(v.raw) {
	case "", "null", "false":
		v.b = false
	case "true":
		v.b = true
	default:
		return false
	}
	return true
}

// fastValue validates raw as one JSON value and returns it without surrounding space.
func fastValue(fast bool, raw json.RawMessage) (jv, bool) {
	if !fast {
		return jv{}, false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return jv{}, true
	}
	if end := skipJSON(raw, 0, 0); end != len(raw) {
		return jv{}, false
	}
	return jv{raw: raw}, true
}

// fastMembers reads the named members of an object value (absent ones are left nil; a
// repeated member counts last, as in encoding/json). Absent or null raw yields no members. It
// reports false, leaving the value to encoding/json, when raw is not valid JSON, not an
// object, or has a key needing unescaping, with non-ASCII bytes, or matching a name only
// case-insensitively (encoding/json would take that one into a struct field).
func fastMembers(fast bool, raw json.RawMessage, names ...string) (out [5]jv, ok bool) {
	if !fast || len(names) > len(out) {
		return out, false
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return out, true
	}
	ok = objectMembers(raw, func(k, v []byte) bool {
		for i, n := range names {
			if string(k) == n {
				out[i] = jv{raw: v}
				return true
			}
			// objectMembers gives ASCII keys only: folding equal means the same length.
			if len(k) == len(n) && strings.EqualFold(string(k), n) {
				return false
			}
		}
		return true
	})
	return out, ok
}

// fastStrings reads an array of strings; absent or null reads nil.
func fastStrings(fast bool, raw json.RawMessage) ([]string, bool) {
	v, ok := fastValue(fast, raw)
	if !ok {
		return nil, false
	}
	if v.raw == nil || string(v.raw) == "null" {
		return nil, true
	}
	if v.raw[0] != '[' {
		return nil, false
	}
	out := []string{}
	i := wsEnd(v.raw, 1)
	if v.raw[i] == ']' {
		return out, true
	}
	for {
		end := skipJSON(v.raw, i, 1)
		e := jv{raw: v.raw[i:end]}
		if !e.str() {
			return nil, false
		}
		out = append(out, e.s)
		i = wsEnd(v.raw, end)
		if v.raw[i] == ']' {
			return out, true
		}
		i = wsEnd(v.raw, i+1) // a comma: the value was validated whole
	}
}

// fastNumber reads a number as a *float64; absent or null reads nil.
func fastNumber(fast bool, raw json.RawMessage) (*float64, bool) {
	v, ok := fastValue(fast, raw)
	if !ok {
		return nil, false
	}
	if v.raw == nil || string(v.raw) == "null" {
		return nil, true
	}
	if c := v.raw[0]; c != '-' && (c < '0' || c > '9') {
		return nil, false
	}
	f, err := strconv.ParseFloat(string(v.raw), 64)
	if err != nil {
		return nil, false
	}
	return &f, true
}

// objectMembers validates the object raw (trimmed) and calls fn with each member's key and
// value, in one pass, until fn returns false. Keys needing unescaping or holding non-ASCII
// bytes end it with false, as do invalid JSON and anything but an object; fn may have seen
// some members by then.
func objectMembers(raw []byte, fn func(k, v []byte) bool) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	i := wsEnd(raw, 1)
	if i < len(raw) && raw[i] == '}' {
		return i+1 == len(raw)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return false
		}
		kend := skipString(raw, i)
		if kend < 0 {
			return false
		}
		k := raw[i+1 : kend-1]
		for _, c := range k {
			if c == '\\' || c >= 0x80 {
				return false
			}
		}
		if i = wsEnd(raw, kend); i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = wsEnd(raw, i+1)
		vend := skipJSON(raw, i, 1)
		if vend < 0 || !fn(k, raw[i:vend]) {
			return false
		}
		if i = wsEnd(raw, vend); i >= len(raw) {
			return false
		}
		switch raw[i] {
		case '}':
			return i+1 == len(raw)
		case ',':
			i = wsEnd(raw, i+1)
		default:
			return false
		}
	}
}

// wsEnd returns the index of the first non-space byte of b from i (len(b) if none).
func wsEnd(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// skipJSON validates the JSON value starting at b[i] (after any space) and returns the index
// just past it, or -1 when it is not valid JSON.
func skipJSON(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = wsEnd(b, i)
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = wsEnd(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return -1
				}
				if i = skipString(b, i); i < 0 {
					return -1
				}
				if i = wsEnd(b, i); i >= len(b) || b[i] != ':' {
					return -1
				}
				i++
			}
			if i = skipJSON(b, i, depth+1); i < 0 {
				return -1
			}
			if i = wsEnd(b, i); i >= len(b) {
				return -1
			}
			switch b[i] {
			case ',':
				i = wsEnd(b, i+1)
			case closer:
				return i + 1
			default:
				return -1
			}
		}
	case c == 't':
		return skipWord(b, i, "true")
	case c == 'f':
		return skipWord(b, i, "false")
	case c == 'n':
		return skipWord(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return skipNumber(b, i)
	}
	return -1
}

func skipWord(b []byte, i int, w string) int {
	if len(b)-i < len(w) || string(b[i:i+len(w)]) != w {
		return -1
	}
	return i + len(w)
}

// skipString moves past the string opening at b[i], checking its escapes and that it holds
// no control characters. Runs of plain text are skipped eight bytes at a time.
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		if i+8 <= len(b) && !specialInString(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
			continue
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return -1
				}
				for _, h := range b[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				i += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
	return -1
}

// specialInString reports whether any of the eight bytes in x is a quote, a backslash or a
// control character: the bytes a string scan must stop at. The usual SWAR tests, exact for
// "any byte" (lo: every byte 0x01; hi: every byte 0x80).
func specialInString(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - lo) & ^v & hi }
	return (x-lo*0x20)&^x&hi|zero(x^(lo*'"'))|zero(x^(lo*'\\')) != 0
}

// skipNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) int {
	digits := func() int {
		n := 0
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return -1
		}
	}
	return i
}

// ExtractLinks reads an issue's issuelinks field into links in Jira's outward direction:
// nil for an absent or null field, an empty set for []. Like Extract, it reads the shapes
// Jira sends with a small scanner and leaves anything else to encoding/json.
func ExtractLinks(key string, raw json.RawMessage) ([]lens.Link, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if string(raw) == "[]" { // most issues
		return []lens.Link{}, nil
	}
	out := []lens.Link{}
	ok := arrayElems(raw, func(el []byte) bool {
		v, ok := fastMembers(true, el, "id", "type", "inwardIssue", "outwardIssue")
		if !ok || string(el) == "null" || !v[0].str() {
			return false
		}
		id, err := strconv.ParseInt(v[0].s, 10, 64)
		if err != nil {
			return false // the slow path words the error
		}
		t, ok := fastMembers(true, v[1].raw, "name", "inward", "outward")
		if !ok || !t[0].str() || !t[1].str() || !t[2].str() {
			return false
		}
		link := lens.Link{ID: id, Type: t[0].s, Inward: t[1].s, Outward: t[2].s}
		other := func(raw []byte) (string, bool, bool) { // key, present, ok
			if raw == nil || string(raw) == "null" {
				return "", false, true
			}
			k, ok := fastMembers(true, raw, "key")
			if !ok || string(raw) == "null" || !k[0].str() {
				return "", false, false
			}
			return k[0].s, true, true
		}
		outKey, outOK, ok1 := other(v[3].raw)
		inKey, inOK, ok2 := other(v[2].raw)
		if !ok1 || !ok2 {
			return false
		}
		switch {
		case outOK: // this issue <outward> the other
			link.From, link.To = key, outKey
		case inOK: // the other <outward> this issue
			link.From, link.To = inKey, key
		default:
			return true
		}
		out = append(out, link)
		return true
	})
	if ok {
		return out, nil
	}
	return slowLinks(key, raw)
}

// arrayElems validates the array raw (trimmed) and calls fn with each element until fn
// returns false; false for anything but a valid array, or when fn stopped it.
func arrayElems(raw []byte, fn func(v []byte) bool) bool {
	if len(raw) == 0 || raw[0] != '[' {
		return false
	}
	i := wsEnd(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return i+1 == len(raw)
	}
	for {
		end := skipJSON(raw, i, 1)
		if end < 0 || !fn(raw[i:end]) {
			return false
		}
		if i = wsEnd(raw, end); i >= len(raw) {
			return false
		}
		switch raw[i] {
		case ']':
			return i+1 == len(raw)
		case ',':
			i = wsEnd(raw, i+1)
		default:
			return false
		}
	}
}

// slowLinks is ExtractLinks through encoding/json.
func slowLinks(key string, raw json.RawMessage) ([]lens.Link, error) {
	var links []struct {
		ID   string `json:"id"`
		Type struct {
			Name    string `json:"name"`
			Inward  string `json:"inward"`
			Outward string `json:"outward"`
		} `json:"type"`
		InwardIssue  *struct{ Key string } `json:"inwardIssue"`
		OutwardIssue *struct{ Key string } `json:"outwardIssue"`
	}
	if err := json.Unmarshal(raw, &links); err != nil {
		return nil, fmt.Errorf("issue %s: field issuelinks: %w", key, err)
	}
	out := make([]lens.Link, 0, len(links))
	for _, l := range links {
		id, err := strconv.ParseInt(l.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("issue %s: issuelinks: link id %q is not a number", key, l.ID)
		}
		link := lens.Link{ID: id, Type: l.Type.Name, Inward: l.Type.Inward, Outward: l.Type.Outward}
		switch {
		case l.OutwardIssue != nil: // this issue <outward> the other
			link.From, link.To = key, l.OutwardIssue.Key
		case l.InwardIssue != nil: // the other <outward> this issue
			link.From, link.To = l.InwardIssue.Key, key
		default:
			continue
		}
		out = append(out, link)
	}
	return out, nil
}
