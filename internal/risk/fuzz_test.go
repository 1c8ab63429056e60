package risk

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSpec feeds malformed documents to the loader and audits what
// loads: both must return errors, never panic.
func FuzzParseSpec(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/rules/*/positive.yaml")
	more, _ := filepath.Glob("testdata/cases/*.yaml")
	for _, file := range append(seeds, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "null", "[]", "openapi: 3.0.0", "swagger: '2.0'", `{"openapi": 3}`, "openapi: [3]",
		"openapi: 3.0.0\npaths: {/a: {get: {parameters: [{$ref: '#/x'}]}}}",
		"openapi: 3.1.0\npaths: {/a: {$ref: '#/paths/~1a'}}",
		"swagger: '2.0'\nhost: 'a/b'\npaths: {}",
		"openapi: 3.0.0\ncomponents: {schemas: {A: {$ref: '#/components/schemas/A'}}}",
		"a: &x [*x]",
		"openapi: 3.0.0\nx-warden-ignore: [1, {rules: 5}, {rule: [x]}]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := ParseSpec(context.Background(), "fuzz.yaml", data)
		if err != nil {
			return
		}
		if _, err := Audit(context.Background(), []*Spec{spec}, Options{}); err != nil {
			t.Fatalf("Audit of a loaded spec failed: %v", err)
		}
	})
}
