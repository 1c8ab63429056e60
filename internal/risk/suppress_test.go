package risk

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSuppressions(t *testing.T) {
	findings := auditFile(t, "testdata/cases/suppress.yaml")
	tests := []struct {
		name, rule, pointer string
		want                Status
		reason              string
	}{
		{"root map", idNoCORS, "", Suppressed, "internal API, never called from browsers"},
		{"root other rule", idNoSchemes, "", Open, ""},
		{"path item reason", idNoAuthRead, "/paths/~1health/get", Suppressed, "health checks are public by design"},
		{"operation list", idNoAuthRead, "/paths/~1things/get", Suppressed, "public catalogue"},
		{"list entry without reason", idDeprecated, "/paths/~1things/get", Open, ""},
		{"schema", idUnboundedString, "/paths/~1things/get/parameters/0/schema", Suppressed, "tags are short"},
		{"map with empty reason", idNoAuthWrite, "/paths/~1things/post", Open, ""},
		{"unknown rule", idNoAuthRead, "/paths/~1other/get", Open, ""},
		{"report of missing reason", idBadSuppression, "/paths/~1things/get/x-warden-ignore/1", Open, ""},
		{"report of empty reason", idBadSuppression, "/paths/~1things/post/x-warden-ignore/WARDEN-API2-001", Open, ""},
		{"report of unknown rule", idBadSuppression, "/paths/~1other/get/x-warden-ignore/0", Open, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := findAt(findings, tt.rule, tt.pointer)
			if f == nil {
				t.Fatalf("no %s finding at %q; got %s", tt.rule, tt.pointer, describeFindings(findings, tt.rule))
			}
			if f.Status != tt.want {
				t.Errorf("status = %s, want %s", f.Status, tt.want)
			}
			if f.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", f.Reason, tt.reason)
			}
		})
	}
}

// TestBaselineSurvivesLineMoves writes a baseline, moves every line of the
// description down, and checks that the baseline still accepts every
// finding.
func TestBaselineSurvivesLineMoves(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("testdata/cases/swagger2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "api.yaml")
	writeFile(t, file, data)
	before := auditFile(t, file)

	var buf bytes.Buffer
	if err := NewBaseline(before).Write(&buf); err != nil {
		t.Fatalf("writing baseline: %v", err)
	}
	baselineFile := filepath.Join(dir, "baseline.json")
	writeFile(t, baselineFile, buf.Bytes())
	baseline, err := ReadBaseline(baselineFile)
	if err != nil {
		t.Fatalf("ReadBaseline: %v", err)
	}

	moved := append([]byte("# a comment\n\n# that moves every line down\n"), data...)
	writeFile(t, file, moved)
	spec, err := LoadSpec(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	report, err := Audit(ctx, []*Spec{spec}, Options{Baseline: baseline})
	if err != nil {
		t.Fatal(err)
	}
	after := report.All()
	if len(after) != len(before) {
		t.Fatalf("findings after the move = %d, before = %d", len(after), len(before))
	}
	for _, f := range after {
		if f.Status != Baselined {
			t.Errorf("%s at %s: status = %s, want %s", f.RuleID, f.Pointer, f.Status, Baselined)
		}
	}
	if got := report.CountOpen(Info); got != 0 {
		t.Errorf("open findings = %d, want 0", got)
	}
	if before[0].Line == after[0].Line && before[0].Line != 0 {
		t.Errorf("line of the first finding did not move: %d", before[0].Line)
	}
}

func TestReadBaselineRejects(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"not json", "{", "parsing baseline"},
		{"wrong version", `{"version": 7, "findings": []}`, "version 7"},
		{"no fingerprint", `{"version": 1, "findings": [{"rule": "WARDEN-API2-001"}]}`, "no fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "baseline.json")
			writeFile(t, file, []byte(tt.content))
			_, err := ReadBaseline(file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadBaseline error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
