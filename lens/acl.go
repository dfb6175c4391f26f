package lens

import "strings"

// Level is a Lens access level; a higher level includes the lower ones.
type Level int

const (
	LevelNone       Level = iota // may not open the Lens
	LevelView                    // open it
	LevelEdit                    // edit cells inline (Jira's own permission still applies)
	LevelGenerators              // change generators, columns and views
	LevelControl                 // change the ACL and the owner
)

func (l Level) String() string {
	return [...]string{"none", "view", "edit", "generators", "control"}[l]
}

// ParseLevel reads view, edit, generators or control.
func ParseLevel(s string) (Level, bool) {
	for l := LevelView; l <= LevelControl; l++ {
		if l.String() == s {
			return l, true
		}
	}
	return LevelNone, false
}

// Viewer is who asks for access: a user id and the groups and project roles Jira reports
// for them (roles as "PROJECT/Role").
type Viewer struct {
	User   string
	Groups []string
	Roles  []string
}

// Access is the viewer's level on the Lens: the owner has control; otherwise the highest
// level of the ACL entries that match the viewer wins. Group and role names compare
// case-insensitively, as Jira does; user ids exactly.
func (d *Definition) Access(v Viewer) Level {
	if d.Owner != "" && v.User == d.Owner {
		return LevelControl
	}
	best := LevelNone
	for _, e := range d.ACL {
		l, ok := ParseLevel(e.Level)
		if !ok || l <= best {
			continue
		}
		p, err := ParsePrincipal(e.Principal)
		if err != nil {
			continue
		}
		if p.matches(v) {
			best = l
		}
	}
	return best
}

func (p Principal) matches(v Viewer) bool {
	switch p.Kind {
	case "anyone":
		return true
	case "user":
		return v.User != "" && p.Name == v.User
	case "group":
		return containsFold(v.Groups, p.Name)
	case "role":
		return containsFold(v.Roles, p.Name)
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
