package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

func bruteForceConfig(maxFailures int) config.BruteForce {
	return config.BruteForce{
		MaxFailures: &maxFailures,
		Window:      config.Duration(time.Minute),
		Cooldown:    config.Duration(30 * time.Second),
		MaxCooldown: config.Duration(100 * time.Second),
	}
}

// attempt runs one request through the brute-force stage and, when it
// passes, records an authentication outcome as the gateway would.
func attempt(b *BruteForce, x *pipeline.Exchange, authnOK bool) pipeline.Result {
	res := b.Check(context.Background(), x)
	x.Record(BruteForceStageName, res)
	if res.Decision == pipeline.Deny {
		b.Finish(x, res.Status, 0)
		return res
	}
	if authnOK {
		x.Record("authn", pipeline.Allowed)
	} else {
		x.Record("authn", pipeline.Result{Decision: pipeline.Deny, Reason: "key_invalid"})
	}
	b.Finish(x, 200, 0)
	return res
}

func newTestBruteForce(t *testing.T, clock *fakeClock, maxFailures int) (*BruteForce, *recordingObserver) {
	t.Helper()
	obs := newRecordingObserver()
	l, err := New(config.RateLimit{}, Options{Logger: quietLogger(), Now: clock.Now, Observer: obs})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b, err := NewBruteForce(bruteForceConfig(maxFailures), l, nil)
	if err != nil {
		t.Fatalf("NewBruteForce: %v", err)
	}
	return b, obs
}

func TestBruteForceLockoutAndExpiry(t *testing.T) {
	clock := newFakeClock(epoch)
	b, obs := newTestBruteForce(t, clock, 3)
	for i := range 3 {
		if res := attempt(b, exchange("192.0.2.1", nil), false); res.Decision != pipeline.Allow {
			t.Fatalf("failure %d refused, want the first 3 attempts through", i+1)
		}
	}
	res := attempt(b, exchange("192.0.2.1", nil), true)
	if res.Decision != pipeline.Deny || res.Status != http.StatusTooManyRequests || res.Problem != "too-many-failures" {
		t.Fatalf("after 3 failures: %v %d %q, want deny 429 too-many-failures", res.Decision, res.Status, res.Problem)
	}
	if got := res.Headers.Get(HeaderRetryAfter); got != "30" {
		t.Errorf("Retry-After = %q, want 30", got)
	}
	if obs.lockouts["ip"] != 1 {
		t.Errorf("observer lockouts = %v, want one ip lockout", obs.lockouts)
	}
	if res := attempt(b, exchange("192.0.2.2", nil), false); res.Decision != pipeline.Allow {
		t.Errorf("another IP refused, want it unaffected")
	}

	clock.Advance(29 * time.Second)
	if res := attempt(b, exchange("192.0.2.1", nil), true); res.Decision != pipeline.Deny {
		t.Errorf("1s before the cooldown ends: allowed, want refused")
	}
	clock.Advance(time.Second)
	if res := attempt(b, exchange("192.0.2.1", nil), true); res.Decision != pipeline.Allow {
		t.Errorf("after the cooldown: refused, want allowed")
	}
}

func TestBruteForceDoubling(t *testing.T) {
	clock := newFakeClock(epoch)
	b, _ := newTestBruteForce(t, clock, 2)
	// Cooldown 30s doubles to 60s, then is capped at 100s.
	for i, want := range []string{"30", "60", "100", "100"} {
		attempt(b, exchange("192.0.2.1", nil), false)
		attempt(b, exchange("192.0.2.1", nil), false)
		res := attempt(b, exchange("192.0.2.1", nil), false)
		if got := res.Headers.Get(HeaderRetryAfter); res.Decision != pipeline.Deny || got != want {
			t.Fatalf("lockout %d: decision %v Retry-After %q, want deny with %s", i+1, res.Decision, got, want)
		}
		wait, _ := time.ParseDuration(want + "s")
		clock.Advance(wait)
	}

	// A source quiet for max_cooldown after its lockout starts over.
	clock.Advance(100 * time.Second)
	attempt(b, exchange("192.0.2.1", nil), false)
	attempt(b, exchange("192.0.2.1", nil), false)
	if got := attempt(b, exchange("192.0.2.1", nil), false).Headers.Get(HeaderRetryAfter); got != "30" {
		t.Errorf("lockout after a quiet period: Retry-After %q, want 30", got)
	}
}

func TestBruteForceWindow(t *testing.T) {
	clock := newFakeClock(epoch)
	b, _ := newTestBruteForce(t, clock, 3)
	attempt(b, exchange("192.0.2.1", nil), false)
	attempt(b, exchange("192.0.2.1", nil), false)
	clock.Advance(61 * time.Second)
	attempt(b, exchange("192.0.2.1", nil), false)
	if res := attempt(b, exchange("192.0.2.1", nil), false); res.Decision != pipeline.Allow {
		t.Errorf("3 failures spread over more than the window: refused, want allowed")
	}
}

