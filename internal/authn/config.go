package authn

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/warden-api/warden/internal/config"
)

// Defaults of the authn config, applied by New to fields left empty. They
// match the ones the config loader applies, so an Authenticator built from
// a config made in code behaves the same.
const (
	defaultQueryParam     = "api_key"
	defaultJWKSRefresh    = 10 * time.Minute
	defaultJWKSMinRefresh = 30 * time.Second
	defaultLeeway         = 30 * time.Second
	defaultConsumerClaim  = "sub"
	defaultRolesClaim     = "roles"
	defaultIntrospectTTL  = 60 * time.Second
	defaultNegativeTTL    = 5 * time.Second
	defaultIntrospectWait = 5 * time.Second
	defaultConsumerFrom   = "subject_cn"

	// maxLeeway bounds the clock skew allowed on exp, nbf and iat.
	maxLeeway = 5 * time.Minute
	// minHMACSecret is the shortest HS256 secret accepted, in bytes: the
	// size of the SHA-256 output, as RFC 7518 section 3.2 requires.
	minHMACSecret = 32
)

var defaultKeyHeaders = []string{"Authorization", "X-API-Key"}
var defaultAlgorithms = []string{"RS256", "ES256"}

// namePattern matches issuer and introspection endpoint names, which routes
// refer to as "jwt:<name>" and "introspection:<name>".
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// withDefaults returns a copy of cfg with defaults filled in. The caller's
// slices are not modified.
func withDefaults(cfg config.Authn) config.Authn {
	if len(cfg.APIKeys.Headers) == 0 {
		cfg.APIKeys.Headers = defaultKeyHeaders
	}
	if cfg.APIKeys.QueryParam == "" {
		cfg.APIKeys.QueryParam = defaultQueryParam
	}
	cfg.JWT = slices.Clone(cfg.JWT)
	for i := range cfg.JWT {
		j := &cfg.JWT[i]
		if len(j.Algorithms) == 0 {
			j.Algorithms = defaultAlgorithms
		}
		setDuration(&j.JWKSRefresh, defaultJWKSRefresh)
		setDuration(&j.JWKSMinRefresh, defaultJWKSMinRefresh)
		setDuration(&j.Leeway, defaultLeeway)
		if j.ConsumerClaim == "" {
			j.ConsumerClaim = defaultConsumerClaim
		}
		if j.RolesClaim == "" {
			j.RolesClaim = defaultRolesClaim
		}
	}
	cfg.Introspection = slices.Clone(cfg.Introspection)
	for i := range cfg.Introspection {
		in := &cfg.Introspection[i]
		setDuration(&in.CacheTTL, defaultIntrospectTTL)
		setDuration(&in.NegativeCacheTTL, defaultNegativeTTL)
		setDuration(&in.Timeout, defaultIntrospectWait)
	}
	if cfg.MTLS.ConsumerFrom == "" {
		cfg.MTLS.ConsumerFrom = defaultConsumerFrom
	}
	return cfg
}

func setDuration(d *config.Duration, v time.Duration) {
	if *d == 0 {
		*d = config.Duration(v)
	}
}

// validate checks the parts of cfg that do not need files or keys; newIssuer
// and newIntrospector check the rest.
func validate(cfg config.Authn) error {
	var es config.Errors
	for i, h := range cfg.APIKeys.Headers {
		if !httpguts.ValidHeaderFieldName(h) {
			es.Add(fmt.Sprintf("authn.api_keys.headers[%d]", i), "invalid header name %q", h)
		}
	}
	if !validQueryName(cfg.APIKeys.QueryParam) {
		es.Add("authn.api_keys.query_param", "invalid query parameter name %q: use letters, digits, '_', '-' and '.'", cfg.APIKeys.QueryParam)
	}
	names := map[string]string{}
	for i, j := range cfg.JWT {
		validateIssuer(&es, fmt.Sprintf("authn.jwt[%d]", i), j, names)
	}
	names = map[string]string{}
	for i, in := range cfg.Introspection {
		validateIntrospection(&es, fmt.Sprintf("authn.introspection[%d]", i), in, names)
	}
	switch cfg.MTLS.ConsumerFrom {
	case "subject_cn", "san_uri", "san_dns", "san_email", "fingerprint":
	default:
		es.Add("authn.mtls.consumer_from", "invalid value %q: use subject_cn, san_uri, san_dns, san_email or fingerprint", cfg.MTLS.ConsumerFrom)
	}
	return es.Err()
}

func validateName(es *config.Errors, path, name string, seen map[string]string) {
	switch {
	case name == "":
		es.Add(path+".name", "missing name")
	case !namePattern.MatchString(name):
		es.Add(path+".name", "invalid name %q: use up to 64 letters, digits, '_', '.' and '-'", name)
	case seen[name] != "":
		es.Add(path+".name", "duplicate name %q, first used at %s", name, seen[name])
	default:
		seen[name] = path
	}
}

