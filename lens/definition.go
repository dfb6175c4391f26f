package lens

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Definition is a Lens as written in YAML and stored in the cache. The exported fields are
// the whole format: Format writes them back and Parse(Format(d)) yields an equal Definition.
type Definition struct {
	Name        string      `yaml:"name" json:"name"`
	Description string      `yaml:"description,omitempty" json:"description,omitempty"`
	Owner       string      `yaml:"owner,omitempty" json:"owner,omitempty"`
	ACL         []ACLEntry  `yaml:"acl,omitempty" json:"acl,omitempty"`
	Generators  []Generator `yaml:"generators,omitempty" json:"generators,omitempty"`
	Folders     []Folder    `yaml:"folders,omitempty" json:"folders,omitempty"`
	Views       []ViewDef   `yaml:"views,omitempty" json:"views,omitempty"`

	// file and src let validation errors name the line of the field at fault. They are not
	// part of the definition's value.
	file string
	src  *ast.File

	// compiled caches what Build derives from the definition (parsed JQL, expr programs,
	// resolved fields), so a rebuild after a data change does not redo it.
	mu       sync.Mutex
	compiled *compiled
}

// ACLEntry grants one principal a level on the Lens.
type ACLEntry struct {
	// Principal is "user:NAME", "group:NAME", "role:PROJECT/ROLE" or "anyone".
	Principal string `yaml:"principal" json:"principal"`
	// Level is view, edit, generators or control.
	Level string `yaml:"level" json:"level"`
}

// Folder is a non-issue row. Its generators and folders build the rows under it.
type Folder struct {
	Name       string      `yaml:"name" json:"name"`
	Generators []Generator `yaml:"generators,omitempty" json:"generators,omitempty"`
	Folders    []Folder    `yaml:"folders,omitempty" json:"folders,omitempty"`
}

// Generator is one step that builds or reshapes rows. Exactly one of its fields is set;
// the field's name is the generator's kind.
type Generator struct {
	Insert *InsertGen `yaml:"insert,omitempty" json:"insert,omitempty"`
	Extend *ExtendGen `yaml:"extend,omitempty" json:"extend,omitempty"`
	Filter *FilterGen `yaml:"filter,omitempty" json:"filter,omitempty"`
	Group  *GroupGen  `yaml:"group,omitempty" json:"group,omitempty"`
	Sort   *SortGen   `yaml:"sort,omitempty" json:"sort,omitempty"`
}

// InsertGen adds issues: those matching JQL, or the listed keys in their order.
type InsertGen struct {
	JQL  string   `yaml:"jql,omitempty" json:"jql,omitempty"`
	Keys []string `yaml:"keys,omitempty" json:"keys,omitempty"`
}

// ExtendGen adds related issues under every issue row of its scope.
type ExtendGen struct {
	// By is parent (children through parent, and Epic Link on Data Center), subtasks, or
	// links.
	By string `yaml:"by" json:"by"`
	// LinkType restricts links to one link type name (e.g. "Blocks"); empty means all.
	LinkType string `yaml:"link_type,omitempty" json:"link_type,omitempty"`
	// Direction of links followed: outward, inward or both (default outward).
	Direction string `yaml:"direction,omitempty" json:"direction,omitempty"`
	// Depth limits how many levels are added (default 10).
	Depth int `yaml:"depth,omitempty" json:"depth,omitempty"`
}

// FilterGen removes issue rows. Exactly one of JQL, Column or Dedupe selects the kind.
type FilterGen struct {
	JQL    string `yaml:"jql,omitempty" json:"jql,omitempty"`
	Column string `yaml:"column,omitempty" json:"column,omitempty"` // a field name or id
	Op     string `yaml:"op,omitempty" json:"op,omitempty"`
	Value  string `yaml:"value,omitempty" json:"value,omitempty"`
	// KeepAncestors keeps the rows above a match even when they do not match.
	KeepAncestors bool `yaml:"keep_ancestors,omitempty" json:"keep_ancestors,omitempty"`
	// Dedupe keeps only the first row (depth-first) of each issue.
	Dedupe bool `yaml:"dedupe,omitempty" json:"dedupe,omitempty"`
}

// GroupGen puts the scope's top rows under one group row per value of a field.
type GroupGen struct {
	By string `yaml:"by" json:"by"`
}

