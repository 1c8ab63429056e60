package router

import (
	"fmt"
	"testing"

	"github.com/warden-api/warden/internal/config"
)

// benchmarkRoutes returns 200 routes shaped like a mid-sized API: 36
// resources with five patterns each, some on their own host, plus static
// and case-insensitive routes.
func benchmarkRoutes() []config.Route {
	var routes []config.Route
	for i := range 36 {
		res := fmt.Sprintf("resource%d", i)
		var hosts []string
		if i%6 == 0 {
			hosts = []string{fmt.Sprintf("tenant%d.example.com", i)}
		}
		routes = append(routes,
			config.Route{Name: res + "-list", Hosts: hosts, Paths: []string{"/api/v1/" + res}, Methods: []string{"GET"}},
			config.Route{Name: res + "-create", Hosts: hosts, Paths: []string{"/api/v1/" + res}, Methods: []string{"POST"}},
			config.Route{Name: res + "-item", Hosts: hosts, Paths: []string{"/api/v1/" + res + "/{id}"}, Methods: []string{"GET", "PUT", "DELETE"}},
			config.Route{Name: res + "-sub", Hosts: hosts, Paths: []string{"/api/v1/" + res + "/{id}/items/{item}"}},
			config.Route{Name: res + "-files", Hosts: hosts, Paths: []string{"/files/" + res + "/**"}},
		)
	}
	for i := range 20 {
		routes = append(routes, config.Route{
			Name: fmt.Sprintf("legacy%d", i), Paths: []string{fmt.Sprintf("/Legacy%d/{page}", i)}, CaseInsensitive: true,
		})
	}
	return routes
}

func BenchmarkMatch(b *testing.B) {
	routes := benchmarkRoutes()
	if len(routes) != 200 {
		b.Fatalf("benchmark has %d routes, want 200", len(routes))
	}
	r := mustNew(b, routes)
	requests := []struct {
		name, host, method, path string
	}{
		{"literal", "api.test", "GET", "/api/v1/resource35"},
		{"one param", "api.test", "GET", "/api/v1/resource17/12345"},
		{"two params", "api.test", "GET", "/api/v1/resource17/12345/items/678"},
		{"rest", "api.test", "GET", "/files/resource20/a/b/c.png"},
		{"exact host", "tenant12.example.com:443", "GET", "/api/v1/resource12/9"},
		{"case-insensitive", "api.test", "GET", "/LEGACY19/index"},
		{"405", "api.test", "PATCH", "/api/v1/resource35"},
		{"404", "api.test", "GET", "/api/v2/unknown/path"},
	}
	for _, req := range requests {
		b.Run(req.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Match(req.host, req.method, req.path)
			}
		})
	}
}

func BenchmarkForwardPath(b *testing.B) {
	r := mustNew(b, []config.Route{
		{Name: "strip", Paths: []string{"/api/**"}, StripPrefix: "/api"},
		{Name: "rewrite", Paths: []string{"/users/{id}"}, Rewrite: "/v2/users/{id}"},
	})
	for _, path := range []string{"/api/v1/users/42", "/users/42"} {
		b.Run(path, func(b *testing.B) {
			m := r.Match("h", "GET", path)
			b.ReportAllocs()
			for b.Loop() {
				r.ForwardPath(m.Index, m, path, path)
			}
		})
	}
}
