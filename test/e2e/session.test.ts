// Kong's session plugin through a real Envoy and the authz companion, set up as Kong's docs set
// it up: basic-auth with an anonymous consumer, the session plugin beside it, and
// request-termination for the anonymous consumer. A login opens a session whose cookie Envoy
// hands the client (ext_authz's response headers); the cookie alone then authenticates; a
// logout ends it. Expected answers are Kong's (kong/plugins/session).
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { h2Request, proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream } from '../support/upstream.js';

const SECRET = 'e2e-session-secret-0123456789abcdef';
const BASIC = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

describe('session through Envoy and the authz companion', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  before(async () => {
    upstream = await startEchoUpstream('app');
    gw = await startGatewayWithAuthz(`_format_version: "3.0"
consumers:
  - username: alice
    basicauth_credentials: [{ username: alice, password: alice-password }]
  - username: anonymous
    plugins:
      - { name: request-termination, config: { status_code: 401, message: "Log in first" } }
services:
  - name: app
    url: ${upstream.url}
    routes:
      - name: app
        paths: [/app]
      - name: keep
        paths: [/keep]
        plugins:
          - { name: session, config: { secret: ${SECRET}, cookie_secure: false, cookie_name: keep, remember: true, remember_cookie_name: keep-me } }
      - name: bound
        paths: [/bound]
        plugins:
          - { name: session, config: { secret: ${SECRET}, cookie_secure: false, cookie_name: bound, bind: [ip, scheme, user-agent] } }
    plugins:
      - { name: basic-auth, config: { anonymous: anonymous, hide_credentials: true } }
      - { name: session, config: { secret: ${SECRET}, cookie_secure: false, response_headers: [subject] } }
`);
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  const cookieFrom = (setCookie: string | string[] | undefined) => {
    const first = Array.isArray(setCookie) ? setCookie[0] : setCookie;
    assert.ok(first, 'a Set-Cookie');
    return first.split(';')[0]!;
  };

  test('without a session or a credential: the anonymous consumer\'s termination', async () => {
    const r = await proxyRequest(gw, { path: '/app/orders' });
    assert.equal(r.status, 401);
    assert.deepEqual(JSON.parse(r.text), { message: 'Log in first' });
    assert.equal(r.headers['set-cookie'], undefined, 'no session for the anonymous consumer');
  });

  test('a login sets the session cookie; the cookie alone is then alice, over HTTP/1.1 and HTTP/2', async () => {
    const login = await proxyRequest(gw, { path: '/app/orders', headers: { authorization: BASIC } });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.headers['session-subject'], 'alice');
    const setCookie = String(login.headers['set-cookie']);
    assert.match(setCookie, /^session=[^;]+; Path=\/; SameSite=Strict; HttpOnly$/);
    const cookie = cookieFrom(login.headers['set-cookie']);

    const again = await proxyRequest(gw, { path: '/app/profile', headers: { cookie } });
    assert.equal(again.status, 200, again.text);
    const seen = JSON.parse(again.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-credential-identifier'], 'alice');
    assert.equal(seen.headers['x-anonymous-consumer'], undefined);
    assert.equal(seen.headers.authorization, undefined);

    const session = connect(`http://127.0.0.1:${gw.proxyPort}`);
    try {
      const seenH2 = await h2Request(session, { ':path': '/app/h2', cookie });
      assert.equal(seenH2.status, 200);
      assert.equal((JSON.parse(seenH2.body) as { headers: Record<string, string> }).headers['x-consumer-username'], 'alice');
    } finally {
      session.close();
    }
  });

  test('logout: DELETE with session_logout answers 200 empty, removes the cookie, and never reaches the upstream', async () => {
    const login = await proxyRequest(gw, { path: '/app', headers: { authorization: BASIC } });
    const cookie = cookieFrom(login.headers['set-cookie']);
    const before = upstream.requests.length;
    const out = await proxyRequest(gw, { method: 'DELETE', path: '/app?session_logout=true', headers: { cookie } });
    assert.equal(out.status, 200);
    assert.equal(out.text, '');
    assert.match(String(out.headers['set-cookie']), /^session=; .*Max-Age=0/);
    assert.equal(upstream.requests.length, before);
  });

  test('a forged cookie is no session; the secret is not in Envoy\'s config', async () => {
    const r = await proxyRequest(gw, { path: '/app', headers: { cookie: 'session=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    assert.equal(r.status, 401);
    const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump`)).text();
    assert.ok(!dump.includes(SECRET));
  });

  test('bind: the session follows the address, scheme and user agent it was opened with; another user agent has none', async () => {
    const login = await proxyRequest(gw, { path: '/bound', headers: { authorization: BASIC, 'user-agent': 'browser/1' } });
    assert.equal(login.status, 200, login.text);
    const cookie = cookieFrom(login.headers['set-cookie']);
    assert.match(cookie, /^bound=/);
    assert.equal((await proxyRequest(gw, { path: '/bound', headers: { cookie, 'user-agent': 'browser/1' } })).status, 200);
    assert.equal((await proxyRequest(gw, { path: '/bound', headers: { cookie, 'user-agent': 'stolen/1' } })).status, 401);
  });

  test('remember: two cookies on the login, each its own Set-Cookie; the persistent one alone brings alice back', async () => {
    const login = await proxyRequest(gw, { path: '/keep', headers: { authorization: BASIC } });
    assert.equal(login.status, 200, login.text);
    const set = login.headers['set-cookie'] ?? [];
    assert.deepEqual(set.map((c) => c.split('=')[0]), ['keep', 'keep-me']);
    assert.match(set[1]!, /; Expires=[^;]+; Max-Age=604800$/, 'Kong\'s remember_rolling_timeout, a week');
    const back = await proxyRequest(gw, { path: '/keep', headers: { cookie: cookieFrom([set[1]!]) } });
    assert.equal(back.status, 200, back.text);
    assert.equal((JSON.parse(back.text) as { headers: Record<string, string> }).headers['x-consumer-username'], 'alice');
  });
});
