// Package config defines Warden's declarative YAML configuration, loads it
// with strict decoding, fills in defaults and validates it in one pass whose
// errors name the file, line and field.
//
// A loaded Config is read-only: the gateway compiles it into a pipeline and
// never changes it afterwards.
package config

import (
	"go.yaml.in/yaml/v3"

	"github.com/warden-api/warden/internal/secret"
)

// Config is the whole gateway configuration.
type Config struct {
	// DataDir is the directory of the embedded SQLite store and of the
	// files that quickstart writes. Default: "warden-data" beside the
	// config file. Other relative paths in the config are resolved against
	// the config file's directory, not this one.
	DataDir string `yaml:"data_dir" json:"data_dir,omitempty"`

	// Listeners are the client-facing HTTP servers. At least one is required.
	Listeners []Listener `yaml:"listeners" json:"listeners"`

	// Admin is the listener for health, readiness, metrics and the admin API.
	Admin Admin `yaml:"admin" json:"admin,omitempty"`

	// Gateway holds request-path settings that apply to every route.
	Gateway Gateway `yaml:"gateway" json:"gateway,omitempty"`

	// Routes map requests to upstreams. They are matched most specific
	// first; see the README for the order.
	Routes []Route `yaml:"routes" json:"routes"`

	// Upstreams are the services that routes forward to.
	Upstreams []Upstream `yaml:"upstreams" json:"upstreams"`

	// Events configures the security event written for every request.
	Events Events `yaml:"events" json:"events,omitempty"`

	// Store configures where consumers, credentials, quota usage and the
	// audit trail are kept.
	Store Store `yaml:"store" json:"store,omitempty"`

	// Authn configures the credential verifiers that routes refer to.
	Authn Authn `yaml:"authn" json:"authn,omitempty"`

	// RateLimit configures the limiter backend, plans, brute-force lockout
	// and overload protection.
	RateLimit RateLimit `yaml:"rate_limit" json:"rate_limit,omitempty"`

	// path is the file the config was loaded from, for error messages.
	path string
	// root is the decoded YAML tree, which maps field paths to lines.
	root *yaml.Node
}

// Path returns the file the config was loaded from, or "" if it was built
// in memory.
func (c *Config) Path() string { return c.path }

// Listener is one client-facing HTTP server.
type Listener struct {
	// Name identifies the listener in logs and metrics. Default: the address.
	Name string `yaml:"name" json:"name,omitempty"`

	// Address is host:port to listen on, such as "127.0.0.1:8080" or ":8443".
	Address string `yaml:"address" json:"address"`

	// TLS turns on HTTPS (and HTTP/2) for this listener.
	TLS *ListenerTLS `yaml:"tls" json:"tls,omitempty"`

	// Timeouts bound how long a client may take. Defaults: read_header 5s,
	// read 60s, write 120s, idle 120s.
	Timeouts ListenerTimeouts `yaml:"timeouts" json:"timeouts,omitempty"`

	// MaxHeaderBytes is the largest request header block accepted, request
	// line included. Larger requests get 431. Default: 64KiB.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes" json:"max_header_bytes,omitempty"`

	// MaxConnections is the number of concurrent client connections; further
	// connections wait in the kernel's accept queue. 0 means no limit.
	// Default: 10000.
	MaxConnections int `yaml:"max_connections" json:"max_connections,omitempty"`
}

// ListenerTLS is the server side of TLS. Versions below 1.2 and cipher
// suites without forward secrecy or AEAD are never offered.
type ListenerTLS struct {
	// CertFile is the PEM certificate chain, leaf first.
	CertFile string `yaml:"cert_file" json:"cert_file"`

	// KeyFile is the PEM private key of the leaf certificate.
	KeyFile string `yaml:"key_file" json:"key_file"`

	// MinVersion is "1.2" or "1.3". Default: "1.2".
	MinVersion string `yaml:"min_version" json:"min_version,omitempty"`

	// ClientCAFile is a PEM bundle of CAs that sign client certificates.
	// Setting it turns on mutual TLS.
	ClientCAFile string `yaml:"client_ca_file" json:"client_ca_file,omitempty"`

	// ClientAuth is "request" (verify a certificate when one is sent) or
	// "require" (reject the handshake without one). Default with a client
	// CA: "request", so routes decide whether mTLS is required.
	ClientAuth string `yaml:"client_auth" json:"client_auth,omitempty"`
}

