// Package authz is Warden's authorization stage. It decides whether the
// identity that the authentication stage set may use a route: it checks the
// route's required scopes and roles, those required for the request method,
// and the route's CEL policies, in that order.
//
// Fail mode: closed. A policy that cannot be evaluated (a runtime error, a
// non-bool result, or an exceeded cost limit) denies the request and is
// logged.
package authz

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// StageName is the stage name recorded in events.
const StageName = "authz"

// Option configures the stage built by New.
type Option func(*stage)

// WithLogger sets the logger that receives policy evaluation errors.
// Without it they are recorded only in the request's event attributes.
func WithLogger(l *slog.Logger) Option {
	return func(s *stage) { s.log = l }
}

// requirement is a compiled config.Requirement.
type requirement struct {
	allOf []string
	anyOf []string
}

// grants is the scope and role requirement for all methods or one.
type grants struct {
	scopes requirement
	roles  requirement
}

// stage authorizes the requests of one route.
type stage struct {
	route    grants
	methods  map[string]grants
	policies []*policy
	log      *slog.Logger
}

// New compiles the authorization rules of one route. path is the route's
// config path, such as "routes[3].authz". Config errors are a config.Errors
// whose paths start with path, and a CEL error names the expression.
func New(route config.RouteAuthz, path string, opts ...Option) (pipeline.Stage, error) {
	s := &stage{
		route:   grants{scopes: compileRequirement(route.Scopes), roles: compileRequirement(route.Roles)},
		methods: make(map[string]grants, len(route.Methods)),
		log:     slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(s)
	}
	var es config.Errors
	checkRequirement(&es, path+".scopes", route.Scopes)
	checkRequirement(&es, path+".roles", route.Roles)
	for m, mr := range route.Methods {
		p := fmt.Sprintf("%s.methods.%s", path, m)
		if !httpguts.ValidHeaderFieldName(m) {
			es.Add(p, "invalid HTTP method %q", m)
			continue
		}
		upper := strings.ToUpper(m)
		if _, dup := s.methods[upper]; dup {
			es.Add(p, "method %q is listed twice with different letter case", m)
			continue
		}
		checkRequirement(&es, p+".scopes", mr.Scopes)
		checkRequirement(&es, p+".roles", mr.Roles)
		s.methods[upper] = grants{scopes: compileRequirement(mr.Scopes), roles: compileRequirement(mr.Roles)}
	}
	if len(route.Policies) > 0 {
		policies, err := compilePolicies(route.Policies, path+".policies")
		es.Merge(path+".policies", err)
		s.policies = policies
	}
	if err := es.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func compileRequirement(r config.Requirement) requirement {
	return requirement{allOf: slices.Clone(r.AllOf), anyOf: slices.Clone(r.AnyOf)}
}

func checkRequirement(es *config.Errors, path string, r config.Requirement) {
	for i, v := range r.AllOf {
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t") {
			es.Add(fmt.Sprintf("%s.all_of[%d]", path, i), "invalid value %q: scopes and roles are single words", v)
		}
	}
	for i, v := range r.AnyOf {
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t") {
			es.Add(fmt.Sprintf("%s.any_of[%d]", path, i), "invalid value %q: scopes and roles are single words", v)
		}
	}
}

// Name implements pipeline.Stage.
func (s *stage) Name() string { return StageName }

// Check implements pipeline.Stage.
func (s *stage) Check(ctx context.Context, x *pipeline.Exchange) pipeline.Result {
	id := x.Identity
	if id == nil {
		id = &pipeline.Identity{}
	}
	method := x.Request.Method
	if r, ok := s.denyGrants(s.route, id); ok {
		return deny(x, r)
	}
	if g, ok := s.methods[method]; ok {
		if r, ok := s.denyGrants(g, id); ok {
			return deny(x, r)
		}
	}
	for _, p := range s.policies {
		if !p.appliesTo(method) {
			continue
		}
		allowed, err := p.eval(ctx, x, id)
		if err != nil {
			x.SetAttr("authz.error", "policy evaluation failed")
			s.log.Error("policy evaluation failed; denying the request", "request_id", x.ID,
				"route", x.Route, "policy", p.name, "error", err)
			return deny(x, rejection{rule: "policy:" + p.name})
		}
		if !allowed {
			return deny(x, rejection{rule: "policy:" + p.name})
		}
	}
	return pipeline.Allowed
}

// rejection names the rule that denied a request.
type rejection struct {
	rule string
	// scopes are the scopes to name in WWW-Authenticate (RFC 6750,
	// section 3) when a missing scope denied the request.
	scopes []string
}

// denyGrants checks g against the identity's scopes and roles.
func (s *stage) denyGrants(g grants, id *pipeline.Identity) (rejection, bool) {
	if missing, ok := g.scopes.unmet(id.Scopes); ok {
		return rejection{rule: "missing_scope:" + strings.Join(missing, "|"), scopes: missing}, true
	}
	if missing, ok := g.roles.unmet(id.Roles); ok {
		return rejection{rule: "missing_role:" + strings.Join(missing, "|")}, true
	}
	return rejection{}, false
}

// unmet returns what is missing from granted: the first all_of value not
// granted, or every any_of value when none is granted.
func (r requirement) unmet(granted []string) ([]string, bool) {
	for _, v := range r.allOf {
		if !slices.Contains(granted, v) {
			return []string{v}, true
		}
	}
	if len(r.anyOf) > 0 && !slices.ContainsFunc(r.anyOf, func(v string) bool { return slices.Contains(granted, v) }) {
		return r.anyOf, true
	}
	return nil, false
}

// deny records the rule and returns the 403 result.
func deny(x *pipeline.Exchange, r rejection) pipeline.Result {
	x.SetAttr("authz.rule", r.rule)
	res := pipeline.Result{
		Decision: pipeline.Deny,
		Reason:   r.rule,
		Status:   http.StatusForbidden,
		Problem:  "forbidden",
		Title:    "Forbidden",
		Detail:   "The caller is not allowed to perform this request.",
	}
	if len(r.scopes) > 0 && allScopeTokens(r.scopes) {
		res.Detail = "The credential lacks a required scope."
		res.Headers = http.Header{"Www-Authenticate": {
			`Bearer realm="warden", error="insufficient_scope", scope="` + strings.Join(r.scopes, " ") + `"`,
		}}
	}
	return res
}

// allScopeTokens reports whether every value may appear in the scope
// parameter of WWW-Authenticate (RFC 6750, section 3).
func allScopeTokens(scopes []string) bool {
	for _, s := range scopes {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}
