// Kong's http-log through a real Envoy and the log companion (Envoy's gRPC access-log service):
// a real HTTP sink receives Kong's entries in batches, with the consumer authz identified,
// denied requests with their status and no credential; a sink that fails then recovers gets
// every entry (retried with back-off), and a sink that does not answer never holds a request.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createLogger, silentLogger } from '../../src/logger.js';
import { startLogService, type RunningLog } from '../../src/log/service.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';
import { proxyRequest } from '../support/proxy-request.js';

type Entry = Record<string, any>;

/** An HTTP sink: records every batch; answers 200, or 503 while `failing`, or holds its answers while `holding`. */
async function startSink() {
  const batches: { headers: IncomingMessage['headers']; body: string }[] = [];
  const held: ServerResponse[] = [];
  const state = { failing: false, holding: false, refused: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (state.failing) { state.refused++; res.writeHead(503).end(); return; }
      batches.push({ headers: req.headers, body });
      if (state.holding) { held.push(res); return; }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/logs`,
    batches, state,
    entries: (): Entry[] => batches.flatMap((b) => { const j = JSON.parse(b.body) as Entry | Entry[]; return Array.isArray(j) ? j : [j]; }),
    release() { state.holding = false; for (const r of held.splice(0)) r.writeHead(200).end(); },
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

/** A GET through the gateway; its status. */
const send = (gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<number> => proxyRequest(gw, { path, headers }).then((r) => r.status);

const SECRET = 'sEcReT-partner-key';

describe('http-log: Kong entries through the log companion', () => {
  let sink: Awaited<ReturnType<typeof startSink>>;
  let up: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  let authz: TestAuthz;
  let logSvc: RunningLog;
  const marked = (id: string) => sink.entries().find((e) => e.request?.headers?.['user-agent'] === id);

  before(async () => {
    sink = await startSink();
    up = await startEchoUpstream('shop');
    const az = await authzForTests();
    const logPort = await freePort();
    gw = await startGateway(`_format_version: "3.0"
plugins:
  - name: http-log
    config:
      http_endpoint: ${sink.url}
      headers: { x-sink-token: t0ken }
      queue: { max_batch_size: 5, max_coalescing_delay: 0.1, initial_retry_delay: 0.05, max_retry_delay: 0.2, max_retry_time: 60, max_entries: 1000 }
consumers:
  - username: partner
    keyauth_credentials:
      - key: ${SECRET}
services:
  - name: shop
    url: ${up.url}
    routes:
      - name: open
        paths: [/open]
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
            config: { key_names: [x-api-key, apikey] }
      - name: counted
        paths: [/counted]
        plugins:
          - name: prometheus
            config: { status_code_metrics: true }
`, { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port }, log: { host: '127.0.0.1', port: logPort } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
    logSvc = await startLogService({
      xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: logPort, adminPort: 0, nodeId: `log-test-${logPort}`,
      logger: process.env.FRONTDESK_TEST_LOG ? createLogger(process.env.FRONTDESK_TEST_LOG) : silentLogger(),
    });
    await waitFor(() => logSvc.ready(), 'the log companion to load its sinks', 15_000);
  });
  after(async () => {
    await gw?.stop();
    await logSvc?.stop();
    await authz?.stop();
    await up?.close();
    await sink?.close();
  });

  test('entries in Kong\'s shape, batched, with the consumer after auth, denied requests and no credential', async () => {
    assert.equal(await send(gw, '/open/items?page=2', { 'user-agent': 'open-1', authorization: 'Bearer abc.def', cookie: 'session=s3cr3t' }), 200);
    assert.equal(await send(gw, '/keyed/a', { 'user-agent': 'keyed-1', 'x-api-key': SECRET }), 200);
    assert.equal(await send(gw, `/keyed/b?apikey=${SECRET}`, { 'user-agent': 'keyed-2' }), 200);
    assert.equal(await send(gw, '/keyed/c', { 'user-agent': 'denied-1', 'x-api-key': 'wrong' }), 401);
    await waitFor(() => ['open-1', 'keyed-1', 'keyed-2', 'denied-1'].every((id) => marked(id)), 'the four entries at the sink', 15_000);
    const open = marked('open-1')!;
    assert.equal(open.request.method, 'GET');
    assert.equal(open.request.uri, '/open/items');
    assert.equal(open.request.url, `http://127.0.0.1:${gw.proxyPort}/open/items`);
    assert.equal(open.request.headers.host, `127.0.0.1:${gw.proxyPort}`);
    assert.equal(open.response.status, 200);
    assert.equal(open.service.name, 'shop');
    assert.equal(open.route.name, 'open');
    assert.equal(open.client_ip, '127.0.0.1');
    assert.equal(open.upstream_uri, '/items');
    assert.equal(open.consumer, undefined);
    assert.ok(Math.abs(open.started_at - Date.now()) < 60_000);
    assert.equal(marked('keyed-1')!.consumer.username, 'partner');
    assert.equal(marked('keyed-2')!.consumer.username, 'partner');
    const denied = marked('denied-1')!;
    assert.equal(denied.response.status, 401);
    assert.equal(denied.consumer, undefined);
    assert.equal(denied.upstream_uri, undefined, 'never reached the upstream');
    const all = sink.batches.map((b) => b.body).join('\n');
    for (const secret of ['abc.def', 's3cr3t', SECRET]) assert.ok(!all.includes(secret), `${secret} never sent`);
    assert.equal(sink.batches[0]!.headers['x-sink-token'], 't0ken');
    assert.equal(sink.batches[0]!.headers['content-type'], 'application/json');
    assert.ok(Array.isArray(JSON.parse(sink.batches[0]!.body)), 'max_batch_size > 1: batches are JSON arrays');
  });

  test('with prometheus on the route too, each request is one entry at the sink and one count in Kong\'s metrics', async () => {
    const ids = ['counted-1', 'counted-2', 'counted-3'];
    for (const id of ids) assert.equal(await send(gw, '/counted/x', { 'user-agent': id }), 200);
    assert.equal(await send(gw, '/open/not-counted', { 'user-agent': 'open-not-counted' }), 200);
    await waitFor(() => [...ids, 'open-not-counted'].every((id) => marked(id)), 'the entries at the sink', 15_000);
    for (const id of ids) assert.equal(marked(id)!.route.name, 'counted');
    assert.equal(sink.entries().filter((e) => ids.includes(e.request?.headers?.['user-agent'])).length, 3, 'each request once at the sink');
    const metrics = async () => (await fetch(`http://127.0.0.1:${logSvc.adminPort}/metrics`)).text();
    const line = (text: string, route: string) => text.split('\n').filter((l) => l.startsWith('kong_http_requests_total{') && l.includes(`route="${route}"`));
    const counted = await waitFor(async () => { const l = line(await metrics(), 'counted'); return l.length ? l : undefined; }, 'the route\'s count', 15_000);
    assert.deepEqual(counted.map((l) => l.split(' ').at(-1)), ['3'], 'one series, three requests');
    assert.match(counted[0]!, /code="200"/);
    // Only the route with the plugin is counted (the global http-log logs every route).
    assert.deepEqual(line(await metrics(), 'open'), []);
  });

  test('a sink that fails, then recovers, gets every entry (retried with back-off)', async () => {
    sink.state.failing = true;
    const ids = Array.from({ length: 6 }, (_, i) => `down-${i}`);
    for (const id of ids) assert.equal(await send(gw, '/open/x', { 'user-agent': id }), 200);
    // The companion's tries are refused more than once: it retries with back-off.
    await waitFor(() => sink.state.refused >= 2, 'the sink to refuse the companion\'s tries');
    sink.state.failing = false;
    await waitFor(() => ids.every((id) => marked(id)), 'every entry after the sink recovered', 20_000);
    const counts = Object.values(logSvc.counts());
    assert.deepEqual(counts.map((c) => c.droppedFull + c.droppedRetries), [0]);
  });

  test('a sink that does not answer never holds a request', async () => {
    sink.state.holding = true;
    const ids = Array.from({ length: 8 }, (_, i) => `slow-${i}`);
    // Every request completes while the sink holds its first answer.
    for (const id of ids) assert.equal(await send(gw, '/open/y', { 'user-agent': id }), 200);
    await waitFor(() => sink.batches.length > 0 && sink.state.holding, 'a batch held by the sink');
    sink.release();
    await waitFor(() => ids.every((id) => marked(id)), 'the held entries, once the sink answers', 20_000);
  });
});
