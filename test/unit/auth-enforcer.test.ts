// Who checks a route's auth plugins (contracts/authz.ts authEnforcer), as docs/authz.md
// ("Checked inside Envoy") lists it, and what that puts in the listener: Envoy's jwt_authn and
// the Lua filters (and basic_auth for basic-auth), or ext_authz to the authz companion. And
// `frontdesk translate`'s per-route lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authEnforcer, nativeLuaOnSuccess } from '../../src/contracts/authz.js';
import { luaString } from '../../src/resources/filters/native-auth-lua.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { enforcerLines } from '../../src/runtime/plugin-enforcers.js';
import { keyPair } from '../support/jwt-fixtures.js';

const RSA = keyPair('RS256');

function compile(routesPlugins: Record<string, unknown[]>, consumers: unknown[] = [{ username: 'alice', jwt_secrets: [{ key: 'alice-iss', secret: 's3cret' }] }]) {
  const yaml = JSON.stringify({
    _format_version: '3.0',
    services: [{ name: 's', url: 'http://127.0.0.1:9', routes: Object.entries(routesPlugins).map(([name, plugins]) => ({ name, paths: [`/${name}`], plugins })) }],
    consumers,
  });
  const r = compileConfig([{ file: 'gateway.yaml', text: yaml }]);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r;
}

function enforcerOf(plugins: unknown[], consumers?: unknown[]) {
  const r = compile({ r: plugins }, consumers);
  return authEnforcer(r.ir!.routes[0]!, r.ir!.consumers);
}

function httpFilterNames(r: ReturnType<typeof compile>): string[] {
  const listener = [...r.translation!.fleets.get('')!.get(TYPE.listener)!.values()][0] as { filter_chains: { filters: { typed_config: { http_filters: { name: string }[] } }[] }[] };
  return listener.filter_chains[0]!.filters[0]!.typed_config.http_filters.map((f) => f.name);
}

