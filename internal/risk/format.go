package risk

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output format of the audit report.
type Format string

// Output formats.
const (
	FormatText  Format = "text"
	FormatJSON  Format = "json"
	FormatSARIF Format = "sarif"
)

// ParseFormat parses an output format name.
func ParseFormat(name string) (Format, error) {
	switch f := Format(strings.ToLower(name)); f {
	case FormatText, FormatJSON, FormatSARIF:
		return f, nil
	}
	return "", fmt.Errorf("invalid format %q: use text, json or sarif", name)
}

// Write writes the report in format f. toolVersion is recorded in SARIF.
func (r *Report) Write(w io.Writer, f Format, toolVersion string) error {
	switch f {
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatSARIF:
		return r.WriteSARIF(w, toolVersion)
	default:
		return r.WriteText(w)
	}
}

// WriteJSON writes the whole report, findings of every status included,
// as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// WriteText writes the open findings grouped by severity, with file:line,
// followed by the score of each API and a summary line.
func (r *Report) WriteText(w io.Writer) error {
	tw := &errWriter{w: w}
	open := map[Severity][]Finding{}
	counts := map[Status]int{}
	for _, f := range r.All() {
		counts[f.Status]++
		if f.Status == Open {
			open[f.Severity] = append(open[f.Severity], f)
		}
	}
	for s := Critical; s >= Info; s-- {
		if len(open[s]) == 0 {
			continue
		}
		tw.printf("%s (%d)\n", strings.ToUpper(s.String()), len(open[s]))
		for _, f := range open[s] {
			tw.printf("  %s  %s %s\n      %s\n", location{file: f.File}.withLine(f.Line), f.RuleID, f.Category.Short(), f.Message)
		}
		tw.printf("\n")
	}
	for _, a := range r.APIs {
		title := a.Title
		if title == "" {
			title = a.File
		}
		tw.printf("%s (%s, %s): score %d/100\n", title, a.File, a.Format, a.Score.Value)
		for i, f := range a.Score.Factors {
			if i == 5 {
				tw.printf("    ... %d more factors\n", len(a.Score.Factors)-5)
				break
			}
			tw.printf("    %+.1f  %s (%d)\n", f.Weight, f.Name, f.Count)
		}
	}
	tw.printf("%d open, %d suppressed, %d in baseline\n", counts[Open], counts[Suppressed], counts[Baselined])
	return tw.err
}

func (l location) withLine(line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", l.file, line)
	}
	return l.file
}

// errWriter keeps the first write error, so a report written in many
// small pieces checks it once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	if _, err := fmt.Fprintf(e.w, format, args...); err != nil {
		e.err = fmt.Errorf("writing text report: %w", err)
	}
}
