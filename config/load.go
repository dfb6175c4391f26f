package config

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// maxFileSize bounds what Load reads: a config file is a few kilobytes, so anything much
// larger is a mistake (a wrong --config path) better reported than parsed.
const maxFileSize = 1 << 20

// Problem is one thing wrong with a config file.
type Problem struct {
	Line    int    // 1-based; 0 when the problem has no place in the file
	Field   string // dotted path such as sites.acme.url; empty for the file as a whole
	Message string
}

// ValidationError lists every problem found in one config file, in file order, so a user
// fixes them in one pass.
type ValidationError struct {
	File     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = formatProblem(e.File, p)
	}
	return strings.Join(lines, "\n")
}

func formatProblem(file string, p Problem) string {
	var b strings.Builder
	b.WriteString(file)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// NotFoundError means there is no config file yet. Its message says how to create one.
type NotFoundError struct {
	Path string
	Err  error
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no config file at %s; create one with: %s", e.Path, addHint)
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// Load reads and validates the config file at path. A missing file is a *NotFoundError,
// an invalid one a *ValidationError naming every problem with its line. Warnings (such as a
// plain token in the file) come back in Config.Warnings.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Path: path, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, &ValidationError{File: path, Problems: []Problem{{Message: fmt.Sprintf("larger than %d bytes: not a Foundation config file", maxFileSize)}}}
	}
	return Parse(path, data)
}

