package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/store"
)

// SignalWithin is the longest time RunNotifier waits for the signal of a
// write.
const SignalWithin = time.Second

// RunNotifier checks that every write of consumers, keys and admin tokens
// through writer produces a signal on changes within SignalWithin. writer
// must be a separate handle on the same data as the store that returned
// changes (a second Open, as another process or node would make), and
// changes must carry no pending or expected signal when RunNotifier is
// called. The steps run in order, each on the records the earlier ones made.
func RunNotifier(t *testing.T, writer store.Store, changes <-chan struct{}) {
	ctx := context.Background()
	steps := []struct {
		name  string
		write func(t *testing.T) error
	}{
		{"create consumer", func(*testing.T) error { return writer.CreateConsumer(ctx, newConsumer("acme")) }},
		{"update consumer", func(*testing.T) error {
			c := newConsumer("acme")
			c.Status = store.StatusSuspended
			c.UpdatedAt = at(time.Hour)
			return writer.UpdateConsumer(ctx, c)
		}},
		{"create key", func(*testing.T) error { return writer.CreateKey(ctx, newKey("k1", "acme")) }},
		{"revoke key", func(*testing.T) error { return writer.RevokeKey(ctx, "k1", at(2*time.Hour)) }},
		{"rotate key", func(t *testing.T) error {
			if err := writer.CreateKey(ctx, newKey("k2", "acme")); err != nil {
				return err
			}
			// The create signals too: take that signal so that the one
			// checked is the rotation's.
			if !waitSignal(changes, SignalWithin) {
				t.Fatalf("no signal within %v of creating key k2", SignalWithin)
			}
			return writer.RotateKey(ctx, "k2", at(3*time.Hour), newKey("k3", "acme"))
		}},
		{"create admin token", func(*testing.T) error {
			return writer.CreateAdminToken(ctx, &store.AdminToken{ID: "t1", Role: store.RoleAdmin, Hash: []byte("h"), CreatedAt: at(0)})
		}},
		{"revoke admin token", func(*testing.T) error { return writer.RevokeAdminToken(ctx, "t1", at(time.Hour)) }},
		{"delete consumer", func(*testing.T) error { return writer.DeleteConsumer(ctx, "acme") }},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			drain(changes)
			if err := step.write(t); err != nil {
				t.Fatalf("write: %v", err)
			}
			if !waitSignal(changes, SignalWithin) {
				t.Errorf("got no signal within %v of the write", SignalWithin)
			}
		})
	}
}

// waitSignal reports whether ch delivers a value within d. A closed channel
// is not a signal.
func waitSignal(ch <-chan struct{}, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case _, ok := <-ch:
		return ok
	case <-timer.C:
		return false
	}
}

// drain takes a pending value from ch, if there is one.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}
