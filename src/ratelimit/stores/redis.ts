import type { Cluster, Redis } from 'ioredis';
import { assertValidRequest, combineVerdicts } from '../algorithms/decision.js';
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

/**
 * The shared store: each decision is one Lua script run (EVALSHA, EVAL when the server
 * answers NOSCRIPT) that checks and updates every window of the request atomically, with
 * TTLs so idle keys expire. All windows of a key share a hash tag, so it works on Redis
 * Cluster. The store owns its client: close() quits it.
 */
export class RedisStore implements Store {
  private readonly client: Redis | Cluster;
  private readonly prefix: string;
  private readonly clock: Clock | undefined;

  constructor(options: RedisStoreOptions) {
    this.client = options.client;
    this.prefix = options.prefix ?? DEFAULT_KEY_PREFIX;
    this.clock = options.clock;
    assertValidPrefix(this.prefix);
  }

  async decide(key: string, windows: readonly WindowSpec[], cost = 1): Promise<Decision> {
    assertValidRequest(key, windows, cost);
    const keys = windows.map((w) => windowKey(this.prefix, key, w.unit, w.algorithm));
    const args: Array<string | number> = [this.clock ? this.clock.nowMs() : '', cost];
    for (const w of windows) args.push(w.algorithm, w.unit, w.limit, PERIOD_MS[w.unit]);
    let reply: unknown;
    try {
      reply = await this.run(keys, args);
    } catch (err) {
      throw fromRedisError(err);
    }
    return combineVerdicts(windows, parseReply(reply, windows.length));
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
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

/** Turns the script's flat reply into per-window verdicts (see redis-script.ts). */
function parseReply(reply: unknown, windowCount: number): WindowVerdict[] {
  if (!Array.isArray(reply) || reply.length !== 2 + 4 * windowCount || !reply.every((n) => typeof n === 'number')) {
    throw new RateLimitStoreError('bad-reply', `redis rate-limit store: unexpected script reply ${JSON.stringify(reply)}`);
  }
  const all = reply[0] === 1;
  const verdicts: WindowVerdict[] = [];
  for (let i = 0; i < windowCount; i++) {
    const [allowed = 0, remaining = 0, resetMs = 0, retryAfterMs = 0] = reply.slice(2 + 4 * i, 6 + 4 * i) as number[];
    const capacity = { remaining, resetMs };
    verdicts.push({ allowed: allowed === 1, current: capacity, retryAfterMs, ...(all ? { admitted: capacity } : {}) });
  }
  return verdicts;
}
