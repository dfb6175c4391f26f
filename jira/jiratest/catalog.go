package jiratest

// The fixed catalogs of the fake site: projects, issue types, statuses and workflows,
// priorities, resolutions, labels, components, versions, sprints, link types and the
// field catalog. Issues refer to these by small indices so a million of them stay compact.

const (
	dialectCloud      = "cloud"
	dialectDataCenter = "datacenter"
)

// Well-known custom field ids of the fake site. Real sites differ, which is why clients
// resolve them from the field catalog by schema.custom.
const (
	fieldEpicLink    = "customfield_10014"
	fieldStoryPoints = "customfield_10016"
	fieldRank        = "customfield_10019"
	fieldSprint      = "customfield_10020"
)

type project struct {
	id         int64
	key        string
	name       string
	components []string
	versions   []version
}

type version struct {
	name        string
	released    bool
	releaseDate string
}

var projects = []project{
	{id: 10000, key: "ALPHA", name: "Alpha", components: []string{"API", "Web", "Mobile"},
		versions: []version{{"1.0", true, "2026-03-31"}, {"1.1", true, "2026-07-31"}, {"2.0", false, "2027-01-31"}}},
	{id: 10001, key: "BETA", name: "Beta", components: []string{"Core", "Billing", "Reports"},
		versions: []version{{"2025.4", true, "2026-01-15"}, {"2026.2", true, "2026-06-15"}, {"2026.4", false, "2026-12-15"}}},
	{id: 10002, key: "GAMMA", name: "Gamma", components: []string{"Platform", "Ops"},
		versions: []version{{"v1", true, "2026-05-01"}, {"v2", false, "2027-02-01"}}},
}

// componentID and versionID give catalog entries stable numeric ids per project.
func componentID(p, c int) int64 { return 10100 + int64(p)*10 + int64(c) }
func versionID(p, v int) int64   { return 10200 + int64(p)*10 + int64(v) }

type issueType struct {
	id       int64
	name     string
	subtask  bool
	level    int // hierarchyLevel: 1 epic, 0 standard, -1 sub-task
	workflow int // index into workflows
}

const (
	typeEpic = iota
	typeStory
	typeTask
	typeBug
	typeSubtask
)

var issueTypes = []issueType{
	{id: 10000, name: "Epic", level: 1, workflow: wfEpic},
	{id: 10001, name: "Story", workflow: wfStandard},
	{id: 10002, name: "Task", workflow: wfStandard},
	{id: 10003, name: "Bug", workflow: wfBug},
	{id: 10004, name: "Sub-task", subtask: true, level: -1, workflow: wfStandard},
}

type statusCategory struct {
	id    int64
	key   string
	name  string
	color string
}

var statusCategories = []statusCategory{
	{id: 2, key: "new", name: "To Do", color: "blue-gray"},
	{id: 4, key: "indeterminate", name: "In Progress", color: "yellow"},
	{id: 3, key: "done", name: "Done", color: "green"},
}

type status struct {
	id       int64
	name     string
	category int // index into statusCategories
}

const (
	stToDo = iota
	stInProgress
	stInReview
	stDone
	stTriage
)

var statuses = []status{
	{id: 10000, name: "To Do", category: 0},
	{id: 3, name: "In Progress", category: 1},
	{id: 10001, name: "In Review", category: 1},
	{id: 10002, name: "Done", category: 2},
	{id: 10003, name: "Triage", category: 0},
}

type transition struct {
	id   string
	name string
	from []int // statuses the transition is available from
	to   int
	// needsResolution marks the transition screen with a required resolution field,
	// which is how Jira's default workflows guard moves into Done.
	needsResolution bool
	// clearsResolution is set on moves out of Done.
	clearsResolution bool
}

type workflow struct {
	name        string
	initial     int
	transitions []transition
}

const (
	wfStandard = iota
	wfEpic
	wfBug
)

