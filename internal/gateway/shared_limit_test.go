package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/warden-api/warden/internal/store/sqlite"
)

const sharedRedisAddr = "127.0.0.1:6379"

// sharedLimitConfig limits route "shared" per client IP on Redis. The
// fail mode is closed, so a Redis failure shows as 503 instead of a
// silent fall back to a limiter per node.
const sharedLimitConfig = `
listeners:
  - address: LISTEN
admin:
  address: ADMIN
rate_limit:
  backend: redis
  fail_mode: closed
  redis:
    address: ` + sharedRedisAddr + `
    key_prefix: "PREFIX"
    timeout: 2s
routes:
  - name: shared
    paths: ["/shared/**"]
    upstream: app
    rate_limit:
      limits:
        - {name: per-ip, key: ip, rate: RATE, period: PERIOD, burst: BURST}
upstreams:
  - name: app
    targets: ["UPSTREAM"]
events:
  output: "off"
`

// sharedRedis skips the test unless Redis responds on sharedRedisAddr. It
// returns a client and a key prefix unique to the test, whose keys are
// deleted when the test ends.
func sharedRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: sharedRedisAddr, DialTimeout: 300 * time.Millisecond, MaxRetries: -1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Skipf("Redis not reachable at %s (%v): start redis-server on that address to run this test", sharedRedisAddr, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "warden-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		if keys := redisKeys(t, c, prefix); len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("deleting test keys under %q: %v", prefix, err)
			}
		}
		_ = c.Close()
	})
	return c, prefix
}

func redisKeys(t *testing.T, c *redis.Client, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("listing keys under %q: %v", prefix, err)
	}
	return keys
}

// withSQLiteStages gives the gateway the real stages over a SQLite store
// of its own, closed after the gateway stops.
func withSQLiteStages(t *testing.T) func(*Options) {
	return func(o *Options) {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "warden.db"), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("opening store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		stages := NewStages(st, o.Logger)
		t.Cleanup(stages.Close)
		o.Stages = stages.Build
	}
}

// TestSharedRateLimit runs two gateways on one Redis and checks that
// together they allow what one limit allows: the burst plus one request
// per emission interval of the time the requests took, not twice that.
func TestSharedRateLimit(t *testing.T) {
	const (
		rate     = 200
		period   = 10 * time.Second
		burst    = 200
		requests = 2 * burst
	)
	rdb, prefix := sharedRedis(t)
	up := newRecordingUpstream(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	cfg := strings.NewReplacer("PREFIX", prefix, "UPSTREAM", up.url,
		"RATE", fmt.Sprint(rate), "PERIOD", period.String(), "BURST", fmt.Sprint(burst)).Replace(sharedLimitConfig)
	gateways := []*testGateway{
		startGateway(t, cfg, withSQLiteStages(t)),
		startGateway(t, cfg, withSQLiteStages(t)),
	}

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	t.Cleanup(client.CloseIdleConnections)
	allowed := make([]int, len(gateways))
	denied := make([]int, len(gateways))
	start := time.Now()
	for i := range requests {
		n := i % len(gateways)
		status := getStatus(t, client, gateways[n].url+"/shared/item")
		switch status {
		case http.StatusOK:
			allowed[n]++
		case http.StatusTooManyRequests:
			denied[n]++
		default:
			t.Fatalf("request %d to gateway %d: got status %d, want 200 or 429; gateway log:\n%s", i, n, status, gateways[n].logs.String())
		}
	}
	elapsed := time.Since(start)

	total := allowed[0] + allowed[1]
	t.Logf("allowed %d of %d requests in %v (gateway 0: %d, gateway 1: %d)",
		total, requests, elapsed.Round(time.Millisecond), allowed[0], allowed[1])
	// GCRA frees one request per emission interval T = period/rate once
	// the burst is spent, so a limit allows burst + elapsed/T requests.
	interval := period / rate
	want := float64(burst) + float64(elapsed)/float64(interval)
	if diff := math.Abs(float64(total) - want); diff > 0.02*want {
		t.Errorf("allowed: got %d (gateway 0: %d, gateway 1: %d), want %.1f ± 2%% in %v",
			total, allowed[0], allowed[1], want, elapsed.Round(time.Millisecond))
	}
	for n := range gateways {
		if allowed[n] == 0 || denied[n] == 0 {
			t.Errorf("gateway %d: got %d allowed and %d denied, want some of each", n, allowed[n], denied[n])
		}
	}
	if got := len(up.served()); got != total {
		t.Errorf("upstream requests: got %d, want the %d allowed ones", got, total)
	}
	if keys := redisKeys(t, rdb, prefix+"rl:"); len(keys) == 0 {
		t.Errorf("redis keys under %q: got none, want the limit's key", prefix+"rl:")
	}
}

// getStatus sends GET url and returns the response status.
func getStatus(t *testing.T, client *http.Client, url string) int {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
