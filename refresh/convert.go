package refresh

import (
	"encoding/json"
	"fmt"
	"strconv"

	"foundation/jira"
	"foundation/lens"
	"foundation/store"
)

// systemFields are the Jira system fields the cache keeps for every issue. Custom fields are
// added from the site's field catalog (see Engine.fields).
var systemFields = []string{
	"summary", "issuetype", "project", "status", "priority", "resolution", "resolutiondate",
	"parent", "security", "assignee", "reporter", "creator", "labels", "components",
	"fixVersions", "versions", "duedate", "created", "updated", "description", "issuelinks",
	"subtasks", "timeestimate", "timeoriginalestimate", "timespent", "environment",
}

// batch is one page of issues converted for the store.
type batch struct {
	issues []lens.Issue
	raw    []json.RawMessage      // raw[i]: issues[i]'s fields as the cache stores them
	links  map[string][]lens.Link // by issue key: the complete set read from its issuelinks
	users  map[string]store.User
	sight  *store.Sight // what the identity that read the page may browse of what it leaves out
	maxUpd int64        // newest updated in the page, ms since epoch
	maxID  int64        // highest issue id in the page
	total  int          // result size when Jira says (Data Center), else -1
}

// merge appends the next page to b.
func (b *batch) merge(o *batch) {
	b.issues = append(b.issues, o.issues...)
	b.raw = append(b.raw, o.raw...)
	for k, v := range o.links {
		b.links[k] = v
	}
	for k, v := range o.users {
		b.users[k] = v
	}
	b.sight = mergeSight(b.sight, o.sight)
	b.maxUpd = max(b.maxUpd, o.maxUpd)
	b.maxID = max(b.maxID, o.maxID)
	b.total = o.total
}

// convert turns Jira's issues into cache rows, links and users.
func convert(in []jira.Issue, wk store.WellKnown) (*batch, error) {
	b := &batch{
		issues: make([]lens.Issue, 0, len(in)),
		raw:    make([]json.RawMessage, 0, len(in)),
		links:  make(map[string][]lens.Link, len(in)),
		users:  make(map[string]store.User),
	}
	// The same few people are assignee, reporter and creator of most issues: each distinct
	// user object is read once per page.
	seen := map[string]bool{}
	for _, ji := range in {
		id, err := strconv.ParseInt(ji.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("issue %s: id %q is not a number", ji.Key, ji.ID)
		}
		// The page decoder hands over the fields object as the cache stores it; an issue
		// read another way is encoded here, off the committer.
		raw, fields := ji.Raw, ji.Fields
		if raw == nil {
			raw, fields = store.EncodeFields(ji.Fields)
		}
		is, err := store.Extract(id, ji.Key, fields, wk)
		if err != nil {
			return nil, err
		}
		b.issues = append(b.issues, is)
		b.raw = append(b.raw, raw)
		b.maxUpd = max(b.maxUpd, is.Updated.UnixMilli())
		b.maxID = max(b.maxID, id)
		if raw, ok := fields["issuelinks"]; ok {
			links, err := issueLinks(ji.Key, raw)
			if err != nil {
				return nil, err
			}
			b.links[ji.Key] = links
		}
		for _, f := range []string{"assignee", "reporter", "creator"} {
			raw := fields[f]
			if seen[string(raw)] {
				continue
			}
			seen[string(raw)] = true
			if u, ok := userOf(raw); ok {
				b.users[u.ID] = u
			}
		}
	}
	return b, nil
}

// issueLinks reads an issue's issuelinks field into links in Jira's outward direction.
func issueLinks(key string, raw json.RawMessage) ([]lens.Link, error) {
	return store.ExtractLinks(key, raw)
}

// userOf reads the personal data of a user field, which goes to the users table only.
func userOf(raw json.RawMessage) (store.User, bool) {
	return store.ExtractUser(raw)
}
