// Command jwtgen writes the signing material of the load benchmark's JWT
// variants: a JWKS file with one ES256 (P-256) and one RS256 (2048-bit)
// public key, and one long-lived token signed with each private key. The
// private keys live only in memory and are discarded on exit.
//
// Usage:
//
//	jwtgen -out DIR -issuer https://bench.warden.test/ -audience bench -subject bench-client
//
// It writes DIR/jwks.json, DIR/es256.jwt and DIR/rs256.jwt.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// options are the claims and output place of one jwtgen run.
type options struct {
	outDir   string
	issuer   string
	audience string
	subject  string
	scope    string
	ttl      time.Duration
	now      time.Time
}

func main() {
	var o options
	flag.StringVar(&o.outDir, "out", ".", "directory that receives jwks.json, es256.jwt and rs256.jwt")
	flag.StringVar(&o.issuer, "issuer", "https://bench.warden.test/", `"iss" claim of the tokens`)
	flag.StringVar(&o.audience, "audience", "bench", `"aud" claim of the tokens`)
	flag.StringVar(&o.subject, "subject", "bench-client", `"sub" claim of the tokens, the consumer id`)
	flag.StringVar(&o.scope, "scope", "bench:read", `"scope" claim of the tokens, space-separated`)
	flag.DurationVar(&o.ttl, "ttl", 24*time.Hour, "lifetime of the tokens")
	flag.Parse()
	o.now = time.Now()

	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "jwtgen:", err)
		os.Exit(1)
	}
}

// run generates both keys, signs one token with each and writes the files.
func run(o options) error {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating the P-256 key: %w", err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generating the RSA key: %w", err)
	}
	keys := []signingKey{
		{kid: "bench-es256", alg: jose.ES256, private: ecKey, public: &ecKey.PublicKey, file: "es256.jwt"},
		{kid: "bench-rs256", alg: jose.RS256, private: rsaKey, public: &rsaKey.PublicKey, file: "rs256.jwt"},
	}

	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.public, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
		token, err := k.sign(o)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(o.outDir, k.file), []byte(token+"\n")); err != nil {
			return err
		}
	}
	doc, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the JWKS: %w", err)
	}
	return writeFile(filepath.Join(o.outDir, "jwks.json"), append(doc, '\n'))
}

// signingKey is one key pair with the key id and algorithm it signs with.
type signingKey struct {
	kid     string
	alg     jose.SignatureAlgorithm
	private any
	public  any
	file    string
}

// sign returns a compact JWT with the claims of o, signed by k.
func (k signingKey) sign(o options) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.private}, opts)
	if err != nil {
		return "", fmt.Errorf("creating the %s signer: %w", k.alg, err)
	}
	claims := map[string]any{
		"iss":   o.issuer,
		"aud":   o.audience,
		"sub":   o.subject,
		"iat":   o.now.Unix(),
		"nbf":   o.now.Add(-time.Minute).Unix(),
		"exp":   o.now.Add(o.ttl).Unix(),
		"scope": o.scope,
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing the %s token: %w", k.alg, err)
	}
	return token, nil
}

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
