package clientip

import (
	"net/netip"
	"strings"
)

// This file parses the Forwarded header of RFC 7239 by hand: neither the
// standard library nor golang.org/x/net parses it (httputil.ReverseProxy
// only writes X-Forwarded-*), and the walk needs a bound on the work and
// its own handling of malformed and "unknown" elements.
//
// Grammar (RFC 7239 section 4, with the list and quoted-string rules of
// RFC 9110 section 5.6):
//
//	Forwarded         = 1#forwarded-element
//	forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
//	forwarded-pair    = token "=" value
//	value             = token / quoted-string
//
// Each field line is parsed on its own, because a quoted string cannot span
// two lines. This matches the joined header for every well-formed value,
// and keeps a line that a client left with an open quote from swallowing
// the lines that proxies appended after it. Optional whitespace is accepted
// around "," and ";".

// nodeKind is the kind of node that a for= parameter names.
type nodeKind uint8

const (
	nodeMissing    nodeKind = iota // the element has no for= parameter
	nodeAddr                       // an IPv4 or IPv6 address
	nodeUnknown                    // the literal "unknown"
	nodeObfuscated                 // an obfuscated identifier such as "_hidden"
)

// element is one forwarded-element. Proto and host are "" when absent or
// invalid. An invalid proto or host does not fail the element, because it
// does not change which address is the client.
type element struct {
	addr  netip.Addr
	proto string
	host  string
	node  nodeKind
}

// forwardedWalker returns the elements of a Forwarded header from the
// right, parsing one line at a time. It keeps at most maxHops elements of a
// line, the right-most ones, because the walk never uses more.
type forwardedWalker struct {
	lines    []string
	line     int // index of the line parsed last; len(lines) before the first
	budget   int // bytes of header text that may still be parsed
	ring     [maxHops]element
	n        int  // elements in the current line
	left     int  // elements of the current line not yet returned
	overflow bool // the current line has more than maxHops elements
	stopped  bool // next has returned false
}

func (w *forwardedWalker) init(lines []string) {
	w.lines = lines
	w.line = len(lines)
	w.budget = maxHeaderBytes
}

// next returns the next element from the right. It returns false at the
// left end of the header and, from then on, after any line that does not
// parse or does not fit in the budget.
func (w *forwardedWalker) next() (element, bool) {
	for w.left == 0 {
		if w.stopped || w.overflow || !w.parseNextLine() {
			w.stopped = true
			return element{}, false
		}
	}
	w.left--
	// The line's elements are numbered 0 to n-1 and returned from n-1
	// down. The ring holds the last min(n, maxHops) of them.
	i := w.n - min(w.n, maxHops) + w.left
	return w.ring[i%maxHops], true
}

// parseNextLine parses the line left of the current one that has at least
// one element. It returns false when there is none or it is unusable.
func (w *forwardedWalker) parseNextLine() bool {
	for w.line > 0 {
		w.line--
		line := w.lines[w.line]
		// Every line costs at least one byte so that many empty lines
		// still end the walk.
		if len(line)+1 > w.budget {
			return false
		}
		w.budget -= len(line) + 1

		n, ok := parseForwardedLine(line, &w.ring)
		if !ok {
			return false
		}
		if n > 0 {
			w.n, w.left, w.overflow = n, min(n, maxHops), n > maxHops
			return true
		}
	}
	return false
}

// parseForwardedLine parses one field line into ring, keeping its last
// maxHops elements, and returns the number of elements. Empty list elements
// are skipped, as RFC 9110 section 5.6.1 requires of recipients.
func parseForwardedLine(s string, ring *[maxHops]element) (int, bool) {
	p := fieldParser{s: s}
	n := 0
	for {
		p.skipOWS()
		if p.done() {
			return n, true
		}
		if p.peek() == ',' {
			p.pos++
			continue
		}

		e, ok := p.element()
		if !ok {
			return n, false
		}
		ring[n%maxHops] = e
		n++

		if p.done() {
			return n, true
		}
		if p.peek() != ',' {
			return n, false
		}
		p.pos++
	}
}

// fieldParser reads a Forwarded field line from left to right.
type fieldParser struct {
	s   string
	pos int
}

func (p *fieldParser) done() bool { return p.pos >= len(p.s) }
func (p *fieldParser) peek() byte { return p.s[p.pos] }

func (p *fieldParser) skipOWS() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.pos++
	}
}

// Bits of element.seen, to reject a parameter that occurs twice in one
// element (RFC 7239 section 4: "MUST NOT occur more than once").
const (
	seenFor = 1 << iota
	seenBy
	seenProto
	seenHost
)

