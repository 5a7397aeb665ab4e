/**
 * What the acme plugin adds to an ACME order: the same orders (Pebble, Let's Encrypt's test CA,
 * no validation sleeps) made by the ACME client alone, its http-01 answers from a plain Node
 * server (the baseline), and through the gateway (POST /acme, the challenge pushed to Envoy as
 * a route, the CA told to check once Envoy holds it, the certificate pushed over SDS and
 * served), timed until Envoy presents the new certificate.
 *
 *   node --import tsx bench/acme/run.ts [--names 8]
 *
 * Needs Envoy, redis-server and Go (Pebble is built with `go install`, as the tests do).
 * Prints a JSON line and a readable line per mode.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AcmeClient, generateAccountKey } from '../../src/acme/client.js';
import { startDnsStub } from '../../test/support/dns-stub.js';
import { startGateway } from '../../test/support/gateway.js';
import { startPebble } from '../../test/support/pebble.js';
import { freePort } from '../../test/support/ports.js';
import { awaitTrusted } from '../../test/support/tls-peer.js';
import { findEnvoy } from '../../src/runtime/envoy.js';
import { figureEmitter, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { formatSummary, machine, rounded, summarize, wallMs } from '../support/stats.js';

const run = runInfo();
printRunHeader('acme', run);
const emit = figureEmitter('acme', run, machine(findEnvoy()));
const names = numberFlag('names', 8);

const dns = await startDnsStub();

// Baseline: the client alone, its challenges answered by a plain server.
const served = new Map<string, string>();
const plain = createServer((req, res) => {
  const token = /^\/\.well-known\/acme-challenge\/(.+)$/.exec(req.url ?? '')?.[1];
  const ka = token && served.get(token);
  if (!ka) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(ka);
});
await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
const direct = await startPebble({ httpPort: (plain.address() as AddressInfo).port, dnsServer: dns.address });
const client = new AcmeClient({ directoryUrl: direct.directoryUrl, accountKey: generateAccountKey(), ca: [direct.ca] });
await client.account({ email: 'bench@acme.test', termsAgreed: true });
const alone: number[] = [];
for (let i = 0; i < names; i++) {
  const t = wallMs();
  await client.order([`direct-${i}.acme.test`], { present: async (tok, ka) => { served.set(tok, ka); }, remove: async (tok) => { served.delete(tok); } }, { certType: 'ecc', rsaKeySize: 2048 });
  alone.push(wallMs() - t);
}

// Through the gateway: POST /acme, then Envoy serving the certificate.
const [plainPort, tlsPort] = [await freePort(), await freePort()];
const pebble = await startPebble({ httpPort: plainPort, dnsServer: dns.address });
const roots = await pebble.roots();
const gw = await startGateway(`_format_version: "3.0"
listeners:
  - { name: plain, address: 127.0.0.1, port: ${plainPort} }
  - { name: tls, address: 127.0.0.1, port: ${tlsPort}, protocol: https }
services:
  - { name: app, url: "http://127.0.0.1:9", connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000, routes: [{ name: r, paths: [/] }] }
plugins:
  - name: acme
    config: { account_email: bench@acme.test, api_uri: "${pebble.directoryUrl}", domains: ["*.acme.test"], cert_type: ecc }
`, { acmeCa: [pebble.ca] });
const created: number[] = [];
const servedAt: number[] = [];
const reloadsBefore = gw.cp.reloadCount;
for (let i = 0; i < names; i++) {
  const host = `gw-${i}.acme.test`;
  const t = wallMs();
  const res = await fetch(`${gw.admin}/acme`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host }) });
  if (res.status !== 201) throw new Error(`POST /acme ${host}: ${res.status} ${await res.text()}`);
  created.push(wallMs() - t);
  await awaitTrusted(tlsPort, host, roots, `Envoy to serve ${host}`, 30_000, 5); // a handshake every 5 ms
  servedAt.push(wallMs() - t);
}
const builds = (gw.cp.reloadCount - reloadsBefore) / names;

const a = summarize(alone);
const c = summarize(created);
const s = summarize(servedAt);
emit({ scenario: 'client alone (baseline)', orders: names, ms: rounded(a) }, `acme · client alone, challenges from a plain server (baseline): ${formatSummary(a)} per order (${names} orders)`);
emit({ scenario: 'through the gateway: POST /acme', orders: names, ms: rounded(c), ratio_p50_to_baseline: Math.round((c.p50 / a.p50) * 100) / 100, builds_per_order: builds },
  `acme · through the gateway, POST /acme answered: ${formatSummary(c)} per order (${(c.p50 / a.p50).toFixed(2)}× the baseline's p50; ${builds.toFixed(1)} config builds and pushes per order)`);
emit({ scenario: 'through the gateway: served by Envoy', orders: names, ms: rounded(s), ratio_p50_to_baseline: Math.round((s.p50 / a.p50) * 100) / 100 },
  `acme · through the gateway, until Envoy serves the certificate: ${formatSummary(s)} (${(s.p50 / a.p50).toFixed(2)}× the baseline's p50)`);

await gw.stop();
await pebble.stop();
await direct.stop();
await dns.close();
await new Promise((r) => plain.close(r));
