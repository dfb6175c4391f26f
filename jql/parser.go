package jql

import "strings"

// maxDepth bounds nesting of parentheses and NOT so hostile input cannot exhaust the stack.
const maxDepth = 200

// knownFunctions maps lower-case function names to their canonical spelling.
var knownFunctions = map[string]string{
	"currentuser":  "currentUser",
	"membersof":    "membersOf",
	"opensprints":  "openSprints",
	"now":          "now",
	"startofday":   "startOfDay",
	"endofday":     "endOfDay",
	"startofweek":  "startOfWeek",
	"endofweek":    "endOfWeek",
	"startofmonth": "startOfMonth",
	"endofmonth":   "endOfMonth",
	"startofyear":  "startOfYear",
	"endofyear":    "endOfYear",
}

// Parse parses a JQL query. Keywords, field names and function names are case-insensitive;
// fields are canonicalised (see CanonicalField) but not validated: Compile rejects unknown
// fields and functions. Errors are *Error with Jira's wording and position.
func Parse(src string) (*Query, error) {
	lx := &lexer{src: src, line: 1, col: 1}
	toks, err := lx.all()
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q, perr := p.query()
	if perr != nil {
		return nil, perr
	}
	return q, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether t is the unquoted keyword kw (lower case).
func isKeyword(t token, kw string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, kw)
}

// isGrammarWord reports whether s is a keyword of the grammar itself (as opposed to a word
// Jira merely reserves), for choosing between "Expecting ..." and "reserved word" messages.
func isGrammarWord(s string) bool {
	switch strings.ToLower(s) {
	case "and", "or", "not", "in", "is", "order", "by", "empty", "null", "asc", "desc":
		return true
	}
	return false
}

func reservedErr(t token) *Error {
	return syntaxErr(t.pos, "'%s' is a reserved JQL word. You must surround it in quotation marks to use it in a query.", t.raw)
}

// got renders a token for "but got ..." messages.
func got(t token) string {
	return "'" + t.raw + "'"
}

func (p *parser) query() (*Query, *Error) {
	q := &Query{}
	if p.peek().kind != tokEOF && !isKeyword(p.peek(), "order") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		q.Where = e
	}
	t := p.peek()
	if isKeyword(t, "order") {
		p.take()
		by := p.take()
		if !isKeyword(by, "by") {
			if by.kind == tokEOF {
				return nil, syntaxErr(by.pos, "Expecting 'by' before the end of the query.")
			}
			return nil, syntaxErr(by.pos, "Expecting 'by' but got %s.", got(by))
		}
		for {
			f := p.take()
			if f.kind == tokWord && isReserved(f.text) && !isGrammarWord(f.text) {
				return nil, reservedErr(f)
			}
			if f.kind != tokWord && f.kind != tokString || f.kind == tokWord && isReserved(f.text) {
				if f.kind == tokEOF {
					return nil, syntaxErr(f.pos, "Expecting a field name at the end of the query.")
				}
				return nil, syntaxErr(f.pos, "Expecting a field name but got %s.", got(f))
			}
			k := SortKey{Field: fieldName(f.text)}
			d := p.peek()
			if isKeyword(d, "asc") {
				p.take()
			} else if isKeyword(d, "desc") {
				p.take()
				k.Desc = true
			}
			q.OrderBy = append(q.OrderBy, k)
			q.orderPos = append(q.orderPos, f.pos)
			n := p.peek()
			if n.kind == tokComma {
				p.take()
				continue
			}
			if n.kind == tokEOF {
				break
			}
			return nil, syntaxErr(n.pos, "Expecting either 'ASC', 'DESC' or ',' but got %s.", got(n))
		}
		return q, nil
	}
	if t.kind != tokEOF {
		if t.kind == tokRParen {
			return nil, syntaxErr(t.pos, "Expecting either 'OR' or 'AND' but got %s. A ')' has no matching '('.", got(t))
		}
		return nil, syntaxErr(t.pos, "Expecting either 'OR' or 'AND' but got %s.", got(t))
	}
	return q, nil
}

// fieldName canonicalises a known field and keeps an unknown one as written.
func fieldName(s string) string {
	if c, ok := CanonicalField(s); ok {
		return c
	}
	return s
}

