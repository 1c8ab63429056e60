package config

import (
	"os"
	"path/filepath"
	"time"

	"github.com/warden-api/warden/internal/secret"
)

// Defaults for fields left empty. The doc comments of the fields repeat
// them for users.
const (
	DefaultAdminAddress    = "127.0.0.1:9901"
	DefaultRequestIDHeader = "X-Request-Id"
	DefaultMaxHeaderBytes  = 64 << 10
	DefaultMaxConnections  = 10000
	DefaultMaxPathBytes    = 8 << 10
	DefaultMaxBodyBytes    = 10 << 20
	DefaultEventQueueSize  = 16384
	DefaultDataDir         = "warden-data"
)

func boolPtr(b bool) *bool { return &b }
func intPtr(i int) *int    { return &i }

func setDuration(d *Duration, v time.Duration) {
	if *d == 0 {
		*d = Duration(v)
	}
}

func (c *Config) setDefaults() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	for i := range c.Listeners {
		l := &c.Listeners[i]
		if l.Name == "" {
			l.Name = l.Address
		}
		setDuration(&l.Timeouts.ReadHeader, 5*time.Second)
		setDuration(&l.Timeouts.Read, 60*time.Second)
		setDuration(&l.Timeouts.Write, 120*time.Second)
		setDuration(&l.Timeouts.Idle, 120*time.Second)
		if l.MaxHeaderBytes == 0 {
			l.MaxHeaderBytes = DefaultMaxHeaderBytes
		}
		if l.MaxConnections == 0 {
			l.MaxConnections = DefaultMaxConnections
		}
		if l.TLS != nil {
			if l.TLS.MinVersion == "" {
				l.TLS.MinVersion = "1.2"
			}
			if l.TLS.ClientCAFile != "" && l.TLS.ClientAuth == "" {
				l.TLS.ClientAuth = "request"
			}
		}
	}
	if c.Admin.Address == "" {
		c.Admin.Address = DefaultAdminAddress
	}

	g := &c.Gateway
	if g.ForwardedHeader == "" {
		g.ForwardedHeader = "x-forwarded-for"
	}
	if g.RequestIDHeader == "" {
		g.RequestIDHeader = DefaultRequestIDHeader
	}
	if g.RemoveResponseHeaders == nil {
		g.RemoveResponseHeaders = &[]string{"Server", "X-Powered-By"}
	}
	if g.SecurityHeaders.HSTS == nil {
		g.SecurityHeaders.HSTS = boolPtr(true)
	}
	setDuration(&g.SecurityHeaders.HSTSMaxAge, 365*24*time.Hour)
	if g.SecurityHeaders.NoSniff == nil {
		g.SecurityHeaders.NoSniff = boolPtr(true)
	}
	if g.MaxPathBytes == 0 {
		g.MaxPathBytes = DefaultMaxPathBytes
	}
	if g.MaxBodyBytes == 0 {
		g.MaxBodyBytes = DefaultMaxBodyBytes
	}
	setDuration(&g.ShutdownTimeout, 30*time.Second)
	if g.WatchConfig == nil {
		g.WatchConfig = boolPtr(true)
	}

	for i := range c.Routes {
		r := &c.Routes[i]
		if r.MaxBodyBytes == 0 {
			r.MaxBodyBytes = g.MaxBodyBytes
		}
	}
	for i := range c.Upstreams {
		c.Upstreams[i].setDefaults()
	}

	if c.Events.Output == "" {
		c.Events.Output = "stdout"
	}
	if c.Events.QueueSize == 0 {
		c.Events.QueueSize = DefaultEventQueueSize
	}

	if c.Store.Driver == "" {
		c.Store.Driver = "sqlite"
	}
	if c.Store.Driver == "postgres" && c.Store.DSN.IsZero() {
		c.Store.DSN = secret.New(os.Getenv("WARDEN_STORE_DSN"))
	}

	c.Authn.setDefaults()
	c.RateLimit.setDefaults()
}

