import { searchRetryMs } from './retry.js';
import type { Algorithm, Evaluation, WindowParams } from './types.js';

/**
 * A sliding window's state: the cost counted in the window starting at `startMs` and in the
 * window just before it.
 */
export interface SlidingWindowState {
  startMs: number;
  count: number;
  previous: number;
}

/**
 * Sliding window (weighted counter). Windows of the period's length are aligned on multiples
 * of it since the epoch; the previous window's count is weighted by the share of it that the
 * sliding window [now - period, now] still covers:
 * estimate = previous x (period - elapsed) / period + count. A request passes if
 * estimate + cost <= limit. Two counters per key, and no 2 x limit burst at a window edge.
 */
export const slidingWindow: Algorithm<SlidingWindowState> = {
  name: 'sliding-window',
  luaFunction: 'sliding_window',

  evaluate(state, { limit, periodMs }: WindowParams, nowMs, cost): Evaluation<SlidingWindowState> {
    const at = rollTo(state, nowMs, periodMs);
    const estimateAt = (t: number) => {
      const s = rollTo(at, t, periodMs);
      return (s.previous * (periodMs - Math.max(0, t - s.startMs))) / periodMs + s.count;
    };
    const estimate = estimateAt(nowMs);
    const current = { remaining: Math.max(0, Math.floor(limit - estimate)), resetMs: resetOf(at, nowMs, periodMs) };
    if (estimate + cost <= limit) {
      const next = { startMs: at.startMs, count: at.count + cost, previous: at.previous };
      return {
        allowed: true,
        current,
        retryAfterMs: 0,
        admitted: {
          remaining: Math.max(0, Math.floor(limit - (estimate + cost))),
          resetMs: resetOf(next, nowMs, periodMs),
          commit: () => next,
        },
      };
    }
    const retryAfterMs =
      cost > limit
        ? periodMs
        : searchRetryMs((t) => estimateAt(t) + cost <= limit, nowMs, at.startMs + 2 * periodMs - nowMs);
    return { allowed: false, current, retryAfterMs };
  },

  lua: `
local function sliding_window(key, limit, period, unit, now, cost)
  local function roll(start, count, previous, t)
    local w = math.floor(t / period) * period
    if start == nil then return w, 0, 0 end
    if start >= w then return start, count, previous end
    if start == w - period then return w, 0, count end
    return w, 0, 0
  end
  local s = redis.call('HMGET', key, 'start', 'count', 'previous')
  local start, count, previous = roll(tonumber(s[1]), tonumber(s[2]) or 0, tonumber(s[3]) or 0, now)
  local function estimate_at(t)
    local s2, c2, p2 = roll(start, count, previous, t)
    return (p2 * (period - math.max(0, t - s2))) / period + c2
  end
  local function reset_of(c, p)
    if c > 0 then return start + 2 * period - now end
    if p > 0 then return start + period - now end
    return 0
  end
  local estimate = estimate_at(now)
  local remaining, reset = math.max(0, math.floor(limit - estimate)), reset_of(count, previous)
  if estimate + cost <= limit then
    local after = count + cost
    local reset_after = reset_of(after, previous)
    return 1, remaining, reset, 0, math.max(0, math.floor(limit - (estimate + cost))), reset_after, function()
      redis.call('HSET', key, 'start', start, 'count', after, 'previous', previous)
      redis.call('PEXPIRE', key, math.max(1, reset_after))
    end
  end
  local retry = period
  if cost <= limit then
    retry = search_retry(function(t) return estimate_at(t) + cost <= limit end, now, start + 2 * period - now)
  end
  return 0, remaining, reset, retry
end
`,
};

/** The state as seen from time `t`: windows that ended are rolled into `previous` or dropped. */
function rollTo(state: SlidingWindowState | undefined, t: number, periodMs: number): SlidingWindowState {
  const w = Math.floor(t / periodMs) * periodMs;
  if (state === undefined) return { startMs: w, count: 0, previous: 0 };
  if (state.startMs >= w) return state; // same window (or the clock stepped back: keep counting)
  if (state.startMs === w - periodMs) return { startMs: w, count: 0, previous: state.count };
  return { startMs: w, count: 0, previous: 0 };
}

/** Ms until the estimate decays to zero: the current count weighs until the end of the next window. */
function resetOf(s: SlidingWindowState, nowMs: number, periodMs: number): number {
  if (s.count > 0) return s.startMs + 2 * periodMs - nowMs;
  if (s.previous > 0) return s.startMs + periodMs - nowMs;
  return 0;
}
