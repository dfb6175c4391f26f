package jiratest

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a fake site.
type Options struct {
	// Dialect is "cloud" (default) or "datacenter".
	Dialect string
	// Issues is the number of generated issues (default 1000).
	Issues int
	// Seed makes the data set deterministic: the same seed and size give the same issues.
	Seed int64
	// Now is the site clock (default time.Now). Generated dates spread over the year before it.
	Now func() time.Time
	// Users are added to the default directory (DefaultUsers).
	Users []User
	// ConsistencyDelay makes search eventually consistent: a written issue reaches search
	// results only after this delay, unless its id is listed in reconcileIssues.
	ConsistencyDelay time.Duration
	// Webhooks configures the site's webhook Dispatcher (retry backoff, attempts, client).
	// A zero Seed takes the site's Seed.
	Webhooks DispatcherOptions
}

// Site is the fake Jira site. It is safe for concurrent use.
type Site struct {
	dialect string
	seed    uint64
	now     func() time.Time
	delay   time.Duration
	born    time.Time // the generation anchor

	mu     sync.RWMutex
	users  []User
	issues []issue
	links  []link
	// byNum maps project index and key number to the issue index.
	byNum      [3][]int32
	nextNum    [3]int32
	stale      map[int32]staleIssue
	history    map[int32]issueHistory // of the issues written since generation
	commentSeq int64
	changeSeq  int64
	writes     int64 // bumped by every write; invalidates cached search results

	search *resultCache

	jv      *jqlValues
	handler http.Handler // the routes wrapped with faults
	faults  *Faults
	hooks   *Dispatcher
	// sink receives webhook events; nil until webhooks are wired (see wire).
	sink     eventSink
	registry webhookRegistry
}

// issue is one issue, compactly. Indices refer to the catalogs; -1 means none.
type issue struct {
	created    int64 // unix seconds
	updated    int64 // unix milliseconds
	resolved   int64 // unix seconds, 0 while unresolved
	points     float32
	due        int32 // days since the Unix epoch, 0 for none
	num        int32 // key number within the project
	parent     int32 // parent issue (Cloud: every level; Data Center: sub-tasks only)
	epic       int32 // Data Center Epic Link target
	firstSub   int32 // first sub-task, then nextSub along the siblings
	nextSub    int32
	linkHead   int32 // first link touching this issue (see link.next)
	rank       uint32
	sprints    uint32 // bit mask over sprints
	labels     uint16 // bit mask over baseLabels, unless ext overrides
	assignee   int16
	reporter   int16
	project    uint8
	typ        uint8
	status     uint8
	priority   uint8
	resolution int8
	security   bool
	deleted    bool
	components uint8 // bit mask over the project's components
	versions   uint8 // bit mask over the project's versions
	ext        *issueExt
}

// issueExt holds what generated issues do not have: edited text, free labels, comments.
// It is copied on write, so a stale snapshot keeps its own.
type issueExt struct {
	summary     *string
	description *string
	labels      []string // set when labelsSet
	labelsSet   bool
	comments    []comment
	rank        string // set by a rank operation; overrides issue.rank
}

type comment struct {
	id      int64
	author  int16
	body    string
	created int64 // unix milliseconds
}

// link is one issue link. The links touching an issue form a list through nextFrom
// (when the issue is the outward side) and nextTo (inward side).
type link struct {
	typ      uint8
	from, to int32
	nextFrom int32
	nextTo   int32
	deleted  bool
}

// staleIssue is what search still sees of an issue written less than ConsistencyDelay ago.
type staleIssue struct {
	prev  issue
	had   bool // false for a newly created issue: search does not see it yet
	until time.Time
}

// ErrOptions reports invalid Options.
var ErrOptions = errors.New("jiratest: invalid options")

