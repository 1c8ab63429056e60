package store

import (
	"context"
	"testing"
	"time"
)

// received reports whether ch has a value or is closed within d, and
// whether it is still open.
func received(ch <-chan struct{}, d time.Duration) (got, open bool) {
	select {
	case _, open = <-ch:
		return true, open
	case <-time.After(d):
		return false, true
	}
}

func TestBroadcasterCoalesces(t *testing.T) {
	var b Broadcaster
	ch := b.Subscribe(context.Background())
	for range 3 {
		b.Broadcast()
	}
	if got, open := received(ch, time.Second); !got || !open {
		t.Fatalf("first receive: got value %v, open %v, want a value", got, open)
	}
	if got, _ := received(ch, 20*time.Millisecond); got {
		t.Errorf("second receive: got a value, want the three signals coalesced into one")
	}
}

func TestBroadcasterEverySubscriber(t *testing.T) {
	var b Broadcaster
	a, c := b.Subscribe(context.Background()), b.Subscribe(context.Background())
	b.Broadcast()
	for name, ch := range map[string]<-chan struct{}{"a": a, "c": c} {
		if got, _ := received(ch, time.Second); !got {
			t.Errorf("subscriber %s: got no value", name)
		}
	}
}

func TestBroadcasterContextEnds(t *testing.T) {
	var b Broadcaster
	ctx, cancel := context.WithCancel(context.Background())
	ch := b.Subscribe(ctx)
	cancel()
	if got, open := received(ch, time.Second); !got || open {
		t.Fatalf("after cancel: got value %v, open %v, want the channel closed", got, open)
	}
	// A broadcast after the subscription ended must not panic on the
	// closed channel.
	b.Broadcast()
}

func TestBroadcasterClose(t *testing.T) {
	var b Broadcaster
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := b.Subscribe(ctx)
	b.Close()
	if got, open := received(ch, time.Second); !got || open {
		t.Errorf("after Close: got value %v, open %v, want the channel closed", got, open)
	}
	// The context ending after Close must not close the channel twice.
	cancel()
	late := b.Subscribe(context.Background())
	if got, open := received(late, time.Second); !got || open {
		t.Errorf("subscribed after Close: got value %v, open %v, want a closed channel", got, open)
	}
	b.Broadcast()
}
