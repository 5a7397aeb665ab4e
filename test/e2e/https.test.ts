// TLS termination: an https listener serving certificates over SDS, chosen by SNI, with
// HTTP/2 by ALPN; routes limited to https answer 426 on the plain listener.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { selfSignedCert, yamlBlock } from '../support/certs.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';

describe('https listeners', () => {
  let gw: Gateway;
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let tlsPort: number;
  let plainPort: number;
  const api = selfSignedCert(['api.example.test']);
  const shop = selfSignedCert(['shop.example.test']);

  before(async () => {
    upstream = await startEchoUpstream('tls');
    [tlsPort, plainPort] = [await freePort(), await freePort()];
    gw = await startGateway(`
_format_version: "3.0"
certificates:
  - id: api
    snis: [api.example.test]
    cert: |
${yamlBlock(api.cert, 6)}
    key: |
${yamlBlock(api.key, 6)}
  - id: shop
    snis: [shop.example.test]
    cert: |
${yamlBlock(shop.cert, 6)}
    key: |
${yamlBlock(shop.key, 6)}
listeners:
  - { name: tls, address: 127.0.0.1, port: ${tlsPort}, protocol: https }
  - { name: plain, address: 127.0.0.1, port: ${plainPort} }
services:
  - name: app
    url: ${upstream.url}
    routes:
      - { name: secure, paths: [/secure], protocols: [https] }
      - { name: moved, paths: [/moved], protocols: [https], https_redirect_status_code: 301 }
`);
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  const get = (servername: string, ca: string, path: string) => new Promise<{ status: number; body: string; subject: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: tlsPort, path, servername, ca, headers: { host: servername } }, (res) => {
      let body = '';
      const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, subject: String(cert.subject?.CN) }));
    });
    req.on('error', reject);
    req.end();
  });

  test('the certificate is chosen by SNI and the request is proxied', async () => {
    const r = await get('api.example.test', api.cert, '/secure/x');
    assert.equal(r.status, 200);
    assert.equal(r.subject, 'api.example.test');
    assert.equal((JSON.parse(r.body) as { upstream: string }).upstream, 'tls');
    const s = await get('shop.example.test', shop.cert, '/secure/y');
    assert.equal(s.subject, 'shop.example.test');
  });

  test('HTTP/2 is negotiated by ALPN', async () => {
    const session = connect(`https://127.0.0.1:${tlsPort}`, { servername: 'api.example.test', ca: api.cert });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/secure/h2', ':authority': 'api.example.test' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
      assert.equal(session.alpnProtocol, 'h2');
    } finally {
      session.close();
    }
  });

  // Kong builds the Location as "https://" .. $host .. request_uri (kong/runloop/handler.lua):
  // nginx's $host has no port, so Kong redirects to the default https port whatever port the
  // plain request came in on.
  const redirectOf = (host: string, path: string) => new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: plainPort, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });

  test("https_redirect_status_code 301 redirects to Kong's https://<host><request uri>, no port", async () => {
    assert.deepEqual(await redirectOf('api.example.test', '/moved/x?q=1'), { status: 301, location: 'https://api.example.test/moved/x?q=1' });
    assert.deepEqual(await redirectOf('api.example.test:80', '/moved'), { status: 301, location: 'https://api.example.test/moved' });
  });

  test('a Host with another port is redirected to the default https port too (Envoy spells it :443)', async () => {
    const r = await redirectOf(`127.0.0.1:${plainPort}`, '/moved/x?q=1');
    assert.equal(r.status, 301);
    assert.equal(r.location, 'https://127.0.0.1:443/moved/x?q=1', 'never back to the plain port');
  });

  test('an https-only route answers Kong\'s 426 on the plain listener', async () => {
    const res = await fetch(`http://127.0.0.1:${plainPort}/secure/x`);
    assert.equal(res.status, 426);
    assert.deepEqual(await res.json(), { message: 'Please use HTTPS protocol' });
  });
});
