package store

import (
	"context"
	"sync"
)

// Notifier is implemented by stores that can tell a running gateway that
// another process or node changed the records authentication reads, so that
// caches of those records can be dropped before they expire. Callers check
// for it with a type assertion: a store without it offers no change signal.
type Notifier interface {
	// Changes returns a channel that receives a value after a consumer, an
	// API key or an admin token changed. The signal carries no detail and is
	// coalesced: the channel has a buffer of one, so changes made before the
	// reader gets to the pending value produce no second value. It may be
	// spurious, and implementations send one when they cannot rule out a
	// missed change (such as after reconnecting). A change committed after
	// Changes returns is not missed as long as the channel is read: a
	// signal that is pending or sent after the reader's last receive covers
	// it. The channel is closed when ctx ends or the store is closed.
	Changes(ctx context.Context) <-chan struct{}
}

// Broadcaster sends coalesced change signals to every channel returned by
// Subscribe. Store implementations use it to implement Notifier. The zero
// value is ready to use, and it is safe for concurrent use.
type Broadcaster struct {
	mu     sync.Mutex
	subs   map[chan struct{}]struct{}
	closed bool
}

// Subscribe returns a channel with a buffer of one that receives the
// signals of Broadcast. The channel is closed when ctx ends or Close is
// called, and at once when Close was called before.
func (b *Broadcaster) Subscribe(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	if b.subs == nil {
		b.subs = make(map[chan struct{}]struct{})
	}
	b.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() { b.unsubscribe(ch) })
	return ch
}

func (b *Broadcaster) unsubscribe(ch chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

// Broadcast makes a value pending on every subscribed channel that has
// none. It never waits for a reader.
func (b *Broadcaster) Broadcast() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Close closes every subscribed channel. Later subscriptions get a closed
// channel.
func (b *Broadcaster) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
