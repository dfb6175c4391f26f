package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Credentials are what a client signs in with: the site's base URL, the account email
// (Cloud's Basic auth; empty on Data Center) and the token. They never print: every fmt
// verb and JSON give <redacted>, and the only thing that leaves them is Fingerprint.
//
// The cache remembers who a set of credentials signed in as (refresh.ResolveViewer), bound
// to their fingerprint, so an identity Jira confirmed for one token is never lent to
// another token that happens to use the same profile name or the same cache.
type Credentials struct {
	baseURL, email, token string
}

// NewCredentials are the credentials a client built from these options would sign in with;
// the base URL is normalized as New normalizes it, so "https://x/" and "https://x" match.
func NewCredentials(baseURL, email, token string) (Credentials, error) {
	u, err := parseBaseURL(baseURL)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{baseURL: u.String(), email: email, token: token}, nil
}

// Credentials are the client's own.
func (c *Client) Credentials() Credentials { return c.cred }

// IsZero reports whether c were never set (no site, no token).
func (c Credentials) IsZero() bool { return c == Credentials{} }

// FingerprintLen is the length in hex digits of a fingerprint (128 bits).
const FingerprintLen = 32

// Fingerprint is HMAC-SHA256, keyed by key (a random salt of the cache the fingerprint is
// kept in), over the base URL, email and token, truncated to 128 bits and hex encoded.
//
// It is not the secret and does not reveal it: HMAC is one-way, so the only way back from
// a fingerprint to a token is to guess tokens and compare, and Jira API tokens and personal
// access tokens are long random strings (well over 128 bits) that no guessing reaches. The
// per-cache key makes the same token fingerprint differently in every cache, so nothing
// can be precomputed, and a fingerprint says nothing outside its cache. A low-entropy
// secret (a password used as a token) could be guessed by whoever can read the cache
// file, which is why the cache is private to its user (0600) like the config. Even so a
// fingerprint is kept out of logs, errors and the audit log: it is only ever compared.
func (c Credentials) Fingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	// Lengths first, so no two different triples hash the same bytes.
	fmt.Fprintf(m, "foundation credentials v1\x00%d:%s%d:%s%d:%s", len(c.baseURL), c.baseURL, len(c.email), c.email, len(c.token), c.token)
	return hex.EncodeToString(m.Sum(nil))[:FingerprintLen]
}

func (Credentials) String() string   { return "jira.Credentials{<redacted>}" }
func (Credentials) GoString() string { return "jira.Credentials{<redacted>}" }

// Format keeps the token out of every fmt verb, %+v and %#v included.
func (Credentials) Format(f fmt.State, _ rune) { fmt.Fprint(f, "jira.Credentials{<redacted>}") }

// MarshalJSON keeps the token out of JSON.
func (Credentials) MarshalJSON() ([]byte, error) { return []byte(`"<redacted>"`), nil }
