// hmac-auth through a real Envoy: Envoy asks the authz companion (ext_authz) with every request
// header (the signature covers headers the client names) and, where validate_request_body is
// on, the body. Signatures are made here from Kong's documented signing string with
// node:crypto; the answers expected are Kong's (kong/plugins/hmac-auth/access.lua).
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { h2Request, proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream } from '../support/upstream.js';

const SECRET = 'hmac-e2e-secret';
const config = (upstream: string) => `_format_version: "3.0"
consumers:
  - username: alice
    custom_id: alice-1
    hmacauth_credentials: [{ username: alice-hmac, secret: ${SECRET} }]
  - username: guest
services:
  - name: svc
    url: ${upstream}
    routes:
      - name: signed
        paths: [/signed]
        plugins: [{ name: hmac-auth, config: { realm: signed-api, enforce_headers: [date, request-line] } }]
      - name: body
        paths: [/body]
        plugins: [{ name: hmac-auth, config: { validate_request_body: true, hide_credentials: true } }]
      - name: members
        paths: [/members]
        plugins:
          - { name: hmac-auth, config: { anonymous: guest } }
          - { name: acl, config: { deny: [blocked] } }
`;

const sign = (text: string, alg = 'sha256') => createHmac(alg, SECRET).update(text).digest('base64');
const authorization = (headers: string, signature: string, algorithm = 'hmac-sha256') =>
  `hmac username="alice-hmac", algorithm="${algorithm}", headers="${headers}", signature="${signature}"`;
const now = () => new Date().toUTCString();

describe('hmac-auth through Envoy and the authz companion', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  before(async () => {
    upstream = await startEchoUpstream('hmac');
    gw = await startGatewayWithAuthz(config(upstream.url));
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  test('HTTP/1.1: a date and request-line signature passes as the consumer; the headers Kong sets reach the upstream', async () => {
    const date = now();
    const sig = sign(`date: ${date}\nGET /signed/orders?page=2 HTTP/1.1`);
    const r = await proxyRequest(gw, { path: '/signed/orders?page=2', headers: { date, authorization: authorization('date request-line', sig), 'x-consumer-username': 'forged' } });
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    assert.equal(seen.headers['x-consumer-custom-id'], 'alice-1');
    assert.equal(seen.headers['x-credential-identifier'], 'alice-hmac');
    assert.equal(seen.headers.authorization, authorization('date request-line', sig), 'the credentials go upstream without hide_credentials');
  });

  test('HTTP/2: the request line says HTTP/2.0, as Kong writes it', async () => {
    const session = connect(`http://127.0.0.1:${gw.proxyPort}`);
    try {
      const date = now();
      const sig = sign(`date: ${date}\nGET /signed/h2 HTTP/2.0`);
      const ask = (auth: string) => h2Request(session, { ':path': '/signed/h2', date, authorization: auth });
      assert.equal((await ask(authorization('date request-line', sig))).status, 200);
      const h1Signed = sign(`date: ${date}\nGET /signed/h2 HTTP/1.1`);
      const wrong = await ask(authorization('date request-line', h1Signed));
      assert.equal(wrong.status, 401);
      assert.deepEqual(JSON.parse(wrong.body), { message: 'HMAC signature does not match' });
    } finally {
      session.close();
    }
  });

  test('Kong\'s refusals: no credentials, no date, an enforced header left out, a wrong signature; each with the challenge', async () => {
    const date = now();
    const cases: Array<[Record<string, string>, string]> = [
      [{ date }, 'Unauthorized'],
      [{ authorization: authorization('date request-line', sign('x')) }, 'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication'],
      [{ date, authorization: authorization('date', sign(`date: ${date}`)) }, 'HMAC signature cannot be verified'],
      [{ date, authorization: authorization('date request-line', sign(`date: ${date}\nGET /signed/other HTTP/1.1`)) }, 'HMAC signature does not match'],
      [{ date, authorization: authorization('date request-line', sign(`date: ${date}\nGET /signed HTTP/1.1`, 'sha1'), 'hmac-sha1') }, 'HMAC signature cannot be verified'],
    ];
    for (const [headers, message] of cases) {
      const r = await proxyRequest(gw, { path: '/signed', headers });
      assert.equal(r.status, 401, JSON.stringify(headers));
      assert.deepEqual(JSON.parse(r.text), { message });
      assert.equal(r.headers['www-authenticate'], 'hmac realm="signed-api"');
    }
    assert.equal(upstream.requests.filter((q) => q.path.startsWith('/other')).length, 0);
  });

  test('validate_request_body: the Digest of the body Envoy sent is checked; hide_credentials keeps Authorization from the upstream', async () => {
    const date = now();
    const body = JSON.stringify({ order: 42, note: 'café' });
    const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
    const auth = authorization('date digest', sign(`date: ${date}\ndigest: ${digest}`));
    const ok = await proxyRequest(gw, { method: 'POST', path: '/body', headers: { date, digest, authorization: auth, 'content-type': 'application/json' }, body });
    assert.equal(ok.status, 200, ok.text);
    const seen = JSON.parse(ok.text) as { headers: Record<string, string>; body: string };
    assert.equal(seen.body, body);
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers['x-consumer-username'], 'alice');
    const tampered = await proxyRequest(gw, { method: 'POST', path: '/body', headers: { date, digest, authorization: auth, 'content-type': 'application/json' }, body: body.replace('42', '43') });
    assert.equal(tampered.status, 401);
    assert.deepEqual(JSON.parse(tampered.text), { message: 'HMAC signature does not match' });
    assert.equal(tampered.headers['www-authenticate'], 'hmac');
  });

  test('anonymous: a bad signature runs as the anonymous consumer, and acl sees it', async () => {
    const r = await proxyRequest(gw, { path: '/members', headers: { date: now(), authorization: authorization('date', 'AAAA') } });
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-consumer-username'], 'guest');
    assert.equal(seen.headers['x-anonymous-consumer'], 'true');
  });

  test('the secret reaches Envoy nowhere: ext_authz sends every header, no credential is in the config dump', async () => {
    const dump = await (await fetch(`${gw.envoy.adminUrl}/config_dump`)).text();
    assert.ok(dump.includes('envoy.filters.http.ext_authz'));
    assert.ok(!dump.includes(SECRET), 'the hmac secret goes to the authz companion only');
  });

  test('a header sent twice is signed by its first value, as Kong reads it (Envoy sends authz the lines apart)', async () => {
    const date = now();
    const sig = sign(`date: ${date}\nx-tenant: blue`);
    const status = await new Promise<{ code: number; user: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gw.proxyPort, path: '/members', headers: { date, authorization: authorization('date x-tenant', sig), 'x-tenant': ['blue', 'green'] } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, user: (JSON.parse(text) as { headers: Record<string, string> }).headers['x-consumer-username'] ?? '' }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status.code, 200);
    assert.equal(status.user, 'alice', 'the signature over the first value verified (the anonymous consumer otherwise)');
  });
});
