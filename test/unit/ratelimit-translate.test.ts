// Kong's rate-limiting plugin → Envoy: the ratelimit filter per stage, the route rate_limits
// actions per limit_by, the ratelimit cluster, and the RouteRateLimit companion resources, all
// from one plan (contracts/ratelimit.ts); every resource round-trips through protobufjs, and
// the companion resource decodes back into the very policies the actions were built from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { consumerId } from '../../src/contracts/authz.js';
import {
  ENTRY, planRateLimits, RATELIMIT_TYPE_URL, routeLimitsFromResource, routeResource, type RatelimitMessages,
} from '../../src/contracts/ratelimit.js';
import { RATELIMIT_CLUSTER } from '../../src/resources/filters/ratelimit.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { decodeToJson, encodeJson, type Json } from '../../src/xds/proto-json.js';
import { decodeResource } from '../../src/xds/companion-decode.js';
import { typeForUrl } from '../../src/xds/proto-registry.js';
import { kongId } from '../../src/kong-ids.js';
import { policyIdOf } from '../support/policy-ids.js';
import { routeConfigOf } from '../support/route-configs.js';

type Obj = Record<string, any>;

function compile(yaml: string, settings: Partial<TranslateSettings> = {}) {
  const r = compileConfig([{ file: 'gateway.yaml', text: yaml }], { settings: { ...DEFAULT_SETTINGS, ...settings } });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r;
}

function resources(r: ReturnType<typeof compile>, typeUrl: string, fleet = ''): Map<string, Obj> {
  return (r.translation!.fleets.get(fleet)!.get(typeUrl) ?? r.translation!.companions.get(typeUrl) ?? new Map()) as Map<string, Obj>;
}

function chain(r: ReturnType<typeof compile>, listener = 'listener:proxy'): Obj[] {
  return resources(r, TYPE.listener).get(listener)!.filter_chains[0].filters[0].typed_config.http_filters;
}

/** Envoy routes by name, across virtual hosts (first seen). */
function envoyRoutes(r: ReturnType<typeof compile>, listener = 'proxy'): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const vh of routeConfigOf(resources(r, TYPE.route), listener)!.virtual_hosts) for (const route of vh.routes) if (!out.has(route.name)) out.set(route.name, route);
  return out;
}

/** The RouteRateLimit a Kong route's Envoy routes name in their descriptor (fd_route). */
function limitOf(r: ReturnType<typeof compile>, route: string): Obj {
  const id = policyIdOf(r.translation!, route, 'ratelimit');
  const body = resources(r, RATELIMIT_TYPE_URL).get(id);
  assert.ok(body, `route ${route}: no RouteRateLimit named ${id}`);
  return body;
}

function roundTrip(typeUrl: string, body: Json): Json {
  const type = typeForUrl(typeUrl);
  assert.ok(type, typeUrl);
  return decodeToJson(type, encodeJson(type, body));
}

function assertRoundTrips(r: ReturnType<typeof compile>): void {
  for (const [typeUrl, m] of [...r.translation!.fleets.get('')!, ...r.translation!.companions]) {
    for (const [name, body] of m) assert.deepEqual(roundTrip(typeUrl, body), body, `${typeUrl} ${name}`);
  }
}

const UP = 'http://127.0.0.1:9';

