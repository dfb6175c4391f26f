package lens

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"foundation/jql"
)

// node is a row while the tree is being shaped; Build flattens nodes into Rows.
type node struct {
	kind  RowKind
	ord   int32
	label string
	kids  []*node
	group *GroupInfo // group rows only
}

// builder carries one Build's state.
// ctxEvery is how many issues a build handles between looks at its context.
const ctxEvery = 4096

type builder struct {
	ctx   context.Context
	data  *Data
	idx   *dataIndex
	vis   []bool
	sh    shown // the issues as the viewer is shown them (redact.go)
	who   bool  // a visibility predicate was given: a viewer's build
	comp  *compiled
	venv  *valueEnv
	env   jql.Env
	now   time.Time
	notes []string
	slab  []node  // nodes are carved from slabs: one allocation per 4096 rows, not per row
	path  []int32 // ordinals of the issue rows above the one being extended
	rel   []int32 // scratch list of related ordinals
	stamp []int32 // per issue: the nodeSet generation that last took it
	mark  int32
	byID  map[int64]int32 // ordinals by issue id, made when a query names an id (jqlrefs.go)
}

func (b *builder) newNode(kind RowKind, ord int32, label string) *node {
	if len(b.slab) == 0 {
		b.slab = make([]node, min(4096, len(b.data.Issues)+16))
	}
	n := &b.slab[0]
	b.slab = b.slab[1:]
	n.kind, n.ord, n.label = kind, ord, label
	return n
}

// Build runs the definition's generators over data and returns the forest. visible is the
// viewer's permission predicate: an issue it rejects is dropped before anything else, so
// it never shows, never brings its subtree in through itself and never counts in roll-ups
// or totals. A nil visible allows all.
//
// Build reuses what it derived from the definition on earlier calls (parsed JQL, compiled
// formulas, resolved fields) and the data's index (by key, children, links), which
// Data.SetIssue keeps current after a single change.
func Build(d *Definition, data *Data, visible func(*Issue) bool) (*Forest, error) {
	return BuildContext(context.Background(), d, data, visible)
}

// BuildContext is Build that gives up with ctx's error once ctx is done: a build of a
// 100,000-issue Lens takes about a second, and one whose answer nobody waits for any more
// (the TUI's filter text changed) should free its core. ctx is checked between the
// build's stages and every few thousand issues, cheaply.
func BuildContext(ctx context.Context, d *Definition, data *Data, visible func(*Issue) bool) (*Forest, error) {
	comp, err := d.compile(data.Fields)
	if err != nil {
		return nil, err
	}
	b := &builder{
		ctx:  ctx,
		data: data,
		idx:  data.index(),
		vis:  make([]bool, len(data.Issues)),
		comp: comp,
		venv: &valueEnv{users: data.Users, text: data.Text},
	}
	b.now = data.Now
	if b.now.IsZero() {
		b.now = time.Now() // relative dates and formulas need a clock; tests pin Data.Now
	}
	b.env = jql.Env{Now: b.now, CurrentUser: data.CurrentUser, MembersOf: data.MembersOf, OpenSprints: data.OpenSprints}
	for i := range data.Issues {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		b.vis[i] = visible == nil || visible(&data.Issues[i])
	}
	b.sh = shown{issues: data.Issues}
	b.who = visible != nil
	if visible != nil {
		b.sh.red = b.redactAll()
	}
	root, err := b.scope(comp.root)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := &Forest{def: d, comp: comp, data: data, venv: b.venv, Notes: b.notes, now: b.now, idx: b.idx, sh: b.sh}
	f.Rows = make([]Row, 0, countNodes(root))
	f.flatten(root, -1, 0, "")
	return f, nil
}

// redactAll makes the redacted copies of the visible issues that name issues the viewer
// may not see (redact.go): every reader of issue values after this takes them through
// b.sh. It returns nil when no issue needs one.
func (b *builder) redactAll() []*Issue {
	sees := b.sees
	seen := func(o int32) bool { return o >= 0 && b.vis[o] }
	var red []*Issue
	for i := range b.data.Issues {
		if !b.vis[i] {
			continue
		}
		is := &b.data.Issues[i]
		// The index knows the parent's and epic's ordinals: no key lookups for them.
		parent := is.Parent == "" || seen(b.idx.parentOf[i])
		epic := is.EpicLink == "" || seen(b.idx.epicOf[i])
		if parent && epic && len(is.Fields) == 0 {
			continue
		}
		if r := redact(is, b.comp.refs, sees, parent, epic); r != nil {
			if red == nil {
				red = make([]*Issue, len(b.data.Issues))
			}
			red[i] = r
		}
	}
	return red
}

