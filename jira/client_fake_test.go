package jira_test

// The client against the fake Jira site over real HTTP, on both dialects: paging, permissions
// as each default user, edits, and the transport under the fake's injected faults.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"foundation/jira"
	"foundation/jira/jiratest"
)

var dialects = []jira.Dialect{jira.Cloud, jira.DataCenter}

type fakeSite struct {
	site *jiratest.Site
	url  string
}

func newFake(t *testing.T, d jira.Dialect, issues int) *fakeSite {
	t.Helper()
	site, err := jiratest.New(jiratest.Options{Dialect: string(d), Issues: issues, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	t.Cleanup(site.Close)
	return &fakeSite{site: site, url: srv.URL}
}

// login connects as a default user, letting the client detect the dialect when d is "".
func (f *fakeSite) login(t *testing.T, user string, mod func(*jira.Options)) *jira.Client {
	t.Helper()
	o := jira.Options{BaseURL: f.url, Token: user + "-token", RequestsPerSecond: -1, BaseBackoff: 10 * time.Millisecond}
	if f.site.Dialect() == "cloud" {
		o.Email = user + "@example.com"
	}
	if mod != nil {
		mod(&o)
	}
	c, err := jira.New(t.Context(), o)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

const allProjects = "project in (ALPHA, BETA, GAMMA) ORDER BY id ASC"

func searchKeys(t *testing.T, c *jira.Client, req jira.SearchRequest) (keys []string, pages []jira.Page) {
	t.Helper()
	err := c.Search(t.Context(), req, func(p jira.Page) error {
		for _, is := range p.Issues {
			keys = append(keys, is.Key)
		}
		p.Issues = append([]jira.Issue(nil), p.Issues...)
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatalf("search %q: %v", req.JQL, err)
	}
	return keys, pages
}

func TestFakeDialectDetected(t *testing.T) {
	for _, d := range dialects {
		f := newFake(t, d, 10)
		if got := f.login(t, "admin", nil).Dialect(); got != d {
			t.Errorf("detected %q, want %q", got, d)
		}
	}
}

func TestFakeSearchPagingAndVisibility(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 700)
			for _, user := range []string{"admin", "alice", "bob"} {
				c := f.login(t, user, nil)
				want, err := f.site.VisibleTo(user)
				if err != nil {
					t.Fatal(err)
				}
				// Ask for more than the server serves with fields: pages come back smaller.
				keys, pages := searchKeys(t, c, jira.SearchRequest{JQL: allProjects, Fields: []string{"summary", "status"}, PageSize: 250})
				if !slices.Equal(keys, want) {
					t.Errorf("%s sees %d issues by search, the directory says %d", user, len(keys), len(want))
				}
				if len(pages) < 3 {
					t.Errorf("%s: %d pages, want several", user, len(pages))
				}
				at := 0
				for i, p := range pages {
					if len(p.Issues) > 100 {
						t.Errorf("page %d holds %d issues; the server caps at 100", i, len(p.Issues))
					}
					if p.StartAt != at {
						t.Errorf("page %d StartAt %d, want %d", i, p.StartAt, at)
					}
					at += len(p.Issues)
					wantTotal := -1
					if d == jira.DataCenter {
						wantTotal = len(want)
					}
					if p.Total != wantTotal {
						t.Errorf("page %d Total %d, want %d", i, p.Total, wantTotal)
					}
					if p.IsLast != (i == len(pages)-1) {
						t.Errorf("page %d IsLast %v", i, p.IsLast)
					}
					for _, is := range p.Issues {
						if _, ok := is.Fields["summary"]; !ok {
							t.Fatalf("%s: no summary field in %v", is.Key, is.Fields)
						}
					}
				}
			}
		})
	}
}

func TestFakeApproximateCount(t *testing.T) {
	for _, d := range dialects {
		f := newFake(t, d, 300)
		for _, user := range []string{"admin", "bob"} {
			n, err := f.login(t, user, nil).ApproximateCount(t.Context(), allProjects)
			want, _ := f.site.VisibleTo(user)
			if err != nil || n != len(want) {
				t.Errorf("%s %s: count %d %v, want %d", d, user, n, err, len(want))
			}
		}
	}
}

