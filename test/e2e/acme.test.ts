// Kong's acme plugin through a real Envoy and a real ACME CA (Pebble, Let's Encrypt's test
// server): the control plane orders a certificate, Pebble's validation authority fetches the
// http-01 challenge from Envoy's plain-HTTP listener (its DNS answers 127.0.0.1 for every name),
// and Envoy then serves the issued certificate for that name on its https listener. Expected
// behaviour is Kong's (kong/plugins/acme/handler.lua, client.lua): the challenge answered on
// http before any auth plugin, a configured certificate winning over ACME's, the certificate kept
// in the storage under Kong's keys (`kong_acme:cert_key:<host>` holding `{cert, key}`).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { selfSignedCert, yamlBlock } from '../support/certs.js';
import { launchChromium } from '../support/chromium.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startAcmeTestBed, type AcmeTestBed } from '../support/pebble.js';
import { freePort } from '../support/ports.js';
import { runAsync } from '../support/spawn.js';
import { awaitTrusted, handshake } from '../support/tls-peer.js';
import { waitFor } from '../support/wait.js';
import { startEchoUpstream } from '../support/upstream.js';

const fallback = selfSignedCert(['fallback.test']);
const own = selfSignedCert(['own.acme.test']);

function gatewayYaml(plainPort: number, tlsPort: number, directoryUrl: string, redisPort: number, upstream: string): string {
  return `_format_version: "3.0"
certificates:
  - id: fallback
    cert: |
${yamlBlock(fallback.cert, 6)}
    key: |
${yamlBlock(fallback.key, 6)}
  - cert: |
${yamlBlock(own.cert, 6)}
    key: |
${yamlBlock(own.key, 6)}
    snis: [own.acme.test]
listeners:
  - { name: plain, address: 127.0.0.1, port: ${plainPort} }
  - { name: tls, address: 127.0.0.1, port: ${tlsPort}, protocol: https }
services:
  - name: app
    url: ${upstream}
    routes:
      - { name: site, paths: [/], hosts: [a.acme.test, own.acme.test, b.other.test] }
plugins:
  - name: key-auth
  - name: acme
    config:
      account_email: ops@acme.test
      api_uri: ${directoryUrl}
      domains: ["*.acme.test"]
      cert_type: ecc
      storage: redis
      storage_config:
        redis: { host: 127.0.0.1, port: ${redisPort}, extra_options: { namespace: "edge:" } }
`;
}

