// The ratelimit service as Envoy sees it: ShouldRateLimit over real gRPC, its policy fed live
// over a real ADS server from a compiled YAML. Kong's headers and body, identifiers and their
// ip fallback, counter scopes, consumer overrides and stages, live limit changes; then real
// Redis: two service instances and concurrent clients stay exact, and a Redis stopped mid-run
// is answered by fault_tolerant, then recovered from without anyone's help.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { consumerId } from '../../src/contracts/authz.js';
import { silentLogger } from '../../src/logger.js';
import { FakeClock } from '../../src/ratelimit/clock.js';
import { ENTRY, headerEntry } from '../../src/contracts/ratelimit.js';
import { RateLimiter } from '../../src/ratelimit/limiter.js';
import { RLS_METHOD } from '../../src/ratelimit/server.js';
import { rlsTypes } from '../../src/ratelimit/rls-types.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { AdsServer } from '../../src/xds/ads-server.js';
import { buildSnapshot } from '../../src/xds/snapshot.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';
import { policyIdsOf, type RoutePolicyIds } from '../support/policy-ids.js';
import { waitFor } from '../support/wait.js';
import { kongId } from '../../src/kong-ids.js';

/** Kong route → the policy names its Envoy routes carry, from the last config pushed. */
let policyIds = new Map<string, RoutePolicyIds>();

/** An in-process control plane reduced to its ADS server: push(yaml) compiles and serves. */
class ControlPlaneStub {
  readonly ads = new AdsServer(silentLogger());
  port = 0;
  async start(): Promise<this> {
    this.port = await this.ads.listen('127.0.0.1', 0);
    return this;
  }
  push(yaml: string): string {
    const r = compileConfig([{ file: 'gateway.yaml', text: yaml }], { settings: DEFAULT_SETTINGS });
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    policyIds = policyIdsOf(r.translation!);
    const s = buildSnapshot(r.translation!, Date.now(), this.ads.snapshot);
    this.ads.setSnapshot(s);
    return s.version;
  }
  /** Resolves once every connected node (the service instances) holds `version`. */
  converged(version: string): Promise<unknown> {
    return waitFor(() => { const n = this.ads.nodes(); return n.length > 0 && n.every((x) => x.convergedVersion === version); }, `every node to hold ${version}`);
  }
  close(): Promise<void> {
    return this.ads.close();
  }
}

type Reply =
  | { ok: true; overLimit: boolean; headers: Record<string, string>; body?: string }
  | { ok: false; code: grpc.status; details: string };

/** A gRPC client speaking Envoy's side of envoy.service.ratelimit.v3. */
class RlsClient {
  private readonly client: grpc.Client;
  constructor(port: number) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }
  call(descriptors: Array<Record<string, string>>, hitsAddend = 0): Promise<Reply> {
    const { req, res } = rlsTypes();
    const bytes = req.encode({ domain: 'frontdesk', descriptors: descriptors.map((d) => ({ entries: Object.entries(d).map(([key, value]) => ({ key, value })) })), hits_addend: hitsAddend }).finish();
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(RLS_METHOD, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, bytes, (err, out) => {
        if (err) return resolve({ ok: false, code: err.code, details: err.details });
        const m = res.toObject(res.decode(out!), { enums: String, bytes: String, defaults: true }) as {
          overall_code: string; response_headers_to_add: Array<{ key: string; value: string }>; raw_body: string;
        };
        const headers = Object.fromEntries(m.response_headers_to_add.map((h) => [h.key, h.value]));
        const body = m.raw_body ? Buffer.from(m.raw_body, 'base64').toString() : undefined;
        resolve({ ok: true, overLimit: m.overall_code === 'OVER_LIMIT', headers, ...(body !== undefined ? { body } : {}) });
      });
    });
  }
  close(): void {
    this.client.close();
  }
}

/**
 * The descriptor Envoy builds for a Kong route of the last config pushed (see rateLimitActions
 * in resources/filters/ratelimit.ts): fd_route is the name its Envoy routes carry.
 */
function d(route: string, e: { stage?: number; consumer?: string; credential?: string; ip?: string; path?: string; headers?: Record<string, string> } = {}): Record<string, string> {
  const out: Record<string, string> = { [ENTRY.route]: policyIds.get(route)?.ratelimit ?? route, [ENTRY.stage]: String(e.stage ?? 0) };
  if (e.consumer) out[ENTRY.consumer] = e.consumer;
  if (e.credential) out[ENTRY.credential] = e.credential;
  if (e.path) out[ENTRY.path] = e.path;
  for (const [k, v] of Object.entries(e.headers ?? {})) out[headerEntry(k)] = v;
  out[ENTRY.ip] = e.ip ?? '10.0.0.1';
  return out;
}

