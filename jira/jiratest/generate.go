package jiratest

import (
	"math"
	"time"
)

// rng is splitmix64: tiny, fast and fully determined by its seed, which is all the
// generator needs (the data set must be the same for the same seed on every platform).
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance reports true with probability pct/100.
func (r *rng) chance(pct int) bool { return r.intn(100) < pct }

// hash64 mixes a seed and an index into an independent stream, used for text that is
// rendered on demand and never stored.
func hash64(seed uint64, i int64, salt uint64) uint64 {
	r := rng{state: seed ^ uint64(i)*0x9e3779b97f4a7c15 ^ salt}
	return r.next()
}

const day = 24 * 60 * 60

// generate fills the site with n issues. Everything depends only on the seed and n.
func (s *Site) generate(n int) {
	r := rng{state: s.seed*0x2545f4914f6cdd1d + 1}
	now := s.born.Unix()
	start := now - 365*day
	span := int64(365 * day)
	s.issues = make([]issue, n, n+n/16+16)
	for p := range projects {
		s.byNum[p] = make([]int32, 0, n/2+1)
	}
	s.links = make([]link, 0, n/8+16)
	nusers := len(s.users)

	var curEpic, curStd [3]int32
	for p := range curEpic {
		curEpic[p], curStd[p] = -1, -1
	}
	for i := range n {
		idx := int32(i)
		is := &s.issues[i]
		is.parent, is.epic, is.firstSub, is.nextSub, is.linkHead = -1, -1, -1, -1, -1
		is.resolution = -1
		is.points = float32(math.NaN())

		var p int
		switch w := r.intn(10); {
		case w < 5:
			p = 0
		case w < 8:
			p = 1
		default:
			p = 2
		}
		is.project = uint8(p)
		s.nextNum[p]++
		is.num = s.nextNum[p]
		s.byNum[p] = append(s.byNum[p], idx)

		// Type and hierarchy.
		switch {
		case curEpic[p] < 0 || r.chance(4):
			is.typ = typeEpic
			curEpic[p] = idx
		case curStd[p] >= 0 && r.chance(28):
			is.typ = typeSubtask
			s.setParent(idx, curStd[p])
		default:
			switch w := r.intn(100); {
			case w < 55:
				is.typ = typeStory
			case w < 80:
				is.typ = typeTask
			default:
				is.typ = typeBug
			}
			curStd[p] = idx
			if r.chance(85) {
				if s.dialect == dialectDataCenter {
					is.epic = curEpic[p]
				} else {
					is.parent = curEpic[p]
				}
			}
		}

		// Dates: creation follows the index across the year; updates come later.
		is.created = start + int64(i)*span/int64(n) + int64(r.intn(int(span/int64(n))+1))
		if is.created > now {
			is.created = now
		}
		age := now - is.created
		is.updated = (is.created + int64(r.intn(int(age)+1))) * 1000

		// Status along the workflow: older issues are more often done.
		path := workflowPath[issueTypes[is.typ].workflow]
		if r.intn(int(span)) < int(age)*9/10 {
			is.status = uint8(path[len(path)-1])
		} else {
			is.status = uint8(path[r.intn(len(path)-1)])
		}
		if is.status == stDone {
			if r.chance(85) {
				is.resolution = 0
			} else {
				is.resolution = int8(1 + r.intn(len(resolutions)-1))
			}
			is.resolved = is.updated / 1000
		}

		switch w := r.intn(100); {
		case w < 7:
			is.priority = 0
		case w < 27:
			is.priority = 1
		case w < 77:
			is.priority = 2
		case w < 92:
			is.priority = 3
		default:
			is.priority = 4
		}
		for range r.intn(3) {
			is.labels |= 1 << r.intn(len(baseLabels))
		}
		if r.chance(70) {
			is.components = 1 << r.intn(len(projects[p].components))
		}
		vers := projects[p].versions
		if is.status == stDone {
			is.versions = 1 << r.intn(len(vers)-1) // a released one
		} else if r.chance(40) {
			is.versions = 1 << (len(vers) - 1)
		}
		if is.typ != typeEpic {
			is.sprints = s.pickSprints(&r, p, is.status)
		}
		pointsPct := 0
		switch is.typ {
		case typeStory:
			pointsPct = 80
		case typeTask:
			pointsPct = 40
		case typeBug:
			pointsPct = 20
		}
		if r.chance(pointsPct) {
			is.points = float32(fibPoints[r.intn(len(fibPoints))])
		}
		if r.chance(30) {
			is.due = int32((is.created + int64(7+r.intn(120))*day) / day)
		}
		if r.chance(85) {
			is.assignee = int16(r.intn(nusers))
		} else {
			is.assignee = -1
		}
		is.reporter = int16(r.intn(nusers))
		is.rank = uint32(i)*64 + uint32(r.intn(64))
		if p == 1 && is.typ != typeSubtask && r.chance(15) {
			is.security = true
		}
		if is.typ == typeSubtask {
			is.security = s.issues[is.parent].security
		}

		// Links to a recent issue.
		if i > 0 && is.typ != typeSubtask && r.chance(12) {
			back := min(i, 1000)
			to := int32(i - 1 - r.intn(back))
			var t uint8
			switch w := r.intn(100); {
			case w < 50:
				t = 0
			case w < 85:
				t = 1
			default:
				t = 2
			}
			s.addLink(t, idx, to)
		}
	}
}

