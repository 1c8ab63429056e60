package risk

import (
	"context"
	"fmt"
	"sort"

	"github.com/warden-api/warden/internal/config"
)

// Options configures an audit.
type Options struct {
	// Config, when set, adds the checks of the gateway config against the
	// API descriptions: authentication and rate limits on the routes that
	// serve each operation, listener TLS and upstream transport.
	Config *config.Config
	// Baseline, when set, marks the findings it lists as Baselined.
	Baseline *Baseline
}

// Report is the result of an audit.
type Report struct {
	// APIs has one entry per API description, in the order given.
	APIs []APIReport `json:"apis"`
	// Config holds the findings about the gateway config that concern no
	// single API, such as listeners without TLS. Nil without a config.
	Config *ConfigReport `json:"config,omitempty"`
}

// APIReport holds the findings and score of one API description.
type APIReport struct {
	File    string `json:"file"`
	Format  string `json:"format"`
	Title   string `json:"title,omitempty"`
	Version string `json:"version,omitempty"`
	Score   Score  `json:"score"`
	// Findings are sorted by severity, most severe first, then by file
	// and line. Suppressed and baselined findings are included with their
	// status.
	Findings []Finding `json:"findings"`
}

// ConfigReport holds findings about the gateway config as a whole.
type ConfigReport struct {
	File     string    `json:"file"`
	Findings []Finding `json:"findings"`
}

// All returns every finding of the report, in report order.
func (r *Report) All() []Finding {
	var out []Finding
	for _, a := range r.APIs {
		out = append(out, a.Findings...)
	}
	if r.Config != nil {
		out = append(out, r.Config.Findings...)
	}
	return out
}

// CountOpen returns the number of open findings at or above min.
func (r *Report) CountOpen(min Severity) int {
	n := 0
	for _, f := range r.All() {
		if f.Status == Open && f.Severity >= min {
			n++
		}
	}
	return n
}

// Audit runs every rule over the API descriptions, and over the config
// when opts.Config is set.
func Audit(ctx context.Context, specs []*Spec, opts Options) (*Report, error) {
	rules := ruleIndex()
	report := &Report{}
	models := make([]*model, 0, len(specs))
	for _, spec := range specs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("auditing %s: %w", spec.File, err)
		}
		m := buildModel(spec)
		models = append(models, m)
		r := newRun(m.spec.src, rules)
		r.checkSpec(m)
		r.applySuppressions(m.spec.src)
		report.APIs = append(report.APIs, APIReport{
			File: spec.File, Format: spec.Format, Title: spec.Title, Version: spec.Version,
			Findings: r.findings,
		})
	}
	if opts.Config != nil {
		perAPI, global := checkConfig(opts.Config, models, rules)
		for i := range report.APIs {
			report.APIs[i].Findings = append(report.APIs[i].Findings, perAPI[i]...)
		}
		report.Config = &ConfigReport{File: opts.Config.Path(), Findings: global}
	}
	for i := range report.APIs {
		a := &report.APIs[i]
		opts.Baseline.apply(a.Findings)
		sortFindings(a.Findings)
		a.Score = scoreFindings(a.Findings)
	}
	if report.Config != nil {
		opts.Baseline.apply(report.Config.Findings)
		sortFindings(report.Config.Findings)
	}
	return report, nil
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.RuleID != b.RuleID {
			return ruleLess(a.RuleID, b.RuleID)
		}
		return a.Pointer+a.Subject < b.Pointer+b.Subject
	})
}

// run collects the findings of one API description.
type run struct {
	src      *sources
	rules    map[string]Rule
	findings []Finding
	seen     map[string]bool
	fpFiles  map[string]string // file to fingerprintPath(file)
}

func newRun(src *sources, rules map[string]Rule) *run {
	return &run{src: src, rules: rules, seen: map[string]bool{}, fpFiles: map[string]string{}}
}

// report records a finding of rule id at loc. A second finding of the same
// rule at the same place with the same subject is dropped.
func (r *run) report(id string, loc location, subject, format string, args ...any) {
	key := id + "\x00" + loc.file + "\x00" + loc.ptr + "\x00" + subject
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	line := 0
	if r.src != nil {
		line = r.src.line(loc)
	}
	fpFile, ok := r.fpFiles[loc.file]
	if !ok {
		fpFile = fingerprintPath(loc.file)
		r.fpFiles[loc.file] = fpFile
	}
	r.findings = append(r.findings, newFinding(r.rules[id], loc.file, fpFile, loc.ptr, line, subject, fmt.Sprintf(format, args...)))
}

// checkSpec runs every rule that reads API descriptions.
func (r *run) checkSpec(m *model) {
	r.checkSchemes(m)
	r.checkServers(m)
	r.checkDocument(m)
	limited := rateLimitsDocumented(m)
	for _, o := range m.ops {
		r.checkOperationAuth(m, o)
		r.checkOperationParams(m, o)
		r.checkOperationResponses(m, o, limited)
		r.checkOperationMisc(o)
	}
	for _, o := range m.hooks {
		r.checkHook(o)
		r.checkOperationMisc(o)
	}
	w := &walker{m: m, visited: map[string]bool{}, visit: r.checkSchema}
	w.walkAll()
	r.checkCredentialsInValues(m)
}

// Filter drops the findings below min from the report. Scores are kept as
// computed from all findings.
func (r *Report) Filter(min Severity) {
	keep := func(fs []Finding) []Finding {
		out := fs[:0]
		for _, f := range fs {
			if f.Severity >= min {
				out = append(out, f)
			}
		}
		return out
	}
	for i := range r.APIs {
		r.APIs[i].Findings = keep(r.APIs[i].Findings)
	}
	if r.Config != nil {
		r.Config.Findings = keep(r.Config.Findings)
	}
}
