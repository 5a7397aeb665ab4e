// Kong's session plugin on the authz companion, case by case (kong/plugins/session: access.lua,
// header_filter.lua, session.lua; its timeouts as lua-resty-session 4 documents them). A session
// opens when an auth plugin authenticates, is then the consumer of the requests that bring its
// cookie (the auth plugin, configured with `anonymous` as Kong's docs say, stands aside), and
// ends at logout, at a timeout or when its consumer is gone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthzDecision, AuthzSnapshot } from '../../src/authz/types.js';
import { pluginFeature } from '../../src/model/plugins/index.js';
import { sessionConfigSchema } from '../../src/model/plugins/session.js';
import { decodeCheckRequest } from '../../src/authz/server.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { messageType } from '../../src/xds/proto-registry.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { aclConf, basicAuthConf, makeEngine, request } from '../support/jwt-fixtures.js';

const SECRET = 'a-session-secret-of-at-least-32-characters';
const sessionConf = (c: Record<string, unknown> = {}) => pluginFeature('session', sessionConfigSchema.parse({ secret: SECRET, ...c }));
const BASIC = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

function snapshot(withAlice = true): AuthzSnapshot {
  return {
    consumers: [...(withAlice ? [{ id: 'c-alice', username: 'alice' }] : []), { id: 'c-guest', username: 'guest' }],
    basicauthCredentials: withAlice ? [{ id: 'cred-alice', consumerId: 'c-alice', username: 'alice', password: 'alice-password' }] : [],
    acls: withAlice ? [{ consumerId: 'c-alice', group: 'staff' }] : [],
    policies: [
      { routeId: 'app', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf() } },
      { routeId: 'strict', plugins: { 'basic-auth': basicAuthConf(), session: sessionConf() } },
      { routeId: 'staff', plugins: { session: sessionConf(), acl: aclConf({ allow: ['staff'] }) } },
      { routeId: 'other-app', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf({ audience: 'other' }) } },
      { routeId: 'headers', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf({ response_headers: ['id', 'subject', 'timeout'], request_headers: ['audience', 'idling-timeout'] }) } },
      { routeId: 'rolling', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf({ idling_timeout: 0, rolling_timeout: 400, absolute_timeout: 1000 }) } },
      { routeId: 'body-logout', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf({ read_body_for_logout: true }) } },
      { routeId: 'bound', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf({ bind: ['ip', 'user-agent'] }) } },
      { routeId: 'remember', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf({ remember: true, remember_rolling_timeout: 3000, remember_absolute_timeout: 5000 }) } },
      { routeId: 'lax', plugins: { 'basic-auth': basicAuthConf({ anonymous: 'guest' }), session: sessionConf({ cookie_name: 'sid', cookie_same_site: 'Lax', cookie_secure: false, cookie_domain: 'example.test', cookie_path: '/app' }) } },
    ],
  };
}

const allowed = (d: AuthzDecision) => { assert.equal(d.allow, true, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: true }>; };
const denied = (d: AuthzDecision) => { assert.equal(d.allow, false, JSON.stringify(d)); return d as Extract<AuthzDecision, { allow: false }>; };
/** The cookie a Set-Cookie gives (`name=value`), and its attributes. */
const cookieOf = (setCookie: string | undefined) => {
  assert.ok(setCookie, 'a Set-Cookie');
  const [pair, ...attrs] = setCookie.split('; ');
  return { pair: pair!, attrs };
};

