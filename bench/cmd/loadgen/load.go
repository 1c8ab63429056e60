package main

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// loadConfig is one fixed-rate run.
type loadConfig struct {
	url         *url.URL
	header      []byte // extra request header lines, each ending in CRLF
	rate        int
	duration    time.Duration
	warmup      time.Duration
	connections int
	maxRequests int64
	timeout     time.Duration
	tick        time.Duration // how often the pacer wakes
}

// result contains the measurements of one run.
type result struct {
	latency histogram // from release to the end of the response body
	lag     histogram // from the scheduled time to the release
	sent    uint64
	ok      uint64 // 2xx responses
	non2xx  uint64
	errors  uint64 // transport errors and timeouts
	unsent  int64  // released, but not sent before the run's deadline
	elapsed time.Duration
	// lastError is the last transport error a worker saw, for the log.
	lastError error
}

// run sends cfg.rate requests per second for cfg.duration and returns the
// merged measurements.
//
// A pacer releases each request at its scheduled time into a queue that
// cfg.connections workers take from. Latency is measured from the release,
// so time a request waits in the queue because every connection is busy
// counts against the server (the correction for coordinated omission that
// wrk2 makes). The pacer wakes every cfg.tick and releases the requests
// that have come due. The delay between a request's scheduled time and its
// release is the pacer's own, so it is reported as lag and not counted as
// latency.
//
// Each worker uses its own connection from conns, which must hold
// cfg.connections of them; they stay open for the next run.
func run(ctx context.Context, cfg loadConfig, conns []*conn) *result {
	total := min(int64(cfg.rate)*int64(cfg.duration)/int64(time.Second), cfg.maxRequests)
	start := time.Now()
	// The deadline stops the workers even when the server stalls, so the
	// run is bounded in time as well as in count.
	ctx, cancel := context.WithDeadline(ctx, start.Add(cfg.duration+cfg.timeout))
	defer cancel()

	queue := make(chan time.Time, max(cfg.rate, cfg.connections))
	workers := make([]*result, cfg.connections)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i] = &result{}
		wg.Go(func() { work(ctx, conns[i], queue, workers[i]) })
	}
	pacer := &result{}
	if err := pace(ctx, start, cfg, total, queue, pacer); err != nil {
		pacer.lastError = err
	}
	close(queue)
	wg.Wait()

	merged := pacer
	for _, w := range workers {
		merged.latency.merge(&w.latency)
		merged.sent += w.sent
		merged.ok += w.ok
		merged.non2xx += w.non2xx
		merged.errors += w.errors
		if w.lastError != nil {
			merged.lastError = w.lastError
		}
	}
	merged.unsent = total - int64(merged.sent)
	merged.elapsed = time.Since(start)
	return merged
}

// pace releases total requests into queue, request i at start + i/rate,
// and records in res how late each release was.
func pace(ctx context.Context, start time.Time, cfg loadConfig, total int64, queue chan<- time.Time, res *result) error {
	t, err := newTicker(cfg.tick)
	if err != nil {
		return err
	}
	defer t.close()
	for i := range total {
		due := start.Add(time.Duration(i * int64(time.Second) / int64(cfg.rate)))
		for time.Now().Before(due) {
			if err := t.wait(); err != nil {
				return err
			}
		}
		released := time.Now()
		res.lag.record(released.Sub(due))
		select {
		case queue <- released:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// work sends one request on c for each release it takes from queue, until
// the queue is closed and empty or ctx is done.
func work(ctx context.Context, c *conn, queue <-chan time.Time, res *result) {
	for released := range queue {
		if ctx.Err() != nil {
			return
		}
		res.sent++
		status, err := c.do(ctx)
		if err != nil {
			res.errors++
			res.lastError = err
			continue
		}
		res.latency.record(time.Since(released))
		if status/100 == 2 {
			res.ok++
		} else {
			res.non2xx++
		}
	}
}

// summary formats r as one line of key=value pairs, times in ms.
func (r *result) summary(cfg loadConfig) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	achieved := float64(r.sent) / r.elapsed.Seconds()
	return fmt.Sprintf("rate=%d connections=%d sent=%d ok=%d non2xx=%d errors=%d unsent=%d achieved_rps=%.0f"+
		" p50_ms=%s p90_ms=%s p99_ms=%s p999_ms=%s max_ms=%s lag_p50_ms=%s lag_p99_ms=%s",
		cfg.rate, cfg.connections, r.sent, r.ok, r.non2xx, r.errors, r.unsent, achieved,
		ms(r.latency.percentile(50)), ms(r.latency.percentile(90)), ms(r.latency.percentile(99)),
		ms(r.latency.percentile(99.9)), ms(time.Duration(r.latency.max)),
		ms(r.lag.percentile(50)), ms(r.lag.percentile(99)))
}
