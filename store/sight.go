package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"foundation/lens"
)

// The cache of a site is shared by all its profiles, and each fills it with the issues as
// Jira shows them to that profile. Jira leaves out of an issue's issuelinks, subtasks and
// parent the issues the reader may not browse, so one profile's fetch of an issue does not
// say that links to issues it cannot see are gone. A page written with a Sight keeps them:
// the fetch speaks only for the other ends its reader can see, and the cache keeps the
// union of what its readers were shown, as DESIGN.md intends (each viewer's visibility is
// applied when reading, by lens.Build). The issue's stored fields keep the hidden entries
// too, so that a re-fetch by another reader of an issue unchanged in Jira stores the same
// bytes: no spurious update, no change-feed entry.

// Sight is what the reader of a page may browse, for deciding what the page leaves out
// because the reader cannot see it, as opposed to what is gone from Jira.
type Sight struct {
	// Projects holds the keys of the projects the reader may browse; nil when unknown.
	Projects map[string]bool
	// Issues holds, by key, whether Jira showed an issue to the reader (true) or not.
	Issues map[string]bool
}

// End is what the cache knows of an issue a page's issue refers to.
type End struct {
	Cached        bool
	Project       string // project key: the cached one, else the key's prefix
	SecurityLevel string
}

// Sees reports whether the reader can browse the issue key (whose cached row is e), and
// whether that is known. It is known from Jira's own answer, from the project when the
// reader may not browse it, and from an unsecured cached issue in a browsable project;
// anything else (a security level, an issue the cache does not hold) is not.
func (s *Sight) Sees(key string, e End) (seen, known bool) {
	if s == nil {
		return false, false
	}
	if v, ok := s.Issues[key]; ok {
		return v, true
	}
	if s.Projects == nil {
		return false, false
	}
	if !s.Projects[e.Project] {
		return false, true
	}
	if e.Cached && e.SecurityLevel == "" {
		return true, true
	}
	return false, false
}

// Unseen is an issue a page's issue referred to in the cache (by a link, as sub-task or as
// parent) that the page leaves out: a reader that can see it says it is gone, one that
// cannot says nothing about it.
type Unseen struct {
	Key string
	End
}

