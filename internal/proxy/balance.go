package proxy

import (
	"math"
	"slices"
	"time"
)

// pick chooses the target for the next attempt and reports whether the
// attempt is a half-open trial. It prefers targets not in tried, so that a
// retry goes to another target when one is available, and returns nil
// when no target can take the request.
func (u *Upstream) pick(now time.Time, tried []*target) (*target, bool) {
	if t, trial := u.choose(now, tried); t != nil {
		return t, trial
	}
	if len(tried) > 0 {
		return u.choose(now, nil)
	}
	return nil, false
}

func (u *Upstream) choose(now time.Time, exclude []*target) (*target, bool) {
	if u.leastRequests {
		return u.chooseLeastRequests(now, exclude)
	}
	n := len(u.targets)
	start := int(u.next.Add(1) % uint64(n))
	for i := range n {
		t := u.targets[(start+i)%n]
		if !t.activeUp.Load() || slices.Contains(exclude, t) {
			continue
		}
		if ok, trial := t.breaker.allow(now); ok {
			return t, trial
		}
	}
	return nil, false
}

// chooseLeastRequests picks the available target with the fewest requests
// in flight. The scan starts at a rotating offset so that ties spread over
// the targets instead of piling onto the first.
func (u *Upstream) chooseLeastRequests(now time.Time, exclude []*target) (*target, bool) {
	n := len(u.targets)
	start := int(u.next.Add(1) % uint64(n))
	var lost []*target
	for range n {
		var best *target
		bestCount := int64(math.MaxInt64)
		for i := range n {
			t := u.targets[(start+i)%n]
			if !t.activeUp.Load() || !t.breaker.mayAllow(now) ||
				slices.Contains(exclude, t) || slices.Contains(lost, t) {
				continue
			}
			if c := t.inFlight.Load(); c < bestCount {
				best, bestCount = t, c
			}
		}
		if best == nil {
			return nil, false
		}
		if ok, trial := best.breaker.allow(now); ok {
			return best, trial
		}
		// Another request took the half-open trial first.
		lost = append(lost, best)
	}
	return nil, false
}

// mayAllow reports without side effects whether allow would let a request
// through now.
func (b *breaker) mayAllow(now time.Time) bool {
	switch b.state.Load() {
	case circuitClosed:
		return true
	case circuitOpen:
		b.mu.Lock()
		defer b.mu.Unlock()
		return !now.Before(b.openUntil)
	default:
		return false
	}
}
