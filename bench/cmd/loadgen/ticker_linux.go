package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ticker wakes the pacer every interval with microsecond precision.
//
// Go's timers are checked by the network poller with a 1 ms resolution
// when the process is otherwise idle, so time.Sleep(50 * time.Microsecond)
// returns after about 1 ms here. A pacer built on it releases requests in
// bursts of rate/1000, and the proxy receives them as bursts of concurrent
// requests.
// A Linux timerfd is a file descriptor that becomes readable on each
// expiry, and the poller waits for it without rounding.
type ticker struct{ f *os.File }

// newTicker starts a periodic timer. Close stops it.
func newTicker(interval time.Duration) (*ticker, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating a timerfd: %w", err)
	}
	period := unix.NsecToTimespec(interval.Nanoseconds())
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: period, Value: period}, nil); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("arming the timerfd: %w", err)
	}
	// A non-blocking descriptor makes os.NewFile register it with the
	// poller, so a read parks the goroutine instead of a thread.
	return &ticker{f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// wait blocks until the next expiry; expiries missed since the last call
// count as one.
func (t *ticker) wait() error {
	var expirations [8]byte
	if _, err := t.f.Read(expirations[:]); err != nil {
		return fmt.Errorf("reading the timerfd: %w", err)
	}
	return nil
}

func (t *ticker) close() { _ = t.f.Close() }
