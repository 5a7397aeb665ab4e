// Kong's response-ratelimiting through a real Envoy: Envoy's ext_proc filter sends the transform
// companion the request's headers (it tells the upstream what is left, or refuses) and the
// upstream's response headers (the upstream spends quotas by X-Kong-Limit; the client sees what
// is left, or a 429). The cases are Kong's (spec/03-plugins/24-response-rate-limiting/
// 04-access_spec.lua), with day and year windows in place of its second and minute ones so a
// window cannot end in the middle of a case; the expected headers and answers are its.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import type { RunningCompanion } from '../../src/runtime/companions.js';
import { startTransformService } from '../../src/transform/service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { h2Request, proxyRequest, type ProxyReply } from '../support/proxy-request.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

const num = (r: ProxyReply, name: string) => Number(r.headers[name]);

describe('response-ratelimiting through Envoy and the transform companion', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let redis: RedisServer;
  let gw: Gateway;
  let transform: RunningCompanion;
  const get = (host: string, spend?: string, headers: Record<string, string> = {}) =>
    proxyRequest(gw, { path: spend === undefined ? '/get' : `/response-headers?x-kong-limit=${encodeURIComponent(spend)}`, headers: { host, ...headers } });
  const seen = (r: ProxyReply) => JSON.parse(r.text) as EchoReply;

  before(async () => {
    upstream = await startEchoUpstream('quota', { kongMock: true });
    redis = await startRedisServer();
    const transformPort = await freePort();
    const plugin = (config: string) => `[{ name: response-ratelimiting, config: ${config} }]`;
    gw = await startGateway(`_format_version: "3.0"
services:
  - name: quota
    url: ${upstream.url}
    routes:
      - { name: test1, hosts: [test1.test], plugins: ${plugin('{ fault_tolerant: false, limits: { video: { year: 6 } } }')} }
      - { name: test2, hosts: [test2.test], plugins: ${plugin('{ limits: { video: { day: 6, year: 10 }, image: { day: 4 } } }')} }
      - name: test3
        hosts: [test3.test]
        plugins: [{ name: key-auth }, { name: response-ratelimiting, config: { limits: { video: { year: 6 } } } }]
      - { name: test4, hosts: [test4.test], plugins: ${plugin('{ limits: { video: { year: 22 }, image: { year: 10 } } }')} }
      - { name: test7, hosts: [test7.test], plugins: ${plugin('{ block_on_first_violation: true, limits: { video: { day: 10, year: 20 }, image: { day: 4 } } }')} }
      - { name: test8, hosts: [test8.test], plugins: ${plugin('{ limits: { video: { day: 10, year: 20 }, image: { day: 9 } } }')} }
      - { name: test9, hosts: [test9.test], plugins: ${plugin('{ hide_client_headers: true, limits: { video: { year: 10 } } }')} }
      - { name: h2, hosts: [h2.test], plugins: ${plugin('{ limits: { video: { year: 2 } } }')} }
      - name: redis
        hosts: [redis.test]
        plugins: ${plugin(`{ policy: redis, fault_tolerant: false, redis: { host: 127.0.0.1, port: ${redis.port} }, limits: { video: { year: 3 } } }`)}
      - name: redis-tolerant
        hosts: [redis-tolerant.test]
        plugins: ${plugin(`{ policy: redis, redis_host: 127.0.0.1, redis_port: ${redis.port}, limits: { video: { year: 3 } } }`)}
  - name: shared
    url: ${upstream.url}
    plugins: ${plugin('{ limits: { video: { year: 6 } } }')}
    routes:
      - { name: service1, hosts: [service1.test] }
      - { name: service2, hosts: [service2.test] }
consumers:
  - username: provider_123
    keyauth_credentials: [{ key: apikey123 }]
    plugins: [{ name: response-ratelimiting, route: test3, config: { limits: { video: { year: 2 } } } }]
  - username: provider_124
    keyauth_credentials: [{ key: apikey124 }]
`, { settings: { transform: { ...DEFAULT_SETTINGS.transform, port: transformPort } } });
    transform = await startTransformService({ xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: transformPort, nodeId: 'rrl-test', logger: silentLogger() });
    await waitFor(() => transform.ready(), 'the transform companion to get its routes');
  });

  after(async () => {
    await transform?.stop();
    await gw?.stop();
    await redis?.stop();
    await upstream?.close();
  });

  test('blocks if exceeding limit: each answer tells what is left, the upstream is told too, the seventh is a 429', async () => {
    for (let i = 1; i <= 6; i++) {
      const r = await get('test1.test', 'video=1, test=5');
      assert.equal(r.status, 200, r.text);
      assert.equal(num(r, 'x-ratelimit-limit-video-year'), 6);
      assert.equal(num(r, 'x-ratelimit-remaining-video-year'), 6 - i);
      assert.equal(r.headers['x-kong-limit'], undefined, 'the upstream\'s spending header is not passed on');
      assert.equal(seen(r).headers['x-ratelimit-remaining-video'], String(6 - i + 1), 'the upstream is told what is left before it answers');
    }
    const r = await get('test1.test', 'video=1');
    assert.equal(r.status, 429);
    assert.equal(r.text, '');
    assert.equal(num(r, 'x-ratelimit-remaining-video-year'), 0);
  });

  test('a request that spends nothing still passes where a quota is used up, and says so', async () => {
    const r = await get('test1.test');
    assert.equal(r.status, 200);
    assert.equal(num(r, 'x-ratelimit-remaining-video-year'), 0);
    assert.equal(seen(r).headers['x-ratelimit-remaining-video'], '0');
  });

  test('handles multiple limits', async () => {
    for (let i = 1; i <= 3; i++) {
      const r = await get('test2.test', 'video=2, image=1');
      assert.equal(r.status, 200);
      assert.equal(num(r, 'x-ratelimit-limit-video-day'), 6);
      assert.equal(num(r, 'x-ratelimit-remaining-video-day'), 6 - i * 2);
      assert.equal(num(r, 'x-ratelimit-limit-video-year'), 10);
      assert.equal(num(r, 'x-ratelimit-remaining-video-year'), 10 - i * 2);
      assert.equal(num(r, 'x-ratelimit-limit-image-day'), 4);
      assert.equal(num(r, 'x-ratelimit-remaining-image-day'), 4 - i);
    }
    const r = await get('test2.test', 'video=2, image=1');
    assert.equal(r.status, 429);
    assert.equal(num(r, 'x-ratelimit-remaining-video-day'), 0);
    assert.equal(num(r, 'x-ratelimit-remaining-video-year'), 4);
    assert.equal(num(r, 'x-ratelimit-remaining-image-day'), 1);
  });

  test('combines multiple x-kong-limit headers from upstream', async () => {
    const twoLines = () => proxyRequest(gw, { path: '/response-headers?x-kong-limit=video%3D2&x-kong-limit=image%3D1', headers: { host: 'test4.test' } });
    for (let i = 1; i <= 10; i++) {
      const r = await twoLines();
      assert.equal(r.status, 200);
      assert.equal(num(r, 'x-ratelimit-remaining-video-year'), 22 - 2 * i);
      assert.equal(num(r, 'x-ratelimit-remaining-image-year'), 10 - i);
    }
    const last = await twoLines();
    assert.equal(last.status, 429);
    assert.equal(num(last, 'x-ratelimit-remaining-image-year'), 0);
    // A 429 shows what was left before it (Kong's specs: 22 - 20, not less the refused 2).
    assert.equal(num(last, 'x-ratelimit-remaining-video-year'), 2);
  });

  test('counts against the same service from different routes', async () => {
    for (let i = 1; i <= 3; i++) assert.equal(num(await get('service1.test', 'video=1'), 'x-ratelimit-remaining-video-year'), 6 - i);
    for (let i = 4; i <= 6; i++) assert.equal(num(await get('service2.test', 'video=1'), 'x-ratelimit-remaining-video-year'), 6 - i);
    assert.equal((await get('service1.test', 'video=1')).status, 429);
  });

  test('with key-auth: per consumer, and a consumer\'s own limit on the route', async () => {
    for (let i = 1; i <= 2; i++) {
      const r = await get('test3.test', 'video=1', { apikey: 'apikey123' });
      assert.equal(r.status, 200, r.text);
      assert.equal(num(r, 'x-ratelimit-limit-video-year'), 2);
      assert.equal(num(r, 'x-ratelimit-remaining-video-year'), 2 - i);
    }
    const over = await get('test3.test', 'video=1', { apikey: 'apikey123' });
    assert.equal(over.status, 429);
    assert.equal(num(over, 'x-ratelimit-limit-video-year'), 2);
    // Another consumer has the route's limit and counts of its own.
    const other = await get('test3.test', 'video=1', { apikey: 'apikey124' });
    assert.equal(other.status, 200);
    assert.equal(num(other, 'x-ratelimit-limit-video-year'), 6);
    assert.equal(num(other, 'x-ratelimit-remaining-video-year'), 5);
    // A client's own X-Consumer-ID names no one: key-auth still asks for the key.
    assert.equal((await get('test3.test', 'video=1', { 'x-consumer-id': 'someone' })).status, 401);
  });

  test('should block on first violation, before the upstream is asked', async () => {
    assert.equal((await get('test7.test', 'video=2, image=4')).status, 200);
    const before = upstream.requests.length;
    const r = await get('test7.test', 'video=2');
    assert.equal(r.status, 429);
    assert.deepEqual(JSON.parse(r.text), { message: 'API rate limit exceeded for \'image\'' });
    assert.equal(upstream.requests.length, before);
  });

  test('upstream usage headers with multiple limits', async () => {
    const first = seen(await get('test8.test'));
    assert.equal(first.headers['x-ratelimit-remaining-image'], '9');
    assert.equal(first.headers['x-ratelimit-remaining-video'], '10');
    assert.equal((await get('test8.test', 'video=2, image=1')).status, 200);
    const then = seen(await get('test8.test'));
    assert.equal(then.headers['x-ratelimit-remaining-image'], '8');
    assert.equal(then.headers['x-ratelimit-remaining-video'], '8');
  });

  test('hide_client_headers: no rate-limit headers for the client', async () => {
    const r = await get('test9.test', 'video=1');
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-ratelimit-remaining-video-year'], undefined);
    assert.equal(r.headers['x-ratelimit-limit-video-year'], undefined);
    assert.equal(r.headers['x-kong-limit'], undefined);
  });

  test('over HTTP/2: the same headers, and the 429 once the quota is spent', async () => {
    const session = connect(`http://127.0.0.1:${gw.proxyPort}`);
    try {
      const ask = () => h2Request(session, { ':path': '/response-headers?x-kong-limit=video%3D1', ':authority': 'h2.test' });
      for (let i = 1; i <= 2; i++) {
        const r = await ask();
        assert.equal(r.status, 200, r.body);
        assert.equal(Number(r.headers['x-ratelimit-remaining-video-year']), 2 - i);
        assert.equal(r.headers['x-kong-limit'], undefined);
      }
      const over = await ask();
      assert.equal(over.status, 429);
      assert.equal(Number(over.headers['x-ratelimit-limit-video-year']), 2);
    } finally {
      session.close();
    }
  });

  test('policy redis: the counters are in Redis; with Redis gone fault_tolerant decides', async () => {
    for (let i = 1; i <= 3; i++) assert.equal(num(await get('redis.test', 'video=1'), 'x-ratelimit-remaining-video-year'), 3 - i);
    assert.equal((await get('redis.test', 'video=1')).status, 429);
    const keys = (await redis.command('KEYS', 'response-ratelimit:*')).split('\n').filter((k) => k.includes(':video:year'));
    assert.equal(keys.length, 1, 'one counter for the client\'s address and the year');
    await redis.kill();
    try {
      const strict = await get('redis.test', 'video=1');
      assert.equal(strict.status, 500);
      assert.deepEqual(JSON.parse(strict.text), { message: 'An unexpected error occurred' });
      const tolerant = await get('redis-tolerant.test', 'video=1');
      assert.equal(tolerant.status, 200, 'fault_tolerant: the request goes through, unlimited');
      assert.equal(tolerant.headers['x-ratelimit-remaining-video-year'], undefined);
    } finally {
      await redis.restart();
    }
  });
});
