package lens

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func yamlDoc(t *testing.T, src []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSchemaAcceptsExamples validates every example, every test Lens and their formatted
// form against the published schema.
func TestSchemaAcceptsExamples(t *testing.T) {
	s := compileSchema(t)
	srcs := map[string][]byte{}
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[filepath.Base(f)] = b
	}
	for _, tc := range generatorCases {
		srcs[tc.name] = []byte(tc.yaml)
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(yamlDoc(t, src)); err != nil {
				t.Fatalf("schema rejects %s: %v", name, err)
			}
			d, err := Parse(name, src)
			if err != nil {
				t.Fatal(err)
			}
			out, err := d.Format()
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(yamlDoc(t, out)); err != nil {
				t.Fatalf("schema rejects formatted %s: %v", name, err)
			}
		})
	}
}

// TestSchemaRejects checks that the schema refuses what Parse or Validate refuse.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	cat := NewCatalog(testFields)
	for _, src := range []string{
		"description: no name\n",
		"name: x\nbogus: 1\n",
		"name: x\ngenerators: [{extend: {by: childs}}]\n",
		"name: x\ngenerators: [{insert: {keys: [A-1]}, sort: {by: [key]}}]\n",
		"name: x\ngenerators: [{insert: {}}]\n",
		"name: x\nacl: [{principal: team:x, level: view}]\n",
		"name: x\nviews: [{name: v, columns: [{field: key, formula: \"1\"}]}]\n",
		"name: x\nviews: [{name: v, columns: [{rollup: {op: median, field: x}}]}]\n",
		"name: x\nviews: [{name: v, columns: [{field: key}], format: [{column: key, op: \"~\", style: {}}]}]\n",
		"name: x\nviews: [{name: v, columns: [{field: key}], format: [{column: key, op: \"=\", style: {fg: chartreuse}}]}]\n",
	} {
		if err := s.Validate(yamlDoc(t, []byte(src))); err == nil {
			t.Errorf("schema accepts %q", src)
		}
		d, err := Parse("x.yaml", []byte(src))
		if err == nil {
			err = d.Validate(cat)
		}
		if err == nil {
			t.Errorf("Parse+Validate accept %q", src)
		}
	}
}
