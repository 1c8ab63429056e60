package authn

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/store"
)

func newJWTEnv(t *testing.T, signers ...*signer) (*env, *jwksServer) {
	t.Helper()
	jwks := newJWKSServer(t, signers...)
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{issuerConfig(jwks.URL + "/jwks")}})
	return e, jwks
}

func TestJWTAccepted(t *testing.T) {
	key := newRSASigner(t, "k1")
	e, _ := newJWTEnv(t, key)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	token := key.sign(t, claimsAt(t0), nil)

	h := bearer(token)
	h.Set("X-Consumer-Id", "mallory")
	x, res := run(s, "/books", h)
	wantAllow(t, res)
	id := x.Identity
	if id.ConsumerID != "alice" || id.Method != "jwt" || id.CredentialID != "tok-1" || id.Issuer != "idp" {
		t.Errorf("identity = %+v, want alice/jwt/tok-1/idp", id)
	}
	if want := []string{"books:read", "books:write"}; !slices.Equal(id.Scopes, want) {
		t.Errorf("scopes = %q, want %q", id.Scopes, want)
	}
	if want := []string{"reader"}; !slices.Equal(id.Roles, want) {
		t.Errorf("roles = %q, want %q", id.Roles, want)
	}
	if id.Claims["sub"] != "alice" {
		t.Errorf("claims[sub] = %v, want alice", id.Claims["sub"])
	}
	if got := x.Request.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want it removed", got)
	}
	if got := x.Request.Header.Values("X-Consumer-Id"); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("X-Consumer-Id = %q, want [alice]", got)
	}
	if got := x.Request.Header.Get("X-Consumer-Scopes"); got != "books:read books:write" {
		t.Errorf("X-Consumer-Scopes = %q", got)
	}
	if got := x.Attrs["authn.issuer"]; got != "idp" {
		t.Errorf("authn.issuer = %v, want idp", got)
	}
}

func TestJWTAlgorithms(t *testing.T) {
	signers := []*signer{newRSASigner(t, "rsa"), newECSigner(t, "ec"), newEdSigner(t, "ed")}
	ps := newRSASigner(t, "pss")
	ps.alg = jose.PS256
	signers = append(signers, ps)
	jwks := newJWKSServer(t, signers...)
	cfg := issuerConfig(jwks.URL)
	cfg.Algorithms = []string{"RS256", "PS256", "ES256", "EdDSA"}
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{cfg}})
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt:idp"}})
	for _, k := range signers {
		t.Run(string(k.alg), func(t *testing.T) {
			_, res := run(s, "/", bearer(k.sign(t, claimsAt(t0), nil)))
			wantAllow(t, res)
		})
	}
}

