package refresh

// Field resolution and value syntax of the write-back path: a field named as in Lens columns
// becomes a Jira field id and a kind, a value typed by a person or a script becomes the JSON
// Jira wants for that kind, and a field's raw JSON becomes text in that same syntax (so an
// undo can write an old value back through the path a person would use).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"foundation/jira"
	"foundation/lens"
	"foundation/store"
)

// editKind is how a field's value is parsed and sent.
type editKind int

const (
	kindText     editKind = iota // string
	kindRichText                 // string on Data Center and v2, an ADF document on Cloud v3
	kindNumber
	kindDate
	kindDateTime
	kindOption      // one of the allowed values: priority, select lists, security level...
	kindMultiOption // several allowed values: components, fix versions, multi-selects
	kindLabels      // free strings
	kindUser
	kindSprint
	kindParent
	kindEpicLink
	kindStatus
)

// fieldInfo is a resolved field: its Jira id, the name to show and its kind.
type fieldInfo struct {
	ID   string
	Name string
	Kind editKind
}

// fieldAliases are the spellings of Lens columns and Jira's own names for system fields that
// the catalog's names alone would miss ("SP", "due", "type"...), by lower-case spelling.
var fieldAliases = map[string]string{
	"summary": "summary", "description": "description", "environment": "environment",
	"status": "status", "priority": "priority", "resolution": "resolution",
	"assignee": "assignee", "reporter": "reporter", "labels": "labels", "label": "labels",
	"components": "components", "component": "components",
	"fixversions": "fixVersions", "fixversion": "fixVersions", "fix versions": "fixVersions", "fix version": "fixVersions",
	"versions": "versions", "affects versions": "versions",
	"duedate": "duedate", "due": "duedate", "due date": "duedate",
	"parent": "parent", "security": "security", "security level": "security",
	"issuetype": "issuetype", "type": "issuetype",
}

// wellKnownAlias is the site-specific custom field a role name stands for, or "" (a switch,
// not a map built per call: every edit resolves its field).
func wellKnownAlias(n string, wk store.WellKnown) string {
	switch n {
	case "story points", "storypoints", "sp", "points":
		return wk.StoryPoints
	case "sprint":
		return wk.Sprint
	case "epic link", "epiclink", "epic":
		return wk.EpicLink
	case "rank":
		return wk.Rank
	}
	return ""
}

// ErrMalformedEdit marks an edit that could never be written as asked, whatever Jira's
// state: a field name no field has, a field Jira sets itself (key, created...), a field
// given twice. Scripts get it as a usage mistake (exit 2), before anything is sent.
var ErrMalformedEdit = errors.New("malformed edit")

// malformed is an ErrMalformedEdit with its own words.
type malformed struct{ msg string }

func (m malformed) Error() string        { return m.msg }
func (m malformed) Is(target error) bool { return target == ErrMalformedEdit }

func malformedf(format string, a ...any) error { return malformed{fmt.Sprintf(format, a...)} }

// readOnlyFields are the Lens columns and system fields Jira sets itself, with why an edit
// cannot set them: they appear in Lens columns, so people try.
var readOnlyFields = map[string]string{
	"key":            "an issue's key is Jira's own (it changes only when the issue moves to another project)",
	"issuekey":       "an issue's key is Jira's own (it changes only when the issue moves to another project)",
	"id":             "an issue's id is Jira's own",
	"project":        "moving an issue to another project is not an edit (use Jira's Move)",
	"created":        "Jira sets it when the issue is created",
	"updated":        "Jira sets it on every change",
	"resolutiondate": "Jira sets it when a transition sets the resolution",
	"resolved":       "Jira sets it when a transition sets the resolution",
	"statuscategory": "it follows the status: edit status instead",
	"creator":        "Jira sets it when the issue is created",
	"subtasks":       "sub-tasks are issues of their own: edit their parent instead",
	"issuelinks":     "links are not field values (move the row in a Lens that extends by links)",
	"comment":        "comments are not field values",
	"worklog":        "work is logged, not edited as a field",
	"timespent":      "it is the sum of logged work",
	"votes":          "votes are cast, not edited",
	"watches":        "watchers are not field values",
	"lastviewed":     "Jira sets it when the issue is viewed",
}

