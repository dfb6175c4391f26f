package lens

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// ValueKind says how a cell's value is typed.
type ValueKind uint8

const (
	KindEmpty    ValueKind = iota // no value
	KindNumber                    // Num
	KindText                      // Str
	KindTime                      // Time
	KindProgress                  // Num in 0..1
	KindError                     // Str holds the message (a formula that failed)
)

func (k ValueKind) String() string {
	switch k {
	case KindNumber:
		return "number"
	case KindText:
		return "text"
	case KindTime:
		return "time"
	case KindProgress:
		return "progress"
	case KindError:
		return "error"
	}
	return "empty"
}

// Value is one typed value of a cell or a field.
type Value struct {
	Kind ValueKind
	Num  float64
	Str  string
	Time time.Time
}

// Cell is a rendered cell: its typed value, the text to show and its style.
type Cell struct {
	Value
	Display string
	Style   Style
}

func numValue(f float64) Value    { return Value{Kind: KindNumber, Num: f} }
func textValue(s string) Value    { return Value{Kind: KindText, Str: s} }
func timeValue(t time.Time) Value { return Value{Kind: KindTime, Time: t} }

// display renders a value the way columns show it. Times at midnight UTC show as dates.
func (v Value) display() string {
	switch v.Kind {
	case KindNumber:
		return formatNum(v.Num)
	case KindText, KindError:
		return v.Str
	case KindTime:
		if v.Time.Hour() == 0 && v.Time.Minute() == 0 && v.Time.Second() == 0 {
			return v.Time.Format("2006-01-02")
		}
		return v.Time.Format("2006-01-02 15:04")
	case KindProgress:
		return strconv.Itoa(int(math.Round(v.Num*100))) + "%"
	}
	return ""
}

// formatNum prints integers without a fraction and others with at most two decimals.
func formatNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// compareValues orders two values: numbers and times by value, text case-insensitively;
// empty sorts after everything, as in Jira.
func compareValues(a, b Value) int {
	if a.Kind == KindEmpty || b.Kind == KindEmpty {
		switch {
		case a.Kind == b.Kind:
			return 0
		case a.Kind == KindEmpty:
			return 1
		default:
			return -1
		}
	}
	switch {
	case (a.Kind == KindNumber || a.Kind == KindProgress) && (b.Kind == KindNumber || b.Kind == KindProgress):
		return cmpFloat(a.Num, b.Num)
	case a.Kind == KindTime && b.Kind == KindTime:
		return a.Time.Compare(b.Time)
	}
	return strings.Compare(strings.ToLower(a.display()), strings.ToLower(b.display()))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// priorityOrder ranks Jira's default priority scheme so that sorting by priority puts
// Highest first ascending; unknown names sort after the known ones.
func priorityOrder(name string) float64 {
	switch strings.ToLower(name) {
	case "highest", "blocker":
		return 1
	case "high", "critical":
		return 2
	case "medium", "major":
		return 3
	case "low", "minor":
		return 4
	case "lowest", "trivial":
		return 5
	}
	return 6
}

// categoryOrder ranks status categories: to do, in progress, done.
func categoryOrder(key string) float64 {
	switch key {
	case "new":
		return 1
	case "indeterminate":
		return 2
	case "done":
		return 3
	}
	return 4
}

// categoryName is the name Jira shows for a status category key.
func categoryName(key string) string {
	switch key {
	case "new":
		return "To Do"
	case "indeterminate":
		return "In Progress"
	case "done":
		return "Done"
	}
	return key
}
