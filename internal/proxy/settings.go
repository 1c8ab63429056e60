package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/warden-api/warden/internal/config"
)

// Defaults for zero config fields, as documented in internal/config. The
// config loader fills the same values; they are repeated here so that an
// Upstream built from an in-memory config behaves the same.
const (
	defaultConnectTimeout  = 5 * time.Second
	defaultHeaderTimeout   = 30 * time.Second
	defaultTotalTimeout    = 60 * time.Second
	defaultRetryAttempts   = 1
	defaultRetryBackoff    = 25 * time.Millisecond
	defaultBudgetPercent   = 20
	defaultMaxIdleConns    = 256
	defaultMaxFailures     = 5
	defaultCooldown        = 10 * time.Second
	defaultProbeInterval   = 10 * time.Second
	defaultProbeTimeout    = 2 * time.Second
	defaultExpectedStatus  = 200
	defaultHealthyAfter    = 2
	defaultUnhealthyAfter  = 3
	defaultIdleConnTimeout = 90 * time.Second

	// maxResponseHeaderBytes bounds the status line and header section of
	// an upstream response. Larger responses fail with 502.
	maxResponseHeaderBytes = 64 << 10
)

// timeouts are UpstreamTimeouts with the defaults applied.
type timeouts struct {
	connect, responseHeader, total time.Duration
}

// retryPolicy is Retries with the defaults applied.
type retryPolicy struct {
	attempts      int
	backoff       time.Duration
	budgetPercent int
}

// passivePolicy configures the per-target circuit breaker. maxFailures 0
// disables it.
type passivePolicy struct {
	maxFailures int
	cooldown    time.Duration
}

// activePolicy configures active probes. An empty path disables them.
type activePolicy struct {
	path           string
	interval       time.Duration
	timeout        time.Duration
	expectedStatus int
	healthyAfter   int
	unhealthyAfter int
}

// settings is an upstream's config with every default applied.
type settings struct {
	name         string
	balancing    string
	timeouts     timeouts
	retries      retryPolicy
	maxInFlight  int
	maxIdleConns int
	passive      passivePolicy
	active       activePolicy
}

// parseSettings validates cfg and applies defaults. Errors carry field
// paths below prefix, such as "upstreams[0].targets[1]".
func parseSettings(cfg config.Upstream, prefix string, errs *config.Errors) settings {
	s := settings{
		name:         cfg.Name,
		balancing:    cfg.Balancing,
		timeouts:     mergeTimeouts(timeouts{}, cfg.Timeouts),
		retries:      mergeRetries(defaultRetries, cfg.Retries),
		maxInFlight:  cfg.MaxInFlight,
		maxIdleConns: orInt(cfg.MaxIdleConns, defaultMaxIdleConns),
	}
	if s.name == "" {
		errs.Add(join(prefix, "name"), "missing upstream name")
	}
	switch s.balancing {
	case "":
		s.balancing = "round_robin"
	case "round_robin", "least_requests":
	default:
		errs.Add(join(prefix, "balancing"), "invalid balancing %q: use \"round_robin\" or \"least_requests\"", s.balancing)
	}
	checkTimeouts(cfg.Timeouts, join(prefix, "timeouts"), errs)
	checkRetries(cfg.Retries, join(prefix, "retries"), errs)
	if cfg.MaxInFlight < 0 {
		errs.Add(join(prefix, "max_in_flight"), "invalid value %d: use 0 for no limit or a positive number", cfg.MaxInFlight)
	}
	if cfg.MaxIdleConns < 0 {
		errs.Add(join(prefix, "max_idle_conns"), "invalid value %d: must not be negative", cfg.MaxIdleConns)
	}
	s.passive = parsePassive(cfg.HealthCheck.Passive, join(prefix, "health_check.passive"), errs)
	s.active = parseActive(cfg.HealthCheck.Active, join(prefix, "health_check.active"), errs)
	return s
}

// mergeTimeouts returns base with the non-zero fields of over applied,
// and defaults for what is still zero.
func mergeTimeouts(base timeouts, over config.UpstreamTimeouts) timeouts {
	if over.Connect > 0 {
		base.connect = over.Connect.D()
	}
	if over.ResponseHeader > 0 {
		base.responseHeader = over.ResponseHeader.D()
	}
	if over.Total > 0 {
		base.total = over.Total.D()
	}
	base.connect = orDuration(base.connect, defaultConnectTimeout)
	base.responseHeader = orDuration(base.responseHeader, defaultHeaderTimeout)
	base.total = orDuration(base.total, defaultTotalTimeout)
	return base
}

// defaultRetries is the retry policy of an upstream without retry settings.
var defaultRetries = retryPolicy{attempts: defaultRetryAttempts, backoff: defaultRetryBackoff, budgetPercent: defaultBudgetPercent}

// mergeRetries returns base with the set fields of over applied. Values
// out of range count as unset, so that a route config that slipped past
// validation cannot turn the budget off.
func mergeRetries(base retryPolicy, over config.Retries) retryPolicy {
	if over.Attempts != nil && *over.Attempts >= 0 {
		base.attempts = *over.Attempts
	}
	if over.Backoff > 0 {
		base.backoff = over.Backoff.D()
	}
	if over.BudgetPercent != nil && *over.BudgetPercent >= 0 && *over.BudgetPercent <= 100 {
		base.budgetPercent = *over.BudgetPercent
	}
	return base
}

