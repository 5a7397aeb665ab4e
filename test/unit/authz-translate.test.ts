// The Envoy side of authz and the authz companion's resources, without Envoy: the ext_authz
// filter, per-route config and cluster a config compiles to; the Consumer/RoutePolicy resources
// round-tripped through protobufjs and decoded into the engine; the Check server's message
// mapping (and over real gRPC); and the load-time authz checks with their line:col.
import { createHmac, scryptSync } from 'node:crypto';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { AuthzEngine } from '../../src/authz/engine.js';
import { authzResourcesProblem, snapshotFromResources } from '../../src/authz/policy.js';
import { CHECK_METHOD, checkResponseObject, decodeCheckRequest, encodeCheckResponse, startAuthzServer } from '../../src/authz/server.js';
import type { AuthzDecision, AuthzRequest } from '../../src/authz/types.js';
import { AUTHZ_TYPE, consumerId, type AuthzMessages, type AuthzTypeUrl } from '../../src/contracts/authz.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { AUTHZ_CLUSTER, EXT_AUTHZ_FILTER, IDENTITY_STRIP_FILTER } from '../../src/resources/filters/ext-authz.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { decodeToJson, encodeJson, type Json } from '../../src/xds/proto-json.js';
import { decodeResource } from '../../src/xds/companion-decode.js';
import { messageType, typeForUrl } from '../../src/xds/proto-registry.js';
import { NOW_MS, NOW_S, keyPair, signToken } from '../support/jwt-fixtures.js';
import { kongId } from '../../src/kong-ids.js';
import { policyIdOf } from '../support/policy-ids.js';
import { routeConfigOf } from '../support/route-configs.js';

type Obj = { [k: string]: Json };

const RSA = keyPair('RS256');

const YAML = `_format_version: "3.0"
services:
  - name: orders-service
    url: http://127.0.0.1:9001
    routes:
      - name: orders-route
        paths: [/api/v1/orders, /orders]
      - name: not-public
        paths: [/not-public]
        plugins:
          - name: jwt
            enabled: false
    plugins:
      - name: jwt
        config:
          claims_to_verify: [exp]
          header_names: [Authorization]
      - name: acl
        config:
          allow: [orders-read, orders-write]
  - name: keys
    url: http://keys.internal:8080
    routes:
      - name: public
        paths: [/public]
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
            config: { enforcer: companion, key_names: [x_api_key], hide_credentials: true }
      - name: form
        paths: [/form]
        plugins:
          - name: key-auth
            config: { key_in_body: true }
      - name: basic
        paths: [/basic]
        plugins:
          - name: basic-auth
            config: { hide_credentials: true, anonymous: guest }
      - name: cookies
        paths: [/cookies]
        plugins:
          - name: jwt
            config: { cookie_names: [session], uri_param_names: [] }
consumers:
  - username: web-app
    custom_id: web-001
    jwt_secrets:
      - key: web-app-issuer
        algorithm: RS256
        rsa_public_key: |
${RSA.publicPem.trim().split('\n').map((l) => `          ${l}`).join('\n')}
    acls:
      - group: orders-read
      - group: orders-read
  - id: 6f0c1b2a-0000-4000-8000-000000000001
    username: partner
    keyauth_credentials:
      - id: kc-partner
        key: partner-key
    basicauth_credentials:
      - username: partner
        password: "p@ss:word"
    jwt_secrets:
      - key: partner-jwks
        algorithm: ES256
        jwks:
          keys:
            - { kty: EC, crv: P-256, kid: k1, x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", d: "private-must-not-travel" }
  - username: guest
`;

