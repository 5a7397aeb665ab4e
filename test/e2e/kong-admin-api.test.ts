// Kong's Admin API (the DB-less subset) on Frontdesk's admin port, driven as decK and Kong's
// tooling drive it, with a real Envoy behind: what a write changes is checked at the proxy.
// test/fixtures/deck/v1.30.0-ping-dump-sync.jsonl holds the HTTP calls decK v1.30.0 made (recorded by
// scripts/record-deck-calls.ts) for
// `deck gateway ping`, `dump` and `sync test/fixtures/deck/sync.yaml` against the shipped
// config/gateway.yaml (the real binary runs in `npm run test:deck`).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const EXAMPLE = readFileSync('config/gateway.yaml', 'utf8');
const TOKEN = 's3cret';

interface Call { method: string; url: string; headers: Record<string, string>; body?: unknown }
const calls = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Call);
const DECK_CALLS = calls('test/fixtures/deck/v1.30.0-ping-dump-sync.jsonl');
/** decK syncing test/fixtures/deck/credentials-sync.yaml onto credentials.yaml: a key-auth key rotated. */
const DECK_CREDENTIAL_CALLS = calls('test/fixtures/deck/v1.30.0-sync-credentials.jsonl');
/** Endpoints of Kong Enterprise or of entities Frontdesk lacks: decK takes a 404 there as "none" (dump.go). */
const ABSENT = ['/mtls-auths', '/vaults', '/consumer_groups', '/oauth2', '/schemas/services', '/schemas/routes', '/schemas/upstreams', '/schemas/targets', '/schemas/consumer_group_plugins'];

