package jiratest

import (
	"container/list"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"foundation/jql"
)

// Jira's own wording for the answers clients branch on.
const (
	msgSearchGone = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
	msgUnbounded  = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
	msgBadToken   = "The provided next page token is invalid or expired."
)

// Page caps: Cloud returns up to 5,000 issues a page when only ids or keys are asked for
// and 100 otherwise; Data Center caps maxResults at 1,000 for id-only pages and 100
// otherwise, and says so in the response.
const (
	cloudIDCap   = 5000
	cloudPageCap = 100
	dcIDCap      = 1000
	dcPageCap    = 100
	defaultPage  = 50
)

// result is a materialised search: the matching issue indices in order. Pages of one
// search read the same result, which is what makes page tokens stable.
type result struct {
	id    uint64
	query string // cache key: user, jql, reconcile ids
	hits  []int32
	made  time.Time
	gen   int64 // s.writes when made
}

// resultCache keeps recent results, by id (for page tokens) and by query (so a Data
// Center client walking startAt pages, or parallel pages, does not re-run the query).
// It also holds the index searches bounded by updated are answered from.
type resultCache struct {
	updated updatedIndex

	mu      sync.Mutex
	max     int
	nextID  uint64
	order   *list.List // of *result, most recent first
	byID    map[uint64]*list.Element
	byQuery map[string]*list.Element
}

func newResultCache(max int) *resultCache {
	return &resultCache{max: max, order: list.New(), byID: map[uint64]*list.Element{}, byQuery: map[string]*list.Element{}}
}

// reuseFor is how long a result answers a repeated query when nothing was written since:
// relative dates ("-5m") move with the clock, so results cannot be kept forever.
const reuseFor = 10 * time.Second

func (c *resultCache) byQueryGet(key string, gen int64, now time.Time) *result {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byQuery[key]
	if !ok {
		return nil
	}
	r := e.Value.(*result)
	if r.gen != gen || now.Sub(r.made) > reuseFor {
		return nil
	}
	c.order.MoveToFront(e)
	return r
}

func (c *resultCache) get(id uint64) *result {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*result)
}

func (c *resultCache) put(r *result, cacheable bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	r.id = c.nextID
	e := c.order.PushFront(r)
	c.byID[r.id] = e
	if cacheable {
		c.byQuery[r.query] = e
	}
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		or := old.Value.(*result)
		delete(c.byID, or.id)
		if c.byQuery[or.query] == old {
			delete(c.byQuery, or.query)
		}
	}
}

// queryError is a JQL error to answer with 400.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

// runSearch evaluates src for user u and returns the ordered hits. The caller holds s.mu.
// reconcile lists issues whose latest write search must reflect even inside the
// consistency delay. cloud applies the bounded-query rule.
func (s *Site) runSearch(u int, src string, reconcile []int64, cloud bool) (*result, error) {
	ids := slices.Clone(reconcile)
	slices.Sort(ids)
	key := strconv.Itoa(u) + "\x00" + src + "\x00" + fmt.Sprint(ids)
	now := s.now()
	cacheable := !s.anyStale(now)
	if cacheable {
		if r := s.search.byQueryGet(key, s.writes, now); r != nil {
			return r, nil
		}
	}
	q, err := jql.Parse(src)
	if err != nil {
		return nil, &queryError{err.Error()}
	}
	// One env for the matcher and the bound, so relative dates resolve against one clock.
	env := s.searchEnv(u)
	match, err := q.Compile(env)
	if err != nil {
		return nil, &queryError{err.Error()}
	}
	if cloud && !q.Bounded() {
		return nil, &queryError{msgUnbounded}
	}
	reconciled := map[int32]bool{}
	for _, id := range reconcile {
		reconciled[int32(id-10000)] = true
	}
	hits := s.matchHits(u, q, env, match, reconciled, now, true)
	if len(q.OrderBy) > 0 {
		hits = s.sortHits(hits, q.OrderBy, reconciled, now)
	} else {
		slices.Reverse(hits) // Jira's default order: newest first
	}
	r := &result{query: key, hits: hits, made: now, gen: s.writes}
	s.search.put(r, cacheable)
	return r, nil
}

