import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { Counter, Gauge, Registry } from '../admin/metrics.js';
import { ENTRY, headerEntry, routeLimitsFromResource, type RatePolicy, type RouteLimits, type RouteRateLimit } from '../contracts/ratelimit.js';
import { kongMessage } from '../kong-message.js';
import type { Logger } from '../logger.js';
import type { Decision, WindowSpec } from './algorithms/types.js';
import type { Clock } from './clock.js';
import { kongHeaders } from './kong-headers.js';
import { RateLimitStoreError } from './stores/errors.js';
import { MemoryStore } from './stores/memory.js';
import { createRedisClient, whenReady, type RedisConnection } from '../redis-client.js';
import { RedisStore } from './stores/redis.js';
import { RefusalCache } from './stores/refusal-cache.js';
import type { Store } from './stores/store.js';

/**
 * The ratelimit service's decisions, without the gRPC: which policy applies to a descriptor,
 * whose counter it is, which store holds it, and the answer Envoy gets (Kong's headers and
 * body). Policies arrive as RouteRateLimit resources over ADS (apply); every decision reads the
 * current set, so a limit edited in the YAML applies to the next request.
 */

/** One descriptor Envoy sent: its entries by key. */
export type Entries = Readonly<Record<string, string>>;

/** A RateLimitRequest, decoded. */
export interface LimitRequest {
  domain: string;
  descriptors: Entries[];
  /** Units this request costs (Envoy's hits_addend; 0 means 1). */
  hitsAddend: number;
}