// sees reports whether the viewer may see the issue key: one the data holds and the
// visibility predicate accepted.
func (b *builder) sees(key string) bool {
	o, ok := b.idx.byKey[key]
	return ok && b.vis[o]
}

func countNodes(ns []*node) int {
	n := len(ns)
	for _, c := range ns {
		n += countNodes(c.kids)
	}
	return n
}

// flatten appends nodes depth-first. A node shared by several groups is visited once per
// place, each time with its own path.
func (f *Forest) flatten(ns []*node, parent int32, depth int32, prefix string) {
	var seen map[string]int
	for _, n := range ns {
		var seg string
		r := Row{Kind: n.kind, Depth: depth, Parent: parent, Label: n.label, ord: -1}
		switch n.kind {
		case RowIssue:
			r.Issue = f.sh.at(n.ord)
			r.ord = n.ord
			seg = r.Issue.Key
		case RowGroup:
			seg = "g:" + n.label
		case RowFolder:
			seg = "f:" + n.label
		}
		if len(ns) > 1 {
			if seen == nil {
				seen = make(map[string]int, len(ns))
			}
			seen[seg]++
			if c := seen[seg]; c > 1 {
				seg = fmt.Sprintf("%s#%d", seg, c)
			}
		}
		if prefix != "" {
			r.Path = prefix + "/" + seg
		} else {
			r.Path = seg
		}
		i := len(f.Rows)
		f.Rows = append(f.Rows, r)
		if n.group != nil {
			if f.groups == nil {
				f.groups = map[int32]*GroupInfo{}
			}
			f.groups[int32(i)] = n.group
		}
		f.flatten(n.kids, int32(i), depth+1, f.Rows[i].Path)
		f.Rows[i].End = int32(len(f.Rows))
	}
}

// scope runs one level's generators (insert, extend, filter, group, sort, in that order)
// and returns its rows: its folders first, then the rows it generated.
func (b *builder) scope(s *cscope) ([]*node, error) {
	var rows []*node
	seen := map[int32]bool{}
	add := func(ord int32) {
		if !seen[ord] {
			seen[ord] = true
			rows = append(rows, b.newNode(RowIssue, ord, ""))
		}
	}
	for _, in := range s.inserts {
		ords, err := b.insert(in)
		if err != nil {
			return nil, err
		}
		for _, o := range ords {
			add(o)
		}
	}
	for _, ex := range s.extends {
		if err := b.ctx.Err(); err != nil {
			return nil, err
		}
		for _, n := range rows {
			b.extend(n, ex)
		}
	}
	for _, fl := range s.filters {
		if err := b.ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		if rows, err = b.filter(rows, fl); err != nil {
			return nil, err
		}
	}
	for _, g := range s.groups {
		if err := b.ctx.Err(); err != nil {
			return nil, err
		}
		rows = b.group(rows, g)
	}
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	for _, so := range s.sorts {
		b.sort(rows, so)
	}
	out := make([]*node, 0, len(s.folders)+len(rows))
	for _, fo := range s.folders {
		kids, err := b.scope(fo.scope)
		if err != nil {
			return nil, err
		}
		out = append(out, &node{kind: RowFolder, ord: -1, label: fo.name, kids: kids})
	}
	return append(out, rows...), nil
}

