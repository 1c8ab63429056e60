package ratelimit

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// throttledLog logs a repeated warning at most once per interval, with the
// number of repeats it left out, so that a problem hit by every request
// does not flood the log.
type throttledLog struct {
	logger     *slog.Logger
	interval   time.Duration
	last       atomic.Int64
	suppressed atomic.Int64
}

func newThrottledLog(logger *slog.Logger, interval time.Duration) *throttledLog {
	return &throttledLog{logger: logger, interval: interval}
}

// warn logs msg with args unless a warning was logged within the interval.
func (t *throttledLog) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := t.last.Load()
	if now-last < int64(t.interval) || !t.last.CompareAndSwap(last, now) {
		t.suppressed.Add(1)
		return
	}
	if n := t.suppressed.Swap(0); n > 0 {
		args = append(args, "repeats_not_logged", n)
	}
	t.logger.Warn(msg, args...)
}