// matchHits returns, ascending, the issues that match for user u as search sees them now.
// indexed answers a query bounded below by updated from the updated index; the full
// scan is the reference it must agree with. The caller holds s.mu.
func (s *Site) matchHits(u int, q *jql.Query, env jql.Env, match jql.Matcher, reconciled map[int32]bool, now time.Time, indexed bool) []int32 {
	rec := &record{s: s, buf: make([]jql.Value, 0, 16)}
	var hits []int32
	consider := func(idx int32) {
		is := s.searchView(idx, reconciled, now)
		if is == nil || !s.canSeeSnapshot(u, is) {
			return
		}
		rec.i, rec.is = idx, is
		if match(rec) {
			hits = append(hits, idx)
		}
	}
	if atLeast, ok := updatedBound(q, env); ok && indexed {
		// Candidates come ascending, as the scan visits them, so both give one order.
		s.search.updated.ensure(s.issues)
		for _, idx := range s.search.updated.since(s.issues, atLeast) {
			consider(idx)
		}
		return hits
	}
	for i := range s.issues {
		consider(int32(i))
	}
	return hits
}

// sortRec holds the ORDER BY values of one hit, extracted once: comparing extracted
// values is what makes sorting half a million hits take a moment, not minutes.
type sortRec struct {
	idx    int32
	fields []string
	vals   [][]jql.Value
}

func (r *sortRec) Values(field string) []jql.Value {
	for k, f := range r.fields {
		if f == field {
			return r.vals[k]
		}
	}
	return nil
}

// sortHits orders hits by keys; ties go newest first, as Jira's default order.
func (s *Site) sortHits(hits []int32, keys []jql.SortKey, reconciled map[int32]bool, now time.Time) []int32 {
	fields := make([]string, len(keys))
	for k, key := range keys {
		fields[k] = key.Field
	}
	recs := make([]sortRec, len(hits))
	vals := make([][]jql.Value, len(hits)*len(keys))
	rec := &record{s: s, buf: make([]jql.Value, 0, 16)}
	for h, i := range hits {
		rec.i, rec.is = i, s.searchView(i, reconciled, now)
		r := &recs[h]
		r.idx, r.fields, r.vals = i, fields, vals[h*len(keys):(h+1)*len(keys):(h+1)*len(keys)]
		for k, f := range fields {
			r.vals[k] = slices.Clone(rec.Values(f))
		}
	}
	// Sort positions, not records: comparing through pointers into recs allocates nothing,
	// and ids break ties, so an unstable sort gives one answer.
	order := make([]int32, len(recs))
	for h := range order {
		order[h] = int32(h)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ra, rb := &recs[a], &recs[b]
		if c := jql.Compare(ra, rb, keys); c != 0 {
			return c
		}
		return int(rb.idx - ra.idx)
	})
	for h, o := range order {
		hits[h] = recs[o].idx
	}
	return hits
}

// searchView is the version of issue i that search sees: the live issue, or the one from
// before a write still inside the consistency delay; nil when search does not see it.
func (s *Site) searchView(i int32, reconciled map[int32]bool, now time.Time) *issue {
	if st, ok := s.stale[i]; ok && !reconciled[i] && now.Before(st.until) {
		if !st.had {
			return nil
		}
		return &st.prev
	}
	is := &s.issues[i]
	if is.deleted {
		return nil
	}
	return is
}

func (s *Site) canSeeSnapshot(u int, is *issue) bool {
	usr := &s.users[u]
	return !is.deleted && usr.canBrowse(int(is.project)) && (!is.security || usr.inLevel(securityLevelName))
}

// anyStale reports whether some write is still inside the consistency delay. The caller
// holds s.mu; expired snapshots are dropped by writers (see remember).
func (s *Site) anyStale(now time.Time) bool {
	for _, st := range s.stale {
		if now.Before(st.until) {
			return true
		}
	}
	return false
}

