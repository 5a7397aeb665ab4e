/**
 * The rate-limit algorithms, pure, against a fake clock: boundaries, bursts, refill, the
 * fixed-window double burst and how the others avoid it, multi-window all-or-nothing, and
 * the exactness of Retry-After.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALGORITHM_NAMES, PERIOD_MS, fixedWindowBounds, planDecision } from '../../src/ratelimit/algorithms/index.js';
import type { AlgorithmName, Decision, Unit, WindowSpec } from '../../src/ratelimit/algorithms/index.js';
import { FakeClock } from '../../src/ratelimit/clock.js';

const T0 = Date.UTC(2024, 0, 1); // a Monday, on every window boundary
const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A single-key limiter over the pure algorithms: keeps the states, asks planDecision. */
function limiter(windows: WindowSpec[], clock: FakeClock) {
  let states: unknown[] = windows.map(() => undefined);
  return {
    hit(cost = 1): Decision {
      const plan = planDecision(states, windows, clock.nowMs(), cost);
      if (plan.decision.allowed) states = plan.commit().map((c) => c.state);
      return plan.decision;
    },
    /** The decision a request would get at `atMs`, without consuming anything. */
    peek(atMs: number, cost = 1): Decision {
      return planDecision(structuredClone(states), windows, atMs, cost).decision;
    },
  };
}

function one(algorithm: AlgorithmName, limit: number, unit: Unit = 'minute', start = T0) {
  const clock = new FakeClock(start);
  return { clock, rl: limiter([{ unit, limit, algorithm }], clock) };
}

function hits(rl: ReturnType<typeof limiter>, n: number): boolean[] {
  return Array.from({ length: n }, () => rl.hit().allowed);
}

const count = (xs: boolean[]) => xs.filter(Boolean).length;

describe('periods', () => {
  test('use Kong\'s fixed period lengths', () => {
    assert.deepEqual(PERIOD_MS, {
      second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000, month: 2_592_000_000, year: 31_536_000_000,
    });
  });

  test('fixed windows are UTC-aligned; months and years follow the calendar, as Kong counts', () => {
    const t = Date.UTC(2024, 1, 29, 13, 45, 30, 250);
    assert.deepEqual(fixedWindowBounds('second', t), { startMs: t - 250, endMs: t + 750 });
    assert.deepEqual(fixedWindowBounds('minute', t), { startMs: Date.UTC(2024, 1, 29, 13, 45), endMs: Date.UTC(2024, 1, 29, 13, 46) });
    assert.deepEqual(fixedWindowBounds('hour', t), { startMs: Date.UTC(2024, 1, 29, 13), endMs: Date.UTC(2024, 1, 29, 14) });
    assert.deepEqual(fixedWindowBounds('day', t), { startMs: Date.UTC(2024, 1, 29), endMs: Date.UTC(2024, 2, 1) });
    assert.deepEqual(fixedWindowBounds('month', t), { startMs: Date.UTC(2024, 1, 1), endMs: Date.UTC(2024, 2, 1) });
    assert.deepEqual(fixedWindowBounds('year', t), { startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2025, 0, 1) });
    assert.deepEqual(fixedWindowBounds('month', Date.UTC(2023, 11, 31, 23, 59, 59, 999)), { startMs: Date.UTC(2023, 11, 1), endMs: Date.UTC(2024, 0, 1) });
  });
});

describe('FakeClock', () => {
  test('moves only when told, and refuses non-integer or negative times', () => {
    const c = new FakeClock(1_000);
    assert.equal(c.nowMs(), 1_000);
    c.advance(250);
    assert.equal(c.nowMs(), 1_250);
    c.set(5);
    assert.equal(c.nowMs(), 5);
    assert.throws(() => c.set(1.5), RangeError);
    assert.throws(() => c.advance(-10), RangeError);
  });
});

