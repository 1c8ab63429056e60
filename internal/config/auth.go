package config

import "github.com/warden-api/warden/internal/secret"

// Authn configures the verifiers that routes name in auth.methods.
type Authn struct {
	// APIKeys configures where API keys are read from.
	APIKeys APIKeys `yaml:"api_keys" json:"api_keys,omitempty"`

	// JWT lists the token issuers whose JWTs are accepted. Routes refer to
	// them as "jwt:<name>"; plain "jwt" accepts any of them.
	JWT []JWTIssuer `yaml:"jwt" json:"jwt,omitempty"`

	// Introspection lists OAuth2 introspection endpoints (RFC 7662). Routes
	// refer to them as "introspection:<name>".
	Introspection []Introspection `yaml:"introspection" json:"introspection,omitempty"`

	// MTLS maps verified client certificates to consumers.
	MTLS MTLS `yaml:"mtls" json:"mtls,omitempty"`
}

// APIKeys configures where API keys are read from.
type APIKeys struct {
	// Headers that may carry a key. "Authorization" means the Bearer scheme.
	// Default: ["Authorization", "X-API-Key"].
	Headers []string `yaml:"headers" json:"headers,omitempty"`
	// QueryParam is the query parameter checked for a key on routes that
	// allow keys in URLs (auth.allow_query_key). On other routes a key found
	// there is rejected. Default: "api_key".
	QueryParam string `yaml:"query_param" json:"query_param,omitempty"`
}

// JWTIssuer is one identity provider whose tokens are accepted.
type JWTIssuer struct {
	// Name identifies the issuer in routes and events. Required and unique.
	Name string `yaml:"name" json:"name"`
	// Issuer is the exact "iss" value required. Required.
	Issuer string `yaml:"issuer" json:"issuer"`
	// Audiences are accepted "aud" values; a token must name at least one.
	// Required.
	Audiences []string `yaml:"audiences" json:"audiences,omitempty"`
	// Algorithms accepted for this issuer, such as ["RS256", "ES256"].
	// Default: ["RS256", "ES256"]. HS256 requires hmac_secret_file.
	Algorithms []string `yaml:"algorithms" json:"algorithms,omitempty"`
	// JWKSURL is the URL of the issuer's signing keys (a JWKS document).
	JWKSURL string `yaml:"jwks_url" json:"jwks_url,omitempty"`
	// JWKSFile is a local JWKS document, for issuers without a URL.
	JWKSFile string `yaml:"jwks_file" json:"jwks_file,omitempty"`
	// Discovery fetches the JWKS URL from the issuer's OpenID Connect
	// discovery document (<issuer>/.well-known/openid-configuration).
	Discovery bool `yaml:"discovery" json:"discovery,omitempty"`
	// HMACSecretFile holds the shared secret for HS256. The file content is
	// the secret; it must be at least 32 bytes.
	HMACSecretFile string `yaml:"hmac_secret_file" json:"hmac_secret_file,omitempty"`
	// JWKSRefresh is how often the JWKS is fetched again. Default: 10m.
	JWKSRefresh Duration `yaml:"jwks_refresh" json:"jwks_refresh,omitempty"`
	// JWKSMinRefresh is the shortest time between fetches caused by an
	// unknown key id, so forged kids cannot flood the issuer. Default: 30s.
	JWKSMinRefresh Duration `yaml:"jwks_min_refresh" json:"jwks_min_refresh,omitempty"`
	// Leeway is the clock skew allowed on exp, nbf and iat. Default: 30s.
	Leeway Duration `yaml:"leeway" json:"leeway,omitempty"`
	// ConsumerClaim is the claim that names the consumer. Default: "sub".
	ConsumerClaim string `yaml:"consumer_claim" json:"consumer_claim,omitempty"`
	// ScopesClaim is the claim with scopes, a space-separated string or a
	// list. Default: "scope", then "scp".
	ScopesClaim string `yaml:"scopes_claim" json:"scopes_claim,omitempty"`
	// RolesClaim is a dotted path to the roles list, such as
	// "realm_access.roles". Default: "roles".
	RolesClaim string `yaml:"roles_claim" json:"roles_claim,omitempty"`
}

