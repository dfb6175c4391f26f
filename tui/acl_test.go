package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"foundation/lens"
)

// aclFake is an ACL backend over one in-memory list, enforcing levels the way
// refresh.ChangeACL does, so the editor's own gating can be told apart from the backend's.
type aclFake struct {
	mu      sync.Mutex
	owner   string
	acl     []lens.ACLEntry
	version int64
	level   string // the viewer's level
	user    string
	changes []ACLChange
	refuse  error // returned by the next ChangeACL
}

func (f *aclFake) state() ACLState {
	st := ACLState{Lens: "Roadmap", Version: f.version, Owner: f.owner, Level: f.level, IsOwner: f.user == f.owner}
	st.You = fmt.Sprintf("%s: %s", f.user, f.level)
	st.Entries = append(st.Entries, ACLRow{Principal: "owner:" + f.owner, Kind: "owner", Level: "control", Explanation: f.owner + ": control as owner"})
	for _, e := range f.acl {
		p, _ := lens.ParsePrincipal(e.Principal)
		st.Entries = append(st.Entries, ACLRow{Principal: e.Principal, Kind: p.Kind, Level: e.Level, Explanation: "covers " + e.Principal + ": " + e.Level})
	}
	return st
}

func (f *aclFake) LoadACL(context.Context, string) (ACLState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state(), nil
}

func (f *aclFake) ChangeACL(_ context.Context, _ string, c ACLChange, version int64) (ACLState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, c)
	if err := f.refuse; err != nil {
		f.refuse = nil
		return ACLState{}, err
	}
	if version != f.version {
		return ACLState{}, fmt.Errorf("changed meanwhile: now version %d, expected %d", f.version, version)
	}
	for _, r := range c.Revoke {
		f.acl = slices.DeleteFunc(f.acl, func(e lens.ACLEntry) bool { return e.Principal == r })
	}
	for _, g := range c.Grant {
		if i := slices.IndexFunc(f.acl, func(e lens.ACLEntry) bool { return e.Principal == g.Principal }); i >= 0 {
			f.acl[i] = g
		} else {
			f.acl = append(f.acl, g)
		}
	}
	if c.Owner != "" {
		f.owner = strings.TrimPrefix(c.Owner, "user:")
	}
	f.version++
	return f.state(), nil
}

func (f *aclFake) SearchUsers(_ context.Context, q string) ([]ACLCandidate, error) {
	return aclFilter([]ACLCandidate{{"alice", "Alice Anders"}, {"bob", "Bob Brown"}}, q), nil
}

func (f *aclFake) SearchGroups(_ context.Context, q string) ([]ACLCandidate, error) {
	return aclFilter([]ACLCandidate{{"jira-developers", ""}, {"qa", ""}}, q), nil
}

func (f *aclFake) Projects(context.Context) ([]ACLCandidate, error) {
	return []ACLCandidate{{"ALPHA", "Alpha"}, {"BETA", "Beta"}}, nil
}

func (f *aclFake) ProjectRoles(_ context.Context, project string) ([]ACLCandidate, error) {
	if project != "BETA" {
		return nil, errors.New("unexpected project " + project)
	}
	return []ACLCandidate{{"Administrators", ""}, {"Developers", ""}}, nil
}

// aclDrive runs the editor the way the App does: every command's message is fed back until
// none is left. It returns the ACLClosedMsg if one came.
type aclDrive struct {
	t      *testing.T
	e      *ACLEditor
	closed *ACLClosedMsg
}

func newACLDrive(t *testing.T, f *aclFake) *aclDrive {
	t.Helper()
	d := &aclDrive{t: t, e: NewACLEditor(context.Background(), f, "Roadmap")}
	d.run(d.e.Init())
	return d
}

func (d *aclDrive) run(cmd tea.Cmd) {
	for cmd != nil {
		msg := cmd()
		if c, ok := msg.(ACLClosedMsg); ok {
			d.closed = &c
			return
		}
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				d.run(c)
			}
			return
		}
		d.e, cmd = d.e.Update(msg)
	}
}