func (p *parser) or() (Expr, *Error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	terms := []Expr{first}
	for isKeyword(p.peek(), "or") {
		p.take()
		e, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*Or](terms, e)
	}
	if len(terms) == 1 {
		return first, nil
	}
	if o, ok := first.(*Or); ok {
		// The first term was a parenthesised OR: flatten it too.
		terms = append(append([]Expr{}, o.Terms...), terms[1:]...)
	}
	return &Or{Terms: terms}, nil
}

func (p *parser) and() (Expr, *Error) {
	first, err := p.unary()
	if err != nil {
		return nil, err
	}
	terms := []Expr{first}
	for isKeyword(p.peek(), "and") {
		p.take()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		terms = appendFlat[*And](terms, e)
	}
	if len(terms) == 1 {
		return first, nil
	}
	if a, ok := first.(*And); ok {
		terms = append(append([]Expr{}, a.Terms...), terms[1:]...)
	}
	return &And{Terms: terms}, nil
}

// appendFlat appends e to terms, splicing in its terms when it is of the same connective
// (a parenthesised "a AND (b AND c)" means the same as "a AND b AND c").
func appendFlat[T interface{ *And | *Or }](terms []Expr, e Expr) []Expr {
	switch x := e.(type) {
	case *And:
		if _, same := any(T(nil)).(*And); same {
			return append(terms, x.Terms...)
		}
	case *Or:
		if _, same := any(T(nil)).(*Or); same {
			return append(terms, x.Terms...)
		}
	}
	return append(terms, e)
}

