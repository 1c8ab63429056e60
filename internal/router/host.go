package router

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// hostKind is the specificity tier of a host pattern, most specific first.
type hostKind uint8

const (
	exactHost hostKind = iota
	wildcardHost
	anyHost
)

// hostPattern is a parsed entry of Route.Hosts.
type hostPattern struct {
	kind hostKind
	// key is the lower-case host for exactHost, the part after "*." for
	// wildcardHost, and "" for anyHost.
	key string
}

func (h hostPattern) String() string {
	switch h.kind {
	case exactHost:
		return fmt.Sprintf("host %q", h.key)
	case wildcardHost:
		return fmt.Sprintf("host %q", "*."+h.key)
	}
	return "any host"
}

// parseHost parses one entry of Route.Hosts.
func parseHost(raw string) (hostPattern, error) {
	switch {
	case raw == "":
		return hostPattern{}, errors.New("empty host: remove it, or leave hosts empty to match any host")
	case raw == "*":
		return hostPattern{}, errors.New(`invalid host "*": leave hosts empty to match any host`)
	}

	name := strings.ToLower(raw)
	kind := exactHost
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		kind, name = wildcardHost, rest
	}
	name = strings.TrimSuffix(name, ".")

	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
	}
	if strings.Contains(name, ":") {
		addr, err := netip.ParseAddr(name)
		if err != nil || kind == wildcardHost {
			return hostPattern{}, fmt.Errorf("invalid host %q: remove the port, because hosts match any port", raw)
		}
		return hostPattern{kind: kind, key: addr.String()}, nil
	}
	if err := checkHostname(name); err != nil {
		return hostPattern{}, fmt.Errorf("invalid host %q: %w", raw, err)
	}
	return hostPattern{kind: kind, key: name}, nil
}

// checkHostname checks a lower-case DNS name or IPv4 address without a
// port or a wildcard.
func checkHostname(name string) error {
	if name == "" {
		return errors.New("missing name after \"*.\"")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return errors.New("empty label")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c == '*':
				return errors.New(`"*" is only valid as the whole first label, as in "*.example.com"`)
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return errors.New("use letters, digits, \"-\" and \".\", with internationalized names in their xn-- form")
			}
		}
	}
	return nil
}

// appendHostKey appends the lookup key of a request's Host value to dst:
// without the port, brackets and trailing dot, ASCII letters in lower case.
// IPv6 literals are compared as written, so only the canonical form of
// netip.Addr.String matches a configured IPv6 host.
func appendHostKey(dst []byte, host string) []byte {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host = host[1:end]
		}
	} else if colon := strings.LastIndexByte(host, ':'); colon >= 0 && strings.IndexByte(host, ':') == colon {
		host = host[:colon]
	}
	host = strings.TrimSuffix(host, ".")
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