// searchRequest is the union of GET parameters and POST bodies of the search endpoints.
type searchRequest struct {
	JQL             string   `json:"jql"`
	NextPageToken   string   `json:"nextPageToken"`
	StartAt         int      `json:"startAt"`
	MaxResults      *int     `json:"maxResults"`
	Fields          []string `json:"fields"`
	Expand          any      `json:"expand"` // a string (search/jql) or a list (Data Center)
	Properties      []string `json:"properties"`
	FieldsByKeys    bool     `json:"fieldsByKeys"`
	ReconcileIssues []int64  `json:"reconcileIssues"`
	ValidateQuery   any      `json:"validateQuery"`
	FailFast        bool     `json:"failFast"`
}

func (req *searchRequest) expand() []string {
	switch x := req.Expand.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

var errBadParam = errors.New("bad parameter")

func parseSearchRequest(w http.ResponseWriter, r *http.Request) (*searchRequest, bool) {
	req := &searchRequest{}
	if r.Method == http.MethodPost {
		return req, readJSON(w, r, req)
	}
	q := r.URL.Query()
	req.JQL = q.Get("jql")
	req.NextPageToken = q.Get("nextPageToken")
	req.Fields = q["fields"]
	if e := q["expand"]; len(e) > 0 {
		req.Expand = strings.Join(e, ",")
	}
	bad := func(name string) (*searchRequest, bool) {
		writeErrors(w, http.StatusBadRequest, []string{"The value of '" + name + "' is not valid."}, nil)
		return nil, false
	}
	if v := q.Get("startAt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad("startAt")
		}
		req.StartAt = n
	}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad("maxResults")
		}
		req.MaxResults = &n
	}
	for _, v := range q["reconcileIssues"] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return bad("reconcileIssues")
			}
			req.ReconcileIssues = append(req.ReconcileIssues, n)
		}
	}
	return req, true
}

// searchOld is /rest/api/{2,3}/search: gone on Cloud, the paging search on Data Center.
func (s *Site) searchOld(w http.ResponseWriter, r *http.Request, c *call) {
	if s.dialect == dialectCloud {
		writeErrors(w, http.StatusGone, []string{msgSearchGone}, nil)
		return
	}
	req, ok := parseSearchRequest(w, r)
	if !ok {
		return
	}
	if req.StartAt < 0 {
		writeErrors(w, http.StatusBadRequest, []string{"The value of 'startAt' must be non-negative."}, nil)
		return
	}
	fs := s.parseFields(req.Fields, "*navigable")
	fs.idOnly = false // Data Center always sends id, key and self
	limit := dcPageCap
	if fs.keyOnly {
		limit = dcIDCap
	}
	max := defaultPage
	if req.MaxResults != nil && *req.MaxResults >= 0 {
		max = min(*req.MaxResults, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	res, err := s.runSearch(c.v.user, req.JQL, nil, false)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, []string{err.Error()}, nil)
		return
	}
	b := []byte(`{"expand":"schema,names","startAt":`)
	b = strconv.AppendInt(b, int64(req.StartAt), 10)
	b = append(b, `,"maxResults":`...)
	b = strconv.AppendInt(b, int64(max), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(len(res.hits)), 10)
	b = append(b, `,"issues":[`...)
	end := min(req.StartAt+max, len(res.hits))
	now := s.now()
	first := true
	for k := req.StartAt; k < end; k++ {
		i := res.hits[k]
		is := s.searchView(i, nil, now)
		if is == nil || !s.canSeeSnapshot(c.v.user, is) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = s.appendIssue(b, c.v, i, is, fs)
	}
	b = append(b, ']')
	if hasExpand(req.expand(), "names") {
		b = append(b, ',')
		b = appendNames(b, fs)
	}
	writeRaw(w, http.StatusOK, append(b, '}'))
}

