// Package risk assesses OpenAPI descriptions, and optionally the gateway
// config that serves them, for the risks of the OWASP API Security Top 10
// (2023 edition).
//
// The assessment is static: it reads Swagger 2.0, OpenAPI 3.0 and 3.1
// documents and reports findings, each tied to a rule with a stable id, a
// severity, an OWASP category, and a JSON pointer and line in the source
// file. Findings roll up into a score per API. Scores are built from
// factors, so findings from live traffic can be added to a Score later
// without changing its type.
package risk

import (
	"fmt"
	"strings"
)

// Severity ranks how much harm a finding can do. The zero value is Info.
type Severity int

// Severities from least to most harmful.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lowercase name, such as "high".
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity parses a severity name, ignoring case.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("invalid severity %q: use one of %s", name, strings.Join(severityNames[:], ", "))
}

// MarshalText writes the severity name, so JSON output shows "high".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a severity name.
func (s *Severity) UnmarshalText(text []byte) error {
	v, err := ParseSeverity(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// SecuritySeverity is the CVSS-like score from 0.0 to 10.0 that GitHub code
// scanning reads from a SARIF rule's "security-severity" property. GitHub
// shows 9.0 and above as critical, 7.0 to 8.9 as high, 4.0 to 6.9 as medium
// and 0.1 to 3.9 as low.
func (s Severity) SecuritySeverity() string {
	switch s {
	case Critical:
		return "9.5"
	case High:
		return "8.0"
	case Medium:
		return "5.5"
	case Low:
		return "3.0"
	default:
		return "1.0"
	}
}

// SARIFLevel is the SARIF result level for the severity.
func (s Severity) SARIFLevel() string {
	switch {
	case s >= High:
		return "error"
	case s == Medium:
		return "warning"
	default:
		return "note"
	}
}

// Category is an OWASP API Security Top 10 (2023) category.
type Category string

// The categories of the OWASP API Security Top 10, 2023 edition.
const (
	API1  Category = "API1:2023"
	API2  Category = "API2:2023"
	API3  Category = "API3:2023"
	API4  Category = "API4:2023"
	API5  Category = "API5:2023"
	API6  Category = "API6:2023"
	API7  Category = "API7:2023"
	API8  Category = "API8:2023"
	API9  Category = "API9:2023"
	API10 Category = "API10:2023"
)

var categoryNames = map[Category]string{
	API1:  "Broken Object Level Authorization",
	API2:  "Broken Authentication",
	API3:  "Broken Object Property Level Authorization",
	API4:  "Unrestricted Resource Consumption",
	API5:  "Broken Function Level Authorization",
	API6:  "Unrestricted Access to Sensitive Business Flows",
	API7:  "Server Side Request Forgery",
	API8:  "Security Misconfiguration",
	API9:  "Improper Inventory Management",
	API10: "Unsafe Consumption of APIs",
}

// Name returns the category's title, such as "Broken Authentication".
func (c Category) Name() string { return categoryNames[c] }

// Short returns the category without the edition, such as "API2".
func (c Category) Short() string { return strings.TrimSuffix(string(c), ":2023") }

// Categories lists the ten categories in order.
func Categories() []Category {
	return []Category{API1, API2, API3, API4, API5, API6, API7, API8, API9, API10}
}
