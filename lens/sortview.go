package lens

import (
	"fmt"
	"slices"
)

// SortedBy returns a copy of the forest with issue siblings at every level ordered by a
// view column's values (stable; empty values last either way), as the TUI's "sort by the
// column under the cursor" needs. Group and folder rows keep their places ahead of issue
// rows; paths are unchanged, so expanded state and the cursor survive.
func (f *Forest) SortedBy(view string, col int, desc bool) (*Forest, error) {
	v, err := f.View(view)
	if err != nil {
		return nil, err
	}
	if col < 0 || col >= len(v.cv.cols) {
		return nil, fmt.Errorf("lens %q view %q: no column %d", f.def.Name, v.cv.name, col)
	}
	out := &Forest{Notes: f.Notes, def: f.def, comp: f.comp, data: f.data, venv: f.venv, now: f.now, idx: f.idx, sh: f.sh}
	out.Rows = make([]Row, 0, len(f.Rows))
	var walk func(kids []int, parent int32)
	walk = func(kids []int, parent int32) {
		first := 0
		for first < len(kids) && f.Rows[kids[first]].Kind != RowIssue {
			first++
		}
		issues := kids[first:]
		vals := make(map[int]Value, len(issues))
		for _, i := range issues {
			vals[i] = v.value(i, col)
		}
		slices.SortStableFunc(issues, func(a, b int) int {
			x, y := vals[a], vals[b]
			c := compareValues(x, y)
			if desc && x.Kind != KindEmpty && y.Kind != KindEmpty {
				c = -c
			}
			return c
		})
		for _, i := range kids {
			r := f.Rows[i]
			r.Parent = parent
			j := len(out.Rows)
			out.Rows = append(out.Rows, r)
			if g := f.groups[int32(i)]; g != nil {
				if out.groups == nil {
					out.groups = map[int32]*GroupInfo{}
				}
				out.groups[int32(j)] = g
			}
			walk(f.Children(i), int32(j))
			out.Rows[j].End = int32(len(out.Rows))
		}
	}
	walk(f.Children(-1), -1)
	return out, nil
}
