package admin

import (
	"time"

	"github.com/warden-api/warden/internal/store"
)

// Consumer is a consumer as the admin API returns it.
type Consumer struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Roles     []string          `json:"roles"`
	Scopes    []string          `json:"scopes"`
	Plan      string            `json:"plan"`
	Metadata  map[string]string `json:"metadata"`
	Status    string            `json:"status"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// ConsumerCreate is the body of POST /admin/consumers.
type ConsumerCreate struct {
	// ID is required: letters, digits, '.', '_' and '-', at most 128 bytes.
	ID       string            `json:"id"`
	Name     string            `json:"name,omitempty"`
	Roles    []string          `json:"roles,omitempty"`
	Scopes   []string          `json:"scopes,omitempty"`
	Plan     string            `json:"plan,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// ConsumerPatch is the body of PATCH /admin/consumers/{id}. A nil field
// keeps the stored value; a non-nil one replaces it (an empty list or map
// clears it).
type ConsumerPatch struct {
	Name     *string            `json:"name,omitempty"`
	Roles    *[]string          `json:"roles,omitempty"`
	Scopes   *[]string          `json:"scopes,omitempty"`
	Plan     *string            `json:"plan,omitempty"`
	Metadata *map[string]string `json:"metadata,omitempty"`
}

// APIKey is an API key as the admin API returns it, without its secret.
type APIKey struct {
	ID         string   `json:"id"`
	ConsumerID string   `json:"consumer_id"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	// State is "active", "expired" or "revoked" at the time of the response.
	State      string     `json:"state"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	ReplacedBy string     `json:"replaced_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	LastUsedIP string     `json:"last_used_ip,omitempty"`
}

// KeyCreate is the body of POST /admin/consumers/{id}/keys.
type KeyCreate struct {
	Name string `json:"name,omitempty"`
	// Scopes must be a subset of the consumer's scopes when it has any.
	// Empty means the consumer's scopes.
	Scopes []string `json:"scopes,omitempty"`
	// ExpiresIn is a Go duration such as "720h"; empty means the key
	// never expires. It may not be combined with ExpiresAt.
	ExpiresIn string `json:"expires_in,omitempty"`
	// ExpiresAt is an RFC 3339 time in the future.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// CreatedKey is a new API key with its plain text, which the admin API
// returns once and never again.
type CreatedKey struct {
	APIKey
	Key string `json:"key"`
}

// KeyRotate is the body of POST /admin/keys/{id}/rotate.
type KeyRotate struct {
	// Overlap is how long the old key keeps working, as a Go duration such
	// as "24h". Empty means DefaultOverlap; "0s" ends the old key at once.
	Overlap string `json:"overlap,omitempty"`
	// ExpiresIn is the new key's lifetime. Empty means the old key's
	// original lifetime, or no expiry when the old key had none.
	ExpiresIn string `json:"expires_in,omitempty"`
}

// DefaultOverlap is how long a rotated key keeps working when the request
// names no overlap.
const DefaultOverlap = 24 * time.Hour

// RotatedKey is the result of a rotation: the new key with its plain text,
// shown once, and the old key with its shortened expiry.
type RotatedKey struct {
	CreatedKey
	Previous APIKey `json:"previous"`
}

// AdminToken is an admin token as the admin API returns it, without its
// secret.
type AdminToken struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// TokenCreate is the body of POST /admin/tokens.
type TokenCreate struct {
	Name string `json:"name,omitempty"`
	// Role is "viewer", "operator" or "admin".
	Role string `json:"role"`
}

// CreatedToken is a new admin token with its plain text, which the admin
// API returns once and never again.
type CreatedToken struct {
	AdminToken
	Token string `json:"token"`
}

// AuditEntry is one entry of the audit trail.
type AuditEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	SourceIP string    `json:"source_ip,omitempty"`
	// Detail is the JSON object stored with the entry.
	Detail map[string]any `json:"detail,omitempty"`
}

// List is the body of every list response.
type List[T any] struct {
	Items []T `json:"items"`
}

func consumerFromStore(c *store.Consumer) Consumer {
	return Consumer{
		ID: c.ID, Name: c.Name, Roles: nonNil(c.Roles), Scopes: nonNil(c.Scopes), Plan: c.Plan,
		Metadata: nonNilMap(c.Metadata), Status: c.Status, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func keyFromStore(k *store.Key, now time.Time) APIKey {
	return APIKey{
		ID: k.ID, ConsumerID: k.ConsumerID, Name: k.Name, Scopes: nonNil(k.Scopes), State: k.State(now),
		ExpiresAt: timePtr(k.ExpiresAt), RevokedAt: timePtr(k.RevokedAt), ReplacedBy: k.ReplacedBy,
		CreatedAt: k.CreatedAt, LastUsedAt: timePtr(k.LastUsedAt), LastUsedIP: k.LastUsedIP,
	}
}

func tokenFromStore(t *store.AdminToken) AdminToken {
	return AdminToken{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt, RevokedAt: timePtr(t.RevokedAt)}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
