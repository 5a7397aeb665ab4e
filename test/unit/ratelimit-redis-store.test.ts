/**
 * The Redis store against a real redis-server started on a free port: the Lua twins decide
 * exactly as the TypeScript algorithms do, several store instances stay exact under
 * concurrency, keys expire and share one Cluster slot, EVALSHA falls back to EVAL, and a
 * dead Redis is a typed error the store recovers from on its own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Cluster, Redis } from 'ioredis';
import { ALGORITHM_NAMES, PERIOD_MS, fixedWindowBounds } from '../../src/ratelimit/algorithms/index.js';
import type { AlgorithmName, Decision, WindowSpec } from '../../src/ratelimit/algorithms/index.js';
import { FakeClock } from '../../src/ratelimit/clock.js';
import { RateLimitStoreError } from '../../src/ratelimit/stores/errors.js';
import { MemoryStore } from '../../src/ratelimit/stores/memory.js';
import { createRedisClient, createRedisClusterClient, whenReady } from '../../src/redis-client.js';
import type { RedisConnection } from '../../src/redis-client.js';
import { DECIDE_SHA } from '../../src/ratelimit/stores/redis-script.js';
import { windowKey } from '../../src/ratelimit/stores/redis-keys.js';
import { RedisStore } from '../../src/ratelimit/stores/redis.js';
import { startRedisServer, waitFor } from '../support/redis-server.js';
import type { RedisServer } from '../support/redis-server.js';

const open: RedisStore[] = [];

async function redisStore(target: string | RedisConnection, opts: { clock?: FakeClock; prefix?: string } = {}): Promise<RedisStore> {
  const client = createRedisClient(target);
  await whenReady(client);
  const store = new RedisStore({ client, ...opts });
  open.push(store);
  return store;
}

after(async () => {
  await Promise.all(open.map((s) => s.close()));
});

describe('redis store', () => {
  let server: RedisServer;
  let admin: Redis;
  before(async () => {
    server = await startRedisServer();
    admin = createRedisClient(server.url);
    await whenReady(admin);
  });
  after(async () => {
    admin.disconnect();
    await server.stop();
  });

  describe('decides exactly as the memory store (Lua twin = TypeScript), step for step', () => {
    const traces: Array<{ name: string; start: number; stepMs: number; windows: WindowSpec[] }> = [];
    for (const algorithm of ALGORITHM_NAMES) {
      traces.push({
        name: `${algorithm}: seconds to months, across a month end`,
        start: Date.UTC(2024, 1, 29, 23, 58, 0),
        stepMs: 700,
        windows: [
          { unit: 'second', limit: 3, algorithm },
          { unit: 'minute', limit: 40, algorithm },
          { unit: 'month', limit: 300, algorithm },
        ],
      });
      traces.push({
        name: `${algorithm}: hours to years, across many month and year ends`,
        start: Date.UTC(2023, 10, 20),
        stepMs: 6 * 3_600_000,
        windows: [
          { unit: 'hour', limit: 2, algorithm },
          { unit: 'day', limit: 5, algorithm },
          { unit: 'year', limit: 200, algorithm },
        ],
      });
    }
    traces.push({
      name: 'all five algorithms in one decision',
      start: Date.UTC(2024, 5, 1),
      stepMs: 400,
      windows: ALGORITHM_NAMES.map((algorithm, i) => ({ unit: 'second', limit: 3 + i, algorithm })),
    });

    for (const trace of traces) {
      test(trace.name, async () => {
        const clock = new FakeClock(trace.start);
        const memory = new MemoryStore({ clock, sweepIntervalMs: 0 });
        const redis = await redisStore(server.url, { clock, prefix: `parity:${traces.indexOf(trace)}:` });
        const rand = prng(traces.indexOf(trace) + 1);
        let admitted = 0;
        let refused = 0;
        for (let i = 0; i < 400; i++) {
          clock.advance(Math.floor(rand() * trace.stepMs));
          const key = rand() < 0.8 ? 'alice' : 'bob {x}';
          const cost = rand() < 0.85 ? 1 : 2;
          const expected = await memory.decide(key, trace.windows, cost);
          const actual = await redis.decide(key, trace.windows, cost);
          assert.deepEqual(actual, expected, `step ${i} at ${new Date(clock.nowMs()).toISOString()}`);
          if (expected.allowed) admitted++;
          else refused++;
        }
        assert.ok(admitted > 20 && refused > 20, `the trace exercises both outcomes (${admitted}/${refused})`);
        await memory.close();
      });
    }
  });

  test('the Lua calendar agrees with JavaScript\'s on month and year windows, 1970 to 2200', async () => {
    const clock = new FakeClock(0);
    const store = await redisStore(server.url, { clock, prefix: 'calendar:' });
    const rand = prng(42);
    const instants = [
      Date.UTC(2000, 1, 29, 12), Date.UTC(2100, 1, 28, 23, 59, 59, 999), Date.UTC(2100, 2, 1), Date.UTC(1970, 0, 1),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999), Date.UTC(2025, 0, 1), Date.UTC(2023, 1, 28, 23, 59, 59, 999),
      ...Array.from({ length: 300 }, () => Math.floor(rand() * Date.UTC(2200, 0, 1))),
    ];
    for (const [i, t] of instants.entries()) {
      clock.set(t);
      const d = await store.decide(`t${i}`, [{ unit: 'month', limit: 1, algorithm: 'fixed-window' }, { unit: 'year', limit: 1, algorithm: 'fixed-window' }]);
      const at = new Date(t).toISOString();
      assert.equal(d.windows[0]?.resetMs, fixedWindowBounds('month', t).endMs - t, `month at ${at}`);
      assert.equal(d.windows[1]?.resetMs, fixedWindowBounds('year', t).endMs - t, `year at ${at}`);
    }
  });

  test('uses Redis TIME as the clock by default', async () => {
    const store = await redisStore(server.url, { prefix: 'time:' });
    const before = Date.now();
    const d = await store.decide('k', [{ unit: 'year', limit: 5, algorithm: 'fixed-window' }]);
    const after = Date.now();
    const end = fixedWindowBounds('year', before).endMs;
    assert.ok(d.binding.resetMs <= end - before && d.binding.resetMs >= end - after - 1_000, `${d.binding.resetMs}`);
  });

  test('each window key gets a TTL: the time until its state equals a fresh one', async () => {
    const clock = new FakeClock(Date.UTC(2024, 0, 1, 0, 0, 15));
    const store = await redisStore(server.url, { clock, prefix: 'ttl:' });
    const windows: WindowSpec[] = ALGORITHM_NAMES.map((algorithm) => ({ unit: 'minute', limit: 10, algorithm }));
    const d = await store.decide('k', windows);
    for (const w of d.windows) {
      const pttl = await admin.pttl(windowKey('ttl:', 'k', w.unit, w.algorithm));
      assert.ok(pttl > w.resetMs - 1_000 && pttl <= w.resetMs, `${w.algorithm}: pttl ${pttl}, reset ${w.resetMs}`);
    }
    assert.deepEqual(
      Object.fromEntries(d.windows.map((w) => [w.algorithm, w.resetMs])),
      { 'token-bucket': 6_000, 'leaky-bucket': 6_000, 'fixed-window': 45_000, 'sliding-window': 105_000, 'sliding-log': 60_000 },
    );
  });

  test('a refused request writes nothing', async () => {
    const clock = new FakeClock();
    const store = await redisStore(server.url, { clock, prefix: 'refused:' });
    const windows: WindowSpec[] = [{ unit: 'second', limit: 1, algorithm: 'fixed-window' }, { unit: 'hour', limit: 9, algorithm: 'sliding-log' }];
    await store.decide('k', windows);
    for (let i = 0; i < 5; i++) assert.equal((await store.decide('k', windows)).allowed, false);
    assert.equal(await admin.llen(windowKey('refused:', 'k', 'hour', 'sliding-log')), 1);
  });

  test('recovers from a flushed script cache: NOSCRIPT falls back to EVAL', async () => {
    const store = await redisStore(server.url, { prefix: 'noscript:' });
    await store.decide('k', [{ unit: 'minute', limit: 5, algorithm: 'token-bucket' }]);
    await server.command('SCRIPT', 'FLUSH');
    assert.deepEqual(await admin.script('EXISTS', DECIDE_SHA), [0]);
    const d = await store.decide('k', [{ unit: 'minute', limit: 5, algorithm: 'token-bucket' }]);
    assert.equal(d.binding.remaining, 3);
    assert.deepEqual(await admin.script('EXISTS', DECIDE_SHA), [1]);
  });

  test('two stores on two connections, concurrent clients: exactly N admitted (Redis TIME)', async () => {
    const a = await redisStore(server.url, { prefix: 'race:' });
    const b = await redisStore(server.url, { prefix: 'race:' });
    const N = 25;
    for (const algorithm of ALGORITHM_NAMES) {
      const windows: WindowSpec[] = [{ unit: 'year', limit: N, algorithm }];
      const results = await Promise.all(Array.from({ length: 8 * N }, (_, i) => (i % 2 ? a : b).decide(`race-${algorithm}`, windows)));
      assert.equal(results.filter((d) => d.allowed).length, N, algorithm);
    }
  });

  test('two stores, concurrent clients: exactly N admitted in each window, window after window', async () => {
    const clock = new FakeClock(Date.UTC(2024, 0, 1));
    const a = await redisStore(server.url, { clock, prefix: 'windows:' });
    const b = await redisStore(server.url, { clock, prefix: 'windows:' });
    const N = 10;
    for (const algorithm of ALGORITHM_NAMES) {
      const windows: WindowSpec[] = [{ unit: 'second', limit: N, algorithm }, { unit: 'hour', limit: 10 * N, algorithm }];
      for (let round = 0; round < 3; round++) {
        clock.set(Date.UTC(2024, 0, 1) + round * 2 * PERIOD_MS.second);
        const results = await Promise.all(Array.from({ length: 5 * N }, (_, i) => (i % 2 ? a : b).decide(`win-${algorithm}`, windows)));
        assert.equal(results.filter((d) => d.allowed).length, N, `${algorithm}, window ${round}`);
      }
    }
  });

  test('a script error (a foreign value under our key) is a typed "rejected" error', async () => {
    const store = await redisStore(server.url, { prefix: 'wrongtype:' });
    await admin.set(windowKey('wrongtype:', 'k', 'minute', 'token-bucket'), 'not a hash');
    await assert.rejects(store.decide('k', [{ unit: 'minute', limit: 5, algorithm: 'token-bucket' }]), (err: unknown) => {
      assert.ok(err instanceof RateLimitStoreError);
      assert.equal(err.reason, 'rejected');
      assert.match(err.message, /WRONGTYPE/);
      return true;
    });
  });

  test('concurrent decisions share script runs, each still decided on its own: a foreign value fails only its own request', async () => {
    const store = await redisStore(server.url, { prefix: 'batch:' });
    await admin.set(windowKey('batch:', 'bad', 'minute', 'fixed-window'), 'not a hash');
    await server.command('CONFIG', 'RESETSTAT');
    const windows: WindowSpec[] = [{ unit: 'minute', limit: 30, algorithm: 'fixed-window' }];
    const outcomes = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => store.decide(i === 7 ? 'bad' : 'good', windows)));
    const bad = outcomes[7]!;
    assert.ok(bad.status === 'rejected' && bad.reason instanceof RateLimitStoreError && bad.reason.reason === 'rejected' && /WRONGTYPE/.test(bad.reason.message));
    const good = outcomes.filter((o, i) => i !== 7).map((o) => (o.status === 'fulfilled' ? o.value.allowed : 'error'));
    assert.equal(good.filter((a) => a === true).length, 30);
    assert.equal(good.filter((a) => a === false).length, 29);
    const stats = String(await server.command('INFO', 'commandstats'));
    const runs = Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    assert.ok(runs >= 1 && runs < 60, `60 decisions in ${runs} script runs`);
  });

  test('a Redis that does not answer in time is a typed "timeout" error', async () => {
    const store = await redisStore({ host: '127.0.0.1', port: server.port, commandTimeoutMs: 100 }, { prefix: 'slow:' });
    await server.command('CLIENT', 'PAUSE', '5000', 'WRITE'); // scripts wait; CLIENT UNPAUSE does not
    try {
      await assert.rejects(store.decide('k', [{ unit: 'minute', limit: 5, algorithm: 'fixed-window' }]), (err: unknown) => {
        assert.ok(err instanceof RateLimitStoreError);
        assert.equal(err.reason, 'timeout');
        return true;
      });
    } finally {
      await server.command('CLIENT', 'UNPAUSE');
    }
  });
});

describe('redis store when Redis dies', () => {
  test('decisions fail fast with a typed error while Redis is down, and recover on their own', async () => {
    const server = await startRedisServer();
    try {
      const store = await redisStore(server.url, { prefix: 'crash:' });
      const windows: WindowSpec[] = [{ unit: 'minute', limit: 1_000, algorithm: 'token-bucket' }];
      assert.equal((await store.decide('k', windows)).allowed, true);

      // Kill it while a stream of decisions is in flight: each one resolves or fails typed.
      let stop = false;
      const outcomes: Array<'ok' | 'typed'> = [];
      const stream = (async () => {
        while (!stop) {
          await store.decide('k', windows).then(
            () => outcomes.push('ok'),
            (err: unknown) => {
              assert.ok(err instanceof RateLimitStoreError, `typed error, got ${String(err)}`);
              outcomes.push('typed');
            },
          );
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await waitFor(() => outcomes.length >= 20, 5_000, 'decisions before the crash');
      await server.kill();
      await waitFor(() => outcomes.at(-1) === 'typed', 5_000, 'a failed decision after the crash');

      const started = Date.now();
      await assert.rejects(store.decide('k', windows), (err: unknown) => err instanceof RateLimitStoreError && err.reason === 'unavailable');
      assert.ok(Date.now() - started < 500, 'fails fast, no offline queue');

      await server.restart();
      await waitFor(() => outcomes.at(-1) === 'ok', 10_000, 'decisions to succeed again after the restart');
      stop = true;
      await stream;
      assert.equal((await store.decide('k', windows)).allowed, true);
    } finally {
      await server.stop();
    }
  });
});

describe('redis store on Redis Cluster', () => {
  let server: RedisServer;
  let client: Cluster;
  before(async () => {
    server = await startRedisServer({ cluster: true });
    client = createRedisClusterClient([{ host: '127.0.0.1', port: server.port }]);
    await whenReady(client);
  });
  after(async () => {
    client.disconnect();
    await server.stop();
  });

  test('all windows of a key share one hash slot, whatever the key holds', async () => {
    await assert.rejects(server.command('EVAL', 'return 1', '2', 'a', 'b'), /CROSSSLOT/, 'the server does check slots');
    const store = new RedisStore({ client });
    const windows: WindowSpec[] = ALGORITHM_NAMES.map((algorithm: AlgorithmName, i) => ({ unit: i % 2 ? 'second' : 'hour', limit: 3, algorithm }));
    for (const key of ['consumer|3f1c', '', '{', '}', '}{', 'a{b}c', '%7B', 'ünïcode ☃']) {
      const d: Decision = await store.decide(key, windows);
      assert.equal(d.allowed, true, JSON.stringify(key));
      const slots = new Set(await Promise.all(windows.map((w) => server.command('CLUSTER', 'KEYSLOT', windowKey('fd:rl:', key, w.unit, w.algorithm)))));
      assert.equal(slots.size, 1, JSON.stringify(key));
    }
    await store.close();
  });
});

/** mulberry32: a seeded PRNG so traces are the same on every run. */
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
