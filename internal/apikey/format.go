package apikey

import (
	"crypto/subtle"
	"strings"
)

// Format is the key layout with another prefix, for credentials that must
// never be mistaken for API keys, such as admin tokens ("wda_"). Keys of a
// Format have the same id, secret and checksum parts as API keys, and the
// checksum covers the prefix, so a key of one format never parses as
// another.
type Format struct {
	// Prefix starts every key of the format, such as "wda_".
	Prefix string
}

// Len returns the length of a whole key of the format.
func (f Format) Len() int { return len(f.Prefix) + IDLen + 1 + SecretLen + ChecksumLen }

// Generate returns a new key string, shown to the user once, and its parsed
// form. The id and secret come from crypto/rand.
func (f Format) Generate() (string, Key, error) {
	id, err := randomBase62(IDLen)
	if err != nil {
		return "", Key{}, err
	}
	secret, err := randomBase62(SecretLen)
	if err != nil {
		return "", Key{}, err
	}
	body := f.Prefix + id + "_" + secret
	return body + checksum(body), Key{ID: id, secret: secret}, nil
}

// Parse checks the prefix, format and checksum of s and returns the key.
// It returns ErrFormat or ErrChecksum, which never contain the key.
func (f Format) Parse(s string) (Key, error) {
	if len(s) != f.Len() || !strings.HasPrefix(s, f.Prefix) {
		return Key{}, ErrFormat
	}
	rest := s[len(f.Prefix):]
	id := rest[:IDLen]
	if rest[IDLen] != '_' {
		return Key{}, ErrFormat
	}
	secret, sum := rest[IDLen+1:IDLen+1+SecretLen], rest[IDLen+1+SecretLen:]
	if !isBase62(id) || !isBase62(secret) || !isBase62(sum) {
		return Key{}, ErrFormat
	}
	want := checksumBytes(s[:len(s)-ChecksumLen])
	if subtle.ConstantTimeCompare([]byte(sum), want[:]) != 1 {
		return Key{}, ErrChecksum
	}
	return Key{ID: id, secret: secret}, nil
}

// LooksLike reports whether s has the format's prefix and length, without
// checking the checksum.
func (f Format) LooksLike(s string) bool {
	return len(s) == f.Len() && strings.HasPrefix(s, f.Prefix)
}
