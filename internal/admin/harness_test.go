package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/warden-api/warden/internal/secret"
	"github.com/warden-api/warden/internal/store"
	"github.com/warden-api/warden/internal/store/sqlite"
)

const specPath = "../../docs/admin-api.yaml"

// bootstrapToken is the bootstrap token of every test server.
const bootstrapToken = "test-bootstrap-token-0123456789abcdef"

// clock is an injected clock that tests move forward.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a log sink that tests read after requests finish.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a running admin API over a fresh SQLite store.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	store  store.Store
	clock  *clock
	logs   *syncBuffer
	router routers.Router
	mux    *http.ServeMux

	mu      sync.Mutex
	audited []store.AuditEntry
}

// newEnv starts the admin API over a fresh store; opts change its Options
// before the handler is built.
func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "warden.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	e := &env{t: t, store: st, clock: &clock{now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}, logs: &syncBuffer{}}
	o := Options{
		Store:          st,
		Logger:         slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BootstrapToken: secret.New(bootstrapToken),
		OnAudit: func(a store.AuditEntry) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.audited = append(e.audited, a)
		},
		Now: e.clock.Now,
	}
	for _, f := range opts {
		f(&o)
	}
	h := NewHandler(o)
	e.mux = h.(*handler).mux
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	e.router = specRouter(t, e.srv.URL)
	return e
}

// specRouter loads the OpenAPI document with the test server as its
// server, for validating responses.
func specRouter(t *testing.T, serverURL string) routers.Router {
	t.Helper()
	doc := loadSpec(t)
	doc.Servers = openapi3.Servers{{URL: serverURL}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("building router from %s: %v", specPath, err)
	}
	return r
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("loading %s: %v", specPath, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validating %s: %v", specPath, err)
	}
	return doc
}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the token (none when "") and a body (a string
// is sent as is, anything else as JSON), and checks the response against
// the OpenAPI document.
func (e *env) do(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encoding request body: %v", err)
		}
		reader = bytes.NewReader(data)
	}

	req, err := http.NewRequest(method, e.srv.URL+path, reader)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}

	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}

	r := response{status: res.StatusCode, header: res.Header, body: data}
	if err := e.specError(req, r); err != nil {
		t.Errorf("%s %s: response %d does not match %s: %v\nbody: %s", req.Method, req.URL.Path, r.status, specPath, err, r.body)
	}
	return r
}

// specError validates a response of a documented operation against the
// OpenAPI document. Requests that no route of the handler serves are
// skipped, because the document's router is more lenient than the
// handler's (it ignores a trailing slash).
func (e *env) specError(req *http.Request, r response) error {
	route, params, err := e.router.FindRoute(req)
	if err != nil {
		return nil
	}
	if _, pattern := e.mux.Handler(req); pattern != route.Method+" "+route.Path {
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  r.status,
		Header:  r.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(r.body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// decode decodes the response body into a value of type T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return v
}

func wantStatus(t *testing.T, what string, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: got status %d, want %d; body: %s", what, r.status, want, r.body)
	}
}

// createToken creates an admin token with the role through the API.
func (e *env) createToken(role string) CreatedToken {
	e.t.Helper()
	r := e.do(e.t, "POST", "/admin/tokens", bootstrapToken, TokenCreate{Name: role + " token", Role: role})
	wantStatus(e.t, "creating token", r, http.StatusCreated)
	return decode[CreatedToken](e.t, r)
}

// createConsumer creates a consumer through the API with the bootstrap
// token.
func (e *env) createConsumer(req ConsumerCreate) Consumer {
	e.t.Helper()
	r := e.do(e.t, "POST", "/admin/consumers", bootstrapToken, req)
	wantStatus(e.t, "creating consumer", r, http.StatusCreated)
	return decode[Consumer](e.t, r)
}

func (e *env) auditEntries() []store.AuditEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]store.AuditEntry(nil), e.audited...)
}
