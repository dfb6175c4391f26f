package lens

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"foundation/jql"
)

// compiled is everything Build and views derive from a definition once: parsed JQL,
// resolved fields, compiled formulas. It depends on the field catalog too.
type compiled struct {
	catKey string
	cat    Catalog
	root   *cscope
	views  map[string]*cview
	// sprintID is the site's sprint custom field, which JQL "sprint" reads.
	sprintID string
	// sortCols is the default view, whose columns sort generators may sort by.
	sortCols *cview
	// structure is what generators read of an issue, for Rebuild.
	structure structure
	// refs are the raw fields that name other issues, which Build redacts per viewer.
	refs []string
}

type cscope struct {
	inserts []*cinsert
	extends []*cextend
	filters []*cfilter
	groups  []*cgroup
	sorts   []*csort
	folders []cfolder
}

type cfolder struct {
	name  string
	scope *cscope
}

type cinsert struct {
	src    string
	query  *jql.Query
	keys   []string
	remote bool   // local evaluation cannot answer: membership comes from Data.RemoteMembers
	why    string // what local evaluation lacks
}

type cextend struct {
	by        string
	linkType  string
	direction string
	depth     int
}

type cfilter struct {
	src           string
	query         *jql.Query
	field         fieldRef
	pred          predicate
	keepAncestors bool
	dedupe        bool
}

type cgroup struct {
	field fieldRef
	name  string // as written in the definition
}

type csort struct {
	keys    []sortKey
	formula *formula
	cols    *cview // the default view, for column ids in the formula
	desc    []bool
}

// sortKey is a field, or a column of the default view (roll-ups and formulas included).
type sortKey struct {
	field fieldRef
	col   *ccol
}

// values computes the sort keys of one issue row.
func (s *csort) values(b *builder, n *node) []Value {
	if s.formula != nil {
		return []Value{b.formulaValue(n, s.formula, s.cols)}
	}
	is := b.sh.at(n.ord)
	out := make([]Value, len(s.keys))
	for i, k := range s.keys {
		if k.col != nil {
			out[i] = b.columnValue(n, k.col, s.cols)
		} else {
			out[i] = k.field.sortValue(is, b.venv)
		}
	}
	return out
}

// DefaultDepth is how many levels an extend generator adds when depth is not given.
const DefaultDepth = 10

var (
	generatorKinds = []string{"insert", "extend", "filter", "group", "sort"}
	extendKinds    = []string{"parent", "subtasks", "links"}
	directions     = []string{"outward", "inward", "both"}
	aclLevels      = []string{"view", "edit", "generators", "control"}
	rollupOps      = []string{"sum", "count", "min", "max", "avg"}
	rollupOvers    = []string{"children", "leaves", "descendants"}
	progressBys    = []string{"status", "resolution", "field"}
	progressWeight = []string{"equal", "story points", "estimate"}
	predicateOps   = []string{"=", "!=", "<", "<=", ">", ">=", "contains", "!contains", "empty", "!empty"}
	styleColors    = []string{"default", "muted", "accent", "success", "warning", "danger", "info", "red", "green", "yellow", "blue", "magenta", "cyan", "gray"}
	identRE        = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// errs collects definition errors with their lines.
type errs struct {
	d   *Definition
	out DefinitionErrors
}

func (e *errs) add(field, format string, args ...any) {
	e.out = append(e.out, &DefinitionError{File: e.d.file, Line: e.d.lineOf(field), Field: field, Msg: fmt.Sprintf(format, args...)})
}

func oneOf(v string, valid []string) bool { return slices.Contains(valid, v) }

// Validate checks the definition's meaning against a site's field catalog and reports
// every problem at once as DefinitionErrors.
func (d *Definition) Validate(cat Catalog) error {
	_, err := d.compileWith(cat)
	return err
}

// RemoteQueries lists the JQL of insert generators (at every level) that local
// evaluation cannot answer without a group directory or sprint list: refresh asks Jira
// for their members and passes them in Data.RemoteMembers. It needs no field catalog.
func (d *Definition) RemoteQueries() []string {
	var out []string
	var walk func(gens []Generator, folders []Folder)
	walk = func(gens []Generator, folders []Folder) {
		for _, g := range gens {
			if g.Insert == nil || g.Insert.JQL == "" {
				continue
			}
			q, err := jql.Parse(g.Insert.JQL)
			if err != nil {
				continue // a definition error, not a remote query
			}
			if _, err := q.Compile(jql.Env{Location: time.UTC}); err != nil && !slices.Contains(out, g.Insert.JQL) {
				out = append(out, g.Insert.JQL)
			}
		}
		for _, f := range folders {
			walk(f.Generators, f.Folders)
		}
	}
	walk(d.Generators, d.Folders)
	return out
}

// compile returns the cached compiled form for this field catalog, compiling on first use.
func (d *Definition) compile(fields []Field) (*compiled, error) {
	key := catalogKey(fields)
	d.mu.Lock()
	c := d.compiled
	d.mu.Unlock()
	if c != nil && c.catKey == key {
		return c, nil
	}
	c, err := d.compileWith(NewCatalog(fields))
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.compiled = c
	d.mu.Unlock()
	return c, nil
}

// catalogKey fingerprints a field catalog so a cached compile is reused only for the same
// catalog.
func catalogKey(fields []Field) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.ID)
		b.WriteByte('=')
		b.WriteString(f.Name)
		b.WriteByte(';')
	}
	return b.String()
}

