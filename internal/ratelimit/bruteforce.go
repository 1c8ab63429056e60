package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/warden-api/warden/internal/apikey"
	"github.com/warden-api/warden/internal/config"
	"github.com/warden-api/warden/internal/pipeline"
)

// BruteForceStageName is the name the brute-force stage records in events.
const BruteForceStageName = "bruteforce"

// ReasonTooManyFailures is the reason code of a lockout denial.
const ReasonTooManyFailures = "too_many_failures"

// AttrCredentialID is the exchange attribute in which the authentication
// stage names the credential of a failed attempt, when it has the id.
const AttrCredentialID = "authn.credential_id"

// maxAsyncFailures bounds the failures being written to Redis at once.
// Past it a failure is recorded in memory instead, so a flood of failures
// cannot pile up goroutines.
const maxAsyncFailures = 64

// CredentialIDFunc returns the public id of the credential that a request
// carries, read before authentication, or "" when there is none. It must
// not return the secret part of a credential.
type CredentialIDFunc func(r *http.Request) string

// APIKeyID returns a CredentialIDFunc that finds a Warden API key in the
// given headers ("Authorization" means its Bearer scheme) and returns its
// key id when the key's format and checksum are valid.
func APIKeyID(headers []string) CredentialIDFunc {
	return func(r *http.Request) string {
		for _, name := range headers {
			v := r.Header.Get(name)
			if strings.EqualFold(name, "Authorization") {
				scheme, token, ok := strings.Cut(v, " ")
				if !ok || !strings.EqualFold(scheme, "Bearer") {
					continue
				}
				v = strings.TrimSpace(token)
			}
			if k, err := apikey.Parse(v); err == nil {
				return k.ID
			}
		}
		return ""
	}
}

// BruteForce locks out client IPs and credentials after repeated failed
// authentications. It runs before the authentication stage: Check refuses
// a locked-out source with 429, and Finish (pipeline.Finisher) counts the
// failures that the authentication stage recorded. Successful
// authentications are never counted nor delayed; a locked-out source is
// refused whatever credential it sends.
//
// Fail mode: with the Redis backend unreachable, failures are counted and
// lockouts enforced in this node's memory, whatever rate_limit.fail_mode
// is set to. Locking everyone out would hurt more than per-node counting.
type BruteForce struct {
	policy       lockoutPolicy
	enabled      bool
	l            *Limiter
	memory       *bfMemory
	redis        *bfRedis
	credentialID CredentialIDFunc
	async        chan struct{}
	lockoutLog   *throttledLog
	errorLog     *throttledLog
}

// NewBruteForce validates cfg (config path "rate_limit.brute_force") and
// returns the stage. It shares l's backend and clock. credentialID reads
// the credential id before authentication; nil means Warden API keys in
// the Authorization and X-API-Key headers. A MaxFailures of 0 returns a
// stage that allows everything.
func NewBruteForce(cfg config.BruteForce, l *Limiter, credentialID CredentialIDFunc) (*BruteForce, error) {
	p, err := compileLockoutPolicy(cfg, "rate_limit.brute_force")
	if err != nil {
		return nil, err
	}
	if credentialID == nil {
		credentialID = APIKeyID([]string{"Authorization", "X-API-Key"})
	}

	b := &BruteForce{
		policy:       p,
		enabled:      p.maxFailures > 0,
		l:            l,
		memory:       &bfMemory{policy: p, states: l.lockouts},
		credentialID: credentialID,
		async:        make(chan struct{}, maxAsyncFailures),
		lockoutLog:   newThrottledLog(l.logger, time.Second),
		errorLog:     newThrottledLog(l.logger, 10*time.Second),
	}
	if l.conn != nil {
		b.redis = &bfRedis{policy: p, conn: l.conn}
	}
	return b, nil
}

// compileLockoutPolicy validates cfg and fills in its defaults.
func compileLockoutPolicy(cfg config.BruteForce, path string) (lockoutPolicy, error) {
	p := lockoutPolicy{
		maxFailures: 10,
		window:      orDefault(cfg.Window.D(), 5*time.Minute),
		cooldown:    orDefault(cfg.Cooldown.D(), time.Minute),
		maxCooldown: orDefault(cfg.MaxCooldown.D(), time.Hour),
	}
	if cfg.MaxFailures != nil {
		p.maxFailures = int64(*cfg.MaxFailures)
	}

	var errs config.Errors
	if p.maxFailures < 0 {
		errs.Add(path+".max_failures", "max_failures must not be negative, got %d; use 0 to turn the protection off", p.maxFailures)
	}
	if p.window < time.Second {
		errs.Add(path+".window", "window %s is too short: use at least 1s", p.window)
	}
	if p.cooldown < time.Second {
		errs.Add(path+".cooldown", "cooldown %s is too short: use at least 1s", p.cooldown)
	}
	if p.maxCooldown < p.cooldown {
		errs.Add(path+".max_cooldown", "max_cooldown %s is shorter than cooldown %s", p.maxCooldown, p.cooldown)
	}
	return p, errs.Err()
}

