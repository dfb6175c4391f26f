package jiratest

import (
	"encoding/json"
	"math"
	"testing"
)

// FuzzPageToken: any string given as nextPageToken decodes or fails cleanly, and a token
// we issue always decodes back to what it encodes.
func FuzzPageToken(f *testing.F) {
	f.Add(uint64(1), 0, "k", "")
	f.Add(uint64(99), 5000, "user\x00jql", "Mi4zLmxneTE4ag")
	f.Fuzz(func(t *testing.T, id uint64, offset int, key, garbage string) {
		if offset < 0 {
			offset = -offset
		}
		if offset < 0 {
			return
		}
		tok := encodeToken(id, offset, key)
		gotID, gotOff, check, err := decodeToken(tok)
		if err != nil || gotID != id || gotOff != offset || check != tokenCheck(key) {
			t.Fatalf("round trip of (%d, %d): %d %d %v", id, offset, gotID, gotOff, err)
		}
		if _, off, _, err := decodeToken(garbage); err == nil && off < 0 {
			t.Fatalf("negative offset from %q", garbage)
		}
	})
}

// FuzzCountIssues: the wire-floor byte scanner agrees with a JSON decoder on every
// well-formed search response and never panics on malformed ones.
func FuzzCountIssues(f *testing.F) {
	f.Add([]byte(`{"issues":[{"id":"1"},{"id":"2","fields":{"summary":"a } ] \" {"}}],"isLast":true}`))
	f.Add([]byte(`{"startAt":0,"maxResults":1,"total":1,"issues":[]}`))
	f.Add([]byte(`{"issues":[`))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := countIssues(body)
		var resp struct {
			Issues []json.RawMessage `json:"issues"`
		}
		if json.Unmarshal(body, &resp) != nil || resp.Issues == nil || err != nil {
			return
		}
		objects := 0
		for _, is := range resp.Issues {
			if len(is) > 0 && is[0] == '{' {
				objects++
			}
		}
		if objects == len(resp.Issues) && n != objects {
			t.Fatalf("counted %d issues, decoder found %d in %s", n, objects, body)
		}
	})
}

// FuzzEditBody: arbitrary edit bodies never panic and never leave a half-applied edit.
func FuzzEditBody(f *testing.F) {
	f.Add(`{"fields":{"summary":"x"}}`)
	f.Add(`{"update":{"labels":[{"add":"a"},{"remove":"b"}],"parent":[{"set":{"none":true}}]}}`)
	f.Add(`{"fields":{"customfield_10016":"NaN","duedate":"2020-13-45","components":[{"name":"API"}]}}`)
	s, err := New(Options{Issues: 50, Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var body editBody
		if json.Unmarshal([]byte(raw), &body) != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		before := s.issues[3]
		e := s.newEdit(3, view{base: "http://x", api: "2", user: 0})
		errs := e.applyBody(0, &body)
		if !sameIssue(s.issues[3], before) {
			t.Fatal("applyBody changed the live issue before commit")
		}
		if len(errs) == 0 && len(e.items) > 0 {
			e.commit(s.now())
		}
	})
}

// sameIssue compares two issues, NaN story points (none) included.
func sameIssue(a, b issue) bool {
	if math.Float32bits(a.points) == math.Float32bits(b.points) {
		a.points, b.points = 0, 0
	}
	return a == b
}