// resolveField finds a field by Lens column name, Jira name or id in the cached catalog.
// A name that is no field, or names a field Jira sets itself, is an error wrapping
// ErrMalformedEdit.
func resolveField(name string, cat []lens.Field, wk store.WellKnown) (fieldInfo, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return fieldInfo{}, malformedf("empty field name")
	}
	if strings.HasPrefix(n, "cf[") && strings.HasSuffix(n, "]") {
		n = "customfield_" + strings.TrimSpace(n[3:len(n)-1])
	}
	id := ""
	if a := wellKnownAlias(n, wk); a != "" {
		id = a
	} else if a, ok := fieldAliases[n]; ok {
		id = a
	}
	var f *lens.Field
	if id != "" {
		if i := slices.IndexFunc(cat, func(c lens.Field) bool { return c.ID == id }); i >= 0 {
			f = &cat[i]
		}
	}
	if f == nil && id == "" {
		if i := slices.IndexFunc(cat, func(c lens.Field) bool { return strings.EqualFold(c.ID, n) }); i >= 0 {
			f = &cat[i]
		} else {
			var hits []int
			for i := range cat {
				if strings.EqualFold(cat[i].Name, strings.TrimSpace(name)) {
					hits = append(hits, i)
				}
			}
			switch len(hits) {
			case 0:
				if why, ok := readOnlyFields[n]; ok {
					return fieldInfo{}, malformedf("%q cannot be edited: %s", name, why)
				}
				return fieldInfo{}, malformedf("unknown field %q (want a Lens column name, a Jira field name or an id)", name)
			case 1:
				f = &cat[hits[0]]
			default:
				ids := make([]string, len(hits))
				for k, i := range hits {
					ids[k] = cat[i].ID
				}
				return fieldInfo{}, malformedf("field name %q is ambiguous; use one of the ids %s", name, strings.Join(ids, ", "))
			}
		}
	}
	if f == nil {
		// A system field the catalog does not list (an empty cache): its id is its name.
		f = &lens.Field{ID: id, Name: id}
	}
	if why, ok := readOnlyFields[strings.ToLower(f.ID)]; ok && !f.Custom {
		return fieldInfo{}, malformedf("%q cannot be edited: %s", name, why)
	}
	return fieldInfo{ID: f.ID, Name: f.Name, Kind: kindOf(*f, wk)}, nil
}

// kindOf picks a field's kind from its catalog schema; editmeta may refine it.
func kindOf(f lens.Field, wk store.WellKnown) editKind {
	switch {
	case f.ID == "status":
		return kindStatus
	case f.ID == "parent":
		return kindParent
	case f.ID == "labels":
		return kindLabels
	case f.ID == "description" || f.ID == "environment":
		return kindRichText
	case f.ID == "duedate":
		return kindDate
	case f.ID == "assignee" || f.ID == "reporter":
		return kindUser
	case f.ID == "components" || f.ID == "fixVersions" || f.ID == "versions":
		return kindMultiOption
	case f.ID == "priority" || f.ID == "resolution" || f.ID == "security" || f.ID == "issuetype":
		return kindOption
	case f.ID == wk.Sprint || f.SchemaCustom == "com.pyxis.greenhopper.jira:gh-sprint":
		return kindSprint
	case f.ID == wk.EpicLink || f.SchemaCustom == "com.pyxis.greenhopper.jira:gh-epic-link":
		return kindEpicLink
	case strings.HasSuffix(f.SchemaCustom, ":textarea"):
		return kindRichText
	}
	switch f.SchemaType {
	case "number":
		return kindNumber
	case "date":
		return kindDate
	case "datetime":
		return kindDateTime
	case "user":
		return kindUser
	case "option", "priority", "resolution", "securitylevel", "version", "component", "option-with-child":
		return kindOption
	case "array":
		switch f.SchemaItems {
		case "string":
			return kindLabels
		case "user":
			return kindMultiOption // user pickers need allowed values too; rare on edit screens
		}
		return kindMultiOption
	}
	return kindText
}

