package authn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted (NIST SP 800-131A).
const minRSABits = 2048

// maxJWKSKeys bounds the keys read from one JWKS document.
const maxJWKSKeys = 100

// signingKey is one verification key of a key set.
type signingKey struct {
	kid string
	// alg is the JWK's "alg" member, "" when absent. When set, only tokens
	// with that algorithm are verified with the key.
	alg string
	// key is *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, or []byte
	// for an HMAC secret.
	key any
}

// keySet is an immutable set of verification keys. A new set replaces the
// old one whole when the source is fetched again.
type keySet struct {
	byKID map[string][]*signingKey
	noKID []*signingKey
	// fingerprint is a digest of all keys. When a fetch returns a set with
	// the same fingerprint, the set did not change.
	fingerprint [sha256.Size]byte
	// generation counts the changes of an issuer's key set. Cached token
	// verifications record it and are dropped when it changes.
	generation uint64
}

// keySetOptions relaxes parseKeySet for sets that are not fetched.
type keySetOptions struct {
	// allowSymmetric accepts "oct" keys. Fetched key sets never provide
	// them, because HMAC secrets come only from hmac_secret_file.
	allowSymmetric bool
}

// jwkMeta contains the JWK members that parseJWK checks before go-jose
// parses the key.
type jwkMeta struct {
	Kty    string          `json:"kty"`
	Kid    string          `json:"kid"`
	Alg    string          `json:"alg"`
	Use    string          `json:"use"`
	KeyOps []string        `json:"key_ops"`
	D      json.RawMessage `json:"d"`
	P      json.RawMessage `json:"p"`
	Q      json.RawMessage `json:"q"`
	DP     json.RawMessage `json:"dp"`
	DQ     json.RawMessage `json:"dq"`
	QI     json.RawMessage `json:"qi"`
}

// parseKeySet parses a JWK Set (RFC 7517, section 5). Keys that cannot
// verify signatures safely are left out and reported in skipped, each error
// naming the key's index and kid. It fails when no usable key remains, or
// when the set mixes symmetric and asymmetric keys, because such a set lets
// a token choose which kind of key verifies it.
func parseKeySet(data []byte, opt keySetOptions) (set *keySet, skipped []error, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("parsing JWKS: %w", err)
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, nil, fmt.Errorf("parsing JWKS: %d keys, more than the %d accepted", len(doc.Keys), maxJWKSKeys)
	}
	set = &keySet{byKID: make(map[string][]*signingKey)}
	digest := sha256.New()
	symmetric, asymmetric := 0, 0
	for i, raw := range doc.Keys {
		k, err := parseJWK(raw, opt)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		if _, ok := k.key.([]byte); ok {
			symmetric++
		} else {
			asymmetric++
		}
		digest.Write(raw)
		if k.kid == "" {
			set.noKID = append(set.noKID, k)
		} else {
			set.byKID[k.kid] = append(set.byKID[k.kid], k)
		}
	}
	if symmetric > 0 && asymmetric > 0 {
		return nil, skipped, errors.New("parsing JWKS: the set mixes symmetric and asymmetric keys")
	}
	if symmetric+asymmetric == 0 {
		return nil, skipped, errors.New("parsing JWKS: no usable signing key")
	}
	digest.Sum(set.fingerprint[:0])
	return set, skipped, nil
}

// parseJWK parses one key and checks that it may verify signatures.
func parseJWK(raw json.RawMessage, opt keySetOptions) (*signingKey, error) {
	var m jwkMeta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("invalid JWK: %w", err)
	}
	name := fmt.Sprintf("kid %q", m.Kid)
	switch {
	case m.Use != "" && m.Use != "sig":
		return nil, fmt.Errorf("%s: use is %q, not \"sig\"", name, m.Use)
	case m.KeyOps != nil && !slices.Contains(m.KeyOps, "verify"):
		return nil, fmt.Errorf("%s: key_ops %q does not include \"verify\"", name, m.KeyOps)
	case m.Alg != "" && !isHMAC(m.Alg) && !isPublicKeyAlg(m.Alg):
		return nil, fmt.Errorf("%s: alg %q is not a supported JWS signature algorithm", name, m.Alg)
	case m.Kty == "oct" && !opt.allowSymmetric:
		return nil, fmt.Errorf("%s: symmetric keys are not accepted from a JWKS", name)
	case m.Kty != "oct" && m.hasPrivate():
		// Anyone who fetched the document can sign tokens with this key.
		return nil, fmt.Errorf("%s: the JWKS publishes private key material, so the key is compromised", name)
	}
	var jk jose.JSONWebKey
	if err := jk.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkKeyStrength(jk.Key); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	k := &signingKey{kid: m.Kid, alg: m.Alg, key: jk.Key}
	if k.alg != "" && !fits(k, k.alg) {
		return nil, fmt.Errorf("%s: alg %q does not fit the key type or curve", name, k.alg)
	}
	return k, nil
}

