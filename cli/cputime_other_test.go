//go:build !unix

package cli

import "time"

// processCPU is not measured off Unix: 0 leaves the CPU ratios unreported.
func processCPU() time.Duration { return 0 }