func TestJWTRejected(t *testing.T) {
	key := newRSASigner(t, "k1")
	attacker := newRSASigner(t, "k1")
	stranger := newRSASigner(t, "other")
	e, _ := newJWTEnv(t, key)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}, Anonymous: true})

	pub := key.public().Key.(*rsa.PublicKey)
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	confused := &signer{kid: "k1", alg: jose.HS256, key: pemKey}

	valid := key.sign(t, claimsAt(t0), nil)
	tests := []struct {
		name   string
		token  string
		reason string
	}{
		{"expired", key.sign(t, claimsAt(t0, set("exp", t0.Add(-time.Minute).Unix())), nil), ReasonTokenExpired},
		{"not yet valid", key.sign(t, claimsAt(t0, set("nbf", t0.Add(time.Minute).Unix())), nil), ReasonTokenNotYetValid},
		{"issued in future", key.sign(t, claimsAt(t0, set("iat", t0.Add(time.Minute).Unix())), nil), ReasonTokenIssuedFuture},
		{"wrong audience", key.sign(t, claimsAt(t0, set("aud", "other-api")), nil), ReasonTokenWrongAudience},
		{"wrong issuer", key.sign(t, claimsAt(t0, set("iss", "https://evil.test")), nil), ReasonTokenWrongIssuer},
		{"no expiry", key.sign(t, claimsAt(t0, del("exp")), nil), ReasonTokenInvalidClaim},
		{"no subject", key.sign(t, claimsAt(t0, del("sub")), nil), ReasonTokenInvalidClaim},
		{"unknown kid", stranger.sign(t, claimsAt(t0), nil), ReasonTokenUnknownKID},
		{"tampered payload", withPayload(t, valid, claimsAt(t0, set("sub", "admin"))), ReasonTokenBadSignature},
		{"other key same kid", attacker.sign(t, claimsAt(t0), nil), ReasonTokenBadSignature},
		{"alg none", unsigned(t, map[string]any{"alg": "none", "kid": "k1"}, claimsAt(t0), ""), ReasonTokenMalformed},
		{"alg none with signature", unsigned(t, map[string]any{"alg": "none", "kid": "k1"}, claimsAt(t0), "AAAA"), ReasonTokenAlgNotAllowed},
		{"rs256 key as hs256 secret", confused.sign(t, claimsAt(t0), nil), ReasonTokenAlgNotAllowed},
		{"embedded jwk", attacker.sign(t, claimsAt(t0), map[jose.HeaderKey]any{"jwk": attacker.public()}), ReasonTokenBadSignature},
		{"crit header", key.sign(t, claimsAt(t0), map[jose.HeaderKey]any{"crit": []string{"exp"}, "exp": 1}), ReasonTokenMalformed},
		{"not base64", "eyJhbGciOiJSUzI1NiJ9.e30.a+b", ReasonTokenMalformed},
		{"payload not json", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.AAAA", ReasonTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, res := run(s, "/", bearer(tt.token))
			wantDeny(t, res, http.StatusUnauthorized, tt.reason)
			if got := res.Headers.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q, want error=\"invalid_token\"", got)
			}
			if id, _ := x.Attrs["authn.credential_id"].(string); id == "" || id == tt.token {
				t.Errorf("authn.credential_id = %q, want a hash of the token", id)
			}
		})
	}
}

func TestJWTLeeway(t *testing.T) {
	key := newRSASigner(t, "k1")
	e, _ := newJWTEnv(t, key)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	token := key.sign(t, claimsAt(t0, set("exp", t0.Add(-10*time.Second).Unix()), set("nbf", t0.Add(10*time.Second).Unix())), nil)
	_, res := run(s, "/", bearer(token))
	wantAllow(t, res)
	e.clock.Advance(defaultLeeway)
	_, res = run(s, "/", bearer(token))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenExpired)
}

func TestJWTHeadersNotFollowed(t *testing.T) {
	key := newRSASigner(t, "k1")
	attacker := newRSASigner(t, "evil")
	var fetched atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{attacker.public()}})
	}))
	defer evil.Close()
	e, _ := newJWTEnv(t, key)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	e.clock.Advance(time.Hour) // past jwks_min_refresh, so an unknown kid may refresh

	headers := map[jose.HeaderKey]any{"jku": evil.URL, "x5u": evil.URL + "/cert.pem"}
	_, res := run(s, "/", bearer(attacker.sign(t, claimsAt(e.clock.Now()), headers)))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenUnknownKID)
	_, res = run(s, "/", bearer(key.sign(t, claimsAt(e.clock.Now()), headers)))
	wantAllow(t, res)
	if got := fetched.Load(); got != 0 {
		t.Errorf("URLs from token headers fetched %d times, want 0", got)
	}
}

func TestJWKSRotation(t *testing.T) {
	oldKey := newRSASigner(t, "2024")
	newKey := newECSigner(t, "2025")
	e, jwks := newJWTEnv(t, oldKey)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})

	oldToken := oldKey.sign(t, claimsAt(t0), nil)
	_, res := run(s, "/", bearer(oldToken))
	wantAllow(t, res)
	if got := jwks.hits.Load(); got != 1 {
		t.Fatalf("JWKS fetches = %d, want 1", got)
	}

	// The provider publishes the new key beside the old one, then drops the
	// old one.
	jwks.setKeys(oldKey, newKey)
	newToken := newKey.sign(t, claimsAt(t0), nil)
	_, res = run(s, "/", bearer(newToken))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenUnknownKID) // within jwks_min_refresh
	e.clock.Advance(defaultJWKSMinRefresh)
	_, res = run(s, "/", bearer(newToken))
	wantAllow(t, res)
	_, res = run(s, "/", bearer(oldToken))
	wantAllow(t, res)

	jwks.setKeys(newKey)
	e.clock.Advance(defaultJWKSMinRefresh)
	if !e.a.issuers[0].source.refreshForRequest(context.Background()) {
		t.Fatal("refresh failed")
	}
	_, res = run(s, "/", bearer(oldToken))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenUnknownKID)
	_, res = run(s, "/", bearer(newToken))
	wantAllow(t, res)
}

