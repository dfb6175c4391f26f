package jira

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestCredentialsNeverPrint(t *testing.T) {
	c, err := NewCredentials("https://jira.example.com/", "ada@example.com", "s3cr3t-t0ken")
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(struct{ C Credentials }{c})
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c, c, c), string(j), c.Fingerprint([]byte("k"))} {
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, "ada@") {
			t.Errorf("credentials leak: %s", s)
		}
	}
}

func TestCredentialsFingerprint(t *testing.T) {
	mk := func(url, email, token string) Credentials {
		c, err := NewCredentials(url, email, token)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	a := mk("https://x.example.com", "a@example.com", "tok")
	if got := mk("https://x.example.com/ ", "a@example.com", "tok").Fingerprint(key); got != a.Fingerprint(key) || len(got) != FingerprintLen {
		t.Errorf("the same credentials fingerprint differently: %s %s", got, a.Fingerprint(key))
	}
	for _, other := range []Credentials{
		mk("https://y.example.com", "a@example.com", "tok"),
		mk("https://x.example.com", "b@example.com", "tok"),
		mk("https://x.example.com", "a@example.com", "tok2"),
		mk("https://x.example.com", "a@example.com", ""),
		mk("https://x.example.com", "a@example.comtok", ""), // no ambiguity from concatenation
	} {
		if other.Fingerprint(key) == a.Fingerprint(key) {
			t.Errorf("different credentials, same fingerprint")
		}
	}
	if a.Fingerprint([]byte("another cache's salt")) == a.Fingerprint(key) {
		t.Error("the salt does not change the fingerprint")
	}
	c, err := New(t.Context(), Options{BaseURL: "https://x.example.com/", Dialect: Cloud, Email: "a@example.com", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Credentials().Fingerprint(key) != a.Fingerprint(key) {
		t.Error("a client's credentials differ from NewCredentials of the same options")
	}
}
