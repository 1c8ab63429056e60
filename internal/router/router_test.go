package router

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// fixtureRoutes exercise every precedence rule. Tests refer to them by
// index.
func fixtureRoutes() []config.Route {
	return []config.Route{
		0:  {Name: "books", Paths: []string{"/books", "/books/{id}"}, Methods: []string{"GET"}},
		1:  {Name: "books-write", Paths: []string{"/books/"}, Methods: []string{"POST"}},
		2:  {Name: "book-me", Paths: []string{"/books/me"}},
		3:  {Name: "static", Paths: []string{"/static/**"}},
		4:  {Name: "static-exact", Paths: []string{"/static"}},
		5:  {Name: "static-one", Paths: []string{"/static/{file}"}},
		6:  {Name: "orders", Paths: []string{"/users/{uid}/orders/{oid}"}},
		7:  {Name: "user-rest", Paths: []string{"/users/{uid}/**"}},
		8:  {Name: "api-books", Hosts: []string{"API.example.com"}, Paths: []string{"/books"}, Methods: []string{"GET"}},
		9:  {Name: "wild-books", Hosts: []string{"*.example.com"}, Paths: []string{"/books/**"}},
		10: {Name: "admin-ci", Paths: []string{"/Admin/{Section}"}, CaseInsensitive: true},
		11: {Name: "admin-users", Paths: []string{"/admin/users"}},
		12: {Name: "root", Paths: []string{"/"}},
		13: {Name: "fallback", Hosts: []string{"fallback.test"}, Paths: []string{"/**"}},
		14: {Name: "head-only", Paths: []string{"/ping"}, Methods: []string{"HEAD"}},
		15: {Name: "ping", Paths: []string{"/ping"}, Methods: []string{"GET"}},
		16: {Name: "ipv6", Hosts: []string{"[::1]"}, Paths: []string{"/books"}},
	}
}

