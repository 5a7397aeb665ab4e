// Who may read what from the control plane, over mTLS: a node's rights come from the identity
// in its client certificate, never from the node id or cluster it claims. The one-request leak
// (a bare ADS client asking for frontdesk.authz.v1.Consumer and getting every key and secret)
// is the first case; companions answer only Envoys of the same CA.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CHECK_METHOD } from '../../src/authz/server.js';
import { startAuthzService, type RunningAuthz } from '../../src/authz/service.js';
import { silentLogger } from '../../src/logger.js';
import { RLS_METHOD } from '../../src/ratelimit/server.js';
import { rlsTypes } from '../../src/ratelimit/rls-types.js';
import { startRateLimitService, type RunningRateLimitService } from '../../src/ratelimit/service.js';
import { PROCESS_METHOD } from '../../src/transform/server.js';
import { startTransformService } from '../../src/transform/service.js';
import { startLogService, type RunningLog } from '../../src/log/service.js';
import type { RunningCompanion } from '../../src/contracts/companion.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { messageType } from '../../src/xds/proto-registry.js';
import { TlsSource, type Identity } from '../../src/tls.js';
import { testPki, type TestPki } from '../support/mtls.js';
import { RawAdsStream, type SotwResponse } from '../support/raw-ads.js';
import { waitFor } from '../support/wait.js';

const CONSUMER = 'type.googleapis.com/frontdesk.authz.v1.Consumer';
const ROUTE_RATE_LIMIT = 'type.googleapis.com/frontdesk.ratelimit.v1.RouteRateLimit';
const WEB: Identity = { role: 'envoy', fleet: 'web' };
const AUTHZ: Identity = { role: 'companion', name: 'authz' };
const RATELIMIT: Identity = { role: 'companion', name: 'ratelimit' };
const TRANSFORM: Identity = { role: 'companion', name: 'transform' };
const LOG: Identity = { role: 'companion', name: 'log' };

const CONFIG = `_format_version: "3.0"
listeners:
  - { name: web, address: 127.0.0.1, port: 18580, fleet: web }
  - { name: mobile, address: 127.0.0.1, port: 18581, fleet: mobile }
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-very-secret-key }]
    jwt_secrets: [{ key: alice-issuer, algorithm: HS256, secret: alice-hs256-secret }]
services:
  - name: web-api
    url: http://127.0.0.1:9
    routes:
      - name: web-orders
        paths: [/orders]
        listeners: [web]
        plugins:
          - name: key-auth
          - name: rate-limiting
            config: { minute: 5, limit_by: ip }
  - name: mobile-api
    url: http://127.0.0.1:9
    routes:
      - { name: mobile-feed, paths: [/feed], listeners: [mobile] }
`;

let pki: TestPki;
let cp: ControlPlane;
let xdsPort: number;
let admin: string;
let dir: string;
const streams: RawAdsStream<SotwResponse>[] = [];

function ads(credentials: grpc.ChannelCredentials): RawAdsStream<SotwResponse> {
  const s = new RawAdsStream<SotwResponse>(xdsPort, 'sotw', credentials);
  streams.push(s);
  return s;
}

const ask = (typeUrl: string, cluster = 'web') => ({ node: { id: 'curious', cluster }, type_url: typeUrl, resource_names: [] });

/** The next response, acknowledged as a client does (the next stage waits for it). */
async function nextAcked(s: RawAdsStream<SotwResponse>): Promise<SotwResponse> {
  const r = await s.next();
  s.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: [] });
  return r;
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w))).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

before(async () => {
  pki = testPki(['web', 'mobile']);
  dir = mkdtempSync(join(tmpdir(), 'frontdesk-secure-'));
  writeFileSync(join(dir, 'gateway.yaml'), CONFIG);
  cp = new ControlPlane({
    configPath: join(dir, 'gateway.yaml'), xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
    settings: DEFAULT_SETTINGS, ir: { defaultListener: { address: '127.0.0.1', port: 18582 } }, logger: silentLogger(),
    tls: pki.files({ role: 'control-plane' }), watch: false,
  });
  const ports = await cp.start();
  xdsPort = ports.xdsPort;
  admin = `http://127.0.0.1:${ports.adminPort}`;
});

