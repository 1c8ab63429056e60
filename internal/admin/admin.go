// Package admin serves Warden's admin REST API: consumers, their API keys,
// admin tokens and the audit trail, as JSON under /admin/. docs/admin-api.yaml
// describes it in OpenAPI 3.1.
//
// Callers authenticate with an admin token (Authorization: Bearer wda_...).
// A token's role decides what it may do: viewer reads, operator also
// changes consumers and keys, admin also manages admin tokens. Every change
// appends an audit entry naming the token, the action, the target and the
// source address. Errors are RFC 9457 problem documents whose "errors"
// member names each invalid field.
//
// The API is meant for the admin listener, which binds to loopback by
// default. Plain keys and tokens appear in a response body once, when they
// are created, and are never logged.
package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 1 << 20

// Options configure the admin API.
type Options struct {
	// Store holds consumers, keys, admin tokens and the audit trail.
	// Required.
	Store store.Store
	// Logger receives a line for every change and every failure. Nil
	// discards them.
	Logger *slog.Logger
	// BootstrapToken, when not zero, is accepted as a token with role
	// admin, with actor id "bootstrap". It exists to create the first
	// stored admin tokens.
	BootstrapToken secret.Value
	// OnAudit, when set, receives every audit entry after it is stored.
	// It runs on the request's goroutine, so it must not block.
	OnAudit func(store.AuditEntry)
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Usage returns a consumer's quota usage in the current period, such
	// as ratelimit.Limiter.Usage of the running gateway. An error wrapping
	// ErrUsageUnavailable (say, before the limiter has started) or any
	// other error except store.ErrNotFound is returned as 503. Nil means
	// GET /admin/consumers/{id}/usage returns 503 for every existing
	// consumer.
	Usage func(ctx context.Context, consumerID string) ([]ratelimit.QuotaStatus, error)
}

// handler is the http.Handler that NewHandler returns.
type handler struct {
	svc       *Service
	store     store.Store
	logger    *slog.Logger
	now       func() time.Time
	bootstrap secret.Value
	mux       *http.ServeMux
}

// NewHandler returns the admin API handler. Mount it at /admin/: the
// routes include that prefix.
func NewHandler(opt Options) http.Handler {
	svc := NewService(opt)
	h := &handler{
		svc: svc, store: opt.Store, logger: svc.logger, now: svc.now,
		bootstrap: opt.BootstrapToken, mux: http.NewServeMux(),
	}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.method+" "+rt.pattern, h.wrap(rt))
	}
	return h
}

// ServeHTTP authenticates requests that match no route before it returns
// 404 or 405, so that the API's shape is not shown to callers without a
// token. Matched routes authenticate in wrap.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.mux.Handler(r); pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	requestID := requestIDOf(w, r)
	if _, err := h.authenticate(r); err != nil {
		h.fail(w, r, requestID, err)
		return
	}
	if allow := h.allowedMethods(r); allow != "" {
		w.Header().Set("Allow", allow)
		h.fail(w, r, requestID, &Error{
			Status: http.StatusMethodNotAllowed, Slug: "method-not-allowed", Title: "Method not allowed",
			Detail: "use one of " + allow,
		})
		return
	}
	h.fail(w, r, requestID, &Error{
		Status: http.StatusNotFound, Slug: SlugResourceNotFound, Title: "Resource not found",
		Detail: "no admin API endpoint at " + r.URL.Path,
	})
}

// allowedMethods returns the methods that some route serves at the
// request's path, comma-separated, or "".
func (h *handler) allowedMethods(r *http.Request) string {
	allow := ""
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" {
			if allow != "" {
				allow += ", "
			}
			allow += m
		}
	}
	return allow
}

// fail writes err as a problem document and logs internal failures with
// their cause. Client errors are logged at debug level only.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, requestID string, err error) {
	e := asError(err)
	if e.Status >= 500 {
		h.logger.Error("admin request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", requestID, "status", e.Status, "err", e.Cause)
	} else {
		h.logger.Debug("admin request rejected", "method", r.Method, "path", r.URL.Path,
			"request_id", requestID, "status", e.Status, "detail", e.Detail)
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="warden-admin"`)
	}
	writeProblem(w, e, requestID)
}
