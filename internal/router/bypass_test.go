package router

import (
	"errors"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pathnorm"
	"golang.org/x/text/unicode/norm"
)

// Outcomes of a bypass attempt against a router whose only route is
// "/public/**".
const (
	rejected = "rejected" // pathnorm.Normalize rejects the path
	notFound = "404"      // the canonical path is outside /public
	public   = "public"   // the route matches and forwards a path under /public
)

// bypassAttempts are paths that try to reach /admin through a route that
// only covers /public, with the outcome under the default options.
var bypassAttempts = []struct {
	raw  string
	want string
}{
	{"/public/../admin", notFound},
	{"/public/%2e%2e/admin", rejected},
	{"/public/%2E%2E/admin", rejected},
	{"/public/%252e%252e/admin", rejected},
	{"/admin/", notFound},
	{"//admin", notFound},
	{"/ADMIN", notFound},
	{"/admin;x=1", notFound},
	{"/admin%2fusers", rejected},
	{"/admin/.", notFound},
	{"/public/..%2fadmin", rejected},
	{`\admin`, rejected},
	{`/\admin`, rejected},
	{"/public/..;/admin", rejected},
	{"/public/..;x=1/admin", rejected},
	{"/public/.;/../admin", rejected},
	{"/public/%2e%2e%2fadmin", rejected},
	{"/public/%2e%2e%5cadmin", rejected},
	{"/public/%c0%ae%c0%ae/admin", rejected},
	{"/public/%c0%af../admin", rejected},
	{"/public/..%c0%af/admin", rejected},
	{"/public/%e0%80%ae%e0%80%ae/admin", rejected},
	{"/public/%00/admin", rejected},
	{"/public/..%00/admin", rejected},
	{"/public/.%00./admin", rejected},
	{"/%2e/admin", rejected},
	{"/public/%2e/admin", rejected},
	{"/public/.%2e/admin", rejected},
	{"/public/%2e./admin", rejected},
	{"/public//../admin", notFound},
	{"/public/．．/admin", rejected},
	{"/public/%EF%BC%8E%EF%BC%8E/admin", rejected},
	{"/public/%EF%B9%92%EF%B9%92/admin", rejected}, // SMALL FULL STOP
	{"/public/‥/admin", rejected},                  // TWO DOT LEADER
	{"/public/..／admin", rejected},
	{"/public/..%EF%BC%8Fadmin", rejected},
	{"/public/..＼admin", rejected},
	{"/public/..；/admin", rejected},
	{"/public/\t/../../admin", rejected},
	{"/public/%09/../../admin", rejected},
	{"/public/..%09/admin", rejected},
	{"/public/..%0d%0a/admin", rejected},
	{"/public/%C2%85/../../admin", rejected},
	{"/public/../../admin", rejected},
	{"/public/x/../../../admin", rejected},
	{`/public/..\admin`, rejected},
	{"/public/%5c../admin", rejected},
	{"/public%2f..%2fadmin", rejected},
	{"/public/%2F%2E%2E%2Fadmin", rejected},
	{"/public/x/..%5c..%5cadmin", rejected},
	{"/public/%u002e%u002e/admin", rejected},
	{"/public/%%2e%2e/admin", rejected},
	{"/public/%2%65%2e/admin", rejected},
	{"/public/%252f../admin", rejected},
	{"/public/..%252f..%252fadmin", rejected},
	{"/public/%25%32%65%25%32%65/admin", rejected},
	{"/public/..%20/admin", rejected},
	{"/public/.../admin", rejected},
	{"/public/%2e%2e%3b/admin", rejected},
	{"/public/.%2e;/admin", rejected},
	{"/public/x/..%3b/admin", rejected},
	{"/public/ ../admin", rejected},
	{"/public/..#/admin", rejected},
	{"/public/..?/admin", rejected},
	{"/public/%ff/admin", rejected},
	{"http://example.com/admin", rejected},
	{"*", rejected},
	{"", rejected},
	{"/public;x/../admin", notFound},
	{"/public/;/../../admin", notFound},
	{"/public/admin%23/../../admin", notFound},
	{"/public/%3f/../../admin", notFound},
	{"/PUBLIC/../admin", notFound},
	{"/public..;/admin", notFound},
	{"/publicadmin", notFound},
	{"/public", public},
	{"/public/", public},
	{"/public/./admin", public},
	{"/public/admin;x/..", public},
	{"/public/%3B/admin", public},
	{"/public/..a/admin", public},
	{"/public/a../admin", public},
	{"/public/%E3%80%82%E3%80%82/admin", public}, // IDEOGRAPHIC FULL STOP has no NFKC mapping to "."
	{"/public/∕../admin", public},                // DIVISION SLASH has no NFKC mapping to "/"
	{"/public/%25/admin", public},
	{"/public/a%25zz/admin", public},
}

func TestBypassAttempts(t *testing.T) {
	strict := mustNew(t, []config.Route{{Name: "public", Paths: []string{"/public/**"}}})
	lenient := mustNew(t, []config.Route{{
		Name: "public", Paths: []string{"/public/**"}, AllowEncodedSlash: true, CaseInsensitive: true,
	}})
	for _, tt := range bypassAttempts {
		t.Run(tt.raw, func(t *testing.T) {
			got := tryBypass(t, strict, tt.raw, false)
			if got != tt.want {
				t.Errorf("outcome %s, want %s", got, tt.want)
			}
			tryBypass(t, lenient, tt.raw, true)
		})
	}
}

