//go:build unix

package cli

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process has used so far; 0 when the
// kernel will not say, which leaves the CPU ratios unreported.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
