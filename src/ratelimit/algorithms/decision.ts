import { PERIOD_MS } from './periods.js';
import { ALGORITHM_NAMES, UNITS } from './types.js';
import type { Capacity, Decision, WindowDecision, WindowSpec } from './types.js';

/** One window's verdict as an algorithm (TypeScript or Lua) reports it. */
export interface WindowVerdict {
  allowed: boolean;
  current: Capacity;
  retryAfterMs: number;
  /** Present when `allowed`. */
  admitted?: Capacity;
}

/**
 * Checks a decision request; a violation is a programmer error (the model and the IR only
 * produce valid limits), so it throws a RangeError rather than returning a diagnostic.
 */
export function assertValidRequest(key: string, windows: readonly WindowSpec[], cost: number): void {
  assertValidKeyAndCost(key, cost);
  assertValidWindows(windows);
}

/** The part of assertValidRequest that changes with each request. */
export function assertValidKeyAndCost(key: string, cost: number): void {
  if (typeof key !== 'string') throw new RangeError('rate-limit key must be a string');
  if (!Number.isSafeInteger(cost) || cost < 1) throw new RangeError(`cost must be a positive integer, got ${cost}`);
}

/** The part of assertValidRequest that a policy fixes: its windows. */
export function assertValidWindows(windows: readonly WindowSpec[]): void {
  if (windows.length === 0) throw new RangeError('a rate-limit decision needs at least one window');
  const seen = new Set<string>();
  for (const w of windows) {
    if (!UNITS.includes(w.unit)) throw new RangeError(`unknown rate-limit unit "${w.unit}"`);
    if (!ALGORITHM_NAMES.includes(w.algorithm)) throw new RangeError(`unknown rate-limit algorithm "${w.algorithm}"`);
    if (!(Number.isFinite(w.limit) && w.limit > 0)) throw new RangeError(`limit must be a positive number, got ${w.limit}`);
    const id = `${w.unit}/${w.algorithm}`;
    if (seen.has(id)) throw new RangeError(`window ${id} appears twice in one decision`);
    seen.add(id);
  }
}

/**
 * Combines per-window verdicts into the request's Decision: admitted only if every window
 * admits it. An admitted request reports each window after consumption; a refused one
 * reports every window as it stands, since nothing was consumed anywhere.
 */
export function combineVerdicts(windows: readonly WindowSpec[], verdicts: readonly WindowVerdict[]): Decision {
  const allowed = verdicts.every((v) => v.allowed);
  const out: WindowDecision[] = windows.map((w, i) => {
    const v = verdicts[i];
    if (!v) throw new Error(`combineVerdicts: no verdict for window ${i} of ${windows.length}`);
    const capacity = allowed && v.admitted ? v.admitted : v.current;
    return {
      unit: w.unit,
      algorithm: w.algorithm,
      limit: w.limit,
      allowed: v.allowed,
      remaining: capacity.remaining,
      resetMs: capacity.resetMs,
      retryAfterMs: v.allowed ? 0 : v.retryAfterMs,
    };
  });
  const retryAfterMs = allowed ? 0 : Math.max(...out.map((w) => w.retryAfterMs));
  return { allowed, retryAfterMs, windows: out, binding: bindingWindow(out, allowed) };
}

/** Kong's header choice: lowest remaining, ties to the longest period; refusing windows first. */
function bindingWindow(windows: readonly WindowDecision[], allowed: boolean): WindowDecision {
  const [first, ...rest] = allowed ? windows : windows.filter((w) => !w.allowed);
  if (!first) throw new Error('bindingWindow: no window (a decision has at least one, and a refusal one refusing window)');
  let best = first;
  for (const w of rest) {
    if (w.remaining < best.remaining || (w.remaining === best.remaining && PERIOD_MS[w.unit] > PERIOD_MS[best.unit])) {
      best = w;
    }
  }
  return best;
}