after(async () => {
  for (const s of streams) s.close();
  await cp?.stop();
  pki?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('the xDS port over mTLS', () => {
  test('a client without a certificate, or in plaintext, gets no stream at all', async () => {
    for (const creds of [pki.noCertificate(), grpc.credentials.createInsecure()]) {
      const s = ads(creds);
      s.send(ask(CONSUMER));
      const err = await s.failed;
      assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
      assert.equal(s.pending, 0, 'nothing was answered');
    }
  });

  test('a certificate from another CA is refused at the handshake', async () => {
    const s = ads(pki.foreign(AUTHZ));
    s.send(ask(CONSUMER));
    const err = await s.failed;
    assert.equal(err.code, grpc.status.UNAVAILABLE, err.message);
    assert.equal(s.pending, 0);
  });

  test("the one-request leak: an Envoy's certificate asking for every Consumer gets none, and it is logged and counted", async () => {
    const before = await metric('frontdesk_xds_denied_subscriptions_total', { type: 'Consumer', identity: 'spiffe://frontdesk/envoy/web' });
    const s = ads(pki.credentials(WEB));
    s.send(ask(CONSUMER));
    const r = await s.next();
    assert.equal(r.type_url, CONSUMER);
    assert.deepEqual(r.resources, [], 'no consumer, no key, no secret');
    assert.equal(await metric('frontdesk_xds_denied_subscriptions_total', { type: 'Consumer', identity: 'spiffe://frontdesk/envoy/web' }), before + 1);
    const status = await (await fetch(`${admin}/status`)).text();
    assert.ok(!status.includes('alice-very-secret-key') && !status.includes('alice-hs256-secret'), '/status shows no credential');
    assert.ok(status.includes('spiffe://frontdesk/envoy/web'), '/status names the stream by its certificate');
  });

  test('an Envoy of one fleet claiming another gets its own fleet only', async () => {
    const s = ads(pki.credentials(WEB));
    s.send(ask(TYPE.listener, 'mobile'));
    const r = await s.next();
    assert.deepEqual(r.resources.map((l) => (l as { name: string }).name), ['listener:web']);
    const node = await waitFor(() => cp.ads.nodes().find((n) => n.identity === 'spiffe://frontdesk/envoy/web' && n.types.LDS), 'the stream in /status');
    assert.equal(node.cluster, 'web', 'served as the fleet of its certificate');
  });

  test('a companion gets its own types only: ratelimit no consumers and no Envoy config, authz its consumers', async () => {
    const rl = ads(pki.credentials(RATELIMIT));
    rl.send(ask(CONSUMER, 'authz'));
    assert.deepEqual((await nextAcked(rl)).resources, []);
    rl.send(ask(TYPE.cluster, 'web'));
    assert.deepEqual((await nextAcked(rl)).resources, [], 'a companion holds no Envoy resources');
    rl.send(ask(ROUTE_RATE_LIMIT, 'web'));
    assert.equal((await nextAcked(rl)).resources.length, 1, 'its own limits');
    const az = ads(pki.credentials(AUTHZ));
    az.send(ask(CONSUMER, 'authz'));
    const consumers = (await az.next()).resources as { username?: string; keyauth_credentials?: { key_hash?: string }[]; jwt_secrets?: { secret?: string }[] }[];
    assert.deepEqual(consumers.map((c) => c.username), ['alice']);
    // Even to the authz companion, the key travels as a salted hash; the HS256 secret, which
    // verifying needs, in clear to this identity only.
    assert.match(consumers[0]!.keyauth_credentials![0]!.key_hash!, /^hmac-sha256:[A-Za-z0-9+/]{43}=$/);
    assert.ok(!JSON.stringify(consumers).includes('alice-very-secret-key'), 'no key in clear');
    assert.equal(consumers[0]!.jwt_secrets![0]!.secret, 'alice-hs256-secret');
    assert.ok(await metric('frontdesk_xds_denied_subscriptions_total', { identity: 'spiffe://frontdesk/companion/ratelimit' }) >= 2);
  });
});

describe('companion ports over mTLS answer Envoys only', () => {
  let authz: RunningAuthz;
  let ratelimit: RunningRateLimitService;
  let transform: RunningCompanion;
  let logs: RunningLog;
  const sources: TlsSource[] = [];

  before(async () => {
    const src = (id: Identity) => { const s = new TlsSource(pki.files(id)); sources.push(s); return s; };
    authz = await startAuthzService({ xds: { host: '127.0.0.1', port: xdsPort }, host: '127.0.0.1', port: 0, nodeId: 'authz-1', logger: silentLogger(), tls: src(AUTHZ) });
    ratelimit = await startRateLimitService({ xds: { host: '127.0.0.1', port: xdsPort }, host: '127.0.0.1', port: 0, nodeId: 'rl-1', logger: silentLogger(), tls: src(RATELIMIT) });
    transform = await startTransformService({ xds: { host: '127.0.0.1', port: xdsPort }, host: '127.0.0.1', port: 0, nodeId: 'tf-1', logger: silentLogger(), tls: src(TRANSFORM) });
    logs = await startLogService({ xds: { host: '127.0.0.1', port: xdsPort }, host: '127.0.0.1', port: 0, nodeId: 'log-1', logger: silentLogger(), tls: src(LOG) });
    await waitFor(() => authz.ready() && ratelimit.ready() && transform.ready() && logs.ready(), 'the companions to hold their policy over mTLS', 15_000);
  });

  after(async () => {
    await authz?.stop();
    await ratelimit?.stop();
    await transform?.stop();
    await logs?.stop();
    for (const s of sources) s.close();
  });

  const call = (port: number, method: string, body: Uint8Array, creds: grpc.ChannelCredentials) => new Promise<{ ok: boolean; code?: number }>((resolve) => {
    const client = new grpc.Client(`127.0.0.1:${port}`, creds);
    client.makeUnaryRequest(method, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body, { deadline: Date.now() + 10_000 }, (err) => {
      client.close();
      resolve(err ? { ok: false, code: err.code } : { ok: true });
    });
  });

  /** One ext_proc Process stream: a request's headers sent, resolved at its first answer or its error. */
  const process = (port: number, creds: grpc.ChannelCredentials) => new Promise<{ ok: boolean; code?: number }>((resolve) => {
    const client = new grpc.Client(`127.0.0.1:${port}`, creds);
    const stream = client.makeBidiStreamRequest(PROCESS_METHOD, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, new grpc.Metadata(), { deadline: Date.now() + 10_000 });
    const done = (r: { ok: boolean; code?: number }) => { stream.cancel(); client.close(); resolve(r); };
    stream.on('data', () => done({ ok: true }));
    stream.on('error', (e: grpc.ServiceError) => done({ ok: false, code: e.code }));
    stream.write(messageType('envoy.service.ext_proc.v3.ProcessingRequest').encode({ request_headers: { headers: { headers: [{ key: ':path', raw_value: Buffer.from('/orders') }] } } }).finish());
  });

  /** One access-log stream: a batch sent, then the half-close; resolved with the call's outcome. */
  const accessLogs = (port: number, creds: grpc.ChannelCredentials) => new Promise<{ ok: boolean; code?: number }>((resolve) => {
    const client = new grpc.Client(`127.0.0.1:${port}`, creds);
    const stream = client.makeClientStreamRequest('/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs', (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => {
      client.close();
      resolve(err ? { ok: false, code: err.code } : { ok: true });
    });
    stream.write(messageType('envoy.service.accesslog.v3.StreamAccessLogsMessage').encode({ identifier: { log_name: 'test' }, http_logs: { log_entry: [{ request: { path: '/x' } }] } }).finish());
    stream.end();
  });

  const checkRequest = messageType('envoy.service.auth.v3.CheckRequest').encode({ attributes: { context_extensions: { route: 'web-orders' }, request: { http: { method: 'GET', path: '/orders', headers: { apikey: 'alice-very-secret-key' } } } } }).finish();
  const rlsRequest = rlsTypes().req.encode({ domain: 'frontdesk', descriptors: [] }).finish();

  test('no certificate, another CA, or a companion certificate: refused before any policy work', async () => {
    const checksBefore = authz.server.stats().checks;
    for (const creds of [pki.noCertificate(), grpc.credentials.createInsecure(), pki.foreign(WEB), pki.credentials(RATELIMIT)]) {
      const a = await call(authz.port, CHECK_METHOD, checkRequest, creds);
      assert.equal(a.ok, false);
      assert.equal(a.code, grpc.status.UNAVAILABLE);
      const r = await call(ratelimit.port, RLS_METHOD, rlsRequest, creds);
      assert.equal(r.ok, false);
      assert.equal(r.code, grpc.status.UNAVAILABLE);
      assert.deepEqual(await process(transform.port, creds), { ok: false, code: grpc.status.UNAVAILABLE });
      assert.deepEqual(await accessLogs(logs.port, creds), { ok: false, code: grpc.status.UNAVAILABLE });
    }
    assert.equal(authz.server.stats().checks, checksBefore, 'the engine was never asked');
  });

  test("an Envoy's certificate is answered", async () => {
    assert.deepEqual(await call(authz.port, CHECK_METHOD, checkRequest, pki.credentials(WEB)), { ok: true });
    assert.deepEqual(await call(ratelimit.port, RLS_METHOD, rlsRequest, pki.credentials({ role: 'envoy', fleet: 'mobile' })), { ok: true });
    assert.deepEqual(await process(transform.port, pki.credentials(WEB)), { ok: true });
    assert.deepEqual(await accessLogs(logs.port, pki.credentials(WEB)), { ok: true });
  });
});
