// Two control-plane replicas on one config, as an operator runs them: `frontdesk control-plane`
// twice (one credential-salt file), an Envoy bootstrapped with `--xds A,B`, the authz and
// ratelimit companions given both addresses. The replicas serve the same versions; the one
// every client is connected to is killed (SIGKILL) while four clients send requests through
// Envoy to a key-auth, rate-limited route: not one request fails, Envoy and the companions
// resume on the other replica without a resource sent again (Envoy's update counters do not
// move), and an edit after the failover reaches Envoy and the companions.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startAuthzService, type RunningAuthz } from '../../src/authz/service.js';
import { silentLogger } from '../../src/logger.js';
import { startRateLimitService, type RunningRateLimitService } from '../../src/ratelimit/service.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';
import { freePort } from '../support/ports.js';
import { startEchoUpstream } from '../support/upstream.js';
import { waitFor } from '../support/wait.js';

const ENTRY = ['--import', 'tsx', 'test/support/cli-entry.ts'];

function config(upstream: string, extraRoute = ''): string {
  return `_format_version: "3.0"
consumers:
  - username: alice
    keyauth_credentials: [{ key: alice-key }]
services:
  - name: svc
    url: ${upstream}
    routes:
      - name: orders
        paths: [/orders]
        plugins:
          - name: key-auth
          - name: rate-limiting
            config: { minute: 1000000, policy: local }
${extraRoute}`;
}

interface Replica { child: ChildProcess; xds: number; admin: number; output(): string; exited: Promise<unknown> }

interface NodeStatus { id: string; cluster: string; types: Record<string, { ackedVersion?: string }> }
interface Status { version: string | null; nodes: NodeStatus[] }

async function status(r: Replica): Promise<Status> {
  return (await (await fetch(`http://127.0.0.1:${r.admin}/status`)).json()) as Status;
}

