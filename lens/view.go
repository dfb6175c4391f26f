package lens

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ColumnKind says where a column's values come from.
type ColumnKind uint8

const (
	ColField ColumnKind = iota
	ColRollup
	ColProgress
	ColFormula
)

func (k ColumnKind) String() string {
	return [...]string{"field", "rollup", "progress", "formula"}[k]
}

// Align is a column's suggested alignment.
type Align uint8

const (
	AlignLeft Align = iota
	AlignRight
)

// Column describes one column of a view for the TUI and exports.
type Column struct {
	ID    string
	Title string
	Kind  ColumnKind
	Align Align
	Width int // suggested width in cells
}

type cview struct {
	name  string
	cols  []*ccol
	rules []crule
}

type ccol struct {
	Column
	field    fieldRef
	rollOp   string
	rollOver string
	progBy   string
	progF    fieldRef
	weight   string
	formula  *formula
}

type crule struct {
	col   int
	pred  predicate
	style Style
	row   bool
}

func (c *compiled) view(e *errs, p string, v ViewDef) *cview {
	cv := &cview{name: v.Name}
	ids := map[string]int{}
	var numeric []string
	type pending struct {
		col *ccol
		src string
		at  string
	}
	var formulas []pending
	if len(v.Columns) == 0 {
		e.add(p+".columns", "a view needs at least one column")
	}
	for i, cd := range v.Columns {
		cp := fmt.Sprintf("%s.columns[%d]", p, i)
		col := &ccol{Column: Column{ID: cd.ID, Title: cd.Title, Width: cd.Width}}
		n := 0
		for _, set := range []bool{cd.Field != "", cd.Rollup != nil, cd.Progress != nil, cd.Formula != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			e.add(cp, "a column takes exactly one of field, rollup, progress, formula")
			continue
		}
		switch {
		case cd.Field != "":
			col.Kind = ColField
			f, err := c.cat.resolve(cd.Field)
			if err != nil {
				e.add(cp+".field", "%v", err)
			}
			col.field = f
			if col.Title == "" {
				col.Title = f.title
			}
			if col.ID == "" {
				col.ID = slug(cd.Field)
			}
			col.Width = pick(col.Width, fieldWidth(f))
			if f.sys == sysStoryPoints || f.typ == "number" {
				col.Align = AlignRight
			}
		case cd.Rollup != nil:
			col.Kind, col.Align = ColRollup, AlignRight
			r := cd.Rollup
			col.rollOp, col.rollOver = r.Op, r.Over
			if col.rollOver == "" {
				col.rollOver = "descendants"
			}
			if !oneOf(r.Op, rollupOps) {
				e.add(cp+".rollup.op", "unknown roll-up %q; valid: %s", r.Op, strings.Join(rollupOps, ", "))
			}
			if !oneOf(col.rollOver, rollupOvers) {
				e.add(cp+".rollup.over", "unknown %q; valid: %s", r.Over, strings.Join(rollupOvers, ", "))
			}
			if r.Field == "" && r.Op != "count" {
				e.add(cp+".rollup.field", "%s needs a field", r.Op)
			} else if r.Field != "" {
				f, err := c.cat.resolve(r.Field)
				if err != nil {
					e.add(cp+".rollup.field", "%v", err)
				}
				col.field = f
			}
			if col.ID == "" {
				col.ID = slug(r.Op + "_" + r.Field)
			}
			if col.Title == "" {
				col.Title = strings.ToUpper(r.Op[:min(1, len(r.Op))]) + r.Op[min(1, len(r.Op)):]
				if r.Field != "" {
					col.Title += " " + r.Field
				}
			}
			col.Width = pick(col.Width, 8)
			numeric = append(numeric, col.ID)
		case cd.Progress != nil:
			col.Kind, col.Align = ColProgress, AlignRight
			pr := cd.Progress
			col.progBy, col.weight = pr.By, pr.Weight
			if col.progBy == "" {
				col.progBy = "status"
			}
			if col.weight == "" {
				col.weight = "equal"
			}
			if !oneOf(col.progBy, progressBys) {
				e.add(cp+".progress.by", "unknown %q; valid: %s", pr.By, strings.Join(progressBys, ", "))
			}
			if !oneOf(col.weight, progressWeight) {
				e.add(cp+".progress.weight", "unknown weight %q; valid: %s", pr.Weight, strings.Join(progressWeight, ", "))
			}
			if col.progBy == "field" {
				f, err := c.cat.resolve(pr.Field)
				if err != nil {
					e.add(cp+".progress.field", "%v", err)
				}
				col.progF = f
			} else if pr.Field != "" {
				e.add(cp+".progress.field", "field applies to by: field only")
			}
			if col.ID == "" {
				col.ID = "progress"
			}
			if col.Title == "" {
				col.Title = "Progress"
			}
			col.Width = pick(col.Width, 10)
			numeric = append(numeric, col.ID)
		case cd.Formula != "":
			col.Kind = ColFormula
			if col.ID == "" {
				col.ID = slug(cd.Title)
			}
			if col.ID == "" {
				col.ID = fmt.Sprintf("formula%d", i+1)
			}
			if col.Title == "" {
				col.Title = col.ID
			}
			col.Width = pick(col.Width, 10)
			formulas = append(formulas, pending{col, cd.Formula, cp + ".formula"})
		}
		if cd.ID != "" && !identRE.MatchString(cd.ID) {
			e.add(cp+".id", "id %q must be letters, digits and _ and not start with a digit", cd.ID)
		}
		if j, dup := ids[col.ID]; dup {
			e.add(cp+".id", "duplicate column id %q (also columns[%d]); set id to tell them apart", col.ID, j)
		}
		ids[col.ID] = i
		cv.cols = append(cv.cols, col)
	}
	var valid []string
	for _, x := range numeric {
		if identRE.MatchString(x) {
			valid = append(valid, x)
		}
	}
	for _, f := range formulas {
		prog, err := compileFormula(f.src, valid)
		if err != nil {
			e.add(f.at, "%v", err)
		}
		f.col.formula = prog
		if prog != nil && prog.numeric() {
			f.col.Align = AlignRight // numbers line up on the right, as roll-ups do
		}
	}
	for i, r := range v.Format {
		rp := fmt.Sprintf("%s.format[%d]", p, i)
		j, ok := -1, false
		for k, col := range cv.cols {
			if col.ID == r.Column || strings.EqualFold(col.Title, r.Column) {
				j, ok = k, true
				break
			}
		}
		if !ok {
			var names []string
			for _, col := range cv.cols {
				names = append(names, col.ID)
			}
			e.add(rp+".column", "unknown column %q; valid: %s", r.Column, strings.Join(names, ", "))
		}
		pr, err := newPredicate(r.Op, r.Value)
		if err != nil {
			e.add(rp+".op", "%v", err)
		}
		for _, c := range []struct{ name, v string }{{"fg", r.Style.Fg}, {"bg", r.Style.Bg}} {
			if c.v != "" && !oneOf(c.v, styleColors) {
				e.add(rp+".style."+c.name, "unknown color %q; valid: %s", c.v, strings.Join(styleColors, ", "))
			}
		}
		cv.rules = append(cv.rules, crule{col: j, pred: pr, style: r.Style, row: r.Row})
	}
	return cv
}

