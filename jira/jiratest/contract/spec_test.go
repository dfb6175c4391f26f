package contract

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedSpec is where the spec sits when the repo is checked out beside ../shared.
var sharedSpec = filepath.Join("..", "..", "..", "..", "shared", "jira", "platform-openapi-v3.json")

func TestEmbeddedSpecMatchesShared(t *testing.T) {
	want, err := os.ReadFile(sharedSpec)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not present (clean clone): nothing to compare against", sharedSpec)
	}
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(specGzip))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("embedded platform-openapi-v3.json.gz (%d bytes unpacked) differs from %s (%d bytes); refresh it with\n"+
			"  gzip -9 -n -c %s > jira/jiratest/contract/platform-openapi-v3.json.gz", len(got), sharedSpec, len(want), sharedSpec)
	}
}

func mustLoad(t testing.TB) *Spec {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

type exchange struct {
	method, target, reqCT, reqBody string
	status                         int    // 0: validate the request alone
	respCT, respBody               string // respCT "" sends no Content-Type
}

func (x exchange) build() (*http.Request, []byte, *http.Response, []byte) {
	req := httptest.NewRequest(x.method, "http://127.0.0.1:8089"+x.target, strings.NewReader(x.reqBody))
	if x.reqCT != "" {
		req.Header.Set("Content-Type", x.reqCT)
	}
	if x.status == 0 {
		return req, []byte(x.reqBody), nil, nil
	}
	resp := &http.Response{StatusCode: x.status, Header: http.Header{}, Request: req}
	if x.respCT != "" {
		resp.Header.Set("Content-Type", x.respCT)
	}
	return req, []byte(x.reqBody), resp, []byte(x.respBody)
}

const (
	jsonCT    = "application/json"
	jsonUTF   = "application/json;charset=UTF-8"
	alice     = `{"accountId":"5b10a2844c20165700ede21g","accountType":"atlassian","active":true,"displayName":"Alice","emailAddress":"alice@example.com","timeZone":"UTC","self":"http://127.0.0.1:8089/rest/api/3/user?accountId=5b10a2844c20165700ede21g"}`
	notFound  = `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`
	goneError = `{"errorMessages":["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."],"errors":{}}`
)

func TestValidateExchange(t *testing.T) {
	s := mustLoad(t)
	tests := []struct {
		name     string
		x        exchange
		wantErr  string // substring of the error; "" means valid
		inSpec   bool   // for errors: false means ErrNotInSpec
		reqFault bool   // the MismatchError has Status 0
	}{
		{name: "myself ok", x: exchange{method: "GET", target: "/rest/api/3/myself?expand=groups", status: 200, respCT: jsonUTF, respBody: alice}},
		{name: "myself accountId not a string", x: exchange{method: "GET", target: "/rest/api/3/myself", status: 200, respCT: jsonCT,
			respBody: `{"accountId":42,"displayName":"Alice"}`}, wantErr: "accountId", inSpec: true},
		{name: "myself unknown property", x: exchange{method: "GET", target: "/rest/api/3/myself", status: 200, respCT: jsonCT,
			respBody: `{"accountId":"a","login":"alice"}`}, wantErr: "login", inSpec: true},
		{name: "myself undocumented status", x: exchange{method: "GET", target: "/rest/api/3/myself", status: 418, respCT: jsonCT,
			respBody: `{"errorMessages":[],"errors":{}}`}, wantErr: "status is not supported", inSpec: true},
		{name: "myself wrong content type", x: exchange{method: "GET", target: "/rest/api/3/myself", status: 200, respCT: "text/html",
			respBody: "<html></html>"}, wantErr: "Content-Type", inSpec: true},

		{name: "search/jql ok", x: exchange{method: "POST", target: "/rest/api/3/search/jql", reqCT: jsonCT,
			reqBody: `{"jql":"project = ALPHA ORDER BY key","maxResults":50,"fields":["summary","status"],"nextPageToken":"abc"}`,
			status:  200, respCT: jsonCT,
			respBody: `{"issues":[{"id":"10001","key":"ALPHA-1","self":"http://x/rest/api/3/issue/10001","fields":{"summary":"s"}}],"isLast":false,"nextPageToken":"def"}`}},
		{name: "search/jql maxResults as string", x: exchange{method: "POST", target: "/rest/api/3/search/jql", reqCT: jsonCT,
			reqBody: `{"jql":"project = ALPHA","maxResults":"50"}`, status: 200, respCT: jsonCT, respBody: `{"issues":[],"isLast":true}`},
			wantErr: "maxResults", inSpec: true, reqFault: true},
		{name: "search/jql unknown request property", x: exchange{method: "POST", target: "/rest/api/3/search/jql", reqCT: jsonCT,
			reqBody: `{"jql":"project = ALPHA","startAt":0}`}, wantErr: "startAt", inSpec: true, reqFault: true},
		{name: "search/jql Data Center total", x: exchange{method: "POST", target: "/rest/api/3/search/jql", reqCT: jsonCT,
			reqBody: `{"jql":"project = ALPHA"}`, status: 200, respCT: jsonCT, respBody: `{"issues":[],"isLast":true,"total":0}`},
			wantErr: "total", inSpec: true},
		{name: "search/jql 400 ErrorCollection", x: exchange{method: "POST", target: "/rest/api/3/search/jql", reqCT: jsonCT,
			reqBody: `{"jql":""}`, status: 400, respCT: jsonCT,
			respBody: `{"errorMessages":["Unbounded JQL queries are not allowed here. Please add a search restriction to your query."],"errors":{}}`}},
		{name: "search/jql 400 not an ErrorCollection", x: exchange{method: "POST", target: "/rest/api/3/search/jql", reqCT: jsonCT,
			reqBody: `{"jql":""}`, status: 400, respCT: jsonCT, respBody: `{"error":"unbounded"}`}, wantErr: "ErrorCollection", inSpec: true},
		{name: "search/jql 400 plain text", x: exchange{method: "POST", target: "/rest/api/3/search/jql", reqCT: jsonCT,
			reqBody: `{"jql":""}`, status: 400, respCT: "text/plain", respBody: "bad jql"}, wantErr: "Content-Type", inSpec: true},

		{name: "removed search 410", x: exchange{method: "GET", target: "/rest/api/2/search?jql=project%3DALPHA", status: 410, respCT: jsonCT, respBody: goneError}},
		{name: "removed search 410 bare", x: exchange{method: "POST", target: "/rest/api/3/search", reqCT: jsonCT, reqBody: `{"jql":"project = ALPHA"}`,
			status: 410, respCT: jsonCT, respBody: `{"message":"gone"}`}, wantErr: "message", inSpec: true},

		{name: "v2 field catalog ok", x: exchange{method: "GET", target: "/rest/api/2/field", status: 200, respCT: jsonCT,
			respBody: `[{"id":"customfield_10016","key":"customfield_10016","name":"Story Points","custom":true,"schema":{"type":"number","custom":"com.pyxis.greenhopper.jira:jsw-story-points","customId":10016}}]`}},
		{name: "v2 field catalog not an array", x: exchange{method: "GET", target: "/rest/api/2/field", status: 200, respCT: jsonCT,
			respBody: `{"fields":[]}`}, wantErr: "array", inSpec: true},

		{name: "edit issue 204", x: exchange{method: "PUT", target: "/rest/api/3/issue/ALPHA-1?notifyUsers=false", reqCT: jsonCT,
			reqBody: `{"fields":{"summary":"new"}}`, status: 204}},
		{name: "edit issue 204 with body", x: exchange{method: "PUT", target: "/rest/api/3/issue/ALPHA-1", reqCT: jsonCT,
			reqBody: `{"fields":{"summary":"new"}}`, status: 204, respCT: jsonCT, respBody: `{}`}, wantErr: "204", inSpec: true},
		{name: "edit issue notifyUsers not a boolean", x: exchange{method: "PUT", target: "/rest/api/3/issue/ALPHA-1?notifyUsers=nope", reqCT: jsonCT,
			reqBody: `{"fields":{"summary":"new"}}`}, wantErr: "notifyUsers", inSpec: true, reqFault: true},
		{name: "get issue 404", x: exchange{method: "GET", target: "/rest/api/3/issue/BETA-9", status: 404, respCT: jsonCT, respBody: notFound}},
		{name: "get issue 404 errors not strings", x: exchange{method: "GET", target: "/rest/api/3/issue/BETA-9", status: 404, respCT: jsonCT,
			respBody: `{"errorMessages":[],"errors":{"key":1}}`}, wantErr: "ErrorCollection", inSpec: true},

		{name: "permissions/check ok", x: exchange{method: "POST", target: "/rest/api/3/permissions/check", reqCT: jsonCT,
			reqBody: `{"projectPermissions":[{"permissions":["BROWSE_PROJECTS"],"projects":[10000],"issues":[10001,10002]}]}`,
			status:  200, respCT: jsonCT, respBody: `{"globalPermissions":[],"projectPermissions":[{"permission":"BROWSE_PROJECTS","projects":[10000],"issues":[10001]}]}`}},
		{name: "permissions/check keys instead of ids", x: exchange{method: "POST", target: "/rest/api/3/permissions/check", reqCT: jsonCT,
			reqBody: `{"projectPermissions":[{"permissions":["BROWSE_PROJECTS"],"projects":["ALPHA"]}]}`}, wantErr: "projects", inSpec: true, reqFault: true},

		// DELETE /field/{id} was declared under a second template; it must still route.
		{name: "merged path template routes", x: exchange{method: "DELETE", target: "/rest/api/3/field/customfield_10099"}},

		// Adjustments to the spec (see adjust): each accepts what Jira really sends and no more.
		{name: "Jira timestamp with +0000 offset", x: exchange{method: "GET", target: "/rest/api/3/serverInfo", status: 200, respCT: jsonCT,
			respBody: `{"baseUrl":"http://x","buildDate":"2020-03-26T22:20:59.000+0000","serverTime":"2020-03-31T16:43:50.000Z","buildNumber":582,"deploymentType":"Cloud","defaultLocale":{"locale":"en_AU"}}`}},
		{name: "timestamp that is no timestamp", x: exchange{method: "GET", target: "/rest/api/3/serverInfo", status: 200, respCT: jsonCT,
			respBody: `{"baseUrl":"http://x","buildDate":"26/03/2020 22:20"}`}, wantErr: "buildDate", inSpec: true},
		{name: "null issue field values", x: exchange{method: "GET", target: "/rest/api/3/issue/ALPHA-1", status: 200, respCT: jsonCT,
			respBody: `{"id":"10000","key":"ALPHA-1","fields":{"assignee":null,"customfield_10016":null}}`}},
		{name: "null where the spec gives a type", x: exchange{method: "GET", target: "/rest/api/3/myself", status: 200, respCT: jsonCT,
			respBody: `{"accountId":null}`}, wantErr: "accountId", inSpec: true},
		{name: "bulkfetch expand", x: exchange{method: "POST", target: "/rest/api/3/issue/bulkfetch", reqCT: jsonCT,
			reqBody: `{"issueIdsOrKeys":["ALPHA-1"],"fields":["summary"]}`, status: 200, respCT: jsonCT, respBody: `{"expand":"schema,names","issues":[],"issueErrors":[]}`}},
		{name: "issue link created without a body", x: exchange{method: "POST", target: "/rest/api/3/issueLink", reqCT: jsonCT,
			reqBody: `{"type":{"name":"Blocks"},"inwardIssue":{"key":"ALPHA-1"},"outwardIssue":{"key":"ALPHA-2"}}`, status: 201}},
		{name: "issue created without a body", x: exchange{method: "POST", target: "/rest/api/3/issue", reqCT: jsonCT,
			reqBody: `{"fields":{"summary":"x"}}`, status: 201}, wantErr: "Content-Type", inSpec: true},

		{name: "unknown path", x: exchange{method: "GET", target: "/rest/api/3/no-such-thing", status: 200, respCT: jsonCT, respBody: `{}`},
			wantErr: "no operation", inSpec: false, reqFault: true},
		{name: "unknown method", x: exchange{method: "PATCH", target: "/rest/api/3/myself"}, wantErr: "no operation", inSpec: false, reqFault: true},
		{name: "admin webhooks are not in the platform spec", x: exchange{method: "GET", target: "/rest/webhooks/1.0/webhook"},
			wantErr: "no operation", inSpec: false, reqFault: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, reqBody, resp, respBody := tt.x.build()
			err := s.ValidateExchange(req, reqBody, resp, respBody)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error mentioning %q, got none", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error does not mention %q:\n%v", tt.wantErr, err)
			}
			if got := errors.Is(err, ErrNotInSpec); got == tt.inSpec {
				t.Errorf("errors.Is(err, ErrNotInSpec) = %v, want %v", got, !tt.inSpec)
			}
			var mm *MismatchError
			if !errors.As(err, &mm) {
				t.Fatalf("error is not a *MismatchError: %T %v", err, err)
			}
			if mm.Method != tt.x.method || !strings.HasPrefix(tt.x.target, mm.Path) {
				t.Errorf("MismatchError names %s %s, want %s %s", mm.Method, mm.Path, tt.x.method, tt.x.target)
			}
			if (mm.Status == 0) != tt.reqFault {
				t.Errorf("MismatchError.Status = %d, request at fault = %v", mm.Status, tt.reqFault)
			}
		})
	}
}

