package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/warden-api/warden/internal/ratelimit"
	"github.com/warden-api/warden/internal/store"
)

// Actor is who makes a change: an admin token id, "bootstrap" for the
// bootstrap token, or "cli:<user>" for the CLI working on the store
// directly. SourceIP is empty for local changes.
type Actor struct {
	ID       string
	SourceIP string
}

// Service carries out admin operations: it validates requests, changes the
// store and writes an audit entry for every change. The HTTP handler and
// the CLI's direct mode both use it, so the rules are the same either way.
// Service does not check roles; its callers do.
type Service struct {
	store   store.Store
	logger  *slog.Logger
	now     func() time.Time
	onAudit func(store.AuditEntry)
	usage   func(ctx context.Context, consumerID string) ([]ratelimit.QuotaStatus, error)
}

// NewService returns a Service over opt.Store. It uses opt.Logger, opt.Now,
// opt.OnAudit and opt.Usage and ignores opt.BootstrapToken.
func NewService(opt Options) *Service {
	s := &Service{store: opt.Store, logger: opt.Logger, now: opt.Now, onAudit: opt.OnAudit, usage: opt.Usage}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// audit appends an entry for a change that has already been made and
// passes it to OnAudit. A failure to append is logged, not returned:
// the change cannot be undone at this point, and a key or token created by
// it must still reach the caller, who gets its plain text only once.
// NOTE: the store interface has no transaction that spans a change and its
// audit entry, so a store failure between the two loses the entry; OnAudit
// still receives it and the error log names it.
func (s *Service) audit(ctx context.Context, actor Actor, action, target string, detail map[string]any) {
	e := store.AuditEntry{
		At: s.now(), Actor: actor.ID, Action: action, Target: target, SourceIP: actor.SourceIP,
	}
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			s.logger.Error("encoding audit detail failed", "action", action, "target", target, "err", err)
		} else {
			e.Detail = string(b)
		}
	}
	if err := s.store.AppendAudit(ctx, &e); err != nil {
		s.logger.Error("appending audit entry failed", "action", action, "target", target, "actor", actor.ID, "err", err)
	}
	s.logger.Info("admin change", "action", action, "target", target, "actor", actor.ID, "source_ip", actor.SourceIP)
	if s.onAudit != nil {
		s.onAudit(e)
	}
}

// ListAudit returns the newest audit entries first, at most limit.
func (s *Service) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	entries, err := s.store.ListAudit(ctx, limit)
	if err != nil {
		return nil, internal(err)
	}
	out := make([]AuditEntry, len(entries))
	for i, e := range entries {
		out[i] = AuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, SourceIP: e.SourceIP}
		if e.Detail != "" {
			// An entry written by another tool may hold something other
			// than a JSON object; it is then listed without detail.
			_ = json.Unmarshal([]byte(e.Detail), &out[i].Detail)
		}
	}
	return out, nil
}
