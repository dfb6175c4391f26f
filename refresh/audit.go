package refresh

// The audit log's shape: the actions Lens and ACL changes write, and the form of every
// outcome.

import (
	"errors"

	"foundation/store"
)

// Audit actions written by Lens and ACL changes (issue edits: AuditActionEdit,
// AuditActionLink).
const (
	AuditActionLensPut    = "lens.put"
	AuditActionLensDelete = "lens.delete"
	AuditActionACL        = "acl.change"
)

// auditOutcome is the outcome an audit entry records for err, in the form the README
// documents: "ok", "conflict: …" when someone else changed it meanwhile, "failed: …".
func auditOutcome(err error) string {
	var lc *store.LensConflictError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &lc):
		return "conflict: " + err.Error()
	}
	return "failed: " + err.Error()
}
