package risk

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	report := sampleReport(t)
	var buf bytes.Buffer
	if err := report.WriteText(&buf); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	out := buf.String()
	for _, want := range []string{
		"HIGH (",
		"testdata/cases/suppress.yaml:25  WARDEN-API2-001 API2",
		"Suppressions (testdata/cases/suppress.yaml, OpenAPI 3.0.3): score ",
		" open, 4 suppressed, 0 in baseline",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "WARDEN-API8-005") {
		t.Errorf("text output lists the suppressed WARDEN-API8-005 finding:\n%s", out)
	}
}

func TestWriteJSON(t *testing.T) {
	report := sampleReport(t)
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	var got Report
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("decoding JSON output: %v", err)
	}
	if g, w := len(got.All()), len(report.All()); g != w {
		t.Errorf("findings = %d, want %d", g, w)
	}
	f := got.APIs[0].Findings[0]
	if f.Severity != report.APIs[0].Findings[0].Severity || f.Fingerprint == "" || f.Pointer == "" && f.Line == 0 {
		t.Errorf("first finding = %+v, want severity, fingerprint and location", f)
	}
	if !strings.Contains(buf.String(), `"severity": "high"`) {
		t.Errorf("JSON output does not write severities by name")
	}
}

func TestScore(t *testing.T) {
	finding := func(id string, s Severity, status Status) Finding {
		return Finding{RuleID: id, Severity: s, Status: status}
	}
	tests := []struct {
		name     string
		findings []Finding
		want     int
	}{
		{"none", nil, 100},
		{"one high", []Finding{finding("A", High, Open)}, 90},
		{"one medium baselined", []Finding{finding("A", Medium, Baselined)}, 96},
		{"suppressed", []Finding{finding("A", Critical, Suppressed)}, 100},
		{"info only", []Finding{finding("A", Info, Open)}, 100},
		{"repeats cost less", []Finding{finding("A", High, Open), finding("A", High, Open)}, 88},
		{"clamped", []Finding{finding("A", Critical, Open), finding("B", Critical, Open), finding("C", Critical, Open),
			finding("D", Critical, Open), finding("E", Critical, Open), finding("F", Critical, Open)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scoreFindings(tt.findings).Value; got != tt.want {
				t.Errorf("score = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestScoreAddRuntimeFactor(t *testing.T) {
	s := scoreFindings([]Finding{{RuleID: "A", Severity: High, Status: Open}})
	s.Add(Factor{Name: "credential stuffing seen", Weight: -15, Source: Runtime})
	if got, want := s.Value, 75; got != want {
		t.Errorf("score = %d, want %d", got, want)
	}
	if got := s.Factors[len(s.Factors)-1].Source; got != Runtime {
		t.Errorf("last factor source = %q, want %q", got, Runtime)
	}
}
