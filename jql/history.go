package jql

import (
	"math"
	"strings"
	"time"
)

// Change is one change of a field in an issue's history: when, by whom (a user value, as
// assignee values spell users), and the field's values just before and just after. A
// multi-valued field (fixversion) lists its whole set on each side.
type Change struct {
	At       time.Time
	By       Value
	From, To []Value
}

// HistoryRecord is a Record that also knows its change history, which WAS and CHANGED
// search. History returns the changes of one field (canonical name), oldest first; the
// evaluator never keeps or modifies the slice. A record that is not a HistoryRecord
// matches no history clause.
type HistoryRecord interface {
	Record
	History(field string) []Change
}

// historyFields are the fields whose history JQL searches, as in Jira.
var historyFields = map[string]bool{"assignee": true, "fixversion": true, "priority": true,
	"reporter": true, "resolution": true, "status": true}

// span is a time range in minutes since the epoch, [from, to], for history predicates.
type span struct{ from, to int64 }

// histPreds are a history clause's compiled predicates (dates in minutes); nil fields do
// not restrict.
type histPreds struct {
	after, before *int64
	on, during    *span
	by, from, to  *litSet
}

// history compiles WAS, WAS NOT, WAS IN, WAS NOT IN and CHANGED. Everything is checked
// before the environment is asked for history, so a query that is wrong says so even
// where history is unavailable.
func (c *compiler) history(cl *Clause, fi fieldInfo) (Matcher, *Error) {
	name := displayField(cl.Field)
	if !historyFields[cl.Field] {
		return nil, semanticErr(cl.opPos, "The operator '%s' is not supported by the '%s' field: history is searchable for Assignee, Fix Version, Priority, Reporter, Resolution and Status.", cl.Op, name)
	}
	var set *litSet
	if cl.Op != OpChanged {
		list := cl.Op == OpWasIn || cl.Op == OpWasNotIn
		if _, isList := cl.Operand.(*List); isList && !list {
			return nil, semanticErr(cl.opPos, "The operator '%s' does not support multi-value operands; use '%s IN'.", cl.Op, cl.Op)
		}
		var err *Error
		if set, err = c.historyValues(cl, fi, cl.Operand); err != nil {
			return nil, err
		}
	}
	var ps histPreds
	seen := map[PredKind]bool{}
	for _, p := range cl.Preds {
		if seen[p.Kind] {
			return nil, semanticErr(p.pos, "The predicate '%s' is given more than once.", p.Kind)
		}
		seen[p.Kind] = true
		var err *Error
		switch p.Kind {
		case PredAfter, PredBefore, PredOn:
			var m int64
			if m, err = c.predDate(p, p.Operand); err != nil {
				return nil, err
			}
			switch p.Kind {
			case PredAfter:
				ps.after = &m
			case PredBefore:
				ps.before = &m
			case PredOn:
				t := time.Unix(m*60, 0).In(c.env.Location)
				y, mo, d := t.Date()
				day := time.Date(y, mo, d, 0, 0, 0, 0, c.env.Location)
				ps.on = &span{minuteOf(day), minuteOf(day.AddDate(0, 0, 1)) - 1}
			}
		case PredDuring:
			l, ok := p.Operand.(*List)
			if !ok || len(l.Items) != 2 {
				return nil, semanticErr(p.pos, "The predicate 'DURING' needs two dates in parentheses, e.g. DURING (\"2024/01/01\", \"2024/01/31\").")
			}
			var a, b int64
			if a, err = c.predDate(p, l.Items[0]); err != nil {
				return nil, err
			}
			if b, err = c.predDate(p, l.Items[1]); err != nil {
				return nil, err
			}
			ps.during = &span{a, b}
		case PredBy:
			if ps.by, err = c.operandOf(&Clause{Field: "assignee", Op: OpIn, pos: p.pos, opPos: p.pos}, fieldInfo{typeUser}, p.Operand); err != nil {
				return nil, err
			}
		case PredFrom, PredTo:
			if cl.Op != OpChanged {
				return nil, semanticErr(p.pos, "The predicate '%s' is supported by the operator 'CHANGED' only.", p.Kind)
			}
			s, err := c.historyValues(cl, fi, p.Operand)
			if err != nil {
				return nil, err
			}
			if p.Kind == PredFrom {
				ps.from = s
			} else {
				ps.to = s
			}
		}
	}
	if !c.env.History {
		return nil, semanticErr(cl.opPos, "The operator '%s' cannot be evaluated here: no change history is available.", cl.Op)
	}
	field := cl.Field
	switch cl.Op {
	case OpChanged:
		return func(r Record) bool {
			h, ok := r.(HistoryRecord)
			return ok && changed(h.History(field), &ps)
		}, nil
	case OpWasNot, OpWasNotIn:
		return func(r Record) bool {
			h, ok := r.(HistoryRecord)
			return ok && !was(h, field, set, &ps)
		}, nil
	}
	return func(r Record) bool {
		h, ok := r.(HistoryRecord)
		return ok && was(h, field, set, &ps)
	}, nil
}