func TestLoadReturnsIndependentSpecs(t *testing.T) {
	a, b := mustLoad(t), mustLoad(t)
	if a == b || a.Recorder() == b.Recorder() {
		t.Fatal("Load returned shared mutable state")
	}
	a.Ignore("/rest/webhooks/")
	if !a.ignored("/rest/webhooks/1.0/webhook") {
		t.Error("Ignore had no effect")
	}
	if b.ignored("/rest/webhooks/1.0/webhook") {
		t.Error("Ignore on one Spec leaked into another")
	}
}

func TestSpecPath(t *testing.T) {
	for in, want := range map[string]string{
		"/rest/api/2/field":                  "/rest/api/3/field",
		"/rest/api/latest/issue/ALPHA-1":     "/rest/api/3/issue/ALPHA-1",
		"/rest/api/3/search/jql":             "/rest/api/3/search/jql",
		"/rest/webhooks/1.0/webhook":         "/rest/webhooks/1.0/webhook",
		"/rest/api/22/field":                 "/rest/api/22/field",
		"/rest/agile/1.0/board/1/rest/api/2": "/rest/agile/1.0/board/1/rest/api/2",
	} {
		if got := specPath(in); got != want {
			t.Errorf("specPath(%q) = %q, want %q", in, got, want)
		}
	}
}