// Transition ids differ between workflows, as they do on real sites.
var workflows = []workflow{
	wfStandard: {name: "Software Simplified Workflow", initial: stToDo, transitions: []transition{
		{id: "11", name: "Start Progress", from: []int{stToDo}, to: stInProgress},
		{id: "21", name: "Send to Review", from: []int{stInProgress}, to: stInReview},
		{id: "31", name: "Done", from: []int{stInReview, stInProgress}, to: stDone, needsResolution: true},
		{id: "41", name: "Back to To Do", from: []int{stInProgress, stInReview}, to: stToDo},
		{id: "51", name: "Reopen", from: []int{stDone}, to: stToDo, clearsResolution: true},
		{id: "61", name: "Back to In Progress", from: []int{stInReview}, to: stInProgress},
	}},
	wfEpic: {name: "Epic Workflow", initial: stToDo, transitions: []transition{
		{id: "211", name: "Start", from: []int{stToDo}, to: stInProgress},
		{id: "221", name: "Done", from: []int{stInProgress}, to: stDone, needsResolution: true},
		{id: "231", name: "Reopen", from: []int{stDone}, to: stToDo, clearsResolution: true},
		{id: "241", name: "Back to To Do", from: []int{stInProgress}, to: stToDo},
	}},
	wfBug: {name: "Bug Workflow", initial: stTriage, transitions: []transition{
		{id: "101", name: "Accept", from: []int{stTriage}, to: stToDo},
		{id: "111", name: "Reject", from: []int{stTriage}, to: stDone, needsResolution: true},
		{id: "121", name: "Start Progress", from: []int{stToDo}, to: stInProgress},
		{id: "131", name: "Send to Review", from: []int{stInProgress}, to: stInReview},
		{id: "141", name: "Fixed", from: []int{stInReview}, to: stDone, needsResolution: true},
		{id: "151", name: "Reopen", from: []int{stDone}, to: stTriage, clearsResolution: true},
		{id: "161", name: "Back to In Progress", from: []int{stInReview}, to: stInProgress},
	}},
}

// workflowPath lists the statuses an issue passes on its way to Done, used by the
// generator so that generated issues sit in statuses their workflow can reach.
var workflowPath = [][]int{
	wfStandard: {stToDo, stInProgress, stInReview, stDone},
	wfEpic:     {stToDo, stInProgress, stDone},
	wfBug:      {stTriage, stToDo, stInProgress, stInReview, stDone},
}

type named struct {
	id   int64
	name string
}

var priorities = []named{{1, "Highest"}, {2, "High"}, {3, "Medium"}, {4, "Low"}, {5, "Lowest"}}

var resolutions = []named{{10000, "Done"}, {10001, "Won't Do"}, {10002, "Duplicate"}, {10003, "Cannot Reproduce"}}

// baseLabels are the labels the generator draws from; an issue stores them as a bit mask.
var baseLabels = []string{"backend", "frontend", "ux", "infra", "tech-debt", "security", "performance", "docs"}

type linkType struct {
	id      int64
	name    string
	inward  string
	outward string
}

var linkTypes = []linkType{
	{id: 10000, name: "Blocks", inward: "is blocked by", outward: "blocks"},
	{id: 10001, name: "Relates", inward: "relates to", outward: "relates to"},
	{id: 10002, name: "Duplicate", inward: "is duplicated by", outward: "duplicates"},
}

// The security level scheme has one level; some BETA issues carry it.
const (
	securityLevelID   = 10100
	securityLevelName = "Internal"
)

type sprint struct {
	id      int64
	name    string
	state   string // closed, active, future
	boardID int64
	project int
	start   int // days relative to now (negative = past); future sprints have none
	end     int
}

// sprintsFor lays out five two-week sprints per project: three closed, one active, one future.
func sprintCatalog() []sprint {
	var out []sprint
	id := int64(1)
	for p := range projects {
		for i := range 5 {
			s := sprint{id: id, name: projects[p].key + " Sprint " + itoa(i+1), boardID: int64(p + 1), project: p,
				start: -56 + 14*i, end: -42 + 14*i}
			switch {
			case i < 3:
				s.state = "closed"
			case i == 3:
				s.state = "active"
				s.start, s.end = -7, 7
			default:
				s.state = "future"
				s.start, s.end = 7, 21
			}
			out = append(out, s)
			id++
		}
	}
	return out
}

var sprints = sprintCatalog()

// fieldDef describes one field of the catalog (GET /rest/api/2/field) and how the JQL
// clause and edit screens know it.
type fieldDef struct {
	id         string
	name       string
	custom     bool
	schemaType string
	items      string
	system     string
	customType string
	customID   int64
	clauses    []string
	navigable  bool
	orderable  bool // editable via the edit screen
	dcOnly     bool
	cloudOnly  bool
}

