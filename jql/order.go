package jql

// Compare orders two records by ORDER BY keys, returning -1, 0 or 1. As in Jira, an empty
// field sorts last ascending (and so first descending). Multi-valued fields sort by their
// first value. Numbers and times compare by value; "key", "parent" and "epic link" by
// project then issue number (ALPHA-9 before ALPHA-10); "priority" by Jira's default scheme
// (Lowest < Low < Medium < High < Highest, other names after, by name); "statuscategory" as
// To Do < In Progress < Done; "rank" bytewise (lexorank); other strings ignoring case.
// Keys name canonical fields, as Query.OrderBy holds them.
func Compare(a, b Record, keys []SortKey) int {
	for _, k := range keys {
		c := compareField(k.Field, a.Values(k.Field), b.Values(k.Field))
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func compareField(field string, va, vb []Value) int {
	ae, be := isEmpty(va), isEmpty(vb)
	switch {
	case ae && be:
		return 0
	case ae:
		return 1
	case be:
		return -1
	}
	x, y := &va[0], &vb[0]
	if x.Kind != y.Kind {
		return cmp3(int(x.Kind), int(y.Kind))
	}
	switch x.Kind {
	case Number:
		return cmp3(x.Num, y.Num)
	case Time:
		return x.Time.Compare(y.Time)
	}
	switch field {
	case "key", "parent", "epic link":
		pa, na, oka := splitKey(x.Str)
		pb, nb, okb := splitKey(y.Str)
		if oka && okb {
			if c := compareFold(pa, pb); c != 0 {
				return c
			}
			return cmp3(na, nb)
		}
	case "priority":
		ra, rb := priorityRank(x.Str), priorityRank(y.Str)
		switch {
		case ra != 0 && rb != 0:
			return cmp3(ra, rb)
		case ra != 0:
			return -1
		case rb != 0:
			return 1
		}
	case "statuscategory":
		if c := cmp3(categoryOrder(x.Str), categoryOrder(y.Str)); c != 0 {
			return c
		}
	case "rank":
		switch {
		case x.Str < y.Str:
			return -1
		case x.Str > y.Str:
			return 1
		}
		return 0
	}
	return compareFold(x.Str, y.Str)
}