// New generates a site from opts.
func New(opts Options) (*Site, error) {
	if opts.Dialect == "" {
		opts.Dialect = dialectCloud
	}
	if opts.Dialect != dialectCloud && opts.Dialect != dialectDataCenter {
		return nil, fmt.Errorf("%w: dialect %q is neither %q nor %q", ErrOptions, opts.Dialect, dialectCloud, dialectDataCenter)
	}
	if opts.Issues < 0 || opts.Issues > 5_000_000 {
		return nil, fmt.Errorf("%w: %d issues (want 0..5000000)", ErrOptions, opts.Issues)
	}
	if opts.Issues == 0 {
		opts.Issues = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Site{
		dialect: opts.Dialect,
		seed:    uint64(opts.Seed),
		now:     opts.Now,
		delay:   opts.ConsistencyDelay,
		stale:   map[int32]staleIssue{},
		history: map[int32]issueHistory{},
		search:  newResultCache(32),
	}
	s.born = opts.Now().UTC().Truncate(time.Second)
	s.users = DefaultUsers()
	seen := map[string]bool{}
	for _, u := range s.users {
		seen[u.Name] = true
	}
	for _, u := range opts.Users {
		if u.Name == "" || strings.ContainsAny(u.Name, " \t\n:") {
			return nil, fmt.Errorf("%w: user name %q", ErrOptions, u.Name)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("%w: duplicate user %q", ErrOptions, u.Name)
		}
		seen[u.Name] = true
		s.users = append(s.users, normalizeUser(u))
	}
	if len(s.users) > math.MaxInt16 {
		return nil, fmt.Errorf("%w: too many users", ErrOptions)
	}
	s.jv = s.buildJQLValues()
	s.generate(opts.Issues)
	if opts.Webhooks.Seed == 0 {
		opts.Webhooks.Seed = uint64(opts.Seed)
	}
	s.hooks = NewDispatcher(opts.Webhooks)
	s.sink, s.registry = s.hooks, s.hooks
	s.faults = NewFaults(uint64(opts.Seed))
	s.faults.SetClock(opts.Now)
	s.handler = WithFaults(s.routes(), s.faults)
	return s, nil
}

// Dialect returns "cloud" or "datacenter".
func (s *Site) Dialect() string { return s.dialect }

// Faults returns the site's fault injection, off until configured.
func (s *Site) Faults() *Faults { return s.faults }

// Webhooks returns the site's webhook dispatcher: register targets on it (or through
// POST /rest/webhooks/1.0/webhook), Flush to wait for deliveries.
func (s *Site) Webhooks() *Dispatcher { return s.hooks }

// Users returns the directory.
func (s *Site) Users() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = normalizeUser(u)
	}
	return out
}

// ServeHTTP answers one request as Jira would.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// key returns the issue key of issue i.
func (s *Site) key(i int32) string {
	is := &s.issues[i]
	return projects[is.project].key + "-" + strconv.Itoa(int(is.num))
}

// issueID returns the Jira id of issue i: ids are dense from 10000.
func issueID(i int32) int64 { return int64(i) + 10000 }

// lookup resolves an id or key to a live issue index.
func (s *Site) lookup(idOrKey string) (int32, bool) {
	if idOrKey == "" {
		return 0, false
	}
	if c := idOrKey[0]; c >= '0' && c <= '9' {
		id, err := strconv.ParseInt(idOrKey, 10, 64)
		if err != nil {
			return 0, false
		}
		i := id - 10000
		if i < 0 || i >= int64(len(s.issues)) || s.issues[i].deleted {
			return 0, false
		}
		return int32(i), true
	}
	dash := strings.LastIndexByte(idOrKey, '-')
	if dash <= 0 {
		return 0, false
	}
	p := projectIndex(idOrKey[:dash])
	if p < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(idOrKey[dash+1:])
	if err != nil || n <= 0 || n > len(s.byNum[p]) {
		return 0, false
	}
	i := s.byNum[p][n-1]
	if s.issues[i].deleted {
		return 0, false
	}
	return i, true
}

// projectIndex finds a project by key (any case), name or id; -1 when unknown.
func projectIndex(ref string) int {
	for i, p := range projects {
		if strings.EqualFold(p.key, ref) || strings.EqualFold(p.name, ref) || strconv.FormatInt(p.id, 10) == ref {
			return i
		}
	}
	return -1
}

// userIndex finds a user by name, email or accountId; -1 when unknown.
func (s *Site) userIndex(ref string) int {
	for i := range s.users {
		u := &s.users[i]
		if u.Name == ref || strings.EqualFold(u.Email, ref) || u.AccountID == ref {
			return i
		}
	}
	return -1
}

// canSee reports whether user u may see issue i.
func (s *Site) canSee(u int, i int32) bool {
	is := &s.issues[i]
	if is.deleted {
		return false
	}
	usr := &s.users[u]
	if !usr.canBrowse(int(is.project)) {
		return false
	}
	return !is.security || usr.inLevel(securityLevelName)
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// Close stops the site's background work (webhook deliveries). The handler keeps
// answering; only deliveries stop.
func (s *Site) Close() {
	s.hooks.Close()
}
