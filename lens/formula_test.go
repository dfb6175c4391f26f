package lens

import "testing"

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
