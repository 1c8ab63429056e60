package ratelimit

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// ClientKey returns the address that per-IP limits count under. An IPv4
// address, IPv4-mapped IPv6 addresses included, counts as itself. An IPv6
// address counts as its network of prefixBits bits, so that one host
// cannot escape its limit by rotating through the addresses of its own
// /64. The zone of a link-local address is dropped.
func ClientKey(ip netip.Addr, prefixBits int) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, err := ip.Prefix(prefixBits)
	if err != nil {
		// Only an invalid address gets here; it keeps the zero prefix,
		// which all such requests share.
		return netip.Prefix{}
	}
	return p
}

// appendIP appends the client's aggregated address to b.
func appendIP(b []byte, x *pipeline.Exchange, prefixBits int) []byte {
	ip := x.ClientIP
	if !ip.IsValid() {
		ip = x.PeerIP
	}
	p := ClientKey(ip, prefixBits)
	if !p.IsValid() {
		return append(b, "unknown"...)
	}
	return p.AppendTo(b)
}

// appendField appends a length-prefixed value, so that values containing
// separators cannot make two different keys equal.
func appendField(b []byte, name byte, value string) []byte {
	b = append(b, '|', name)
	b = strconv.AppendInt(b, int64(len(value)), 10)
	b = append(b, ':')
	return append(b, value...)
}

// windowKey builds the key of limit s for the request, and returns the key
// kind actually used. A consumer or credential part of an anonymous request
// is replaced by the client IP, so anonymous clients share no bucket.
//
// The key contains the limit's scope and name, then the route name, the
// consumer id, the credential id and the client network as the limit
// requires. A credential id names a credential without revealing it.
func windowKey(buf []byte, s *limitSpec, route string, x *pipeline.Exchange, prefixBits int) ([]byte, keyPart) {
	id := x.Identity
	parts := s.parts
	if parts&partConsumer != 0 && (id == nil || id.ConsumerID == "") {
		parts = parts&^partConsumer | partIP
	}
	if parts&partCredential != 0 && (id == nil || id.CredentialID == "") {
		parts = parts&^partCredential | partIP
	}

	b := append(buf[:0], s.scope...)
	b = appendField(b, 'n', s.name)
	if parts&partRoute != 0 {
		b = appendField(b, 'r', route)
	}
	if parts&partConsumer != 0 {
		b = appendField(b, 'c', id.ConsumerID)
	}
	if parts&partCredential != 0 {
		b = appendField(b, 'k', id.CredentialID)
	}
	if parts&partIP != 0 {
		b = append(b, "|i"...)
		b = appendIP(b, x, prefixBits)
	}
	return b, parts
}

// Unlimited is the metadata value that lifts a limit or quota for one
// consumer.
const Unlimited = "unlimited"

// overrideRule applies a consumer's metadata overrides to s's rule. It
// returns false when the consumer is exempt from the limit. Invalid values
// are ignored and reported through bad, so that a typo in metadata cannot
// lift a limit.
func overrideRule(s *limitSpec, meta map[string]string, bad func(key, value string)) (Rule, bool) {
	r := s.rule
	if len(meta) == 0 {
		return r, true
	}
	if v, ok := meta[s.rateKey]; ok {
		if v == Unlimited {
			return r, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad(s.rateKey, v)
		} else {
			r.Rate = n
			if _, hasBurst := meta[s.burstKey]; !hasBurst && s.rule.Burst == s.rule.Rate {
				r.Burst = n
			}
		}
	}
	if v, ok := meta[s.periodKey]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond {
			bad(s.periodKey, v)
		} else {
			r.Period = d
		}
	}
	if v, ok := meta[s.burstKey]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad(s.burstKey, v)
		} else {
			r.Burst = n
		}
	}
	if r.Interval() < minInterval || time.Duration(r.Burst) > maxBurstSpan/r.Interval() {
		bad(s.rateKey, strconv.FormatInt(r.Rate, 10)+" per "+r.Period.String()+" burst "+strconv.FormatInt(r.Burst, 10))
		return s.rule, true
	}
	return r, true
}

// overrideQuota returns the consumer's allowances for q.
func overrideQuota(q *quotaSpec, meta map[string]string, bad func(key, value string)) (requests, bytes int64) {
	requests, bytes = q.requests, q.bytes
	if len(meta) == 0 {
		return requests, bytes
	}
	if v, ok := meta[q.requestsKey]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case v == Unlimited:
			requests = 0
		case err != nil || n < 1:
			bad(q.requestsKey, v)
		default:
			requests = n
		}
	}
	if v, ok := meta[q.bytesKey]; ok {
		n, err := config.ParseByteSize(v)
		switch {
		case strings.TrimSpace(v) == Unlimited:
			bytes = 0
		case err != nil || n < 1:
			bad(q.bytesKey, v)
		default:
			bytes = int64(n)
		}
	}
	return requests, bytes
}
