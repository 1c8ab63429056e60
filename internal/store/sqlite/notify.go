package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/warden-api/warden/internal/store"
)

// PollInterval is how often a Store with subscribers to Changes reads
// PRAGMA data_version to notice commits of other connections, so a change
// made by another process, such as the CLI, is seen within this interval.
// One read took about 10µs in BenchmarkDataVersion on a shared 2-core
// AMD EPYC VM, which makes polling cost about 0.005% of one core.
const PollInterval = 200 * time.Millisecond

// pollTimeout bounds one poll or reconnection of the change watch.
const pollTimeout = BusyTimeout + time.Second

// warnEvery is the shortest time between two warnings of the change watch.
const warnEvery = 10 * time.Second

var _ store.Notifier = (*Store)(nil)

// Changes implements store.Notifier. The first call starts a watch that
// runs until the Store is closed. The watch keeps one connection of the
// pool and reads PRAGMA data_version on it every PollInterval. SQLite
// changes that value when another connection commits, in this process or
// in another one. Writes of consumers, keys and admin tokens through this
// Store also signal at once, without waiting for the next poll.
//
// Commits after the first call returns are seen. If reading the baseline
// fails, the watch retries every PollInterval and sends one signal once it
// succeeds, as it does after any failed poll.
//
// NOTE: data_version changes on every commit to the file, so quota, audit
// and key last-use writes signal too. A busy gateway writes last-use times
// about once a minute per active key, so signals can come at every poll.
// Telling those writes apart needs a change counter that the write methods
// of consumers, keys and admin tokens increment, which is a schema change.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	ch := s.watch.feed.Subscribe(ctx)
	s.watch.start()
	return ch
}

// changeWatch polls PRAGMA data_version on a dedicated connection and
// broadcasts a signal when it changes.
type changeWatch struct {
	db     *sql.DB
	logger *slog.Logger
	path   string
	feed   store.Broadcaster

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

func newChangeWatch(db *sql.DB, logger *slog.Logger, path string) *changeWatch {
	return &changeWatch{db: db, logger: logger, path: path}
}

// changed signals a change made through this Store. The write methods of
// consumers, keys and admin tokens defer it, so a failed write signals too,
// which the contract of store.Notifier allows.
func (w *changeWatch) changed() { w.feed.Broadcast() }

// start reads the baseline data_version and starts the poll loop, once.
func (w *changeWatch) start() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started || w.stopped {
		return
	}
	w.started = true
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})

	vc, version, err := w.connect(ctx)
	if err != nil {
		w.logger.Warn("store change watch cannot read the data version, retrying",
			"driver", "sqlite", "path", w.path, "error", err)
	}
	w.logger.Info("store change watch started", "driver", "sqlite", "path", w.path,
		"poll_interval", PollInterval)
	go w.run(ctx, vc, version)
}

// stop ends the poll loop, waits for it and closes every subscription.
func (w *changeWatch) stop() {
	w.mu.Lock()
	w.stopped = true
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
		w.logger.Info("store change watch stopped", "driver", "sqlite", "path", w.path)
	}
	w.feed.Close()
}

// run polls until ctx ends. vc is nil when the baseline read failed.
func (w *changeWatch) run(ctx context.Context, vc *versionConn, version int64) {
	defer close(w.done)
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()
	var warned warnLimiter
	for {
		select {
		case <-ctx.Done():
			if vc != nil {
				vc.close()
			}
			return
		case <-ticker.C:
		}

		if vc == nil {
			var err error
			if vc, version, err = w.connect(ctx); err != nil {
				warned.warn(w.logger, "store change watch cannot read the data version, retrying",
					"driver", "sqlite", "path", w.path, "error", err)
				continue
			}
			w.logger.Info("store change watch resumed", "driver", "sqlite", "path", w.path)
			// Commits made while the watch had no connection went unseen.
			w.feed.Broadcast()
			continue
		}

		v, err := vc.read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				warned.warn(w.logger, "store change watch cannot read the data version, reconnecting",
					"driver", "sqlite", "path", w.path, "error", err)
			}
			vc.close()
			vc = nil
			continue
		}
		if v != version {
			version = v
			w.feed.Broadcast()
		}
	}
}

// connect takes a connection out of the pool for the watch and reads its
// first data_version, the baseline later reads are compared with.
func (w *changeWatch) connect(ctx context.Context) (*versionConn, int64, error) {
	cctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	conn, err := w.db.Conn(cctx)
	if err != nil {
		return nil, 0, fmt.Errorf("opening a connection: %w", err)
	}
	stmt, err := conn.PrepareContext(cctx, "PRAGMA data_version")
	if err != nil {
		_ = conn.Close()
		return nil, 0, fmt.Errorf("preparing PRAGMA data_version: %w", err)
	}
	vc := &versionConn{conn: conn, stmt: stmt}
	v, err := vc.read(ctx)
	if err != nil {
		vc.close()
		return nil, 0, err
	}
	return vc, v, nil
}

// versionConn is the connection of the watch with its prepared statement,
// which halves the cost of a poll compared with preparing it each time.
type versionConn struct {
	conn *sql.Conn
	stmt *sql.Stmt
}

// read reads PRAGMA data_version, a value that is the same between two
// reads on one connection unless another connection committed in between.
// It is specific to the connection, which is why the watch keeps one.
func (vc *versionConn) read(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, pollTimeout)
	defer cancel()
	var v int64
	if err := vc.stmt.QueryRowContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading PRAGMA data_version: %w", err)
	}
	return v, nil
}

func (vc *versionConn) close() {
	_ = vc.stmt.Close()
	_ = vc.conn.Close()
}

// warnLimiter logs a warning at most once per warnEvery and counts the
// ones it drops. It is used by one goroutine only.
type warnLimiter struct {
	last    time.Time
	dropped int
}

func (l *warnLimiter) warn(logger *slog.Logger, msg string, args ...any) {
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < warnEvery {
		l.dropped++
		return
	}
	logger.Warn(msg, append(args, "suppressed_warnings", l.dropped)...)
	l.last, l.dropped = now, 0
}
