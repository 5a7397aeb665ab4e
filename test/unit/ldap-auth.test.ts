// ldap-auth without a network: its config as the loader reads it (Kong's schema and entity
// check), and the authz engine's decisions with a recorded bind in place of the LDAP server
// (credential parsing, Kong's answers, the verdict cache, a server that cannot decide).
// The expected values are Kong's (kong/plugins/ldap-auth/schema.lua, access.lua and its spec).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthzEngine } from '../../src/authz/engine.js';
import type { LdapEndpoint } from '../../src/authz/ldap-client.js';
import { ldapCredentials } from '../../src/authz/plugins/ldap-auth.js';
import type { AuthzAllow, AuthzDeny, LdapAuthConfig } from '../../src/authz/types.js';
import { silentLogger } from '../../src/logger.js';
import { compileConfig } from '../../src/runtime/compile.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('ldap-auth config (Kong 3.x schema)', () => {
  const load = (config: string) => compileConfig([{ file: 'kong.yml', text: `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9001
    routes:
      - name: r
        paths: [/r]
        plugins:
          - name: ldap-auth
            config: ${config}
` }]);

  test('loads with Kong\'s defaults: port 389, cache_ttl 60, timeout 10000, keepalive 60000, header_type ldap', () => {
    const out = load('{ ldap_host: ldap.example.com, base_dn: "dc=example,dc=com", attribute: cn }');
    assert.deepEqual(out.diagnostics.filter((d) => d.severity === 'error'), []);
    const route = out.ir!.routes.find((r) => r.routeName === 'r')!;
    assert.deepEqual(route.plugins['ldap-auth']!.feature, {
      ldap_host: 'ldap.example.com', ldap_port: 389, ldaps: false, start_tls: false, verify_ldap_host: false, base_dn: 'dc=example,dc=com', attribute: 'cn',
      cache_ttl: 60, hide_credentials: false, timeout: 10000, keepalive: 60000, header_type: 'ldap',
    });
  });

  test('ldaps and start_tls together are refused with Kong\'s message, at the field', () => {
    const ds = load('{ ldap_host: h, base_dn: "dc=x", attribute: cn, ldaps: true, start_tls: true }').diagnostics.filter((d) => d.severity === 'error');
    assert.equal(ds.length, 1);
    assert.match(ds[0]!.message, /'ldaps' and 'start_tls' cannot be enabled simultaneously/);
    assert.equal(ds[0]!.path.join('.'), 'services.0.routes.0.plugins.0.config.start_tls');
    assert.equal(ds[0]!.file, 'kong.yml');
    assert.equal(ds[0]!.line, 10);
  });

  test('ldap_host, base_dn and attribute are required', () => {
    const ds = load('{ ldap_port: 636 }').diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(ds.map((d) => d.path.at(-1)).sort(), ['attribute', 'base_dn', 'ldap_host']);
  });
});

describe('reading the credentials (Kong\'s retrieve_credentials)', () => {
  test('the scheme after optional white space, case-insensitive, then base64 of user:password', () => {
    assert.deepEqual(ldapCredentials(`ldap ${b64('einstein:password')}`, 'ldap'), { username: 'einstein', password: 'password' });
    assert.deepEqual(ldapCredentials(`  LDAP \t${b64('einstein:password')}`, 'ldap'), { username: 'einstein', password: 'password' });
    assert.deepEqual(ldapCredentials(`basic ${b64('a:b')}`, 'Basic'), { username: 'a', password: 'b' });
  });

  test('Lua\'s (.+):(.+): the username runs to the last colon with something after it; neither part empty', () => {
    assert.deepEqual(ldapCredentials(`ldap ${b64('einstein:password:another_password')}`, 'ldap'), { username: 'einstein:password', password: 'another_password' });
    assert.deepEqual(ldapCredentials(`ldap ${b64('a:b:')}`, 'ldap'), { username: 'a', password: 'b:' });
    assert.equal(ldapCredentials(`ldap ${b64('einstein:')}`, 'ldap'), undefined);
    assert.equal(ldapCredentials(`ldap ${b64(':password')}`, 'ldap'), undefined);
    assert.equal(ldapCredentials(`ldap ${b64('nocolon')}`, 'ldap'), undefined);
  });

  test('no scheme, another scheme, no space after it, no base64: nothing', () => {
    for (const v of ['abcd', 'ldap ', `invalidldap ${b64('a:b')}`, `ldap${b64('a:b')}`, 'ldap not*base64', `x ldap ${b64('a:b')}`]) {
      assert.equal(ldapCredentials(v, 'ldap'), undefined, v);
    }
    assert.equal(ldapCredentials(`ldap ${b64('line\nbreak:pw')}`, 'ldap'), undefined, 'a control character cannot go upstream in a header');
  });
});

