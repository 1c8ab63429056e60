package risk

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"path/filepath"
	"sort"
	"strings"
)

// Status is the state of a finding: open, suppressed or baselined.
type Status string

// Finding states.
const (
	// Open findings count for --fail-on and appear in every output.
	Open Status = "open"
	// Suppressed findings are hidden by an x-warden-ignore with a reason.
	Suppressed Status = "suppressed"
	// Baselined findings are listed in the baseline file.
	Baselined Status = "baseline"
)

// Finding is one problem found by one rule at one place.
type Finding struct {
	RuleID   string   `json:"rule"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Category Category `json:"category"`
	// Message describes this occurrence, naming the operation, parameter
	// or property.
	Message string `json:"message"`
	// File is the file that contains the problem: the API description, a
	// file it refers to, or the gateway config.
	File string `json:"file"`
	// Pointer is the JSON pointer (RFC 6901) of the problem in File.
	Pointer string `json:"pointer"`
	// Line is the 1-based line of Pointer in File, or 0 when unknown.
	Line int `json:"line,omitempty"`
	// Subject distinguishes findings of one rule at one pointer, such as
	// an operation that a config route serves. It is usually empty.
	Subject string `json:"subject,omitempty"`
	// Fingerprint identifies the finding across runs. It is built from the
	// rule, file, pointer and subject, not the line, so moving code around
	// keeps it.
	Fingerprint string `json:"fingerprint"`
	Status      Status `json:"status"`
	// Reason is the justification of a suppression or baseline entry.
	Reason string `json:"reason,omitempty"`
}

// fingerprint hashes the parts of a finding that survive edits elsewhere
// in the file. The file is taken relative to the working directory when it
// lies below it, so the same checkout gives the same fingerprints wherever
// it is.
func fingerprint(ruleID, file, pointer, subject string) string {
	h := sha256.New()
	for _, part := range []string{ruleID, file, pointer, subject} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func fingerprintPath(file string) string {
	if file == "" {
		return ""
	}
	if abs, err := filepath.Abs(file); err == nil {
		if wd, err := filepath.Abs("."); err == nil {
			if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
				file = rel
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(file))
}

// FactorSource is the origin of a score factor.
type FactorSource string

// Factor sources.
const (
	// Static factors come from reading the API description and config.
	Static FactorSource = "static"
	// Runtime factors come from observed traffic.
	Runtime FactorSource = "runtime"
)

// Factor is one cause that moved a score.
type Factor struct {
	// Name describes the factor, such as a rule id and title.
	Name string `json:"name"`
	// Weight is added to the base score of 100: negative for risk.
	Weight float64 `json:"weight"`
	// Source says whether the factor comes from static analysis or from
	// observed traffic.
	Source FactorSource `json:"source"`
	// RuleID is the rule behind a static factor.
	RuleID string `json:"rule,omitempty"`
	// Count is the number of findings or observations behind the factor.
	Count int `json:"count,omitempty"`
}

// Score rates an API from 0 (high risk) to 100 (no known risk). Value is
// 100 plus the sum of the factor weights, clamped to 0..100.
type Score struct {
	Value   int      `json:"value"`
	Factors []Factor `json:"factors"`
}

// Add appends a factor and recomputes the value.
func (s *Score) Add(f Factor) {
	s.Factors = append(s.Factors, f)
	sum := 100.0
	for _, f := range s.Factors {
		sum += f.Weight
	}
	s.Value = int(math.Round(math.Max(0, math.Min(100, sum))))
}

// severityWeight is the score cost of a rule's first finding.
var severityWeight = [...]float64{Info: 0, Low: 1, Medium: 4, High: 10, Critical: 20}

// ruleWeight is the score cost of n findings of a rule with severity s.
// Repeats cost less than the first, and one rule costs at most twice its
// base, so a rule that fires on every property of a large API does not
// hide all other rules.
func ruleWeight(s Severity, n int) float64 {
	if n <= 0 {
		return 0
	}
	m := math.Min(2, 1+math.Log2(float64(n))/4)
	return -severityWeight[s] * m
}

// scoreFindings builds the static score of one API from its findings.
// Suppressed findings do not count. Baselined ones do, because a baseline
// accepts a risk for CI but does not remove it.
func scoreFindings(findings []Finding) Score {
	counts := map[string]int{}
	var order []string
	byRule := map[string]Finding{}
	for _, f := range findings {
		if f.Status == Suppressed {
			continue
		}
		if counts[f.RuleID] == 0 {
			order = append(order, f.RuleID)
			byRule[f.RuleID] = f
		}
		counts[f.RuleID]++
	}
	sort.SliceStable(order, func(i, j int) bool {
		return ruleWeight(byRule[order[i]].Severity, counts[order[i]]) < ruleWeight(byRule[order[j]].Severity, counts[order[j]])
	})
	s := Score{Value: 100, Factors: []Factor{}}
	for _, id := range order {
		f := byRule[id]
		w := ruleWeight(f.Severity, counts[id])
		if w == 0 {
			continue
		}
		s.Add(Factor{
			Name:   id + " " + f.Title,
			Weight: math.Round(w*10) / 10,
			Source: Static,
			RuleID: id,
			Count:  counts[id],
		})
	}
	return s
}
