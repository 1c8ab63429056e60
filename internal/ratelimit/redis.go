package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcraScript evaluates every window of one request in one atomic step, the
// same algorithm as Rule.evaluate in microseconds. It reads the time from
// the Redis server (TIME), so that gateway nodes with skewed clocks share
// one timeline.
//
// KEYS: one per window. ARGV: interval_us and burst for each window, in
// order. Returns {allowed, then per window: allowed, remaining,
// reset_after_us, retry_after_us}.
//
// Lua numbers are doubles: microsecond timestamps (about 1.8e15) are exact
// below 2^53, and TATs are written with %.0f because Lua's default
// conversion keeps only 14 digits.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local tats, nexts, intervals, limits = {}, {}, {}, {}
local ok = 1
for i = 1, n do
  local interval = tonumber(ARGV[2*i-1])
  local limit = interval * tonumber(ARGV[2*i])
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  tats[i], nexts[i], intervals[i], limits[i] = tat, tat + interval, interval, limit
  if nexts[i] - now > limit then ok = 0 end
end
local out = {ok}
for i = 1, n do
  local tat, nxt, interval, limit = tats[i], nexts[i], intervals[i], limits[i]
  if ok == 1 then
    local ttl = math.max(1, math.ceil((nxt - now) / 1000))
    redis.call('SET', KEYS[i], string.format('%.0f', nxt), 'PX', ttl)
    table.insert(out, 1)
    table.insert(out, math.floor((limit - (nxt - now)) / interval))
    table.insert(out, nxt - now)
    table.insert(out, 0)
  elseif nxt - now <= limit then
    table.insert(out, 1)
    table.insert(out, math.floor((limit - (tat - now)) / interval))
    table.insert(out, tat - now)
    table.insert(out, 0)
  else
    table.insert(out, 0)
    table.insert(out, 0)
    table.insert(out, tat - now)
    table.insert(out, nxt - now - limit)
  end
end
return out
`)

// Redis is the Backend shared by all gateway nodes. Each check is one
// EVALSHA of a Lua script that evaluates all windows of the request. Keys
// expire once the window is back to its full burst.
//
// NOTE: the script touches several keys in one call, which Redis Cluster
// accepts only when they hash to one slot. Warden's keys do not share a
// hash tag, so the backend expects a standalone server (or a primary with
// replicas), not a cluster.
type Redis struct {
	conn *redisConn
}

// Allow implements Backend. It returns an error, and changes no state,
// when Redis cannot be reached within the configured timeout.
func (r *Redis) Allow(ctx context.Context, windows []Window, out []Verdict) error {
	keys := make([]string, len(windows))
	args := make([]any, 0, 2*len(windows))
	for i, w := range windows {
		keys[i] = r.conn.key("rl:", w.Key)
		interval := max(w.Rule.Interval().Microseconds(), 1)
		args = append(args, interval, w.Rule.Burst)
	}
	callCtx, cancel := r.conn.callContext(ctx)
	defer cancel()
	res, err := gcraScript.Run(callCtx, r.conn.client, keys, args...).Int64Slice()
	if err != nil {
		r.conn.failed(ctx, err)
		return fmt.Errorf("running rate limit script on redis %s: %w", r.conn.address, err)
	}
	r.conn.succeeded()
	if len(res) != 1+4*len(windows) {
		return fmt.Errorf("rate limit script on redis %s returned %d values, expected %d", r.conn.address, len(res), 1+4*len(windows))
	}
	for i := range windows {
		v := res[1+4*i:]
		out[i] = Verdict{
			Allowed:    v[0] == 1,
			Remaining:  v[1],
			ResetAfter: time.Duration(v[2]) * time.Microsecond,
			RetryAfter: time.Duration(v[3]) * time.Microsecond,
		}
	}
	return nil
}

// Close implements Backend. The connection is closed by the Limiter that
// owns it.
func (r *Redis) Close() error { return nil }