describe('rate-limiting → Envoy', () => {
  test("the deep dive's example (global, redis, credential, minute + hour): filter, cluster, actions, resource", () => {
    const r = compile(`
_format_version: "3.0"
plugins:
  - name: rate-limiting
    config: { minute: 100, hour: 5000, policy: redis, redis_host: redis, redis_port: 6379, limit_by: credential, hide_client_headers: false }
services:
  - name: api
    url: ${UP}
    routes: [{ name: api, paths: [/api] }]
`);
    const filters = chain(r);
    assert.deepEqual(filters.map((f) => f.name), ['envoy.filters.http.ratelimit', 'envoy.filters.http.router']);
    assert.deepEqual(filters[0]!.typed_config, {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit',
      domain: 'frontdesk',
      timeout: '0.5s',
      rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: RATELIMIT_CLUSTER } }, transport_api_version: 'V3' },
      disable_x_envoy_ratelimited_header: true,
      rate_limited_status: { code: 'TooManyRequests' },
      rate_limited_as_resource_exhausted: true,
      status_on_error: { code: 'InternalServerError' },
    });
    const cluster = resources(r, TYPE.cluster).get(RATELIMIT_CLUSTER)!;
    assert.equal(cluster.type, 'STATIC');
    assert.deepEqual(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address, { socket_address: { address: '127.0.0.1', port_value: 18002 } });
    assert.ok(cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config.http2_protocol_options);

    const id = policyIdOf(r.translation!, 'api', 'ratelimit');
    assert.match(id, /^[0-9a-f]{32}$/, 'the policy is named by a hash of its content');
    assert.deepEqual(envoyRoutes(r).get('api')!.route.rate_limits, [{
      actions: [
        { generic_key: { descriptor_key: 'fd_route', descriptor_value: id } },
        { generic_key: { descriptor_key: 'fd_stage', descriptor_value: '0' } },
        { metadata: { descriptor_key: 'credential', metadata_key: { key: 'envoy.filters.http.ext_authz', path: [{ key: 'credential_id' }] }, source: 'DYNAMIC', skip_if_absent: true } },
        { remote_address: {} },
      ],
    }]);
    assert.deepEqual(limitOf(r, 'api'), {
      name: id,
      service: 'api',
      policy: {
        scope: 'global',
        limit_by: 'CREDENTIAL',
        windows: [{ unit: 'MINUTE', limit: 100 }, { unit: 'HOUR', limit: 5000 }],
        algorithm: 'TOKEN_BUCKET',
        policy: 'REDIS',
        redis: { host: 'redis', port: 6379, connect_timeout_ms: 2000, read_timeout_ms: 2000 },
        fault_tolerant: true,
        error_code: 429,
        error_message: 'API rate limit exceeded',
      },
    });
    assertRoundTrips(r);
  });

  test('each limit_by asks Envoy for exactly the entries its identifier (and ip fallback) needs', () => {
    const routes = (['consumer', 'credential', 'ip', 'service', 'header', 'path'] as const).map((by) => `
      - name: by-${by}
        paths: [/${by}]
        plugins:
          - name: rate-limiting
            config: { second: 1, limit_by: ${by}${by === 'header' ? ', header_name: X-Api_Key' : ''}${by === 'path' ? ', path: /path/exact' : ''} }`).join('');
    const r = compile(`
_format_version: "3.0"
services:
  - name: s
    url: ${UP}
    routes:${routes}
`);
    const keys = (name: string) => (envoyRoutes(r).get(name)!.route.rate_limits[0].actions as Obj[]).slice(2).map((a) => Object.keys(a)[0] === 'metadata' ? `md:${a.metadata.descriptor_key}` : Object.keys(a)[0] === 'request_headers' ? `hdr:${a.request_headers.header_name}→${a.request_headers.descriptor_key}` : Object.keys(a)[0]);
    assert.deepEqual(keys('by-consumer'), ['md:consumer', 'md:credential', 'remote_address']);
    assert.deepEqual(keys('by-credential'), ['md:credential', 'remote_address']);
    assert.deepEqual(keys('by-ip'), ['remote_address']);
    assert.deepEqual(keys('by-service'), []);
    assert.deepEqual(keys('by-header'), ['hdr:x-api_key→header:x-api_key', 'remote_address']);
    assert.deepEqual(keys('by-path'), ['hdr::path→path', 'remote_address']);
    for (const a of envoyRoutes(r).get('by-header')!.route.rate_limits[0].actions as Obj[]) if (a.request_headers) assert.equal(a.request_headers.skip_if_absent, true);
    assertRoundTrips(r);
  });

  test("counter scopes follow Kong's plugin scope: route, service, global; a route's paths share one resource", () => {
    const r = compile(`
_format_version: "3.0"
plugins:
  - name: rate-limiting
    config: { minute: 10 }
services:
  - name: a
    url: ${UP}
    plugins:
      - name: rate-limiting
        config: { minute: 20 }
    routes:
      - name: a1
        paths: [/a1, /a1-alias]
      - name: a2
        paths: [/a2]
        plugins:
          - name: rate-limiting
            config: { minute: 30 }
  - name: b
    url: ${UP}
    routes: [{ name: b1, paths: [/b1] }]
`);
    assert.equal(resources(r, RATELIMIT_TYPE_URL).size, 3);
    assert.equal(limitOf(r, 'a1').policy.scope, 'service:a');
    assert.equal(limitOf(r, 'a2').policy.scope, 'route:a2');
    assert.equal(limitOf(r, 'b1').policy.scope, 'global');
    const routes = envoyRoutes(r);
    assert.deepEqual(routes.get('a1#0')!.route.rate_limits, routes.get('a1#1')!.route.rate_limits);
    assert.equal(routes.get('a1#0')!.route.rate_limits[0].actions[0].generic_key.descriptor_value, limitOf(r, 'a1').name);
  });

  test('consumer-scoped plugins: keyed by the consumer id authz reports; a route limited only for consumers requires it', () => {
    const r = compile(`
_format_version: "3.0"
consumers:
  - username: alice
    plugins:
      - name: rate-limiting
        config: { minute: 5 }
  - username: bob
    id: 7f0f2c1e-3a55-4d6c-9a43-0d2f6a0b1c11
  - username: carol
services:
  - name: s
    url: ${UP}
    routes:
      - name: open
        paths: [/open]
      - name: limited
        paths: [/limited]
        plugins:
          - name: rate-limiting
            config: { minute: 100, limit_by: ip }
plugins:
  - name: rate-limiting
    consumer: bob
    route: limited
    config: { minute: 50, error_code: 503, error_message: slow down }
`);
    const rl = { get: (route: string) => limitOf(r, route) };
    const alice = kongId('consumers', 'alice');
    assert.deepEqual(rl.get('open')!.consumers.map((c: Obj) => c.consumer_id), [alice]);
    assert.equal(rl.get('open')!.policy, undefined);
    assert.deepEqual(rl.get('limited')!.consumers.map((c: Obj) => [c.consumer_id, c.policy.scope, c.policy.stage ?? 0]).sort(), [
      ['7f0f2c1e-3a55-4d6c-9a43-0d2f6a0b1c11', 'route:limited', 1],
      [alice, 'global', 0],
    ].sort());
    // /open: no limit for anonymous requests, so no call without a consumer.
    const open = envoyRoutes(r).get('open')!.route.rate_limits as Obj[];
    assert.equal(open.length, 1);
    const consumerAction = open[0]!.actions.find((a: Obj) => a.metadata?.descriptor_key === ENTRY.consumer);
    assert.equal(consumerAction.metadata.skip_if_absent, undefined);
    // /limited: bob's override refuses with 503, so it sits on stage 1; the route asks both stages.
    const limited = envoyRoutes(r).get('limited')!.route.rate_limits as Obj[];
    assert.deepEqual(limited.map((x) => x.stage ?? 0), [0, 1]);
    assert.deepEqual(limited.map((x) => x.actions[1].generic_key.descriptor_value), ['0', '1']);
    assert.deepEqual(chain(r).map((f) => f.name), ['envoy.filters.http.ratelimit', 'frontdesk.ratelimit.stage1', 'envoy.filters.http.router']);
    assert.deepEqual(chain(r)[1]!.typed_config.rate_limited_status, { code: 'ServiceUnavailable' });
    assert.equal(chain(r)[1]!.typed_config.rate_limited_as_resource_exhausted, undefined, 'only 429 becomes RESOURCE_EXHAUSTED');
    assert.equal(chain(r)[1]!.typed_config.stage, 1);
    assertRoundTrips(r);
  });

  test('fault_tolerant: false refuses (500) when the service cannot be asked; the operator can open it', () => {
    const yaml = `
_format_version: "3.0"
services:
  - name: s
    url: ${UP}
    routes:
      - name: tolerant
        paths: [/t]
        plugins: [{ name: rate-limiting, config: { minute: 1 } }]
      - name: strict
        paths: [/s]
        plugins: [{ name: rate-limiting, config: { minute: 1, fault_tolerant: false } }]
`;
    const r = compile(yaml);
    const filters = chain(r).filter((f) => f.name !== 'envoy.filters.http.router');
    assert.deepEqual(filters.map((f) => [f.name, f.typed_config.failure_mode_deny ?? false]), [
      ['envoy.filters.http.ratelimit', false],
      ['frontdesk.ratelimit.stage1', true],
    ]);
    const open = compile(yaml, { ratelimit: { ...DEFAULT_SETTINGS.ratelimit, failOpen: true } });
    assert.deepEqual(chain(open).map((f) => f.name), ['envoy.filters.http.ratelimit', 'envoy.filters.http.router']);
    assert.equal(chain(open)[0]!.typed_config.failure_mode_deny, undefined);
  });

  test('the filter is only on listeners with a rate-limited route; no limits, no filter, cluster or resources', () => {
    const r = compile(`
_format_version: "3.0"
listeners:
  - { name: public, port: 8000 }
  - { name: internal, port: 8100 }
services:
  - name: s
    url: ${UP}
    routes:
      - name: limited
        paths: [/l]
        listeners: [public]
        plugins: [{ name: rate-limiting, config: { second: 5 } }]
      - name: free
        paths: [/f]
`);
    assert.ok(chain(r, 'listener:public').some((f) => f.name === 'envoy.filters.http.ratelimit'));
    assert.ok(!chain(r, 'listener:internal').some((f) => f.name === 'envoy.filters.http.ratelimit'));
    assert.equal(envoyRoutes(r, 'public').get('free')!.route.rate_limits, undefined);

    const none = compile(`
_format_version: "3.0"
services: [{ name: s, url: "${UP}", routes: [{ name: r, paths: [/] }] }]
`);
    assert.ok(!chain(none).some((f) => f.name.includes('ratelimit')));
    assert.equal(resources(none, TYPE.cluster).has(RATELIMIT_CLUSTER), false);
    assert.equal(resources(none, RATELIMIT_TYPE_URL).size, 0);
  });

  test('the ratelimit cluster follows --ratelimit, by DNS for a host name', () => {
    const r = compile(`
_format_version: "3.0"
services: [{ name: s, url: "${UP}", routes: [{ name: r, paths: [/], plugins: [{ name: rate-limiting, config: { minute: 1 } }] }] }]
`, { ratelimit: { host: 'ratelimit.internal', port: 9999, timeoutMs: 250, failOpen: false } });
    const c = resources(r, TYPE.cluster).get(RATELIMIT_CLUSTER)!;
    assert.equal(c.type, 'STRICT_DNS');
    assert.deepEqual(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: 'ratelimit.internal', port_value: 9999 });
    assert.equal(chain(r)[0]!.typed_config.timeout, '0.25s');
  });

  test('limits Envoy cannot express are refused when the file loads, not served differently', () => {
    assert.throws(() => compile(`
_format_version: "3.0"
services: [{ name: s, url: "${UP}", routes: [{ name: r, paths: [/], plugins: [{ name: rate-limiting, config: { minute: 1, error_code: 200 } }] }] }]
`), /"code":"FD_INVALID_VALUE"[^}]*must be a 4xx or 5xx status Envoy can send[^}]*"line":3,"col":148/);
    const routes = Array.from({ length: 12 }, (_, i) => `{ name: r${i}, paths: [/r${i}], plugins: [{ name: rate-limiting, config: { minute: 1, error_code: ${[400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411][i]} } }] }`).join(', ');
    assert.throws(() => compile(`
_format_version: "3.0"
services: [{ name: s, url: "${UP}", routes: [${routes}] }]
`), /"code":"FD_INVALID_VALUE"[^}]*more than 11 distinct \(error_code, fault_tolerant\) pairs/);
  });

  test('the companion resource decodes back into the policies the actions were built from', () => {
    const r = compile(`
_format_version: "3.0"
consumers:
  - username: alice
services:
  - name: s
    url: ${UP}
    routes:
      - name: r
        paths: [/]
        plugins:
          - name: rate-limiting
            config:
              second: 2.5
              year: 1000
              limit_by: header
              header_name: X-Tenant
              algorithm: sliding-log
              policy: redis
              hide_client_headers: true
              error_message: nope
              redis: { host: 10.0.0.1, port: 6380, username: u, password: p, database: 3, ssl: true, ssl_verify: true, server_name: r.example, timeout: 300, connect_timeout: 150 }
plugins:
  - name: rate-limiting
    consumer: alice
    route: r
    config: { hour: 7, limit_by: path, path: /x, policy: cluster, fault_tolerant: false, algorithm: fixed-window }
`);
    const ir = r.ir!;
    const plan = planRateLimits(ir, { failOpen: false });
    const limits = plan.routes.get('r')!;
    const body = limitOf(r, 'r');
    assert.deepEqual(body, routeResource(limits));
    const decoded = routeLimitsFromResource(decodeResource<RatelimitMessages, typeof RATELIMIT_TYPE_URL>(RATELIMIT_TYPE_URL, encodeJson(typeForUrl(RATELIMIT_TYPE_URL)!, body)));
    // The Redis record comes back with its timeouts as the service uses them.
    const redis = { ...limits.policy!.redis!, send_timeout: 300 };
    // Read back, the limits are known by the resource's name (what Envoy sends as fd_route).
    assert.deepEqual(decoded, { ...limits, name: body.name, policy: { ...limits.policy!, redis } });
    assert.deepEqual(decoded.policy!.windows, [{ unit: 'second', limit: 2.5 }, { unit: 'year', limit: 1000 }]);
    assert.equal(decoded.policy!.headerName, 'x-tenant');
    assert.deepEqual(plan.stages, [{ stage: 0, errorCode: 429, failureModeDeny: false }, { stage: 1, errorCode: 429, failureModeDeny: true }]);
  });

  test("policy local with hide_client_headers, limit_by service, one whole-number window: Envoy's local_ratelimit, the route's bucket shared by its scope", () => {
    const r = compile(`_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    plugins:
      - name: rate-limiting
        config: { minute: 3, limit_by: service, hide_client_headers: true }
    routes:
      - { name: a, paths: [/a] }
      - { name: b, paths: [/b] }
      - name: own
        paths: [/own]
        plugins:
          - name: rate-limiting
            config: { hour: 7, limit_by: service, hide_client_headers: true, error_message: "Not now" }
`);
    assertRoundTrips(r);
    const filters = chain(r);
    assert.deepEqual(filters.map((f) => f.name), ['envoy.filters.http.local_ratelimit', 'envoy.filters.http.router'], 'no ratelimit filter: the companion is never asked');
    const local = filters[0]!.typed_config;
    assert.equal(local.stage, 10);
    assert.equal(local.always_consume_default_token_bucket, false);
    assert.equal(local.local_rate_limit_per_downstream_connection, undefined, 'one bucket for every connection and worker');
    assert.deepEqual(local.descriptors, [
      { entries: [{ key: 'fd_local', value: 'route:own|s' }], token_bucket: { max_tokens: 7, tokens_per_fill: 7, fill_interval: '3600s' } },
      { entries: [{ key: 'fd_local', value: 'service:s|s' }], token_bucket: { max_tokens: 3, tokens_per_fill: 3, fill_interval: '60s' } },
    ]);
    const routes = envoyRoutes(r);
    // Both Envoy routes of /a (exact and prefix) and /b name the one service bucket.
    for (const name of [...routes.keys()].filter((n) => /^(a|b)(:|$)/.test(n))) {
      assert.deepEqual(routes.get(name)!.route.rate_limits, [{ stage: 10, actions: [{ generic_key: { descriptor_key: 'fd_local', descriptor_value: 'service:s|s' } }] }], name);
      assert.equal(routes.get(name)!.metadata.filter_metadata.frontdesk.rate_limit_body, '{"message":"API rate limit exceeded"}');
    }
    assert.equal(routes.get('own')!.metadata.filter_metadata.frontdesk.rate_limit_body, '{"message":"Not now"}');
    // Kong's body for local_ratelimit's own refusals (details local_rate_limited) only.
    const mappers = resources(r, TYPE.listener).get('listener:proxy')!.filter_chains[0].filters[0].typed_config.local_reply_config.mappers as Obj[];
    const mapper = mappers.find((m) => JSON.stringify(m).includes('local_rate_limited'))!;
    assert.equal(mapper.body_format_override.text_format_source.inline_string, '%METADATA(ROUTE:frontdesk:rate_limit_body)%');
    assert.equal(resources(r, RATELIMIT_TYPE_URL).size, 0, 'no companion resources');
    const plan = planRateLimits(r.ir!, { failOpen: false });
    assert.deepEqual([...plan.native.keys()].sort(), ['a', 'b', 'own']);
  });

  test('what local_ratelimit cannot serve as Kong does stays on the companion, with the reason', () => {
    const route = (name: string, config: string) => `      - name: ${name}
        paths: [/${name}]
        plugins:
          - { name: rate-limiting, config: ${config} }
`;
    const r = compile(`_format_version: "3.0"
consumers:
  - username: alice
    plugins:
      - { name: rate-limiting, route: overridden, config: { minute: 9, limit_by: service, hide_client_headers: true } }
services:
  - name: s
    url: http://127.0.0.1:9
    routes:
${route('headers', '{ minute: 3, limit_by: service }')}${route('ip', '{ minute: 3, limit_by: ip, hide_client_headers: true }')}${route('windows', '{ second: 1, minute: 3, limit_by: service, hide_client_headers: true }')}${route('fixed', '{ minute: 3, limit_by: service, hide_client_headers: true, algorithm: fixed-window }')}${route('redis', '{ minute: 3, limit_by: service, hide_client_headers: true, policy: redis, redis: { host: 127.0.0.1 } }')}${route('status', '{ minute: 3, limit_by: service, hide_client_headers: true, error_code: 503 }')}${route('fraction', '{ minute: 2.5, limit_by: service, hide_client_headers: true }')}${route('forced', '{ minute: 3, limit_by: service, hide_client_headers: true, enforcer: companion }')}${route('overridden', '{ minute: 3, limit_by: service, hide_client_headers: true }')}`);
    const plan = planRateLimits(r.ir!, { failOpen: false });
    assert.equal(plan.native.size, 0);
    const why = (name: string) => plan.companionWhy.get(name)!.join('; ');
    assert.match(why('headers'), /X-RateLimit-\*/);
    assert.match(why('ip'), /limit_by ip needs a bucket per client/);
    assert.match(why('windows'), /several windows/);
    assert.match(why('fixed'), /algorithm fixed-window/);
    assert.match(why('redis'), /policy redis/);
    assert.match(why('status'), /error_code 503/);
    assert.match(why('fraction'), /whole number/);
    assert.equal(why('forced'), 'enforcer: companion');
    assert.match(why('overridden'), /consumer-scoped plugin overrides/);
    assert.deepEqual([...plan.routes.keys()].sort(), ['fixed', 'forced', 'fraction', 'headers', 'ip', 'overridden', 'redis', 'status', 'windows']);
    assert.ok(!chain(r).some((f) => f.name === 'envoy.filters.http.local_ratelimit'));
  });

  test('enforcer: native on a config local_ratelimit cannot serve exactly is an error naming the reasons', () => {
    const r = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    routes:
      - name: r
        paths: [/r]
        plugins:
          - { name: rate-limiting, config: { minute: 3, limit_by: ip, enforcer: native } }
` }], { settings: DEFAULT_SETTINGS });
    assert.equal(r.ok, false);
    const d = r.diagnostics.find((x) => x.severity === 'error')!;
    assert.deepEqual(d.path.slice(-2), ['config', 'enforcer']);
    assert.match(d.message, /limit_by ip/);
    assert.match(d.message, /X-RateLimit/);
    assert.ok(d.line && d.col, 'with line:col');
  });

  test('a service-scoped limit whose routes sit on two listeners stays on the companion (one bucket belongs to one listener)', () => {
    const r = compile(`_format_version: "3.0"
listeners:
  - { name: one, port: 8000 }
  - { name: two, port: 8001 }
services:
  - name: s
    url: http://127.0.0.1:9
    plugins:
      - { name: rate-limiting, config: { minute: 3, limit_by: service, hide_client_headers: true } }
    routes:
      - { name: a, paths: [/a], listeners: [one] }
      - { name: b, paths: [/b], listeners: [two] }
`);
    const plan = planRateLimits(r.ir!, { failOpen: false });
    assert.equal(plan.native.size, 0);
    assert.match(plan.companionWhy.get('a')!.join(), /span 2 listeners/);
  });
});
