// Plaintext stays on loopback: `frontdesk control-plane` and the companions refuse, in one line
// and exit 1, to bind a plaintext gRPC port to a non-loopback address unless --insecure is
// given, and the admin API beyond loopback needs a token. Only the refusal is checked here: no
// traffic goes to a non-loopback address. With a token, the admin API answers only requests
// that carry it; /status and /metrics never show a credential.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

const ENTRY = ['--import', 'tsx', 'test/support/cli-entry.ts'];
const cli = (...args: string[]) => spawnSync(process.execPath, [...ENTRY, ...args], { encoding: 'utf8', env: { ...process.env, FRONTDESK_ADMIN_TOKEN: '' }, timeout: 60_000 });

/** This machine's own non-loopback IPv4 address when it has one; 0.0.0.0 (every interface, not loopback) otherwise. */
const OUTSIDE = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4')?.address ?? '0.0.0.0';

let dir: string;
let config: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'frontdesk-bind-'));
  config = join(dir, 'gateway.yaml');
  writeFileSync(config, `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-secret-key }]
services:
  - name: orders
    url: http://127.0.0.1:9
    routes:
      - name: orders
        paths: [/orders]
        plugins: [{ name: key-auth }]
`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('plaintext beyond loopback is refused', () => {
  for (const host of [...new Set([OUTSIDE, '0.0.0.0'])]) {
    test(`the xDS port on ${host} without TLS: one line, exit 1`, () => {
      const r = cli('control-plane', '--config', config, '--xds-host', host, '--xds-port', '0', '--admin-port', '0');
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`refusing to serve xDS in plaintext on ${host.replace(/\./g, '\\.')}:0: .*--tls-cert, --tls-key and --tls-ca.*--insecure`));
    });

    test(`each companion on ${host} without TLS: one line, exit 1`, () => {
      for (const name of ['authz', 'ratelimit', 'transform']) {
        const r = cli(name, '--host', host, '--port', '0');
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`refusing to serve the ${name} companion in plaintext on ${host.replace(/\./g, '\\.')}:0`));
      }
    });
  }

  test('the admin API beyond loopback without a token: one line, exit 1', () => {
    const r = cli('control-plane', '--config', config, '--admin-host', '0.0.0.0', '--xds-port', '0', '--admin-port', '0');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr.trim(), /^frontdesk: refusing to serve the admin API on 0\.0\.0\.0:0 without a token: give --admin-token \(or FRONTDESK_ADMIN_TOKEN\)/);
  });
});

describe('the admin token', () => {
  // Bound to every interface (0.0.0.0, not loopback), reached through 127.0.0.1 only.
  test('bound beyond loopback: required on /status and /metrics; /healthz stays open; no credential shown', async () => {
    const adminPort = await freePort();
    const child = spawn(process.execPath, [...ENTRY, 'control-plane', '--config', config, '--xds-port', '0', '--admin-host', '0.0.0.0', '--admin-port', String(adminPort), '--admin-token', 's3cret-token', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    try {
      const admin = `http://127.0.0.1:${adminPort}`;
      await waitFor(async () => (await fetch(`${admin}/readyz`)).ok, 'the control plane to be ready', 30_000);
      assert.equal((await fetch(`${admin}/healthz`)).status, 200);
      for (const path of ['/status', '/metrics']) {
        const none = await fetch(`${admin}${path}`);
        assert.equal(none.status, 401, path);
        assert.equal(none.headers.get('www-authenticate'), 'Bearer');
        assert.equal((await fetch(`${admin}${path}`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
        const ok = await fetch(`${admin}${path}`, { headers: { authorization: 'Bearer s3cret-token' } });
        assert.equal(ok.status, 200, path);
        assert.ok(!(await ok.text()).includes('alice-secret-key'), `${path} shows no credential`);
      }
      assert.equal((await fetch(`${admin}/status`, { headers: { 'kong-admin-token': 's3cret-token' } })).status, 200, "Kong's header works too");
      assert.ok(!stderr.includes('s3cret-token'), 'the token is never logged');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
