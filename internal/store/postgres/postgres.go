// Package postgres implements store.Store on PostgreSQL through pgx, for
// several gateway nodes that share one state store.
//
// Open applies the schema migrations under a transaction-scoped advisory
// lock, so nodes that start at the same time migrate once. Tables live in
// the first schema of the connection's search_path, so several deployments
// (or tests) can share one database. Set it with the DSN parameter
// search_path.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/warden-api/warden/internal/store"
)

// Store is a store.Store backed by a PostgreSQL connection pool. It is safe
// for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	logger   *slog.Logger
	host     string
	listener *changeListener
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a URL such as
// "postgres://warden@127.0.0.1:5432/warden" or a key=value string) and
// applies any schema migrations the database lacks. It fails when the
// database's schema version is newer than SchemaVersion.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error can quote the DSN, password included, so it is
		// not wrapped.
		return nil, errors.New("opening postgres store: invalid DSN: use postgres://user@host:port/database or key=value pairs")
	}
	host := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	listener := newChangeListener(cfg.ConnConfig.Copy(), logger, host)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store at %s: %w", host, err)
	}
	s := &Store{pool: pool, logger: logger, host: host, listener: listener}

	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("opening postgres store at %s: %w", host, err)
	}
	logger.Info("store opened", "driver", "postgres", "database", host)
	return s, nil
}

// Pool returns the connection pool, for packages that keep their own
// tables in the same database (added through this package's migrations).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database responds.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pinging postgres store at %s: %w", s.host, err)
	}
	return nil
}

// Close stops the change listener, closing the channels returned by
// Changes, and closes every connection of the pool. It waits for
// connections in use to be released.
func (s *Store) Close() error {
	s.listener.stop()
	s.pool.Close()
	s.logger.Info("store closed", "driver", "postgres", "database", s.host)
	return nil
}

// mapError turns constraint violations into the store's sentinel errors:
// a unique violation is store.ErrConflict and a foreign key violation (such
// as a key for an unknown consumer) is store.ErrNotFound.
func mapError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// checkAffected returns store.ErrNotFound when tag reports no changed row.
func checkAffected(tag pgconn.CommandTag, what, id string) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error, what, id string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %q: %w", what, id, store.ErrNotFound)
	}
	return fmt.Errorf("reading %s %q: %w", what, id, err)
}

// timeArg returns t for a timestamptz parameter, or nil (NULL) when zero.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.Normalize(t)
}

// timeValue reads a nullable timestamptz as UTC; NULL is the zero time.
func timeValue(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// stringsArg returns v for a text[] NOT NULL parameter: pgx sends a nil
// slice as NULL, so nil becomes an empty array.
func stringsArg(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// stringsValue returns nil for an empty array, as the SQLite store does.
func stringsValue(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	return v
}