describe('session with basic-auth (Kong\'s session plugin)', () => {
  const login = async (engine: ReturnType<typeof makeEngine>['engine'], route = 'app') => {
    const d = allowed(await engine.check(route, request('/', { authorization: BASIC })));
    return cookieOf(d.setCookies?.[0]);
  };

  it('a login opens a session: Set-Cookie with Kong\'s defaults (session, Path=/, SameSite=Strict, HttpOnly, Secure)', async () => {
    const { engine } = makeEngine(snapshot());
    const d = allowed(await engine.check('app', request('/', { authorization: BASIC })));
    assert.equal(d.headersToSet['x-consumer-username'], 'alice');
    const c = cookieOf(d.setCookies?.[0]);
    assert.match(c.pair, /^session=[A-Za-z0-9_-]{40,}$/);
    assert.deepEqual(c.attrs, ['Path=/', 'SameSite=Strict', 'HttpOnly', 'Secure']);
    assert.ok(!c.pair.includes('alice'), 'the cookie does not show who it is for');
  });

  it('the cookie alone is the consumer and its credential; no new cookie while nothing needs renewing', async () => {
    const { engine } = makeEngine(snapshot());
    const c = await login(engine);
    const d = allowed(await engine.check('app', request('/', { cookie: `theme=dark; ${c.pair}` })));
    assert.equal(d.headersToSet['x-consumer-username'], 'alice');
    assert.equal(d.headersToSet['x-consumer-id'], 'c-alice');
    assert.equal(d.headersToSet['x-credential-identifier'], 'alice');
    assert.equal(d.headersToSet['x-anonymous-consumer'], undefined);
    assert.equal(d.setCookies, undefined);
  });

  it('no session and no credential: the anonymous consumer, and no session opened for it', async () => {
    const { engine } = makeEngine(snapshot());
    const d = allowed(await engine.check('app', request('/')));
    assert.equal(d.headersToSet['x-consumer-username'], 'guest');
    assert.equal(d.headersToSet['x-anonymous-consumer'], 'true');
    assert.equal(d.setCookies, undefined);
  });

  it('a cookie that was altered, made with another secret, or for another audience is no session', async () => {
    const { engine } = makeEngine(snapshot());
    const c = await login(engine);
    const value = c.pair.slice('session='.length);
    const flipped = value.slice(0, 20) + (value[20] === 'A' ? 'B' : 'A') + value.slice(21);
    assert.equal(allowed(await engine.check('app', request('/', { cookie: `session=${flipped}` }))).headersToSet['x-consumer-username'], 'guest');
    const other = makeEngine({ ...snapshot(), policies: snapshot().policies.map((p) => (p.routeId === 'app' ? { ...p, plugins: { ...p.plugins, session: sessionConf({ secret: 'another-secret-that-is-32-characters-long' }) } } : p)) });
    assert.equal(allowed(await other.engine.check('app', request('/', { cookie: c.pair }))).headersToSet['x-consumer-username'], 'guest');
    assert.equal(allowed(await engine.check('other-app', request('/', { cookie: c.pair }))).headersToSet['x-consumer-username'], 'guest', 'audience other');
  });

  it('an auth plugin without anonymous still asks for its credential (Kong\'s logical OR needs anonymous)', async () => {
    const { engine } = makeEngine(snapshot());
    const c = await login(engine, 'strict');
    assert.equal(denied(await engine.check('strict', request('/', { cookie: c.pair }))).status, 401);
  });

  it('idling_timeout (900 s): a session unused that long is gone; a use after a minute touches it, restarting its idle time', async () => {
    const { engine, clock } = makeEngine(snapshot());
    const start = clock.ms;
    const c = await login(engine);
    clock.ms = start + 30_000;
    assert.equal(allowed(await engine.check('app', request('/', { cookie: c.pair }))).setCookies, undefined, 'under a minute: not touched');
    clock.ms = start + 120_000;
    const touched = cookieOf(allowed(await engine.check('app', request('/', { cookie: c.pair }))).setCookies?.[0]);
    clock.ms = start + 920_000;
    assert.equal(allowed(await engine.check('app', request('/', { cookie: c.pair }))).headersToSet['x-consumer-username'], 'guest', 'the old cookie idled out');
    assert.equal(allowed(await engine.check('app', request('/', { cookie: touched.pair }))).headersToSet['x-consumer-username'], 'alice', 'the touched one did not');
  });

  it('rolling_timeout: renewed with a new id once three quarters are spent; absolute_timeout: gone however renewed', async () => {
    const { engine, clock } = makeEngine(snapshot());
    const start = clock.ms;
    const c = await login(engine, 'rolling');
    clock.ms = start + 299_000;
    assert.equal(allowed(await engine.check('rolling', request('/', { cookie: c.pair }))).setCookies, undefined);
    clock.ms = start + 300_000;
    const renewed = cookieOf(allowed(await engine.check('rolling', request('/', { cookie: c.pair }))).setCookies?.[0]);
    clock.ms = start + 650_000;
    assert.equal(allowed(await engine.check('rolling', request('/', { cookie: c.pair }))).headersToSet['x-consumer-username'], 'guest', 'past the rolling timeout');
    const again = cookieOf(allowed(await engine.check('rolling', request('/', { cookie: renewed.pair }))).setCookies?.[0]);
    clock.ms = start + 1_000_001;
    assert.equal(allowed(await engine.check('rolling', request('/', { cookie: again.pair }))).headersToSet['x-consumer-username'], 'guest', 'past the absolute timeout');
  });

  it('logout: POST or DELETE with session_logout answers 200 with an empty body and the cookie removed; GET is no logout by default', async () => {
    const { engine } = makeEngine(snapshot());
    const c = await login(engine);
    const out = denied(await engine.check('app', request('/?session_logout', { cookie: c.pair }, { method: 'DELETE' })));
    assert.equal(out.status, 200);
    assert.equal(out.body, undefined);
    const cleared = cookieOf(out.setCookies?.[0]);
    assert.equal(cleared.pair, 'session=');
    assert.ok(cleared.attrs.includes('Max-Age=0'));
    assert.equal(allowed(await engine.check('app', request('/?session_logout=1', { cookie: c.pair }))).headersToSet['x-consumer-username'], 'alice', 'GET is not in logout_methods');
    assert.equal(allowed(await engine.check('app', request('/?session_logout', {}, { method: 'POST' }))).headersToSet['x-consumer-username'], 'guest', 'no session: no logout, the request goes on');
    const form = { 'content-type': 'application/x-www-form-urlencoded', cookie: c.pair };
    assert.equal(allowed(await engine.check('app', request('/', form, { method: 'POST', body: 'session_logout=true' }))).headersToSet['x-consumer-username'], 'alice', 'the body is read only with read_body_for_logout');
    const c2 = await login(engine, 'body-logout');
    assert.equal(denied(await engine.check('body-logout', request('/', { ...form, cookie: c2.pair }, { method: 'POST', body: 'session_logout=true' }))).status, 200);
  });

  it('a session whose consumer is gone is removed, and the request goes on without it', async () => {
    const { engine } = makeEngine(snapshot());
    const c = await login(engine);
    engine.update(snapshot(false));
    const d = allowed(await engine.check('app', request('/', { cookie: c.pair })));
    assert.equal(d.headersToSet['x-consumer-username'], 'guest');
    assert.equal(cookieOf(d.setCookies?.[0]).pair, 'session=');
  });

  it('acl reads the session\'s consumer: a route with session and acl alone serves its members', async () => {
    const { engine } = makeEngine(snapshot());
    const c = await login(engine);
    assert.equal(allowed(await engine.check('staff', request('/', { cookie: c.pair }))).headersToSet['x-consumer-groups'], 'staff');
    assert.equal(denied(await engine.check('staff', request('/'))).status, 401, 'no consumer: acl\'s 401');
  });

  it('request_headers and response_headers: Session-* with the id, subject, audience and the seconds left', async () => {
    const { engine, clock } = makeEngine(snapshot());
    const start = clock.ms;
    const first = allowed(await engine.check('headers', request('/', { authorization: BASIC })));
    assert.equal(first.responseHeaders?.['session-subject'], 'alice');
    assert.equal(first.responseHeaders?.['session-timeout'], '900', 'the idling timeout is the nearest');
    const id = first.responseHeaders?.['session-id'];
    assert.match(String(id), /^[A-Za-z0-9_-]{43}$/);
    clock.ms = start + 10_000;
    const next = allowed(await engine.check('headers', request('/', { cookie: cookieOf(first.setCookies?.[0]).pair })));
    assert.equal(next.responseHeaders?.['session-id'], id);
    assert.equal(next.responseHeaders?.['session-timeout'], '890');
    assert.equal(next.headersToSet['session-audience'], 'default');
    assert.equal(next.headersToSet['session-idling-timeout'], '890');
    assert.equal(next.headersToSet['session-id'], undefined, 'only the request headers asked for');
  });

  it('remember: a persistent cookie beside the session; it restores the session once the session cookie is gone or timed out, within its own timeouts', async () => {
    const { engine, clock } = makeEngine(snapshot());
    const start = clock.ms;
    const login = allowed(await engine.check('remember', request('/', { authorization: BASIC })));
    const [session, remember] = (login.setCookies ?? []).map(cookieOf);
    assert.match(session!.pair, /^session=/);
    assert.match(remember!.pair, /^remember=/);
    assert.ok(remember!.attrs.includes('Max-Age=3000'), 'kept remember_rolling_timeout seconds');
    assert.ok(remember!.attrs.some((a) => a.startsWith('Expires=')));
    assert.ok(!session!.attrs.some((a) => a.startsWith('Max-Age') || a.startsWith('Expires')), 'the session cookie stays a browser-session one');
    // The browser closed: only the remember cookie comes back, an hour later (past the idle timeout).
    clock.ms = start + 3_600_000 - 1_000_000;
    const back = allowed(await engine.check('remember', request('/', { cookie: remember!.pair })));
    assert.equal(back.headersToSet['x-consumer-username'], 'alice');
    assert.equal(back.headersToSet['x-credential-identifier'], 'alice');
    const [restored, remembered] = (back.setCookies ?? []).map(cookieOf);
    assert.match(restored!.pair, /^session=/, 'a session cookie again');
    assert.match(remembered!.pair, /^remember=/, 'the persistent cookie saved again');
    // Past remember_absolute_timeout from the login, no restoring however often it was saved.
    clock.ms = start + 5_001_000;
    assert.equal(allowed(await engine.check('remember', request('/', { cookie: remembered!.pair }))).headersToSet['x-consumer-username'], 'guest');
    // Logout clears both cookies.
    clock.ms = start;
    const out = denied(await engine.check('remember', request('/?session_logout', { cookie: `${session!.pair}; ${remember!.pair}` }, { method: 'POST' })));
    assert.deepEqual((out.setCookies ?? []).map((c) => cookieOf(c).pair), ['session=', 'remember=']);
  });

  it('bind: a session is the client\'s it was opened by, by address and user agent; another client with the cookie has none', async () => {
    const { engine } = makeEngine(snapshot());
    const from = (clientIp: string, ua: string, headers: Record<string, string> = {}) => request('/', { 'user-agent': ua, ...headers }, { clientIp });
    const login = allowed(await engine.check('bound', from('10.0.0.1', 'browser/1', { authorization: BASIC })));
    const cookie = cookieOf(login.setCookies?.[0]).pair;
    assert.equal(allowed(await engine.check('bound', from('10.0.0.1', 'browser/1', { cookie }))).headersToSet['x-consumer-username'], 'alice');
    assert.equal(allowed(await engine.check('bound', from('10.0.0.2', 'browser/1', { cookie }))).headersToSet['x-consumer-username'], 'guest', 'another address');
    assert.equal(allowed(await engine.check('bound', from('10.0.0.1', 'curl/8', { cookie }))).headersToSet['x-consumer-username'], 'guest', 'another user agent');
  });

  it('bind reads the client address and scheme Envoy puts in its CheckRequest', () => {
    const t = messageType('envoy.service.auth.v3.CheckRequest');
    const bytes = t.encode(t.fromObject({ attributes: { source: { address: { socket_address: { address: '10.1.2.3', port_value: 50000 } } }, request: { http: { method: 'GET', path: '/', scheme: 'https' } } } })).finish();
    const { request: decoded } = decodeCheckRequest(bytes);
    assert.equal(decoded.clientIp, '10.1.2.3');
    assert.equal(decoded.scheme, 'https');
  });

  it('the cookie\'s attributes follow cookie_name, cookie_path, cookie_domain, cookie_same_site and cookie_secure', async () => {
    const { engine } = makeEngine(snapshot());
    const c = await login(engine, 'lax');
    assert.match(c.pair, /^sid=/);
    assert.deepEqual(c.attrs, ['Path=/app', 'Domain=example.test', 'SameSite=Lax', 'HttpOnly']);
  });
});