func TestUnknownKIDRefreshLimited(t *testing.T) {
	key := newRSASigner(t, "k1")
	e, jwks := newJWTEnv(t, key)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	_, res := run(s, "/", bearer(key.sign(t, claimsAt(t0), nil)))
	wantAllow(t, res)
	for i := range 20 {
		forged := newECSigner(t, "forged-"+string(rune('a'+i)))
		_, res := run(s, "/", bearer(forged.sign(t, claimsAt(t0), nil)))
		wantDeny(t, res, http.StatusUnauthorized, ReasonTokenUnknownKID)
	}
	if got := jwks.hits.Load(); got != 1 {
		t.Errorf("JWKS fetches = %d, want 1 (refreshes limited by jwks_min_refresh)", got)
	}
}

func TestJWTVerificationCached(t *testing.T) {
	key := newRSASigner(t, "k1")
	e, jwks := newJWTEnv(t, key)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	token := key.sign(t, claimsAt(t0, set("exp", t0.Add(90*time.Second).Unix())), nil)
	for range 3 {
		_, res := run(s, "/", bearer(token))
		wantAllow(t, res)
	}
	if got := e.a.tokens.Len(); got != 1 {
		t.Errorf("cached tokens = %d, want 1", got)
	}
	// A cached token is still checked against its expiry.
	e.clock.Advance(90*time.Second + defaultLeeway + time.Second)
	_, res := run(s, "/", bearer(token))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenExpired)
	if got := jwks.hits.Load(); got != 1 {
		t.Errorf("JWKS fetches = %d, want 1", got)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	key := newRSASigner(t, "k1")
	e, jwks := newJWTEnv(t, key)
	jwks.fail.Store(true)
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	_, res := run(s, "/", bearer(key.sign(t, claimsAt(t0), nil)))
	wantDeny(t, res, http.StatusServiceUnavailable, ReasonJWKSUnavailable)

	jwks.fail.Store(false)
	e.clock.Advance(defaultJWKSMinRefresh)
	_, res = run(s, "/", bearer(key.sign(t, claimsAt(t0), nil)))
	wantAllow(t, res)
}

func TestJWTConsumerFromStore(t *testing.T) {
	key := newRSASigner(t, "k1")
	e, _ := newJWTEnv(t, key)
	addConsumer(t, e.st, store.Consumer{ID: "alice", Name: "Alice", Plan: "gold", Metadata: map[string]string{"team": "blue"}})
	addConsumer(t, e.st, store.Consumer{ID: "bob", Status: store.StatusSuspended})
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})

	x, res := run(s, "/", bearer(key.sign(t, claimsAt(t0), nil)))
	wantAllow(t, res)
	if x.Identity.Plan != "gold" || x.Identity.ConsumerName != "Alice" || x.Identity.Metadata["team"] != "blue" {
		t.Errorf("identity = %+v, want the store consumer's name, plan and metadata", x.Identity)
	}
	_, res = run(s, "/", bearer(key.sign(t, claimsAt(t0, set("sub", "bob")), nil)))
	wantDeny(t, res, http.StatusUnauthorized, ReasonConsumerSuspended)
	x, res = run(s, "/", bearer(key.sign(t, claimsAt(t0, set("sub", "auth0|carol")), nil)))
	wantAllow(t, res)
	if x.Identity.ConsumerID != "auth0|carol" {
		t.Errorf("consumer = %q, want auth0|carol", x.Identity.ConsumerID)
	}
}

