package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/warden-api/warden/internal/config"
)

// failuresBeforeDown is the number of consecutive failed Redis calls after
// which the backend counts as unreachable. One slow call alone does not
// switch every request to the fail mode.
const failuresBeforeDown = 3

// redisConn is the Redis client shared by the GCRA backend and brute-force
// protection, with the reachability state that drives the fail mode.
//
// While the server counts as reachable, every call goes to it. After
// failuresBeforeDown consecutive transport failures it counts as
// unreachable: callers skip it (and do not wait for a timeout on every
// request) and one background goroutine pings it every probeInterval until
// it responds. The change is logged and reported once in each direction.
type redisConn struct {
	client        *redis.Client
	address       string
	prefix        string
	timeout       time.Duration
	probeInterval time.Duration
	logger        *slog.Logger
	observer      Observer

	failures atomic.Int32
	down     atomic.Bool

	stop    chan struct{}
	stopped sync.Once
	probing sync.WaitGroup
}

func newRedisConn(cfg config.Redis, probeInterval time.Duration, logger *slog.Logger, observer Observer) (*redisConn, error) {
	password := ""
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading redis password file: %w", err)
		}
		password = strings.TrimSpace(string(b))
	}
	client := redis.NewClient(&redis.Options{
		Addr:     cfg.Address,
		DB:       cfg.DB,
		Password: password,
		// Connection setup gets more time than one call: a pool that must
		// dial is still bounded by each call's context deadline.
		DialTimeout:           max(cfg.Timeout.D(), time.Second),
		ReadTimeout:           cfg.Timeout.D(),
		WriteTimeout:          cfg.Timeout.D(),
		ContextTimeoutEnabled: true,
		// A retry would turn one check into several round trips and
		// stretch the per-call timeout; a failed call applies the fail
		// mode instead.
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
	})
	return &redisConn{
		client:        client,
		address:       cfg.Address,
		prefix:        cfg.KeyPrefix,
		timeout:       cfg.Timeout.D(),
		probeInterval: probeInterval,
		logger:        logger,
		observer:      observer,
		stop:          make(chan struct{}),
	}, nil
}

// available reports whether calls should go to Redis.
func (c *redisConn) available() bool { return !c.down.Load() }

// callContext bounds one call by the configured timeout.
func (c *redisConn) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// succeeded resets the failure count after a call that reached Redis.
func (c *redisConn) succeeded() {
	if c.failures.Load() != 0 {
		c.failures.Store(0)
	}
}

// failed records a failed call made with the caller's context ctx. A call
// that failed because the caller gave up (its own context ended) is not
// counted, because it shows nothing about Redis. An error reply is not
// counted either, because it proves that the server is reachable.
func (c *redisConn) failed(ctx context.Context, err error) {
	var reply redis.Error
	if ctx.Err() != nil || errors.As(err, &reply) {
		return
	}
	if c.failures.Add(1) < failuresBeforeDown {
		return
	}
	if !c.down.CompareAndSwap(false, true) {
		return
	}
	c.logger.Warn("rate limit backend unreachable, applying the fail mode until it responds again",
		"backend", "redis", "address", c.address, "error", err)
	c.observer.BackendStateChanged("redis", false)
	select {
	case <-c.stop:
		// The connection is closed, so there is nothing to recover.
	default:
		c.probing.Add(1)
		go c.probe()
	}
}

// probe pings Redis until it responds or the connection is closed.
func (c *redisConn) probe() {
	defer c.probing.Done()
	ticker := time.NewTicker(c.probeInterval)
	defer ticker.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ticker.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), max(c.timeout, time.Second))
		err := c.client.Ping(ctx).Err()
		cancel()
		if err != nil {
			continue
		}
		c.failures.Store(0)
		c.down.Store(false)
		c.logger.Info("rate limit backend reachable again", "backend", "redis", "address", c.address)
		c.observer.BackendStateChanged("redis", true)
		return
	}
}

// key returns the Redis key for a Warden key of the given kind.
func (c *redisConn) key(kind, key string) string {
	return c.prefix + kind + key
}

// close stops the probe and closes the client.
func (c *redisConn) close() error {
	c.stopped.Do(func() { close(c.stop) })
	c.probing.Wait()
	if err := c.client.Close(); err != nil {
		return fmt.Errorf("closing redis client for %s: %w", c.address, err)
	}
	return nil
}