func TestFakeScanIDs(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 2500)
			c := f.login(t, "alice", nil)
			want, _ := f.site.VisibleTo("alice")
			var got []string
			calls := 0
			err := c.ScanIDs(t.Context(), allProjects, func(refs []jira.IssueRef) error {
				calls++
				for _, r := range refs {
					if r.ID <= 0 || r.Key == "" {
						t.Fatalf("ref %+v", r)
					}
					got = append(got, r.Key)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("scan saw %d, want %d", len(got), len(want))
			}
			// Id-only pages are large: far fewer calls than 100-issue pages would need.
			if calls > (len(want)+999)/1000 {
				t.Errorf("%d pages for %d ids", calls, len(want))
			}
		})
	}
}

func TestFakeDataCenterParallelPages(t *testing.T) {
	f := newFake(t, jira.DataCenter, 600)
	c := f.login(t, "admin", nil)
	req := jira.SearchRequest{JQL: allProjects, Fields: []string{"summary"}, PageSize: 100}
	first, next, err := c.SearchPage(t.Context(), req, "")
	if err != nil || next == "" {
		t.Fatalf("first page: next %q err %v", next, err)
	}
	size := len(first.Issues)
	pages := make([][]jira.Issue, (first.Total+size-1)/size)
	pages[0] = first.Issues
	var wg sync.WaitGroup
	errs := make(chan error, len(pages))
	for i := 1; i < len(pages); i++ {
		wg.Go(func() {
			p, _, err := c.SearchPage(t.Context(), req, strconv.Itoa(i*size))
			if err != nil {
				errs <- err
				return
			}
			pages[i] = p.Issues
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range pages {
		for _, is := range p {
			keys = append(keys, is.Key)
		}
	}
	want, _ := f.site.VisibleTo("admin")
	if !slices.Equal(keys, want) {
		t.Errorf("parallel pages gave %d keys, want %d", len(keys), len(want))
	}
}

func TestFakePermissions(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 400)
			admin := f.login(t, "admin", nil)
			projects, err := admin.Projects(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			projectIDs := map[string]int64{}
			for _, p := range projects {
				projectIDs[p.Key] = p.ID
			}
			all := f.site.Issues()
			var allIDs []string
			var allIDNums []int64
			for _, is := range all {
				allIDs = append(allIDs, strconv.FormatInt(is.ID, 10))
				allIDNums = append(allIDNums, is.ID)
			}
			browse := map[string][]string{"admin": {"ALPHA", "BETA", "GAMMA"}, "alice": {"ALPHA", "BETA"}, "bob": {"ALPHA"}}
			for user, can := range browse {
				c := f.login(t, user, nil)
				visible, _ := f.site.VisibleTo(user)
				me, err := c.Myself(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Contains(me.Groups, "jira-developers") {
					t.Errorf("%s groups %v", user, me.Groups)
				}
				// Projects the user can list.
				ps, err := c.Projects(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				var keys []string
				for _, p := range ps {
					keys = append(keys, p.Key)
				}
				if !slices.Equal(keys, can) {
					t.Errorf("%s lists projects %v, want %v", user, keys, can)
				}
				// mypermissions per project.
				for _, p := range []string{"ALPHA", "BETA", "GAMMA"} {
					perms, err := c.MyPermissions(t.Context(), jira.PermissionScope{ProjectKey: p}, "BROWSE_PROJECTS")
					if err != nil {
						t.Fatalf("%s mypermissions %s: %v", user, p, err)
					}
					if perms["BROWSE_PROJECTS"] != slices.Contains(can, p) {
						t.Errorf("%s BROWSE_PROJECTS on %s = %v", user, p, perms["BROWSE_PROJECTS"])
					}
				}
				// Bulk fetch of every id returns exactly the visible ones.
				got, err := c.BulkFetch(t.Context(), allIDs, []string{"summary"})
				if err != nil {
					t.Fatalf("%s bulk fetch: %v", user, err)
				}
				var gotKeys []string
				for _, is := range got {
					gotKeys = append(gotKeys, is.Key)
				}
				slices.SortFunc(gotKeys, func(a, b string) int { return slices.Index(visible, a) - slices.Index(visible, b) })
				if !slices.Equal(gotKeys, visible) {
					t.Errorf("%s bulk fetch gave %d issues, want %d", user, len(gotKeys), len(visible))
				}
				// GET and per-issue mypermissions agree with the directory, security levels included.
				for _, is := range all[:60] {
					seen := slices.Contains(visible, is.Key)
					_, err := c.GetIssue(t.Context(), is.Key, []string{"summary"})
					var nf *jira.NotFoundError
					if seen && err != nil || !seen && !errors.As(err, &nf) {
						t.Errorf("%s GET %s (visible %v): %v", user, is.Key, seen, err)
					}
					perms, err := c.MyPermissions(t.Context(), jira.PermissionScope{IssueKey: is.Key}, "BROWSE_PROJECTS")
					if err != nil || perms["BROWSE_PROJECTS"] != seen {
						t.Errorf("%s mypermissions %s = %v, %v; want %v", user, is.Key, perms, err, seen)
					}
				}
				// The bulk check on Cloud; Data Center says it has none.
				pids := []int64{projectIDs["ALPHA"], projectIDs["BETA"], projectIDs["GAMMA"]}
				gp, gi, err := c.CheckPermissions(t.Context(), "", "BROWSE_PROJECTS", pids, allIDNums)
				if d == jira.DataCenter {
					if !errors.Is(err, jira.ErrNotSupported) {
						t.Errorf("Data Center bulk check: %v, want ErrNotSupported", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s bulk check: %v", user, err)
				}
				for key, id := range projectIDs {
					if gp[id] != slices.Contains(can, key) {
						t.Errorf("%s bulk check project %s = %v", user, key, gp[id])
					}
				}
				for _, is := range all {
					if gi[is.ID] != slices.Contains(visible, is.Key) {
						t.Errorf("%s bulk check issue %s = %v", user, is.Key, gi[is.ID])
					}
				}
				// Checking another user (here the admin) needs Administer Jira.
				_, _, err = c.CheckPermissions(t.Context(), "61a0000000000000000000a1", "BROWSE_PROJECTS", pids, nil)
				var forbidden *jira.ForbiddenError
				if (user == "admin") != (err == nil) || (user != "admin" && !errors.As(err, &forbidden)) {
					t.Errorf("%s checking bob: %v", user, err)
				}
			}
		})
	}
}

func TestFakeBulkCheckChunksOverThousand(t *testing.T) {
	f := newFake(t, jira.Cloud, 2300)
	c := f.login(t, "bob", nil)
	all := f.site.Issues()
	ids := make([]int64, 0, len(all)+1)
	for _, is := range all {
		ids = append(ids, is.ID)
	}
	ids = append(ids, ids[0]) // a duplicate must not break the uniqueItems rule
	before := c.Stats().Requests
	_, granted, err := c.CheckPermissions(t.Context(), "", "BROWSE_PROJECTS", nil, ids)
	if err != nil {
		t.Fatal(err)
	}
	visible, _ := f.site.VisibleTo("bob")
	n := 0
	for _, ok := range granted {
		if ok {
			n++
		}
	}
	if n != len(visible) || len(granted) != len(all) {
		t.Errorf("granted %d of %d, want %d of %d", n, len(granted), len(visible), len(all))
	}
	if reqs := c.Stats().Requests - before; reqs != 3 {
		t.Errorf("%d requests for %d ids, want 3 chunks", reqs, len(all))
	}
}

func TestFakeEdits(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 200)
			alice := f.login(t, "alice", nil)
			bob := f.login(t, "bob", nil)
			ctx := t.Context()
			keys, _ := searchKeys(t, alice, jira.SearchRequest{JQL: "project = ALPHA ORDER BY key ASC", Fields: []string{"summary"}})
			key := keys[0]

			meta, err := alice.EditMeta(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !meta.Editable("summary", "set") {
				t.Fatalf("summary not editable: %+v", meta.Fields["summary"])
			}
			// Silencing notifications needs admin rights: Jira refuses it to others.
			off := false
			var forbidden *jira.ForbiddenError
			if err := alice.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"summary": "Quietly"}, NotifyUsers: &off}); !errors.As(err, &forbidden) {
				t.Errorf("alice notifyUsers=false: %v, want forbidden", err)
			}
			if err := f.login(t, "admin", nil).EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"summary": "Quietly"}, NotifyUsers: &off}); err != nil {
				t.Errorf("admin notifyUsers=false: %v", err)
			}
			on := true
			if err := alice.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"summary": "Renamed"}, NotifyUsers: &on}); err != nil {
				t.Fatal(err)
			}
			if err := alice.EditIssue(ctx, key, jira.Edit{Update: map[string][]map[string]any{"labels": {{"add": "client-test"}}}}); err != nil {
				t.Fatal(err)
			}
			is, err := alice.GetIssue(ctx, key, []string{"summary", "labels", "status"})
			if err != nil {
				t.Fatal(err)
			}
			var summary string
			var labels []string
			json.Unmarshal(is.Fields["summary"], &summary)
			json.Unmarshal(is.Fields["labels"], &labels)
			if summary != "Renamed" || !slices.Contains(labels, "client-test") {
				t.Errorf("after edit: summary %q labels %v", summary, labels)
			}

			// Both fields and update for one field is refused before any request.
			if err := alice.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"labels": []string{}}, Update: map[string][]map[string]any{"labels": {{"add": "x"}}}}); err == nil {
				t.Error("fields and update for the same field accepted")
			}
			var api *jira.APIError
			err = alice.EditIssue(ctx, key, jira.Edit{Fields: map[string]any{"customfield_99999": "x"}})
			if !errors.As(err, &api) || api.Status != 400 || len(api.Errors) == 0 {
				t.Errorf("unknown field: %v", err)
			}

			// Transitions: list with fields, take the first, see the status move.
			trs, err := alice.Transitions(ctx, key)
			if err != nil || len(trs) == 0 {
				t.Fatalf("transitions %v %v", trs, err)
			}
			if err := alice.DoTransition(ctx, key, trs[0].ID, nil); err != nil {
				t.Fatal(err)
			}
			is, _ = alice.GetIssue(ctx, key, []string{"status"})
			var status struct {
				Name string `json:"name"`
			}
			json.Unmarshal(is.Fields["status"], &status)
			if status.Name != trs[0].To.Name {
				t.Errorf("status %q after transition to %q", status.Name, trs[0].To.Name)
			}

			// Assignable users: bob browses ALPHA.
			users, err := alice.AssignableUsers(ctx, key, "bo")
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 1 || users[0].DisplayName != "Bob Brown" || users[0].ID() == "" {
				t.Errorf("assignable %+v", users)
			}

			// Bob may not touch BETA: hidden issues are not found.
			betaKeys, _ := searchKeys(t, alice, jira.SearchRequest{JQL: "project = BETA ORDER BY key ASC", Fields: []string{"summary"}})
			var nf *jira.NotFoundError
			if err := bob.EditIssue(ctx, betaKeys[0], jira.Edit{Fields: map[string]any{"summary": "x"}}); !errors.As(err, &nf) {
				t.Errorf("bob editing %s: %v, want not found", betaKeys[0], err)
			}

			// Create, link, delete.
			ref, err := alice.CreateIssue(ctx, map[string]any{
				"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Task"}, "summary": "New one",
			})
			if err != nil || !strings.HasPrefix(ref.Key, "ALPHA-") {
				t.Fatalf("create: %+v %v", ref, err)
			}
			if err := alice.CreateLink(ctx, "Blocks", ref.Key, key); err != nil {
				t.Fatal(err)
			}
			linked, err := alice.GetIssue(ctx, ref.Key, []string{"issuelinks"})
			if err != nil {
				t.Fatal(err)
			}
			var links []struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(linked.Fields["issuelinks"], &links); len(links) != 1 {
				t.Fatalf("links %s", linked.Fields["issuelinks"])
			}
			if err := alice.DeleteLink(ctx, links[0].ID); err != nil {
				t.Fatal(err)
			}
			admin := f.login(t, "admin", nil)
			if err := admin.DeleteIssue(ctx, ref.Key, false); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.GetIssue(ctx, ref.Key, nil); !errors.As(err, &nf) {
				t.Errorf("deleted issue still there: %v", err)
			}
		})
	}
}

