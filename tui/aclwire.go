package tui

// The ACL editor inside the App: `a` opens it for the open Lens (Lens screen) or the Lens
// under the cursor (home) when the Backend provides one (ACLProvider); it takes the screen
// body and the keys until it closes.

import tea "charm.land/bubbletea/v2"

// aclProvider is the Backend's ACL backend, nil when it has none.
func (a *App) aclProvider() ACLBackend {
	if p, ok := a.opt.Backend.(ACLProvider); ok {
		return p.ACL()
	}
	return nil
}

// openACL opens the editor on the Lens the screen is about.
func (a *App) openACL() tea.Cmd {
	be := a.aclProvider()
	if be == nil {
		a.notice("this session cannot edit access lists", true)
		return nil
	}
	var id string
	switch {
	case a.screen == screenLens && a.lens != nil:
		id = a.lens.info.ID
	default:
		list := a.homeList()
		if a.homeCursor >= len(list) {
			return nil
		}
		id = list[a.homeCursor].ID
	}
	a.aclEd = NewACLEditor(a.ctx, be, id)
	a.aclEd.SetWidth(a.width)
	a.mode = modeACL
	return a.aclEd.Init()
}

// onACLMsg routes the editor's own messages and its key presses while it is open.
func (a *App) onACLMsg(msg tea.Msg) tea.Cmd {
	if a.aclEd == nil {
		return nil
	}
	var cmd tea.Cmd
	a.aclEd, cmd = a.aclEd.Update(msg)
	return cmd
}

// closeACL drops the editor. What it changed reaches the open Lens through the change
// feed like any other change to the cache.
func (a *App) closeACL(msg ACLClosedMsg) tea.Cmd {
	a.aclEd = nil
	if a.mode == modeACL {
		a.mode = modeNormal
	}
	if msg.Changed {
		a.notice("access list changed", false)
	}
	return nil
}

// aclLines is the editor drawn in the screen body.
func (a *App) aclLines(n int) []string {
	if a.aclEd == nil {
		return nil
	}
	a.aclEd.SetWidth(a.width)
	return splitLines(a.aclEd.View(), n)
}
