package lens

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"foundation/jql"
)

// Values makes *Issue a jql.Record, so JQL evaluates over cached issues. It allocates per
// call; Build uses a buffered record instead. Without the other cached issues at hand it
// knows a parent's issue id only from the raw parent field, and user display names not
// at all: Forest.MatchJQL evaluates a query over a Lens's rows as Build does.
func (is *Issue) Values(field string) []jql.Value {
	r := issueRecord{is: is}
	// Copy out of r's buffers so r itself stays on the stack.
	return slices.Clone(r.Values(field))
}

// issueRecord is a jql.Record over one issue that reuses its buffers from call to call, so
// matching a query over 100,000 issues does not allocate per issue for extracted fields.
// Each field has its own buffer because the evaluator may hold two fields' values at once.
type issueRecord struct {
	is     *Issue
	users  map[string]string
	text   func(json.RawMessage) string
	sprint string // field id of the sprint custom field
	// idOf gives the issue id of a cached issue by key (0 when not cached), so parent and
	// Epic Link match an issue id as Jira's do; nil reads the parent's from its raw field.
	idOf    func(key string) int64
	alt     [3][1]string
	bufs    [8][1]jql.Value
	labels  []jql.Value
	scratch []jql.Value
}

func (r *issueRecord) one(slot int, v jql.Value) []jql.Value {
	r.bufs[slot][0] = v
	return r.bufs[slot][:]
}

func (r *issueRecord) str(slot int, s string) []jql.Value {
	if s == "" {
		return nil
	}
	return r.one(slot, jql.Value{Kind: jql.String, Str: s})
}

// newRecord is a record over data's issues for a build with the compiled definition comp,
// idx being data's index.
func newRecord(data *Data, idx *dataIndex, comp *compiled) *issueRecord {
	return &issueRecord{users: data.Users, text: data.Text, sprint: comp.sprintID,
		idOf: func(key string) int64 {
			if o, ok := idx.byKey[key]; ok {
				return data.Issues[o].ID
			}
			return 0
		}}
}

// MatchJQL adapts a compiled JQL query to the issues of the forest's rows, read as Build
// reads them for its own JQL: assignees and reporters by name too, the site's sprint
// field, parents and epics by issue id too. The result is not safe for concurrent use.
func (f *Forest) MatchJQL(m jql.Matcher) func(*Issue) bool {
	rec := newRecord(f.data, f.idx, f.comp)
	return func(is *Issue) bool {
		rec.is = is
		return m(rec)
	}
}

// issueRef is an issue-valued field: the key, with the issue id (when known) as the other
// spelling, since Jira takes either (parent = ALPHA-43, parent = 10079). altSlot is one of
// r.alt, so the answer does not allocate a slice.
func (r *issueRecord) issueRef(slot, altSlot int, key string, id int64) []jql.Value {
	if key == "" {
		return nil
	}
	v := jql.Value{Kind: jql.String, Str: key}
	if id != 0 {
		r.alt[altSlot][0] = strconv.FormatInt(id, 10)
		v.Alt = r.alt[altSlot][:]
	}
	return r.one(slot, v)
}

// keyID is the issue id of the cached issue key: through idOf, or for the issue's own
// parent from its raw parent field ({"id": "10079", "key": ...}). 0 when unknown.
func (r *issueRecord) keyID(key string) int64 {
	if r.idOf != nil {
		return r.idOf(key)
	}
	if key != r.is.Parent {
		return 0
	}
	var p struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if json.Unmarshal(r.is.Fields["parent"], &p) != nil || p.Key != key {
		return 0
	}
	id, _ := strconv.ParseInt(p.ID, 10, 64)
	return id
}

// epicLink is the issue's epic: its Epic Link on Data Center; on Cloud, where the epic is
// the parent, the parent of an issue that is not a sub-task (a sub-task's parent is a
// story or task). Jira Cloud answers the Epic Link clause the same way.
func epicLink(is *Issue) string {
	if is.EpicLink != "" || is.Subtask {
		return is.EpicLink
	}
	return is.Parent
}

