/**
 * ratelimit benchmark. Prints figures; never fails on them.
 *
 *   node --import tsx bench/ratelimit/run.ts [--seconds 5] [--connections 32]
 *
 * 1. Straight at the ratelimit service (envoy.service.ratelimit.v3.RateLimitService/
 *    ShouldRateLimit over gRPC), the service in its own Node process fed by an in-process
 *    control plane over ADS, the load from h2load (one thread, gRPC-framed RateLimitRequests as
 *    Envoy sends them, 64 in flight): decisions/s, p50/p99, and decisions per CPU-second the
 *    service process used (≈ decisions/s per core). Stores: memory (policy local) and Redis
 *    (policy redis, a redis-server started here; one Lua script per decision).
 * 2. Through Envoy: one Envoy (concurrency 1) fed by the control plane, one listener with routes
 *    to the same upstream — no limits, a limit in the service's memory, a limit in Redis —
 *    loaded in turn by wrk, two alternating rounds, same run; the upstream is a second Envoy
 *    answering with direct_response, never the bottleneck. Requests/s, p50/p99 and the ratio
 *    against the route without limits.
 *
 * The limits are far above what the run can reach, so every decision is a full "allowed" one
 * with Kong's headers (the common case). Everything listens on loopback and is stopped at the
 * end. Each figure is one JSON line and one readable line; both name the machine, the load
 * generator and the baseline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/logger.js';
import { ENTRY } from '../../src/ratelimit/descriptors.js';
import { RLS_METHOD, rlsTypes } from '../../src/ratelimit/server.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { freePort, until } from '../support/net.js';
import { cpuSecondsOf } from '../support/proc.js';
import { machine, percentile } from '../support/stats.js';
import { h2load, writeGrpcFrame, wrk, type WrkResult } from '../support/load.js';
import { startDirectUpstream } from '../support/direct-upstream.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const flag = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = Math.max(1, Math.min(flag('seconds', 5), 10));
const CONNECTIONS = flag('connections', 32);
const log = silentLogger();

// ---- small helpers ---------------------------------------------------------------------------

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

const MACHINE = {
  ...machine(findEnvoy() ?? 'envoy'),
  redis: (spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/) ?? [])[1] ?? 'unknown',
};

function emit(figure: Record<string, unknown>, readable: string): void {
  process.stdout.write(`${JSON.stringify({ bench: 'ratelimit', ...figure, machine: MACHINE })}\n`);
  process.stdout.write(`${readable}  [${MACHINE.cores} cores ${MACHINE.cpu}, node ${MACHINE.node}, envoy ${MACHINE.envoy}, redis ${MACHINE.redis}]\n`);
}

// ---- processes -------------------------------------------------------------------------------

interface Child { proc: ChildProcess; port: number; stop(): Promise<void> }

function stopper(proc: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) { resolve(); return; }
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
  });
}

async function startRedis(dir: string): Promise<Child> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await until('redis-server to answer PING', () => new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
    socket.once('data', (d) => { resolve(d.toString().startsWith('+PONG')); socket.end(); });
    socket.write('PING\r\n');
  }));
  return { proc, port, stop: stopper(proc) };
}

async function startServiceProcess(xdsPort: number, port: number, redisUrl: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'service-proc.ts'), '--xds', `127.0.0.1:${xdsPort}`, '--port', String(port), '--redis', redisUrl], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const bound = await until('the ratelimit process to be ready', () => {
    if (proc.exitCode !== null) throw new Error(`ratelimit process exited with ${proc.exitCode}`);
    const m = /ready (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  });
  return { proc, port: bound, stop: stopper(proc) };
}

// ---- 1. straight at the service ------------------------------------------------------------

/** The RateLimitRequest Envoy sends for a route limited by ip (see descriptors.ts). */
function requestBytes(route: string): Uint8Array {
  return rlsTypes().req.encode({
    domain: 'frontdesk',
    descriptors: [{ entries: [{ key: ENTRY.route, value: route }, { key: ENTRY.stage, value: '0' }, { key: ENTRY.ip, value: '10.1.2.3' }] }],
  }).finish();
}

async function decideOnce(port: number, bytes: Uint8Array): Promise<{ code: string; headers: number }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const res = await new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest(RLS_METHOD, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, bytes, (e, r) => (e ? reject(e) : resolve(r!))));
    const t = rlsTypes().res;
    const m = t.toObject(t.decode(res), { enums: String, defaults: true }) as { overall_code: string; response_headers_to_add: unknown[] };
    return { code: m.overall_code, headers: m.response_headers_to_add.length };
  } finally {
    client.close();
  }
}

async function serviceScenario(name: string, route: string, child: Child, dir: string): Promise<void> {
  const bytes = requestBytes(route);
  const first = await decideOnce(child.port, bytes);
  if (first.code !== 'OK' || first.headers === 0) throw new Error(`${name}: the benchmark request is not an allowed, counted decision (${JSON.stringify(first)})`);
  const file = join(dir, `${route}.grpc`);
  writeGrpcFrame(file, bytes);
  h2load(child.port, RLS_METHOD, file, 1); // warm-up: JIT, connections, script cache
  const cpu0 = cpuSecondsOf(child.proc.pid!);
  const r = h2load(child.port, RLS_METHOD, file, SECONDS, join(dir, 'h2load.log'));
  const cpu = cpuSecondsOf(child.proc.pid!) - cpu0;
  const perCore = cpu > 0 ? r.requests / cpu : NaN;
  emit(
    { part: 'service', scenario: name, decisions: r.requests, failed: r.failed, decisions_per_s: round(r.rps), p50_ms: round(r.p50Ms, 2), p99_ms: round(r.p99Ms, 2),
      service_cpu_s: round(cpu, 2), decisions_per_cpu_s: round(perCore), seconds: r.seconds,
      load_generator: 'h2load -t1 -c2 -m32 (gRPC-framed RateLimitRequest, 64 in flight)', baseline: 'none (absolute figures)' },
    `ratelimit service, ${name}: ${round(r.rps)} decisions/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms; ${round(perCore)} decisions per CPU-second of the service (${round(cpu, 1)} s CPU over ${r.seconds} s); ${r.failed} failed; load: h2load 1 thread, 64 streams`,
  );
}

