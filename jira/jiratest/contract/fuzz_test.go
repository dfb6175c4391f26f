package contract

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzValidateResponse feeds arbitrary bodies and content types to the response validator:
// it must never panic, and whatever it rejects it rejects as a *MismatchError naming the
// exchange.
func FuzzValidateResponse(f *testing.F) {
	s, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("/rest/api/3/myself", 200, "application/json", alice)
	f.Add("/rest/api/3/issue/ALPHA-1", 200, "application/json", `{"id":"1","key":"ALPHA-1","fields":{"assignee":null}}`)
	f.Add("/rest/api/3/issue/ALPHA-1", 404, "application/json", notFound)
	f.Add("/rest/api/2/field", 200, "application/json;charset=UTF-8", `[{"id":"summary"}]`)
	f.Add("/rest/api/3/serverInfo", 200, "application/json", `{"buildDate":"2020-03-26T22:20:59.000+0000"}`)
	f.Add("/rest/api/3/search", 410, "text/html", "<html>")
	f.Fuzz(func(t *testing.T, path string, status int, ct, body string) {
		if status < 100 || status > 599 || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#%") {
			t.Skip()
		}
		req, err := http.NewRequest("GET", "http://127.0.0.1"+path, nil)
		if err != nil {
			t.Skip() // not a request a client could send
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ct}}}
		err = s.ValidateExchange(req, nil, resp, []byte(body))
		var mm *MismatchError
		if err != nil && !errors.As(err, &mm) {
			t.Fatalf("error is not a *MismatchError: %T %v", err, err)
		}
	})
}