describe('session: the config', () => {
  it('needs a secret of 32 characters or more, and refuses Kong\'s database storage', () => {
    assert.equal(sessionConfigSchema.safeParse({ secret: SECRET, bind: ['id'] }).success, false, 'bind takes ip, scheme and user-agent, as Kong\'s schema');
    assert.equal(sessionConfigSchema.safeParse({}).success, false);
    assert.equal(sessionConfigSchema.safeParse({ secret: 'short' }).success, false);
    assert.equal(sessionConfigSchema.safeParse({ secret: SECRET, remember: true, remember_cookie_name: 'session' }).success, false, 'the remember cookie is a second cookie');
    for (const bad of [{ storage: 'kong' }]) {
      const r = sessionConfigSchema.safeParse({ secret: SECRET, ...bad });
      assert.equal(r.success, false, JSON.stringify(bad));
      assert.match(r.error!.issues[0]!.message, /not served/);
    }
    const c = sessionConfigSchema.parse({ secret: SECRET });
    assert.equal(c.rolling_timeout, 3600);
    assert.equal(c.idling_timeout, 900);
    assert.equal(c.absolute_timeout, 86400);
    assert.deepEqual(c.logout_methods, ['POST', 'DELETE']);
  });

  it('compiles to ext_authz on the route, Envoy sending authz the cookie; acl behind a session alone loads without the no-auth warning', () => {
    const r = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
services:
  - name: app
    url: http://127.0.0.1:9
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: members
        paths: [/members]
        plugins:
          - { name: session, config: { secret: ${SECRET} } }
          - { name: acl, config: { allow: [staff] } }
` }]);
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    assert.deepEqual(r.diagnostics.filter((d) => d.code === 'FD_AUTHZ_ACL_WITHOUT_AUTH'), []);
    const listener = [...r.translation!.fleets.get('')!.get(TYPE.listener)!.values()][0] as Record<string, any>;
    const text = JSON.stringify(listener);
    assert.match(text, /envoy\.filters\.http\.ext_authz/);
    assert.match(text, /"exact":"cookie"/, 'Envoy sends authz the cookie header');
    assert.ok(!JSON.stringify([...r.translation!.fleets.get('')!.values()].map((m) => [...m.values()])).includes(SECRET), 'no secret in Envoy\'s resources');
  });
});
