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
let mobileFeed: Awaited<ReturnType<typeof startEchoUpstream>>;
let webFeed: Awaited<ReturnType<typeof startEchoUpstream>>;
let mobilePort: number;
let webPort: number;

before(async () => {
  [mobileFeed, webFeed] = await Promise.all([startEchoUpstream('mobile-feed'), startEchoUpstream('web-feed')]);
  [mobilePort, webPort] = [await freePort(), await freePort()];
  gw = await startGateway(`
_format_version: "3.0"
listeners:
  - { name: mobile, address: 127.0.0.1, port: ${mobilePort}, fleet: mobile-gw }
  - { name: web, address: 127.0.0.1, port: ${webPort}, fleet: web-gw }
services:
  - name: feed-m
    url: ${mobileFeed.url}
    routes:
      - { name: feed-mobile, paths: [/m], listeners: [mobile] }
  - name: feed-w
    url: ${webFeed.url}
    routes:
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
  await Promise.all([mobileFeed?.close(), webFeed?.close()]);
});

test('each fleet gets its own listener and routes, and nothing of the other', async () => {
  const get = async (port: number, path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    const text = await res.text();
    return { status: res.status, upstream: res.status === 200 ? (JSON.parse(text) as { upstream: string; path: string }) : undefined };
  };
  await waitFor(async () => (await get(webPort, '/w/1')).status === 200, 'the web fleet to serve');
  const web1 = await get(webPort, '/w/1');
  assert.equal(web1.upstream?.upstream, 'web-feed', "the web fleet's route reaches the web service");
  assert.equal(web1.upstream?.path, '/1');
  const mobile1 = await get(mobilePort, '/m/1');
  assert.equal(mobile1.status, 200);
  assert.equal(mobile1.upstream?.upstream, 'mobile-feed', "the mobile fleet's route reaches the mobile service");
  assert.equal(mobile1.upstream?.path, '/1');
  assert.equal((await get(mobilePort, '/w/1')).status, 404, 'the mobile listener has no web route');
  const webSeen = webFeed.requests.length;
  assert.equal(mobileFeed.requests.filter((r) => r.path !== '/1').length, 0, 'nothing else reached the mobile service');
  assert.equal(webSeen, webFeed.requests.filter((r) => r.path === '/1').length, 'the web service saw only the web requests');
  const listeners = await (await fetch(`${web.adminUrl}/listeners?format=json`)).json() as { listener_statuses: { name: string }[] };
  assert.deepEqual(listeners.listener_statuses.map((l) => l.name), ['listener:web'], 'the web Envoy runs only the web listener');
  const nodes = gw.cp.ads.nodes();
  assert.deepEqual(nodes.map((n) => n.cluster).sort(), ['mobile-gw', 'web-gw']);
  const clusters = await (await fetch(`${web.adminUrl}/clusters?format=json`)).json() as { cluster_statuses: { name: string }[] };
  const names = clusters.cluster_statuses.map((c) => c.name);
  assert.ok(names.includes('service:feed-w'), names.join(', '));
});
