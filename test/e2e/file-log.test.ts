// Kong's file-log through a real Envoy: one JSON line per request in Kong's log shape, the
// consumer the authz companion identified, denied requests logged with their status, and no
// credential in the file (Authorization, Cookie, the key-auth header and query parameter).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { authzForTests, type TestAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

type Upstream = Awaited<ReturnType<typeof startEchoUpstream>>;
type Entry = Record<string, any>;

function send(gw: Gateway, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gw.proxyPort, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function entries(file: string): Entry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Entry);
}

/** The entry of the request that carried `user-agent: id`, once Envoy has written it (within its 1 s flush). */
function entryOf(file: string, id: string): Promise<Entry> {
  return waitFor(() => entries(file).find((e) => e.request?.headers?.['user-agent'] === id), `the log entry of ${id}`, 15_000);
}

const SECRET = 'sEcReT-partner-key';

function config(upstream: string, dir: string): string {
  return `_format_version: "3.0"
plugins:
  - name: file-log
    config: { path: ${join(dir, 'all.log')} }
consumers:
  - username: partner
    keyauth_credentials:
      - key: ${SECRET}
services:
  - name: shop
    url: ${upstream}
    routes:
      - name: open
        paths: [/open]
      - name: keyed
        paths: [/keyed]
        plugins:
          - name: key-auth
            config: { key_names: [x-api-key, apikey] }
  - name: audit
    url: ${upstream}
    plugins:
      - name: file-log
        config: { path: ${join(dir, 'audit.log')} }
    routes:
      - name: audited
        paths: [/audited]
`;
}

describe('file-log: Kong log entries from Envoy', () => {
  let up: Upstream;
  let gw: Gateway;
  let authz: TestAuthz;
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-file-log-'));
  const all = join(dir, 'all.log');
  const audit = join(dir, 'audit.log');

  before(async () => {
    up = await startEchoUpstream('shop');
    const az = await authzForTests();
    gw = await startGateway(config(up.url, dir), { settings: { authz: { ...DEFAULT_SETTINGS.authz, port: az.port } } });
    authz = az.attach(gw.xdsPort);
    await authz.start();
  });
  after(async () => {
    await gw?.stop();
    await authz?.stop();
    await up?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a proxied request: Kong\'s fields, service and route by name, no consumer', async () => {
    const before = Date.now();
    assert.equal(await send(gw, '/open/items?page=2', { 'user-agent': 'open-1', authorization: 'Bearer abc.def', cookie: 'session=s3cr3t' }), 200);
    const e = await entryOf(all, 'open-1');
    assert.equal(e.request.method, 'GET');
    assert.equal(e.request.uri, '/open/items', 'the path as sent, without its query');
    assert.equal(e.request.url, `http://127.0.0.1:${gw.proxyPort}/open/items`);
    assert.equal(e.request.headers.host, `127.0.0.1:${gw.proxyPort}`);
    assert.equal(e.request.headers.authorization, undefined);
    assert.equal(e.request.headers.cookie, undefined);
    assert.equal(e.response.status, 200);
    assert.equal(e.response.headers['content-type'], 'application/json');
    assert.ok(e.response.size > 0);
    assert.equal(e.service.name, 'shop');
    assert.equal(e.route.name, 'open');
    assert.equal(e.consumer, undefined);
    assert.equal(e.client_ip, '127.0.0.1');
    // strip_path: the upstream saw /items
    assert.equal(e.upstream_uri, '/items');
    assert.equal(e.tries, 1);
    assert.ok(typeof e.latencies.request === 'number' && e.latencies.request >= 0);
    assert.ok(typeof e.latencies.proxy === 'number');
    const started = Number(e.started_at);
    assert.ok(started >= before - 1000 && started <= Date.now(), `started_at ${e.started_at} is the request's time in ms`);
    const text = readFileSync(all, 'utf8');
    assert.ok(!text.includes('abc.def') && !text.includes('s3cr3t'), 'no credential in the file');
  });

  test('the consumer after key-auth, and no key in the file (header or query)', async () => {
    assert.equal(await send(gw, '/keyed/a', { 'user-agent': 'keyed-1', 'x-api-key': SECRET }), 200);
    assert.equal(await send(gw, `/keyed/b?apikey=${SECRET}&x=1`, { 'user-agent': 'keyed-2' }), 200);
    const h = await entryOf(all, 'keyed-1');
    assert.equal(h.consumer.username, 'partner');
    assert.ok(h.consumer.id);
    const q = await entryOf(all, 'keyed-2');
    assert.equal(q.consumer.username, 'partner');
    assert.equal(q.request.uri, '/keyed/b');
    assert.equal(q.upstream_uri, '/b');
    assert.ok(!readFileSync(all, 'utf8').includes(SECRET), 'the key is never written');
  });

  test('a denied request is logged with its status, and no consumer', async () => {
    assert.equal(await send(gw, '/keyed/x', { 'user-agent': 'denied-1', 'x-api-key': 'wrong' }), 401);
    const e = await entryOf(all, 'denied-1');
    assert.equal(e.response.status, 401);
    assert.equal(e.route.name, 'keyed');
    assert.equal(e.consumer, undefined);
    assert.equal(e.upstream_host, undefined, 'never reached the upstream');
  });

  test('a request no route takes goes to the global file; a service\'s plugin to its own', async () => {
    assert.equal(await send(gw, '/nowhere', { 'user-agent': 'none-1' }), 404);
    assert.equal((await entryOf(all, 'none-1')).response.status, 404);
    assert.equal(await send(gw, '/audited/z', { 'user-agent': 'audit-1' }), 200);
    const e = await entryOf(audit, 'audit-1');
    assert.equal(e.service.name, 'audit');
    assert.equal(e.route.name, 'audited');
    // The service's plugin overrides the global one: the entry is in audit.log only.
    assert.equal(entries(all).some((x) => x.request?.headers?.['user-agent'] === 'audit-1'), false);
  });
});
