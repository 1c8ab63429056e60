// Package pipeline defines the contract between the gateway and its request
// stages: the Exchange that carries one request through the stages, the
// Result a stage returns, and the Stage interface itself.
//
// Stages are pure decisions over the Exchange. They do not write to the
// client. The gateway turns a denying Result into a problem+json response
// and records every Result in the request's security event.
package pipeline

import (
	"context"
	"net/http"
	"net/netip"
	"time"
)

// Decision is a stage's verdict on a request.
type Decision uint8

const (
	// Allow lets the request continue to the next stage.
	Allow Decision = iota
	// Flag lets the request continue but marks it in the event.
	Flag
	// Deny stops the request with the Result's status.
	Deny
)

// String returns the name used in events and metrics.
func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case Flag:
		return "flag"
	case Deny:
		return "deny"
	}
	return "unknown"
}

// Result is a stage's decision with what the gateway needs to act on it.
type Result struct {
	Decision Decision
	// Reason is a stable snake_case code for events and metrics, such as
	// "key_revoked" or "rate_limited". Empty for a plain allow.
	Reason string
	// Status is the HTTP status for a denial, such as 401 or 429.
	Status int
	// Problem is the stable problem type slug for a denial, such as
	// "unauthorized"; see docs/problems.md.
	Problem string
	// Title is the short client-safe title of the problem. It must not carry
	// internal detail.
	Title string
	// Detail is an optional client-safe sentence about what to change.
	Detail string
	// Headers are added to the response, on a denial and on an allow alike
	// (for example WWW-Authenticate, Retry-After or RateLimit).
	Headers http.Header
}

// Allowed is the Result of a stage that allows without comment.
var Allowed = Result{Decision: Allow}

// Stage is one step of the request path. Check must be safe for concurrent
// use and must not write to the client. A technical failure (a store or an
// identity provider that cannot be reached) is a Deny with a 5xx or a 401,
// per the stage's documented fail mode, never a silent Allow.
type Stage interface {
	// Name is the stage name recorded in events, such as "authn".
	Name() string
	// Check decides about the request. It may fill fields of x for later
	// stages, such as x.Identity.
	Check(ctx context.Context, x *Exchange) Result
}

// Finisher is implemented by stages that need to see the outcome of a
// request after the response was written, such as quota accounting or
// brute-force counting. Finish must not block.
type Finisher interface {
	Finish(x *Exchange, status int, bytesOut int64)
}

// Outcome is the recorded Result of one stage.
type Outcome struct {
	Stage    string
	Decision Decision
	Reason   string
}

// Param is one path parameter bound by a route pattern.
type Param struct {
	Name  string
	Value string
}

// Identity is the authenticated caller. The zero Identity is anonymous.
type Identity struct {
	// ConsumerID is the consumer's id in the store, or the token subject
	// for JWT issuers without store consumers.
	ConsumerID string
	// ConsumerName is the consumer's display name, if known.
	ConsumerName string
	// Method is the authentication method that succeeded: "api_key",
	// "jwt", "introspection" or "mtls".
	Method string
	// CredentialID names the credential without revealing it: an API key
	// id, a token's jti or a certificate fingerprint.
	CredentialID string
	// Issuer is the JWT issuer or introspection endpoint name, if any.
	Issuer string
	Scopes []string
	Roles  []string
	// Plan is the consumer's rate-limit plan.
	Plan string
	// Claims are the token claims, for CEL policies. Nil for API keys.
	Claims map[string]any
	// Metadata is the consumer's metadata from the store.
	Metadata map[string]string
}

// Anonymous reports whether no consumer was authenticated.
func (id *Identity) Anonymous() bool { return id == nil || id.ConsumerID == "" }

// Exchange carries one request through the pipeline. It is owned by the
// goroutine serving the request; stages must not keep it after Check.
type Exchange struct {
	// ID is the request id, generated or taken from a trusted proxy.
	ID string
	// Start is when the gateway received the request headers.
	Start time.Time
	// Request is the client request. Its URL.Path is the canonical path
	// that is matched and forwarded.
	Request *http.Request
	// Route is the matched route's name, "" before routing.
	Route string
	// Params are the path parameters bound by the route pattern.
	Params []Param
	// ClientIP is the client address: the connection's peer, or the
	// right-most untrusted address of the forwarding headers when the peer
	// is a trusted proxy.
	ClientIP netip.Addr
	// PeerIP is the address of the TCP peer.
	PeerIP netip.Addr
	// TLS reports whether the client connection uses TLS.
	TLS bool
	// Identity is set by the authentication stage; nil until then.
	Identity *Identity
	// Outcomes are the recorded stage results, in order.
	Outcomes []Outcome
	// Attrs are extra event fields set by stages, under "warden." in the
	// event, such as "ratelimit.limit" or "authn.method". Values must not be
	// secrets.
	Attrs map[string]any
	// Upstream is the target URL the request went to, "" if none.
	Upstream string
}

// Param returns the value of the named path parameter and whether it was
// bound.
func (x *Exchange) Param(name string) (string, bool) {
	for _, p := range x.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// SetAttr records an extra event field.
func (x *Exchange) SetAttr(key string, value any) {
	if x.Attrs == nil {
		x.Attrs = make(map[string]any, 4)
	}
	x.Attrs[key] = value
}

// Record appends a stage's result to the outcomes.
func (x *Exchange) Record(stage string, r Result) {
	x.Outcomes = append(x.Outcomes, Outcome{Stage: stage, Decision: r.Decision, Reason: r.Reason})
}
