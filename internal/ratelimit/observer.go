package ratelimit

// Observer receives the events that metrics and alerts are made of. Its
// methods are called on the request path or from background goroutines,
// so they must be safe for concurrent use and must not block.
type Observer interface {
	// BackendStateChanged is called once when the shared backend becomes
	// unreachable (available false) and once when it answers again.
	// backend is "redis".
	BackendStateChanged(backend string, available bool)
	// FailModeApplied is called for each check made while the shared
	// backend could not be used: mode "open" when the local limiter
	// decided, "closed" when the request was denied with 503.
	FailModeApplied(mode string)
	// QuotaFlushFailed is called when quota usage could not be written to
	// the store. The usage is kept in memory and written on the next flush.
	QuotaFlushFailed(err error)
	// Lockout is called when brute-force protection locks a source out.
	// kind is "ip" or "credential".
	Lockout(kind string)
}

// NopObserver ignores every event.
type NopObserver struct{}

// BackendStateChanged does nothing.
func (NopObserver) BackendStateChanged(string, bool) {}

// FailModeApplied does nothing.
func (NopObserver) FailModeApplied(string) {}

// QuotaFlushFailed does nothing.
func (NopObserver) QuotaFlushFailed(error) {}

// Lockout does nothing.
func (NopObserver) Lockout(string) {}
