import { assertValidRequest, combineVerdicts } from './decision.js';
import { fixedWindow } from './fixed-window.js';
import { leakyBucket } from './leaky-bucket.js';
import { PERIOD_MS } from './periods.js';
import { slidingLog } from './sliding-log.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';
import type { Algorithm, AlgorithmName, Decision, WindowSpec } from './types.js';

export * from './types.js';
export { PERIOD_MS, PERIOD_SECONDS, fixedWindowBounds } from './periods.js';
export { assertValidRequest, combineVerdicts } from './decision.js';
export type { WindowVerdict } from './decision.js';
export type { TokenBucketState } from './token-bucket.js';
export type { LeakyBucketState } from './leaky-bucket.js';
export type { FixedWindowState } from './fixed-window.js';
export type { SlidingWindowState } from './sliding-window.js';
export type { SlidingLogState } from './sliding-log.js';
export { tokenBucket, leakyBucket, fixedWindow, slidingWindow, slidingLog };

/** Every algorithm by name. */
export const algorithms: Readonly<Record<AlgorithmName, Algorithm<unknown>>> = {
  'token-bucket': tokenBucket as Algorithm<unknown>,
  'fixed-window': fixedWindow as Algorithm<unknown>,
  'sliding-window': slidingWindow as Algorithm<unknown>,
  'sliding-log': slidingLog as Algorithm<unknown>,
  'leaky-bucket': leakyBucket as Algorithm<unknown>,
};

/** A decision worked out but not yet applied: `commit()` returns the states to store. */
export interface PlannedDecision {
  decision: Decision;
  /** Only when `decision.allowed`: the next state and its TTL for each window, in order. */
  commit(): Array<{ state: unknown; ttlMs: number }>;
}

/**
 * Decides a request against several windows at once, purely: `states[i]` is the stored state
 * of `windows[i]` (undefined when none). The request passes only if every window admits it;
 * a refused request changes no state.
 */
export function planDecision(
  states: readonly unknown[],
  windows: readonly WindowSpec[],
  nowMs: number,
  cost = 1,
): PlannedDecision {
  assertValidRequest('', windows, cost);
  const evaluations = windows.map((w, i) =>
    algorithms[w.algorithm].evaluate(states[i], { unit: w.unit, limit: w.limit, periodMs: PERIOD_MS[w.unit] }, nowMs, cost),
  );
  const decision = combineVerdicts(windows, evaluations);
  return {
    decision,
    commit() {
      if (!decision.allowed) throw new Error('a refused decision has nothing to commit');
      return evaluations.map((e) => ({ state: e.admitted!.commit(), ttlMs: Math.max(1, e.admitted!.resetMs) }));
    },
  };
}
