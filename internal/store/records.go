package store

import (
	"fmt"
	"time"
)

// MaxIDLen is the longest consumer id accepted, in bytes.
const MaxIDLen = 128

// ValidID reports whether id is a valid consumer id: 1 to MaxIDLen bytes of
// ASCII letters, digits, '.', '_' and '-'.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// ValidRole reports whether role is one of the admin token roles.
func ValidRole(role string) bool {
	return RoleRank(role) > 0
}

// RoleRank orders admin token roles: viewer 1, operator 2, admin 3, and 0
// for anything else. A token may call an endpoint when its rank is at least
// the endpoint's.
func RoleRank(role string) int {
	switch role {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Key states, as reported by Key.State.
const (
	KeyActive  = "active"
	KeyExpired = "expired"
	KeyRevoked = "revoked"
)

// State returns KeyRevoked, KeyExpired or KeyActive for the key at now. A
// revocation takes effect whatever its time, so clocks that differ between
// nodes cannot revive a revoked key. A rotated key stays active until its
// shortened expiry. The consumer's status is not considered.
func (k *Key) State(now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return KeyRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return KeyExpired
	}
	return KeyActive
}

// Active reports whether the key authenticates requests at now: neither
// revoked nor expired. The consumer's status is not considered.
func (k *Key) Active(now time.Time) bool { return k.State(now) == KeyActive }

// Revoked reports whether the admin token has been revoked.
func (t *AdminToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Normalize returns t as the stores keep it: in UTC, truncated to whole
// microseconds (the precision of PostgreSQL's timestamptz), and zero stays
// zero. Both implementations apply it, so a value reads back the same from
// either.
func Normalize(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// CheckRotation applies the rules that every RotateKey implementation
// shares, inside its transaction: a revoked key or one already rotated
// cannot be rotated (store.ErrConflict), and next belongs to the old key's
// consumer. An empty next.ConsumerID is set to it.
func CheckRotation(old, next *Key) error {
	switch {
	case !old.RevokedAt.IsZero():
		return fmt.Errorf("key %q is revoked: %w", old.ID, ErrConflict)
	case old.ReplacedBy != "":
		return fmt.Errorf("key %q was already rotated to %q: %w", old.ID, old.ReplacedBy, ErrConflict)
	case next.ConsumerID == "":
		next.ConsumerID = old.ConsumerID
	case next.ConsumerID != old.ConsumerID:
		return fmt.Errorf("new key names consumer %q but key %q belongs to %q", next.ConsumerID, old.ID, old.ConsumerID)
	}
	return nil
}
