package config

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validate checks what can be checked without building the pipeline.
// Stage constructors check their own sections (path patterns, CEL policies,
// certificate files) when the gateway builds, and their errors pass through
// Locate as well.
func (c *Config) validate() error {
	var es Errors
	if len(c.Listeners) == 0 {
		es.Add("listeners", "at least one listener is required, such as {address: \"127.0.0.1:8080\"}")
	}
	addrs := map[string]string{}
	for i, l := range c.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		checkAddress(&es, p+".address", l.Address)
		if prev, ok := addrs[l.Address]; ok {
			es.Add(p+".address", "address %q is already used by %s", l.Address, prev)
		}
		addrs[l.Address] = p
		if l.TLS != nil {
			l.TLS.validate(&es, p+".tls")
		}
		if l.MaxConnections < 0 {
			es.Add(p+".max_connections", "must be 0 (no limit) or positive, got %d", l.MaxConnections)
		}
	}
	if c.Admin.Address != "off" {
		checkAddress(&es, "admin.address", c.Admin.Address)
		if prev, ok := addrs[c.Admin.Address]; ok {
			es.Add("admin.address", "address %q is already used by %s", c.Admin.Address, prev)
		}
	}
	c.Gateway.validate(&es)

	upstreams := map[string]bool{}
	for i, u := range c.Upstreams {
		p := fmt.Sprintf("upstreams[%d]", i)
		checkName(&es, p+".name", u.Name)
		if upstreams[u.Name] {
			es.Add(p+".name", "duplicate upstream name %q: names must be unique", u.Name)
		}
		upstreams[u.Name] = true
		u.validate(&es, p)
	}

	if len(c.Routes) == 0 {
		es.Add("routes", "at least one route is required")
	}
	routes := map[string]bool{}
	for i, r := range c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		checkName(&es, p+".name", r.Name)
		if routes[r.Name] {
			es.Add(p+".name", "duplicate route name %q: names must be unique", r.Name)
		}
		routes[r.Name] = true
		if r.Upstream == "" {
			es.Add(p+".upstream", "missing upstream: name one of the upstreams")
		} else if !upstreams[r.Upstream] {
			es.Add(p+".upstream", "unknown upstream %q: define it under upstreams or fix the name", r.Upstream)
		}
		if len(r.Paths) == 0 {
			es.Add(p+".paths", "at least one path pattern is required, such as \"/books/{id}\" or \"/static/**\"")
		}
		for j, m := range r.Methods {
			if !validMethod(m) {
				es.Add(fmt.Sprintf("%s.methods[%d]", p, j), "invalid method %q: use an upper-case HTTP method such as GET", m)
			}
		}
		if r.StripPrefix != "" && !strings.HasPrefix(r.StripPrefix, "/") {
			es.Add(p+".strip_prefix", "must start with \"/\", got %q", r.StripPrefix)
		}
		if r.Rewrite != "" && !strings.HasPrefix(r.Rewrite, "/") {
			es.Add(p+".rewrite", "must start with \"/\", got %q", r.Rewrite)
		}
		if r.MaxInFlight < 0 {
			es.Add(p+".max_in_flight", "must be 0 (no limit) or positive, got %d", r.MaxInFlight)
		}
		if r.Auth != nil && len(r.Auth.Methods) == 0 && !r.Auth.Anonymous {
			es.Add(p+".auth.methods", "at least one method is required unless anonymous is true: api_key, jwt, jwt:<issuer>, introspection:<name> or mtls")
		}
	}

	c.Events.validate(&es)
	c.Store.validate(&es)
	return es.Err()
}

func (t *ListenerTLS) validate(es *Errors, p string) {
	if t.CertFile == "" {
		es.Add(p+".cert_file", "missing certificate file (PEM)")
	}
	if t.KeyFile == "" {
		es.Add(p+".key_file", "missing private key file (PEM)")
	}
	if t.MinVersion != "1.2" && t.MinVersion != "1.3" {
		es.Add(p+".min_version", "invalid TLS version %q: use \"1.2\" or \"1.3\"", t.MinVersion)
	}
	switch t.ClientAuth {
	case "", "request", "require":
	default:
		es.Add(p+".client_auth", "invalid value %q: use \"request\" or \"require\"", t.ClientAuth)
	}
	if t.ClientAuth != "" && t.ClientCAFile == "" {
		es.Add(p+".client_ca_file", "client_auth is %q but no client CA file is set", t.ClientAuth)
	}
}

