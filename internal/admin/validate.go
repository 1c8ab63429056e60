package admin

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/warden-api/warden/internal/store"
)

// Limits on request fields. They keep records small enough to travel in
// every security event and to list without paging.
const (
	maxNameBytes     = 200
	maxTokenBytes    = 128 // one role, scope, plan or metadata key
	maxListItems     = 100 // roles or scopes of one record
	maxMetadataItems = 50
	maxMetadataValue = 1024
)

// validator collects field errors so that one response names every
// invalid field.
type validator struct {
	fields []FieldError
}

func (v *validator) add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// err returns the collected errors as one *Error, or nil.
func (v *validator) err() *Error {
	if len(v.fields) == 0 {
		return nil
	}
	return invalid(v.fields...)
}

func (v *validator) consumerID(field, id string) {
	if !store.ValidID(id) {
		v.add(field, "must be 1 to %d letters, digits, '.', '_' or '-'", store.MaxIDLen)
	}
}

// name checks a display name: printable UTF-8 of at most maxNameBytes.
func (v *validator) name(field, s string) {
	switch {
	case len(s) > maxNameBytes:
		v.add(field, "must be at most %d bytes", maxNameBytes)
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.add(field, "must not contain control characters")
	}
}

// word checks a role, scope, plan or metadata key: 1 to maxTokenBytes
// printable ASCII characters without spaces, because these values appear
// in policies, headers sent upstream and event fields.
func (v *validator) word(field, s string) {
	if s == "" {
		v.add(field, "must not be empty")
		return
	}
	if len(s) > maxTokenBytes {
		v.add(field, "must be at most %d bytes", maxTokenBytes)
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			v.add(field, "must be printable ASCII without spaces")
			return
		}
	}
}

// words checks a role or scope list and rejects duplicates.
func (v *validator) words(field string, list []string) {
	if len(list) > maxListItems {
		v.add(field, "must have at most %d items", maxListItems)
		return
	}
	for i, s := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		v.word(f, s)
		if slices.Index(list, s) < i {
			v.add(f, "duplicates %q", s)
		}
	}
}

func (v *validator) plan(field, s string) {
	if s != "" {
		v.word(field, s)
	}
}

func (v *validator) metadata(field string, m map[string]string) {
	if len(m) > maxMetadataItems {
		v.add(field, "must have at most %d entries", maxMetadataItems)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // errors in a stable order
	for _, k := range keys {
		f := field + "." + k
		v.word(f, k)
		val := m[k]
		switch {
		case len(val) > maxMetadataValue:
			v.add(f, "must be at most %d bytes", maxMetadataValue)
		case !utf8.ValidString(val):
			v.add(f, "must be valid UTF-8")
		}
	}
}

// duration parses a Go duration such as "720h"; empty returns def. It
// reports false after recording an error.
func (v *validator) duration(field, s string, def time.Duration) (time.Duration, bool) {
	if s == "" {
		return def, true
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		v.add(field, "invalid duration %q: use a number with a unit, such as \"24h\" or \"90m\"", s)
		return 0, false
	}
	if d < 0 {
		v.add(field, "must not be negative")
		return 0, false
	}
	return d, true
}

// subset reports the scopes of list that are not in allowed, when allowed
// is non-empty.
func (v *validator) subset(field string, list, allowed []string) {
	if len(allowed) == 0 {
		return
	}
	for i, s := range list {
		if !slices.Contains(allowed, s) {
			v.add(fmt.Sprintf("%s[%d]", field, i), "scope %q is not among the consumer's scopes %v", s, allowed)
		}
	}
}