function send(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** A counter from Envoy's /stats (0 when absent). */
async function envoyStat(envoy: EnvoyProcess, name: string): Promise<number> {
  const text = await (await fetch(`${envoy.adminUrl}/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`)).text();
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('two control-plane replicas', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-replicas-'));
  const file = join(dir, 'gateway.yaml');
  const saltFile = join(dir, 'salt');
  const replicas: Replica[] = [];
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let envoy: EnvoyProcess;
  let authz: RunningAuthz;
  let ratelimit: RunningRateLimitService;
  let proxyPort: number;

  async function startReplica(ports: { authz: number; ratelimit: number }): Promise<Replica> {
    const [xds, admin] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [...ENTRY, 'control-plane', '--config', file, '--xds-port', String(xds), '--admin-port', String(admin),
      '--proxy-port', String(proxyPort), '--authz', `127.0.0.1:${ports.authz}`, '--ratelimit', `127.0.0.1:${ports.ratelimit}`,
      '--credential-salt-file', saltFile, '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise((r) => child.once('exit', r));
    const r: Replica = { child, xds, admin, output: () => out, exited };
    await waitFor(async () => (await fetch(`http://127.0.0.1:${admin}/readyz`).then((x) => x.ok, () => false)) || undefined, `replica on ${xds} ready; output:\n${out}`, 30_000, 50);
    return r;
  }

  before(async () => {
    upstream = await startEchoUpstream('replicas');
    writeFileSync(file, config(upstream.url));
    writeFileSync(saltFile, `${randomBytes(24).toString('base64')}\n`);
    proxyPort = await freePort();
    const ports = { authz: await freePort(), ratelimit: await freePort() };
    replicas.push(...(await Promise.all([startReplica(ports), startReplica(ports)])));
    const xds = replicas.map((r) => ({ host: '127.0.0.1', port: r.xds }));
    envoy = await EnvoyProcess.start({ bootstrapYaml: bootstrapYaml({ xds, nodeId: 'envoy-replicas', cluster: 'frontdesk', adminPort: 0 }), logger: silentLogger() });
    await envoy.waitReady();
    // Envoy's pick among the replicas is its load balancer's; the companions try theirs in the
    // order given: Envoy's first, so that killing it moves every client.
    const envoyOn = await waitFor(async () => {
      for (const r of replicas) if ((await status(r)).nodes.some((n) => n.id === 'envoy-replicas')) return r;
      return undefined;
    }, 'Envoy connected to a replica', 15_000, 50);
    const ordered = [envoyOn, ...replicas.filter((r) => r !== envoyOn)].map((r) => ({ host: '127.0.0.1', port: r.xds }));
    authz = await startAuthzService({ xds: ordered, host: '127.0.0.1', port: ports.authz, nodeId: 'authz-replicas', logger: silentLogger() });
    ratelimit = await startRateLimitService({ xds: ordered, host: '127.0.0.1', port: ports.ratelimit, adminPort: 0, nodeId: 'ratelimit-replicas', logger: silentLogger() });
    await waitFor(() => authz.ready() && ratelimit.ready(), 'the companions hold their first policy', 15_000);
    await waitFor(async () => (await send(proxyPort, '/orders', { apikey: 'alice-key' })) === 200 || undefined, 'Envoy serves the route', 15_000);
  });

  after(async () => {
    await envoy?.stop();
    await authz?.stop();
    await ratelimit?.stop();
    for (const r of replicas) r.child.kill('SIGKILL');
    await upstream?.close();
  });

  test('same config, same versions; one killed under load: no request fails, nothing resent, an edit then reaches everyone', async () => {
    const [a, b] = [await status(replicas[0]!), await status(replicas[1]!)];
    assert.ok(a.version, 'replica A serves a version');
    assert.equal(b.version, a.version, 'both replicas serve the same version of the same config');

    // The replica the clients are on: every client opens one stream to the first address that answers.
    const holder = replicas.find((_, i) => [a, b][i]!.nodes.length > 0);
    assert.ok(holder, 'the clients are connected to a replica');
    const survivor = replicas.find((r) => r !== holder)!;
    const heldBy = (holder === replicas[0] ? a : b).nodes.map((n) => n.id).sort();
    assert.deepEqual(heldBy, ['authz-replicas', 'envoy-replicas', 'ratelimit-replicas']);

    const updates = async () => Promise.all(['cluster_manager.cds.update_success', 'listener_manager.lds.update_success'].map((s) => envoyStat(envoy, s)));
    const before = await updates();
    assert.ok(before.every((n) => n > 0), `Envoy counts its updates: ${before.join(', ')}`);
    const versions = () => [authz.version(), ratelimit.version()];
    const companionVersions = versions();

    // Four clients in a loop through Envoy, with the key: each answer is the upstream's or a failure.
    const statuses = new Map<number, number>();
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const s = await send(proxyPort, '/orders', { apikey: 'alice-key' });
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    });
    await waitFor(() => ((statuses.get(200) ?? 0) >= 20) || undefined, 'requests flowing', 15_000);
    holder.child.kill('SIGKILL');
    await holder.exited;
    const everyoneOn = () => status(survivor).then((s) => s.nodes.map((n) => n.id).sort().join(','));
    await waitFor(async () => (await everyoneOn()) === 'authz-replicas,envoy-replicas,ratelimit-replicas' || undefined, 'Envoy and both companions connected to the survivor', 20_000, 100);
    const atFailover = statuses.get(200) ?? 0;
    await waitFor(() => ((statuses.get(200) ?? 0) >= atFailover + 20) || undefined, 'requests served after the failover', 15_000);
    stop = true;
    await Promise.all(loops);
    assert.deepEqual([...statuses.keys()], [200], `every request answered 200 by the upstream: ${JSON.stringify([...statuses])}`);

    assert.deepEqual(await updates(), before, 'Envoy resumed on the survivor with nothing sent again (cds and lds update counters unchanged)');
    assert.deepEqual(versions(), companionVersions, 'the companions kept the versions they held');

    // An edit after the failover: a new protected route, served by Envoy and enforced by authz.
    const next = join(dir, 'next.yaml');
    writeFileSync(next, config(upstream.url, `      - name: invoices
        paths: [/invoices]
        plugins:
          - name: key-auth
`));
    renameSync(next, file);
    await waitFor(async () => (await send(proxyPort, '/invoices', { apikey: 'alice-key' })) === 200 || undefined, 'the edit is served after the failover', 20_000, 50);
    assert.equal(await send(proxyPort, '/invoices', {}), 401, 'and its key-auth is enforced: no key, 401');
    assert.equal(await send(proxyPort, '/invoices', { apikey: 'wrong' }), 401, 'a wrong key, 401');
  });
});