func TestFakeCatalogs(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			c := newFake(t, d, 10).login(t, "admin", nil)
			fields, err := c.Fields(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			wk := jira.ResolveWellKnown(fields)
			if wk.StoryPoints == "" || wk.Sprint == "" || wk.Rank == "" {
				t.Errorf("well-known %+v", wk)
			}
			if (wk.EpicLink != "") != (d == jira.DataCenter) {
				t.Errorf("epic link %q on %s", wk.EpicLink, d)
			}
			lts, err := c.LinkTypes(t.Context())
			if err != nil || len(lts) < 3 {
				t.Errorf("link types %v %v", lts, err)
			}
			groups, err := c.SearchGroups(t.Context(), "jira")
			if err != nil || !slices.Contains(groups, "jira-developers") {
				t.Errorf("groups %v %v", groups, err)
			}
			users, err := c.SearchUsers(t.Context(), "ali")
			if err != nil || len(users) != 1 || users[0].Email != "alice@example.com" && users[0].DisplayName != "Alice Anders" {
				t.Errorf("users %+v %v", users, err)
			}
		})
	}
}

func TestFakeUnauthorized(t *testing.T) {
	for _, d := range dialects {
		f := newFake(t, d, 10)
		c := f.login(t, "alice", func(o *jira.Options) { o.Token = "wrong-token"; o.Dialect = d })
		_, err := c.Myself(t.Context())
		var unauth *jira.UnauthorizedError
		if !errors.As(err, &unauth) || strings.Contains(err.Error(), "wrong-token") {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestFakeFaults(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 500)
			faults := f.site.Faults()
			var mu sync.Mutex
			var events []jira.Event
			c := f.login(t, "admin", func(o *jira.Options) {
				o.OnEvent = func(e jira.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
			})
			req := jira.SearchRequest{JQL: allProjects, Fields: []string{"summary"}}
			want, _ := f.site.VisibleTo("admin")
			searchPath := "/rest/api/3/search/jql"
			if d == jira.DataCenter {
				searchPath = "/rest/api/2/search"
			}

			// A burst of 5xx on search, then dropped connections: search is read-only, so it
			// is retried and completes.
			faults.FailNext(3, 503, searchPath)
			faults.DropNext(2, searchPath)
			keys, _ := searchKeys(t, c, req)
			if !slices.Equal(keys, want) {
				t.Errorf("search under faults: %d keys, want %d", len(keys), len(want))
			}
			if st := faults.Stats(); st.Failed != 3 || st.Dropped != 2 {
				t.Errorf("fault stats %+v", st)
			}
			if st := c.Stats(); st.Retries != 5 {
				t.Errorf("client stats %+v, want 5 retries", st)
			}

			// A dropped create is not resent: it may have been created.
			before := len(f.site.Issues())
			faults.DropNext(1, "/rest/api/")
			_, err := c.CreateIssue(t.Context(), map[string]any{"project": map[string]any{"key": "ALPHA"}, "issuetype": map[string]any{"name": "Task"}, "summary": "once"})
			if err == nil {
				t.Error("dropped create reported success")
			}
			if after := len(f.site.Issues()); after > before+1 {
				t.Errorf("create sent twice: %d -> %d issues", before, after)
			}

			// A 429 storm with Beta headers: Retry-After honoured, everything arrives.
			if testing.Short() {
				return
			}
			faults.Reset()
			faults.SetRateLimit(jiratest.RateLimit{Burst: 2, PerSecond: 4, BetaHeaders: true})
			start := time.Now()
			keys, _ = searchKeys(t, c, req)
			if !slices.Equal(keys, want) {
				t.Errorf("search under rate limit: %d keys, want %d", len(keys), len(want))
			}
			st := faults.Stats()
			if st.RateLimited == 0 || c.Stats().RateLimitWaits < int64(st.RateLimited) {
				t.Errorf("rate limited %d times, client waited %d times", st.RateLimited, c.Stats().RateLimitWaits)
			}
			if took := time.Since(start); took < time.Duration(st.RateLimited)*time.Second {
				t.Errorf("%d 429s with Retry-After >= 1s done in %v: not honoured", st.RateLimited, took)
			}
			mu.Lock()
			defer mu.Unlock()
			var rl int
			for _, e := range events {
				if e.Kind == jira.EventRateLimited {
					rl++
					if e.Wait < time.Second || e.Status != 429 {
						t.Errorf("event %+v", e)
					}
				}
			}
			if rl != st.RateLimited {
				t.Errorf("%d rate-limit events for %d 429s", rl, st.RateLimited)
			}
		})
	}
}

