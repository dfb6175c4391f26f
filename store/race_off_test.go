//go:build !race

package store

// raceScale: see race_on_test.go.
const raceScale = 1
