package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLogger sends go-redis's internal messages (dial failures while Redis
// is down, pool warnings) to slog at debug level, at most one a second. The
// rate limiter already logs Redis outages once, with context.
type redisLogger struct {
	logger *slog.Logger
	last   atomic.Int64
}

func (l *redisLogger) Printf(ctx context.Context, format string, v ...any) {
	now := time.Now().UnixNano()
	last := l.last.Load()
	if now-last < int64(time.Second) || !l.last.CompareAndSwap(last, now) {
		return
	}
	l.logger.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "redis")
}

// installRedisLogger replaces go-redis's process-wide logger, which writes
// to stderr unformatted. go-redis offers no per-client logger.
func installRedisLogger(logger *slog.Logger) {
	redis.SetLogger(&redisLogger{logger: logger})
}