function compile(settings: Partial<TranslateSettings> = {}, yaml = YAML) {
  const r = compileConfig([{ file: 'gateway.yaml', text: yaml }], { settings: { ...DEFAULT_SETTINGS, ...settings } });
  assert.ok(r.ok, r.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`).join('\n'));
  return r.translation!;
}

function hcm(t: ReturnType<typeof compile>, listener = 'listener:proxy'): Obj {
  const l = t.fleets.get('')!.get(TYPE.listener)!.get(listener) as Obj;
  return ((l.filter_chains as Obj[])[0]!.filters as Obj[])[0]!.typed_config as Obj;
}

function routesOf(t: ReturnType<typeof compile>, listener = 'proxy'): Obj[] {
  const config = routeConfigOf(t.fleets.get('')!.get(TYPE.route)!, listener) as Obj;
  return (config.virtual_hosts as Obj[]).flatMap((vh) => vh.routes as Obj[]);
}

function perRoute(route: Obj, filter = EXT_AUTHZ_FILTER): Obj | undefined {
  return (route.typed_per_filter_config as Obj | undefined)?.[filter] as Obj | undefined;
}

/** proto3 JSON → bytes → proto3 JSON, through protobufjs and the proto registry. */
function roundTrip(typeUrl: string, body: Json): Json {
  const type = typeForUrl(typeUrl);
  assert.ok(type, `no type for ${typeUrl}`);
  return decodeToJson(type, encodeJson(type, body));
}

describe('ext_authz filter', () => {
  it('is in the chain before the router, off by default, gRPC v3 to the authz cluster, failing closed with 503', () => {
    const t = compile({ authz: { host: '10.0.0.7', port: 18001, timeoutMs: 250, failOpen: false } });
    const filters = hcm(t).http_filters as Obj[];
    assert.deepEqual(filters.map((f) => f.name), [EXT_AUTHZ_FILTER, 'envoy.filters.http.router']);
    const f = filters[0]!;
    assert.equal(f.disabled, true);
    const c = f.typed_config as Obj;
    assert.equal(c['@type'], 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz');
    assert.deepEqual(c.grpc_service, { envoy_grpc: { cluster_name: AUTHZ_CLUSTER }, timeout: '0.25s' });
    assert.equal(c.transport_api_version, 'V3');
    assert.equal(c.failure_mode_allow, undefined, 'fail closed: failure_mode_allow is false (absent)');
    assert.deepEqual(c.status_on_error, { code: 'ServiceUnavailable' });
    assert.equal(c.include_peer_certificate, undefined);
    assert.deepEqual(c.with_request_body, { max_request_bytes: 65536, allow_partial_message: false, pack_as_bytes: true }, 'a key_in_body route is on this listener');
    const allowed = ((c.allowed_headers as Obj).patterns as Obj[]).map((p) => p.exact);
    assert.deepEqual(allowed, ['apikey', 'authorization', 'content-type', 'cookie', 'proxy-authorization', 'x-api-key', 'x_api_key']);
    // the whole listener is a valid Envoy message
    const l = t.fleets.get('')!.get(TYPE.listener)!.get('listener:proxy')!;
    assert.deepEqual(roundTrip(TYPE.listener, l), l);
  });

  it('adds a static HTTP/2 authz cluster for an address, a STRICT_DNS one for a name', () => {
    const ip = compile({ authz: { host: '10.0.0.7', port: 18011, timeoutMs: 1000, failOpen: false } }).fleets.get('')!.get(TYPE.cluster)!.get(AUTHZ_CLUSTER) as Obj;
    assert.equal(ip.type, 'STATIC');
    assert.deepEqual(((ip.load_assignment as Obj).endpoints as Obj[])[0], { lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.7', port_value: 18011 } } } }] });
    assert.ok(JSON.stringify(ip.typed_extension_protocol_options).includes('http2_protocol_options'));
    assert.deepEqual(roundTrip(TYPE.cluster, ip), ip);
    const dns = compile({ authz: { host: 'authz.internal', port: 18001, timeoutMs: 1000, failOpen: false } }).fleets.get('')!.get(TYPE.cluster)!.get(AUTHZ_CLUSTER) as Obj;
    assert.equal(dns.type, 'STRICT_DNS');
    assert.equal(dns.dns_lookup_family, 'V4_PREFERRED');
  });

  it('turns the check on per route with its policy, named by content, as context, and off for routes without auth plugins', () => {
    const t = compile();
    const pid = (route: string) => policyIdOf(t, route, 'authz');
    const routes = routesOf(t);
    const byName = (n: string) => routes.filter((r) => r.name === n || String(r.name).startsWith(`${n}:`) || String(r.name).startsWith(`${n}#`));
    const orders = routes.filter((r) => String(r.name).startsWith('orders-route'));
    assert.ok(orders.length >= 2, 'both paths of orders-route');
    for (const r of orders) {
      assert.deepEqual(perRoute(r), {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute',
        check_settings: { context_extensions: { route: pid('orders-route') }, disable_request_body_buffering: true },
      });
    }
    assert.match(pid('orders-route'), /^[0-9a-f]{32}$/);
    assert.ok(t.companions.get(AUTHZ_TYPE.routePolicy)!.has(pid('orders-route')), 'authz is served the policy Envoy names');
    assert.deepEqual(((perRoute(byName('not-public')[0]!)!.check_settings as Obj).context_extensions), { route: pid('not-public') }, "a disabled route plugin leaves the service's in force, as in Kong");
    assert.ok(byName('public').length > 0, 'the public route is in RDS');
    assert.ok(byName('form').length > 0, 'the form route is in RDS');
    for (const r of byName('public')) assert.deepEqual(perRoute(r), { '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute', disabled: true });
    for (const r of byName('form')) assert.deepEqual((perRoute(r)!.check_settings as Obj), { context_extensions: { route: pid('form') } }, 'the body goes to authz only here');
    const notFound = routes.find((r) => r.name === 'no-route')!;
    assert.equal(perRoute(notFound), undefined, "Kong's 404 is never checked (the filter is off by default)");
    const withConfig = routes.filter((r) => r.typed_per_filter_config);
    assert.ok(withConfig.length >= orders.length + 3, `every protected route has per-route config (${withConfig.length})`);
    for (const r of withConfig) assert.deepEqual(roundTrip(TYPE.route, { name: 'x', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [r] }] }), { name: 'x', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [r] }] });
  });

  it('puts nothing in a configuration without auth plugins', () => {
    const t = compile({}, `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9001
    routes: [{ name: r, paths: [/r] }]
`);
    assert.deepEqual((hcm(t).http_filters as Obj[]).map((f) => f.name), ['envoy.filters.http.router']);
    assert.equal(t.fleets.get('')!.get(TYPE.cluster)!.has(AUTHZ_CLUSTER), false);
    const routes = routesOf(t);
    assert.ok(routes.length >= 2, 'the route and the 404');
    for (const r of routes) assert.equal(r.typed_per_filter_config, undefined);
    assert.equal(t.companions.get(AUTHZ_TYPE.routePolicy)?.size ?? 0, 0);
  });

  it('leaves a listener whose routes need no auth without the filter', () => {
    const t = compile({}, `_format_version: "3.0"
listeners:
  - { name: public, port: 8000 }
  - { name: private, port: 8443 }
services:
  - name: s
    url: http://127.0.0.1:9001
    routes:
      - { name: open, paths: [/open], listeners: [public] }
      - name: closed
        paths: [/closed]
        listeners: [private]
        plugins: [{ name: key-auth, config: { enforcer: companion } }]
`);
    assert.deepEqual((hcm(t, 'listener:public').http_filters as Obj[]).map((f) => f.name), ['envoy.filters.http.router']);
    const priv = (hcm(t, 'listener:private').http_filters as Obj[]);
    assert.deepEqual(priv.map((f) => f.name), [EXT_AUTHZ_FILTER, 'envoy.filters.http.router']);
    assert.equal((priv[0]!.typed_config as Obj).with_request_body, undefined, 'no key_in_body route: no body');
  });

  it('with --authz-fail-open lets requests through on error, marked, with client identity headers dropped first', () => {
    const t = compile({ authz: { ...DEFAULT_SETTINGS.authz, failOpen: true } });
    const filters = hcm(t).http_filters as Obj[];
    assert.deepEqual(filters.map((f) => f.name), [IDENTITY_STRIP_FILTER, EXT_AUTHZ_FILTER, 'envoy.filters.http.router']);
    const c = filters[1]!.typed_config as Obj;
    assert.equal(c.failure_mode_allow, true);
    assert.equal(c.failure_mode_allow_header_add, true);
    const orders = routesOf(t).find((r) => String(r.name).startsWith('orders-route'))!;
    const strip = perRoute(orders, IDENTITY_STRIP_FILTER)!;
    const removed = ((strip.mutations as Obj).request_mutations as Obj[]).map((m) => m.remove);
    for (const h of ['x-consumer-id', 'x-consumer-username', 'x-credential-identifier', 'x-consumer-groups', 'x-envoy-auth-failure-mode-allowed']) assert.ok(removed.includes(h), h);
    const pub = routesOf(t).find((r) => r.name === 'public')!;
    assert.equal(perRoute(pub, IDENTITY_STRIP_FILTER), undefined, 'unprotected routes keep what Kong passes through');
    const l = t.fleets.get('')!.get(TYPE.listener)!.get('listener:proxy')!;
    assert.deepEqual(roundTrip(TYPE.listener, l), l);
  });
});