func TestFakeCancel(t *testing.T) {
	f := newFake(t, jira.Cloud, 50)
	c := f.login(t, "admin", nil)
	f.site.Faults().SetLatency(5*time.Second, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetIssue(ctx, "ALPHA-1", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want deadline exceeded", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancel took %v", took)
	}
}

// TestFakeBulkFetchSkipsMissingKeys: a bulk read by key returns the issues that exist and
// that the caller may browse, on both dialects. Data Center reads with a `key in (...)`
// search, which Jira refuses whole when one key does not exist or is hidden.
func TestFakeBulkFetchSkipsMissingKeys(t *testing.T) {
	for _, d := range []jira.Dialect{jira.Cloud, jira.DataCenter} {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 300)
			var alpha, gamma string
			for _, is := range f.site.Issues() {
				switch {
				case alpha == "" && is.Project == "ALPHA" && is.SecurityLevel == "":
					alpha = is.Key
				case gamma == "" && is.Project == "GAMMA":
					gamma = is.Key
				}
			}
			c := f.login(t, "alice", nil) // may not browse GAMMA
			got, err := c.BulkFetch(t.Context(), []string{alpha, "ALPHA-99999", gamma, "BETA-1"}, []string{"summary"})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, is := range got {
				keys = append(keys, is.Key)
			}
			slices.Sort(keys)
			if want := []string{alpha, "BETA-1"}; !slices.Equal(keys, want) {
				t.Errorf("bulk fetch gave %v, want %v", keys, want)
			}
		})
	}
}

