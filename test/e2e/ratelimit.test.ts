// Kong's rate-limiting through a real Envoy: Envoy's ratelimit filter asks the ratelimit
// companion (in-process, fed over ADS by the same control plane) about every request on a
// rate-limited route. 429 with Kong's headers and body; per-ip (clients bound to different
// 127.0.0.x addresses) and per-consumer (key-auth through the authz companion) limits kept
// apart; a consumer's override on its own stage (503); minute + hour together; a limit edited in
// the YAML applies live; a refused gRPC call gets RESOURCE_EXHAUSTED; the service unreachable
// fails open or closed by fault_tolerant. Then two gateways sharing one Redis stay exact
// together, and a Redis that stops is answered by fault_tolerant through Envoy and recovered from.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, test } from 'node:test';
import { FakeClock } from '../../src/ratelimit/clock.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startTestRateLimitService, type TestRateLimitService } from '../support/ratelimit-service.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;
interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/** One request through the proxy, from `from` (a 127.0.0.x address: Envoy's remote_address). */
function send(gw: Gateway, path: string, init: { from?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, localAddress: init.from ?? '127.0.0.1', agent: false, headers: init.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function statuses(gw: Gateway, path: string, n: number, init: { from?: string; headers?: Record<string, string> } = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(gw, path, init)).status);
  return out;
}

const RL_HEADERS = ['x-ratelimit-limit-minute', 'x-ratelimit-remaining-minute', 'x-ratelimit-limit-hour', 'x-ratelimit-remaining-hour', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'];
function rl(r: Reply): Record<string, string> {
  return Object.fromEntries(RL_HEADERS.filter((h) => r.headers[h] !== undefined).map((h) => [h, String(r.headers[h])]));
}

function settings(ratelimitPort: number, extra: Partial<TranslateSettings> = {}): Partial<TranslateSettings> {
  return { ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: ratelimitPort, timeoutMs: 1000 }, ...extra };
}

const raw = (b: Buffer) => b;
const ECHO: grpc.ServiceDefinition = {
  Unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
};

function config(upstream: string, liveMinute: number, grpcPort = 9): string {
  return `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
    plugins:
      - name: rate-limiting
        route: keyed
        config: { minute: 4, limit_by: consumer, error_code: 503, error_message: "Bob, slow down" }
services:
  - name: svc
    url: ${upstream}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: by-ip
        paths: [/ip]
        plugins:
          - name: rate-limiting
            config: { minute: 2, hour: 3, limit_by: ip }
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
          - name: rate-limiting
            config: { minute: 2, limit_by: consumer }
      - name: by-header
        paths: [/tenant]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: header, header_name: X-Tenant }
      - name: hidden
        paths: [/hidden]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: ip, hide_client_headers: true, error_message: Quiet please }
      - name: live
        paths: [/live]
        plugins:
          - name: rate-limiting
            config: { minute: ${liveMinute}, limit_by: ip }
      - name: strict
        paths: [/strict]
        plugins:
          - name: rate-limiting
            config: { minute: 1000, limit_by: ip, fault_tolerant: false }
      - name: open
        paths: [/open]
  - name: echo
    url: grpc://127.0.0.1:${grpcPort}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: grpc
        paths: [/test.Echo/]
        strip_path: false
        protocols: [grpc]
        plugins:
          - name: rate-limiting
            config: { minute: 1, limit_by: ip }
`;
}

