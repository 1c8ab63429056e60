package authz

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// exchange returns an exchange for method and target with the path
// parameters and identity given.
func exchange(method, target string, id *pipeline.Identity, params ...pipeline.Param) *pipeline.Exchange {
	return &pipeline.Exchange{
		ID:       "req-1",
		Start:    time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		Request:  httptest.NewRequest(method, target, nil),
		Route:    "users",
		Params:   params,
		Identity: id,
	}
}

func mustNew(t *testing.T, route config.RouteAuthz, opts ...Option) pipeline.Stage {
	t.Helper()
	s, err := New(route, "routes[3].authz", opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestRequirements(t *testing.T) {
	route := config.RouteAuthz{
		Scopes: config.Requirement{AllOf: []string{"read"}, AnyOf: []string{"users:read", "users:admin"}},
		Roles:  config.Requirement{AnyOf: []string{"staff", "partner"}},
	}
	tests := []struct {
		name       string
		scopes     []string
		roles      []string
		wantReason string
	}{
		{"all granted", []string{"read", "users:read"}, []string{"staff"}, ""},
		{"missing all_of", []string{"users:read"}, []string{"staff"}, "missing_scope:read"},
		{"missing any_of", []string{"read"}, []string{"staff"}, "missing_scope:users:read|users:admin"},
		{"missing role", []string{"read", "users:admin"}, []string{"guest"}, "missing_role:staff|partner"},
		{"no scopes", nil, nil, "missing_scope:read"},
	}
	s := mustNew(t, route)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := exchange("GET", "/users", &pipeline.Identity{ConsumerID: "c1", Scopes: tt.scopes, Roles: tt.roles})
			res := s.Check(context.Background(), x)
			if tt.wantReason == "" {
				if res.Decision != pipeline.Allow {
					t.Fatalf("decision = %v (%s), want allow", res.Decision, res.Reason)
				}
				return
			}
			if res.Decision != pipeline.Deny || res.Status != http.StatusForbidden {
				t.Fatalf("result = %v %d, want deny 403", res.Decision, res.Status)
			}
			if res.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", res.Reason, tt.wantReason)
			}
			if res.Problem != "forbidden" {
				t.Errorf("problem = %q, want forbidden", res.Problem)
			}
			if got := x.Attrs["authz.rule"]; got != tt.wantReason {
				t.Errorf("authz.rule = %v, want %q", got, tt.wantReason)
			}
		})
	}
}

func TestMissingScopeChallenge(t *testing.T) {
	s := mustNew(t, config.RouteAuthz{Scopes: config.Requirement{AllOf: []string{"write:admin"}}})
	res := s.Check(context.Background(), exchange("GET", "/x", &pipeline.Identity{ConsumerID: "c1"}))
	got := res.Headers.Get("WWW-Authenticate")
	want := `Bearer realm="warden", error="insufficient_scope", scope="write:admin"`
	if got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}

func TestAnonymousDenied(t *testing.T) {
	s := mustNew(t, config.RouteAuthz{Roles: config.Requirement{AllOf: []string{"admin"}}})
	res := s.Check(context.Background(), exchange("GET", "/x", nil))
	if res.Decision != pipeline.Deny || res.Reason != "missing_role:admin" {
		t.Errorf("result = %v %q, want deny missing_role:admin", res.Decision, res.Reason)
	}
}

// docsRoute is the route of the worked examples in docs/authz.md.
func docsRoute() config.RouteAuthz {
	return config.RouteAuthz{
		Methods: map[string]config.MethodAuthz{
			"DELETE": {Scopes: config.Requirement{AllOf: []string{"write:admin"}}},
		},
		Policies: []config.Policy{{
			Name:    "own-user",
			Expr:    `request.params.id == consumer.id || "admin" in consumer.roles`,
			Methods: []string{"GET"},
		}},
	}
}

func TestDocsExamples(t *testing.T) {
	alice := &pipeline.Identity{ConsumerID: "alice", Method: "jwt", Scopes: []string{"users:read"}}
	admin := &pipeline.Identity{ConsumerID: "root", Method: "jwt", Roles: []string{"admin"}}
	writer := &pipeline.Identity{ConsumerID: "ops", Method: "api_key", Scopes: []string{"write:admin"}}
	tests := []struct {
		name       string
		method     string
		id         *pipeline.Identity
		user       string
		wantReason string
	}{
		{"own record", "GET", alice, "alice", ""},
		{"other record", "GET", alice, "bob", "policy:own-user"},
		{"admin reads other", "GET", admin, "bob", ""},
		{"anonymous reads", "GET", nil, "bob", "policy:own-user"},
		{"delete without scope", "DELETE", admin, "bob", "missing_scope:write:admin"},
		{"delete with scope", "DELETE", writer, "bob", ""},
		{"put not covered", "PUT", alice, "bob", ""},
	}
	s := mustNew(t, docsRoute())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := exchange(tt.method, "/users/"+tt.user, tt.id, pipeline.Param{Name: "id", Value: tt.user})
			res := s.Check(context.Background(), x)
			if res.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", res.Reason, tt.wantReason)
			}
			wantDecision := pipeline.Allow
			if tt.wantReason != "" {
				wantDecision = pipeline.Deny
			}
			if res.Decision != wantDecision {
				t.Errorf("decision = %v, want %v", res.Decision, wantDecision)
			}
		})
	}
}

