package jiratest

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rendering writes JSON by hand into byte slices: a full scan of 100,000 issues must be
// cheap enough to serve as the wire floor other benchmarks compare against.

// view is who asks and through which API version, which decides the shape of the answer.
type view struct {
	base string // http://host, no trailing slash
	api  string // "2" or "3"
	user int
}

// adf reports whether rich text is rendered as an ADF document (Cloud REST v3).
func (s *Site) adf(v view) bool { return s.dialect == dialectCloud && v.api == "3" }

func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"':
				b = append(b, '\\', '"')
			case '\\':
				b = append(b, '\\', '\\')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				const hex = "0123456789abcdef"
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendKey(b []byte, k string) []byte {
	b = appendStr(b, k)
	return append(b, ':')
}

func appendIntStr(b []byte, n int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '"')
}

func appendFloat(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendFloat(b, f, 'f', 1, 64)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func avatarURLs(b []byte, base, kind, id string) []byte {
	b = append(b, `{"48x48":`...)
	for k, size := range []string{"48x48", "24x24", "16x16", "32x32"} {
		if k > 0 {
			b = append(b, ',')
			b = appendKey(b, size)
		}
		b = appendStr(b, base+"/secure/"+kind+"avatar?size="+size+"&avatarId="+id)
	}
	return append(b, '}')
}

// appendUser renders user u as the dialect shows users.
func (s *Site) appendUser(b []byte, v view, u int) []byte {
	if u < 0 || u >= len(s.users) {
		return append(b, "null"...)
	}
	usr := &s.users[u]
	b = append(b, `{"self":`...)
	if s.dialect == dialectCloud {
		b = appendStr(b, v.base+"/rest/api/"+v.api+"/user?accountId="+usr.AccountID)
		b = append(b, `,"accountId":`...)
		b = appendStr(b, usr.AccountID)
		b = append(b, `,"accountType":"atlassian"`...)
	} else {
		b = appendStr(b, v.base+"/rest/api/2/user?username="+usr.Name)
		b = append(b, `,"name":`...)
		b = appendStr(b, usr.Name)
		b = append(b, `,"key":`...)
		b = appendStr(b, usr.Name)
	}
	b = append(b, `,"emailAddress":`...)
	b = appendStr(b, usr.Email)
	b = append(b, `,"avatarUrls":`...)
	b = avatarURLs(b, v.base, "user", strconv.Itoa(10100+u))
	b = append(b, `,"displayName":`...)
	b = appendStr(b, usr.DisplayName)
	b = append(b, `,"active":true,"timeZone":"UTC"}`...)
	return b
}

func (s *Site) appendProject(b []byte, v view, p int) []byte {
	pr := &projects[p]
	b = append(b, `{"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/project/"+formatInt(pr.id))
	b = append(b, `,"id":`...)
	b = appendIntStr(b, pr.id)
	b = append(b, `,"key":`...)
	b = appendStr(b, pr.key)
	b = append(b, `,"name":`...)
	b = appendStr(b, pr.name)
	b = append(b, `,"projectTypeKey":"software","simplified":false,"avatarUrls":`...)
	b = avatarURLs(b, v.base, "project", formatInt(10400+int64(p)))
	return append(b, '}')
}

func appendIssueType(b []byte, v view, t int) []byte {
	it := &issueTypes[t]
	b = append(b, `{"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/issuetype/"+formatInt(it.id))
	b = append(b, `,"id":`...)
	b = appendIntStr(b, it.id)
	b = append(b, `,"description":`...)
	b = appendStr(b, it.name+" issues.")
	b = append(b, `,"iconUrl":`...)
	b = appendStr(b, v.base+"/images/icons/issuetypes/"+strings.ToLower(it.name)+".svg")
	b = append(b, `,"name":`...)
	b = appendStr(b, it.name)
	b = append(b, `,"subtask":`...)
	b = strconv.AppendBool(b, it.subtask)
	b = append(b, `,"hierarchyLevel":`...)
	b = strconv.AppendInt(b, int64(it.level), 10)
	return append(b, '}')
}

func appendStatus(b []byte, v view, st int) []byte {
	s := &statuses[st]
	c := &statusCategories[s.category]
	b = append(b, `{"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/status/"+formatInt(s.id))
	b = append(b, `,"description":"","iconUrl":`...)
	b = appendStr(b, v.base+"/images/icons/statuses/generic.png")
	b = append(b, `,"name":`...)
	b = appendStr(b, s.name)
	b = append(b, `,"id":`...)
	b = appendIntStr(b, s.id)
	b = append(b, `,"statusCategory":{"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/statuscategory/"+formatInt(c.id))
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, c.id, 10)
	b = append(b, `,"key":`...)
	b = appendStr(b, c.key)
	b = append(b, `,"colorName":`...)
	b = appendStr(b, c.color)
	b = append(b, `,"name":`...)
	b = appendStr(b, c.name)
	return append(b, `}}`...)
}

func appendPriority(b []byte, v view, p int) []byte {
	pr := &priorities[p]
	b = append(b, `{"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/priority/"+formatInt(pr.id))
	b = append(b, `,"iconUrl":`...)
	b = appendStr(b, v.base+"/images/icons/priorities/"+strings.ToLower(pr.name)+".svg")
	b = append(b, `,"name":`...)
	b = appendStr(b, pr.name)
	b = append(b, `,"id":`...)
	b = appendIntStr(b, pr.id)
	return append(b, '}')
}

func appendResolution(b []byte, v view, r int) []byte {
	if r < 0 {
		return append(b, "null"...)
	}
	res := &resolutions[r]
	b = append(b, `{"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/resolution/"+formatInt(res.id))
	b = append(b, `,"id":`...)
	b = appendIntStr(b, res.id)
	b = append(b, `,"description":"","name":`...)
	b = appendStr(b, res.name)
	return append(b, '}')
}

func appendSprint(b []byte, sp *sprint, born int64) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, sp.id, 10)
	b = append(b, `,"name":`...)
	b = appendStr(b, sp.name)
	b = append(b, `,"state":`...)
	b = appendStr(b, sp.state)
	b = append(b, `,"boardId":`...)
	b = strconv.AppendInt(b, sp.boardID, 10)
	b = append(b, `,"goal":"","startDate":`...)
	b = appendStr(b, fmtSprintTime(born+int64(sp.start)*day))
	b = append(b, `,"endDate":`...)
	b = appendStr(b, fmtSprintTime(born+int64(sp.end)*day))
	if sp.state == "closed" {
		b = append(b, `,"completeDate":`...)
		b = appendStr(b, fmtSprintTime(born+int64(sp.end)*day))
	}
	return append(b, '}')
}

func fmtSprintTime(unix int64) string {
	return fmtTime(unix * 1000)[:23] + "Z"
}

// adfDoc renders plain text (paragraphs split on blank lines) as an ADF document.
func adfDoc(b []byte, text string) []byte {
	b = append(b, `{"type":"doc","version":1,"content":[`...)
	for k, para := range strings.Split(text, "\n\n") {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"type":"paragraph","content":[`...)
		if para != "" {
			b = append(b, `{"type":"text","text":`...)
			b = appendStr(b, para)
			b = append(b, '}')
		}
		b = append(b, `]}`...)
	}
	return append(b, `]}`...)
}

// appendIssueRef renders the short form Jira nests for parents, sub-tasks and linked issues.
func (s *Site) appendIssueRef(b []byte, v view, i int32) []byte {
	is := &s.issues[i]
	b = append(b, `{"id":`...)
	b = appendIntStr(b, issueID(i))
	b = append(b, `,"key":`...)
	b = appendStr(b, s.key(i))
	b = append(b, `,"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/issue/"+formatInt(issueID(i)))
	b = append(b, `,"fields":{"summary":`...)
	b = appendStr(b, s.summary(i))
	b = append(b, `,"status":`...)
	b = appendStatus(b, v, int(is.status))
	b = append(b, `,"priority":`...)
	b = appendPriority(b, v, int(is.priority))
	b = append(b, `,"issuetype":`...)
	b = appendIssueType(b, v, int(is.typ))
	return append(b, `}}`...)
}