// ListenerTimeouts bound the phases of a client connection.
type ListenerTimeouts struct {
	// ReadHeader is the time allowed to read the request headers.
	ReadHeader Duration `yaml:"read_header" json:"read_header,omitempty"`
	// Read is the time allowed to read the whole request, body included.
	Read Duration `yaml:"read" json:"read,omitempty"`
	// Write is the time allowed from the end of the request headers to the
	// end of the response.
	Write Duration `yaml:"write" json:"write,omitempty"`
	// Idle is how long a keep-alive connection may wait for the next request.
	Idle Duration `yaml:"idle" json:"idle,omitempty"`
}

// Admin is the operator listener. It serves /healthz, /readyz, /metrics and
// the admin API under /admin/. Keep it on loopback or a private interface.
type Admin struct {
	// Address is host:port. Default: "127.0.0.1:9901". Set "off" to disable.
	Address string `yaml:"address" json:"address,omitempty"`

	// BootstrapTokenFile, when set, names a file whose content is accepted
	// as an admin token with role admin. Use it to create the first stored
	// admin tokens; the file must not be readable by other users.
	BootstrapTokenFile string `yaml:"bootstrap_token_file" json:"bootstrap_token_file,omitempty"`
}

// Gateway holds settings shared by every route.
type Gateway struct {
	// TrustedProxies are CIDRs of proxies in front of Warden. Forwarded,
	// X-Forwarded-For, X-Forwarded-Proto and X-Request-Id are read only
	// from connections that come from one of them. Default: none.
	TrustedProxies []string `yaml:"trusted_proxies" json:"trusted_proxies,omitempty"`

	// ForwardedHeader is the header that trusted proxies write the client
	// address into: "x-forwarded-for" (with X-Forwarded-Proto and
	// X-Forwarded-Host, what most load balancers write), "forwarded"
	// (RFC 7239), or "auto" (Forwarded when present, else X-Forwarded-For).
	// Use "auto" only when every trusted proxy rewrites both headers,
	// because a proxy that appends only to X-Forwarded-For passes a
	// client's own Forwarded header through. Default: "x-forwarded-for".
	ForwardedHeader string `yaml:"forwarded_header" json:"forwarded_header,omitempty"`

	// RequestIDHeader is the header that carries the request id to the
	// upstream and back to the client. Default: "X-Request-Id".
	RequestIDHeader string `yaml:"request_id_header" json:"request_id_header,omitempty"`

	// RemoveResponseHeaders are removed from upstream responses.
	// Default: ["Server", "X-Powered-By"]. Set an empty list to keep them.
	RemoveResponseHeaders *[]string `yaml:"remove_response_headers" json:"remove_response_headers,omitempty"`

	// SecurityHeaders are added to responses on TLS listeners.
	SecurityHeaders SecurityHeaders `yaml:"security_headers" json:"security_headers,omitempty"`

	// MaxPathBytes is the longest request path accepted, query excluded.
	// Longer paths get 414. Default: 8KiB.
	MaxPathBytes ByteSize `yaml:"max_path_bytes" json:"max_path_bytes,omitempty"`

	// MaxBodyBytes is the default largest request body for routes that do
	// not set their own. Larger bodies get 413. Default: 10MiB.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes" json:"max_body_bytes,omitempty"`

	// ShutdownTimeout is how long in-flight requests may run after SIGTERM
	// or SIGINT before connections are closed. Default: 30s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout" json:"shutdown_timeout,omitempty"`

	// WatchConfig reloads the config when its file changes, in addition to
	// SIGHUP. Default: true.
	WatchConfig *bool `yaml:"watch_config" json:"watch_config,omitempty"`
}

// SecurityHeaders are response headers added on TLS listeners.
type SecurityHeaders struct {
	// HSTS sets Strict-Transport-Security. Default: true.
	HSTS *bool `yaml:"hsts" json:"hsts,omitempty"`
	// HSTSMaxAge is the max-age of Strict-Transport-Security. Default: 8760h
	// (one year).
	HSTSMaxAge Duration `yaml:"hsts_max_age" json:"hsts_max_age,omitempty"`
	// HSTSIncludeSubdomains adds includeSubDomains. Default: false.
	HSTSIncludeSubdomains bool `yaml:"hsts_include_subdomains" json:"hsts_include_subdomains,omitempty"`
	// NoSniff sets X-Content-Type-Options: nosniff. Default: true.
	NoSniff *bool `yaml:"nosniff" json:"nosniff,omitempty"`
}

