package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestRunWritesVerifiableTokens(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	o := options{outDir: dir, issuer: "https://issuer.test/", audience: "bench", subject: "client", scope: "a b", ttl: time.Hour, now: now}
	if err := run(o); err != nil {
		t.Fatalf("run: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatalf("parsing jwks.json: %v", err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Errorf("key %s in jwks.json is private, want public keys only", k.KeyID)
		}
	}

	tests := []struct {
		file string
		alg  jose.SignatureAlgorithm
		kid  string
	}{
		{"es256.jwt", jose.ES256, "bench-es256"},
		{"rs256.jwt", jose.RS256, "bench-rs256"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.ParseSigned(strings.TrimSpace(string(raw)), []jose.SignatureAlgorithm{tt.alg})
			if err != nil {
				t.Fatalf("parsing %s: %v", tt.file, err)
			}
			if got := tok.Headers[0].KeyID; got != tt.kid {
				t.Errorf("kid = %q, want %q", got, tt.kid)
			}
			keys := set.Key(tt.kid)
			if len(keys) != 1 {
				t.Fatalf("jwks.json has %d keys with kid %q, want 1", len(keys), tt.kid)
			}
			var claims jwt.Claims
			if err := tok.Claims(keys[0].Key, &claims); err != nil {
				t.Fatalf("verifying %s with the JWKS key: %v", tt.file, err)
			}
			want := jwt.Expected{Issuer: o.issuer, Subject: o.subject, AnyAudience: jwt.Audience{o.audience}, Time: now}
			if err := claims.Validate(want); err != nil {
				t.Errorf("claims of %s: %v", tt.file, err)
			}
		})
	}
}