describe('rate limiting through Envoy', () => {
  let up: Upstream;
  let gw: Gateway;
  let authz: TestAuthz;
  let rlPort: number;
  let svc: TestRateLimitService | undefined;
  let grpcServer: grpc.Server;
  let grpcPort: number;
  // The service's memory store runs on a clock the test moves (Envoy and authz keep real time).
  const clock = new FakeClock(Date.now());

  before(async () => {
    up = await startEchoUpstream('up');
    grpcServer = new grpc.Server();
    grpcServer.addService(ECHO, { Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
    grpcPort = await new Promise<number>((r, j) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))));
    rlPort = await freePort();
    const az = await authzForTests();
    gw = await startGateway(config(up.url, 2, grpcPort), { settings: settings(rlPort, { authz: { ...DEFAULT_SETTINGS.authz, port: az.port } }) });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    svc = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort, clock });
    await gw.converged();
  });
  after(async () => {
    await svc?.stop();
    await authz?.stop();
    await gw?.stop();
    await up?.close();
    grpcServer?.forceShutdown();
  });

  test("after the limit: 429 with Kong's body and headers; minute and hour together", async () => {
    const from = '127.0.0.2';
    const first = await send(gw, '/ip', { from });
    assert.equal(first.status, 200);
    assert.deepEqual(rl(first), {
      'x-ratelimit-limit-minute': '2', 'x-ratelimit-remaining-minute': '1', 'x-ratelimit-limit-hour': '3', 'x-ratelimit-remaining-hour': '2',
      'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '30',
    });
    assert.equal((await send(gw, '/ip', { from })).status, 200);
    const refused = await send(gw, '/ip', { from });
    assert.equal(refused.status, 429);
    assert.equal(refused.text, '{"message":"API rate limit exceeded"}');
    assert.equal(refused.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(refused.headers['x-envoy-ratelimited'], undefined, 'Kong sends no such header');
    assert.deepEqual(rl(refused), {
      'x-ratelimit-limit-minute': '2', 'x-ratelimit-remaining-minute': '0', 'x-ratelimit-limit-hour': '3', 'x-ratelimit-remaining-hour': '1',
      'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '60', 'retry-after': '30',
    });
    // A minute later the minute is full again, the hour has one request left: then the hour refuses.
    clock.advance(60_000);
    assert.equal((await send(gw, '/ip', { from })).status, 200);
    const byHour = await send(gw, '/ip', { from });
    assert.equal(byHour.status, 429);
    assert.equal(rl(byHour)['ratelimit-limit'], '3', 'the hour binds');
    assert.equal(rl(byHour)['x-ratelimit-remaining-minute'], '1');
    assert.equal(rl(byHour)['retry-after'], '1140', '(1 - 3/60 tokens) × 20 min');
  });

  test('per-ip limits are independent (clients bound to different loopback addresses)', async () => {
    assert.deepEqual(await statuses(gw, '/ip', 3, { from: '127.0.0.3' }), [200, 200, 429]);
    assert.deepEqual(await statuses(gw, '/ip', 3, { from: '127.0.0.4' }), [200, 200, 429]);
  });

  test("per-consumer limits are independent (key-auth), and a consumer's override refuses with its own status", async () => {
    const from = '127.0.0.5';
    assert.deepEqual(await statuses(gw, '/keyed', 3, { from, headers: { apikey: 'alice-key' } }), [200, 200, 429]);
    // bob's consumer-scoped plugin (minute 4, 503) replaces the route's for him, same client address.
    assert.deepEqual(await statuses(gw, '/keyed', 4, { from, headers: { apikey: 'bob-key' } }), [200, 200, 200, 200]);
    const bob = await send(gw, '/keyed', { from, headers: { apikey: 'bob-key' } });
    assert.equal(bob.status, 503);
    assert.equal(bob.text, '{"message":"Bob, slow down"}');
    assert.equal(rl(bob)['x-ratelimit-limit-minute'], '4');
    // No key: key-auth refuses first (Kong runs auth before rate limiting), nothing is counted.
    assert.equal((await send(gw, '/keyed', { from: '127.0.0.6' })).status, 401);
  });

  test('limit_by header: per header value, the ip without one', async () => {
    assert.deepEqual(await statuses(gw, '/tenant', 2, { from: '127.0.0.7', headers: { 'x-tenant': 'acme' } }), [200, 429]);
    assert.deepEqual(await statuses(gw, '/tenant', 1, { from: '127.0.0.8', headers: { 'x-tenant': 'acme' } }), [429]);
    assert.deepEqual(await statuses(gw, '/tenant', 1, { from: '127.0.0.8', headers: { 'x-tenant': 'globex' } }), [200]);
    assert.deepEqual(await statuses(gw, '/tenant', 2, { from: '127.0.0.8' }), [200, 429]);
  });

  test('hide_client_headers: no rate-limit headers, the 429 keeps its body', async () => {
    const ok = await send(gw, '/hidden', { from: '127.0.0.9' });
    assert.equal(ok.status, 200);
    assert.deepEqual(rl(ok), {});
    const refused = await send(gw, '/hidden', { from: '127.0.0.9' });
    assert.equal(refused.status, 429);
    assert.deepEqual(rl(refused), {});
    assert.equal(refused.text, '{"message":"Quiet please"}');
  });

  test('a limit changed in the YAML applies live', async () => {
    const from = '127.0.0.10';
    assert.deepEqual(await statuses(gw, '/live', 3, { from }), [200, 200, 429]);
    await gw.edit(config(up.url, 5, grpcPort));
    // Every node, the ratelimit service included, holds the new version: the next request sees it.
    const r = await send(gw, '/live', { from: '127.0.0.11' });
    assert.equal(rl(r)['x-ratelimit-limit-minute'], '5');
    assert.deepEqual(await statuses(gw, '/live', 4, { from: '127.0.0.11' }), [200, 200, 200, 200]);
    assert.equal((await send(gw, '/live', { from: '127.0.0.11' })).status, 429);
  });

  test('a refused gRPC call gets grpc-status 8 (RESOURCE_EXHAUSTED), as Kong maps 429', async () => {
    const client = new grpc.Client(`127.0.0.1:${gw.proxyPort}`, grpc.credentials.createInsecure());
    const call = () => new Promise<{ code: grpc.status; value?: string }>((resolve) => {
      client.makeUnaryRequest('/test.Echo/Unary', raw, raw, Buffer.from('hi'), (err, value) => resolve(err ? { code: err.code } : { code: grpc.status.OK, value: value!.toString() }));
    });
    try {
      assert.deepEqual(await call(), { code: grpc.status.OK, value: 'hi' });
      assert.deepEqual(await call(), { code: grpc.status.RESOURCE_EXHAUSTED });
    } finally {
      client.close();
    }
  });

  test('the service unreachable: fault_tolerant routes go on uncounted, fault_tolerant: false gets 500', async () => {
    await svc!.stop();
    svc = undefined;
    const tolerant = await send(gw, '/hidden', { from: '127.0.0.12' });
    assert.equal(tolerant.status, 200);
    const strict = await send(gw, '/strict', { from: '127.0.0.12' });
    assert.equal(strict.status, 500);
    assert.deepEqual(JSON.parse(strict.text), { message: 'An unexpected error occurred' }, "Kong's body");
    assert.equal((await send(gw, '/open', { from: '127.0.0.12' })).status, 200, 'routes without limits never ask');
    svc = await startTestRateLimitService({ xdsPort: gw.xdsPort, port: rlPort, clock });
    await waitFor(async () => (await send(gw, '/strict', { from: '127.0.0.12' })).status === 200, 'the strict route to pass again', 10_000);
  });
});