// TestFakeSilentSite: a site that accepts connections and never answers (the fake with a
// latency far above the limit, as a stopped Jira process) fails the client's first request,
// dialect detection, promptly and says why, on both dialects; once the site answers again,
// the same client works.
func TestFakeSilentSite(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			f := newFake(t, d, 20)
			f.site.Faults().SetLatency(time.Hour, 0)
			o := jira.Options{BaseURL: f.url, Token: "admin-token", RequestsPerSecond: -1, BaseBackoff: time.Millisecond,
				HeaderTimeout: 100 * time.Millisecond}
			if d == jira.Cloud {
				o.Email = "admin@example.com"
			}
			start := time.Now()
			_, err := jira.New(t.Context(), o)
			var te *jira.TimeoutError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), "serverInfo: Jira did not answer within 100ms (3 attempts)") {
				t.Fatalf("err %v, want dialect detection to time out", err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("gave up after %v", took)
			}

			f.site.Faults().Reset()
			c := f.login(t, "admin", func(o *jira.Options) { o.HeaderTimeout = 100 * time.Millisecond })
			f.site.Faults().SetLatency(time.Hour, 0)
			if _, err := c.GetIssue(t.Context(), "ALPHA-1", nil); !errors.As(err, &te) {
				t.Errorf("read from a silent site: %v, want a *TimeoutError", err)
			}
			f.site.Faults().Reset()
			if _, err := c.GetIssue(t.Context(), "ALPHA-1", nil); err != nil {
				t.Errorf("read once the site answers again: %v", err)
			}
		})
	}
}