func (d *Definition) compileWith(cat Catalog) (*compiled, error) {
	e := &errs{d: d}
	c := &compiled{cat: cat, catKey: catalogKey(cat.fields), views: map[string]*cview{}, refs: refFields(cat.fields)}
	for _, f := range cat.fields {
		if f.SchemaCustom == "com.pyxis.greenhopper.jira:gh-sprint" {
			c.sprintID = f.ID
		}
	}
	if strings.TrimSpace(d.Name) == "" {
		e.add("name", "a Lens needs a name")
	}
	for i, a := range d.ACL {
		p := fmt.Sprintf("acl[%d]", i)
		if _, err := ParsePrincipal(a.Principal); err != nil {
			e.add(p+".principal", "%v", err)
		}
		if !oneOf(a.Level, aclLevels) {
			e.add(p+".level", "unknown level %q; valid: %s", a.Level, strings.Join(aclLevels, ", "))
		}
	}
	seenView := map[string]bool{}
	defaults := 0
	for i, v := range d.Views {
		p := fmt.Sprintf("views[%d]", i)
		if v.Name == "" {
			e.add(p+".name", "a view needs a name")
		}
		if seenView[v.Name] {
			e.add(p+".name", "duplicate view name %q", v.Name)
		}
		seenView[v.Name] = true
		if v.Default {
			defaults++
		}
		c.views[v.Name] = c.view(e, p, v)
	}
	if defaults > 1 {
		e.add("views", "%d views are marked default; mark one", defaults)
	}
	// Sort generators may name the default view's columns, so views compile first.
	c.sortCols = c.views[d.DefaultView()]
	c.root = c.scope(e, "", d.Generators, d.Folders)
	c.structure.collect(c.root)
	if len(e.out) > 0 {
		// Checks run by kind (generators, then views, then what refers across them):
		// report in the order of the file, problems without a line first.
		slices.SortStableFunc(e.out, func(a, b *DefinitionError) int { return cmp.Compare(a.Line, b.Line) })
		return nil, e.out
	}
	return c, nil
}

func (c *compiled) scope(e *errs, prefix string, gens []Generator, folders []Folder) *cscope {
	s := &cscope{}
	for i, g := range gens {
		p := fmt.Sprintf("%sgenerators[%d]", prefix, i)
		switch g.kind() {
		case "insert":
			s.inserts = append(s.inserts, c.insert(e, p+".insert", g.Insert))
		case "extend":
			s.extends = append(s.extends, c.extend(e, p+".extend", g.Extend))
		case "filter":
			s.filters = append(s.filters, c.filter(e, p+".filter", g.Filter))
		case "group":
			f, err := c.cat.resolve(g.Group.By)
			if err != nil {
				e.add(p+".group.by", "%v", err)
			}
			s.groups = append(s.groups, &cgroup{field: f, name: g.Group.By})
		case "sort":
			s.sorts = append(s.sorts, c.sort(e, p+".sort", g.Sort))
		default:
			e.add(p, "a generator needs exactly one kind; valid: %s", strings.Join(generatorKinds, ", "))
		}
	}
	seen := map[string]bool{}
	for i, f := range folders {
		p := fmt.Sprintf("%sfolders[%d]", prefix, i)
		if f.Name == "" {
			e.add(p+".name", "a folder needs a name")
		}
		if seen[f.Name] {
			e.add(p+".name", "duplicate folder name %q at this level", f.Name)
		}
		seen[f.Name] = true
		s.folders = append(s.folders, cfolder{name: f.Name, scope: c.scope(e, p+".", f.Generators, f.Folders)})
	}
	return s
}

// fullEnv is a JQL environment where every function is available, to tell queries local
// evaluation can answer from those it cannot.
var fullEnv = jql.Env{MembersOf: func(string) []string { return nil }, OpenSprints: func() []string { return nil }, Location: time.UTC}

