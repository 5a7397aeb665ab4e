// A real Envoy over mTLS end to end: to the control plane (ADS) and to each companion (ext_authz,
// rate limit service, ext_proc), every hop checking the other's certificate against one CA; then
// every certificate rewritten (`frontdesk certs` again, same CA) while requests keep coming:
// none fails, the xDS stream stays the same, and the new certificates are the ones in use.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startAuthzService, type RunningAuthz } from '../../src/authz/service.js';
import { silentLogger } from '../../src/logger.js';
import { startRateLimitService, type RunningRateLimitService } from '../../src/ratelimit/service.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import type { RunningCompanion } from '../../src/runtime/companions.js';
import { startTransformService } from '../../src/transform/service.js';
import { TlsSource, type Identity } from '../../src/tls.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { testPki, type TestPki } from '../support/mtls.js';
import { freePort } from '../support/ports.js';
import { RawAdsStream, type SotwResponse } from '../support/raw-ads.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

const ENVOY: Identity = { role: 'envoy', fleet: 'frontdesk' };
let pki: TestPki;
let gw: Gateway;
let up: Awaited<ReturnType<typeof startEchoUpstream>>;
let authz: RunningAuthz;
let ratelimit: RunningRateLimitService;
let transform: RunningCompanion;
const sources: TlsSource[] = [];

before(async () => {
  pki = testPki(['frontdesk']);
  up = await startEchoUpstream('orders');
  const [authzPort, ratelimitPort, transformPort] = [await freePort(), await freePort(), await freePort()];
  gw = await startGateway(`
_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: orders
    url: ${up.url}
    routes:
      - name: orders
        paths: [/orders]
        plugins:
          - name: key-auth
          - name: rate-limiting
            config: { minute: 100000, limit_by: consumer }
          - name: request-transformer
            config:
              add:
                querystring: ["version: v2"]
`, {
    tls: { controlPlane: pki.files({ role: 'control-plane' }), envoy: pki.files(ENVOY) },
    settings: {
      authz: { ...DEFAULT_SETTINGS.authz, port: authzPort },
      ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: ratelimitPort },
      transform: { ...DEFAULT_SETTINGS.transform, port: transformPort },
    },
  });
  const src = (name: string) => { const s = new TlsSource(pki.files({ role: 'companion', name }), { pollMs: 100 }); sources.push(s); return s; };
  const xds = { host: '127.0.0.1', port: gw.xdsPort };
  authz = await startAuthzService({ xds, host: '127.0.0.1', port: authzPort, nodeId: 'authz-1', logger: silentLogger(), tls: src('authz') });
  ratelimit = await startRateLimitService({ xds, host: '127.0.0.1', port: ratelimitPort, nodeId: 'rl-1', logger: silentLogger(), tls: src('ratelimit') });
  transform = await startTransformService({ xds, host: '127.0.0.1', port: transformPort, nodeId: 'tf-1', logger: silentLogger(), tls: src('transform') });
  await waitFor(() => authz.ready() && ratelimit.ready() && transform.ready(), 'the companions to hold their policy over mTLS', 15_000);
});

after(async () => {
  await gw?.stop();
  await Promise.all([authz?.stop(), ratelimit?.stop(), transform?.stop()]);
  for (const s of sources) s.close();
  await up?.close();
  pki?.remove();
});

interface Outcome { status: number; path?: string; limit?: string | null; body?: string }

async function order(i: number): Promise<Outcome> {
  try {
    const res = await fetch(`${gw.proxy}/orders/${i}`, { headers: { apikey: 'alice-key' } });
    if (res.status !== 200) return { status: res.status, body: await res.text() };
    const body = (await res.json()) as { path: string };
    return { status: res.status, path: body.path, limit: res.headers.get('x-ratelimit-limit-minute') };
  } catch {
    return { status: 0 };
  }
}

const hexSerial = (s: string) => s.toLowerCase().replace(/^0+/, '');