// Introspection is one RFC 7662 token introspection endpoint.
type Introspection struct {
	// Name identifies the endpoint in routes and events. Required and unique.
	Name string `yaml:"name" json:"name"`
	// URL of the introspection endpoint. Required.
	URL string `yaml:"url" json:"url"`
	// ClientID and ClientSecret authenticate Warden to the endpoint with
	// HTTP Basic authentication.
	ClientID     string       `yaml:"client_id" json:"client_id"`
	ClientSecret secret.Value `yaml:"client_secret" json:"client_secret,omitempty"`
	// ClientSecretFile reads the client secret from a file instead.
	ClientSecretFile string `yaml:"client_secret_file" json:"client_secret_file,omitempty"`
	// CacheTTL caps how long an active result is cached; a token's own exp
	// shortens it. Default: 60s.
	CacheTTL Duration `yaml:"cache_ttl" json:"cache_ttl,omitempty"`
	// NegativeCacheTTL is how long an inactive result is cached. Default: 5s.
	NegativeCacheTTL Duration `yaml:"negative_cache_ttl" json:"negative_cache_ttl,omitempty"`
	// Timeout of one introspection call. Default: 5s.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Audiences, when set, must contain the token's "aud".
	Audiences []string `yaml:"audiences" json:"audiences,omitempty"`
}

// MTLS maps a verified client certificate to a consumer id.
type MTLS struct {
	// ConsumerFrom is "subject_cn", "san_uri" (such as SPIFFE ids),
	// "san_dns", "san_email" or "fingerprint" (SHA-256, hex). The value is
	// looked up as a consumer id, or as a consumer's mtls_identity metadata.
	// Default: "subject_cn".
	ConsumerFrom string `yaml:"consumer_from" json:"consumer_from,omitempty"`
}

// RouteAuth configures authentication on one route.
type RouteAuth struct {
	// Methods that may authenticate a request, tried in order: "api_key",
	// "jwt", "jwt:<issuer>", "introspection:<name>", "mtls". The first
	// credential found decides. Required unless anonymous is true.
	Methods []string `yaml:"methods" json:"methods,omitempty"`
	// Anonymous lets requests without any credential through as the
	// anonymous consumer. A credential that is present but invalid is
	// still rejected. Default: false.
	Anonymous bool `yaml:"anonymous" json:"anonymous,omitempty"`
	// ForwardCredential keeps the credential header on the forwarded
	// request. Default: false (it is removed).
	ForwardCredential bool `yaml:"forward_credential" json:"forward_credential,omitempty"`
	// AllowQueryKey accepts API keys in the query string on this route.
	// Default: false, because URLs end up in logs, caches and Referer.
	AllowQueryKey bool `yaml:"allow_query_key" json:"allow_query_key,omitempty"`
	// ConsumerHeader is the header that sends the consumer id to the upstream.
	// Default: "X-Consumer-Id". Client-sent values are always removed.
	ConsumerHeader string `yaml:"consumer_header" json:"consumer_header,omitempty"`
	// ScopesHeader carries the granted scopes, space-separated.
	// Default: "X-Consumer-Scopes".
	ScopesHeader string `yaml:"scopes_header" json:"scopes_header,omitempty"`
}

// RouteAuthz lists what a consumer needs to use a route. All given
// conditions must hold.
type RouteAuthz struct {
	// Scopes required for every method.
	Scopes Requirement `yaml:"scopes" json:"scopes,omitempty"`
	// Roles required for every method.
	Roles Requirement `yaml:"roles" json:"roles,omitempty"`
	// Methods adds requirements for particular HTTP methods, such as
	// {"DELETE": {"scopes": {"all_of": ["write:admin"]}}}.
	Methods map[string]MethodAuthz `yaml:"methods" json:"methods,omitempty"`
	// Policies are CEL expressions that must all evaluate to true.
	Policies []Policy `yaml:"policies" json:"policies,omitempty"`
}

// MethodAuthz is the part of RouteAuthz that applies to one method.
type MethodAuthz struct {
	Scopes Requirement `yaml:"scopes" json:"scopes,omitempty"`
	Roles  Requirement `yaml:"roles" json:"roles,omitempty"`
}

// Requirement is a set condition over scopes or roles.
type Requirement struct {
	// AllOf lists values that must all be granted.
	AllOf []string `yaml:"all_of" json:"all_of,omitempty"`
	// AnyOf lists values of which at least one must be granted.
	AnyOf []string `yaml:"any_of" json:"any_of,omitempty"`
}

// Policy is a named CEL expression over the request and the consumer.
// See docs/authz.md for the variables it can use.
type Policy struct {
	// Name is reported in the event when the policy denies. Required.
	Name string `yaml:"name" json:"name"`
	// Expr is the CEL expression; it must evaluate to a bool.
	Expr string `yaml:"expr" json:"expr"`
	// Methods limits the policy to these methods. Empty: every method.
	Methods []string `yaml:"methods" json:"methods,omitempty"`
}
