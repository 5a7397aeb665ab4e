// pre-function and post-function through a real Envoy: the operator's Lua runs in Envoy's Lua
// filter with the part of Kong's PDK Envoy gives. What is expected is Kong's documented behaviour:
// the PDK functions' effects (kong.service.request.* on what the upstream gets, kong.response.exit
// answering with a JSON body for a table, kong.response.* in header_filter on what the client
// gets), Kong's order of plugins (pre-function before key-auth, post-function after it, both
// phases), a chunk that returns a function keeping its upvalues from request to request, and an
// error in the code answered 500 `An unexpected error occurred` (Kong's serverless handler).
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { h2Request, proxyRequest } from '../support/proxy-request.js';
import { startEchoUpstream } from '../support/upstream.js';

const lua = (code: string) => JSON.stringify(code);
const config = (upstream: string) => `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: svc
    url: ${upstream}
    routes:
      - name: edit
        paths: [/edit]
        plugins:
          - name: pre-function
            config:
              access:
                - ${lua('kong.service.request.set_header("x-added", "yes")\nkong.service.request.clear_header("x-secret")')}
                - ${lua('if kong.request.get_header("x-block") then return kong.response.exit(403, { message = "blocked" }, { ["X-Why"] = "rule" }) end')}
                - ${lua('if kong.request.get_query_arg("page") then kong.service.request.set_query({ page = kong.request.get_query_arg("page") + 1, q = "a b" }) end')}
      - name: counter
        paths: [/counter]
        plugins:
          - name: pre-function
            config:
              access:
                - ${lua('local n = 0\nreturn function()\n  n = n + 1\n  kong.service.request.set_header("x-count", n)\nend')}
      - name: headers
        paths: [/headers]
        plugins:
          - name: pre-function
            config:
              access: [${lua('kong.ctx.shared.started = "by-pre"')}]
              header_filter:
                - ${lua('kong.response.set_header("x-status-seen", kong.response.get_status())\nkong.response.clear_header("x-upstream")\nif kong.request.get_path() == "/headers/ping" then kong.response.set_header("x-path", kong.request.get_path()) end')}
          - name: post-function
            config:
              access: [${lua('kong.service.request.set_header("x-shared", kong.ctx.shared.started or "none")')}]
              header_filter: [${lua('kong.response.set_header("x-shared-back", kong.ctx.shared.started or "none")')}]
      - name: ordered
        paths: [/ordered]
        plugins:
          - { name: key-auth }
          - name: pre-function
            config:
              access: [${lua('if kong.request.get_header("x-teapot") then return kong.response.exit(418, "short and stout") end')}]
          - name: post-function
            config:
              access: [${lua('kong.service.request.set_header("x-who", kong.request.get_header("x-consumer-username") or "nobody")\nlocal c = kong.client.get_consumer()\nkong.service.request.set_header("x-consumer-seen", c and c.username or "none")')}]
      - name: ordered-companion
        paths: [/ordered-companion]
        plugins:
          - { name: key-auth, config: { enforcer: companion } }
          - name: post-function
            config:
              access: [${lua('local c = kong.client.get_consumer()\nkong.service.request.set_header("x-consumer-seen", c and c.username or "none")')}]
      - name: consumer-early
        paths: [/consumer-early]
        plugins:
          - name: pre-function
            config:
              access: [${lua('kong.service.request.set_header("x-consumer-seen", kong.client.get_consumer() and "someone" or "none")')}]
      - name: body
        paths: [/body]
        plugins:
          - name: pre-function
            config:
              access: [${lua('local b = kong.request.get_raw_body()\nkong.service.request.set_raw_body(string.upper(b))\nkong.service.request.set_header("x-sandbox", type(io) .. "," .. type(os.execute) .. "," .. type(require))')}]
      - name: shout
        paths: [/shout]
        plugins:
          - name: post-function
            config:
              header_filter: [${lua('kong.response.set_header("x-shouted", "yes")')}]
              body_filter: [${lua('local b = kong.response.get_raw_body()\nif b and kong.response.get_status() == 200 then kong.response.set_raw_body(string.upper(b) .. "!") end')}]
      - name: broken-body
        paths: [/broken-body]
        plugins:
          - name: pre-function
            config:
              body_filter: [${lua('error("no")')}]
      - name: broken
        paths: [/broken]
        plugins:
          - name: pre-function
            config:
              access: [${lua('local t = nil\nreturn t.field')}]
`;

type Seen = { path: string; body: string; headers: Record<string, string | undefined> };

