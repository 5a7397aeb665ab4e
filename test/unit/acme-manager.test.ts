// The acme plugin's manager against a real CA (Pebble) and a real Redis, without Envoy: a small
// HTTP server answers the http-01 challenges from the manager's state(), as Envoy's challenge
// routes do. What it must do is Kong's (kong/plugins/acme/client.lua): order the names the
// config wants, keep them under Kong's keys, renew within renew_threshold_days of expiry, wait
// fail_backoff_minutes after a failure and say so ("please try again in ... seconds").
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AcmeInputs } from '../../src/ir/acme.js';
import { silentLogger } from '../../src/logger.js';
import { AcmeManager } from '../../src/runtime/acme-manager.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { startDnsStub, type DnsStub } from '../support/dns-stub.js';
import { startPebble, type Pebble } from '../support/pebble.js';
import { freePort } from '../support/ports.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';

const DAY_MS = 86_400_000;

describe('the acme manager: orders, storage, renewal, backoff', () => {
  let dns: DnsStub;
  let pebble: Pebble;
  let redis: RedisServer;
  let challenges: http.Server;
  const managers: AcmeManager[] = [];
  /** Whose state the challenge server answers from: the manager ordering now. */
  let answering: AcmeManager | undefined;

  before(async () => {
    const port = await freePort();
    // Answers like Envoy's challenge route, except for names under bad.acme.test (a broken path).
    challenges = http.createServer((req, res) => {
      const token = /^\/\.well-known\/acme-challenge\/(.+)$/.exec(req.url ?? '')?.[1];
      const c = answering?.state().challenges.find((x) => x.token === token);
      if (!c || (req.headers.host ?? '').includes('bad.acme.test')) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${c.keyAuthorization}\n`);
    });
    await new Promise<void>((r) => challenges.listen(port, '127.0.0.1', r));
    dns = await startDnsStub();
    redis = await startRedisServer();
    pebble = await startPebble({ httpPort: (challenges.address() as AddressInfo).port, dnsServer: dns.address });
  });
  after(async () => {
    for (const m of managers) await m.stop();
    await pebble?.stop();
    await redis?.stop();
    await dns?.close();
    await new Promise((r) => challenges?.close(r));
  });

  /** What the manager reads of a config with the acme plugin (compileConfig's `acme`). */
  const ir = (domains: string[], extra = ''): AcmeInputs => {
    const out = compileConfig([{ file: 'kong.yml', text: `_format_version: "3.0"
plugins:
  - name: acme
    config:
      account_email: ops@acme.test
      api_uri: ${pebble.directoryUrl}
      domains: ${JSON.stringify(domains)}
      cert_type: ecc
      storage: redis
      storage_config: { redis: { host: 127.0.0.1, port: ${redis.port} } }
${extra}` }]);
    assert.equal(out.ok, true, JSON.stringify(out.diagnostics));
    return out.acme!;
  };

  const manager = (now?: () => number) => {
    let m: AcmeManager;
    m = new AcmeManager({ rebuild: async () => undefined, delivered: async () => { answering = m; return true; } }, silentLogger(), { ca: [pebble.ca], ...(now ? { now } : {}) });
    managers.push(m);
    return m;
  };

  const held = (m: AcmeManager, domain: string) => {
    const c = m.state().certificates.find((x) => x.domain === domain);
    return c && new X509Certificate(c.cert);
  };

  test('orders the names the config wants and keeps them in Redis under Kong\'s key', async () => {
    const m = manager();
    m.configApplied(ir(['one.acme.test']));
    const cert = await waitFor(() => held(m, 'one.acme.test'), 'the certificate for one.acme.test', 30_000, 20);
    assert.equal(cert.checkHost('one.acme.test'), 'one.acme.test');
    const stored = JSON.parse(await redis.command('GET', 'kong_acme:cert_key:one.acme.test')) as { cert: string; key: string };
    assert.equal(new X509Certificate(stored.cert).fingerprint256, cert.fingerprint256);
    // Kong's renew_config: the host and its expiry, in seconds.
    const renew = JSON.parse(await redis.command('GET', 'kong_acme:renew_config:one.acme.test')) as { host: string; expire_at: number };
    assert.deepEqual(renew, { host: 'one.acme.test', expire_at: Math.floor(Date.parse(cert.validTo) / 1000) });
  });

  test('a certificate within renew_threshold_days of its expiry is ordered again; one further off is not', async () => {
    const first = new X509Certificate(JSON.parse(await redis.command('GET', 'kong_acme:cert_key:one.acme.test')).cert as string);
    const expiry = Date.parse(first.validTo);
    // Another replica, 20 days before the expiry (threshold 14): it takes the stored certificate as it is.
    const early = manager(() => expiry - 20 * DAY_MS);
    early.configApplied(ir(['one.acme.test']));
    await waitFor(() => held(early, 'one.acme.test'), 'the stored certificate to load', 10_000, 20);
    await early.settled();
    assert.equal(held(early, 'one.acme.test')!.serialNumber, first.serialNumber);
    // Another, 10 days before: it renews.
    const late = manager(() => expiry - 10 * DAY_MS);
    late.configApplied(ir(['one.acme.test']));
    const renewed = await waitFor(() => { const c = held(late, 'one.acme.test'); return c && c.serialNumber !== first.serialNumber ? c : undefined; }, 'the renewed certificate', 30_000, 20);
    assert.equal(renewed.checkHost('one.acme.test'), 'one.acme.test');
    assert.equal(new X509Certificate(JSON.parse(await redis.command('GET', 'kong_acme:cert_key:one.acme.test')).cert as string).serialNumber, renewed.serialNumber);
  });

  test('a failed order waits fail_backoff_minutes, shared through the storage, and says so', async () => {
    const t0 = Date.now();
    const m = manager();
    m.configApplied(ir(['x.bad.acme.test']));
    await waitFor(() => (m.status()?.domains[0]?.lastError ? true : undefined), 'the order to fail', 30_000, 20);
    await m.settled();
    const d = m.status()!.domains[0]!;
    assert.equal(d.domain, 'x.bad.acme.test');
    assert.equal(d.notAfter, undefined);
    assert.match(d.lastError!, /x\.bad\.acme\.test/);
    const retryAt = Date.parse(d.retryAt!);
    assert.ok(retryAt >= t0 + 5 * 60_000 && retryAt <= Date.now() + 5 * 60_000, `retry at ${d.retryAt}, five minutes after the failure`);
    await assert.rejects(m.create('x.bad.acme.test'), /please try again in \d+ seconds for host x\.bad\.acme\.test because of previous failure; this is configurable with config\.fail_backoff_minutes/);
    // Kong's fail_backoff key, read by every replica: another one does not try either.
    assert.match(await redis.command('GET', 'kong_acme:fail_backoff:x.bad.acme.test'), /^\d+$/);
    const other = manager();
    other.configApplied(ir(['x.bad.acme.test']));
    await other.settled();
    await assert.rejects(other.create('x.bad.acme.test'), /please try again in/);
  });

  test('at most ordersPerHour orders start in an hour; the names beyond wait, and POST /acme says why', async () => {
    let m: AcmeManager;
    m = new AcmeManager({ rebuild: async () => undefined, delivered: async () => { answering = m; return true; } }, silentLogger(), { ca: [pebble.ca], ordersPerHour: 1 });
    managers.push(m);
    m.configApplied(ir(['b1.acme.test', 'b2.acme.test']));
    await waitFor(() => held(m, 'b1.acme.test'), 'the first name\'s certificate', 30_000, 20);
    await m.settled();
    assert.equal(held(m, 'b2.acme.test'), undefined, 'the second waits for the next hour');
    assert.equal(m.status()!.domains.find((d) => d.domain === 'b2.acme.test')!.lastError, undefined, 'waiting is no failure');
    await assert.rejects(m.create('b2.acme.test'), /the hourly order budget \(1, under the CA's rate limits\) is spent: the next order for b2\.acme\.test starts in \d+ seconds/);
  });

  test('POST /acme\'s names are kept in the storage: another replica serves and renews them too', async () => {
    const m = manager();
    const config = ir(['*.wild.acme.test']);
    m.configApplied(config);
    await m.settled();
    assert.deepEqual(m.state().certificates, []); // a `*` entry names no host to order by itself
    await assert.rejects(m.create('elsewhere.test'), /not a name the acme plugin takes/);
    await m.create('api.wild.acme.test');
    assert.ok(held(m, 'api.wild.acme.test'));
    const other = manager();
    other.configApplied(config);
    await waitFor(() => held(other, 'api.wild.acme.test'), 'the other replica to load the name POST /acme ordered', 10_000, 20);
  });
});

describe('the acme manager with a CA that requires external account binding (eab_kid, eab_hmac_key)', () => {
  let dns: DnsStub;
  let pebble: Pebble;
  let challenges: http.Server;
  let m: AcmeManager | undefined;
  const hmacKey = Buffer.from('a 32-byte MAC key for the tests!').toString('base64url');

  before(async () => {
    const port = await freePort();
    challenges = http.createServer((req, res) => {
      const token = /^\/\.well-known\/acme-challenge\/(.+)$/.exec(req.url ?? '')?.[1];
      const c = m?.state().challenges.find((x) => x.token === token);
      if (!c) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${c.keyAuthorization}\n`);
    });
    await new Promise<void>((r) => challenges.listen(port, '127.0.0.1', r));
    dns = await startDnsStub();
    pebble = await startPebble({ httpPort: port, dnsServer: dns.address, eab: { 'kid-1': hmacKey } });
  });
  after(async () => {
    await m?.stop();
    await pebble?.stop();
    await dns?.close();
    await new Promise((r) => challenges?.close(r));
  });

  const inputs = (kid: string, key: string): AcmeInputs => {
    const out = compileConfig([{ file: 'kong.yml', text: `_format_version: "3.0"
plugins:
  - name: acme
    config: { account_email: ops@acme.test, api_uri: "${pebble.directoryUrl}", domains: [eab.acme.test], cert_type: ecc, eab_kid: ${kid}, eab_hmac_key: "${key}" }
` }]);
    assert.equal(out.ok, true, JSON.stringify(out.diagnostics));
    return out.acme!;
  };

  test('a wrong MAC key fails the order, the reason shown without the key; the right one gets the certificate', async () => {
    m = new AcmeManager({ rebuild: async () => undefined, delivered: async () => true }, silentLogger(), { ca: [pebble.ca] });
    const wrong = Buffer.from('not the key the CA holds, at all').toString('base64url');
    m.configApplied(inputs('kid-1', wrong));
    const failed = await waitFor(() => m!.status()?.domains[0]?.lastError, 'the order to fail', 30_000, 20);
    assert.match(failed, /account registration/);
    assert.ok(!failed.includes(wrong), 'no key in the message');
    // A new config (the right key) clears the failure and orders again.
    m.configApplied(inputs('kid-1', hmacKey));
    const cert = await waitFor(() => m!.state().certificates.find((c) => c.domain === 'eab.acme.test'), 'the certificate with the right key', 30_000, 20);
    assert.equal(new X509Certificate(cert.cert).checkHost('eab.acme.test'), 'eab.acme.test');
  });
});
