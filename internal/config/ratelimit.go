package config

// RateLimit configures the limiter backend and the limits shared by routes.
type RateLimit struct {
	// Backend is "memory" (one node) or "redis" (shared by all nodes).
	// Default: "memory".
	Backend string `yaml:"backend" json:"backend,omitempty"`
	// Redis is the shared backend's server.
	Redis Redis `yaml:"redis" json:"redis,omitempty"`
	// FailMode is what happens when the Redis backend is unreachable:
	// "open" (fall back to a local limiter on this node) or "closed"
	// (respond 503). Default: "open".
	FailMode string `yaml:"fail_mode" json:"fail_mode,omitempty"`
	// Headers adds RateLimit-Policy and RateLimit response headers on
	// limited routes. Default: true.
	Headers *bool `yaml:"headers" json:"headers,omitempty"`
	// IPv6Prefix is the prefix length by which IPv6 client addresses are
	// grouped for per-IP limits. Default: 64.
	IPv6Prefix int `yaml:"ipv6_prefix" json:"ipv6_prefix,omitempty"`
	// TimeZone is the IANA zone in which daily and monthly quotas reset.
	// Default: "UTC".
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
	// Plans are named sets of limits and quotas that consumers refer to by
	// their plan.
	Plans map[string]Plan `yaml:"plans" json:"plans,omitempty"`
	// BruteForce slows down repeated failed authentications.
	BruteForce BruteForce `yaml:"brute_force" json:"brute_force,omitempty"`
	// Overload caps concurrent requests on the whole gateway.
	Overload Overload `yaml:"overload" json:"overload,omitempty"`
}

// Redis is a Redis server address.
type Redis struct {
	// Address is host:port. Default: "127.0.0.1:6379".
	Address string `yaml:"address" json:"address,omitempty"`
	// DB is the database number. Default: 0.
	DB int `yaml:"db" json:"db,omitempty"`
	// PasswordFile holds the Redis password, if any.
	PasswordFile string `yaml:"password_file" json:"password_file,omitempty"`
	// KeyPrefix is prepended to every key Warden writes. Default: "warden:".
	KeyPrefix string `yaml:"key_prefix" json:"key_prefix,omitempty"`
	// Timeout of one Redis call. Default: 50ms.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
}

// Plan is a named bundle of limits and quotas.
type Plan struct {
	// Limits apply per consumer on every route with rate_limit.plan set.
	Limits []Limit `yaml:"limits" json:"limits,omitempty"`
	// Quotas apply per consumer on every route with rate_limit.plan set.
	Quotas []Quota `yaml:"quotas" json:"quotas,omitempty"`
}

// Limit is one rate with a burst, over one key.
type Limit struct {
	// Name identifies the limit in headers and events. Default: derived
	// from key, rate and period.
	Name string `yaml:"name" json:"name,omitempty"`
	// Key is the identity the limit counts per: "consumer", "credential", "ip",
	// "route", or a combination joined with "+", such as "route+consumer".
	// Default: "consumer".
	Key string `yaml:"key" json:"key,omitempty"`
	// Rate is the number of requests allowed per period. Required.
	Rate int64 `yaml:"rate" json:"rate"`
	// Period is the window the rate is measured over. Default: 1s.
	Period Duration `yaml:"period" json:"period,omitempty"`
	// Burst is how many requests may arrive at once after a quiet period.
	// Default: the rate.
	Burst int64 `yaml:"burst" json:"burst,omitempty"`
}

// Quota is a request or byte allowance that resets on calendar boundaries.
type Quota struct {
	// Name identifies the quota in events and usage reports.
	Name string `yaml:"name" json:"name,omitempty"`
	// Period is "day" or "month". Required.
	Period string `yaml:"period" json:"period"`
	// Requests allowed per period. 0: not counted.
	Requests int64 `yaml:"requests" json:"requests,omitempty"`
	// ResponseBytes allowed per period. 0: not counted.
	ResponseBytes ByteSize `yaml:"response_bytes" json:"response_bytes,omitempty"`
}

// BruteForce locks out sources of repeated authentication failures.
type BruteForce struct {
	// MaxFailures within Window that start a lockout. 0 disables the
	// protection. Default: 10.
	MaxFailures *int `yaml:"max_failures" json:"max_failures,omitempty"`
	// Window over which failures are counted. Default: 5m.
	Window Duration `yaml:"window" json:"window,omitempty"`
	// Cooldown is the first lockout; it doubles for each further lockout
	// of the same source, up to MaxCooldown. Default: 1m.
	Cooldown Duration `yaml:"cooldown" json:"cooldown,omitempty"`
	// MaxCooldown caps the lockout. Default: 1h.
	MaxCooldown Duration `yaml:"max_cooldown" json:"max_cooldown,omitempty"`
}

// Overload is gateway-wide admission control.
type Overload struct {
	// MaxInFlight is the largest number of concurrent requests on the whole
	// gateway. 0 means no limit.
	MaxInFlight int `yaml:"max_in_flight" json:"max_in_flight,omitempty"`
	// QueueSize is how many requests may wait for a slot. Default: 0.
	QueueSize int `yaml:"queue_size" json:"queue_size,omitempty"`
	// QueueTimeout is how long a queued request waits before it gets 503.
	// Default: 100ms.
	QueueTimeout Duration `yaml:"queue_timeout" json:"queue_timeout,omitempty"`
}

// RouteRateLimit puts limits on one route.
type RouteRateLimit struct {
	// Limits apply to this route.
	Limits []Limit `yaml:"limits" json:"limits,omitempty"`
	// Quotas apply to this route.
	Quotas []Quota `yaml:"quotas" json:"quotas,omitempty"`
	// Plan applies the limits of the consumer's plan here as well.
	// Default: true when the route has auth.
	Plan *bool `yaml:"plan" json:"plan,omitempty"`
}