function plainGet(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

describe('acme: certificates from an ACME CA, challenges answered by Envoy', () => {
  let bed: AcmeTestBed;
  let gw: Gateway;
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let plainPort: number;
  let tlsPort: number;
  let roots: string[];

  before(async () => {
    [plainPort, tlsPort] = [await freePort(), await freePort()];
    bed = await startAcmeTestBed(plainPort);
    roots = bed.roots;
    upstream = await startEchoUpstream('acme');
    gw = await startGateway(gatewayYaml(plainPort, tlsPort, bed.pebble.directoryUrl, bed.redis.port, upstream.url), { acmeCa: [bed.pebble.ca] });
  });
  after(async () => {
    await gw?.stop();
    await bed?.stop();
    await upstream?.close();
  });

  test('the certificate is ordered over http-01 through Envoy, and Envoy serves it for its name', async () => {
    const served = await awaitTrusted(tlsPort, 'a.acme.test', roots, 'Envoy to serve a certificate from the ACME CA for a.acme.test', 60_000);
    assert.match(served.leaf.subjectaltname ?? '', /DNS:a\.acme\.test/);
    assert.ok(served.chain >= 2, 'the leaf and its issuer are served');
    // Until then, and for names the plugin does not take, the configured default is served.
    const other = await handshake(tlsPort, 'b.other.test', roots);
    assert.equal(other.authorized, false);
    assert.equal(other.leaf.fingerprint256, new X509Certificate(fallback.cert).fingerprint256);
  });

  test('a name a configured certificate serves keeps it (Kong\'s certificate phase yields to it)', async () => {
    const h = await handshake(tlsPort, 'own.acme.test', roots);
    assert.equal(h.leaf.fingerprint256, new X509Certificate(own.cert).fingerprint256);
    assert.equal(gw.cp.status() && (gw.cp.status() as { acme: { domains: { domain: string }[] } }).acme.domains.some((d) => d.domain === 'own.acme.test'), false);
  });

  test('the challenge path is answered on http for the names the plugin takes, before any auth plugin', async () => {
    const unknown = await plainGet(plainPort, 'a.acme.test', '/.well-known/acme-challenge/not-a-token-being-validated');
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.body), { message: 'Not found' });
    // A host the plugin does not take goes to its route, where the global key-auth answers.
    const elsewhere = await plainGet(plainPort, 'b.other.test', '/.well-known/acme-challenge/not-a-token-being-validated');
    assert.equal(elsewhere.status, 401);
    const site = await plainGet(plainPort, 'a.acme.test', '/');
    assert.equal(site.status, 401);
  });

  test('/status shows the name, its expiry and no error', () => {
    const status = gw.cp.status() as { acme: { directory: string; storage: string; domains: { domain: string; notAfter?: string; lastError?: string }[] } };
    assert.equal(status.acme.directory, bed.pebble.directoryUrl);
    assert.equal(status.acme.storage, 'redis');
    const [d, ...more] = status.acme.domains;
    assert.equal(more.length, 0);
    assert.equal(d!.domain, 'a.acme.test');
    assert.ok(Date.parse(d!.notAfter!) > Date.now());
    assert.equal(d!.lastError, undefined);
  });

  test('the dashboard at /ui lists the names and their certificates (a real Chromium)', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.open(`${gw.admin}/ui`);
      const text = (sel: string) => page.evaluate<string>(`document.querySelector(${JSON.stringify(sel)})?.innerText ?? ''`);
      const rows = await waitFor(async () => { const t = await text('#acme tbody'); return t.includes('a.acme.test') ? t : undefined; }, 'the certificates card to fill');
      const notAfter = (gw.cp.status() as { acme: { domains: { notAfter: string }[] } }).acme.domains[0]!.notAfter;
      assert.match(rows, new RegExp(`a\\.acme\\.test\\s+valid until ${notAfter}`));
      assert.match(await text('#acme-source'), /redis storage/);
    } finally {
      await browser.close();
    }
  });

  test('/metrics: each certificate\'s expiry, and the orders by result', async () => {
    const text = await (await fetch(`${gw.admin}/metrics`)).text();
    const notAfter = Date.parse((gw.cp.status() as { acme: { domains: { notAfter: string }[] } }).acme.domains[0]!.notAfter);
    assert.match(text, new RegExp(`^frontdesk_acme_certificate_expiry_timestamp_seconds\\{domain="a\\.acme\\.test"\\} ${notAfter / 1000}$`, 'm'));
    assert.match(text, /^frontdesk_acme_orders_total\{result="issued"\} 1$/m);
    assert.doesNotMatch(text, /frontdesk_acme_orders_total\{result="failed"\}/);
  });

  test('Kong\'s Admin API describes the certificates the storage holds (GET /acme/certificates)', async () => {
    const served = await handshake(tlsPort, 'a.acme.test', roots);
    const list = await fetch(`${gw.admin}/acme/certificates`);
    assert.equal(list.status, 200);
    const { data } = await list.json() as { data: Record<string, unknown>[] };
    assert.deepEqual(data, [{
      // Kong's parse_certkey: the SHA-1 digest and the serial as colon-separated hex, dates as
      // os.date's (UTC here); the host from the subject CN, which Pebble leaves out: the SAN's.
      digest: served.leaf.fingerprint,
      host: 'a.acme.test',
      issuer_cn: served.leaf.issuer.CN,
      not_before: new Date(served.leaf.valid_from).toISOString().replace('T', ' ').slice(0, 19),
      not_after: new Date(served.leaf.valid_to).toISOString().replace('T', ' ').slice(0, 19),
      valid: true,
      serial_number: served.leaf.serialNumber.match(/../g)!.join(':'),
      pubkey_type: 'id-ecPublicKey',
    }]);
    const one = await fetch(`${gw.admin}/acme/certificates/a.acme.test`);
    assert.deepEqual((await one.json() as { data: unknown }).data, data[0]);
    assert.equal((await fetch(`${gw.admin}/acme/certificates/none.acme.test`)).status, 404);
  });

  test('POST /acme orders a certificate now for a name the plugin takes, and Envoy serves it; PATCH /acme runs the renewal check', async () => {
    const post = (body: string) => fetch(`${gw.admin}/acme`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const created = await post('host=c.acme.test');
    assert.deepEqual([created.status, await created.json()], [201, { message: 'certificate for host c.acme.test is created' }]);
    const h = await awaitTrusted(tlsPort, 'c.acme.test', roots, 'Envoy to serve the certificate POST /acme ordered', 20_000);
    assert.match(h.leaf.subjectaltname ?? '', /DNS:c\.acme\.test/);
    // Kong's answers for what it refuses.
    const noHost = await post('');
    assert.deepEqual([noHost.status, await noHost.json()], [400, { message: 'host must be provided and containing a single domain' }]);
    const withPort = await post('host=c.acme.test:8443');
    assert.deepEqual([withPort.status, await withPort.json()], [400, { message: 'port is not allowed in host' }]);
    const sanity = await post('host=b.other.test&test_http_challenge_flow=true');
    assert.deepEqual([sanity.status, await sanity.json()], [400, { message: 'problem found running sanity check for b.other.test: host is not included in plugin config.domains' }]);
    const renew = await fetch(`${gw.admin}/acme`, { method: 'PATCH' });
    assert.deepEqual([renew.status, await renew.json()], [202, { message: 'Renewal process started successfully' }]);
  });

  test('`frontdesk status` lists each name with its certificate\'s expiry', async () => {
    const r = await runAsync(process.execPath, ['--import', 'tsx', 'test/support/cli-entry.ts', 'status', '--control-plane', gw.admin]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Certificates \\(acme: ${bed.pebble.directoryUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, redis storage\\)`));
    const expiry = (gw.cp.status() as { acme: { domains: { domain: string; notAfter: string }[] } }).acme.domains;
    for (const d of expiry) assert.match(r.stdout, new RegExp(`  ${d.domain.replace(/\./g, '\\.')}  valid until ${d.notAfter}`));
    assert.deepEqual(expiry.map((d) => d.domain), ['a.acme.test', 'c.acme.test']);
  });

  test('kept in Redis under Kong\'s key: another control plane serves it with the CA gone', async () => {
    const stored = JSON.parse(await bed.redis.command('GET', 'edge:kong_acme:cert_key:a.acme.test')) as { cert: string; key: string };
    const servedNow = await handshake(tlsPort, 'a.acme.test', roots);
    assert.equal(new X509Certificate(stored.cert).fingerprint256, servedNow.leaf.fingerprint256);
    await bed.pebble.stop();
    const [plain2, tls2] = [await freePort(), await freePort()];
    const gw2 = await startGateway(gatewayYaml(plain2, tls2, bed.pebble.directoryUrl, bed.redis.port, upstream.url), { acmeCa: [bed.pebble.ca] });
    try {
      const h = await awaitTrusted(tls2, 'a.acme.test', roots, 'the second gateway to serve the stored certificate', 20_000);
      assert.equal(h.leaf.fingerprint256, servedNow.leaf.fingerprint256);
    } finally {
      await gw2.stop();
    }
  });
});
