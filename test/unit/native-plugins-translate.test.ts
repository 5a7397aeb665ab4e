// The natively enforced Kong plugins → Envoy: which filters a listener gets and in what order,
// each route's per-filter config, the route patches (direct_response, host and path rewrites),
// Kong's answers (custom_response rules, tried in Kong's plugin priority, with the CORS and
// correlation-id headers written into them), and the Content-Length regex; every resource
// round-trips through protobufjs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RE2JS } from 're2js';
import { consumerId } from '../../src/contracts/authz.js';
import { corsPolicy, corsResponseMutations, normalizeOrigin, originMatcher } from '../../src/resources/filters/cors.js';
import { decimalGreaterThan, KONG_REPLIES_FILTER } from '../../src/resources/filters/kong-replies.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { MAX_BUFFER_BYTES } from '../../src/resources/filters/request-size-limiting.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { decodeToJson, encodeJson, type Json } from '../../src/xds/proto-json.js';
import { typeForUrl } from '../../src/xds/proto-registry.js';
import { corsConfigSchema, corsOrigin, corsPlugin, type CorsFeature } from '../../src/model/plugins/cors.js';
import { kongId } from '../../src/kong-ids.js';
import { routeConfigOf } from '../support/route-configs.js';

type Obj = Record<string, any>;

