/**
 * Native jwt at scale. Prints figures; never fails on them.
 *
 *   node --import tsx bench/request-path/jwt-scale.ts [--seconds 5] [--connections 32] [--counts 10,1000,10000]
 *
 * For each count N of jwt credentials (N consumers, one HS256 jwt_secret each, all in one
 * acl group): the gateway YAML compiled by Frontdesk (translate time, listener bytes), run as a
 * static Envoy (concurrency 1; config load = Envoy start until /ready), and two routes to the
 * same upstream (a second Envoy answering with direct_response) loaded alternately by wrk in
 * the same run: jwt + acl checked by Envoy itself (the token of the last credential, so any
 * scan over credentials would show) and no plugin (the baseline). Requests/s, p50/p99, the
 * ratio jwt+acl / no plugin, and the gateway Envoy's RSS.
 *
 * Everything listens on loopback and is stopped at the end. The run starts with its command,
 * commit, cores and load average (bench/support/run-info.ts): figures taken on a busy machine
 * are marked and are not quotable.
 */
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { wrk, wrkProblems, type WrkResult } from '../support/load.js';
import { freePort, until } from '../support/net.js';
import { memoryOf } from '../support/proc.js';
import { markText, marks, printRunHeader, runInfo } from '../support/run-info.js';
import { machine, report } from '../support/stats.js';
import { staticGatewayResources } from '../support/static-gateway.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const SECONDS = Number(arg('seconds', '5'));
const CONNECTIONS = Number(arg('connections', '32'));
const COUNTS = arg('counts', '10,1000,10000').split(',').map(Number);
const ROUNDS = 2;

function gatewayYaml(upstreamPort: number, n: number): string {
  const consumers = Array.from({ length: n }, (_, i) =>
    `  - username: user-${i}\n    jwt_secrets: [{ key: iss-${i}, secret: secret-${i} }]\n    acls: [{ group: members }]`).join('\n');
  return `_format_version: "3.0"
services:
  - name: up
    url: http://127.0.0.1:${upstreamPort}
    routes:
      - name: plain
        paths: [/plain]
      - name: jwt
        paths: [/jwt]
        plugins:
          - name: jwt
            config: { claims_to_verify: [exp] }
          - name: acl
            config: { allow: [members] }
consumers:
${consumers}
`;
}

function token(i: number): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: `iss-${i}`, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${input}.${createHmac('sha256', `secret-${i}`).update(input).digest('base64url')}`;
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) throw new Error('wrk is not installed (Debian: apt-get install wrk)');
  const run = runInfo();
  printRunHeader('request-path/jwt-scale', run);
  const m = machine();
  const upstream = await startDirectUpstream({ logger: silentLogger() });
  try {
    for (const n of COUNTS) {
      const port = await freePort();
      const t0 = performance.now();
      const { listeners, clusters } = staticGatewayResources(gatewayYaml(upstream.port, n), port);
      const translateMs = performance.now() - t0;
      const listenerBytes = Buffer.byteLength(JSON.stringify(listeners));
      // Large configs exceed the command line (--config-yaml): the resources go in files Envoy reads (path config sources).
      const dir = mkdtempSync(join(tmpdir(), 'jwt-scale-'));
      const files = { lds: join(dir, 'lds.json'), cds: join(dir, 'cds.json') };
      writeFileSync(files.lds, JSON.stringify({ resources: listeners.map((l) => ({ '@type': 'type.googleapis.com/envoy.config.listener.v3.Listener', ...l })) }));
      writeFileSync(files.cds, JSON.stringify({ resources: clusters.map((c) => ({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', ...c })) }));
      const bootstrap = {
        admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
        node: { id: 'jwt-scale', cluster: 'bench' },
        dynamic_resources: { lds_config: { path_config_source: { path: files.lds } }, cds_config: { path_config_source: { path: files.cds } } },
      };
      const t1 = performance.now();
      const envoy = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: silentLogger(), concurrency: 1 });
      try {
        await envoy.waitReady(120_000);
        await until('the gateway listener', async () => ((await fetch(`http://127.0.0.1:${port}/plain`).catch(() => undefined))?.status === 200 ? true : undefined), 120_000);
        const loadMs = performance.now() - t1;
        const auth = { authorization: `Bearer ${token(n - 1)}` };
        const check = await fetch(`http://127.0.0.1:${port}/jwt`, { headers: auth });
        if (check.status !== 200) throw new Error(`the jwt route answered ${check.status} ${await check.text()}`);
        wrk(`http://127.0.0.1:${port}/plain`, 1, CONNECTIONS);
        wrk(`http://127.0.0.1:${port}/jwt`, 1, CONNECTIONS, auth);
        const plain: WrkResult[] = [];
        const jwt: WrkResult[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          plain.push(wrk(`http://127.0.0.1:${port}/plain`, SECONDS, CONNECTIONS));
          jwt.push(wrk(`http://127.0.0.1:${port}/jwt`, SECONDS, CONNECTIONS, auth));
        }
        const rps = (rs: typeof plain) => Math.round(rs.reduce((a, b) => a + b.rps, 0) / rs.length);
        const p = (rs: typeof plain, k: 'p50Ms' | 'p99Ms') => Math.round((rs.reduce((a, b) => a + b[k], 0) / rs.length) * 100) / 100;
        const ratio = Math.round((rps(jwt) / rps(plain)) * 100) / 100;
        const rss = memoryOf(envoy.pid!)?.rssMiB;
        const mk = marks(run, wrkProblems([...plain, ...jwt]));
        report('request-path/jwt-scale', `credentials=${n}`, {
          machine: m, loadGenerator: `wrk c=${CONNECTIONS} ${SECONDS}s x${ROUNDS}`, baseline: 'no-plugin route, same Envoy, same run', credentials: n,
          translateMs: Math.round(translateMs), listenerBytes, envoyLoadMs: Math.round(loadMs), envoyRssMiB: rss,
          jwtAcl: { rps: rps(jwt), p50Ms: p(jwt, 'p50Ms'), p99Ms: p(jwt, 'p99Ms') }, noPlugin: { rps: rps(plain), p50Ms: p(plain, 'p50Ms'), p99Ms: p(plain, 'p99Ms') },
          ratio, marks: mk,
        }, `${n} credentials: translate ${Math.round(translateMs)} ms, listener ${(listenerBytes / 1024).toFixed(0)} KiB, Envoy ready in ${Math.round(loadMs)} ms, RSS ${rss ?? '?'} MiB; jwt+acl ${rps(jwt)} req/s p99 ${p(jwt, 'p99Ms')} ms vs no plugin ${rps(plain)} req/s p99 ${p(plain, 'p99Ms')} ms = ${ratio}x (${m.cores} cores, wrk c=${CONNECTIONS})${markText(mk)}`);
      } finally {
        await envoy.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await upstream.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
