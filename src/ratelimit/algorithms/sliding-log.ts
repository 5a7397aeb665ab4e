import type { Algorithm, Evaluation, WindowParams } from './types.js';

/**
 * A sliding log's state: the times of the admitted units of cost, oldest first (a request of
 * cost n appears n times). Entries at or before now - period have expired.
 */
export interface SlidingLogState {
  entries: number[];
}

/**
 * Sliding log: exact. A request passes if the units admitted in the last period, (now - period,
 * now], plus its cost are at most the limit. Memory grows with the limit (one entry per unit
 * admitted in the period), so it suits small limits; the sliding window approximates it in
 * constant space.
 */
export const slidingLog: Algorithm<SlidingLogState> = {
  name: 'sliding-log',
  luaFunction: 'sliding_log',

  evaluate(state, { limit, periodMs }: WindowParams, nowMs, cost): Evaluation<SlidingLogState> {
    const entries = state?.entries ?? [];
    const first = firstAfter(entries, nowMs - periodMs);
    const live = entries.length - first;
    const newest = entries.at(-1) ?? nowMs;
    const current = {
      remaining: Math.max(0, Math.floor(limit - live)),
      resetMs: live > 0 ? newest + periodMs - nowMs : 0,
    };
    if (live + cost <= limit) {
      const stamp = Math.max(nowMs, newest);
      return {
        allowed: true,
        current,
        retryAfterMs: 0,
        admitted: {
          remaining: Math.max(0, Math.floor(limit - (live + cost))),
          resetMs: stamp + periodMs - nowMs,
          commit: () => {
            entries.splice(0, first);
            for (let i = 0; i < cost; i++) entries.push(stamp);
            return { entries };
          },
        },
      };
    }
    // The request fits once the oldest `mustExpire` live entries have expired.
    const mustExpire = Math.ceil(live + cost - limit);
    // first + mustExpire - 1 indexes a live entry: live + cost > limit and cost <= limit, so 1 <= mustExpire <= live.
    const retryAfterMs = cost > limit ? periodMs : (entries[first + mustExpire - 1] ?? nowMs) + periodMs - nowMs;
    return { allowed: false, current, retryAfterMs };
  },

  lua: `
local function sliding_log(key, limit, period, unit, now, cost)
  local n = redis.call('LLEN', key)
  local cutoff = now - period
  local lo, hi = 0, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if tonumber(redis.call('LINDEX', key, mid)) > cutoff then hi = mid else lo = mid + 1 end
  end
  local first = lo
  local live = n - first
  local newest = now
  if n > 0 then newest = tonumber(redis.call('LINDEX', key, -1)) end
  local remaining, reset = math.max(0, math.floor(limit - live)), 0
  if live > 0 then reset = newest + period - now end
  if live + cost <= limit then
    local stamp = math.max(now, newest)
    local reset_after = stamp + period - now
    return 1, remaining, reset, 0, math.max(0, math.floor(limit - (live + cost))), reset_after, function()
      if first > 0 then redis.call('LTRIM', key, first, -1) end
      local left = cost
      while left > 0 do
        local batch = {}
        for i = 1, math.min(left, 1000) do batch[i] = stamp end
        redis.call('RPUSH', key, unpack(batch))
        left = left - #batch
      end
      redis.call('PEXPIRE', key, math.max(1, reset_after))
    end
  end
  local retry = period
  if cost <= limit then
    local must_expire = math.ceil(live + cost - limit)
    retry = tonumber(redis.call('LINDEX', key, first + must_expire - 1)) + period - now
  end
  return 0, remaining, reset, retry
end
`,
};

/** Index of the first entry later than `cutoff` (entries ascending), or entries.length. */
function firstAfter(entries: readonly number[], cutoff: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((entries[mid] ?? Infinity) > cutoff) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
