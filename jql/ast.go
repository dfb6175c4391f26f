package jql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Query is a parsed JQL query. Where is nil when the query has no condition (empty, or
// only ORDER BY).
type Query struct {
	Where   Expr
	OrderBy []SortKey

	orderPos []Pos // position of each OrderBy field, for Compile's messages
}

// SortKey is one ORDER BY term. Field is canonical when the field is known (see
// CanonicalField), otherwise as written; Compile rejects unknown fields.
type SortKey struct {
	Field string
	Desc  bool
}

// Expr is a node of a condition: *And, *Or, *Not or *Clause.
type Expr interface {
	isExpr()
}

// And holds two or more conditions that must all hold. Nested ANDs are flattened.
type And struct{ Terms []Expr }

// Or holds two or more conditions of which one must hold. Nested ORs are flattened.
type Or struct{ Terms []Expr }

// Not negates a condition.
type Not struct{ X Expr }

// Clause is "field operator operand", e.g. status != Done or labels IS EMPTY, or a
// history clause: "status WAS Done BEFORE -1w", "assignee CHANGED BY currentUser()"
// (Operand is nil for CHANGED).
type Clause struct {
	Field   string // canonical when known, otherwise as written
	Op      Op
	Operand Operand
	Preds   []Predicate // history predicates (AFTER, BEFORE, DURING, ON, BY, FROM, TO)

	pos   Pos // of the field
	opPos Pos
}

// Predicate narrows a history clause: AFTER, BEFORE and ON take a date, DURING a list of
// two dates, BY a user or a list of users, FROM and TO (CHANGED only) a value or a list.
type Predicate struct {
	Kind    PredKind
	Operand Operand

	pos Pos
}

// PredKind is the keyword of a history predicate.
type PredKind int

// The history predicates.
const (
	PredAfter PredKind = iota
	PredBefore
	PredDuring
	PredOn
	PredBy
	PredFrom
	PredTo
)

var predNames = [...]string{"AFTER", "BEFORE", "DURING", "ON", "BY", "FROM", "TO"}

func (k PredKind) String() string {
	if int(k) < len(predNames) {
		return predNames[k]
	}
	return fmt.Sprintf("PredKind(%d)", int(k))
}

func (*And) isExpr()    {}
func (*Or) isExpr()     {}
func (*Not) isExpr()    {}
func (*Clause) isExpr() {}

// Op is a clause operator.
type Op int

// The operators of JQL that Foundation evaluates.
const (
	OpEq Op = iota
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpLike    // ~
	OpNotLike // !~
	OpIn
	OpNotIn
	OpIs
	OpIsNot
	OpWas
	OpWasNot
	OpWasIn
	OpWasNotIn
	OpChanged
)

var opNames = [...]string{"=", "!=", "<", "<=", ">", ">=", "~", "!~", "IN", "NOT IN", "IS", "IS NOT", "WAS", "WAS NOT", "WAS IN", "WAS NOT IN", "CHANGED"}

// History reports whether o searches a field's change history (WAS and CHANGED).
func (o Op) History() bool { return o >= OpWas && o <= OpChanged }

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Operand is the right-hand side of a clause: *Literal, *List, *Func or *Empty.
type Operand interface {
	isOperand()
}

// Literal is a single value as written, quotes and escapes removed. Its meaning (string,
// number, date, relative date) depends on the field and is settled by Compile.
type Literal struct {
	Text string
	pos  Pos
}

// List is a parenthesised list of operands, for IN and NOT IN.
type List struct {
	Items []Operand
	pos   Pos
}

// Func is a function call such as currentUser() or startOfDay(-1d). Name is canonical
// (e.g. "startOfDay") when known, otherwise as written.
type Func struct {
	Name string
	Args []string
	pos  Pos
}

// Empty is the EMPTY (or NULL) keyword.
type Empty struct {
	pos Pos
}

func (*Literal) isOperand() {}
func (*List) isOperand()    {}
func (*Func) isOperand()    {}
func (*Empty) isOperand()   {}

// String renders the query as canonical JQL: keywords upper case, canonical field names,
// values quoted only when needed, parentheses only where precedence needs them. The result
// parses back to an equal query.
func (q *Query) String() string {
	var b strings.Builder
	if q.Where != nil {
		writeExpr(&b, q.Where, precOr)
	}
	if len(q.OrderBy) > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("ORDER BY ")
		for i, k := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIfNeeded(fieldText(k.Field)))
			if k.Desc {
				b.WriteString(" DESC")
			} else {
				b.WriteString(" ASC")
			}
		}
	}
	return b.String()
}

