import { searchRetryMs } from './retry.js';
import type { Algorithm, Evaluation, WindowParams } from './types.js';

/** A token bucket's state: the tokens it held at `atMs`. A missing state is a full bucket. */
export interface TokenBucketState {
  tokens: number;
  atMs: number;
}

/**
 * Token bucket (the default). Capacity = limit; tokens flow back evenly, limit per period
 * (limit / periodMs per ms), up to the capacity. A request passes if the bucket holds at least
 * `cost` tokens, and takes them. Bursts up to the limit pass at once; after that the rate is
 * the refill rate, so no edge of a window ever lets 2 x limit through.
 */
export const tokenBucket: Algorithm<TokenBucketState> = {
  name: 'token-bucket',
  luaFunction: 'token_bucket',

  evaluate(state, { limit, periodMs }: WindowParams, nowMs, cost): Evaluation<TokenBucketState> {
    const last = state ?? { tokens: limit, atMs: nowMs };
    const tokensAt = (t: number) => Math.min(limit, last.tokens + (Math.max(0, t - last.atMs) * limit) / periodMs);
    const tokens = tokensAt(nowMs);
    const current = { remaining: Math.floor(tokens), resetMs: Math.ceil(((limit - tokens) * periodMs) / limit) };
    if (cost <= tokens) {
      const left = tokens - cost;
      return {
        allowed: true,
        current,
        retryAfterMs: 0,
        admitted: {
          remaining: Math.floor(left),
          resetMs: Math.ceil(((limit - left) * periodMs) / limit),
          commit: () => ({ tokens: left, atMs: Math.max(last.atMs, nowMs) }),
        },
      };
    }
    const retryAfterMs = cost > limit ? periodMs : searchRetryMs((t) => cost <= tokensAt(t), nowMs, periodMs);
    return { allowed: false, current, retryAfterMs };
  },

  lua: `
local function token_bucket(key, limit, period, unit, now, cost)
  local s = redis.call('HMGET', key, 'tokens', 'at')
  local tokens0, at = tonumber(s[1]), tonumber(s[2])
  if tokens0 == nil or at == nil then tokens0, at = limit, now end
  local function tokens_at(t)
    return math.min(limit, tokens0 + (math.max(0, t - at) * limit) / period)
  end
  local tokens = tokens_at(now)
  local remaining, reset = math.floor(tokens), math.ceil(((limit - tokens) * period) / limit)
  if cost <= tokens then
    local left = tokens - cost
    local reset_after = math.ceil(((limit - left) * period) / limit)
    return 1, remaining, reset, 0, math.floor(left), reset_after, function()
      redis.call('HSET', key, 'tokens', left, 'at', math.max(at, now))
      redis.call('PEXPIRE', key, math.max(1, reset_after))
    end
  end
  local retry = period
  if cost <= limit then
    retry = search_retry(function(t) return cost <= tokens_at(t) end, now, period)
  end
  return 0, remaining, reset, retry
end
`,
};
