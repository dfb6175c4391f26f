package lens

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
)

// The cache of a site is shared by its profiles and keeps, for each issue, every link,
// sub-task and parent any of them was shown. So a row the viewer may see can name issues
// the viewer may not: its parent or Epic Link, the sub-tasks and linked issues in its raw
// fields (with their summaries and statuses). Build therefore hands everything after the
// visibility check (JQL, filters, groups, sorts, columns, roll-ups, formulas, exports, the
// TUI) the issues as the viewer is shown them: a visible issue that names an issue the
// viewer may not browse is replaced, for that build only, by a copy without that
// reference, as Jira itself leaves out of what it shows someone the issues they may not
// browse. An empty value, rather than a placeholder such as "(hidden)", is what Jira
// shows and says nothing either: a placeholder would confirm that a hidden issue exists.
// An issue the cache does not hold counts as hidden (fail closed).

// Redacted returns is as a viewer who sees exactly the issues sees accepts is shown it:
// is itself when it names no issue sees rejects, else a copy with the parent, Epic Link
// and the entries of raw fields that name other issues (parent, sub-tasks, issue links,
// Epic Link and other issue-valued custom fields of the catalog fields) left out. Build
// does the same for every visible issue; callers that read an issue from the cache
// themselves (a detail pane, an editor's starting value) use this.
func Redacted(is *Issue, fields []Field, sees func(key string) bool) *Issue {
	if is == nil {
		return nil
	}
	parent := is.Parent == "" || sees(is.Parent)
	epic := is.EpicLink == "" || sees(is.EpicLink)
	if r := redact(is, refFields(fields), sees, parent, epic); r != nil {
		return r
	}
	return is
}

// refFields lists the raw fields that hold other issues: Jira's own parent, subtasks and
// issuelinks, and the catalog's issue-valued fields (Epic Link, Advanced Roadmaps' Parent
// Link, anything whose schema says it holds issue links).
func refFields(fields []Field) []string {
	out := []string{"parent", "subtasks", "issuelinks"}
	for _, f := range fields {
		if isRefField(f) && !containsStr(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	return out
}

func isRefField(f Field) bool {
	switch {
	case f.SchemaType == "issuelinks", f.SchemaItems == "issuelinks", f.SchemaType == "issuelink":
		return true
	case strings.HasSuffix(f.SchemaCustom, ":gh-epic-link"), strings.HasSuffix(f.SchemaCustom, ":jpo-custom-field-parent"):
		return true
	}
	return false
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// redact returns a copy of is without the references to issues sees rejects, or nil when
// is names none. refs are the raw fields to look into; parentSeen and epicSeen say whether
// the viewer sees the issue's Parent and Epic Link (true when empty), which callers often
// know without looking the keys up.
func redact(is *Issue, refs []string, sees func(string) bool, parentSeen, epicSeen bool) *Issue {
	parent, epic := !parentSeen, !epicSeen
	var fields map[string]json.RawMessage
	if len(is.Fields) > 0 {
		for _, id := range refs {
			raw, ok := is.Fields[id]
			if !ok || !namesUnseen(raw, sees) {
				continue
			}
			kept, changed := redactRaw(raw, sees)
			if !changed {
				continue
			}
			if fields == nil {
				fields = maps.Clone(is.Fields)
			}
			if kept == nil {
				delete(fields, id)
			} else {
				fields[id] = kept
			}
		}
	}
	if !parent && !epic && fields == nil {
		return nil
	}
	cp := *is
	if parent {
		cp.Parent = ""
	}
	if epic {
		cp.EpicLink = ""
	}
	if fields != nil {
		cp.Fields = fields
	}
	return &cp
}

// namesUnseen reports whether raw JSON holds a string that is an issue key sees rejects,
// or a string it cannot judge without decoding (an escape): the cheap test that keeps
// decoding to the fields that need it.
func namesUnseen(raw []byte, sees func(string) bool) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(raw) && raw[j] != '"' && raw[j] != '\\' {
			j++
		}
		if j < len(raw) && raw[j] == '\\' {
			return true // an escaped string: let the decoder read it
		}
		if s := raw[i+1 : min(j, len(raw))]; looksLikeKey(s) && !sees(string(s)) {
			return true
		}
		i = j
	}
	return false
}

// looksLikeKey reports whether s has the shape of an issue key as Jira writes them:
// PROJECT-123, the project key in capitals.
func looksLikeKey(s []byte) bool {
	d := bytes.LastIndexByte(s, '-')
	if d < 1 || d == len(s)-1 {
		return false
	}
	if c := s[0]; c < 'A' || c > 'Z' {
		return false
	}
	for _, c := range s[1:d] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	for _, c := range s[d+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// redactRaw decodes an issue-valued field and leaves out what names an unseen issue: a
// list loses those entries (a link to one, a sub-task that is one), a single reference is
// dropped whole (nil). Whatever still names an unseen issue after that, in a shape not
// foreseen, drops the whole field: fail closed. changed is false when raw names no unseen
// issue after all.
func redactRaw(raw json.RawMessage, sees func(string) bool) (out json.RawMessage, changed bool) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, true // what cannot be read cannot be shown to be harmless
	}
	if !anyUnseen(v, sees) {
		return raw, false
	}
	if list, ok := v.([]any); ok {
		kept := make([]any, 0, len(list))
		for _, e := range list {
			if !refersUnseen(e, sees) {
				kept = append(kept, e)
			}
		}
		v = kept
	} else if refersUnseen(v, sees) {
		return nil, true
	}
	out, err := json.Marshal(v)
	if err != nil || anyUnseen(v, sees) {
		return nil, true
	}
	return out, true
}

// refersUnseen reports whether a value of an issue-valued field stands for an unseen
// issue: a key, an issue object ({"key": ...}) or a link entry whose other end is one.
func refersUnseen(v any, sees func(string) bool) bool {
	switch x := v.(type) {
	case string:
		return looksLikeKey([]byte(x)) && !sees(x)
	case map[string]any:
		if k, ok := x["key"].(string); ok && looksLikeKey([]byte(k)) && !sees(k) {
			return true
		}
		for _, side := range []string{"inwardIssue", "outwardIssue"} {
			if o, ok := x[side]; ok && refersUnseen(o, sees) {
				return true
			}
		}
	}
	return false
}

// anyUnseen reports whether a decoded value holds, anywhere, an unseen issue key.
func anyUnseen(v any, sees func(string) bool) bool {
	switch x := v.(type) {
	case string:
		return looksLikeKey([]byte(x)) && !sees(x)
	case []any:
		for _, e := range x {
			if anyUnseen(e, sees) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if anyUnseen(e, sees) {
				return true
			}
		}
	}
	return false
}

// shown is the issues as one build's viewer is shown them: Data.Issues, where red (when
// not nil) holds for some ordinals the redacted copy to use instead.
type shown struct {
	issues []Issue
	red    []*Issue
}

// at returns the issue of ordinal o as the viewer is shown it.
func (s *shown) at(o int32) *Issue {
	if s.red != nil {
		if r := s.red[o]; r != nil {
			return r
		}
	}
	return &s.issues[o]
}

// redacted reports whether the issue of ordinal o is shown as a redacted copy.
func (s *shown) redacted(o int32) bool { return s.red != nil && s.red[o] != nil }
