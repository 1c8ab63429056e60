package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/warden-api/warden/internal/config"
)

// keyPart is one thing a limit counts per.
type keyPart uint8

const (
	partRoute keyPart = 1 << iota
	partConsumer
	partCredential
	partIP
)

// partNames lists the key parts in the order in which they appear in keys
// and in key_kind attributes.
var partNames = []struct {
	part keyPart
	name string
}{
	{partRoute, "route"},
	{partConsumer, "consumer"},
	{partCredential, "credential"},
	{partIP, "ip"},
}

// kindNames holds kindName of every combination of parts, so that the
// request path does not build the string.
var kindNames = func() (names [16]string) {
	for parts := range names {
		names[parts] = buildKindName(keyPart(parts))
	}
	return names
}()

// kindName returns the normalized key kind, such as "route+consumer".
func kindName(parts keyPart) string { return kindNames[parts&15] }

func buildKindName(parts keyPart) string {
	var names []string
	for _, p := range partNames {
		if parts&p.part != 0 {
			names = append(names, p.name)
		}
	}
	return strings.Join(names, "+")
}

// parseKey parses a limit key such as "route+consumer".
func parseKey(key string) (keyPart, error) {
	var parts keyPart
	for _, name := range strings.Split(key, "+") {
		found := false
		for _, p := range partNames {
			if name == p.name {
				if parts&p.part != 0 {
					return 0, fmt.Errorf("invalid key %q: %q appears twice", key, name)
				}
				parts |= p.part
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("invalid key %q: %q is not one of consumer, credential, ip, route (join several with \"+\")", key, name)
		}
	}
	return parts, nil
}

// maxNameLen bounds limit and quota names, which appear in headers and keys.
const maxNameLen = 64

// validName reports whether s may name a limit or quota. The characters
// allowed need no escaping in a structured-field string, a Redis key or a
// metadata key.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '-' || c == '.' || c == '+':
		default:
			return false
		}
	}
	return true
}

// Bounds of a rule. The emission interval must be at least one microsecond
// because the Redis backend counts in microseconds, and Burst*Interval must
// stay far below 2^53 microseconds, where Lua's doubles stop being exact.
const (
	minInterval  = time.Microsecond
	maxBurstSpan = 100 * 365 * 24 * time.Hour
)

// limitSpec is a validated limit.
type limitSpec struct {
	name  string
	parts keyPart
	kind  string
	rule  Rule
	// scope keeps the keys of different routes and plans apart.
	scope string
	// Metadata keys that override the rule for one consumer.
	rateKey, burstKey, periodKey string
}

// compileLimit validates l and fills in its defaults. Errors go to errs
// under path.
func compileLimit(l config.Limit, scope, path string, errs *config.Errors) limitSpec {
	key := l.Key
	if key == "" {
		key = "consumer"
	}
	parts, err := parseKey(key)
	if err != nil {
		errs.Add(path+".key", "%v", err)
	}
	period := l.Period.D()
	if period == 0 {
		period = time.Second
	}
	burst := l.Burst
	if burst == 0 {
		burst = l.Rate
	}

	switch {
	case l.Rate <= 0:
		errs.Add(path+".rate", "rate is required and must be at least 1, got %d", l.Rate)
	case period/time.Duration(l.Rate) < minInterval:
		errs.Add(path+".rate", "rate %d per %s is too high: allow at most one request per microsecond", l.Rate, period)
	}
	if burst < 0 {
		errs.Add(path+".burst", "burst must be at least 1, got %d", burst)
	} else if interval := period / time.Duration(max(l.Rate, 1)); interval >= minInterval && time.Duration(burst) > maxBurstSpan/interval {
		errs.Add(path+".burst", "burst %d takes longer than 100 years to refill at %d per %s; lower it", burst, l.Rate, period)
	}

	name := l.Name
	if name == "" {
		name = strings.ReplaceAll(key, "+", "-") + "-" + strconv.FormatInt(l.Rate, 10) + "-per-" + period.String()
	}
	if !validName(name) {
		errs.Add(path+".name", "invalid name %q: use at most %d letters, digits, '_', '-', '.' or '+'", name, maxNameLen)
	}
	return limitSpec{
		name:      name,
		parts:     parts,
		kind:      kindName(parts),
		rule:      Rule{Rate: l.Rate, Period: period, Burst: burst},
		scope:     scope,
		rateKey:   "ratelimit." + name + ".rate",
		burstKey:  "ratelimit." + name + ".burst",
		periodKey: "ratelimit." + name + ".period",
	}
}

// compileLimits validates a list of limits whose names must be unique.
func compileLimits(ls []config.Limit, scope, path string, errs *config.Errors) []limitSpec {
	specs := make([]limitSpec, 0, len(ls))
	seen := make(map[string]int, len(ls))
	for i, l := range ls {
		p := fmt.Sprintf("%s[%d]", path, i)
		s := compileLimit(l, scope, p, errs)
		if j, dup := seen[s.name]; dup {
			errs.Add(p+".name", "duplicate limit name %q, also used by %s[%d]; give each limit its own name", s.name, path, j)
		}
		seen[s.name] = i
		specs = append(specs, s)
	}
	return specs
}
