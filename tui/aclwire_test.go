package tui

import (
	"strings"
	"testing"
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
