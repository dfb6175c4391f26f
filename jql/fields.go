package jql

import (
	"strconv"
	"strings"
)

// fieldType says which operators and which literal forms a field accepts.
type fieldType int

const (
	typeString    fieldType = iota // single-valued name or id: status, issuetype, resolution...
	typeMulti                      // multi-valued: labels, component, fixversion, sprint
	typeUser                       // assignee, reporter
	typeKey                        // key, parent, epic link: ALPHA-12 orders by project then number; an issue id matches too
	typeNumber                     // id, story points
	typeTime                       // created, updated, duedate
	typeText                       // summary, description, text: only ~, !~ and IS
	typePriority                   // compared by the priority scheme's order
	typeCategory                   // statuscategory: names, keys and ids are synonyms
	typeProject                    // project: key, name or id
	typeCustom                     // cf[N]: whatever kind the record's values have
	typeOrderOnly                  // rank: ORDER BY only
)

// fieldInfo describes a canonical field.
type fieldInfo struct {
	typ fieldType
}

// knownFields maps every canonical field name to its type. The names are the ones a Record
// is asked for.
var knownFields = map[string]fieldInfo{
	"project":        {typeProject},
	"key":            {typeKey},
	"id":             {typeNumber},
	"issuetype":      {typeString},
	"status":         {typeString},
	"statuscategory": {typeCategory},
	"assignee":       {typeUser},
	"reporter":       {typeUser},
	"priority":       {typePriority},
	"labels":         {typeMulti},
	"component":      {typeMulti},
	"fixversion":     {typeMulti},
	"sprint":         {typeMulti},
	"parent":         {typeKey},
	"epic link":      {typeKey},
	"summary":        {typeText},
	"description":    {typeText},
	"text":           {typeText},
	"created":        {typeTime},
	"updated":        {typeTime},
	"duedate":        {typeTime},
	"resolution":     {typeString},
	"resolutiondate": {typeTime},
	"level":          {typeString},
	"story points":   {typeNumber},
	"rank":           {typeOrderOnly},
}

// fieldAliases are the other spellings Jira accepts for a canonical field.
var fieldAliases = map[string]string{
	"issuekey":     "key",
	"issue":        "key",
	"type":         "issuetype",
	"due":          "duedate",
	"createddate":  "created",
	"updateddate":  "updated",
	"resolved":     "resolutiondate",
	"components":   "component",
	"fixversions":  "fixversion",
	"epic_link":    "epic link",
	"storypoints":  "story points",
	"story_points": "story points",
}

// CanonicalField maps a field name as written in JQL (any case, quoted or not) to the
// canonical name a Record is asked for: "issuekey" -> "key", "type" -> "issuetype",
// "Epic Link" -> "epic link", "customfield_10016" and "cf[10016]" -> "cf[10016]".
// It reports false for names that are not Foundation fields.
func CanonicalField(name string) (string, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if _, ok := knownFields[n]; ok {
		return n, true
	}
	if c, ok := fieldAliases[n]; ok {
		return c, true
	}
	if id, ok := customFieldID(n); ok {
		return "cf[" + id + "]", true
	}
	return "", false
}

// customFieldID extracts the numeric id of "cf[N]" or "customfield_N" (already lower case).
func customFieldID(n string) (string, bool) {
	var digits string
	switch {
	case strings.HasPrefix(n, "cf[") && strings.HasSuffix(n, "]"):
		digits = strings.TrimSpace(n[3 : len(n)-1])
	case strings.HasPrefix(n, "customfield_"):
		digits = n[len("customfield_"):]
	default:
		return "", false
	}
	if digits == "" || len(digits) > 18 {
		return "", false
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(v, 10), true
}

// lookupField returns the type of a canonical field.
func lookupField(canonical string) (fieldInfo, bool) {
	if fi, ok := knownFields[canonical]; ok {
		return fi, true
	}
	if strings.HasPrefix(canonical, "cf[") {
		return fieldInfo{typeCustom}, true
	}
	return fieldInfo{}, false
}

// displayField is the name Jira shows in messages for a canonical field.
func displayField(canonical string) string {
	switch canonical {
	case "epic link":
		return "Epic Link"
	case "story points":
		return "Story Points"
	case "statuscategory":
		return "statusCategory"
	case "fixversion":
		return "fixVersion"
	case "duedate":
		return "due"
	}
	return canonical
}

// statusCategories lists Jira's status categories: key, name and id are synonyms in JQL.
var statusCategories = []struct{ key, name, id string }{
	{"new", "To Do", "2"},
	{"indeterminate", "In Progress", "4"},
	{"done", "Done", "3"},
	{"undefined", "No Category", "1"},
}

// categoryOrder ranks a status category (by key or name) for ORDER BY: to do, in
// progress, done; unknown ones rank 0.
func categoryOrder(s string) int {
	switch {
	case strings.EqualFold(s, "new"), strings.EqualFold(s, "To Do"):
		return 1
	case strings.EqualFold(s, "indeterminate"), strings.EqualFold(s, "In Progress"):
		return 2
	case strings.EqualFold(s, "done"):
		return 3
	}
	return 0
}

// defaultPriorities is Jira's default priority scheme, lowest first, so a higher index is a
// higher priority: "priority > Low" selects Medium, High and Highest as Jira does.
var defaultPriorities = []string{"Lowest", "Low", "Medium", "High", "Highest"}

// priorityRank returns 1..5 for the default priorities and 0 for any other name.
func priorityRank(name string) int {
	for i, p := range defaultPriorities {
		if strings.EqualFold(p, name) {
			return i + 1
		}
	}
	return 0
}