describe('token bucket', () => {
  test('starts full: a burst of the limit passes at once, the next is refused', () => {
    const { rl } = one('token-bucket', 10);
    const first = rl.hit();
    assert.equal(first.allowed, true);
    assert.equal(first.binding.remaining, 9);
    assert.equal(first.binding.resetMs, 6 * SECOND, 'one token takes period/limit to come back');
    assert.equal(count(hits(rl, 9)), 9);
    const refused = rl.hit();
    assert.equal(refused.allowed, false);
    assert.equal(refused.binding.remaining, 0);
    assert.equal(refused.retryAfterMs, 6 * SECOND);
    assert.equal(refused.binding.resetMs, MINUTE, 'an empty bucket is full again after one period');
  });

  test('refills evenly, one token per period/limit, never beyond the capacity', () => {
    const { rl, clock } = one('token-bucket', 10);
    hits(rl, 10);
    clock.advance(5_999);
    assert.equal(rl.hit().allowed, false);
    clock.advance(1);
    assert.equal(rl.hit().allowed, true);
    assert.equal(rl.hit().allowed, false);
    clock.advance(3 * SECOND);
    const half = rl.hit();
    assert.equal(half.allowed, false);
    assert.equal(half.retryAfterMs, 3 * SECOND);
    clock.advance(10 * MINUTE);
    assert.equal(count(hits(rl, 15)), 10, 'idle time does not bank more than the capacity');
  });

  test('a request costing more than the tokens left is refused and takes none', () => {
    const { rl } = one('token-bucket', 5);
    assert.equal(rl.hit(3).allowed, true);
    const refused = rl.hit(3);
    assert.equal(refused.allowed, false);
    assert.equal(refused.binding.remaining, 2);
    assert.equal(rl.hit(2).allowed, true);
  });
});

describe('leaky bucket (meter)', () => {
  test('admits while the level after pouring stays within the capacity, drains at limit/period', () => {
    const { rl, clock } = one('leaky-bucket', 4, 'second');
    assert.equal(count(hits(rl, 6)), 4);
    const refused = rl.hit();
    assert.equal(refused.retryAfterMs, 250);
    assert.equal(refused.binding.resetMs, SECOND, 'a full bucket is empty after one period');
    clock.advance(250);
    assert.deepEqual(hits(rl, 2), [true, false]);
    clock.advance(SECOND);
    assert.equal(count(hits(rl, 6)), 4);
  });

  test('decides like the token bucket with the same limit, request for request', () => {
    const clock = new FakeClock(T0);
    const leaky = limiter([{ unit: 'minute', limit: 7, algorithm: 'leaky-bucket' }], clock);
    const token = limiter([{ unit: 'minute', limit: 7, algorithm: 'token-bucket' }], clock);
    const rand = prng(7);
    for (let i = 0; i < 2_000; i++) {
      clock.advance(Math.floor(rand() * 9_000));
      const cost = 1 + Math.floor(rand() * 2);
      const a = leaky.hit(cost);
      const b = token.hit(cost);
      assert.equal(a.allowed, b.allowed, `request ${i}`);
      assert.equal(a.binding.remaining, b.binding.remaining, `request ${i}`);
    }
  });
});

describe('fixed window', () => {
  test('counts up to the limit in a window, then refuses until the window ends', () => {
    const { rl, clock } = one('fixed-window', 3);
    clock.advance(20 * SECOND);
    assert.deepEqual(hits(rl, 4), [true, true, true, false]);
    const refused = rl.hit();
    assert.equal(refused.binding.remaining, 0);
    assert.equal(refused.retryAfterMs, 40 * SECOND);
    assert.equal(refused.binding.resetMs, 40 * SECOND);
    clock.advance(40 * SECOND - 1);
    assert.equal(rl.hit().allowed, false);
    clock.advance(1);
    const fresh = rl.hit();
    assert.equal(fresh.allowed, true);
    assert.equal(fresh.binding.remaining, 2);
    assert.equal(fresh.binding.resetMs, MINUTE);
  });

  test('lets a double burst through at the window edge: 2 x limit within 100 ms', () => {
    const { rl, clock } = one('fixed-window', 10);
    clock.advance(59_900);
    assert.equal(count(hits(rl, 10)), 10);
    clock.advance(100);
    assert.equal(count(hits(rl, 10)), 10);
  });

  test('a month window follows the calendar (February 2024 has 29 days)', () => {
    const { rl, clock } = one('fixed-window', 2, 'month', Date.UTC(2024, 1, 1));
    const first = rl.hit();
    assert.equal(first.binding.resetMs, 29 * 86_400_000);
    rl.hit();
    clock.set(Date.UTC(2024, 2, 1) - 1);
    const refused = rl.hit();
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, 1);
    clock.set(Date.UTC(2024, 2, 1));
    assert.equal(rl.hit().allowed, true);
  });
});