describe('the engine with a recorded bind', () => {
  const USERS: Record<string, string> = { 'uid=einstein,ou=people,dc=example,dc=com': 'password' };
  const CONF: LdapAuthConfig = { ldap_host: 'ldap.test', ldap_port: 389, base_dn: 'ou=people,dc=example,dc=com', attribute: 'uid', cache_ttl: 60, timeout: 1000, keepalive: 60000, header_type: 'ldap' };

  function engine(opts: { conf?: Partial<LdapAuthConfig>; down?: () => boolean; now?: () => number } = {}) {
    const binds: Array<{ ep: LdapEndpoint; dn: string }> = [];
    const e = new AuthzEngine({
      logger: silentLogger(),
      ...(opts.now ? { now: opts.now } : {}),
      ldap: async (ep, dn, password) => {
        binds.push({ ep, dn });
        await new Promise((r) => setImmediate(r));
        if (opts.down?.()) throw new Error('connect ECONNREFUSED');
        return USERS[dn] === password;
      },
    });
    e.update({
      consumers: [{ id: 'anon-id', username: 'guest' }],
      policies: [{ routeId: 'r', plugins: { 'ldap-auth': { ...CONF, ...opts.conf } } }],
    });
    const check = (headers: Record<string, string>) => e.check('r', { method: 'GET', path: '/r', headers });
    return { check, binds };
  }

  test('accepted: X-Credential-Identifier is the username, no consumer; the bind names attribute=username,base_dn', async () => {
    const { check, binds } = engine();
    const d = await check({ authorization: `ldap ${b64('einstein:password')}` }) as AuthzAllow;
    assert.equal(d.allow, true);
    assert.equal(d.headersToSet['x-credential-identifier'], 'einstein');
    assert.equal(d.consumer, undefined);
    assert.ok(d.headersToRemove.includes('x-consumer-id') && d.headersToRemove.includes('x-anonymous-consumer'));
    assert.equal(binds[0]!.dn, 'uid=einstein,ou=people,dc=example,dc=com');
    assert.deepEqual({ host: binds[0]!.ep.host, port: binds[0]!.ep.port, timeoutMs: binds[0]!.ep.timeoutMs }, { host: 'ldap.test', port: 389, timeoutMs: 1000 });
  });

  test('refused: 401 Unauthorized with WWW-Authenticate LDAP (realm when set; header_type as written otherwise)', async () => {
    const d = await engine().check({ authorization: `ldap ${b64('einstein:nope')}` }) as AuthzDeny;
    assert.deepEqual([d.status, d.body, d.headers['www-authenticate']], [401, { message: 'Unauthorized' }, 'LDAP']);
    const none = await engine({ conf: { realm: 'kong' } }).check({}) as AuthzDeny;
    assert.deepEqual([none.status, none.body, none.headers['www-authenticate']], [401, { message: 'Unauthorized' }, 'LDAP realm="kong"']);
    const basic = await engine({ conf: { header_type: 'Basic' } }).check({}) as AuthzDeny;
    assert.equal(basic.headers['www-authenticate'], 'Basic');
  });

  test('Proxy-Authorization first, then Authorization; hide_credentials removes both', async () => {
    const { check, binds } = engine({ conf: { hide_credentials: true } });
    const d = await check({ 'proxy-authorization': `ldap ${b64('einstein:wrong')}`, authorization: `ldap ${b64('einstein:password')}` }) as AuthzAllow;
    assert.equal(d.allow, true);
    assert.equal(binds.length, 2);
    assert.ok(d.headersToRemove.includes('authorization') && d.headersToRemove.includes('proxy-authorization'));
  });

  test('verdicts are kept for cache_ttl, refusals too; requests with the same credentials at once share one bind', async () => {
    let now = 1_000_000;
    const { check, binds } = engine({ now: () => now });
    const good = { authorization: `ldap ${b64('einstein:password')}` };
    const bad = { authorization: `ldap ${b64('einstein:wrong')}` };
    const answers = await Promise.all([check(good), check(good), check(good), check(bad), check(bad)]);
    assert.deepEqual(answers.map((a) => a.allow), [true, true, true, false, false]);
    assert.equal(binds.length, 2, 'one bind per distinct credential');
    await check(good);
    await check(bad);
    assert.equal(binds.length, 2, 'both verdicts cached');
    now += 60_001;
    await check(good);
    assert.equal(binds.length, 3, 'asked again after cache_ttl');
  });

  test('a server that cannot decide is 500 An unexpected error occurred and is not cached', async () => {
    let down = true;
    const { check, binds } = engine({ down: () => down });
    const d = await check({ authorization: `ldap ${b64('einstein:password')}` }) as AuthzDeny;
    assert.deepEqual([d.status, d.body], [500, { message: 'An unexpected error occurred' }]);
    down = false;
    assert.equal((await check({ authorization: `ldap ${b64('einstein:password')}` })).allow, true);
    assert.equal(binds.length, 2);
  });

  test('anonymous: a refusal runs as the anonymous consumer; an accepted user is the credential alone', async () => {
    const { check } = engine({ conf: { anonymous: 'guest' } });
    const anon = await check({ authorization: `ldap ${b64('einstein:wrong')}` }) as AuthzAllow;
    assert.deepEqual([anon.allow, anon.headersToSet['x-consumer-username'], anon.headersToSet['x-anonymous-consumer']], [true, 'guest', 'true']);
    const user = await check({ authorization: `ldap ${b64('einstein:password')}` }) as AuthzAllow;
    assert.deepEqual([user.headersToSet['x-consumer-username'], user.headersToSet['x-credential-identifier']], [undefined, 'einstein']);
  });
});
