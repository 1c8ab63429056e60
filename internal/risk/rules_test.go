package risk

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/config"
)

const rulesDir = "testdata/rules"

// TestRuleFixtures runs every rule's positive and negative fixture: the
// positive one must produce a finding of the rule at the pointer named in
// its "# expect:" line, the negative one none.
func TestRuleFixtures(t *testing.T) {
	for _, rule := range Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			dir := filepath.Join(rulesDir, rule.ID)
			pos := auditFixture(t, filepath.Join(dir, "positive"))
			want := expectedPointer(t, filepath.Join(dir, "positive.yaml"))
			found := false
			for _, f := range pos {
				if f.RuleID != rule.ID {
					continue
				}
				if f.Pointer == want {
					found = true
					if f.Line <= 0 {
						t.Errorf("positive: finding at %q has line %d, want > 0", f.Pointer, f.Line)
					}
				}
			}
			if !found {
				t.Errorf("positive: no %s finding at %q; got %s", rule.ID, want, describeFindings(pos, rule.ID))
			}
			neg := auditFixture(t, filepath.Join(dir, "negative"))
			if got := countRule(neg, rule.ID); got != 0 {
				t.Errorf("negative: got %d %s findings, want 0: %s", got, rule.ID, describeFindings(neg, rule.ID))
			}
		})
	}
}

func TestRuleFixturesHaveRules(t *testing.T) {
	rules := ruleIndex()
	entries, err := os.ReadDir(rulesDir)
	if err != nil {
		t.Fatalf("reading %s: %v", rulesDir, err)
	}
	for _, e := range entries {
		if _, ok := rules[e.Name()]; !ok {
			t.Errorf("fixture directory %s names no rule", e.Name())
		}
	}
	if got, want := len(entries), len(rules); got != want {
		t.Errorf("fixture directories = %d, rules = %d", got, want)
	}
}

// auditFixture audits base+".yaml", with base+".config.yaml" as the
// gateway config when it exists.
func auditFixture(t *testing.T, base string) []Finding {
	t.Helper()
	ctx := context.Background()
	spec, err := LoadSpec(ctx, base+".yaml")
	if err != nil {
		t.Fatalf("LoadSpec(%s): %v", base, err)
	}
	var opts Options
	if _, err := os.Stat(base + ".config.yaml"); err == nil {
		cfg, err := config.Load(base + ".config.yaml")
		if err != nil {
			t.Fatalf("config.Load(%s.config.yaml): %v", base, err)
		}
		opts.Config = cfg
	}
	report, err := Audit(ctx, []*Spec{spec}, opts)
	if err != nil {
		t.Fatalf("Audit(%s): %v", base, err)
	}
	return report.All()
}

// expectedPointer reads the "# expect: POINTER" first line of a positive
// fixture. "<root>" stands for the empty pointer.
func expectedPointer(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("opening fixture: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatalf("%s is empty", file)
	}
	ptr, ok := strings.CutPrefix(sc.Text(), "# expect: ")
	if !ok {
		t.Fatalf("%s: first line is %q, want \"# expect: POINTER\"", file, sc.Text())
	}
	if ptr == "<root>" {
		return ""
	}
	return ptr
}

func countRule(fs []Finding, id string) int {
	n := 0
	for _, f := range fs {
		if f.RuleID == id {
			n++
		}
	}
	return n
}

func describeFindings(fs []Finding, id string) string {
	var parts []string
	for _, f := range fs {
		if f.RuleID == id {
			parts = append(parts, f.Pointer+" ("+f.Message+")")
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}