// Route maps matching requests to an upstream and carries the per-route
// settings of every stage.
type Route struct {
	// Name identifies the route in events, logs and metrics. Required and
	// unique.
	Name string `yaml:"name" json:"name"`

	// Hosts restricts the route to these Host header values (port ignored,
	// case-insensitive). "*.example.com" matches one label. Empty: any host.
	Hosts []string `yaml:"hosts" json:"hosts,omitempty"`

	// Methods restricts the route to these HTTP methods. Empty: any method.
	// A request whose path matches but whose method does not gets 405.
	Methods []string `yaml:"methods" json:"methods,omitempty"`

	// Paths are patterns over the canonical path: "/books" matches exactly,
	// "/users/{id}/orders" binds the segment "id", and "/static/**" matches
	// "/static" and everything below it. At least one is required.
	Paths []string `yaml:"paths" json:"paths"`

	// CaseInsensitive matches paths without regard to letter case. The path
	// is still forwarded as the client sent it. Default: false.
	CaseInsensitive bool `yaml:"case_insensitive" json:"case_insensitive,omitempty"`

	// AllowEncodedSlash accepts %2F and %5C inside a path segment and
	// forwards them encoded. Default: false (such requests get 400).
	AllowEncodedSlash bool `yaml:"allow_encoded_slash" json:"allow_encoded_slash,omitempty"`

	// Upstream is the name of the upstream to forward to. Required.
	Upstream string `yaml:"upstream" json:"upstream"`

	// StripPrefix removes this prefix from the path before forwarding.
	StripPrefix string `yaml:"strip_prefix" json:"strip_prefix,omitempty"`

	// Rewrite replaces the forwarded path. It may use the route's path
	// parameters, as in "/v2/users/{id}". Applied after StripPrefix.
	Rewrite string `yaml:"rewrite" json:"rewrite,omitempty"`

	// MaxBodyBytes is the largest request body. Default: gateway.max_body_bytes.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes" json:"max_body_bytes,omitempty"`

	// Timeouts bound the upstream exchange. Defaults come from the upstream.
	Timeouts *UpstreamTimeouts `yaml:"timeouts" json:"timeouts,omitempty"`

	// Retries controls retries of idempotent requests. Defaults come from
	// the upstream.
	Retries *Retries `yaml:"retries" json:"retries,omitempty"`

	// MaxInFlight is the largest number of concurrent requests on this route;
	// more get 503. 0 means no limit.
	MaxInFlight int `yaml:"max_in_flight" json:"max_in_flight,omitempty"`

	// Auth configures how clients of this route authenticate. Without it the
	// route is anonymous.
	Auth *RouteAuth `yaml:"auth" json:"auth,omitempty"`

	// Authz lists what an authenticated consumer needs to use this route.
	Authz *RouteAuthz `yaml:"authz" json:"authz,omitempty"`

	// RateLimit puts limits and quotas on this route.
	RateLimit *RouteRateLimit `yaml:"rate_limit" json:"rate_limit,omitempty"`
}

// Upstream is a set of equivalent targets behind one name.
type Upstream struct {
	// Name identifies the upstream. Required and unique.
	Name string `yaml:"name" json:"name"`

	// Targets are the servers, as URLs with scheme and host, such as
	// "http://127.0.0.1:9000" or "https://api.internal:8443". A path in the
	// URL is prepended to the forwarded path.
	Targets []string `yaml:"targets" json:"targets"`

	// Balancing is "round_robin" or "least_requests". Default: "round_robin".
	Balancing string `yaml:"balancing" json:"balancing,omitempty"`

	// TLS configures connections to https targets.
	TLS *UpstreamTLS `yaml:"tls" json:"tls,omitempty"`

	// Timeouts bound each upstream exchange.
	Timeouts UpstreamTimeouts `yaml:"timeouts" json:"timeouts,omitempty"`

	// Retries controls retries of idempotent requests.
	Retries Retries `yaml:"retries" json:"retries,omitempty"`

	// MaxInFlight is the largest number of concurrent requests to this
	// upstream; more get 503. 0 means no limit.
	MaxInFlight int `yaml:"max_in_flight" json:"max_in_flight,omitempty"`

	// MaxIdleConns is the number of idle keep-alive connections kept per
	// target. Default: 256.
	MaxIdleConns int `yaml:"max_idle_conns" json:"max_idle_conns,omitempty"`

	// HealthCheck configures passive and active health checks.
	HealthCheck HealthCheck `yaml:"health_check" json:"health_check,omitempty"`
}

// UpstreamTLS is the client side of TLS towards targets.
type UpstreamTLS struct {
	// CAFile is a PEM bundle that verifies target certificates. Default:
	// the system roots.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
	// CertFile and KeyFile are a client certificate for mutual TLS.
	CertFile string `yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file" json:"key_file,omitempty"`
	// ServerName overrides the name checked in the target certificate.
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
}

