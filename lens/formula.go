package lens

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// formula is a compiled expression and the variables it reads, so a row's environment
// holds only those.
type formula struct {
	prog *vm.Program
	uses map[string]bool
}

// identCollector records the identifiers of an expression as expr compiles it.
type identCollector struct{ names map[string]bool }

func (c *identCollector) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		c.names[id.Value] = true
	}
}

// Formula variables: the issue's fields under these names, plus "now" and, in view
// columns, every roll-up and progress column of the view by its id.
var formulaVars = []string{"key", "summary", "status", "category", "type", "priority", "resolution", "assignee", "reporter", "project", "parent", "epic", "labels", "points", "created", "updated", "due", "rank", "now", "isIssue"}

// formulaSample is the typed environment formulas compile against.
func formulaSample(extra []string) map[string]any {
	m := map[string]any{
		"key": "", "summary": "", "status": "", "category": "", "type": "", "priority": "",
		"resolution": "", "assignee": "", "reporter": "", "project": "", "parent": "", "epic": "",
		"labels": []string{}, "points": 0.0, "created": time.Time{}, "updated": time.Time{},
		"due": time.Time{}, "rank": "", "now": time.Time{}, "isIssue": false,
	}
	for _, x := range extra {
		m[x] = 0.0
	}
	return m
}

// formulaFuncs are the date and text helpers formulas may call beyond expr's built-ins.
var formulaFuncs = []expr.Option{
	expr.Function("days", func(p ...any) (any, error) {
		a, b := p[0].(time.Time), p[1].(time.Time)
		if a.IsZero() || b.IsZero() {
			return nil, nil
		}
		return b.Sub(a).Hours() / 24, nil
	}, new(func(time.Time, time.Time) any)),
	expr.Function("isZero", func(p ...any) (any, error) {
		return p[0].(time.Time).IsZero(), nil
	}, new(func(time.Time) bool)),
	expr.Function("ymd", func(p ...any) (any, error) {
		t := p[0].(time.Time)
		if t.IsZero() {
			return "", nil
		}
		return t.Format("2006-01-02"), nil
	}, new(func(time.Time) string)),
	expr.Function("has", func(p ...any) (any, error) {
		list, s := p[0].([]string), p[1].(string)
		for _, x := range list {
			if strings.EqualFold(x, s) {
				return true, nil
			}
		}
		return false, nil
	}, new(func([]string, string) bool)),
}

// expr computes with Go's int, which wraps silently on overflow (9223372036854775807 + 1
// is -9223372036854775808). intChecks rewrites +, - and * on two ints, and - on one, into
// calls of these functions, which fail instead; the result keeps its int type, so a
// formula's checked type is unchanged. The "$" keeps them out of the way of names a formula
// means.
const (
	intAdd = "$intAdd"
	intSub = "$intSub"
	intMul = "$intMul"
	intNeg = "$intNeg"
)

var intFuncs = []expr.Option{
	expr.Function(intAdd, func(p ...any) (any, error) {
		a, b := p[0].(int), p[1].(int)
		if c := a + b; (c > a) == (b > 0) {
			return c, nil
		}
		return nil, fmt.Errorf("integer overflow: %d + %d", a, b)
	}, new(func(int, int) int)),
	expr.Function(intSub, func(p ...any) (any, error) {
		a, b := p[0].(int), p[1].(int)
		if c := a - b; (c < a) == (b > 0) {
			return c, nil
		}
		return nil, fmt.Errorf("integer overflow: %d - %d", a, b)
	}, new(func(int, int) int)),
	expr.Function(intMul, func(p ...any) (any, error) {
		a, b := p[0].(int), p[1].(int)
		if a == 0 || b == 0 {
			return 0, nil
		}
		if c := a * b; c/b == a && !(a == -1 && b == math.MinInt) && !(b == -1 && a == math.MinInt) {
			return c, nil
		}
		return nil, fmt.Errorf("integer overflow: %d * %d", a, b)
	}, new(func(int, int) int)),
	expr.Function(intNeg, func(p ...any) (any, error) {
		a := p[0].(int)
		if a == math.MinInt {
			return nil, fmt.Errorf("integer overflow: -(%d)", a)
		}
		return -a, nil
	}, new(func(int) int)),
}

// intChecks is the patch that routes int arithmetic through intFuncs. expr walks children
// before their parent, so a parent sees its operands already rewritten: each call is
// given its int type for that.
type intChecks struct{}

var intOps = map[string]string{"+": intAdd, "-": intSub, "*": intMul}

func (intChecks) Visit(n *ast.Node) {
	isInt := func(x ast.Node) bool { t := x.Type(); return t != nil && t.Kind() == reflect.Int }
	var call *ast.CallNode
	switch x := (*n).(type) {
	case *ast.BinaryNode:
		if fn, ok := intOps[x.Operator]; ok && isInt(x.Left) && isInt(x.Right) {
			call = &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: []ast.Node{x.Left, x.Right}}
		}
	case *ast.UnaryNode:
		if x.Operator == "-" && isInt(x.Node) {
			call = &ast.CallNode{Callee: &ast.IdentifierNode{Value: intNeg}, Arguments: []ast.Node{x.Node}}
		}
	}
	if call != nil {
		ast.Patch(n, call)
		(*n).SetType(reflect.TypeFor[int]())
	}
}

