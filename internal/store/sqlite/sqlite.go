// Package sqlite implements store.Store on SQLite through modernc.org/sqlite,
// a pure Go build of SQLite that needs no C toolchain. It is the embedded
// default: one database file in the data directory, for a single gateway
// node and the CLI that manages it.
//
// The database runs in WAL mode, so readers never wait for the writer. A
// busy timeout makes a second process (the CLI beside a running gateway)
// wait for the write lock instead of failing. Foreign keys are on.
// Write transactions take the write lock when they begin (BEGIN IMMEDIATE),
// which keeps two writers from deadlocking on a lock upgrade.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/warden-api/warden/internal/store"
)

// BusyTimeout is how long a statement waits for another connection's write
// lock before it fails with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// Store is a store.Store backed by one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	db     *sql.DB
	logger *slog.Logger
	path   string
	watch  *changeWatch
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the database file at path and applies any schema
// migrations this binary has that the file lacks. It fails when the file's
// schema version is newer than SchemaVersion, which means a newer Warden
// wrote it.
func Open(path string, logger *slog.Logger) (*Store, error) {
	if path == "" {
		return nil, errors.New("opening sqlite store: empty database path: set store.path or the data directory")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("opening sqlite store %q: the path must not contain '?' or '#'", path)
	}
	dsn := path + fmt.Sprintf("?_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()) +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %q: %w", path, err)
	}
	s := &Store{db: db, logger: logger, path: path, watch: newChangeWatch(db, logger, path)}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("opening sqlite store %q: %w", path, err)
	}
	logger.Info("store opened", "driver", "sqlite", "path", path)
	return s, nil
}

// DB returns the underlying database handle, for packages that keep their
// own tables in the same file (added through this package's migrations).
func (s *Store) DB() *sql.DB { return s.db }

// Ping checks that the database file can be read.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging sqlite store %q: %w", s.path, err)
	}
	return nil
}

// Close stops the change watch, closing the channels returned by Changes,
// and closes the database. Statements in flight fail afterwards.
func (s *Store) Close() error {
	s.watch.stop()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("closing sqlite store %q: %w", s.path, err)
	}
	s.logger.Info("store closed", "driver", "sqlite", "path", s.path)
	return nil
}

// withTx runs fn in a write transaction and commits it when fn returns nil.
func (s *Store) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// mapError turns constraint violations into the store's sentinel errors:
// a duplicate primary key or unique value is store.ErrConflict, and a
// reference to a missing row (such as a key for an unknown consumer) is
// store.ErrNotFound.
func mapError(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// checkAffected returns store.ErrNotFound when res changed no row.
func checkAffected(res sql.Result, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("reading affected rows: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%s %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}
