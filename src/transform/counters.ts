/**
 * The counters of response-ratelimiting: policy `local` in this companion's memory (Kong's
 * local policy counts per node; this counts per transform instance), policy `redis` in the
 * plugin's Redis, shared by every instance. A counter lives until its window ends.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Redis__Output as CounterRedis__Output } from '../contracts/generated/frontdesk/ratelimit/v1/Redis.js';
import { createRedisClient, whenReady, type RedisErrorListener } from '../redis-client.js';
import type { CounterKey } from './response-limits.js';

export interface CounterStore {
  /** The counts at `keys` (0 for a counter not set), in order. */
  read(keys: readonly CounterKey[]): Promise<number[]>;
  /** Adds to each counter; a counter set here ends with its window. */
  add(entries: ReadonlyArray<CounterKey & { by: number }>): Promise<void>;
}

/** The counters in memory, at most `maxKeys` (the oldest go first past that: Kong's shared dict drops its least used likewise). */
export class MemoryCounters implements CounterStore {
  private readonly counts = new Map<string, { value: number; endMs: number }>();

  constructor(private readonly now: () => number = Date.now, private readonly maxKeys = 100_000) {}

  get size(): number {
    return this.counts.size;
  }

  read(keys: readonly CounterKey[]): Promise<number[]> {
    const now = this.now();
    return Promise.resolve(keys.map((k) => {
      const c = this.counts.get(k.key);
      return c && c.endMs > now ? c.value : 0;
    }));
  }

  add(entries: ReadonlyArray<CounterKey & { by: number }>): Promise<void> {
    const now = this.now();
    for (const e of entries) {
      const c = this.counts.get(e.key);
      if (c && c.endMs > now) c.value += e.by;
      else {
        this.counts.delete(e.key);
        this.counts.set(e.key, { value: e.by, endMs: e.endMs });
      }
    }
    if (this.counts.size > this.maxKeys) this.sweep(now);
    return Promise.resolve();
  }

  /** Drops the counters whose window ended, then the oldest while still over the bound. */
  sweep(now = this.now()): void {
    for (const [k, c] of this.counts) if (c.endMs <= now) this.counts.delete(k);
    for (const k of this.counts.keys()) {
      if (this.counts.size <= this.maxKeys) break;
      this.counts.delete(k);
    }
  }
}

/** The counters in one Redis: a read is one MGET, an addition one pipeline (INCRBYFLOAT and PEXPIREAT at the window's end per counter); the commands of one event-loop turn go out in one write. */
export class RedisCounters implements CounterStore {
  constructor(private readonly client: Redis | Cluster, private readonly connectTimeoutMs: number) {}

  private async ready(): Promise<void> {
    // The first connection is waited for; a Redis gone away fails at once (fault_tolerant decides).
    if (this.client.status === 'connecting' || this.client.status === 'wait' || this.client.status === 'connect') await whenReady(this.client, this.connectTimeoutMs);
  }

  async read(keys: readonly CounterKey[]): Promise<number[]> {
    if (keys.length === 0) return [];
    await this.ready();
    const values = await this.client.mget(...keys.map((k) => k.key));
    return values.map((v) => (v === null ? 0 : Number(v)));
  }

  async add(entries: ReadonlyArray<CounterKey & { by: number }>): Promise<void> {
    if (entries.length === 0) return;
    await this.ready();
    const p = this.client.pipeline();
    for (const e of entries) p.incrbyfloat(e.key, e.by).pexpireat(e.key, e.endMs);
    const results = (await p.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  close(): void {
    this.client.disconnect();
  }
}

/** The connection a plugin's redis record names, as one key (one client per distinct Redis). */
function connectionKey(r: CounterRedis__Output): string {
  return JSON.stringify([r.host, r.port, r.username, r.password, r.database, r.ssl, r.ssl_verify, r.server_name, r.connect_timeout_ms, r.read_timeout_ms]);
}

/** The stores of the plugins being served: one memory store, one RedisCounters per distinct Redis (made when a config first names it, closed when none does). */
export class CounterStores {
  readonly memory: MemoryCounters;
  private redis = new Map<string, RedisCounters>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly onRedisError: RedisErrorListener, now: () => number = Date.now) {
    this.memory = new MemoryCounters(now);
    this.sweeper = setInterval(() => this.memory.sweep(), 60_000);
    this.sweeper.unref();
  }

  /** The store of a config (`redis` set: its Redis, connected on first use). */
  of(redis: CounterRedis__Output | null | undefined): CounterStore {
    if (!redis?.host) return this.memory;
    const key = connectionKey(redis);
    let c = this.redis.get(key);
    if (!c) this.redis.set(key, (c = this.connect(redis)));
    return c;
  }

  /** Connects to each Redis in `wanted` not connected yet and closes the clients of the others. */
  keep(wanted: readonly CounterRedis__Output[]): void {
    const keys = new Set(wanted.map((r) => { this.of(r); return connectionKey(r); }));
    for (const [key, c] of this.redis) if (!keys.has(key)) { c.close(); this.redis.delete(key); }
  }

  private connect(r: CounterRedis__Output): RedisCounters {
    const connectTimeoutMs = r.connect_timeout_ms || 2_000;
    return new RedisCounters(createRedisClient({
      host: r.host, port: r.port,
      ...(r.username ? { username: r.username } : {}), ...(r.password ? { password: r.password } : {}),
      database: r.database,
      ...(r.ssl ? { tls: { verify: r.ssl_verify, ...(r.server_name ? { serverName: r.server_name } : {}) } } : {}),
      connectTimeoutMs, commandTimeoutMs: r.read_timeout_ms || 2_000,
    }, this.onRedisError, { autoPipelining: true }), connectTimeoutMs);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.redis.values()) c.close();
    this.redis.clear();
  }
}