func mustNew(t testing.TB, routes []config.Route) *Router {
	t.Helper()
	r, err := New(routes)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func TestMatch(t *testing.T) {
	r := mustNew(t, fixtureRoutes())
	params := func(kv ...string) []pipeline.Param {
		var ps []pipeline.Param
		for i := 0; i < len(kv); i += 2 {
			ps = append(ps, pipeline.Param{Name: kv[i], Value: kv[i+1]})
		}
		return ps
	}
	tests := []struct {
		name   string
		host   string
		method string
		path   string
		want   Match
	}{
		{"exact", "any.test", "GET", "/books", Match{Index: 0}},
		{"method picks route", "any.test", "POST", "/books", Match{Index: 1}},
		{"trailing slash ignored", "any.test", "GET", "/books/", Match{Index: 0}},
		{"GET route serves HEAD", "any.test", "HEAD", "/books", Match{Index: 0}},
		{"405 with allow", "any.test", "DELETE", "/books", Match{Index: -1, Status: 405, Allow: []string{"GET", "HEAD", "POST"}}},
		{"param", "any.test", "GET", "/books/42", Match{Index: 0, Params: params("id", "42")}},
		{"literal beats param", "any.test", "GET", "/books/me", Match{Index: 2}},
		{"no method fallback", "any.test", "PUT", "/books/42", Match{Index: -1, Status: 405, Allow: []string{"GET", "HEAD"}}},
		{"exact beats rest", "any.test", "GET", "/static", Match{Index: 4}},
		{"exact beats rest with slash", "any.test", "GET", "/static/", Match{Index: 4}},
		{"param beats rest", "any.test", "GET", "/static/a.css", Match{Index: 5, Params: params("file", "a.css")}},
		{"rest below", "any.test", "GET", "/static/css/a.css", Match{Index: 3}},
		{"rest is segment bound", "any.test", "GET", "/staticfoo", Match{Index: -1, Status: 404}},
		{"two params", "any.test", "GET", "/users/7/orders/9", Match{Index: 6, Params: params("uid", "7", "oid", "9")}},
		{"backtrack to rest", "any.test", "GET", "/users/7/orders", Match{Index: 7, Params: params("uid", "7")}},
		{"rest matches zero segments", "any.test", "GET", "/users/7", Match{Index: 7, Params: params("uid", "7")}},
		{"param needs a segment", "any.test", "GET", "/users", Match{Index: -1, Status: 404}},
		{"exact host", "api.example.com", "GET", "/books", Match{Index: 8}},
		{"exact host case and port", "API.Example.COM:8443", "GET", "/books", Match{Index: 8}},
		{"exact host trailing dot", "api.example.com.", "GET", "/books", Match{Index: 8}},
		{"exact host owns method", "api.example.com", "POST", "/books", Match{Index: -1, Status: 405, Allow: []string{"GET", "HEAD"}}},
		{"exact host falls to wildcard", "api.example.com", "GET", "/books/42", Match{Index: 9}},
		{"wildcard", "shop.example.com", "DELETE", "/books", Match{Index: 9}},
		{"wildcard one label", "a.b.example.com", "GET", "/books/42", Match{Index: 0, Params: params("id", "42")}},
		{"wildcard not apex", "example.com", "GET", "/books/42", Match{Index: 0, Params: params("id", "42")}},
		{"wildcard empty label", ".example.com", "GET", "/books/42", Match{Index: 0, Params: params("id", "42")}},
		{"case-insensitive", "any.test", "GET", "/ADMIN/Logs", Match{Index: 10, Params: params("Section", "Logs")}},
		{"exact case beats folded", "any.test", "GET", "/admin/users", Match{Index: 11}},
		{"folded when case differs", "any.test", "GET", "/ADMIN/users", Match{Index: 10, Params: params("Section", "users")}},
		{"fold Unicode", "any.test", "GET", "/\u212Admin/x", Match{Index: -1, Status: 404}},
		{"root", "any.test", "GET", "/", Match{Index: 12}},
		{"host catch-all first", "fallback.test", "GET", "/books", Match{Index: 13}},
		{"explicit HEAD route", "any.test", "HEAD", "/ping", Match{Index: 14}},
		{"GET beside HEAD route", "any.test", "GET", "/ping", Match{Index: 15}},
		{"IPv6 host", "[::1]:8080", "DELETE", "/books", Match{Index: 16}},
		{"empty path", "any.test", "GET", "", Match{Index: -1, Status: 404}},
		{"relative path", "any.test", "GET", "books", Match{Index: -1, Status: 404}},
		{"empty segment never matches", "any.test", "GET", "/books//", Match{Index: -1, Status: 404}},
		{"method is case-sensitive", "any.test", "get", "/books", Match{Index: -1, Status: 405, Allow: []string{"GET", "HEAD", "POST"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Match(tt.host, tt.method, tt.path)
			if got.Index != tt.want.Index || got.Status != tt.want.Status {
				t.Errorf("Match(%q, %s, %q) = index %d status %d, want index %d status %d",
					tt.host, tt.method, tt.path, got.Index, got.Status, tt.want.Index, tt.want.Status)
			}
			if !slices.Equal(got.Params, tt.want.Params) {
				t.Errorf("Params = %v, want %v", got.Params, tt.want.Params)
			}
			if !slices.Equal(got.Allow, tt.want.Allow) {
				t.Errorf("Allow = %v, want %v", got.Allow, tt.want.Allow)
			}
		})
	}
}

func TestMatchFoldsUnicode(t *testing.T) {
	r := mustNew(t, []config.Route{
		{Name: "kelvin", Paths: []string{"/kelvin/straße"}, CaseInsensitive: true},
	})
	tests := []struct {
		path string
		want int
	}{
		{"/KELVIN/STRAßE", 0},
		{"/\u212Aelvin/straße", 0}, // KELVIN SIGN folds to K
		{"/kelvin/strasse", -1},    // simple folding does not expand ß
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := r.Match("h", "GET", tt.path); got.Index != tt.want {
				t.Errorf("Match(%q).Index = %d, want %d", tt.path, got.Index, tt.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	route := func(paths ...string) config.Route {
		return config.Route{Name: "r", Paths: paths}
	}
	tests := []struct {
		name      string
		routes    []config.Route
		wantField string
		wantMsg   string
	}{
		{"relative pattern", []config.Route{route("books")}, "routes[0].paths[0]", `must start with "/"`},
		{"empty pattern", []config.Route{route("")}, "routes[0].paths[0]", "missing pattern"},
		{"text around param", []config.Route{route("/a/{id}.json")}, "routes[0].paths[0]", "must be a whole segment"},
		{"text before param", []config.Route{route("/a/x{id}")}, "routes[0].paths[0]", "must be a whole segment"},
		{"rest not last", []config.Route{route("/a/**/b")}, "routes[0].paths[0]", `"**" must be the last segment`},
		{"single star", []config.Route{route("/a/*")}, "routes[0].paths[0]", `use "{name}" for one segment`},
		{"star in literal", []config.Route{route("/a*b")}, "routes[0].paths[0]", `"*" is only valid`},
		{"bad param name", []config.Route{route("/a/{1x}")}, "routes[0].paths[0]", "invalid parameter name"},
		{"empty param name", []config.Route{route("/a/{}")}, "routes[0].paths[0]", "invalid parameter name"},
		{"param twice", []config.Route{route("/a/{id}/{id}")}, "routes[0].paths[0]", "appears twice"},
		{"empty segment", []config.Route{route("/a//b")}, "routes[0].paths[0]", "empty segment"},
		{"dot segment", []config.Route{route("/a/../b")}, "routes[0].paths[0]", "never matches"},
		{"encoded literal", []config.Route{route("/a/%41")}, "routes[0].paths[0]", "double_encoding"},
		{"control literal", []config.Route{route("/a\tb")}, "routes[0].paths[0]", "control_character"},
		{"too many params", []config.Route{route("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p}/{q}")}, "routes[0].paths[0]", "more than the maximum of 16"},
		{"no paths", []config.Route{{Name: "r"}}, "routes[0].paths", "at least one path pattern"},
		{"missing name", []config.Route{{Paths: []string{"/a"}}}, "routes[0].name", "missing route name"},
		{"duplicate name", []config.Route{
			{Name: "a", Paths: []string{"/a"}},
			{Name: "a", Paths: []string{"/b"}},
		}, "routes[1].name", `duplicate route name "a": also used by routes[0]`},
		{"same pattern same method", []config.Route{
			{Name: "a", Paths: []string{"/books"}, Methods: []string{"GET"}},
			{Name: "b", Paths: []string{"/x", "/books"}, Methods: []string{"POST", "GET"}},
		}, "routes[1].paths[1]", "conflicts with routes[0].paths[0] on any host for method GET"},
		{"param names differ", []config.Route{
			{Name: "a", Paths: []string{"/u/{a}"}},
			{Name: "b", Paths: []string{"/u/{b}"}},
		}, "routes[1].paths[0]", "for every method"},
		{"trailing slash differs", []config.Route{
			{Name: "a", Paths: []string{"/x"}},
			{Name: "b", Paths: []string{"/x/"}, Methods: []string{"GET"}},
		}, "routes[1].paths[0]", "for method GET"},
		{"same host", []config.Route{
			{Name: "a", Hosts: []string{"a.test"}, Paths: []string{"/x"}},
			{Name: "b", Hosts: []string{"b.test", "A.TEST"}, Paths: []string{"/x"}},
		}, "routes[1].paths[0]", `on host "a.test"`},
		{"folded literals", []config.Route{
			{Name: "a", Paths: []string{"/Books"}, CaseInsensitive: true},
			{Name: "b", Paths: []string{"/bOOKS"}, CaseInsensitive: true},
		}, "routes[1].paths[0]", "conflicts with routes[0].paths[0]"},
		{"pattern repeated in route", []config.Route{route("/x", "/x/")}, "routes[0].paths[1]", "of the same route"},
		{"any host star", []config.Route{{Name: "r", Hosts: []string{"*"}, Paths: []string{"/"}}}, "routes[0].hosts[0]", "leave hosts empty"},
		{"host with port", []config.Route{{Name: "r", Hosts: []string{"a.test:8080"}, Paths: []string{"/"}}}, "routes[0].hosts[0]", "remove the port"},
		{"inner wildcard", []config.Route{{Name: "r", Hosts: []string{"a.*.test"}, Paths: []string{"/"}}}, "routes[0].hosts[0]", "whole first label"},
		{"bare wildcard", []config.Route{{Name: "r", Hosts: []string{"*."}, Paths: []string{"/"}}}, "routes[0].hosts[0]", "missing name"},
		{"empty label", []config.Route{{Name: "r", Hosts: []string{"a..test"}, Paths: []string{"/"}}}, "routes[0].hosts[0]", "empty label"},
		{"unicode host", []config.Route{{Name: "r", Hosts: []string{"bücher.test"}, Paths: []string{"/"}}}, "routes[0].hosts[0]", "xn--"},
		{"duplicate host", []config.Route{{Name: "r", Hosts: []string{"a.test", "A.test."}, Paths: []string{"/"}}}, "routes[0].hosts[1]", "duplicate host"},
		{"invalid method", []config.Route{{Name: "r", Methods: []string{"GE T"}, Paths: []string{"/"}}}, "routes[0].methods[0]", "invalid method"},
		{"duplicate method", []config.Route{{Name: "r", Methods: []string{"GET", "GET"}, Paths: []string{"/"}}}, "routes[0].methods[1]", "duplicate method"},
		{"strip with param", []config.Route{{Name: "r", Paths: []string{"/a/**"}, StripPrefix: "/a/{x}"}}, "routes[0].strip_prefix", "parameters are not allowed"},
		{"strip root", []config.Route{{Name: "r", Paths: []string{"/a/**"}, StripPrefix: "/"}}, "routes[0].strip_prefix", "removes nothing"},
		{"strip not a prefix", []config.Route{{Name: "r", Paths: []string{"/api/**", "/v1/x"}, StripPrefix: "/api"}}, "routes[0].strip_prefix", `does not match the start of routes[0].paths[1] ("/v1/x")`},
		{"strip longer than path", []config.Route{{Name: "r", Paths: []string{"/api"}, StripPrefix: "/api/v1"}}, "routes[0].strip_prefix", "does not match the start"},
		{"rewrite unbound param", []config.Route{{Name: "r", Paths: []string{"/u/{id}", "/u"}, Rewrite: "/v2/{id}"}}, "routes[0].rewrite", `parameter {id} is not bound by routes[0].paths[1] ("/u")`},
		{"rewrite rest", []config.Route{{Name: "r", Paths: []string{"/u/**"}, Rewrite: "/v2/**"}}, "routes[0].rewrite", `"**" is not allowed here`},
		{"rewrite and strip", []config.Route{{Name: "r", Paths: []string{"/u/**"}, StripPrefix: "/u", Rewrite: "/v2"}}, "routes[0].rewrite", "strip_prefix has no effect"},
		{"rewrite relative", []config.Route{{Name: "r", Paths: []string{"/u"}, Rewrite: "v2"}}, "routes[0].rewrite", `must start with "/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.routes)
			if err == nil {
				t.Fatalf("New() error = nil, want %s: %s", tt.wantField, tt.wantMsg)
			}
			if r != nil {
				t.Errorf("New() router = %v, want nil with an error", r)
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("New() error type %T, want config.Errors", err)
			}
			for _, fe := range errs {
				if fe.Path == tt.wantField && strings.Contains(fe.Message, tt.wantMsg) {
					return
				}
			}
			t.Errorf("New() errors:\n%v\nwant one at %s containing %q", err, tt.wantField, tt.wantMsg)
		})
	}
}

func TestNewAcceptsOverlaps(t *testing.T) {
	tests := []struct {
		name   string
		routes []config.Route
	}{
		{"disjoint methods", []config.Route{
			{Name: "a", Paths: []string{"/x"}, Methods: []string{"GET"}},
			{Name: "b", Paths: []string{"/x"}, Methods: []string{"POST"}},
		}},
		{"different hosts", []config.Route{
			{Name: "a", Hosts: []string{"a.test"}, Paths: []string{"/x"}},
			{Name: "b", Hosts: []string{"b.test"}, Paths: []string{"/x"}},
		}},
		{"exact and wildcard host", []config.Route{
			{Name: "a", Hosts: []string{"a.example.com"}, Paths: []string{"/x"}},
			{Name: "b", Hosts: []string{"*.example.com"}, Paths: []string{"/x"}},
			{Name: "c", Paths: []string{"/x"}},
		}},
		{"exact and rest", []config.Route{
			{Name: "a", Paths: []string{"/x"}},
			{Name: "b", Paths: []string{"/x/**"}},
		}},
		{"case-sensitive and folded", []config.Route{
			{Name: "a", Paths: []string{"/x"}},
			{Name: "b", Paths: []string{"/X"}, CaseInsensitive: true},
		}},
		{"allowed encoded slash literal", []config.Route{
			{Name: "a", Paths: []string{"/a%2Fb"}, AllowEncodedSlash: true},
		}},
		{"strip through param", []config.Route{
			{Name: "a", Paths: []string{"/{tenant}/api/**"}, StripPrefix: "/acme"},
		}},
		{"strip through rest", []config.Route{
			{Name: "a", Paths: []string{"/static/**"}, StripPrefix: "/static/css"},
		}},
		{"strip folded", []config.Route{
			{Name: "a", Paths: []string{"/Api/**"}, StripPrefix: "/API", CaseInsensitive: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.routes); err != nil {
				t.Errorf("New() error: %v", err)
			}
		})
	}
}

func TestForwardPath(t *testing.T) {
	r := mustNew(t, []config.Route{
		0: {Name: "plain", Paths: []string{"/plain/**"}},
		1: {Name: "strip", Paths: []string{"/api/**"}, StripPrefix: "/api/"},
		2: {Name: "strip-ci", Paths: []string{"/Svc/**"}, StripPrefix: "/SVC", CaseInsensitive: true},
		3: {Name: "rewrite", Paths: []string{"/users/{id}", "/people/{id}/"}, Rewrite: "/v2/users/{id}"},
		4: {Name: "rewrite-two", Paths: []string{"/o/{org}/r/{repo}"}, Rewrite: "/repos/{repo}/{org}/"},
		5: {Name: "rewrite-static", Paths: []string{"/old"}, Rewrite: "/new path/x;y"},
		6: {Name: "files", Paths: []string{"/files/{key}"}, Rewrite: "/objects/{key}", AllowEncodedSlash: true},
		7: {Name: "strip-param", Paths: []string{"/{tenant}/api/**"}, StripPrefix: "/acme/api"},
	})
	tests := []struct {
		name    string
		decoded string
		escaped string
		want    string
	}{
		{"unchanged", "/plain/a b", "/plain/a%20b", "/plain/a%20b"},
		{"strip", "/api/users/1", "/api/users/1", "/users/1"},
		{"strip to root", "/api", "/api", "/"},
		{"strip to root slash", "/api/", "/api/", "/"},
		{"strip keeps trailing slash", "/api/users/", "/api/users/", "/users/"},
		{"strip escapes rest", "/api/café;x", "/api/caf%C3%A9%3Bx", "/caf%C3%A9%3Bx"},
		{"strip case-insensitive", "/svc/X", "/svc/X", "/X"},
		{"rewrite", "/users/a b", "/users/a%20b", "/v2/users/a%20b"},
		{"rewrite other pattern", "/people/7/", "/people/7/", "/v2/users/7"},
		{"rewrite two params", "/o/acme/r/gw", "/o/acme/r/gw", "/repos/gw/acme/"},
		{"rewrite static", "/old", "/old", "/new%20path/x%3By"},
		{"rewrite keeps marker", "/files/a%2Fb", "/files/a%2Fb", "/objects/a%2Fb"},
		{"strip with param prefix", "/acme/api/x", "/acme/api/x", "/x"},
		{"strip prefix absent", "/other/api/x", "/other/api/x", "/other/api/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := r.Match("h", "GET", tt.decoded)
			if m.Status != 0 {
				t.Fatalf("Match(%q) status %d, want a match", tt.decoded, m.Status)
			}
			if got := r.ForwardPath(m.Index, m, tt.decoded, tt.escaped); got != tt.want {
				t.Errorf("ForwardPath(%q) = %q, want %q", tt.decoded, got, tt.want)
			}
		})
	}

	t.Run("no route", func(t *testing.T) {
		if got := r.ForwardPath(-1, Match{Index: -1}, "/x y", "/x%20y"); got != "/x%20y" {
			t.Errorf("ForwardPath(-1) = %q, want the escaped path", got)
		}
	})
}

func TestMatchAllocations(t *testing.T) {
	r := mustNew(t, fixtureRoutes())
	tests := []struct {
		name string
		host string
		path string
		want float64
	}{
		{"literal", "any.test", "/books", 0},
		{"rest", "any.test", "/static/css/a.css", 0},
		{"folded", "any.test", "/ADMIN/users", 1},
		{"not found", "Other.Test:80", "/nothing/here", 0},
		{"params", "any.test", "/users/7/orders/9", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := testing.AllocsPerRun(100, func() { r.Match(tt.host, "GET", tt.path) })
			if got != tt.want {
				t.Errorf("Match(%q) allocates %v times, want %v", tt.path, got, tt.want)
			}
		})
	}
}
