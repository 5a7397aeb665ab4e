import { fixedWindowBounds } from './periods.js';
import type { Algorithm, Evaluation, WindowParams } from './types.js';

/** A fixed window's state: the cost counted in the window that starts at `startMs`. */
export interface FixedWindowState {
  startMs: number;
  count: number;
}

/**
 * Fixed window, Kong's own algorithm: one counter per window, windows aligned as Kong aligns
 * them (UTC; months and years on the calendar). A request passes if count + cost <= limit.
 * Cheap and exact within a window, but a client can spend the limit at the end of one window
 * and again at the start of the next: up to 2 x limit in a moment.
 */
export const fixedWindow: Algorithm<FixedWindowState> = {
  name: 'fixed-window',
  luaFunction: 'fixed_window',

  evaluate(state, { unit, limit, periodMs }: WindowParams, nowMs, cost): Evaluation<FixedWindowState> {
    const { startMs, endMs } = fixedWindowBounds(unit, nowMs);
    const count = state !== undefined && state.startMs === startMs ? state.count : 0;
    const resetMs = endMs - nowMs;
    const current = { remaining: Math.max(0, Math.floor(limit - count)), resetMs };
    if (count + cost <= limit) {
      const after = count + cost;
      return {
        allowed: true,
        current,
        retryAfterMs: 0,
        admitted: {
          remaining: Math.max(0, Math.floor(limit - after)),
          resetMs,
          commit: () => ({ startMs, count: after }),
        },
      };
    }
    return { allowed: false, current, retryAfterMs: cost > limit ? periodMs : resetMs };
  },

  lua: `
local function fixed_window(key, limit, period, unit, now, cost)
  local start, finish = window_bounds(unit, period, now)
  local s = redis.call('HMGET', key, 'start', 'count')
  local count = 0
  if tonumber(s[1]) == start then count = tonumber(s[2]) or 0 end
  local reset = finish - now
  local remaining = math.max(0, math.floor(limit - count))
  if count + cost <= limit then
    local after = count + cost
    return 1, remaining, reset, 0, math.max(0, math.floor(limit - after)), reset, function()
      redis.call('HSET', key, 'start', start, 'count', after)
      redis.call('PEXPIRE', key, math.max(1, reset))
    end
  end
  local retry = reset
  if cost > limit then retry = period end
  return 0, remaining, reset, retry
end
`,
};