func validateIssuer(es *config.Errors, path string, j config.JWTIssuer, seen map[string]string) {
	validateName(es, path, j.Name, seen)
	if j.Issuer == "" {
		es.Add(path+".issuer", "missing issuer: set the exact \"iss\" value of the tokens")
	}
	if len(j.Audiences) == 0 {
		es.Add(path+".audiences", "missing audiences: list the \"aud\" values this gateway accepts")
	}
	hmacAlgs, publicAlgs := 0, 0
	for k, alg := range j.Algorithms {
		switch {
		case isHMAC(alg):
			hmacAlgs++
		case isPublicKeyAlg(alg):
			publicAlgs++
		default:
			es.Add(fmt.Sprintf("%s.algorithms[%d]", path, k), "unsupported algorithm %q: use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, or HS256, HS384, HS512 with hmac_secret_file", alg)
		}
	}
	if hmacAlgs > 0 && publicAlgs > 0 {
		es.Add(path+".algorithms", "HMAC and public-key algorithms cannot be combined in one issuer: define two issuers")
	}
	validateKeySource(es, path, j, hmacAlgs, publicAlgs)
	validateIssuerTimes(es, path, j)
	if !validClaimPath(j.ConsumerClaim) {
		es.Add(path+".consumer_claim", "invalid claim name %q", j.ConsumerClaim)
	}
	if j.ScopesClaim != "" && !validClaimPath(j.ScopesClaim) {
		es.Add(path+".scopes_claim", "invalid claim name %q", j.ScopesClaim)
	}
	if !validClaimPath(j.RolesClaim) {
		es.Add(path+".roles_claim", "invalid claim path %q: use names separated by dots, such as realm_access.roles", j.RolesClaim)
	}
}

// validateKeySource checks that an issuer has exactly one key source and
// that it fits the issuer's algorithms.
func validateKeySource(es *config.Errors, path string, j config.JWTIssuer, hmacAlgs, publicAlgs int) {
	sources := 0
	for _, set := range []bool{j.JWKSURL != "", j.JWKSFile != "", j.Discovery, j.HMACSecretFile != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources == 0:
		es.Add(path, "missing key source: set one of jwks_url, jwks_file, discovery or hmac_secret_file")
	case sources > 1:
		es.Add(path, "set only one of jwks_url, jwks_file, discovery and hmac_secret_file")
	}
	if j.HMACSecretFile != "" && publicAlgs > 0 {
		es.Add(path+".hmac_secret_file", "hmac_secret_file needs HMAC algorithms (HS256, HS384, HS512) in algorithms")
	}
	if j.HMACSecretFile == "" && hmacAlgs > 0 {
		es.Add(path+".algorithms", "HMAC algorithms need hmac_secret_file: keys from a JWKS are never used as HMAC secrets")
	}
	if j.JWKSURL != "" {
		if err := checkFetchURL(j.JWKSURL); err != nil {
			es.Add(path+".jwks_url", "%v", err)
		}
	}
	if j.Discovery {
		if err := checkFetchURL(j.Issuer); err != nil {
			es.Add(path+".issuer", "discovery needs the issuer to be a URL: %v", err)
		}
	}
}

func validateIssuerTimes(es *config.Errors, path string, j config.JWTIssuer) {
	if j.JWKSMinRefresh.D() < time.Second {
		es.Add(path+".jwks_min_refresh", "jwks_min_refresh %s is below 1s", j.JWKSMinRefresh.D())
	}
	if j.JWKSRefresh.D() < j.JWKSMinRefresh.D() {
		es.Add(path+".jwks_refresh", "jwks_refresh %s is below jwks_min_refresh %s", j.JWKSRefresh.D(), j.JWKSMinRefresh.D())
	}
	if j.Leeway.D() < 0 || j.Leeway.D() > maxLeeway {
		es.Add(path+".leeway", "leeway %s is outside 0 to %s", j.Leeway.D(), maxLeeway)
	}
}

func validateIntrospection(es *config.Errors, path string, in config.Introspection, seen map[string]string) {
	validateName(es, path, in.Name, seen)
	if in.URL == "" {
		es.Add(path+".url", "missing url of the introspection endpoint")
	} else if err := checkFetchURL(in.URL); err != nil {
		es.Add(path+".url", "%v", err)
	}
	if in.ClientID == "" {
		es.Add(path+".client_id", "missing client_id: the endpoint requires client authentication")
	}
	switch {
	case in.ClientSecret.IsZero() && in.ClientSecretFile == "":
		es.Add(path+".client_secret", "missing client secret: set client_secret or client_secret_file")
	case !in.ClientSecret.IsZero() && in.ClientSecretFile != "":
		es.Add(path+".client_secret", "set only one of client_secret and client_secret_file")
	}
	if in.CacheTTL.D() < 0 {
		es.Add(path+".cache_ttl", "cache_ttl %s is negative", in.CacheTTL.D())
	}
	if in.NegativeCacheTTL.D() < 0 {
		es.Add(path+".negative_cache_ttl", "negative_cache_ttl %s is negative", in.NegativeCacheTTL.D())
	}
	if in.Timeout.D() <= 0 {
		es.Add(path+".timeout", "timeout %s must be positive", in.Timeout.D())
	}
}

// checkFetchURL accepts absolute https URLs, and http URLs on loopback
// hosts, because a JWKS or introspection response fetched over plain HTTP
// could be replaced by anyone on the path.
func checkFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if u.Host == "" {
		return fmt.Errorf("invalid URL %q: expected an absolute https URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("URL %q uses http: use https (http is accepted only on loopback hosts)", raw)
	}
	return fmt.Errorf("invalid URL %q: expected an https URL", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validQueryName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validClaimPath accepts claim names and dotted paths of them.
func validClaimPath(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
	}
	return true
}

// canonicalHeaders returns the canonical forms of names.
func canonicalHeaders(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = http.CanonicalHeaderKey(n)
	}
	return out
}
