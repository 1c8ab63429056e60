package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL DEFAULT '',
	roles      TEXT NOT NULL DEFAULT '[]',
	scopes     TEXT NOT NULL DEFAULT '[]',
	plan       TEXT NOT NULL DEFAULT '',
	metadata   TEXT NOT NULL DEFAULT '{}',
	status     TEXT NOT NULL DEFAULT 'active',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	consumer_id  TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
	name         TEXT NOT NULL DEFAULT '',
	hash         BLOB NOT NULL,
	scopes       TEXT NOT NULL DEFAULT '[]',
	expires_at   TEXT,
	revoked_at   TEXT,
	replaced_by  TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	last_used_ip TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX api_keys_consumer_id ON api_keys (consumer_id);

CREATE TABLE admin_tokens (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL DEFAULT '',
	role       TEXT NOT NULL,
	hash       BLOB NOT NULL,
	created_at TEXT NOT NULL,
	revoked_at TEXT
) STRICT;

CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	at        TEXT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL DEFAULT '',
	source_ip TEXT NOT NULL DEFAULT '',
	detail    TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE quota_usage (
	consumer_id  TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
	quota        TEXT NOT NULL,
	period_start TEXT NOT NULL,
	requests     INTEGER NOT NULL DEFAULT 0,
	bytes        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (consumer_id, quota, period_start)
) STRICT;
`},
}

// SchemaVersion returns the newest schema version this binary can migrate to.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate applies the steps the database lacks, all in one transaction,
// and records each in schema_migrations. The transaction takes the write
// lock first, so two processes that open a new file at once apply the
// steps once.
func (s *Store) migrate(ctx context.Context) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
) STRICT`)
		if err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}

		var current int
		err = tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current)
		if err != nil {
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
			if err := applyMigration(ctx, tx, m); err != nil {
				return err
			}
			s.logger.Info("store schema migrated", "driver", "sqlite", "version", m.version, "name", m.name)
		}
		return nil
	})
}

func applyMigration(ctx context.Context, tx *sql.Tx, m migration) error {
	if m.sql == "" {
		return errors.New("empty migration")
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("applying schema migration %d (%s): %w", m.version, m.name, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, encodeTime(time.Now()))
	if err != nil {
		return fmt.Errorf("recording schema migration %d: %w", m.version, err)
	}
	return nil
}
