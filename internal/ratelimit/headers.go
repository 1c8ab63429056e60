package ratelimit

import (
	"net/http"
	"strconv"
	"time"
)

// Header names from draft-ietf-httpapi-ratelimit-headers-10 (September
// 2025). Both fields are Structured Field Lists (RFC 9651) of Items whose
// value is a String naming the policy:
//
//	RateLimit-Policy: "burst";q=100;w=60
//	RateLimit: "burst";r=42;t=17
const (
	HeaderPolicy     = "RateLimit-Policy"
	HeaderRateLimit  = "RateLimit"
	HeaderRetryAfter = "Retry-After"
)

// Canonical forms of the header names, used as http.Header map keys so
// that setting them needs no canonicalization.
var (
	canonicalPolicy     = http.CanonicalHeaderKey(HeaderPolicy)
	canonicalRateLimit  = http.CanonicalHeaderKey(HeaderRateLimit)
	canonicalRetryAfter = http.CanonicalHeaderKey(HeaderRetryAfter)
)

// ceilSeconds rounds d up to whole seconds, as delay-seconds (RFC 9110,
// section 10.2.3) requires.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// headerBuilder collects the items of both fields for one response. Its
// buffers may come from a pool: header copies them into strings.
type headerBuilder struct {
	policy []byte
	limit  []byte
}

// item appends one policy and its current service limit. name must be a
// valid limit or quota name, which needs no escaping in an sf-string.
// unit is "" for requests.
func (h *headerBuilder) item(name string, quota int64, unit string, window time.Duration, remaining int64, reset time.Duration) {
	if len(h.policy) > 0 {
		h.policy = append(h.policy, ", "...)
		h.limit = append(h.limit, ", "...)
	}
	h.policy = append(h.policy, '"')
	h.policy = append(h.policy, name...)
	h.policy = append(h.policy, `";q=`...)
	h.policy = strconv.AppendInt(h.policy, quota, 10)
	if unit != "" {
		h.policy = append(h.policy, `;qu="`...)
		h.policy = append(h.policy, unit...)
		h.policy = append(h.policy, '"')
	}
	h.policy = append(h.policy, ";w="...)
	h.policy = strconv.AppendInt(h.policy, max(ceilSeconds(window), 1), 10)

	h.limit = append(h.limit, '"')
	h.limit = append(h.limit, name...)
	h.limit = append(h.limit, `";r=`...)
	h.limit = strconv.AppendInt(h.limit, max(remaining, 0), 10)
	h.limit = append(h.limit, ";t="...)
	h.limit = strconv.AppendInt(h.limit, ceilSeconds(reset), 10)
}

// limitItem adds a GCRA window. q and w are the rule's Rate and Period as
// configured. r is the number of requests the window allows right now, so
// it exceeds q when Burst is larger than Rate. t is the time until the
// window gains one more request.
func (h *headerBuilder) limitItem(name string, r Rule, v Verdict) {
	h.item(name, r.Rate, "", r.Period, v.Remaining, r.nextUnit(v))
}

// quotaItems adds a quota's request and byte allowances: w is the length
// of the current calendar period and t the time until it ends. A quota
// with both allowances yields a second item named "<name>.bytes".
func (h *headerBuilder) quotaItems(ref *quotaRef, now time.Time) {
	window := ref.end.Sub(ref.start)
	reset := ref.end.Sub(now)
	name := ref.spec.name
	if ref.requests > 0 {
		h.item(name, ref.requests, "", window, ref.requests-ref.usedRequests, reset)
		name += ".bytes"
	}
	if ref.bytes > 0 {
		h.item(name, ref.bytes, "content-bytes", window, ref.bytes-ref.usedBytes, reset)
	}
}

// header returns the fields, or nil when there is no item.
func (h *headerBuilder) header() http.Header {
	if len(h.policy) == 0 {
		return nil
	}
	return http.Header{
		canonicalPolicy:    {string(h.policy)},
		canonicalRateLimit: {string(h.limit)},
	}
}
