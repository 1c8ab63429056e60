package proxy

import (
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Circuit breaker states of a target.
const (
	circuitClosed int32 = iota
	circuitOpen
	circuitHalfOpen
)

// target is one server of an upstream with its health state.
type target struct {
	// name is the target URL as written in the config, for logs, metrics
	// and Result.Target.
	name   string
	scheme string
	// host is host[:port] from the URL, sent as the Host header.
	host string
	// addr is the dial address, host:port with the scheme's default port
	// when the URL has none.
	addr string
	// prefix is the URL path without a trailing slash, prepended to every
	// forwarded path.
	prefix string

	transport transport
	inFlight  atomic.Int64

	// activeUp is the verdict of active probes. It starts true so that
	// traffic flows before the first probe.
	activeUp atomic.Bool

	breaker breaker

	// reportMu serializes health reports so that the observer receives
	// the last state last.
	reportMu sync.Mutex
	reported bool
}

func newTarget(name string, u *url.URL, policy passivePolicy) *target {
	t := &target{
		name:   name,
		scheme: u.Scheme,
		host:   u.Host,
		addr:   dialAddr(u),
		prefix: strings.TrimSuffix(u.EscapedPath(), "/"),
	}
	t.breaker.maxFailures = int32(policy.maxFailures)
	t.breaker.cooldown = policy.cooldown
	t.activeUp.Store(true)
	t.reported = true
	return t
}

func dialAddr(u *url.URL) string {
	if port := u.Port(); port != "" {
		return net.JoinHostPort(u.Hostname(), port)
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// healthy reports the state reported to the observer: up for active
// probes and the circuit closed. A half-open circuit still counts as
// ejected until its trial succeeds.
func (t *target) healthy() bool {
	return t.activeUp.Load() && t.breaker.state.Load() == circuitClosed
}

// outcome is the result of an exchange with a target, as the breaker
// counts it.
type outcome uint8

const (
	outcomeSuccess outcome = iota
	outcomeFailure
	// outcomeNeutral is an exchange that reveals nothing about the target,
	// such as one that the client canceled.
	outcomeNeutral
)

// breaker is a consecutive-failure circuit breaker. In the closed state
// every request passes. After maxFailures consecutive failures it opens
// for cooldown. Then one trial request passes (half-open), and its
// outcome closes or reopens the circuit. maxFailures 0 disables it.
type breaker struct {
	maxFailures int32
	cooldown    time.Duration

	state    atomic.Int32
	failures atomic.Int32

	mu        sync.Mutex
	openUntil time.Time
}

// allow reports whether a request may go to the target now, and whether
// it is the half-open trial whose outcome decides the circuit.
func (b *breaker) allow(now time.Time) (ok, trial bool) {
	if b.state.Load() == circuitClosed {
		return true, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state.Load() {
	case circuitClosed:
		return true, false
	case circuitOpen:
		if now.Before(b.openUntil) {
			return false, false
		}
		b.state.Store(circuitHalfOpen)
		return true, true
	default:
		// A trial is in flight; others wait for its outcome.
		return false, false
	}
}

// record feeds the outcome of one exchange into the breaker and reports
// whether the circuit changed between open and closed.
func (b *breaker) record(o outcome, trial bool, now time.Time) (changed bool) {
	if b.maxFailures <= 0 {
		return false
	}
	if trial {
		return b.recordTrial(o, now)
	}
	switch o {
	case outcomeSuccess:
		if b.failures.Load() != 0 {
			b.failures.Store(0)
		}
	case outcomeFailure:
		if b.failures.Add(1) < b.maxFailures || b.state.Load() != circuitClosed {
			return false
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.state.Load() != circuitClosed {
			return false
		}
		b.openUntil = now.Add(b.cooldown)
		b.state.Store(circuitOpen)
		b.failures.Store(0)
		return true
	}
	return false
}

func (b *breaker) recordTrial(o outcome, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch o {
	case outcomeSuccess:
		b.failures.Store(0)
		b.state.Store(circuitClosed)
		return true
	case outcomeFailure:
		b.openUntil = now.Add(b.cooldown)
		b.state.Store(circuitOpen)
	default:
		// The trial revealed nothing, so the next request is a new trial.
		b.openUntil = now
		b.state.Store(circuitOpen)
	}
	return false
}