// allowedValue is one allowed value of an option field, from editmeta.
type allowedValue struct {
	ID   string
	Name string // name, or value for custom select options
}

func allowedValues(f jira.EditField) []allowedValue {
	out := make([]allowedValue, 0, len(f.AllowedValues))
	for _, raw := range f.AllowedValues {
		var v struct {
			ID    json.RawMessage `json:"id"`
			Name  string          `json:"name"`
			Value string          `json:"value"`
		}
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		id := strings.Trim(string(v.ID), `"`)
		name := v.Name
		if name == "" {
			name = v.Value
		}
		out = append(out, allowedValue{ID: id, Name: name})
	}
	return out
}

func allowedNames(vals []allowedValue) string {
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}

// pickAllowed matches a value by name (case-insensitive) or id.
func pickAllowed(vals []allowedValue, text string) (allowedValue, bool) {
	t := strings.TrimSpace(text)
	for _, v := range vals {
		if strings.EqualFold(v.Name, t) {
			return v, true
		}
	}
	for _, v := range vals {
		if v.ID == t {
			return v, true
		}
	}
	return allowedValue{}, false
}

// isNone reports whether a value clears the field.
func isNone(text string) bool {
	t := strings.TrimSpace(text)
	return t == "" || strings.EqualFold(t, "none")
}

// splitList splits a multi-value: comma separated; "+x" adds, "-x" removes, plain items set
// the whole list. Mixing plain items with +/- is refused: it has no single meaning.
func splitList(text string) (set, add, remove []string, isSet bool, err error) {
	if isNone(text) {
		return nil, nil, nil, true, nil
	}
	for _, part := range strings.Split(text, ",") {
		p := strings.TrimSpace(part)
		switch {
		case p == "":
			continue
		case strings.HasPrefix(p, "+"):
			add = append(add, strings.TrimSpace(p[1:]))
		case strings.HasPrefix(p, "-"):
			remove = append(remove, strings.TrimSpace(p[1:]))
		default:
			set = append(set, p)
		}
	}
	if len(set) > 0 && len(add)+len(remove) > 0 {
		return nil, nil, nil, false, fmt.Errorf("mix of plain values and +/- changes in %q: either list the whole set or only +add/-remove", text)
	}
	return set, add, remove, len(add)+len(remove) == 0, nil
}

// parseDate reads a date: YYYY-MM-DD, today, tomorrow, yesterday, or a signed offset from
// today in days, weeks or months (+3d, -1w, +2m). A date outside the years Jira accepts is
// refused.
func parseDate(text string, now time.Time) (time.Time, error) {
	d, err := readDate(text, now)
	if err != nil {
		return d, err
	}
	return d, checkDateRange(d, text)
}

func readDate(text string, now time.Time) (time.Time, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	switch t {
	case "today":
		return today, nil
	case "tomorrow":
		return today.AddDate(0, 0, 1), nil
	case "yesterday":
		return today.AddDate(0, 0, -1), nil
	}
	if len(t) >= 3 && (t[0] == '+' || t[0] == '-') {
		n, err := strconv.Atoi(t[1 : len(t)-1])
		if err == nil && n >= 0 && n <= 100000 {
			if t[0] == '-' {
				n = -n
			}
			switch t[len(t)-1] {
			case 'd':
				return today.AddDate(0, 0, n), nil
			case 'w':
				return today.AddDate(0, 0, 7*n), nil
			case 'm':
				return addMonths(today, n), nil
			case 'y':
				return addMonths(today, 12*n), nil
			}
		}
		return time.Time{}, fmt.Errorf("relative date %q: want +Nd, -Nw, +Nm or +Ny", text)
	}
	d, err := time.ParseInLocation(time.DateOnly, t, now.Location())
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD, today, tomorrow, yesterday or +3d/-1w/+2m", text)
	}
	return d, nil
}

// Jira reads and writes dates as yyyy-MM-dd with four-digit years: a five-digit year is
// "Error parsing date string", and years before 1000 do not survive its date pickers and
// databases. A date outside these years is refused before anything is sent.
const minDateYear, maxDateYear = 1000, 9999

