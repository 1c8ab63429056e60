package proxy

import (
	"net/http"
	"net/netip"
	"strings"
)

// isHopHeader reports whether the canonical header name k is hop-by-hop
// and must not be forwarded in either direction. These are the fields
// that RFC 9110 section 7.6.1 names, the de-facto Keep-Alive and
// Proxy-Connection, and Trailer, which the proxy announces anew.
func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer",
		"Transfer-Encoding", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization":
		return true
	}
	return false
}

// isForwardingHeader reports whether k is a forwarding header that the
// proxy sets itself. Client-sent values are dropped, since the gateway has
// already decided which client address to trust.
func isForwardingHeader(k string) bool {
	switch k {
	case "Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
		"X-Forwarded-Port", "X-Real-Ip":
		return true
	}
	return false
}

// connectionTokens appends the field names listed in Connection header
// values to dst. Those fields are hop-by-hop too (RFC 9110 section 7.6.1).
func connectionTokens(dst []string, values []string) []string {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				dst = append(dst, tok)
			}
		}
	}
	return dst
}

func containsFold(list []string, k string) bool {
	for _, s := range list {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

// Read-only header values shared by every request; never modified.
var (
	teTrailers = []string{"trailers"}
)

// buildRequestHeader fills dst with the header to send upstream: the
// client's fields without hop-by-hop fields, forwarding headers, Expect
// and the framing fields that the transport writes itself, then the
// forwarding headers and the request id. Values are shared with src, so
// neither map may be modified while the other is in use.
//
// Expect is dropped because net/http's server already sent "100 Continue"
// when the body was first read.
func buildRequestHeader(dst, src http.Header, fw *Forwarding, idHeader string) {
	var buf [4]string
	named := connectionTokens(buf[:0], src["Connection"])
	for k, vs := range src {
		if isHopHeader(k) || isForwardingHeader(k) || k == idHeader ||
			k == "Expect" || k == "Content-Length" || k == "Host" ||
			(len(named) > 0 && containsFold(named, k)) {
			continue
		}
		dst[k] = vs
	}
	if te := src["Te"]; len(te) > 0 && hasToken(te, "trailers") {
		dst["Te"] = teTrailers
	}
	if _, ok := src["User-Agent"]; !ok {
		// An empty value stops net/http's Transport from sending its own
		// User-Agent; the HTTP/1.1 client skips empty values.
		dst["User-Agent"] = []string{""}
	}

	// One backing array for the values set below, and one string holding
	// the Forwarded element that X-Forwarded-For is a substring of, keep
	// this to two allocations.
	values := make([]string, 0, 5)
	set := func(k, v string) {
		values = append(values, v)
		dst[k] = values[len(values)-1 : len(values) : len(values)]
	}
	ip := fw.ClientIP.Unmap().WithZone("")
	forwarded, ipText := forwardedValue(ip, fw.Host, fw.Proto)
	set("Forwarded", forwarded)
	if ip.IsValid() {
		set("X-Forwarded-For", ipText)
	}
	if fw.Proto != "" {
		set("X-Forwarded-Proto", fw.Proto)
	}
	if fw.Host != "" {
		set("X-Forwarded-Host", fw.Host)
	}
	if idHeader != "" && fw.RequestID != "" {
		set(idHeader, fw.RequestID)
	}
}

// hasToken reports whether a comma-separated header value lists token,
// ignoring case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if name, _, _ := strings.Cut(tok, ";"); strings.EqualFold(strings.TrimSpace(name), token) {
				return true
			}
		}
	}
	return false
}

// forwardedValue returns an RFC 7239 Forwarded element and the client
// address text within it. An IPv6 address is bracketed and quoted, a host
// with a port is quoted, and an unknown client address is written as
// for=unknown.
func forwardedValue(ip netip.Addr, host, proto string) (value, ipText string) {
	var buf [128]byte
	b := append(buf[:0], "for="...)
	var ipStart, ipEnd int
	switch {
	case !ip.IsValid():
		b = append(b, "unknown"...)
	case ip.Is6():
		b = append(b, `"[`...)
		ipStart = len(b)
		b = ip.AppendTo(b)
		ipEnd = len(b)
		b = append(b, `]"`...)
	default:
		ipStart = len(b)
		b = ip.AppendTo(b)
		ipEnd = len(b)
	}
	if host != "" {
		b = append(b, ";host="...)
		b = appendTokenOrQuoted(b, host)
	}
	if proto != "" {
		b = append(b, ";proto="...)
		b = appendTokenOrQuoted(b, proto)
	}
	value = string(b)
	return value, value[ipStart:ipEnd]
}

// appendTokenOrQuoted appends s as an RFC 9110 token when it is one, or
// as a quoted-string otherwise.
func appendTokenOrQuoted(b []byte, s string) []byte {
	if isToken(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// copyResponseHeader copies the upstream response header src into dst,
// without hop-by-hop fields and without the fields in remove (compared
// without regard to case). Fields already in dst, such as headers the
// gateway set before forwarding, keep the gateway's value. Values are
// shared with src.
func copyResponseHeader(dst, src http.Header, remove []string) {
	var buf [4]string
	named := connectionTokens(buf[:0], src["Connection"])
	for k, vs := range src {
		if isHopHeader(k) || (len(named) > 0 && containsFold(named, k)) ||
			(len(remove) > 0 && containsFold(remove, k)) {
			continue
		}
		if _, set := dst[k]; set {
			continue
		}
		dst[k] = vs
	}
}

// copyTrailers adds upstream trailers to the client response header with
// http.TrailerPrefix, which makes net/http send them as trailers whether
// or not they were announced.
func copyTrailers(dst, trailers http.Header) {
	for k, vs := range trailers {
		if isHopHeader(k) || k == "Content-Length" || k == "Host" {
			continue
		}
		dst[http.TrailerPrefix+k] = vs
	}
}