// Parse validates data as the config file named file (file is used in messages only).
func Parse(file string, data []byte) (*Config, error) {
	l := &loader{file: file, lines: map[string]int{}, reported: map[string]bool{}, anchors: map[string]ast.Node{}}
	c := l.parse(data)
	if !l.fatal {
		for _, p := range validate(c) {
			if l.reported[p.Field] {
				continue // the loader already said what is wrong here; do not pile on
			}
			p.Line = l.lineOf(p.Field)
			l.problems = append(l.problems, p)
		}
	}
	if len(l.problems) > 0 {
		slices.SortStableFunc(l.problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &ValidationError{File: file, Problems: l.problems}
	}
	for _, w := range l.warnings {
		c.Warnings = append(c.Warnings, formatProblem(file, w))
	}
	c.source = data
	c.SetEnv(OSEnv())
	return c, nil
}

// comments collects a file's comments by YAML path, so that Save can put them back and
// `site add` does not strip a user's notes. It is best effort: a file go-yaml cannot decode
// generically simply loses its comments on the next save. It costs a second parse, so it
// runs when saving, not when loading.
func comments(data []byte) yaml.CommentMap {
	cm := yaml.CommentMap{}
	var v any
	if err := yaml.UnmarshalWithOptions(data, &v, yaml.CommentToMap(cm)); err != nil || len(cm) == 0 {
		return nil
	}
	return cm
}

// loader walks the YAML syntax tree rather than decoding into structs, so that every
// problem, including unknown keys and wrong types, is reported with its line, and all of
// them at once.
type loader struct {
	file     string
	problems []Problem
	warnings []Problem
	lines    map[string]int  // field path -> line of its key
	reported map[string]bool // fields the loader already complained about
	anchors  map[string]ast.Node
	fatal    bool // the file could not be read as a config at all: skip value rules
}

func (l *loader) problem(n ast.Node, field, format string, args ...any) {
	l.reported[field] = true
	l.problems = append(l.problems, Problem{Line: line(n), Field: field, Message: fmt.Sprintf(format, args...)})
}

// lineOf finds the line of field, or of its nearest enclosing field.
func (l *loader) lineOf(field string) int {
	for f := field; f != ""; {
		if n, ok := l.lines[f]; ok {
			return n
		}
		i := strings.LastIndexByte(f, '.')
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

func (l *loader) parse(data []byte) *Config {
	c := New()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		l.syntaxError(err)
		return c
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if body != nil {
			l.problem(d.Body, "", "more than one YAML document; the config is a single document")
			l.fatal = true
			return c
		}
		body = d.Body
	}
	if body == nil {
		return c // an empty file is an empty config
	}
	ast.Walk(anchorCollector(l.anchors), body)
	entries, ok := l.mapping(body, "")
	if !ok {
		l.fatal = true
		return c
	}
	for _, e := range entries {
		key, field := l.key(e, "")
		switch key {
		case "":
		case "default_site":
			c.DefaultSite, _ = l.str(e.Value, field)
		case "sites":
			l.sites(c, e.Value, field)
		case "keys":
			l.keys(c, e.Value, field)
		case "tui":
			l.tui(c, e.Value, field)
		default:
			l.unknown(e, field, topKeys)
		}
	}
	return c
}

var (
	topKeys     = []string{"default_site", "sites", "keys", "tui"}
	siteKeys    = []string{"url", "dialect", "email", "token_env", "token_cmd", "keyring", "token", "scope", "poll_interval", "permission_ttl", "requests_per_second", "webhook"}
	webhookKeys = []string{"secret_env", "secret_cmd", "keyring", "secret"}
	tuiKeys     = []string{"mouse"}
)

func (l *loader) syntaxError(err error) {
	l.fatal = true
	var ye yaml.Error
	if errors.As(err, &ye) {
		n := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			n = tk.Position.Line
		}
		l.problems = append(l.problems, Problem{Line: n, Message: "invalid YAML: " + ye.GetMessage()})
		return
	}
	l.problems = append(l.problems, Problem{Message: "invalid YAML: " + err.Error()})
}

func (l *loader) sites(c *Config, n ast.Node, field string) {
	entries, ok := l.mapping(n, field)
	if !ok {
		return
	}
	for _, e := range entries {
		name, sf := l.key(e, field)
		if name == "" {
			continue
		}
		s := NewSite(name)
		l.site(s, e.Value, sf)
		c.Sites = append(c.Sites, s)
	}
}

func (l *loader) site(s *Site, n ast.Node, field string) {
	entries, ok := l.mapping(n, field)
	if !ok {
		return
	}
	for _, e := range entries {
		key, f := l.key(e, field)
		switch key {
		case "":
		case "url":
			s.URL, _ = l.str(e.Value, f)
			s.URL = strings.TrimRight(s.URL, "/")
		case "dialect":
			d, _ := l.str(e.Value, f)
			s.Dialect = Dialect(strings.ToLower(d))
		case "email":
			s.Email, _ = l.str(e.Value, f)
		case "token_env", "token_cmd", "keyring", "token":
			l.secretSource(&s.TokenSource, key, tokenKeys, "token", e, f)
		case "scope":
			s.Scope, _ = l.str(e.Value, f)
		case "poll_interval":
			s.PollInterval = l.duration(e.Value, f, DefaultPollInterval)
		case "permission_ttl":
			s.PermissionTTL = l.duration(e.Value, f, DefaultPermissionTTL)
		case "requests_per_second":
			s.RequestsPerSecond = l.rate(e.Value, f)
		case "webhook":
			l.webhook(s, e.Value, f)
		default:
			l.unknown(e, f, siteKeys)
		}
	}
}

func (l *loader) webhook(s *Site, n ast.Node, field string) {
	entries, ok := l.mapping(n, field)
	if !ok {
		return
	}
	for _, e := range entries {
		key, f := l.key(e, field)
		switch key {
		case "":
		case "secret_env", "secret_cmd", "keyring", "secret":
			l.secretSource(&s.WebhookSource, key, secretKeys, "webhook secret", e, f)
		default:
			l.unknown(e, f, webhookKeys)
		}
	}
}

// sourceKeys names the keys of one secret's sources: environment variable, command, plain.
type sourceKeys struct{ env, cmd, plain string }

var (
	tokenKeys  = sourceKeys{"token_env", "token_cmd", "token"}
	secretKeys = sourceKeys{"secret_env", "secret_cmd", "secret"}
)

// secretSource reads one source of a secret (the token, or the webhook secret) into ref. A
// plain value in the file works but draws a warning.
func (l *loader) secretSource(ref *SecretRef, key string, k sourceKeys, what string, e *ast.MappingValueNode, f string) {
	switch key {
	case k.env:
		ref.Env = l.source(e.Value, f)
	case k.cmd:
		ref.Cmd = l.source(e.Value, f)
	case "keyring":
		ref.Keyring = l.sourceFlag(e.Value, f)
	case k.plain:
		v, _ := l.str(e.Value, f)
		ref.Plain = Secret(v)
		if v != "" {
			l.warnings = append(l.warnings, Problem{Line: line(e), Field: f,
				Message: fmt.Sprintf("plain %s in the config file; prefer %s, %s or keyring", what, k.env, k.cmd)})
		}
	}
}

func (l *loader) keys(c *Config, n ast.Node, field string) {
	entries, ok := l.mapping(n, field)
	if !ok {
		return
	}
	for _, e := range entries {
		action, f := l.key(e, field)
		if action == "" {
			continue
		}
		v := l.resolve(e.Value)
		switch v := v.(type) {
		case *ast.SequenceNode:
			var keys []string
			for _, item := range v.Values {
				if k, ok := l.scalar(item); ok {
					keys = append(keys, k)
				} else {
					l.problem(item, f, "expected a key name such as ctrl+d")
				}
			}
			c.Keys[action] = keys
		default:
			// A single key is common enough to accept without brackets.
			if k, ok := l.scalar(v); ok {
				c.Keys[action] = []string{k}
			} else {
				l.problem(e.Value, f, "expected a list of keys such as [j, down]")
			}
		}
	}
}

func (l *loader) tui(c *Config, n ast.Node, field string) {
	entries, ok := l.mapping(n, field)
	if !ok {
		return
	}
	for _, e := range entries {
		key, f := l.key(e, field)
		switch key {
		case "":
		case "mouse":
			c.TUI.Mouse = l.boolean(e.Value, f)
		default:
			l.unknown(e, f, tuiKeys)
		}
	}
}

// resolve follows anchors, aliases and tags to the node that holds the value.
func (l *loader) resolve(n ast.Node) ast.Node {
	for range 16 { // bounded: an alias chain cannot loop us forever
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			if v.Value == nil {
				return nil
			}
			target, ok := l.anchors[v.Value.GetToken().Value]
			if !ok {
				return nil
			}
			n = target
		default:
			return n
		}
	}
	return nil
}

