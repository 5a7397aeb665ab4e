// Kong's proxy-cache through a real Envoy (kong/plugins/proxy-cache/handler.lua is the reference
// for every expectation): Miss then Hit with Age and the same X-Cache-Key; Bypass for a method,
// a status or a content type Kong does not cache; the query and vary headers in the key; a TTL
// that expires (polled); Cache-Control ignored by default and honoured with cache_control; a
// consumer's own cache config; an edit of the config starts on fresh entries (purge by edit).
// The upstream counts its requests, so a hit is one the upstream never saw.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

/** An upstream whose answer the query picks: ?status=&ct=&cc= ; the body names the request number and path. */
async function startCountingUpstream(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const headers: Record<string, string> = { 'content-type': q.get('ct') ?? 'application/json' };
    if (q.get('cc')) headers['cache-control'] = q.get('cc')!;
    if (q.get('cookies')) res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.writeHead(Number(q.get('status') ?? 200), headers);
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ n, path: req.url, lang: req.headers['x-lang'] ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => n,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

function config(upstream: string, ttl = 300): string {
  return `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
    plugins:
      - name: proxy-cache
        route: personal
        config: { strategy: memory }
  - username: bob
    keyauth_credentials: [{ key: bob-key }]
services:
  - name: up
    url: ${upstream}/base
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: cached
        paths: [/cached]
        plugins:
          - name: proxy-cache
            config: { strategy: memory, cache_ttl: ${ttl}, content_type: [application/json], vary_headers: [X-Lang] }
      - name: some-params
        paths: [/params]
        plugins:
          - name: proxy-cache
            config: { strategy: memory, content_type: [application/json], vary_query_params: [a] }
      - name: short
        paths: [/short]
        plugins:
          - name: proxy-cache
            config: { strategy: memory, cache_ttl: 1, content_type: [application/json] }
      - name: honouring
        paths: [/honouring]
        plugins:
          - name: proxy-cache
            config: { strategy: memory, cache_control: true, content_type: [application/json] }
      - name: personal
        paths: [/personal]
        plugins:
          - name: key-auth
`;
}

describe('proxy-cache through Envoy', () => {
  let up: Awaited<ReturnType<typeof startCountingUpstream>>;
  let gw: Gateway;

  before(async () => {
    up = await startCountingUpstream();
    gw = await startGatewayWithAuthz(config(up.url));
  });

  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  const get = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${gw.proxy}${path}`, init);
    const text = await res.text();
    return { status: res.status, cache: res.headers.get('x-cache-status'), key: res.headers.get('x-cache-key'), age: res.headers.get('age'), cc: res.headers.get('cache-control'), text };
  };

  test('a GET is a Miss, then a Hit with Age and the same X-Cache-Key; the upstream saw the stripped path once', async () => {
    const before = up.count();
    const first = await get('/cached/one');
    assert.equal(first.cache, 'Miss');
    assert.match(first.key ?? '', /^[0-9a-f]{16}$/);
    assert.equal(JSON.parse(first.text).path, '/base/one');
    const second = await get('/cached/one');
    assert.equal(second.cache, 'Hit');
    assert.equal(second.key, first.key);
    assert.equal(second.text, first.text);
    assert.match(second.age ?? '', /^\d+$/);
    assert.equal(up.count(), before + 1);
  });

  test('a hit replays every header the upstream sent, repeated ones included', async () => {
    const first = await fetch(`${gw.proxy}/cached/cookies?cookies=2`);
    await first.text();
    assert.equal(first.headers.get('x-cache-status'), 'Miss');
    const hit = await fetch(`${gw.proxy}/cached/cookies?cookies=2`);
    await hit.text();
    assert.equal(hit.headers.get('x-cache-status'), 'Hit');
    assert.deepEqual(hit.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.equal(hit.headers.get('content-type'), 'application/json');
  });

  test('Bypass: a method, a status and a content type Kong does not cache', async () => {
    const before = up.count();
    for (let i = 0; i < 2; i++) {
      assert.equal((await get('/cached/post', { method: 'POST' })).cache, 'Bypass');
      assert.equal((await get('/cached/status?status=500')).cache, 'Bypass');
      assert.equal((await get('/cached/html?ct=text/html')).cache, 'Bypass');
    }
    assert.equal(up.count(), before + 6);
  });

  test('HEAD is cached apart from GET (the method is in the key)', async () => {
    assert.equal((await get('/cached/head', { method: 'HEAD' })).cache, 'Miss');
    assert.equal((await get('/cached/head', { method: 'HEAD' })).cache, 'Hit');
    assert.equal((await get('/cached/head')).cache, 'Miss');
  });

  test('the query is in the key: every parameter by default, only vary_query_params when set', async () => {
    assert.equal((await get('/cached/q?a=1&b=1')).cache, 'Miss');
    assert.equal((await get('/cached/q?b=1&a=1')).cache, 'Hit'); // sorted, as Kong's params_key
    assert.equal((await get('/cached/q?a=1&b=2')).cache, 'Miss');
    assert.equal((await get('/params/q?a=1&b=1')).cache, 'Miss');
    assert.equal((await get('/params/q?a=1&b=2')).cache, 'Hit');
    assert.equal((await get('/params/q?a=2&b=1')).cache, 'Miss');
  });

  test('vary_headers: each value of X-Lang has its own entry', async () => {
    const en = await get('/cached/lang', { headers: { 'x-lang': 'en' } });
    const fr = await get('/cached/lang', { headers: { 'x-lang': 'fr' } });
    assert.equal(en.cache, 'Miss');
    assert.equal(fr.cache, 'Miss');
    const en2 = await get('/cached/lang', { headers: { 'x-lang': 'en' } });
    assert.equal(en2.cache, 'Hit');
    assert.equal(JSON.parse(en2.text).lang, 'en');
  });

  test('cache_ttl: an entry older than its TTL is fetched again', async () => {
    assert.equal((await get('/short/t')).cache, 'Miss');
    // The TTL is 1 s and Kong counts whole seconds, so the stored entry may expire before the
    // next request on a busy machine: that request stores it again, and one soon after hits.
    await waitFor(async () => (await get('/short/t')).cache === 'Hit', 'a request served from the cache', 5000, 20);
    // Poll until the entry is gone.
    const later = await waitFor(async () => { const r = await get('/short/t'); return r.cache !== 'Hit' ? r : undefined; }, 'the entry to expire', 5000, 100);
    assert.equal(later.cache, 'Miss');
  });

  test('cache_control false (default): the upstream\'s no-store is stored anyway and reaches the client unchanged', async () => {
    assert.equal((await get('/cached/cc?cc=no-store')).cache, 'Miss');
    const hit = await get('/cached/cc?cc=no-store');
    assert.equal(hit.cache, 'Hit');
    assert.equal(hit.cc, 'no-store');
  });

  test('cache_control true: no-store and private are not stored, max-age is, and the client\'s no-cache bypasses', async () => {
    assert.equal((await get('/honouring/a?cc=no-store')).cache, 'Bypass');
    assert.equal((await get('/honouring/a?cc=private,max-age=60')).cache, 'Bypass');
    assert.equal((await get('/honouring/b?cc=max-age=60')).cache, 'Miss');
    assert.equal((await get('/honouring/b?cc=max-age=60')).cache, 'Hit');
    assert.equal((await get('/honouring/b?cc=max-age=60', { headers: { 'cache-control': 'no-cache' } })).cache, 'Bypass');
    assert.equal((await get('/honouring/c')).cache, 'Bypass'); // no freshness information: resource_ttl 0
  });

  test('a consumer-scoped proxy-cache caches that consumer\'s calls only, under its own key', async () => {
    const alice = { headers: { apikey: 'alice-key' } };
    assert.equal((await get('/personal/me', alice)).cache, 'Miss');
    const hit = await get('/personal/me', alice);
    assert.equal(hit.cache, 'Hit');
    const bob = await get('/personal/me', { headers: { apikey: 'bob-key' } });
    assert.equal(bob.status, 200);
    assert.equal(bob.cache, null);
  });

  test('an edit of the plugin\'s config starts on fresh entries (Kong\'s purge, by editing)', async () => {
    assert.equal((await get('/cached/edit')).cache, 'Miss');
    assert.equal((await get('/cached/edit')).cache, 'Hit');
    await gw.edit(config(up.url, 600));
    assert.equal((await get('/cached/edit')).cache, 'Miss');
    assert.equal((await get('/cached/edit')).cache, 'Hit');
  });
});