func (m *jwkMeta) hasPrivate() bool {
	return m.D != nil || m.P != nil || m.Q != nil || m.DP != nil || m.DQ != nil || m.QI != nil
}

// checkKeyStrength rejects key types Warden does not verify with and keys
// too weak to trust.
func checkKeyStrength(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits is below the minimum of %d", k.N.BitLen(), minRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return fmt.Errorf("RSA public exponent %d is invalid", k.E)
		}
		if rocaFingerprint(k.N) {
			return errors.New("RSA key has the ROCA weakness (CVE-2017-15361) and can be factored")
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return errors.New("unsupported elliptic curve")
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return errors.New("invalid Ed25519 key size")
		}
	case []byte:
		if len(k) < minHMACSecret {
			return fmt.Errorf("symmetric key of %d bytes is below the minimum of %d", len(k), minHMACSecret)
		}
	default:
		return fmt.Errorf("unsupported key type %T", key)
	}
	return nil
}

// candidates returns the keys that may have signed a token with kid and
// alg. A kid that names no key falls back to the keys without a kid. A
// token without a kid is tried against every key that fits its algorithm.
func (s *keySet) candidates(kid, alg string) ([]*signingKey, error) {
	if kid != "" {
		named := s.byKID[kid]
		switch {
		case len(named) > 1:
			return nil, errAmbiguousKID
		case len(named) == 1 && fits(named[0], alg):
			return named, nil
		case len(named) == 1:
			return nil, errKeyMismatch
		}
		if out := fitting(s.noKID, alg); len(out) > 0 {
			return out, nil
		}
		return nil, errUnknownKID
	}
	var out []*signingKey
	for _, ks := range s.byKID {
		if len(ks) == 1 {
			out = append(out, fitting(ks, alg)...)
		}
	}
	out = append(out, fitting(s.noKID, alg)...)
	if len(out) == 0 {
		return nil, errUnknownKID
	}
	return out, nil
}

func fitting(keys []*signingKey, alg string) []*signingKey {
	var out []*signingKey
	for _, k := range keys {
		if fits(k, alg) {
			out = append(out, k)
		}
	}
	return out
}

// fits reports whether k may verify a signature made with alg: the key's
// own alg, when set, must be alg, and the key type, curve and size must be
// the ones alg is defined for (RFC 7518, section 3). This is what stops a
// public key from being used as an HMAC secret.
func fits(k *signingKey, alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return true
		}
	case *ecdsa.PublicKey:
		switch jose.SignatureAlgorithm(alg) {
		case jose.ES256:
			return key.Curve == elliptic.P256()
		case jose.ES384:
			return key.Curve == elliptic.P384()
		case jose.ES512:
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA)
	case []byte:
		size := hmacKeySize(alg)
		return size > 0 && len(key) >= size
	}
	return false
}

// hmacKeySize returns the minimum secret size for an HMAC algorithm in
// bytes, the size of its hash output (RFC 7518, section 3.2), or 0.
func hmacKeySize(alg string) int {
	switch jose.SignatureAlgorithm(alg) {
	case jose.HS256:
		return crypto.SHA256.Size()
	case jose.HS384:
		return crypto.SHA384.Size()
	case jose.HS512:
		return crypto.SHA512.Size()
	}
	return 0
}

func isHMAC(alg string) bool { return hmacKeySize(alg) > 0 }

func isPublicKeyAlg(alg string) bool {
	switch jose.SignatureAlgorithm(alg) {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA:
		return true
	}
	return false
}

// hmacKeySet returns the key set of an HMAC issuer: its one secret.
func hmacKeySet(secret []byte) *keySet {
	s := &keySet{byKID: map[string][]*signingKey{}, noKID: []*signingKey{{key: secret}}}
	s.fingerprint = sha256.Sum256(secret)
	return s
}
