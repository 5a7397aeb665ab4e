// Kong's route `snis`: HTTPS routes told apart by the TLS server name the client asked for
// (not the Host it sends), two of them on one listener with the same path; a route without
// snis takes the rest. A plain connection has no server name, so routes with snis never match
// there. The header that carries the name to the router is the listener's own: a client's
// copy is replaced, and it never reaches the upstream.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { selfSignedCert, yamlBlock } from '../support/certs.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;

describe('route snis', () => {
  let gw: Gateway;
  const upstreams: Record<string, Upstream> = {};
  let tlsPort: number;
  let plainPort: number;
  const alpha = selfSignedCert(['alpha.example.test']);
  const beta = selfSignedCert(['beta.example.test', '*.beta.example.test']);

  before(async () => {
    for (const name of ['alpha', 'beta', 'other']) upstreams[name] = await startEchoUpstream(name);
    [tlsPort, plainPort] = [await freePort(), await freePort()];
    gw = await startGateway(`
_format_version: "3.0"
certificates:
  - id: alpha
    snis: [alpha.example.test]
    cert: |
${yamlBlock(alpha.cert, 6)}
    key: |
${yamlBlock(alpha.key, 6)}
  - id: beta
    snis: [beta.example.test, "*.beta.example.test"]
    cert: |
${yamlBlock(beta.cert, 6)}
    key: |
${yamlBlock(beta.key, 6)}
listeners:
  - { name: tls, address: 127.0.0.1, port: ${tlsPort}, protocol: https }
  - { name: plain, address: 127.0.0.1, port: ${plainPort} }
services:
  - name: alpha
    url: ${upstreams.alpha!.url}
    routes: [{ name: alpha, paths: [/same], protocols: [https], snis: [alpha.example.test] }]
  - name: beta
    url: ${upstreams.beta!.url}
    routes: [{ name: beta, paths: [/same], protocols: [http, https], snis: [beta.example.test, "*.beta.example.test"] }]
  - name: other
    url: ${upstreams.other!.url}
    routes: [{ name: other, paths: [/same] }]
`);
  });
  after(async () => {
    await gw?.stop();
    for (const u of Object.values(upstreams)) await u.close();
  });

  const overTls = (servername: string, ca: string, headers: Record<string, string> = {}) => new Promise<{ status: number; echo: EchoReply }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: tlsPort, path: '/same', servername, ca, headers: { host: 'api.example.test', ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, echo: JSON.parse(body) as EchoReply }));
    });
    req.on('error', reject);
    req.end();
  });

  test('the server name picks the route, whatever Host the request carries', async () => {
    const a = await overTls('alpha.example.test', alpha.cert);
    assert.equal(a.status, 200);
    assert.equal(a.echo.upstream, 'alpha');
    const b = await overTls('beta.example.test', beta.cert);
    assert.equal(b.echo.upstream, 'beta');
    const wildcard = await overTls('eu.beta.example.test', beta.cert);
    assert.equal(wildcard.echo.upstream, 'beta', 'a wildcard SNI stands for one label');
  });

  test("the listener's header replaces a client's copy and never reaches the upstream", async () => {
    const a = await overTls('alpha.example.test', alpha.cert, { 'x-frontdesk-sni': 'beta.example.test' });
    assert.equal(a.echo.upstream, 'alpha');
    assert.equal(a.echo.headers['x-frontdesk-sni'], undefined);
  });

  test('a plain connection has no server name: routes with snis do not match, the route without takes it', async () => {
    const r = await new Promise<EchoReply>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: plainPort, path: '/same', headers: { host: 'beta.example.test', 'x-frontdesk-sni': 'beta.example.test' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body) as EchoReply));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r.upstream, 'other');
  });
});
