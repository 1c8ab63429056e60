package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/warden-api/warden/internal/store"
)

// ChangeChannel is the PostgreSQL notification channel on which every write
// of consumers, API keys and admin tokens sends a notification, in the
// transaction of the write. The payload is the schema of the tables
// (current_schema()), because channels are shared by the whole database:
// a listener ignores notifications of deployments in other schemas.
const ChangeChannel = "warden_changes"

// notifySQL queues the change notification. PostgreSQL delivers it when the
// transaction commits, and drops it when the transaction rolls back.
const notifySQL = `SELECT pg_notify('` + ChangeChannel + `', current_schema())`

const (
	// listenRetryMin and listenRetryMax bound the wait before the listener
	// reconnects. The wait doubles after each failed attempt and starts
	// over once a connection has lasted listenRetryMax.
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 30 * time.Second
	// listenIdle is how long the listener waits for a notification before it
	// checks the connection with a ping, so that a connection that died
	// without being closed (a dropped network path) is noticed.
	listenIdle = 30 * time.Second
	// listenTimeout bounds connecting, LISTEN and one ping.
	listenTimeout = 10 * time.Second
	// warnEvery is the shortest time between two warnings of the listener.
	warnEvery = 10 * time.Second
)

var _ store.Notifier = (*Store)(nil)

// Changes implements store.Notifier. The first call starts a listener that
// runs until the Store is closed, on a connection of its own outside the
// pool: it runs LISTEN on ChangeChannel and signals for each notification
// of this Store's schema. It sends one signal each time LISTEN takes effect,
// on the first connection too, because changes made while it was not
// listening went unseen. When the connection is lost, it reconnects after
// a wait that doubles from 100ms up to 30s.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	ch := s.listener.feed.Subscribe(ctx)
	s.listener.start()
	return ch
}

// notifyChange queues the change notification in tx.
func notifyChange(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, notifySQL); err != nil {
		return fmt.Errorf("sending change notification: %w", err)
	}
	return nil
}

// execNotify runs one write statement and, when it changed a row, the change
// notification, in one transaction: listeners are notified only of writes
// that commit.
func (s *Store) execNotify(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if tag, err = tx.Exec(ctx, sql, args...); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return notifyChange(ctx, tx)
	})
	return tag, err
}

// changeListener keeps a LISTEN connection and broadcasts a signal for each
// notification of its schema.
type changeListener struct {
	cfg    *pgx.ConnConfig
	logger *slog.Logger
	host   string
	feed   store.Broadcaster
	// idle is listenIdle; tests shorten it.
	idle time.Duration

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

func newChangeListener(cfg *pgx.ConnConfig, logger *slog.Logger, host string) *changeListener {
	return &changeListener{cfg: cfg, logger: logger, host: host, idle: listenIdle}
}

// start starts the listener goroutine, once.
func (l *changeListener) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.stopped {
		return
	}
	l.started = true
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	l.logger.Info("store change listener started", "driver", "postgres", "database", l.host, "channel", ChangeChannel)
	go l.run(ctx)
}

// stop ends the listener, waits for it and closes every subscription.
func (l *changeListener) stop() {
	l.mu.Lock()
	l.stopped = true
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
		l.logger.Info("store change listener stopped", "driver", "postgres", "database", l.host)
	}
	l.feed.Close()
}

// run listens until ctx ends, reconnecting with backoff.
func (l *changeListener) run(ctx context.Context) {
	defer close(l.done)
	wait := listenRetryMin
	var warned warnLimiter
	// failures counts the attempts since the listener last listened, and
	// downSince is when it stopped listening.
	var failures int
	var downSince time.Time
	listening := func() {
		if failures > 0 {
			l.logger.Info("store change listener reconnected", "driver", "postgres", "database", l.host,
				"failed_attempts", failures, "down_ms", time.Since(downSince).Milliseconds())
		}
		failures = 0
	}
	for {
		began := time.Now()
		err := l.listen(ctx, listening)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) >= listenRetryMax {
			wait = listenRetryMin
		}
		if failures == 0 {
			downSince = time.Now()
		}
		failures++
		warned.warn(l.logger, "store change listener failed, reconnecting", "driver", "postgres",
			"database", l.host, "retry_in", wait, "error", err)

		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listen connects, runs LISTEN, calls listening and broadcasts one signal,
// then broadcasts a signal for each notification of its schema until the
// connection fails or ctx ends.
func (l *changeListener) listen(ctx context.Context, listening func()) error {
	conn, schema, err := l.connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), listenTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	listening()
	// Changes made before LISTEN took effect went unseen.
	l.feed.Broadcast()

	for {
		wctx, cancel := context.WithTimeout(ctx, l.idle)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case n != nil:
			if n.Payload == schema {
				l.feed.Broadcast()
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err):
			if err := ping(ctx, conn); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("waiting for notifications: %w", err)
		}
	}
}

// connect opens the listener's connection, reads its schema and runs
// LISTEN.
func (l *changeListener) connect(ctx context.Context) (*pgx.Conn, string, error) {
	ctx, cancel := context.WithTimeout(ctx, listenTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, "", fmt.Errorf("connecting: %w", err)
	}
	var schema *string
	err = conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema)
	if err == nil && schema == nil {
		err = errors.New("no schema of the search_path exists: set search_path in the DSN to the schema of the Warden tables")
	}
	if err == nil {
		_, err = conn.Exec(ctx, `LISTEN `+ChangeChannel)
	}
	if err != nil {
		_ = conn.Close(ctx)
		return nil, "", fmt.Errorf("listening on channel %s: %w", ChangeChannel, err)
	}
	return conn, *schema, nil
}

func ping(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, listenTimeout)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("checking the idle connection: %w", err)
	}
	return nil
}

// warnLimiter logs a warning at most once per warnEvery and counts the
// ones it drops. It is used by one goroutine only.
type warnLimiter struct {
	last    time.Time
	dropped int
}

func (w *warnLimiter) warn(logger *slog.Logger, msg string, args ...any) {
	now := time.Now()
	if !w.last.IsZero() && now.Sub(w.last) < warnEvery {
		w.dropped++
		return
	}
	logger.Warn(msg, append(args, "suppressed_warnings", w.dropped)...)
	w.last, w.dropped = now, 0
}
