package authn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/warden-api/warden/internal/authn/cache"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// issuer verifies the JWTs of one configured identity provider.
type issuer struct {
	name   string
	cfg    config.JWTIssuer
	source *keySource // nil for an HMAC issuer
	hmac   *keySet    // the secret of an HMAC issuer
}

// newIssuer builds the verifier of one issuer. It reads hmac_secret_file
// and jwks_file, so errors about them carry the config path.
func newIssuer(cfg config.JWTIssuer, a *Authenticator, path string) (*issuer, error) {
	is := &issuer{name: cfg.Name, cfg: cfg}
	var es config.Errors
	if cfg.HMACSecretFile != "" {
		secret, err := readSecretFile(cfg.HMACSecretFile)
		switch {
		case err != nil:
			es.Add(path+".hmac_secret_file", "%v", err)
		case len(secret) < minHMACSecret:
			es.Add(path+".hmac_secret_file", "secret in %q is %d bytes; HS256 needs at least %d", cfg.HMACSecretFile, len(secret), minHMACSecret)
		default:
			for _, alg := range cfg.Algorithms {
				if n := hmacKeySize(alg); n > len(secret) {
					es.Add(path+".hmac_secret_file", "secret in %q is %d bytes; %s needs at least %d", cfg.HMACSecretFile, len(secret), alg, n)
				}
			}
			is.hmac = hmacKeySet(secret)
		}
		return is, es.Err()
	}

	is.source = &keySource{
		issuer:     cfg.Name,
		issuerURL:  cfg.Issuer,
		jwksURL:    cfg.JWKSURL,
		discovery:  cfg.Discovery,
		file:       cfg.JWKSFile,
		client:     a.client,
		log:        a.log,
		now:        a.now,
		every:      cfg.JWKSRefresh.D(),
		minRefresh: cfg.JWKSMinRefresh.D(),
	}
	if cfg.JWKSFile != "" {
		data, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			es.Add(path+".jwks_file", "reading JWKS: %v", err)
			return is, es.Err()
		}
		set, skipped, err := parseKeySet(data, keySetOptions{})
		for _, e := range skipped {
			a.log.Warn("JWKS key ignored", "issuer", cfg.Name, "source", cfg.JWKSFile, "error", e)
		}
		if err != nil {
			es.Add(path+".jwks_file", "%v", err)
			return is, es.Err()
		}
		is.source.set.Store(set)
	}
	return is, es.Err()
}

// readSecretFile reads a secret file. One trailing line break is removed,
// because editors and `echo` add one that is not meant as part of the
// secret.
func readSecretFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret: %w", err)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	return bytes.TrimSuffix(data, []byte("\r")), nil
}

// keys returns the issuer's current key set, or nil when none loaded yet.
func (is *issuer) keys() *keySet {
	if is.hmac != nil {
		return is.hmac
	}
	return is.source.current()
}

// verify checks t's signature with the issuer's keys. A kid missing from
// the key set makes the source fetch the set again (rate-limited) before
// the token is rejected.
func (is *issuer) verify(ctx context.Context, t *compactJWS) (*keySet, error) {
	set := is.keys()
	if set == nil {
		if !slices.Contains(is.cfg.Algorithms, t.header.Alg) {
			return nil, errAlgNotAllowed
		}
		is.source.refreshForRequest(ctx)
		if set = is.keys(); set == nil {
			return nil, errNoKeys
		}
	}
	_, err := set.verify(t, is.cfg.Algorithms)
	if errors.Is(err, errUnknownKID) && is.source != nil && is.source.refreshForRequest(ctx) {
		set = is.keys()
		_, err = set.verify(t, is.cfg.Algorithms)
	}
	return set, err
}

// tokenResult is a verified JWT, cached by the SHA-256 of the token.
type tokenResult struct {
	issuer     *issuer
	generation uint64
	identity   pipeline.Identity
	validUntil time.Time
}

// verifyJWT verifies a JWT from one of issuers and returns its identity.
// credID names the token: its jti once verified, or a keyed hash.
func (a *Authenticator) verifyJWT(ctx context.Context, token string, issuers []*issuer) (*pipeline.Identity, string, *failure) {
	sum := sha256.Sum256([]byte(token))
	if r, state := a.tokens.Get(sum); state == cache.Fresh && a.now().Before(r.validUntil) &&
		slices.Contains(issuers, r.issuer) {
		if set := r.issuer.keys(); set != nil && set.generation == r.generation {
			id := r.identity
			return &id, id.CredentialID, nil
		}
	}

	credID := a.credentialHash(token)
	t, err := parseCompact(token)
	if err != nil {
		return nil, credID, invalid(ReasonTokenMalformed, "The access token is malformed.")
	}
	claims := map[string]any{}
	if err := json.Unmarshal(t.payload, &claims); err != nil {
		return nil, credID, invalid(ReasonTokenMalformed, "The access token is malformed.")
	}
	iss, _ := claims["iss"].(string)
	is := pickIssuer(issuers, iss)
	if is == nil {
		return nil, credID, invalid(ReasonTokenWrongIssuer, "The access token is from an issuer this route does not accept.")
	}
	set, err := is.verify(ctx, t)
	if err != nil {
		return nil, credID, jwsFailure(err)
	}
	r, f := is.result(t.payload, claims, a.now())
	if f != nil {
		return nil, credID, f
	}
	if r.identity.CredentialID == "" {
		r.identity.CredentialID = credID
	}
	r.generation = set.generation
	a.tokens.Set(sum, r, r.validUntil, r.validUntil)
	id := r.identity
	return &id, id.CredentialID, nil
}