func (r *issueRecord) user(slot int, id string) []jql.Value {
	if id == "" {
		return nil
	}
	if n, ok := r.users[id]; ok && n != "" {
		return []jql.Value{jql.StringValue(id, n)}
	}
	return r.str(slot, id)
}

// Values answers the canonical JQL field names (see jql.Record).
func (r *issueRecord) Values(field string) []jql.Value {
	is := r.is
	switch field {
	case "project":
		return r.one(0, jql.Value{Kind: jql.String, Str: is.Project, Alt: nil})
	case "key":
		return r.issueRef(1, 0, is.Key, is.ID)
	case "id":
		return r.one(1, jql.NumberValue(float64(is.ID)))
	case "issuetype":
		return r.str(2, is.Type)
	case "status":
		return r.str(3, is.Status)
	case "statuscategory":
		return r.str(4, is.StatusCategory)
	case "assignee":
		return r.user(5, is.Assignee)
	case "reporter":
		return r.user(6, is.Reporter)
	case "priority":
		return r.str(7, is.Priority)
	case "labels":
		r.labels = r.labels[:0]
		for _, l := range is.Labels {
			r.labels = append(r.labels, jql.Value{Kind: jql.String, Str: l})
		}
		return r.labels
	case "parent":
		return r.issueRef(0, 1, is.Parent, r.keyID(is.Parent))
	case "epic link":
		epic := epicLink(is)
		return r.issueRef(1, 2, epic, r.keyID(epic))
	case "summary":
		return r.str(2, is.Summary)
	case "resolution":
		return r.str(3, is.Resolution)
	case "story points":
		if is.StoryPoints == nil {
			return nil
		}
		return r.one(4, jql.NumberValue(*is.StoryPoints))
	case "created":
		return r.one(5, jql.TimeValue(is.Created))
	case "updated":
		return r.one(6, jql.TimeValue(is.Updated))
	case "duedate":
		if t, err := time.Parse("2006-01-02", is.DueDate); err == nil {
			return r.one(7, jql.TimeValue(t))
		}
		return nil
	case "rank":
		return r.str(0, is.Rank)
	case "level":
		if vs := r.raw("security"); len(vs) > 0 {
			return vs // the level's name, and its id as the other spelling
		}
		return r.str(2, is.SecurityLevel)
	case "resolutiondate":
		return r.raw("resolutiondate")
	case "text":
		return nil
	case "description":
		return r.raw("description")
	case "component":
		return r.raw("components")
	case "fixversion":
		return r.raw("fixVersions")
	case "sprint":
		id := r.sprint
		if id == "" {
			id = "customfield_10020"
		}
		return r.raw(id)
	}
	if strings.HasPrefix(field, "cf[") && strings.HasSuffix(field, "]") {
		return r.raw("customfield_" + field[3:len(field)-1])
	}
	return nil
}

// raw decodes a raw field into JQL values: objects by name (with id and key as other
// spellings), ADF as text, date strings as times.
func (r *issueRecord) raw(id string) []jql.Value {
	raw, ok := r.is.Fields[id]
	if !ok || len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	out := r.scratch[:0]
	if m, ok := v.(map[string]any); ok && m["type"] == "doc" {
		s := ""
		if r.text != nil {
			s = r.text(raw)
		} else {
			s = adfText(m)
		}
		return append(out, jql.StringValue(s))
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if t, ok := parseJiraTime(x); ok && len(x) >= 10 && x[4] == '-' {
				out = append(out, jql.TimeValue(t))
				return
			}
			out = append(out, jql.StringValue(x))
		case float64:
			out = append(out, jql.NumberValue(x))
		case bool:
			out = append(out, jql.StringValue(strconv.FormatBool(x)))
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			var primary string
			var alt []string
			for _, k := range []string{"name", "value", "displayName", "key", "accountId", "id"} {
				var s string
				switch y := x[k].(type) {
				case string:
					s = y
				case float64:
					s = strconv.FormatFloat(y, 'f', -1, 64)
				}
				if s == "" {
					continue
				}
				if primary == "" {
					primary = s
				} else {
					alt = append(alt, s)
				}
			}
			if primary != "" {
				out = append(out, jql.StringValue(primary, alt...))
			}
		}
	}
	walk(v)
	r.scratch = out
	return out
}