describe('authz companion resources', () => {
  const t = compile();
  const consumers = t.companions.get(AUTHZ_TYPE.consumer)!;
  const policies = t.companions.get(AUTHZ_TYPE.routePolicy)!;
  /** The name of the policy a Kong route's Envoy routes send authz. */
  const pid = (route: string) => policyIdOf(t, route, 'authz');
  /** The resources as the authz service decodes them off the wire. */
  const decoded = <U extends AuthzTypeUrl>(typeUrl: U, m: Map<string, Json>) => new Map([...m].map(([k, v]) => [k, decodeResource<AuthzMessages, U>(typeUrl, encodeJson(typeForUrl(typeUrl)!, v))]));

  it('has one Consumer per consumer, named by its id, with typed credentials and groups', () => {
    const webId = kongId('consumers', 'web-app');
    assert.match(webId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual([...consumers.keys()].sort(), [webId, '6f0c1b2a-0000-4000-8000-000000000001', kongId('consumers', 'guest')].sort());
    const web = consumers.get(webId)!;
    assert.equal(web.username, 'web-app');
    assert.equal(web.custom_id, 'web-001');
    assert.deepEqual(web.groups, ['orders-read'], 'repeated acl group once');
    assert.equal((web.jwt_secrets as Obj[])[0]!.algorithm, 'RS256');
    const partner = consumers.get('6f0c1b2a-0000-4000-8000-000000000001')!;
    // Keys and passwords travel hashed, salted with the translation's salt ("frontdesk" by default):
    // HMAC-SHA256 of the key; scrypt (N 2^12, r 8, p 1, 32 bytes) of the password with salt + NUL + consumer id.
    assert.equal(partner.credential_salt, 'frontdesk');
    assert.deepEqual(partner.keyauth_credentials, [{ id: 'kc-partner', key_hash: `hmac-sha256:${createHmac('sha256', 'frontdesk').update('partner-key').digest('base64')}` }]);
    const scrypted = scryptSync('p@ss:word', 'frontdesk\u00006f0c1b2a-0000-4000-8000-000000000001', 32, { N: 4096, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('base64');
    assert.deepEqual(partner.basicauth_credentials, [{ username: 'partner', password_hash: `scrypt:${scrypted}` }]);
    assert.ok(!JSON.stringify([...consumers.values()]).includes('partner-key') && !JSON.stringify([...consumers.values()]).includes('p@ss:word'), 'no key or password in clear');
    const jwk = (((partner.jwt_secrets as Obj[])[0]!.jwks as Obj).keys as Obj[])[0]!;
    assert.equal(jwk.d, undefined, 'private JWK members never travel');
    assert.equal(jwk.kid, 'k1');
  });

  it('has one RoutePolicy per distinct policy of the protected Kong routes, named by content, with the effective (merged, defaulted) plugin configs', () => {
    const protectedRoutes = ['basic', 'cookies', 'form', 'keyed', 'not-public', 'orders-route'];
    for (const r of protectedRoutes) assert.ok(policies.has(pid(r)), `the policy of ${r}`);
    assert.equal(pid('not-public'), pid('orders-route'), "not-public's disabled jwt leaves the service's plugins, the same policy as orders-route's: one resource");
    assert.equal(policies.size, new Set(protectedRoutes.map(pid)).size, 'no other policy');
    assert.deepEqual(policies.get(pid('orders-route')), {
      name: pid('orders-route'),
      jwt: { uri_param_names: ['jwt'], header_names: ['Authorization'], key_claim_name: 'iss', claims_to_verify: ['exp'], run_on_preflight: true },
      acl: { allow: ['orders-read', 'orders-write'] },
    });
    assert.deepEqual(policies.get(pid('keyed'))!.key_auth, { key_names: ['x_api_key'], hide_credentials: true, key_in_header: true, key_in_query: true, run_on_preflight: true });
    assert.deepEqual(policies.get(pid('basic'))!.basic_auth, { anonymous: 'guest', hide_credentials: true, realm: 'service' });
  });

  it('round-trips through protobufjs unchanged, and encodes in the snapshot', () => {
    assert.ok(consumers.size === 3 && policies.size === 5, `${consumers.size} consumers, ${policies.size} policies`);
    let checked = 0;
    for (const [typeUrl, m] of t.companions) for (const body of m.values()) { assert.deepEqual(roundTrip(typeUrl, body), body); checked++; }
    assert.ok(checked >= consumers.size + policies.size, `${checked} resources round-tripped`);
  });

  it('decodes into a snapshot the engine enforces as configured', async () => {
    const snap = snapshotFromResources(decoded(AUTHZ_TYPE.consumer, consumers), decoded(AUTHZ_TYPE.routePolicy, policies));
    const engine = new AuthzEngine({ logger: silentLogger(), now: () => NOW_MS });
    engine.update(snap);
    const token = signToken('RS256', RSA.privateKey, { iss: 'web-app-issuer', exp: NOW_S + 60 });
    const ok = await engine.check(pid('orders-route'), { method: 'GET', path: '/api/v1/orders', headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.allow, true, JSON.stringify(ok));
    if (ok.allow) {
      assert.equal(ok.headersToSet['x-consumer-username'], 'web-app');
      assert.equal(ok.headersToSet['x-consumer-custom-id'], 'web-001');
      assert.equal(ok.headersToSet['x-consumer-groups'], 'orders-read');
      assert.deepEqual(ok.metadata, { consumer_id: kongId('consumers', 'web-app'), consumer_username: 'web-app', consumer_custom_id: 'web-001', credential_id: 'web-app-issuer' });
    }
    const expired = signToken('RS256', RSA.privateKey, { iss: 'web-app-issuer', exp: NOW_S - 1 });
    assert.deepEqual(await engine.check(pid('orders-route'), { method: 'GET', path: '/', headers: { authorization: `Bearer ${expired}` } }),
      { allow: false, status: 401, body: { exp: 'token expired' }, headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer error="invalid_token"' } });
    const keyed = await engine.check(pid('keyed'), { method: 'GET', path: '/keyed', headers: { 'x-api-key': 'partner-key' } });
    assert.equal(keyed.allow && keyed.credentialId, 'kc-partner');
    assert.ok(keyed.allow && keyed.headersToRemove.includes('x-api-key'), 'hide_credentials');
    const basic = await engine.check(pid('basic'), { method: 'GET', path: '/', headers: { authorization: `Basic ${Buffer.from('partner:p@ss:word').toString('base64')}` } });
    assert.equal(basic.allow && basic.headersToSet['x-consumer-username'], 'partner');
    const anon = await engine.check(pid('basic'), { method: 'GET', path: '/', headers: {} });
    assert.equal(anon.allow && anon.headersToSet['x-anonymous-consumer'], 'true');
    const form = await engine.check(pid('form'), { method: 'POST', path: '/form', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apikey=partner-key' });
    assert.equal(form.allow, true);
  });

  it('refuses resources it could not enforce (the ADS client NACKs them), naming no secret', () => {
    assert.equal(authzResourcesProblem(AUTHZ_TYPE.consumer, decoded(AUTHZ_TYPE.consumer, consumers)), undefined);
    assert.equal(authzResourcesProblem(AUTHZ_TYPE.routePolicy, decoded(AUTHZ_TYPE.routePolicy, policies)), undefined);
    const bad = authzResourcesProblem(AUTHZ_TYPE.consumer, new Map([['c1', { name: 'c1', id: 'c1', keyauth_credentials: [{ id: 'k' }] }]]));
    assert.match(bad!, /keyauth_credentials\[0\] has no key/);
    assert.match(authzResourcesProblem(AUTHZ_TYPE.consumer, new Map([['c1', { name: 'c1', id: 'c1', jwt_secrets: [{ key: 'i', algorithm: 'none', secret: 'hunter2' }] }]]))!, /unknown algorithm "none"/);
    assert.doesNotMatch(authzResourcesProblem(AUTHZ_TYPE.consumer, new Map([['c1', { name: 'c1', id: 'c1', basicauth_credentials: [{ username: 'u' }] }]]))!, /hunter2/);
    assert.match(authzResourcesProblem(AUTHZ_TYPE.routePolicy, new Map([['r', { name: 'r', acl: { allow: ['a'], deny: ['b'] } }]]))!, /exactly one of allow and deny/);
    assert.match(authzResourcesProblem(AUTHZ_TYPE.routePolicy, new Map([['r', { name: 'r', jwt: { header_names: ['a'] } }]]))!, /key_claim_name/);
  });
});

describe('Check server mapping', () => {
  const reqType = messageType('envoy.service.auth.v3.CheckRequest');
  const resType = messageType('envoy.service.auth.v3.CheckResponse');
  const checkRequest = (http: Record<string, unknown>, ext: Record<string, string> = { route: 'orders-route' }) => reqType.encode(reqType.fromObject({
    attributes: { context_extensions: ext, request: { http } },
  })).finish();

  it('CheckRequest → route, method, path with query, lower-case headers without pseudo-headers, body', () => {
    const bytes = checkRequest({
      method: 'POST', path: '/form?a=1', protocol: 'HTTP/2', headers: { ':authority': 'api.test', ':path': '/form?a=1', 'content-type': 'application/json', 'x-api-key': 'k' },
      raw_body: Buffer.from('{"apikey":"k"}'),
    }, { route: 'form' });
    assert.deepEqual(decodeCheckRequest(bytes), {
      routeId: 'form',
      request: {
        method: 'POST', path: '/form?a=1', protocol: 'HTTP/2', headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
        body: '{"apikey":"k"}', bodyBytes: Buffer.from('{"apikey":"k"}'),
      },
    });
    assert.equal(decodeCheckRequest(checkRequest({ method: 'GET', path: '/' }, {})).routeId, '', 'no context: no policy, refused by the engine');
  });

  it('allow → OK with headers set (overwrite), removed, query parameters removed and consumer metadata', () => {
    const d: AuthzDecision = {
      allow: true, anonymous: false, headersToSet: { 'x-consumer-id': 'c1', 'x-consumer-username': 'alice' },
      headersToRemove: ['x-api-key', 'x-consumer-groups'], queryParamsToRemove: ['apikey'],
      metadata: { consumer_id: 'c1', consumer_username: 'alice', credential_id: 'kc1' },
    };
    const json = decodeToJson(resType, encodeCheckResponse(d)) as Obj;
    assert.deepEqual(json, {
      status: { code: 0 },
      ok_response: {
        headers: [
          { header: { key: 'x-consumer-id', value: 'c1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          { header: { key: 'x-consumer-username', value: 'alice' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
        headers_to_remove: ['x-api-key', 'x-consumer-groups'],
        query_parameters_to_remove: ['apikey'],
      },
      dynamic_metadata: { consumer_id: 'c1', consumer_username: 'alice', credential_id: 'kc1' },
    });
  });

  it("deny → Kong's status, JSON body and headers in a DeniedHttpResponse", () => {
    const d: AuthzDecision = { allow: false, status: 401, body: { message: 'Unauthorized' }, headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Key' } };
    const json = decodeToJson(resType, encodeCheckResponse(d)) as Obj;
    assert.deepEqual(json, {
      status: { code: 16 },
      denied_response: {
        status: { code: 'Unauthorized' },
        headers: [
          { header: { key: 'content-type', value: 'application/json; charset=utf-8' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          { header: { key: 'www-authenticate', value: 'Key' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
        body: '{"message":"Unauthorized"}',
      },
    });
    assert.equal((checkResponseObject({ ...d, status: 403 }).status as Obj).code, 7);
  });

  it('answers Check over gRPC, and refuses an oversized request', async () => {
    const seen: Array<{ routeId: string; req: AuthzRequest }> = [];
    const server = await startAuthzServer({
      host: '127.0.0.1', port: 0, logger: silentLogger(), maxRequestBytes: 4096,
      engine: { check: async (routeId, req) => { seen.push({ routeId, req }); return { allow: false, status: 403, body: { message: 'You cannot consume this service' }, headers: {} }; } },
    });
    const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    const call = (bytes: Uint8Array) => new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest(CHECK_METHOD, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, bytes, (err, res) => (err ? reject(err) : resolve(res!))));
    try {
      const res = decodeToJson(resType, await call(checkRequest({ method: 'GET', path: '/x?y=1', headers: { authorization: 'Bearer t' } }))) as Obj;
      assert.deepEqual((res.denied_response as Obj).status, { code: 'Forbidden' });
      assert.deepEqual(seen, [{ routeId: 'orders-route', req: { method: 'GET', path: '/x?y=1', headers: { authorization: 'Bearer t' } } }]);
      await assert.rejects(call(checkRequest({ method: 'POST', path: '/', raw_body: Buffer.alloc(8192, 'a') })), (e: grpc.ServiceError) => e.code === grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(seen.length, 1);
      assert.deepEqual(server.stats(), { checks: 1, allowed: 0, denied: 1, malformed: 0 });
    } finally {
      client.close();
      await server.stop();
    }
  });
});

describe('authz checks at load time', () => {
  const load = (yaml: string) => compileConfig([{ file: 'gateway.yaml', text: yaml }]).diagnostics.filter((d) => d.code.startsWith('FD_AUTHZ_'));
  const EC = keyPair('ES256');

  it('points at a jwt_secret whose algorithm does not fit its key, or whose key does not parse', () => {
    const ds = load(`_format_version: "3.0"
consumers:
  - username: a
    jwt_secrets:
      - key: ec-as-rsa
        algorithm: RS256
        rsa_public_key: |
${EC.publicPem.trim().split('\n').map((l) => `          ${l}`).join('\n')}
      - key: garbage
        algorithm: ES256
        rsa_public_key: "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----"
      - key: hs-no-secret
        algorithm: HS512
      - key: fine
        secret: s
`);
    assert.deepEqual(ds.map((d) => [d.code, d.line, d.col, d.path.join('.')]), [
      ['FD_AUTHZ_JWT_SECRET', 7, 25, 'consumers.0.jwt_secrets.0.rsa_public_key'],
      ['FD_AUTHZ_JWT_SECRET', 14, 25, 'consumers.0.jwt_secrets.1.rsa_public_key'],
      ['FD_AUTHZ_JWT_SECRET', 16, 20, 'consumers.0.jwt_secrets.2.algorithm'],
    ]);
    assert.match(ds[0]!.message, /jwt_secret "ec-as-rsa": RS256 needs an RSA public key/);
    assert.match(ds[2]!.message, /HS512 needs "secret"/);
    assert.ok(ds.every((d) => d.severity === 'error'));
  });

  it('refuses the same credential on two consumers, at the second one', () => {
    const ds = load(`_format_version: "3.0"
consumers:
  - username: a
    jwt_secrets: [{ key: iss-1, secret: s1 }]
    keyauth_credentials: [{ key: shared-key }]
    basicauth_credentials: [{ username: bob, password: x }]
  - username: b
    jwt_secrets: [{ key: iss-1, secret: s2 }]
    keyauth_credentials: [{ key: shared-key }]
    basicauth_credentials: [{ username: bob, password: y }]
keyauth_credentials:
  - { consumer: b, key: shared-key }
`);
    assert.deepEqual(ds.map((d) => [d.code, d.line, d.path.join('.')]), [
      ['FD_AUTHZ_DUPLICATE_CREDENTIAL', 8, 'consumers.1.jwt_secrets.0.key'],
      ['FD_AUTHZ_DUPLICATE_CREDENTIAL', 9, 'consumers.1.keyauth_credentials.0.key'],
      ['FD_AUTHZ_DUPLICATE_CREDENTIAL', 10, 'consumers.1.basicauth_credentials.0.username'],
      ['FD_AUTHZ_DUPLICATE_CREDENTIAL', 12, 'keyauth_credentials.0.key'],
    ]);
    assert.equal(ds[1]!.message, 'key-auth credential of consumer "b" repeats one of consumer "a"');
    assert.ok(ds.every((d) => !d.message.includes('shared-key') && !d.message.includes('s2')), 'no secret in a message');
  });

  it('warns of acl on a route with no auth plugin after scopes merge (Kong loads it and answers 401), and not with a global auth plugin', () => {
    const ds = load(`_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9001
    plugins:
      - name: acl
        config: { allow: [g] }
    routes:
      - { name: bare, paths: [/bare] }
      - name: own-auth
        paths: [/own]
        plugins: [{ name: basic-auth }]
      - name: auth-off
        paths: [/off]
        plugins: [{ name: key-auth, enabled: false }]
`);
    assert.deepEqual(ds.map((d) => [d.code, d.line, d.message]).sort(), [
      ['FD_AUTHZ_ACL_WITHOUT_AUTH', 6, 'route "auth-off" has the acl plugin but no jwt, key-auth, ldap-auth, basic-auth, hmac-auth or session plugin: every request gets 401, as in Kong'],
      ['FD_AUTHZ_ACL_WITHOUT_AUTH', 6, 'route "bare" has the acl plugin but no jwt, key-auth, ldap-auth, basic-auth, hmac-auth or session plugin: every request gets 401, as in Kong'],
    ]);
    assert.deepEqual(load(`_format_version: "3.0"
plugins: [{ name: jwt }]
services:
  - name: s
    url: http://127.0.0.1:9001
    routes:
      - name: r
        paths: [/r]
        plugins: [{ name: acl, config: { deny: [banned] } }]
consumers: [{ username: u }]
`), []);
  });

  it('refuses an anonymous consumer that does not exist; key_in_body with hide_credentials loads (the transform companion strips the key)', () => {
    const ds = load(`_format_version: "3.0"
consumers:
  - { username: guest, id: 00000000-0000-4000-8000-00000000000a }
services:
  - name: s
    url: http://127.0.0.1:9001
    routes:
      - name: r
        paths: [/r]
        plugins:
          - { name: key-auth, config: { anonymous: nobody, key_in_body: true, hide_credentials: true } }
          - { name: jwt, config: { anonymous: guest } }
          - { name: basic-auth, config: { anonymous: 00000000-0000-4000-8000-00000000000a } }
`);
    assert.deepEqual(ds.map((d) => [d.code, d.line, d.path.slice(-2).join('.')]), [
      ['FD_AUTHZ_UNKNOWN_ANONYMOUS', 11, 'config.anonymous'],
    ]);
    assert.equal(ds[0]!.message, 'key-auth: anonymous consumer "nobody" does not exist');
  });

  it('warns about a jwt_secret without key and leaves it out of the companion resources', () => {
    const r = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
consumers:
  - username: u
    jwt_secrets:
      - secret: s
` }]);
    assert.ok(r.ok);
    assert.deepEqual(r.diagnostics.filter((d) => d.code === 'FD_AUTHZ_JWT_NO_KEY').map((d) => [d.severity, d.line]), [['warning', 5]]);
    const [c] = [...r.translation!.companions.get(AUTHZ_TYPE.consumer)!.values()];
    assert.equal(c!.jwt_secrets, undefined);
  });

  it('loads the seed jwt + acl example without warnings about pending plugins', () => {
    const r = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
services:
  - name: orders-service
    url: http://orders:8080
    routes:
      - name: orders-route
        paths:
          - /api/v1/orders
    plugins:
      - name: jwt
        config:
          claims_to_verify:
            - exp
          header_names:
            - Authorization
      - name: acl
        config:
          allow:
            - orders-read
            - orders-write
` }]);
    assert.ok(r.ok);
    assert.deepEqual(r.diagnostics.filter((d) => d.code === 'FD_PLUGIN_PENDING'), []);
  });
});
