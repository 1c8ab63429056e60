package ratelimit

import (
	"fmt"
	"time"

	"github.com/warden-api/warden/internal/config"
)

// quotaSpec is a validated quota.
type quotaSpec struct {
	name string
	// stored is the quota's name in the store: the name for plan quotas,
	// "<route>/<name>" for route quotas.
	stored   string
	route    string
	period   string
	requests int64
	bytes    int64
	// Metadata keys that override the allowance for one consumer.
	requestsKey, bytesKey string
}

func compileQuotas(qs []config.Quota, route, path string, errs *config.Errors) []quotaSpec {
	specs := make([]quotaSpec, 0, len(qs))
	seen := make(map[string]int, len(qs))
	for i, q := range qs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if q.Period != PeriodDay && q.Period != PeriodMonth {
			errs.Add(p+".period", "invalid period %q: use \"day\" or \"month\"", q.Period)
		}
		if q.Requests < 0 {
			errs.Add(p+".requests", "requests must not be negative, got %d", q.Requests)
		}
		if q.Requests == 0 && q.ResponseBytes == 0 {
			errs.Add(p, "quota counts nothing: set requests, response_bytes or both")
		}
		name := q.Name
		if name == "" {
			name = q.Period
		}
		if !validName(name) {
			errs.Add(p+".name", "invalid name %q: use at most %d letters, digits, '_', '-', '.' or '+'", name, maxNameLen)
		}
		if j, dup := seen[name]; dup {
			errs.Add(p+".name", "duplicate quota name %q, also used by %s[%d]; give each quota its own name", name, path, j)
		}
		seen[name] = i
		stored := name
		if route != "" {
			stored = route + "/" + name
		}
		specs = append(specs, quotaSpec{
			name:        name,
			stored:      stored,
			route:       route,
			period:      q.Period,
			requests:    q.Requests,
			bytes:       int64(q.ResponseBytes),
			requestsKey: "quota." + name + ".requests",
			bytesKey:    "quota." + name + ".response_bytes",
		})
	}
	return specs
}

// quotaRef is a quota as it applies to one consumer now.
type quotaRef struct {
	spec     *quotaSpec
	requests int64
	bytes    int64
	start    time.Time
	end      time.Time
	counter  *quotaCounter
	// usedRequests and usedBytes are the usage seen by the last check.
	usedRequests int64
	usedBytes    int64
}

// QuotaStatus is a consumer's use of one quota in the current period.
type QuotaStatus struct {
	// Name is the quota's name in the store: the configured name for plan
	// quotas, "<route>/<name>" for route quotas.
	Name string `json:"name"`
	// Route is the route of a route quota, "" for a plan quota.
	Route string `json:"route,omitempty"`
	// Period is "day" or "month".
	Period      string    `json:"period"`
	PeriodStart time.Time `json:"period_start"`
	// ResetAt is the end of the period, when usage starts again at zero.
	ResetAt time.Time `json:"reset_at"`
	// Requests and Bytes are the usage so far, flushed and pending.
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
	// RequestsLimit and BytesLimit are the consumer's allowances after
	// metadata overrides; 0 means not limited.
	RequestsLimit int64 `json:"requests_limit"`
	BytesLimit    int64 `json:"bytes_limit"`
}
