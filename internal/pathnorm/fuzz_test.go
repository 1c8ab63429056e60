package pathnorm

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkInvariants checks the properties every successful Normalize result
// has, whatever the input.
func checkInvariants(t *testing.T, raw string, opt Options, p Path) {
	t.Helper()
	if !strings.HasPrefix(p.Decoded, "/") || !strings.HasPrefix(p.Escaped, "/") {
		t.Fatalf("Normalize(%q) = %+v, want both paths to start with \"/\"", raw, p)
	}
	if strings.Contains(p.Decoded, "//") || strings.Contains(p.Escaped, "//") {
		t.Fatalf("Normalize(%q) = %+v, contains an empty segment", raw, p)
	}
	for seg := range strings.SplitSeq(p.Decoded, "/") {
		if seg == "." || seg == ".." {
			t.Fatalf("Normalize(%q).Decoded = %q, contains a dot segment", raw, p.Decoded)
		}
	}
	for i := 0; i < len(p.Escaped); i++ {
		if c := p.Escaped[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`#?;\`, c) >= 0 {
			t.Fatalf("Normalize(%q).Escaped = %q, contains unescaped byte %q", raw, p.Escaped, c)
		}
	}

	if got := Escape(p.Decoded); got != p.Escaped {
		t.Fatalf("Escape(%q) = %q, want Escaped %q", p.Decoded, got, p.Escaped)
	}
	again, err := Normalize(p.Escaped, Options{AllowEncodedSlash: opt.AllowEncodedSlash})
	if err != nil {
		t.Fatalf("Normalize(Escaped %q) error: %v (from raw %q)", p.Escaped, err, raw)
	}
	if again.Decoded != p.Decoded || again.Escaped != p.Escaped {
		t.Fatalf("Normalize(Escaped %q) = %+v, want %+v (from raw %q)", p.Escaped, again, p, raw)
	}

	unescaped, err := url.PathUnescape(p.Escaped)
	if err != nil {
		t.Fatalf("url.PathUnescape(%q) error: %v", p.Escaped, err)
	}
	want := p.Decoded
	if opt.AllowEncodedSlash {
		want = strings.NewReplacer(slashMarker, "/", backslashMarker, `\`).Replace(want)
	}
	if unescaped != want {
		t.Fatalf("url.PathUnescape(%q) = %q, want %q (from raw %q)", p.Escaped, unescaped, want, raw)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		"/", "/a/b", "/a/../b", "//a/./b/", "/%2e%2e/a", "/%252e", "/a%2fb", "/a%5Cb",
		"/a;x=1", "/..;/a", "/%C3%A9", "/%c0%ae", "/．．", "/a%25%2Fb", "/100%25", "/a\\b",
		"/a%00", "/a/...", "/a%20", "/%EF%BC%8F", "/a%2F..%2Fb", "/%E2%80%A5", "/a%2Fb/../c",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowSlash bool) {
		opt := Options{AllowEncodedSlash: allowSlash}
		p, err := Normalize(raw, opt)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Reason == "" || (pe.Status != 400 && pe.Status != 414) {
				t.Fatalf("Normalize(%q) error = %#v, want *Error with a reason and status 400 or 414", raw, err)
			}
			if msg := err.Error(); len(msg) > 200 {
				t.Fatalf("Normalize(%q) error message is %d bytes, want at most 200", raw, len(msg))
			}
			return
		}
		checkInvariants(t, raw, opt, p)

		// AllowEncodedSlash changes nothing for a path without encoded
		// slashes, so a gateway may normalize once with it and check
		// HasEncodedSlash after routing.
		if allowSlash && p.HasEncodedSlash() {
			return
		}
		other, err := Normalize(raw, Options{AllowEncodedSlash: !allowSlash})
		if err != nil || other.Decoded != p.Decoded || other.Escaped != p.Escaped {
			t.Fatalf("Normalize(%q) with AllowEncodedSlash %v = %+v, %v; want %+v as without it", raw, !allowSlash, other, err, p)
		}
	})
}

// llhttpDir holds llhttp's request parsing tests, which quote request
// targets that real clients send.
const llhttpDir = "../../../shared/corpus/suites/http-parsing/llhttp/request"

// TestNormalizeLLHTTPTargets normalizes every request target from the
// llhttp request tests: origin-form paths are accepted, other forms are
// rejected as not absolute.
func TestNormalizeLLHTTPTargets(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(llhttpDir, "*.md"))
	if err != nil || len(files) == 0 {
		t.Skipf("llhttp request tests not found at %s", llhttpDir)
	}
	urlSpan := regexp.MustCompile(`span\[url\]="(.*)"$`)
	seen := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.SplitSeq(string(data), "\n") {
			m := urlSpan.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			seen++
			target, _, _ := strings.Cut(m[1], "?")
			t.Run(target, func(t *testing.T) {
				p, err := Normalize(target, Options{MaxBytes: 8192})
				if !strings.HasPrefix(target, "/") {
					var pe *Error
					if !errors.As(err, &pe) || pe.Reason != ReasonNotAbsolute {
						t.Fatalf("Normalize(%q) = %+v, %v; want reason %s", target, p, err, ReasonNotAbsolute)
					}
					return
				}
				if err != nil {
					t.Fatalf("Normalize(%q) error: %v", target, err)
				}
				checkInvariants(t, target, Options{}, p)
			})
		}
	}
	if seen == 0 {
		t.Fatalf("no span[url] lines found in %s: the file format changed", llhttpDir)
	}
}
