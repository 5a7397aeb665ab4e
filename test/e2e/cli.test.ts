// The frontdesk command as a user runs it: validate, translate, bootstrap, control-plane and the
// companions (start, the whole gateway in one, is in start.test.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { parse } from 'yaml';
import { CHECK_METHOD } from '../../src/authz/server.js';
import { RLS_METHOD } from '../../src/ratelimit/server.js';
import { rlsTypes } from '../../src/ratelimit/rls-types.js';
import { messageType } from '../../src/xds/proto-registry.js';
import { kongRouteOf } from '../support/policy-ids.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';
import { kongId } from '../../src/kong-ids.js';

const ENTRY = ['--import', 'tsx', 'test/support/cli-entry.ts'];
const cli = (...args: string[]) => spawnSync(process.execPath, [...ENTRY, ...args], { encoding: 'utf8', env: { ...process.env, FRONTDESK_LOG_LEVEL: 'warn' } });

function tempConfig(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const GOOD = `_format_version: "3.0"
services:
  - name: orders
    url: http://127.0.0.1:9
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: orders
        paths: [/orders]
`;

describe('frontdesk validate', () => {
  test('a good file exits 0 and says what it holds', () => {
    const dir = tempConfig({ 'gateway.yaml': GOOD });
    const r = cli('validate', join(dir, 'gateway.yaml'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok: 1 service\(s\), 1 route\(s\), 1 listener\(s\), 0 warning\(s\)/);
  });

  test('a bad file exits 1 with every error as file:line:col: message and a hint', () => {
    const dir = tempConfig({ 'gateway.yaml': `_format_version: "3.0"
services:
  - name: orders
    url: http://127.0.0.1:9
    retrys: 2
    routes:
      - name: orders
        paths: [orders]
routes:
  - name: lost
    service: ordres
    paths: [/lost]
` });
    const file = join(dir, 'gateway.yaml');
    const r = cli('validate', file);
    assert.equal(r.status, 1);
    const errors = r.stderr.split('\n').filter((l) => / error: /.test(l));
    assert.deepEqual(errors.map((l) => l.slice(0, l.indexOf(': error'))), [`${file}:5:5`, `${file}:8:17`, `${file}:11:14`]);
    assert.match(r.stderr, /unknown key "retrys"[^\n]*\n\s+hint: did you mean "retries"\?/);
    assert.match(r.stderr, /path "orders" must start with "\/"/);
    assert.match(r.stderr, /unknown service "ordres"[^\n]*\n\s+hint: did you mean "orders"\?/);
    assert.match(r.stderr, /3 error\(s\)/);
  });

  test('a folder of files is merged, and errors name the right file', () => {
    const dir = tempConfig({ 'a.yaml': GOOD, 'b.yaml': '_format_version: "3.0"\nroutes:\n  - name: extra\n    service: nope\n    paths: [/x]\n' });
    const r = cli('validate', dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${join(dir, 'b.yaml')}:4:14: error: unknown service "nope"`));
  });
});

test('frontdesk translate prints the Envoy resources', () => {
  const dir = tempConfig({ 'gateway.yaml': GOOD });
  const r = cli('translate', join(dir, 'gateway.yaml'));
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(out).sort(), ['CDS', 'EDS', 'LDS', 'RDS', 'SDS'], 'companion resources (they hold credentials) only with --companions');
  type Obj = Record<string, any>;
  // The service: Kong's connect_timeout 3000 ms, its one target from the url.
  const cluster = out.CDS!['service:orders'] as Obj;
  assert.equal(cluster.connect_timeout, '3s');
  const endpoints = (out.EDS![cluster.eds_cluster_config?.service_name ?? 'service:orders'] as Obj).endpoints as Obj[];
  assert.deepEqual(endpoints.flatMap((e) => (e.lb_endpoints as Obj[]).map((l) => l.endpoint.address.socket_address)), [{ address: '127.0.0.1', port_value: 9 }]);
  // The listener on Kong's proxy port, its routes from RDS.
  const listener = out.LDS!['listener:proxy'] as Obj;
  assert.equal(listener.address.socket_address.port_value, 8000);
  // The routes are the RouteConfiguration its connection manager names.
  const rdsName = listener.filter_chains[0].filters[0].typed_config.rds.route_config_name as string;
  assert.match(rdsName, /^listener:proxy#/);
  const routes = ((out.RDS![rdsName] as Obj).virtual_hosts as Obj[]).flatMap((vh) => vh.routes as Obj[]);
  const orders = routes.filter((r) => kongRouteOf(r.name) === 'orders');
  assert.ok(orders.some((r) => r.match.prefix === '/orders'), 'the route matches its path as a prefix');
  assert.ok(orders.length > 0);
  for (const r of orders) {
    assert.equal(r.route.cluster, 'service:orders');
    assert.equal(r.route.retry_policy.num_retries, 5, "Kong's default retries");
    assert.equal(r.route.idle_timeout, '10s', 'read_timeout 10000 ms');
  }
  const unmatched = routes.at(-1)!;
  assert.equal(unmatched.direct_response.status, 404, "the last route is Kong's 404");
});

test("frontdesk translate says who serves each route's rate-limiting, and why the companion when it does", () => {
  const dir = tempConfig({ 'gateway.yaml': `${GOOD}      - name: quiet
        paths: [/quiet]
        plugins:
          - { name: rate-limiting, config: { minute: 5, limit_by: service, hide_client_headers: true } }
      - name: per-ip
        paths: [/per-ip]
        plugins:
          - { name: rate-limiting, config: { minute: 5, limit_by: ip, hide_client_headers: true } }
` });
  const r = cli('translate', join(dir, 'gateway.yaml'));
  assert.equal(r.status, 0, r.stderr);
  JSON.parse(r.stdout); // stdout stays the resources alone
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('rate-limiting on route'));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^rate-limiting on route "per-ip": the ratelimit companion \(.*limit_by ip needs a bucket per client/);
  assert.equal(lines[1], 'rate-limiting on route "quiet": Envoy (local_ratelimit)');
});

test('frontdesk bootstrap prints an ADS bootstrap for the node', () => {
  const r = cli('bootstrap', '--xds', '10.0.0.1:18000', '--node-id', 'edge-1', '--cluster', 'edge', '--delta');
  assert.equal(r.status, 0, r.stderr);
  const b = parse(r.stdout) as { node: { id: string; cluster: string }; dynamic_resources: { ads_config: { api_type: string } } };
  assert.deepEqual(b.node, { id: 'edge-1', cluster: 'edge' });
  assert.equal(b.dynamic_resources.ads_config.api_type, 'DELTA_GRPC');
});

test('frontdesk bootstrap --xds A,B: one xDS cluster, an endpoint per replica, health-checked so a dead one is passed over', () => {
  const r = cli('bootstrap', '--xds', '10.0.0.1:18000,cp-b.internal:18010', '--node-id', 'edge-1');
  assert.equal(r.status, 0, r.stderr);
  type Cluster = { name: string; type: string; health_checks?: { tcp_health_check?: object; interval: string }[]; load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } };
  const [xds] = (parse(r.stdout) as { static_resources: { clusters: Cluster[] } }).static_resources.clusters;
  assert.equal(xds!.type, 'STRICT_DNS', 'a name among the addresses: resolved by DNS');
  assert.deepEqual(xds!.load_assignment.endpoints[0]!.lb_endpoints.map((e) => e.endpoint.address.socket_address), [
    { address: '10.0.0.1', port_value: 18000 }, { address: 'cp-b.internal', port_value: 18010 },
  ]);
  assert.ok(xds!.health_checks?.[0]?.tcp_health_check, 'replicas are health-checked');
  const one = parse(cli('bootstrap', '--xds', '10.0.0.1:18000', '--node-id', 'edge-1').stdout) as { static_resources: { clusters: Cluster[] } };
  assert.equal(one.static_resources.clusters[0]!.health_checks, undefined, 'one address: no health check');
  const bad = cli('bootstrap', '--xds', '10.0.0.1:18000,', '--node-id', 'edge-1');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--xds takes HOST:PORT or a list HOST:PORT,HOST:PORT, got "10\.0\.0\.1:18000,"/);
});

test('control-plane --credential-salt-file: a short salt is a usage error naming the file', () => {
  const dir = tempConfig({ 'gateway.yaml': GOOD });
  writeFileSync(join(dir, 'salt'), 'short\n');
  const r = cli('control-plane', '--config', dir, '--credential-salt-file', join(dir, 'salt'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--credential-salt-file .*salt holds 5 characters; give at least 16/);
  const missing = cli('control-plane', '--config', dir, '--credential-salt-file', join(dir, 'nope'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--credential-salt-file .*nope: ENOENT/);
});

test('an unknown command or a bad flag is a usage error (exit 2)', () => {
  assert.equal(cli('frobnicate').status, 2);
  const r = cli('control-plane', '--config', 'config', '--xds-port', 'abc');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--xds-port takes a port number/);
});

describe('long-running commands', () => {
  test('control-plane serves /healthz, /readyz, /status and /metrics, and stops on SIGTERM', async () => {
    const dir = tempConfig({ 'gateway.yaml': GOOD });
    const [xds, admin] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [...ENTRY, 'control-plane', '--config', dir, '--xds-port', String(xds), '--admin-port', String(admin)], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${admin}/readyz`)).status === 200, 'readyz', 20_000);
      assert.equal((await fetch(`http://127.0.0.1:${admin}/healthz`)).status, 200);
      const status = await (await fetch(`http://127.0.0.1:${admin}/status`)).json() as { version: string; lastError: unknown; nodes: unknown[]; entities: unknown };
      assert.match(status.version, /^[\w-]{16}$/);
      assert.equal(status.lastError, null);
      // The route has no id in the file: it shows the one Kong generates from its name (kong-ids.test.ts checks the algorithm against Kong's).
      assert.deepEqual(status.entities, { routes: [{ name: 'orders', id: kongId('routes', 'orders') }], consumers: [] });
      const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
      for (const name of ['frontdesk_xds_pushes_total', 'frontdesk_xds_push_latency_seconds', 'frontdesk_xds_connected_nodes', 'frontdesk_xds_nacks_total', 'frontdesk_config_errors_total']) {
        assert.match(metrics, new RegExp(`# TYPE ${name} `));
      }
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  test('two ratelimit and two authz instances on one host, given only --port, both start and serve; a taken port is one line, exit 1', async () => {
    const dir = tempConfig({ 'gateway.yaml': GOOD });
    const [xds, admin] = [await freePort(), await freePort()];
    const spawnCli = (...args: string[]) => {
      const child = spawn(process.execPath, [...ENTRY, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FRONTDESK_LOG_LEVEL: 'warn' } });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      return { child, stderr: () => stderr, exited: new Promise<number | null>((r) => child.once('exit', (c) => r(c))) };
    };
    // A ratelimit port whose admin port (the README: --port + 10) is free too.
    const ratelimitPort = async (): Promise<number> => waitFor(async () => {
      const p = await freePort();
      return p + 10 <= 65535 && await new Promise<boolean>((r) => {
        const s = createServer().once('error', () => r(false)).listen(p + 10, '127.0.0.1', () => s.close(() => r(true)));
      }) ? p : undefined;
    }, 'a free port pair');
    const rl = [await ratelimitPort(), await ratelimitPort()];
    const az = [await freePort(), await freePort()];
    const xdsAt = `127.0.0.1:${xds}`;
    const cp = spawnCli('control-plane', '--config', dir, '--xds-port', String(xds), '--admin-port', String(admin));
    const started = [cp, ...rl.map((p) => spawnCli('ratelimit', '--xds', xdsAt, '--port', String(p))), ...az.map((p) => spawnCli('authz', '--xds', xdsAt, '--port', String(p)))];
    const call = (port: number, method: string, bytes: Uint8Array) => new Promise<Buffer>((resolve, reject) => {
      const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      client.makeUnaryRequest(method, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, bytes, (err, res) => { client.close(); return err ? reject(err) : resolve(res!); });
    });
    // Ready by its /readyz, or the process's own words when it ends first.
    const readyz = (s: ReturnType<typeof spawnCli>, port: number, what: string) => Promise.race([
      waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, what, 60_000),
      s.exited.then((code) => { throw new Error(`${what}: the process exited first (${code}): ${s.stderr()}`); }),
    ]);
    try {
      await readyz(cp, admin, 'the control plane');
      for (const [i, p] of rl.entries()) {
        await readyz(started[1 + i]!, p + 10, `ratelimit on ${p} to hold its policy`);
        // No descriptors: nothing to limit, so Envoy's RateLimitService answers OK (1).
        const res = rlsTypes().res.decode(await call(p, RLS_METHOD, rlsTypes().req.encode({ domain: 'frontdesk' }).finish())) as unknown as { overall_code: number };
        assert.equal(res.overall_code, 1);
      }
      const checkRes = messageType('envoy.service.auth.v3.CheckResponse');
      for (const p of az) {
        // A route it holds no policy for is refused with 503: it fails closed.
        const res = await waitFor(async () => checkRes.toObject(checkRes.decode(await call(p, CHECK_METHOD, new Uint8Array()))) as { denied_response?: { status?: { code?: number } } }, `authz on ${p} to answer`, 20_000);
        assert.equal(res.denied_response?.status?.code, 503);
      }

      const third = spawnCli('ratelimit', '--xds', xdsAt, '--port', String(rl[0]));
      assert.equal(await third.exited, 1);
      const lines = third.stderr().trim().split('\n');
      // Both its ports are the first instance's: a line each, JSON (no stack trace).
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as { msg: string }).msg), [
        `port ${rl[0]} (the ratelimit companion) is in use by pid ${started[1]!.child.pid} (node); pass --port`,
        `port ${rl[0]! + 10} (the ratelimit companion's admin) is in use by pid ${started[1]!.child.pid} (node); pass --ratelimit-admin-port`,
      ]);
      const secondCp = spawnCli('control-plane', '--config', dir, '--xds-port', String(xds), '--admin-port', '0', '--log-format', 'pretty');
      assert.equal(await secondCp.exited, 1);
      assert.match(secondCp.stderr(), new RegExp(`^\\d\\d:\\d\\d:\\d\\d ERROR port ${xds} \\(the xDS server\\) is in use by pid ${cp.child.pid} \\(node\\); pass --xds-port\\n$`));
    } finally {
      for (const p of started) p.child.kill('SIGTERM');
    }
    for (const p of started) assert.equal(await p.exited, 0, p.stderr());
  });
});
