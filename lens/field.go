package lens

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// sysField is a field Lenses read from Issue's extracted members rather than raw JSON.
type sysField int

const (
	sysNone sysField = iota
	sysKey
	sysSummary
	sysStatus
	sysCategory
	sysType
	sysPriority
	sysResolution
	sysAssignee
	sysReporter
	sysLabels
	sysProject
	sysParent
	sysEpicLink
	sysStoryPoints
	sysDue
	sysCreated
	sysUpdated
	sysRank
	sysSecurity
)

// systemFields maps the accepted spellings (lower case) of extracted fields to them, with
// the title a column shows.
var systemFields = map[string]struct {
	f     sysField
	title string
}{
	"key": {sysKey, "Key"}, "issuekey": {sysKey, "Key"},
	"summary":        {sysSummary, "Summary"},
	"status":         {sysStatus, "Status"},
	"statuscategory": {sysCategory, "Category"}, "status category": {sysCategory, "Category"},
	"issuetype": {sysType, "Type"}, "type": {sysType, "Type"},
	"priority":     {sysPriority, "Priority"},
	"resolution":   {sysResolution, "Resolution"},
	"assignee":     {sysAssignee, "Assignee"},
	"reporter":     {sysReporter, "Reporter"},
	"labels":       {sysLabels, "Labels"},
	"project":      {sysProject, "Project"},
	"parent":       {sysParent, "Parent"},
	"epic link":    {sysEpicLink, "Epic Link"},
	"story points": {sysStoryPoints, "SP"}, "storypoints": {sysStoryPoints, "SP"},
	"duedate": {sysDue, "Due"}, "due": {sysDue, "Due"}, "due date": {sysDue, "Due"},
	"created":  {sysCreated, "Created"},
	"updated":  {sysUpdated, "Updated"},
	"rank":     {sysRank, "Rank"},
	"security": {sysSecurity, "Security"}, "security level": {sysSecurity, "Security"},
}

// Catalog resolves field names and ids for a site: the extracted system fields plus the
// site's field catalog (GET /rest/api/2/field).
type Catalog struct {
	fields []Field
	byID   map[string]int
	byName map[string][]int // lower-case name
}

// NewCatalog indexes a site's field catalog.
func NewCatalog(fields []Field) Catalog {
	c := Catalog{fields: fields, byID: make(map[string]int, len(fields)), byName: make(map[string][]int, len(fields))}
	for i, f := range fields {
		c.byID[f.ID] = i
		n := strings.ToLower(f.Name)
		c.byName[n] = append(c.byName[n], i)
	}
	return c
}

// JQLHasField answers jql.Env.HasField from the catalog: whether the site has a custom
// field "cf[N]", or a field by the name or id written. It is nil for an empty catalog (a
// cache never refreshed), which knows no better than to take every field on trust.
func (c Catalog) JQLHasField() func(field string) bool {
	if len(c.fields) == 0 {
		return nil
	}
	return func(field string) bool {
		n := strings.ToLower(strings.TrimSpace(field))
		if strings.HasPrefix(n, "cf[") && strings.HasSuffix(n, "]") {
			n = "customfield_" + strings.TrimSpace(n[3:len(n)-1])
		}
		if _, ok := c.byID[n]; ok {
			return true
		}
		if _, ok := c.byID[field]; ok {
			return true
		}
		return len(c.byName[n]) > 0
	}
}

// fieldRef is a resolved field: an extracted system field, or a raw field by id.
type fieldRef struct {
	sys   sysField
	id    string // raw field id when sys == sysNone
	title string
	typ   string // schema type of raw fields
	items string
}

// resolve finds a field by system name, id ("customfield_10016"), JQL id ("cf[10016]") or
// catalog name ("Sprint"). A name shared by several fields is an error naming their ids.
func (c Catalog) resolve(name string) (fieldRef, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if s, ok := systemFields[n]; ok {
		return fieldRef{sys: s.f, title: s.title}, nil
	}
	if strings.HasPrefix(n, "cf[") && strings.HasSuffix(n, "]") {
		n = "customfield_" + strings.TrimSpace(n[3:len(n)-1])
	}
	if i, ok := c.byID[n]; ok {
		return c.ref(i), nil
	}
	if i, ok := c.byID[name]; ok {
		return c.ref(i), nil
	}
	switch ids := c.byName[n]; len(ids) {
	case 0:
	case 1:
		return c.ref(ids[0]), nil
	default:
		var s []string
		for _, i := range ids {
			s = append(s, c.fields[i].ID)
		}
		return fieldRef{}, fmt.Errorf("field name %q is ambiguous; use one of the ids %s", name, strings.Join(s, ", "))
	}
	return fieldRef{}, fmt.Errorf("unknown field %q; valid: %s", name, strings.Join(c.validNames(), ", "))
}