func (u *Upstream) setDefaults() {
	if u.Balancing == "" {
		u.Balancing = "round_robin"
	}
	setDuration(&u.Timeouts.Connect, 5*time.Second)
	setDuration(&u.Timeouts.ResponseHeader, 30*time.Second)
	setDuration(&u.Timeouts.Total, 60*time.Second)
	if u.Retries.Attempts == nil {
		u.Retries.Attempts = intPtr(1)
	}
	setDuration(&u.Retries.Backoff, 25*time.Millisecond)
	if u.Retries.BudgetPercent == nil {
		u.Retries.BudgetPercent = intPtr(20)
	}
	if u.MaxIdleConns == 0 {
		u.MaxIdleConns = 256
	}
	p := &u.HealthCheck.Passive
	if p.MaxFailures == 0 {
		p.MaxFailures = 5
	}
	setDuration(&p.Cooldown, 10*time.Second)
	a := &u.HealthCheck.Active
	setDuration(&a.Interval, 10*time.Second)
	setDuration(&a.Timeout, 2*time.Second)
	if a.ExpectedStatus == 0 {
		a.ExpectedStatus = 200
	}
	if a.HealthyAfter == 0 {
		a.HealthyAfter = 2
	}
	if a.UnhealthyAfter == 0 {
		a.UnhealthyAfter = 3
	}
}

func (a *Authn) setDefaults() {
	if len(a.APIKeys.Headers) == 0 {
		a.APIKeys.Headers = []string{"Authorization", "X-API-Key"}
	}
	if a.APIKeys.QueryParam == "" {
		a.APIKeys.QueryParam = "api_key"
	}
	for i := range a.JWT {
		j := &a.JWT[i]
		if len(j.Algorithms) == 0 {
			j.Algorithms = []string{"RS256", "ES256"}
		}
		setDuration(&j.JWKSRefresh, 10*time.Minute)
		setDuration(&j.JWKSMinRefresh, 30*time.Second)
		setDuration(&j.Leeway, 30*time.Second)
		if j.ConsumerClaim == "" {
			j.ConsumerClaim = "sub"
		}
		if j.RolesClaim == "" {
			j.RolesClaim = "roles"
		}
	}
	for i := range a.Introspection {
		in := &a.Introspection[i]
		setDuration(&in.CacheTTL, 60*time.Second)
		setDuration(&in.NegativeCacheTTL, 5*time.Second)
		setDuration(&in.Timeout, 5*time.Second)
	}
	if a.MTLS.ConsumerFrom == "" {
		a.MTLS.ConsumerFrom = "subject_cn"
	}
}

func (r *RateLimit) setDefaults() {
	if r.Backend == "" {
		r.Backend = "memory"
	}
	if r.FailMode == "" {
		r.FailMode = "open"
	}
	if r.Headers == nil {
		r.Headers = boolPtr(true)
	}
	if r.IPv6Prefix == 0 {
		r.IPv6Prefix = 64
	}
	if r.TimeZone == "" {
		r.TimeZone = "UTC"
	}
	if r.Redis.Address == "" {
		r.Redis.Address = "127.0.0.1:6379"
	}
	if r.Redis.KeyPrefix == "" {
		r.Redis.KeyPrefix = "warden:"
	}
	setDuration(&r.Redis.Timeout, 50*time.Millisecond)
	b := &r.BruteForce
	if b.MaxFailures == nil {
		b.MaxFailures = intPtr(10)
	}
	setDuration(&b.Window, 5*time.Minute)
	setDuration(&b.Cooldown, time.Minute)
	setDuration(&b.MaxCooldown, time.Hour)
	setDuration(&r.Overload.QueueTimeout, 100*time.Millisecond)
}

// resolvePaths makes relative file paths relative to dir, the directory of
// the config file, so a config works from any working directory.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.DataDir)
	for i := range c.Listeners {
		if t := c.Listeners[i].TLS; t != nil {
			abs(&t.CertFile)
			abs(&t.KeyFile)
			abs(&t.ClientCAFile)
		}
	}
	abs(&c.Admin.BootstrapTokenFile)
	for i := range c.Upstreams {
		if t := c.Upstreams[i].TLS; t != nil {
			abs(&t.CAFile)
			abs(&t.CertFile)
			abs(&t.KeyFile)
		}
	}
	if c.Events.Output == "file" {
		abs(&c.Events.File)
	}
	if c.Store.Path == "" {
		c.Store.Path = filepath.Join(c.DataDir, "warden.db")
	} else {
		abs(&c.Store.Path)
	}
	for i := range c.Authn.JWT {
		abs(&c.Authn.JWT[i].JWKSFile)
		abs(&c.Authn.JWT[i].HMACSecretFile)
	}
	for i := range c.Authn.Introspection {
		abs(&c.Authn.Introspection[i].ClientSecretFile)
	}
	abs(&c.RateLimit.Redis.PasswordFile)
}
