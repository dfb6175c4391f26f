package tui

import (
	"context"
	"errors"
	"time"

	"foundation/lens"
)

// Backend is everything the TUI asks of the world. The real one (store + refresh + lens.Build
// for the viewer) is wired by the cli; tests use an in-memory one. Every method may be called
// from a command goroutine, concurrently with others, and must honour ctx.
type Backend interface {
	// Lenses lists the Lenses the viewer may open (view level or better), for the home screen.
	Lenses(ctx context.Context) ([]LensInfo, error)
	// Build builds a Lens for the viewer: one view, optionally narrowed by a JQL filter.
	// A filter that does not parse or compile comes back as a *jql.Error, which the TUI shows
	// at its column; other errors are shown in the status bar.
	Build(ctx context.Context, req BuildRequest) (*Built, error)
	// Refresh brings the cache up to date with Jira. The TUI runs it in the background and
	// learns about what it changed through the change feed, not through its result.
	Refresh(ctx context.Context) error
	// LastChange is the newest change feed sequence number; polled every ~500ms, so cheap.
	LastChange(ctx context.Context) (int64, error)
	// ChangedKeys returns the issue keys changed after seq (non-issue changes give no key but
	// still advance last) and the newest seq it covered.
	ChangedKeys(ctx context.Context, afterSeq int64) (keys []string, last int64, err error)
	// Status is what the status bar shows besides the Lens: polled with the change feed.
	Status(ctx context.Context) (Status, error)
	// Pref and SetPref keep the viewer's preferences (last Lens, view, expanded rows, widths,
	// sort). Values are always JSON documents (store.PutPref's contract). Pref returns nil,
	// nil when the preference was never set.
	Pref(ctx context.Context, name string) ([]byte, error)
	SetPref(ctx context.Context, name string, value []byte) error
}

// ErrNoAccess is wrapped by a Backend's Build error when the viewer may no longer open the
// Lens (its ACL changed): the TUI then closes the Lens instead of keeping old rows on screen.
var ErrNoAccess = errors.New("no access to this Lens")

// LensInfo is one Lens on the home screen, with its preview.
type LensInfo struct {
	ID          string
	Name        string
	Description string
	Owner       string
	Size        int // rows at the last build; -1 when unknown
	LastRefresh time.Time
}

// BuildRequest says which Lens to build and how.
type BuildRequest struct {
	Lens   string // LensInfo.ID
	View   string // "" for the Lens's default view
	Filter string // JQL narrowing the rows; "" for none
	// FilterByJira has Jira answer Filter, for JQL that local evaluation cannot (WAS,
	// CHANGED, membersOf() without a directory): the rows kept are those whose issues Jira
	// returns for it within the site's scope. The viewer asks for it with enter on such a
	// filter; a backend that cannot reach Jira says why in its error.
	FilterByJira bool
	// Extra are fields (ids or names from Built.Fields) the viewer added as columns to this
	// view for themselves; WithColumns adds them to a definition before lens.Build.
	Extra []string
}

// Built is a built Lens ready to draw.
type Built struct {
	Tree  Tree
	Views []string // view names in order
	View  string   // the view Tree's columns belong to
	Total int      // rows before the filter (what the status bar shows after the slash)
	// Issue returns the issue on a row of Tree, nil for group and folder rows.
	Issue func(row int) *lens.Issue
	// Group says what a group row stands for (moving a row into it rewrites that field);
	// nil for other rows. May be nil: rows cannot then be moved into groups.
	Group func(row int) *lens.GroupInfo
	// Links returns the cached links touching an issue (for the detail pane); may be nil.
	Links func(key string) []lens.Link
	// Text renders a field's raw JSON (ADF documents included) as plain text; nil uses the
	// TUI's own ADF walker.
	Text func(raw []byte) string
	// UserName turns a user id (accountId or user name) into a display name for the detail
	// pane; nil shows ids.
	UserName func(id string) string
	// Detail returns an issue with every field's raw JSON, for the detail pane, when Issue's
	// rows were built without it (a Lens that needs no raw fields is read without them);
	// may be nil, and may return nil when the issue cannot be read.
	Detail func(key string) *lens.Issue
	// Sees, when set, reports whether the viewer may see an issue the pane names but the
	// rows may not show (the parent): the cache is shared with profiles that see more.
	Sees func(key string) bool
	// Fields is the site's field catalog in the cache, offered by the column chooser; may
	// be nil, and then only the view's own columns can be shown or hidden.
	Fields []lens.Field
	// Switch derives the same forest seen through another view, without building again (a
	// view switch then costs the view's roll-ups, not a Lens build). NewBuilt sets it; nil
	// makes the TUI ask Build.
	Switch func(view string) (*Built, error)
	// Notes are the build's caveats (rows hidden for unverifiable permissions and the like).
	Notes []string
}

// Status is the state of the profile and its cache, shown in the status bar.
type Status struct {
	Profile         string
	LastRefresh     time.Time // zero when never refreshed
	Refreshing      bool      // a refresh is running (in this or another process)
	PendingWebhooks int       // journaled webhook deliveries not yet applied
	Offline         bool      // Jira unreachable: the screen shows the cache
	Err             string    // the last background error, "" for none
	// Waiting says what a write waits for (Jira's rate limit, a retry), "" when nothing:
	// shown so a slow edit is visibly waiting, not stuck.
	Waiting string
}