// SortGen orders sibling rows, stably. By lists fields (a leading "-" sorts descending;
// "rank" is Jira's rank); Formula sorts by an expression's value instead.
type SortGen struct {
	By      []string `yaml:"by,omitempty" json:"by,omitempty"`
	Formula string   `yaml:"formula,omitempty" json:"formula,omitempty"`
	Desc    bool     `yaml:"desc,omitempty" json:"desc,omitempty"`
}

// ViewDef is a named set of columns with its formatting rules.
type ViewDef struct {
	Name    string       `yaml:"name" json:"name"`
	Default bool         `yaml:"default,omitempty" json:"default,omitempty"`
	Columns []ColumnDef  `yaml:"columns" json:"columns"`
	Format  []FormatRule `yaml:"format,omitempty" json:"format,omitempty"`
}

// ColumnDef is one column: exactly one of Field, Rollup, Progress or Formula.
type ColumnDef struct {
	// ID names the column for formulas, formatting rules and exports; defaults to the field
	// name or a slug of the title.
	ID       string       `yaml:"id,omitempty" json:"id,omitempty"`
	Title    string       `yaml:"title,omitempty" json:"title,omitempty"`
	Width    int          `yaml:"width,omitempty" json:"width,omitempty"`
	Field    string       `yaml:"field,omitempty" json:"field,omitempty"`
	Rollup   *RollupDef   `yaml:"rollup,omitempty" json:"rollup,omitempty"`
	Progress *ProgressDef `yaml:"progress,omitempty" json:"progress,omitempty"`
	Formula  string       `yaml:"formula,omitempty" json:"formula,omitempty"`
}

// RollupDef aggregates a numeric field over the rows under a row.
type RollupDef struct {
	Op    string `yaml:"op" json:"op"`                           // sum, count, min, max, avg
	Field string `yaml:"field,omitempty" json:"field,omitempty"` // required except for count
	Over  string `yaml:"over,omitempty" json:"over,omitempty"`   // children, leaves, descendants (default)
}

// ProgressDef is a 0..1 completion rolled up over leaves.
type ProgressDef struct {
	By     string `yaml:"by,omitempty" json:"by,omitempty"`         // status (default), resolution, field
	Field  string `yaml:"field,omitempty" json:"field,omitempty"`   // for by: field, a 0..100 number
	Weight string `yaml:"weight,omitempty" json:"weight,omitempty"` // equal (default), story points, estimate
}

// FormatRule styles a cell or a whole row when a column's value matches.
type FormatRule struct {
	Column string `yaml:"column" json:"column"`
	Op     string `yaml:"op" json:"op"`
	Value  string `yaml:"value,omitempty" json:"value,omitempty"`
	Style  Style  `yaml:"style" json:"style"`
	Row    bool   `yaml:"row,omitempty" json:"row,omitempty"`
}

// Style holds semantic names, resolved to colors by the TUI's theme.
type Style struct {
	Fg        string `yaml:"fg,omitempty" json:"fg,omitempty"`
	Bg        string `yaml:"bg,omitempty" json:"bg,omitempty"`
	Bold      bool   `yaml:"bold,omitempty" json:"bold,omitempty"`
	Italic    bool   `yaml:"italic,omitempty" json:"italic,omitempty"`
	Underline bool   `yaml:"underline,omitempty" json:"underline,omitempty"`
	Faint     bool   `yaml:"faint,omitempty" json:"faint,omitempty"`
	Strike    bool   `yaml:"strike,omitempty" json:"strike,omitempty"`
}

// String lists the style's set attributes compactly, e.g. "fg=danger bold".
func (s Style) String() string {
	var parts []string
	if s.Fg != "" {
		parts = append(parts, "fg="+s.Fg)
	}
	if s.Bg != "" {
		parts = append(parts, "bg="+s.Bg)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Bold, "bold"}, {s.Italic, "italic"}, {s.Underline, "underline"}, {s.Faint, "faint"}, {s.Strike, "strike"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, " ")
}

// IsZero reports whether the style changes nothing.
func (s Style) IsZero() bool { return s == Style{} }

// DefinitionError is one problem in a definition, located by file, line and field path.
type DefinitionError struct {
	File  string
	Line  int    // 0 when unknown
	Field string // e.g. "generators[1].extend.by"
	Msg   string
}

