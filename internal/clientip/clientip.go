// Package clientip resolves the client address of a request that may have
// passed through reverse proxies.
//
// The forwarding headers (Forwarded, X-Forwarded-For, X-Forwarded-Proto,
// X-Forwarded-Host) and X-Request-Id are read only when the TCP peer is a
// trusted proxy. The walk over a forwarding header goes from the right,
// because each proxy appends the address it received the request from. So
// the entries from the right end up to the first untrusted address were
// written by trusted proxies, and everything left of that address may have
// been chosen by the client.
//
// The walk ends in one of two ways, and both are deliberate:
//
//   - at the right-most address that is not a trusted proxy, which becomes
//     the client;
//   - at anything it cannot use: the end of the header, an entry that does
//     not parse, an "unknown" or obfuscated node, 64 hops, or 8 KiB of header
//     text counted from the right. The client is then the last address the
//     walk accepted, which is a trusted proxy, or the peer when the walk
//     accepted none.
//
// Stopping at a bad entry gives the same result as a header that began just
// after it, so a broken or hostile entry never yields an address that a
// client could have chosen, and a chain of only trusted proxies resolves to
// its left-most address as usual.
package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/warden-api/warden/internal/config"
)

// Limits on the work done for one request. Header values are chosen by the
// client, so both bound the time and memory that Resolve spends on them.
const (
	// maxHops is the largest number of forwarding entries examined, counted
	// from the right. Real chains have a handful of proxies.
	maxHops = 64
	// maxHeaderBytes is the largest amount of one forwarding header's text
	// examined, counted from the right end of its last line.
	maxHeaderBytes = 8 << 10
)

// Canonical header names, as net/http stores them in http.Header.
const (
	headerForwarded       = "Forwarded"
	headerXForwardedFor   = "X-Forwarded-For"
	headerXForwardedHost  = "X-Forwarded-Host"
	headerXForwardedProto = "X-Forwarded-Proto"
	headerRequestID       = "X-Request-Id"
)

// Resolver decides which peers are trusted proxies and resolves the client
// of a request. It is immutable after New and safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
	// source selects the forwarding header that is read; see Source.
	source Source
	// requestIDHeader is the canonical name of the request id header.
	requestIDHeader string
}

// Source names the forwarding header a Resolver reads from trusted peers.
type Source string

// Sources of the client address.
const (
	// SourceAuto reads Forwarded when a trusted peer sent one, and
	// X-Forwarded-For otherwise. Use it only when every trusted proxy
	// removes or rewrites both headers, because a proxy that appends only
	// to X-Forwarded-For passes a client's own Forwarded header through.
	SourceAuto Source = "auto"
	// SourceForwarded reads only the RFC 7239 Forwarded header.
	SourceForwarded Source = "forwarded"
	// SourceXForwardedFor reads only X-Forwarded-For (with
	// X-Forwarded-Proto and X-Forwarded-Host), the header most load
	// balancers write.
	SourceXForwardedFor Source = "x-forwarded-for"
)

// Option changes a Resolver built by New.
type Option func(*Resolver)

// FromHeader selects the forwarding header to read. The default is
// SourceXForwardedFor.
func FromHeader(s Source) Option { return func(r *Resolver) { r.source = s } }

// RequestIDHeader names the header that carries the request id from
// trusted peers. The default is X-Request-Id.
func RequestIDHeader(name string) Option {
	return func(r *Resolver) { r.requestIDHeader = http.CanonicalHeaderKey(name) }
}

// Info describes the client of one request, as Resolve found it.
type Info struct {
	// Client is the client address: the peer, or the address that a chain
	// of trusted proxies reported. It is invalid only when the peer is.
	Client netip.Addr
	// Proto is the scheme the client used, such as "https", as reported by
	// the trusted proxy that received the request from Client. It is "" when
	// the peer is not trusted or no valid value was given.
	Proto string
	// Host is the Host header the client sent, as reported by the same
	// proxy, or "" when the peer is not trusted or no valid value was given.
	Host string
	// RequestID is the X-Request-Id sent by a trusted peer, or "" when the
	// peer is not trusted or the value is not a valid request id.
	RequestID string
	// Trusted reports whether the peer is a trusted proxy.
	Trusted bool
}

// New returns a resolver that trusts the forwarding headers of peers inside
// trustedCIDRs. Each entry is a CIDR prefix such as "10.0.0.0/8" or a
// single address such as "10.0.0.1" or "::1". IPv4-mapped IPv6 prefixes are
// converted to IPv4, so "::ffff:10.0.0.0/104" trusts 10.0.0.0/8.
//
// Invalid entries are returned as config.Errors with the path
// "gateway.trusted_proxies[i]". An empty list trusts no peer.
func New(trustedCIDRs []string, opts ...Option) (*Resolver, error) {
	var errs config.Errors
	prefixes := make([]netip.Prefix, 0, len(trustedCIDRs))
	for i, s := range trustedCIDRs {
		p, msg := parseTrusted(s)
		if msg != "" {
			errs.Add(fmt.Sprintf("gateway.trusted_proxies[%d]", i), "%s", msg)
			continue
		}
		prefixes = append(prefixes, p)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	r := &Resolver{trusted: prefixes, source: SourceXForwardedFor, requestIDHeader: headerRequestID}
	for _, o := range opts {
		o(r)
	}
	switch r.source {
	case SourceAuto, SourceForwarded, SourceXForwardedFor:
	default:
		return nil, config.Errors{{Path: "gateway.forwarded_header", Message: fmt.Sprintf(
			"invalid value %q: use \"x-forwarded-for\", \"forwarded\" or \"auto\"", r.source)}}
	}
	return r, nil
}

// parseTrusted parses one trusted_proxies entry. It returns a message for
// the config error when the entry is invalid.
func parseTrusted(s string) (netip.Prefix, string) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Sprintf("invalid CIDR or address %q: "+
				`use a prefix such as "10.0.0.0/8" or an address such as "10.0.0.1"`, s)
		}
		a = normalize(a)
		return netip.PrefixFrom(a, a.BitLen()), ""
	}

	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Sprintf("invalid CIDR %q: "+
			`use a prefix such as "10.0.0.0/8" or "2001:db8::/32"`, s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Sprintf("invalid CIDR %q: host bits are set; "+
			"use %q for the network, or drop the prefix length for one address", s, p.Masked().String())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, ""
}

