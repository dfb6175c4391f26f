package lens

import (
	"encoding/json"
	"sync"
	"time"
)

// RowKind tells issue rows from the non-issue rows generators make.
type RowKind uint8

const (
	RowIssue  RowKind = iota // an issue; Row.Issue is set
	RowGroup                 // a group made by a group generator; Row.Label is the value
	RowFolder                // a folder of the definition; Row.Label is its name
)

func (k RowKind) String() string {
	switch k {
	case RowGroup:
		return "group"
	case RowFolder:
		return "folder"
	}
	return "issue"
}

// Row is one row of a Forest. Rows are stored flat in depth-first order, so the subtree of
// row i is rows i+1 .. End-1 and its children are found by hopping from i+1 to each
// child's End.
type Row struct {
	Kind   RowKind
	Depth  int32  // 0 for top rows
	Parent int32  // index of the parent row, -1 for top rows
	End    int32  // index just past this row's subtree
	Issue  *Issue // nil for group and folder rows
	Label  string // group value or folder name; "" for issue rows (use Title)
	// Path identifies the row across rebuilds: the segments of its ancestors and itself
	// joined by "/", an issue by its key, a group by "g:VALUE", a folder by "f:NAME", e.g.
	// "g:backend/ALPHA-1/ALPHA-7". Siblings never share a path.
	Path string

	ord int32 // index of Issue in Data.Issues, -1 for other rows
}

// Title is what a tree column shows for the row: "KEY Summary" for issues, else the label.
func (r *Row) Title() string {
	if r.Issue != nil {
		return r.Issue.Key + " " + r.Issue.Summary
	}
	return r.Label
}

// Forest is a built Lens: rows in depth-first order plus what computing cells needs. It is
// read-only once built and safe for concurrent use.
type Forest struct {
	Rows []Row
	// Notes say what the build could not do fully, e.g. a JQL insert that needs membership
	// from Jira which Data.RemoteMembers did not carry. They never name hidden issues.
	Notes []string

	def  *Definition
	comp *compiled
	data *Data
	venv *valueEnv
	now  time.Time  // the build's clock: Data.Now, or the time of the build
	idx  *dataIndex // the data index the rows were built from, for Rebuild
	sh   shown      // the issues as the viewer is shown them: rows point into it
	// reused says Rebuild kept the rows of an earlier forest; seeds are that forest's
	// opened views and dirty the ordinals of the changed issues, so View recomputes only
	// what the changes touch.
	reused bool
	seeds  map[string]*viewSeed
	dirty  []int32

	groups map[int32]*GroupInfo

	mu    sync.Mutex
	views map[string]*View
}

// GroupInfo tells what a group row stands for, so moving a row into a group can rewrite
// the field (issue 6's edits).
type GroupInfo struct {
	Field string // the field as the definition names it, e.g. "assignee"
	Value string // the value to write: a user id for user fields, else the shown text
	None  bool   // the "(none)" group: the field is empty
}

// Group returns what group row i stands for, or nil for other rows.
func (f *Forest) Group(i int) *GroupInfo { return f.groups[int32(i)] }

// Definition returns the definition the forest was built from.
func (f *Forest) Definition() *Definition { return f.def }

// Children returns the indexes of row i's children (i = -1 for the top rows).
func (f *Forest) Children(i int) []int {
	start, end := 0, len(f.Rows)
	if i >= 0 {
		start, end = i+1, int(f.Rows[i].End)
	}
	var out []int
	for j := start; j < end; j = int(f.Rows[j].End) {
		out = append(out, j)
	}
	return out
}

// Matching marks the rows a filter keeps: the issue rows match accepts and every row above
// them, so a match never loses its place in the tree (the TUI's filter, export --filter).
func (f *Forest) Matching(match func(*Issue) bool) []bool {
	keep := make([]bool, len(f.Rows))
	for i := range f.Rows {
		if is := f.Rows[i].Issue; is != nil && !keep[i] && match(is) {
			for a := i; a >= 0 && !keep[a]; a = int(f.Rows[a].Parent) {
				keep[a] = true
			}
		}
	}
	return keep
}

// Find returns the index of the row with the given path, or -1.
func (f *Forest) Find(path string) int {
	for i := range f.Rows {
		if f.Rows[i].Path == path {
			return i
		}
	}
	return -1
}

// Data is what Build reads: a snapshot of the cache plus the viewer's context.
type Data struct {
	Issues []Issue
	Links  []Link
	Fields []Field
	// Users maps a user id (accountId on Cloud, name on Data Center) to a display name.
	Users map[string]string
	// Dialect is "cloud" or "datacenter"; Epic Link children are followed on Data Center.
	Dialect string
	// Now is the clock of relative JQL dates and formulas; zero means the time of Build.
	Now         time.Time
	CurrentUser string
	// MembersOf and OpenSprints answer the JQL functions of the same names; nil means the
	// function is unknown to local evaluation.
	MembersOf   func(group string) []string
	OpenSprints func() []string
	// RemoteMembers carries, for each JQL returned by Definition.RemoteQueries, the issue
	// keys Jira answered at refresh time.
	RemoteMembers map[string][]string
	// RemoteRefused carries, for each such JQL Jira refused at refresh time, its reason:
	// Build notes it in place of members.
	RemoteRefused map[string]string
	// Text renders an ADF document as plain text (jira.ADFText); nil uses lens's own
	// simpler renderer.
	Text func(json.RawMessage) string

	mu  sync.Mutex
	idx *dataIndex
}

