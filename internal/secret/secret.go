// Package secret holds credentials in a type that never prints its value.
//
// A Value redacts itself in fmt, JSON, YAML and slog output, so a secret that
// ends up in a log line, an event or a config dump shows as "[REDACTED]".
// Reveal is the one way to read the plain text, which keeps every use easy
// to find in review.
package secret

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
)

// Redacted is what a Value prints instead of its content.
const Redacted = "[REDACTED]"

// Value is a secret string. The zero Value is empty.
type Value struct {
	s string
}

// New wraps s.
func New(s string) Value { return Value{s: s} }

// Reveal returns the plain text. Callers must not log or store it.
func (v Value) Reveal() string { return v.s }

// IsZero reports whether the secret is empty.
func (v Value) IsZero() bool { return v.s == "" }

// Equal compares v with plain in constant time for inputs of equal length.
func (v Value) Equal(plain string) bool {
	return subtle.ConstantTimeCompare([]byte(v.s), []byte(plain)) == 1
}

// String returns Redacted, or "" for an empty secret.
func (v Value) String() string {
	if v.s == "" {
		return ""
	}
	return Redacted
}

// GoString keeps %#v from printing the content.
func (v Value) GoString() string { return "secret.Value(" + v.String() + ")" }

// LogValue implements slog.LogValuer.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON writes the redacted form.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

// MarshalYAML writes the redacted form.
func (v Value) MarshalYAML() (any, error) { return v.String(), nil }

// MarshalText writes the redacted form, which covers encoders that use
// encoding.TextMarshaler.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads the plain text, as from a config file.
func (v *Value) UnmarshalText(b []byte) error {
	v.s = string(b)
	return nil
}