func checkTimeouts(t config.UpstreamTimeouts, prefix string, errs *config.Errors) {
	for _, f := range []struct {
		name string
		d    config.Duration
	}{{"connect", t.Connect}, {"response_header", t.ResponseHeader}, {"total", t.Total}} {
		if f.d < 0 {
			errs.Add(join(prefix, f.name), "invalid duration %s: must not be negative", f.d.D())
		}
	}
}

func checkRetries(r config.Retries, prefix string, errs *config.Errors) {
	if r.Attempts != nil && *r.Attempts < 0 {
		errs.Add(join(prefix, "attempts"), "invalid value %d: use 0 to disable retries or a positive number", *r.Attempts)
	}
	if r.Backoff < 0 {
		errs.Add(join(prefix, "backoff"), "invalid duration %s: must not be negative", r.Backoff.D())
	}
	if r.BudgetPercent != nil && (*r.BudgetPercent < 0 || *r.BudgetPercent > 100) {
		errs.Add(join(prefix, "budget_percent"), "invalid value %d: use a percentage from 0 to 100", *r.BudgetPercent)
	}
}

func parsePassive(p config.PassiveHealth, prefix string, errs *config.Errors) passivePolicy {
	out := passivePolicy{maxFailures: p.MaxFailures, cooldown: orDuration(p.Cooldown.D(), defaultCooldown)}
	switch {
	case p.MaxFailures == -1:
		out.maxFailures = 0
	case p.MaxFailures == 0:
		out.maxFailures = defaultMaxFailures
	case p.MaxFailures < -1:
		errs.Add(join(prefix, "max_failures"), "invalid value %d: use -1 to disable ejection or a positive number", p.MaxFailures)
	}
	if p.Cooldown < 0 {
		errs.Add(join(prefix, "cooldown"), "invalid duration %s: must not be negative", p.Cooldown.D())
	}
	return out
}

func parseActive(a config.ActiveHealth, prefix string, errs *config.Errors) activePolicy {
	out := activePolicy{
		path:           a.Path,
		interval:       orDuration(a.Interval.D(), defaultProbeInterval),
		timeout:        orDuration(a.Timeout.D(), defaultProbeTimeout),
		expectedStatus: orInt(a.ExpectedStatus, defaultExpectedStatus),
		healthyAfter:   orInt(a.HealthyAfter, defaultHealthyAfter),
		unhealthyAfter: orInt(a.UnhealthyAfter, defaultUnhealthyAfter),
	}
	if a.Path != "" && !strings.HasPrefix(a.Path, "/") {
		errs.Add(join(prefix, "path"), "invalid probe path %q: must start with \"/\"", a.Path)
	}
	if a.ExpectedStatus != 0 && (a.ExpectedStatus < 100 || a.ExpectedStatus > 599) {
		errs.Add(join(prefix, "expected_status"), "invalid status %d: use an HTTP status from 100 to 599", a.ExpectedStatus)
	}
	if a.HealthyAfter < 0 {
		errs.Add(join(prefix, "healthy_after"), "invalid value %d: must not be negative", a.HealthyAfter)
	}
	if a.UnhealthyAfter < 0 {
		errs.Add(join(prefix, "unhealthy_after"), "invalid value %d: must not be negative", a.UnhealthyAfter)
	}
	if a.Interval < 0 || a.Timeout < 0 {
		errs.Add(prefix, "invalid interval or timeout: durations must not be negative")
	}
	return out
}

// parseTarget checks one target URL: http or https, a host, no user info,
// query or fragment. A path becomes the prefix of every forwarded path.
func parseTarget(raw, path string, errs *config.Errors) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		errs.Add(path, "invalid target URL %q: use a URL such as \"http://127.0.0.1:9000\"", raw)
		return nil
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		errs.Add(path, "invalid target URL %q: the scheme must be http or https", raw)
	case u.Host == "" || u.Hostname() == "":
		errs.Add(path, "invalid target URL %q: missing host", raw)
	case u.User != nil:
		errs.Add(path, "invalid target URL %q: user info is not supported; send credentials in headers", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		errs.Add(path, "invalid target URL %q: a query or fragment is not allowed", raw)
	default:
		return u
	}
	return nil
}

// loadTLS builds the client TLS config for https targets. Every file error
// names the file and the field.
func loadTLS(c *config.UpstreamTLS, prefix string, errs *config.Errors) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c == nil {
		return cfg
	}
	cfg.ServerName = c.ServerName
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		switch {
		case err != nil:
			errs.Add(join(prefix, "ca_file"), "reading CA file %q: %v", c.CAFile, err)
		default:
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				errs.Add(join(prefix, "ca_file"), "CA file %q contains no PEM certificate", c.CAFile)
			}
			cfg.RootCAs = pool
		}
	}
	switch {
	case c.CertFile == "" && c.KeyFile == "":
	case c.CertFile == "" || c.KeyFile == "":
		errs.Add(prefix, "incomplete client certificate: set both cert_file and key_file")
	default:
		pair, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			errs.Add(join(prefix, "cert_file"), "loading client certificate %q with key %q: %v", c.CertFile, c.KeyFile, err)
		} else {
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	return cfg
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDuration(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// targetFieldPath returns the config path of target i, such as
// "upstreams[0].targets[1]".
func targetFieldPath(prefix string, i int) string {
	return fmt.Sprintf("%s[%d]", join(prefix, "targets"), i)
}
