package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/risk"
)

const auditDescription = `Assess the risk of OpenAPI 3.0, 3.1 and Swagger 2.0 descriptions (YAML or JSON)
against the OWASP API Security Top 10 (2023). With --config, also check that
the gateway routes serving each operation authenticate and rate limit it.

Findings can be accepted with --baseline, or in the description with an
x-warden-ignore extension that gives a reason. See docs/audit.md.

Exit codes: 0 no open finding at or above --fail-on, 1 such findings or a
failure, 2 usage error.`

// auditFlags are the settings of one audit run.
type auditFlags struct {
	format        string
	output        string
	failOn        string
	minSeverity   string
	baseline      string
	writeBaseline string
	config        string
	listRules     bool
}

func (f *auditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "text", "output format: text (grouped by severity), json or sarif (SARIF 2.1.0 for code scanning)")
	fs.StringVar(&f.output, "output", "", "file to write the report to (default: standard output)")
	fs.StringVar(&f.failOn, "fail-on", "high", "lowest severity of an open finding that makes the exit code 1: info, low, medium, high, critical, or none")
	fs.StringVar(&f.minSeverity, "min-severity", "info", "lowest severity of the findings written to the report")
	fs.StringVar(&f.baseline, "baseline", "", "baseline file whose findings are accepted: they are reported with status baseline and do not fail the run")
	fs.StringVar(&f.writeBaseline, "write-baseline", "", "write a baseline of all current findings to this file and exit 0")
	fs.StringVar(&f.config, "config", "", "gateway config file: also check the routes that serve each operation, listeners and upstreams")
	fs.BoolVar(&f.listRules, "list-rules", false, "print every rule (id, severity, OWASP category, title) and exit")
}

// parseAuditArgs parses flags and positional SPEC arguments in any order.
func parseAuditArgs(fs *flag.FlagSet, args []string) (specs []string, code int, done bool) {
	for {
		if code, done := parseFlags(fs, args); done {
			return nil, code, true
		}
		if fs.NArg() == 0 {
			return specs, 0, false
		}
		specs = append(specs, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f auditFlags
	fs := newFlagSet("audit", auditDescription, stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: warden audit [flags] SPEC...\n\n%s\n\nFlags:\n", auditDescription)
		fs.PrintDefaults()
	}
	f.register(fs)
	specFiles, code, done := parseAuditArgs(fs, args)
	if done {
		return code
	}
	if f.listRules {
		return listRules(stdout)
	}
	settings, err := f.validate(specFiles)
	if err != nil {
		fmt.Fprintf(stderr, "warden audit: %v\n", err)
		return exitUsage
	}
	return audit(ctx, specFiles, f, settings, stdout, stderr)
}

// auditSettings are the parsed flag values.
type auditSettings struct {
	format      risk.Format
	failOn      risk.Severity
	failNever   bool
	minSeverity risk.Severity
}

func (f *auditFlags) validate(specs []string) (auditSettings, error) {
	var s auditSettings
	var err error
	if len(specs) == 0 && f.config == "" {
		return s, fmt.Errorf("missing SPEC: give at least one OpenAPI or Swagger file, such as \"warden audit openapi.yaml\"")
	}
	if s.format, err = risk.ParseFormat(f.format); err != nil {
		return s, fmt.Errorf("--format: %w", err)
	}
	if strings.EqualFold(f.failOn, "none") {
		s.failNever = true
	} else if s.failOn, err = risk.ParseSeverity(f.failOn); err != nil {
		return s, fmt.Errorf("--fail-on: %w, or none", err)
	}
	if s.minSeverity, err = risk.ParseSeverity(f.minSeverity); err != nil {
		return s, fmt.Errorf("--min-severity: %w", err)
	}
	return s, nil
}

func audit(ctx context.Context, specFiles []string, f auditFlags, s auditSettings, stdout, stderr io.Writer) int {
	failed := false
	var specs []*risk.Spec
	for _, file := range specFiles {
		spec, err := risk.LoadSpec(ctx, file)
		if err != nil {
			fmt.Fprintf(stderr, "warden audit: %v\n", err)
			failed = true
			continue
		}
		specs = append(specs, spec)
	}
	var opts risk.Options
	if f.config != "" {
		cfg, err := config.Load(f.config)
		if err != nil {
			fmt.Fprintf(stderr, "warden audit: loading config %s:\n%v\n", f.config, err)
			return exitFailure
		}
		opts.Config = cfg
	}
	if f.baseline != "" {
		b, err := risk.ReadBaseline(f.baseline)
		if err != nil {
			fmt.Fprintf(stderr, "warden audit: %v\n", err)
			return exitFailure
		}
		opts.Baseline = b
	}

	report, err := risk.Audit(ctx, specs, opts)
	if err != nil {
		fmt.Fprintf(stderr, "warden audit: %v\n", err)
		return exitFailure
	}
	if f.writeBaseline != "" {
		if err := writeBaselineFile(f.writeBaseline, report); err != nil {
			fmt.Fprintf(stderr, "warden audit: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stderr, "warden audit: wrote %d findings to baseline %s\n", report.CountOpen(risk.Info), f.writeBaseline)
		if failed {
			return exitFailure
		}
		return exitOK
	}

	report.Filter(s.minSeverity)
	if err := writeReport(report, f.output, s.format, stdout); err != nil {
		fmt.Fprintf(stderr, "warden audit: %v\n", err)
		return exitFailure
	}
	if failed || !s.failNever && report.CountOpen(s.failOn) > 0 {
		return exitFailure
	}
	return exitOK
}

func writeBaselineFile(path string, report *risk.Report) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating baseline: %w", err)
	}
	if err := risk.NewBaseline(report.All()).Write(out); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing baseline %s: %w", path, err)
	}
	return nil
}

func writeReport(report *risk.Report, path string, format risk.Format, stdout io.Writer) error {
	if path == "" {
		return report.Write(stdout, format, version)
	}
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating report: %w", err)
	}
	if err := report.Write(out, format, version); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}

func listRules(stdout io.Writer) int {
	for _, r := range risk.Rules() {
		scope := "spec"
		if r.NeedsConfig {
			scope = "config"
		}
		fmt.Fprintf(stdout, "%-17s %-8s %-6s %-6s %s\n", r.ID, r.Severity, r.Category.Short(), scope, r.Title)
	}
	return exitOK
}