var fibPoints = [...]int{1, 2, 3, 5, 8, 13}

// pickSprints places an issue in sprints of its project that fit its status.
func (s *Site) pickSprints(r *rng, p int, st uint8) uint32 {
	base := p * 5
	var m uint32
	switch st {
	case stDone:
		if r.chance(60) {
			m |= 1 << (base + r.intn(3))
		}
	case stInProgress, stInReview:
		if r.chance(90) {
			m |= 1 << (base + 3)
			if r.chance(20) {
				m |= 1 << (base + 2) // carried over from the last closed sprint
			}
		}
	default:
		switch w := r.intn(100); {
		case w < 25:
			m |= 1 << (base + 4)
		case w < 50:
			m |= 1 << (base + 3)
		}
	}
	return m
}

// setParent makes parent the parent of child, keeping the parent's sub-task list when the
// child is a sub-task.
func (s *Site) setParent(child, parent int32) {
	c := &s.issues[child]
	if c.parent >= 0 && c.typ == typeSubtask {
		s.unlinkSub(child)
	}
	c.parent = parent
	if parent >= 0 && c.typ == typeSubtask {
		c.nextSub = s.issues[parent].firstSub
		s.issues[parent].firstSub = child
	}
}

func (s *Site) unlinkSub(child int32) {
	p := s.issues[child].parent
	prev := int32(-1)
	for cur := s.issues[p].firstSub; cur >= 0; cur = s.issues[cur].nextSub {
		if cur == child {
			if prev < 0 {
				s.issues[p].firstSub = s.issues[cur].nextSub
			} else {
				s.issues[prev].nextSub = s.issues[cur].nextSub
			}
			break
		}
		prev = cur
	}
	s.issues[child].nextSub = -1
}

// addLink records "from <outward> to" and returns the link's index.
func (s *Site) addLink(t uint8, from, to int32) int32 {
	l := link{typ: t, from: from, to: to, nextFrom: s.issues[from].linkHead, nextTo: s.issues[to].linkHead}
	idx := int32(len(s.links))
	s.links = append(s.links, l)
	s.issues[from].linkHead = idx
	s.issues[to].linkHead = idx
	return idx
}

// eachLink calls f for every live link touching issue i.
func (s *Site) eachLink(i int32, f func(idx int32, l *link)) {
	for cur := s.issues[i].linkHead; cur >= 0; {
		l := &s.links[cur]
		next := l.nextTo
		if l.from == i {
			next = l.nextFrom
		}
		if !l.deleted {
			f(cur, l)
		}
		cur = next
	}
}

func linkID(idx int32) int64 { return int64(idx) + 10000 }