// element parses one forwarded-element and leaves p at the "," that ends
// it or at the end of the line.
func (p *fieldParser) element() (element, bool) {
	var e element
	seen := 0
	for {
		p.skipOWS()
		if p.done() || p.peek() == ',' {
			return e, true
		}
		if p.peek() == ';' {
			p.pos++
			continue
		}

		name := p.token()
		if name == "" || p.done() || p.peek() != '=' {
			return e, false
		}
		p.pos++
		value, ok := p.value()
		if !ok || !e.set(name, value, &seen) {
			return e, false
		}

		p.skipOWS()
		if p.done() || p.peek() == ',' {
			return e, true
		}
		if p.peek() != ';' {
			return e, false
		}
		p.pos++
	}
}

// set stores one forwarded-pair. Parameter names are case-insensitive.
// Extension parameters are accepted and ignored.
func (e *element) set(name, value string, seen *int) bool {
	var bit int
	switch {
	case strings.EqualFold(name, "for"):
		bit = seenFor
	case strings.EqualFold(name, "by"):
		bit = seenBy
	case strings.EqualFold(name, "proto"):
		bit = seenProto
	case strings.EqualFold(name, "host"):
		bit = seenHost
	default:
		return true
	}
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit

	switch bit {
	case seenFor:
		kind, addr, ok := parseNode(value)
		if !ok {
			return false
		}
		e.node, e.addr = kind, addr
	case seenProto:
		e.proto = cleanProto(value)
	case seenHost:
		e.host = cleanHost(value)
	}
	return true
}

// token reads a token (RFC 9110 section 5.6.2), possibly empty.
func (p *fieldParser) token() string {
	start := p.pos
	for !p.done() && isTokenChar(p.peek()) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// value reads a token or a quoted string and returns its content. A quoted
// string is returned as a substring of the line unless it holds a
// quoted-pair, which needs a copy without the backslashes.
func (p *fieldParser) value() (string, bool) {
	if p.done() || p.peek() != '"' {
		v := p.token()
		return v, v != ""
	}

	p.pos++
	start := p.pos
	escaped := false
	for !p.done() {
		c := p.peek()
		switch {
		case c == '"':
			v := p.s[start:p.pos]
			p.pos++
			if escaped {
				v = unescapeQuoted(v)
			}
			return v, true
		case c == '\\':
			p.pos++
			if p.done() || !isQuotedPairChar(p.peek()) {
				return "", false
			}
			escaped = true
		case !isQdtext(c):
			return "", false
		}
		p.pos++
	}
	return "", false // no closing quote
}

// unescapeQuoted removes the backslash of each quoted-pair in s, whose
// pairs were checked by value.
func unescapeQuoted(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseNode parses the value of a for= parameter (RFC 7239 section 6):
//
//	node     = nodename [ ":" node-port ]
//	nodename = IPv4address / "[" IPv6address "]" / "unknown" / obfnode
//
// An IPv6 address must be in brackets, which also means the value must be
// quoted. The port is checked for syntax and dropped.
func parseNode(s string) (nodeKind, netip.Addr, bool) {
	if s == "" {
		return nodeMissing, netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 || !validNodePort(s[end+1:]) {
			return nodeMissing, netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() {
			return nodeMissing, netip.Addr{}, false
		}
		return nodeAddr, normalize(a), true
	}

	name, port := s, ""
	if i := strings.IndexByte(s, ':'); i >= 0 {
		name, port = s[:i], s[i:]
	}
	if name == "" || !validNodePort(port) {
		return nodeMissing, netip.Addr{}, false
	}
	switch {
	case strings.EqualFold(name, "unknown"):
		return nodeUnknown, netip.Addr{}, true
	case name[0] == '_':
		return nodeObfuscated, netip.Addr{}, validObfuscated(name)
	}
	a, err := netip.ParseAddr(name)
	if err != nil || !a.Is4() {
		return nodeMissing, netip.Addr{}, false
	}
	return nodeAddr, a, true
}

// validNodePort checks an optional ":" node-port, where node-port is
// 1*5DIGIT or an obfuscated port.
func validNodePort(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != ':' || len(s) == 1 {
		return false
	}
	s = s[1:]
	if s[0] == '_' {
		return validObfuscated(s)
	}
	if len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validObfuscated checks "_" 1*( ALPHA / DIGIT / "." / "_" / "-" ).
func validObfuscated(s string) bool {
	if len(s) < 2 || s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isTokenChar reports whether c is a tchar (RFC 9110 section 5.6.2).
func isTokenChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQdtext reports whether c may appear unescaped in a quoted string:
// HTAB, SP, VCHAR except '"' and '\', and obs-text.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || 0x23 <= c && c <= 0x5B ||
		0x5D <= c && c <= 0x7E || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash in a quoted
// string: HTAB, SP, VCHAR and obs-text.
func isQuotedPairChar(c byte) bool {
	return c == '\t' || 0x20 <= c && c <= 0x7E || c >= 0x80
}
