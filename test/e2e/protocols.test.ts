// WebSocket and HTTP versions through a real Envoy: WebSocket frames both ways; a key-auth
// route authenticates the upgrade request (401 without a key, as Kong answers); a socket idle
// for longer than the service's timeouts is closed (Kong's read/write_timeout between two
// frames); a config edit while a socket is open leaves it open; an HTTP/1.1 client reaches an
// HTTP/2 (h2c) upstream, and an HTTP/2 client an HTTP/1.1 upstream.
import assert from 'node:assert/strict';
import { connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { startEchoUpstream } from '../support/upstream.js';
import { openWebSocket, startEchoWsServer, type EchoWsServer, type WsClient } from '../support/websocket.js';
import { waitFor } from '../support/wait.js';

function config(ws: string, h2Port: number, http1: string, extraRoute = ''): string {
  return `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: ws
    url: ${ws}
    connect_timeout: 3000
    read_timeout: 60000
    write_timeout: 60000
    routes:
      - name: ws-open
        paths: [/ws]
      - name: ws-keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
  - name: ws-short
    url: ${ws}
    connect_timeout: 3000
    read_timeout: 400
    write_timeout: 400
    routes:
      - name: ws-short
        paths: [/short]
  - name: h2
    url: grpc://127.0.0.1:${h2Port}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: h2
        paths: [/h2]
        protocols: [http]
  - name: http1
    url: ${http1}
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: http1
        paths: [/http1]
${extraRoute}`;
}

describe('WebSocket and HTTP versions through Envoy', () => {
  let ws: EchoWsServer;
  let h2: Http2Server;
  let h2Port: number;
  let http1: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  const open: WsClient[] = [];

  before(async () => {
    ws = await startEchoWsServer();
    http1 = await startEchoUpstream('http1');
    h2 = createH2Server((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ httpVersion: req.httpVersion, path: req.url }));
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
    h2Port = (h2.address() as AddressInfo).port;
    gw = await startGatewayWithAuthz(config(ws.url, h2Port, http1.url));
  });

  after(async () => {
    for (const c of open) c.close();
    await gw?.stop();
    await ws?.close();
    await http1?.close();
    await new Promise<void>((r) => h2?.close(() => r()));
  });

  const socket = async (path: string, headers: Record<string, string> = {}) => {
    const r = await openWebSocket(gw.proxyPort, path, headers);
    if (!r.ok) assert.fail(`upgrade refused: ${r.status} ${r.body}`);
    open.push(r.client);
    return r.client;
  };

  test('frames go both ways: the client\'s echoed, the server\'s own pushed', async () => {
    const c = await socket('/ws');
    c.send('hello');
    assert.equal(await c.next(), 'echo:hello');
    await waitFor(() => ws.upgrades.length > 0, 'the upstream to hold the socket');
    ws.broadcast('pushed');
    assert.equal(await c.next(), 'pushed');
  });

  test('key-auth: the upgrade without a key is refused with Kong\'s 401; with one it opens', async () => {
    const refused = await openWebSocket(gw.proxyPort, '/keyed');
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.status, 401);
      assert.deepEqual(JSON.parse(refused.body), { message: 'No API key found in request' });
    }
    const before = ws.upgrades.length;
    const c = await socket('/keyed', { apikey: 'alice-key' });
    c.send('let me in');
    assert.equal(await c.next(), 'echo:let me in');
    assert.equal(ws.upgrades[before]?.['x-consumer-username'], 'alice');
  });

  test('a socket idle for longer than the service\'s timeouts is closed', async () => {
    const c = await socket('/short');
    c.send('one');
    assert.equal(await c.next(), 'echo:one');
    await waitFor(() => c.isClosed(), 'Envoy to close the idle socket', 5000, 20);
  });

  test('a config edit while a socket is open keeps it open', async () => {
    const c = await socket('/ws');
    c.send('before');
    assert.equal(await c.next(), 'echo:before');
    await gw.edit(config(ws.url, h2Port, http1.url, `routes:
  - name: added
    service: http1
    paths: [/added]
`));
    assert.equal((await fetch(`${gw.proxy}/added`)).status, 200, 'the edit is live');
    c.send('after');
    assert.equal(await c.next(), 'echo:after');
    assert.equal(c.isClosed(), false);
  });

  test('an HTTP/1.1 client reaches an HTTP/2 (h2c) upstream', async () => {
    const res = await fetch(`${gw.proxy}/h2/thing`);
    assert.equal(res.status, 200);
    const body = await res.json() as { httpVersion: string; path: string };
    assert.equal(body.httpVersion, '2.0');
  });

  test('an HTTP/2 client (h2c) reaches an HTTP/1.1 upstream', async () => {
    const session = connect(`http://127.0.0.1:${gw.proxyPort}`);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/http1/x', ':method': 'GET' });
        let status = 0;
        let body = '';
        req.on('response', (h) => (status = Number(h[':status'])));
        req.setEncoding('utf8');
        req.on('data', (d: string) => (body += d));
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
      const echo = JSON.parse(body) as { upstream: string; path: string };
      assert.equal(echo.upstream, 'http1');
      assert.equal(echo.path, '/x');
    } finally {
      session.close();
    }
  });
});