// Trusted reports whether a is inside a trusted proxy prefix. IPv4-mapped
// IPv6 addresses are compared as IPv4 and zones are ignored. An invalid
// address is never trusted.
func (r *Resolver) Trusted(a netip.Addr) bool {
	return r.trustedNormalized(normalize(a))
}

func (r *Resolver) trustedNormalized(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// normalize unmaps IPv4-mapped IPv6 addresses and strips zones, so that
// equal hosts compare equal and match the trusted prefixes.
func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// Resolve returns the client of a request that arrived from peer with the
// headers h. The header names are looked up in canonical form, as net/http
// stores them.
//
// When peer is not a trusted proxy, the client is the peer and every
// forwarding header and X-Request-Id is ignored. When it is, Resolve reads
// Forwarded (RFC 7239) if any of its lines is non-blank, and otherwise
// X-Forwarded-For with X-Forwarded-Proto and X-Forwarded-Host. The package
// documentation describes the walk. X-Forwarded-* are ignored whenever
// Forwarded is used, so the two never disagree about the client.
//
// NOTE: a request whose trusted proxies write only X-Forwarded-For but pass
// a client's Forwarded header through unchanged is resolved from that
// client-controlled Forwarded header. Such proxies must remove Forwarded.
func (r *Resolver) Resolve(peer netip.Addr, h http.Header) Info {
	peer = normalize(peer)
	if !r.trustedNormalized(peer) {
		return Info{Client: peer}
	}

	info := Info{Client: peer, Trusted: true}
	if ids := h[r.requestIDHeader]; len(ids) == 1 && ValidRequestID(ids[0]) {
		info.RequestID = ids[0]
	}

	switch r.source {
	case SourceForwarded:
		r.resolveForwarded(h[headerForwarded], &info)
	case SourceAuto:
		if lines := h[headerForwarded]; !allBlank(lines) {
			r.resolveForwarded(lines, &info)
			return info
		}
		r.resolveXForwarded(h, &info)
	default:
		r.resolveXForwarded(h, &info)
	}
	return info
}

// resolveForwarded walks the Forwarded header. Proto and Host come from the
// element that named the client, or from the right-most element when the
// client is the peer, because that element was written by the peer.
func (r *Resolver) resolveForwarded(lines []string, info *Info) {
	var w forwardedWalker
	w.init(lines)
	var chosen, first element
	found := false
	for hop := 1; hop <= maxHops; hop++ {
		e, ok := w.next()
		if hop == 1 && ok {
			first = e
		}
		if !ok || e.node != nodeAddr {
			break
		}
		chosen, found = e, true
		if !r.trustedNormalized(e.addr) {
			break
		}
	}
	if found {
		info.Client = chosen.addr
	} else {
		chosen = first
	}
	info.Proto = chosen.proto
	info.Host = chosen.host
}

// resolveXForwarded walks X-Forwarded-For. X-Forwarded-Proto and
// X-Forwarded-Host are read at the same position from the right as the
// client's X-Forwarded-For entry, because each proxy that appends to one
// appends to the others. When a header has fewer values, it gives nothing.
func (r *Resolver) resolveXForwarded(h http.Header, info *Info) {
	client, pos := r.walkXForwardedFor(h[headerXForwardedFor])
	if pos > 0 {
		info.Client = client
	} else {
		pos = 1
	}
	if v, ok := nthFromRight(h[headerXForwardedProto], pos); ok {
		info.Proto = cleanProto(v)
	}
	if v, ok := nthFromRight(h[headerXForwardedHost], pos); ok {
		info.Host = cleanHost(v)
	}
}

// walkXForwardedFor returns the client named by X-Forwarded-For and its
// position counted from the right, starting at 1, or position 0 when no
// entry was usable.
func (r *Resolver) walkXForwardedFor(lines []string) (netip.Addr, int) {
	l := reverseList{lines: lines, line: len(lines), budget: maxHeaderBytes}
	var client netip.Addr
	pos := 0
	for hop := 1; hop <= maxHops; hop++ {
		entry, ok := l.next()
		if !ok {
			break
		}
		a, ok := parseXForwardedFor(entry)
		if !ok {
			break
		}
		client, pos = a, hop
		if !r.trustedNormalized(a) {
			break
		}
	}
	return client, pos
}

func allBlank(lines []string) bool {
	for _, l := range lines {
		if trimOWS(l) != "" {
			return false
		}
	}
	return true
}