// ---- 2. through Envoy ------------------------------------------------------------------------

// ---- the configuration -----------------------------------------------------------------------

function gatewayYaml(upstream: string, redisPort: number): string {
  // Limits no run can reach: every decision is an allowed one, with Kong's headers.
  return `_format_version: "3.0"
services:
  - name: bench
    url: ${upstream}
    connect_timeout: 2000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: open
        paths: [/open]
      - name: memory
        paths: [/memory]
        plugins:
          - { name: rate-limiting, config: { minute: 1000000000, limit_by: ip, policy: local } }
      - name: redis
        paths: [/redis]
        plugins:
          - { name: rate-limiting, config: { minute: 1000000000, limit_by: ip, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort} } }
`;
}

// ---- main --------------------------------------------------------------------------------

async function main(): Promise<void> {
  for (const tool of ['h2load', 'wrk', 'redis-server']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (Debian: apt-get install nghttp2-client wrk redis-server)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-ratelimit-'));
  const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => { for (const f of cleanup.splice(0).reverse()) { try { await f(); } catch { /* best effort */ } } };
  process.once('SIGINT', () => { void stopAll().then(() => process.exit(130)); });
  try {
    const redis = await startRedis(dir);
    cleanup.push(() => redis.stop());
    const [proxyPort, ratelimitPort] = await Promise.all([freePort(), freePort()]);
    const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
    cleanup.push(() => upstream.stop());
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(configFile, gatewayYaml(upstream.url, redis.port));
    const cp = new ControlPlane({
      configPath: configFile, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
      settings: { ...DEFAULT_SETTINGS, ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: ratelimitPort } },
      ir: { defaultListener: { address: '127.0.0.1', port: proxyPort } }, logger: log, watch: false,
    });
    const { xdsPort } = await cp.start();
    cleanup.push(() => cp.stop());

    // 1. straight at the service
    const service = await startServiceProcess(xdsPort, ratelimitPort, `redis://127.0.0.1:${redis.port}`);
    cleanup.push(() => service.stop());
    await serviceScenario('memory store (policy local)', 'memory', service, dir);
    await serviceScenario('Redis store (policy redis, one Lua script per decision)', 'redis', service, dir);

    // 2. through Envoy, the same service process
    const envoy = await EnvoyProcess.start({
      bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: 'bench-ratelimit-envoy', cluster: 'frontdesk', adminPort: 0 }),
      logger: log, concurrency: 1,
    });
    cleanup.push(() => envoy.stop());
    await envoy.waitReady(30_000);
    const proxy = `http://127.0.0.1:${proxyPort}`;
    const probe = async (path: string) => { const r = await fetch(`${proxy}${path}`); await r.arrayBuffer(); return r; };
    await until('Envoy to serve every route, limited ones with headers', async () => {
      for (const p of ['/memory', '/redis']) { const r = await probe(p); if (r.status !== 200 || !r.headers.get('x-ratelimit-limit-minute')) return false; }
      return (await probe('/open')).status === 200;
    });
    const modes = [
      { name: 'no limits', url: `${proxy}/open` },
      { name: 'limit in the service memory', url: `${proxy}/memory` },
      { name: 'limit in Redis', url: `${proxy}/redis` },
    ];
    for (const m of modes) wrk(m.url, 1, CONNECTIONS); // warm-up
    const results = new Map<string, WrkResult[]>();
    for (let r = 0; r < 2; r++) {
      for (const m of modes) results.set(m.name, [...(results.get(m.name) ?? []), wrk(m.url, SECONDS, CONNECTIONS)]);
    }
    const mean = (rs: WrkResult[], k: 'rps' | 'p99Ms' | 'p50Ms') => rs.reduce((a, x) => a + x[k], 0) / rs.length;
    const base = mean(results.get('no limits')!, 'rps');
    const generator = `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, 2 alternating rounds (mean)`;
    for (const [name, rs] of results) {
      const ratio = mean(rs, 'rps') / base;
      emit(
        { part: 'envoy', scenario: name, rps: round(mean(rs, 'rps')), p50_ms: round(mean(rs, 'p50Ms'), 2), p99_ms: round(mean(rs, 'p99Ms'), 2),
          ratio_to_no_limits: round(ratio, 3), rounds: rs.map((x) => round(x.rps)), non_2xx: rs.reduce((a, x) => a + x.non2xx, 0), socket_errors: rs.reduce((a, x) => a + x.errors, 0),
          load_generator: generator, baseline: 'same Envoy (concurrency 1), route without limits, same upstream (Envoy direct_response), same run',
          processes: 'gateway Envoy x1 worker, upstream Envoy x1 worker, ratelimit Node process, redis-server, wrk x1 thread, control plane (idle)' },
        `through Envoy, ${name}: ${round(mean(rs, 'rps'))} req/s (${round(ratio * 100, 1)} % of no limits), p50 ${round(mean(rs, 'p50Ms'), 2)} ms, p99 ${round(mean(rs, 'p99Ms'), 2)} ms (rounds ${rs.map((x) => round(x.rps)).join(', ')}); load: ${generator}; baseline: same Envoy, route without limits`,
      );
    }
  } finally {
    await stopAll();
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench/ratelimit: ${(e as Error).stack ?? e}\n`); process.exit(1); });
