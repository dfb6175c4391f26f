package lens

import (
	"encoding/json"
	"time"
)

// Issue is one cached Jira issue as Lenses see it. The store fills the extracted fields
// (the ones Lenses query often, indexed in SQLite) and keeps every field's raw JSON, keyed
// by Jira field id, for columns that need more.
type Issue struct {
	ID             int64
	Key            string
	ProjectID      int64
	Project        string // project key
	Type           string // issue type name
	Subtask        bool
	Status         string
	StatusCategory string // Jira's category key: "new", "indeterminate" or "done"
	Priority       string
	Resolution     string // "" while unresolved
	Parent         string // parent issue key, "" for none
	EpicLink       string // Data Center Epic Link key, "" for none or on Cloud
	SecurityLevel  string // security level name, "" for none
	Assignee       string // accountId on Cloud, user name on Data Center; "" unassigned
	Reporter       string
	Summary        string
	Labels         []string
	StoryPoints    *float64
	DueDate        string // YYYY-MM-DD or ""
	Created        time.Time
	Updated        time.Time
	Rank           string // lexorank string, sorts bytewise
	Fields         map[string]json.RawMessage
}

// Link is one issue link between two cached issues, in Jira's outward direction:
// From <Outward> To, e.g. ALPHA-1 "blocks" ALPHA-2; read backwards it is Inward.
type Link struct {
	ID      int64
	Type    string // link type name, e.g. "Blocks"
	Outward string // e.g. "blocks"
	Inward  string // e.g. "is blocked by"
	From    string // outward issue key
	To      string // inward issue key
}

// Field is one entry of the site's field catalog (GET /rest/api/2/field).
type Field struct {
	ID           string // "summary", "customfield_10016"
	Name         string // "Story Points"
	Custom       bool
	SchemaType   string // "string", "number", "array", "user", "date", "datetime", "option", ...
	SchemaItems  string // item type for arrays
	SchemaCustom string // e.g. "com.pyxis.greenhopper.jira:jsw-story-points"
}
