package lens

import (
	"strings"
	"testing"
	"time"
)

// A formula whose checked type is a number lines up on the right, like roll-ups; text and
// values of mixed or unknown type stay on the left.
func TestFormulaNumericAlignsRight(t *testing.T) {
	for src, want := range map[string]bool{
		"points * 2":                   true,
		"len(labels)":                  true,
		"summary + '!'":                false,
		"points > 3 ? 'big' : 'small'": false,
		"days(created, now)":           false, // any: nil when a date is missing
	} {
		f, err := compileFormula(src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := f.numeric(); got != want {
			t.Errorf("%s: numeric %v, want %v", src, got, want)
		}
	}
}

// TestFormulaIntegerOverflow: integer arithmetic that overflows, or a whole number too
// large for a cell to hold exactly, is an error cell, never a wrapped or rounded number;
// floats stay floats, however large.
func TestFormulaIntegerOverflow(t *testing.T) {
	for src, want := range map[string]string{
		"9223372036854775807 + 1":                 "#ERR integer overflow: 9223372036854775807 + 1",
		"-9223372036854775807 - 2":                "#ERR integer overflow: -9223372036854775807 - 2",
		"4611686018427387904 * 2":                 "#ERR integer overflow: 4611686018427387904 * 2",
		"(len(labels) + 9223372036854775807) * 2": "#ERR integer overflow: 9223372036854775807 * 2",
		"-9223372036854775807 - 1 + 0":            "#ERR -9223372036854775808 is too large to compute exactly",
		"(-9223372036854775807 - 1) * -1":         "#ERR integer overflow: -9223372036854775808 * -1",
		"9223372036854775807":                     "#ERR 9223372036854775807 is too large to compute exactly",
		"9007199254740993 - 0":                    "#ERR 9007199254740993 is too large to compute exactly",
		"-(-9223372036854775807 - 1)":             "#ERR integer overflow: -(-9223372036854775808)",
	} {
		f, err := compileFormula(src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got := runFormula(f.prog, issueEnv(nil, nil, time.Time{}, nil, nil))
		if got.Kind != KindError || !strings.HasPrefix(got.Str, want) {
			t.Errorf("%s = %+v, want an error starting %q", src, got, want)
		}
	}
	for src, want := range map[string]float64{
		"9007199254740992 + 0":      9007199254740992,
		"-9007199254740992 * 1":     -9007199254740992,
		"9223372036854775807.0 + 1": 9223372036854775807.0,
		"1e300 * 10":                1e301,
		"7 % 3 + 2 * -3":            -5,
		"len(labels) - 1":           -1,
	} {
		f, err := compileFormula(src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got := runFormula(f.prog, issueEnv(nil, nil, time.Time{}, nil, nil))
		if got.Kind != KindNumber || got.Num != want {
			t.Errorf("%s = %+v, want %v", src, got, want)
		}
	}
}
