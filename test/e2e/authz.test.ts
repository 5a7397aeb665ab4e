// Kong's jwt, key-auth, basic-auth and acl through a real Envoy, served by the authz companion
// (every auth plugin here says `enforcer: companion`): ext_authz asks it (in-process, fed by the
// control plane over ADS) about every request on a protected route. The Kong case table and
// the attack corpus run against both enforcers (kong-plugin-cases.test.ts, jwt-attacks.test.ts).
// Valid credentials pass with Kong's consumer headers upstream; each failure gets Kong's
// status, body and WWW-Authenticate; credentials are hidden; a key revoked by a YAML edit is
// refused within a second; authz stopped fails closed (503), or open when so configured.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { consumerId } from '../../src/contracts/authz.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { keyPair, signToken } from '../support/jwt-fixtures.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';
import { kongId } from '../../src/kong-ids.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;
interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string; json: Record<string, unknown> & Partial<EchoReply> }

function send(gw: Gateway, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json = {};
        try { json = text ? JSON.parse(text) : {}; } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const RSA = keyPair('RS256');
const OTHER_RSA = keyPair('RS256', 'b');
const pem = (p: string, indent: string) => p.trim().split('\n').map((l) => `${indent}${l}`).join('\n');
const now = () => Math.floor(Date.now() / 1000);
const bearer = (claims: object, key = RSA.privateKey, alg = 'RS256') => `Bearer ${signToken(alg, key, claims)}`;
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function config(upstream: string, keys: string[]): string {
  return `_format_version: "3.0"
services:
  # The deep dive's example as written: jwt (exp checked, Authorization header) + acl on the service.
  - name: orders-service
    url: ${upstream}
    connect_timeout: 5000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: orders-route
        paths:
          - /api/v1/orders
    plugins:
      - name: jwt
        config:
          enforcer: companion
          claims_to_verify:
            - exp
          header_names:
            - Authorization
      - name: acl
        config:
          enforcer: companion
          allow:
            - orders-read
            - orders-write
  - name: misc
    url: ${upstream}
    connect_timeout: 5000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
            config: { enforcer: companion }
      - name: acl-only
        paths: [/acl-only]
        plugins:
          - name: acl
            config: { enforcer: companion, allow: [partners] }
      - name: hidden
        paths: [/hidden]
        plugins:
          - name: key-auth
            config: { enforcer: companion, key_names: [x-api-key, apikey], hide_credentials: true }
      - name: form
        paths: [/form]
        plugins:
          - name: key-auth
            config: { enforcer: companion, key_in_body: true, key_in_header: false, key_in_query: false }
      - name: basic
        paths: [/basic]
        plugins:
          - name: basic-auth
            config: { enforcer: companion, hide_credentials: true }
      - name: denylist
        paths: [/denylist]
        plugins:
          - name: key-auth
            config: { enforcer: companion }
          - name: acl
            config: { enforcer: companion, deny: [banned], hide_groups_header: true }
      - name: deny-several
        paths: [/deny-several]
        plugins:
          - name: key-auth
            config: { enforcer: companion }
          - name: acl
            config: { enforcer: companion, deny: [banned, suspended] }
      - name: allow-several
        paths: [/allow-several]
        plugins:
          - name: key-auth
            config: { enforcer: companion }
          - name: acl
            config: { enforcer: companion, allow: [gold, silver] }
      - name: open
        paths: [/open]
consumers:
  - username: web-app
    custom_id: web-001
    jwt_secrets:
      - key: web-app-issuer
        algorithm: RS256
        rsa_public_key: |
${pem(RSA.publicPem, '          ')}
    acls:
      - group: orders-read
  - username: outsider
    jwt_secrets:
      - key: outsider-issuer
        algorithm: RS256
        rsa_public_key: |
${pem(OTHER_RSA.publicPem, '          ')}
  - id: 0e1f6a43-6f1c-4c53-9a43-2f1d3c4b5a60
    username: partner
    keyauth_credentials:
${keys.map((k, i) => `      - { id: kc-${i}, key: ${k} }`).join('\n')}
    basicauth_credentials:
      - { username: partner, password: "open:sesame" }
    acls:
      - group: partners
  - username: troll
    keyauth_credentials:
      - { key: troll-key }
    acls:
      - group: banned
  - username: sleeper
    keyauth_credentials:
      - { key: sleeper-key }
    acls:
      - group: suspended
  - username: patron
    keyauth_credentials:
      - { key: patron-key }
    acls:
      - group: silver
      - group: Gold
`;
}

describe('authz through Envoy', () => {
  let up: Upstream;
  let gw: Gateway;
  let authz: TestAuthz;

  before(async () => {
    up = await startEchoUpstream('orders');
    const az = await authzForTests();
    gw = await startGateway(config(up.url, ['partner-key', 'partner-key-2']), { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    await gw.converged();
  });

  after(async () => {
    await authz?.stop();
    await gw?.stop();
    await up?.close();
  });

  test("the deep dive's jwt + acl example: a valid token passes with Kong's consumer headers upstream", async () => {
    const r = await send(gw, '/api/v1/orders/42?x=1', { headers: { authorization: bearer({ iss: 'web-app-issuer', exp: now() + 60 }), 'x-consumer-id': 'forged', 'x-consumer-groups': 'admins' } });
    assert.equal(r.status, 200, r.text);
    const h = r.json.headers!;
    assert.equal(r.json.path, '/42?x=1');
    assert.equal(h['x-consumer-id'], kongId('consumers', 'web-app'), 'the forged id is overwritten');
    assert.equal(h['x-consumer-username'], 'web-app');
    assert.equal(h['x-consumer-custom-id'], 'web-001');
    assert.equal(h['x-credential-identifier'], 'web-app-issuer');
    assert.equal(h['x-consumer-groups'], 'orders-read');
    assert.equal(h['x-anonymous-consumer'], undefined);
    assert.ok(String(h.authorization).startsWith('Bearer '), 'jwt does not hide the token (Kong has no hide_credentials for jwt)');
  });

  test("each jwt failure gets Kong's status, body and WWW-Authenticate", async () => {
    const cases: Array<[string, Record<string, string>, number, unknown, string | undefined]> = [
      ['no token', {}, 401, { message: 'Unauthorized' }, 'Bearer'],
      ['expired', { authorization: bearer({ iss: 'web-app-issuer', exp: now() - 10 }) }, 401, { exp: 'token expired' }, 'Bearer error="invalid_token"'],
      ['no exp', { authorization: bearer({ iss: 'web-app-issuer' }) }, 401, { exp: 'must be a number' }, 'Bearer error="invalid_token"'],
      ['wrong key', { authorization: bearer({ iss: 'web-app-issuer', exp: now() + 60 }, OTHER_RSA.privateKey) }, 401, { message: 'Invalid signature' }, 'Bearer error="invalid_token"'],
      ['unknown iss', { authorization: bearer({ iss: 'nobody', exp: now() + 60 }) }, 401, { message: "No credentials found for given 'iss'" }, 'Bearer error="invalid_token"'],
      ['HS256 with the public key', { authorization: bearer({ iss: 'web-app-issuer', exp: now() + 60 }, Buffer.from(RSA.publicPem) as never, 'HS256') }, 401, { message: 'Invalid algorithm' }, 'Bearer error="invalid_token"'],
      ['garbage', { authorization: 'Bearer not.a.jwt' }, 401, { message: 'Bad token; invalid JSON' }, 'Bearer error="invalid_token"'],
    ];
    const reached = up.requests.length;
    for (const [what, headers, status, body, www] of cases) {
      const r = await send(gw, '/api/v1/orders', { headers });
      assert.equal(r.status, status, `${what}: ${r.text}`);
      assert.deepEqual(r.json, body, what);
      assert.equal(r.headers['www-authenticate'], www, what);
      assert.match(String(r.headers['content-type']), /^application\/json/, what);
    }
    assert.equal(up.requests.length, reached, 'nothing refused reached the upstream');
  });

  test('acl: a consumer outside the allow list gets 403, one inside the deny list too', async () => {
    const r = await send(gw, '/api/v1/orders', { headers: { authorization: bearer({ iss: 'outsider-issuer', exp: now() + 60 }, OTHER_RSA.privateKey) } });
    assert.equal(r.status, 403, r.text);
    assert.deepEqual(r.json, { message: 'You cannot consume this service' });
    const troll = await send(gw, '/denylist', { headers: { apikey: 'troll-key' } });
    assert.equal(troll.status, 403);
    assert.deepEqual(troll.json, { message: 'You cannot consume this service' });
    const partner = await send(gw, '/denylist', { headers: { apikey: 'partner-key' } });
    assert.equal(partner.status, 200, partner.text);
    assert.equal(partner.json.headers!['x-consumer-groups'], undefined, 'hide_groups_header');
  });

  test('acl with several groups: any listed group denies or lets in; names compare exactly (Kong acl handler)', async () => {
    for (const key of ['troll-key', 'sleeper-key']) {
      const r = await send(gw, '/deny-several/x', { headers: { apikey: key } });
      assert.equal(r.status, 403, `${key}: ${r.text}`);
      assert.deepEqual(r.json, { message: 'You cannot consume this service' });
    }
    const partner = await send(gw, '/deny-several/x', { headers: { apikey: 'partner-key' } });
    assert.equal(partner.status, 200, partner.text);
    assert.equal(partner.json.headers!['x-consumer-groups'], 'partners');
    const patron = await send(gw, '/allow-several/x', { headers: { apikey: 'patron-key' } });
    assert.equal(patron.status, 200, patron.text);
    assert.deepEqual(String(patron.json.headers!['x-consumer-groups']).split(', ').sort(), ['Gold', 'silver'], 'every group of the consumer goes upstream');
    assert.equal((await send(gw, '/allow-several/x', { headers: { apikey: 'troll-key' } })).status, 403);
    assert.equal((await send(gw, '/allow-several/x', { headers: { apikey: 'partner-key' } })).status, 403, 'partners is not listed');
  });

  test('key-auth: the key in a header or in the query; missing, unknown and repeated keys refused', async () => {
    const header = await send(gw, '/keyed', { headers: { apikey: 'partner-key' } });
    assert.equal(header.status, 200, header.text);
    assert.equal(header.json.headers!['x-consumer-id'], '0e1f6a43-6f1c-4c53-9a43-2f1d3c4b5a60');
    assert.equal(header.json.headers!['x-credential-identifier'], 'kc-0');
    assert.equal(header.json.headers!['x-consumer-groups'], undefined, 'only acl sets X-Consumer-Groups');
    assert.equal(header.json.headers!.apikey, 'partner-key', 'not hidden by default');
    const query = await send(gw, '/keyed?apikey=partner-key-2&page=2');
    assert.equal(query.status, 200, query.text);
    assert.equal(query.json.headers!['x-credential-identifier'], 'kc-1');
    assert.equal(query.json.path, '/?apikey=partner-key-2&page=2');
    for (const [what, path, headers, message] of [
      ['none', '/keyed', {}, 'No API key found in request'],
      ['unknown', '/keyed', { apikey: 'nope' }, 'Unauthorized'],
      ['twice', '/keyed?apikey=partner-key&apikey=partner-key-2', {}, 'Duplicate API key found'],
    ] as const) {
      const r = await send(gw, path, { headers });
      assert.equal(r.status, 401, what);
      assert.deepEqual(r.json, { message }, what);
      assert.equal(r.headers['www-authenticate'], 'Key', what);
    }
  });

  test('hide_credentials strips the key from the header and the query string, and basic auth from Authorization', async () => {
    const h = await send(gw, '/hidden/a', { headers: { 'x-api-key': 'partner-key' } });
    assert.equal(h.status, 200, h.text);
    assert.equal(h.json.headers!['x-api-key'], undefined);
    assert.equal(h.json.headers!['x-consumer-username'], 'partner');
    const q = await send(gw, '/hidden/b?apikey=partner-key&keep=1');
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.path, '/b?keep=1');
    // Kong matches the decoded name: a percent-encoded key name authenticates, and is hidden too.
    const enc = await send(gw, '/hidden/c?z=1&api%6B%65%79=partner-key&a=2');
    assert.equal(enc.status, 200, enc.text);
    assert.equal(enc.json.headers!['x-consumer-username'], 'partner');
    assert.doesNotMatch(String(enc.json.path), /partner-key/, `the key never reaches the upstream: ${enc.json.path}`);
    assert.deepEqual(new URL(`http://x${enc.json.path}`).searchParams.getAll('apikey'), []);
    // Envoy writes the remaining arguments back sorted by name (Kong keeps their order): a difference docs/authz.md lists.
    assert.equal(enc.json.path, '/c?a=2&z=1');
    const b = await send(gw, '/basic', { headers: { authorization: basic('partner', 'open:sesame') } });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json.headers!.authorization, undefined);
    assert.equal(b.json.headers!['x-credential-identifier'], 'partner');
    const wrong = await send(gw, '/basic', { headers: { authorization: basic('partner', 'open') } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.json, { message: 'Unauthorized' });
    assert.equal(wrong.headers['www-authenticate'], 'Basic realm="service"');
  });

  test('acl without an auth plugin loads, as in Kong, and answers every request 401 Unauthorized', async () => {
    const r = await send(gw, '/acl-only/x', { headers: { 'x-api-key': 'partner-key' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { message: 'Unauthorized' });
  });

  test('key_in_body: the key read from a form body, which still reaches the upstream whole', async () => {
    const r = await send(gw, '/form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apikey=partner-key&item=7' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.body, 'apikey=partner-key&item=7');
    assert.equal(r.json.headers!['x-consumer-username'], 'partner');
    const json = await send(gw, '/form', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apikey: 'nope' }) });
    assert.equal(json.status, 401);
  });

  test('a route without auth plugins is not checked, and keeps what the client sent', async () => {
    const before = authz.running()!.server.stats().checks;
    const r = await send(gw, '/open', { headers: { 'x-consumer-id': 'client-said-so' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.headers!['x-consumer-id'], 'client-said-so', 'as Kong: no auth plugin, no identity handling');
    const missing = await send(gw, '/no/such/route');
    assert.equal(missing.status, 404);
    assert.equal(authz.running()!.server.stats().checks, before);
    await send(gw, '/keyed', { headers: { apikey: 'partner-key' } });
    assert.equal(authz.running()!.server.stats().checks, before + 1);
  });

  test('a key revoked by a YAML edit is refused within a second', async (t) => {
    assert.equal((await send(gw, '/keyed', { headers: { apikey: 'partner-key-2' } })).status, 200);
    const edited = Date.now();
    gw.write(config(up.url, ['partner-key']));
    await waitFor(async () => (await send(gw, '/keyed', { headers: { apikey: 'partner-key-2' } })).status === 401, 'the revoked key to be refused', 1000, 20);
    const ms = Date.now() - edited;
    assert.ok(ms < 1000, `refused after ${ms} ms`);
    t.diagnostic(`revoked key refused ${ms} ms after the edit`);
    assert.equal((await send(gw, '/keyed', { headers: { apikey: 'partner-key' } })).status, 200, 'the other key still works');
    await gw.converged();
  });

  test('authz stopped: Envoy fails closed with 503; back when it is', async () => {
    await authz.stop();
    const r = await waitFor(async () => { const x = await send(gw, '/keyed', { headers: { apikey: 'partner-key' } }); return x.status === 503 ? x : undefined; }, 'requests to be refused', 5000);
    assert.equal(r.json.headers, undefined, 'nothing reached the upstream');
    assert.equal((await send(gw, '/open')).status, 200, 'unprotected routes keep working');
    await authz.start();
    await waitFor(async () => (await send(gw, '/keyed', { headers: { apikey: 'partner-key' } })).status === 200, 'authz to answer again', 10_000);
  });
});

describe('authz fail-open setting', () => {
  let up: Upstream;
  let gw: Gateway;

  before(async () => {
    up = await startEchoUpstream('open');
    const az = await authzForTests(); // its port, with nothing listening there
    gw = await startGateway(config(up.url, ['partner-key']), { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port, timeoutMs: 500, failOpen: true } } });
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  test('with authz unreachable, requests pass marked, with client identity headers removed', async () => {
    const r = await send(gw, '/keyed', { headers: { 'x-consumer-id': 'forged', 'x-consumer-username': 'root', 'x-envoy-auth-failure-mode-allowed': 'false' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.headers!['x-envoy-auth-failure-mode-allowed'], 'true');
    assert.equal(r.json.headers!['x-consumer-id'], undefined);
    assert.equal(r.json.headers!['x-consumer-username'], undefined);
    const open = await send(gw, '/open', { headers: { 'x-consumer-id': 'client-said-so' } });
    assert.equal(open.json.headers!['x-consumer-id'], 'client-said-so');
  });
});
