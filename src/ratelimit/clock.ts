/**
 * The time source of the rate-limit algorithms. Everything in src/ratelimit/algorithms is a
 * pure function of (state, now); the clock is injected so tests can drive time by hand.
 * Times are integer milliseconds since the Unix epoch.
 */
export interface Clock {
  nowMs(): number;
}

/** The process's wall clock (`Date.now()`). */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
};

/**
 * A clock that only moves when told to. Starts at `startMs` (default 2024-01-01T00:00:00Z, a
 * round UTC instant so window boundaries in tests are easy to reason about).
 */
export class FakeClock implements Clock {
  private now: number;

  constructor(startMs = Date.UTC(2024, 0, 1)) {
    this.now = checkMs(startMs);
  }

  nowMs(): number {
    return this.now;
  }

  /** Moves the clock to an absolute time. */
  set(ms: number): void {
    this.now = checkMs(ms);
  }

  /** Moves the clock forward (or back, with a negative step) by `ms`. */
  advance(ms: number): void {
    this.now = checkMs(this.now + ms);
  }
}

function checkMs(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`clock time must be a non-negative integer of milliseconds, got ${ms}`);
  }
  return ms;
}