describe('rate limiting through two gateways sharing one Redis', () => {
  let redis: RedisServer;
  let up: Upstream;
  const gateways: Gateway[] = [];
  const services: TestRateLimitService[] = [];

  const yaml = (upstream: string, redisPort: number) => `_format_version: "3.0"
services:
  - name: svc
    url: ${upstream}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: shared
        paths: [/shared]
        plugins:
          - name: rate-limiting
            # The deep dive's example, sized for a test: one Redis for every gateway.
            config: { minute: 100, hour: 5000, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort}, limit_by: ip }
      - name: exact
        paths: [/exact]
        plugins:
          - name: rate-limiting
            config: { day: 30, policy: redis, redis: { host: 127.0.0.1, port: ${redisPort} }, limit_by: service }
      - name: tolerant
        paths: [/tolerant]
        plugins:
          - name: rate-limiting
            config: { day: 1000, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort}, limit_by: ip }
      - name: strict
        paths: [/strict]
        plugins:
          - name: rate-limiting
            config: { day: 1000, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort}, limit_by: ip, fault_tolerant: false }
`;

  before(async () => {
    redis = await startRedisServer();
    up = await startEchoUpstream('up');
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const gw = await startGateway(yaml(up.url, redis.port), { settings: settings(port) });
      gateways.push(gw);
      services.push(await startTestRateLimitService({ xdsPort: gw.xdsPort, port }));
      await gw.converged();
    }
  });
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all(gateways.map((g) => g.stop()));
    await up?.close();
    await redis?.stop();
  });

  test('a limit of N is exact across gateway instances under concurrent clients', async () => {
    const all = await Promise.all(Array.from({ length: 90 }, (_, i) => send(gateways[i % 2]!, '/exact', { from: `127.0.1.${1 + (i % 20)}` })));
    const count = (s: number) => all.filter((r) => r.status === s).length;
    assert.deepEqual({ ok: count(200), limited: count(429), other: all.length - count(200) - count(429) }, { ok: 30, limited: 60, other: 0 });
    // The seed's headers, counted once for both gateways.
    const a = await send(gateways[0]!, '/shared', { from: '127.0.2.1' });
    const b = await send(gateways[1]!, '/shared', { from: '127.0.2.1' });
    assert.equal(a.headers['x-ratelimit-limit-minute'], '100');
    assert.equal(a.headers['x-ratelimit-remaining-minute'], '99');
    assert.equal(b.headers['x-ratelimit-remaining-minute'], '98');
    assert.equal(b.headers['x-ratelimit-remaining-hour'], '4998');
  });

  test('Redis stopped: fault_tolerant lets requests through, false gets 500; recovery is automatic', async () => {
    const [g1, g2] = gateways as [Gateway, Gateway];
    assert.equal((await send(g1, '/tolerant', { from: '127.0.3.1' })).headers['x-ratelimit-remaining-day'], '999');
    await redis.kill();
    const tolerant = await send(g1, '/tolerant', { from: '127.0.3.1' });
    assert.equal(tolerant.status, 200);
    assert.equal(tolerant.headers['x-ratelimit-remaining-day'], undefined, 'uncounted: no headers');
    const strict = await send(g2, '/strict', { from: '127.0.3.1' });
    assert.equal(strict.status, 500);
    assert.deepEqual(JSON.parse(strict.text), { message: 'An unexpected error occurred' }, "Kong's body");
    assert.ok(await services[0]!.metric('frontdesk_ratelimit_fault_tolerant_allowed_total') >= 1);
    await redis.restart();
    await waitFor(async () => (await send(g2, '/strict', { from: '127.0.3.1' })).status === 200, 'the strict route to pass again', 10_000);
    await waitFor(async () => (await send(g1, '/tolerant', { from: '127.0.3.1' })).headers['x-ratelimit-remaining-day'] !== undefined, 'the tolerant route to count again', 10_000);
  });
});