func (c Catalog) ref(i int) fieldRef {
	f := c.fields[i]
	// A catalog entry that Issue already extracts reads the extracted value.
	if s, ok := systemFields[strings.ToLower(f.ID)]; ok {
		return fieldRef{sys: s.f, title: f.Name}
	}
	return fieldRef{id: f.ID, title: f.Name, typ: f.SchemaType, items: f.SchemaItems}
}

// multi reports whether the field holds a list (labels, components, versions, sprints,
// multi-selects): exports give its values one by one.
func (f fieldRef) multi() bool { return f.sys == sysLabels || (f.sys == sysNone && f.typ == "array") }

// validNames lists the system fields and the catalog's names, for error messages.
func (c Catalog) validNames() []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range []string{"key", "summary", "status", "statusCategory", "issuetype", "priority", "resolution", "assignee", "reporter", "labels", "project", "parent", "epic link", "story points", "duedate", "created", "updated", "rank", "security"} {
		seen[strings.ToLower(n)] = true
		out = append(out, n)
	}
	var rest []string
	for _, f := range c.fields {
		if !seen[strings.ToLower(f.Name)] && !seen[strings.ToLower(f.ID)] {
			seen[strings.ToLower(f.Name)] = true
			rest = append(rest, f.Name)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// values reads a field of an issue as typed values: several for multi-valued fields, none
// when empty. Users show display names from users when known.
func (r fieldRef) values(is *Issue, env *valueEnv) []Value {
	str := func(s string) []Value {
		if s == "" {
			return nil
		}
		return []Value{textValue(s)}
	}
	switch r.sys {
	case sysKey:
		return str(is.Key)
	case sysSummary:
		return str(is.Summary)
	case sysStatus:
		return str(is.Status)
	case sysCategory:
		return str(categoryName(is.StatusCategory))
	case sysType:
		return str(is.Type)
	case sysPriority:
		return str(is.Priority)
	case sysResolution:
		return str(is.Resolution)
	case sysAssignee:
		return str(env.user(is.Assignee))
	case sysReporter:
		return str(env.user(is.Reporter))
	case sysLabels:
		out := make([]Value, len(is.Labels))
		for i, l := range is.Labels {
			out[i] = textValue(l)
		}
		return out
	case sysProject:
		return str(is.Project)
	case sysParent:
		return str(is.Parent)
	case sysEpicLink:
		return str(is.EpicLink)
	case sysStoryPoints:
		if is.StoryPoints == nil {
			return nil
		}
		return []Value{numValue(*is.StoryPoints)}
	case sysDue:
		if t, err := time.Parse("2006-01-02", is.DueDate); err == nil {
			return []Value{timeValue(t)}
		}
		return nil
	case sysCreated:
		if is.Created.IsZero() {
			return nil
		}
		return []Value{timeValue(is.Created)}
	case sysUpdated:
		if is.Updated.IsZero() {
			return nil
		}
		return []Value{timeValue(is.Updated)}
	case sysRank:
		return str(is.Rank)
	case sysSecurity:
		return str(is.SecurityLevel)
	}
	raw, ok := is.Fields[r.id]
	if !ok {
		return nil
	}
	return rawValues(raw, r.typ, env)
}

// sortValue is the single value a field sorts and groups by: priorities and status
// categories by their scheme order, multi-valued fields by their first value.
func (r fieldRef) sortValue(is *Issue, env *valueEnv) Value {
	switch r.sys {
	case sysPriority:
		if is.Priority == "" {
			return Value{}
		}
		return numValue(priorityOrder(is.Priority))
	case sysCategory:
		return numValue(categoryOrder(is.StatusCategory))
	case sysKey, sysParent, sysEpicLink:
		// Keys sort by project, then numerically: ALPHA-9 before ALPHA-10.
		k := r.values(is, env)
		if len(k) == 0 {
			return Value{}
		}
		return textValue(keySortText(k[0].Str))
	case sysStatus:
		// Status sorts by its category first so To Do < In Progress < Done.
		if is.Status == "" {
			return Value{}
		}
		return textValue(fmt.Sprintf("%d %s", int(categoryOrder(is.StatusCategory)), strings.ToLower(is.Status)))
	}
	vs := r.values(is, env)
	if len(vs) == 0 {
		return Value{}
	}
	return vs[0]
}

// valueEnv is what rendering field values needs beyond the issue.
type valueEnv struct {
	users map[string]string
	text  func(json.RawMessage) string
}

func (e *valueEnv) user(id string) string {
	if id == "" {
		return ""
	}
	if n, ok := e.users[id]; ok && n != "" {
		return n
	}
	return id
}

// rawValues decodes a raw Jira field value by its schema type. Objects show their
// displayName, name, value or key; ADF documents show as plain text.
func rawValues(raw json.RawMessage, typ string, env *valueEnv) []Value {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return []Value{textValue(string(raw))}
	}
	if m, ok := v.(map[string]any); ok && m["type"] == "doc" {
		var s string
		if env.text != nil {
			s = env.text(raw)
		} else {
			s = adfText(m)
		}
		if s == "" {
			return nil
		}
		return []Value{textValue(s)}
	}
	var out []Value
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case nil:
		case string:
			if x == "" {
				return
			}
			if typ == "date" || typ == "datetime" {
				if t, ok := parseJiraTime(x); ok {
					out = append(out, timeValue(t))
					return
				}
			}
			out = append(out, textValue(x))
		case float64:
			out = append(out, numValue(x))
		case bool:
			out = append(out, textValue(fmt.Sprint(x)))
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if s, ok := linkText(x); ok {
				if s != "" {
					out = append(out, textValue(s))
				}
				return
			}
			if typ == "user" || x["accountId"] != nil {
				id, _ := x["accountId"].(string)
				if id == "" {
					id, _ = x["name"].(string)
				}
				if n, ok := env.users[id]; ok && n != "" {
					out = append(out, textValue(n))
					return
				}
			}
			for _, k := range []string{"displayName", "name", "value", "key"} {
				if s, ok := x[k].(string); ok && s != "" {
					out = append(out, textValue(s))
					return
				}
			}
		}
	}
	walk(v)
	return out
}