async function ok(c: RlsClient, desc: Record<string, string>, hits = 0): Promise<Extract<Reply, { ok: true }>> {
  const r = await c.call([desc], hits);
  assert.ok(r.ok, `gRPC error ${!r.ok ? r.details : ''}`);
  return r;
}

async function countAllowed(c: RlsClient, desc: Record<string, string>, n: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (!(await ok(c, desc)).overLimit) allowed++;
  return allowed;
}

const UP = 'http://127.0.0.1:9';

describe('ratelimit service (memory, fake clock)', () => {
  const cp = new ControlPlaneStub();
  const clock = new FakeClock(Date.UTC(2024, 0, 1, 12));
  let svc: TestRateLimitService;
  let client: RlsClient;
  const alice = kongId('consumers', 'alice');
  const bob = kongId('consumers', 'bob');
  const YAML = (minute = 3) => `
_format_version: "3.0"
consumers:
  - username: alice
  - username: bob
services:
  - name: s
    url: ${UP}
    plugins:
      - name: rate-limiting
        config: { minute: 2, limit_by: ip }
    routes:
      - name: kong
        paths: [/kong]
        plugins:
          - name: rate-limiting
            config: { minute: ${minute}, hour: 4 }
      - name: hidden
        paths: [/hidden]
        plugins:
          - name: rate-limiting
            config: { second: 1, hide_client_headers: true, error_message: Slow down }
      - name: by-consumer
        paths: [/c]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: consumer }
      - name: by-header
        paths: [/h]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: header, header_name: X-Tenant }
      - name: by-path
        paths: [/p]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: path, path: /p/exact }
      - name: svc-a
        paths: [/sa]
      - name: svc-b
        paths: [/sb]
      - name: override
        paths: [/o]
        plugins:
          - name: rate-limiting
            config: { minute: 1 }
      - name: cost
        paths: [/cost]
        plugins:
          - name: rate-limiting
            config: { minute: 5, algorithm: fixed-window }
  - name: t
    url: ${UP}
    routes:
      - name: by-service-1
        paths: [/t1]
      - name: by-service-2
        paths: [/t2]
  - name: u
    url: ${UP}
    routes:
      - name: by-service-3
        paths: [/u1]
plugins:
  - name: rate-limiting
    service: t
    config: { minute: 2, limit_by: service }
  - name: rate-limiting
    service: u
    config: { minute: 2, limit_by: service }
  - name: rate-limiting
    consumer: bob
    route: override
    config: { minute: 3, error_code: 503, error_message: bob waits }
`;

  before(async () => {
    await cp.start();
    cp.push(YAML());
    svc = await startTestRateLimitService({ xdsPort: cp.port, clock });
    client = new RlsClient(svc.port);
  });
  after(async () => {
    client?.close();
    await svc?.stop();
    await cp.close();
  });

  test("Kong's headers while allowed, then 429's body, Retry-After and binding window (minute + hour)", async () => {
    const desc = d('kong', { ip: '10.1.0.1' });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await ok(client, desc)).headers);
    assert.deepEqual(seen.map((h) => [h['X-RateLimit-Remaining-Minute'], h['X-RateLimit-Remaining-Hour'], h['RateLimit-Remaining']]), [['2', '3', '2'], ['1', '2', '1'], ['0', '1', '0']]);
    assert.deepEqual(seen[0], {
      'X-RateLimit-Limit-Minute': '3', 'X-RateLimit-Remaining-Minute': '2', 'X-RateLimit-Limit-Hour': '4', 'X-RateLimit-Remaining-Hour': '3',
      'RateLimit-Limit': '3', 'RateLimit-Remaining': '2', 'RateLimit-Reset': '20',
    });
    const refused = await ok(client, desc);
    assert.equal(refused.overLimit, true);
    assert.equal(refused.body, '{"message":"API rate limit exceeded"}');
    assert.deepEqual(refused.headers, {
      'X-RateLimit-Limit-Minute': '3', 'X-RateLimit-Remaining-Minute': '0', 'X-RateLimit-Limit-Hour': '4', 'X-RateLimit-Remaining-Hour': '1',
      'RateLimit-Limit': '3', 'RateLimit-Remaining': '0', 'RateLimit-Reset': '60', 'Retry-After': '20', 'content-type': 'application/json; charset=utf-8',
    });
    // A minute on, the minute bucket is full again but the hour has a single token left.
    clock.advance(60_000);
    assert.equal((await ok(client, desc)).overLimit, false);
    const byHour = await ok(client, desc);
    assert.equal(byHour.overLimit, true);
    assert.equal(byHour.headers['X-RateLimit-Remaining-Minute'], '2');
    assert.equal(byHour.headers['RateLimit-Limit'], '4', 'the hour binds');
    assert.equal(byHour.headers['Retry-After'], '840', '(1 - 4/60 tokens) × 15 min');
    assert.equal(byHour.headers['RateLimit-Reset'], '3540');
  });

  test('hide_client_headers: no headers at all, the 429 keeps its body (error_message)', async () => {
    const desc = d('hidden', { ip: '10.2.0.1' });
    assert.deepEqual(await ok(client, desc), { ok: true, overLimit: false, headers: {} });
    assert.deepEqual(await ok(client, desc), { ok: true, overLimit: true, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"message":"Slow down"}' });
  });

  test('limit_by consumer: per consumer, else per credential, else per ip', async () => {
    assert.equal(await countAllowed(client, d('by-consumer', { consumer: alice, ip: '10.3.0.1' }), 3), 1);
    assert.equal(await countAllowed(client, d('by-consumer', { consumer: bob, ip: '10.3.0.1' }), 3), 1, 'bob has his own counter on the same ip');
    assert.equal(await countAllowed(client, d('by-consumer', { credential: 'cred-1', ip: '10.3.0.1' }), 3), 1);
    assert.equal(await countAllowed(client, d('by-consumer', { ip: '10.3.0.1' }), 3), 1, 'anonymous: the ip');
    assert.equal(await countAllowed(client, d('by-consumer', { ip: '10.3.0.2' }), 3), 1);
  });

  test('limit_by header and path fall back to the ip', async () => {
    assert.equal(await countAllowed(client, d('by-header', { headers: { 'X-Tenant': 'acme' }, ip: '10.4.0.1' }), 2), 1);
    assert.equal(await countAllowed(client, d('by-header', { headers: { 'X-Tenant': 'acme' }, ip: '10.4.0.2' }), 2), 0, 'same tenant, other ip');
    assert.equal(await countAllowed(client, d('by-header', { ip: '10.4.0.2' }), 2), 1, 'no header: the ip');
    assert.equal(await countAllowed(client, d('by-path', { path: '/p/exact?x=1', ip: '10.5.0.1' }), 2), 1);
    assert.equal(await countAllowed(client, d('by-path', { path: '/p/exact', ip: '10.5.0.2' }), 2), 0, 'the path is the counter, whatever the ip');
    assert.equal(await countAllowed(client, d('by-path', { path: '/p/other', ip: '10.5.0.2' }), 2), 1, 'another path: the ip');
  });

  test("counters are shared exactly as Kong's plugin scope shares them", async () => {
    // The service-scoped plugin of s (limit_by ip, minute 2) covers svc-a and svc-b: one counter.
    assert.equal(await countAllowed(client, d('svc-a', { ip: '10.6.0.1' }), 1), 1);
    assert.equal(await countAllowed(client, d('svc-b', { ip: '10.6.0.1' }), 2), 1);
    // limit_by service with a service-scoped plugin: each service its own counter, shared by its routes.
    assert.equal(await countAllowed(client, d('by-service-1', { ip: '10.6.0.2' }), 1), 1);
    assert.equal(await countAllowed(client, d('by-service-2', { ip: '10.6.0.3' }), 2), 1);
    assert.equal(await countAllowed(client, d('by-service-3', { ip: '10.6.0.4' }), 3), 2);
  });

  test("a consumer's override replaces the route's policy, on its own stage", async () => {
    // bob's override (minute 3, 503) is on stage 1: the stage-0 filter's question is not counted.
    const stage0 = await ok(client, d('override', { consumer: bob, ip: '10.7.0.1' }));
    assert.deepEqual(stage0, { ok: true, overLimit: false, headers: {} });
    assert.equal(await countAllowed(client, d('override', { consumer: bob, stage: 1, ip: '10.7.0.1' }), 4), 3);
    const refused = await ok(client, d('override', { consumer: bob, stage: 1, ip: '10.7.0.1' }));
    assert.equal(refused.body, '{"message":"bob waits"}');
    // alice and anonymous clients get the route's policy on stage 0, and nothing on stage 1.
    assert.equal(await countAllowed(client, d('override', { consumer: alice, ip: '10.7.0.2' }), 2), 1);
    assert.deepEqual(await ok(client, d('override', { consumer: alice, stage: 1, ip: '10.7.0.3' })), { ok: true, overLimit: false, headers: {} });
  });

  test("hits_addend is the request's cost; a route the service does not know is let through and counted", async () => {
    const first = await ok(client, d('cost', { ip: '10.8.0.1' }), 4);
    assert.equal(first.headers['X-RateLimit-Remaining-Minute'], '1');
    assert.equal((await ok(client, d('cost', { ip: '10.8.0.1' }), 2)).overLimit, true);
    const before = await svc.metric('frontdesk_ratelimit_unknown_route_total');
    assert.deepEqual(await ok(client, d('no-such-route')), { ok: true, overLimit: false, headers: {} });
    assert.equal(await svc.metric('frontdesk_ratelimit_unknown_route_total'), before + 1);
  });

  test('a limit changed in the YAML applies to the next request', async () => {
    const desc = d('kong', { ip: '10.9.0.1' });
    assert.equal((await ok(client, desc)).headers['X-RateLimit-Limit-Minute'], '3');
    const version = cp.push(YAML(4));
    await cp.converged(version);
    const changed = d('kong', { ip: '10.9.0.1' });
    assert.notEqual(changed[ENTRY.route], desc[ENTRY.route], 'a changed limit is another policy, by another name');
    const h = (await ok(client, changed)).headers;
    assert.equal(h['X-RateLimit-Limit-Minute'], '4');
    // The state is kept across the change (counters are keyed by the plugin's scope and the
    // identifier, as Kong keys them, not by the policy's name): the token bucket had 2 of its
    // 3 tokens left, and keeps them under the new capacity of 4.
    assert.equal(h['X-RateLimit-Remaining-Minute'], '1');
  });

  test('a policy the service cannot read is refused with its name (NACK), the last good one stays', () => {
    assert.throws(() => RateLimiter.parse(new Map([['r', { name: 'r', policy: { scope: 'global', limit_by: 'IP', policy: 'LOCAL', algorithm: 'TOKEN_BUCKET' } }]])), /RouteRateLimit r: r.policy: no windows/);
  });
});

