// Kong's response-ratelimiting: its config as Kong's schema (without a database) loads it, what
// a config compiles to (the transform companion's RouteTransform, Envoy's ext_proc override),
// and the companion's decisions as Kong's access.lua and header_filter.lua make them: the
// X-Kong-Limit parsing, the headers, the refusals and the counting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRANSFORM_TYPE_URL, type ResponseRateLimiting__Output, type RouteTransform__Output } from '../../src/contracts/transform.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { MemoryCounters } from '../../src/transform/counters.js';
import { additions, addressOnly, atRequest, atResponse, counterKeys, identifierOf, luaToNumber, spentUnits, windowUses } from '../../src/transform/response-limits.js';
import { routePluginFile } from '../support/plugin-files.js';
import { routeConfigOf } from '../support/route-configs.js';

const load = (config: string) => compileConfig([{ file: 'gateway.yaml', text: routePluginFile('response-ratelimiting', config) }]);
const sent = (config: string): RouteTransform__Output => {
  const r = load(config);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return [...r.translation!.companions.get(TRANSFORM_TYPE_URL)!.values()][0] as unknown as RouteTransform__Output;
};
const errorOf = (config: string) => {
  const r = load(config);
  assert.equal(r.ok, false, config);
  const d = r.diagnostics.find((x) => x.severity === 'error')!;
  return `${d.path?.join('.')}: ${d.message}`;
};

const config = (c: Partial<ResponseRateLimiting__Output>): ResponseRateLimiting__Output => ({
  scope: 'route:r', limit_by: 'consumer', policy: 'local', fault_tolerant: true, block_on_first_violation: false, hide_client_headers: false,
  header_name: 'x-kong-limit', limits: [], redis: null, identity_headers: false, ...c,
});
const VIDEO_IMAGE = config({ limits: [{ name: 'video', windows: [{ unit: 'minute', limit: 6 }, { unit: 'hour', limit: 10 }] }, { name: 'image', windows: [{ unit: 'minute', limit: 4 }] }] });

describe('response-ratelimiting: the config', () => {
  it('loads with Kong\'s defaults (DB-less: policy local)', () => {
    const t = sent('limits: { videos: { minute: 10 } }');
    // The resource leaves out proto3's zero values (false): the companion reads them as false.
    assert.deepEqual({ ...t.response_ratelimiting, redis: undefined }, {
      scope: 'route:r', limit_by: 'consumer', policy: 'local', fault_tolerant: true,
      header_name: 'x-kong-limit', limits: [{ name: 'videos', windows: [{ unit: 'minute', limit: 10 }] }], redis: undefined,
    });
  });

  it('refuses what Kong\'s schema refuses, at the field', () => {
    assert.match(errorOf('policy: cluster\nlimits: { v: { minute: 1 } }'), /policy: .*"local", "redis"/, 'Kong without a database has no cluster policy');
    assert.match(errorOf('limits: {}'), /config\.limits: "limits": set at least one named limit/);
    assert.match(errorOf('limits: { v: {} }'), /config\.limits\.v: .*set at least one of second/);
    assert.match(errorOf('limits: { v: { minute: 10, hour: 5 } }'), /config\.limits\.v\.hour: .*the limit for hour \(5\) cannot be lower than the limit for minute \(10\)/);
    assert.match(errorOf('limits: { v: { minute: 0 } }'), /config\.limits\.v\.minute: /);
    assert.match(errorOf('policy: redis\nlimits: { v: { minute: 1 } }'), /config\.redis\.host: .*is required when policy is "redis"/);
    assert.match(errorOf('limit_by: service\nlimits: { v: { minute: 1 } }'), /limit_by: /);
  });

  it('reads Kong\'s older redis_* fields into redis, and sends the Redis to the companion only', () => {
    const t = sent('policy: redis\nredis_host: 10.0.0.5\nredis_port: 6380\nredis_password: pw\nlimits: { v: { minute: 1 } }');
    assert.equal(t.response_ratelimiting!.redis!.host, '10.0.0.5');
    assert.equal(t.response_ratelimiting!.redis!.port, 6380);
    assert.equal(t.response_ratelimiting!.redis!.password, 'pw');
    assert.equal(t.response_ratelimiting!.redis!.connect_timeout_ms, 2000);
  });

  it('has Envoy send the response headers and the client\'s address to the companion', () => {
    const r = load('limits: { v: { minute: 1 } }');
    const rc = routeConfigOf(r.translation!.fleets.get('')!.get(TYPE.route) as Map<string, { virtual_hosts: { routes: { typed_per_filter_config?: Record<string, { overrides?: Record<string, unknown> }> }[] }[] }>)!;
    const overrides = rc.virtual_hosts.flatMap((vh) => vh.routes).map((x) => x.typed_per_filter_config?.['envoy.filters.http.ext_proc']?.overrides).find(Boolean)!;
    assert.equal((overrides.processing_mode as Record<string, string>).response_header_mode, 'SEND');
    assert.deepEqual(overrides.request_attributes, ['source.address']);
  });
});