func pickIssuer(issuers []*issuer, iss string) *issuer {
	for _, is := range issuers {
		if is.cfg.Issuer == iss {
			return is
		}
	}
	return nil
}

// jwsFailure maps a verification error to the stage's failure.
func jwsFailure(err error) *failure {
	switch {
	case errors.Is(err, errNoKeys):
		return unavailable(ReasonJWKSUnavailable, err)
	case errors.Is(err, errAlgNotAllowed), errors.Is(err, errKeyMismatch):
		return invalid(ReasonTokenAlgNotAllowed, "The access token uses an algorithm this issuer does not use.")
	case errors.Is(err, errUnknownKID):
		return invalid(ReasonTokenUnknownKID, "The access token is signed with an unknown key.")
	case errors.Is(err, errAmbiguousKID):
		return invalid(ReasonTokenAmbiguousKID, "The access token is signed with an unknown key.")
	case errors.Is(err, errBadSignature):
		return invalid(ReasonTokenBadSignature, "The access token signature is invalid.")
	}
	return invalid(ReasonTokenMalformed, "The access token is malformed.")
}

// result checks the registered claims of a verified payload at now and
// builds the token's identity.
func (is *issuer) result(payload []byte, claims map[string]any, now time.Time) (*tokenResult, *failure) {
	var std jwt.Claims
	if err := json.Unmarshal(payload, &std); err != nil {
		return nil, invalid(ReasonTokenInvalidClaim, "The access token has an invalid claim.")
	}
	if std.Expiry == nil {
		return nil, invalid(ReasonTokenInvalidClaim, "The access token has no expiry.")
	}
	leeway := is.cfg.Leeway.D()
	expected := jwt.Expected{Issuer: is.cfg.Issuer, AnyAudience: is.cfg.Audiences, Time: now}
	err := std.ValidateWithLeeway(expected, leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return nil, invalid(ReasonTokenExpired, "The access token has expired.")
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, invalid(ReasonTokenNotYetValid, "The access token is not valid yet.")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, invalid(ReasonTokenIssuedFuture, "The access token is not valid yet.")
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, invalid(ReasonTokenWrongIssuer, "The access token is from an issuer this route does not accept.")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, invalid(ReasonTokenWrongAudience, "The access token is not meant for this API.")
	case err != nil:
		return nil, invalid(ReasonTokenInvalidClaim, "The access token has an invalid claim.")
	}

	consumer, _ := claims[is.cfg.ConsumerClaim].(string)
	if !validHeaderValue(consumer) {
		return nil, invalid(ReasonTokenInvalidClaim, "The access token does not name its subject.")
	}
	r := &tokenResult{
		issuer:     is,
		validUntil: minTime(std.Expiry.Time().Add(leeway), now.Add(tokenCacheTTL)),
		identity: pipeline.Identity{
			ConsumerID:   consumer,
			Method:       "jwt",
			CredentialID: safeID(std.ID),
			Issuer:       is.name,
			Scopes:       is.scopes(claims),
			Roles:        stringList(claimAt(claims, is.cfg.RolesClaim)),
			Claims:       claims,
		},
	}
	return r, nil
}

// scopes reads the scopes claim: a space-separated string (RFC 8693's
// "scope") or a list of strings (the "scp" some providers send).
func (is *issuer) scopes(claims map[string]any) []string {
	if is.cfg.ScopesClaim != "" {
		return scopeList(claimAt(claims, is.cfg.ScopesClaim))
	}
	if v, ok := claims["scope"]; ok {
		return scopeList(v)
	}
	return scopeList(claims["scp"])
}

// claimAt follows a dotted path such as "realm_access.roles" into claims.
func claimAt(claims map[string]any, path string) any {
	var v any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// scopeList returns the valid scope tokens of a string or list claim.
func scopeList(v any) []string {
	if s, ok := v.(string); ok {
		v = strings.Fields(s)
	}
	out := stringList(v)
	return slices.DeleteFunc(out, func(s string) bool { return !validScope(s) })
}

// stringList returns the strings of a list claim, or a one-element list for
// a string claim.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// validScope reports whether s is a scope token (RFC 6749, section 3.3):
// printable ASCII without space, '"' or '\'.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// maxConsumerIDLen bounds a consumer id taken from a token.
const maxConsumerIDLen = 256

// validHeaderValue reports whether s is non-empty, at most maxConsumerIDLen
// bytes and free of control characters, so that it can be sent upstream in
// the consumer header.
func validHeaderValue(s string) bool {
	if s == "" || len(s) > maxConsumerIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// safeID returns a token's jti when it can be recorded as is, else "".
func safeID(jti string) string {
	if !validHeaderValue(jti) || len(jti) > 128 {
		return ""
	}
	return jti
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