// UpstreamTimeouts bound one upstream exchange.
type UpstreamTimeouts struct {
	// Connect is the time allowed to open a connection (TCP and TLS).
	// Default: 5s.
	Connect Duration `yaml:"connect" json:"connect,omitempty"`
	// ResponseHeader is the time allowed from the end of the request to the
	// response headers. Default: 30s.
	ResponseHeader Duration `yaml:"response_header" json:"response_header,omitempty"`
	// Total is the time allowed for the whole exchange, retries and body
	// included. Default: 60s.
	Total Duration `yaml:"total" json:"total,omitempty"`
}

// Retries controls how failed idempotent requests are retried on another
// target. Only GET, HEAD, OPTIONS, TRACE, PUT and DELETE without a body,
// and only failures where no response byte was received, are retried.
type Retries struct {
	// Attempts is the number of retries after the first try. Default: 1.
	Attempts *int `yaml:"attempts" json:"attempts,omitempty"`
	// Backoff is the wait before the first retry; it doubles on each
	// further one, with jitter. Default: 25ms.
	Backoff Duration `yaml:"backoff" json:"backoff,omitempty"`
	// BudgetPercent caps retries at this share of recent requests to the
	// upstream, so retries cannot multiply load on a failing service.
	// Default: 20.
	BudgetPercent *int `yaml:"budget_percent" json:"budget_percent,omitempty"`
}

// HealthCheck configures how targets are taken out of and back into use.
type HealthCheck struct {
	// Passive ejects a target after consecutive failures seen on real
	// traffic. On by default.
	Passive PassiveHealth `yaml:"passive" json:"passive,omitempty"`
	// Active probes targets on a schedule. Off unless a path is set.
	Active ActiveHealth `yaml:"active" json:"active,omitempty"`
}

// PassiveHealth is a per-target circuit breaker.
type PassiveHealth struct {
	// MaxFailures is the number of consecutive connection failures, timeouts
	// or 5xx responses that eject a target. Default: 5. Set -1 to disable.
	MaxFailures int `yaml:"max_failures" json:"max_failures,omitempty"`
	// Cooldown is how long an ejected target stays out before one trial
	// request is let through. Default: 10s.
	Cooldown Duration `yaml:"cooldown" json:"cooldown,omitempty"`
}

// ActiveHealth probes each target with a GET.
type ActiveHealth struct {
	// Path is the probe path, such as "/healthz". Empty disables probing.
	Path string `yaml:"path" json:"path,omitempty"`
	// Interval between probes of one target. Default: 10s.
	Interval Duration `yaml:"interval" json:"interval,omitempty"`
	// Timeout of one probe. Default: 2s.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// ExpectedStatus is the status a healthy target returns. Default: 200.
	ExpectedStatus int `yaml:"expected_status" json:"expected_status,omitempty"`
	// HealthyAfter and UnhealthyAfter are the numbers of consecutive probe
	// results that change a target's state. Defaults: 2 and 3.
	HealthyAfter   int `yaml:"healthy_after" json:"healthy_after,omitempty"`
	UnhealthyAfter int `yaml:"unhealthy_after" json:"unhealthy_after,omitempty"`
}

// Events configures the security event stream.
type Events struct {
	// Output is "stdout", "stderr", "file" or "off". Default: "stdout".
	Output string `yaml:"output" json:"output,omitempty"`
	// File is the path of the JSON lines file when output is "file".
	File string `yaml:"file" json:"file,omitempty"`
	// QueueSize is the number of events buffered in memory between the
	// request path and the writer. When it is full, events are dropped and
	// counted. Default: 16384.
	QueueSize int `yaml:"queue_size" json:"queue_size,omitempty"`
	// RedactHeaders are request and response headers whose values never
	// appear in events, in addition to Authorization, Proxy-Authorization,
	// Cookie, Set-Cookie and X-API-Key.
	RedactHeaders []string `yaml:"redact_headers" json:"redact_headers,omitempty"`
}

// Store configures the state store.
type Store struct {
	// Driver is "sqlite" or "postgres". Default: "sqlite".
	Driver string `yaml:"driver" json:"driver,omitempty"`
	// Path is the SQLite database file. Default: "<data_dir>/warden.db".
	Path string `yaml:"path" json:"path,omitempty"`
	// DSN is the PostgreSQL connection string, such as
	// "postgres://warden@127.0.0.1:5432/warden". Read from the environment
	// variable WARDEN_STORE_DSN when empty.
	DSN secret.Value `yaml:"dsn" json:"dsn,omitempty"`
}
