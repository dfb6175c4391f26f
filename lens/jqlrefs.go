package lens

import (
	"strconv"
	"strings"

	"foundation/jql"
)

// A query only Jira answers was answered as the identity that refreshed. Which of the
// viewer's issues it returned says how they relate to every issue the query names, so
// Build shows none of them when the query names an issue the viewer may not browse
// (builder.namesUnseen). Jira names an issue by key or by numeric id: keys are found
// anywhere in the text, ids where Jira reads a value as an issue. Not every number is one
// ("Story Points" > 10, cf[10020] = 42 for a sprint, startOfDay(-1)).

// issueIDs calls fn with each issue id the query names: a number given to an
// issue-valued clause (key, issue, id, parent, Epic Link, and the catalog's issue-valued
// custom fields: parent = 10079, issue in (10079, 10080)), a number given to a function
// that takes issues (linkedIssues(10079)) or to any function of an issue-valued clause,
// and, recursively, those of a JQL subquery a function takes as an argument (an app's
// issueFunction in subtasksOf("parent = 10079")).
func issueIDs(q *jql.Query, issueValued func(field string) bool, fn func(id string)) {
	if q == nil {
		return
	}
	var operand func(o jql.Operand, issues bool)
	operand = func(o jql.Operand, issues bool) {
		switch x := o.(type) {
		case *jql.Literal:
			if issues && isIssueID(x.Text) {
				fn(strings.TrimSpace(x.Text))
			}
		case *jql.List:
			for _, it := range x.Items {
				operand(it, issues)
			}
		case *jql.Func:
			takesIssues := issues || issueFunctions[strings.ToLower(x.Name)]
			for _, a := range x.Args {
				if takesIssues && isIssueID(a) {
					fn(strings.TrimSpace(a))
				} else if sub, err := jql.Parse(a); err == nil && sub.Where != nil {
					issueIDs(sub, issueValued, fn)
				}
			}
		}
	}
	var expr func(e jql.Expr)
	expr = func(e jql.Expr) {
		switch x := e.(type) {
		case *jql.And:
			for _, t := range x.Terms {
				expr(t)
			}
		case *jql.Or:
			for _, t := range x.Terms {
				expr(t)
			}
		case *jql.Not:
			expr(x.X)
		case *jql.Clause:
			issues := issueValued(x.Field)
			operand(x.Operand, issues)
			for _, p := range x.Preds {
				operand(p.Operand, issues)
			}
		}
	}
	expr(q.Where)
}

// issueFunctions are the JQL functions that take issues (by key or id) as arguments.
var issueFunctions = map[string]bool{"linkedissues": true, "parentepic": true}

// isIssueID reports whether a JQL value has the form of an issue id: digits only.
func isIssueID(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// issueValued reports whether a JQL clause's field holds issues: key (issuekey, issue),
// id, parent, Epic Link, or a custom field the catalog says holds issues (by cf[N] or by
// name, such as Advanced Roadmaps' "Parent Link").
func (b *builder) issueValued(field string) bool {
	switch field {
	case "key", "id", "parent", "epic link":
		return true
	}
	if strings.HasPrefix(field, "cf[") && strings.HasSuffix(field, "]") {
		id := "customfield_" + field[3:len(field)-1]
		for _, r := range b.comp.refs {
			if r == id {
				return true
			}
		}
		return false
	}
	for _, f := range b.data.Fields {
		if strings.EqualFold(f.Name, field) && isRefField(f) {
			return true
		}
	}
	return false
}

// seesID reports whether the viewer may see the issue with this id: one the data holds
// and the visibility predicate accepted. An id the cache does not hold is not seen (fail
// closed), like a key it does not hold.
func (b *builder) seesID(text string) bool {
	id, err := strconv.ParseInt(text, 10, 64)
	if err != nil || id <= 0 {
		return false
	}
	if b.byID == nil {
		b.byID = make(map[int64]int32, len(b.data.Issues))
		for i := range b.data.Issues {
			if is := &b.data.Issues[i]; is.ID > 0 {
				b.byID[is.ID] = int32(i)
			}
		}
	}
	o, ok := b.byID[id]
	return ok && b.vis[o]
}
