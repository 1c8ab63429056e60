// Package store defines Warden's run-time state: consumers, credentials,
// admin tokens, the admin audit trail and quota usage. Store is the
// interface every caller uses; its implementations are SQLite (the embedded
// default, one file in the data directory) and PostgreSQL (shared by many
// gateway nodes).
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound is returned when the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a record with the same id or name
	// already exists.
	ErrConflict = errors.New("already exists")
)

// Consumer statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
)

// Consumer is a client of the APIs behind the gateway: an application, a
// partner or a user.
type Consumer struct {
	// ID is the stable identifier sent upstream and recorded in events.
	// Letters, digits, '.', '_' and '-', at most 128 bytes.
	ID   string
	Name string
	// Roles are granted to every credential of the consumer.
	Roles []string
	// Scopes are the most a credential of this consumer may carry.
	// Empty means no limit on the scopes of its keys.
	Scopes []string
	// Plan names a rate-limit plan from the config.
	Plan     string
	Metadata map[string]string
	// Status is StatusActive or StatusSuspended. A suspended consumer's
	// credentials are rejected.
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Key is a stored API key. The secret itself is never stored, only its hash.
type Key struct {
	// ID is the public key id embedded in the key string.
	ID         string
	ConsumerID string
	// Name is a label chosen by the operator.
	Name string
	// Hash is the SHA-256 of the key's secret part.
	Hash []byte
	// Scopes granted to this key; a subset of the consumer's scopes.
	Scopes []string
	// ExpiresAt is when the key stops working; zero means never.
	ExpiresAt time.Time
	// RevokedAt is when the key was revoked; zero means not revoked.
	RevokedAt time.Time
	// ReplacedBy is the id of the key that replaced this one by rotation.
	ReplacedBy string
	CreatedAt  time.Time
	LastUsedAt time.Time
	LastUsedIP string
}

// Admin token roles, from least to most privileged.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// AdminToken authenticates a caller of the admin API.
type AdminToken struct {
	ID   string
	Name string
	// Role is RoleViewer, RoleOperator or RoleAdmin.
	Role      string
	Hash      []byte
	CreatedAt time.Time
	RevokedAt time.Time
}

// AuditEntry is one change made through the admin API or the CLI.
type AuditEntry struct {
	ID int64
	At time.Time
	// Actor is the admin token id, or "cli:<user>" for direct changes.
	Actor string
	// Action is a dotted verb such as "consumer.create" or "key.revoke".
	Action string
	// Target is the id of the changed record.
	Target   string
	SourceIP string
	// Detail is a short JSON object with the changed fields; never a secret.
	Detail string
}

// QuotaUsage is a consumer's use of one quota in one period.
type QuotaUsage struct {
	ConsumerID  string
	Quota       string
	PeriodStart time.Time
	Requests    int64
	Bytes       int64
}

// Store is the state store. Implementations are safe for concurrent use.
// Methods return ErrNotFound or ErrConflict (possibly wrapped) where those
// apply, and other errors for technical failures.
type Store interface {
	CreateConsumer(ctx context.Context, c *Consumer) error
	GetConsumer(ctx context.Context, id string) (*Consumer, error)
	ListConsumers(ctx context.Context) ([]Consumer, error)
	// UpdateConsumer replaces the consumer's mutable fields.
	UpdateConsumer(ctx context.Context, c *Consumer) error
	// DeleteConsumer deletes the consumer and all its keys.
	DeleteConsumer(ctx context.Context, id string) error

	CreateKey(ctx context.Context, k *Key) error
	GetKey(ctx context.Context, id string) (*Key, error)
	// ListKeys lists a consumer's keys, or every key when consumerID is "".
	ListKeys(ctx context.Context, consumerID string) ([]Key, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// RotateKey stores next and, in the same transaction, sets the old
	// key's ReplacedBy and shortens its expiry to oldExpiresAt.
	RotateKey(ctx context.Context, oldID string, oldExpiresAt time.Time, next *Key) error
	// TouchKey records the last use of a key.
	TouchKey(ctx context.Context, id string, at time.Time, ip string) error

	CreateAdminToken(ctx context.Context, t *AdminToken) error
	GetAdminToken(ctx context.Context, id string) (*AdminToken, error)
	ListAdminTokens(ctx context.Context) ([]AdminToken, error)
	RevokeAdminToken(ctx context.Context, id string, at time.Time) error

	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns the newest entries first, at most limit of them.
	ListAudit(ctx context.Context, limit int) ([]AuditEntry, error)

	// AddQuotaUsage adds to a consumer's usage of a quota in a period and
	// returns the new totals.
	AddQuotaUsage(ctx context.Context, u QuotaUsage) (QuotaUsage, error)
	// ListQuotaUsage returns a consumer's usage in periods starting at or
	// after since.
	ListQuotaUsage(ctx context.Context, consumerID string, since time.Time) ([]QuotaUsage, error)

	// Ping checks that the store can be reached.
	Ping(ctx context.Context) error
	Close() error
}
