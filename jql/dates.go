package jql

import (
	"strconv"
	"strings"
	"time"
)

// absoluteLayouts are the date forms Jira accepts in JQL, interpreted in Env.Location.
var absoluteLayouts = []string{"2006-1-2 15:04", "2006/1/2 15:04", "2006-1-2", "2006/1/2"}

// dateFormatsHint is Jira's list of valid date forms, for error messages.
const dateFormatsHint = "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."

// parseDate reads an absolute date or a relative period ("-15m", "-2d", "1w", "4h",
// "-4w 2d") and resolves it against now. ok is false when s is neither.
func parseDate(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range absoluteLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	if p, ok := parsePeriod(s, 0); ok {
		return p.addTo(now.In(loc)), true
	}
	return time.Time{}, false
}

// period is a signed span in calendar units, applied with AddDate for months and years
// so "-1M" from March 31 behaves as Go's calendar arithmetic does.
type period struct {
	years, months, days int
	dur                 time.Duration
}

func (p period) addTo(t time.Time) time.Time {
	return t.AddDate(p.years, p.months, p.days).Add(p.dur)
}

// parsePeriod reads Jira's period format: an optional sign, then one or more number+unit
// pairs, units y (years), M (months), w (weeks), d (days), h (hours), m (minutes), optionally
// separated by spaces. A bare integer is allowed when defaultUnit is non-zero (function
// offsets such as startOfDay(-1) count in the function's unit).
func parsePeriod(s string, defaultUnit byte) (period, bool) {
	var p period
	sign := 1
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	if s == "" {
		return p, false
	}
	if defaultUnit != 0 {
		if n, err := strconv.Atoi(s); err == nil {
			s = strconv.Itoa(n) + string(defaultUnit)
		}
	}
	seen := false
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 || i == len(s) {
			return p, false
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return p, false
		}
		n *= sign
		switch s[i] {
		case 'y':
			p.years += n
		case 'M':
			p.months += n
		case 'w':
			p.days += 7 * n
		case 'd':
			p.days += n
		case 'h':
			p.dur += time.Duration(n) * time.Hour
		case 'm':
			p.dur += time.Duration(n) * time.Minute
		default:
			return p, false
		}
		seen = true
		s = s[i+1:]
	}
	return p, seen
}

// dateFunction resolves now(), startOf*() and endOf*() with an optional offset argument.
// Weeks start on Monday. endOf* is the last minute of the period (Jira's 23:59).
func dateFunction(name string, args []string, now time.Time, loc *time.Location) (time.Time, bool) {
	now = now.In(loc)
	if name == "now" {
		return now, len(args) == 0
	}
	if len(args) > 1 {
		return time.Time{}, false
	}
	var unit byte
	var start func(time.Time) time.Time
	var next func(time.Time) time.Time
	switch strings.TrimPrefix(strings.TrimPrefix(name, "startOf"), "endOf") {
	case "Day":
		unit = 'd'
		start = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc) }
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case "Week":
		unit = 'w'
		start = func(t time.Time) time.Time {
			back := (int(t.Weekday()) + 6) % 7 // days since Monday
			return time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, loc)
		}
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	case "Month":
		unit = 'M'
		start = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc) }
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	case "Year":
		unit = 'y'
		start = func(t time.Time) time.Time { return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, loc) }
		next = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	default:
		return time.Time{}, false
	}
	t := start(now)
	if strings.HasPrefix(name, "endOf") {
		t = next(t).Add(-time.Minute)
	}
	if len(args) == 1 {
		p, ok := parsePeriod(strings.TrimSpace(args[0]), unit)
		if !ok {
			return time.Time{}, false
		}
		t = p.addTo(t)
	}
	return t, true
}
