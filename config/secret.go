package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyringService is the OS keyring service Foundation's secrets are stored under; the
// keyring user is the profile name (the webhook secret uses KeyringWebhookUser).
const KeyringService = "foundation"

// DefaultCmdTimeout bounds a token_cmd / secret_cmd. Long enough for a password manager
// that asks for a passphrase through its own agent, short enough not to hang a refresh.
const DefaultCmdTimeout = 30 * time.Second

// maxStderr caps how much of a failing command's stderr goes into an error message.
const maxStderr = 2048

// Secret is a secret value. It prints as <redacted> under every fmt verb and in JSON, so a
// secret that reaches a log or an error by accident still does not leak.
type Secret string

func (Secret) String() string                  { return "<redacted>" }
func (Secret) GoString() string                { return `"<redacted>"` }
func (Secret) Format(f fmt.State, verb rune)   { formatSafe(f, verb, "<redacted>") }
func (Secret) MarshalJSON() ([]byte, error)    { return []byte(`"<redacted>"`), nil }
func (Secret) MarshalText() ([]byte, error)    { return []byte("<redacted>"), nil }
func (s Secret) reveal() string                { return string(s) }
func (s Secret) isSet() bool                   { return s != "" }
func (r SecretRef) Format(f fmt.State, _ rune) { formatSafe(f, 's', r.String()) }

// SecretRef says where a secret comes from. Exactly one of its fields is set.
type SecretRef struct {
	Env     string // name of an environment variable holding the secret
	Cmd     string // shell command printing the secret on stdout
	Keyring bool   // stored in the OS keyring
	Plain   Secret // written in the config file itself (discouraged: Load warns)
}

// IsSet reports whether any source is configured.
func (r SecretRef) IsSet() bool { return r.Env != "" || r.Cmd != "" || r.Keyring || r.Plain.isSet() }

// count is the number of sources set; validation wants exactly one.
func (r SecretRef) count() int {
	n := 0
	for _, set := range []bool{r.Env != "", r.Cmd != "", r.Keyring, r.Plain.isSet()} {
		if set {
			n++
		}
	}
	return n
}

