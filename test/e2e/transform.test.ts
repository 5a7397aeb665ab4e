// The deep dive's request-transformer and response-transformer example through a real Envoy:
// headers by Envoy itself; the query string, the JSON body and the response JSON by the
// transform companion (Envoy's ext_proc), fed its per-route work over ADS.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import type { RunningCompanion } from '../../src/runtime/companions.js';
import { startTransformService } from '../../src/transform/service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

interface Seen { path: string; method: string; headers: Record<string, string | string[] | undefined>; body: string }

function send(gw: Gateway, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text && /json/.test(String(res.headers['content-type'])) ? JSON.parse(text) as Record<string, unknown> : {} }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('request-/response-transformer through the transform companion', () => {
  let upstream: Server;
  let gw: Gateway;
  let transform: RunningCompanion;
  /** The gateway's YAML, and its upstream's port. */
  let config: string;
  let upstreamPort: number;
  const seen: Seen[] = [];

  before(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', method: req.method ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json', 'x-powered-by': 'node', server: 'backend' });
        res.end(JSON.stringify({ id: 7, internal_id: 'db-7', debug_info: { sql: 'select' }, name: 'order' }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const port = (upstream.address() as AddressInfo).port;
    const transformPort = await freePort();
    config = `
_format_version: "3.0"
services:
  - name: orders
    url: http://127.0.0.1:${port}
    connect_timeout: 2000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: orders
        paths: [/orders]
      - name: plain
        paths: [/plain]
        plugins:
          - name: request-transformer
            config:
              add:
                headers: ["X-Only-Headers: yes"]
          - name: response-transformer
            config:
              add:
                headers: ["X-Served-By: frontdesk"]
    plugins:
      - name: request-transformer
        config:
          add:
            headers:
              - "X-Request-Source: api-gateway"
              - "X-Forwarded-Proto: https"
            querystring:
              - "version: v2"
          remove:
            headers:
              - "X-Internal-Debug"
          rename:
            headers:
              - "X-Custom-Auth: Authorization"
          replace:
            body:
              - "user_name: username"
      - name: response-transformer
        config:
          remove:
            headers:
              - "X-Powered-By"
              - "Server"
            json:
              - "internal_id"
              - "debug_info"
`;
    upstreamPort = port;
    gw = await startGateway(config, { settings: { transform: { ...DEFAULT_SETTINGS.transform, port: transformPort } } });
    transform = await startTransformService({ xds: { host: '127.0.0.1', port: gw.xdsPort }, host: '127.0.0.1', port: transformPort, nodeId: 'transform-test', logger: silentLogger() });
    await waitFor(() => transform.ready(), 'the transform companion to get its routes');
  });

  after(async () => {
    await transform?.stop();
    await gw?.stop();
    await new Promise<void>((r) => { upstream.close(() => r()); upstream.closeAllConnections(); });
  });

  test('the deep dive\'s example: query string added, body field replaced, headers changed, response JSON stripped', async () => {
    const r = await send(gw, '/orders/1?page=2', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-internal-debug': '1', 'x-custom-auth': 'secret-token' },
      body: JSON.stringify({ user_name: 'alice', qty: 2 }),
    });
    assert.equal(r.status, 200);
    const up = seen.at(-1)!;
    assert.equal(up.path, '/1?page=2&version=v2');
    assert.deepEqual(JSON.parse(up.body), { user_name: 'username', qty: 2 }, "Kong's replace sets the field's value");
    assert.equal(up.headers['x-request-source'], 'api-gateway');
    assert.equal(up.headers['x-internal-debug'], undefined);
    assert.equal(up.headers.authorization, 'secret-token');
    assert.equal(up.headers['x-custom-auth'], undefined);
    assert.deepEqual(r.json, { id: 7, name: 'order' }, 'internal fields removed from the response');
    assert.equal(r.headers['x-powered-by'], undefined);
    assert.equal(r.headers.server, undefined);
  });

  test('a query string that has the parameter keeps its own value (add only adds what is missing)', async () => {
    await send(gw, '/orders/1?version=v1');
    assert.equal(seen.at(-1)!.path, '/1?version=v1');
  });

  /** Envoy's count of ext_proc streams opened (every ext_proc filter's `streams_started`). */
  async function streamsStarted(): Promise<number> {
    const r = await fetch(`${gw.envoy.adminUrl}/stats?format=json&filter=ext_proc\\.streams_started$`);
    const { stats } = (await r.json()) as { stats: Array<{ name?: string; value?: number }> };
    return stats.reduce((n, x) => n + (x.value ?? 0), 0);
  }

  /** `total` requests through the companion, 16 at a time: their statuses counted. */
  async function burst(total: number): Promise<Array<[number, number]>> {
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < total) {
        next++;
        const r = await send(gw, `/orders/${next}?version=v1`);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    }));
    return [...statuses];
  }

  test('thousands of requests in a row through the companion are all answered (Envoy closes each ext_proc stream gracefully)', async () => {
    // Envoy resetting every finished ext_proc stream made the companion's HTTP/2 server take the
    // resets for a rapid-reset flood after about a thousand: it refused new streams and closed the
    // connection, and the requests on it were answered 500 (bootstrap.ts, layeredRuntime).
    assert.deepEqual(await burst(2_500), [[200, 2_500]]);
  });

  test('an Envoy that resets each finished stream (its own bootstrap without graceful close) has every request answered too', async () => {
    // The runtime's admin layer turns the bootstrap's setting off, as an operator's own bootstrap
    // leaves it; Envoy reads it when it builds the ext_proc filter, so a route whose plugin adds a
    // filter makes it build the listener's filters anew.
    const flag = 'envoy.reloadable_features.ext_proc_graceful_grpc_close';
    const modify = async (value: boolean) => {
      const r = await fetch(`${gw.envoy.adminUrl}/runtime_modify?${flag}=${value}`, { method: 'POST' });
      assert.equal(r.status, 200, await r.text());
    };
    await modify(false);
    try {
      await gw.edit(`${config}
  - name: probe
    url: http://127.0.0.1:${upstreamPort}
    routes:
      - name: probe
        paths: [/probe]
        plugins:
          - name: cors
`);
      const before = await streamsStarted();
      assert.deepEqual(await burst(2_500), [[200, 2_500]]);
      assert.ok((await streamsStarted()) - before >= 2_500, 'the requests went through the companion');
    } finally {
      await modify(true);
      await gw.edit(config);
    }
  });

  test('a form body is transformed too; a body without the field passes unchanged', async () => {
    await send(gw, '/orders/2', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user_name=bob&x=1' });
    assert.equal(seen.at(-1)!.body, 'user_name=username&x=1');
    await send(gw, '/orders/3', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"other":true}' });
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), { other: true });
  });

  test('a multipart body: the replaced field written anew after the others, as Kong\'s lua-multipart writes it', async () => {
    const part = (name: string, value: string) => `--fd\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const body = `${part('user_name', 'carol')}${part('note', 'hi')}--fd--\r\n`;
    await send(gw, '/orders/4', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=fd' }, body });
    const up = seen.at(-1)!;
    assert.equal(up.body, `${part('note', 'hi')}${part('user_name', 'username')}--fd--\r\n`);
  });

  test('a body beyond the buffer limit (32 KiB) on a body-transforming route is refused with 413', async () => {
    const r = await send(gw, '/orders/big', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_name: 'x', pad: 'y'.repeat(64 * 1024) }) });
    assert.equal(r.status, 413);
  });

  test('a route whose transformer needs only headers never calls the companion', async () => {
    await transform.stop();
    const r = await send(gw, '/plain/x');
    assert.equal(r.status, 200);
    assert.equal(seen.at(-1)!.headers['x-only-headers'], 'yes');
    assert.equal(r.headers['x-served-by'], 'frontdesk');
    const down = await send(gw, '/orders/9');
    assert.equal(down.status, 500, 'a route that needs the companion fails closed without it');
  });
});
