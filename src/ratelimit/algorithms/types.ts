/**
 * The vocabulary shared by the rate-limit algorithms and the stores that run them.
 * Times are integer milliseconds; limits are positive numbers (Kong allows fractions);
 * costs are positive integers (one request costs 1).
 */

import { RATE_LIMIT_ALGORITHMS, RATE_LIMIT_PERIODS, type RateLimitAlgorithm, type RateLimitPeriod } from '../../rate-limits.js';

/** Kong's limit periods, shortest first. */
export const UNITS = RATE_LIMIT_PERIODS;
export type Unit = RateLimitPeriod;

/** The algorithms Frontdesk offers (the `algorithm` extension of Kong's rate-limiting). */
export const ALGORITHM_NAMES = RATE_LIMIT_ALGORITHMS;
export type AlgorithmName = RateLimitAlgorithm;

/** One limit of a request: `limit` units of cost per `unit`, enforced by `algorithm`. */
export interface WindowSpec {
  unit: Unit;
  limit: number;
  algorithm: AlgorithmName;
}

/** What an algorithm needs to know about the window it evaluates. */
export interface WindowParams {
  unit: Unit;
  limit: number;
  /** Length of the period in ms (Kong's fixed sizes, see periods.ts). */
  periodMs: number;
}

/** Remaining capacity and time to full capacity, as reported in rate-limit headers. */
export interface Capacity {
  /** Whole units of cost still available, never negative. */
  remaining: number;
  /** Ms until the window/bucket is back at full capacity if nothing else arrives. */
  resetMs: number;
}

/**
 * One algorithm's verdict on one window. `evaluate` never mutates the state it is given;
 * `admitted.commit()` produces the state to keep once the whole request is admitted (it may
 * reuse the old state's storage, which must not be used afterwards).
 */
export interface Evaluation<S> {
  /** This window alone would admit the request. */
  allowed: boolean;
  /** The window as it stands, nothing consumed: what a refused request reports. */
  current: Capacity;
  /** When refused: ms until this window alone would admit the same request. 0 when allowed. */
  retryAfterMs: number;
  /** When allowed: the window after consuming the cost; `resetMs` is also the state's TTL. */
  admitted?: Capacity & { commit(): S };
}

/**
 * A rate-limit algorithm: a pure TypeScript evaluation over serialisable state, and its Lua
 * twin for Redis. Both must decide identically for the same state, time and request; the
 * Redis tests hold them to that.
 */
export interface Algorithm<S> {
  readonly name: AlgorithmName;
  evaluate(state: S | undefined, window: WindowParams, nowMs: number, cost: number): Evaluation<S>;
  /**
   * Lua source defining `local function <name>(key, limit, period, unit, now, cost)` that
   * returns `allowed (0|1), remaining, reset_ms, retry_ms, remaining_after, reset_after, write`
   * where `write` is a function that stores the admitted state (nil when refused).
   */
  readonly lua: string;
  /** The Lua function's name in `lua`. */
  readonly luaFunction: string;
}

/** The verdict on one window of a request, as the service reports it. */
export interface WindowDecision extends Capacity {
  unit: Unit;
  algorithm: AlgorithmName;
  limit: number;
  /** This window alone would admit the request. */
  allowed: boolean;
  /** When this window refuses: ms until it would admit the same request; else 0. */
  retryAfterMs: number;
}

/** The verdict on a whole request: admitted only if every window admits it. */
export interface Decision {
  allowed: boolean;
  /** 0 when allowed; else ms until every window would admit the same request. */
  retryAfterMs: number;
  /** One entry per requested window, in the order given. */
  windows: WindowDecision[];
  /**
   * The window Kong's RateLimit-Limit/Remaining/Reset headers describe: the lowest remaining,
   * ties going to the longest period; on a refusal, chosen among the refusing windows.
   */
  binding: WindowDecision;
}
