package config

import (
	_ "embed"
	"encoding/json"

	"github.com/invopop/jsonschema"
)

// schemaJSON is the JSON Schema of the config file, generated from the
// types and their doc comments by TestSchemaUpToDate with -update, because
// the comments are not available to a compiled binary.
//
//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft 2020-12) of the config file, for
// editors and CI checks.
func Schema() []byte { return schemaJSON }

// generateSchema reflects the config types into a schema. comments maps
// Go identifiers to doc comments, as filled by Reflector.AddGoComments.
func generateSchema(r *jsonschema.Reflector) ([]byte, error) {
	r.FieldNameTag = "yaml"
	r.AllowAdditionalProperties = false
	r.RequiredFromJSONSchemaTags = true
	s := r.Reflect(&Config{})
	s.ID = "https://github.com/warden-api/warden/internal/config/schema.json"
	s.Title = "Warden gateway config"
	return json.MarshalIndent(s, "", "  ")
}

// JSONSchema describes a Duration.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
		Description: "A duration with a unit, such as \"500ms\", \"5s\" or \"1h30m\".",
	}
}

// JSONSchema describes a ByteSize.
func (ByteSize) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		OneOf: []*jsonschema.Schema{
			{Type: "integer", Minimum: json.Number("0")},
			{Type: "string", Pattern: `^[0-9]+ ?(B|kB|KB|MB|GB|KiB|MiB|GiB)?$`},
		},
		Description: "A size in bytes, or with a unit such as \"64KiB\" or \"10MiB\".",
	}
}