// checkDateRange refuses a date Jira cannot store; text is what was typed.
func checkDateRange(d time.Time, text string) error {
	if y := d.Year(); y < minDateYear || y > maxDateYear {
		return fmt.Errorf("date %q is %s, outside the years %d-%d that Jira accepts", strings.TrimSpace(text), d.Format("2006-01-02"), minDateYear, maxDateYear)
	}
	return nil
}

// ParseNumber reads a number field's value: a plain decimal (5, -2, 2.5, .5), as Jira's
// number fields show it. Exponents, hex, digit separators, NaN and infinities are refused:
// Jira stores none of them, and JSON cannot even carry NaN. Editors check with it what
// Set will accept.
func ParseNumber(text string) (float64, error) {
	t := strings.TrimSpace(text)
	digits, dot := 0, false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		case (c == '-' || c == '+') && i == 0:
		default:
			digits = -1
			i = len(t)
		}
	}
	if digits <= 0 {
		return 0, fmt.Errorf("%q is not a number: want a plain decimal such as 5, 2.5 or -1", t)
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("%q is too large for a number field", t)
	}
	return n, nil
}

// addMonths moves by whole months, keeping the day but clamping it to the target month's
// last day: a month after January 31 is February 28 (or 29), not March 3.
func addMonths(d time.Time, n int) time.Time {
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, d.Location()).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d.Day(), last)-1)
}

// adfDoc wraps plain text in an ADF document, one paragraph per line block.
func adfDoc(text string) map[string]any {
	var content []any
	for _, para := range strings.Split(text, "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		content = append(content, map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": para}}})
	}
	if content == nil {
		content = []any{}
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}

// renderRaw turns a field's raw JSON into text in the value syntax: what parsing that text
// would write back. Users are rendered by id (accountId or name) so the text resolves to
// the same user.
func renderRaw(k editKind, raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	switch k {
	case kindRichText, kindText:
		return jira.ADFText(raw)
	case kindNumber:
		var f float64
		if json.Unmarshal(raw, &f) == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	case kindDate, kindEpicLink:
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case kindDateTime:
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case kindUser:
		var u jira.User
		if json.Unmarshal(raw, &u) == nil {
			return u.ID()
		}
	case kindParent:
		var p struct {
			Key string `json:"key"`
		}
		if json.Unmarshal(raw, &p) == nil {
			return p.Key
		}
	case kindStatus, kindOption:
		return optionName(raw)
	case kindLabels:
		var ls []string
		if json.Unmarshal(raw, &ls) == nil {
			return strings.Join(ls, ",")
		}
	case kindMultiOption:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) == nil {
			names := make([]string, 0, len(items))
			for _, it := range items {
				names = append(names, optionName(it))
			}
			return strings.Join(names, ",")
		}
	case kindSprint:
		var sps []sprintRef
		if json.Unmarshal(raw, &sps) == nil {
			var names []string
			for _, sp := range sps {
				if sp.State != "closed" {
					names = append(names, sp.Name)
				}
			}
			return strings.Join(names, ",")
		}
	}
	return string(raw)
}

func optionName(raw json.RawMessage) string {
	var o struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &o) == nil {
		if o.Name != "" {
			return o.Name
		}
		return o.Value
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// sprintRef is a sprint as the sprint field holds it.
type sprintRef struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// sameValue compares two renderings of a field, ignoring list order and case of names.
func sameValue(k editKind, a, b string) bool {
	if k == kindLabels || k == kindMultiOption || k == kindSprint {
		split := func(s string) []string {
			out := listItems(strings.ToLower(s))
			slices.Sort(out)
			return out
		}
		return slices.Equal(split(a), split(b))
	}
	if k == kindNumber {
		fa, ea := strconv.ParseFloat(a, 64)
		fb, eb := strconv.ParseFloat(b, 64)
		if ea == nil && eb == nil {
			return math.Abs(fa-fb) < 1e-9
		}
	}
	return a == b
}
