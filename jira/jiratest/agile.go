package jiratest

import (
	"net/http"
	"strconv"
	"strings"
)

// The Agile (Jira Software) rank endpoint. Rank is global: every issue of the site has one
// lexorank, and ranking an issue before or after another gives it a rank strictly between that
// issue and its current neighbour, leaving every other issue where it was.

// maxRankIssues is Jira's limit on the issues ranked by one request.
const maxRankIssues = 50

// rankDigits is the lexorank alphabet; it is in byte order, so ranks compare bytewise.
const rankDigits = "0123456789abcdefghijklmnopqrstuvwxyz"

type rankBody struct {
	Issues            []string `json:"issues"`
	RankBeforeIssue   string   `json:"rankBeforeIssue"`
	RankAfterIssue    string   `json:"rankAfterIssue"`
	RankCustomFieldID int64    `json:"rankCustomFieldId"`
}

// rankOf returns issue is's lexorank: the generated one until a rank operation set another.
func rankOf(is *issue) string {
	if is.ext != nil && is.ext.rank != "" {
		return is.ext.rank
	}
	return lexoRank(is.rank)
}

// rankBetween returns a rank strictly between lo and hi in byte order. lo "" is below every
// rank, hi "" above every rank; lo < hi is required when both are set. The result grows by a
// digit only when no digit fits between the neighbours at the first position they differ.
func rankBetween(lo, hi string) string {
	var out []byte
	hiOpen := hi == "" // once out is below hi at some position, hi no longer bounds the rest
	for k := 0; ; k++ {
		loEnded := k >= len(lo)
		var ca byte // below every digit when lo has ended
		if !loEnded {
			ca = lo[k]
		}
		cb := byte('z' + 1)
		if !hiOpen {
			cb = hi[k] // hi cannot end first: out equals hi's prefix and out >= lo would make lo >= hi
		}
		if !loEnded && !hiOpen && ca == cb {
			out = append(out, ca)
			continue
		}
		// A separator of lo ('|', ':') is kept rather than jumped over with a letter, so a
		// rank below "0|i0000h:" reads "0|i0000g:i" as Jira's own do.
		if !loEnded && strings.IndexByte(rankDigits, ca) < 0 {
			out = append(out, ca)
			if ca < cb {
				hiOpen = true
			}
			continue
		}
		// The digits strictly between ca and cb; '0' is never last so a later rank fits below.
		var fits []byte
		for j := 0; j < len(rankDigits); j++ {
			d := rankDigits[j]
			if d > ca && d < cb && d != '0' {
				fits = append(fits, d)
			}
		}
		if len(fits) > 0 {
			return string(append(out, fits[len(fits)/2]))
		}
		// Nothing fits here: keep lo's byte (or the lowest digit once lo has ended) and go one
		// position deeper, where hi bounds us only if we still equal its prefix.
		next := ca
		if loEnded {
			next = '0'
		}
		out = append(out, next)
		if !hiOpen && next < cb {
			hiOpen = true
		}
	}
}

// rankIssues answers PUT /rest/agile/1.0/issue/rank.
func (s *Site) rankIssues(w http.ResponseWriter, r *http.Request, c *call) {
	var body rankBody
	if !readJSON(w, r, &body) {
		return
	}
	if len(body.Issues) == 0 {
		writeErrors(w, http.StatusBadRequest, []string{"There must be at least one issue to rank."}, nil)
		return
	}
	if len(body.Issues) > maxRankIssues {
		writeErrors(w, http.StatusBadRequest, []string{"Only up to 50 issues can be ranked at once."}, nil)
		return
	}
	if (body.RankBeforeIssue == "") == (body.RankAfterIssue == "") {
		writeErrors(w, http.StatusBadRequest, []string{"Exactly one of rankBeforeIssue and rankAfterIssue must be given."}, nil)
		return
	}
	if body.RankCustomFieldID != 0 && body.RankCustomFieldID != 10019 {
		writeErrors(w, http.StatusBadRequest, []string{"The rank field with id 'customfield_" + strconv.FormatInt(body.RankCustomFieldID, 10) + "' is not a rank field."}, nil)
		return
	}
	s.mu.Lock()
	if s.refuseReadOnly(w, c, "You do not have permission to rank issues.") {
		return
	}
	anchorKey := body.RankBeforeIssue + body.RankAfterIssue
	anchor, ok := s.lookup(anchorKey)
	if !ok || !s.canSee(c.v.user, anchor) {
		s.mu.Unlock()
		writeErrors(w, http.StatusBadRequest, []string{"Issue " + anchorKey + " does not exist or you do not have permission to see it."}, nil)
		return
	}
	moving := make(map[int32]bool, len(body.Issues))
	order := make([]int32, 0, len(body.Issues))
	for _, k := range body.Issues {
		i, ok := s.lookup(k)
		if !ok || !s.canSee(c.v.user, i) {
			s.mu.Unlock()
			writeErrors(w, http.StatusBadRequest, []string{"Issue " + k + " does not exist or you do not have permission to see it."}, nil)
			return
		}
		if i == anchor {
			s.mu.Unlock()
			writeErrors(w, http.StatusBadRequest, []string{"Cannot rank issue " + k + " relative to itself."}, nil)
			return
		}
		if !moving[i] {
			moving[i] = true
			order = append(order, i)
		}
	}
	lo, hi := s.rankGap(anchor, body.RankBeforeIssue != "", moving)
	now := s.now()
	var evs []event
	for _, i := range order {
		rank := rankBetween(lo, hi)
		lo = rank
		e := s.newEdit(i, c.v)
		old := rankOf(&s.issues[i])
		e.ext.rank = rank
		e.extDirty = true
		// Jira's changelog for a rank says only which way it moved, as "Ranked higher/lower".
		to := "Ranked lower"
		if rank < old {
			to = "Ranked higher"
		}
		e.change("Rank", fieldRank, "", "", "", to)
		e.commit(now)
		evs = append(evs, e.events(c.v)...)
	}
	s.mu.Unlock()
	s.publish(evs)
	w.WriteHeader(http.StatusNoContent)
}

// rankGap returns the ranks the moved issues go between: the anchor and its neighbour on the
// requested side, skipping the issues being moved. "" stands for an open end. The caller
// holds s.mu.
func (s *Site) rankGap(anchor int32, before bool, moving map[int32]bool) (lo, hi string) {
	at := rankOf(&s.issues[anchor])
	var near string
	for j := range s.issues {
		is := &s.issues[j]
		if is.deleted || moving[int32(j)] || int32(j) == anchor {
			continue
		}
		r := rankOf(is)
		if before && r < at && (near == "" || r > near) {
			near = r
		}
		if !before && r > at && (near == "" || r < near) {
			near = r
		}
	}
	if before {
		return near, at
	}
	return at, near
}