describe('response-ratelimiting: the upstream\'s spending header (header_filter.lua parse_header)', () => {
  it('one header: comma-separated name=units, names and units trimmed, only configured names', () => {
    assert.deepEqual([...spentUnits(VIDEO_IMAGE, ['video=2, image = 1, test=5'])], [['video', 2], ['image', 1]]);
  });
  it('several headers: one name=units each, not split at commas', () => {
    assert.deepEqual([...spentUnits(VIDEO_IMAGE, ['video=2', 'image=1'])], [['video', 2], ['image', 1]]);
    assert.deepEqual([...spentUnits(VIDEO_IMAGE, ['video=2, image=1', 'image=3'])], [['image', 3]], 'with several headers each line is one entry: "video=2, image=1" has two "=" and spends nothing');
  });
  it('an entry without exactly one "=" or a units value that is no number spends nothing', () => {
    assert.deepEqual([...spentUnits(VIDEO_IMAGE, ['video, image=1=2, video=x'])], []);
    assert.deepEqual([...spentUnits(VIDEO_IMAGE, [])], []);
  });
  it('units read as Lua\'s tonumber: decimals, exponents, hexadecimal, negatives', () => {
    assert.equal(luaToNumber('3'), 3);
    assert.equal(luaToNumber('1.5'), 1.5);
    assert.equal(luaToNumber('1e2'), 100);
    assert.equal(luaToNumber('0x10'), 16);
    assert.equal(luaToNumber('-2'), -2);
    assert.equal(luaToNumber(''), undefined);
    assert.equal(luaToNumber('2 units'), undefined);
  });
});