// mapping returns the entries of a mapping node; a null (an empty value) is an empty mapping.
func (l *loader) mapping(n ast.Node, field string) ([]*ast.MappingValueNode, bool) {
	switch v := l.resolve(n).(type) {
	case *ast.MappingNode:
		return v.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{v}, true
	case *ast.NullNode:
		return nil, true
	}
	if field == "" {
		l.problem(n, field, "the config must be a mapping of default_site, sites, keys and tui")
	} else {
		l.problem(n, field, "expected a mapping of keys to values")
	}
	return nil, false
}

// key reads an entry's key and returns it with its field path; "" after reporting a
// problem (or for a duplicate).
func (l *loader) key(e *ast.MappingValueNode, parent string) (string, string) {
	var k ast.Node = e.Key
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		k = mk.Value
	}
	if _, ok := k.(*ast.MergeKeyNode); ok {
		l.problem(e, parent, "merge keys (<<) are not supported; write the fields out")
		return "", ""
	}
	name, ok := l.scalar(k)
	if !ok || name == "" {
		l.problem(e, parent, "expected a plain key")
		return "", ""
	}
	field := name
	if parent != "" {
		field = parent + "." + name
	}
	if _, dup := l.lines[field]; dup {
		l.problem(e, field, "defined twice (first on line %d)", l.lines[field])
		return "", ""
	}
	l.lines[field] = line(e)
	return name, field
}