/** The serial numbers of the certificates Envoy presents, from its admin /certs. */
async function envoySerials(): Promise<string[]> {
  const j = await (await fetch(`${gw.envoy.adminUrl}/certs`)).json() as { certificates: { cert_chain?: { serial_number: string }[] }[] };
  return [...new Set(j.certificates.flatMap((c) => (c.cert_chain ?? []).map((x) => hexSerial(x.serial_number))))];
}

const fileSerial = (path: string) => hexSerial(new X509Certificate(readFileSync(path)).serialNumber);

test('every hop over mTLS: key-auth by the authz companion, limits by ratelimit, the query string by transform', async () => {
  const r = await order(1);
  assert.equal(r.status, 200);
  assert.equal(r.path, '/1?version=v2', 'the transform companion added the query string');
  assert.equal(r.limit, '100000', "the ratelimit companion's headers");
  assert.equal((await fetch(`${gw.proxy}/orders/1`)).status, 401, 'no key: the authz companion refused it');
  assert.deepEqual(gw.cp.ads.nodes().map((n) => n.identity).sort(), ['spiffe://frontdesk/companion/authz', 'spiffe://frontdesk/companion/ratelimit', 'spiffe://frontdesk/companion/transform', 'spiffe://frontdesk/envoy/frontdesk']);
  assert.deepEqual(await envoySerials(), [fileSerial(pki.files(ENVOY).cert)], 'Envoy presents its certificate from the files');
});

test('certificates rewritten under a request loop: zero failed requests, the same xDS stream, the new certificates in use', async () => {
  const envoyStreams = () => gw.cp.ads.nodes().filter((n) => n.id !== 'probe' && n.identity.includes('/envoy/')).map((n) => n.stream);
  pki.prepareRotation(); // key generation is CPU work: done before the loop, as an operator would
  const streamBefore = envoyStreams();
  assert.equal(streamBefore.length, 1);
  const outcomes: Outcome[] = [];
  let rotated = false;
  let after = 0;
  const loop = (async () => {
    // Until the rotation has been seen everywhere, then 100 requests more.
    for (let i = 0; !rotated || after < 100; i++) {
      outcomes.push(await order(i));
      if (rotated) after++;
    }
  })();
  await waitFor(() => outcomes.length >= 50, '50 requests before the rotation', 30_000);
  pki.rotate();
  const envoyCert = fileSerial(pki.files(ENVOY).cert);
  await waitFor(async () => (await envoySerials()).join() === envoyCert, 'Envoy to present its new certificate on every hop', 30_000);
  await waitFor(() => sources.every((s) => s.generation > 0), 'the companions to take their new certificates', 30_000);
  // A new connection to the control plane meets its new certificate.
  const seen: string[] = [];
  const creds = grpc.credentials.createSsl(readFileSync(pki.files(ENVOY).ca), readFileSync(pki.files(ENVOY).key), readFileSync(pki.files(ENVOY).cert), {
    checkServerIdentity: (_h, cert) => { seen.push(hexSerial(cert.serialNumber)); return undefined; },
  });
  const cpCert = fileSerial(pki.files({ role: 'control-plane' }).cert);
  await waitFor(async () => {
    const s = new RawAdsStream<SotwResponse>(gw.xdsPort, 'sotw', creds);
    s.send({ node: { id: 'probe', cluster: 'frontdesk' }, type_url: 'type.googleapis.com/envoy.config.listener.v3.Listener', resource_names: [] });
    try { await s.next(); } finally { s.close(); }
    return seen.at(-1) === cpCert;
  }, "the control plane to present its new certificate", 30_000, 200);
  rotated = true;
  await loop;
  const failed = outcomes.filter((o) => o.status !== 200 || o.path === undefined || !o.path.endsWith('?version=v2') || o.limit !== '100000');
  if (failed.length) console.log((await (await fetch(`${gw.envoy.adminUrl}/stats`)).text()).split('\n').filter((l) => /ext_authz|ext_proc|ratelimit|frontdesk:/.test(l) && !/: 0$/.test(l)).join('\n'));
  assert.equal(failed.length, 0, `${failed.length} of ${outcomes.length} requests failed: ${JSON.stringify(failed.slice(0, 3))}`);
  assert.deepEqual(envoyStreams(), streamBefore, "Envoy's xDS stream was not dropped");
});
