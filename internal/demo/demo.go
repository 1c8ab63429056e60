// Package demo is the bookstore API that `warden quickstart` runs behind the
// gateway: users, books and orders in memory, described by the OpenAPI 3.1
// document that Spec returns.
//
// The API makes no access decision of its own, because the gateway in front
// of it does. It reads the consumer that the gateway forwards in the
// X-Consumer-Id and X-Consumer-Scopes headers only to echo them from
// GET /whoami. User ids are strings such as "alice", so a gateway policy can
// compare the {id} of /users/{id} with the consumer id.
//
// Every error is an RFC 9457 problem (application/problem+json):
//
//   - 400: a malformed request, such as invalid JSON, a wrong JSON type, an
//     unknown field, or an invalid path id or query parameter.
//   - 404: a missing resource.
//   - 409: a conflict with the stored data, such as a duplicate id, e-mail
//     or ISBN, too little stock, or a full store.
//   - 413 and 415: a body that is too large or not application/json.
//   - 422: a well-formed body with invalid values, listed by field.
package demo

import (
	_ "embed"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

//go:embed openapi.yaml
var spec []byte

// Spec returns the OpenAPI 3.1 document of the demo API in YAML. The caller
// may modify the returned slice.
func Spec() []byte {
	return slices.Clone(spec)
}

// api serves the demo API. It is safe for concurrent use.
type api struct {
	log   *slog.Logger
	store *store
	mux   *http.ServeMux
}

// route is one operation of the API. Its pattern uses the {name} wildcard
// syntax that http.ServeMux and OpenAPI share, so tests can look each route
// up in the spec as it is.
type route struct {
	method  string
	pattern string
	handle  func(a *api, w http.ResponseWriter, r *http.Request) error
}

func routes() []route {
	return []route{
		{http.MethodGet, "/healthz", (*api).health},
		{http.MethodGet, "/whoami", (*api).whoami},
		{http.MethodGet, "/users", (*api).listUsers},
		{http.MethodPost, "/users", (*api).createUser},
		{http.MethodGet, "/users/{id}", (*api).getUser},
		{http.MethodGet, "/users/{id}/orders", (*api).listUserOrders},
		{http.MethodPost, "/users/{id}/orders", (*api).createOrder},
		{http.MethodGet, "/books", (*api).listBooks},
		{http.MethodPost, "/books", (*api).createBook},
		{http.MethodGet, "/books/{id}", (*api).getBook},
		{http.MethodPut, "/books/{id}", (*api).updateBook},
		{http.MethodDelete, "/books/{id}", (*api).deleteBook},
		{http.MethodGet, "/orders/{id}", (*api).getOrder},
	}
}

// NewHandler returns the demo API with a fresh copy of the seed data:
// users alice, bob and carol, ten books, and one order each for alice and
// bob. It logs every change to the data and every internal error to logger,
// or nowhere when logger is nil.
func NewHandler(logger *slog.Logger) http.Handler {
	return newHandler(logger, time.Now)
}

// newHandler is NewHandler with the clock that stamps new orders.
func newHandler(logger *slog.Logger, now func() time.Time) *api {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &api{log: logger, store: newStore(now), mux: http.NewServeMux()}
	for _, rt := range routes() {
		a.mux.HandleFunc(rt.method+" "+rt.pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := rt.handle(a, w, r); err != nil {
				a.fail(w, r, err)
			}
		})
	}
	return a
}

// ServeHTTP routes the request. Requests that match no route get a 404 or
// 405 problem in place of the plain-text error of http.ServeMux.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}

	// http.ServeMux distinguishes 404 from 405 only in the response of the
	// handler it returns, so run that handler and keep its status and Allow.
	rec := statusRecorder{header: http.Header{}}
	h.ServeHTTP(&rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeProblem(w, r, &problem{Type: typePrefix + "method-not-allowed", Title: "Method not allowed",
			Status: http.StatusMethodNotAllowed, Detail: "the Allow header lists the methods of this path"})
		return
	}
	writeProblem(w, r, &problem{Type: typePrefix + "not-found", Title: "Not found",
		Status: http.StatusNotFound, Detail: "no operation has this path; the OpenAPI document lists them"})
}

// fail sends err as a problem when it is one, and as a 500 otherwise.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p, ok := err.(*problem); ok {
		writeProblem(w, r, p)
		return
	}
	a.log.Error("demo API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeProblem(w, r, &problem{Type: typePrefix + "internal", Title: "Internal error",
		Status: http.StatusInternalServerError})
}

// statusRecorder keeps the status and header that a handler writes and
// drops the body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(status int)      { s.status = status }