func (e *DefinitionError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// DefinitionErrors is every problem found at once; errors.As finds it, and each entry too.
type DefinitionErrors []*DefinitionError

func (es DefinitionErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As reach the individual errors.
func (es DefinitionErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Parse reads a Lens definition. filename only labels errors. Unknown keys are errors.
// Parse checks the shape; Validate checks meaning against a site's field catalog.
func Parse(filename string, data []byte) (def *Definition, err error) {
	defer func() {
		// go-yaml v1.19 panics on some malformed documents (found by FuzzParse); a bad
		// Lens file must be an error, never a crash.
		if r := recover(); r != nil {
			def, err = nil, DefinitionErrors{{File: filename, Msg: fmt.Sprintf("malformed YAML: %v", r)}}
		}
	}()
	d := &Definition{file: filename}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(filename, err)
	}
	d.src = f
	if err := yaml.UnmarshalWithOptions(data, d, yaml.Strict()); err != nil {
		return nil, yamlDecodeError(filename, err, f)
	}
	// An empty document unmarshals as null, which zeroes d: its errors must still name
	// the file.
	d.file, d.src = filename, f
	return d, nil
}

// yamlError turns a go-yaml error into a DefinitionError carrying the line.
func yamlError(filename string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		de := &DefinitionError{File: filename, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			de.Line = tk.Position.Line
		}
		return DefinitionErrors{de}
	}
	return DefinitionErrors{{File: filename, Msg: err.Error()}}
}

// yamlDecodeError is yamlError for a document that parsed but does not fit the format: a
// value of the wrong shape (a mapping where text goes...) is named by its field path and
// what the field expects, not by go-yaml's Go types ("cannot unmarshal
// map[string]interface {} into Go struct field Definition.Generators of type string").
func yamlDecodeError(filename string, err error, f *ast.File) error {
	var te *yaml.TypeError
	var ue *yaml.UnexpectedNodeTypeError
	var tk *token.Token
	switch {
	case errors.As(err, &te):
		tk = te.Token
	case errors.As(err, &ue):
		tk = ue.Token
	default:
		return yamlError(filename, err)
	}
	path, node := nodeAt(f, tk)
	if path == "" || node == nil {
		return yamlError(filename, err)
	}
	de := &DefinitionError{File: filename, Field: path, Line: tk.Position.Line}
	if te != nil {
		de.Msg = fmt.Sprintf("expected %s, not %s", goTypeWords(te.DstType), nodeWords(node))
	} else {
		de.Msg = fmt.Sprintf("expected %s, not %s", nodeTypeWords(ue.Expected), nodeWords(node))
	}
	if sortByEntry.MatchString(path) {
		de.Msg += `; a sort is either by fields ("-field" descending, rank, a column id) or by one formula: sort: {formula: "sp * 2", desc: true}`
	}
	return DefinitionErrors{de}
}

// sortByEntry matches the path of one entry of a sort's by list.
var sortByEntry = regexp.MustCompile(`(^|\.)sort\.by\[\d+\]$`)

// nodeAt finds, in the parsed file, the node that tk (from another parse of the same bytes)
// stands for, with its field path in the form DefinitionError uses ("generators[1].sort.by[0]").
func nodeAt(f *ast.File, tk *token.Token) (string, ast.Node) {
	if f == nil || tk == nil || tk.Position == nil {
		return "", nil
	}
	at := func(n ast.Node) bool {
		t := n.GetToken()
		return t != nil && t.Position != nil && t.Position.Offset == tk.Position.Offset
	}
	var walk func(n ast.Node, path string) (string, ast.Node)
	walk = func(n ast.Node, path string) (string, ast.Node) {
		if n == nil {
			return "", nil
		}
		switch x := n.(type) {
		case *ast.DocumentNode:
			return walk(x.Body, path)
		case *ast.TagNode:
			return walk(x.Value, path)
		case *ast.AnchorNode:
			return walk(x.Value, path)
		case *ast.MappingNode:
			if at(x) {
				return path, x
			}
			for _, v := range x.Values {
				if p, m := walk(v, path); m != nil {
					return p, m
				}
			}
			return "", nil
		case *ast.MappingValueNode:
			if x.Key == nil {
				return "", nil
			}
			key := strings.TrimPrefix(path+"."+x.Key.String(), ".")
			if at(x) {
				// A block mapping's error names its first key's colon: the mapping is the
				// node, the path is the mapping's.
				return path, x
			}
			return walk(x.Value, key)
		case *ast.SequenceNode:
			if at(x) {
				return path, x
			}
			for i, v := range x.Values {
				if p, m := walk(v, fmt.Sprintf("%s[%d]", path, i)); m != nil {
					return p, m
				}
			}
			return "", nil
		}
		if at(n) {
			return path, n
		}
		return "", nil
	}
	for _, doc := range f.Docs {
		if p, n := walk(doc, ""); n != nil {
			return p, n
		}
	}
	return "", nil
}

// goTypeWords says in the format's words what a Go type of the definition holds.
func goTypeWords(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping (key: value)"
	}
	return "another kind of value"
}