func TestPolicyVariables(t *testing.T) {
	tests := []struct {
		name string
		expr string
	}{
		{"method and path", `request.method == "GET" && request.path == "/users/alice"`},
		{"query first value", `request.query.page == "2"`},
		{"header lowercase", `request.headers["x-tenant"] == "acme"`},
		{"credential headers hidden", `!("authorization" in request.headers) && !("cookie" in request.headers) && !("x-api-key" in request.headers)`},
		{"consumer fields", `consumer.id == "alice" && consumer.plan == "gold" && consumer.metadata.team == "blue" && consumer.method == "jwt" && !consumer.anonymous`},
		{"claims", `claims.tenant == "acme" && claims.level > 2.0`},
		{"now is request start", `now == timestamp("2025-06-01T12:00:00Z")`},
		{"string extension", `request.path.split("/").size() == 3`},
	}
	id := &pipeline.Identity{
		ConsumerID: "alice", Method: "jwt", Plan: "gold",
		Metadata: map[string]string{"team": "blue"},
		Claims:   map[string]any{"tenant": "acme", "level": 3.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustNew(t, config.RouteAuthz{Policies: []config.Policy{{Name: "p", Expr: tt.expr}}})
			x := exchange("GET", "/users/alice?page=2&page=3", id)
			x.Request.Header.Set("X-Tenant", "acme")
			x.Request.Header.Set("Authorization", "Bearer secret")
			x.Request.Header.Set("Cookie", "session=secret")
			x.Request.Header.Set("X-API-Key", "secret")
			res := s.Check(context.Background(), x)
			if res.Decision != pipeline.Allow {
				t.Errorf("decision = %v (%s, attrs %v), want allow", res.Decision, res.Reason, x.Attrs)
			}
		})
	}
}

