package risk

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// baselineVersion is the format version of baseline files.
const baselineVersion = 1

// Baseline is a set of accepted findings, matched by fingerprint.
type Baseline struct {
	Version  int             `json:"version"`
	Findings []BaselineEntry `json:"findings"`

	index map[string]BaselineEntry
}

// BaselineEntry is one accepted finding. Only Fingerprint is used for
// matching, and the other fields let a reviewer read the file.
type BaselineEntry struct {
	Fingerprint string `json:"fingerprint"`
	Rule        string `json:"rule"`
	File        string `json:"file"`
	Pointer     string `json:"pointer"`
	Subject     string `json:"subject,omitempty"`
	Message     string `json:"message,omitempty"`
	// Reason may be added by hand to record why the finding is accepted.
	Reason string `json:"reason,omitempty"`
}

// ReadBaseline reads a baseline file written by Baseline.Write.
func ReadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("parsing baseline %s: %w", path, err)
	}
	if b.Version != baselineVersion {
		return nil, fmt.Errorf("baseline %s has version %d, but this Warden reads version %d: write it again with --write-baseline", path, b.Version, baselineVersion)
	}
	b.index = make(map[string]BaselineEntry, len(b.Findings))
	for _, e := range b.Findings {
		if e.Fingerprint == "" {
			return nil, fmt.Errorf("baseline %s: an entry for rule %q has no fingerprint", path, e.Rule)
		}
		b.index[e.Fingerprint] = e
	}
	return &b, nil
}

// NewBaseline returns a baseline that accepts the findings that are open
// or already baselined. Suppressed findings are left out, because their
// suppression stays in the API description.
func NewBaseline(findings []Finding) *Baseline {
	b := &Baseline{Version: baselineVersion, Findings: []BaselineEntry{}}
	seen := map[string]bool{}
	for _, f := range findings {
		if f.Status == Suppressed || seen[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
		b.Findings = append(b.Findings, BaselineEntry{
			Fingerprint: f.Fingerprint, Rule: f.RuleID, File: fingerprintPath(f.File),
			Pointer: f.Pointer, Subject: f.Subject, Message: f.Message, Reason: f.Reason,
		})
	}
	return b
}

// Write writes the baseline as indented JSON.
func (b *Baseline) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return fmt.Errorf("writing baseline: %w", err)
	}
	return nil
}

// apply marks the open findings that b lists. A nil baseline changes
// nothing.
func (b *Baseline) apply(findings []Finding) {
	if b == nil {
		return
	}
	for i := range findings {
		f := &findings[i]
		if f.Status != Open {
			continue
		}
		if e, ok := b.index[f.Fingerprint]; ok {
			f.Status, f.Reason = Baselined, e.Reason
		}
	}
}