// maxExactInt is the largest whole number a cell's float64 holds exactly (2^53).
const maxExactInt = 1 << 53

// compileFormula compiles src once; extra names roll-up and progress columns available
// as number variables. Unknown names are reported with the valid ones.
func compileFormula(src string, extra []string) (fm *formula, err error) {
	defer func() {
		// expr has panicked on pathological input before; a definition must never crash us.
		if r := recover(); r != nil {
			fm, err = nil, fmt.Errorf("formula %q: %v", src, r)
		}
	}()
	ids := &identCollector{names: map[string]bool{}}
	opts := append([]expr.Option{expr.Env(formulaSample(extra)), expr.Patch(ids), expr.Patch(intChecks{})}, formulaFuncs...)
	opts = append(opts, intFuncs...)
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "unknown name") {
			names := append(append([]string{}, formulaVars...), extra...)
			sort.Strings(names)
			msg = fmt.Sprintf("%s; valid names: %s; functions: days, isZero, ymd, has and expr's built-ins", firstLine(msg), strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("formula %q: %s", src, msg)
	}
	return &formula{prog: prog, uses: ids.names}, nil
}

// numeric reports whether the formula's checked result type is a number.
func (f *formula) numeric() bool {
	t := f.prog.Node().Type()
	if t == nil {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// issueEnv fills a formula environment for one row; is is nil for group and folder rows.
// m is reused between rows when given; uses, when not nil, limits it to those names.
func issueEnv(is *Issue, venv *valueEnv, now time.Time, m map[string]any, uses map[string]bool) map[string]any {
	if m == nil {
		m = make(map[string]any, 24)
	}
	set := func(k string, v func() any) {
		if uses == nil || uses[k] {
			m[k] = v()
		}
	}
	set("now", func() any { return now })
	if is == nil {
		for _, k := range []string{"key", "summary", "status", "category", "type", "priority", "resolution", "assignee", "reporter", "project", "parent", "epic", "rank"} {
			set(k, func() any { return "" })
		}
		set("labels", func() any { return []string{} })
		set("points", func() any { return 0.0 })
		set("isIssue", func() any { return false })
		for _, k := range []string{"created", "updated", "due"} {
			set(k, func() any { return time.Time{} })
		}
		return m
	}
	set("key", func() any { return is.Key })
	set("summary", func() any { return is.Summary })
	set("status", func() any { return is.Status })
	set("category", func() any { return categoryName(is.StatusCategory) })
	set("type", func() any { return is.Type })
	set("priority", func() any { return is.Priority })
	set("resolution", func() any { return is.Resolution })
	set("assignee", func() any { return venv.user(is.Assignee) })
	set("reporter", func() any { return venv.user(is.Reporter) })
	set("project", func() any { return is.Project })
	set("parent", func() any { return is.Parent })
	set("epic", func() any { return is.EpicLink })
	set("rank", func() any { return is.Rank })
	set("labels", func() any {
		if is.Labels == nil {
			return []string{}
		}
		return is.Labels
	})
	set("isIssue", func() any { return true })
	set("points", func() any {
		if is.StoryPoints != nil {
			return *is.StoryPoints
		}
		return 0.0
	})
	set("created", func() any { return is.Created })
	set("updated", func() any { return is.Updated })
	set("due", func() any {
		due, _ := time.Parse("2006-01-02", is.DueDate)
		return due
	})
	return m
}

// runFormula evaluates a program; failures become an error value shown in the cell.
func runFormula(p *vm.Program, env map[string]any) (v Value) {
	defer func() {
		if r := recover(); r != nil {
			v = Value{Kind: KindError, Str: fmt.Sprintf("#ERR %v", r)}
		}
	}()
	out, err := expr.Run(p, env)
	if err != nil {
		return Value{Kind: KindError, Str: "#ERR " + strings.TrimSuffix(firstLine(err.Error()), ":")}
	}
	return toValue(out)
}

// toValue types a formula result.
func toValue(x any) Value {
	switch v := x.(type) {
	case nil:
		return Value{}
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Value{Kind: KindError, Str: "#ERR not a number"}
		}
		return numValue(v)
	case int:
		return intValue(int64(v))
	case int64:
		return intValue(v)
	case float32:
		return numValue(float64(v))
	case string:
		if v == "" {
			return Value{}
		}
		return textValue(v)
	case bool:
		if v {
			return textValue("yes")
		}
		return textValue("no")
	case time.Time:
		if v.IsZero() {
			return Value{}
		}
		return timeValue(v)
	case time.Duration:
		return numValue(v.Hours() / 24)
	case []string:
		return textValue(strings.Join(v, ", "))
	}
	return textValue(fmt.Sprint(x))
}

// intValue is a whole-number result as a cell's number, which is a float64: past 2^53 it
// would be rounded (9223372036854775807 shows as ...808), so it is an error instead.
func intValue(v int64) Value {
	if v > maxExactInt || v < -maxExactInt {
		return Value{Kind: KindError, Str: fmt.Sprintf("#ERR %d is too large to compute exactly (over 2^53); write %d.0 to compute with floats", v, v)}
	}
	return numValue(float64(v))
}
