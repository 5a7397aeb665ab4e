// Several gateways from one file: each listener names the Envoy fleet (node cluster) that
// serves it. Two real Envoys, one per fleet, fed by one control plane.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

let gw: Gateway;
let web: EnvoyProcess;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
let mobilePort: number;
let webPort: number;

before(async () => {
  upstream = await startEchoUpstream('feed');
  [mobilePort, webPort] = [await freePort(), await freePort()];
  gw = await startGateway(`
_format_version: "3.0"
listeners:
  - { name: mobile, address: 127.0.0.1, port: ${mobilePort}, fleet: mobile-gw }
  - { name: web, address: 127.0.0.1, port: ${webPort}, fleet: web-gw }
services:
  - name: feed
    url: ${upstream.url}
    routes:
      - { name: feed-mobile, paths: [/m], listeners: [mobile] }
      - { name: feed-web, paths: [/w], listeners: [web] }
`, { cluster: 'mobile-gw' });
  web = await EnvoyProcess.start({
    bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: gw.xdsPort }, nodeId: 'web-1', cluster: 'web-gw', adminPort: 0 }),
    logger: silentLogger(), concurrency: 1,
  });
  await web.waitReady();
});

after(async () => {
  await web?.stop();
  await gw?.stop();
  await upstream?.close();
});

test('each fleet gets its own listener and routes, and nothing of the other', async () => {
  const ok = async (port: number, path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  await waitFor(async () => (await ok(webPort, '/w/1')) === 200, 'the web fleet to serve');
  assert.equal(await ok(mobilePort, '/m/1'), 200);
  assert.equal(await ok(mobilePort, '/w/1'), 404, 'the mobile listener has no web route');
  const listeners = await (await fetch(`${web.adminUrl}/listeners?format=json`)).json() as { listener_statuses: { name: string }[] };
  assert.deepEqual(listeners.listener_statuses.map((l) => l.name), ['listener:web'], 'the web Envoy runs only the web listener');
  const nodes = gw.cp.ads.nodes();
  assert.deepEqual(nodes.map((n) => n.cluster).sort(), ['mobile-gw', 'web-gw']);
  const clusters = await (await fetch(`${web.adminUrl}/clusters?format=json`)).json() as { cluster_statuses: { name: string }[] };
  assert.ok(clusters.cluster_statuses.some((c) => c.name === 'service:feed'));
});
