package authn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
	"github.com/warden-api/warden/internal/store"
)

// BenchmarkKeyVerify measures the API key lookup and verification of one
// request once the key is cached: parse, cache lookup, SHA-256 and
// constant-time compare, consumer lookup, last-use coalescing.
func BenchmarkKeyVerify(b *testing.B) {
	e := newEnv(b, config.Authn{})
	addConsumer(b, e.st, store.Consumer{ID: "acme", Scopes: []string{"read"}})
	key, _ := addKey(b, e.st, "acme", []string{"read"}, time.Time{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, f := e.a.verifyKey(ctx, key, "127.0.0.1"); f != nil {
			b.Fatal(f)
		}
	}
}

// BenchmarkAPIKeyStage measures the whole stage for an API key request:
// header parsing, verification and the header rewrite.
func BenchmarkAPIKeyStage(b *testing.B) {
	e := newEnv(b, config.Authn{})
	addConsumer(b, e.st, store.Consumer{ID: "acme"})
	key, _ := addKey(b, e.st, "acme", []string{"read"}, time.Time{})
	s := e.stage(b, config.RouteAuth{Methods: []string{"api_key"}})
	benchStage(b, s, "Bearer "+key)
}

// BenchmarkJWTCached measures a request whose token was verified before,
// which costs a SHA-256 of the token and no signature check.
func BenchmarkJWTCached(b *testing.B) {
	key := newRSASigner(b, "k1")
	e, _ := newJWTEnvB(b, key)
	s := e.stage(b, config.RouteAuth{Methods: []string{"jwt"}})
	benchStage(b, s, "Bearer "+key.sign(b, claimsAt(t0), nil))
}

// BenchmarkJWTVerify measures a first-seen token: parsing, signature check
// and claim validation, without the verification cache.
func BenchmarkJWTVerify(b *testing.B) {
	for _, key := range []*signer{newRSASigner(b, "rsa"), newECSigner(b, "ec"), newEdSigner(b, "ed")} {
		b.Run(string(key.alg), func(b *testing.B) {
			e, _ := newJWTEnvB(b, key)
			is := e.a.issuers[0]
			token := key.sign(b, claimsAt(t0), nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				t, err := parseCompact(token)
				if err != nil {
					b.Fatal(err)
				}
				claims := map[string]any{}
				if err := json.Unmarshal(t.payload, &claims); err != nil {
					b.Fatal(err)
				}
				if _, err := is.verify(ctx, t); err != nil {
					b.Fatal(err)
				}
				if _, f := is.result(t.payload, claims, t0); f != nil {
					b.Fatal(f)
				}
			}
		})
	}
}

func newJWTEnvB(b *testing.B, signers ...*signer) (*env, *jwksServer) {
	b.Helper()
	jwks := newJWKSServer(b, signers...)
	e := newEnv(b, config.Authn{JWT: []config.JWTIssuer{issuerConfig(jwks.URL)}})
	return e, jwks
}

func benchStage(b *testing.B, s pipeline.Stage, authorization string) {
	b.Helper()
	r := httptest.NewRequest(http.MethodGet, "/books?page=2", nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Header.Set("Authorization", authorization)
		x := exchangeFor(r)
		if res := s.Check(ctx, x); res.Decision != pipeline.Allow {
			b.Fatalf("decision = %v (%s), want allow", res.Decision, res.Reason)
		}
	}
}