// insert returns the visible issues an insert generator adds, in order.
func (b *builder) insert(in *cinsert) ([]int32, error) {
	var out []int32
	if in.keys != nil {
		for _, k := range in.keys {
			if o, ok := b.idx.byKey[k]; ok && b.vis[o] {
				out = append(out, o)
			}
		}
		return out, nil
	}
	m, err := in.query.Compile(b.env)
	if in.remote && err != nil {
		if b.who && b.namesUnseen(in) {
			// Jira answered as the identity that refreshed, which may see the issue the
			// query names: which visible issues it returned would tell the viewer about
			// an issue they may not see (issue in linkedIssues(GAMMA-5), parent = 10079).
			b.notes = append(b.notes, fmt.Sprintf("JQL %q names an issue that is not in the cache or that you may not browse: none of its members are shown", in.src))
			return nil, nil
		}
		if why, ok := b.data.RemoteRefused[in.src]; ok {
			// Jira's words may name an issue too (one it could not find): only those the
			// viewer may see are repeated.
			if b.who && b.textNamesUnseen(why) {
				why = "its reason names an issue you may not browse"
			}
			b.notes = append(b.notes, fmt.Sprintf("JQL %q: Jira refused it at the last refresh (%s): none of its members are shown", in.src, why))
			return nil, nil
		}
		keys, ok := b.data.RemoteMembers[in.src]
		if !ok {
			b.notes = append(b.notes, fmt.Sprintf("JQL %q needs Jira to answer (%s); refresh the Lens to fetch its members", in.src, in.why))
			return nil, nil
		}
		for _, k := range keys {
			if o, ok := b.idx.byKey[k]; ok && b.vis[o] {
				out = append(out, o)
			}
		}
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lens: insert %q: %w", in.src, err)
	}
	rec := b.record()
	for i := range b.data.Issues {
		if b.vis[i] {
			rec.is = b.sh.at(int32(i))
			if m(rec) {
				out = append(out, int32(i))
			}
		}
	}
	if len(in.query.OrderBy) > 0 {
		ra, rb := b.record(), b.record()
		slices.SortStableFunc(out, func(x, y int32) int {
			ra.is, rb.is = b.sh.at(x), b.sh.at(y)
			return jql.Compare(ra, rb, in.query.OrderBy)
		})
	}
	return out, nil
}

// jqlKeyRE finds what may be issue keys in JQL text, in any case as JQL takes them.
var jqlKeyRE = regexp.MustCompile(`(?i)\b[A-Z][A-Z0-9_]*-[0-9]+\b`)

// namesUnseen reports whether an insert's JQL names an issue the viewer may not see, or
// one the cache does not hold: by key anywhere in its text (something shaped like a key
// counts), or by issue id where Jira reads one (jqlrefs.go).
func (b *builder) namesUnseen(in *cinsert) bool {
	if b.textNamesUnseen(in.src) {
		return true
	}
	unseen := false
	issueIDs(in.query, b.issueValued, func(id string) {
		unseen = unseen || !b.seesID(id)
	})
	return unseen
}

func (b *builder) record() *issueRecord {
	return newRecord(b.data, b.idx, b.comp)
}

// extend adds related issues under n and, recursively, under every row already below n.
// b.path holds the ordinals of n's ancestors, so an issue never appears under itself.
func (b *builder) extend(n *node, ex *cextend) {
	if n.kind != RowIssue {
		for _, k := range n.kids {
			b.extend(k, ex)
		}
		return
	}
	b.path = append(b.path, n.ord)
	for _, k := range n.kids {
		b.extend(k, ex)
	}
	b.addRelated(n, ex, ex.depth)
	b.path = b.path[:len(b.path)-1]
}

// addRelated adds up to left levels of related issues under n, whose ordinal is the last
// of b.path.
func (b *builder) addRelated(n *node, ex *cextend, left int) {
	if left <= 0 {
		return
	}
	before := len(n.kids)
	b.rel = b.related(n.ord, ex, b.rel[:0])
	if len(b.rel) > 0 && cap(n.kids)-len(n.kids) < len(b.rel) {
		// Size kids once instead of growing per child.
		n.kids = append(make([]*node, 0, len(n.kids)+len(b.rel)), n.kids...)
	}
next:
	for _, o := range b.rel {
		if !b.vis[o] || slices.Contains(b.path, o) {
			continue
		}
		for _, k := range n.kids {
			if k.kind == RowIssue && k.ord == o {
				continue next
			}
		}
		n.kids = append(n.kids, b.newNode(RowIssue, o, ""))
	}
	for _, k := range n.kids[before:] {
		b.path = append(b.path, k.ord)
		b.addRelated(k, ex, left-1)
		b.path = b.path[:len(b.path)-1]
	}
}

