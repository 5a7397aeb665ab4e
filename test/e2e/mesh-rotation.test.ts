// The gateway's own client certificate and trust bundle from files a mesh agent rotates
// (certificates' cert_file / key_file, ca_certificates' cert_file): the control plane reads
// and watches them, and a rotation goes out as new SDS secrets while requests keep flowing:
// every request of the loop answered, the upstream sees the new certificate, and a new bundle
// lets the upstream move to a certificate from a new CA.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createCa, issue } from '../../src/runtime/certs.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const CLIENT_CERT_ID = '7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09';

/** Writes a file as an agent does: a new file renamed over the old, so no reader sees half of it. */
function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

describe('mesh certificates from rotated files', () => {
  let gw: Gateway;
  let upstream: Server;
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-mesh-'));
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), bundle: join(dir, 'bundle.pem') };
  const clientCa = createCa(2);
  const serverCa = createCa(2);
  // A mesh's new root has a name of its own (chains are built by issuer name).
  const nextServerCa = createCa(2, 'mesh root 2');
  const first = issue(clientCa, { role: 'companion', name: 'gateway-1' }, [], 2);
  const second = issue(clientCa, { role: 'companion', name: 'gateway-2' }, [], 2);
  const serverPem = issue(serverCa, { role: 'companion', name: 'upstream' }, ['localhost'], 2);
  const nextServerPem = issue(nextServerCa, { role: 'companion', name: 'upstream-2' }, ['localhost'], 2);

  before(async () => {
    writeAtomic(files.key, first.key);
    writeAtomic(files.cert, first.cert);
    writeAtomic(files.bundle, serverCa.cert);
    // Every answer closes its connection, so each request makes a new handshake with the gateway's current certificate.
    upstream = createServer({ cert: serverPem.cert, key: serverPem.key, ca: clientCa.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const socket = req.socket as TLSSocket;
      const own = socket.getCertificate() as PeerCertificate | null;
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ client: socket.getPeerCertificate().subject?.CN ?? null, server: own?.subject?.CN ?? null }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    gw = await startGateway(`
_format_version: "3.0"
certificates:
  - id: ${CLIENT_CERT_ID}
    cert_file: ${files.cert}
    key_file: ${files.key}
ca_certificates:
  - id: mesh-bundle
    cert_file: ${files.bundle}
services:
  - name: meshed
    url: https://localhost:${port}
    client_certificate: { id: ${CLIENT_CERT_ID} }
    tls_verify: true
    ca_certificates: [mesh-bundle]
    mesh: { identities: ["spiffe://frontdesk/companion/upstream", "spiffe://frontdesk/companion/upstream-2"] }
    routes: [{ name: meshed, paths: [/] }]
`);
  });
  after(async () => {
    await gw?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const get = () => new Promise<{ status: number; client?: string; server?: string }>((resolve) => {
    const req = request(`${gw.proxy}/`, { agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: { client?: string; server?: string } = {};
        try { body = JSON.parse(text) as typeof body; } catch { /* not JSON: counted by its status */ }
        resolve({ status: res.statusCode ?? 0, ...body });
      });
    });
    req.on('error', () => resolve({ status: 0 }));
    req.end();
  });

  test('a rotation of the client certificate and of the trust bundle under a request loop: no request fails', async () => {
    const failures: string[] = [];
    const seen = new Set<string>();
    let sent = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        const r = await get();
        sent++;
        if (r.status !== 200) failures.push(`request ${sent}: ${r.status}`);
        if (r.client) seen.add(r.client);
        if (r.server) seen.add(r.server);
      }
    })();
    try {
      await waitFor(() => seen.has('frontdesk/companion/gateway-1'), 'the first certificate to be served', 10_000);
      // The agent writes the key, then the certificate: between the two the pair does not match
      // and the config is refused, the last good one serving.
      writeAtomic(files.key, second.key);
      writeAtomic(files.cert, second.cert);
      await waitFor(() => seen.has('frontdesk/companion/gateway-2'), 'the upstream to see the rotated certificate', 15_000);
      // A new root joins the bundle before the upstream moves to a certificate it signed.
      const before = gw.cp.ads.snapshot?.version;
      writeAtomic(files.bundle, `${serverCa.cert}${nextServerCa.cert}`);
      await waitFor(() => gw.cp.ads.snapshot?.version !== before, 'the new bundle to be compiled', 15_000);
      await gw.converged();
      upstream.setSecureContext({ cert: nextServerPem.cert, key: nextServerPem.key, ca: clientCa.cert });
      await waitFor(() => seen.has('frontdesk/companion/upstream-2'), 'answers over the upstream\'s new certificate', 15_000);
      const after = sent;
      await waitFor(() => sent > after + 20, 'more requests after the move', 15_000);
    } finally {
      stop = true;
      await loop;
    }
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed`);
    assert.ok(sent > 20, `${sent} requests sent`);
  });
});