// fieldText is how String prints a field: the usual Jira spelling for the ones that have
// spaces or mixed case, the canonical name otherwise.
func fieldText(canonical string) string {
	switch canonical {
	case "epic link", "story points", "statuscategory", "fixversion":
		return displayField(canonical)
	}
	return canonical
}

const (
	precOr = iota
	precAnd
	precNot
)

func writeExpr(b *strings.Builder, e Expr, parent int) {
	switch x := e.(type) {
	case *Or:
		if parent > precOr {
			b.WriteByte('(')
		}
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(" OR ")
			}
			// A nested OR only occurs in hand-built queries; it prints in parentheses
			// and reparses flattened, which means the same.
			writeExpr(b, t, precOr+1)
		}
		if parent > precOr {
			b.WriteByte(')')
		}
	case *And:
		if parent > precAnd {
			b.WriteByte('(')
		}
		for i, t := range x.Terms {
			if i > 0 {
				b.WriteString(" AND ")
			}
			writeExpr(b, t, precAnd+1)
		}
		if parent > precAnd {
			b.WriteByte(')')
		}
	case *Not:
		b.WriteString("NOT ")
		writeExpr(b, x.X, precNot)
	case *Clause:
		b.WriteString(quoteIfNeeded(fieldText(x.Field)))
		b.WriteByte(' ')
		b.WriteString(x.Op.String())
		if x.Operand != nil {
			b.WriteByte(' ')
			writeOperand(b, x.Operand)
		}
		for _, p := range x.Preds {
			b.WriteByte(' ')
			b.WriteString(p.Kind.String())
			b.WriteByte(' ')
			writeOperand(b, p.Operand)
		}
	}
}

func writeOperand(b *strings.Builder, o Operand) {
	switch x := o.(type) {
	case *Literal:
		b.WriteString(quoteIfNeeded(x.Text))
	case *Empty:
		b.WriteString("EMPTY")
	case *Func:
		b.WriteString(x.Name)
		b.WriteByte('(')
		for i, a := range x.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIfNeeded(a))
		}
		b.WriteByte(')')
	case *List:
		b.WriteByte('(')
		for i, it := range x.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			writeOperand(b, it)
		}
		b.WriteByte(')')
	}
}

// reservedWords are Jira's reserved JQL words (Atlassian's "Reserved words" list): as
// values or field names they must be quoted, and Jira answers 400 when they are not.
var reservedWords = map[string]bool{
	"a": true, "an": true, "abort": true, "access": true, "add": true, "after": true,
	"alias": true, "all": true, "alter": true, "and": true, "any": true, "are": true,
	"as": true, "asc": true, "at": true, "audit": true, "avg": true, "be": true,
	"before": true, "begin": true, "between": true, "boolean": true, "break": true,
	"but": true, "by": true, "byte": true, "catch": true, "cf": true, "char": true,
	"character": true, "check": true, "checkpoint": true, "collate": true, "collation": true,
	"column": true, "commit": true, "connect": true, "continue": true, "count": true,
	"create": true, "current": true, "date": true, "decimal": true, "declare": true,
	"decrement": true, "default": true, "defaults": true, "define": true, "delete": true,
	"delimiter": true, "desc": true, "difference": true, "distinct": true, "divide": true,
	"do": true, "double": true, "drop": true, "else": true, "empty": true, "encoding": true,
	"end": true, "equals": true, "escape": true, "exclusive": true, "exec": true,
	"execute": true, "exists": true, "explain": true, "false": true, "fetch": true,
	"field": true, "file": true, "first": true, "float": true, "for": true, "from": true,
	"function": true, "go": true, "goto": true, "grant": true, "greater": true, "group": true,
	"having": true, "identified": true, "if": true, "immediate": true, "in": true,
	"increment": true, "index": true, "initial": true, "inner": true, "inout": true,
	"input": true, "insert": true, "int": true, "integer": true, "intersect": true,
	"intersection": true, "into": true, "is": true, "isempty": true, "isnull": true,
	"it": true, "join": true, "last": true, "left": true, "less": true, "like": true,
	"limit": true, "lock": true, "long": true, "max": true, "min": true, "minus": true,
	"mode": true, "modify": true, "modulo": true, "more": true, "multiply": true,
	"next": true, "no": true, "noaudit": true, "not": true, "notin": true, "nowait": true,
	"null": true, "number": true, "object": true, "of": true, "on": true, "option": true,
	"or": true, "order": true, "outer": true, "output": true, "power": true, "previous": true,
	"prior": true, "privileges": true, "public": true, "raise": true, "raw": true,
	"remainder": true, "rename": true, "resource": true, "return": true, "returns": true,
	"revoke": true, "right": true, "row": true, "rowid": true, "rownum": true, "rows": true,
	"select": true, "session": true, "set": true, "share": true, "size": true, "sqrt": true,
	"start": true, "strict": true, "string": true, "subtract": true, "such": true,
	"sum": true, "synonym": true, "table": true, "that": true, "the": true, "their": true,
	"then": true, "there": true, "these": true, "they": true, "this": true, "to": true,
	"trans": true, "transaction": true, "trigger": true, "true": true, "uid": true,
	"union": true, "unique": true, "update": true, "user": true, "validate": true,
	"values": true, "view": true, "was": true, "when": true, "whenever": true, "where": true,
	"while": true, "will": true, "with": true,
}