describe('sliding window', () => {
  test('weights the previous window by how much of it the sliding window still covers', () => {
    const { rl, clock } = one('sliding-window', 10);
    assert.equal(count(hits(rl, 12)), 10);
    clock.set(T0 + MINUTE + 30 * SECOND); // previous window (10) weighs 50%: estimate 5
    const d = rl.hit();
    assert.equal(d.allowed, true);
    assert.equal(d.binding.remaining, 4);
    assert.equal(count(hits(rl, 10)), 4);
    clock.set(T0 + 3 * MINUTE); // two idle windows: nothing counts any more
    assert.equal(count(hits(rl, 12)), 10);
  });

  test('avoids the double burst at the window edge', () => {
    const { rl, clock } = one('sliding-window', 10);
    clock.advance(59_900);
    assert.equal(count(hits(rl, 10)), 10);
    clock.advance(100);
    const refused = rl.hit();
    assert.equal(refused.allowed, false, 'the previous window still weighs 100%');
    // estimate = 10 x (60000 - e) / 60000 <= 9  <=>  e >= 6000
    assert.equal(refused.retryAfterMs, 6 * SECOND);
    assert.equal(refused.binding.resetMs, MINUTE, 'the previous window stops counting when this one ends');
  });

  test('resetMs after a request is the end of the next window, when the request stops counting', () => {
    const { rl, clock } = one('sliding-window', 10);
    clock.advance(15 * SECOND);
    assert.equal(rl.hit().binding.resetMs, 2 * MINUTE - 15 * SECOND);
  });
});

describe('sliding log', () => {
  test('is exact: a request counts for exactly one period after it was admitted', () => {
    const { rl, clock } = one('sliding-log', 3);
    for (const at of [0, 20, 40]) {
      clock.set(T0 + at * SECOND);
      assert.equal(rl.hit().allowed, true);
    }
    clock.set(T0 + 50 * SECOND);
    const refused = rl.hit();
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, 10 * SECOND, 'the entry at 0 s expires at 60 s');
    assert.equal(refused.binding.resetMs, 50 * SECOND, 'the entry at 40 s expires at 100 s');
    clock.set(T0 + MINUTE - 1);
    assert.equal(rl.hit().allowed, false);
    clock.set(T0 + MINUTE);
    assert.equal(rl.hit().allowed, true);
  });

  test('avoids the double burst: after a burst the next unit is free one period later', () => {
    const { rl, clock } = one('sliding-log', 10);
    clock.advance(59_900);
    assert.equal(count(hits(rl, 10)), 10);
    clock.advance(100);
    const refused = rl.hit();
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, MINUTE - 100);
  });

  test('a request of cost n takes n entries and waits for n to expire', () => {
    const { rl, clock } = one('sliding-log', 4);
    rl.hit(2);
    clock.advance(10 * SECOND);
    rl.hit(2);
    const refused = rl.hit(3);
    assert.equal(refused.allowed, false);
    assert.equal(refused.binding.remaining, 0);
    assert.equal(refused.retryAfterMs, MINUTE, 'needs the second pair to expire too');
  });
});

describe('every algorithm', () => {
  for (const algorithm of ALGORITHM_NAMES) {
    test(`${algorithm}: never admits more than the limit in a burst, and says so in remaining`, () => {
      const { rl } = one(algorithm, 5);
      const ds = Array.from({ length: 7 }, () => rl.hit());
      assert.deepEqual(ds.map((d) => d.allowed), [true, true, true, true, true, false, false]);
      assert.deepEqual(ds.map((d) => d.binding.remaining), [4, 3, 2, 1, 0, 0, 0]);
      assert.ok(ds.every((d) => d.binding.limit === 5));
    });

    test(`${algorithm}: retryAfterMs is exact: refused 1 ms earlier, admitted then`, () => {
      const clock = new FakeClock(T0 + 123);
      const rl = limiter([{ unit: 'second', limit: 3, algorithm }, { unit: 'minute', limit: 20, algorithm }], clock);
      const rand = prng(algorithm.length);
      let refusals = 0;
      for (let i = 0; i < 600; i++) {
        clock.advance(Math.floor(rand() * 400));
        const d = rl.hit();
        if (d.allowed) continue;
        refusals++;
        const at = clock.nowMs() + d.retryAfterMs;
        assert.equal(rl.peek(at).allowed, true, `admitted after retryAfterMs (${i})`);
        assert.equal(rl.peek(at - 1).allowed, false, `refused 1 ms before (${i})`);
      }
      assert.ok(refusals > 50, 'the trace exercises refusals');
    });

    test(`${algorithm}: a cost above the limit never passes and asks to wait a period`, () => {
      const { rl } = one(algorithm, 3);
      const d = rl.hit(4);
      assert.equal(d.allowed, false);
      assert.equal(d.retryAfterMs, MINUTE);
      assert.equal(rl.hit(3).allowed, true, 'and consumed nothing');
    });

    test(`${algorithm}: never admits more than the limit over any period (plus refill for buckets)`, () => {
      const clock = new FakeClock(T0);
      const rl = limiter([{ unit: 'second', limit: 5, algorithm }], clock);
      const admitted: number[] = [];
      const rand = prng(99);
      for (let i = 0; i < 3_000; i++) {
        clock.advance(Math.floor(rand() * 120));
        if (rl.hit().allowed) admitted.push(clock.nowMs());
      }
      const bound = (from: number, to: number): number =>
        algorithm === 'fixed-window' || algorithm === 'sliding-window'
          ? 10 // these two may admit up to 2 x limit across a window edge
          : algorithm === 'sliding-log'
            ? 5
            : 5 + Math.floor(((to - from) * 5) / SECOND); // bucket: capacity + refill
      for (let i = 0; i < admitted.length; i++) {
        let j = i;
        const start = admitted[i]!;
        while (j < admitted.length && admitted[j]! - start < SECOND) j++;
        assert.ok(j - i <= bound(start, admitted[j - 1]!), `${j - i} admitted in one second from ${start}`);
      }
      if (algorithm === 'fixed-window') {
        const perWindow = new Map<number, number>();
        for (const t of admitted) perWindow.set(Math.floor(t / SECOND), (perWindow.get(Math.floor(t / SECOND)) ?? 0) + 1);
        assert.ok([...perWindow.values()].every((n) => n <= 5));
      }
    });
  }
});