// Unseen lists the issues the cached versions of p's issues refer to and p leaves out,
// with what the cache knows of each: what a reader's Sight must decide before p is applied.
func (db *DB) Unseen(ctx context.Context, p Page) ([]Unseen, error) {
	var out []Unseen
	err := db.read(ctx, "unseen", func(tx *sql.Tx) error {
		ls, ends, err := leftOut(ctx, tx, db.rs, &p)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, l := range ls {
			for _, k := range l.keys() {
				if !seen[k] {
					seen[k] = true
					out = append(out, Unseen{Key: k, End: ends[k]})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unseen: %w", err)
	}
	return out, nil
}

// HasIssues reports whether the cache holds any issue: a sync into an empty cache has
// nothing its pages could leave out.
func (db *DB) HasIssues(ctx context.Context) (bool, error) {
	var has bool
	err := db.read(ctx, "has issues", func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM issues)").Scan(&has)
	})
	return has, err
}

// omission is what the cached version of p.Issues[i] refers to and p.Issues[i] does not.
type omission struct {
	i      int
	links  []lens.Link // cached links touching the issue, missing from its issuelinks
	others []string    // the other end of each of links
	parent string      // the cached parent, when the issue comes without one
	subs   []string    // cached sub-tasks missing from its subtasks
}

func (o *omission) keys() []string {
	out := append([]string(nil), o.others...)
	if o.parent != "" {
		out = append(out, o.parent)
	}
	return append(out, o.subs...)
}

// The queries leftOut runs, kept prepared on both pools (see stmtCache): parsing them
// again cost more than running them, on every edit's read-back.
const (
	// One read gives each cached issue's parent and, for those the page lists sub-tasks of,
	// the cached copy's fields, whose subtasks list is what the page may leave out.
	cachedRelationsQuery = `SELECT id, parent_key,
			CASE WHEN id IN (SELECT value FROM json_each(?2)) THEN fields END
		FROM issues WHERE id IN (SELECT value FROM json_each(?1))`
	cachedLinksQuery = `SELECT id, type, outward, inward, from_key, to_key FROM links
			WHERE from_key IN (SELECT value FROM json_each(?1)) OR to_key IN (SELECT value FROM json_each(?1)) ORDER BY id`
	linkEndsQuery = "SELECT key, project, security_level FROM issues WHERE key IN (SELECT value FROM json_each(?))"
)

// leftOut finds, for the issues of p the cache holds, the cached links, sub-tasks and
// parent p leaves out, and what the cache knows of the issues at their other end. An
// issue p carries no fields of (no issuelinks, subtasks or parent to compare) is skipped.
func leftOut(ctx context.Context, tx *sql.Tx, sc *stmtCache, p *Page) ([]omission, map[string]End, error) {
	if len(p.Issues) == 0 {
		return nil, nil, nil
	}
	ids := make([]int64, len(p.Issues))
	var subIDs []int64 // issues that come with their sub-tasks: the cached list is read too
	for i := range p.Issues {
		ids[i] = p.Issues[i].ID
		if _, ok := p.Issues[i].Fields["subtasks"]; ok {
			subIDs = append(subIDs, p.Issues[i].ID)
		}
	}
	idb, _ := json.Marshal(ids)
	sb, _ := json.Marshal(subIDs)
	rows, err := query(ctx, tx, sc, cachedRelationsQuery, string(idb), string(sb))
	if err != nil {
		return nil, nil, err
	}
	cachedParent := map[int64]string{}
	cachedSubs := map[int64][]entry{}
	for rows.Next() {
		var id int64
		var parent string
		var raw []byte
		if err := rows.Scan(&id, &parent, &raw); err != nil {
			rows.Close()
			return nil, nil, err
		}
		cachedParent[id] = parent
		if raw != nil {
			var f struct {
				Subtasks json.RawMessage `json:"subtasks"`
			}
			if json.Unmarshal(raw, &f) == nil {
				cachedSubs[id] = entries(f.Subtasks, "key")
			}
		}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	if len(cachedParent) == 0 {
		return nil, nil, nil // nothing cached: nothing left out (a first sync)
	}

	byKey := map[string]*omission{}
	var order []*omission
	var linkKeys, subKeys []string
	for i := range p.Issues {
		is := &p.Issues[i]
		parent, cached := cachedParent[is.ID]
		if !cached || is.Fields == nil {
			continue
		}
		o := &omission{i: i}
		if _, has := is.Fields["parent"]; !has && is.Parent == "" && parent != "" {
			o.parent = parent
		}
		if _, ok := p.Links[is.Key]; ok {
			linkKeys = append(linkKeys, is.Key)
		}
		if _, ok := is.Fields["subtasks"]; ok {
			subKeys = append(subKeys, is.Key)
		}
		byKey[is.Key] = o
		order = append(order, o)
	}

	if len(linkKeys) > 0 {
		kb, _ := json.Marshal(linkKeys)
		rows, err := query(ctx, tx, sc, cachedLinksQuery, string(kb))
		if err != nil {
			return nil, nil, err
		}
		var cached []lens.Link
		for rows.Next() {
			var l lens.Link
			if err := rows.Scan(&l.ID, &l.Type, &l.Outward, &l.Inward, &l.From, &l.To); err != nil {
				rows.Close()
				return nil, nil, err
			}
			cached = append(cached, l)
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
		incoming := map[string]map[int64]bool{}
		for _, k := range linkKeys {
			set := map[int64]bool{}
			for _, l := range p.Links[k] {
				set[l.ID] = true
			}
			incoming[k] = set
		}
		for _, l := range cached {
			for _, end := range [2][2]string{{l.From, l.To}, {l.To, l.From}} {
				set, ok := incoming[end[0]]
				if !ok || set[l.ID] || end[0] == end[1] {
					continue
				}
				o := byKey[end[0]]
				o.links = append(o.links, l)
				o.others = append(o.others, end[1])
			}
		}
	}

	ends := map[string]End{}
	if len(subKeys) > 0 {
		for _, parent := range subKeys {
			o := byKey[parent]
			listed := map[string]bool{}
			for _, e := range entries(p.Issues[o.i].Fields["subtasks"], "key") {
				listed[e.id] = true
			}
			for _, e := range cachedSubs[p.Issues[o.i].ID] {
				if e.id != "" && !listed[e.id] {
					o.subs = append(o.subs, e.id)
				}
			}
		}
	}

	var out []omission
	var want []string
	for _, o := range order {
		if len(o.links) == 0 && o.parent == "" && len(o.subs) == 0 {
			continue
		}
		out = append(out, *o)
		for _, k := range o.keys() {
			if _, ok := ends[k]; !ok {
				want = append(want, k)
			}
		}
	}
	if len(want) > 0 {
		kb, _ := json.Marshal(want)
		rows, err := query(ctx, tx, sc, linkEndsQuery, string(kb))
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var key string
			e := End{Cached: true}
			if err := rows.Scan(&key, &e.Project, &e.SecurityLevel); err != nil {
				rows.Close()
				return nil, nil, err
			}
			ends[key] = e
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
		for _, k := range want {
			if _, ok := ends[k]; !ok {
				ends[k] = End{Project: keyProject(k)}
			}
		}
	}
	return out, ends, nil
}

// keyProject is the project key of an issue key (PROJ-12 -> PROJ).
func keyProject(key string) string {
	if i := strings.LastIndexByte(key, '-'); i > 0 {
		return key[:i]
	}
	return key
}

// applySight puts back into p what its issues leave out only because p's reader cannot see
// it (see Sight): the cached links, parent and sub-tasks whose other end the reader cannot
// browse, or may not be shown to, stay, both as rows and in the issue's stored fields. What
// the reader can see and p leaves out is gone from Jira, and is dropped as before.
func applySight(ctx context.Context, tx *sql.Tx, sc *stmtCache, p *Page) error {
	oms, ends, err := leftOut(ctx, tx, sc, p)
	if err != nil || len(oms) == 0 {
		return err
	}
	hidden := func(k string) bool {
		seen, _ := p.Sight.Sees(k, ends[k])
		return !seen
	}
	for _, o := range oms {
		is := &p.Issues[o.i]
		keepLinks := map[string]bool{}
		var kept []lens.Link
		for j, l := range o.links {
			if hidden(o.others[j]) {
				kept = append(kept, l)
				keepLinks[fmt.Sprint(l.ID)] = true
			}
		}
		keepSubs := map[string]bool{}
		for _, k := range o.subs {
			if hidden(k) {
				keepSubs[k] = true
			}
		}
		keepParent := o.parent != "" && hidden(o.parent)
		if len(kept) == 0 && len(keepSubs) == 0 && !keepParent {
			continue
		}
		var raw []byte
		if err := tx.QueryRowContext(ctx, "SELECT fields FROM issues WHERE id = ?", is.ID).Scan(&raw); err != nil {
			return fmt.Errorf("issue %s: cached fields: %w", is.Key, err)
		}
		var cached map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cached); err != nil {
			return fmt.Errorf("issue %s: cached fields: %w", is.Key, err)
		}
		fields := make(map[string]json.RawMessage, len(is.Fields)+1)
		for k, v := range is.Fields {
			fields[k] = v
		}
		if len(kept) > 0 {
			fields["issuelinks"] = mergeEntries(fields["issuelinks"], cached["issuelinks"], "id", keepLinks)
			p.Links[is.Key] = append(append([]lens.Link(nil), p.Links[is.Key]...), kept...)
		}
		if len(keepSubs) > 0 {
			fields["subtasks"] = mergeEntries(fields["subtasks"], cached["subtasks"], "key", keepSubs)
		}
		if keepParent {
			if v, ok := cached["parent"]; ok {
				fields["parent"] = v
			}
			is.Parent = o.parent
		}
		enc, members := EncodeFields(fields)
		is.Fields = members
		if p.Raw != nil {
			p.Raw[o.i] = enc
		}
	}
	return nil
}

// entry is one element of an array field, with its identifying member (a link's id, a
// sub-task's key).
type entry struct {
	id  string
	raw json.RawMessage
}

// entries reads the elements of an array field and their member by; nil when the value is
// not an array.
func entries(raw json.RawMessage, by string) []entry {
	var els []json.RawMessage
	if json.Unmarshal(raw, &els) != nil {
		return nil
	}
	out := make([]entry, 0, len(els))
	for _, el := range els {
		var m map[string]json.RawMessage
		var id string
		if json.Unmarshal(el, &m) == nil {
			if json.Unmarshal(m[by], &id) != nil {
				id = string(m[by])
			}
		}
		out = append(out, entry{id: id, raw: el})
	}
	return out
}

// mergeEntries returns the array incoming with the elements of cached whose member by is in
// keep and that incoming lacks, each put back after the cached element it followed (or
// first): the cached order is Jira's as a reader who saw them all was given it, so a reader
// who sees less stores the same array as that one did.
func mergeEntries(incoming, cached json.RawMessage, by string, keep map[string]bool) json.RawMessage {
	in := entries(incoming, by)
	have := make(map[string]bool, len(in))
	for _, e := range in {
		have[e.id] = true
	}
	out := in
	pos := 0
	for _, c := range entries(cached, by) {
		if have[c.id] {
			for j := range out {
				if out[j].id == c.id {
					pos = j + 1
					break
				}
			}
			continue
		}
		if !keep[c.id] {
			continue
		}
		out = append(out, entry{})
		copy(out[pos+1:], out[pos:])
		out[pos] = c
		pos++
		have[c.id] = true
	}
	b := []byte{'['}
	for j, e := range out {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, e.raw...)
	}
	return append(b, ']')
}