func (l *loader) unknown(e *ast.MappingValueNode, field string, valid []string) {
	key := field[strings.LastIndexByte(field, '.')+1:]
	msg := "unknown key; valid keys: " + strings.Join(valid, ", ")
	if near := nearest(key, valid); near != "" {
		msg = fmt.Sprintf("unknown key (did you mean %s?); valid keys: %s", near, strings.Join(valid, ", "))
	}
	l.problem(e, field, "%s", msg)
}

// scalar reads any scalar as text (keys and key names may look like numbers or booleans).
func (l *loader) scalar(n ast.Node) (string, bool) {
	switch v := l.resolve(n).(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return v.GetToken().Value, true
	}
	return "", false
}

// str reads a string field. Numbers and booleans are refused rather than converted: a URL
// or a variable name that parses as a number is a mistake.
func (l *loader) str(n ast.Node, field string) (string, bool) {
	switch v := l.resolve(n).(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		return strings.TrimRight(v.Value.Value, "\n"), true
	case *ast.NullNode:
		return "", true
	case nil:
		l.problem(n, field, "alias to an unknown anchor")
		return "", false
	}
	l.problem(n, field, "expected a string")
	return "", false
}

// source reads a secret source field. A malformed one still counts as set, so the problem
// is reported once, for the field, and not again as "no token source".
func (l *loader) source(n ast.Node, field string) string {
	v, ok := l.str(n, field)
	if !ok {
		return "?"
	}
	return v
}

func (l *loader) sourceFlag(n ast.Node, field string) bool {
	if v, ok := l.resolve(n).(*ast.BoolNode); ok {
		return v.Value
	}
	l.problem(n, field, "expected true or false")
	return true
}

func (l *loader) boolean(n ast.Node, field string) bool {
	if v, ok := l.resolve(n).(*ast.BoolNode); ok {
		return v.Value
	}
	l.problem(n, field, "expected true or false")
	return false
}

func (l *loader) duration(n ast.Node, field string, def time.Duration) time.Duration {
	s, ok := l.scalar(n)
	if !ok {
		l.problem(n, field, "expected a duration such as 30s, 1m or 5m")
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		l.problem(n, field, "%q is not a duration such as 30s, 1m or 5m", s)
		return def
	}
	return d
}

// rate reads requests_per_second: a number of requests, 0 for the default, or unlimited.
// A negative number is refused rather than read as unlimited: turning pacing off should
// say so.
func (l *loader) rate(n ast.Node, field string) float64 {
	s, ok := l.scalar(n)
	if !ok {
		l.problem(n, field, "expected a number of requests per second such as 20, or unlimited")
		return 0
	}
	if strings.EqualFold(s, "unlimited") {
		return Unpaced
	}
	r, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(r) || math.IsInf(r, 0):
		l.problem(n, field, "%q is not a number of requests per second such as 20, or unlimited", s)
		return 0
	case r < 0:
		l.problem(n, field, "must not be negative; write unlimited to turn pacing off")
		return 0
	}
	return r
}

func line(n ast.Node) int {
	if n == nil {
		return 0
	}
	if e, ok := n.(*ast.MappingValueNode); ok && e.Key != nil {
		n = e.Key // a field's line is the line of its key
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}

// anchorCollector records every anchor so aliases can be followed.
type anchorCollector map[string]ast.Node

func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if v, ok := n.(*ast.AnchorNode); ok && v.Name != nil {
		a[v.Name.GetToken().Value] = v.Value
	}
	return a
}

// nearest suggests the valid key closest to a misspelt one, if it is close enough to be
// the likely intent.
func nearest(key string, valid []string) string {
	best, bestDist := "", 3
	for _, v := range valid {
		if d := editDistance(strings.ToLower(key), v); d < bestDist {
			best, bestDist = v, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
