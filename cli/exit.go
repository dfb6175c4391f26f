package cli

import (
	"context"
	"errors"

	"foundation/jira"
	"foundation/refresh"
)

// Exit codes shared by every command (DESIGN.md, command line).
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitPartial     = 3
	ExitAuth        = 4
	ExitInterrupted = 130
)

// ExitError carries an exit code through cobra back to Main. A command returns one when the
// generic mapping in exitCode would pick the wrong code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that Main exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageError marks a bad flag or argument (exit 2).
func usageError(err error) error { return withCode(ExitUsage, err) }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var unauth *jira.UnauthorizedError
	var forbidden *jira.ForbiddenError
	var refused *refresh.AccessError // a Lens ACL said no
	if errors.As(err, &unauth) || errors.As(err, &forbidden) || errors.As(err, &refused) {
		return ExitAuth
	}
	return ExitError
}
