import { searchRetryMs } from './retry.js';
import type { Algorithm, Evaluation, WindowParams } from './types.js';

/** A leaky bucket's state: its level at `atMs`. A missing state is an empty bucket. */
export interface LeakyBucketState {
  level: number;
  atMs: number;
}

/**
 * Leaky bucket as a meter (policing, no queue: Envoy asks yes or no, nothing is delayed).
 * The bucket drains evenly at limit per period; a request pours `cost` in and passes if the
 * level after pouring is at most the capacity (= limit). Mathematically this is the token
 * bucket seen from the other side (level = limit - tokens), so both decide alike; it is
 * offered under its own name because operators ask for it by that name.
 */
export const leakyBucket: Algorithm<LeakyBucketState> = {
  name: 'leaky-bucket',
  luaFunction: 'leaky_bucket',

  evaluate(state, { limit, periodMs }: WindowParams, nowMs, cost): Evaluation<LeakyBucketState> {
    const last = state ?? { level: 0, atMs: nowMs };
    const levelAt = (t: number) => Math.max(0, last.level - (Math.max(0, t - last.atMs) * limit) / periodMs);
    const level = levelAt(nowMs);
    const current = { remaining: Math.max(0, Math.floor(limit - level)), resetMs: Math.ceil((level * periodMs) / limit) };
    if (level + cost <= limit) {
      const after = level + cost;
      return {
        allowed: true,
        current,
        retryAfterMs: 0,
        admitted: {
          remaining: Math.max(0, Math.floor(limit - after)),
          resetMs: Math.ceil((after * periodMs) / limit),
          commit: () => ({ level: after, atMs: Math.max(last.atMs, nowMs) }),
        },
      };
    }
    const retryAfterMs = cost > limit ? periodMs : searchRetryMs((t) => levelAt(t) + cost <= limit, nowMs, periodMs);
    return { allowed: false, current, retryAfterMs };
  },

  lua: `
local function leaky_bucket(key, limit, period, unit, now, cost)
  local s = redis.call('HMGET', key, 'level', 'at')
  local level0, at = tonumber(s[1]), tonumber(s[2])
  if level0 == nil or at == nil then level0, at = 0, now end
  local function level_at(t)
    return math.max(0, level0 - (math.max(0, t - at) * limit) / period)
  end
  local level = level_at(now)
  local remaining, reset = math.max(0, math.floor(limit - level)), math.ceil((level * period) / limit)
  if level + cost <= limit then
    local after = level + cost
    local reset_after = math.ceil((after * period) / limit)
    return 1, remaining, reset, 0, math.max(0, math.floor(limit - after)), reset_after, function()
      redis.call('HSET', key, 'level', after, 'at', math.max(at, now))
      redis.call('PEXPIRE', key, math.max(1, reset_after))
    end
  end
  local retry = period
  if cost <= limit then
    retry = search_retry(function(t) return level_at(t) + cost <= limit end, now, period)
  end
  return 0, remaining, reset, retry
end
`,
};
