/**
 * The in-memory store: decisions per key, expiry of idle state, the size bound, and the
 * Store contract (all-or-nothing over windows, typed results).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WindowSpec } from '../../src/ratelimit/algorithms/index.js';
import { FakeClock } from '../../src/ratelimit/clock.js';
import { MemoryStore } from '../../src/ratelimit/stores/memory.js';

const MINUTE = 60_000;
const perMinute = (limit: number, algorithm: WindowSpec['algorithm'] = 'fixed-window'): WindowSpec[] => [{ unit: 'minute', limit, algorithm }];

describe('memory store', () => {
  test('keeps each key apart', async () => {
    const store = new MemoryStore({ clock: new FakeClock(), sweepIntervalMs: 0 });
    assert.equal((await store.decide('a', perMinute(1))).allowed, true);
    assert.equal((await store.decide('a', perMinute(1))).allowed, false);
    assert.equal((await store.decide('b', perMinute(1))).allowed, true);
    await store.close();
  });

  test('keeps the same key\'s windows apart by unit and algorithm', async () => {
    const store = new MemoryStore({ clock: new FakeClock(), sweepIntervalMs: 0 });
    await store.decide('k', perMinute(1, 'fixed-window'));
    assert.equal((await store.decide('k', perMinute(1, 'sliding-log'))).allowed, true);
    assert.equal((await store.decide('k', [{ unit: 'hour', limit: 1, algorithm: 'fixed-window' }])).allowed, true);
    await store.close();
  });

  test('a refused multi-window request consumes nothing', async () => {
    const store = new MemoryStore({ clock: new FakeClock(), sweepIntervalMs: 0 });
    const windows: WindowSpec[] = [{ unit: 'second', limit: 1, algorithm: 'token-bucket' }, { unit: 'hour', limit: 5, algorithm: 'sliding-log' }];
    await store.decide('k', windows);
    for (let i = 0; i < 10; i++) assert.equal((await store.decide('k', windows)).allowed, false);
    const d = await store.decide('k', [windows[1]!]);
    assert.equal(d.binding.remaining, 3, 'only the first and this request counted in the hour');
    await store.close();
  });

  test('a limit changed live applies to the state already counted', async () => {
    const store = new MemoryStore({ clock: new FakeClock(), sweepIntervalMs: 0 });
    for (let i = 0; i < 3; i++) await store.decide('k', perMinute(5));
    const d = await store.decide('k', perMinute(3));
    assert.equal(d.allowed, false);
    assert.equal((await store.decide('k', perMinute(10))).binding.remaining, 6);
    await store.close();
  });

  test('state expires once it equals a fresh one, and sweep() removes it', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, sweepIntervalMs: 0 });
    await store.decide('a', perMinute(5, 'token-bucket')); // full again after 12 s
    await store.decide('b', perMinute(5, 'sliding-window')); // counts until the end of the next window
    assert.equal(store.size, 2);
    clock.advance(12_000);
    assert.equal(store.sweep(), 1);
    assert.equal(store.size, 1);
    clock.advance(2 * MINUTE);
    assert.equal(store.sweep(), 1);
    assert.equal(store.size, 0);
    await store.close();
  });

  test('reading an expired entry treats it as fresh', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, sweepIntervalMs: 0 });
    await store.decide('k', perMinute(1));
    clock.advance(MINUTE);
    assert.equal((await store.decide('k', perMinute(1))).allowed, true);
    await store.close();
  });

  test('is bounded: beyond maxEntries the least recently used state goes', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, sweepIntervalMs: 0, maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await store.decide(k, perMinute(1));
    await store.decide('a', perMinute(1)); // refused, but 'a' is now the most recently used
    await store.decide('d', perMinute(1));
    assert.equal(store.size, 3);
    assert.equal(store.evictions, 1);
    assert.equal((await store.decide('a', perMinute(1))).allowed, false, 'a was kept');
    assert.equal((await store.decide('b', perMinute(1))).allowed, true, 'b was evicted and starts over');
    await store.close();
  });

  test('sweeps on its own timer', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, sweepIntervalMs: 1_000 });
    await store.decide('k', perMinute(1));
    clock.advance(MINUTE);
    t.mock.timers.tick(1_000);
    assert.equal(store.size, 0);
    await store.close();
  });

  test('rejects malformed requests', async () => {
    const store = new MemoryStore({ sweepIntervalMs: 0 });
    await assert.rejects(store.decide('k', []), RangeError);
    await assert.rejects(store.decide('k', perMinute(1), 0), RangeError);
    assert.throws(() => new MemoryStore({ maxEntries: 0 }), RangeError);
    await store.close();
  });
});