func TestBruteForceSuccessNotCounted(t *testing.T) {
	clock := newFakeClock(epoch)
	b, _ := newTestBruteForce(t, clock, 2)
	for i := range 20 {
		if res := attempt(b, exchange("192.0.2.1", nil), true); res.Decision != pipeline.Allow {
			t.Fatalf("successful attempt %d refused", i+1)
		}
	}
}

func TestBruteForceCredential(t *testing.T) {
	clock := newFakeClock(epoch)
	b, obs := newTestBruteForce(t, clock, 3)
	key, parsed, err := apikey.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	withKey := func(ip string) *pipeline.Exchange {
		x := exchange(ip, nil)
		x.Request.Header.Set("Authorization", "Bearer "+key)
		return x
	}

	for i := range 3 {
		x := withKey("192.0.2." + string(rune('1'+i)))
		b.Check(context.Background(), x)
		x.SetAttr(AttrCredentialID, parsed.ID)
		x.Record("authn", pipeline.Result{Decision: pipeline.Deny})
		b.Finish(x, 401, 0)
	}

	x := withKey("198.51.100.9")
	res := b.Check(context.Background(), x)
	if res.Decision != pipeline.Deny {
		t.Fatalf("credential with 3 failures from 3 IPs: allowed, want refused")
	}
	if got := x.Attrs["bruteforce.locked"]; got != "credential" {
		t.Errorf("attr bruteforce.locked = %v, want credential", got)
	}
	if obs.lockouts["credential"] != 1 || obs.lockouts["ip"] != 0 {
		t.Errorf("lockouts = %v, want one credential lockout and no ip lockout", obs.lockouts)
	}
	if res := b.Check(context.Background(), exchange("198.51.100.9", nil)); res.Decision != pipeline.Allow {
		t.Errorf("same IP without the key: refused, want allowed")
	}
}

func TestBruteForceDisabled(t *testing.T) {
	clock := newFakeClock(epoch)
	b, _ := newTestBruteForce(t, clock, 0)
	for i := range 50 {
		if res := attempt(b, exchange("192.0.2.1", nil), false); res.Decision != pipeline.Allow {
			t.Fatalf("attempt %d refused with max_failures 0", i+1)
		}
	}
}

func TestNewBruteForceErrors(t *testing.T) {
	neg := -1
	tests := []struct {
		name     string
		cfg      config.BruteForce
		wantPath string
	}{
		{"negative failures", config.BruteForce{MaxFailures: &neg}, "rate_limit.brute_force.max_failures"},
		{"short window", config.BruteForce{Window: config.Duration(time.Millisecond)}, "rate_limit.brute_force.window"},
		{"max below cooldown", config.BruteForce{Cooldown: config.Duration(time.Hour), MaxCooldown: config.Duration(time.Minute)}, "rate_limit.brute_force.max_cooldown"},
	}
	l := newTestLimiter(t, config.RateLimit{}, newFakeClock(epoch), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewBruteForce(tt.cfg, l, nil)
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error = %v, want config.Errors", err)
			}
			if errs[0].Path != tt.wantPath {
				t.Errorf("path = %q, want %q", errs[0].Path, tt.wantPath)
			}
		})
	}
}

func TestAPIKeyID(t *testing.T) {
	key, parsed, err := apikey.Generate()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	broken := key[:len(key)-1] + string(rune('0'+(key[len(key)-1]+1)%10))
	tests := []struct {
		name   string
		header string
		value  string
		want   string
	}{
		{"bearer", "Authorization", "Bearer " + key, parsed.ID},
		{"bearer lower case", "Authorization", "bearer " + key, parsed.ID},
		{"api key header", "X-API-Key", key, parsed.ID},
		{"basic scheme", "Authorization", "Basic " + key, ""},
		{"bad checksum", "X-API-Key", broken, ""},
		{"not a key", "X-API-Key", "hello", ""},
		{"missing", "X-Other", key, ""},
	}
	f := APIKeyID([]string{"Authorization", "X-API-Key"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set(tt.header, tt.value)
			if got := f(r); got != tt.want {
				t.Errorf("APIKeyID = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzAPIKeyID(f *testing.F) {
	key, _, err := apikey.Generate()
	if err != nil {
		f.Fatalf("Generate: %v", err)
	}
	f.Add("Bearer " + key)
	f.Add("Bearer  " + key + " ")
	f.Add("bearer")
	f.Add(key)
	f.Add("")
	get := APIKeyID([]string{"Authorization"})
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{value}
		id := get(r)
		if id == "" {
			return
		}
		if len(id) != apikey.IDLen || !strings.Contains(value, id) {
			t.Errorf("id %q from %q: want a %d-character substring of the value", id, value, apikey.IDLen)
		}
		if strings.Contains(id, "_") {
			t.Errorf("id %q contains the separator, so it may include secret characters", id)
		}
	})
}