var fieldCatalog = []fieldDef{
	{id: "summary", name: "Summary", schemaType: "string", system: "summary", clauses: []string{"summary"}, navigable: true, orderable: true},
	{id: "issuetype", name: "Issue Type", schemaType: "issuetype", system: "issuetype", clauses: []string{"issuetype", "type"}, navigable: true, orderable: true},
	{id: "project", name: "Project", schemaType: "project", system: "project", clauses: []string{"project"}, navigable: true, orderable: true},
	{id: "status", name: "Status", schemaType: "status", system: "status", clauses: []string{"status"}, navigable: true},
	{id: "statuscategorychangedate", name: "Status Category Changed", schemaType: "datetime", system: "statuscategorychangedate", clauses: []string{"statusCategoryChangedDate"}, navigable: true, cloudOnly: true},
	{id: "priority", name: "Priority", schemaType: "priority", system: "priority", clauses: []string{"priority"}, navigable: true, orderable: true},
	{id: "resolution", name: "Resolution", schemaType: "resolution", system: "resolution", clauses: []string{"resolution"}, navigable: true, orderable: true},
	{id: "resolutiondate", name: "Resolved", schemaType: "datetime", system: "resolutiondate", clauses: []string{"resolutiondate", "resolved"}, navigable: true},
	{id: "assignee", name: "Assignee", schemaType: "user", system: "assignee", clauses: []string{"assignee"}, navigable: true, orderable: true},
	{id: "reporter", name: "Reporter", schemaType: "user", system: "reporter", clauses: []string{"reporter"}, navigable: true, orderable: true},
	{id: "creator", name: "Creator", schemaType: "user", system: "creator", clauses: []string{"creator"}, navigable: true},
	{id: "created", name: "Created", schemaType: "datetime", system: "created", clauses: []string{"created", "createdDate"}, navigable: true},
	{id: "updated", name: "Updated", schemaType: "datetime", system: "updated", clauses: []string{"updated", "updatedDate"}, navigable: true},
	{id: "duedate", name: "Due date", schemaType: "date", system: "duedate", clauses: []string{"due", "duedate"}, navigable: true, orderable: true},
	{id: "labels", name: "Labels", schemaType: "array", items: "string", system: "labels", clauses: []string{"labels"}, navigable: true, orderable: true},
	{id: "components", name: "Components", schemaType: "array", items: "component", system: "components", clauses: []string{"component"}, navigable: true, orderable: true},
	{id: "fixVersions", name: "Fix versions", schemaType: "array", items: "version", system: "fixVersions", clauses: []string{"fixVersion"}, navigable: true, orderable: true},
	{id: "parent", name: "Parent", schemaType: "issuelink", system: "parent", clauses: []string{"parent"}, navigable: true, orderable: true},
	{id: "subtasks", name: "Sub-tasks", schemaType: "array", items: "issuelinks", system: "subtasks", clauses: []string{"subtasks"}, navigable: true},
	{id: "issuelinks", name: "Linked Issues", schemaType: "array", items: "issuelinks", system: "issuelinks", clauses: []string{"issueLink"}, navigable: true, orderable: true},
	{id: "security", name: "Security Level", schemaType: "securitylevel", system: "security", clauses: []string{"level"}, navigable: true, orderable: true},
	{id: "description", name: "Description", schemaType: "string", system: "description", clauses: []string{"description"}, orderable: true},
	{id: "comment", name: "Comment", schemaType: "comments-page", system: "comment", clauses: []string{"comment"}, orderable: true},
	{id: fieldEpicLink, name: "Epic Link", custom: true, schemaType: "any", customType: "com.pyxis.greenhopper.jira:gh-epic-link", customID: 10014, clauses: []string{"cf[10014]", "Epic Link"}, navigable: true, orderable: true, dcOnly: true},
	{id: fieldStoryPoints, name: "Story Points", custom: true, schemaType: "number", customType: "com.pyxis.greenhopper.jira:jsw-story-points", customID: 10016, clauses: []string{"cf[10016]", "Story Points"}, navigable: true, orderable: true},
	{id: fieldRank, name: "Rank", custom: true, schemaType: "any", customType: "com.pyxis.greenhopper.jira:gh-lexo-rank", customID: 10019, clauses: []string{"cf[10019]", "Rank"}, navigable: true},
	{id: fieldSprint, name: "Sprint", custom: true, schemaType: "array", items: "json", customType: "com.pyxis.greenhopper.jira:gh-sprint", customID: 10020, clauses: []string{"cf[10020]", "Sprint"}, navigable: true, orderable: true},
}

// fieldsFor returns the catalog as the dialect shows it.
func fieldsFor(dialect string) []fieldDef {
	out := make([]fieldDef, 0, len(fieldCatalog))
	for _, f := range fieldCatalog {
		if (f.dcOnly && dialect != dialectDataCenter) || (f.cloudOnly && dialect != dialectCloud) {
			continue
		}
		out = append(out, f)
	}
	return out
}

func itoa(n int) string {
	return formatInt(int64(n))
}
