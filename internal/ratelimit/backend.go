package ratelimit

import (
	"context"
	"errors"
)

// Window is one limit applied to one request: the key it counts under and
// its rule.
type Window struct {
	// Key names the counted thing, such as a consumer on a route. It holds
	// ids only, never a credential.
	Key  string
	Rule Rule
}

// Backend keeps GCRA state and evaluates the windows of a request.
//
// Allow evaluates all windows of one request as one atomic step: the
// request is allowed only when every window allows it, and only then does
// any window's state advance. It writes one Verdict per window to out,
// which has the length of windows. Implementations are safe for
// concurrent use.
type Backend interface {
	Allow(ctx context.Context, windows []Window, out []Verdict) error
	Close() error
}

// ErrUnavailable is returned when the shared backend cannot be reached and
// the fail mode is "closed".
var ErrUnavailable = errors.New("rate limit backend unavailable")
