// Routing through a real Envoy fed by Frontdesk: path, host, method, header, regex, strip_path,
// Kong's 404, HTTP/2, and the request headers an upstream sees.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startEchoUpstream, type EchoReply } from '../support/upstream.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;

/** One HTTP/1.1 request through the proxy (node:http, since fetch cannot set Host). */
function get(gw: Gateway, path: string, init: { method?: string; headers?: Record<string, string>; body?: string; host?: string } = {}): Promise<{ status: number; body: EchoReply & { message?: string }; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, method: init.method ?? 'GET', headers: { ...init.headers, ...(init.host ? { host: init.host } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {}, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('routing through Envoy', () => {
  let a: Upstream;
  let b: Upstream;
  let c: Upstream;
  let gw: Gateway;

  before(async () => {
    [a, b, c] = await Promise.all([startEchoUpstream('a'), startEchoUpstream('b'), startEchoUpstream('c')]);
    gw = await startGateway(`
_format_version: "3.0"
services:
  - name: svc-a
    url: ${a.url}
    routes:
      - name: a-prefix
        paths: [/a]
      - name: a-keep
        paths: [/keep]
        strip_path: false
      - name: a-methods
        paths: [/write]
        methods: [POST, PUT]
  - name: svc-b
    url: ${b.url}/base
    routes:
      - name: b-host
        hosts: [api.example.com]
        paths: [/]
      - name: b-wild
        hosts: ["*.wild.test"]
      - name: b-strip
        paths: [/b]
      - name: b-regex
        paths: ["~/users/\\\\d+$"]
        strip_path: false
  - name: svc-c
    url: ${c.url}
    routes:
      - name: c-header
        paths: [/a]
        headers:
          x-version: [v2, V3]
      - name: c-longer
        paths: [/a/longer]
      - name: c-preserve
        paths: [/preserve]
        preserve_host: true
      - name: c-get
        paths: [/write]
        methods: [GET]
      - name: c-v6
        hosts: ["[::1]:8443", "[fe80::1]"]
        paths: [/v6]
  - name: svc-down
    url: http://127.0.0.1:1
    retries: 0
    routes:
      - name: down
        paths: [/down]
`);
  });

  after(async () => {
    await gw?.stop();
    await Promise.all([a, b, c].map((u) => u?.close()));
  });

  test('a prefix path routes and strips the prefix (strip_path defaults to true)', async () => {
    const r = await get(gw, '/a/items?x=1');
    assert.equal(r.status, 200);
    assert.equal(r.body.upstream, 'a');
    assert.equal(r.body.path, '/items?x=1');
  });

  test('the path itself strips to "/"', async () => {
    const r = await get(gw, '/a');
    assert.equal(r.body.upstream, 'a');
    assert.equal(r.body.path, '/');
  });

  test('strip_path false keeps the path', async () => {
    const r = await get(gw, '/keep/this');
    assert.equal(r.body.upstream, 'a');
    assert.equal(r.body.path, '/keep/this');
  });

  test('the service path is joined to what is left (path_handling v0)', async () => {
    assert.equal((await get(gw, '/b/x/y')).body.path, '/base/x/y');
    assert.equal((await get(gw, '/b')).body.path, '/base');
  });

  test('the longest prefix wins', async () => {
    assert.equal((await get(gw, '/a/longer/z')).body.upstream, 'c');
  });

  test('a route with a header match beats the same path without one, values case-insensitive', async () => {
    assert.equal((await get(gw, '/a/x', { headers: { 'x-version': 'v2' } })).body.upstream, 'c');
    assert.equal((await get(gw, '/a/x', { headers: { 'x-version': 'v3' } })).body.upstream, 'c');
    assert.equal((await get(gw, '/a/x', { headers: { 'x-version': 'v4' } })).body.upstream, 'a');
  });

  test('methods select between routes on one path', async () => {
    assert.equal((await get(gw, '/write', { method: 'POST', body: 'x' })).body.upstream, 'a');
    assert.equal((await get(gw, '/write')).body.upstream, 'c');
    const del = await get(gw, '/write', { method: 'DELETE' });
    assert.equal(del.status, 404);
  });

  test('hosts route by Host header, wildcards included', async () => {
    const r = await get(gw, '/anything', { host: 'api.example.com' });
    assert.equal(r.body.upstream, 'b');
    assert.equal(r.body.path, '/base/anything');
    assert.equal((await get(gw, '/q', { host: 'x.wild.test' })).body.upstream, 'b');
    assert.equal((await get(gw, '/q', { host: 'api.example.com:8000' })).body.upstream, 'b');
    assert.equal((await get(gw, '/q', { host: 'other.test' })).status, 404);
  });

  test('IPv6 hosts, bracketed, with and without a port (Kong normalize_ipv6)', async () => {
    assert.equal((await get(gw, '/v6/x', { host: '[::1]:8443' })).body.upstream, 'c');
    assert.equal((await get(gw, '/v6/x', { host: '[::1]:9000' })).status, 404, 'a host with a port matches that port only');
    assert.equal((await get(gw, '/v6/x', { host: '[fe80::1]' })).body.upstream, 'c');
    assert.equal((await get(gw, '/v6/x', { host: '[fe80::1]:1234' })).body.upstream, 'c', 'a host without a port matches any port');
  });

  test('a host-less route still matches under a host that has routes', async () => {
    const r = await get(gw, '/a/z', { host: 'x.wild.test' });
    assert.equal(r.body.upstream, 'a', 'one criterion each: the path /a is longer than no path, so it outranks the wildcard host');
    assert.equal((await get(gw, '/zzz', { host: 'x.wild.test' })).body.upstream, 'b');
    const r2 = await get(gw, '/keep/1', { host: 'api.example.com' });
    assert.equal(r2.body.upstream, 'b', 'a route with hosts outranks a host-less one (more criteria)');
  });

  test('regex paths match from the start', async () => {
    assert.equal((await get(gw, '/users/42')).body.upstream, 'b');
    assert.equal((await get(gw, '/users/42')).body.path, '/base/users/42');
    assert.equal((await get(gw, '/users/abc')).status, 404);
  });

  test("unmatched requests get Kong's 404 JSON", async () => {
    const r = await get(gw, '/nope');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, { message: 'no Route matched with those values' });
    assert.match(String(r.headers['content-type']), /application\/json/);
  });

  test('Host is rewritten to the service host unless preserve_host', async () => {
    assert.equal((await get(gw, '/a/h')).body.headers.host, `127.0.0.1:${a.port}`);
    assert.equal((await get(gw, '/preserve', { host: 'client.example' })).body.headers.host, 'client.example');
  });

  // Kong's access phase (kong/runloop/handler.lua) with no trusted_ips: X-Real-IP is the
  // connection's address, X-Forwarded-For the client's list with that address appended,
  // X-Forwarded-Proto/-Host/-Port the request's scheme, host and the port it came in on,
  // X-Forwarded-Path the request path without its query, X-Forwarded-Prefix the prefix
  // strip_path removed; a client's own copies of those are overwritten, never passed on.
  const SPOOFED = {
    'x-real-ip': '203.0.113.7', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example',
    'x-forwarded-port': '4433', 'x-forwarded-path': '/evil', 'x-forwarded-prefix': '/evil',
  };
  const list = (v: unknown) => String(v).split(',').map((s) => s.trim());

  test("Kong's X-Forwarded-* and X-Real-IP headers reach the upstream, a client's own copies overwritten", async () => {
    for (const headers of [{}, SPOOFED]) {
      const sent = headers as Record<string, string>;
      const r = await get(gw, '/a/items?x=1', { host: 'client.example', headers: sent });
      assert.equal(r.body.upstream, 'a');
      const h = r.body.headers;
      assert.equal(h['x-real-ip'], '127.0.0.1');
      // One address appended to the client's list. (For a loopback client, as here, Envoy appends
      // its own non-loopback address where Kong would write 127.0.0.1.)
      const xff = list(h['x-forwarded-for']);
      assert.deepEqual(xff.slice(0, -1), sent['x-forwarded-for'] ? ['203.0.113.7'] : []);
      assert.match(xff.at(-1)!, /^[\d.]+$/);
      assert.equal(h['x-forwarded-proto'], 'http');
      assert.equal(h['x-forwarded-host'], 'client.example');
      assert.equal(h['x-forwarded-port'], String(gw.proxyPort));
      assert.equal(h['x-forwarded-path'], '/a/items');
      assert.equal(h['x-forwarded-prefix'], '/a');
      assert.equal(h.host, `127.0.0.1:${a.port}`, 'Host is the service host: X-Forwarded-Host kept the client one');
    }
  });

  test('X-Forwarded-Host is the client host on a preserve_host route too, and on the stripped path itself', async () => {
    const kept = await get(gw, '/preserve/x', { host: 'client.example', headers: SPOOFED });
    assert.equal(kept.body.headers.host, 'client.example');
    assert.equal(kept.body.headers['x-forwarded-host'], 'client.example');
    assert.equal(kept.body.headers['x-forwarded-port'], String(gw.proxyPort));
    assert.equal(kept.body.headers['x-real-ip'], '127.0.0.1');
    const exact = await get(gw, '/a', { host: 'client.example', headers: SPOOFED });
    assert.equal(exact.body.path, '/');
    assert.equal(exact.body.headers['x-forwarded-host'], 'client.example');
    assert.equal(exact.body.headers['x-forwarded-path'], '/a');
    assert.equal(exact.body.headers['x-forwarded-prefix'], '/a');
  });

  test('a route that strips no prefix (or only "/") sends no X-Forwarded-Prefix, whatever the client sent', async () => {
    const r = await get(gw, '/keep/this', { headers: SPOOFED });
    assert.equal(r.body.path, '/keep/this');
    assert.equal(r.body.headers['x-forwarded-prefix'], undefined);
    assert.equal(r.body.headers['x-forwarded-path'], '/keep/this');
    const root = await get(gw, '/anything', { host: 'api.example.com', headers: SPOOFED });
    assert.equal(root.body.upstream, 'b');
    assert.equal(root.body.headers['x-forwarded-prefix'], undefined, 'strip_path on "/" strips nothing Kong names (match_t.prefix "/")');
  });

  test("an upstream that refuses connections gets Kong's 502 JSON", async () => {
    const r = await get(gw, '/down');
    assert.equal(r.status, 502);
    assert.deepEqual(r.body, { message: 'An invalid response was received from the upstream server' });
  });

  test('HTTP/2 (h2c prior knowledge) is served on the same port', async () => {
    const session = connect(gw.proxy);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': '/a/h2', ':method': 'GET' });
        let data = '';
        req.setEncoding('utf8');
        req.on('data', (d) => (data += d));
        req.on('end', () => resolve(data));
        req.on('error', reject);
        req.end();
      });
      const reply = JSON.parse(body) as EchoReply;
      assert.equal(reply.upstream, 'a');
      assert.equal(reply.path, '/h2');
    } finally {
      session.close();
    }
  });
});
