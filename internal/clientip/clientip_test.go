package clientip

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/warden-api/warden/internal/config"
)

// testTrusted are the trusted proxies of the Resolve tests. Clients use the
// documentation ranges 203.0.113.0/24, 198.51.100.0/24 and 2001:db8:c::/48.
var testTrusted = []string{"10.0.0.0/8", "2001:db8:a::/48", "127.0.0.1"}

func newTestResolver(t testing.TB) *Resolver {
	t.Helper()
	// The table covers both headers and their mix, which only auto reads.
	r, err := New(testTrusted, FromHeader(SourceAuto))
	if err != nil {
		t.Fatalf("New(%q): %v", testTrusted, err)
	}
	return r
}

// hdr builds a header from name and value pairs. A name may repeat to give
// the header several lines.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestResolve(t *testing.T) {
	r := newTestResolver(t)
	long := strings.Repeat("198.51.100.1, ", 2000)

	tests := []struct {
		name   string
		peer   string
		header http.Header
		want   Info
	}{
		// The peer is not a trusted proxy.
		{"spoofed xff", "203.0.113.7", hdr("X-Forwarded-For", "1.2.3.4"),
			Info{Client: ip("203.0.113.7")}},
		{"spoofed forwarded", "203.0.113.7", hdr("Forwarded", "for=1.2.3.4;proto=https"),
			Info{Client: ip("203.0.113.7")}},
		{"spoofed request id", "203.0.113.7", hdr("X-Request-Id", "abc", "X-Forwarded-Proto", "https"),
			Info{Client: ip("203.0.113.7")}},
		{"untrusted mapped peer", "::ffff:203.0.113.7", nil,
			Info{Client: ip("203.0.113.7")}},
		{"invalid peer", "", hdr("X-Forwarded-For", "203.0.113.9"),
			Info{}},

		// X-Forwarded-For from trusted proxies.
		{"trusted no headers", "10.0.0.1", nil,
			Info{Client: ip("10.0.0.1"), Trusted: true}},
		{"xff one hop", "10.0.0.1", hdr("X-Forwarded-For", "203.0.113.9"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff chain", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9, 10.0.0.5,10.0.0.6"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff client prefix", "10.0.0.7", hdr("X-Forwarded-For", "1.2.3.4, 198.51.100.3, 203.0.113.9, 10.0.0.5"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff all trusted", "10.0.0.7", hdr("X-Forwarded-For", "10.0.0.1, 127.0.0.1, 10.0.0.2"),
			Info{Client: ip("10.0.0.1"), Trusted: true}},
		{"xff several lines", "10.0.0.7", hdr("X-Forwarded-For", "1.2.3.4", "X-Forwarded-For", "203.0.113.9, 10.0.0.2"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff line per hop", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9", "X-Forwarded-For", "10.0.0.2"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff empty entries", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9,, \t,10.0.0.2,"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff garbage inside", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9, garbage, 10.0.0.2"),
			Info{Client: ip("10.0.0.2"), Trusted: true}},
		{"xff garbage last", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9, 300.1.1.1"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"xff unknown", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9, unknown"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"xff leading zero", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.09"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"xff ipv4 port", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9:4711"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff bad port", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9:471100"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"xff ipv6", "10.0.0.7", hdr("X-Forwarded-For", "2001:db8:c::1"),
			Info{Client: ip("2001:db8:c::1"), Trusted: true}},
		{"xff ipv6 brackets", "10.0.0.7", hdr("X-Forwarded-For", "[2001:db8:c::1]"),
			Info{Client: ip("2001:db8:c::1"), Trusted: true}},
		{"xff ipv6 port", "10.0.0.7", hdr("X-Forwarded-For", "[2001:db8:c::1]:443"),
			Info{Client: ip("2001:db8:c::1"), Trusted: true}},
		{"xff ipv4 in brackets", "10.0.0.7", hdr("X-Forwarded-For", "[203.0.113.9]"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"xff mapped", "10.0.0.7", hdr("X-Forwarded-For", "::ffff:203.0.113.9"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff mapped trusted hop", "10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9, ::ffff:10.0.0.3"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff zone", "10.0.0.7", hdr("X-Forwarded-For", "fe80::1%eth0"),
			Info{Client: ip("fe80::1"), Trusted: true}},
		{"ipv6 trusted peer", "2001:db8:a::7", hdr("X-Forwarded-For", "2001:db8:c::1, 2001:db8:a::2"),
			Info{Client: ip("2001:db8:c::1"), Trusted: true}},
		{"mapped trusted peer", "::ffff:10.0.0.7", hdr("X-Forwarded-For", "203.0.113.9"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"zoned trusted peer", "2001:db8:a::7%eth0", hdr("X-Forwarded-For", "203.0.113.9"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff long prefix", "10.0.0.7", hdr("X-Forwarded-For", long+"203.0.113.9, 10.0.0.2"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"xff entry over budget", "10.0.0.7", hdr("X-Forwarded-For", strings.Repeat("a", maxHeaderBytes+1)),
			Info{Client: ip("10.0.0.7"), Trusted: true}},

		// X-Forwarded-Proto and X-Forwarded-Host.
		{"proto one hop", "10.0.0.1", hdr("X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.example.com"),
			Info{Client: ip("203.0.113.9"), Proto: "https", Host: "shop.example.com", Trusted: true}},
		{"proto aligned", "10.0.0.1", hdr("X-Forwarded-For", "203.0.113.9, 10.0.0.2", "X-Forwarded-Proto", "https, http", "X-Forwarded-Host", "shop.example.com, internal:8080"),
			Info{Client: ip("203.0.113.9"), Proto: "https", Host: "shop.example.com", Trusted: true}},
		{"proto too few", "10.0.0.1", hdr("X-Forwarded-For", "203.0.113.9, 10.0.0.2", "X-Forwarded-Proto", "http"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"proto upper case", "10.0.0.1", hdr("X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "HTTPS"),
			Info{Client: ip("203.0.113.9"), Proto: "https", Trusted: true}},
		{"proto invalid", "10.0.0.1", hdr("X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "ht/tp"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"host invalid", "10.0.0.1", hdr("X-Forwarded-For", "203.0.113.9", "X-Forwarded-Host", "a b"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"proto without xff", "10.0.0.1", hdr("X-Forwarded-Proto", "https"),
			Info{Client: ip("10.0.0.1"), Proto: "https", Trusted: true}},

		// Forwarded (RFC 7239).
		{"fwd one hop", "10.0.0.1", hdr("Forwarded", "for=203.0.113.9;proto=https;host=shop.example.com"),
			Info{Client: ip("203.0.113.9"), Proto: "https", Host: "shop.example.com", Trusted: true}},
		{"fwd rfc example", "10.0.0.1", hdr("Forwarded", `for=192.0.2.43, for="[2001:db8:cafe::17]:4711";by=10.0.0.9`),
			Info{Client: ip("2001:db8:cafe::17"), Trusted: true}},
		{"fwd chain", "10.0.0.7", hdr("Forwarded", "for=198.51.100.1, for=203.0.113.9;proto=https, for=10.0.0.2;proto=http"),
			Info{Client: ip("203.0.113.9"), Proto: "https", Trusted: true}},
		{"fwd all trusted", "10.0.0.7", hdr("Forwarded", "for=10.0.0.1;host=a.example, for=10.0.0.2;host=b.example"),
			Info{Client: ip("10.0.0.1"), Host: "a.example", Trusted: true}},
		{"fwd several lines", "10.0.0.7", hdr("Forwarded", "for=198.51.100.1", "Forwarded", "for=203.0.113.9", "Forwarded", "for=10.0.0.2"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"fwd quoted ipv4 port", "10.0.0.1", hdr("Forwarded", `for="203.0.113.9:4711"`),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"fwd ipv6 unquoted", "10.0.0.1", hdr("Forwarded", "for=[2001:db8:c::1]"),
			Info{Client: ip("10.0.0.1"), Trusted: true}},
		{"fwd ipv6 no brackets", "10.0.0.1", hdr("Forwarded", `for="2001:db8:c::1"`),
			Info{Client: ip("10.0.0.1"), Trusted: true}},
		{"fwd ipv6 zone", "10.0.0.1", hdr("Forwarded", `for="[fe80::1%25eth0]"`),
			Info{Client: ip("fe80::1"), Trusted: true}},
		{"fwd mapped", "10.0.0.1", hdr("Forwarded", `for="[::ffff:203.0.113.9]"`),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"fwd case", "10.0.0.1", hdr("Forwarded", "For=203.0.113.9;PROTO=HTTPS"),
			Info{Client: ip("203.0.113.9"), Proto: "https", Trusted: true}},
		{"fwd whitespace", "10.0.0.1", hdr("Forwarded", " for=198.51.100.1 ,for=203.0.113.9 ; proto=https ,  "),
			Info{Client: ip("203.0.113.9"), Proto: "https", Trusted: true}},
		{"fwd quoted pair", "10.0.0.1", hdr("Forwarded", `for=203.0.113.9;host="shop\.example.com"`),
			Info{Client: ip("203.0.113.9"), Host: "shop.example.com", Trusted: true}},
		{"fwd extension", "10.0.0.1", hdr("Forwarded", `for=203.0.113.9;secret="a, b";proto=https`),
			Info{Client: ip("203.0.113.9"), Proto: "https", Trusted: true}},
		{"fwd unknown inside", "10.0.0.7", hdr("Forwarded", "for=203.0.113.9, for=unknown, for=10.0.0.2"),
			Info{Client: ip("10.0.0.2"), Trusted: true}},
		{"fwd obfuscated last", "10.0.0.7", hdr("Forwarded", `for=203.0.113.9, for="_hidden:_port";proto=https`),
			Info{Client: ip("10.0.0.7"), Proto: "https", Trusted: true}},
		{"fwd no for", "10.0.0.7", hdr("Forwarded", "proto=https;host=shop.example.com"),
			Info{Client: ip("10.0.0.7"), Proto: "https", Host: "shop.example.com", Trusted: true}},
		{"fwd duplicate for", "10.0.0.7", hdr("Forwarded", "for=203.0.113.9;for=198.51.100.1"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"fwd open quote", "10.0.0.7", hdr("Forwarded", `for=198.51.100.1, for="x, for=203.0.113.9`),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"fwd open quote own line", "10.0.0.7", hdr("Forwarded", `for=198.51.100.1, for="x`, "Forwarded", "for=203.0.113.9"),
			Info{Client: ip("203.0.113.9"), Trusted: true}},
		{"fwd garbage inside", "10.0.0.7", hdr("Forwarded", "for=203.0.113.9", "Forwarded", "for", "Forwarded", "for=10.0.0.2"),
			Info{Client: ip("10.0.0.2"), Trusted: true}},
		{"fwd line over budget", "10.0.0.7", hdr("Forwarded", strings.Repeat("for=198.51.100.1,", 500)+"for=203.0.113.9"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},

		// Forwarded and X-Forwarded-* together.
		{"mixed prefers forwarded", "10.0.0.7", hdr("Forwarded", "for=203.0.113.9;proto=https", "X-Forwarded-For", "198.51.100.1", "X-Forwarded-Proto", "http"),
			Info{Client: ip("203.0.113.9"), Proto: "https", Trusted: true}},
		{"mixed bad forwarded", "10.0.0.7", hdr("Forwarded", "for=nonsense", "X-Forwarded-For", "198.51.100.1"),
			Info{Client: ip("10.0.0.7"), Trusted: true}},
		{"mixed blank forwarded", "10.0.0.7", hdr("Forwarded", " ", "X-Forwarded-For", "198.51.100.1"),
			Info{Client: ip("198.51.100.1"), Trusted: true}},

		// X-Request-Id.
		{"request id", "10.0.0.1", hdr("X-Request-Id", "01HZX3-abc_def"),
			Info{Client: ip("10.0.0.1"), RequestID: "01HZX3-abc_def", Trusted: true}},
		{"request id space", "10.0.0.1", hdr("X-Request-Id", "abc def"),
			Info{Client: ip("10.0.0.1"), Trusted: true}},
		{"request id two lines", "10.0.0.1", hdr("X-Request-Id", "abc", "X-Request-Id", "def"),
			Info{Client: ip("10.0.0.1"), Trusted: true}},
		{"request id too long", "10.0.0.1", hdr("X-Request-Id", strings.Repeat("a", 129)),
			Info{Client: ip("10.0.0.1"), Trusted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Resolve(ip(tt.peer), tt.header)
			if got != tt.want {
				t.Errorf("Resolve(%s, %q)\n got %+v\nwant %+v", tt.peer, tt.header, got, tt.want)
			}
		})
	}
}

func TestResolveHopLimit(t *testing.T) {
	r := newTestResolver(t)
	var entries []string
	entries = append(entries, "203.0.113.9")
	for i := range maxHops + 6 {
		entries = append(entries, "10.0.0."+strconv.Itoa(i+1))
	}
	// The walk examines the right-most maxHops entries, all trusted, and
	// stops at the last of them rather than reach the client.
	wantClient := ip("10.0.0." + strconv.Itoa(len(entries)-maxHops))

	t.Run("xff", func(t *testing.T) {
		got := r.Resolve(ip("10.0.0.200"), hdr("X-Forwarded-For", strings.Join(entries, ", ")))
		if got.Client != wantClient {
			t.Errorf("client = %v, want %v", got.Client, wantClient)
		}
	})
	t.Run("forwarded", func(t *testing.T) {
		got := r.Resolve(ip("10.0.0.200"), hdr("Forwarded", "for="+strings.Join(entries, ", for=")))
		if got.Client != wantClient {
			t.Errorf("client = %v, want %v", got.Client, wantClient)
		}
	})
	t.Run("forwarded lines", func(t *testing.T) {
		h := http.Header{}
		for _, e := range entries {
			h.Add("Forwarded", "for="+e)
		}
		got := r.Resolve(ip("10.0.0.200"), h)
		if got.Client != wantClient {
			t.Errorf("client = %v, want %v", got.Client, wantClient)
		}
	})
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cidrs   []string
		trusted []string
		other   []string
	}{
		{"empty", nil, nil, []string{"10.0.0.1", "::1"}},
		{"ipv4 prefix", []string{"10.0.0.0/8"}, []string{"10.1.2.3", "::ffff:10.1.2.3"}, []string{"11.0.0.1"}},
		{"ipv4 address", []string{"192.0.2.1"}, []string{"192.0.2.1"}, []string{"192.0.2.2"}},
		{"ipv6 prefix", []string{"2001:db8::/32"}, []string{"2001:db8::1", "2001:db8::1%eth0"}, []string{"2001:db9::1", "10.0.0.1"}},
		{"ipv6 address", []string{"::1"}, []string{"::1"}, []string{"127.0.0.1"}},
		{"mapped prefix", []string{"::ffff:10.0.0.0/104"}, []string{"10.9.9.9", "::ffff:10.9.9.9"}, []string{"11.0.0.1"}},
		{"mapped address", []string{"::ffff:192.0.2.1"}, []string{"192.0.2.1"}, []string{"192.0.2.2"}},
		{"everything ipv4", []string{"0.0.0.0/0"}, []string{"198.51.100.1"}, []string{"2001:db8::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.cidrs)
			if err != nil {
				t.Fatalf("New(%q): %v", tt.cidrs, err)
			}
			for _, a := range tt.trusted {
				if !r.Trusted(ip(a)) {
					t.Errorf("Trusted(%s) = false, want true", a)
				}
			}
			for _, a := range tt.other {
				if r.Trusted(ip(a)) {
					t.Errorf("Trusted(%s) = true, want false", a)
				}
			}
		})
	}
}

func TestTrustedInvalid(t *testing.T) {
	r := newTestResolver(t)
	if r.Trusted(netip.Addr{}) {
		t.Error("Trusted(invalid address) = true, want false")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name      string
		cidrs     []string
		wantPaths []string
		wantText  []string
	}{
		{"not an address", []string{"10.0.0.0/8", "proxy.internal"},
			[]string{"gateway.trusted_proxies[1]"}, []string{`"proxy.internal"`}},
		{"empty", []string{""},
			[]string{"gateway.trusted_proxies[0]"}, []string{`""`}},
		{"bad length", []string{"10.0.0.0/33"},
			[]string{"gateway.trusted_proxies[0]"}, []string{`"10.0.0.0/33"`}},
		{"host bits", []string{"10.1.2.3/8"},
			[]string{"gateway.trusted_proxies[0]"}, []string{`"10.1.2.3/8"`, `"10.0.0.0/8"`}},
		{"zone in prefix", []string{"fe80::%eth0/64"},
			[]string{"gateway.trusted_proxies[0]"}, []string{`"fe80::%eth0/64"`}},
		{"several", []string{"x", "10.0.0.0/8", "y"},
			[]string{"gateway.trusted_proxies[0]", "gateway.trusted_proxies[2]"}, []string{`"x"`, `"y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.cidrs)
			if r != nil {
				t.Errorf("New(%q) returned a resolver, want nil", tt.cidrs)
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("New(%q) error = %v (%T), want config.Errors", tt.cidrs, err, err)
			}
			var paths []string
			for _, e := range errs {
				paths = append(paths, e.Path)
			}
			if strings.Join(paths, " ") != strings.Join(tt.wantPaths, " ") {
				t.Errorf("paths = %q, want %q", paths, tt.wantPaths)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %s", err, s)
				}
			}
		})
	}
}

func TestNewRequestID(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := NewRequestID()
		if len(id) < 26 {
			t.Fatalf("len(%q) = %d, want at least 26", id, len(id))
		}
		if strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Fatalf("id %q has characters outside the base32 alphabet", id)
		}
		if !ValidRequestID(id) {
			t.Fatalf("ValidRequestID(%q) = false, want true", id)
		}
		if seen[id] {
			t.Fatalf("id %q was returned twice", id)
		}
		seen[id] = true
	}
}

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"!~", true},
		{strings.Repeat("x", 128), true},
		{"", false},
		{strings.Repeat("x", 129), false},
		{"a b", false},
		{"a\tb", false},
		{"a\x7f", false},
		{"caf\u00e9", false},
		{"a\r\nX-Evil: 1", false},
	}
	for _, tt := range tests {
		if got := ValidRequestID(tt.id); got != tt.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// ip parses an address, or returns the invalid address for "".
func ip(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

// TestResolveSources checks that the default reads only X-Forwarded-For, so
// a client's own Forwarded header that an XFF-only load balancer passes
// through cannot choose the client address.
func TestResolveSources(t *testing.T) {
	peer := netip.MustParseAddr("10.0.0.7")
	h := hdr("Forwarded", "for=192.0.2.66", "X-Forwarded-For", "198.51.100.1", "X-Correlation-Id", "abc-123")
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"default x-forwarded-for", nil, "198.51.100.1"},
		{"forwarded only", []Option{FromHeader(SourceForwarded)}, "192.0.2.66"},
		{"auto prefers forwarded", []Option{FromHeader(SourceAuto)}, "192.0.2.66"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New([]string{"10.0.0.0/8"}, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Resolve(peer, h).Client.String(); got != tt.want {
				t.Errorf("client = %s, want %s", got, tt.want)
			}
		})
	}

	r, err := New([]string{"10.0.0.0/8"}, RequestIDHeader("x-correlation-id"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Resolve(peer, h).RequestID; got != "abc-123" {
		t.Errorf("request id = %q, want abc-123 from the configured header", got)
	}
	if _, err := New(nil, FromHeader("via")); err == nil {
		t.Error("New accepted an unknown forwarding header")
	}
}
