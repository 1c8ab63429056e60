package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const riskySpec = `openapi: 3.0.3
info: {title: Shop, version: "1"}
servers: [{url: "http://api.shop.test"}]
paths:
  /admin/users/{id}:
    delete:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        "204": {description: deleted}
`

const tidySpec = `openapi: 3.0.3
info: {title: Tidy, version: "1"}
servers: [{url: "https://api.tidy.test"}]
paths: {}
`

func TestAuditCommand(t *testing.T) {
	dir := t.TempDir()
	risky := filepath.Join(dir, "risky.yaml")
	tidy := filepath.Join(dir, "tidy.yaml")
	os.WriteFile(risky, []byte(riskySpec), 0o600)
	os.WriteFile(tidy, []byte(tidySpec), 0o600)

	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"risky spec fails", []string{risky}, exitFailure, "WARDEN-API"},
		{"fail-on none passes", []string{"--fail-on", "none", risky}, exitOK, ""},
		{"tidy spec passes at high", []string{tidy}, exitOK, ""},
		{"sarif", []string{"--format", "sarif", "--fail-on", "none", risky}, exitOK, `"version": "2.1.0"`},
		{"json", []string{"--format", "json", "--fail-on", "none", risky}, exitOK, `"findings"`},
		{"no spec", nil, exitUsage, ""},
		{"bad format", []string{"--format", "xml", risky}, exitUsage, ""},
		{"missing file", []string{filepath.Join(dir, "absent.yaml")}, exitFailure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), append([]string{"audit"}, tt.args...), &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit code = %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if tt.out != "" && !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("output lacks %q:\n%s", tt.out, stdout.String())
			}
			if tt.name == "sarif" {
				var doc map[string]any
				if err := json.Unmarshal([]byte(stdout.String()), &doc); err != nil {
					t.Errorf("SARIF output is not JSON: %v", err)
				}
			}
		})
	}
}
