// Kong's statsd and datadog through a real Envoy and the log companion, to UDP StatsD servers
// the test starts (datadog's lines are DogStatsD: tags after "|#"): the metric names and types Kong's statsd log.lua sends (kong/plugins/statsd), the
// consumer by its custom_id (Kong's default identifier) once key-auth, checked inside Envoy,
// has set it, the route by its id, allow_status_codes, lines combined under udp_packet_size.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { startLogService, type RunningLog } from '../../src/log/service.js';
import { kongId } from '../../src/kong-ids.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startDatagramSink } from '../support/datagram-sink.js';
import { proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

describe('statsd: Kong\'s metrics through the log companion', () => {
  let statsd: Awaited<ReturnType<typeof startDatagramSink>>;
  let packed: Awaited<ReturnType<typeof startDatagramSink>>;
  let dogs: Awaited<ReturnType<typeof startDatagramSink>>;
  let ids: Awaited<ReturnType<typeof startDatagramSink>>;
  let up: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  let authz: TestAuthz;
  let logSvc: RunningLog;

  before(async () => {
    statsd = await startDatagramSink();
    packed = await startDatagramSink();
    dogs = await startDatagramSink();
    ids = await startDatagramSink();
    up = await startEchoUpstream('shop');
    const az = await authzForTests();
    const logPort = await freePort();
    gw = await startGateway(`_format_version: "3.0"
consumers:
  - username: partner
    custom_id: partner-7
    keyauth_credentials: [{ key: statsd-key }]
services:
  - name: shop.eu
    url: ${up.url}
    routes:
      - name: orders
        paths: [/orders]
        plugins:
          - name: key-auth
          - name: statsd
            config: { host: 127.0.0.1, port: ${statsd.port}, allow_status_codes: ["200-299", "401-401"] }
      - name: teapot
        paths: [/teapot]
        plugins:
          - { name: request-termination, config: { status_code: 418 } }
          - name: statsd
            config: { host: 127.0.0.1, port: ${statsd.port}, allow_status_codes: ["200-299"] }
      - name: dog
        paths: [/dog]
        plugins:
          - name: key-auth
          - name: datadog
            config: { host: 127.0.0.1, port: ${dogs.port} }
      - name: packed
        paths: [/packed]
        plugins:
          - name: statsd
            config:
              host: 127.0.0.1
              port: ${packed.port}
              prefix: fd
              udp_packet_size: 1000
              metrics:
                - { name: request_count, stat_type: counter, sample_rate: 0.5 }
                - { name: latency, stat_type: histogram }
                - { name: status_count_per_workspace, stat_type: counter, sample_rate: 1, workspace_identifier: workspace_name }
  - name: billing
    id: 5b1c6a4e-2f0d-4c47-9c3e-0a9a4d2e7b11
    url: ${up.url}
    routes:
      - name: invoices
        paths: [/invoices]
        plugins:
          - name: statsd
            config:
              host: 127.0.0.1
              port: ${ids.port}
              service_identifier_default: service_host
              metrics:
                - { name: request_count, stat_type: counter, sample_rate: 1, service_identifier: service_id }
                - { name: status_count, stat_type: counter, sample_rate: 1 }
`, { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port }, log: { host: '127.0.0.1', port: logPort } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    logSvc = await startLogService({ xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: logPort, nodeId: `statsd-test-${logPort}`, logger: silentLogger() });
    await waitFor(() => logSvc.ready(), 'the log companion to load its sinks', 15_000);
  });
  after(async () => {
    await logSvc?.stop();
    await authz?.stop();
    await gw?.stop();
    await up?.close();
    await statsd?.close();
    await packed?.close();
    await dogs?.close();
    await ids?.close();
  });

  test('an authenticated request: Kong\'s default metrics under kong.service.<service>, the consumer by custom_id, the route by id', async () => {
    assert.equal((await proxyRequest(gw, { path: '/orders/1', headers: { apikey: 'statsd-key' } })).status, 200);
    const lines = await waitFor(() => { const l = statsd.lines(); return l.some((x) => x.startsWith('kong.route.')) ? l : undefined; }, 'the statsd lines of the request', 15_000);
    const scope = 'kong.service.shop_eu';
    const byName = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    assert.equal(byName.get(`${scope}.request.count`), '1|c');
    assert.equal(byName.get(`${scope}.status.200`), '1|c');
    assert.equal(byName.get(`${scope}.user.uniques`), 'partner-7|s');
    assert.equal(byName.get(`${scope}.user.partner-7.request.count`), '1|c');
    assert.equal(byName.get(`${scope}.user.partner-7.status.200`), '1|c');
    assert.equal(byName.get(`${scope}.workspace.${kongId('workspaces', 'default')}.status.200`), '1|c');
    assert.equal(byName.get(`kong.route.${kongId('routes', 'orders')}.user.partner-7.status.200`), '1|c');
    for (const timer of ['latency', 'upstream_latency', 'kong_latency']) assert.match(byName.get(`${scope}.${timer}`) ?? '', /^\d+\|ms$/, timer);
    assert.match(byName.get(`${scope}.request.size`) ?? '', /^\d+\|c$/);
    assert.match(byName.get(`${scope}.response.size`) ?? '', /^[1-9]\d*\|c$/, 'the echo body was sent');
    assert.ok(!lines.some((l) => l.includes('shdict')), 'no nginx shared dictionaries to report');
    assert.equal(statsd.texts.length, lines.length, 'one line a datagram by default');
  });

  test('allow_status_codes: a 401 is counted, without a consumer', async () => {
    statsd.texts.length = 0;
    assert.equal((await proxyRequest(gw, { path: '/orders/2' })).status, 401);
    const lines = await waitFor(() => { const l = statsd.lines(); return l.some((x) => x.includes('.status.401')) ? l : undefined; }, 'the 401\'s lines', 15_000);
    assert.ok(lines.includes('kong.service.shop_eu.status.401:1|c'));
    assert.ok(!lines.some((l) => l.includes('.user.')), 'no consumer, no per-user metric');
    assert.ok(!lines.some((l) => l.startsWith('kong.service.shop_eu.upstream_latency')), 'not proxied: no upstream latency');
  });

  test('allow_status_codes: a status outside the ranges sends nothing', async () => {
    statsd.texts.length = 0;
    assert.equal((await proxyRequest(gw, { path: '/teapot' })).status, 418);
    // A counted request after it: once its lines are in, the 418's would be too.
    assert.equal((await proxyRequest(gw, { path: '/orders/3', headers: { apikey: 'statsd-key' } })).status, 200);
    const lines = await waitFor(() => { const l = statsd.lines(); return l.some((x) => x.startsWith('kong.route.')) ? l : undefined; }, 'the counted request\'s lines', 15_000);
    assert.ok(!lines.some((l) => l.includes('418')), lines.join('\n'));
  });

  test('a metric list of its own, a prefix, sample rates, and lines combined into one datagram', async () => {
    assert.equal((await proxyRequest(gw, { path: '/packed' })).status, 200);
    await waitFor(() => packed.texts.length > 0 || undefined, 'the packed datagram', 15_000);
    assert.equal(packed.texts.length, 1);
    const lines = packed.texts[0]!.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[0], 'fd.service.shop_eu.request.count:1|c|@0.5');
    assert.match(lines[1]!, /^fd\.service\.shop_eu\.latency:\d+\|h$/);
    assert.equal(lines[2], 'fd.service.shop_eu.workspace.default.status.200:1|c');
  });

  test('datadog: Kong\'s six default metrics, one datagram each, the service, status and consumer (custom_id) as tags', async () => {
    assert.equal((await proxyRequest(gw, { path: '/dog', headers: { apikey: 'statsd-key' } })).status, 200);
    await waitFor(() => dogs.texts.length >= 6 || undefined, 'the datadog lines', 15_000);
    const tags = '|#name:shop_eu,status:200,consumer:partner-7,app:kong';
    const lines = [...dogs.texts].sort();
    assert.equal(lines.length, 6);
    assert.ok(lines.includes(`kong.request.count:1|c${tags}`), lines.join('\n'));
    for (const stat of ['kong_latency', 'latency', 'request.size', 'response.size', 'upstream_latency']) {
      assert.ok(lines.some((l) => new RegExp(`^kong\\.${stat.replace('.', '\\.')}:\\d+\\|ms${tags.replace('|', '\\|')}$`).test(l)), `${stat}: ${lines.join('\n')}`);
    }
  });

  test('service_id and service_host: the service named by its id and by its host, as Kong\'s statsd names them', async () => {
    assert.equal((await proxyRequest(gw, { path: '/invoices/9' })).status, 200);
    const lines = await waitFor(() => { const l = ids.lines(); return l.length >= 2 ? l : undefined; }, 'the two lines', 15_000);
    assert.deepEqual([...lines].sort(), ['kong.service.127_0_0_1.status.200:1|c', 'kong.service.5b1c6a4e-2f0d-4c47-9c3e-0a9a4d2e7b11.request.count:1|c']);
  });
});
