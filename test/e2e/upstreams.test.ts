// Upstreams and targets through Envoy: weighted round robin, a weight-0 target switched off,
// consistent hashing on a header, the target's host:port as Host, and an active health
// check taking a failing target out of rotation.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;

function call(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; upstream?: string; host?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        const body = res.statusCode === 200 ? JSON.parse(text) as { upstream: string; headers: { host: string } } : undefined;
        resolve({ status: res.statusCode ?? 0, upstream: body?.upstream, host: body?.headers.host });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('upstreams and targets', () => {
  let a: Upstream;
  let b: Upstream;
  let off: Upstream;
  let gw: Gateway;
  let healthy = true;

  before(async () => {
    [a, b, off] = await Promise.all([startEchoUpstream('a'), startEchoUpstream('b'), startEchoUpstream('off')]);
    // b answers its health check from the flag, everything else as an echo.
    b.server.removeAllListeners('request');
    b.server.on('request', (req, res) => {
      if (req.url === '/health') { res.writeHead(healthy ? 200 : 500); res.end(); return; }
      const body = JSON.stringify({ upstream: 'b', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    gw = await startGateway(`
_format_version: "3.0"
upstreams:
  - name: pool
    targets:
      - { target: 127.0.0.1:${a.port}, weight: 100 }
      - { target: 127.0.0.1:${b.port}, weight: 100 }
      - { target: 127.0.0.1:${off.port}, weight: 0 }
    healthchecks:
      active:
        http_path: /health
        timeout: 1
        healthy: { interval: 0.1, successes: 1 }
        unhealthy: { interval: 0.1, http_failures: 1 }
  - name: sticky
    algorithm: consistent-hashing
    hash_on: header
    hash_on_header: x-user
    targets:
      - target: 127.0.0.1:${a.port}
      - target: 127.0.0.1:${b.port}
services:
  - name: balanced
    host: pool
    routes: [{ name: balanced, paths: [/rr] }]
  - name: hashed
    host: sticky
    routes: [{ name: hashed, paths: [/hash] }]
`);
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([a, b, off].map((u) => u?.close()));
  });

  test('round robin spreads requests over the live targets; weight 0 gets none', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const r = await call(gw, '/rr/x');
      seen.set(r.upstream!, (seen.get(r.upstream!) ?? 0) + 1);
    }
    assert.ok((seen.get('a') ?? 0) > 5 && (seen.get('b') ?? 0) > 5, JSON.stringify([...seen]));
    assert.equal(seen.get('off'), undefined);
  });

  test('Host is the picked target\'s host:port, as Kong sends it', async () => {
    const r = await call(gw, '/rr/host');
    const port = r.upstream === 'a' ? a.port : b.port;
    assert.equal(r.host, `127.0.0.1:${port}`);
  });

  test('consistent hashing keeps a header value on one target', async () => {
    for (const user of ['alice', 'bob', 'carol']) {
      const first = (await call(gw, '/hash/1', { 'x-user': user })).upstream;
      for (let i = 0; i < 10; i++) assert.equal((await call(gw, '/hash/1', { 'x-user': user })).upstream, first);
    }
  });

  test('an active health check takes a failing target out, and back in when it recovers', async () => {
    healthy = false;
    await waitFor(async () => {
      for (let i = 0; i < 10; i++) if ((await call(gw, '/rr/hc')).upstream === 'b') return false;
      return true;
    }, 'b to be taken out of rotation', 10_000, 50);
    healthy = true;
    await waitFor(async () => (await call(gw, '/rr/hc')).upstream === 'b', 'b to come back', 10_000, 20);
  });
});