func (g *Gateway) validate(es *Errors) {
	for i, cidr := range g.TrustedProxies {
		if _, _, err := net.ParseCIDR(cidr); err != nil && net.ParseIP(cidr) == nil {
			es.Add(fmt.Sprintf("gateway.trusted_proxies[%d]", i), "invalid CIDR %q: use a network such as \"10.0.0.0/8\" or an address", cidr)
		}
	}
	switch g.ForwardedHeader {
	case "x-forwarded-for", "forwarded", "auto":
	default:
		es.Add("gateway.forwarded_header", "invalid value %q: use \"x-forwarded-for\", \"forwarded\" or \"auto\"", g.ForwardedHeader)
	}
	if !validHeaderName(g.RequestIDHeader) {
		es.Add("gateway.request_id_header", "invalid header name %q", g.RequestIDHeader)
	}
	if g.MaxPathBytes < 64 {
		es.Add("gateway.max_path_bytes", "must be at least 64 bytes, got %d", g.MaxPathBytes)
	}
}

func (u *Upstream) validate(es *Errors, p string) {
	if len(u.Targets) == 0 {
		es.Add(p+".targets", "at least one target URL is required, such as \"http://127.0.0.1:9000\"")
	}
	for j, t := range u.Targets {
		tp := fmt.Sprintf("%s.targets[%d]", p, j)
		parsed, err := url.Parse(t)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			es.Add(tp, "invalid target %q: use an http or https URL with a host, such as \"http://127.0.0.1:9000\"", t)
			continue
		}
		if parsed.RawQuery != "" || parsed.Fragment != "" || parsed.User != nil {
			es.Add(tp, "invalid target %q: a target must not carry a query, fragment or user info", t)
		}
	}
	switch u.Balancing {
	case "round_robin", "least_requests":
	default:
		es.Add(p+".balancing", "invalid value %q: use \"round_robin\" or \"least_requests\"", u.Balancing)
	}
	if *u.Retries.Attempts < 0 || *u.Retries.Attempts > 10 {
		es.Add(p+".retries.attempts", "must be between 0 and 10, got %d", *u.Retries.Attempts)
	}
	if b := *u.Retries.BudgetPercent; b < 0 || b > 100 {
		es.Add(p+".retries.budget_percent", "must be between 0 and 100, got %d", b)
	}
	if a := u.HealthCheck.Active; a.Path != "" && !strings.HasPrefix(a.Path, "/") {
		es.Add(p+".health_check.active.path", "must start with \"/\", got %q", a.Path)
	}
}

func (e *Events) validate(es *Errors) {
	switch e.Output {
	case "stdout", "stderr", "off":
	case "file":
		if e.File == "" {
			es.Add("events.file", "output is \"file\" but no file path is set")
		}
	default:
		es.Add("events.output", "invalid value %q: use \"stdout\", \"stderr\", \"file\" or \"off\"", e.Output)
	}
	if e.QueueSize < 1 {
		es.Add("events.queue_size", "must be positive, got %d", e.QueueSize)
	}
	for i, h := range e.RedactHeaders {
		if !validHeaderName(h) {
			es.Add(fmt.Sprintf("events.redact_headers[%d]", i), "invalid header name %q", h)
		}
	}
}

func (s *Store) validate(es *Errors) {
	switch s.Driver {
	case "sqlite":
	case "postgres":
		if s.DSN.IsZero() {
			es.Add("store.dsn", "driver is \"postgres\" but no DSN is set: set store.dsn or WARDEN_STORE_DSN")
		}
	default:
		es.Add("store.driver", "invalid value %q: use \"sqlite\" or \"postgres\"", s.Driver)
	}
}

func checkAddress(es *Errors, path, addr string) {
	if addr == "" {
		es.Add(path, "missing address: use host:port, such as \"127.0.0.1:8080\" or \":8080\"")
		return
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		es.Add(path, "invalid address %q: use host:port, such as \"127.0.0.1:8080\" or \":8080\"", addr)
	}
}

func checkName(es *Errors, path, name string) {
	if name == "" {
		es.Add(path, "missing name")
	} else if !nameRE.MatchString(name) {
		es.Add(path, "invalid name %q: use letters, digits, '.', '_' and '-', at most 64 characters", name)
	}
}

var methods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodTrace, http.MethodConnect,
}

func validMethod(m string) bool { return slices.Contains(methods, m) }

func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