// linkText reads an entry of Jira's issuelinks field as the link reads from the issue that
// holds it: "blocks ALPHA-2" (the other issue is the outward one, so the link type's
// outward words), "is blocked by BETA-3" (inward). ok is false when x is not a link entry.
// Links to issues the viewer may not browse are not there to read: Build has left them out
// (redact.go).
func linkText(x map[string]any) (s string, ok bool) {
	typ, isType := x["type"].(map[string]any)
	if !isType {
		return "", false
	}
	for _, side := range []struct{ issue, words string }{{"outwardIssue", "outward"}, {"inwardIssue", "inward"}} {
		o, has := x[side.issue]
		if !has {
			continue
		}
		key := ""
		if m, isMap := o.(map[string]any); isMap {
			key, _ = m["key"].(string)
		}
		if key == "" {
			return "", true
		}
		words, _ := typ[side.words].(string)
		if words == "" {
			words, _ = typ["name"].(string)
		}
		if words == "" {
			return key, true
		}
		return words + " " + key, true
	}
	return "", false
}

// parseJiraTime reads Jira's date and datetime forms.
func parseJiraTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// adfText flattens an Atlassian Document Format node to one line of text: block nodes are
// separated by spaces, mentions and emoji show their text. Used when Data.Text is nil.
func adfText(n map[string]any) string {
	var b strings.Builder
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		switch n["type"] {
		case "text":
			s, _ := n["text"].(string)
			b.WriteString(s)
			return
		case "mention", "emoji", "status", "date":
			if attrs, ok := n["attrs"].(map[string]any); ok {
				for _, k := range []string{"text", "shortName", "timestamp"} {
					if s, ok := attrs[k].(string); ok {
						b.WriteString(s)
						return
					}
				}
			}
			return
		case "hardBreak":
			b.WriteByte(' ')
			return
		}
		content, _ := n["content"].([]any)
		for _, c := range content {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
		if b.Len() > 0 && n["type"] != "doc" && !strings.HasSuffix(b.String(), " ") {
			switch n["type"] {
			case "paragraph", "heading", "listItem", "codeBlock", "blockquote", "tableCell", "tableHeader", "panel":
				b.WriteByte(' ')
			}
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// keySortText pads an issue key's number so text order is key order.
func keySortText(key string) string {
	i := strings.LastIndexByte(key, '-')
	if i < 0 {
		return key
	}
	return fmt.Sprintf("%s-%012s", key[:i], key[i+1:])
}

// rawID is the value to write back for a group row's value v of this field: the user id
// for assignee and reporter (whose values show display names), else the value's text.
func (r fieldRef) rawID(is *Issue, v Value) string {
	switch r.sys {
	case sysAssignee:
		return is.Assignee
	case sysReporter:
		return is.Reporter
	}
	return v.display()
}
