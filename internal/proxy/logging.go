package proxy

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// warnInterval is the shortest time between two warnings with the same
// key. Warnings in between are counted, and the count is logged with the
// next one.
const warnInterval = 10 * time.Second

// warnLimiter rate-limits repeated warnings, such as one per failing
// request to a target that is down.
type warnLimiter struct {
	now func() time.Time

	mu   sync.Mutex
	keys map[warnKey]*warnState
}

type warnKey struct {
	target string
	kind   ErrorKind
}

type warnState struct {
	last       time.Time
	suppressed int
}

// log writes the warning unless one with the same key was written within
// warnInterval, in which case it is counted.
func (l *warnLimiter) log(ctx context.Context, log *slog.Logger, key warnKey, msg string, attrs ...any) {
	now := l.now()
	l.mu.Lock()
	if l.keys == nil {
		l.keys = make(map[warnKey]*warnState)
	}
	st := l.keys[key]
	if st == nil {
		st = &warnState{}
		l.keys[key] = st
	}
	if !st.last.IsZero() && now.Sub(st.last) < warnInterval {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()

	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	log.WarnContext(ctx, msg, attrs...)
}
