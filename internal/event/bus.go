package event

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Sink receives events from the bus, one at a time, on the bus goroutine.
// A sink that can block (a network sink) must buffer on its own.
type Sink interface {
	Name() string
	Write(e *Event) error
	// Flush is called when the queue runs empty and on Close.
	Flush() error
	Close() error
}

// Observer receives the bus's counters. The gateway maps it to Prometheus.
type Observer interface {
	EventDropped()
	EventWritten()
	SinkError(sink string)
}

// Bus is a bounded queue between the request path and the sinks. Publish
// never blocks: when the queue is full the event is dropped, counted and
// logged at most once per dropLogInterval.
type Bus struct {
	queue    chan *Event
	sinks    []Sink
	logger   *slog.Logger
	observer Observer

	dropped     atomic.Int64
	lastDropLog atomic.Int64 // unix nanoseconds

	closeOnce sync.Once
	done      chan struct{}
}

const dropLogInterval = 10 * time.Second

// NewBus starts a bus with a queue of size events that writes to sinks.
func NewBus(size int, sinks []Sink, logger *slog.Logger, observer Observer) *Bus {
	b := &Bus{
		queue:    make(chan *Event, size),
		sinks:    sinks,
		logger:   logger,
		observer: observer,
		done:     make(chan struct{}),
	}
	go b.run()
	return b
}

// Publish queues e without blocking and reports whether it was queued.
// The caller must not change e afterwards.
func (b *Bus) Publish(e *Event) bool {
	select {
	case b.queue <- e:
		return true
	default:
	}
	n := b.dropped.Add(1)
	if b.observer != nil {
		b.observer.EventDropped()
	}
	now := time.Now().UnixNano()
	last := b.lastDropLog.Load()
	if now-last >= int64(dropLogInterval) && b.lastDropLog.CompareAndSwap(last, now) {
		b.logger.Warn("event queue full, dropping events", "dropped_total", n, "queue_size", cap(b.queue))
	}
	return false
}

// Len returns the number of queued events.
func (b *Bus) Len() int { return len(b.queue) }

// Dropped returns the number of events dropped since start.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

func (b *Bus) run() {
	defer close(b.done)
	for e := range b.queue {
		b.write(e)
		if len(b.queue) == 0 {
			b.flush()
		}
	}
	b.flush()
}

func (b *Bus) write(e *Event) {
	for _, s := range b.sinks {
		if err := s.Write(e); err != nil {
			b.sinkError(s, "writing event", err)
		}
	}
	if b.observer != nil {
		b.observer.EventWritten()
	}
}

func (b *Bus) flush() {
	for _, s := range b.sinks {
		if err := s.Flush(); err != nil {
			b.sinkError(s, "flushing events", err)
		}
	}
}

func (b *Bus) sinkError(s Sink, what string, err error) {
	if b.observer != nil {
		b.observer.SinkError(s.Name())
	}
	b.logger.Error(what+" failed", "sink", s.Name(), "error", err)
}

// Close stops accepting events, writes the queued ones, flushes and closes
// the sinks. It waits until ctx is done at most.
func (b *Bus) Close(ctx context.Context) error {
	b.closeOnce.Do(func() { close(b.queue) })
	select {
	case <-b.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, s := range b.sinks {
		if err := s.Close(); err != nil {
			b.logger.Error("closing event sink failed", "sink", s.Name(), "error", err)
		}
	}
	return nil
}

// LineSink writes events as JSON lines to a writer, such as stdout or a
// file.
type LineSink struct {
	name   string
	w      *bufio.Writer
	closer io.Closer
	buf    []byte
}

// NewLineSink returns a sink that writes to w and closes closer (if not
// nil) on Close.
func NewLineSink(name string, w io.Writer, closer io.Closer) *LineSink {
	return &LineSink{name: name, w: bufio.NewWriterSize(w, 64<<10), closer: closer, buf: make([]byte, 0, 1024)}
}

// Name returns the sink name.
func (s *LineSink) Name() string { return s.name }

// Write appends one JSON line.
func (s *LineSink) Write(e *Event) error {
	s.buf = e.AppendJSON(s.buf[:0])
	s.buf = append(s.buf, '\n')
	_, err := s.w.Write(s.buf)
	return err
}

// Flush writes buffered lines.
func (s *LineSink) Flush() error { return s.w.Flush() }

// Close flushes and closes the underlying file.
func (s *LineSink) Close() error {
	err := s.w.Flush()
	if s.closer != nil {
		if cerr := s.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