/** Sends recorded decK calls; each must get what decK accepts (2xx, or 404 where decK reads "none"). */
async function replay(gw: Gateway, recorded: Call[]): Promise<void> {
  for (const call of recorded) {
    const res = await fetch(`${gw.admin}${call.url}`, {
      method: call.method, headers: call.headers, ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
    const path = call.url.split('?')[0]!;
    if (ABSENT.includes(path)) { assert.equal(res.status, 404, `${call.method} ${call.url}`); continue; }
    const text = await res.text();
    assert.ok(res.status >= 200 && res.status < 300, `${call.method} ${call.url}: ${res.status} ${text}`);
    if (call.method === 'GET' && path !== '/' && !path.startsWith('/schemas/')) {
      const body = JSON.parse(text) as Record<string, unknown>;
      assert.ok(Array.isArray(body.data), `${call.url} is a page`);
      assert.equal(body.next, null);
    }
  }
}

async function hello(gw: Gateway): Promise<string> {
  const res = await fetch(`${gw.proxy}/hello`);
  return res.status === 200 ? ((await res.json()) as { message: string }).message : `status ${res.status}`;
}

describe('with an admin token', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway(EXAMPLE, { adminToken: TOKEN }); });
  after(async () => { await gw?.stop(); });

  test('GET / answers Kong\'s version info, DB-less', async () => {
    const res = await fetch(`${gw.admin}/`);
    assert.equal(res.status, 200);
    const info = (await res.json()) as Record<string, any>;
    assert.match(info.version, /^3\.\d+\.\d+$/);
    assert.equal(info.tagline, 'Welcome to kong');
    assert.match(info.node_id, /^[0-9a-f-]{36}$/);
    assert.equal(info.configuration.database, 'off');
    assert.ok(info.plugins.available_on_server['request-termination']);
    assert.deepEqual(info.plugins.enabled_in_cluster, ['request-termination']);
  });

  test('GET /status has Kong\'s database and configuration_hash', async () => {
    const st = (await (await fetch(`${gw.admin}/status`)).json()) as Record<string, any>;
    assert.deepEqual(st.database, { reachable: true });
    assert.equal(st.configuration_hash, gw.cp.ads.snapshot!.version);
  });

  test('entities read back in Kong\'s paginated shape, one by name or id, children under their parent', async () => {
    const services = (await (await fetch(`${gw.admin}/services`)).json()) as { data: any[]; next: unknown };
    assert.equal(services.next, null);
    assert.equal(services.data.length, 1);
    const svc = services.data[0];
    assert.deepEqual([svc.name, svc.protocol, svc.host, svc.port], ['hello', 'http', '127.0.0.1', 9]);
    assert.equal(svc.url, undefined, 'Kong stores a url as its parts');
    const byName = (await (await fetch(`${gw.admin}/services/hello`)).json()) as any;
    const byId = (await (await fetch(`${gw.admin}/services/${svc.id}`)).json()) as any;
    assert.deepEqual(byName, byId);
    const routes = (await (await fetch(`${gw.admin}/services/hello/routes`)).json()) as { data: any[] };
    assert.deepEqual(routes.data.map((r) => [r.name, r.service]), [['hello', { id: svc.id }]]);
    const plugins = (await (await fetch(`${gw.admin}/routes/hello/plugins`)).json()) as { data: any[] };
    assert.deepEqual(plugins.data.map((p) => [p.name, p.enabled]), [['request-termination', true]]);
    assert.equal((await fetch(`${gw.admin}/services/nope`)).status, 404);
    const page = (await (await fetch(`${gw.admin}/plugins?size=1`)).json()) as { data: unknown[]; next: unknown };
    assert.equal(page.data.length, 1);
    assert.equal(page.next, null);
  });

  test('writes without the token, or with a wrong one, are refused and change nothing', async () => {
    const body = JSON.stringify({ name: 'x', host: 'x.internal' });
    for (const headers of [{}, { 'kong-admin-token': 'wrong' }] as Record<string, string>[]) {
      const res = await fetch(`${gw.admin}/services/x`, { method: 'PUT', body, headers: { 'content-type': 'application/json', ...headers } });
      assert.equal(res.status, 401);
      const post = await fetch(`${gw.admin}/config`, { method: 'POST', body: EXAMPLE, headers });
      assert.equal(post.status, 401);
      assert.equal((await fetch(`${gw.admin}/config`, { headers })).status, 401, 'GET /config holds secrets: token too');
    }
    assert.equal((await fetch(`${gw.admin}/services/x`)).status, 404);
  });

  test('decK\'s recorded ping, dump and sync calls are answered, and the sync reaches Envoy', async () => {
    const applies = gw.cp.kong!.stagedApplies;
    await replay(gw, DECK_CALLS);
    await waitFor(() => gw.cp.kong!.stagedApplies > applies, 'the writes to be applied');
    assert.equal(gw.cp.kong!.lastStagedOutcome!.result, 'applied');
    await gw.converged();
    assert.equal(await hello(gw), 'hello from decK');
    const orders = await fetch(`${gw.proxy}/orders`);
    assert.notEqual(orders.status, 404, 'the synced route exists in Envoy (its upstream is not running)');
    const routes = (await (await fetch(`${gw.admin}/routes`)).json()) as { data: { name: string }[] };
    assert.deepEqual(routes.data.map((r) => r.name).sort(), ['hello', 'orders']);
    assert.equal(gw.cp.source, 'admin');
  });
  test('consumers never carry credentials; credential secrets only for a reader that may write', async () => {
    const cfg = `_format_version: "3.0"
services:
  - name: hello
    url: http://127.0.0.1:9
    routes:
      - name: hello
        paths: [/hello]
        plugins:
          - name: key-auth
consumers:
  - username: alice
    keyauth_credentials:
      - key: alice-secret-key
`;
    const res = await fetch(`${gw.admin}/config`, { method: 'POST', body: cfg, headers: { 'kong-admin-token': TOKEN } });
    assert.equal(res.status, 201, await res.clone().text());
    assert.doesNotMatch(await res.text(), /alice-secret-key/);
    for (const headers of [{}, { 'kong-admin-token': TOKEN }] as Record<string, string>[]) {
      const consumers = await (await fetch(`${gw.admin}/consumers`, { headers })).text();
      assert.doesNotMatch(consumers, /alice-secret-key/);
      assert.deepEqual((JSON.parse(consumers) as { data: { username: string }[] }).data.map((c) => c.username), ['alice']);
    }
    const anonymous = (await (await fetch(`${gw.admin}/key-auths`)).json()) as { data: { key?: string; consumer: unknown }[] };
    assert.equal(anonymous.data.length, 1);
    assert.equal(anonymous.data[0]!.key, undefined, 'withheld without the token');
    const admin = (await (await fetch(`${gw.admin}/key-auths`, { headers: { 'kong-admin-token': TOKEN } })).json()) as { data: { key?: string }[] };
    assert.equal(admin.data[0]!.key, 'alice-secret-key', 'decK, with the token, tells credentials apart by their keys');
  });
});