// Lookup returns the issue with key, nil when the data holds none. It says nothing of who
// may see it: that is the viewer's predicate.
func (d *Data) Lookup(key string) *Issue {
	if o, ok := d.index().byKey[key]; ok {
		return &d.Issues[o]
	}
	return nil
}

// dataIndex is what Build looks issues up by. It does not depend on the viewer, so it is
// kept across builds until the data changes.
type dataIndex struct {
	n        int
	first    *Issue
	links    int
	byKey    map[string]int32
	children [][]int32          // parent (or epic) ordinal -> child ordinals, data order
	parentOf []int32            // ordinal -> its Parent's ordinal; -1 for none or not in the data
	epicOf   []int32            // ordinal -> its Epic Link's ordinal; -1 for none or not in the data
	linksOf  map[string][]int32 // issue key -> indexes into Links touching it
}

// index returns the cached index, rebuilding it when Issues or Links were replaced or
// resized. Callers that change an issue in place call Reindex or use SetIssue.
func (d *Data) index() *dataIndex {
	d.mu.Lock()
	defer d.mu.Unlock()
	var first *Issue
	if len(d.Issues) > 0 {
		first = &d.Issues[0]
	}
	if x := d.idx; x != nil && x.n == len(d.Issues) && x.first == first && x.links == len(d.Links) {
		return x
	}
	x := &dataIndex{n: len(d.Issues), first: first, links: len(d.Links),
		byKey: make(map[string]int32, len(d.Issues)), children: make([][]int32, len(d.Issues)),
		parentOf: make([]int32, len(d.Issues)), epicOf: make([]int32, len(d.Issues)),
		linksOf: make(map[string][]int32)}
	for i := range d.Issues {
		x.byKey[d.Issues[i].Key] = int32(i)
	}
	for i := range d.Issues {
		x.addChild(&d.Issues[i], int32(i))
	}
	for i, l := range d.Links {
		x.linksOf[l.From] = append(x.linksOf[l.From], int32(i))
		if l.To != l.From {
			x.linksOf[l.To] = append(x.linksOf[l.To], int32(i))
		}
	}
	d.idx = x
	return x
}

// addChild keeps each child list in data order, so an incremental update yields the same
// forest as a full re-index.
func (x *dataIndex) addChild(is *Issue, ord int32) {
	x.parentOf[ord], x.epicOf[ord] = -1, -1
	add := func(k string) int32 {
		p, ok := x.byKey[k]
		if !ok {
			return -1 // a parent outside the data cannot be a row
		}
		s := x.children[p]
		i := len(s)
		for i > 0 && s[i-1] > ord {
			i--
		}
		s = append(s, 0)
		copy(s[i+1:], s[i:])
		s[i] = ord
		x.children[p] = s
		return p
	}
	if is.Parent != "" {
		x.parentOf[ord] = add(is.Parent)
	}
	if is.EpicLink != "" && is.EpicLink != is.Parent {
		x.epicOf[ord] = add(is.EpicLink)
	} else if is.EpicLink != "" {
		x.epicOf[ord] = x.parentOf[ord]
	}
}

func (x *dataIndex) removeChild(is *Issue, ord int32) {
	drop := func(k string) {
		p, ok := x.byKey[k]
		if !ok {
			return
		}
		s := x.children[p]
		for i, o := range s {
			if o == ord {
				x.children[p] = append(s[:i:i], s[i+1:]...)
				return
			}
		}
	}
	if is.Parent != "" {
		drop(is.Parent)
	}
	if is.EpicLink != "" && is.EpicLink != is.Parent {
		drop(is.EpicLink)
	}
}

// Reindex drops the cached index after Issues or Links were changed in place.
func (d *Data) Reindex() {
	d.mu.Lock()
	d.idx = nil
	d.mu.Unlock()
}

// SetIssue replaces the issue with the same key (or appends it) and keeps the index
// current, so a rebuild after one change does not re-index everything. It must not run
// while a Build reads the same Data; forests built earlier keep pointing at the replaced
// issue's slot and so show the new values.
func (d *Data) SetIssue(is Issue) {
	x := d.index()
	d.mu.Lock()
	defer d.mu.Unlock()
	if ord, ok := x.byKey[is.Key]; ok {
		old := &d.Issues[ord]
		if old.Parent != is.Parent || old.EpicLink != is.EpicLink {
			x.removeChild(old, ord)
			*old = is
			x.addChild(old, ord)
		} else {
			*old = is
		}
		return
	}
	d.Issues = append(d.Issues, is)
	d.idx = nil
}
