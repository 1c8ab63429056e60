package authn

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warden-api/warden/internal/store"
)

const (
	// touchEvery is the shortest time between two last-use writes for one
	// key, so a busy key costs one store write a minute, not one a request.
	touchEvery = time.Minute
	// touchQueue bounds the writes waiting for the background writer. When
	// it is full, further writes are dropped and counted, and the key is
	// written again on a request after touchEvery.
	touchQueue = 1024
	// touchTimeout bounds one TouchKey call, and the final flush on stop.
	touchTimeout = 5 * time.Second
)

// toucher records API key use in the store off the request path. record is
// called on every request and only enqueues, and run does the writes.
type toucher struct {
	st  store.Store
	now func() time.Time
	log *slog.Logger

	mu   sync.Mutex
	last map[string]time.Time

	queue   chan touch
	dropped atomic.Uint64
	warned  rateLimit
}

type touch struct {
	keyID string
	at    time.Time
	ip    string
}

func newToucher(st store.Store, now func() time.Time, log *slog.Logger) *toucher {
	return &toucher{
		st:    st,
		now:   now,
		log:   log,
		last:  make(map[string]time.Time),
		queue: make(chan touch, touchQueue),
	}
}

// record enqueues a last-use write for keyID unless one was enqueued less
// than touchEvery ago. It never blocks.
func (t *toucher) record(keyID, ip string) {
	now := t.now()
	t.mu.Lock()
	if last, ok := t.last[keyID]; ok && now.Sub(last) < touchEvery {
		t.mu.Unlock()
		return
	}
	t.last[keyID] = now
	t.mu.Unlock()

	select {
	case t.queue <- touch{keyID: keyID, at: now, ip: ip}:
	default:
		t.dropped.Add(1)
		t.mu.Lock()
		delete(t.last, keyID)
		t.mu.Unlock()
	}
}

// run writes queued touches until ctx ends, then writes what is left.
func (t *toucher) run(ctx context.Context) {
	prune := time.NewTicker(touchEvery)
	defer prune.Stop()
	for {
		select {
		case tc := <-t.queue:
			t.write(context.WithoutCancel(ctx), tc)
		case <-prune.C:
			t.prune()
		case <-ctx.Done():
			t.flush(context.WithoutCancel(ctx))
			return
		}
	}
}

func (t *toucher) flush(ctx context.Context) {
	for {
		select {
		case tc := <-t.queue:
			t.write(ctx, tc)
		default:
			return
		}
	}
}

func (t *toucher) write(ctx context.Context, tc touch) {
	ctx, cancel := context.WithTimeout(ctx, touchTimeout)
	defer cancel()
	err := t.st.TouchKey(ctx, tc.keyID, tc.at, tc.ip)
	if err != nil && t.warned.allow(t.now()) {
		t.log.Warn("recording API key use failed", "key_id", tc.keyID, "error", err,
			"dropped_total", t.dropped.Load())
	}
}

// prune removes the keys not enqueued within touchEvery, which bounds the
// map by the number of keys used in the last minute.
func (t *toucher) prune() {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, last := range t.last {
		if now.Sub(last) >= touchEvery {
			delete(t.last, id)
		}
	}
}
