/**
 * Kong's fixed windows, shared by the ratelimit companion's algorithms and response-ratelimiting's
 * counters (the transform companion). Pure: the clock is an argument.
 */
import type { RateLimitPeriod } from './rate-limits.js';

/** Kong's period lengths (KONG_PERIOD_SECONDS: a month 30 days, a year 365) in milliseconds. */
export const PERIOD_MS: Readonly<Record<RateLimitPeriod, number>> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  month: 2_592_000_000,
  year: 31_536_000_000,
};

/** A half-open interval [startMs, endMs). */
export interface Bounds {
  startMs: number;
  endMs: number;
}

/**
 * The fixed window holding `nowMs`, aligned as Kong aligns its counters
 * (kong/tools/timestamp.lua): second, minute, hour and day on UTC boundaries (multiples of
 * the period since the epoch), month and year on UTC calendar boundaries (the 1st of the
 * month, the 1st of January), so their length follows the calendar.
 */
export function fixedWindowBounds(unit: RateLimitPeriod, nowMs: number): Bounds {
  if (unit === 'month' || unit === 'year') {
    const d = new Date(nowMs);
    const year = d.getUTCFullYear();
    if (unit === 'year') return { startMs: Date.UTC(year, 0, 1), endMs: Date.UTC(year + 1, 0, 1) };
    const month = d.getUTCMonth();
    return { startMs: Date.UTC(year, month, 1), endMs: Date.UTC(year, month + 1, 1) };
  }
  const period = PERIOD_MS[unit];
  const startMs = Math.floor(nowMs / period) * period;
  return { startMs, endMs: startMs + period };
}