func pick(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

func fieldWidth(f fieldRef) int {
	switch f.sys {
	case sysKey, sysParent, sysEpicLink:
		return 10
	case sysSummary:
		return 40
	case sysStoryPoints:
		return 5
	case sysDue, sysCreated, sysUpdated:
		return 10
	case sysLabels:
		return 18
	}
	if f.typ == "number" {
		return 8
	}
	return 14
}

// slug turns a name into a column id: lower case, runs of other characters as "_".
func slug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = "c" + out
	}
	return out
}

// View is a forest seen through one view: its columns, and the computed values of its
// roll-up, progress and formula columns. Field cells are computed on demand, so opening a
// huge Lens costs only the aggregates.
type View struct {
	f        *Forest
	cv       *cview
	computed []*colValues // per column; nil for field columns
	// issueBelow[i] says whether any issue row sits under row i: leaves have none.
	issueBelow []bool
	mark       int32   // generation for the stamp array in aggregate
	set        []int32 // aggregate's scratch list of issue ordinals
}

// Columns lists a view's columns ("" is the default view).
func (f *Forest) Columns(view string) ([]Column, error) {
	v, err := f.View(view)
	if err != nil {
		return nil, err
	}
	return v.Columns(), nil
}

// View computes (once, then cached) the named view; "" is the default view.
func (f *Forest) View(name string) (*View, error) {
	if name == "" {
		name = f.def.DefaultView()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.views[name]; ok {
		return v, nil
	}
	cv, ok := f.comp.views[name]
	if !ok {
		var names []string
		for _, v := range f.def.Views {
			names = append(names, v.Name)
		}
		return nil, fmt.Errorf("lens %q: %w %q; valid: %s", f.def.Name, ErrUnknownView, name, strings.Join(names, ", "))
	}
	v := &View{f: f, cv: cv, computed: make([]*colValues, len(cv.cols))}
	if seed := f.seeds[name]; seed != nil && seed.cv == cv {
		v.computeFrom(seed, f.dirty)
		delete(f.seeds, name) // keep no reference to the earlier forest's arrays
	} else {
		v.compute()
	}
	if f.views == nil {
		f.views = map[string]*View{}
	}
	f.views[name] = v
	return v, nil
}

// Name is the view's name.
func (v *View) Name() string { return v.cv.name }

// Columns lists the view's columns.
func (v *View) Columns() []Column {
	out := make([]Column, len(v.cv.cols))
	for i, c := range v.cv.cols {
		out[i] = c.Column
	}
	return out
}

// Cell renders the cell of row i, column c, with its formatting.
func (v *View) Cell(i, c int) Cell {
	val := v.value(i, c)
	cell := Cell{Value: val, Display: v.display(i, c, val)}
	cell.Style = v.style(i, c, val)
	return cell
}

// applies reports whether rule r can judge row i: rules on field columns judge issue
// rows only, so an "assignee empty" rule does not paint every group row.
func (v *View) applies(r crule, i int) bool {
	return r.col >= 0 && (v.cv.cols[r.col].Kind != ColField || v.f.Rows[i].Issue != nil)
}

// RowStyle is the style of the first matching row rule, if any.
func (v *View) RowStyle(i int) Style {
	for _, r := range v.cv.rules {
		if r.row && v.applies(r, i) && r.pred.match(v.values(i, r.col)) {
			return r.style
		}
	}
	return Style{}
}

// style applies the first rule, in order, that targets this cell or its row and matches.
func (v *View) style(i, c int, val Value) Style {
	for _, r := range v.cv.rules {
		if !v.applies(r, i) || (!r.row && r.col != c) {
			continue
		}
		vs := v.values(i, r.col)
		if r.pred.match(vs) {
			return r.style
		}
	}
	return Style{}
}

// values are a cell's values as predicates see them: every value of a multi-valued field.
func (v *View) values(i, c int) []Value {
	col := v.cv.cols[c]
	if col.Kind != ColField {
		val := v.computed[c].at(i)
		if val.Kind == KindEmpty {
			return nil
		}
		return []Value{val}
	}
	r := &v.f.Rows[i]
	if r.Issue == nil {
		return nil
	}
	return col.field.values(r.Issue, v.f.venv)
}

// value is a cell's single typed value: multi-valued fields join their values as text.
func (v *View) value(i, c int) Value {
	col := v.cv.cols[c]
	if col.Kind != ColField {
		return v.computed[c].at(i)
	}
	r := &v.f.Rows[i]
	if r.Issue == nil {
		return Value{}
	}
	vs := col.field.values(r.Issue, v.f.venv)
	switch len(vs) {
	case 0:
		return Value{}
	case 1:
		return vs[0]
	}
	s := make([]string, len(vs))
	for k, x := range vs {
		s[k] = x.display()
	}
	return textValue(strings.Join(s, ", "))
}

// display shows status with its category, e.g. "In Review (In Progress)" is shortened to
// the status alone when they agree.
func (v *View) display(i, c int, val Value) string {
	col := v.cv.cols[c]
	if col.Kind == ColField && col.field.sys == sysStatus {
		if is := v.f.Rows[i].Issue; is != nil && is.StatusCategory != "" {
			cat := categoryName(is.StatusCategory)
			if !strings.EqualFold(cat, is.Status) {
				return is.Status + " · " + cat
			}
		}
	}
	return val.display()
}

// compute fills roll-up, progress and formula columns for every row.
func (v *View) compute() {
	rows := v.f.Rows
	n := len(rows)
	var stamp []int32 // per issue ordinal: the aggregate generation that last counted it
	v.issueBelow = make([]bool, n)
	for j := n - 1; j >= 0; j-- {
		if p := rows[j].Parent; p >= 0 && (rows[j].Issue != nil || v.issueBelow[j]) {
			v.issueBelow[p] = true
		}
	}
	for c, col := range v.cv.cols {
		switch col.Kind {
		case ColRollup, ColProgress:
			if stamp == nil {
				stamp = make([]int32, len(v.f.data.Issues))
			}
			out := &colValues{nums: make([]float64, n), kinds: make([]ValueKind, n)}
			for i := range rows {
				x := v.aggregate(i, col, stamp)
				out.nums[i], out.kinds[i] = x.Num, x.Kind
			}
			v.computed[c] = out
		}
	}
	var env map[string]any
	for c, col := range v.cv.cols {
		if col.Kind != ColFormula || col.formula == nil {
			if col.Kind == ColFormula {
				v.computed[c] = &colValues{vals: make([]Value, n)}
			}
			continue
		}
		out := make([]Value, n)
		for i := range rows {
			env = v.formulaEnv(i, col, env)
			out[i] = runFormula(col.formula.prog, env)
		}
		v.computed[c] = &colValues{vals: out}
	}
}

// aggregate computes a roll-up or progress for row i over the issue rows its column
// selects. A row with no issue rows under it aggregates over itself. An issue present
// twice in the subtree counts once.
func (v *View) aggregate(i int, col *ccol, stamp []int32) Value {
	rows := v.f.Rows
	r := &rows[i]
	v.mark++
	mark := v.mark
	set := v.set[:0]
	defer func() { v.set = set[:0] }()
	take := func(j int) {
		o := rows[j].ord
		if o >= 0 && stamp[o] != mark {
			stamp[o] = mark
			set = append(set, o)
		}
	}
	over := col.rollOver
	if col.Kind == ColProgress {
		over = "leaves"
	}
	end := int(r.End)
	switch over {
	case "children":
		for j := i + 1; j < end; j = int(rows[j].End) {
			take(j)
		}
	case "leaves":
		for j := i + 1; j < end; j++ {
			if rows[j].Issue != nil && !v.issueBelow[j] {
				take(j)
			}
		}
	default:
		if includesSelf(col) {
			take(i)
		}
		for j := i + 1; j < end; j++ {
			take(j)
		}
	}
	return aggregateSet(&v.f.sh, set, r.ord, col, v.f.venv)
}

// aggregateSet computes a roll-up or progress over distinct issue ordinals. An empty set
// counts 0 and otherwise falls back to the row's own issue (self, -1 for none).
func aggregateSet(issues *shown, set []int32, self int32, col *ccol, venv *valueEnv) Value {
	if len(set) == 0 {
		// A row with nothing under it counts nothing, and otherwise shows its own value.
		if col.Kind == ColRollup && col.rollOp == "count" {
			return numValue(0)
		}
		if self < 0 {
			return Value{}
		}
		set = []int32{self}
	}
	if col.Kind == ColProgress {
		var sum, wsum, esum float64
		n := 0
		for _, o := range set {
			is := issues.at(o)
			p, ok := progressOf(is, col, venv)
			if !ok {
				continue
			}
			n++
			w := 1.0
			switch col.weight {
			case "story points":
				w = 0
				if is.StoryPoints != nil {
					w = *is.StoryPoints
				}
			case "estimate":
				w = 0
				if vs := rawValues(is.Fields["timeoriginalestimate"], "number", venv); len(vs) == 1 && vs[0].Kind == KindNumber {
					w = vs[0].Num
				}
			}
			sum += w * p
			wsum += w
			esum += p
		}
		if wsum == 0 {
			// No weights at all (e.g. nothing estimated): fall back to equal weights.
			if n == 0 {
				return Value{}
			}
			return Value{Kind: KindProgress, Num: esum / float64(n)}
		}
		return Value{Kind: KindProgress, Num: sum / wsum}
	}
	var acc float64
	cnt := 0
	for _, o := range set {
		is := issues.at(o)
		if col.rollOp == "count" && col.field.sys == sysNone && col.field.id == "" {
			cnt++
			continue
		}
		if col.field.sys == sysStoryPoints {
			// Fast path for the most rolled-up field: no value slice per issue.
			if is.StoryPoints == nil {
				continue
			}
			x := *is.StoryPoints
			switch {
			case col.rollOp == "count":
			case cnt == 0:
				acc = x
			case col.rollOp == "min":
				acc = math.Min(acc, x)
			case col.rollOp == "max":
				acc = math.Max(acc, x)
			default:
				acc += x
			}
			cnt++
			continue
		}
		for _, x := range col.field.values(is, venv) {
			if col.rollOp == "count" {
				cnt++
				break
			}
			if x.Kind != KindNumber {
				continue
			}
			switch {
			case cnt == 0:
				acc = x.Num
			case col.rollOp == "min":
				acc = math.Min(acc, x.Num)
			case col.rollOp == "max":
				acc = math.Max(acc, x.Num)
			default:
				acc += x.Num
			}
			cnt++
		}
	}
	switch col.rollOp {
	case "count":
		return numValue(float64(cnt))
	case "avg":
		if cnt == 0 {
			return Value{}
		}
		return numValue(acc / float64(cnt))
	}
	if cnt == 0 {
		return Value{}
	}
	return numValue(acc)
}

// progressOf is one issue's completion in 0..1.
func progressOf(is *Issue, col *ccol, venv *valueEnv) (float64, bool) {
	switch col.progBy {
	case "resolution":
		if is.Resolution != "" {
			return 1, true
		}
		return 0, true
	case "field":
		vs := col.progF.values(is, venv)
		if len(vs) == 0 || vs[0].Kind != KindNumber {
			return 0, false
		}
		return math.Max(0, math.Min(1, vs[0].Num/100)), true
	}
	switch is.StatusCategory {
	case "done":
		return 1, true
	case "indeterminate":
		return 0.5, true
	}
	return 0, true
}

// column finds a column by id; nil when absent (or when cv is nil).
func (cv *cview) column(id string) *ccol {
	if cv == nil {
		return nil
	}
	for _, c := range cv.cols {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// includesSelf reports whether a roll-up over descendants counts the row's own issue
// too: sum, min, max and avg over descendants do (an epic with points of its own adds
// them to its stories'); count counts what is under the row.
func includesSelf(col *ccol) bool {
	return col.Kind == ColRollup && col.rollOp != "count" && (col.rollOver == "" || col.rollOver == "descendants")
}

// Problems summarizes the formula cells that failed, one line per column with the number
// of rows and the first message, for `foundation lens show`.
func (v *View) Problems() []string {
	var out []string
	for c, col := range v.cv.cols {
		if col.Kind != ColFormula {
			continue
		}
		n, first := 0, ""
		for _, val := range v.computed[c].vals {
			if val.Kind == KindError {
				if n == 0 {
					first = val.Str
				}
				n++
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("column %s: %d rows failed, e.g. %s", col.ID, n, first))
		}
	}
	return out
}

// colValues stores a computed column compactly: roll-ups and progress only ever hold a
// number (or nothing), so they keep 9 bytes a row instead of a whole Value; formulas,
// which may yield text or times, keep Values.
type colValues struct {
	nums  []float64
	kinds []ValueKind
	vals  []Value
}

func (c *colValues) at(i int) Value {
	if c.vals != nil {
		return c.vals[i]
	}
	return Value{Kind: c.kinds[i], Num: c.nums[i]}
}

// computeFrom fills the view from the same view of the forest Rebuild reused, recomputing
// only the rows whose values can differ: rows of the changed issues and their ancestors
// (whose roll-ups include them). Formulas that read "now" are recomputed everywhere when
// the clock moved.
func (v *View) computeFrom(seed *viewSeed, changed []int32) {
	rows := v.f.Rows
	v.issueBelow = seed.issueBelow // the rows are the same
	dirty := make([]bool, len(rows))
	var dirtyRows []int
	for i := range rows {
		if o := rows[i].ord; o >= 0 && slices.Contains(changed, o) {
			for j := i; j >= 0 && !dirty[j]; j = int(rows[j].Parent) {
				dirty[j] = true
				dirtyRows = append(dirtyRows, j)
			}
		}
	}
	slices.Sort(dirtyRows)
	var stamp []int32
	for c, col := range v.cv.cols {
		if col.Kind != ColRollup && col.Kind != ColProgress {
			continue
		}
		if stamp == nil {
			stamp = make([]int32, len(v.f.data.Issues))
		}
		old := seed.computed[c]
		out := &colValues{nums: slices.Clone(old.nums), kinds: slices.Clone(old.kinds)}
		for _, i := range dirtyRows {
			x := v.aggregate(i, col, stamp)
			out.nums[i], out.kinds[i] = x.Num, x.Kind
		}
		v.computed[c] = out
	}
	clockMoved := !v.f.now.Equal(seed.now)
	var env map[string]any
	for c, col := range v.cv.cols {
		if col.Kind != ColFormula {
			continue
		}
		if col.formula == nil {
			v.computed[c] = seed.computed[c]
			continue
		}
		out := slices.Clone(seed.computed[c].vals)
		redo := dirtyRows
		if clockMoved && col.formula.uses["now"] {
			redo = nil
			for i := range rows {
				redo = append(redo, i)
			}
		}
		for _, i := range redo {
			env = v.formulaEnv(i, col, env)
			out[i] = runFormula(col.formula.prog, env)
		}
		v.computed[c] = &colValues{vals: out}
	}
}

// formulaEnv fills env for a formula cell of row i: the row's issue fields and the
// view's roll-up and progress values the formula reads (0 when empty).
func (v *View) formulaEnv(i int, col *ccol, env map[string]any) map[string]any {
	env = issueEnv(v.f.Rows[i].Issue, v.f.venv, v.f.now, env, col.formula.uses)
	for k, other := range v.cv.cols {
		if (other.Kind == ColRollup || other.Kind == ColProgress) && col.formula.uses[other.ID] {
			x := v.computed[k].at(i)
			if x.Kind == KindEmpty {
				env[other.ID] = 0.0
			} else {
				env[other.ID] = x.Num
			}
		}
	}
	return env
}

// viewSeed is what Rebuild keeps of an opened view of the forest it reuses: its computed
// columns, not the forest, so rebuilds do not chain forests in memory.
type viewSeed struct {
	cv         *cview
	computed   []*colValues
	issueBelow []bool
	now        time.Time
}
