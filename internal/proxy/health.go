package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxProbeBody is the number of probe response bytes read so that the
// connection can be reused. A longer body is discarded with the
// connection.
const maxProbeBody = 4 << 10

// probeLoop probes t every interval until ctx ends, and takes it out of
// use after unhealthyAfter failed probes in a row and back after
// healthyAfter good ones.
func (u *Upstream) probeLoop(ctx context.Context, t *target) {
	a := u.cfg.active
	ticker := time.NewTicker(a.interval)
	defer ticker.Stop()
	var good, bad int
	for {
		err := u.probe(ctx, t)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			good, bad = good+1, 0
		} else {
			good, bad = 0, bad+1
			u.log.DebugContext(ctx, "health probe failed", "target", t.name, "error", err)
		}
		up := t.activeUp.Load()
		switch {
		case !up && good >= a.healthyAfter:
			t.activeUp.Store(true)
			u.reportHealth(t, "active")
		case up && bad >= a.unhealthyAfter:
			t.activeUp.Store(false)
			u.reportHealth(t, "active")
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// probe sends one GET to the probe path and checks the status.
func (u *Upstream) probe(ctx context.Context, t *target) error {
	a := u.cfg.active
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	url := t.scheme + "://" + t.host + joinPath(t.prefix, a.path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("building probe request for %s: %w", url, err)
	}
	req.Header.Set("User-Agent", "warden-health-check")
	resp, err := u.prober.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProbeBody))
	resp.Body.Close()
	if resp.StatusCode != a.expectedStatus {
		return fmt.Errorf("probe of %s returned status %d, expected %d", url, resp.StatusCode, a.expectedStatus)
	}
	return nil
}