func (c *compiled) insert(e *errs, p string, g *InsertGen) *cinsert {
	in := &cinsert{src: g.JQL}
	switch {
	case g.JQL != "" && len(g.Keys) > 0:
		e.add(p, "insert takes jql or keys, not both")
	case len(g.Keys) > 0:
		in.keys = slices.Clone(g.Keys)
		for i, k := range g.Keys {
			if !issueKeyRE.MatchString(k) {
				e.add(fmt.Sprintf("%s.keys[%d]", p, i), "%q is not an issue key like ALPHA-12", k)
			}
		}
	case g.JQL != "":
		q, err := jql.Parse(g.JQL)
		if err != nil {
			e.add(p+".jql", "%v", err)
			return in
		}
		in.query = q
		// Without a group directory or sprint list, membersOf() and openSprints() cannot
		// be answered here, nor WAS and CHANGED without history, nor a field Jira knows by
		// a name Foundation does not; refresh asks Jira for such queries' members. Build
		// still evaluates them locally when Data supplies those functions. A query Jira
		// would refuse too (a bad date, an operator the field does not take) is a mistake
		// in the file, reported now rather than at the next refresh.
		has := c.cat.JQLHasField()
		if _, err := q.Compile(jql.Env{Location: time.UTC, HasField: has}); err != nil {
			if jerr := q.JiraErrorWith(has); jerr != nil {
				e.add(p+".jql", "%v", jerr)
				return in
			}
			in.remote = true
			in.why = err.Error()
		}
	default:
		e.add(p, "insert needs jql or keys")
	}
	return in
}

var issueKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*-[0-9]+$`)

func (c *compiled) extend(e *errs, p string, g *ExtendGen) *cextend {
	ex := &cextend{by: g.By, linkType: g.LinkType, direction: g.Direction, depth: g.Depth}
	if !oneOf(g.By, extendKinds) {
		e.add(p+".by", "unknown kind %q; valid: %s", g.By, strings.Join(extendKinds, ", "))
	}
	if ex.direction == "" {
		ex.direction = "outward"
	} else if !oneOf(ex.direction, directions) {
		e.add(p+".direction", "unknown direction %q; valid: %s", g.Direction, strings.Join(directions, ", "))
	}
	if g.By != "links" && (g.LinkType != "" || g.Direction != "") {
		e.add(p, "link_type and direction apply to by: links only")
	}
	switch {
	case ex.depth == 0:
		ex.depth = DefaultDepth
	case ex.depth < 0 || ex.depth > 100:
		e.add(p+".depth", "depth %d is out of range 1..100", g.Depth)
	}
	return ex
}

func (c *compiled) filter(e *errs, p string, g *FilterGen) *cfilter {
	fl := &cfilter{src: g.JQL, keepAncestors: g.KeepAncestors, dedupe: g.Dedupe}
	n := 0
	if g.JQL != "" {
		n++
	}
	if g.Column != "" {
		n++
	}
	if g.Dedupe {
		n++
	}
	if n != 1 {
		e.add(p, "filter takes exactly one of jql, column or dedupe")
		return fl
	}
	switch {
	case g.JQL != "":
		q, err := jql.Parse(g.JQL)
		if err != nil {
			e.add(p+".jql", "%v", err)
			return fl
		}
		env := fullEnv
		env.HasField = c.cat.JQLHasField()
		if _, err := q.Compile(env); err != nil {
			e.add(p+".jql", "cannot be evaluated locally, which a filter needs: %v", err)
		}
		fl.query = q
	case g.Column != "":
		f, err := c.cat.resolve(g.Column)
		if err != nil {
			e.add(p+".column", "%v", err)
		}
		fl.field = f
		pr, err := newPredicate(g.Op, g.Value)
		if err != nil {
			e.add(p+".op", "%v", err)
		}
		fl.pred = pr
	}
	return fl
}

func (c *compiled) sort(e *errs, p string, g *SortGen) *csort {
	so := &csort{}
	switch {
	case g.Formula != "" && len(g.By) > 0:
		e.add(p, "sort takes by or formula, not both")
	case g.Formula != "":
		var ids []string
		if c.sortCols != nil {
			so.cols = c.sortCols
			for _, col := range c.sortCols.cols {
				if (col.Kind == ColRollup || col.Kind == ColProgress) && identRE.MatchString(col.ID) {
					ids = append(ids, col.ID)
				}
			}
		}
		prog, err := compileFormula(g.Formula, ids)
		if err != nil {
			e.add(p+".formula", "%v", err)
		}
		so.formula = prog
		so.desc = []bool{g.Desc}
	case len(g.By) > 0:
		for i, by := range g.By {
			desc := g.Desc
			if strings.HasPrefix(by, "-") {
				desc, by = !desc, by[1:]
			}
			var k sortKey
			f, err := c.cat.resolve(by)
			if err == nil {
				k.field = f
			} else if col := c.sortCols.column(by); col != nil {
				k.col, so.cols = col, c.sortCols
			} else {
				msg := err.Error()
				if c.sortCols != nil {
					var ids []string
					for _, col := range c.sortCols.cols {
						ids = append(ids, col.ID)
					}
					msg += "; or a column of the default view: " + strings.Join(ids, ", ")
				}
				e.add(fmt.Sprintf("%s.by[%d]", p, i), "%s", msg)
			}
			so.keys = append(so.keys, k)
			so.desc = append(so.desc, desc)
		}
	default:
		e.add(p, "sort needs by or formula")
	}
	return so
}

// predicate is a column test: filters and formatting rules use it.
type predicate struct {
	op    string
	value string
	num   float64
	isNum bool
	time  time.Time
	isDay bool
}

func newPredicate(op, value string) (predicate, error) {
	if op == "not empty" {
		op = "!empty"
	}
	if !oneOf(op, predicateOps) {
		return predicate{}, fmt.Errorf("unknown operator %q; valid: %s", op, strings.Join(predicateOps, ", "))
	}
	p := predicate{op: op, value: value}
	v := strings.TrimSpace(value)
	if strings.HasSuffix(v, "%") {
		if f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64); err == nil {
			p.num, p.isNum = f/100, true
		}
	} else if f, err := strconv.ParseFloat(v, 64); err == nil {
		p.num, p.isNum = f, true
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		p.time, p.isDay = t, true
	}
	return p, nil
}

// match tests a field's values: = and comparisons hold when any value does, != and
// !contains when none does.
func (p predicate) match(vs []Value) bool {
	switch p.op {
	case "empty":
		return len(vs) == 0
	case "!empty":
		return len(vs) > 0
	case "!=":
		for _, v := range vs {
			if p.cmp(v) == 0 {
				return false
			}
		}
		return true
	case "!contains":
		for _, v := range vs {
			if strings.Contains(strings.ToLower(v.display()), strings.ToLower(p.value)) {
				return false
			}
		}
		return true
	}
	for _, v := range vs {
		switch p.op {
		case "contains":
			if strings.Contains(strings.ToLower(v.display()), strings.ToLower(p.value)) {
				return true
			}
			continue
		}
		c := p.cmp(v)
		if c == cmpIncomparable {
			continue
		}
		ok := false
		switch p.op {
		case "=":
			ok = c == 0
		case "<":
			ok = c < 0
		case "<=":
			ok = c <= 0
		case ">":
			ok = c > 0
		case ">=":
			ok = c >= 0
		}
		if ok {
			return true
		}
	}
	return false
}

const cmpIncomparable = 2

// cmp compares a value with the predicate's literal: numbers as numbers, times by day,
// text case-insensitively.
func (p predicate) cmp(v Value) int {
	switch v.Kind {
	case KindNumber, KindProgress:
		if !p.isNum {
			return cmpIncomparable
		}
		return cmpFloat(v.Num, p.num)
	case KindTime:
		if !p.isDay {
			return cmpIncomparable
		}
		y, m, d := v.Time.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Compare(p.time)
	case KindText:
		return strings.Compare(strings.ToLower(v.Str), strings.ToLower(p.value))
	}
	return cmpIncomparable
}

// Principal is a parsed ACL principal.
type Principal struct {
	Kind string // user, group, role, anyone
	Name string // user or group name; for roles "PROJECT/Role"
}

// ParsePrincipal reads "user:NAME", "group:NAME", "role:PROJECT/ROLE" or "anyone".
func ParsePrincipal(s string) (Principal, error) {
	if s == "anyone" {
		return Principal{Kind: "anyone"}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return Principal{}, fmt.Errorf("principal %q: want user:NAME, group:NAME, role:PROJECT/ROLE or anyone", s)
	}
	switch kind {
	case "user", "group":
	case "role":
		if pr, r, ok := strings.Cut(name, "/"); !ok || pr == "" || r == "" {
			return Principal{}, fmt.Errorf("principal %q: a role is role:PROJECT/ROLE", s)
		}
	default:
		return Principal{}, fmt.Errorf("principal %q: unknown kind %q; valid: user, group, role, anyone", s, kind)
	}
	return Principal{Kind: kind, Name: name}, nil
}

// ErrUnknownView is returned for a view name the definition does not have.
var ErrUnknownView = errors.New("unknown view")