func TestPolicyErrorDenies(t *testing.T) {
	tests := []struct {
		name string
		expr string
	}{
		{"missing claim", `claims.department == "sales"`},
		{"dyn not bool", `claims.level`},
		{"cost limit", `request.headers["x-big"].split(",").all(s, s.size() > 0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := mustNew(t, config.RouteAuthz{Policies: []config.Policy{{Name: "p", Expr: tt.expr}}},
				WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			x := exchange("GET", "/", &pipeline.Identity{ConsumerID: "a", Claims: map[string]any{"level": 1.0}})
			x.Request.Header.Set("X-Big", strings.Repeat("a,", 100_000))
			res := s.Check(context.Background(), x)
			if res.Decision != pipeline.Deny || res.Reason != "policy:p" {
				t.Fatalf("result = %v %q, want deny policy:p", res.Decision, res.Reason)
			}
			if x.Attrs["authz.error"] == nil {
				t.Errorf("authz.error attribute not set")
			}
			if !strings.Contains(logs.String(), "policy evaluation failed") {
				t.Errorf("log = %q, want a policy evaluation error", logs.String())
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name     string
		route    config.RouteAuthz
		wantPath string
		wantText string
	}{
		{"syntax", config.RouteAuthz{Policies: []config.Policy{{Name: "p", Expr: `consumer.id ==`}}},
			"routes[3].authz.policies[0].expr", `consumer.id ==`},
		{"not bool", config.RouteAuthz{Policies: []config.Policy{{Name: "p", Expr: `consumer.id.size()`}}},
			"routes[3].authz.policies[0].expr", "expected bool"},
		{"unknown variable", config.RouteAuthz{Policies: []config.Policy{{Name: "p", Expr: `user.id == "a"`}}},
			"routes[3].authz.policies[0].expr", "undeclared reference"},
		{"empty expression", config.RouteAuthz{Policies: []config.Policy{{Name: "p"}}},
			"routes[3].authz.policies[0].expr", "missing CEL expression"},
		{"missing name", config.RouteAuthz{Policies: []config.Policy{{Expr: "true"}}},
			"routes[3].authz.policies[0].name", "missing policy name"},
		{"duplicate name", config.RouteAuthz{Policies: []config.Policy{{Name: "p", Expr: "true"}, {Name: "p", Expr: "true"}}},
			"routes[3].authz.policies[1].name", "duplicate"},
		{"blank scope", config.RouteAuthz{Scopes: config.Requirement{AllOf: []string{" "}}},
			"routes[3].authz.scopes.all_of[0]", "single words"},
		{"bad method", config.RouteAuthz{Methods: map[string]config.MethodAuthz{"GET POST": {}}},
			"routes[3].authz.methods.GET POST", "invalid HTTP method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.route, "routes[3].authz")
			var es config.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("err = %v, want config.Errors", err)
			}
			if es[0].Path != tt.wantPath {
				t.Errorf("path = %q, want %q", es[0].Path, tt.wantPath)
			}
			if !strings.Contains(es[0].Message, tt.wantText) {
				t.Errorf("message = %q, want it to contain %q", es[0].Message, tt.wantText)
			}
		})
	}
}

func TestPolicyMethodsFilter(t *testing.T) {
	s := mustNew(t, config.RouteAuthz{Policies: []config.Policy{{Name: "no-writes", Expr: "false", Methods: []string{"post", "PUT"}}}})
	for method, want := range map[string]pipeline.Decision{"GET": pipeline.Allow, "POST": pipeline.Deny, "PUT": pipeline.Deny} {
		res := s.Check(context.Background(), exchange(method, "/", &pipeline.Identity{ConsumerID: "a"}))
		if res.Decision != want {
			t.Errorf("%s: decision = %v, want %v", method, res.Decision, want)
		}
	}
}

func BenchmarkPolicyEval(b *testing.B) {
	st, err := New(docsRoute(), "routes[0].authz")
	if err != nil {
		b.Fatal(err)
	}
	id := &pipeline.Identity{ConsumerID: "alice", Method: "jwt", Scopes: []string{"users:read"}, Roles: []string{"user"}}
	x := exchange("GET", "/users/alice?fields=name", id, pipeline.Param{Name: "id", Value: "alice"})
	x.Request.Header.Set("Accept", "application/json")
	x.Request.Header.Set("User-Agent", "bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		x.Attrs = nil
		if res := st.Check(ctx, x); res.Decision != pipeline.Allow {
			b.Fatalf("decision = %v, want allow", res.Decision)
		}
	}
}

func TestDocsMoreExamples(t *testing.T) {
	route := config.RouteAuthz{Policies: []config.Policy{
		{Name: "tenant", Expr: `has(claims.tenant) && request.headers["x-tenant"] == claims.tenant`},
		{Name: "partner-hours", Expr: `!("partner" in consumer.roles) ||
    (request.method == "GET" && now.getHours() >= 8 && now.getHours() < 18)`},
	}}
	s := mustNew(t, route)
	partner := &pipeline.Identity{ConsumerID: "p", Roles: []string{"partner"}, Claims: map[string]any{"tenant": "acme"}}
	tests := []struct {
		name       string
		method     string
		tenant     string
		hour       int
		wantReason string
	}{
		{"matching tenant in hours", "GET", "acme", 12, ""},
		{"other tenant", "GET", "globex", 12, "policy:tenant"},
		{"no tenant header", "GET", "", 12, "policy:tenant"},
		{"partner at night", "GET", "acme", 22, "policy:partner-hours"},
		{"partner writes", "POST", "acme", 12, "policy:partner-hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := exchange(tt.method, "/", partner)
			x.Start = time.Date(2025, 6, 1, tt.hour, 0, 0, 0, time.UTC)
			if tt.tenant != "" {
				x.Request.Header.Set("X-Tenant", tt.tenant)
			}
			if res := s.Check(context.Background(), x); res.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", res.Reason, tt.wantReason)
			}
		})
	}
}

func BenchmarkRequirements(b *testing.B) {
	st, err := New(config.RouteAuthz{
		Scopes:  config.Requirement{AnyOf: []string{"users:read", "users:admin"}},
		Methods: map[string]config.MethodAuthz{"DELETE": {Scopes: config.Requirement{AllOf: []string{"write:admin"}}}},
	}, "routes[0].authz")
	if err != nil {
		b.Fatal(err)
	}
	x := exchange("GET", "/users/alice", &pipeline.Identity{ConsumerID: "alice", Scopes: []string{"users:read"}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res := st.Check(ctx, x); res.Decision != pipeline.Allow {
			b.Fatalf("decision = %v, want allow", res.Decision)
		}
	}
}
