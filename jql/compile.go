package jql

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Env is what a query needs from outside to be evaluated: the clock, the viewer and the
// directory behind membersOf() and openSprints().
type Env struct {
	// Now anchors relative dates and date functions; zero means time.Now() at Compile.
	Now time.Time
	// CurrentUser is the viewer's accountId (Cloud) or user name (Data Center); empty is
	// anonymous, for whom currentUser() matches nothing, as in Jira.
	CurrentUser string
	// MembersOf lists a group's members (as the assignee/reporter values spell them). Nil
	// makes membersOf() a Compile error, so callers can fall back to asking Jira.
	MembersOf func(group string) []string
	// OpenSprints lists the open sprints by name or id. Nil makes openSprints() a Compile
	// error.
	OpenSprints func() []string
	// Location is the time zone of absolute dates and of day boundaries; nil means UTC.
	Location *time.Location
	// History says the records are HistoryRecords, so WAS and CHANGED can be answered.
	// Without it they are a Compile error, so callers can fall back to asking Jira.
	History bool
	// HasField, when set, says whether the site's field catalog (Jira's full field list)
	// has a field: a custom field as "cf[N]", any other by the name or id written. A field
	// it does not have is refused as Jira refuses it, and not as unknown (Error.Unknown):
	// Jira would not answer the query either. Nil accepts every custom field id and
	// leaves names Foundation does not know unknown.
	HasField func(field string) bool
	// HasValue, when set, says whether the site has a value that =, !=, IN or NOT IN
	// compares a field with, as Jira checks them: a project, issue type, status,
	// priority or resolution by name or id, a user, an issue key (key, parent, Epic
	// Link), a component, version or sprint. field is canonical (see CanonicalField). A
	// value it does not have is refused in Jira's words ("The value 'NOPE' does not exist
	// for the field 'project'."). Nil checks no value.
	HasValue func(field, value string) bool
}

// checkedValues are the fields whose values Jira checks against the site.
var checkedValues = map[string]bool{
	"project": true, "issuetype": true, "status": true, "priority": true, "resolution": true,
	"assignee": true, "reporter": true, "key": true, "parent": true, "epic link": true,
	"component": true, "fixversion": true, "sprint": true,
}

// Matcher reports whether a record satisfies a compiled query. It is safe for concurrent
// use and does not allocate when the Record does not.
type Matcher func(r Record) bool

