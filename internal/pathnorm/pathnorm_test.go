package pathnorm

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestNormalizeAccepts(t *testing.T) {
	allow := Options{AllowEncodedSlash: true}
	tests := []struct {
		name        string
		raw         string
		opt         Options
		wantDecoded string
		wantEscaped string
	}{
		{"root", "/", Options{}, "/", "/"},
		{"plain", "/books/42", Options{}, "/books/42", "/books/42"},
		{"trailing slash kept", "/books/", Options{}, "/books/", "/books/"},
		{"sub-delims kept", "/a!$&'()*+,=:@b", Options{}, "/a!$&'()*+,=:@b", "/a!$&'()*+,=:@b"},
		{"dot in name", "/.well-known/x.json", Options{}, "/.well-known/x.json", "/.well-known/x.json"},
		{"merge slashes", "//a///b", Options{}, "/a/b", "/a/b"},
		{"merge trailing slashes", "/a//", Options{}, "/a/", "/a/"},
		{"only slashes", "///", Options{}, "/", "/"},
		{"dot segment", "/a/./b", Options{}, "/a/b", "/a/b"},
		{"dot dot segment", "/a/b/../c", Options{}, "/a/c", "/a/c"},
		{"final dot", "/a/.", Options{}, "/a/", "/a/"},
		{"final dot dot", "/a/b/..", Options{}, "/a/", "/a/"},
		{"back to root", "/a/..", Options{}, "/", "/"},
		{"lone dot", "/.", Options{}, "/", "/"},
		{"merge before dots", "/a//../b", Options{}, "/b", "/b"},
		{"decode unreserved", "/%41%62%7e%2D", Options{}, "/Ab~-", "/Ab~-"},
		{"lower-case hex", "/caf%c3%a9", Options{}, "/café", "/caf%C3%A9"},
		{"raw UTF-8", "/δ¶/pope", Options{}, "/δ¶/pope", "/%CE%B4%C2%B6/pope"},
		{"encoded space", "/a%20b", Options{}, "/a b", "/a%20b"},
		{"encoded query char", "/a%3Fb%23c", Options{}, "/a?b#c", "/a%3Fb%23c"},
		{"literal percent", "/100%25", Options{}, "/100%", "/100%25"},
		{"percent then non-hex", "/50%25off", Options{}, "/50%off", "/50%25off"},
		{"semicolon encoded", "/admin;x=1", Options{}, "/admin;x=1", "/admin%3Bx=1"},
		{"semicolon from escape", "/a%3bb", Options{}, "/a;b", "/a%3Bb"},
		{"semicolon segment", "/public/;/../x", Options{}, "/public/x", "/public/x"},
		{"raw quotes", `/with_"lovely"_quotes`, Options{}, `/with_"lovely"_quotes`, "/with_%22lovely%22_quotes"},
		{"raw braces", "/a{b}|c", Options{}, "/a{b}|c", "/a%7Bb%7D%7Cc"},
		{"encoded sub-delim decoded", "/a%2Bb%40c", Options{}, "/a+b@c", "/a+b@c"},
		{"three dots inside name", "/a...b", Options{}, "/a...b", "/a...b"},
		{"fullwidth letters kept", "/%EF%BC%A1", Options{}, "/Ａ", "/%EF%BC%A1"},
		{"combining kept", "/e%CC%81", Options{}, "/e\u0301", "/e%CC%81"},
		{"max bytes exact", "/abcd", Options{MaxBytes: 5}, "/abcd", "/abcd"},
		{"encoded slash allowed", "/a%2fb", allow, "/a%2Fb", "/a%2Fb"},
		{"encoded backslash allowed", "/a%5cb", allow, "/a%5Cb", "/a%5Cb"},
		{"percent before marker", "/a%25%2Fb", allow, "/a%%2Fb", "/a%25%2Fb"},
		{"leading marker", "/%2Fetc", allow, "/%2Fetc", "/%2Fetc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.opt)
			if err != nil {
				t.Fatalf("Normalize(%q) error: %v", tt.raw, err)
			}
			if got.Decoded != tt.wantDecoded {
				t.Errorf("Decoded = %q, want %q", got.Decoded, tt.wantDecoded)
			}
			if got.Escaped != tt.wantEscaped {
				t.Errorf("Escaped = %q, want %q", got.Escaped, tt.wantEscaped)
			}
			checkInvariants(t, tt.raw, tt.opt, got)
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	allow := Options{AllowEncodedSlash: true}
	tests := []struct {
		name       string
		raw        string
		opt        Options
		wantReason string
		wantOffset int
	}{
		{"empty", "", Options{}, ReasonNotAbsolute, 0},
		{"asterisk", "*", Options{}, ReasonNotAbsolute, 0},
		{"relative", "books", Options{}, ReasonNotAbsolute, 0},
		{"absolute form", "http://example.com/a", Options{}, ReasonNotAbsolute, 0},
		{"leading backslash", `\admin`, Options{}, ReasonNotAbsolute, 0},
		{"raw backslash", `/a\b`, Options{}, ReasonBackslash, 2},
		{"backslash dots", `/a/..\b`, Options{}, ReasonBackslash, 5},
		{"too long", "/abcdef", Options{MaxBytes: 6}, ReasonPathTooLong, -1},
		{"short escape", "/a%4", Options{}, ReasonInvalidEscape, 2},
		{"non-hex escape", "/a%zz", Options{}, ReasonInvalidEscape, 2},
		{"bare percent", "/a%", Options{}, ReasonInvalidEscape, 2},
		{"IIS unicode escape", "/%u002e%u002e/x", Options{}, ReasonInvalidEscape, 1},
		{"percent percent", "/%%32%65", Options{}, ReasonInvalidEscape, 1},
		{"raw space", "/a b", Options{}, ReasonInvalidCharacter, 2},
		{"raw hash", "/a#b", Options{}, ReasonInvalidCharacter, 2},
		{"raw question mark", "/a?b", Options{}, ReasonInvalidCharacter, 2},
		{"raw NUL", "/a\x00", Options{}, ReasonControlCharacter, 2},
		{"raw tab", "/a\tb", Options{}, ReasonControlCharacter, 2},
		{"raw DEL", "/a\x7f", Options{}, ReasonControlCharacter, 2},
		{"encoded NUL", "/a%00", Options{}, ReasonControlCharacter, 2},
		{"encoded newline", "/a%0d%0aSet-Cookie:x", Options{}, ReasonControlCharacter, 2},
		{"encoded DEL", "/a%7F", Options{}, ReasonControlCharacter, 2},
		{"encoded C1 NEL", "/a%C2%85", Options{}, ReasonControlCharacter, 1},
		{"encoded slash", "/a%2Fb", Options{}, ReasonEncodedSlash, 2},
		{"encoded slash lower", "/a%2fb", Options{}, ReasonEncodedSlash, 2},
		{"encoded backslash", "/a%5Cb", Options{}, ReasonEncodedBackslash, 2},
		{"overlong dot", "/%c0%ae%c0%ae/x", Options{}, ReasonInvalidUTF8, 1},
		{"overlong slash", "/a%c0%afb", Options{}, ReasonInvalidUTF8, 1},
		{"three byte overlong", "/%e0%80%ae", Options{}, ReasonInvalidUTF8, 1},
		{"surrogate", "/%ed%a0%80", Options{}, ReasonInvalidUTF8, 1},
		{"raw invalid byte", "/a\xffb", Options{}, ReasonInvalidUTF8, 1},
		{"double encoded dots", "/%252e%252e/x", Options{}, ReasonDoubleEncoding, 1},
		{"double encoded slash", "/a%252fb", Options{}, ReasonDoubleEncoding, 2},
		{"double encoded letter", "/%2541", Options{}, ReasonDoubleEncoding, 1},
		{"percent then escaped hex", "/%25%32%65", Options{}, ReasonDoubleEncoding, 1},
		{"percent then raw and escaped hex", "/%252%65", Options{}, ReasonDoubleEncoding, 1},
		{"encoded dot dot", "/a/%2e%2e/b", Options{}, ReasonDotSegmentEncoded, 3},
		{"encoded dot", "/%2e/admin", Options{}, ReasonDotSegmentEncoded, 1},
		{"half encoded", "/a/.%2E/b", Options{}, ReasonDotSegmentEncoded, 3},
		{"dots behind allowed slash", "/a/..%2Fb", allow, ReasonDotSegmentEncoded, 3},
		{"dot behind allowed backslash", "/a/x%5C.", allow, ReasonDotSegmentEncoded, 3},
		{"dot params", "/a/..;/b", Options{}, ReasonDotSegmentParams, 3},
		{"dot params value", "/a/..;x=1/b", Options{}, ReasonDotSegmentParams, 3},
		{"single dot params", "/a/.;/b", Options{}, ReasonDotSegmentParams, 3},
		{"encoded params", "/a/%2e%2e%3bx/b", Options{}, ReasonDotSegmentParams, 3},
		{"params behind allowed slash", "/a/x%2F..;y", allow, ReasonDotSegmentParams, 3},
		{"three dots", "/a/.../b", Options{}, ReasonDotSegmentVariant, 3},
		{"dots and space", "/a/..%20/b", Options{}, ReasonDotSegmentVariant, 3},
		{"above root", "/..", Options{}, ReasonAboveRoot, 1},
		{"above root later", "/a/../../b", Options{}, ReasonAboveRoot, 6},
		{"fullwidth dots", "/a/%EF%BC%8E%EF%BC%8E/b", Options{}, ReasonUnicodeDotSegment, 3},
		{"raw fullwidth dots", "/a/．．/b", Options{}, ReasonUnicodeDotSegment, 3},
		{"two dot leader", "/a/‥/b", Options{}, ReasonUnicodeDotSegment, 3},
		{"one dot leaders", "/a/%E2%80%A4%E2%80%A4/b", Options{}, ReasonUnicodeDotSegment, 3},
		{"fullwidth semicolon", "/a/..；x/b", Options{}, ReasonUnicodeDotSegment, 3},
		{"fullwidth slash", "/a/..／b", Options{}, ReasonUnicodeSlash, 3},
		{"fullwidth backslash", "/a/%EF%BC%BC", Options{}, ReasonUnicodeSlash, 3},
		{"fullwidth slash with allow", "/a%EF%BC%8Fb", allow, ReasonUnicodeSlash, 1},
		{"fullwidth dots behind marker", "/a/x%2F．．", allow, ReasonUnicodeDotSegment, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.opt)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Normalize(%q) = %+v, %v; want *Error with reason %s", tt.raw, got, err, tt.wantReason)
			}
			if pe.Reason != tt.wantReason {
				t.Errorf("Reason = %s, want %s (%v)", pe.Reason, tt.wantReason, err)
			}
			if pe.Offset != tt.wantOffset {
				t.Errorf("Offset = %d, want %d", pe.Offset, tt.wantOffset)
			}
			wantStatus := http.StatusBadRequest
			if tt.wantReason == ReasonPathTooLong {
				wantStatus = http.StatusRequestURITooLong
			}
			if pe.Status != wantStatus {
				t.Errorf("Status = %d, want %d", pe.Status, wantStatus)
			}
			if got != (Path{}) {
				t.Errorf("Path = %+v, want zero Path with an error", got)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	huge := "/" + strings.Repeat("a", 100_000) + "%zz"
	tests := []struct {
		name string
		raw  string
		opt  Options
		want string
	}{
		{"offset", "/a%zz", Options{}, `invalid request path: "%" not followed by two hex digits at byte 2`},
		{"whole path", "/abcdef", Options{MaxBytes: 4}, "invalid request path: 7 bytes, longer than the maximum of 4 bytes"},
		{"huge input", huge, Options{}, `invalid request path: "%" not followed by two hex digits at byte 100001`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalize(tt.raw, tt.opt)
			if err == nil {
				t.Fatalf("Normalize(%.20q...) error = nil, want %q", tt.raw, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "/a/b-c_d~e", "/a/b-c_d~e"},
		{"space", "a b", "a%20b"},
		{"semicolon", "a;b", "a%3Bb"},
		{"percent", "100%", "100%25"},
		{"markers kept", "a%2Fb%5Cc", "a%2Fb%5Cc"},
		{"lower-case marker escaped", "a%2fb", "a%252fb"},
		{"marker at end", "a%2", "a%252"},
		{"non-ASCII", "é", "%C3%A9"},
		{"query chars", "?#[]", "%3F%23%5B%5D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeCanonicalDoesNotAllocate(t *testing.T) {
	for _, raw := range []string{"/", "/api/v1/users/42/orders", "/a/b/", "/.well-known/x"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := Normalize(raw, Options{MaxBytes: 8192}); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Normalize(%q) allocates %v times per call, want 0", raw, allocs)
		}
	}
}

func TestEscapeCanonicalDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = Escape("/api/v1/users/42") })
	if allocs != 0 {
		t.Errorf("Escape allocates %v times per call, want 0", allocs)
	}
}

func TestPathHasEncodedSlash(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"/a/b", false},
		{"/100%25", false},
		{"/a%25%2Fb", true},
		{"/a%2fb", true},
		{"/a%5Cb", true},
		{"/a%2Fb/../c", true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			p, err := Normalize(tt.raw, Options{AllowEncodedSlash: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.HasEncodedSlash(); got != tt.want {
				t.Errorf("Normalize(%q).HasEncodedSlash() = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}