// Name implements pipeline.Stage.
func (b *BruteForce) Name() string { return BruteForceStageName }

// subjects returns the lockout subjects of a request: its client network
// and, when known, its credential id. Ids longer than 128 bytes, such as
// a long JWT "jti", are replaced by their SHA-256 to bound key sizes. Ids
// are public names, so the hash hides nothing secret.
func (b *BruteForce) subjects(x *pipeline.Exchange, credentialID string) []string {
	ip := x.ClientIP
	if !ip.IsValid() {
		ip = x.PeerIP
	}
	out := make([]string, 1, 2)
	out[0] = "ip:unknown"
	if p := ClientKey(ip, b.l.ipv6Prefix); p.IsValid() {
		out[0] = "ip:" + p.String()
	}
	if credentialID != "" {
		if len(credentialID) > 128 {
			sum := sha256.Sum256([]byte(credentialID))
			credentialID = "sha256:" + hex.EncodeToString(sum[:])
		}
		out = append(out, "cred:"+credentialID)
	}
	return out
}

// Check implements pipeline.Stage.
func (b *BruteForce) Check(ctx context.Context, x *pipeline.Exchange) pipeline.Result {
	if !b.enabled {
		return pipeline.Allowed
	}
	credentialID := ""
	if x.Request != nil {
		credentialID = b.credentialID(x.Request)
	}
	subjects := b.subjects(x, credentialID)

	wait, kind := b.lockedFor(ctx, subjects)
	if wait <= 0 {
		return pipeline.Allowed
	}
	x.SetAttr("bruteforce.locked", kind)
	return pipeline.Result{
		Decision: pipeline.Deny,
		Reason:   ReasonTooManyFailures,
		Status:   http.StatusTooManyRequests,
		Problem:  "too-many-failures",
		Title:    "Too many failed authentication attempts",
		Detail:   "Wait for the number of seconds in the Retry-After header before trying again.",
		Headers:  http.Header{HeaderRetryAfter: {strconv.FormatInt(max(ceilSeconds(wait), 1), 10)}},
	}
}

// lockedFor returns the longest lockout among subjects and the kind of its
// subject. Lockouts recorded in memory are checked first, then those in
// Redis when it can be used.
func (b *BruteForce) lockedFor(ctx context.Context, subjects []string) (time.Duration, string) {
	now := b.l.now().UnixNano()
	var wait time.Duration
	kind := ""
	for _, s := range subjects {
		if d := b.memory.locked(s, now); d > wait {
			wait, kind = d, subjectKind(s)
		}
	}
	if wait > 0 || b.redis == nil || !b.l.conn.available() {
		return wait, kind
	}

	d, i, err := b.redis.locked(ctx, subjects)
	if err != nil {
		b.errorLog.warn("reading lockouts from redis failed, using this node's lockouts", "error", err)
		return 0, ""
	}
	if d <= 0 {
		return 0, ""
	}
	return d, subjectKind(subjects[i])
}

func subjectKind(subject string) string {
	if strings.HasPrefix(subject, "cred:") {
		return "credential"
	}
	return "ip"
}

// Finish implements pipeline.Finisher. It counts a failure when the
// authentication stage denied the request. It does not block: Redis
// writes run in the background, and fall back to memory when too many are
// in flight.
func (b *BruteForce) Finish(x *pipeline.Exchange, _ int, _ int64) {
	if !b.enabled || !authnFailed(x) {
		return
	}
	credentialID, _ := x.Attrs[AttrCredentialID].(string)
	for _, s := range b.subjects(x, credentialID) {
		b.fail(s)
	}
}

func authnFailed(x *pipeline.Exchange) bool {
	for _, o := range x.Outcomes {
		if o.Stage == "authn" && o.Decision == pipeline.Deny {
			return true
		}
	}
	return false
}

// fail records one failure of subject in Redis when it can be used, and in
// memory otherwise.
func (b *BruteForce) fail(subject string) {
	if b.redis != nil && b.l.conn.available() {
		select {
		case b.async <- struct{}{}:
			go func() {
				defer func() { <-b.async }()
				d, err := b.redis.fail(context.Background(), subject)
				if err != nil {
					b.errorLog.warn("recording authentication failure in redis failed, recording it in memory", "error", err)
					d = b.memory.fail(subject, b.l.now().UnixNano())
				}
				b.lockedOut(subject, d)
			}()
			return
		default:
		}
	}
	b.lockedOut(subject, b.memory.fail(subject, b.l.now().UnixNano()))
}

func (b *BruteForce) lockedOut(subject string, d time.Duration) {
	if d <= 0 {
		return
	}
	kind := subjectKind(subject)
	b.l.observer.Lockout(kind)
	b.lockoutLog.warn("locking out source after repeated authentication failures",
		"subject", subject, "lockout", d)
}
