package router

import (
	"net/http"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/pathnorm"
)

func FuzzRouterMatch(f *testing.F) {
	r := mustNew(f, fixtureRoutes())
	for _, seed := range []struct{ host, method, path string }{
		{"any.test", "GET", "/books/42"},
		{"API.example.com:80", "POST", "/books"},
		{"a.example.com", "HEAD", "/books/x/y"},
		{"[::1]:8080", "GET", "/users/1/orders/2"},
		{"", "", ""},
		{".", "GET", "//"},
		{"x", "GET", "/ADMIN/\u212A"},
		{"fallback.test", "DELETE", "/static/%2e%2e/"},
	} {
		f.Add(seed.host, seed.method, seed.path)
	}
	f.Fuzz(func(t *testing.T, host, method, path string) {
		// Match must not panic on any input, canonical or not.
		checkMatch(t, r, host, method, path)
		if p, err := pathnorm.Normalize(path, pathnorm.Options{}); err == nil {
			m := checkMatch(t, r, host, method, p.Decoded)
			if m.Status == 0 {
				fwd := r.ForwardPath(m.Index, m, p.Decoded, p.Escaped)
				if fwd == "" || fwd[0] != '/' {
					t.Fatalf("ForwardPath(%q) = %q, want a path starting with \"/\"", p.Decoded, fwd)
				}
			}
		}
	})
}

// checkMatch matches one request and checks that the result is consistent.
func checkMatch(t *testing.T, r *Router, host, method, path string) Match {
	t.Helper()
	m := r.Match(host, method, path)
	switch m.Status {
	case 0:
		if m.Index < 0 || m.Index >= len(r.routes) {
			t.Fatalf("Match(%q, %q, %q) = index %d on a match, want a route index", host, method, path, m.Index)
		}
		for _, p := range m.Params {
			if p.Value == "" || strings.Contains(p.Value, "/") {
				t.Fatalf("Match(%q, %q, %q) binds %s = %q, want one non-empty segment", host, method, path, p.Name, p.Value)
			}
		}
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		if m.Index != -1 || m.Params != nil {
			t.Fatalf("Match(%q, %q, %q) = %+v, want index -1 and no params with status %d", host, method, path, m, m.Status)
		}
		if m.Status == http.StatusMethodNotAllowed && len(m.Allow) == 0 {
			t.Fatalf("Match(%q, %q, %q) = 405 with an empty Allow list", host, method, path)
		}
	default:
		t.Fatalf("Match(%q, %q, %q) status %d, want 0, 404 or 405", host, method, path, m.Status)
	}
	return m
}
