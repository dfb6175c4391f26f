package refresh

// Who sees what: the viewer's identity, the BROWSE_PROJECTS grants Jira gives it (checked in
// bulk on Cloud, per project and secured issue on Data Center, stored with an expiry), and
// the visibility predicate lens.Build applies. Everything here fails closed: a grant that is
// missing or expired hides its rows, and the status says why and since when.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"foundation/jira"
	"foundation/lens"
	"foundation/store"
)

// DefaultPermissionTTL is how long a checked grant is relied on when the site sets none.
const DefaultPermissionTTL = 5 * time.Minute

// browse is the permission every row needs.
const browse = "BROWSE_PROJECTS"

// ErrUnknownViewer is returned when the viewer's Jira identity is not known: nothing can be
// checked or shown for nobody.
var ErrUnknownViewer = errors.New("the viewer's Jira identity is unknown (run `foundation refresh` with this profile)")

// ErrUncheckedCredentials is why a viewer is unknown when Jira cannot be asked: the cache
// remembers no identity Jira confirmed for these credentials (another token may have used
// the same profile name or cache, whose identity is never lent). Fail closed: no rows.
var ErrUncheckedCredentials = errors.New("who you are is unknown offline: these credentials have not been checked against Jira yet (run `foundation refresh` with this profile when Jira is reachable)")

// Pref keys. The viewer lives under the fingerprint of the credentials Jira confirmed it
// for (credentialOwner), never under a profile name: two configs may name different
// people's profiles alike and share one cache. Its role memberships and the last failed
// check live under the identity itself, so every profile signed in as the same user
// shares them.
const (
	prefViewer       = "viewer"
	prefRoles        = "acl.roles"
	prefGrantFailure = "grants.failure"
	prefSalt         = "credentials.salt"
)

// cacheOwner owns the cache-wide prefs (the fingerprint salt).
const cacheOwner = "cache"

// profileOwner owned the viewer before it was bound to credentials; what is left there is
// never read, only deleted.
func profileOwner(profile string) string { return "profile:" + profile }

// credentialOwner is the pref owner of what the cache remembers about whoever holds creds:
// their fingerprint under the cache's salt (jira.Credentials.Fingerprint says why that is
// safe to store). create makes the salt when the cache has none yet; without it, a cache
// with no salt has no remembered identity (ok false).
func credentialOwner(ctx context.Context, db *store.DB, creds jira.Credentials, create bool) (owner string, ok bool, err error) {
	raw, found, err := db.Pref(ctx, cacheOwner, prefSalt)
	if err != nil {
		return "", false, err
	}
	if !found {
		if !create {
			return "", false, nil
		}
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return "", false, fmt.Errorf("credential salt: %w", err)
		}
		b, _ := json.Marshal(fresh)
		if raw, err = db.PrefOrPut(ctx, cacheOwner, prefSalt, b); err != nil {
			return "", false, err
		}
	}
	var salt []byte
	if err := json.Unmarshal(raw, &salt); err != nil || len(salt) < 16 {
		return "", false, errors.New("credential salt in the cache is damaged")
	}
	return "credentials:" + creds.Fingerprint(salt), true, nil
}

// storedViewer is what the cache remembers of the identity a set of credentials signed in
// as, for opens without Jira.
type storedViewer struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"display_name,omitempty"`
	Aliases     []string  `json:"aliases,omitempty"`
	Groups      []string  `json:"groups,omitempty"`
	Dialect     string    `json:"dialect,omitempty"`
	ResolvedAt  time.Time `json:"resolved_at"`
}

// storedRoles are the project roles (as "PROJECT/Role") the identity was found in, among
// those the stored Lens ACLs name, with the check's expiry.
type storedRoles struct {
	Roles     []string  `json:"roles"`
	CheckedAt time.Time `json:"checked_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// storedFailure is the last permission check that did not complete.