// tryBypass normalizes, routes and forwards raw, and returns the outcome.
// It fails the test when a matched path, or the forwarded path as any of
// upstreamReadings reads it, is outside /public. lenient is true for the
// route with AllowEncodedSlash and CaseInsensitive.
func tryBypass(t *testing.T, r *Router, raw string, lenient bool) string {
	t.Helper()
	p, err := pathnorm.Normalize(raw, pathnorm.Options{AllowEncodedSlash: lenient, MaxBytes: 8192})
	if err != nil {
		var pe *pathnorm.Error
		if !errors.As(err, &pe) {
			t.Fatalf("Normalize(%q) error %v, want *pathnorm.Error", raw, err)
		}
		return rejected
	}
	m := r.Match("example.com", "GET", p.Decoded)
	switch m.Status {
	case 404:
		return notFound
	case 0:
	default:
		t.Fatalf("Match(%q) status %d, want 0 or 404", p.Decoded, m.Status)
	}

	if !underPublic(p.Decoded, lenient) {
		t.Errorf("route matched decoded path %q outside /public", p.Decoded)
	}
	forwarded := r.ForwardPath(m.Index, m, p.Decoded, p.Escaped)
	for name, read := range upstreamReadings {
		got, err := read(forwarded)
		if err != nil {
			t.Errorf("%s upstream cannot read forwarded path %q: %v", name, forwarded, err)
			continue
		}
		if !underPublic(got, lenient) {
			t.Errorf("%s upstream reads forwarded path %q as %q, outside /public", name, forwarded, got)
		}
	}
	return public
}

// underPublic reports whether p is /public or below it, ignoring ASCII
// case when fold is true.
func underPublic(p string, fold bool) bool {
	if fold {
		p = strings.ToLower(p)
	}
	return p == "/public" || strings.HasPrefix(p, "/public/")
}

// upstreamReadings are simplified models of how different upstream servers
// turn a forwarded path into the resource they serve.
var upstreamReadings = map[string]func(string) (string, error){
	// Go's url.PathUnescape followed by lexical cleaning, as a file server
	// might do.
	"decoding": func(p string) (string, error) {
		u, err := url.PathUnescape(p)
		return path.Clean(u), err
	},
	// A server that strips ";params" from raw segments before decoding, as
	// Tomcat does.
	"path parameters": func(p string) (string, error) {
		segs := strings.Split(p, "/")
		for i, s := range segs {
			segs[i], _, _ = strings.Cut(s, ";")
		}
		u, err := url.PathUnescape(strings.Join(segs, "/"))
		return path.Clean(u), err
	},
	// A Windows server: backslash is a separator, and trailing dots and
	// spaces of a segment are dropped. A segment of only dots and spaces is
	// read as ".." when it has two dots or more, the worst case.
	"windows": func(p string) (string, error) {
		u, err := url.PathUnescape(p)
		segs := strings.Split(strings.ReplaceAll(u, `\`, "/"), "/")
		for i, s := range segs {
			if strings.Trim(s, ". ") == "" && strings.Count(s, ".") >= 2 {
				segs[i] = ".."
			} else if trimmed := strings.TrimRight(s, ". "); trimmed != "" {
				segs[i] = trimmed
			}
		}
		return path.Clean(strings.Join(segs, "/")), err
	},
	// A server that applies Unicode NFKC after decoding.
	"nfkc": func(p string) (string, error) {
		u, err := url.PathUnescape(p)
		return path.Clean(strings.ReplaceAll(norm.NFKC.String(u), `\`, "/")), err
	},
}

// TestBypassToProtectedRoute routes every attempt through a protected
// case-insensitive "/admin/**" route and an open "/**" route: a request
// that the open route takes must not read as /admin upstream.
func TestBypassToProtectedRoute(t *testing.T) {
	r := mustNew(t, []config.Route{
		0: {Name: "admin", Paths: []string{"/admin/**"}, CaseInsensitive: true},
		1: {Name: "open", Paths: []string{"/**"}},
	})
	attempts := []string{
		"/admin;x=1", "/admin;", "/admin%3b", "/;/admin", "/%3B/admin", "/x;/../admin",
		"/%61dmin", "/ADMIN", "/Admin/", "//admin", "/./admin", "/admin%2e", "/.admin",
		"/admin%20", "/admin%09", "/admin%EF%BC%8F", "/%EF%BD%81dmin",
	}
	for _, tt := range bypassAttempts {
		attempts = append(attempts, tt.raw)
	}
	// NOTE: the "windows" and "nfkc" readings are left out because names
	// are not folded. An upstream that trims trailing dots reads "/admin."
	// as "/admin", and names like "U.S." are legitimate. An upstream that
	// applies NFKC reads fullwidth "/ａdmin" as "/admin".
	readings := []string{"decoding", "path parameters"}
	for _, raw := range attempts {
		t.Run(raw, func(t *testing.T) {
			p, err := pathnorm.Normalize(raw, pathnorm.Options{MaxBytes: 8192})
			if err != nil {
				return
			}
			m := r.Match("example.com", "GET", p.Decoded)
			if m.Index != 1 {
				return
			}
			forwarded := r.ForwardPath(m.Index, m, p.Decoded, p.Escaped)
			for _, name := range readings {
				got, err := upstreamReadings[name](forwarded)
				if err != nil {
					t.Fatalf("%s upstream cannot read forwarded path %q: %v", name, forwarded, err)
				}
				if got = strings.ToLower(got); got == "/admin" || strings.HasPrefix(got, "/admin/") {
					t.Errorf("open route forwards %q, which the %s upstream reads as %q", forwarded, name, got)
				}
			}
		})
	}
}