// Compile validates the query's fields, operators, values and functions and resolves
// functions and dates once, returning a Matcher. Errors are *Error with the position of the
// offending field, operator or value, in Jira's wording (e.g. "Field 'foo' does not exist or
// you do not have permission to view it."). ORDER BY fields are validated too.
func (q *Query) Compile(env Env) (Matcher, error) {
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	if env.Location == nil {
		env.Location = time.UTC
	}
	for i, k := range q.OrderBy {
		var p Pos
		if i < len(q.orderPos) {
			p = q.orderPos[i]
		}
		fi, err := env.field(k.Field, p)
		if err != nil {
			return nil, err
		}
		if fi.typ == typeText && k.Field != "summary" {
			return nil, semanticErr(p, "Field '%s' does not support sorting.", displayField(k.Field))
		}
	}
	if q.Where == nil {
		return func(Record) bool { return true }, nil
	}
	c := &compiler{env: env}
	m, err := c.expr(q.Where)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// field looks a field up, and, when the env has the site's catalog, checks that the site
// has it.
func (env *Env) field(name string, p Pos) (fieldInfo, *Error) {
	const msg = "Field '%s' does not exist or you do not have permission to view it."
	fi, ok := lookupField(name)
	switch {
	case ok && fi.typ == typeCustom && env.HasField != nil && !env.HasField(name):
		return fi, semanticErr(p, msg, name)
	case ok:
		return fi, nil
	case env.HasField != nil && !env.HasField(name):
		return fi, semanticErr(p, msg, name)
	case env.HasField != nil:
		// The site has it: only Jira can answer the query, so say that rather than that
		// the field does not exist.
		return fi, unknownErr(p, "Field '%s' cannot be searched here: only Jira answers queries on it.", name)
	}
	return fi, unknownErr(p, msg, name)
}

// JiraError is the error Jira would answer the query with as well, as far as Foundation can
// tell; nil when Jira may answer it although Compile refuses it, because the refusal comes
// only from what an Env lacks (a group directory, the open sprints, change history) or the
// query names a field or function Foundation does not know (Error.Unknown). A bad value, or
// an operator a field does not take, is such an error.
func (q *Query) JiraError() error {
	return q.JiraErrorWith(nil)
}

// JiraErrorWith is JiraError for a site whose field catalog hasField answers from (see
// Env.HasField): a field the site does not have is an error Jira answers too.
func (q *Query) JiraErrorWith(hasField func(field string) bool) error {
	_, err := q.Compile(Env{History: true, MembersOf: func(string) []string { return nil },
		OpenSprints: func() []string { return nil }, HasField: hasField})
	var je *Error
	if err == nil || errors.As(err, &je) && je.Unknown {
		return nil
	}
	return err
}

type compiler struct {
	env Env
}

func (c *compiler) expr(e Expr) (Matcher, *Error) {
	switch x := e.(type) {
	case *And:
		ms, err := c.exprs(x.Terms)
		if err != nil {
			return nil, err
		}
		if len(ms) == 2 {
			a, b := ms[0], ms[1]
			return func(r Record) bool { return a(r) && b(r) }, nil
		}
		return func(r Record) bool {
			for _, m := range ms {
				if !m(r) {
					return false
				}
			}
			return true
		}, nil
	case *Or:
		ms, err := c.exprs(x.Terms)
		if err != nil {
			return nil, err
		}
		return func(r Record) bool {
			for _, m := range ms {
				if m(r) {
					return true
				}
			}
			return false
		}, nil
	case *Not:
		m, err := c.expr(x.X)
		if err != nil {
			return nil, err
		}
		return func(r Record) bool { return !m(r) }, nil
	case *Clause:
		return c.clause(x)
	}
	return nil, semanticErr(Pos{1, 1}, "The query holds an unknown kind of condition.")
}

func (c *compiler) exprs(es []Expr) ([]Matcher, *Error) {
	ms := make([]Matcher, len(es))
	for i, e := range es {
		m, err := c.expr(e)
		if err != nil {
			return nil, err
		}
		ms[i] = m
	}
	return ms, nil
}

// lit is one resolved operand value, with every reading the field may compare it by.
type lit struct {
	text    string
	spell   []string // case-insensitive spellings that equal it
	num     float64
	hasNum  bool
	minute  int64
	hasTime bool
	rank    int // priority rank or status category order, 0 when unknown
	keyProj string
	keyNum  int64
	isKey   bool
	dateLoc *time.Location // see litSet.dateLoc
}

// litSet is the resolved right-hand side of a clause.
type litSet struct {
	lits  []lit
	empty bool // the list held EMPTY
	// dateLoc is set for date-only fields (duedate): a record's value counts as midnight
	// of its calendar day in this zone, so a due date stored as UTC midnight compares
	// right for a viewer in another zone.
	dateLoc *time.Location
	fold    map[string]struct{} // lower-cased spellings, when there are many
}

// foldMapThreshold is the number of spellings above which a map beats a linear EqualFold
// scan (long IN lists, membersOf of a large group).
const foldMapThreshold = 8

func (s *litSet) finish() {
	n := 0
	for _, l := range s.lits {
		n += len(l.spell)
	}
	if n <= foldMapThreshold {
		return
	}
	s.fold = make(map[string]struct{}, n)
	for _, l := range s.lits {
		for _, sp := range l.spell {
			s.fold[strings.ToLower(sp)] = struct{}{}
		}
	}
}

// matchString reports whether s equals one of the spellings, ignoring case.
func (s *litSet) matchString(str string) bool {
	if s.fold != nil {
		if len(str) <= 64 && isASCII(str) {
			var buf [64]byte
			for i := 0; i < len(str); i++ {
				buf[i] = lowerASCII(str[i])
			}
			_, ok := s.fold[string(buf[:len(str)])]
			return ok
		}
		_, ok := s.fold[strings.ToLower(str)]
		return ok
	}
	for i := range s.lits {
		for _, sp := range s.lits[i].spell {
			if strings.EqualFold(sp, str) {
				return true
			}
		}
	}
	return false
}

// eq reports whether v equals one of the set's values.
func (s *litSet) eq(v *Value) bool {
	switch v.Kind {
	case Number:
		for i := range s.lits {
			if s.lits[i].hasNum && s.lits[i].num == v.Num {
				return true
			}
		}
		return false
	case Time:
		m := s.minute(v.Time)
		for i := range s.lits {
			if s.lits[i].hasTime && s.lits[i].minute == m {
				return true
			}
		}
		return false
	}
	if s.matchString(v.Str) {
		return true
	}
	for _, a := range v.Alt {
		if s.matchString(a) {
			return true
		}
	}
	return false
}

// minute is the minute of a record's time value, dates re-anchored to dateLoc.
func (s *litSet) minute(t time.Time) int64 {
	if s.dateLoc != nil {
		y, m, d := t.Date()
		return minuteOf(time.Date(y, m, d, 0, 0, 0, 0, s.dateLoc))
	}
	return minuteOf(t)
}

// anyEq reports whether any of vals equals one of the set's values.
func (s *litSet) anyEq(vals []Value) bool {
	for i := range vals {
		if s.eq(&vals[i]) {
			return true
		}
	}
	return false
}

func (c *compiler) clause(cl *Clause) (Matcher, *Error) {
	fi, err := c.env.field(cl.Field, cl.pos)
	if err != nil {
		return nil, err
	}
	name := displayField(cl.Field)
	if fi.typ == typeOrderOnly {
		return nil, semanticErr(cl.pos, "Field '%s' does not support searching, only sorting.", name)
	}
	if cl.Op.History() {
		return c.history(cl, fi)
	}
	notSupported := func() *Error {
		return semanticErr(cl.opPos, "The operator '%s' is not supported by the '%s' field.", cl.Op, name)
	}
	switch cl.Op {
	case OpLike, OpNotLike:
		if fi.typ != typeText && fi.typ != typeCustom {
			return nil, notSupported()
		}
	case OpLt, OpLe, OpGt, OpGe:
		switch fi.typ {
		case typeNumber, typeTime, typeKey, typePriority, typeCustom:
		default:
			return nil, notSupported()
		}
	case OpEq, OpNe, OpIn, OpNotIn:
		if fi.typ == typeText {
			return nil, notSupported()
		}
	}
	field := cl.Field

	if cl.Op == OpIs || cl.Op == OpIsNot {
		return emptyMatcher(field, cl.Op == OpIsNot), nil
	}
	if _, isEmptyOp := cl.Operand.(*Empty); isEmptyOp {
		switch cl.Op {
		case OpEq:
			return emptyMatcher(field, false), nil
		case OpNe:
			return emptyMatcher(field, true), nil
		}
		return nil, semanticErr(cl.opPos, "The operator '%s' does not support the EMPTY value.", cl.Op)
	}

	set, err := c.operand(cl, fi)
	if err != nil {
		return nil, err
	}

	switch cl.Op {
	case OpEq, OpIn:
		if set.empty {
			return func(r Record) bool {
				vals := r.Values(field)
				return isEmpty(vals) || set.anyEq(vals)
			}, nil
		}
		return func(r Record) bool { return set.anyEq(r.Values(field)) }, nil
	case OpNe, OpNotIn:
		// Like Jira, != and NOT IN never select issues where the field is empty.
		return func(r Record) bool {
			vals := r.Values(field)
			return !isEmpty(vals) && !set.anyEq(vals)
		}, nil
	case OpLike, OpNotLike:
		return c.textMatcher(cl, set)
	}
	return c.orderMatcher(cl, set, fi)
}

func emptyMatcher(field string, not bool) Matcher {
	if not {
		return func(r Record) bool { return !isEmpty(r.Values(field)) }
	}
	return func(r Record) bool { return isEmpty(r.Values(field)) }
}

// operand resolves the right-hand side of a clause into values the field understands.
func (c *compiler) operand(cl *Clause, fi fieldInfo) (*litSet, *Error) {
	set := &litSet{}
	if cl.Field == "duedate" {
		set.dateLoc = c.env.Location
	}
	isList := cl.Op == OpIn || cl.Op == OpNotIn
	switch x := cl.Operand.(type) {
	case *List:
		if !isList {
			return nil, semanticErr(x.pos, "The operator '%s' does not support multi-value operands.", cl.Op)
		}
		for _, it := range x.Items {
			switch y := it.(type) {
			case *Empty:
				set.empty = true
			case *Literal:
				if isUnresolved(cl.Field, y.Text) {
					set.empty = true
					continue
				}
				l, err := c.literal(cl, fi, y.Text, y.pos)
				if err != nil {
					return nil, err
				}
				set.lits = append(set.lits, l)
			case *Func:
				if err := c.function(cl, fi, y, set, true); err != nil {
					return nil, err
				}
			}
		}
	case *Literal:
		if isList {
			return nil, semanticErr(x.pos, "The operator '%s' needs a list of values or a function that returns a list, e.g. (%s), but got '%s'.", cl.Op, quoteIfNeeded(x.Text), x.Text)
		}
		if isUnresolved(cl.Field, x.Text) {
			set.empty = true
			break
		}
		l, err := c.literal(cl, fi, x.Text, x.pos)
		if err != nil {
			return nil, err
		}
		set.lits = append(set.lits, l)
	case *Func:
		if err := c.function(cl, fi, x, set, isList); err != nil {
			return nil, err
		}
	}
	set.finish()
	return set, nil
}

// missingValue is Jira's answer to a value the site does not have.
func missingValue(field, name, text string, p Pos) *Error {
	switch {
	case fieldTypeOf(field) == typeKey:
		return semanticErr(p, "An issue with key '%s' does not exist for field '%s'.", text, name)
	case isDigits(text):
		return semanticErr(p, "A value with ID '%s' does not exist for the field '%s'.", text, name)
	}
	return semanticErr(p, "The value '%s' does not exist for the field '%s'.", text, name)
}

func fieldTypeOf(canonical string) fieldType {
	fi, _ := lookupField(canonical)
	return fi.typ
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// isUnresolved reports Jira's "resolution = Unresolved", which means an empty resolution.
func isUnresolved(field, text string) bool {
	return field == "resolution" && strings.EqualFold(text, "Unresolved")
}

// literal reads one value for a field, failing as Jira does when the field cannot hold it.
func (c *compiler) literal(cl *Clause, fi fieldInfo, text string, p Pos) (lit, *Error) {
	l := lit{text: text, spell: []string{text}}
	name := displayField(cl.Field)
	if c.env.HasValue != nil && checkedValues[cl.Field] && !c.env.HasValue(cl.Field, text) {
		switch cl.Op {
		case OpEq, OpNe, OpIn, OpNotIn:
			return l, missingValue(cl.Field, name, text, p)
		}
	}
	switch fi.typ {
	case typeTime:
		t, ok := parseDate(text, c.env.Now, c.env.Location)
		if !ok {
			return l, semanticErr(p, "Date value '%s' for field '%s' is invalid. %s", text, name, dateFormatsHint)
		}
		l.spell, l.hasTime, l.minute = nil, true, minuteOf(t)
	case typeNumber:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return l, semanticErr(p, "The value '%s' for field '%s' is not a valid number.", text, name)
		}
		l.num, l.hasNum = f, true
	case typeCategory:
		for _, sc := range statusCategories {
			if strings.EqualFold(text, sc.key) || strings.EqualFold(text, sc.name) || text == sc.id {
				l.spell = []string{sc.key, sc.name, sc.id}
				l.rank = categoryOrder(sc.key)
				return l, nil
			}
		}
		return l, semanticErr(p, "The value '%s' does not exist for the field '%s'.", text, name)
	case typePriority:
		l.rank = priorityRank(text)
		if l.rank == 0 && isOrdering(cl.Op) {
			return l, semanticErr(p, "The value '%s' does not exist for the field '%s'.", text, name)
		}
	case typeKey:
		l.keyProj, l.keyNum, l.isKey = splitKey(text)
		if !l.isKey && isOrdering(cl.Op) {
			return l, semanticErr(p, "The issue key '%s' for field '%s' is invalid.", text, name)
		}
	case typeCustom:
		if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil {
			l.num, l.hasNum = f, true
		}
		if t, ok := parseDate(text, c.env.Now, c.env.Location); ok {
			l.hasTime, l.minute = true, minuteOf(t)
		}
	}
	return l, nil
}

func isOrdering(op Op) bool { return op == OpLt || op == OpLe || op == OpGt || op == OpGe }

// function resolves a function call into values added to set.
func (c *compiler) function(cl *Clause, fi fieldInfo, fn *Func, set *litSet, list bool) *Error {
	name := displayField(cl.Field)
	canon, known := knownFunctions[strings.ToLower(fn.Name)]
	if !known {
		return unknownErr(fn.pos, "Unable to find JQL function '%s()'.", fn.Name)
	}
	invalidFor := func() *Error {
		return semanticErr(fn.pos, "A value provided by the function '%s' is invalid for the field '%s'.", canon, name)
	}
	argc := func(want int) *Error {
		if len(fn.Args) != want {
			return semanticErr(fn.pos, "Function '%s' expected '%d' arguments but received '%d'.", canon, want, len(fn.Args))
		}
		return nil
	}
	switch canon {
	case "currentUser":
		if fi.typ != typeUser && fi.typ != typeCustom {
			return invalidFor()
		}
		if err := argc(0); err != nil {
			return err
		}
		if c.env.CurrentUser != "" {
			set.lits = append(set.lits, lit{text: c.env.CurrentUser, spell: []string{c.env.CurrentUser}})
		}
		return nil
	case "membersOf", "openSprints":
		if !list {
			return semanticErr(fn.pos, "The operator '%s' does not support multi-value operands such as the function '%s'.", cl.Op, canon)
		}
		var vals []string
		if canon == "membersOf" {
			if fi.typ != typeUser && fi.typ != typeCustom {
				return invalidFor()
			}
			if err := argc(1); err != nil {
				return err
			}
			if c.env.MembersOf == nil {
				return semanticErr(fn.pos, "The function 'membersOf' cannot be evaluated here: no group directory is available.")
			}
			vals = c.env.MembersOf(fn.Args[0])
		} else {
			if cl.Field != "sprint" && fi.typ != typeCustom {
				return invalidFor()
			}
			if err := argc(0); err != nil {
				return err
			}
			if c.env.OpenSprints == nil {
				return semanticErr(fn.pos, "The function 'openSprints' cannot be evaluated here: no sprint directory is available.")
			}
			vals = c.env.OpenSprints()
		}
		for _, v := range vals {
			set.lits = append(set.lits, lit{text: v, spell: []string{v}})
		}
		return nil
	}
	// Date functions.
	if fi.typ != typeTime && fi.typ != typeCustom {
		return invalidFor()
	}
	t, ok := dateFunction(canon, fn.Args, c.env.Now, c.env.Location)
	if !ok {
		return semanticErr(fn.pos, "The arguments of function '%s' are invalid: %s", canon, strings.Join(fn.Args, ", "))
	}
	set.lits = append(set.lits, lit{text: canon + "()", hasTime: true, minute: minuteOf(t)})
	return nil
}

// textMatcher implements ~ and !~. The value is split into words (runs of letters and
// digits; wildcards * and ? are dropped); a record matches when every word occurs, ignoring
// case, as a substring of one of the field's values. A value written in inner quotes,
// summary ~ "\"disk full\"", is one phrase matched as a substring. "text" searches summary,
// description and text. !~ matches non-empty fields that do not match ~.
func (c *compiler) textMatcher(cl *Clause, set *litSet) (Matcher, *Error) {
	if len(set.lits) != 1 {
		return nil, semanticErr(cl.opPos, "The operator '%s' needs a single value.", cl.Op)
	}
	terms := textTerms(set.lits[0].text)
	if len(terms) == 0 {
		return nil, semanticErr(cl.opPos, "The field '%s' does not support searching for an empty string.", displayField(cl.Field))
	}
	fields := []string{cl.Field}
	if cl.Field == "text" {
		fields = []string{"summary", "description", "text"}
	}
	match := func(r Record) (matched, nonEmpty bool) {
		for _, term := range terms {
			found := false
			for _, f := range fields {
				vals := r.Values(f)
				for i := range vals {
					v := &vals[i]
					if v.Kind != String {
						continue
					}
					nonEmpty = nonEmpty || v.Str != ""
					if containsFold(v.Str, term) {
						found = true
						break
					}
				}
				if found {
					break
				}
			}
			if !found {
				return false, nonEmpty || anyNonEmpty(r, fields)
			}
		}
		return true, true
	}
	if cl.Op == OpLike {
		return func(r Record) bool { m, _ := match(r); return m }, nil
	}
	return func(r Record) bool {
		m, nonEmpty := match(r)
		return nonEmpty && !m
	}, nil
}

func anyNonEmpty(r Record, fields []string) bool {
	for _, f := range fields {
		if !isEmpty(r.Values(f)) {
			return true
		}
	}
	return false
}

// textTerms splits a ~ value into lower-case search terms.
func textTerms(s string) []string {
	t := strings.TrimSpace(s)
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		if phrase := strings.ToLower(strings.TrimSpace(t[1 : len(t)-1])); phrase != "" {
			return []string{phrase}
		}
		return nil
	}
	return strings.FieldsFunc(strings.ToLower(t), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
	})
}

