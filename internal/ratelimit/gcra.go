package ratelimit

import "time"

// Rule is one GCRA limit: Rate requests per Period, with up to Burst
// requests at once after a quiet period.
//
// The emission interval T is Period/Rate, the time one request "costs".
// The delay variation tolerance is (Burst-1)*T. A key's state is a single
// number, the theoretical arrival time (TAT): the time at which the key
// would be back to an empty bucket if no further request arrived.
type Rule struct {
	Rate   int64
	Period time.Duration
	Burst  int64
}

// Interval returns the emission interval Period/Rate, truncated to whole
// nanoseconds.
func (r Rule) Interval() time.Duration {
	return r.Period / time.Duration(r.Rate)
}

// Verdict is the outcome of one GCRA window for one request.
type Verdict struct {
	// Allowed reports whether this window lets the request through. The
	// request as a whole is allowed only when every window allows it.
	Allowed bool
	// Remaining is how many more requests the window would allow right
	// now, after this one.
	Remaining int64
	// ResetAfter is the time until the window is back to its full burst.
	ResetAfter time.Duration
	// RetryAfter is the time until a request denied by this window would
	// be allowed. It is zero when the window allows the request.
	RetryAfter time.Duration
}

// evaluate applies one arrival at now to a key whose stored TAT is tat.
// Times are in nanoseconds. It returns the TAT to store when the request is
// allowed and the window's verdict.
//
// With interval T and limit L = Burst*T:
//
//	tat  = max(tat, now)
//	next = tat + T
//	allowed when next-now <= L, remaining = (L-(next-now))/T, reset = next-now
//	denied otherwise,          retry     = next-now-L,        reset = tat-now
func (r Rule) evaluate(tat, now int64) (int64, Verdict) {
	interval := int64(r.Interval())
	limit := r.Burst * interval
	if tat < now {
		tat = now
	}
	next := tat + interval
	if next-now > limit {
		return tat, Verdict{
			ResetAfter: time.Duration(tat - now),
			RetryAfter: time.Duration(next - now - limit),
		}
	}
	return next, Verdict{
		Allowed:    true,
		Remaining:  (limit - (next - now)) / interval,
		ResetAfter: time.Duration(next - now),
	}
}

// peek returns the verdict of a window that would allow the request but
// is not advanced because another window of the same request denied it.
func (r Rule) peek(tat, now int64) Verdict {
	interval := int64(r.Interval())
	limit := r.Burst * interval
	if tat < now {
		tat = now
	}
	return Verdict{
		Allowed:    true,
		Remaining:  (limit - (tat - now)) / interval,
		ResetAfter: time.Duration(tat - now),
	}
}

// nextUnit returns the time until the window gains one more request of
// capacity: zero when it is full, otherwise the part of ResetAfter above
// the last whole interval.
func (r Rule) nextUnit(v Verdict) time.Duration {
	if v.RetryAfter > 0 {
		return v.RetryAfter
	}
	interval := r.Interval()
	if v.ResetAfter <= 0 || interval <= 0 {
		return 0
	}
	units := (v.ResetAfter + interval - 1) / interval
	return v.ResetAfter - (units-1)*interval
}
