// Package jiratest is a fake Jira site: an http.Handler that answers the Jira REST API the
// way Jira Cloud or Jira Data Center does, over a generated, deterministic data set, with a
// user directory, permissions, workflows, JQL search (package jql), writes, webhooks
// (webhook.go) and fault injection (faults.go).
//
//	site, err := jiratest.New(jiratest.Options{Dialect: "cloud", Issues: 100_000, Seed: 1})
//	srv := httptest.NewServer(site) // or any http.Server
//	defer site.Close()
//
// # Data set
//
// Projects ALPHA (10000), BETA (10001) and GAMMA (10002), about 50/30/20 % of the issues.
// Epics, stories, tasks, bugs and sub-tasks: on Cloud every child names its parent in
// "parent"; on Data Center epic children use the Epic Link field customfield_10014 and only
// sub-tasks have a parent. Story points customfield_10016, rank customfield_10019 (lexorank),
// sprints customfield_10020 (five per project: three closed, one active, one future).
// Workflows per type: To Do -> In Progress -> In Review -> Done (stories, tasks, sub-tasks),
// To Do -> In Progress -> Done (epics), Triage -> To Do -> ... -> Done (bugs); transitions to
// Done have a screen with a required resolution. JQL's WAS and CHANGED see each issue walk
// its workflow to its status (steps evenly between creation and last update, resolved on the
// step to Done) and every write since, by whom. About 15 % of BETA issues carry the
// security level "Internal". Issue ids are dense from 10000 in creation order. Generation
// depends only on Seed and Issues (dates are relative to Now): a million issues take about
// a quarter of a second and a hundred bytes each.
//
// # Directory
//
// See User and DefaultUsers: admin (everything), alice (ALPHA, BETA, Internal), bob (ALPHA),
// tokens "<name>-token", emails "<name>@example.com". Cloud authenticates Basic
// email:token, Data Center "Authorization: Bearer <token>"; anything else is 401. Every
// endpoint answers as the caller sees the site: hidden issues are absent from search and
// 404 elsewhere.
//
// # Endpoints
//
// Under /rest/api/{2,3} on Cloud and /rest/api/{2,latest} on Data Center: serverInfo
// (anonymous), myself, field, project, project/search, project/{key}, project/{key}/role[/{id}],
// issueLinkType, search (410 Gone on Cloud; startAt paging on Data Center), search/jql and
// search/approximate-count (Cloud; bounded JQL only), issue/bulkfetch (Cloud), issue/{key}
// GET/PUT/DELETE, issue (POST), issue/{key}/editmeta, issue/{key}/transitions GET/POST,
// issue/{key}/comment GET/POST, issue/createmeta/{project}/issuetypes[/{id}], issueLink
// POST, issueLink/{id} GET/DELETE, mypermissions, permissions/check (Cloud),
// user/assignable/search, user/search, user, groups/picker; and POST
// /rest/webhooks/1.0/webhook (administrators) to register webhooks.
//
// Page caps: Cloud search/jql returns at most 5,000 issues a page when only id/key are
// asked for, else 100; Data Center caps maxResults at 1,000 and 100 the same way and
// reports the cap. Without ORDER BY, results come newest first.
//
// # Tests
//
// Helpers arrange and inspect state without HTTP: Issue, Issues, VisibleTo, Links, Update,
// Delete, Move, GrantProject, RevokeProject, Faults, Webhooks. Writes through them behave
// like API writes: they bump updated and emit webhooks. WireFloorScan is the bare-client
// full scan that sync benchmarks divide by.
package jiratest
