/**
 * The transform companion's cost on the request path. Prints figures; never fails on them.
 *
 *   npm run bench:transform    (prepares wrk, Envoy and redis-server: scripts/bench-prepare.sh)
 *   node --import tsx bench/transform/run.ts [--seconds 5] [--connections 32] [--rounds 2] [--cpu-prof DIR]
 *        [--companion-node-flags '--flag ...' (default: the companion's own, src/runtime/node-flags.ts)]
 *
 * `--cpu-prof DIR`: the companion writes its V8 CPU profile there when it stops.
 *
 * One service in front of a fast upstream (a static Envoy answering 200 itself, with an
 * `X-Kong-Limit: videos=1` header), compiled by Frontdesk in several ways, each served by its
 * own static Envoy (concurrency 1), loaded by wrk (one thread, keep-alive connections), the
 * variants interleaved over the rounds:
 *   - baseline: the route without plugins;
 *   - response-ratelimiting, policy local: every request's headers and its response's headers
 *     through Envoy's ext_proc to the transform companion, which counts in its memory;
 *   - the same, policy redis (one MGET and one pipeline per request to a redis-server);
 *   - request-transformer adding a JSON body field (the body buffered and sent both ways), for
 *     comparison with the companion's other work.
 * The transform companion runs in its own process (bench/support/companion-proc.ts, plain
 * JavaScript with Frontdesk's Node flags, its resources from an in-process control plane over
 * ADS). CPU µs per request count Envoy, the companion, Redis and the upstream. Each figure is one
 * JSON line and one readable line with requests/s, p50/p99 and the ratio to the baseline of the
 * same round, naming the machine, the load generator and the load at the start.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { layeredRuntime } from '../../src/runtime/bootstrap.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';
import { companionNodeFlags } from '../../src/runtime/node-flags.js';
import { startCompanionChild } from '../support/companion-child.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { benchServiceYaml } from '../support/gateway-yaml.js';
import { wrk, wrkProblems, type WrkResult } from '../support/load.js';
import { freePort } from '../support/net.js';
import { CpuMeter, memoryOf } from '../support/proc.js';
import { markText, marks, printRunHeader, runInfo } from '../support/run-info.js';
import { startRedis } from '../support/services.js';
import { staticGatewayResources } from '../support/static-gateway.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const SECONDS = Math.min(Number(arg('seconds', '5')), 10);
const CONNECTIONS = Number(arg('connections', '32'));
const ROUNDS = Math.max(1, Number(arg('rounds', '2')));
const LOADGEN = `wrk -t1 -c${CONNECTIONS}`;
const log = silentLogger();
const HUGE = 1_000_000_000;
const CPU_PROF = process.argv.includes('--cpu-prof') ? arg('cpu-prof', '') : undefined;
const COMPANION_FLAGS = process.argv.includes('--companion-node-flags') ? arg('companion-node-flags', '').split(/\s+/).filter(Boolean) : companionNodeFlags('transform');

interface Variant { name: string; plugins: string; post?: boolean }

function variants(redisPort: number): Variant[] {
  return [
    { name: 'baseline', plugins: '' },
    { name: 'response-ratelimiting local', plugins: `[{ name: response-ratelimiting, config: { limits: { videos: { minute: ${HUGE} } } } }]` },
    { name: 'response-ratelimiting redis', plugins: `[{ name: response-ratelimiting, config: { policy: redis, redis: { host: 127.0.0.1, port: ${redisPort} }, limits: { videos: { minute: ${HUGE} } } } }]` },
    { name: 'request-transformer json body', plugins: '[{ name: request-transformer, config: { add: { body: ["via: frontdesk"] } } }]', post: true },
  ];
}

/** The benchmarks' service with one route per variant (path /v<index>), so the companion holds every variant's resource. */
function gatewayYaml(upstream: string, vs: readonly Variant[]): string {
  return `_format_version: "3.0"
${benchServiceYaml(upstream)}${vs.map((v, i) => `      - name: v${i}\n        paths: [/v${i}]\n${v.plugins ? `        plugins: ${v.plugins}\n` : ''}`).join('')}`;
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) throw new Error('wrk is not installed: npm run bench:transform prepares it (Debian: apt-get install wrk)');
  const run = runInfo();
  printRunHeader('transform', run);
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-transform-'));
  const upstream = await startDirectUpstream({ logger: log, headers: { 'x-kong-limit': 'videos=1' }, readBody: true });
  const redis = await startRedis(dir);
  const vs = variants(redis.port);
  const settings: TranslateSettings = { ...DEFAULT_SETTINGS, transform: { ...DEFAULT_SETTINGS.transform, port: await freePort() } };
  const yaml = gatewayYaml(upstream.url, vs);
  const companion = await startCompanionChild('transform', yaml, dir, settings.transform.port, CPU_PROF, COMPANION_FLAGS);
  const port = await freePort();
  const { listeners, clusters } = staticGatewayResources(yaml, port, undefined, settings);
  // Frontdesk's Envoy runtime (its graceful close of ext_proc streams, bootstrap.ts), as `frontdesk bootstrap` writes it.
  const bootstrap = { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } }, static_resources: { listeners, clusters }, layered_runtime: layeredRuntime() };
  const gateway = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: log, concurrency: 1 });
  const wrkBody = join(dir, 'post.lua');
  try {
    await gateway.waitReady(30_000);
    writeFileSync(wrkBody, 'wrk.method = "POST"\nwrk.body = \'{"name":"bench"}\'\nwrk.headers["Content-Type"] = "application/json"\n');
    const results = new Map<string, WrkResult[]>();
    const cpu = new Map<string, Record<string, number>[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, v] of vs.entries()) {
        const url = `http://127.0.0.1:${port}/v${i}`;
        const check = await fetch(url, v.post ? { method: 'POST', body: '{"name":"bench"}', headers: { 'content-type': 'application/json' } } : {});
        if (check.status !== 200) throw new Error(`${v.name}: ${check.status} ${await check.text()}`);
        wrk(url, 1, CONNECTIONS, {}, undefined, undefined, v.post ? wrkBody : undefined);
        const meter = new CpuMeter({ envoy: gateway.pid, transform: companion.pid, redis: redis.proc.pid, upstream: upstream.pid }).begin();
        const r = wrk(url, SECONDS, CONNECTIONS, {}, undefined, undefined, v.post ? wrkBody : undefined);
        const used = meter.end().perProcess;
        results.set(v.name, [...(results.get(v.name) ?? []), r]);
        cpu.set(v.name, [...(cpu.get(v.name) ?? []), Object.fromEntries(Object.entries(used).map(([k, s]) => [k, r.requests ? (s * 1e6) / r.requests : Number.NaN]))]);
      }
    }
    const memory = memoryOf(companion.pid);
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    const base = mean(results.get('baseline')!.map((r) => r.rps));
    for (const v of vs) {
      const rs = results.get(v.name)!;
      const rps = mean(rs.map((r) => r.rps));
      const cpuUs = Object.fromEntries(Object.keys(cpu.get(v.name)![0]!).map((k) => [k, Math.round(mean(cpu.get(v.name)!.map((c) => c[k]!)) * 10) / 10]));
      const ratio = Math.round((rps / base) * 100) / 100;
      const m = marks(run, wrkProblems(rs));
      const p50 = Math.round(mean(rs.map((r) => r.p50Ms)) * 100) / 100;
      const p99 = Math.round(mean(rs.map((r) => r.p99Ms)) * 100) / 100;
      process.stdout.write(`${JSON.stringify({ bench: 'transform', variant: v.name, seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, rps: Math.round(rps), p50Ms: p50, p99Ms: p99, rpsVsBaseline: ratio, cpuUsPerRequest: cpuUs, baseline: 'the same route without plugins, same Envoy, interleaved', loadgen: LOADGEN, cores: run.cores, marks: m })}\n`);
      process.stdout.write(`transform ${v.name.padEnd(32)} ${Math.round(rps)} req/s (${ratio}x baseline), p50 ${p50} ms, p99 ${p99} ms, CPU µs/request ${Object.entries(cpuUs).filter(([, x]) => x > 0.05).map(([k, x]) => `${k} ${x}`).join(', ')}  [${run.cores} cores, ${LOADGEN}, ${ROUNDS} × ${SECONDS} s]${markText(m)}\n`);
    }
    const rss = memory ? `${memory.rssMiB.toFixed(1)} MiB after the load, ${memory.hwmMiB.toFixed(1)} MiB at its peak` : 'unread';
    process.stdout.write(`${JSON.stringify({ bench: 'transform', companionNodeFlags: COMPANION_FLAGS, companionRssMiB: memory?.rssMiB, companionPeakRssMiB: memory?.hwmMiB })}\n`);
    process.stdout.write(`transform companion's process, its control plane inside (Node flags: ${COMPANION_FLAGS.join(' ') || 'none'}): RSS ${rss}\n`);
  } finally {
    await gateway.stop();
    await companion.stop();
    await redis.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`load average after the run: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