func nodeTypeWords(t ast.NodeType) string {
	switch t {
	case ast.MappingType:
		return "a mapping (key: value)"
	case ast.SequenceType:
		return "a list"
	case ast.StringType:
		return "text"
	case ast.BoolType:
		return "true or false"
	case ast.IntegerType, ast.FloatType:
		return "a number"
	}
	return "another kind of value"
}

// nodeWords says what a YAML node is, quoting short scalars.
func nodeWords(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing (null)"
	}
	if s := n.String(); len(s) <= 40 {
		return fmt.Sprintf("%s %s", nodeTypeWords(n.Type()), s)
	}
	return nodeTypeWords(n.Type())
}

// Format writes the definition as YAML that Parse reads back equal.
func (d *Definition) Format() ([]byte, error) {
	out, err := yaml.MarshalWithOptions(d.value(), yaml.Indent(2), yaml.IndentSequence(true), yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return nil, fmt.Errorf("format lens %q: %w", d.Name, err)
	}
	return out, nil
}

// MarshalYAML makes a Definition encode as its exported fields only.
func (d *Definition) MarshalYAML() (any, error) { return d.value(), nil }

// definitionValue has the exported fields of Definition without its caches, so encoders
// do not see the mutex.
type definitionValue struct {
	Name        string      `yaml:"name" json:"name"`
	Description string      `yaml:"description,omitempty" json:"description,omitempty"`
	Owner       string      `yaml:"owner,omitempty" json:"owner,omitempty"`
	ACL         []ACLEntry  `yaml:"acl,omitempty" json:"acl,omitempty"`
	Generators  []Generator `yaml:"generators,omitempty" json:"generators,omitempty"`
	Folders     []Folder    `yaml:"folders,omitempty" json:"folders,omitempty"`
	Views       []ViewDef   `yaml:"views,omitempty" json:"views,omitempty"`
}

func (d *Definition) value() definitionValue {
	return definitionValue{d.Name, d.Description, d.Owner, d.ACL, d.Generators, d.Folders, d.Views}
}

// Equal reports whether two definitions hold the same Lens (caches and source positions
// aside).
func (d *Definition) Equal(o *Definition) bool {
	a, err1 := yaml.Marshal(d.value())
	b, err2 := yaml.Marshal(o.value())
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// Filename is the name given to Parse.
func (d *Definition) Filename() string { return d.file }

// DefaultView is the name of the view marked default, else the first view, else "".
func (d *Definition) DefaultView() string {
	for _, v := range d.Views {
		if v.Default {
			return v.Name
		}
	}
	if len(d.Views) > 0 {
		return d.Views[0].Name
	}
	return ""
}

// lineOf finds the source line of a field path like "generators[1].extend.by", walking up
// to the nearest existing parent when the field itself is absent.
func (d *Definition) lineOf(field string) int {
	if d.src == nil {
		return 0
	}
	for p := field; ; {
		if p == "" {
			return 0
		}
		if path, err := yaml.PathString("$." + p); err == nil {
			if n, err := path.FilterFile(d.src); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line
				}
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return 0
		}
		p = p[:i]
	}
}

// kind names a generator's kind, or "" when none or several fields are set.
func (g Generator) kind() string {
	k, n := "", 0
	if g.Insert != nil {
		k, n = "insert", n+1
	}
	if g.Extend != nil {
		k, n = "extend", n+1
	}
	if g.Filter != nil {
		k, n = "filter", n+1
	}
	if g.Group != nil {
		k, n = "group", n+1
	}
	if g.Sort != nil {
		k, n = "sort", n+1
	}
	if n != 1 {
		return ""
	}
	return k
}