describe('decK rotating a key-auth key (recorded calls)', () => {
  let gw: Gateway;
  // key-auth is the authz companion's (docs/plugins.md).
  before(async () => { gw = await startGatewayWithAuthz(readFileSync('test/fixtures/deck/credentials.yaml', 'utf8'), { adminToken: TOKEN }); });
  after(async () => { await gw?.stop(); });

  test('the new key opens the route at the proxy, the old one no longer does', async () => {
    const call = (key: string) => fetch(`${gw.proxy}/hello`, { headers: { apikey: key } }).then((r) => r.status);
    assert.equal(await call('alice-key-1'), 200);
    const applies = gw.cp.kong!.stagedApplies;
    await replay(gw, DECK_CREDENTIAL_CALLS);
    await waitFor(() => gw.cp.kong!.stagedApplies > applies, 'the writes to be applied');
    assert.equal(gw.cp.kong!.lastStagedOutcome!.result, 'applied');
    await gw.converged();
    // Kong's key-auth: 401 for a key no consumer holds.
    await waitFor(async () => (await call('alice-key-1')) === 401, 'the old key to be refused');
    assert.equal(await call('alice-key-2'), 200);
  });
});

describe('POST /config', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway(EXAMPLE); });
  after(async () => { await gw?.stop(); });

  test('a refused config answers Kong\'s error shape (400, code 14) with line:col, and the last good one keeps serving', async () => {
    const before = gw.cp.ads.snapshot!.version;
    const bad = `_format_version: "3.0"
services:
  - name: broken
    url: http://127.0.0.1:9
    retrys: 2
    routes:
      - name: broken
        paths: [broken]
`;
    const res = await fetch(`${gw.admin}/config`, { method: 'POST', body: bad, headers: { 'content-type': 'text/yaml' } });
    assert.equal(res.status, 400);
    const err = (await res.json()) as Record<string, any>;
    assert.equal(err.code, 14);
    assert.equal(err.name, 'invalid declarative configuration');
    assert.match(err.message, /^declarative config is invalid: /);
    assert.match(err.fields.services[0].retrys, /unknown key "retrys" \(line 5, column 5\)/);
    assert.match(err.fields.services[0].routes[0].paths[0], /must start with "\/"/);
    const byEntity = Object.fromEntries(err.flattened_errors.map((f: any) => [`${f.entity_type}:${f.entity_name}`, f]));
    assert.deepEqual(Object.keys(byEntity).sort(), ['route:broken', 'service:broken']);
    assert.deepEqual(byEntity['service:broken'].errors.map((e: any) => [e.type, e.field]), [['field', 'retrys']]);
    assert.deepEqual(byEntity['route:broken'].errors.map((e: any) => [e.type, e.field]), [['field', 'paths[0]']]);
    assert.equal(gw.cp.ads.snapshot!.version, before);
    assert.equal(await hello(gw), 'hello from Frontdesk');
  });

  test('a good config (JSON or YAML) is applied as a file edit; the next file change wins over it', async () => {
    const posted = {
      _format_version: '3.0',
      services: [{ name: 'hello', url: 'http://127.0.0.1:9', connect_timeout: 3000, read_timeout: 10000, write_timeout: 10000,
        routes: [{ name: 'hello', paths: ['/hello'], plugins: [{ name: 'request-termination', config: { status_code: 200, content_type: 'application/json', body: '{"message":"posted"}' } }] }] }],
    };
    const res = await fetch(`${gw.admin}/config`, { method: 'POST', body: JSON.stringify(posted), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 201, await res.clone().text());
    const applied = (await res.json()) as { services: Record<string, { name: string }> };
    assert.deepEqual(Object.values(applied.services).map((s) => s.name), ['hello']);
    await gw.converged();
    assert.equal(await hello(gw), 'posted');
    assert.equal(gw.cp.source, 'admin');
    const dump = (await (await fetch(`${gw.admin}/config`)).json()) as { config: string };
    assert.match(dump.config, /_format_version: "?3\.0"?/);
    assert.match(dump.config, /\{"message":"posted"\}/);
    // Posting again with the same content changes nothing; the file's next change wins.
    await gw.edit(EXAMPLE.replaceAll('hello from Frontdesk', 'from the file'));
    assert.equal(await hello(gw), 'from the file');
    assert.equal(gw.cp.source, 'file');
    const history = gw.cp.history.slice(-2).map((h) => [h.source, h.result]);
    assert.deepEqual(history, [['admin', 'applied'], ['file', 'applied']]);
  });

});
