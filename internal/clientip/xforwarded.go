package clientip

import (
	"net/netip"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Limits on the values taken from forwarding headers.
const (
	// maxProtoLen bounds a proto value, which is "http" or "https" in
	// practice. Longer values are dropped.
	maxProtoLen = 32
	// maxHostLen fits a 253-byte DNS name or a bracketed IPv6 literal,
	// each with a port. Longer values are dropped.
	maxHostLen = 270
)

// reverseList returns the elements of a comma-separated header, such as
// X-Forwarded-For, from the right. The header has no quoting, so reading
// from the right is exact and never has to look at the client-controlled
// left part beyond the budget.
type reverseList struct {
	lines  []string
	line   int    // index of the line being read; len(lines) before the first
	rest   string // unread part of lines[line]
	budget int    // bytes that may still be examined
}

// next returns the next non-empty element from the right, without
// surrounding whitespace. It returns false at the left end of the header,
// and when the next element does not end within the budget.
func (l *reverseList) next() (string, bool) {
	for {
		for l.rest == "" {
			// Every line costs at least one byte so that many empty
			// lines still end the walk.
			if l.line == 0 || l.budget == 0 {
				return "", false
			}
			l.line--
			l.budget--
			l.rest = l.lines[l.line]
		}

		window := l.rest
		if len(window) > l.budget {
			window = window[len(window)-l.budget:]
		}
		i := strings.LastIndexByte(window, ',')
		if i < 0 && len(window) < len(l.rest) {
			return "", false
		}

		var elem string
		if i < 0 {
			elem, l.rest = l.rest, ""
			l.budget -= len(elem)
		} else {
			cut := len(l.rest) - len(window) + i
			elem, l.rest = l.rest[cut+1:], l.rest[:cut]
			l.budget -= len(elem) + 1
		}
		if elem = trimOWS(elem); elem != "" {
			return elem, true
		}
	}
}

// nthFromRight returns the n-th non-empty element of a comma-separated
// header counted from the right, starting at 1.
func nthFromRight(lines []string, n int) (string, bool) {
	l := reverseList{lines: lines, line: len(lines), budget: maxHeaderBytes}
	var v string
	for range n {
		var ok bool
		if v, ok = l.next(); !ok {
			return "", false
		}
	}
	return v, true
}

// parseXForwardedFor parses one X-Forwarded-For entry. The header has no
// standard, so the forms in use are accepted: an IPv4 or IPv6 address, an
// IPv4 address with a port, and a bracketed IPv6 address with an optional
// port. Anything else, "unknown" included, is rejected.
func parseXForwardedFor(s string) (netip.Addr, bool) {
	bracketed := s[0] == '['
	host := s
	switch {
	case bracketed:
		end := strings.IndexByte(s, ']')
		if end < 0 || !validPort(s[end+1:]) {
			return netip.Addr{}, false
		}
		host = s[1:end]
	case strings.Count(s, ":") == 1:
		// One colon: an IPv6 address has at least two.
		i := strings.IndexByte(s, ':')
		if !validPort(s[i:]) {
			return netip.Addr{}, false
		}
		host = s[:i]
	}

	a, err := netip.ParseAddr(host)
	if err != nil || bracketed && !a.Is6() {
		return netip.Addr{}, false
	}
	return normalize(a), true
}

// validPort checks an optional ":" followed by 1 to 5 digits.
func validPort(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != ':' || len(s) < 2 || len(s) > 6 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cleanProto returns v in lower case when it is a URI scheme (RFC 3986
// section 3.1) of at most maxProtoLen bytes, and "" otherwise.
func cleanProto(v string) string {
	if v == "" || len(v) > maxProtoLen || !isAlpha(v[0]) {
		return ""
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		if !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return ""
		}
	}
	return strings.ToLower(v)
}

// cleanHost returns v when it is a valid Host header value of at most
// maxHostLen bytes, and "" otherwise.
func cleanHost(v string) string {
	if v == "" || len(v) > maxHostLen || !httpguts.ValidHostHeader(v) {
		return ""
	}
	return v
}

func isAlpha(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}
