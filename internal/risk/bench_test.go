package risk

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

const stripeSpec = corpusSpecs + "/stripe-spec3-2023-09-12.yaml"

// BenchmarkAuditLargeSpec loads and audits the 4.2 MB Stripe description
// from the corpus, or a generated description of about 5 MB when the
// corpus is absent.
func BenchmarkAuditLargeSpec(b *testing.B) {
	name, data := stripeSpec, []byte(nil)
	if d, err := os.ReadFile(stripeSpec); err == nil {
		data = d
	} else {
		b.Logf("corpus not found at %s (%v): using a generated description", stripeSpec, err)
		name, data = "generated.yaml", generateSpec(5<<20)
	}
	b.SetBytes(int64(len(data)))
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		spec, err := ParseSpec(ctx, name, data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Audit(ctx, []*Spec{spec}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// generateSpec returns an OpenAPI 3.0 description of at least size bytes
// with many paths, parameters and shared schemas.
func generateSpec(size int) []byte {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: Generated, version: '1.0'}\nservers: [{url: 'https://api.example.com'}]\n")
	b.WriteString("security: [{key: []}]\ncomponents:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: X-API-Key}\n  schemas:\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "    Thing%d:\n      type: object\n      properties:\n", i)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, "        field%d: {type: string, description: 'field %d of thing %d'}\n", j, j, i)
		}
		fmt.Fprintf(&b, "        owner: {$ref: '#/components/schemas/Thing%d'}\n", (i+1)%200)
	}
	b.WriteString("paths:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  /things%d/{thingId}:\n    get:\n      operationId: getThing%d\n", i, i)
		b.WriteString("      parameters:\n        - {name: thingId, in: path, required: true, schema: {type: integer}}\n")
		b.WriteString("        - {name: limit, in: query, schema: {type: integer}}\n")
		fmt.Fprintf(&b, "      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Thing%d'}\n", i%200)
		fmt.Fprintf(&b, "    put:\n      operationId: putThing%d\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/Thing%d'}\n", i, i%200)
		b.WriteString("      responses: {'204': {description: updated}}\n")
	}
	return []byte(b.String())
}

func TestGenerateSpecLoads(t *testing.T) {
	spec, err := ParseSpec(context.Background(), "generated.yaml", generateSpec(256<<10))
	if err != nil {
		t.Fatalf("ParseSpec: %v", err)
	}
	report, err := Audit(context.Background(), []*Spec{spec}, Options{})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if got := countRule(report.All(), idSequentialID); got == 0 {
		t.Errorf("generated description has no %s finding, want one per path", idSequentialID)
	}
}