type storedFailure struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// ResolveViewer asks Jira who the client is signed in as (with its groups) and remembers it
// in the cache, bound to the client's credentials, so later opens with the same credentials
// know the viewer without Jira. Role memberships still fresh in the cache are attached.
func ResolveViewer(ctx context.Context, c *jira.Client, db *store.DB, profile string) (Viewer, error) {
	me, err := c.Myself(ctx)
	if err != nil {
		return Viewer{}, fmt.Errorf("resolve viewer of %s: %w", profile, err)
	}
	return RememberViewer(ctx, db, profile, c.Credentials(), me, c.Dialect())
}

// RememberViewer records in the cache that creds sign in as me on a site of dialect d (Jira
// has just said so: site add or ResolveViewer), and returns the viewer for profile. When
// the cache remembered someone else, or other groups, for these credentials, the change
// feed says so: builds made for the old identity are stale.
func RememberViewer(ctx context.Context, db *store.DB, profile string, creds jira.Credentials, me *jira.User, d jira.Dialect) (Viewer, error) {
	sv := storedViewer{ID: me.ID(), DisplayName: me.DisplayName, Groups: me.Groups, Dialect: string(d), ResolvedAt: time.Now().UTC()}
	for _, a := range []string{me.Name, me.Email} {
		if a != "" && a != sv.ID && !slices.Contains(sv.Aliases, a) {
			sv.Aliases = append(sv.Aliases, a)
		}
	}
	fail := func(err error) (Viewer, error) { return Viewer{}, fmt.Errorf("resolve viewer of %s: %w", profile, err) }
	b, err := json.Marshal(sv)
	if err != nil {
		return fail(err)
	}
	owner, _, err := credentialOwner(ctx, db, creds, true)
	if err != nil {
		return fail(err)
	}
	prev, had, err := recallStored(ctx, db, owner)
	if err != nil {
		return fail(err)
	}
	if had && (prev.ID != sv.ID || !slices.Equal(prev.Groups, sv.Groups)) {
		err = db.PutPrefNoting(ctx, owner, prefViewer, b, store.ChangeGrants, sv.ID)
	} else {
		err = db.PutPref(ctx, owner, prefViewer, b)
	}
	if err != nil {
		return fail(err)
	}
	// What older versions kept under the profile name is whoever refreshed last with that
	// name: it is nobody's proof, so it goes.
	if err := db.PutPref(ctx, profileOwner(profile), prefViewer, nil); err != nil {
		return fail(err)
	}
	return viewerFrom(ctx, db, profile, sv, time.Now())
}

// RecallViewer returns the viewer Jira last confirmed for creds, with the role memberships
// that are still fresh at now (expired ones are left out: fail closed). ok is false when
// these credentials were never checked against Jira in this cache, whoever else the
// cache knows under the same profile name: the caller must ask Jira, or show nothing
// (ErrUncheckedCredentials).
func RecallViewer(ctx context.Context, db *store.DB, profile string, creds jira.Credentials, now time.Time) (v Viewer, ok bool, err error) {
	owner, salted, err := credentialOwner(ctx, db, creds, false)
	if err != nil || !salted {
		return Viewer{Profile: profile}, false, err
	}
	sv, found, err := recallStored(ctx, db, owner)
	if err != nil || !found {
		return Viewer{Profile: profile}, false, err
	}
	v, err = viewerFrom(ctx, db, profile, sv, now)
	return v, err == nil, err
}

func recallStored(ctx context.Context, db *store.DB, owner string) (storedViewer, bool, error) {
	var sv storedViewer
	raw, found, err := db.Pref(ctx, owner, prefViewer)
	if err != nil || !found {
		return sv, false, err
	}
	if err := json.Unmarshal(raw, &sv); err != nil || sv.ID == "" {
		return storedViewer{}, false, nil // damaged: nobody is known, the next resolve replaces it
	}
	return sv, true, nil
}

