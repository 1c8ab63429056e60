package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migration is one schema step. Steps are only ever appended: a released
// step is never edited, so a database at version N always has the same
// schema. Later features (inventory, alerts, incidents, the block list) add
// their tables as new steps.
type migration struct {
	version int
	name    string
	sql     string
}

var migrations = []migration{
	{version: 1, name: "consumers, keys, admin tokens, audit trail, quota usage", sql: `
CREATE TABLE consumers (
	id         text PRIMARY KEY,
	name       text NOT NULL DEFAULT '',
	roles      text[] NOT NULL DEFAULT '{}',
	scopes     text[] NOT NULL DEFAULT '{}',
	plan       text NOT NULL DEFAULT '',
	metadata   jsonb NOT NULL DEFAULT '{}',
	status     text NOT NULL DEFAULT 'active',
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
	id           text PRIMARY KEY,
	consumer_id  text NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
	name         text NOT NULL DEFAULT '',
	hash         bytea NOT NULL,
	scopes       text[] NOT NULL DEFAULT '{}',
	expires_at   timestamptz,
	revoked_at   timestamptz,
	replaced_by  text NOT NULL DEFAULT '',
	created_at   timestamptz NOT NULL,
	last_used_at timestamptz,
	last_used_ip text NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_consumer_id ON api_keys (consumer_id);

CREATE TABLE admin_tokens (
	id         text PRIMARY KEY,
	name       text NOT NULL DEFAULT '',
	role       text NOT NULL,
	hash       bytea NOT NULL,
	created_at timestamptz NOT NULL,
	revoked_at timestamptz
);

CREATE TABLE audit_log (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at        timestamptz NOT NULL,
	actor     text NOT NULL,
	action    text NOT NULL,
	target    text NOT NULL DEFAULT '',
	source_ip text NOT NULL DEFAULT '',
	detail    text NOT NULL DEFAULT ''
);

CREATE TABLE quota_usage (
	consumer_id  text NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
	quota        text NOT NULL,
	period_start timestamptz NOT NULL,
	requests     bigint NOT NULL DEFAULT 0,
	bytes        bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (consumer_id, quota, period_start)
);
`},
}

// SchemaVersion returns the newest schema version this binary can migrate to.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrationLockID is the advisory lock that serializes migrations of nodes
// starting at once. The value is arbitrary but fixed: the bytes "wardenmg".
const migrationLockID = 0x77617264656e6d67

// migrate applies the steps the database lacks, all in one transaction,
// and records each in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockID)); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`)
		if err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}

		var current int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		if current > SchemaVersion() {
			return fmt.Errorf("database schema version %d is newer than this binary supports (%d): upgrade warden to a release that knows it",
				current, SchemaVersion())
		}

		for _, m := range migrations {
			if m.version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("applying schema migration %d (%s): %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("recording schema migration %d: %w", m.version, err)
			}
			s.logger.Info("store schema migrated", "driver", "postgres", "version", m.version, "name", m.name)
		}
		return nil
	})
}