describe('who checks a route\'s auth plugins', () => {
  it('Envoy, for key-auth and key-auth + acl', () => {
    assert.deepEqual(enforcerOf([{ name: 'key-auth' }], [{ username: 'a', keyauth_credentials: [{ key: 'k1' }] }]), { enforcer: 'envoy' });
    assert.deepEqual(enforcerOf([{ name: 'key-auth', config: { hide_credentials: true } }, { name: 'acl', config: { deny: ['x'] } }]), { enforcer: 'envoy' });
  });

  it('Envoy, for basic-auth and basic-auth + acl', () => {
    const users = [{ username: 'a', basicauth_credentials: [{ username: 'a-user', password: 'p:w' }] }];
    assert.deepEqual(enforcerOf([{ name: 'basic-auth' }], users), { enforcer: 'envoy' });
    assert.deepEqual(enforcerOf([{ name: 'basic-auth', config: { hide_credentials: true, realm: 'r' } }, { name: 'acl', config: { allow: ['x'] } }], users), { enforcer: 'envoy' });
  });

  it('Envoy, for jwt and jwt + acl with HS and RS secrets', () => {
    assert.deepEqual(enforcerOf([{ name: 'jwt' }]), { enforcer: 'envoy' });
    assert.deepEqual(enforcerOf([{ name: 'jwt' }, { name: 'acl', config: { allow: ['a'] } }], [
      { username: 'a', jwt_secrets: [{ key: 'hs', secret: 'x' }, { key: 'rs', algorithm: 'RS256', rsa_public_key: RSA.publicPem }] },
    ]), { enforcer: 'envoy' });
  });

  it('the companion when a plugin asks for enforcer: companion', () => {
    assert.equal(enforcerOf([{ name: 'jwt', config: { enforcer: 'companion' } }])?.enforcer, 'authz');
    assert.equal(enforcerOf([{ name: 'jwt' }, { name: 'acl', config: { allow: ['a'], enforcer: 'companion' } }])?.enforcer, 'authz');
  });

  it('the companion, saying why, for what Envoy cannot check as Kong does', () => {
    const cases: [unknown[], unknown[] | undefined, RegExp][] = [
      [[{ name: 'jwt', config: { key_claim_name: 'sub' } }], undefined, /key_claim_name/],
      [[{ name: 'jwt', config: { secret_is_base64: true } }], undefined, /secret_is_base64/],
      [[{ name: 'jwt' }, { name: 'key-auth' }], undefined, /jwt and key-auth/],
      [[{ name: 'key-auth', config: { anonymous: 'alice' } }], undefined, /anonymous/],
      [[{ name: 'key-auth', config: { key_in_body: true } }], undefined, /key_in_body/],
      [[{ name: 'key-auth', config: { run_on_preflight: false } }], undefined, /run_on_preflight/],
      [[{ name: 'key-auth' }], [{ username: 'a', keyauth_credentials: [{ key: 'k', ttl: 60 }] }], /ttl/],
      [[{ name: 'key-auth' }], [{ username: 'a', keyauth_credentials: [{ key: ' padded ' }] }], /header unchanged/],
      [[{ name: 'basic-auth', config: { anonymous: 'alice' } }], undefined, /anonymous/],
      [[{ name: 'basic-auth', config: { enforcer: 'companion' } }], undefined, /enforcer: companion/],
      [[{ name: 'basic-auth' }, { name: 'key-auth' }], undefined, /key-auth and basic-auth on one route/],
      [[{ name: 'basic-auth' }], [{ username: 'a', basicauth_credentials: [{ username: 'a:b', password: 'p' }] }], /htpasswd/],
      [[{ name: 'basic-auth' }], [{ username: 'a', basicauth_credentials: [{ username: '#a', password: 'p' }] }], /htpasswd/],
      [[{ name: 'basic-auth' }], [{ username: 'a', basicauth_credentials: [{ username: 'a ', password: 'p' }] }], /htpasswd/],
      [[{ name: 'acl', config: { allow: ['a'] } }], undefined, /acl without an auth plugin/],
      [[{ name: 'jwt' }], [{ username: 'a', jwt_secrets: [{ key: 'j', algorithm: 'RS256', jwks_uri: 'https://idp.example/jwks' }] }], /JWKS/],
    ];
    for (const [plugins, consumers, why] of cases) {
      const e = enforcerOf(plugins, consumers);
      assert.equal(e?.enforcer, 'authz', JSON.stringify(plugins));
      assert.match(e?.why ?? '', why);
    }
  });

  it('no enforcer for a route without auth plugins', () => {
    assert.equal(enforcerOf([]), undefined);
  });

  it('puts jwt_authn and the Lua filters in the chain for native routes, ext_authz only for the companion\'s', () => {
    const native = httpFilterNames(compile({ a: [{ name: 'jwt' }] }));
    assert.ok(native.includes('envoy.filters.http.jwt_authn') && native.includes('frontdesk.auth.token') && native.includes('frontdesk.auth.decide'), native.join());
    assert.ok(!native.includes('envoy.filters.http.ext_authz'), native.join());
    assert.ok(native.indexOf('frontdesk.auth.token') < native.indexOf('envoy.filters.http.jwt_authn') && native.indexOf('envoy.filters.http.jwt_authn') < native.indexOf('frontdesk.auth.decide'));
    const companion = httpFilterNames(compile({ a: [{ name: 'jwt', config: { enforcer: 'companion' } }] }));
    assert.ok(companion.includes('envoy.filters.http.ext_authz') && !companion.includes('envoy.filters.http.jwt_authn'), companion.join());
    const both = httpFilterNames(compile({ a: [{ name: 'jwt' }], b: [{ name: 'basic-auth', config: { enforcer: 'companion' } }] }, [{ username: 'alice', jwt_secrets: [{ key: 'alice-iss', secret: 's' }], basicauth_credentials: [{ username: 'alice', password: 'p' }] }]));
    assert.ok(both.includes('envoy.filters.http.ext_authz') && both.includes('envoy.filters.http.jwt_authn'), both.join());
    assert.ok(!both.includes('envoy.filters.http.basic_auth'), both.join());
    const basic = httpFilterNames(compile({ a: [{ name: 'basic-auth' }] }, [{ username: 'alice', basicauth_credentials: [{ username: 'alice', password: 'p' }] }]));
    assert.ok(!basic.includes('envoy.filters.http.ext_authz') && !basic.includes('frontdesk.auth.token'), basic.join());
    assert.ok(basic.indexOf('frontdesk.auth.basic') < basic.indexOf('envoy.filters.http.basic_auth') && basic.indexOf('envoy.filters.http.basic_auth') < basic.indexOf('frontdesk.auth.decide'), basic.join());
  });

  it('frontdesk translate names, per route, who serves each plugin', () => {
    const r = compile({
      a: [{ name: 'jwt' }, { name: 'acl', config: { allow: ['x'] } }],
      b: [{ name: 'jwt', config: { key_claim_name: 'sub' } }],
      c: [{ name: 'jwt', config: { header_names: ['x-token'] } }],
    });
    assert.deepEqual(enforcerLines(r.ir!, r.model!), [
      'route a: acl envoy, jwt envoy (auth in Envoy, accepted without Lua)',
      'route c: jwt envoy (auth in Envoy, Lua on every request: jwt header_names other than authorization)',
      'route b: jwt authz (auth on the companion: key_claim_name "sub" (Envoy picks a key by iss only))',
    ]);
  });

  it('keeps Lua on the accepted path only where a Kong setting needs it', () => {
    const lua = (plugins: Array<Record<string, unknown>>) => {
      const r = compile({ a: plugins });
      return nativeLuaOnSuccess(r.ir!.routes.find((x) => x.routeName === 'a')!);
    };
    assert.equal(lua([{ name: 'jwt' }]), undefined);
    assert.equal(lua([{ name: 'jwt', config: { uri_param_names: ['token'], run_on_preflight: false } }]), undefined, 'a query parameter and preflights are in the skip condition');
    assert.equal(lua([{ name: 'jwt', config: { header_names: ['Authorization'] } }]), undefined, 'header names are case-insensitive');
    assert.equal(lua([{ name: 'jwt', config: { claims_to_verify: ['exp', 'nbf'], maximum_expiration: 60 } }]), undefined, 'the claims are checked in a CEL condition');
    assert.equal(lua([{ name: 'jwt', config: { anonymous: 'alice' } }]), 'jwt anonymous');
    assert.equal(lua([{ name: 'jwt', config: { cookie_names: ['jwt'] } }]), 'jwt cookie_names');
    assert.equal(lua([{ name: 'jwt', config: { uri_param_names: ['t'.repeat(49)] } }]), 'jwt uri_param_names longer than 48 characters', 'a longer name would not fit in the regex Envoy accepts');
    assert.equal(lua([{ name: 'jwt', config: { uri_param_names: ['t'.repeat(48), 'a.b*c'] } }]), undefined);
    assert.equal(lua([{ name: 'jwt', config: { header_names: ['x-token'] } }]), 'jwt header_names other than authorization');
    assert.equal(lua([{ name: 'key-auth' }]), undefined);
    assert.equal(lua([{ name: 'key-auth', config: { hide_credentials: true } }]), 'key-auth hide_credentials');
    assert.equal(lua([{ name: 'key-auth', config: { key_names: ['api_key'] } }]), 'key-auth key name with "_"');
    assert.equal(lua([{ name: 'key-auth', config: { key_in_header: false } }]), 'key-auth key not in a header');
    assert.equal(lua([{ name: 'basic-auth' }]), 'basic-auth');
  });

  it('writes any text as a Lua string literal', () => {
    assert.equal(luaString('plain'), '"plain"');
    assert.equal(luaString('a"b\\c\n'), '"a\\34b\\92c\\10"');
    assert.equal(luaString('é'), '"\\195\\169"');
  });
});
