package ratelimit

import (
	"net/netip"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

func TestClientKey(t *testing.T) {
	tests := []struct {
		ip     string
		prefix int
		want   string
	}{
		{"192.0.2.1", 64, "192.0.2.1/32"},
		{"::ffff:192.0.2.1", 64, "192.0.2.1/32"},
		{"2001:db8:a:b:c:d:e:f", 64, "2001:db8:a:b::/64"},
		{"2001:db8:a:b:c:d:e:f", 48, "2001:db8:a::/48"},
		{"2001:db8:a:b:c:d:e:f", 128, "2001:db8:a:b:c:d:e:f/128"},
		{"fe80::1%eth0", 64, "fe80::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			if got := ClientKey(netip.MustParseAddr(tt.ip), tt.prefix).String(); got != tt.want {
				t.Errorf("ClientKey(%s, %d) = %s, want %s", tt.ip, tt.prefix, got, tt.want)
			}
		})
	}
}

func TestWindowKeyHoldsNoSecret(t *testing.T) {
	var errs config.Errors
	spec := compileLimit(limit("k", "route+consumer+credential+ip", 1, time.Second, 1), "r:books", "x", &errs)
	x := exchange("192.0.2.1", &pipeline.Identity{ConsumerID: "alice", CredentialID: "AbC123xyz789"})
	x.Request.Header.Set("Authorization", "Bearer wdn_secret-material")
	key, parts := windowKey(nil, &spec, "books", x, 64)
	want := "r:books|n1:k|r5:books|c5:alice|k12:AbC123xyz789|i192.0.2.1/32"
	if string(key) != want {
		t.Errorf("key = %q, want %q", key, want)
	}
	if kindName(parts) != "route+consumer+credential+ip" {
		t.Errorf("kind = %q, want all four parts", kindName(parts))
	}
}

// FuzzWindowKey checks that keys are injective: two identities give the
// same key only when they are the same identity.
func FuzzWindowKey(f *testing.F) {
	f.Add("alice", "key1", "bob", "key2")
	f.Add("a|c1:b", "", "a", "b")
	f.Add("", "x", "x", "")
	var errs config.Errors
	spec := compileLimit(limit("k", "consumer+credential", 1, time.Second, 1), "r:books", "x", &errs)
	f.Fuzz(func(t *testing.T, c1, k1, c2, k2 string) {
		x1 := exchange("192.0.2.1", &pipeline.Identity{ConsumerID: c1, CredentialID: k1})
		x2 := exchange("192.0.2.1", &pipeline.Identity{ConsumerID: c2, CredentialID: k2})
		key1, _ := windowKey(nil, &spec, "books", x1, 64)
		key2, _ := windowKey(nil, &spec, "books", x2, 64)
		same := c1 == c2 && k1 == k2
		if (string(key1) == string(key2)) != same {
			t.Errorf("keys %q and %q: equal = %v, identities equal = %v", key1, key2, !same, same)
		}
	})
}

// FuzzOverrides checks that no metadata value yields a rule the backends
// cannot evaluate.
func FuzzOverrides(f *testing.F) {
	f.Add("10", "1s", "5", "100", "1MiB")
	f.Add("unlimited", "0s", "-1", "unlimited", "x")
	f.Add("9223372036854775807", "1ns", "9223372036854775807", "0", "0")
	var errs config.Errors
	spec := compileLimit(limit("k", "consumer", 10, time.Second, 0), "p:free", "x", &errs)
	quota := compileQuotas([]config.Quota{{Name: "q", Period: PeriodDay, Requests: 10, ResponseBytes: 100}}, "", "y", &errs)[0]
	f.Fuzz(func(t *testing.T, rate, period, burst, requests, bytes string) {
		meta := map[string]string{
			spec.rateKey: rate, spec.periodKey: period, spec.burstKey: burst,
			quota.requestsKey: requests, quota.bytesKey: bytes,
		}
		rule, limited := overrideRule(&spec, meta, func(string, string) {})
		if limited {
			if rule.Rate < 1 || rule.Burst < 1 || rule.Interval() < minInterval {
				t.Errorf("override gave an invalid rule %+v", rule)
			}
			_, v := rule.evaluate(0, time.Now().UnixNano())
			if !v.Allowed {
				t.Errorf("rule %+v denies a fresh key", rule)
			}
		}
		req, b := overrideQuota(&quota, meta, func(string, string) {})
		if req < 0 || b < 0 {
			t.Errorf("override gave negative allowances %d, %d", req, b)
		}
	})
}