// ForgetViewer drops what the cache remembers of the identity of creds, and what older
// versions remembered under profile (the profile is gone but its cache stays, shared with
// another profile).
func ForgetViewer(ctx context.Context, db *store.DB, profile string, creds jira.Credentials) error {
	if !creds.IsZero() {
		owner, salted, err := credentialOwner(ctx, db, creds, false)
		if err != nil {
			return err
		}
		if salted {
			if err := db.PutPref(ctx, owner, prefViewer, nil); err != nil {
				return err
			}
		}
	}
	return db.PutPref(ctx, profileOwner(profile), prefViewer, nil)
}

func viewerFrom(ctx context.Context, db *store.DB, profile string, sv storedViewer, now time.Time) (Viewer, error) {
	v := Viewer{Dialect: sv.Dialect, DisplayName: sv.DisplayName, Profile: profile, Aliases: sv.Aliases}
	v.User, v.Groups = sv.ID, sv.Groups
	roles, err := freshRoles(ctx, db, sv.ID, now)
	if err != nil {
		return v, err
	}
	v.Roles = roles
	return v, nil
}

func freshRoles(ctx context.Context, db *store.DB, identity string, now time.Time) ([]string, error) {
	raw, ok, err := db.Pref(ctx, identity, prefRoles)
	if err != nil || !ok {
		return nil, err
	}
	var sr storedRoles
	if err := json.Unmarshal(raw, &sr); err != nil {
		return nil, fmt.Errorf("role memberships of %s in the cache: %w", identity, err)
	}
	if !now.Before(sr.ExpiresAt) {
		return nil, nil
	}
	return sr.Roles, nil
}

// CheckStats is what a permission check did.
type CheckStats struct {
	Projects int `json:"projects"` // project ids checked
	Issues   int `json:"issues"`   // secured issue ids checked (or denied with their project)
	Granted  int `json:"granted"`
	Denied   int `json:"denied"`
	Roles    int `json:"roles"` // role memberships found among the roles Lens ACLs name
	Requests int64
	Duration time.Duration
}

// dcParallel is how many mypermissions requests a Data Center check keeps in flight.
const dcParallel = 4

// CheckGrants asks Jira whether the viewer may browse every cached project and every cached
// issue that carries a security level, and stores each answer (denials too) with an expiry
// of ttl (DefaultPermissionTTL when not positive). Cloud asks in bulk, passing the viewer's
// accountId only when the client is signed in as someone else (which needs Administer Jira);
// Data Center asks mypermissions per project and per secured issue, and can only answer for
// the signed-in user. It also refreshes the viewer's membership of the project roles that
// stored Lens ACLs name. A failed check changes no grant (the old ones keep expiring: fail
// closed) and is remembered so Visibility can say why rows are hidden.
func CheckGrants(ctx context.Context, c *jira.Client, db *store.DB, v Viewer, ttl time.Duration) (CheckStats, error) {
	var st CheckStats
	if v.User == "" {
		return st, ErrUnknownViewer
	}
	if ttl <= 0 {
		ttl = DefaultPermissionTTL
	}
	start := time.Now()
	before := c.Stats()
	defer func() {
		st.Requests = c.Stats().Requests - before.Requests
		st.Duration = time.Since(start)
	}()
	grants, err := checkGrants(ctx, c, db, v, &st)
	if err != nil {
		return st, failed(ctx, db, v, err)
	}
	now := time.Now().UTC()
	for i := range grants {
		grants[i].CheckedAt, grants[i].ExpiresAt = now, now.Add(ttl)
	}
	if err := db.PutGrants(ctx, grants); err != nil {
		return st, fmt.Errorf("check permissions of %s: %w", v.User, err)
	}
	if err := db.PutPref(ctx, v.User, prefGrantFailure, nil); err != nil {
		return st, fmt.Errorf("check permissions of %s: %w", v.User, err)
	}
	n, err := checkRoles(ctx, c, db, v, now, ttl)
	st.Roles = n
	if err != nil {
		return st, fmt.Errorf("check project roles of %s: %w", v.User, err)
	}
	return st, nil
}

