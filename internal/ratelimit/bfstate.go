package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// lockoutPolicy is a validated config.BruteForce.
type lockoutPolicy struct {
	maxFailures int64
	window      time.Duration
	cooldown    time.Duration
	maxCooldown time.Duration
}

// lockout returns the lockout for the level-th lockout of a source:
// cooldown doubled level-1 times, capped at maxCooldown.
func (p lockoutPolicy) lockout(level int64) time.Duration {
	d := p.cooldown
	for i := int64(1); i < level && d < p.maxCooldown; i++ {
		d *= 2
	}
	return min(d, p.maxCooldown)
}

// bfState is one source's failure history in memory.
type bfState struct {
	failures    int64
	level       int64
	windowEnd   int64
	lockedUntil int64
	// forgetAt is when the whole state, lockout level included, is dropped.
	forgetAt int64
}

// bfMemory keeps failure histories on this node.
type bfMemory struct {
	policy lockoutPolicy
	states *shardedMap[bfState]
}

// fail records a failed authentication of subject at now and returns the
// lockout it starts, or zero. Failures while the subject is locked out are
// not counted: the lockout already refuses its requests.
func (m *bfMemory) fail(subject string, now int64) time.Duration {
	h := m.states.hash(subject)
	sh := m.states.shardOf(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.m[h]
	if now >= st.forgetAt {
		st = bfState{}
	}
	if now < st.lockedUntil {
		return 0
	}
	if now >= st.windowEnd {
		st.failures, st.windowEnd = 0, now+int64(m.policy.window)
	}
	st.failures++
	var d time.Duration
	if st.failures >= m.policy.maxFailures {
		st.level++
		d = m.policy.lockout(st.level)
		st.failures, st.windowEnd = 0, 0
		st.lockedUntil = now + int64(d)
	}
	st.forgetAt = max(st.windowEnd, st.lockedUntil+int64(m.policy.maxCooldown))
	if st.level == 0 {
		st.forgetAt = st.windowEnd
	}
	sh.m[h] = st
	sh.notePeak()
	return d
}

// locked returns how long subject stays locked out at now.
func (m *bfMemory) locked(subject string, now int64) time.Duration {
	h := m.states.hash(subject)
	sh := m.states.shardOf(h)
	sh.mu.Lock()
	st := sh.m[h]
	sh.mu.Unlock()
	if now < st.lockedUntil {
		return time.Duration(st.lockedUntil - now)
	}
	return 0
}

// failScript is bfMemory.fail in Redis, with keys for the failure count
// (expiring with the window), the lockout level (kept for the lockout plus
// max_cooldown) and the lockout itself (expiring when it ends).
//
// KEYS: failures, level, lock. ARGV: window_ms, max_failures, cooldown_ms,
// max_cooldown_ms. Returns the lockout started in milliseconds, or 0.
var failScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n < tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
local level = redis.call('INCR', KEYS[2])
local cd, maxcd = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 2, level do
  if cd >= maxcd then break end
  cd = cd * 2
end
if cd > maxcd then cd = maxcd end
redis.call('SET', KEYS[3], '1', 'PX', string.format('%.0f', cd))
redis.call('PEXPIRE', KEYS[2], string.format('%.0f', cd + maxcd))
return cd
`)

// bfRedis keeps failure histories in Redis, shared by all nodes.
type bfRedis struct {
	policy lockoutPolicy
	conn   *redisConn
}

func (r *bfRedis) keys(subject string) []string {
	return []string{
		r.conn.key("bf:f:", subject),
		r.conn.key("bf:v:", subject),
		r.conn.key("bf:l:", subject),
	}
}

// fail records a failed authentication and returns the lockout it starts.
func (r *bfRedis) fail(ctx context.Context, subject string) (time.Duration, error) {
	callCtx, cancel := r.conn.callContext(ctx)
	defer cancel()
	ms, err := failScript.Run(callCtx, r.conn.client, r.keys(subject),
		r.policy.window.Milliseconds(), r.policy.maxFailures,
		r.policy.cooldown.Milliseconds(), r.policy.maxCooldown.Milliseconds()).Int64()
	if err != nil {
		r.conn.failed(ctx, err)
		return 0, fmt.Errorf("recording authentication failure on redis %s: %w", r.conn.address, err)
	}
	r.conn.succeeded()
	return time.Duration(ms) * time.Millisecond, nil
}

// locked returns the longest remaining lockout among subjects and the
// index of its subject, in one round trip.
func (r *bfRedis) locked(ctx context.Context, subjects []string) (time.Duration, int, error) {
	callCtx, cancel := r.conn.callContext(ctx)
	defer cancel()
	pipe := r.conn.client.Pipeline()
	cmds := make([]*redis.DurationCmd, len(subjects))
	for i, s := range subjects {
		cmds[i] = pipe.PTTL(callCtx, r.conn.key("bf:l:", s))
	}
	if _, err := pipe.Exec(callCtx); err != nil {
		r.conn.failed(ctx, err)
		return 0, 0, fmt.Errorf("reading lockouts on redis %s: %w", r.conn.address, err)
	}
	r.conn.succeeded()
	var longest time.Duration
	index := 0
	for i, c := range cmds {
		// PTTL returns -2 for a missing key and -1 for one without expiry;
		// both mean no lockout here.
		if c.Val() > longest {
			longest, index = c.Val(), i
		}
	}
	return longest, index, nil
}
