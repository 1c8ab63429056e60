package risk

import (
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

var audienceWords = regexp.MustCompile(`(?i)\b(audience|aud|issuer|iss)\b`)

// checkSchemes runs the rules about security scheme definitions.
func (r *run) checkSchemes(m *model) {
	used := usedSchemes(m)
	for _, sc := range m.schemes {
		s := sc.s
		switch strings.ToLower(s.Type) {
		case "apikey":
			if strings.EqualFold(s.In, "query") {
				r.report(idAPIKeyInQuery, sc.loc, "", "security scheme %q sends the API key in query parameter %q", sc.name, s.Name)
			}
		case "http", "basic":
			if strings.EqualFold(s.Scheme, "basic") {
				r.report(idBasicAuth, sc.loc, "", "security scheme %q uses HTTP Basic authentication", sc.name)
			}
			if strings.EqualFold(s.Scheme, "bearer") && !audienceWords.MatchString(s.Description) {
				r.report(idJWTAudience, sc.loc, "", "bearer scheme %q does not describe the token issuer or audience", sc.name)
			}
		case "oauth2":
			r.checkFlows(m, sc)
		case "openidconnect":
			if isPlainHTTP(s.OpenIdConnectUrl) {
				r.report(idOAuthURLHTTP, sc.loc.child("openIdConnectUrl"), "", "security scheme %q loads OpenID Connect discovery over http: %s", sc.name, s.OpenIdConnectUrl)
			}
		}
		if !used[sc.name] {
			r.report(idUnusedScheme, sc.loc, "", "security scheme %q is defined but no operation requires it", sc.name)
		}
	}
}

func (r *run) checkFlows(m *model, sc *scheme) {
	flows := sc.s.Flows
	if flows == nil {
		return
	}
	named := []struct {
		name string
		flow *openapi3.OAuthFlow
	}{
		{"implicit", flows.Implicit}, {"password", flows.Password},
		{"clientCredentials", flows.ClientCredentials}, {"authorizationCode", flows.AuthorizationCode},
	}
	for _, f := range named {
		if f.flow == nil {
			continue
		}
		loc := m.flowLoc(sc, f.name)
		switch f.name {
		case "implicit":
			r.report(idImplicitFlow, loc, "", "security scheme %q offers the OAuth2 implicit flow", sc.name)
		case "password":
			r.report(idPasswordFlow, loc, "", "security scheme %q offers the OAuth2 password flow", sc.name)
		}
		for _, u := range []struct{ field, value string }{
			{"authorizationUrl", f.flow.AuthorizationURL}, {"tokenUrl", f.flow.TokenURL}, {"refreshUrl", f.flow.RefreshURL},
		} {
			if isPlainHTTP(u.value) {
				r.report(idOAuthURLHTTP, loc.child(u.field), "", "security scheme %q uses %s over http: %s", sc.name, u.field, u.value)
			}
		}
	}
}

func usedSchemes(m *model) map[string]bool {
	used := map[string]bool{}
	mark := func(reqs openapi3.SecurityRequirements) {
		for _, req := range reqs {
			for name := range req {
				used[name] = true
			}
		}
	}
	mark(m.doc.Security)
	for _, list := range [][]*operation{m.ops, m.hooks} {
		for _, o := range list {
			if o.op.Security != nil {
				mark(*o.op.Security)
			}
		}
	}
	return used
}

// checkOperationAuth runs the rules about an operation's security
// requirements.
func (r *run) checkOperationAuth(m *model, o *operation) {
	anonymous, authenticated := false, false
	for i, req := range o.security {
		if len(req) == 0 {
			anonymous = true
			continue
		}
		authenticated = true
		for _, name := range sortedKeys(req) {
			if m.scheme(name) == nil {
				r.report(idUndefinedScheme, o.securityLoc.index(i).child(name), "", "%s requires security scheme %q, which is not defined", o.name(), name)
			}
		}
	}

	optOut := o.ownSecurity && len(o.security) == 0 && len(m.doc.Security) > 0
	switch {
	case optOut:
		r.report(idSecurityOptOut, o.securityLoc, "", "%s sets security: [] and so accepts requests without credentials, although the API requires authentication globally", o.name())
	case !authenticated && authEntryPath.MatchString(o.path):
		// Login, sign-up and token endpoints are anonymous by nature, so
		// only idLoginNo429 and idBusinessFlow report their risk.
	case !authenticated && o.writes():
		r.report(idNoAuthWrite, o.loc, "", "%s changes data and has no security requirement", o.name())
	case !authenticated:
		r.report(idNoAuthRead, o.loc, "", "%s has no security requirement", o.name())
	case anonymous:
		r.report(idOptionalAuth, o.securityLoc, "", "%s accepts requests without credentials: its security requirements include {}", o.name())
	}

	if isAdminPath(o.path) {
		if authenticated && !anonymous {
			r.report(idAdminPath, o.loc, "", "%s looks administrative or internal", o.name())
		} else {
			r.report(idAdminNoAuth, o.loc, "", "%s looks administrative or internal and accepts requests without credentials", o.name())
		}
	}

	if o.secured() && o.writes() && requiresNoScopes(m, o) {
		r.report(idWriteNoScopes, o.securityLoc, o.name(), "%s changes data but requires no OAuth2 scope", o.name())
	}
}

// requiresNoScopes reports whether some alternative of the operation's
// security requirements consists only of OAuth2 schemes that define scopes
// but are required here with none.
func requiresNoScopes(m *model, o *operation) bool {
	for _, req := range o.security {
		unscoped := len(req) > 0
		for name, scopes := range req {
			sc := m.scheme(name)
			if sc == nil || !strings.EqualFold(sc.s.Type, "oauth2") || len(scopes) > 0 || !definesScopes(sc.s) {
				unscoped = false
			}
		}
		if unscoped {
			return true
		}
	}
	return false
}

func definesScopes(s *openapi3.SecurityScheme) bool {
	if s.Flows == nil {
		return false
	}
	for _, f := range []*openapi3.OAuthFlow{s.Flows.Implicit, s.Flows.Password, s.Flows.ClientCredentials, s.Flows.AuthorizationCode} {
		if f != nil && len(f.Scopes) > 0 {
			return true
		}
	}
	return false
}

// checkOperationParams runs the rules about individual parameters.
func (r *run) checkOperationParams(m *model, o *operation) {
	for _, p := range o.params {
		in, name := p.p.In, p.p.Name
		var s *openapi3.Schema
		if p.schema != nil {
			s = p.schema.Value
		}
		if (in == "query" || in == "path") && isCredentialParamName(in, name) && !isQueryKeyScheme(m, name) {
			r.report(idCredentialParam, p.loc, "", "%s takes a credential in %s parameter %q", o.name(), in, name)
		}
		if in == "path" && isIdentifierName(name) && s != nil {
			r.checkIdentifier(o, p, s)
		}
		if in == "query" && isOwnerIDName(name) && o.secured() {
			r.report(idOwnerIDInput, p.loc, "", "%s takes the owner id %q from the client although the caller is authenticated", o.name(), name)
		}
		if in == "query" && isPageSizeName(name) && s != nil && (hasType(s, "integer") || hasType(s, "number")) && !numberBounded(s) {
			r.report(idPageSizeNoMax, p.schemaLoc, "", "%s: page size parameter %q has no maximum", o.name(), name)
		}
	}
}

// isQueryKeyScheme reports whether a query parameter is the one an apiKey
// scheme reads, which idAPIKeyInQuery reports already.
func isQueryKeyScheme(m *model, name string) bool {
	for _, sc := range m.schemes {
		if strings.EqualFold(sc.s.Type, "apiKey") && strings.EqualFold(sc.s.In, "query") && sc.s.Name == name {
			return true
		}
	}
	return false
}

func (r *run) checkIdentifier(o *operation, p *param, s *openapi3.Schema) {
	switch {
	case hasType(s, "integer") || hasType(s, "number"):
		r.report(idSequentialID, p.loc, "", "%s: path parameter %q is an integer identifier", o.name(), p.p.Name)
	case hasType(s, "string") && s.Format == "" && s.Pattern == "" && len(s.Enum) == 0:
		r.report(idIDWithoutFormat, p.loc, "", "%s: identifier %q is a string without format or pattern", o.name(), p.p.Name)
	}
}

// numberBounded reports whether a number schema has an upper bound.
func numberBounded(s *openapi3.Schema) bool {
	return s.Max != nil || s.ExclusiveMax.Value != nil || len(s.Enum) > 0 || s.Const != nil
}
