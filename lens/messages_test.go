package lens

import (
	"errors"
	"strings"
	"testing"
)

// TestDefinitionErrorsInFileOrder: the problems of a file are reported in line order,
// whichever check found them, and an empty file's are prefixed with its name like any
// other's.
func TestDefinitionErrorsInFileOrder(t *testing.T) {
	src := `name: Bad
generators:
  - insert: {jql: "project = ALPHA"}
  - extend: {by: parent}
  - sort: {by: [nosuchfield]}
views:
  - name: v
    columns:
      - field: nosuch1
      - {id: x, rollup: {op: bogus, field: story points}}
      - {id: y, formula: "nofunc(1)"}
`
	d, err := Parse("bad.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Validate(NewCatalog(nil))
	var es DefinitionErrors
	if !errors.As(err, &es) || len(es) != 4 {
		t.Fatalf("want 4 errors, got %v", err)
	}
	var lines []int
	for _, e := range es {
		lines = append(lines, e.Line)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] < lines[i-1] {
			t.Errorf("errors out of line order %v:\n%v", lines, err)
		}
	}
	for _, data := range []string{"", "\n", "# nothing yet\n"} {
		d, err := Parse("empty.yaml", []byte(data))
		if err == nil {
			err = d.Validate(NewCatalog(nil))
		}
		if err == nil || !strings.HasPrefix(err.Error(), "empty.yaml: name: a Lens needs a name") {
			t.Errorf("empty file %q: %v", data, err)
		}
	}
}
