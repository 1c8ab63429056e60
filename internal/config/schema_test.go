package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/invopop/jsonschema"
	jsv "github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite schema.json from the config types")

func TestSchemaUpToDate(t *testing.T) {
	r := &jsonschema.Reflector{}
	if err := r.AddGoComments("github.com/warden-api/warden/internal/config", "."); err != nil {
		t.Fatalf("reading doc comments: %v", err)
	}
	got, err := generateSchema(r)
	if err != nil {
		t.Fatalf("generating schema: %v", err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile("schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, Schema()) {
		t.Fatal("schema.json is out of date: run go test ./internal/config -run TestSchemaUpToDate -update")
	}
}

// TestSchemaAcceptsTestdata checks that the published schema accepts the
// valid fixture and rejects an unknown field, as the loader does.
func TestSchemaAcceptsTestdata(t *testing.T) {
	doc, err := jsv.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsv.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compiling schema: %v", err)
	}
	tests := []struct {
		file  string
		valid bool
	}{
		{"testdata/minimal.yaml", true},
		{"testdata/bad-fields.yaml", false},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(v)
		inst, _ := jsv.UnmarshalJSON(bytes.NewReader(j))
		err = sch.Validate(inst)
		if tt.valid && err != nil {
			t.Errorf("%s: schema rejects a valid config: %v", tt.file, err)
		}
		if !tt.valid && err == nil {
			t.Errorf("%s: schema accepts an invalid config", tt.file)
		}
	}
}