/** What the service answers: an envoy.service.ratelimit.v3.RateLimitResponse, or an error. */
export type LimitAnswer =
  | {
    kind: 'answer';
    overLimit: boolean;
    /** Per descriptor, in order: over its limit. */
    statuses: boolean[];
    responseHeaders: Array<[string, string]>;
    /** Only when over the limit: Kong's {"message": ...}. */
    body?: string;
  }
  | {
    /** The counters could not be reached and the policy is not fault tolerant: Envoy answers 500. */
    kind: 'error';
    message: string;
  };

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** Identifiers longer than this (header values are the client's) are hashed in counter keys. */
const MAX_IDENTIFIER = 128;

export interface RateLimiterOptions {
  logger: Logger;
  /** The service's --redis: the store of policy cluster (and a limit naming no Redis). */
  defaultRedis?: string;
  /** For the memory stores (tests); the Redis stores use Redis TIME. */
  clock?: Clock;
  registry?: Registry;
  /** How a Redis client is made (tests may wrap it); default createRedisClient. */
  redisClient?: (target: string | RedisConnection, onError: (err: Error) => void) => Redis | Cluster;
}

interface RedisEntry {
  /** The pool key: every connection setting (a password included; never logged). */
  id: string;
  /** For logs and metrics: scheme, host, port and database. */
  label: string;
  /** The Redis store behind a refusal cache (hot keys over their limit cost no round trip). */
  store: Store;
  client: Redis | Cluster;
  everReady: boolean;
  connectTimeoutMs: number;
  /** What storeFor answers once the client has been ready (one object, not one per decision). */
  inForce: { store: Store; label: string };
}

interface ActiveRoute extends RouteLimits {
  byConsumer: Map<string, RatePolicy>;
}

type DecisionResult = 'ok' | 'over_limit' | 'unlimited' | 'fault_tolerant_allowed' | 'error';

export class RateLimiter {
  private routes = new Map<string, ActiveRoute>();
  private version = '';
  private readonly log: Logger;
  private readonly memoryLocal: MemoryStore;
  private readonly memoryCluster: MemoryStore;
  private readonly memoryLocalInForce: { store: Store; label: string };
  private readonly memoryClusterInForce: { store: Store; label: string };
  private readonly defaultRedis?: RedisEntry;
  private readonly pool = new Map<string, RedisEntry>();
  /** A policy's Redis entry, so a decision does not rebuild the pool key (policies are new objects after each apply). */
  private readonly entryOf = new WeakMap<RatePolicy, RedisEntry>();
  /** A policy's windows as the stores take them, built once per policy object. */
  private readonly windowsOf = new WeakMap<RatePolicy, WindowSpec[]>();
  /**
   * Decisions by result since the metrics were last rendered: plain additions on the hot path,
   * moved into the labelled counter when /metrics is read (metricsText).
   */
  private readonly results: Record<DecisionResult, number> = { ok: 0, over_limit: 0, unlimited: 0, fault_tolerant_allowed: 0, error: 0 };
  private readonly lastErrorLog = new Map<string, number>();
  readonly registry: Registry;
  private readonly m: {
    decisions: Counter;
    storeErrors: Counter;
    faultTolerant: Counter;
    unknownRoutes: Counter;
    policyUpdates: Counter;
  };

  constructor(private readonly opts: RateLimiterOptions) {
    this.log = opts.logger;
    this.registry = opts.registry ?? new Registry();
    this.memoryLocal = new MemoryStore({ clock: opts.clock });
    this.memoryCluster = new MemoryStore({ clock: opts.clock });
    this.memoryLocalInForce = { store: this.memoryLocal, label: 'memory:local' };
    this.memoryClusterInForce = { store: this.memoryCluster, label: 'memory:cluster' };
    if (opts.defaultRedis) this.defaultRedis = this.redisEntry('default', `default ${redactUrl(opts.defaultRedis)}`, opts.defaultRedis, 2000);
    this.m = {
      decisions: this.registry.add(new Counter('frontdesk_ratelimit_decisions_total', 'Descriptors decided, by result (ok, over_limit, unlimited, fault_tolerant_allowed, error).')),
      storeErrors: this.registry.add(new Counter('frontdesk_ratelimit_store_errors_total', 'Decisions a store could not make, by store and reason (unavailable, timeout, rejected, bad-reply).')),
      faultTolerant: this.registry.add(new Counter('frontdesk_ratelimit_fault_tolerant_allowed_total', 'Requests let through uncounted because their store failed and the plugin is fault_tolerant.')),
      unknownRoutes: this.registry.add(new Counter('frontdesk_ratelimit_unknown_route_total', 'Descriptors naming a route the service holds no policy for (let through).')),
      policyUpdates: this.registry.add(new Counter('frontdesk_ratelimit_policy_updates_total', 'Policy sets applied from the control plane.')),
    };
    this.registry.add(new Gauge('frontdesk_ratelimit_routes', 'Rate-limited routes the service holds a policy for.', () => this.routes.size));
    this.registry.add(new Gauge('frontdesk_ratelimit_redis_connections', 'Redis clients open (the default one and one per distinct Redis a policy names).', () => this.pool.size + (this.defaultRedis ? 1 : 0)));
  }

  /** Parses a complete set of RouteRateLimit messages; throws (with the resource's name) on a bad one. */
  static parse(resources: ReadonlyMap<string, RouteRateLimit>): Map<string, ActiveRoute> {
    const out = new Map<string, ActiveRoute>();
    for (const [name, body] of resources) {
      let limits: RouteLimits;
      try {
        limits = routeLimitsFromResource(body);
      } catch (e) {
        throw new Error(`RouteRateLimit ${name}: ${(e as Error).message}`);
      }
      out.set(limits.name, { ...limits, byConsumer: new Map(limits.consumers.map((c) => [c.consumerId, c.policy])) });
    }
    return out;
  }

  /** Replaces the policy set (already parsed), opening Redis clients it needs and closing unused ones. */
  apply(routes: Map<string, ActiveRoute>, version: string): void {
    const wanted = new Set<string>();
    for (const r of routes.values()) {
      for (const p of [r.policy, ...r.byConsumer.values()]) {
        if (p?.policy === 'redis' && p.redis?.host) wanted.add(this.ensureRedis(p).id);
      }
    }
    this.routes = routes;
    this.version = version;
    for (const [key, e] of this.pool) {
      if (!wanted.has(key)) {
        this.pool.delete(key);
        void e.store.close();
      }
    }
    this.m.policyUpdates.inc();
    this.log.info({ version, routes: routes.size, redis: [...this.pool.values()].map((e) => e.label) }, 'ratelimit policy applied');
  }

  /** The Prometheus text of the service's metrics (every decision counted so far included). */
  metricsText(): string {
    for (const result of Object.keys(this.results) as DecisionResult[]) {
      const n = this.results[result];
      if (n > 0) {
        this.m.decisions.inc({ result }, n);
        this.results[result] = 0;
      }
    }
    return this.registry.render();
  }

  /** The version of the policy set in force ('' before the first). */
  policyVersion(): string {
    return this.version;
  }

  /** What /status shows. */
  status(): unknown {
    return {
      version: this.version || null,
      routes: [...this.routes.keys()].sort(),
      stores: {
        memoryLocal: this.memoryLocal.size,
        memoryCluster: this.memoryCluster.size,
        redis: [...(this.defaultRedis ? [this.defaultRedis] : []), ...this.pool.values()].map((e) => ({ store: e.label, status: e.client.status })),
      },
    };
  }

  /** Decides one RateLimitRequest: every descriptor must pass. */
  decide(req: LimitRequest): Promise<LimitAnswer> {
    const cost = req.hitsAddend > 0 ? req.hitsAddend : 1;
    return req.descriptors.length === 1 ? this.decideOne(req.descriptors[0]!, cost) : this.decideAll(req.descriptors, cost);
  }

  private async decideAll(descriptors: LimitRequest['descriptors'], cost: number): Promise<LimitAnswer> {
    const answers = await Promise.all(descriptors.map((d) => this.decideOne(d, cost)));
    const error = answers.find((a) => a.kind === 'error');
    if (error) return error;
    const ok = answers as Array<Extract<LimitAnswer, { kind: 'answer' }>>;
    const over = ok.find((a) => a.overLimit);
    const shown = over ?? ok.find((a) => a.responseHeaders.length);
    return {
      kind: 'answer',
      overLimit: over !== undefined,
      statuses: ok.map((a) => a.overLimit),
      responseHeaders: shown?.responseHeaders ?? [],
      ...(over?.body !== undefined ? { body: over.body } : {}),
    };
  }

  private async decideOne(entries: Entries, cost: number): Promise<LimitAnswer> {
    const routeName = entries[ENTRY.route];
    const route = routeName === undefined ? undefined : this.routes.get(routeName);
    if (!route) {
      this.m.unknownRoutes.inc();
      return pass();
    }
    const consumer = entries[ENTRY.consumer];
    const policy = (consumer !== undefined ? route.byConsumer.get(consumer) : undefined) ?? route.policy;
    const stage = Number(entries[ENTRY.stage] ?? 0);
    // No policy for this request (only other consumers are limited), or another stage's filter
    // asks about it: nothing to count here.
    if (!policy || policy.stage !== stage) {
      this.results.unlimited++;
      return pass();
    }
    const key = `${policy.scope}|${identifier(policy, route, entries)}`;
    let windows = this.windowsOf.get(policy);
    if (!windows) {
      windows = policy.windows.map((w) => ({ unit: w.unit, limit: w.limit, algorithm: policy.algorithm }));
      this.windowsOf.set(policy, windows);
    }
    const { store, label, ready } = this.storeFor(policy);
    let decision: Decision;
    try {
      if (ready) await ready;
      decision = await store.decide(key, windows, cost);
    } catch (e) {
      if (!(e instanceof RateLimitStoreError)) throw e;
      this.m.storeErrors.inc({ store: label, reason: e.reason });
      this.logStoreError(label, e, policy.faultTolerant);
      if (policy.faultTolerant) {
        this.m.faultTolerant.inc();
        this.results.fault_tolerant_allowed++;
        return pass();
      }
      this.results.error++;
      return { kind: 'error', message: `rate-limit counters unavailable (${label}: ${e.reason})` };
    }
    this.results[decision.allowed ? 'ok' : 'over_limit']++;
    const headers = policy.hideClientHeaders ? [] : kongHeaders(decision);
    if (decision.allowed) return { kind: 'answer', overLimit: false, statuses: [false], responseHeaders: headers };
    headers.push(['content-type', JSON_CONTENT_TYPE]);
    return { kind: 'answer', overLimit: true, statuses: [true], responseHeaders: headers, body: kongMessage(policy.errorMessage) };
  }

  private storeFor(p: RatePolicy): { store: Store; label: string; ready?: Promise<void> } {
    if (p.policy === 'local') return this.memoryLocalInForce;
    if (p.policy === 'cluster' || !p.redis?.host) {
      if (!this.defaultRedis) return this.memoryClusterInForce;
      return this.redisStore(this.defaultRedis);
    }
    return this.redisStore(this.ensureRedis(p));
  }

  /** A Redis store; a client that never connected yet gets its connect timeout to do so. */
  private redisStore(e: RedisEntry): { store: Store; label: string; ready?: Promise<void> } {
    if (e.everReady || e.client.status === 'ready') {
      e.everReady = true;
      return e.inForce;
    }
    return { store: e.store, label: e.label, ready: whenReady(e.client, e.connectTimeoutMs).then(() => { e.everReady = true; }, () => undefined) };
  }

  private ensureRedis(p: RatePolicy): RedisEntry {
    const known = this.entryOf.get(p);
    if (known && this.pool.get(known.id) === known) return known;
    const r = p.redis!;
    const conn: RedisConnection = {
      host: r.host!, port: r.port, database: r.database,
      ...(r.username ? { username: r.username } : {}),
      ...(r.password ? { password: r.password } : {}),
      ...(r.ssl ? { tls: { verify: r.ssl_verify, ...(r.server_name ? { serverName: r.server_name } : {}) } } : {}),
      connectTimeoutMs: r.connect_timeout,
      commandTimeoutMs: r.read_timeout,
    };
    const id = JSON.stringify(conn);
    let e = this.pool.get(id);
    if (!e) {
      const label = `redis:${r.ssl ? 'rediss' : 'redis'}://${r.host}:${r.port}/${r.database}`;
      e = this.redisEntry(id, label, conn, r.connect_timeout);
      this.pool.set(id, e);
    }
    this.entryOf.set(p, e);
    return e;
  }

  private redisEntry(id: string, label: string, target: string | RedisConnection, connectTimeoutMs: number): RedisEntry {
    const make = this.opts.redisClient ?? createRedisClient;
    const client = make(target, (err) => this.logStoreError(label, err, undefined));
    const store = new RefusalCache(new RedisStore({ client }), { healthy: () => client.status === 'ready' });
    return { id, label, client, store, everReady: false, connectTimeoutMs, inForce: { store, label } };
  }

  /** At most one line per store every 5 s, so a Redis outage does not flood the log. */
  private logStoreError(label: string, err: Error, faultTolerant: boolean | undefined): void {
    const now = Date.now();
    if (now - (this.lastErrorLog.get(label) ?? 0) < 5000) return;
    this.lastErrorLog.set(label, now);
    const action = faultTolerant === undefined ? undefined : faultTolerant ? 'letting requests through (fault_tolerant)' : 'refusing requests with 500 (fault_tolerant: false)';
    this.log.warn({ store: label, err: err.message, ...(action ? { action } : {}) }, 'ratelimit store failing');
  }

  async close(): Promise<void> {
    const all = [...this.pool.values(), ...(this.defaultRedis ? [this.defaultRedis] : [])];
    this.pool.clear();
    await Promise.all([this.memoryLocal.close(), this.memoryCluster.close(), ...all.map((e) => e.store.close())]);
  }
}

function pass(): LimitAnswer {
  return { kind: 'answer', overLimit: false, statuses: [false], responseHeaders: [] };
}

/**
 * The counter identifier, as Kong's get_identifier finds it (kong/plugins/rate-limiting/
 * handler.lua), prefixed by what it is: a missing consumer, credential or header, or a path
 * other than the configured one, falls back to the client's ip.
 */
export function identifier(p: RatePolicy, route: Pick<RouteLimits, 'service'>, e: Entries): string {
  const ip = (): string => `ip:${e[ENTRY.ip] ?? ''}`;
  const value = (kind: string, v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : `${kind}:${bounded(v)}`);
  switch (p.limitBy) {
    case 'consumer': return value('consumer', e[ENTRY.consumer]) ?? value('credential', e[ENTRY.credential]) ?? ip();
    case 'credential': return value('credential', e[ENTRY.credential]) ?? ip();
    case 'ip': return ip();
    case 'service': return value('service', route.service) ?? ip();
    case 'header': return value('header', e[headerEntry(p.headerName ?? '')]) ?? ip();
    case 'path': {
      const raw = e[ENTRY.path];
      const path = raw === undefined ? undefined : raw.split('?', 1)[0];
      return path !== undefined && path === p.path ? `path:${path}` : ip();
    }
  }
}

function bounded(v: string): string {
  return v.length <= MAX_IDENTIFIER ? v : `sha256:${createHash('sha256').update(v).digest('hex')}`;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