// related appends to out the ordinal of each issue related to ord the way ex says.
func (b *builder) related(ord int32, ex *cextend, out []int32) []int32 {
	is := &b.data.Issues[ord]
	switch ex.by {
	case "parent", "subtasks":
		wantSub := ex.by == "subtasks"
		for _, c := range b.idx.children[ord] {
			ci := &b.data.Issues[c]
			if ci.Subtask != wantSub {
				continue
			}
			if ci.Parent != is.Key && b.data.Dialect != "datacenter" {
				continue // Epic Link children count on Data Center only
			}
			out = append(out, c)
		}
	case "links":
		for _, li := range b.idx.linksOf[is.Key] {
			l := &b.data.Links[li]
			if ex.linkType != "" && !strings.EqualFold(l.Type, ex.linkType) {
				continue
			}
			var other string
			switch {
			case l.From == is.Key && ex.direction != "inward":
				other = l.To
			case l.To == is.Key && ex.direction != "outward":
				other = l.From
			default:
				continue
			}
			if o, ok := b.idx.byKey[other]; ok {
				out = append(out, o)
			}
		}
	}
	return out
}

// filter keeps matching issue rows. Rows above a match stay when keepAncestors is set;
// otherwise the matches under a dropped row move up to its place.
func (b *builder) filter(rows []*node, fl *cfilter) ([]*node, error) {
	if fl.dedupe {
		seen := make(map[int32]bool)
		return dedupe(rows, seen), nil
	}
	var match func(*Issue) bool
	if fl.query != nil {
		m, err := fl.query.Compile(b.env)
		if err != nil {
			return nil, fmt.Errorf("lens: filter %q: %w", fl.src, err)
		}
		rec := b.record()
		match = func(is *Issue) bool {
			rec.is = is
			return m(rec)
		}
	} else {
		match = func(is *Issue) bool { return fl.pred.match(fl.field.values(is, b.venv)) }
	}
	var walk func([]*node) []*node
	walk = func(ns []*node) []*node {
		out := ns[:0:0]
		for _, n := range ns {
			n.kids = walk(n.kids)
			switch {
			case n.kind != RowIssue:
				if len(n.kids) > 0 {
					out = append(out, n)
				}
			case match(b.sh.at(n.ord)):
				out = append(out, n)
			case fl.keepAncestors && len(n.kids) > 0:
				out = append(out, n)
			case !fl.keepAncestors:
				out = append(out, n.kids...)
			}
		}
		return out
	}
	return walk(rows), nil
}

func dedupe(ns []*node, seen map[int32]bool) []*node {
	out := ns[:0:0]
	for _, n := range ns {
		if n.kind == RowIssue {
			if seen[n.ord] {
				continue
			}
			seen[n.ord] = true
		}
		n.kids = dedupe(n.kids, seen)
		out = append(out, n)
	}
	return out
}

// group puts rows under one group row per value of the field; an issue with several
// values sits in several groups, one without in "(none)", listed last. Rows already
// grouped are grouped again inside their groups.
func (b *builder) group(rows []*node, g *cgroup) []*node {
	if len(rows) > 0 && rows[0].kind == RowGroup {
		for _, n := range rows {
			if n.kind == RowGroup {
				n.kids = b.group(n.kids, g)
			}
		}
		return rows
	}
	type grp struct {
		n    *node
		sort Value
	}
	var groups []*grp
	byLabel := map[string]*grp{}
	var none *node
	for _, n := range rows {
		if n.kind != RowIssue {
			continue
		}
		is := b.sh.at(n.ord)
		vs := g.field.values(is, b.venv)
		if len(vs) == 0 {
			if none == nil {
				none = &node{kind: RowGroup, ord: -1, label: "(none)", group: &GroupInfo{Field: g.name, None: true}}
			}
			none.kids = append(none.kids, n)
			continue
		}
		for _, v := range vs {
			label := v.display()
			gr := byLabel[label]
			if gr == nil {
				sv := v
				if len(vs) == 1 {
					sv = g.field.sortValue(is, b.venv)
				}
				gr = &grp{n: &node{kind: RowGroup, ord: -1, label: label, group: &GroupInfo{Field: g.name, Value: g.field.rawID(is, v)}}, sort: sv}
				byLabel[label] = gr
				groups = append(groups, gr)
			}
			if k := gr.n.kids; len(k) == 0 || k[len(k)-1] != n {
				gr.n.kids = append(gr.n.kids, n)
			}
		}
	}
	slices.SortStableFunc(groups, func(x, y *grp) int {
		if c := compareValues(x.sort, y.sort); c != 0 {
			return c
		}
		return strings.Compare(x.n.label, y.n.label)
	})
	out := make([]*node, 0, len(groups)+1)
	for _, gr := range groups {
		out = append(out, gr.n)
	}
	if none != nil {
		out = append(out, none)
	}
	return out
}

