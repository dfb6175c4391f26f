package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"foundation/lens"
)

// aclMemBackend is the in-memory Backend with an ACL editor backend.
type aclMemBackend struct {
	*memBackend
	acl *aclFake
}

func (b aclMemBackend) ACL() ACLBackend { return b.acl }

// TestACLEditorInApp: `a` opens the editor on the open Lens (and from home on the Lens
// under the cursor), it takes the keys until esc closes it, and a backend without ACL
// editing says so.
func TestACLEditorInApp(t *testing.T) {
	f := newACLFake("control")
	d := newDriver(t, aclMemBackend{newMemBackend(t), f}, 120, 40)
	d.keys("a")
	if d.app.mode != modeACL {
		t.Fatalf("a on home did not open the editor:\n%s", d.screen())
	}
	d.mustSee("owner:olga")
	d.keys("esc")
	if d.app.mode != modeNormal || d.app.aclEd != nil {
		t.Fatal("esc did not close the editor")
	}
	d.keys("enter", "a")
	d.mustSee("Access to " + d.app.lens.info.ID)
	d.mustSee("You: vera: control")
	// Keys go to the editor: j moves its cursor, not the table's; d asks to remove.
	row := d.app.lens.table.Cursor()
	d.keys("j", "j", "d")
	if d.app.lens.table.Cursor() != row {
		t.Error("the table moved under the editor")
	}
	d.mustSee("Remove group:qa (view)? [y/N]")
	d.keys("y")
	if len(f.changes) != 1 {
		t.Fatalf("changes %+v", f.changes)
	}
	d.keys("esc")
	d.mustSee("access list changed")
	if d.app.mode != modeNormal {
		t.Fatal("esc did not close the editor")
	}

	plain := newDriver(t, newMemBackend(t), 120, 40)
	plain.keys("a")
	if plain.app.mode == modeACL || !strings.Contains(plain.screen(), "cannot edit access lists") {
		t.Errorf("a without an ACL backend:\n%s", plain.screen())
	}
}

// noteBackend adds build notes, as a Lens built with unverifiable grants has.
type noteBackend struct{ *memBackend }

func (b noteBackend) Build(ctx context.Context, req BuildRequest) (*Built, error) {
	built, err := b.memBackend.Build(ctx, req)
	if err == nil {
		built.Notes = append(built.Notes,
			"permissions for BETA unverified since 10:42: Jira unreachable (HTTP 503); their rows are hidden",
			"permissions for GAMMA never verified: run `foundation refresh` with this profile; their rows are hidden",
			"a third note")
	}
	return built, err
}

// TestBuildNotesOnScreen: the Lens screen says why rows are hidden and since when, above
// the table, which gives up the lines.
func TestBuildNotesOnScreen(t *testing.T) {
	plain, _ := openRoadmap(t, 120, 30)
	d := newDriver(t, noteBackend{newMemBackend(t)}, 120, 30)
	d.keys("enter")
	d.mustSee("! permissions for BETA unverified since 10:42: Jira unreachable (HTTP 503); their rows are hidden")
	d.mustSee("! permissions for GAMMA never verified")
	d.mustSee("… 1 more notes")
	if got, want := d.app.bodyTop(), plain.app.bodyTop()+3; got != want {
		t.Errorf("table starts on line %d, want %d below the notes", got, want)
	}
	if lines := strings.Split(d.screen(), "\n"); len(lines) != 30 {
		t.Errorf("screen has %d lines, want 30", len(lines))
	}
	d.keys("backspace")
	d.mustNotSee("unverified since")
}

// deniedBackend refuses builds once denied is set, as the real backend does when the Lens's
// ACL no longer lets the viewer open it.
type deniedBackend struct {
	*memBackend
	denied *bool
}

func (b deniedBackend) Build(ctx context.Context, req BuildRequest) (*Built, error) {
	if *b.denied {
		return nil, fmt.Errorf("%w: lens %q: you may not open it", ErrNoAccess, req.Lens)
	}
	return b.memBackend.Build(ctx, req)
}

// TestLostAccessClosesLens: when a change makes the open Lens inaccessible, its rows leave
// the screen instead of staying under an error line.
func TestLostAccessClosesLens(t *testing.T) {
	denied := false
	mem := newMemBackend(t)
	d := newDriver(t, deniedBackend{mem, &denied}, 100, 24)
	d.keys("enter")
	d.mustSee("ALPHA-1")
	denied = true
	mem.edit("ALPHA-5", "anything") // the change that triggers the rebuild
	d.fire()
	if d.app.lens != nil || d.app.screen != screenHome {
		t.Fatal("the Lens stayed open after access was lost")
	}
	d.mustNotSee("ALPHA-1")
	d.mustSee("may not open it")
}

// TestACLEditorFollowsOtherSessions: a list open in the editor reloads when the change feed
// moves (another session changed it), but not while the viewer is in the middle of a change.
func TestACLEditorFollowsOtherSessions(t *testing.T) {
	f := newACLFake("control")
	mem := newMemBackend(t)
	d := newDriver(t, aclMemBackend{mem, f}, 120, 40)
	d.keys("enter", "a")
	d.mustSee("You: vera: control")
	d.mustNotSee("group:designers")

	other := func(principal string) {
		f.mu.Lock()
		f.acl = append(f.acl, lens.ACLEntry{Principal: principal, Level: "edit"})
		f.version++
		f.mu.Unlock()
		mem.edit("ALPHA-1", "moved the feed") // the other session's write reaches the feed
	}
	other("group:designers")
	d.fire()
	d.mustSee("group:designers")

	// In the middle of adding a principal, the list stays as it was.
	d.keys("+")
	other("group:writers")
	d.fire()
	d.mustNotSee("group:writers")
	// Back on the list, the next change brings it up to date.
	d.keys("esc")
	other("group:readers")
	d.fire()
	d.mustSee("group:writers")
	d.mustSee("group:readers")
}

// deniedListBackend also leaves the Lens out of the list while access is denied.
type deniedListBackend struct{ deniedBackend }

func (b deniedListBackend) Lenses(ctx context.Context) ([]LensInfo, error) {
	list, err := b.memBackend.Lenses(ctx)
	if *b.denied {
		list = slices.DeleteFunc(list, func(l LensInfo) bool { return l.ID == "roadmap" })
	}
	return list, err
}

// The "no access" notice goes once the Lens is back in the list (access restored), and the
// home cursor stays on its Lens while the list changes around it.
func TestRestoredAccessClearsTheNotice(t *testing.T) {
	denied := false
	mem := newMemBackend(t)
	d := newDriver(t, deniedListBackend{deniedBackend{mem, &denied}}, 100, 24)
	d.keys("enter")
	denied = true
	mem.edit("ALPHA-5", "anything")
	d.fire()
	d.mustSee("may not open it")
	if l := d.app.homeList(); len(l) != 1 || l[d.app.homeCursor].ID != "bugs" {
		t.Fatalf("home list while denied: %v, cursor %d", l, d.app.homeCursor)
	}
	denied = false
	mem.edit("ALPHA-6", "access is back")
	d.fire()
	d.mustNotSee("may not open it")
	if id := d.app.homeList()[d.app.homeCursor].ID; id != "bugs" {
		t.Errorf("Roadmap came back above it and the cursor moved to %s", id)
	}
}