// Generated text: summaries and descriptions are a function of the seed and the index,
// so they cost no memory until edited.

var (
	verbs   = []string{"Add", "Fix", "Refactor", "Improve", "Document", "Migrate", "Remove", "Validate", "Cache", "Export", "Import", "Audit"}
	adjs    = []string{"slow", "flaky", "legacy", "new", "secure", "mobile", "nightly", "bulk", "async", "shared", "internal", "public"}
	nouns   = []string{"login page", "search index", "billing report", "API gateway", "user profile", "notification service", "dashboard", "export job", "payment flow", "audit log", "settings screen", "upload widget", "rate limiter", "session store", "webhook relay", "release pipeline"}
	failure = []string{"crashes", "times out", "shows stale data", "returns 500", "loses input", "renders blank", "double-charges", "leaks memory"}
	cond    = []string{"on Safari", "after logout", "with an empty cart", "under load", "for admins", "at midnight UTC", "on slow networks", "with unicode names"}
)

func (s *Site) generatedSummary(i int32) string {
	h := hash64(s.seed, int64(i), 0x5)
	pick := func(list []string, shift uint) string { return list[int(h>>shift)%len(list)] }
	switch s.issues[i].typ {
	case typeEpic:
		return pick(adjs, 3) + " " + pick(nouns, 11) + " overhaul"
	case typeStory:
		return "As a user I can " + lower(pick(verbs, 5)) + " the " + pick(adjs, 13) + " " + pick(nouns, 21)
	case typeBug:
		return pick(nouns, 7) + " " + pick(failure, 17) + " " + pick(cond, 27)
	case typeSubtask:
		return pick(verbs, 9) + " " + pick(nouns, 19) + " tests"
	}
	return pick(verbs, 9) + " " + pick(adjs, 15) + " " + pick(nouns, 23)
}

func (s *Site) generatedDescription(i int32) string {
	h := hash64(s.seed, int64(i), 0xd)
	n := nouns[int(h>>4)%len(nouns)]
	return "The " + n + " needs attention.\n\nAcceptance criteria: the " + n + " " + []string{"works offline", "is covered by tests", "meets the latency budget", "is documented"}[int(h>>12)%4] + "."
}

func lower(s string) string {
	b := []byte(s)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

// accessors that see through ext.

func (s *Site) summary(i int32) string {
	if e := s.issues[i].ext; e != nil && e.summary != nil {
		return *e.summary
	}
	return s.generatedSummary(i)
}

func (s *Site) description(i int32) (string, bool) {
	if e := s.issues[i].ext; e != nil && e.description != nil {
		return *e.description, *e.description != ""
	}
	if s.issues[i].typ == typeSubtask {
		return "", false
	}
	return s.generatedDescription(i), true
}

func (s *Site) labels(i int32) []string {
	is := &s.issues[i]
	if is.ext != nil && is.ext.labelsSet {
		return is.ext.labels
	}
	var out []string
	for b := range baseLabels {
		if is.labels&(1<<b) != 0 {
			out = append(out, baseLabels[b])
		}
	}
	return out
}

// mutExt gives issue i a private copy of its ext to change.
func (s *Site) mutExt(i int32) *issueExt {
	is := &s.issues[i]
	var e issueExt
	if is.ext != nil {
		e = *is.ext
		e.labels = append([]string(nil), e.labels...)
		e.comments = append([]comment(nil), e.comments...)
	}
	is.ext = &e
	return is.ext
}

func fmtTime(unixMillis int64) string {
	return time.UnixMilli(unixMillis).UTC().Format("2006-01-02T15:04:05.000-0700")
}

func fmtDate(days int32) string {
	return time.Unix(int64(days)*day, 0).UTC().Format("2006-01-02")
}

// lexoRank renders a rank as Jira's lexorank string ("0|i0000g:"), which sorts bytewise.
func lexoRank(r uint32) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [7]byte
	for k := 6; k >= 0; k-- {
		b[k] = digits[r%36]
		r /= 36
	}
	return "0|" + string(b[:]) + ":"
}
