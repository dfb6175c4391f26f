// Package jql parses Jira Query Language and evaluates it locally over any record type that
// exposes its fields through the small Record interface. It does no I/O: the fake Jira
// site uses it for search, Lenses for insert and filter generators over the cache.
//
// # Use
//
//	q, err := jql.Parse(`project in (ALPHA, BETA) AND status != Done ORDER BY updated DESC`)
//	// err is a *jql.Error: answer Jira's 400 with err.Error()
//	match, err := q.Compile(jql.Env{Now: now, CurrentUser: "alice"})
//	for _, r := range records { if match(r) { ... } }
//	slices.SortStableFunc(hits, func(a, b R) int { return jql.Compare(a, b, q.OrderBy) })
//
// Parse checks syntax only; Compile checks fields, operators, values and functions, and
// resolves dates and functions once, so the Matcher does no parsing and no allocation per
// record (given a Record that does not allocate).
//
// # Language
//
// Operators =, !=, <, <=, >, >=, ~, !~, IN, NOT IN, IS [NOT] EMPTY (NULL is a synonym of
// EMPTY, and "= EMPTY" of "IS EMPTY"); AND binds tighter than OR; NOT; parentheses; ORDER BY
// with several fields, each ASC (default) or DESC. History operators WAS, WAS NOT, WAS IN,
// WAS NOT IN and CHANGED, with the predicates AFTER, BEFORE, ON (a date), DURING (two
// dates), BY (users) and, for CHANGED, FROM and TO (values). Keywords, field names and function names
// are case-insensitive. Values are unquoted words (ALPHA-12, -2d, 3.5) or strings in double
// or single quotes with the escapes \" \' \\ \n \r \t \uXXXX and "\ ". Jira's reserved
// words (AND, OR, NOT, IN, IS, ORDER, BY, EMPTY, NULL, and the rest of Atlassian's list: A,
// AS, DATE, END, SET, START, USER, ...) must be quoted to be used as values or field names;
// unquoted, they are a syntax error as in Jira. Quote renders a value safely for JQL built
// from data.
//
// Fields (canonical names, as Record is asked for them; aliases in brackets): project, key
// [issuekey, issue], id, issuetype [type], status, statuscategory, assignee, reporter, priority,
// labels, component, fixversion, sprint, parent, "epic link", summary, description, text,
// created [createdDate], updated [updatedDate], duedate [due], resolution, resolutiondate
// [resolved], level (the security level), "story points", custom fields cf[N]
// [customfield_N], and rank for ORDER BY only.
//
// Functions: currentUser(), membersOf("group"), openSprints(), now(), startOfDay(),
// endOfDay(), startOfWeek(), endOfWeek(), startOfMonth(), endOfMonth(), startOfYear(),
// endOfYear(). The start/end functions take an optional offset, either a period
// (startOfDay(-1d), endOfMonth("+2w")) or a bare count of the function's unit
// (startOfDay(-1) is yesterday's midnight). Weeks start on Monday; endOf* is the last
// minute of the period.
//
// Dates: "yyyy-MM-dd", "yyyy/MM/dd", with " HH:mm" optionally, in Env.Location; or a period
// relative to Env.Now: an optional sign and number+unit pairs with units y (years),
// M (months), w, d, h, m (minutes), e.g. -15m, -2d, 1w, 4h, "-4w 2d". As in Jira, dates
// compare at minute precision: "updated = '2024-01-31 14:05'" matches any second of that
// minute, and "2024-01-31" means its midnight.
//
// # Semantics
//
//   - String equality ignores case and matches a value's Str or any of its Alt spellings
//     (project key, name or id; user id, name or email; sprint name or id).
//   - A multi-valued field (labels, component, fixversion, sprint) satisfies = and IN when
//     any value matches, != and NOT IN when none does, IS EMPTY when it has no value.
//   - != and NOT IN never match an empty field, as in Jira ("assignee != bob" leaves out
//     unassigned issues). NOT negates plainly: "NOT assignee = bob" includes them.
//   - IN (..., EMPTY) also matches empty fields. resolution = Unresolved means resolution IS
//     EMPTY, as in Jira.
//   - priority compares by name, and orders (<, >, ORDER BY) by Jira's default scheme:
//     Lowest < Low < Medium < High < Highest. status compares by name. statusCategory accepts
//     the names "To Do", "In Progress", "Done", the keys "new", "indeterminate", "done" and
//     the ids 2, 4, 3 as synonyms; other values are a Compile error as in Jira.
//   - key, parent and "epic link" order by project and number: key > ALPHA-10 matches
//     ALPHA-11, not BETA-11 and not ALPHA-9. They compare with = and IN by key or, as in
//     Jira, by issue id ("parent = 10079"), which a Record gives as the value's Alt.
//   - summary, description and text take only ~, !~ and IS [NOT] EMPTY. "text" searches
//     summary, description and the record's "text" values.
//   - ~ is not Jira's stemmed, fuzzy Lucene search but a predictable subset: the value is
//     split into words (runs of letters, digits and _; wildcards * and ? are dropped) and a
//     record matches when every word occurs, ignoring case, as a substring of one of the
//     searched values ("log" matches "Login page"). A value wrapped in inner quotes,
//     summary ~ "\"disk full\"", is one phrase matched as a substring. !~ matches non-empty
//     fields that ~ does not. An empty search term is a Compile error, as in Jira.
//   - Custom fields take every operator and compare by the kind of the record's value:
//     numbers numerically, times at minute precision, strings ignoring case.
//   - History (assignee, fixVersion, priority, reporter, resolution and status, as in
//     Jira) needs Env.History and records that are HistoryRecords; without Env.History,
//     WAS and CHANGED are a Compile error, and a record that keeps no history matches no
//     history clause. WAS matches a value the field holds or held: its first value from
//     creation (set by the reporter), then each change's new value until the next change.
//     AFTER d means held at some time after d, BEFORE d at some time before it, ON and
//     DURING at some time in that day or range, BY u that u set it. WAS NOT (IN) is
//     "never held, within the predicates". CHANGED matches when one change meets every
//     predicate; FROM and TO compare its old and new values, EMPTY included.
//   - membersOf() and openSprints() need Env.MembersOf and Env.OpenSprints; without them
//     Compile fails, so a caller knows the query cannot be evaluated locally and can ask
//     Jira instead. currentUser() with no Env.CurrentUser (anonymous) matches nothing.
//
// # Bounded queries
//
// Jira Cloud's /rest/api/3/search/jql refuses unbounded queries. Query.Bounded applies
// Foundation's reading of that rule: some term of the top-level AND chain (or the single
// top-level clause) is project, key, id, parent, assignee, reporter or creator with = or IN
// (Atlassian's example of a bounded query is assignee = currentUser()), or created or
// updated with >, >= or = (a lower bound); a top-level OR term counts when all its branches
// are bounded.
// ORDER BY alone, NOT, !=, NOT IN and upper bounds do not bound.
//
// # Errors
//
// Query.JiraError tells a query Jira may still answer although Compile refuses it (what the
// Env lacks, or a field or function Foundation does not know: Error.Unknown) from one Jira
// would refuse as well.
//
// Every error from Parse and Compile is an *Error with the 1-based line and character of
// the fault and Jira's wording, e.g. "Error in the JQL Query: Expecting operator but got
// 'foo'. (line 1, character 9)" or "Field 'foo' does not exist or you do not have
// permission to view it. (line 1, character 1)".
package jql
