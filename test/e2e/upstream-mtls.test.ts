// Upstream TLS the Kong way: a service's client_certificate is presented to an upstream that
// requires one (served over SDS), tls_verify checks the upstream's chain against the service's
// ca_certificates to tls_verify_depth; a refused handshake is Kong's 502 JSON. The mesh extension:
// the upstream's SPIFFE ID (its certificate's URI SAN) checked instead of its name, and the ALPN
// a mesh's sidecars match on.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createCa, issue } from '../../src/runtime/certs.js';
import { yamlBlock } from '../support/certs.js';
import { startGateway, type Gateway } from '../support/gateway.js';

const KONG_502 = { message: 'An invalid response was received from the upstream server' };
const CLIENT_CERT_ID = '0b6f3f8e-5a2c-4c1e-9d7a-3f0e2b1c4d5e';

describe('upstream mutual TLS', () => {
  let gw: Gateway;
  let upstream: Server;
  const serverCa = createCa(2);
  const clientCa = createCa(2);
  const otherCa = createCa(2);
  const serverPem = issue(serverCa, { role: 'companion', name: 'upstream' }, ['localhost', 'app.example.test'], 2);
  const clientPem = issue(clientCa, { role: 'companion', name: 'gateway' }, [], 2);

  before(async () => {
    // The upstream requires a certificate signed by its own client CA and says whose it saw.
    // Its certificate names it spiffe://frontdesk/companion/upstream (URI SAN) and localhost, app.example.test (DNS SANs).
    upstream = createServer({ cert: serverPem.cert, key: serverPem.key, ca: clientCa.cert, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['istio-http/1.1', 'http/1.1'] }, (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ client: peer.subject?.CN ?? null, sni: socket.servername ?? null, ...(socket.alpnProtocol ? { alpn: socket.alpnProtocol } : {}) }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    const url = `https://localhost:${port}`;
    gw = await startGateway(`
_format_version: "3.0"
certificates:
  - id: ${CLIENT_CERT_ID}
    cert: |
${yamlBlock(clientPem.cert, 6)}
    key: |
${yamlBlock(clientPem.key, 6)}
ca_certificates:
  - id: upstream-ca
    cert: |
${yamlBlock(serverCa.cert, 6)}
  - id: other-ca
    cert: |
${yamlBlock(otherCa.cert, 6)}
services:
  - name: with-cert
    url: ${url}
    client_certificate: { id: ${CLIENT_CERT_ID} }
    tls_verify: true
    tls_verify_depth: 1
    ca_certificates: [upstream-ca]
    routes:
      - { name: with-cert, paths: [/with-cert] }
      - { name: preserved, paths: [/preserved], preserve_host: true }
  - name: without-cert
    url: ${url}
    tls_verify: true
    ca_certificates: [upstream-ca]
    routes: [{ name: without-cert, paths: [/without-cert] }]
  - name: mesh
    url: ${url}
    client_certificate: { id: ${CLIENT_CERT_ID} }
    tls_verify: true
    ca_certificates: [upstream-ca]
    mesh: { identities: ["spiffe://frontdesk/companion/upstream"], alpn: [istio-http/1.1] }
    routes: [{ name: mesh, paths: [/mesh], preserve_host: true }]
  - name: mesh-other
    url: ${url}
    client_certificate: { id: ${CLIENT_CERT_ID} }
    tls_verify: true
    ca_certificates: [upstream-ca]
    mesh: { identities: ["spiffe://frontdesk/companion/orders"] }
    routes: [{ name: mesh-other, paths: [/mesh-other] }]
  - name: wrong-ca
    url: ${url}
    client_certificate: { id: ${CLIENT_CERT_ID} }
    tls_verify: true
    ca_certificates: [other-ca]
    routes: [{ name: wrong-ca, paths: [/wrong-ca] }]
`);
  });
  after(async () => {
    await gw?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  const get = (path: string, host?: string) => new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${gw.proxy}${path}`, { headers: host ? { host } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });

  test('with client_certificate the upstream sees the gateway certificate; the SNI is the service host', async () => {
    const r = await get('/with-cert');
    assert.equal(r.status, 200);
    // Envoy offers http/1.1 by ALPN to an HTTP/1.1 upstream unless the mesh extension names another.
    assert.deepEqual(r.body, { client: 'frontdesk/companion/gateway', sni: 'localhost', alpn: 'http/1.1' });
  });

  test('with preserve_host the SNI is the client Host, as Kong sends its upstream Host as SNI', async () => {
    const r = await get('/preserved', 'app.example.test');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { client: 'frontdesk/companion/gateway', sni: 'app.example.test', alpn: 'http/1.1' });
  });

  test('with preserve_host and a client Host the upstream certificate does not name, tls_verify refuses: Kong\'s 502 JSON', async () => {
    const r = await get('/preserved', 'elsewhere.example.test');
    assert.equal(r.status, 502);
    assert.deepEqual(r.body, KONG_502);
  });

  test('without client_certificate the upstream refuses the handshake: Kong\'s 502 JSON', async () => {
    const r = await get('/without-cert');
    assert.equal(r.status, 502);
    assert.deepEqual(r.body, KONG_502);
  });

  test('tls_verify against a CA that did not sign the upstream certificate: Kong\'s 502 JSON', async () => {
    const r = await get('/wrong-ca');
    assert.equal(r.status, 502);
    assert.deepEqual(r.body, KONG_502);
  });

  test('mesh identities: the upstream proving the SPIFFE ID named is served, whatever Host is sent; the ALPN named is offered', async () => {
    const r = await get('/mesh', 'elsewhere.example.test');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { client: 'frontdesk/companion/gateway', sni: 'elsewhere.example.test', alpn: 'istio-http/1.1' });
  });

  test('mesh identities: an upstream whose certificate carries another SPIFFE ID is refused: Kong\'s 502 JSON', async () => {
    const r = await get('/mesh-other');
    assert.equal(r.status, 502);
    assert.deepEqual(r.body, KONG_502);
  });
});
