// The refusal cache in front of the Redis store: a key over its limit is refused without a
// round trip until the refusal's retry time, with the figures the store itself would give
// then; everything else (admissions, several windows, other algorithms, an unhealthy store)
// asks the store. The store here is the memory store on a clock the test moves.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Decision, WindowSpec } from '../../src/ratelimit/algorithms/types.js';
import { FakeClock } from '../../src/ratelimit/clock.js';
import { MemoryStore } from '../../src/ratelimit/stores/memory.js';
import { RefusalCache } from '../../src/ratelimit/stores/refusal-cache.js';
import type { Store } from '../../src/ratelimit/stores/store.js';

class Counting implements Store {
  calls = 0;
  constructor(private readonly inner: Store) {}
  decide(key: string, windows: readonly WindowSpec[], cost?: number): Promise<Decision> {
    this.calls++;
    return this.inner.decide(key, windows, cost);
  }
  close(): Promise<void> { return this.inner.close(); }
}

function setup(healthy = () => true) {
  const clock = new FakeClock();
  const store = new Counting(new MemoryStore({ clock }));
  const cache = new RefusalCache(store, { healthy, nowMs: () => clock.nowMs() });
  return { clock, store, cache };
}

const minute = (limit: number, algorithm: WindowSpec['algorithm'] = 'token-bucket'): WindowSpec[] => [{ unit: 'minute', limit, algorithm }];

describe('refusal cache', () => {
  test('a token bucket over its limit: refused from the cache with the wait shrinking, then the store admits again', async () => {
    const { clock, store, cache } = setup();
    assert.equal((await cache.decide('k', minute(2))).allowed, true);
    assert.equal((await cache.decide('k', minute(2))).allowed, true);
    const first = await cache.decide('k', minute(2));
    assert.equal(first.allowed, false);
    // 2 per minute: the next token is back 30 s after the bucket ran dry.
    assert.equal(first.retryAfterMs, 30_000);
    assert.equal(store.calls, 3);
    clock.advance(5_000);
    const cached = await cache.decide('k', minute(2));
    assert.equal(store.calls, 3, 'no store call');
    assert.equal(cache.hits, 1);
    assert.equal(cached.allowed, false);
    assert.equal(cached.retryAfterMs, 25_000);
    assert.equal(cached.binding.remaining, 0);
    // What the store itself says at that moment: the same figures.
    const direct = await store.decide('k', minute(2));
    assert.deepEqual(cached, direct);
    clock.advance(25_000);
    assert.equal((await cache.decide('k', minute(2))).allowed, true, 'at the retry time the store is asked, and admits');
    assert.equal(store.calls, 5);
  });

  test('a fixed window over its limit: cached until the window ends, its reset shrinking with it', async () => {
    const { clock, store, cache } = setup();
    clock.set(Date.UTC(2024, 0, 1, 0, 0, 10));
    assert.equal((await cache.decide('f', minute(1, 'fixed-window'))).allowed, true);
    const refused = await cache.decide('f', minute(1, 'fixed-window'));
    assert.equal(refused.retryAfterMs, 50_000, 'the minute ends 50 s later');
    clock.advance(20_000);
    const cached = await cache.decide('f', minute(1, 'fixed-window'));
    assert.equal(store.calls, 2);
    assert.deepEqual(cached, await store.decide('f', minute(1, 'fixed-window')));
    clock.advance(30_000);
    assert.equal((await cache.decide('f', minute(1, 'fixed-window'))).allowed, true);
  });

  test('several windows, the rolling algorithms and admissions always ask the store', async () => {
    const { store, cache } = setup();
    const two: WindowSpec[] = [{ unit: 'second', limit: 1, algorithm: 'token-bucket' }, { unit: 'hour', limit: 5, algorithm: 'token-bucket' }];
    await cache.decide('w', two);
    await cache.decide('w', two);
    await cache.decide('w', two);
    await cache.decide('s', minute(1, 'sliding-window'));
    await cache.decide('s', minute(1, 'sliding-window'));
    await cache.decide('s', minute(1, 'sliding-window'));
    assert.equal(store.calls, 6);
    assert.equal(cache.hits, 0);
  });

  test('a different limit or cost is another entry; an unhealthy store is always asked', async () => {
    let healthy = true;
    const { store, cache } = setup(() => healthy);
    await cache.decide('k', minute(1));
    await cache.decide('k', minute(1));
    assert.equal(store.calls, 2);
    await cache.decide('k', minute(1));
    assert.equal(store.calls, 2, 'cached');
    await cache.decide('k', minute(3));
    assert.equal(store.calls, 3, 'a changed limit is asked about at once');
    healthy = false;
    await cache.decide('k', minute(1));
    assert.equal(store.calls, 4, 'unhealthy: the store decides (and its failure is the plugin\'s fault_tolerant case)');
  });
});