describe('response-ratelimiting: the decisions (access.lua, header_filter.lua, log.lua)', () => {
  const uses = (counts: number[]) => windowUses(VIDEO_IMAGE, counts);

  it('the upstream is told each quota\'s smallest remaining', () => {
    assert.deepEqual(atRequest(VIDEO_IMAGE, uses([2, 7, 1])), { upstream: [['x-ratelimit-remaining-video', '3'], ['x-ratelimit-remaining-image', '3']] });
  });

  it('block_on_first_violation refuses at a window with exactly nothing left, naming the quota', () => {
    const blocking = { ...VIDEO_IMAGE, block_on_first_violation: true };
    assert.deepEqual(atRequest(blocking, windowUses(blocking, [2, 2, 4])), { refusedBy: 'image' });
    assert.ok('upstream' in atRequest(blocking, windowUses(blocking, [2, 2, 5])), 'Kong compares with 0 exactly: an overdrawn quota does not block here');
    assert.ok('upstream' in atRequest(VIDEO_IMAGE, uses([6, 6, 4])), 'without the option nothing refuses at the request');
  });

  it('the client sees each window\'s limit and what is left after this response', () => {
    const { headers, refused } = atResponse(VIDEO_IMAGE, uses([2, 2, 1]), new Map([['video', 2], ['image', 1]]));
    assert.equal(refused, false);
    assert.deepEqual(headers, [
      ['X-RateLimit-Limit-video-minute', '6'], ['X-RateLimit-Remaining-video-minute', '2'],
      ['X-RateLimit-Limit-video-hour', '10'], ['X-RateLimit-Remaining-video-hour', '6'],
      ['X-RateLimit-Limit-image-minute', '4'], ['X-RateLimit-Remaining-image-minute', '2'],
    ]);
  });

  it('spending a quota with nothing left is a 429 showing what was left before it (Kong\'s spec: 0, 4, 1)', () => {
    const { headers, refused } = atResponse(VIDEO_IMAGE, uses([6, 6, 3]), new Map([['video', 2], ['image', 1]]));
    assert.equal(refused, true);
    assert.deepEqual(headers.filter(([k]) => k.startsWith('X-RateLimit-Remaining')).map(([, v]) => v), ['0', '4', '1']);
    assert.equal(atResponse(VIDEO_IMAGE, uses([6, 6, 3]), new Map()).refused, false, 'spending nothing passes');
    assert.equal(atResponse(VIDEO_IMAGE, uses([6, 6, 3]), new Map([['video', 0]])).refused, false, 'spending 0 passes');
    assert.deepEqual(atResponse({ ...VIDEO_IMAGE, hide_client_headers: true }, uses([0, 0, 0]), new Map()).headers, []);
  });

  it('counts each spent quota in all its windows, until each window ends; nothing for 0', async () => {
    const now = Date.UTC(2026, 11, 3, 10, 30, 15);
    const keys = counterKeys(VIDEO_IMAGE, '10.0.0.1', now);
    assert.deepEqual(keys.map((k) => k.endMs), [Date.UTC(2026, 11, 3, 10, 31), Date.UTC(2026, 11, 3, 11), Date.UTC(2026, 11, 3, 10, 31)]);
    const add = additions(VIDEO_IMAGE, keys, new Map([['video', 2], ['image', 0]]));
    assert.deepEqual(add.map((a) => a.by), [2, 2]);
    let t = now;
    const store = new MemoryCounters(() => t);
    await store.add(add);
    assert.deepEqual(await store.read(keys), [2, 2, 0]);
    t = Date.UTC(2026, 11, 3, 10, 31);
    assert.deepEqual(await store.read(counterKeys(VIDEO_IMAGE, '10.0.0.1', t)), [0, 2, 0], 'a new minute, the same hour');
  });

  it('the identifier: the consumer, else the credential, else the client\'s address; identity headers only where auth set them', () => {
    const h = (m: Record<string, string>) => (n: string) => m[n];
    const withAuth = config({ identity_headers: true });
    assert.equal(identifierOf(withAuth, h({ 'x-consumer-id': 'c1', 'x-credential-identifier': 'k1' }), '10.0.0.1'), 'c1');
    assert.equal(identifierOf(withAuth, h({ 'x-credential-identifier': 'k1' }), '10.0.0.1'), 'k1');
    assert.equal(identifierOf({ ...withAuth, limit_by: 'credential' }, h({ 'x-consumer-id': 'c1' }), '10.0.0.1'), '10.0.0.1');
    assert.equal(identifierOf({ ...withAuth, limit_by: 'ip' }, h({ 'x-consumer-id': 'c1' }), '10.0.0.1'), '10.0.0.1');
    assert.equal(identifierOf(config({}), h({ 'x-consumer-id': 'forged' }), '10.0.0.1'), '10.0.0.1', 'no auth plugin: a client\'s header is not trusted');
    assert.equal(addressOnly('10.0.0.1:5678'), '10.0.0.1');
    assert.equal(addressOnly('[::1]:5678'), '::1');
  });
});
