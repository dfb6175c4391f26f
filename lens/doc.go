// Package lens is the Lens engine: definitions (YAML), generators that build a forest of
// rows from cached issues, views with field, roll-up, progress and formula columns,
// conditional formatting, ACL levels and export rendering. It is pure: no SQL, no HTTP.
//
// # Use
//
//	d, err := lens.Parse("roadmap.yaml", src)          // shape errors: DefinitionErrors
//	err = d.Validate(lens.NewCatalog(fields))          // meaning: every problem at once
//	keys := d.RemoteQueries()                           // JQL refresh must ask Jira about
//	f, err := lens.Build(d, &lens.Data{Issues: ..., RemoteMembers: ...}, viewerCanBrowse)
//	v, err := f.View("")                                // default view: aggregates computed
//	for i := range f.Rows { cell := v.Cell(i, c) }      // TUI: only the visible window
//	err = lens.Render(os.Stdout, f, "", "csv", lens.RenderOptions{Depth: 2})
//
// # The forest
//
// Forest.Rows holds every row in depth-first order: row i's subtree is i+1..End-1, its
// parent is Parent (-1 at the top), and Path ("g:backend/ALPHA-1/ALPHA-7") identifies it
// across rebuilds. The same issue may sit in several places, each a row of its own.
// View computes roll-up, progress and formula columns for all rows once; field cells and
// formatting are computed when asked, so opening a large Lens costs only its aggregates.
//
// # Visibility
//
// Build's visible predicate runs first, over every issue. A hidden issue is never a row,
// no extender walks through it (its children only appear if inserted directly and
// visible themselves), and it counts in no roll-up, progress, group or export. A visible
// issue that names hidden ones (parent, Epic Link, raw sub-tasks, links or other
// issue-valued fields; an issue the data does not hold counts as hidden) is shown, to
// everything after the predicate, as a copy without those references (Redacted), and a
// JQL insert only Jira answers that names a hidden key yields nothing.
//
// # Definition format
//
//	name: Roadmap                      # required
//	description: Epics and their work
//	owner: alice                       # has control implicitly
//	acl:                               # view < edit < generators < control; highest wins
//	  - {principal: anyone, level: view}
//	  - {principal: group:developers, level: edit}
//	  - {principal: role:ALPHA/Administrators, level: generators}
//	  - {principal: user:bob, level: control}
//	generators:                        # run as insert, extend, filter, group, sort
//	  - insert: {jql: "project = ALPHA AND issuetype = Epic ORDER BY rank"}
//	  - insert: {keys: [ALPHA-1, BETA-7]}
//	  - extend: {by: parent}           # parent | subtasks | links; depth: default 10
//	  - extend: {by: links, link_type: Blocks, direction: both, depth: 2}
//	  - filter: {jql: "status != Done", keep_ancestors: true}
//	  - filter: {column: story points, op: ">=", value: 3}
//	  - filter: {dedupe: true}
//	  - group: {by: assignee}          # any field; multi-valued fields: one group per value
//	  - sort: {by: [priority, -updated]}   # "-" descending; "rank" is Jira's rank
//	  - sort: {formula: "points * 2", desc: true}
//	  - sort: {by: [-sp]}              # a column id of the default view: roll-ups too
//	folders:                           # non-issue rows, each with its own generators
//	  - name: Bugs
//	    generators: [{insert: {jql: "issuetype = Bug"}}]
//	    folders: []
//	views:
//	  - name: plan
//	    default: true
//	    columns:
//	      - field: key                 # any system field, custom field id, cf[N] or name
//	      - {id: sp, title: SP, rollup: {op: sum, field: story points, over: descendants}}
//	      - {id: done, progress: {by: status, weight: story points}}
//	      - {id: left, formula: "sp * (1 - done)"}
//	    format:                        # first matching rule wins; row: true styles the row
//	      - {column: status, op: "=", value: Done, style: {fg: muted}, row: true}
//	      - {column: sp, op: ">", value: 20, style: {fg: danger, bold: true}}
//
// Generators apply to the rows of the level where they sit (the top level or a folder);
// folder rows come first, then the generated rows. Inserts add each issue once per level,
// in data order or in the JQL's ORDER BY. Extenders add related issues under every issue
// row of the level, recursively, never an issue under itself. A filter without
// keep_ancestors lifts the matches under a dropped row into its place. Grouping twice
// groups within groups. Sort orders issue siblings at every level; group and folder rows
// keep their place. A sort key that is not a field may name a column of the default
// view, and a sort formula may use its roll-up and progress columns by id.
//
// A JQL that local evaluation cannot answer (membersOf() or openSprints() when Data
// lacks MembersOf or OpenSprints; WAS and CHANGED, as the cache keeps no change history)
// is listed by RemoteQueries; Build takes its members from
// Data.RemoteMembers, or adds a Forest note when refresh has not fetched them.
//
// Roll-ups (sum, count, min, max, avg) aggregate over children, leaves or descendants
// (default), counting an issue present twice once. Over descendants, sum, min, max and
// avg include the row's own issue; count counts the issues under the row. A row with no
// issue rows under it shows its own value (count shows 0). Progress is 0..1 per leaf issue: by status category
// (To Do 0, In Progress 0.5, Done 1), by resolution (resolved 1) or by a 0..100 numeric
// field, averaged with weights equal, story points or estimate (timeoriginalestimate);
// all-zero weights fall back to equal.
//
// Formulas are expr-lang expressions over the row's issue: key, summary, status,
// category, type, priority, resolution, assignee, reporter, project, parent, epic, labels
// ([]string), points (number, 0 when unset), created, updated, due (times; zero when
// unset), rank, isIssue, now, and the view's roll-up and progress columns by id (numbers).
// Functions: expr's built-ins (upper, lower, trim, split, len, round, abs, max, min,
// date, duration, ...) and days(a, b), isZero(t), ymd(t), has(labels, "x"). A formula
// that fails on a row shows "#ERR ..." in that cell; the build goes on.
//
// Predicates (filter column, format rules): =, !=, <, <=, >, >=, contains, !contains,
// empty, !empty. The value compares as a number, a percentage (50%), a date
// (YYYY-MM-DD) or case-insensitive text, by the cell's type; multi-valued fields match =
// when any value does and != when none does. Style colors are semantic names: default,
// muted, accent, success, warning, danger, info, red, green, yellow, blue, magenta, cyan,
// gray; the TUI's theme resolves them.
//
// schema.json beside this file is the format as JSON Schema (draft 2020-12).
//
// # Rebuilds
//
// A Definition caches its compiled form (parsed JQL, resolved fields, compiled formulas)
// per field catalog, and Data caches its index (issues by key, children by parent, links
// by issue); Data.SetIssue updates one issue and the index in place. Rebuild(prev, data,
// visible, before) then keeps prev's rows when no change can move a row (the changed
// fields are read by no generator, visibility and parent unchanged) and recomputes only
// the cells of the changed rows and their ancestors in the views prev had opened;
// otherwise it runs Build, which still reuses the compiled definition and the index.
package lens