func (d *aclDrive) keys(names ...string) {
	for _, n := range names {
		var cmd tea.Cmd
		d.e, cmd = d.e.Update(keyPress(n))
		d.run(cmd)
	}
}

func (d *aclDrive) typed(s string) {
	for _, r := range s {
		d.keys(string(r))
	}
}

func (d *aclDrive) shows(want ...string) {
	d.t.Helper()
	v := ansi.Strip(d.e.View())
	for _, w := range want {
		if !strings.Contains(v, w) {
			d.t.Errorf("view lacks %q:\n%s", w, v)
		}
	}
}

func newACLFake(level string) *aclFake {
	return &aclFake{owner: "olga", user: "vera", level: level, version: 3,
		acl: []lens.ACLEntry{{Principal: "user:vera", Level: level}, {Principal: "group:qa", Level: "view"}}}
}

// TestACLEditorLevels: below control every change is refused in the editor, with the
// reason, and nothing reaches the backend; control allows them; only the owner may
// transfer ownership.
func TestACLEditorLevels(t *testing.T) {
	for _, level := range []string{"view", "edit", "generators", "control"} {
		t.Run(level, func(t *testing.T) {
			f := newACLFake(level)
			d := newACLDrive(t, f)
			d.shows("Access to Roadmap (version 3)", "owner:olga", "olga: control as owner", "user:vera", "group:qa", "You: vera: "+level)
			d.keys("j", "j", "d")
			if level != "control" {
				d.shows("you need control to change the access list (you have " + level + ")")
				d.keys("a", "enter")
				d.shows("you need control")
				if len(f.changes) != 0 {
					t.Errorf("changes reached the backend: %+v", f.changes)
				}
			} else {
				d.shows("Remove group:qa (view)? [y/N]")
				d.keys("y")
				if len(f.changes) != 1 || !slices.Equal(f.changes[0].Revoke, []string{"group:qa"}) {
					t.Errorf("changes %+v", f.changes)
				}
				d.shows("applied", "(version 4)")
				if strings.Contains(d.e.View(), "group:qa") {
					t.Errorf("removed entry still shown:\n%s", d.e.View())
				}
			}
			n := len(f.changes)
			d.keys("o")
			d.shows("only the owner may transfer ownership")
			if len(f.changes) != n {
				t.Errorf("a non-owner transfer reached the backend")
			}
		})
	}
}

// TestACLEditorAdd adds an entry of every kind through its picker, changes a level and
// declines a removal.
func TestACLEditorAdd(t *testing.T) {
	f := newACLFake("control")
	d := newACLDrive(t, f)

	// user: search, pick, level edit.
	d.keys("a")
	d.shows("Add an entry for:", "> user")
	d.keys("enter")
	d.typed("bo")
	d.keys("enter") // search
	d.shows("search users: bo", "> bob  Bob Brown")
	d.keys("enter") // pick
	d.shows("Level for user:bob:", "> view")
	d.keys("down", "enter")
	// group: search, pick the second result, level view.
	d.keys("a", "j", "enter")
	d.keys("enter") // empty query: everything
	d.keys("down", "enter", "enter")
	// role: project from the list filtered as typed, then a role.
	d.keys("a", "j", "j", "enter")
	d.shows("project: ", "ALPHA  Alpha", "BETA  Beta")
	d.typed("bet")
	if strings.Contains(d.e.View(), "ALPHA") && strings.Contains(d.e.View(), "> ALPHA") {
		t.Errorf("project filter kept ALPHA:\n%s", d.e.View())
	}
	d.keys("enter")
	d.shows("role in BETA: ", "Administrators", "Developers")
	d.keys("down", "enter")
	d.shows("Level for role:BETA/Developers:")
	d.keys("down", "down", "enter")
	// anyone: straight to the level.
	d.keys("a", "j", "j", "j", "enter", "enter")

	var got []string
	for _, c := range f.changes {
		for _, g := range c.Grant {
			got = append(got, g.Principal+"="+g.Level)
		}
	}
	want := "user:bob=edit group:qa=view role:BETA/Developers=generators anyone=view"
	if strings.Join(got, " ") != want {
		t.Errorf("grants %s, want %s", strings.Join(got, " "), want)
	}
	d.shows("user:bob", "role:BETA/Developers", "anyone", "(version 7)")

	// Change the level of the selected entry (user:bob, third row).
	d.keys("g")
	d.e.cursor = 0
	d.keys("down", "down", "down", "enter")
	d.shows("Level for user:bob:", "> edit")
	d.keys("down", "down", "enter")
	if last := f.changes[len(f.changes)-1]; len(last.Grant) != 1 || last.Grant[0] != (lens.ACLEntry{Principal: "user:bob", Level: "control"}) {
		t.Errorf("level change %+v", last)
	}
	// A removal answered no changes nothing; the owner line cannot be removed.
	n := len(f.changes)
	d.keys("up", "d", "n")
	d.e.cursor = 0
	d.keys("d")
	d.shows("the owner cannot be removed")
	if len(f.changes) != n {
		t.Errorf("declined or refused removals reached the backend: %+v", f.changes[n:])
	}
	d.keys("esc")
	if d.closed == nil || !d.closed.Changed {
		t.Errorf("closed %+v, want a close after changes", d.closed)
	}
}

