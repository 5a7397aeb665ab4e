// The acme plugin with two control-plane replicas on one Redis, each with its own Envoy: the CA
// (Pebble) reaches only replica A's Envoy, so a certificate replica B orders can only be issued
// if A's Envoy answers B's challenge. Kong's replicas share the challenge through the storage
// (lua-resty-acme's `<token>#http-01` key, read per request); Frontdesk's push it to their
// Envoys as a route, told of it over Redis pub/sub, and a certificate one replica obtains is
// served by the others at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startAcmeTestBed, type AcmeTestBed } from '../support/pebble.js';
import { freePort } from '../support/ports.js';
import { awaitTrusted, handshake } from '../support/tls-peer.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

function replicaYaml(plain: number, tls: number, directoryUrl: string, redisPort: number, upstream: string, hosts: string[]): string {
  // No certificate of its own: the https listener serves ACME's, and a default to other names.
  return `_format_version: "3.0"
listeners:
  - { name: plain, address: 127.0.0.1, port: ${plain} }
  - { name: tls, address: 127.0.0.1, port: ${tls}, protocol: https }
services:
  - name: app
    url: ${upstream}
    routes:
      - name: site
        paths: [/]
${hosts.length ? `        hosts: ${JSON.stringify(hosts)}\n` : ''}plugins:
  - name: acme
    config:
      account_email: ops@acme.test
      api_uri: ${directoryUrl}
      domains: ["*.acme.test"]
      cert_type: ecc
      storage: redis
      storage_config: { redis: { host: 127.0.0.1, port: ${redisPort} } }
`;
}

const authorized = (port: number, name: string, roots: string[]) => awaitTrusted(port, name, roots, `port ${port} to serve a certificate from the CA for ${name}`);

describe('acme with replicas: challenges and certificates shared over the storage', () => {
  let bed: AcmeTestBed;
  let a: Gateway;
  let b: Gateway;
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let roots: string[];
  const ports = { aPlain: 0, aTls: 0, bPlain: 0, bTls: 0 };

  before(async () => {
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    // The CA validates against replica A's Envoy only.
    bed = await startAcmeTestBed(ports.aPlain);
    roots = bed.roots;
    upstream = await startEchoUpstream('acme-replicas');
    // A wants no name of its own (a `*` entry orders nothing by itself); B's route names one.
    const { pebble, redis } = bed;
    a = await startGateway(replicaYaml(ports.aPlain, ports.aTls, pebble.directoryUrl, redis.port, upstream.url, []), { acmeCa: [pebble.ca] });
    // A listens on the storage's channel before B orders (Redis counts the subscribers).
    await waitFor(async () => /:[1-9]\d*$/.test((await redis.command('PUBSUB', 'NUMSUB', 'frontdesk_acme:events')).trim()), 'replica A to subscribe to the acme events');
    b = await startGateway(replicaYaml(ports.bPlain, ports.bTls, pebble.directoryUrl, redis.port, upstream.url, ['r.acme.test']), { acmeCa: [pebble.ca] });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
    await bed?.stop();
    await upstream?.close();
  });

  test('replica B\'s order is validated through replica A\'s Envoy', async () => {
    const h = await authorized(ports.bTls, 'r.acme.test', roots);
    assert.match(h.leaf.subjectaltname ?? '', /DNS:r\.acme\.test/);
    // A neither wants the name nor ordered anything: only B's challenge, shared, got it issued.
    assert.deepEqual((a.cp.status() as { acme: { domains: unknown[] } }).acme.domains, []);
  });

  test('with no certificate configured, a name ACME has none for gets the default certificate (Kong\'s: self-signed, CN localhost)', async () => {
    const h = await handshake(ports.aTls, 'unknown.other.test', roots);
    assert.equal(h.authorized, false);
    assert.equal(h.leaf.subject.CN, 'localhost');
    assert.equal(h.leaf.issuer.CN, 'localhost');
  });

  test('a certificate B obtains through POST /acme is served by A\'s Envoy at once', async () => {
    const res = await fetch(`${b.admin}/acme`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ host: 'p.acme.test' }) });
    assert.equal(res.status, 201);
    const onB = await authorized(ports.bTls, 'p.acme.test', roots);
    const onA = await authorized(ports.aTls, 'p.acme.test', roots);
    assert.equal(onA.leaf.fingerprint256, onB.leaf.fingerprint256);
  });
});