func (p *parser) unary() (Expr, *Error) {
	p.depth++
	defer func() { p.depth-- }()
	t := p.peek()
	if p.depth > maxDepth {
		return nil, syntaxErr(t.pos, "The query is nested too deeply.")
	}
	if isKeyword(t, "not") {
		p.take()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	if t.kind == tokLParen {
		p.take()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		c := p.take()
		if c.kind != tokRParen {
			if c.kind == tokEOF {
				return nil, syntaxErr(c.pos, "Expecting ')' before the end of the query.")
			}
			return nil, syntaxErr(c.pos, "Expecting ')' but got %s.", got(c))
		}
		return e, nil
	}
	return p.clause()
}

func (p *parser) clause() (Expr, *Error) {
	f := p.take()
	if f.kind == tokWord && isReserved(f.text) && !isGrammarWord(f.text) {
		return nil, reservedErr(f)
	}
	if f.kind != tokWord && f.kind != tokString || f.kind == tokWord && isReserved(f.text) {
		if f.kind == tokEOF {
			return nil, syntaxErr(f.pos, "Expecting a field name at the end of the query.")
		}
		return nil, syntaxErr(f.pos, "Expecting a field name but got %s.", got(f))
	}
	c := &Clause{Field: fieldName(f.text), pos: f.pos}
	o := p.take()
	c.opPos = o.pos
	switch {
	case o.kind == tokOp:
		c.Op = map[string]Op{"=": OpEq, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe, "~": OpLike, "!~": OpNotLike}[o.text]
	case isKeyword(o, "in"):
		c.Op = OpIn
	case isKeyword(o, "not"):
		in := p.take()
		if !isKeyword(in, "in") {
			if in.kind == tokEOF {
				return nil, syntaxErr(in.pos, "Expecting 'IN' before the end of the query.")
			}
			return nil, syntaxErr(in.pos, "Expecting 'IN' but got %s.", got(in))
		}
		c.Op = OpNotIn
	case isKeyword(o, "is"):
		c.Op = OpIs
		if isKeyword(p.peek(), "not") {
			p.take()
			c.Op = OpIsNot
		}
		v := p.take()
		if !isKeyword(v, "empty") && !isKeyword(v, "null") {
			if v.kind == tokEOF {
				return nil, syntaxErr(v.pos, "Expecting 'EMPTY' or 'NULL' before the end of the query.")
			}
			return nil, syntaxErr(v.pos, "The operator '%s' only supports the 'EMPTY' or 'NULL' values; got %s.", c.Op, got(v))
		}
		c.Operand = &Empty{pos: v.pos}
		return c, nil
	case isKeyword(o, "was"):
		c.Op = OpWas
		if isKeyword(p.peek(), "not") {
			p.take()
			c.Op = OpWasNot
		}
		if isKeyword(p.peek(), "in") {
			p.take()
			c.Op += OpWasIn - OpWas // WAS IN, WAS NOT IN
		}
		v, err := p.operand(true)
		if err != nil {
			return nil, err
		}
		c.Operand = v
		return p.predicates(c)
	case isKeyword(o, "changed"):
		c.Op = OpChanged
		return p.predicates(c)
	case o.kind == tokEOF:
		return nil, syntaxErr(o.pos, "Expecting operator before the end of the query. The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS', 'IS NOT', 'WAS', 'WAS IN', 'WAS NOT', 'WAS NOT IN' and 'CHANGED'.")
	default:
		return nil, syntaxErr(o.pos, "Expecting operator but got %s.", got(o))
	}
	v, err := p.operand(true)
	if err != nil {
		return nil, err
	}
	c.Operand = v
	return c, nil
}

// predKinds maps the lower-case keywords of history predicates to their kinds.
var predKinds = map[string]PredKind{"after": PredAfter, "before": PredBefore, "during": PredDuring,
	"on": PredOn, "by": PredBy, "from": PredFrom, "to": PredTo}

// predicates parses the predicates that may follow a history clause (WAS ..., CHANGED),
// each a keyword and a value, list or function. Compile checks which apply.
func (p *parser) predicates(c *Clause) (Expr, *Error) {
	for {
		t := p.peek()
		kind, ok := predKinds[strings.ToLower(t.text)]
		if t.kind != tokWord || !ok {
			return c, nil
		}
		p.take()
		v, err := p.operand(true)
		if err != nil {
			return nil, err
		}
		c.Preds = append(c.Preds, Predicate{Kind: kind, Operand: v, pos: t.pos})
	}
}

// operand parses a value, EMPTY, a function call or (when allowList) a parenthesised list.
func (p *parser) operand(allowList bool) (Operand, *Error) {
	t := p.take()
	switch t.kind {
	case tokString:
		return &Literal{Text: t.text, pos: t.pos}, nil
	case tokWord:
		if isKeyword(t, "empty") || isKeyword(t, "null") {
			return &Empty{pos: t.pos}, nil
		}
		if p.peek().kind == tokLParen {
			return p.function(t)
		}
		if isKeyword(t, "and") || isKeyword(t, "or") || isKeyword(t, "not") {
			return nil, syntaxErr(t.pos, "Expecting either a value, list or function but got %s. You must surround %s in quotation marks to use it as a value.", got(t), got(t))
		}
		if isReserved(t.text) {
			return nil, reservedErr(t)
		}
		return &Literal{Text: t.text, pos: t.pos}, nil
	case tokLParen:
		if !allowList {
			break
		}
		l := &List{pos: t.pos}
		for {
			it, err := p.operand(false)
			if err != nil {
				return nil, err
			}
			l.Items = append(l.Items, it)
			n := p.take()
			if n.kind == tokRParen {
				return l, nil
			}
			if n.kind != tokComma {
				if n.kind == tokEOF {
					return nil, syntaxErr(n.pos, "Expecting ',' or ')' before the end of the query.")
				}
				return nil, syntaxErr(n.pos, "Expecting ',' or ')' but got %s.", got(n))
			}
		}
	case tokEOF:
		return nil, syntaxErr(t.pos, "Expecting either a value, list or function before the end of the query.")
	}
	return nil, syntaxErr(t.pos, "Expecting either a value, list or function but got %s. You must surround %s in quotation marks to use it as a value.", got(t), got(t))
}

// function parses name(arg, ...) after the name token; arguments are words or strings.
func (p *parser) function(name token) (Operand, *Error) {
	p.take() // (
	if name.raw != name.text {
		return nil, syntaxErr(name.pos, "Expecting a function name but got %s.", got(name))
	}
	fn := &Func{Name: name.text, pos: name.pos}
	if c, ok := knownFunctions[strings.ToLower(name.text)]; ok {
		fn.Name = c
	}
	if p.peek().kind == tokRParen {
		p.take()
		return fn, nil
	}
	for {
		a := p.take()
		if a.kind != tokWord && a.kind != tokString {
			if a.kind == tokEOF {
				return nil, syntaxErr(a.pos, "Expecting ')' before the end of the query.")
			}
			return nil, syntaxErr(a.pos, "Expecting a function argument but got %s.", got(a))
		}
		fn.Args = append(fn.Args, a.text)
		n := p.take()
		if n.kind == tokRParen {
			return fn, nil
		}
		if n.kind != tokComma {
			if n.kind == tokEOF {
				return nil, syntaxErr(n.pos, "Expecting ',' or ')' before the end of the query.")
			}
			return nil, syntaxErr(n.pos, "Expecting ',' or ')' but got %s.", got(n))
		}
	}
}
