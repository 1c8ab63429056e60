package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

const testRedisAddr = "127.0.0.1:6379"

// requireRedis skips the test unless a Redis server responds on
// testRedisAddr, and returns a client for setup and cleanup.
func requireRedis(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: testRedisAddr, DialTimeout: 300 * time.Millisecond, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Skipf("Redis not reachable at %s (%v): start redis-server on that address to run this test", testRedisAddr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix returns a key prefix unique to this test run and deletes
// every key under it when the test ends.
func testPrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "warden-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			_ = c.Del(ctx, keys...).Err()
		}
	})
	return prefix
}

func redisConfig(addr, prefix, failMode string) config.RateLimit {
	return config.RateLimit{
		Backend:  "redis",
		FailMode: failMode,
		Redis:    config.Redis{Address: addr, KeyPrefix: prefix, Timeout: config.Duration(time.Second)},
	}
}

func newRedisLimiter(t testing.TB, cfg config.RateLimit, obs Observer) *Limiter {
	t.Helper()
	l, err := New(cfg, Options{Logger: quietLogger(), Observer: obs, ProbeInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = l.Stop(context.Background()) })
	return l
}

// TestRedisSharedLimit runs two Limiters, as two gateway nodes, against
// one limit: together they must allow the configured burst, not twice it.
func TestRedisSharedLimit(t *testing.T) {
	client := requireRedis(t)
	prefix := testPrefix(t, client)
	obs := newRecordingObserver()
	route := &config.RouteRateLimit{Limits: []config.Limit{limit("shared", "route", 1000, time.Hour, 0)}}
	var stages []*Stage
	for range 2 {
		l := newRedisLimiter(t, redisConfig(testRedisAddr, prefix, FailOpen), obs)
		stages = append(stages, newTestStage(t, l, route))
	}

	const workers, attempts = 4, 400
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, s := range stages {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range attempts {
					if s.Check(context.Background(), exchange("192.0.2.1", nil)).Decision == pipeline.Allow {
						allowed.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	if n := obs.failModes[FailOpen]; n != 0 {
		t.Fatalf("%d checks fell back to memory, want every check on Redis", n)
	}
	want := 1000 + elapsed.Seconds()*1000/3600
	got := float64(allowed.Load())
	if math.Abs(got-want)/want > 0.02 {
		t.Errorf("allowed %v of %d across two nodes, want %.1f within 2%%", got, 2*workers*attempts, want)
	}
}

func TestRedisMultipleWindows(t *testing.T) {
	client := requireRedis(t)
	prefix := testPrefix(t, client)
	l := newRedisLimiter(t, redisConfig(testRedisAddr, prefix, FailClosed), nil)
	windows := []Window{
		{Key: "a", Rule: Rule{Rate: 5, Period: time.Hour, Burst: 5}},
		{Key: "b", Rule: Rule{Rate: 3, Period: time.Hour, Burst: 3}},
	}
	out := make([]Verdict, 2)

	allowed := 0
	for range 6 {
		if err := l.allow(context.Background(), windows, out); err != nil {
			t.Fatalf("allow: %v", err)
		}
		if out[0].Allowed && out[1].Allowed {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("allowed %d, want 3 (the smaller window)", allowed)
	}

	if out[0].Remaining != 2 {
		t.Errorf("window a remaining = %d, want 2: denied requests must not consume it", out[0].Remaining)
	}
	if out[1].RetryAfter <= 0 || out[1].RetryAfter > 20*time.Minute {
		t.Errorf("window b retry after = %v, want up to one interval (20m)", out[1].RetryAfter)
	}
	ttl := client.PTTL(context.Background(), prefix+"rl:b").Val()
	if ttl <= 0 || ttl > time.Hour {
		t.Errorf("key TTL = %v, want the time until the window is full again", ttl)
	}
}

func TestRedisBruteForceShared(t *testing.T) {
	client := requireRedis(t)
	prefix := testPrefix(t, client)
	nodeA := newRedisLimiter(t, redisConfig(testRedisAddr, prefix, FailOpen), nil)
	nodeB := newRedisLimiter(t, redisConfig(testRedisAddr, prefix, FailOpen), nil)
	a, err := NewBruteForce(bruteForceConfig(3), nodeA, nil)
	if err != nil {
		t.Fatalf("NewBruteForce: %v", err)
	}
	b, err := NewBruteForce(bruteForceConfig(3), nodeB, nil)
	if err != nil {
		t.Fatalf("NewBruteForce: %v", err)
	}
	for range 3 {
		attempt(a, exchange("2001:db8::1", nil), false)
	}
	waitFor(t, func() bool {
		return b.Check(context.Background(), exchange("2001:db8::2", nil)).Decision == pipeline.Deny
	})
	res := b.Check(context.Background(), exchange("2001:db8::2", nil))
	if got := res.Headers.Get(HeaderRetryAfter); got != "30" {
		t.Errorf("Retry-After on the other node = %q, want 30", got)
	}
	ttl := client.PTTL(context.Background(), prefix+"bf:l:ip:2001:db8::/64").Val()
	if ttl <= 0 || ttl > 30*time.Second {
		t.Errorf("lockout key TTL = %v, want up to 30s", ttl)
	}
}

// redisServer is a redis-server process that the test owns.
type redisServer struct {
	t    *testing.T
	bin  string
	port string
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skipf("redis-server not on PATH (%v): install it to run the fail mode test", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()
	s := &redisServer{t: t, bin: bin, port: port}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + s.port }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", s.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer c.Close()
	waitFor(s.t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		return c.Ping(ctx).Err() == nil
	})
}

func (s *redisServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func TestRedisFailMode(t *testing.T) {
	tests := []struct {
		mode       string
		wantStatus int // 0: allowed
	}{
		{FailOpen, 0},
		{FailClosed, 503},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			srv := startRedisServer(t)
			obs := newRecordingObserver()
			cfg := redisConfig(srv.addr(), "warden-test:", tt.mode)
			cfg.Redis.Timeout = config.Duration(200 * time.Millisecond)
			l := newRedisLimiter(t, cfg, obs)
			s := newTestStage(t, l, &config.RouteRateLimit{Limits: []config.Limit{limit("ip", "ip", 1000, time.Hour, 0)}})
			check := func() pipeline.Result { return s.Check(context.Background(), exchange("192.0.2.1", nil)) }

			if res := check(); res.Decision != pipeline.Allow {
				t.Fatalf("with Redis up: %v %d, want allow", res.Decision, res.Status)
			}
			srv.stop()
			for i := range 10 {
				res := check()
				if got := statusOf(res); got != tt.wantStatus {
					t.Fatalf("check %d with Redis down: status %d, want %d", i+1, got, tt.wantStatus)
				}
			}
			if got := obs.stateChanges(); len(got) != 1 || got[0] {
				t.Fatalf("state changes = %v, want one change to unavailable", got)
			}
			if l.BackendAvailable() {
				t.Errorf("BackendAvailable = true with Redis down")
			}
			applied := obs.failModes[tt.mode]
			if applied != 10 {
				t.Errorf("fail mode applied %d times, want 10", applied)
			}

			srv.start()
			waitFor(t, l.BackendAvailable)
			if got := obs.stateChanges(); len(got) != 2 || !got[1] {
				t.Errorf("state changes = %v, want [false true]", got)
			}
			if res := check(); res.Decision != pipeline.Allow {
				t.Errorf("after recovery: %v %d, want allow", res.Decision, res.Status)
			}
			if obs.failModes[tt.mode] != applied {
				t.Errorf("fail mode applied after recovery, want checks on Redis again")
			}
		})
	}
}

func statusOf(res pipeline.Result) int {
	if res.Decision == pipeline.Allow {
		return 0
	}
	return res.Status
}

// BenchmarkRedisAllow measures one check of two windows, one EVALSHA round
// trip to the Redis server on testRedisAddr.
func BenchmarkRedisAllow(b *testing.B) {
	client := requireRedis(b)
	prefix := testPrefix(b, client)
	l := newRedisLimiter(b, redisConfig(testRedisAddr, prefix, FailClosed), nil)
	rule := Rule{Rate: 1_000_000, Period: time.Second, Burst: 1_000_000}
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			var seq atomic.Int64
			run := func(next func() bool) {
				i := seq.Add(1)
				w := []Window{{Rule: rule}, {Key: "route", Rule: rule}}
				out := make([]Verdict, 2)
				for next() {
					w[0].Key = "c" + strconv.FormatInt(i%1000, 10)
					if err := l.allow(context.Background(), w, out); err != nil {
						b.Fatalf("allow: %v", err)
					}
					i++
				}
			}
			b.ReportAllocs()
			if parallel {
				b.RunParallel(func(pb *testing.PB) { run(pb.Next) })
				return
			}
			run(b.Loop)
		})
	}
}

func TestRedisKeysHavePrefix(t *testing.T) {
	client := requireRedis(t)
	prefix := testPrefix(t, client)
	l := newRedisLimiter(t, redisConfig(testRedisAddr, prefix, FailClosed), nil)
	s := newTestStage(t, l, &config.RouteRateLimit{Limits: []config.Limit{limit("c", "consumer", 10, time.Minute, 0)}})
	s.Check(context.Background(), exchange("192.0.2.1", consumer("alice", "")))
	keys, err := client.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], prefix+"rl:") || !strings.Contains(keys[0], "alice") {
		t.Errorf("keys = %v, want one rate limit key under the prefix naming the consumer", keys)
	}
}