func isReserved(s string) bool {
	if len(s) > 12 {
		return false
	}
	return reservedWords[strings.ToLower(s)]
}

// Quote renders a value for inclusion in JQL: bare when Jira reads it back as the same word,
// double-quoted with escapes otherwise (spaces, operators, reserved words such as AS or
// SET). Use it when building JQL from data, e.g. project keys or dates.
func Quote(s string) string { return quoteIfNeeded(s) }

// quoteIfNeeded leaves s bare when it lexes back as the same single word, and otherwise
// double-quotes it with escapes. Bytes that are not UTF-8 are written as they are, so the
// text reparses byte for byte.
func quoteIfNeeded(s string) string {
	if s != "" && !isReserved(s) {
		bare := true
		for _, r := range s {
			if !isWordRune(r) || r == '\\' {
				bare = false
				break
			}
		}
		if bare {
			return s
		}
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError && w == 1:
			b.WriteByte(s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += w
	}
	b.WriteByte('"')
	return b.String()
}

// Fields returns the distinct fields the query references, in WHERE and ORDER BY, in order
// of first use: canonical names for known fields, as written otherwise.
func (q *Query) Fields() []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	walkClauses(q.Where, func(c *Clause) { add(c.Field) })
	for _, k := range q.OrderBy {
		add(k.Field)
	}
	return out
}

// Functions returns the distinct function names the query calls, in order of first use.
func (q *Query) Functions() []string {
	var out []string
	seen := map[string]bool{}
	var visit func(o Operand)
	visit = func(o Operand) {
		switch x := o.(type) {
		case *Func:
			if !seen[x.Name] {
				seen[x.Name] = true
				out = append(out, x.Name)
			}
		case *List:
			for _, it := range x.Items {
				visit(it)
			}
		}
	}
	walkClauses(q.Where, func(c *Clause) {
		visit(c.Operand)
		for _, p := range c.Preds {
			visit(p.Operand)
		}
	})
	return out
}

func walkClauses(e Expr, fn func(*Clause)) {
	switch x := e.(type) {
	case *And:
		for _, t := range x.Terms {
			walkClauses(t, fn)
		}
	case *Or:
		for _, t := range x.Terms {
			walkClauses(t, fn)
		}
	case *Not:
		walkClauses(x.X, fn)
	case *Clause:
		fn(x)
	}
}

// Bounded reports whether the query satisfies Jira Cloud's rule for /search/jql: the
// condition must restrict the result set. Foundation's reading of the rule: among the terms
// of the top-level AND chain (or the whole condition when it is a single clause) there is a
// clause "project|key|id|parent|assignee|reporter|creator = v" or "... IN (...)", or
// "updated|created >, >= or = v" (a lower bound); Atlassian's own example of a bounded query
// is `assignee = currentUser() order by key`. A term that is an OR counts when every one of
// its branches is bounded by the same rule. NOT, !=, NOT IN and upper bounds never bound a
// query.
func (q *Query) Bounded() bool {
	return q.Where != nil && boundedExpr(q.Where)
}

func boundedExpr(e Expr) bool {
	switch x := e.(type) {
	case *And:
		for _, t := range x.Terms {
			if boundedExpr(t) {
				return true
			}
		}
	case *Or:
		for _, t := range x.Terms {
			if !boundedExpr(t) {
				return false
			}
		}
		return true
	case *Clause:
		if _, empty := x.Operand.(*Empty); empty {
			return false
		}
		switch x.Field {
		case "project", "key", "id", "parent", "assignee", "reporter", "creator":
			return x.Op == OpEq || x.Op == OpIn
		case "updated", "created":
			return x.Op == OpGt || x.Op == OpGe || x.Op == OpEq
		}
	}
	return false
}