// GrantsUnchecked records that v's permissions could not be checked now, because of err
// (Jira unreachable), exactly as a CheckGrants that failed with err would, without asking
// Jira: a caller that has just seen Jira not answer spares the viewer another wait for the
// same outcome. Rows whose grants expired are hidden, and say why.
func GrantsUnchecked(ctx context.Context, db *store.DB, v Viewer, err error) error {
	if v.User == "" {
		return ErrUnknownViewer
	}
	return failed(ctx, db, v, err)
}

// failed remembers why a check did not complete and returns err with context. It also
// rewrites the viewer's project grants as they are, which puts a grants entry on the change
// feed: open views rebuild, so rows whose grants expired meanwhile are hidden now rather
// than at the next change, and the reason shows.
func failed(ctx context.Context, db *store.DB, v Viewer, err error) error {
	// The caller's context may be what failed; the record must still be written.
	wctx := context.WithoutCancel(ctx)
	b, merr := json.Marshal(storedFailure{At: time.Now().UTC(), Reason: failureReason(err)})
	if merr == nil {
		merr = db.PutPref(wctx, v.User, prefGrantFailure, b)
	}
	if merr == nil {
		var gs []store.Grant
		gs, merr = db.Grants(wctx, v.User)
		gs = slices.DeleteFunc(gs, func(g store.Grant) bool { return g.Kind != store.GrantProject })
		if merr == nil {
			merr = db.PutGrants(wctx, gs)
		}
	}
	return errors.Join(fmt.Errorf("check permissions of %s: %w", v.User, err), merr)
}

// failureReason says in a few words, safe to show to the viewer, why a check failed.
func failureReason(err error) string {
	var unauth *jira.UnauthorizedError
	var forbidden *jira.ForbiddenError
	var limited *jira.RateLimitedError
	var api *jira.APIError
	var silent *jira.TimeoutError
	switch {
	case errors.Is(err, ErrUnknownViewer):
		return "who you are is unknown"
	case errors.As(err, &silent):
		return silent.Error() // "Jira did not answer within 30s (3 attempts)"
	case errors.As(err, &unauth):
		return "Jira rejected the credentials"
	case errors.As(err, &forbidden):
		return "Jira refused the permission check"
	case errors.As(err, &limited):
		return "Jira rate limited the permission check"
	case errors.As(err, &api) && api.Status >= 500:
		return fmt.Sprintf("Jira unreachable (HTTP %d)", api.Status)
	case errors.As(err, &api):
		return fmt.Sprintf("permission check failed (HTTP %d)", api.Status)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "permission check interrupted"
	case errors.Is(err, jira.ErrNotSupported):
		return "this Jira cannot check permissions for another user"
	}
	return "Jira unreachable"
}

// checkGrants asks Jira and returns one grant per project and secured issue, unstamped.
func checkGrants(ctx context.Context, c *jira.Client, db *store.DB, v Viewer, st *CheckStats) ([]store.Grant, error) {
	issueProjects, sec, err := db.GrantTargets(ctx)
	if err != nil {
		return nil, err
	}
	projects, err := db.Projects(ctx)
	if err != nil {
		return nil, err
	}
	projectSet := map[int64]bool{}
	var projectIDs []int64
	addProject := func(id int64) {
		if id != 0 && !projectSet[id] {
			projectSet[id] = true
			projectIDs = append(projectIDs, id)
		}
	}
	for _, p := range projects {
		addProject(p.ID)
	}
	for _, id := range issueProjects {
		addProject(id)
	}
	st.Projects, st.Issues = len(projectIDs), len(sec)

	me, err := c.Myself(ctx)
	if err != nil {
		return nil, err
	}
	self := me.ID() == v.User || slices.Contains(v.Aliases, me.ID())

	var projGranted, issueGranted map[int64]bool
	if c.Dialect() == jira.Cloud {
		account := ""
		if !self {
			account = v.User
		}
		ids := make([]int64, len(sec))
		for i, s := range sec {
			ids[i] = s.ID
		}
		projGranted, issueGranted, err = c.CheckPermissions(ctx, account, browse, projectIDs, ids)
		if err != nil {
			return nil, err
		}
	} else {
		if !self {
			return nil, fmt.Errorf("signed in as %s, asked about %s: %w", me.ID(), v.User, jira.ErrNotSupported)
		}
		if projGranted, err = myPermissions(ctx, c, projectIDs, func(id int64) jira.PermissionScope { return jira.PermissionScope{ProjectID: id} }); err != nil {
			return nil, err
		}
		// A secured issue in a project the viewer may not browse is hidden whatever its
		// level says: only the others are worth a request each.
		var ask []int64
		for _, s := range sec {
			if projGranted[s.ProjectID] {
				ask = append(ask, s.ID)
			}
		}
		if issueGranted, err = myPermissions(ctx, c, ask, func(id int64) jira.PermissionScope { return jira.PermissionScope{IssueID: id} }); err != nil {
			return nil, err
		}
	}
	grants := make([]store.Grant, 0, len(projectIDs)+len(sec))
	add := func(kind store.GrantKind, id int64, ok bool) {
		grants = append(grants, store.Grant{Identity: v.User, Kind: kind, ID: id, Granted: ok})
		if ok {
			st.Granted++
		} else {
			st.Denied++
		}
	}
	for _, id := range projectIDs {
		add(store.GrantProject, id, projGranted[id])
	}
	for _, s := range sec {
		add(store.GrantIssue, s.ID, issueGranted[s.ID])
	}
	return grants, nil
}