// TestACLEditorTransfer: the owner transfers ownership after confirming; a backend refusal
// is shown and the list reloaded.
func TestACLEditorTransfer(t *testing.T) {
	f := newACLFake("control")
	f.user = "olga"
	d := newACLDrive(t, f)
	d.keys("o")
	d.typed("ali")
	d.keys("enter", "enter")
	d.shows("Transfer ownership of Roadmap to Alice Anders?", "[y/N]")
	d.keys("enter") // the default is no
	if len(f.changes) != 0 {
		t.Fatalf("transfer without a yes: %+v", f.changes)
	}
	d.keys("o")
	d.typed("ali")
	d.keys("enter", "enter", "y")
	if len(f.changes) != 1 || f.changes[0].Owner != "user:alice" {
		t.Fatalf("changes %+v", f.changes)
	}
	d.shows("owner:alice", "applied")

	f.level = "control"
	f.refuse = errors.New(`lens "Roadmap": olga may not change the access list of it`)
	d.keys("a", "j", "j", "j", "enter", "enter")
	d.shows("! lens \"Roadmap\": olga may not change the access list of it")
	d.keys("esc")
	if d.closed == nil || !d.closed.Changed {
		t.Errorf("closed %+v", d.closed)
	}
}

// TestACLEditorStalePick: an answer to a search the viewer has typed past is dropped.
func TestACLEditorStalePick(t *testing.T) {
	d := newACLDrive(t, newACLFake("control"))
	d.keys("a", "enter")
	d.typed("al")
	cmd := d.e.query("al") // a search in flight
	d.typed("x")           // the query moves on
	d.run(cmd)
	if len(d.e.picks) != 0 {
		t.Errorf("a stale answer was shown: %+v", d.e.picks)
	}
	d.keys("esc", "esc")
	if d.closed == nil || d.closed.Changed {
		t.Errorf("closed %+v, want a close without changes", d.closed)
	}
}

// Adding a principal already on the list does not silently replace its level: the level
// picker starts at its current level and says it is already there.
func TestACLEditorAddExisting(t *testing.T) {
	f := newACLFake("control")
	f.acl[1].Level = "edit" // group:qa
	d := newACLDrive(t, f)
	d.keys("a", "j", "enter") // group
	d.typed("qa")
	d.keys("enter", "enter") // search, pick
	d.shows("Level for group:qa:", "> edit", "group:qa is already on the list with edit")
	d.keys("enter")
	if last := f.changes[len(f.changes)-1]; last.Grant[0] != (lens.ACLEntry{Principal: "group:qa", Level: "edit"}) {
		t.Errorf("enter at once changed the level: %+v", last)
	}
	if strings.Contains(ansi.Strip(d.e.View()), "already on the list") {
		t.Error("the warning outlived the picker")
	}
}