// pageToken is the opaque nextPageToken: which result, where in it, and a check on the
// query so a token cannot be replayed against another one.
func encodeToken(id uint64, offset int, key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	raw := strconv.FormatUint(id, 36) + "." + strconv.Itoa(offset) + "." + strconv.FormatUint(uint64(h.Sum32()), 36)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeToken(tok string) (id uint64, offset int, check string, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, 0, "", errBadParam
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		return 0, 0, "", errBadParam
	}
	if id, err = strconv.ParseUint(parts[0], 36, 64); err != nil {
		return 0, 0, "", errBadParam
	}
	if offset, err = strconv.Atoi(parts[1]); err != nil || offset < 0 {
		return 0, 0, "", errBadParam
	}
	return id, offset, parts[2], nil
}

func tokenCheck(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// searchJQL is Cloud's /rest/api/3/search/jql.
func (s *Site) searchJQL(w http.ResponseWriter, r *http.Request, c *call) {
	if s.dialect != dialectCloud {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
		return
	}
	req, ok := parseSearchRequest(w, r)
	if !ok {
		return
	}
	if len(req.ReconcileIssues) > 50 {
		writeErrors(w, http.StatusBadRequest, []string{"The number of issues to reconcile must not exceed 50."}, nil)
		return
	}
	if len(req.Properties) > 5 {
		writeErrors(w, http.StatusBadRequest, []string{"The number of properties must not exceed 5."}, nil)
		return
	}
	fs := s.parseFields(req.Fields, "id")
	limit := cloudPageCap
	if fs.keyOnly {
		limit = cloudIDCap
	}
	max := defaultPage
	if req.MaxResults != nil && *req.MaxResults > 0 {
		max = min(*req.MaxResults, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var res *result
	offset := 0
	ids := slices.Clone(req.ReconcileIssues)
	slices.Sort(ids)
	key := strconv.Itoa(c.v.user) + "\x00" + req.JQL + "\x00" + fmt.Sprint(ids)
	if req.NextPageToken != "" {
		id, off, check, err := decodeToken(req.NextPageToken)
		if err != nil || check != tokenCheck(key) {
			writeErrors(w, http.StatusBadRequest, []string{msgBadToken}, nil)
			return
		}
		offset = off
		res = s.search.get(id)
	}
	if res == nil {
		var err error
		if res, err = s.runSearch(c.v.user, req.JQL, req.ReconcileIssues, true); err != nil {
			writeErrors(w, http.StatusBadRequest, []string{err.Error()}, nil)
			return
		}
	}
	reconciled := map[int32]bool{}
	for _, id := range req.ReconcileIssues {
		reconciled[int32(id-10000)] = true
	}
	now := s.now()
	b := []byte(`{"issues":[`)
	end := min(offset+max, len(res.hits))
	first := true
	for k := offset; k < end; k++ {
		i := res.hits[k]
		is := s.searchView(i, reconciled, now)
		if is == nil || !s.canSeeSnapshot(c.v.user, is) {
			continue // deleted or hidden since the search ran: the page holds fewer
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = s.appendIssue(b, c.v, i, is, fs)
	}
	b = append(b, ']')
	if end < len(res.hits) {
		b = append(b, `,"nextPageToken":`...)
		b = appendStr(b, encodeToken(res.id, end, key))
		b = append(b, `,"isLast":false`...)
	} else {
		b = append(b, `,"isLast":true`...)
	}
	if hasExpand(req.expand(), "names") {
		b = append(b, ',')
		b = appendNames(b, fs)
	}
	writeRaw(w, http.StatusOK, append(b, '}'))
}

func (s *Site) approximateCount(w http.ResponseWriter, r *http.Request, c *call) {
	if s.dialect != dialectCloud {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.Path}, nil)
		return
	}
	var req struct {
		JQL string `json:"jql"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	res, err := s.runSearch(c.v.user, req.JQL, nil, true)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, []string{err.Error()}, nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"count": len(res.hits)})
}
