package listener

import (
	"bufio"
	"encoding/json"
	"hash/maphash"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// llhttpDir holds the request tests of llhttp (nodejs/llhttp, test/request),
// read in place from the corpus beside the checkout.
const llhttpDir = "../../../shared/corpus/suites/http-parsing/llhttp/request"

// llhttpCase is one test of the llhttp suite: a raw request stream and what
// llhttp parsed from it.
type llhttpCase struct {
	name      string // file and heading
	kind      string // meta "type": "request", or a lenient variant
	skipBody  bool   // llhttp's callback skipped the body, which a server cannot do
	input     []byte
	completes []int // offsets of "message complete" in the log
	failed    bool  // the log ends in an error
}

var (
	llhttpMeta       = regexp.MustCompile(`<!--\s*meta=(\{.*\})\s*-->`)
	llhttpComplete   = regexp.MustCompile(`^off=(\d+) message complete`)
	llhttpError      = regexp.MustCompile(`^off=\d+ error `)
	llhttpEscapedEOL = regexp.MustCompile(`\\(\r\n|\r|\n)`)
	llhttpHex        = regexp.MustCompile(`\\x([0-9a-fA-F]+)`)
	llhttpOctal      = regexp.MustCompile(`\\([0-7]{1,3})`)
)

// loadLLHTTP reads every case of the suite, or skips the test when the corpus
// is absent.
func loadLLHTTP(t testing.TB) []llhttpCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(llhttpDir, "*.md"))
	if err != nil {
		t.Fatalf("listing %s: %v", llhttpDir, err)
	}
	if len(files) == 0 {
		t.Skipf("llhttp request tests not found in %s; the corpus is expected beside the checkout", llhttpDir)
	}
	var cases []llhttpCase
	for _, f := range files {
		cases = append(cases, parseLLHTTPFile(t, f)...)
	}
	return cases
}

func parseLLHTTPFile(t testing.TB, path string) []llhttpCase {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var cases []llhttpCase
	var cur llhttpCase
	var heading string
	var block []string
	fence := ""
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case fence != "" && line == "```":
			if fence == "http" {
				cur.input = llhttpInput(strings.Join(block, "\n"))
			} else if fence == "log" {
				cur.completes, cur.failed = llhttpLog(block)
				cur.name = filepath.Base(path) + "/" + heading
				cases = append(cases, cur)
				cur = llhttpCase{}
			}
			fence, block = "", nil
		case fence != "":
			block = append(block, line)
		case strings.HasPrefix(line, "```"):
			fence = strings.TrimPrefix(line, "```")
		case strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		case llhttpMeta.MatchString(line):
			var meta struct {
				Type     string
				SkipBody bool
			}
			if err := json.Unmarshal([]byte(llhttpMeta.FindStringSubmatch(line)[1]), &meta); err != nil {
				t.Fatalf("%s: meta %q: %v", path, line, err)
			}
			cur.kind, cur.skipBody = meta.Type, meta.SkipBody
		}
	}
	return cases
}

// llhttpInput turns the text of an http block into bytes as llhttp's test
// harness does (test/md-test.ts). A backslash at the end of a line joins it
// with the next, and every line ends in CRLF. The escapes \r, \n, \t and \f
// are single bytes. \xHH and octal escapes are characters, which the harness
// passes on in UTF-8.
func llhttpInput(s string) []byte {
	s = llhttpEscapedEOL.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	s = strings.NewReplacer(`\r`, "\r", `\n`, "\n", `\t`, "\t", `\f`, "\f").Replace(s)
	s = llhttpHex.ReplaceAllStringFunc(s, func(m string) string {
		v, _ := strconv.ParseUint(m[2:], 16, 8)
		return string(rune(v))
	})
	s = llhttpOctal.ReplaceAllStringFunc(s, func(m string) string {
		v, _ := strconv.ParseUint(m[1:], 8, 8)
		return string(rune(v))
	})
	return []byte(s)
}

func llhttpLog(lines []string) (completes []int, failed bool) {
	for _, l := range lines {
		if m := llhttpComplete.FindStringSubmatch(l); m != nil {
			off, _ := strconv.Atoi(m[1])
			completes = append(completes, off)
		}
		if llhttpError.MatchString(l) {
			failed = true
		}
	}
	return completes, failed
}

// llhttpStricter lists the cases that llhttp parses in its default mode but
// the tracker does not accept, with the reason or stop cause. net/http
// rejects all of them too, as TestLLHTTPCorpus checks through compareWithGo:
// RTSP and ICE versions, an empty line or HTTP/0.9 request line, and a
// Transfer-Encoding list.
var llhttpStricter = map[string]string{
	"method.md/SOURCE request with ICE":                                                     causeVersion,
	"method.md/OPTIONS request with RTSP":                                                   causeVersion,
	"method.md/ANNOUNCE request with RTSP":                                                  causeVersion,
	"sample.md/Prefix newline":                                                              causeNotHTTP,
	"sample.md/Request starting with CRLF":                                                  causeNotHTTP,
	"sample.md/No HTTP version":                                                             causeRequestLine,
	"transfer-encoding.md/POST with `chunked` as last transfer-encoding":                    ReasonInvalidTransferEncoding,
	"transfer-encoding.md/POST with `chunked` as last transfer-encoding (multiple headers)": ReasonInvalidTransferEncoding,
}

// TestLLHTTPCorpus runs the tracker over the llhttp request suite. Every case
// must give the same result however it is split and frame requests as
// net/http does. For the cases llhttp parses without error in its default
// mode, the tracker must end each request it accepts where llhttp does.
func TestLLHTTPCorpus(t *testing.T) {
	cases := loadLLHTTP(t)
	seed := maphash.MakeSeed()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := trackSplit(seed, testMaxHead, c.input)
			for cut := range len(c.input) + 1 {
				if got := trackSplit(seed, testMaxHead, c.input, cut); !got.equal(want) {
					t.Fatalf("cut at %d: got %+v, want %+v", cut, got, want)
				}
			}
			compareWithGo(t, seed, c.input)
			if c.kind == "request" && !c.failed && !c.skipBody {
				compareWithLLHTTP(t, seed, c)
			}
		})
	}
}

// compareWithLLHTTP checks that the tracker accepts and ends every request
// that llhttp completes, unless llhttpStricter lists the case.
func compareWithLLHTTP(t *testing.T, seed maphash.Seed, c llhttpCase) {
	t.Helper()
	tracked, res := trackBytes(seed, testMaxHead, c.input)
	var ends []int
	for _, tr := range tracked {
		if tr.reason != "" || tr.end < 0 {
			break
		}
		ends = append(ends, tr.end)
	}
	if slices.Equal(ends, c.completes) {
		if want, ok := llhttpStricter[c.name]; ok {
			t.Errorf("listed in llhttpStricter with %q, but the tracker accepts it", want)
		}
		return
	}
	got := res.cause
	if want, ok := llhttpStricter[c.name]; !ok || got != want {
		t.Errorf("requests end at %v, llhttp ends them at %v (tracker stop: %q, listed: %q); input %q",
			ends, c.completes, got, llhttpStricter[c.name], c.input)
	}
}
