package risk

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const sarifSchemaFile = "../../../shared/corpus/suites/sarif/sarif-schema-2.1.0.json"

// TestSARIFValidates checks the SARIF output of a report with open,
// suppressed and baselined findings against the OASIS SARIF 2.1.0 schema.
func TestSARIFValidates(t *testing.T) {
	if _, err := os.Stat(sarifSchemaFile); err != nil {
		t.Skipf("SARIF schema not found at %s: %v", sarifSchemaFile, err)
	}
	c := jsonschema.NewCompiler()
	schema, err := c.Compile(sarifSchemaFile)
	if err != nil {
		t.Fatalf("compiling SARIF schema: %v", err)
	}

	report := sampleReport(t)
	report.APIs[0].Findings[0].Status = Baselined
	var buf bytes.Buffer
	if err := report.WriteSARIF(&buf, "test"); err != nil {
		t.Fatalf("WriteSARIF: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("parsing SARIF output: %v", err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("SARIF output is invalid: %v", err)
	}

	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatalf("decoding SARIF output: %v", err)
	}
	run := log.Runs[0]
	if got, want := len(run.Tool.Driver.Rules), len(Rules()); got != want {
		t.Errorf("rules = %d, want %d", got, want)
	}
	if got, want := len(run.Results), len(report.All()); got != want {
		t.Errorf("results = %d, want %d", got, want)
	}
	suppressed := 0
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d of rule %s", r.RuleID, r.RuleIndex, run.Tool.Driver.Rules[r.RuleIndex].ID)
		}
		if len(r.Suppressions) > 0 {
			suppressed++
		}
	}
	if suppressed == 0 {
		t.Errorf("no result carries a suppression, want the suppressed findings of the sample")
	}
	rule := run.Tool.Driver.Rules[0]
	if rule.Properties["security-severity"] == nil || rule.Properties["owasp-category"] == nil {
		t.Errorf("rule properties = %v, want security-severity and owasp-category", rule.Properties)
	}
}

// sampleReport audits the suppression test case, so that the report has
// open and suppressed findings.
func sampleReport(t *testing.T) *Report {
	t.Helper()
	spec, err := LoadSpec(context.Background(), "testdata/cases/suppress.yaml")
	if err != nil {
		t.Fatal(err)
	}
	report, err := Audit(context.Background(), []*Spec{spec}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return report
}