// sort orders issue siblings at every level, stably; group and folder rows keep their
// places ahead of them.
func (b *builder) sort(rows []*node, so *csort) {
	type keyed struct {
		n    *node
		keys []Value
	}
	var walk func([]*node)
	walk = func(ns []*node) {
		for _, n := range ns {
			if len(n.kids) > 1 || (len(n.kids) == 1 && len(n.kids[0].kids) > 0) {
				walk(n.kids)
			}
		}
		first := 0
		for first < len(ns) && ns[first].kind != RowIssue {
			first++
		}
		if len(ns)-first < 2 {
			return
		}
		ks := make([]keyed, len(ns)-first)
		for i, n := range ns[first:] {
			ks[i] = keyed{n: n, keys: so.values(b, n)}
		}
		slices.SortStableFunc(ks, func(x, y keyed) int {
			for i := range x.keys {
				c := compareValues(x.keys[i], y.keys[i])
				if c != 0 && so.desc[i] {
					// Empty stays last when descending too.
					if x.keys[i].Kind != KindEmpty && y.keys[i].Kind != KindEmpty {
						c = -c
					}
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		for i, k := range ks {
			ns[first+i] = k.n
		}
	}
	walk(rows)
}

// columnValue computes a default-view column for a node while the tree is still being
// shaped, so sort generators can order by roll-ups and formulas.
func (b *builder) columnValue(n *node, col *ccol, cv *cview) Value {
	switch col.Kind {
	case ColField:
		if n.kind != RowIssue {
			return Value{}
		}
		return col.field.sortValue(b.sh.at(n.ord), b.venv)
	case ColRollup, ColProgress:
		over := col.rollOver
		if col.Kind == ColProgress {
			over = "leaves"
		}
		self := int32(-1)
		if n.kind == RowIssue {
			self = n.ord
		}
		set := b.nodeSet(n, over)
		if self >= 0 && over == "descendants" && includesSelf(col) {
			set = append(set, self)
		}
		return aggregateSet(&b.sh, set, self, col, b.venv)
	case ColFormula:
		if col.formula == nil {
			return Value{}
		}
		return b.formulaValue(n, col.formula, cv)
	}
	return Value{}
}

// formulaValue evaluates a formula for a node, with the roll-up and progress columns of
// cv it uses.
func (b *builder) formulaValue(n *node, fm *formula, cv *cview) Value {
	var is *Issue
	if n.kind == RowIssue {
		is = b.sh.at(n.ord)
	}
	env := issueEnv(is, b.venv, b.now, nil, fm.uses)
	if cv != nil {
		for _, other := range cv.cols {
			if (other.Kind == ColRollup || other.Kind == ColProgress) && fm.uses[other.ID] {
				env[other.ID] = b.columnValue(n, other, cv).Num
			}
		}
	}
	return runFormula(fm.prog, env)
}

// nodeSet lists the distinct issues under n that a roll-up over "over" reads.
func (b *builder) nodeSet(n *node, over string) []int32 {
	if b.stamp == nil {
		b.stamp = make([]int32, len(b.data.Issues))
	}
	b.mark++
	var set []int32
	take := func(k *node) {
		if k.kind == RowIssue && b.stamp[k.ord] != b.mark {
			b.stamp[k.ord] = b.mark
			set = append(set, k.ord)
		}
	}
	var walk func(n *node) bool // reports whether an issue sits at or under n
	walk = func(n *node) bool {
		below := false
		for _, k := range n.kids {
			if walk(k) {
				below = true
			}
		}
		if over == "leaves" && !below {
			take(n)
		} else if over != "leaves" {
			take(n)
		}
		return below || n.kind == RowIssue
	}
	switch over {
	case "children":
		for _, k := range n.kids {
			take(k)
		}
	default:
		for _, k := range n.kids {
			walk(k)
		}
	}
	return set
}

// textNamesUnseen reports whether s holds an issue key the viewer may not see (or the
// cache does not hold). Jira's words about a query are checked with it: ids in them cannot
// be told from other numbers (a line, a column), while the query's own ids are checked by
// namesUnseen before its refusal is shown.
func (b *builder) textNamesUnseen(s string) bool {
	for _, k := range jqlKeyRE.FindAllString(s, -1) {
		if !b.sees(strings.ToUpper(k)) {
			return true
		}
	}
	return false
}
