package risk

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus-expected and the rule table in docs/audit.md")

// corpusSpecs is the folder of public API descriptions beside the checkout.
const corpusSpecs = "../../../shared/corpus/specs"

// corpusMaxListed is the number of findings of one rule in one description
// above which the expected file records the count instead of the list.
const corpusMaxListed = 40

// TestCorpus audits every public API description in the corpus and
// compares the findings (rule, file and pointer) with the reviewed files in
// testdata/corpus-expected. Run with -update to rewrite them, then review
// the diff.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusSpecs); err != nil {
		t.Skipf("corpus not found at %s: %v", corpusSpecs, err)
	}
	for _, file := range corpusFiles(t) {
		rel, _ := filepath.Rel(corpusSpecs, file)
		t.Run(rel, func(t *testing.T) {
			spec, err := LoadSpec(context.Background(), file)
			if errors.Is(err, ErrNotOpenAPI) {
				t.Skipf("%s is a fragment, not an API description", rel)
			}
			if err != nil {
				t.Fatalf("LoadSpec: %v", err)
			}
			report, err := Audit(context.Background(), []*Spec{spec}, Options{})
			if err != nil {
				t.Fatalf("Audit: %v", err)
			}
			got := corpusSummary(report)
			golden := filepath.Join("testdata", "corpus-expected", strings.ReplaceAll(filepath.ToSlash(rel), "/", "__")+".txt")
			if *update {
				writeFile(t, golden, []byte(got))
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading expected findings (run with -update to create): %v", err)
			}
			if got != string(want) {
				t.Errorf("findings differ from %s (run with -update and review the diff):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

func corpusFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(corpusSpecs, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".json", ".yaml", ".yml":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", corpusSpecs, err)
	}
	sort.Strings(files)
	return files
}

// corpusSummary lists the score and one "RULE FILE#POINTER" line per
// finding, sorted. Rules with many findings are summed up as a count.
func corpusSummary(report *Report) string {
	a := report.APIs[0]
	byRule := map[string][]string{}
	for _, f := range a.Findings {
		rel, err := filepath.Rel(corpusSpecs, f.File)
		if err != nil {
			rel = f.File
		}
		byRule[f.RuleID] = append(byRule[f.RuleID], filepath.ToSlash(rel)+"#"+f.Pointer)
	}
	var lines []string
	for _, id := range sortedKeys(byRule) {
		locs := byRule[id]
		if len(locs) > corpusMaxListed {
			lines = append(lines, fmt.Sprintf("%s count=%d", id, len(locs)))
			continue
		}
		sort.Strings(locs)
		for _, l := range locs {
			lines = append(lines, id+" "+l)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool {
		return ruleLess(strings.Fields(lines[i])[0], strings.Fields(lines[j])[0])
	})
	return fmt.Sprintf("# %s (%s): score %d, %d findings\n%s\n", a.Title, a.Format, a.Score.Value, len(a.Findings), strings.Join(lines, "\n"))
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range strings.Split(want, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]--
	}
	var b strings.Builder
	for _, l := range sortedKeys(count) {
		for n := count[l]; n > 0; n-- {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		for n := count[l]; n < 0; n++ {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}
