package clientip

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func BenchmarkResolve(b *testing.B) {
	r, err := New([]string{"10.0.0.0/8", "172.16.0.0/12", "2001:db8:a::/48"})
	if err != nil {
		b.Fatal(err)
	}
	trusted := netip.MustParseAddr("10.0.0.7")
	cases := []struct {
		name   string
		peer   netip.Addr
		header http.Header
	}{
		{"untrusted", netip.MustParseAddr("203.0.113.7"), http.Header{
			"X-Forwarded-For": {"1.2.3.4"},
		}},
		{"xff-3-hops", trusted, http.Header{
			"X-Forwarded-For":   {"203.0.113.9, 10.0.0.5, 10.0.0.6"},
			"X-Forwarded-Proto": {"https, http, http"},
			"X-Request-Id":      {"4bq7pmz6c2yq3hx5w2rjzq4k7e"},
		}},
		{"forwarded-3-hops", trusted, http.Header{
			"Forwarded": {`for=203.0.113.9;proto=https;host=shop.example.com, for="[2001:db8:a::5]:4711", for=10.0.0.6`},
		}},
		{"xff-long-spoofed", trusted, http.Header{
			"X-Forwarded-For": {strings.Repeat("198.51.100.1, ", 500) + "203.0.113.9, 10.0.0.6"},
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Resolve(c.peer, c.header)
			}
		})
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewRequestID()
	}
}
