import type { Cluster, Redis } from 'ioredis';
import { assertValidKeyAndCost, assertValidWindows, combineVerdicts } from '../algorithms/decision.js';
import type { WindowVerdict } from '../algorithms/decision.js';
import { PERIOD_MS } from '../algorithms/periods.js';
import type { Decision, WindowSpec } from '../algorithms/types.js';
import type { Clock } from '../clock.js';
import { RateLimitStoreError, fromRedisError } from './errors.js';
import { DECIDE_LUA, DECIDE_SHA } from './redis-script.js';
import { DEFAULT_KEY_PREFIX, assertValidPrefix, windowKey } from './redis-keys.js';
import type { Store } from './store.js';

/** Options of the Redis store. */
export interface RedisStoreOptions {
  /** A standalone or Cluster client, best made by createRedisClient (fail-fast settings). */
  client: Redis | Cluster;
  /** Key namespace; default `fd:rl:`. */
  prefix?: string;
  /**
   * Where "now" comes from. Default: Redis TIME inside the script, one clock for every
   * gateway instance. A Clock here is for tests that need to drive time.
   */
  clock?: Clock;
}

const validWindows = new WeakSet<readonly WindowSpec[]>();

/** Requests decided in one script run at most (a bigger queue waits for the next run). */
const MAX_BATCH = 256;

/** A decision waiting for its script run; its keys and arguments are written when the run is built. */
interface Pending {
  key: string;
  cost: number;
  windows: readonly WindowSpec[];
  resolve(d: Decision): void;
  reject(e: RateLimitStoreError): void;
}

/**
 * The shared store: each decision is part of one Lua script run (EVALSHA, EVAL when the server
 * answers NOSCRIPT) that checks and updates every window of the request atomically, with
 * TTLs so idle keys expire. All windows of a key share a hash tag, so it works on Redis
 * Cluster. The store owns its client: close() quits it.
 *
 * On a standalone Redis, decisions are batched as envoyproxy/ratelimit pipelines within its
 * REDIS_PIPELINE_WINDOW, but without a fixed window: while one script run is in flight, the
 * decisions that arrive wait for it and go together in the next run. An idle store sends a
 * decision at once (after the current event-loop turn); a busy one sends one command per Redis
 * round trip instead of one per decision, which costs both processes far less CPU. Each request
 * is still decided on its own within the run (exactly N admitted holds), and a decision waits
 * at most for the run ahead of it: two command timeouts in the worst case. On Redis Cluster each
 * decision is its own run (a batch's keys would span slots).
 */
export class RedisStore implements Store {
  private readonly client: Redis | Cluster;
  private readonly prefix: string;
  private readonly clock: Clock | undefined;
  private readonly batching: boolean;
  private queue: Pending[] = [];
  private inFlight = false;
  private scheduled = false;
  private readonly flushNow = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(options: RedisStoreOptions) {
    this.client = options.client;
    this.prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
    this.clock = options.clock;
    this.batching = !(options.client as { isCluster?: boolean }).isCluster;
    assertValidPrefix(this.prefix);
  }

  decide(key: string, windows: readonly WindowSpec[], cost = 1): Promise<Decision> {
    // The service passes the same window list for every decision of a policy: checked once.
    assertValidKeyAndCost(key, cost);
    if (!validWindows.has(windows)) {
      assertValidWindows(windows);
      validWindows.add(windows);
    }
    return new Promise<Decision>((resolve, reject) => {
      const p: Pending = { key, cost, windows, resolve, reject };
      if (!this.batching) {
        void this.send([p]);
        return;
      }
      this.queue.push(p);
      this.schedule();
    });
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /** After this event-loop turn (the decisions its I/O brings go along), unless a run is in flight. */
  private schedule(): void {
    if (this.inFlight || this.scheduled || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(this.flushNow);
  }

  private flush(): void {
    if (this.inFlight || this.queue.length === 0) return;
    let batch: Pending[];
    if (this.queue.length <= MAX_BATCH) {
      batch = this.queue;
      this.queue = [];
    } else {
      batch = this.queue.splice(0, MAX_BATCH);
    }
    this.inFlight = true;
    void this.send(batch).finally(() => {
      this.inFlight = false;
      this.schedule();
    });
  }

  /** One script run for `batch`; settles every decision in it. */
  private async send(batch: Pending[]): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | number> = [this.clock ? this.clock.nowMs() : '', batch.length];
    // Per request: its windows' keys; in ARGV its cost, its window count, then per window
    // algorithm, unit, limit, period.
    for (const p of batch) {
      args.push(p.cost, p.windows.length);
      for (const w of p.windows) {
        keys.push(windowKey(this.prefix, p.key, w.unit, w.algorithm));
        args.push(w.algorithm, w.unit, w.limit, PERIOD_MS[w.unit]);
      }
    }
    let reply: unknown;
    try {
      reply = await this.run(keys, args);
    } catch (err) {
      const e = fromRedisError(err);
      for (const p of batch) p.reject(e);
      return;
    }
    settle(batch, reply);
  }

  private async run(keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await this.client.evalsha(DECIDE_SHA, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
      return await this.client.eval(DECIDE_LUA, keys.length, ...keys, ...args);
    }
  }
}

/** Turns the script's flat reply into each request's Decision (see redis-script.ts). */
function settle(batch: Pending[], reply: unknown): void {
  const expected = 1 + batch.reduce((n, p) => n + 1 + 4 * p.windows.length, 0);
  if (!Array.isArray(reply) || reply.length !== expected) {
    const e = new RateLimitStoreError('bad-reply', `redis rate-limit store: unexpected script reply ${JSON.stringify(reply)?.slice(0, 200)}`);
    for (const p of batch) p.reject(e);
    return;
  }
  let at = 1;
  for (const p of batch) {
    const n = p.windows.length;
    const status = reply[at];
    if (status === -1) {
      p.reject(new RateLimitStoreError('rejected', `redis rate-limit store rejected: ${String(reply[at + 1])}`));
    } else {
      const verdicts = parseVerdicts(reply, at, n);
      if (verdicts) p.resolve(combineVerdicts(p.windows, verdicts));
      else p.reject(new RateLimitStoreError('bad-reply', `redis rate-limit store: unexpected script reply ${JSON.stringify(reply.slice(at, at + 1 + 4 * n))}`));
    }
    at += 1 + 4 * n;
  }
}

/** One request's per-window verdicts from its slot of the reply, or undefined if malformed. */
function parseVerdicts(reply: unknown[], at: number, windowCount: number): WindowVerdict[] | undefined {
  const all = reply[at];
  if (all !== 0 && all !== 1) return undefined;
  const verdicts: WindowVerdict[] = new Array(windowCount);
  for (let i = 0; i < windowCount; i++) {
    const o = at + 1 + 4 * i;
    const allowed = reply[o], remaining = reply[o + 1], resetMs = reply[o + 2], retryAfterMs = reply[o + 3];
    if (typeof allowed !== 'number' || typeof remaining !== 'number' || typeof resetMs !== 'number' || typeof retryAfterMs !== 'number') return undefined;
    const capacity = { remaining, resetMs };
    verdicts[i] = all === 1 ? { allowed: allowed === 1, current: capacity, retryAfterMs, admitted: capacity } : { allowed: allowed === 1, current: capacity, retryAfterMs };
  }
  return verdicts;
}
