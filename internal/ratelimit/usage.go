package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/warden-api/warden/internal/store"
)

// Usage returns the consumer's use of each quota that applies to it in the
// current period: the quotas of its plan and those of every route that has
// quotas. The totals add the usage this node has not flushed yet to the
// stored usage. With a store, the consumer's plan and metadata overrides
// are read from it. Without one, Usage lists only route quotas, with the
// usage counted on this node.
func (l *Limiter) Usage(ctx context.Context, consumerID string) ([]QuotaStatus, error) {
	var specs []*quotaSpec
	var meta map[string]string
	if l.store != nil {
		c, err := l.store.GetConsumer(ctx, consumerID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("reading quota usage: consumer %q: %w", consumerID, err)
		case err != nil:
			return nil, fmt.Errorf("reading consumer %q for quota usage: %w", consumerID, err)
		}
		meta = c.Metadata
		if p := l.plans[c.Plan]; p != nil {
			for i := range p.quotas {
				specs = append(specs, &p.quotas[i])
			}
		}
	}
	l.mu.Lock()
	routes := make([]string, 0, len(l.routeQuotas))
	for route := range l.routeQuotas {
		routes = append(routes, route)
	}
	sort.Strings(routes)
	for _, route := range routes {
		qs := l.routeQuotas[route]
		for i := range qs {
			specs = append(specs, &qs[i])
		}
	}
	l.mu.Unlock()

	now := l.now()
	refs := make([]quotaRef, 0, len(specs))
	for _, q := range specs {
		requests, bytes := overrideQuota(q, meta, func(string, string) {})
		start, end := periodBounds(now, q.period, l.loc)
		refs = append(refs, quotaRef{spec: q, requests: requests, bytes: bytes, start: start, end: end})
	}
	if err := l.quotas.load(ctx, consumerID, refs, true); err != nil {
		return nil, err
	}

	out := make([]QuotaStatus, 0, len(refs))
	for i := range refs {
		r := &refs[i]
		requests, bytes := l.quotas.used(consumerID, r)
		out = append(out, QuotaStatus{
			Name:          r.spec.stored,
			Route:         r.spec.route,
			Period:        r.spec.period,
			PeriodStart:   r.start,
			ResetAt:       r.end,
			Requests:      requests,
			Bytes:         bytes,
			RequestsLimit: r.requests,
			BytesLimit:    r.bytes,
		})
	}
	return out, nil
}
