package config

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/invopop/jsonschema"
)

// TestConfigDocUpToDate keeps docs/config.md in step with the config types:
// the reference is generated from the same doc comments as the schema.
// Run with -update to rewrite it.
func TestConfigDocUpToDate(t *testing.T) {
	r := &jsonschema.Reflector{}
	if err := r.AddGoComments("github.com/warden-api/warden/internal/config", "."); err != nil {
		t.Fatal(err)
	}
	got := generateConfigDoc(r.CommentMap)
	const path = "../../docs/config.md"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v (run with -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/config.md is out of date: run go test ./internal/config -run TestConfigDocUpToDate -update")
	}
}

const pkgPath = "github.com/warden-api/warden/internal/config"

func generateConfigDoc(comments map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString("# Config reference\n\n")
	b.WriteString("Warden reads one YAML file (`warden serve --config FILE`). Unknown fields are\n")
	b.WriteString("errors, relative file paths are resolved against the config file's directory,\n")
	b.WriteString("durations take a unit (`500ms`, `5s`, `2m`) and sizes may (`64KiB`, `10MiB`).\n")
	b.WriteString("`warden config validate FILE` runs every check that startup and reload run, and\n")
	b.WriteString("`warden config schema` prints a JSON Schema for editors.\n\n")
	b.WriteString("This page is generated from the config types (`internal/config`).\n")

	seen := map[reflect.Type]bool{}
	queue := []reflect.Type{reflect.TypeOf(Config{})}
	for len(queue) > 0 {
		typ := queue[0]
		queue = queue[1:]
		if seen[typ] {
			continue
		}
		seen[typ] = true
		fmt.Fprintf(&b, "\n## %s\n\n", typ.Name())
		if c := comments[pkgPath+"."+typ.Name()]; c != "" {
			b.WriteString(oneLine(c) + "\n\n")
		}
		b.WriteString("| Field | Type | Description |\n|---|---|---|\n")
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			desc := comments[pkgPath+"."+typ.Name()+"."+f.Name]
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, typeName(f.Type), strings.ReplaceAll(oneLine(desc), "|", "\\|"))
			if nt := namedStruct(f.Type); nt != nil && nt.PkgPath() == pkgPath {
				queue = append(queue, nt)
			}
		}
	}
	return b.Bytes()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func namedStruct(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && t.Name() != "" {
		return t
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(Duration(0)):
		return "duration"
	case t == reflect.TypeOf(ByteSize(0)):
		return "size"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem())
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeName(t.Elem())
	case t.Kind() == reflect.Struct && t.PkgPath() == pkgPath:
		return "[" + t.Name() + "](#" + strings.ToLower(t.Name()) + ")"
	case t.Kind() == reflect.Struct:
		return "string (secret)"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "integer"
	}
	return t.Kind().String()
}