func TestJWTClaimMapping(t *testing.T) {
	key := newRSASigner(t, "k1")
	jwks := newJWKSServer(t, key)
	cfg := issuerConfig(jwks.URL)
	cfg.ConsumerClaim = "client_id"
	cfg.ScopesClaim = "permissions"
	cfg.RolesClaim = "app.roles"
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{cfg}})
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	token := key.sign(t, claimsAt(t0,
		set("client_id", "svc-1"),
		set("permissions", []string{"a", "b c", "d"}),
		set("app", map[string]any{"roles": "ops"}),
	), nil)
	x, res := run(s, "/", bearer(token))
	wantAllow(t, res)
	if x.Identity.ConsumerID != "svc-1" {
		t.Errorf("consumer = %q, want svc-1", x.Identity.ConsumerID)
	}
	if want := []string{"a", "d"}; !slices.Equal(x.Identity.Scopes, want) {
		t.Errorf("scopes = %q, want %q (the invalid scope dropped)", x.Identity.Scopes, want)
	}
	if want := []string{"ops"}; !slices.Equal(x.Identity.Roles, want) {
		t.Errorf("roles = %q, want %q", x.Identity.Roles, want)
	}

	scp := key.sign(t, claimsAt(t0, del("scope"), set("scp", []string{"x", "y"})), nil)
	e2, _ := newJWTEnv(t, key)
	x, res = run(e2.stage(t, config.RouteAuth{Methods: []string{"jwt"}}), "/", bearer(scp))
	wantAllow(t, res)
	if want := []string{"x", "y"}; !slices.Equal(x.Identity.Scopes, want) {
		t.Errorf("scp scopes = %q, want %q", x.Identity.Scopes, want)
	}
}

func TestJWTIssuerPerRoute(t *testing.T) {
	a, b := newRSASigner(t, "a"), newRSASigner(t, "b")
	ja, jb := newJWKSServer(t, a), newJWKSServer(t, b)
	ca, cb := issuerConfig(ja.URL), issuerConfig(jb.URL)
	cb.Name, cb.Issuer = "partner", "https://partner.test"
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{ca, cb}})
	only := e.stage(t, config.RouteAuth{Methods: []string{"jwt:idp"}})
	any := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	partnerToken := b.sign(t, claimsAt(t0, set("iss", "https://partner.test")), nil)

	_, res := run(only, "/", bearer(partnerToken))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenWrongIssuer)
	_, res = run(any, "/", bearer(partnerToken))
	wantAllow(t, res)
	_, res = run(only, "/", bearer(a.sign(t, claimsAt(t0), nil)))
	wantAllow(t, res)
}

func TestHMACIssuer(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	path := filepath.Join(t.TempDir(), "hmac")
	if err := os.WriteFile(path, append(secret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{{
		Name: "local", Issuer: testIssuer, Audiences: []string{testAudience},
		Algorithms: []string{"HS256"}, HMACSecretFile: path,
	}}})
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	good := &signer{alg: jose.HS256, key: secret}
	bad := &signer{alg: jose.HS256, key: []byte("fedcba9876543210fedcba9876543210")}
	_, res := run(s, "/", bearer(good.sign(t, claimsAt(t0), nil)))
	wantAllow(t, res)
	_, res = run(s, "/", bearer(bad.sign(t, claimsAt(t0), nil)))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenBadSignature)
	rs := newRSASigner(t, "")
	_, res = run(s, "/", bearer(rs.sign(t, claimsAt(t0), nil)))
	wantDeny(t, res, http.StatusUnauthorized, ReasonTokenAlgNotAllowed)
}

func TestOIDCDiscovery(t *testing.T) {
	key := newRSASigner(t, "k1")
	jwks := newJWKSServer(t, key)
	var issuerURL string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuerURL, "jwks_uri": jwks.URL + "/keys"})
	}))
	defer idp.Close()
	issuerURL = idp.URL
	cfg := issuerConfig("")
	cfg.Issuer, cfg.Discovery = issuerURL, true
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{cfg}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.a.Start(ctx)
	defer e.a.Stop()
	waitFor(t, func() bool { return e.a.issuers[0].keys() != nil })

	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	_, res := run(s, "/", bearer(key.sign(t, claimsAt(t0, set("iss", issuerURL)), nil)))
	wantAllow(t, res)
}

func TestJWKSFile(t *testing.T) {
	key := newECSigner(t, "file-key")
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.public()}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := issuerConfig("")
	cfg.JWKSFile = path
	e := newEnv(t, config.Authn{JWT: []config.JWTIssuer{cfg}})
	s := e.stage(t, config.RouteAuth{Methods: []string{"jwt"}})
	_, res := run(s, "/", bearer(key.sign(t, claimsAt(t0), nil)))
	wantAllow(t, res)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