// orderMatcher implements <, <=, >, >=: a record matches when any of its values compares
// as asked. Values that cannot be compared with the operand never match.
func (c *compiler) orderMatcher(cl *Clause, set *litSet, fi fieldInfo) (Matcher, *Error) {
	if len(set.lits) != 1 {
		return nil, semanticErr(cl.opPos, "The operator '%s' needs a single value.", cl.Op)
	}
	l := set.lits[0]
	l.dateLoc = set.dateLoc
	op := cl.Op
	ok := func(c int) bool {
		switch op {
		case OpLt:
			return c < 0
		case OpLe:
			return c <= 0
		case OpGt:
			return c > 0
		}
		return c >= 0
	}
	field := cl.Field
	typ := fi.typ
	return func(r Record) bool {
		vals := r.Values(field)
		for i := range vals {
			if c, comparable := compareToLit(typ, &vals[i], &l); comparable && ok(c) {
				return true
			}
		}
		return false
	}, nil
}

// compareToLit orders a record value against an operand value.
func compareToLit(typ fieldType, v *Value, l *lit) (int, bool) {
	switch v.Kind {
	case Number:
		if !l.hasNum {
			return 0, false
		}
		return cmp3(v.Num, l.num), true
	case Time:
		if !l.hasTime {
			return 0, false
		}
		m := minuteOf(v.Time)
		if l.dateLoc != nil {
			y, mo, d := v.Time.Date()
			m = minuteOf(time.Date(y, mo, d, 0, 0, 0, 0, l.dateLoc))
		}
		return cmp3(m, l.minute), true
	}
	switch typ {
	case typeKey:
		p, n, ok := splitKey(v.Str)
		if !ok || !l.isKey || !strings.EqualFold(p, l.keyProj) {
			return 0, false
		}
		return cmp3(n, l.keyNum), true
	case typePriority:
		r := priorityRank(v.Str)
		if r == 0 {
			return 0, false
		}
		return cmp3(r, l.rank), true
	case typeCustom:
		if l.hasNum || l.hasTime {
			return 0, false // a number or date operand does not order text values
		}
		return compareFold(v.Str, l.text), true
	}
	return 0, false
}

func cmp3[T int | int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// splitKey splits "ALPHA-12" into ("ALPHA", 12).
func splitKey(k string) (string, int64, bool) {
	i := strings.LastIndexByte(k, '-')
	if i <= 0 || i == len(k)-1 {
		return "", 0, false
	}
	var n int64
	for j := i + 1; j < len(k); j++ {
		d := k[j]
		if d < '0' || d > '9' || n > (1<<62)/10 {
			return "", 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return k[:i], n, true
}