function compile(yaml: string) {
  const r = compileConfig([{ file: 'gateway.yaml', text: yaml }], { settings: DEFAULT_SETTINGS });
  assert.ok(r.ok, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  return r;
}

type Compiled = ReturnType<typeof compile>;

function resources(r: Compiled, typeUrl: string): Map<string, Obj> {
  return (r.translation!.fleets.get('')!.get(typeUrl) ?? new Map()) as Map<string, Obj>;
}

function chain(r: Compiled, listener = 'listener:proxy'): string[] {
  return (resources(r, TYPE.listener).get(listener)!.filter_chains[0].filters[0].typed_config.http_filters as Obj[]).map((f) => f.name as string);
}

function hcmOf(r: Compiled, listener = 'listener:proxy'): Obj {
  return resources(r, TYPE.listener).get(listener)!.filter_chains[0].filters[0].typed_config as Obj;
}

function envoyRoutes(r: Compiled): Map<string, Obj> {
  const out = new Map<string, Obj>();
  for (const vh of routeConfigOf(resources(r, TYPE.route))!.virtual_hosts) for (const route of vh.routes) if (!out.has(route.name)) out.set(route.name, route);
  return out;
}

function perFilter(r: Compiled, route: string, filter: string): Obj | undefined {
  return envoyRoutes(r).get(route)?.typed_per_filter_config?.[filter];
}

function assertRoundTrips(r: Compiled): void {
  for (const [typeUrl, m] of r.translation!.fleets.get('')!) {
    const type = typeForUrl(typeUrl)!;
    for (const [name, body] of m) assert.deepEqual(decodeToJson(type, encodeJson(type, body as Json)), body, `${typeUrl} ${name}`);
  }
}

/** A service with the given routes (YAML list items, indented for `routes:`), plus extra top-level YAML. */
function gateway(routes: string, extra = ''): string {
  return `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
${routes}
${extra}`;
}

describe('decimalGreaterThan: a Content-Length above a limit, as a whole-value RE2 regex', () => {
  test('matches exactly the integers above n (leading zeros allowed), for many n', () => {
    const limits = [0, 1, 9, 10, 11, 99, 100, 101, 128, 999, 1000, 1024, 1099, 4096, 65535];
    for (const n of limits) {
      const re = RE2JS.compile(decimalGreaterThan(n));
      for (let v = 0; v <= n * 3 + 120; v++) {
        assert.equal(re.matches(String(v)), v > n, `n=${n} v=${v}`);
        assert.equal(re.matches(`00${v}`), v > n, `n=${n} v=00${v}`);
      }
      for (const junk of ['', '-1', '1.5', '1e9', 'abc']) assert.equal(re.matches(junk), false, `n=${n} ${junk}`);
    }
  });

  test('large limits (128 MiB, 2^52) near their edge', () => {
    for (const n of [134_217_728, 2 ** 52]) {
      const re = RE2JS.compile(decimalGreaterThan(n));
      for (const d of [-1000, -1, 0]) assert.equal(re.matches(String(n + d)), false, `${n}${d}`);
      for (const d of [1, 2, 1000, n]) assert.equal(re.matches(String(n + d)), true, `${n}+${d}`);
    }
  });
});

describe('the chain', () => {
  test('no native plugin: none of their filters', () => {
    const r = compile(gateway('      - name: a\n        paths: [/a]'));
    assert.deepEqual(chain(r), ['envoy.filters.http.router']);
  });

  test('every native plugin: their filters in chain order around authz and the router, each off by default', () => {
    const r = compile(gateway(`      - name: all
        paths: [/all]
        plugins:
          - { name: correlation-id }
          - { name: cors }
          - { name: ip-restriction, config: { deny: [10.0.0.0/8] } }
          - { name: request-size-limiting }
          - { name: key-auth }
          - { name: request-transformer, config: { add: { headers: ["X-A:1"] } } }
          - { name: response-transformer, config: { remove: { headers: [Server] } } }
          - { name: prometheus }`, `consumers:
  - username: alice
    keyauth_credentials: [{ key: k }]
    plugins:
      - name: request-termination`));
    assert.deepEqual(chain(r), [
      KONG_REPLIES_FILTER, 'frontdesk.correlation_id', 'frontdesk.correlation_id.counter', 'frontdesk.cors.headers', 'envoy.filters.http.cors', 'frontdesk.ip_restriction',
      'frontdesk.request_size_limiting.buffer', 'frontdesk.request_size_limiting', 'frontdesk.auth.token', 'envoy.filters.http.api_key_auth', 'frontdesk.auth.accept',
      'frontdesk.auth.decide', 'frontdesk.auth.consumer_metadata', 'frontdesk.request_transformer', 'frontdesk.response_transformer', 'frontdesk.request_termination', 'envoy.filters.http.router',
    ]);
    const listener = resources(r, TYPE.listener).get('listener:proxy')!;
    // The accept filter is on by default (its map of every credential is on the listener once) and off on each route that does not take the accepted path without Lua.
    for (const f of listener.filter_chains[0].filters[0].typed_config.http_filters as Obj[]) {
      if (f.name !== 'envoy.filters.http.router' && f.name !== 'frontdesk.auth.accept') assert.equal(f.disabled, true, f.name);
    }
    assertRoundTrips(r);
  });

  test('a route without a service gets nothing (Kong answers 503 before any plugin)', () => {
    const r = compile(`_format_version: "3.0"
routes:
  - name: orphan
    paths: [/o]
    plugins:
      - { name: cors }
      - { name: request-size-limiting }
`);
    assert.deepEqual(chain(r), ['envoy.filters.http.router']);
    assert.equal(envoyRoutes(r).get('orphan')!.direct_response.status, 503);
  });
});

describe('request-size-limiting', () => {
  test('the buffer holds only bodies without Content-Length, up to the limit; the gate after it denies a Content-Length above it', () => {
    const r = compile(gateway(`      - name: up
        paths: [/up]
        plugins:
          - { name: request-size-limiting, config: { allowed_payload_size: 10, size_unit: kilobytes } }`));
    const gate = perFilter(r, 'up', 'frontdesk.request_size_limiting')!;
    assert.deepEqual(gate.rbac.rules.policies['request-size-limiting'].permissions, [
      { header: { name: 'content-length', range_match: { start: 10 * 1024 + 1, end: Number.MAX_SAFE_INTEGER } } },
    ]);
    const buffer = perFilter(r, 'up', 'frontdesk.request_size_limiting.buffer')!;
    const m = buffer.xds_matcher.matcher_list.matchers[0];
    assert.deepEqual(m.predicate.not_matcher.single_predicate.input.typed_config.header_name, 'content-length');
    assert.equal(m.on_match.action.typed_config.typed_config.typed_config.max_request_bytes, 10 * 1024);
    const rules = perFilter(r, 'up', KONG_REPLIES_FILTER)!.custom_response_matcher.matcher_list.matchers as Obj[];
    // Each refusal twice: Kong's 417 for a request that said Expect: 100-continue, its 413 otherwise.
    assert.deepEqual(rules.map((x) => x.on_match.action.typed_config.status_code), [417, 413, 417, 413]);
    assert.equal(rules[1]?.predicate.and_matcher.predicate[1].single_predicate.value_match.safe_regex.regex, decimalGreaterThan(10240));
    const headersOf = (x: Obj | undefined) => (x?.predicate.and_matcher.predicate as Obj[]).map((p) => p.single_predicate?.input.typed_config.header_name);
    assert.ok(headersOf(rules[0]).includes('expect') && !headersOf(rules[1]).includes('expect'));
    // The Expect header reaches the filters only when Envoy does not answer 100-continue itself.
    assert.equal(hcmOf(r).proxy_100_continue, true);
    assertRoundTrips(r);
  });

  test('require_content_length: a missing Content-Length is denied too (Kong\'s 411), and nothing is buffered', () => {
    const r = compile(gateway(`      - name: up
        paths: [/up]
        plugins:
          - { name: request-size-limiting, config: { require_content_length: true } }`));
    const gate = perFilter(r, 'up', 'frontdesk.request_size_limiting')!;
    assert.deepEqual(gate.rbac.rules.policies['request-size-limiting'].permissions[1], { header: { name: 'content-length', present_match: true, invert_match: true } });
    assert.equal(perFilter(r, 'up', 'frontdesk.request_size_limiting.buffer'), undefined);
    assert.ok(!chain(r).includes('frontdesk.request_size_limiting.buffer'));
    const rules = perFilter(r, 'up', KONG_REPLIES_FILTER)!.custom_response_matcher.matcher_list.matchers as Obj[];
    assert.deepEqual(rules.map((x) => [x.on_match.action.typed_config.status_code, JSON.parse(x.on_match.action.typed_config.body.inline_string).message]), [
      [411, 'A valid Content-Length header is required'], [417, 'Request size limit exceeded'], [413, 'Request size limit exceeded'],
    ]);
  });

  test('a limit above 4 GiB buffers at most 4 GiB (Envoy\'s buffer limit is a uint32)', () => {
    const r = compile(gateway(`      - name: up
        paths: [/up]
        plugins:
          - { name: request-size-limiting, config: { allowed_payload_size: 5000 } }`));
    const buffer = perFilter(r, 'up', 'frontdesk.request_size_limiting.buffer')!;
    assert.equal(buffer.xds_matcher.matcher_list.matchers[0].on_match.action.typed_config.typed_config.typed_config.max_request_bytes, MAX_BUFFER_BYTES);
  });
});

describe('request-termination', () => {
  test('on a route: the route action becomes Kong\'s direct_response, per-route filters kept', () => {
    const r = compile(gateway(`      - name: off
        paths: [/off]
        plugins:
          - { name: request-termination, config: { status_code: 410, message: "Gone for good" } }
          - { name: key-auth }`, `consumers:
  - username: a
    keyauth_credentials: [{ key: k }]`));
    const route = envoyRoutes(r).get('off')!;
    assert.equal(route.route, undefined);
    assert.deepEqual(route.direct_response, { status: 410, body: { inline_string: '{"message":"Gone for good"}' } });
    assert.deepEqual(route.response_headers_to_add, [{ header: { key: 'content-type', value: 'application/json; charset=utf-8' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
    // key-auth is Envoy's here (docs/authz.md): its filters are on for the route, and its settings in the route's metadata.
    assert.ok(route.typed_per_filter_config['envoy.filters.http.api_key_auth'] && route.typed_per_filter_config['frontdesk.auth.decide'], 'authentication still runs first');
    assert.ok(route.metadata.filter_metadata['frontdesk.auth.token'].key, 'the key lookup has its settings on a direct_response route');
    assertRoundTrips(r);
  });

  test('on consumers: an RBAC gate on x-consumer-id after authz, only on routes that authenticate', () => {
    const r = compile(gateway(`      - name: members
        paths: [/members]
        plugins: [{ name: key-auth }]
      - name: open
        paths: [/open]`, `consumers:
  - username: zed
    keyauth_credentials: [{ key: kz }]
    plugins:
      - { name: request-termination, config: { status_code: 429, message: "slow down" } }
  - username: amy
    keyauth_credentials: [{ key: ka }]
    plugins:
      - { name: request-termination }
  - username: bob
    keyauth_credentials: [{ key: kb }]`));
    const ids = ['amy', 'zed'].map((key) => kongId('consumers', key)).sort();
    const gate = perFilter(r, 'members', 'frontdesk.request_termination')!;
    assert.deepEqual(gate.rbac.rules.policies['request-termination'].principals, ids.map((id) => ({ header: { name: 'x-consumer-id', string_match: { exact: id } } })));
    assert.equal(perFilter(r, 'open', 'frontdesk.request_termination'), undefined, 'no consumer is identified on a route without authentication');
    // The rules that name a consumer (key-auth's own rules name the key's headers).
    const rules = (perFilter(r, 'members', KONG_REPLIES_FILTER)!.custom_response_matcher.matcher_list.matchers as Obj[])
      .filter((x) => x.predicate.and_matcher.predicate[1].single_predicate?.input?.typed_config?.header_name === 'x-consumer-id');
    const byId = new Map(rules.map((x) => [x.predicate.and_matcher.predicate[1].single_predicate.value_match.exact, x.on_match.action.typed_config]));
    assert.equal(byId.get(kongId('consumers', 'zed'))!.status_code, 429);
    assert.equal(byId.get(kongId('consumers', 'amy'))!.body.inline_string, '{"message":"Service unavailable"}');
    assertRoundTrips(r);
  });
});

describe('ip-restriction', () => {
  test('deny and allow lists become RBAC principals on remote_ip, and Kong\'s answer is tried before the size limit\'s', () => {
    const r = compile(gateway(`      - name: r
        paths: [/r]
        plugins:
          - { name: ip-restriction, config: { deny: [10.1.2.3, "2001:db8::/32"], allow: [10.0.0.0/8, 192.168.1.1], status: 418, message: "no" } }
          - { name: request-size-limiting }`));
    const rbac = perFilter(r, 'r', 'frontdesk.ip_restriction')!;
    assert.deepEqual(rbac.rbac.rules.policies['ip-restriction'].principals, [
      { remote_ip: { address_prefix: '10.1.2.3', prefix_len: 32 } },
      { remote_ip: { address_prefix: '2001:db8::', prefix_len: 32 } },
      { not_id: { or_ids: { ids: [{ remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } }, { remote_ip: { address_prefix: '192.168.1.1', prefix_len: 32 } }] } } },
    ]);
    const rules = perFilter(r, 'r', KONG_REPLIES_FILTER)!.custom_response_matcher.matcher_list.matchers as Obj[];
    assert.deepEqual(rules.map((x) => x.on_match.action.name), ['ip-restriction', 'request-size-limiting', 'request-size-limiting', 'request-size-limiting', 'request-size-limiting']);
    const ip = rules[0]!;
    assert.equal(ip.on_match.action.typed_config.status_code, 418);
    assert.equal(ip.on_match.action.typed_config.body.inline_string, '{"message":"no"}');
    const source = ip.predicate.and_matcher.predicate[1].or_matcher.predicate;
    assert.deepEqual(source[0].single_predicate.custom_match.typed_config.cidr_ranges, [{ address_prefix: '10.1.2.3', prefix_len: 32 }, { address_prefix: '2001:db8::', prefix_len: 32 }]);
    assert.ok(source[1].not_matcher, 'outside the allow list');
    assertRoundTrips(r);
  });
});

describe('cors', () => {
  const cfg = (c: unknown): CorsFeature => corsPlugin.feature(corsConfigSchema.parse(c));

  test('origins: literals normalised as Kong does, regexes anchored, host-only regexes allow scheme and port', () => {
    assert.equal(normalizeOrigin('https://a.com:443'), 'https://a.com');
    assert.equal(normalizeOrigin('http://a.com:80/x'), 'http://a.com');
    assert.equal(normalizeOrigin('http://a.com:8080'), 'http://a.com:8080');
    // Kong compares the request's origin normalised as well: the scheme's default port may be written.
    const literal = RE2JS.compile((originMatcher(corsOrigin('https://a.com:443')).safe_regex as Obj).regex);
    for (const o of ['https://a.com', 'https://a.com:443']) assert.ok(literal.matches(o), o);
    for (const o of ['https://a.com:8443', 'http://a.com', 'https://aXcom']) assert.ok(!literal.matches(o), o);
    assert.deepEqual(originMatcher(corsOrigin('a.com')), { exact: 'a.com' });
    const host = RE2JS.compile((originMatcher(corsOrigin('.*\\.example\\.com')).safe_regex as Obj).regex);
    for (const o of ['https://x.example.com', 'http://x.example.com:8080', 'x.example.com']) assert.ok(host.matches(o), o);
    for (const o of ['https://x.example.com.evil.net', 'https://example.com']) assert.ok(!host.matches(o), o);
    const full = RE2JS.compile((originMatcher(corsOrigin('^https://(a|b)\\.test$')).safe_regex as Obj).regex);
    assert.ok(full.matches('https://a.test'));
    assert.ok(!full.matches('http://a.test'));
    assert.ok(!full.matches('https://a.test:8443'));
  });

  test('the policy: methods, headers, credentials, max_age; preflights never forwarded', () => {
    const p = corsPolicy(cfg({ origins: ['https://a.com', 'https://b.com'], methods: ['GET', 'POST'], headers: ['X-A', 'X-B'], exposed_headers: ['X-E'], credentials: true, max_age: 3600, private_network: true }));
    assert.deepEqual(p, {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
      allow_origin_string_match: [{ safe_regex: { regex: 'https://a\\.com(?::443)?' } }, { safe_regex: { regex: 'https://b\\.com(?::443)?' } }],
      allow_methods: 'GET,POST', allow_headers: 'X-A,X-B', expose_headers: 'X-E', max_age: '3600',
      allow_credentials: true, allow_private_network_access: true, forward_not_matching_preflights: false,
    });
  });

  test('Kong\'s Allow-Origin: "*" (overwriting Envoy\'s echo), the single literal as written, or the echo with Vary', () => {
    const set = (c: unknown) => (corsResponseMutations(cfg(c)) as Obj[]).map((m) => `${m.append.header.key}=${m.append.header.value} ${m.append.append_action}`);
    assert.deepEqual(set({}), [
      'access-control-allow-origin=* OVERWRITE_IF_EXISTS_OR_ADD',
      'access-control-allow-headers=%REQ(access-control-request-headers)% ADD_IF_ABSENT',
    ]);
    assert.deepEqual(set({ origins: ['*'], credentials: true, headers: ['X'] }), [
      'access-control-allow-origin=* ADD_IF_ABSENT',
      'vary=Origin APPEND_IF_EXISTS_OR_ADD',
    ]);
    assert.deepEqual(set({ origins: ['https://a.com:443'], allow_origin_absent: false, headers: ['X'] }), [
      'access-control-allow-origin=https://a.com:443 OVERWRITE_IF_EXISTS',
      'vary=Origin APPEND_IF_EXISTS_OR_ADD',
    ]);
    // A matched origin goes back normalised, as the origin filter kept it.
    assert.deepEqual(set({ origins: ['https://a.com', 'https://b.com'], headers: ['X'] }), [
      'access-control-allow-origin=%DYNAMIC_METADATA(frontdesk.cors:origin)% OVERWRITE_IF_EXISTS',
      'vary=Origin APPEND_IF_EXISTS_OR_ADD',
    ]);
  });

  test('Kong\'s answers on a CORS route carry the CORS headers; Allow-Origin only in the variant for an allowed origin', () => {
    const r = compile(gateway(`      - name: r
        paths: [/r]
        plugins:
          - { name: ip-restriction, config: { deny: [10.0.0.1] } }
          - { name: cors, config: { origins: ["https://a.com", "https://b.com"], exposed_headers: [X-E] } }
          - { name: correlation-id, config: { echo_downstream: true } }`));
    const rules = perFilter(r, 'r', KONG_REPLIES_FILTER)!.custom_response_matcher.matcher_list.matchers as Obj[];
    assert.equal(rules.length, 2);
    const headers = (x: Obj) => (x.on_match.action.typed_config.response_headers_to_add as Obj[]).map((h) => `${h.header.key}=${h.header.value}`);
    assert.deepEqual(headers(rules[0]!), [
      'content-type=application/json; charset=utf-8', 'kong-request-id=%REQ(kong-request-id)%', 'vary=Origin',
      'access-control-expose-headers=X-E', 'access-control-allow-origin=%DYNAMIC_METADATA(frontdesk.cors:origin)%',
    ]);
    assert.equal(rules[0]?.predicate.and_matcher.predicate.length, 3, 'status, source address, allowed origin');
    assert.deepEqual(headers(rules[1]!), ['content-type=application/json; charset=utf-8', 'kong-request-id=%REQ(kong-request-id)%', 'vary=Origin', 'access-control-expose-headers=X-E']);
    assertRoundTrips(r);
  });
});

describe('correlation-id, request-transformer, response-transformer', () => {
  test('correlation-id: a UUID if absent, the request\'s value echoed', () => {
    const r = compile(gateway(`      - name: r
        paths: [/r]
        plugins:
          - { name: correlation-id, config: { header_name: X-Corr, echo_downstream: true, generator: uuid } }`));
    assert.deepEqual(perFilter(r, 'r', 'frontdesk.correlation_id')!.mutations, {
      request_mutations: [{ append: { header: { key: 'x-corr', value: '%UNIQUE_ID%' }, append_action: 'ADD_IF_ABSENT' } }],
      response_mutations: [{ append: { header: { key: 'x-corr', value: '%REQ(x-corr)%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } }],
    });
    assert.ok(!chain(r).includes('frontdesk.correlation_id.counter'), 'no counter script for uuid');
  });

  test('correlation-id uuid#counter (Kong\'s default): a fresh UUID handed to the counter script, which writes the header named in the route\'s metadata', () => {
    const r = compile(gateway(`      - name: r
        paths: [/r]
        plugins:
          - { name: correlation-id, config: { header_name: X-Corr } }`));
    assert.deepEqual(perFilter(r, 'r', 'frontdesk.correlation_id')!.mutations.request_mutations, [
      { append: { header: { key: 'x-frontdesk-correlation-uuid', value: '%UNIQUE_ID%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } },
    ]);
    assert.equal(perFilter(r, 'r', 'frontdesk.correlation_id.counter')!.name, 'correlation-id-counter');
    assert.deepEqual(envoyRoutes(r).get('r')!.metadata.filter_metadata['frontdesk.correlation_id.counter'], { header: 'x-corr' });
  });

  test('request-transformer: Kong\'s order, Host as the route\'s host rewrite, replace.uri as its path rewrite, % escaped', () => {
    const r = compile(gateway(`      - name: r
        paths: [/r]
        plugins:
          - name: request-transformer
            config:
              remove: { headers: [X-Debug, Host] }
              rename: { headers: ["X-Old: X-New"] }
              replace: { headers: ["X-Mode:b", "Host:api.internal", "X-Gone:"], uri: "/v2\\\\x" }
              add: { headers: ["X-Discount: 50%"] }
              append: { headers: ["X-Multi:2"] }`));
    const m = (perFilter(r, 'r', 'frontdesk.request_transformer')!.mutations.request_mutations as Obj[])
      .map((x) => (x.remove ? `remove ${x.remove}` : `${x.append.append_action} ${x.append.header.key}=${x.append.header.value}`));
    assert.deepEqual(m, [
      'remove x-debug',
      'OVERWRITE_IF_EXISTS_OR_ADD x-new=%REQ(x-old)%', 'remove x-old',
      'OVERWRITE_IF_EXISTS x-mode=b', 'remove x-gone',
      'ADD_IF_ABSENT x-discount=50%%',
      'APPEND_IF_EXISTS_OR_ADD x-multi=2',
    ]);
    const action = envoyRoutes(r).get('r')!.route;
    assert.equal(action.host_rewrite_literal, 'api.internal');
    assert.deepEqual(action.regex_rewrite, { pattern: { regex: '^.*$' }, substitution: '/v2\\\\x' });
    assertRoundTrips(r);
  });

  test('response-transformer: header operations on the response, in Kong\'s order', () => {
    const r = compile(gateway(`      - name: r
        paths: [/r]
        plugins:
          - name: response-transformer
            config:
              remove: { headers: [X-Powered-By] }
              rename: { headers: ["X-Upstream:X-Backend"] }
              replace: { headers: ["Cache-Control:no-store"] }
              add: { headers: ["X-Added:1"] }
              append: { headers: ["Vary:Accept"] }`));
    const m = (perFilter(r, 'r', 'frontdesk.response_transformer')!.mutations.response_mutations as Obj[])
      .map((x) => (x.remove ? `remove ${x.remove}` : `${x.append.append_action} ${x.append.header.key}=${x.append.header.value}`));
    assert.deepEqual(m, [
      'remove x-powered-by', 'OVERWRITE_IF_EXISTS_OR_ADD x-backend=%RESP(x-upstream)%', 'remove x-upstream',
      'OVERWRITE_IF_EXISTS cache-control=no-store', 'ADD_IF_ABSENT x-added=1', 'APPEND_IF_EXISTS_OR_ADD vary=Accept',
    ]);
  });

  test('prometheus adds no filter: a gRPC access logger streams its routes to the log companion', () => {
    const r = compile(gateway('      - name: r\n        paths: [/r]\n        plugins: [{ name: prometheus, config: { status_code_metrics: true } }]\n      - name: other\n        paths: [/other]'));
    assert.deepEqual(chain(r), ['envoy.filters.http.router']);
    assert.equal(envoyRoutes(r).get('r')!.typed_per_filter_config, undefined);
    const hcm = resources(r, TYPE.listener).get('listener:proxy')!.filter_chains[0].filters[0].typed_config;
    const loggers = (hcm.access_log as Obj[]).filter((l) => l.name === 'envoy.access_loggers.http_grpc');
    assert.equal(loggers.length, 1);
    const sink = envoyRoutes(r).get('r')!.metadata.filter_metadata['frontdesk.prometheus'].sink as string;
    assert.match(sink, /^prometheus-/);
    // Each entry names the route's sink in a custom tag read from that metadata (no global plugin: none by default).
    const tag = (loggers[0]!.typed_config.common_config.custom_tags as Obj[]).find((t) => t.tag === 'frontdesk.prometheus')!;
    assert.deepEqual(tag.metadata, { kind: { route: {} }, metadata_key: { key: 'frontdesk.prometheus', path: [{ key: 'sink' }] } });
    assert.equal(envoyRoutes(r).get('other')!.metadata?.filter_metadata?.['frontdesk.prometheus'], undefined, 'a route without the plugin is not streamed');
    assert.match(JSON.stringify(loggers[0]!.filter), /frontdesk\.prometheus/, 'filtered on the route\'s metadata');
    assert.ok(resources(r, TYPE.cluster).has('frontdesk_log'), 'the log companion\'s cluster');
    assertRoundTrips(r);
  });

  test('http-log: user-agent, x-forwarded-for and x-request-id travel in the entry\'s own fields; one a key-auth plugin reads a key from is named in a tag, never logged', () => {
    const logged = (r: Compiled) => {
      const hcm = resources(r, TYPE.listener).get('listener:proxy')!.filter_chains[0].filters[0].typed_config;
      return (hcm.access_log as Obj[]).find((l) => l.name === 'envoy.access_loggers.http_grpc')!.typed_config;
    };
    const plain = logged(compile(gateway('      - name: r\n        paths: [/r]\n        plugins: [{ name: http-log, config: { http_endpoint: "http://127.0.0.1:9/logs" } }]')));
    for (const h of ['user-agent', 'x-forwarded-for', 'x-request-id']) assert.ok(!(plain.additional_request_headers_to_log as string[]).includes(h), h);
    assert.ok((plain.additional_request_headers_to_log as string[]).includes('accept'));
    assert.equal((plain.common_config.custom_tags as Obj[]).find((t) => t.tag === 'unlogged_headers'), undefined);
    const keyed = logged(compile(gateway('      - name: r\n        paths: [/r]\n        plugins: [{ name: http-log, config: { http_endpoint: "http://127.0.0.1:9/logs" } }, { name: key-auth, config: { key_names: [X-Request-Id, apikey] } }]')));
    assert.deepEqual((keyed.common_config.custom_tags as Obj[]).find((t) => t.tag === 'unlogged_headers'), { tag: 'unlogged_headers', literal: { value: 'x-request-id' } });
  });
});