describe('pre-function and post-function through Envoy', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let gw: Gateway;
  before(async () => {
    upstream = await startEchoUpstream('fn');
    gw = await startGatewayWithAuthz(config(upstream.url));
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  test('kong.service.request.*: headers set and cleared, the query string replaced, as the upstream sees them', async () => {
    const r = await proxyRequest(gw, { path: '/edit/items?page=1', headers: { 'x-secret': 'hush' } });
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text) as Seen;
    assert.equal(seen.headers['x-added'], 'yes');
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.path, '/items?page=2&q=a%20b');
  });

  test('kong.response.exit with a table answers Kong\'s JSON, with the headers given; the upstream is not asked', async () => {
    const before = upstream.requests.length;
    const r = await proxyRequest(gw, { path: '/edit', headers: { 'x-block': '1' } });
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.text), { message: 'blocked' });
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['x-why'], 'rule');
    assert.equal(upstream.requests.length, before);
  });

  test('a chunk that returns a function: the function runs for every request, its upvalue counting them', async () => {
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await proxyRequest(gw, { path: '/counter' });
      counts.push(Number((JSON.parse(r.text) as Seen).headers['x-count']));
    }
    assert.equal(counts[0]! >= 1, true);
    assert.deepEqual(counts.map((c) => c - counts[0]!), [0, 1, 2, 3], 'one Envoy worker: one counter');
  });

  test('header_filter: the response\'s status read and headers changed; the request still readable; kong.ctx.shared carried across plugins and phases', async () => {
    const r = await proxyRequest(gw, { path: '/headers/ping' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-status-seen'], '200');
    assert.equal(r.headers['x-upstream'], undefined, 'cleared from the upstream\'s answer');
    assert.equal(r.headers['x-path'], '/headers/ping');
    assert.equal(r.headers['x-shared-back'], 'by-pre');
    assert.equal((JSON.parse(r.text) as Seen).headers['x-shared'], 'by-pre', 'post-function\'s access sees what pre-function\'s stored');
    const other = await proxyRequest(gw, { path: '/headers/other' });
    assert.equal(other.headers['x-path'], undefined);
  });

  test('Kong\'s order: pre-function answers before key-auth asks for a key; post-function runs after it and sees the consumer', async () => {
    const teapot = await proxyRequest(gw, { path: '/ordered', headers: { 'x-teapot': '1' } });
    assert.equal(teapot.status, 418);
    assert.equal(teapot.text, 'short and stout');
    assert.equal((await proxyRequest(gw, { path: '/ordered' })).status, 401);
    const ok = await proxyRequest(gw, { path: '/ordered', headers: { apikey: 'alice-key' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((JSON.parse(ok.text) as Seen).headers['x-who'], 'alice');
    assert.equal((JSON.parse(ok.text) as Seen).headers['x-consumer-seen'], 'alice', 'kong.client.get_consumer after native key-auth');
  });

  test('kong.client.get_consumer: the consumer the companion settled on; none on a route without auth, whatever the client sends', async () => {
    const viaCompanion = await proxyRequest(gw, { path: '/ordered-companion', headers: { apikey: 'alice-key' } });
    assert.equal(viaCompanion.status, 200, viaCompanion.text);
    assert.equal((JSON.parse(viaCompanion.text) as Seen).headers['x-consumer-seen'], 'alice');
    const forged = await proxyRequest(gw, { path: '/consumer-early', headers: { 'x-consumer-id': 'forged', 'x-consumer-username': 'alice' } });
    assert.equal((JSON.parse(forged.text) as Seen).headers['x-consumer-seen'], 'none');
  });

  test('the body read and replaced (HTTP/2 too); the sandbox has no io, os.execute or require', async () => {
    const r = await proxyRequest(gw, { method: 'POST', path: '/body', headers: { 'content-type': 'text/plain' }, body: 'hello body' });
    assert.equal(r.status, 200, r.text);
    const seen = JSON.parse(r.text) as Seen;
    assert.equal(seen.body, 'HELLO BODY');
    assert.equal(seen.headers['content-length'], '10');
    assert.equal(seen.headers['x-sandbox'], 'nil,nil,nil');
    const session = connect(`http://127.0.0.1:${gw.proxyPort}`);
    try {
      const h2 = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const s = session.request({ ':method': 'POST', ':path': '/body', 'content-type': 'text/plain' });
        let status = 0;
        let body = '';
        s.on('response', (h) => { status = Number(h[':status']); });
        s.setEncoding('utf8');
        s.on('data', (d: string) => { body += d; });
        s.on('end', () => resolve({ status, body }));
        s.on('error', reject);
        s.end('over h2');
      });
      assert.equal(h2.status, 200);
      assert.equal((JSON.parse(h2.body) as Seen).body, 'OVER H2');
      assert.equal((await h2Request(session, { ':path': '/edit', 'x-block': '1' })).status, 403);
    } finally {
      session.close();
    }
  });

  test('body_filter: the whole response body read and replaced, its Content-Length with it; an error there is 500', async () => {
    const r = await proxyRequest(gw, { path: '/shout/it' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-shouted'], 'yes');
    assert.ok(r.text.endsWith('!'), r.text);
    const body = JSON.parse(r.text.slice(0, -1)) as { PATH: string; UPSTREAM: string };
    assert.deepEqual([body.PATH, body.UPSTREAM], ['/IT', 'FN']);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text));
    const broken = await proxyRequest(gw, { path: '/broken-body' });
    assert.equal(broken.status, 500);
    assert.deepEqual(JSON.parse(broken.text), { message: 'An unexpected error occurred' });
  });

  test('an error in the code is 500 An unexpected error occurred, and the request goes no further', async () => {
    const before = upstream.requests.length;
    const r = await proxyRequest(gw, { path: '/broken' });
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.text), { message: 'An unexpected error occurred' });
    assert.equal(upstream.requests.length, before);
  });
});