func (s *Site) appendComment(b []byte, v view, i int32, c *comment) []byte {
	b = append(b, `{"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/issue/"+formatInt(issueID(i))+"/comment/"+formatInt(c.id))
	b = append(b, `,"id":`...)
	b = appendIntStr(b, c.id)
	b = append(b, `,"author":`...)
	b = s.appendUser(b, v, int(c.author))
	b = append(b, `,"body":`...)
	if s.adf(v) {
		b = adfDoc(b, c.body)
	} else {
		b = appendStr(b, c.body)
	}
	b = append(b, `,"updateAuthor":`...)
	b = s.appendUser(b, v, int(c.author))
	b = append(b, `,"created":`...)
	b = appendStr(b, fmtTime(c.created))
	b = append(b, `,"updated":`...)
	b = appendStr(b, fmtTime(c.created))
	return append(b, '}')
}

// appendField renders one field of issue is (the live one or a stale snapshot) at index i.
// It reports false when the field is absent for this issue (Jira leaves such fields out).
func (s *Site) appendField(b []byte, v view, i int32, is *issue, id string) ([]byte, bool) {
	switch id {
	case "summary":
		if is.ext != nil && is.ext.summary != nil {
			return appendStr(b, *is.ext.summary), true
		}
		return appendStr(b, s.generatedSummary(i)), true
	case "issuetype":
		return appendIssueType(b, v, int(is.typ)), true
	case "project":
		return s.appendProject(b, v, int(is.project)), true
	case "status":
		return appendStatus(b, v, int(is.status)), true
	case "statuscategorychangedate":
		return appendStr(b, fmtTime(is.updated)), true
	case "priority":
		return appendPriority(b, v, int(is.priority)), true
	case "resolution":
		return appendResolution(b, v, int(is.resolution)), true
	case "resolutiondate":
		if is.resolved == 0 {
			return append(b, "null"...), true
		}
		return appendStr(b, fmtTime(is.resolved*1000)), true
	case "assignee":
		return s.appendUser(b, v, int(is.assignee)), true
	case "reporter", "creator":
		return s.appendUser(b, v, int(is.reporter)), true
	case "created":
		return appendStr(b, fmtTime(is.created*1000)), true
	case "updated":
		return appendStr(b, fmtTime(is.updated)), true
	case "duedate":
		if is.due == 0 {
			return append(b, "null"...), true
		}
		return appendStr(b, fmtDate(is.due)), true
	case "labels":
		b = append(b, '[')
		if is.ext != nil && is.ext.labelsSet {
			for k, l := range is.ext.labels {
				if k > 0 {
					b = append(b, ',')
				}
				b = appendStr(b, l)
			}
		} else {
			first := true
			for k, l := range baseLabels {
				if is.labels&(1<<k) != 0 {
					if !first {
						b = append(b, ',')
					}
					first = false
					b = appendStr(b, l)
				}
			}
		}
		return append(b, ']'), true
	case "components":
		b = append(b, '[')
		first := true
		for k, c := range projects[is.project].components {
			if is.components&(1<<k) == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			id := componentID(int(is.project), k)
			b = append(b, `{"self":`...)
			b = appendStr(b, v.base+"/rest/api/"+v.api+"/component/"+formatInt(id))
			b = append(b, `,"id":`...)
			b = appendIntStr(b, id)
			b = append(b, `,"name":`...)
			b = appendStr(b, c)
			b = append(b, '}')
		}
		return append(b, ']'), true
	case "fixVersions":
		b = append(b, '[')
		first := true
		for k, ver := range projects[is.project].versions {
			if is.versions&(1<<k) == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			id := versionID(int(is.project), k)
			b = append(b, `{"self":`...)
			b = appendStr(b, v.base+"/rest/api/"+v.api+"/version/"+formatInt(id))
			b = append(b, `,"id":`...)
			b = appendIntStr(b, id)
			b = append(b, `,"name":`...)
			b = appendStr(b, ver.name)
			b = append(b, `,"archived":false,"released":`...)
			b = strconv.AppendBool(b, ver.released)
			b = append(b, `,"releaseDate":`...)
			b = appendStr(b, ver.releaseDate)
			b = append(b, '}')
		}
		return append(b, ']'), true
	case "parent":
		if is.parent < 0 || !s.canSee(v.user, is.parent) {
			return b, false
		}
		return s.appendIssueRef(b, v, is.parent), true
	case "subtasks":
		b = append(b, '[')
		first := true
		for c := is.firstSub; c >= 0; c = s.issues[c].nextSub {
			if !s.canSee(v.user, c) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = s.appendIssueRef(b, v, c)
		}
		return append(b, ']'), true
	case "issuelinks":
		b = append(b, '[')
		first := true
		s.eachLink(i, func(idx int32, l *link) {
			other, side := l.to, "outwardIssue"
			if l.to == i {
				other, side = l.from, "inwardIssue"
			}
			if !s.canSee(v.user, other) {
				return
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			lt := &linkTypes[l.typ]
			b = append(b, `{"id":`...)
			b = appendIntStr(b, linkID(idx))
			b = append(b, `,"self":`...)
			b = appendStr(b, v.base+"/rest/api/"+v.api+"/issueLink/"+formatInt(linkID(idx)))
			b = append(b, `,"type":`...)
			b = appendLinkType(b, v, lt)
			b = append(b, ',')
			b = appendKey(b, side)
			b = s.appendIssueRef(b, v, other)
			b = append(b, '}')
		})
		return append(b, ']'), true
	case "security":
		if !is.security {
			return b, false
		}
		b = append(b, `{"self":`...)
		b = appendStr(b, v.base+"/rest/api/"+v.api+"/securitylevel/"+formatInt(securityLevelID))
		b = append(b, `,"id":`...)
		b = appendIntStr(b, securityLevelID)
		b = append(b, `,"description":"Staff only.","name":`...)
		b = appendStr(b, securityLevelName)
		return append(b, '}'), true
	case "description":
		var text string
		has := false
		if is.ext != nil && is.ext.description != nil {
			text, has = *is.ext.description, *is.ext.description != ""
		} else if is.typ != typeSubtask {
			text, has = s.generatedDescription(i), true
		}
		if !has {
			return append(b, "null"...), true
		}
		if s.adf(v) {
			return adfDoc(b, text), true
		}
		return appendStr(b, text), true
	case "comment":
		var cs []comment
		if is.ext != nil {
			cs = is.ext.comments
		}
		b = append(b, `{"comments":[`...)
		for k := range cs {
			if k > 0 {
				b = append(b, ',')
			}
			b = s.appendComment(b, v, i, &cs[k])
		}
		b = append(b, `],"self":`...)
		b = appendStr(b, v.base+"/rest/api/"+v.api+"/issue/"+formatInt(issueID(i))+"/comment")
		b = append(b, `,"maxResults":`...)
		b = strconv.AppendInt(b, int64(len(cs)), 10)
		b = append(b, `,"total":`...)
		b = strconv.AppendInt(b, int64(len(cs)), 10)
		return append(b, `,"startAt":0}`...), true
	case fieldEpicLink:
		if s.dialect != dialectDataCenter {
			return b, false
		}
		if is.epic < 0 {
			return append(b, "null"...), true
		}
		return appendStr(b, s.key(is.epic)), true
	case fieldStoryPoints:
		if math.IsNaN(float64(is.points)) {
			return append(b, "null"...), true
		}
		return appendFloat(b, float64(is.points)), true
	case fieldRank:
		return appendStr(b, rankOf(is)), true
	case fieldSprint:
		if is.sprints == 0 {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		first := true
		for k := range sprints {
			if is.sprints&(1<<k) == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendSprint(b, &sprints[k], s.born.Unix())
		}
		return append(b, ']'), true
	}
	return b, false
}

func appendLinkType(b []byte, v view, lt *linkType) []byte {
	b = append(b, `{"id":`...)
	b = appendIntStr(b, lt.id)
	b = append(b, `,"name":`...)
	b = appendStr(b, lt.name)
	b = append(b, `,"inward":`...)
	b = appendStr(b, lt.inward)
	b = append(b, `,"outward":`...)
	b = appendStr(b, lt.outward)
	b = append(b, `,"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/issueLinkType/"+formatInt(lt.id))
	return append(b, '}')
}

// fieldSet is a parsed "fields" parameter.
type fieldSet struct {
	ids     []string // in catalog order
	idOnly  bool     // only the issue id was asked for
	keyOnly bool     // nothing beyond id and key
}

// parseFields resolves a fields parameter (comma separated, or repeated) against the
// dialect's catalog. def is used when the parameter is absent: "*all", "*navigable" or "id".
func (s *Site) parseFields(raw []string, def string) fieldSet {
	var parts []string
	for _, r := range raw {
		for _, p := range strings.Split(r, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
	}
	if len(parts) == 0 {
		parts = []string{def}
	}
	all, nav := false, false
	want := map[string]bool{}
	drop := map[string]bool{}
	for _, p := range parts {
		switch {
		case p == "*all":
			all = true
		case p == "*navigable":
			nav = true
		case strings.HasPrefix(p, "-"):
			drop[p[1:]] = true
		default:
			want[p] = true
		}
	}
	var fs fieldSet
	for _, f := range fieldsFor(s.dialect) {
		if drop[f.id] {
			continue
		}
		if all || (nav && f.navigable) || want[f.id] {
			fs.ids = append(fs.ids, f.id)
		}
	}
	fs.keyOnly = len(fs.ids) == 0
	fs.idOnly = fs.keyOnly && !want["key"] && !all && !nav && len(want) > 0 && want["id"]
	if def == "id" && fs.keyOnly && !want["key"] {
		fs.idOnly = true
	}
	return fs
}

// appendIssue renders issue i (from snapshot is) with the given fields.
func (s *Site) appendIssue(b []byte, v view, i int32, is *issue, fs fieldSet) []byte {
	b = append(b, `{"id":`...)
	b = appendIntStr(b, issueID(i))
	if fs.idOnly {
		return append(b, '}')
	}
	b = append(b, `,"key":`...)
	b = appendStr(b, projects[is.project].key+"-"+strconv.Itoa(int(is.num)))
	b = append(b, `,"self":`...)
	b = appendStr(b, v.base+"/rest/api/"+v.api+"/issue/"+formatInt(issueID(i)))
	b = append(b, `,"fields":{`...)
	first := true
	for _, id := range fs.ids {
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		b = appendKey(b, id)
		var ok bool
		b, ok = s.appendField(b, v, i, is, id)
		if !ok {
			b = b[:mark]
			continue
		}
		first = false
	}
	return append(b, `}}`...)
}
