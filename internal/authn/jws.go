package authn

import (
	"crypto"
	"crypto/rsa"
	_ "crypto/sha512" // SHA-384 and SHA-512 for PS384 and PS512
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Errors of JWS verification. The stage maps each to a reason code.
var (
	errMalformed     = errors.New("token is not a well-formed JWS in compact serialization")
	errAlgNotAllowed = errors.New("token algorithm is not allowed")
	errKeyMismatch   = errors.New("token algorithm does not fit the key named by its kid")
	errUnknownKID    = errors.New("no key in the key set matches the token")
	errAmbiguousKID  = errors.New("the token's kid names more than one key")
	errBadSignature  = errors.New("token signature does not verify")
)

// strictBase64 rejects padding and non-zero trailing bits, so that each
// token has exactly one encoding and the bytes that go-jose re-encodes to
// compute the signing input are the bytes the client sent.
var strictBase64 = base64.RawURLEncoding.Strict()

// jwsHeader is the part of the protected header Warden reads. Other
// members, including "jku", "x5u", "jwk" and "x5c", are ignored: keys come
// only from the issuer's configured key source and are chosen by "kid".
type jwsHeader struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Crit json.RawMessage `json:"crit"`
}

// compactJWS is a token that passed the syntax checks but whose signature
// is not verified yet.
type compactJWS struct {
	raw     string
	header  jwsHeader
	payload []byte
}

// parseCompact checks the syntax of a JWS in compact serialization (RFC
// 7515, section 7.1) and decodes its header and payload. It rejects a
// "crit" header: no extension that it names is supported.
func parseCompact(token string) (*compactJWS, error) {
	if len(token) > maxCredentialLen {
		return nil, errMalformed
	}
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errMalformed
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok || h == "" || sig == "" || strings.Contains(sig, ".") {
		return nil, errMalformed
	}

	if !isBase64URL(h) || !isBase64URL(p) || !isBase64URL(sig) {
		return nil, errMalformed
	}
	rawHeader, err := strictBase64.DecodeString(h)
	if err != nil {
		return nil, errMalformed
	}
	payload, err := strictBase64.DecodeString(p)
	if err != nil {
		return nil, errMalformed
	}
	if _, err := strictBase64.DecodeString(sig); err != nil {
		return nil, errMalformed
	}

	t := &compactJWS{raw: token, payload: payload}
	if err := json.Unmarshal(rawHeader, &t.header); err != nil || t.header.Alg == "" {
		return nil, errMalformed
	}
	if len(t.header.Crit) > 0 {
		return nil, errMalformed
	}
	return t, nil
}

// isBase64URL reports whether s uses only the base64url alphabet. The
// standard decoder skips '\r' and '\n', which must not pass here.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// verify checks t's signature with the keys of s that fit its kid and
// algorithm, which must be one of algs, and returns the payload.
func (s *keySet) verify(t *compactJWS, algs []string) ([]byte, error) {
	alg := t.header.Alg
	if !slices.Contains(algs, alg) {
		return nil, errAlgNotAllowed
	}
	candidates, err := s.candidates(t.header.Kid, alg)
	if err != nil {
		return nil, err
	}
	obj, err := jose.ParseSignedCompact(t.raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return nil, errMalformed
	}
	for _, k := range candidates {
		if _, err := obj.Verify(verificationKey(k, alg)); err == nil {
			return t.payload, nil
		}
	}
	return nil, errBadSignature
}

// verifyCompact parses and verifies a compact JWS with the keys of s.
func verifyCompact(token string, s *keySet, algs []string) ([]byte, error) {
	t, err := parseCompact(token)
	if err != nil {
		return nil, err
	}
	return s.verify(t, algs)
}

// pssVerifier verifies RSASSA-PSS signatures with the salt length fixed to
// the hash size, as RFC 7518, section 3.5 requires. go-jose verifies PS256,
// PS384 and PS512 with rsa.PSSSaltLengthAuto, which accepts any salt
// length, so Warden hands it this verifier for those algorithms instead of
// the bare key.
type pssVerifier struct {
	key *rsa.PublicKey
}

// VerifyPayload implements jose.OpaqueVerifier.
func (v pssVerifier) VerifyPayload(input, signature []byte, alg jose.SignatureAlgorithm) error {
	var h crypto.Hash
	switch alg {
	case jose.PS256:
		h = crypto.SHA256
	case jose.PS384:
		h = crypto.SHA384
	case jose.PS512:
		h = crypto.SHA512
	default:
		return errKeyMismatch
	}
	d := h.New()
	d.Write(input)
	return rsa.VerifyPSS(v.key, h, d.Sum(nil), signature, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
}

// verificationKey returns what go-jose verifies a signature made with alg
// with: k's key, or a pssVerifier for RSASSA-PSS.
func verificationKey(k *signingKey, alg string) any {
	if rk, ok := k.key.(*rsa.PublicKey); ok && strings.HasPrefix(alg, "PS") {
		return pssVerifier{key: rk}
	}
	return k.key
}
