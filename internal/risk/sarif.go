package risk

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"
)

// The SARIF 2.1.0 types below cover the part of the OASIS schema that
// Warden writes. They are written out here because the Go SARIF libraries
// add more than they save for one output function.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool      `json:"tool"`
	Results    []sarifResult  `json:"results"`
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical     `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLoc `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLoc struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// sarifFingerprintKey names Warden's fingerprint among the result's
// partial fingerprints. Its version changes when the hash input changes.
const sarifFingerprintKey = "wardenFingerprint/v1"

// WriteSARIF writes the report as a SARIF 2.1.0 log for code scanning.
// Every rule is listed in the driver. Suppressed findings carry an
// inSource suppression, baselined findings an external one, so code
// scanning shows them as dismissed.
func (r *Report) WriteSARIF(w io.Writer, toolVersion string) error {
	rules := Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: "Warden", Version: toolVersion, InformationURI: "https://github.com/warden-api/warden", Rules: []sarifRule{}}
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules = append(driver.Rules, toSARIFRule(rule))
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	for _, f := range r.All() {
		run.Results = append(run.Results, toSARIFResult(f, index[f.RuleID]))
	}
	scores := map[string]any{}
	for _, a := range r.APIs {
		scores[a.File] = a.Score
	}
	run.Properties = map[string]any{"scores": scores}

	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	return nil
}

func toSARIFRule(rule Rule) sarifRule {
	help := rule.Description + "\n\nFix: " + rule.Fix
	markdown := fmt.Sprintf("**%s** (%s, OWASP %s %s)\n\n%s\n\n**Fix:** %s",
		rule.Title, rule.Severity, rule.Category, rule.Category.Name(), rule.Description, rule.Fix)
	return sarifRule{
		ID:                   rule.ID,
		Name:                 pascalCase(rule.Title),
		ShortDescription:     sarifText{Text: rule.Title},
		FullDescription:      sarifText{Text: rule.Description},
		Help:                 sarifText{Text: help, Markdown: markdown},
		DefaultConfiguration: sarifConfig{Level: rule.Severity.SARIFLevel()},
		Properties: map[string]any{
			"tags":                []string{"security", "owasp-api-top-10-2023", string(rule.Category)},
			"security-severity":   rule.Severity.SecuritySeverity(),
			"precision":           "medium",
			"owasp-category":      string(rule.Category),
			"owasp-category-name": rule.Category.Name(),
			"warden-severity":     rule.Severity.String(),
		},
	}
}

func toSARIFResult(f Finding, ruleIndex int) sarifResult {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(f.File)}}}
	if f.Line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
	}
	if f.Pointer != "" {
		loc.LogicalLocations = []sarifLogicalLoc{{FullyQualifiedName: f.Pointer, Kind: "member"}}
	}
	res := sarifResult{
		RuleID:              f.RuleID,
		RuleIndex:           ruleIndex,
		Level:               f.Severity.SARIFLevel(),
		Message:             sarifText{Text: f.Message},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{sarifFingerprintKey: f.Fingerprint},
		Properties:          map[string]any{"pointer": f.Pointer, "owasp-category": string(f.Category)},
	}
	switch f.Status {
	case Suppressed:
		res.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: f.Reason}}
	case Baselined:
		res.Suppressions = []sarifSuppression{{Kind: "external", Justification: strings.TrimSpace("listed in the baseline. " + f.Reason)}}
	}
	return res
}

// artifactURI returns a relative URI for relative paths, which code
// scanning resolves against the repository root, and a file URI otherwise.
func artifactURI(file string) string {
	if filepath.IsAbs(file) {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(file)}).String()
	}
	return (&url.URL{Path: filepath.ToSlash(filepath.Clean(file))}).String()
}

// pascalCase turns "Write operation without authentication" into
// "WriteOperationWithoutAuthentication", the form SARIF rule names take.
func pascalCase(title string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		rs := []rune(word)
		b.WriteRune(unicode.ToUpper(rs[0]))
		b.WriteString(string(rs[1:]))
	}
	return b.String()
}