// String names the source, never the secret.
func (r SecretRef) String() string {
	var parts []string
	if r.Env != "" {
		parts = append(parts, "env:"+r.Env)
	}
	if r.Cmd != "" {
		parts = append(parts, fmt.Sprintf("cmd:%q", r.Cmd))
	}
	if r.Keyring {
		parts = append(parts, "keyring")
	}
	if r.Plain.isSet() {
		parts = append(parts, "plain:<redacted>")
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// SecretError is a secret that could not be read. Field is the config path of the source
// (sites.acme.token_env); the message names the variable or command, never a secret.
type SecretError struct {
	Field  string
	Reason string
	Err    error
}

func (e *SecretError) Error() string {
	msg := e.Field + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *SecretError) Unwrap() error { return e.Err }

// ErrNotConfigured means the profile has no source for the secret asked for.
var ErrNotConfigured = errors.New("not configured")

// secretNames are the config keys of one kind of secret, used in messages.
type secretNames struct {
	base                     string // the map holding the keys
	env, cmd, keyring, plain string
	keyringUser              string
}

func (s *Site) tokenNames() secretNames {
	p := "sites." + s.Name + "."
	return secretNames{base: "sites." + s.Name, env: p + "token_env", cmd: p + "token_cmd", keyring: p + "keyring", plain: p + "token", keyringUser: s.Name}
}

func (s *Site) webhookNames() secretNames {
	p := "sites." + s.Name + ".webhook."
	return secretNames{base: "sites." + s.Name + ".webhook", env: p + "secret_env", cmd: p + "secret_cmd", keyring: p + "keyring", plain: p + "secret", keyringUser: KeyringWebhookUser(s.Name)}
}

// KeyringWebhookUser is the keyring user the webhook secret of profile name is stored under.
func KeyringWebhookUser(name string) string { return name + ":webhook" }

// Token reads the profile's API token (Cloud) or personal access token (Data Center).
func (s *Site) Token(ctx context.Context) (string, error) {
	return s.resolve(ctx, s.TokenSource, s.tokenNames())
}

// WebhookSecret reads the secret webhook signatures are checked with. Without a configured
// source it returns a *SecretError wrapping ErrNotConfigured.
func (s *Site) WebhookSecret(ctx context.Context) (string, error) {
	return s.resolve(ctx, s.WebhookSource, s.webhookNames())
}

func (s *Site) resolve(ctx context.Context, ref SecretRef, n secretNames) (string, error) {
	switch {
	case ref.Env != "":
		lookup := s.env
		if lookup == nil {
			lookup = OSEnv()
		}
		v, ok := lookup(ref.Env)
		if !ok || v == "" {
			return "", &SecretError{Field: n.env, Reason: fmt.Sprintf("environment variable %s is not set", ref.Env)}
		}
		return v, nil
	case ref.Cmd != "":
		timeout := s.cmdTimeout
		if timeout <= 0 {
			timeout = DefaultCmdTimeout
		}
		v, err := runSecretCmd(ctx, ref.Cmd, timeout)
		if err != nil {
			return "", &SecretError{Field: n.cmd, Reason: fmt.Sprintf("command %q", ref.Cmd), Err: err}
		}
		return v, nil
	case ref.Keyring:
		v, err := keyring.Get(KeyringService, n.keyringUser)
		if errors.Is(err, keyring.ErrNotFound) {
			return "", &SecretError{Field: n.keyring, Reason: fmt.Sprintf("no secret stored in the OS keyring (service %q, user %q); run foundation site add %s --keyring again", KeyringService, n.keyringUser, s.Name), Err: err}
		}
		if err != nil {
			return "", &SecretError{Field: n.keyring, Reason: "reading the OS keyring", Err: err}
		}
		return v, nil
	case ref.Plain.isSet():
		return ref.Plain.reveal(), nil
	}
	return "", &SecretError{Field: n.base, Reason: "no secret source", Err: ErrNotConfigured}
}

// runSecretCmd runs command through sh and returns its trimmed stdout. Only stderr may go
// into the error: stdout is the secret, even when the command fails half way.
func runSecretCmd(ctx context.Context, command string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedWriter{buf: &stderr, max: maxStderr}
	// A grandchild that keeps the pipes open must not keep us waiting past the timeout.
	cmd.WaitDelay = time.Second
	killGroupOnCancel(cmd)
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return "", fmt.Errorf("timed out after %s%s", timeout, stderrSuffix(stderr.String()))
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%w%s", err, stderrSuffix(stderr.String()))
	}
	v := strings.TrimSpace(stdout.String())
	if v == "" {
		return "", fmt.Errorf("printed nothing on stdout%s", stderrSuffix(stderr.String()))
	}
	return v, nil
}

func stderrSuffix(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "; stderr: " + s
}

// limitedWriter keeps the first max bytes and drops the rest, so a chatty command cannot
// grow an error message without bound.
type limitedWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		if len(p) > room {
			w.buf.Write(p[:room])
			w.buf.WriteString("...")
		} else {
			w.buf.Write(p)
		}
	}
	return len(p), nil
}

// StoreToken saves the token of profile name in the OS keyring.
func StoreToken(name, token string) error {
	if err := keyring.Set(KeyringService, name, token); err != nil {
		return fmt.Errorf("store token of %s in the OS keyring: %w", name, err)
	}
	return nil
}

// StoreWebhookSecret saves the webhook secret of profile name in the OS keyring.
func StoreWebhookSecret(name, secret string) error {
	if err := keyring.Set(KeyringService, KeyringWebhookUser(name), secret); err != nil {
		return fmt.Errorf("store webhook secret of %s in the OS keyring: %w", name, err)
	}
	return nil
}

// DeleteStoredToken removes the token of profile name from the OS keyring, leaving its
// webhook secret. Nothing stored is not an error.
func DeleteStoredToken(name string) error {
	if err := keyring.Delete(KeyringService, name); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("delete %s/%s from the OS keyring: %w", KeyringService, name, err)
	}
	return nil
}

// DeleteStoredSecrets removes whatever the OS keyring holds for profile name. Nothing stored
// is not an error.
func DeleteStoredSecrets(name string) error {
	var errs []error
	for _, user := range []string{name, KeyringWebhookUser(name)} {
		if err := keyring.Delete(KeyringService, user); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			errs = append(errs, fmt.Errorf("delete %s/%s from the OS keyring: %w", KeyringService, user, err))
		}
	}
	return errors.Join(errs...)
}
