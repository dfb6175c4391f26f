//go:build race

package store

// raceScale shrinks the multi-process workload under the race detector, which slows the
// transpiled SQLite tenfold; the contention pattern stays the same.
const raceScale = 5
