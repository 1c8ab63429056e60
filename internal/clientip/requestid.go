package clientip

import "crypto/rand"

// NewRequestID returns a new random request id: crypto/rand.Text, which is
// 26 characters of the RFC 4648 base32 alphabet (A-Z, 2-7) holding at least
// 128 random bits. The id is random rather than time-ordered like a UUIDv7,
// so it reveals nothing about when or where it was made and cannot be
// guessed from another one. It needs no escaping in headers, URLs or log
// fields, and it allocates only the returned string.
func NewRequestID() string {
	return rand.Text()
}

// maxRequestIDLen is the longest request id accepted from a trusted proxy.
const maxRequestIDLen = 128

// ValidRequestID reports whether id may be used as a request id taken from
// a trusted proxy: 1 to 128 printable ASCII characters without spaces.
// That keeps ids safe to copy into headers, logs and events.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}
