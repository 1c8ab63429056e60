package authn

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/warden-api/warden/internal/config"
)

const (
	testIssuer   = "https://idp.test"
	testAudience = "api"
)

// signer signs test tokens with a key generated for the test.
type signer struct {
	kid string
	alg jose.SignatureAlgorithm
	key any // private key, or []byte for HMAC
}

func newRSASigner(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, alg: jose.RS256, key: k}
}

func newECSigner(t testing.TB, kid string) *signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, alg: jose.ES256, key: k}
}

func newEdSigner(t testing.TB, kid string) *signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, alg: jose.EdDSA, key: k}
}

// public returns the signer's public JWK.
func (s *signer) public() jose.JSONWebKey {
	var pub any
	switch k := s.key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		pub = k.Public()
	}
	return jose.JSONWebKey{Key: pub, KeyID: s.kid, Algorithm: string(s.alg), Use: "sig"}
}

// sign returns a compact JWT with claims and extra protected headers.
func (s *signer) sign(t testing.TB, claims map[string]any, headers map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if s.kid != "" {
		opts = opts.WithHeader("kid", s.kid)
	}
	for k, v := range headers {
		opts = opts.WithHeader(k, v)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		t.Fatalf("creating signer: %v", err)
	}
	token, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("signing token: %v", err)
	}
	return token
}

// claimsAt returns valid claims at now, changed by the edits.
func claimsAt(now time.Time, edits ...func(map[string]any)) map[string]any {
	c := map[string]any{
		"iss":          testIssuer,
		"aud":          testAudience,
		"sub":          "alice",
		"jti":          "tok-1",
		"iat":          now.Unix(),
		"exp":          now.Add(time.Hour).Unix(),
		"scope":        "books:read books:write",
		"realm_access": map[string]any{"roles": []string{"reader"}},
	}
	for _, e := range edits {
		e(c)
	}
	return c
}

func set(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
func del(k string) func(map[string]any)        { return func(c map[string]any) { delete(c, k) } }

// jwksServer serves a JWKS that tests can swap, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys []jose.JSONWebKey
	fail atomic.Bool
	hits atomic.Int64
}

func newJWKSServer(t testing.TB, signers ...*signer) *jwksServer {
	t.Helper()
	j := &jwksServer{}
	j.setKeys(signers...)
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.hits.Add(1)
		if j.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		j.mu.Lock()
		doc := jose.JSONWebKeySet{Keys: j.keys}
		j.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(j.Close)
	return j
}

func (j *jwksServer) setKeys(signers ...*signer) {
	keys := make([]jose.JSONWebKey, len(signers))
	for i, s := range signers {
		keys[i] = s.public()
	}
	j.mu.Lock()
	j.keys = keys
	j.mu.Unlock()
}

// issuerConfig is an issuer that fetches its keys from url.
func issuerConfig(url string) config.JWTIssuer {
	return config.JWTIssuer{
		Name:       "idp",
		Issuer:     testIssuer,
		Audiences:  []string{testAudience},
		Algorithms: []string{"RS256", "ES256", "EdDSA"},
		JWKSURL:    url,
		RolesClaim: "realm_access.roles",
	}
}

// b64 encodes data as base64url without padding.
func b64(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

// withPayload replaces the payload of a compact token, keeping its header
// and signature.
func withPayload(t testing.TB, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + b64(body) + "." + parts[2]
}

// unsigned returns a token with the given header and claims and signature.
func unsigned(t testing.TB, header, claims map[string]any, sig string) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return b64(h) + "." + b64(c) + "." + sig
}