// myPermissions asks Data Center's mypermissions about each id, a few at a time. The first
// failure stops the rest: a partial answer is not stored.
func myPermissions(ctx context.Context, c *jira.Client, ids []int64, scope func(int64) jira.PermissionScope) (map[int64]bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(map[int64]bool, len(ids))
	var mu sync.Mutex
	var firstErr error
	work := make(chan int64)
	var wg sync.WaitGroup
	for range min(dcParallel, len(ids)) {
		wg.Go(func() {
			for id := range work {
				got, err := c.MyPermissions(ctx, scope(id), browse)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				out[id] = err == nil && got[browse]
				mu.Unlock()
			}
		})
	}
feed:
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkRoles finds which of the project roles named by stored Lens ACLs the viewer is in,
// and stores them with an expiry. A project the client may not browse has no role the
// viewer can be found in through it.
func checkRoles(ctx context.Context, c *jira.Client, db *store.DB, v Viewer, now time.Time, ttl time.Duration) (int, error) {
	wanted, err := aclRoles(ctx, db)
	if err != nil {
		return 0, err
	}
	var member []string
	for _, project := range sortedKeys(wanted) {
		ids, err := c.ProjectRoles(ctx, project)
		var nf *jira.NotFoundError
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return 0, err
		}
		for _, name := range wanted[project] {
			for roleName, id := range ids {
				if !strings.EqualFold(roleName, name) {
					continue
				}
				r, err := c.ProjectRole(ctx, project, id)
				if errors.As(err, &nf) {
					continue
				}
				if err != nil {
					return 0, err
				}
				if r.HasMember(v.User, v.Groups) || slices.ContainsFunc(v.Aliases, func(a string) bool { return r.HasMember(a, nil) }) {
					member = append(member, project+"/"+name)
				}
			}
		}
	}
	b, err := json.Marshal(storedRoles{Roles: member, CheckedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return 0, err
	}
	return len(member), db.PutPref(ctx, v.User, prefRoles, b)
}

// aclRoles collects the role principals of every stored Lens ACL, by project. A stored Lens
// that no longer parses names no role anyone can be granted through.
func aclRoles(ctx context.Context, db *store.DB) (map[string][]string, error) {
	ls, err := db.Lenses(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, l := range ls {
		def, err := lens.Parse(l.Name, []byte(l.YAML))
		if err != nil {
			continue
		}
		for _, e := range def.ACL {
			p, err := lens.ParsePrincipal(e.Principal)
			if err != nil || p.Kind != "role" {
				continue
			}
			project, role, _ := strings.Cut(p.Name, "/")
			if !slices.ContainsFunc(out[project], func(r string) bool { return strings.EqualFold(r, role) }) {
				out[project] = append(out[project], role)
			}
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Unverified is a project whose grant cannot be relied on: never checked, or expired.
type Unverified struct {
	Project string    `json:"project"`
	Since   time.Time `json:"since"` // when the grant expired; zero when never checked
}

// VisibilityStatus says whether the viewer's grants could be relied on when a predicate was
// made, and why rows are hidden when they could not. Its messages never name or count the
// issues hidden.
type VisibilityStatus struct {
	Viewer string
	// Unknown is set when the viewer's identity is unknown: every row is hidden.
	Unknown bool
	// CheckedAt is the newest successful check; zero when there was none.
	CheckedAt time.Time
	// Unverified lists the projects without a fresh grant, by key.
	Unverified []Unverified
	// Reason and FailedAt describe the last check that failed, when one did since the last
	// success.
	Reason   string
	FailedAt time.Time
	// Expires is when the first fresh grant expires: the next check is due then.
	Expires time.Time

	// unverifiedIssues counts, as the predicate runs, secured issues hidden for want of a
	// fresh issue grant. Internal: counts of hidden issues are not shown to the viewer.
	unverifiedIssues *atomic.Int64
}

// UnverifiedIssues is how many secured issues the predicate hid so far because their grant
// was missing or expired (for logs and tests, not for the viewer).
func (s VisibilityStatus) UnverifiedIssues() int {
	if s.unverifiedIssues == nil {
		return 0
	}
	return int(s.unverifiedIssues.Load())
}

// Degraded reports whether rows may be hidden because permissions could not be verified.
func (s VisibilityStatus) Degraded() bool {
	return s.Unknown || len(s.Unverified) > 0 || s.UnverifiedIssues() > 0
}

// Notes are the viewer-facing lines saying which permissions are unverified, why and since
// when. They name projects, never issues, and never say how many rows are hidden.
func (s VisibilityStatus) Notes(now time.Time) []string {
	if s.Unknown {
		return []string{"every row is hidden: " + ErrUnknownViewer.Error()}
	}
	why := s.Reason
	if why == "" {
		why = "not checked since they expired (run `foundation refresh`)"
	}
	var notes []string
	var never []string
	bySince := map[time.Time][]string{}
	var sinces []time.Time
	for _, u := range s.Unverified {
		if u.Since.IsZero() {
			never = append(never, u.Project)
			continue
		}
		if _, ok := bySince[u.Since]; !ok {
			sinces = append(sinces, u.Since)
		}
		bySince[u.Since] = append(bySince[u.Since], u.Project)
	}
	if len(never) > 0 {
		reason := "run `foundation refresh` with this profile"
		if s.Reason != "" {
			reason = s.Reason
		}
		notes = append(notes, fmt.Sprintf("permissions for %s never verified: %s; their rows are hidden", strings.Join(never, ", "), reason))
	}
	slices.SortFunc(sinces, func(a, b time.Time) int { return a.Compare(b) })
	for _, at := range sinces {
		notes = append(notes, fmt.Sprintf("permissions for %s unverified since %s: %s; their rows are hidden", strings.Join(bySince[at], ", "), clock(at, now), why))
	}
	if len(s.Unverified) == 0 && s.UnverifiedIssues() > 0 {
		notes = append(notes, "some rows hidden because permissions could not be verified: "+why)
	}
	return notes
}

// clock shows a time of day, with the date when it is not today.
func clock(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// grant states in the predicate's tables.
const (
	stateDenied int8 = iota
	stateGranted
	stateUnverified
)

// Visibility reads the viewer's stored grants and returns the predicate lens.Build applies:
// an issue is visible only if a fresh grant lets the viewer browse its project and, when it
// carries a security level, a fresh grant lets the viewer browse the issue itself. Missing
// and expired grants hide (fail closed); st says which projects are unverified, why and
// since when. An unknown viewer sees nothing.
func Visibility(ctx context.Context, db *store.DB, v Viewer, now time.Time) (visible func(*lens.Issue) bool, st VisibilityStatus, err error) {
	st = VisibilityStatus{Viewer: v.User, unverifiedIssues: new(atomic.Int64)}
	if v.User == "" {
		st.Unknown = true
		return func(*lens.Issue) bool { return false }, st, nil
	}
	grants, err := db.Grants(ctx, v.User)
	if err != nil {
		return nil, st, fmt.Errorf("visibility for %s: %w", v.User, err)
	}
	projects, err := db.Projects(ctx)
	if err != nil {
		return nil, st, fmt.Errorf("visibility for %s: %w", v.User, err)
	}
	proj := make(map[int64]int8, len(projects))
	issue := map[int64]int8{}
	expiredAt := map[int64]time.Time{}
	for _, g := range grants {
		state := stateUnverified
		if g.Fresh(now) {
			state = stateDenied
			if g.Granted {
				state = stateGranted
			}
			if st.Expires.IsZero() || g.ExpiresAt.Before(st.Expires) {
				st.Expires = g.ExpiresAt
			}
		}
		if g.CheckedAt.After(st.CheckedAt) {
			st.CheckedAt = g.CheckedAt
		}
		switch g.Kind {
		case store.GrantProject:
			proj[g.ID] = state
			if state == stateUnverified {
				expiredAt[g.ID] = g.ExpiresAt
			}
		case store.GrantIssue:
			issue[g.ID] = state
		}
	}
	for _, p := range projects {
		if s, ok := proj[p.ID]; !ok || s == stateUnverified {
			st.Unverified = append(st.Unverified, Unverified{Project: p.Key, Since: expiredAt[p.ID]})
			proj[p.ID] = stateUnverified // reported by project, not counted per issue
		}
	}
	if len(st.Unverified) > 0 {
		raw, ok, err := db.Pref(ctx, v.User, prefGrantFailure)
		if err != nil {
			return nil, st, fmt.Errorf("visibility for %s: %w", v.User, err)
		}
		var f storedFailure
		if ok && json.Unmarshal(raw, &f) == nil {
			st.Reason, st.FailedAt = f.Reason, f.At
		}
	}
	counter := st.unverifiedIssues
	// Sites have few projects: a short slice scanned in order beats hashing the id of each
	// of 100,000 issues (this predicate is on every build's path).
	type projectState struct {
		id    int64
		state int8
	}
	var small []projectState
	if len(proj) <= 16 {
		for id, s := range proj {
			small = append(small, projectState{id, s})
		}
	}
	projectOf := func(id int64) (int8, bool) {
		if small != nil || len(proj) == 0 {
			for _, p := range small {
				if p.id == id {
					return p.state, true
				}
			}
			return 0, false
		}
		s, ok := proj[id]
		return s, ok
	}
	visible = func(is *lens.Issue) bool {
		s, ok := projectOf(is.ProjectID)
		if !ok {
			counter.Add(1) // a project no check has heard of yet
			return false
		}
		if s != stateGranted {
			return false // denied, or unverified and already reported by project
		}
		if is.SecurityLevel == "" {
			return true
		}
		if s, ok := issue[is.ID]; ok && s != stateUnverified {
			return s == stateGranted
		}
		counter.Add(1)
		return false
	}
	return visible, st, nil
}

// withFreshRoles gives the viewer the project roles the last check stored for its identity,
// as far as they are still fresh: a long session neither keeps a role Jira took away nor
// misses one a later check found. A viewer whose identity was never checked keeps the roles
// it came with (tests and tools that state them).
func withFreshRoles(ctx context.Context, db *store.DB, v Viewer) (Viewer, error) {
	if v.User == "" {
		return v, nil
	}
	raw, ok, err := db.Pref(ctx, v.User, prefRoles)
	if err != nil || !ok {
		return v, err
	}
	var sr storedRoles
	if err := json.Unmarshal(raw, &sr); err != nil {
		return v, fmt.Errorf("role memberships of %s in the cache: %w", v.User, err)
	}
	v.Roles = nil
	if time.Now().Before(sr.ExpiresAt) {
		v.Roles = slices.Clone(sr.Roles)
	}
	return v, nil
}