describe('several windows at once', () => {
  test('a request passes only if every window admits it; a refusal consumes nothing anywhere', () => {
    const clock = new FakeClock(T0);
    const rl = limiter([{ unit: 'minute', limit: 2, algorithm: 'fixed-window' }, { unit: 'hour', limit: 3, algorithm: 'fixed-window' }], clock);
    assert.deepEqual(hits(rl, 2), [true, true]);
    const byMinute = rl.hit();
    assert.equal(byMinute.allowed, false);
    assert.deepEqual(byMinute.windows.map((w) => [w.unit, w.allowed, w.remaining]), [['minute', false, 0], ['hour', true, 1]]);
    assert.equal(byMinute.binding.unit, 'minute', 'the refusing window describes the refusal');
    clock.advance(MINUTE);
    assert.deepEqual(hits(rl, 2), [true, false], 'the hour still had exactly one left');
    clock.advance(MINUTE);
    const byHour = rl.hit();
    assert.equal(byHour.allowed, false);
    assert.deepEqual(byHour.windows.map((w) => w.allowed), [true, false]);
    assert.equal(byHour.windows[0]?.remaining, 2, 'the minute window reports itself unconsumed');
    assert.equal(byHour.retryAfterMs, HOUR - 2 * MINUTE);
  });

  test('refused by two windows: retryAfterMs waits for both', () => {
    const clock = new FakeClock(T0);
    const rl = limiter([{ unit: 'second', limit: 1, algorithm: 'sliding-log' }, { unit: 'minute', limit: 1, algorithm: 'token-bucket' }], clock);
    rl.hit();
    const d = rl.hit();
    assert.deepEqual(d.windows.map((w) => w.retryAfterMs), [SECOND, MINUTE]);
    assert.equal(d.retryAfterMs, MINUTE);
  });

  test('mixes algorithms; the binding window has the lowest remaining, ties going to the longer period', () => {
    const clock = new FakeClock(T0);
    const rl = limiter([
      { unit: 'second', limit: 5, algorithm: 'token-bucket' },
      { unit: 'minute', limit: 5, algorithm: 'sliding-window' },
      { unit: 'hour', limit: 100, algorithm: 'sliding-log' },
    ], clock);
    const d = rl.hit();
    assert.equal(d.allowed, true);
    assert.deepEqual(d.windows.map((w) => w.remaining), [4, 4, 99]);
    assert.equal(d.binding.unit, 'minute');
  });

  test('refuses malformed requests as programmer errors', () => {
    const w: WindowSpec = { unit: 'minute', limit: 1, algorithm: 'token-bucket' };
    assert.throws(() => planDecision([], [], T0), /at least one window/);
    assert.throws(() => planDecision([undefined], [w], T0, 0), /cost/);
    assert.throws(() => planDecision([undefined], [w], T0, 1.5), /cost/);
    assert.throws(() => planDecision([undefined, undefined], [w, w], T0), /twice/);
    assert.throws(() => planDecision([undefined], [{ ...w, limit: 0 }], T0), /limit/);
    assert.throws(() => planDecision([undefined], [{ ...w, unit: 'week' as Unit }], T0), /unit/);
    assert.throws(() => planDecision([undefined], [{ ...w, algorithm: 'gcra' as AlgorithmName }], T0), /algorithm/);
  });
});

/** A small deterministic PRNG (mulberry32), so random traces are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