// historyValues resolves the values a history clause (or its FROM and TO) compares the
// field's past values with: one value, a list, a function, or EMPTY.
func (c *compiler) historyValues(cl *Clause, fi fieldInfo, o Operand) (*litSet, *Error) {
	if _, ok := o.(*Empty); ok {
		return &litSet{empty: true}, nil
	}
	return c.operandOf(&Clause{Field: cl.Field, Op: OpIn, pos: cl.pos, opPos: cl.opPos}, fi, o)
}

// operandOf resolves o as cl's field would read it, a single value or a list alike.
func (c *compiler) operandOf(cl *Clause, fi fieldInfo, o Operand) (*litSet, *Error) {
	if _, ok := o.(*Literal); ok {
		cl.Op = OpEq
	}
	cl.Operand = o
	return c.operand(cl, fi)
}

// predDate resolves a predicate's date (a date, a period or a date function) to a minute.
func (c *compiler) predDate(p Predicate, o Operand) (int64, *Error) {
	switch x := o.(type) {
	case *Literal:
		t, ok := parseDate(x.Text, c.env.Now, c.env.Location)
		if !ok {
			return 0, semanticErr(x.pos, "Date value '%s' for predicate '%s' is invalid. %s", x.Text, p.Kind, dateFormatsHint)
		}
		return minuteOf(t), nil
	case *Func:
		canon := knownFunctions[strings.ToLower(x.Name)]
		if t, ok := dateFunction(canon, x.Args, c.env.Now, c.env.Location); ok {
			return minuteOf(t), nil
		}
		return 0, semanticErr(x.pos, "The function '%s' does not give a date the predicate '%s' can use.", x.Name, p.Kind)
	}
	return 0, semanticErr(p.pos, "The predicate '%s' needs a date.", p.Kind)
}

// matches reports whether a past value of the field equals one of set's values (EMPTY
// matching no value).
func (s *litSet) matches(vals []Value) bool {
	if isEmpty(vals) {
		return s.empty
	}
	return s.anyEq(vals)
}

// was reports whether the field held one of set's values at some time the predicates
// allow. The field's past is a run of periods: its first value from creation (set by the
// reporter) to the first change, each change's new value to the next change, the last one
// until now.
func was(h HistoryRecord, field string, set *litSet, ps *histPreds) bool {
	changes := h.History(field)
	start := int64(math.MinInt64)
	if cr := h.Values("created"); len(cr) > 0 && cr[0].Kind == Time {
		start = minuteOf(cr[0].Time)
	}
	vals, by := h.Values(field), h.Values("reporter")
	if len(changes) > 0 {
		vals = changes[0].From
	}
	for i := 0; ; i++ {
		end := int64(math.MaxInt64)
		if i < len(changes) {
			end = minuteOf(changes[i].At)
		}
		if set.matches(vals) && ps.allowPeriod(start, end, by) {
			return true
		}
		if i == len(changes) {
			return false
		}
		start, vals, by = end, changes[i].To, changes[i].By.asList()
	}
}

// changed reports whether one of the changes meets every predicate.
func changed(changes []Change, ps *histPreds) bool {
	for i := range changes {
		ch := &changes[i]
		at := minuteOf(ch.At)
		if ps.allowPeriod(at, at, ch.By.asList()) &&
			(ps.from == nil || ps.from.matches(ch.From)) && (ps.to == nil || ps.to.matches(ch.To)) {
			return true
		}
	}
	return false
}

// allowPeriod reports whether a period [start, end] (minutes; a change is a period of one
// instant) meets every predicate: it reaches past AFTER, begins before BEFORE, overlaps ON's
// day and DURING's range, and was begun by a user BY names.
func (ps *histPreds) allowPeriod(start, end int64, by []Value) bool {
	if ps.after != nil && end <= *ps.after || ps.before != nil && start >= *ps.before {
		return false
	}
	for _, s := range []*span{ps.on, ps.during} {
		if s != nil && (start > s.to || end < s.from) {
			return false
		}
	}
	return ps.by == nil || ps.by.anyEq(by)
}

// asList is v as a one-value list, nil when v is empty.
func (v Value) asList() []Value {
	if v.Kind == String && v.Str == "" && len(v.Alt) == 0 {
		return nil
	}
	return []Value{v}
}
