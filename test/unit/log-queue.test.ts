/**
 * Kong's queue as the log companion keeps it (src/log/queue.ts), on a driven clock: batches by
 * size and by coalescing delay, exponential back-off between tries, a batch dropped after
 * max_retry_time, and a full queue dropping its oldest entries (counted) without waiting.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KongQueue, type QueueClock, type QueueLimits } from '../../src/log/queue.js';

/** A clock the test moves: timers fire when `advance` passes their time. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 0;
  const clock: QueueClock = {
    now: () => now,
    setTimeout: (fn, ms) => { const id = next++; timers.push({ at: now + ms, fn, id }); return id; },
    clearTimeout: (id) => { timers = timers.filter((t) => t.id !== id); },
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    clock,
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        await settle();
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (!t || t.at > end) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = end;
      await settle();
    },
  };
}

const LIMITS: QueueLimits = { maxBatchSize: 3, maxCoalescingDelayS: 1, maxEntries: 10, maxRetryTimeS: 60, initialRetryDelayS: 0.01, maxRetryDelayS: 60, concurrencyLimit: 1 };

describe('Kong\'s queue', () => {
  test('a full batch goes at once; a partial one after max_coalescing_delay', async () => {
    const t = fakeClock();
    const sent: number[][] = [];
    const q = new KongQueue<number>(LIMITS, async (b) => { sent.push(b); }, t.clock);
    for (const n of [1, 2, 3, 4]) q.push(n);
    await t.advance(0);
    assert.deepEqual(sent, [[1, 2, 3]]);
    await t.advance(999);
    assert.deepEqual(sent, [[1, 2, 3]]);
    await t.advance(1);
    assert.deepEqual(sent, [[1, 2, 3], [4]]);
    assert.equal(q.counts.sent, 4);
  });

  test('a failing sink is retried with doubling delays up to max_retry_delay, then the batch is dropped after max_retry_time', async () => {
    const t = fakeClock();
    const tries: number[] = [];
    const q = new KongQueue<number>({ ...LIMITS, maxBatchSize: 1, initialRetryDelayS: 1, maxRetryDelayS: 4, maxRetryTimeS: 20 }, async () => { tries.push(t.clock.now()); throw new Error('down'); }, t.clock);
    q.push(1);
    await t.advance(30_000);
    // Tries at 0, then +1 s, +2 s, +4 s, +4 s ... while the next try is within 20 s of the first.
    assert.deepEqual(tries, [0, 1000, 3000, 7000, 11000, 15000, 19000]);
    assert.equal(q.counts.droppedRetries, 1);
  });

  test('a sink that recovers gets the batch it refused, and the ones queued behind it', async () => {
    const t = fakeClock();
    let up = false;
    const sent: number[][] = [];
    const q = new KongQueue<number>({ ...LIMITS, maxBatchSize: 2 }, async (b) => { if (!up) throw new Error('down'); sent.push(b); }, t.clock);
    for (const n of [1, 2, 3, 4, 5]) q.push(n);
    await t.advance(500);
    assert.deepEqual(sent, []);
    up = true;
    await t.advance(5000);
    assert.deepEqual(sent.flat(), [1, 2, 3, 4, 5]);
  });

  test('a full queue drops its oldest entries, counts them, and never waits', async () => {
    const t = fakeClock();
    const sent: number[][] = [];
    let release: () => void = () => undefined;
    const q = new KongQueue<number>({ ...LIMITS, maxBatchSize: 1, maxEntries: 3 }, (b) => new Promise<void>((r) => { sent.push(b); release = r; }), t.clock);
    for (let n = 1; n <= 6; n++) q.push(n); // 1 goes out (held by the sink); 2..6 queue, bounded to 3
    assert.equal(q.length, 3);
    assert.equal(q.counts.droppedFull, 2);
    for (let i = 0; i < 4; i++) { release(); await t.advance(0); }
    assert.deepEqual(sent.flat(), [1, 4, 5, 6]);
  });
});
