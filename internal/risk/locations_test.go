package risk

import (
	"context"
	"testing"
)

// TestSwagger2Locations checks that findings in a Swagger 2.0 document
// point into the source document, not into its OpenAPI 3 conversion.
func TestSwagger2Locations(t *testing.T) {
	findings := auditFile(t, "testdata/cases/swagger2.yaml")
	tests := []struct {
		rule, pointer string
		line          int
	}{
		{idImplicitFlow, "/securityDefinitions/oauth", 6},
		{idAuthOverHTTP, "/schemes/1", 4},
		{idUnboundedString, "/parameters/tagParam", 13},
		{idPageSizeNoMax, "/paths/~1things/get/parameters/1", 32},
		{idPasswordInResponse, "/paths/~1things/get/responses/200/schema/properties/password", 39},
		{idMassAssignment, "/definitions/Thing/properties/role", 23},
		{idOpenBody, "/definitions/Thing", 19},
		{idUnboundedUpload, "/paths/~1uploads/post/parameters/1", 52},
		{idSwagger2, "/swagger", 1},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			f := findAt(findings, tt.rule, tt.pointer)
			if f == nil {
				t.Fatalf("no %s finding at %q; %s findings: %s", tt.rule, tt.pointer, tt.rule, describeFindings(findings, tt.rule))
			}
			if f.Line != tt.line {
				t.Errorf("line = %d, want %d", f.Line, tt.line)
			}
		})
	}
}

// TestExternalRefLocations checks that a schema defined in another file
// is reported in that file.
func TestExternalRefLocations(t *testing.T) {
	findings := auditFile(t, "testdata/cases/external/root.yaml")
	f := findAt(findings, idUnboundedString, "/properties/name")
	if f == nil {
		t.Fatalf("no %s finding at /properties/name; got %s", idUnboundedString, describeFindings(findings, idUnboundedString))
	}
	if got, want := f.File, "testdata/cases/external/thing.yaml"; got != want {
		t.Errorf("file = %q, want %q", got, want)
	}
	if got, want := f.Line, 4; got != want {
		t.Errorf("line = %d, want %d", got, want)
	}
}

func auditFile(t *testing.T, file string) []Finding {
	t.Helper()
	spec, err := LoadSpec(context.Background(), file)
	if err != nil {
		t.Fatalf("LoadSpec(%s): %v", file, err)
	}
	report, err := Audit(context.Background(), []*Spec{spec}, Options{})
	if err != nil {
		t.Fatalf("Audit(%s): %v", file, err)
	}
	return report.All()
}

func findAt(fs []Finding, rule, pointer string) *Finding {
	for i := range fs {
		if fs[i].RuleID == rule && fs[i].Pointer == pointer {
			return &fs[i]
		}
	}
	return nil
}
