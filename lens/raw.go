package lens

import (
	"strings"

	"foundation/jql"
)

// NeedsRaw reports whether building and viewing the definition reads any issue's raw field
// JSON (Issue.Fields): a column, group, filter, sort or progress on a field the store does
// not extract, a JQL clause on such a field (sprint, description, components, fix
// versions, custom fields), or estimate weights. The cache decodes raw JSON only when
// asked, and for a 100,000-issue Lens that decode costs more than the rest of the read, so
// callers skip it when the answer is false. A definition that does not compile against
// fields answers true: the caller's Build reports the error either way.
func (d *Definition) NeedsRaw(fields []Field) bool {
	c, err := d.compile(fields)
	if err != nil {
		return true
	}
	raw := func(f fieldRef) bool { return f.sys == sysNone && f.id != "" }
	for _, cv := range c.views {
		for _, col := range cv.cols {
			if raw(col.field) || raw(col.progF) || col.weight == "estimate" {
				return true
			}
		}
	}
	return c.root.needsRaw(raw)
}

func (s *cscope) needsRaw(raw func(fieldRef) bool) bool {
	for _, in := range s.inserts {
		if in.query != nil && jqlNeedsRaw(in.query.Fields()) {
			return true
		}
	}
	for _, fl := range s.filters {
		if raw(fl.field) || (fl.query != nil && jqlNeedsRaw(fl.query.Fields())) {
			return true
		}
	}
	for _, g := range s.groups {
		if raw(g.field) {
			return true
		}
	}
	for _, so := range s.sorts {
		for _, k := range so.keys {
			if k.col == nil && raw(k.field) {
				return true
			}
		}
	}
	for _, f := range s.folders {
		if f.scope.needsRaw(raw) {
			return true
		}
	}
	return false
}

// QueryNeedsRaw reports whether evaluating q over issues reads raw field JSON. A filter
// applied to a built Lens (export --filter, the TUI's f) needs it read whatever the Lens's
// own columns need, or it matches nothing on those fields.
func QueryNeedsRaw(q *jql.Query) bool { return q != nil && jqlNeedsRaw(q.Fields()) }

// jqlNeedsRaw mirrors issueRecord.Values: these canonical JQL fields read raw JSON.
func jqlNeedsRaw(fields []string) bool {
	for _, f := range fields {
		switch f {
		case "description", "component", "fixversion", "sprint", "resolutiondate", "level":
			return true
		}
		if strings.HasPrefix(f, "cf[") {
			return true
		}
	}
	return false
}