describe('ratelimit service with Redis', () => {
  let redis: RedisServer;
  const cp = new ControlPlaneStub();
  const services: TestRateLimitService[] = [];
  const clients: RlsClient[] = [];

  before(async () => {
    redis = await startRedisServer();
    await cp.start();
    cp.push(`
_format_version: "3.0"
services:
  - name: s
    url: ${UP}
    routes:
      - name: named-redis
        paths: [/a]
        plugins:
          - name: rate-limiting
            config: { day: 40, policy: redis, redis: { host: 127.0.0.1, port: ${redis.port} } }
      - name: named-redis-kong
        paths: [/k]
        plugins:
          - name: rate-limiting
            config: { day: 25, month: 30, policy: redis, redis_host: 127.0.0.1, redis_port: ${redis.port}, algorithm: fixed-window }
      - name: cluster-default
        paths: [/c]
        plugins:
          - name: rate-limiting
            config: { day: 30, policy: cluster }
      - name: tolerant
        paths: [/t]
        plugins:
          - name: rate-limiting
            config: { day: 1000, policy: redis, redis_host: 127.0.0.1, redis_port: ${redis.port} }
      - name: strict
        paths: [/s]
        plugins:
          - name: rate-limiting
            config: { day: 1000, policy: redis, redis_host: 127.0.0.1, redis_port: ${redis.port}, fault_tolerant: false }
`);
    for (let i = 0; i < 2; i++) {
      const svc = await startTestRateLimitService({ xdsPort: cp.port, redis: redis.url, nodeId: `ratelimit-redis-${i}` });
      services.push(svc);
      clients.push(new RlsClient(svc.port));
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(services.map((s) => s.stop()));
    await cp.close();
    await redis?.stop();
  });

  /** `total` requests at once, spread over both instances and 16 client channels. */
  async function burst(desc: Record<string, string>, total: number): Promise<{ allowed: number; refused: number; errors: number }> {
    const channels = Array.from({ length: 16 }, (_, i) => new RlsClient(services[i % 2]!.port));
    try {
      const replies = await Promise.all(Array.from({ length: total }, (_, i) => channels[i % channels.length]!.call([desc])));
      return {
        allowed: replies.filter((r) => r.ok && !r.overLimit).length,
        refused: replies.filter((r) => r.ok && r.overLimit).length,
        errors: replies.filter((r) => !r.ok).length,
      };
    } finally {
      for (const c of channels) c.close();
    }
  }

  test('two service instances, concurrent clients: a limit of N lets exactly N through', async () => {
    assert.deepEqual(await burst(d('named-redis', { ip: '10.20.0.1' }), 200), { allowed: 40, refused: 160, errors: 0 });
    assert.deepEqual(await burst(d('named-redis-kong', { ip: '10.20.0.2' }), 100), { allowed: 25, refused: 75, errors: 0 }, "Kong's fixed windows");
    assert.deepEqual(await burst(d('cluster-default', { ip: '10.20.0.3' }), 100), { allowed: 30, refused: 70, errors: 0 }, 'policy cluster: the service --redis');
    // The counters are in Redis, under hash-tagged keys naming the scope and the identifier.
    const keys = (await redis.command('KEYS', 'fd:rl:*')).toString();
    assert.match(keys, /fd:rl:\{k:route:named-redis\|ip:10\.20\.0\.1\}:day:token-bucket/);
  });

  test('Redis stopped mid-run: fault_tolerant lets requests through (counted in /metrics), false refuses; recovery is automatic', async () => {
    const [a, b] = clients as [RlsClient, RlsClient];
    const tolerant = d('tolerant', { ip: '10.21.0.1' });
    // fault_tolerant: false puts the route on its own stage (failure_mode_deny).
    const strict = d('strict', { stage: 1, ip: '10.21.0.1' });
    assert.equal((await ok(a, tolerant)).headers['X-RateLimit-Remaining-Day'], '999');
    assert.equal((await ok(b, strict)).overLimit, false);

    await redis.kill();
    const allowedBefore = await services[0]!.metric('frontdesk_ratelimit_fault_tolerant_allowed_total');
    for (let i = 0; i < 5; i++) {
      const r = await ok(a, tolerant);
      assert.deepEqual(r, { ok: true, overLimit: false, headers: {} }, 'let through, uncounted, no headers');
      const s = await b.call([strict]);
      assert.equal(s.ok, false, JSON.stringify(s));
      assert.equal(!s.ok && s.code, grpc.status.UNAVAILABLE, 'Envoy answers 500 (failure_mode_deny)');
    }
    assert.equal(await services[0]!.metric('frontdesk_ratelimit_fault_tolerant_allowed_total'), allowedBefore + 5);
    assert.ok(await services[1]!.metric('frontdesk_ratelimit_store_errors_total', { reason: 'unavailable' }) >= 5);
    assert.equal(await services[1]!.metric('frontdesk_ratelimit_decisions_total', { result: 'error' }), 5);

    await redis.restart();
    // A fresh Redis: counting starts over, with no one restarting the service.
    await waitFor(async () => (await ok(a, tolerant)).headers['X-RateLimit-Remaining-Day'] !== undefined, 'the tolerant route to count again', 10_000);
    await waitFor(async () => (await b.call([strict])).ok, 'the strict route to answer again', 10_000);
    assert.equal((await ok(b, strict)).overLimit, false);
  });

  test('one Redis client per distinct Redis, shared by the limits naming it, closed when none does', async () => {
    const connections = () => services[0]!.metric('frontdesk_ratelimit_redis_connections');
    assert.equal(await connections(), 2, 'the --redis default, and the one Redis four routes name');
    const version = cp.push(`
_format_version: "3.0"
services:
  - name: s
    url: ${UP}
    routes:
      - name: db1
        paths: [/a]
        plugins:
          - name: rate-limiting
            config: { day: 5, policy: redis, redis: { host: 127.0.0.1, port: ${redis.port}, database: 1 } }
`);
    await cp.converged(version);
    assert.equal(await connections(), 2, 'the default, and database 1 (the database 0 client is closed)');
    const [a] = clients as [RlsClient];
    assert.equal((await ok(a, d('db1', { ip: '10.22.0.1' }))).headers['X-RateLimit-Remaining-Day'], '4');
    assert.match(await redis.command('INFO', 'keyspace'), /db1:keys=1/);
  });
});
