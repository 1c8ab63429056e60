// Command loadgen sends HTTP/1.1 GET requests at a fixed rate and reports
// latency percentiles, for the fixed-rate phase of the load benchmark. It is
// an open-loop generator, like wrk2: requests are released on a schedule
// whether or not earlier ones have finished, so a slow server shows up as
// latency instead of as a lower sending rate.
//
// Usage:
//
//	loadgen -url http://127.0.0.1:38004/books/1 -rate 10000 -duration 10s
//
// It prints one line of key=value pairs; times are in milliseconds.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// headerFlags collects repeated -header "Name: value" flags as request
// header lines.
type headerFlags struct{ lines *[]byte }

func (h headerFlags) String() string {
	if h.lines == nil {
		return ""
	}
	return string(*h.lines)
}

func (h headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || strings.ContainsAny(s, "\r\n") || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("invalid header %q: expected \"Name: value\" on one line", s)
	}
	*h.lines = fmt.Appendf(*h.lines, "%s: %s\r\n", name, value)
	return nil
}

func main() {
	var cfg loadConfig
	var rawURL string
	flag.StringVar(&rawURL, "url", "", "URL to request; must be on loopback (127.0.0.0/8 or ::1)")
	flag.IntVar(&cfg.rate, "rate", 1000, "requests per second")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of the measured run")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured run at the same rate before the measured one")
	flag.IntVar(&cfg.connections, "connections", 32, "connections, and so the most requests in flight")
	flag.Int64Var(&cfg.maxRequests, "max-requests", 10_000_000, "cap on the requests of the measured run")
	flag.DurationVar(&cfg.timeout, "timeout", 2*time.Second, "timeout of one request")
	flag.DurationVar(&cfg.tick, "tick", 100*time.Microsecond, "how often the pacer wakes to release the requests that are due")
	flag.Var(headerFlags{&cfg.header}, "header", `request header "Name: value"; repeat for more`)
	flag.Parse()

	u, err := parseLoopbackURL(rawURL)
	if err == nil {
		cfg.url = u
		err = cfg.validate()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	conns := make([]*conn, cfg.connections)
	for i := range conns {
		conns[i] = newConn(cfg.url, cfg.header, cfg.timeout)
	}
	if cfg.warmup > 0 {
		warm := cfg
		warm.duration = cfg.warmup
		run(ctx, warm, conns)
	}
	res := run(ctx, cfg, conns)
	for _, c := range conns {
		c.close()
	}
	fmt.Println(res.summary(cfg))
	if res.lastError != nil {
		fmt.Fprintln(os.Stderr, "loadgen: last error:", res.lastError)
	}
	if res.ok == 0 {
		os.Exit(1)
	}
}

// parseLoopbackURL parses an http URL and checks that its host is on
// loopback, because this tool is for local benchmarks only.
func parseLoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("invalid -url %q: expected http://127.0.0.1:PORT/PATH", raw)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "80")
	}
	ip := net.ParseIP(u.Hostname())
	if u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-url host %q is not on loopback: use 127.0.0.1 or ::1", u.Hostname())
	}
	return u, nil
}

// validate checks the numeric flags.
func (c loadConfig) validate() error {
	switch {
	case c.rate <= 0:
		return fmt.Errorf("invalid -rate %d: must be positive", c.rate)
	case c.duration <= 0 || c.warmup < 0:
		return fmt.Errorf("invalid -duration %v or -warmup %v: must be positive", c.duration, c.warmup)
	case c.connections <= 0:
		return fmt.Errorf("invalid -connections %d: must be positive", c.connections)
	case c.maxRequests <= 0:
		return fmt.Errorf("invalid -max-requests %d: must be positive", c.maxRequests)
	case c.tick < 10*time.Microsecond:
		return fmt.Errorf("invalid -tick %v: must be at least 10µs", c.tick)
	}
	return nil
}
