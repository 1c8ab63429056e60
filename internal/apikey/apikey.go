// Package apikey generates and parses Warden API keys.
//
// A key reads "wdn_" + key id (12 base62 characters) + "_" + secret
// (32 base62 characters) + checksum (6 base62 characters), for example
//
//	wdn_4fQ9xkT2bLmZ_s3Cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr0aB1cD
//
// The fixed prefix and the checksum let secret scanners find leaked keys
// with few false positives, and let the gateway reject a mistyped or made-up
// key without a store lookup. The key id is public: it names the key in
// events, logs and the admin API. Only the secret is sensitive.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash/crc32"
	"strings"
)

const (
	// Prefix starts every key.
	Prefix = "wdn_"
	// IDLen is the length of the key id in base62 characters (about 71 bits).
	IDLen = 12
	// SecretLen is the length of the secret in base62 characters (about 190
	// bits, above the 128 bits that make guessing infeasible).
	SecretLen = 32
	// ChecksumLen is the length of the base62 CRC-32 checksum.
	ChecksumLen = 6
	// Len is the length of a whole key.
	Len = len(Prefix) + IDLen + 1 + SecretLen + ChecksumLen
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Errors returned by Parse. They never contain the key.
var (
	ErrFormat   = errors.New("api key has an invalid format")
	ErrChecksum = errors.New("api key checksum does not match")
)

// Key is a parsed API key.
type Key struct {
	ID     string
	secret string
}

// Hash returns the SHA-256 digest of the key's secret, the value kept in
// the store. A fast hash is right here, unlike for passwords: the secret has
// about 190 bits of entropy, so no amount of hashing speed makes guessing it
// from a leaked hash feasible, and a fast hash keeps verification within a
// few microseconds on every request.
func (k Key) Hash() []byte { return HashSecret(k.secret) }

// Matches reports in constant time whether the key's secret hashes to hash.
func (k Key) Matches(hash []byte) bool {
	return subtle.ConstantTimeCompare(k.Hash(), hash) == 1
}

// HashSecret returns the SHA-256 digest of a secret.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Generate returns a new key string, shown to the user once, and its parsed
// form. The id and secret come from crypto/rand.
func Generate() (string, Key, error) {
	id, err := randomBase62(IDLen)
	if err != nil {
		return "", Key{}, err
	}
	secret, err := randomBase62(SecretLen)
	if err != nil {
		return "", Key{}, err
	}
	body := Prefix + id + "_" + secret
	return body + checksum(body), Key{ID: id, secret: secret}, nil
}

// Parse checks the format and checksum of s and returns the key. It does not
// consult the store.
func Parse(s string) (Key, error) {
	if len(s) != Len || !strings.HasPrefix(s, Prefix) {
		return Key{}, ErrFormat
	}
	id := s[len(Prefix) : len(Prefix)+IDLen]
	if s[len(Prefix)+IDLen] != '_' {
		return Key{}, ErrFormat
	}
	rest := s[len(Prefix)+IDLen+1:]
	secret, sum := rest[:SecretLen], rest[SecretLen:]
	if !isBase62(id) || !isBase62(secret) || !isBase62(sum) {
		return Key{}, ErrFormat
	}
	want := checksumBytes(s[:len(s)-ChecksumLen])
	if subtle.ConstantTimeCompare([]byte(sum), want[:]) != 1 {
		return Key{}, ErrChecksum
	}
	return Key{ID: id, secret: secret}, nil
}

// LooksLikeKey reports whether s has the key prefix and length, without
// checking the checksum. Event redaction and leak detection use it.
func LooksLikeKey(s string) bool {
	return len(s) == Len && strings.HasPrefix(s, Prefix)
}

func checksum(body string) string {
	out := checksumBytes(body)
	return string(out[:])
}

// checksumBytes returns the base62 CRC-32 of body without allocating, as
// Parse runs on every request that carries a key.
func checksumBytes(body string) [ChecksumLen]byte {
	var buf [128]byte
	var n uint32
	if len(body) <= len(buf) {
		n = crc32.ChecksumIEEE(buf[:copy(buf[:], body)])
	} else {
		n = crc32.ChecksumIEEE([]byte(body))
	}
	var out [ChecksumLen]byte
	for i := ChecksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return out
}

func randomBase62(n int) (string, error) {
	// Rejection sampling keeps every character uniform: bytes at or above
	// 248 (the largest multiple of 62 below 256) are drawn again.
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, alphabet[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
