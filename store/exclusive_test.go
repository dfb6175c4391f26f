package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestLockDelete: a cache someone has open is never deleted; a closed one goes with its
// -wal and -shm, after saying what it held.
func TestLockDelete(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "site.db")
	if _, err := Lock(ctx, path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Lock of a missing cache: %v", err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, AuditEntry{Action: "lens.apply", Target: "Roadmap"}); err != nil {
		t.Fatal(err)
	}
	// Open and idle, as a TUI or `webhook listen` between deliveries is.
	var inUse *InUseError
	if x, err := Lock(ctx, path); !errors.As(err, &inUse) {
		if x != nil {
			x.Close()
		}
		t.Fatalf("Lock while open elsewhere: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	x, err := Lock(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := x.Kept(ctx)
	if err != nil || kept != (Kept{Audit: 1}) || kept.String() != "1 audit entry" {
		t.Fatalf("Kept = %+v %q, %v", kept, kept, err)
	}
	// While locked, nothing else gets in.
	if _, err := Lock(ctx, path); !errors.As(err, &inUse) {
		t.Fatalf("second Lock: %v", err)
	}
	if err := x.Delete(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived: %v", filepath.Base(p), err)
		}
	}
}
