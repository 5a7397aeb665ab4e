// The frontdesk command as a user runs it: validate, translate, bootstrap, control-plane, and
// start (control plane + Envoy in one) stopped by Ctrl-C.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

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
  assert.ok(out.CDS!['service:orders']);
  assert.ok(out.RDS!['listener:proxy']);
});

test('frontdesk bootstrap prints an ADS bootstrap for the node', () => {
  const r = cli('bootstrap', '--xds', '10.0.0.1:18000', '--node-id', 'edge-1', '--cluster', 'edge', '--delta');
  assert.equal(r.status, 0, r.stderr);
  const b = parse(r.stdout) as { node: { id: string; cluster: string }; dynamic_resources: { ads_config: { api_type: string } } };
  assert.deepEqual(b.node, { id: 'edge-1', cluster: 'edge' });
  assert.equal(b.dynamic_resources.ads_config.api_type, 'DELTA_GRPC');
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
      const status = await (await fetch(`http://127.0.0.1:${admin}/status`)).json() as { version: string; lastError: unknown; nodes: unknown[] };
      assert.match(status.version, /^[\w-]{16}$/);
      assert.equal(status.lastError, null);
      const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
      for (const name of ['frontdesk_xds_pushes_total', 'frontdesk_xds_push_latency_seconds', 'frontdesk_xds_connected_nodes', 'frontdesk_xds_nacks_total', 'frontdesk_config_errors_total']) {
        assert.match(metrics, new RegExp(`# TYPE ${name} `));
      }
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  test('start runs control plane and Envoy together; Ctrl-C stops both', async () => {
    const upstream = await startEchoUpstream('start');
    const dir = tempConfig({ 'gateway.yaml': GOOD.replace('http://127.0.0.1:9', upstream.url) });
    const [proxy, admin, xds, envoyAdmin, authz, ratelimit, transform, ratelimitAdmin] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const child = spawn(process.execPath, [...ENTRY, 'start', '--config', dir, '--proxy-port', String(proxy), '--admin-port', String(admin), '--xds-port', String(xds),
      '--envoy-admin-port', String(envoyAdmin), '--authz', `127.0.0.1:${authz}`, '--ratelimit', `127.0.0.1:${ratelimit}`,
      '--transform', `127.0.0.1:${transform}`, '--ratelimit-admin-port', String(ratelimitAdmin)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      const body = await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${proxy}/orders/1`);
        return res.status === 200 ? await res.json() as { upstream: string; path: string } : undefined;
      }, 'the proxy to serve', 30_000, 50);
      assert.equal(body.upstream, 'start');
      assert.equal(body.path, '/1');
      assert.equal((await fetch(`http://127.0.0.1:${envoyAdmin}/ready`)).status, 200);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
    await assert.rejects(fetch(`http://127.0.0.1:${envoyAdmin}/ready`), 'Envoy is gone too');
    await assert.rejects(fetch(`http://127.0.0.1:${admin}/healthz`), 'and the admin server');
    await upstream.close();
  });
});
