/**
 * ratelimit benchmark. Prints figures; never fails on them.
 *
 *   node --import tsx bench/ratelimit/run.ts [--seconds 5] [--connections 32] [--keys 100000]
 *
 * 1. Straight at the ratelimit service (envoy.service.ratelimit.v3.RateLimitService/
 *    ShouldRateLimit over gRPC), the service in its own Node process fed by an in-process
 *    control plane over ADS, the load from h2load (one thread, gRPC-framed RateLimitRequests as
 *    Envoy sends them, 64 in flight): decisions/s, p50/p99, and decisions per CPU-second of
 *    the processes doing the work: the service, plus redis-server for the Redis store
 *    (/proc/<pid>/stat of each). Stores: memory (policy local) and Redis (policy redis, a
 *    redis-server started here; one Lua script per decision). h2load sends one request body,
 *    so this part is the one-key best case.
 * 2. Through Envoy: one Envoy (concurrency 1) fed by the control plane, one listener with routes
 *    to the same upstream — no limits, a limit in the service's memory, a limit in Redis —
 *    loaded in turn by wrk, two alternating rounds, same run; the upstream is a second Envoy
 *    answering with direct_response, never the bottleneck. Each limited route runs twice: one
 *    key (every request from one ip: the best case, one counter) and many keys (limit_by a
 *    header whose value cycles through --keys values, bench/support/rotate-header.lua).
 *    Requests/s, p50/p99, the ratio against the route without limits, non-2xx responses, and
 *    requests per CPU-second of both Envoys, the service and redis-server.
 *
 * The limits are far above what the run can reach, so every decision is a full "allowed" one
 * with Kong's headers (the common case). Everything listens on loopback and is stopped at the
 * end. The run starts with its command, commit, cores and load average
 * (bench/support/run-info.ts); a figure set is MARKED when the run started on a busy machine or
 * saw failed or non-2xx responses. Each figure is one JSON line and one readable line; both name
 * the machine, the load generator and the baseline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/logger.js';
import { ENTRY, planRateLimits, rateLimitPolicyId } from '../../src/contracts/ratelimit.js';
import { RLS_METHOD, rlsTypes } from '../../src/ratelimit/server.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { freePort, until } from '../support/net.js';
import { CpuMeter } from '../support/proc.js';
import { markText, marks, printRunHeader, runInfo } from '../support/run-info.js';
import { machine } from '../support/stats.js';
import { h2load, writeGrpcFrame, wrk, wrkProblems, type RotatingHeader, type WrkResult } from '../support/load.js';
import { startDirectUpstream } from '../support/direct-upstream.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const flag = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const RUN = runInfo(); // first: the load average before this benchmark starts anything
const SECONDS = Math.max(1, Math.min(flag('seconds', 5), 10));
const CONNECTIONS = flag('connections', 32);
const KEYS = Math.max(1, Math.min(flag('keys', 100_000), 1_000_000));
const log = silentLogger();

// ---- small helpers ---------------------------------------------------------------------------

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

const MACHINE = {
  ...machine(findEnvoy() ?? 'envoy'),
  redis: (spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/) ?? [])[1] ?? 'unknown',
};

function emit(figure: Record<string, unknown>, readable: string, problems: string[] = []): void {
  const m = marks(RUN, problems);
  const run = { command: RUN.command, commit: RUN.commit, load_avg_1_at_start: RUN.loadAvg1AtStart, busy_at_start: RUN.busy };
  process.stdout.write(`${JSON.stringify({ bench: 'ratelimit', ...figure, marked: m.length > 0, marks: m, run, machine: MACHINE })}\n`);
  process.stdout.write(`${readable}  [${MACHINE.cores} cores ${MACHINE.cpu}, node ${MACHINE.node}, envoy ${MACHINE.envoy}, redis ${MACHINE.redis}; commit ${RUN.commit}, load ${RUN.loadAvg1AtStart} at start]${markText(m)}\n`);
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

/** The RateLimitRequest Envoy sends for a route limited by ip (see contracts/ratelimit.ts). */
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

async function serviceScenario(name: string, route: string, child: Child, redis: Child, dir: string): Promise<void> {
  const bytes = requestBytes(route);
  const first = await decideOnce(child.port, bytes);
  if (first.code !== 'OK' || first.headers === 0) throw new Error(`${name}: the benchmark request is not an allowed, counted decision (${JSON.stringify(first)})`);
  const file = join(dir, `${route}.grpc`);
  writeGrpcFrame(file, bytes);
  h2load(child.port, RLS_METHOD, file, 1); // warm-up: JIT, connections, script cache
  const meter = new CpuMeter({ ratelimit: child.proc.pid, 'redis-server': redis.proc.pid }).begin();
  const r = h2load(child.port, RLS_METHOD, file, SECONDS, join(dir, 'h2load.log'));
  const used = meter.end();
  const cpu = used.total;
  const perCore = cpu > 0 ? r.requests / cpu : NaN;
  emit(
    { part: 'service', scenario: name, decisions: r.requests, failed: r.failed, non_2xx: r.non2xx, decisions_per_s: round(r.rps), p50_ms: round(r.p50Ms, 2), p99_ms: round(r.p99Ms, 2),
      cpu_s: round(cpu, 2), cpu_s_per_process: Object.fromEntries(Object.entries(used.perProcess).map(([k, v]) => [k, round(v, 2)])), decisions_per_cpu_s: round(perCore),
      cpu_counted: 'ratelimit process + redis-server', seconds: r.seconds,
      load_generator: 'h2load -t1 -c2 -m32 (gRPC-framed RateLimitRequest, 64 in flight)', baseline: 'none (absolute figures)' },
    `ratelimit service, ${name}: ${round(r.rps)} decisions/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms; ${round(perCore)} decisions per CPU-second of the service + redis-server (${round(used.perProcess.ratelimit!, 1)} + ${round(used.perProcess['redis-server']!, 1)} s CPU over ${r.seconds} s); ${r.failed} failed, ${r.non2xx} non-2xx; load: h2load 1 thread, 64 streams, one key`,
    [r.failed ? `${r.failed} failed requests` : '', r.non2xx ? `${r.non2xx} non-2xx responses` : '', r.requests === 0 ? 'no request made (h2load missing or failing?)' : ''],
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
      - name: memory-keys
        paths: [/memory-keys]
        plugins:
          - { name: rate-limiting, config: { minute: 1000000000, limit_by: header, header_name: x-client, policy: local } }
      - name: redis-keys
        paths: [/redis-keys]
        plugins:
          - { name: rate-limiting, config: { minute: 1000000000, limit_by: header, header_name: x-client, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort} } }
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
    printRunHeader('ratelimit', RUN);
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
    // Envoy names a route's limits by their content (contracts/ratelimit.ts rateLimitPolicyId): so does a request sent here.
    const ir = compileConfig([{ file: configFile, text: readFileSync(configFile, 'utf8') }]).ir;
    const plan = ir ? planRateLimits(ir, { failOpen: false }) : undefined;
    const policyOf = (route: string): string => {
      const limits = plan?.routes.get(route);
      if (!limits) throw new Error(`no rate-limited route ${route} in the benchmark's config`);
      return rateLimitPolicyId(limits);
    };

    // 1. straight at the service
    const service = await startServiceProcess(xdsPort, ratelimitPort, `redis://127.0.0.1:${redis.port}`);
    cleanup.push(() => service.stop());
    await serviceScenario('memory store (policy local)', policyOf('memory'), service, redis, dir);
    await serviceScenario('Redis store (policy redis, one Lua script per decision)', policyOf('redis'), service, redis, dir);

    // 2. through Envoy, the same service process
    const envoy = await EnvoyProcess.start({
      bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: 'bench-ratelimit-envoy', cluster: 'frontdesk', adminPort: 0 }),
      logger: log, concurrency: 1,
    });
    cleanup.push(() => envoy.stop());
    await envoy.waitReady(30_000);
    const proxy = `http://127.0.0.1:${proxyPort}`;
    const probe = async (path: string, headers: Record<string, string> = {}) => { const r = await fetch(`${proxy}${path}`, { headers }); await r.arrayBuffer(); return r; };
    await until('Envoy to serve every route, limited ones with headers', async () => {
      for (const p of ['/memory', '/redis', '/memory-keys', '/redis-keys']) { const r = await probe(p, { 'x-client': 'probe' }); if (r.status !== 200 || !r.headers.get('x-ratelimit-limit-minute')) return false; }
      return (await probe('/open')).status === 200;
    });
    const keys: RotatingHeader = { header: 'x-client', values: Array.from({ length: KEYS }, (_, i) => `client-${i}`), file: join(dir, 'keys.txt') };
    const modes: Array<{ name: string; url: string; rotate?: RotatingHeader }> = [
      { name: 'no limits', url: `${proxy}/open` },
      { name: 'limit in the service memory, one key', url: `${proxy}/memory` },
      { name: `limit in the service memory, ${KEYS} keys`, url: `${proxy}/memory-keys`, rotate: keys },
      { name: 'limit in Redis, one key', url: `${proxy}/redis` },
      { name: `limit in Redis, ${KEYS} keys`, url: `${proxy}/redis-keys`, rotate: keys },
    ];
    const working = new CpuMeter({ 'gateway Envoy': envoy.pid, 'upstream Envoy': upstream.pid, ratelimit: service.proc.pid, 'redis-server': redis.proc.pid });
    for (const m of modes) wrk(m.url, 1, CONNECTIONS, {}, m.rotate); // warm-up
    const results = new Map<string, Array<WrkResult & { cpuS: number }>>();
    for (let r = 0; r < 2; r++) {
      for (const m of modes) {
        working.begin();
        const x = wrk(m.url, SECONDS, CONNECTIONS, {}, m.rotate);
        results.set(m.name, [...(results.get(m.name) ?? []), { ...x, cpuS: working.end().total }]);
      }
    }
    const mean = (rs: Array<WrkResult & { cpuS: number }>, k: 'rps' | 'p99Ms' | 'p50Ms' | 'cpuS' | 'requests') => rs.reduce((a, x) => a + x[k], 0) / rs.length;
    const base = mean(results.get('no limits')!, 'rps');
    const generator = `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, 2 alternating rounds (mean)`;
    const counted = 'gateway Envoy + upstream Envoy + ratelimit process + redis-server';
    for (const [name, rs] of results) {
      const ratio = mean(rs, 'rps') / base;
      const perCpu = mean(rs, 'requests') / mean(rs, 'cpuS');
      const non2xx = rs.reduce((a, x) => a + x.non2xx, 0);
      emit(
        { part: 'envoy', scenario: name, rps: round(mean(rs, 'rps')), p50_ms: round(mean(rs, 'p50Ms'), 2), p99_ms: round(mean(rs, 'p99Ms'), 2),
          ratio_to_no_limits: round(ratio, 3), rounds: rs.map((x) => round(x.rps)), non_2xx: non2xx, socket_errors: rs.reduce((a, x) => a + x.errors, 0),
          requests_per_cpu_s: round(perCpu), cpu_s_per_round: round(mean(rs, 'cpuS'), 2), cpu_counted: counted,
          load_generator: `${generator}${name.includes(' keys') ? ', x-client rotating through the keys (rotate-header.lua)' : ''}`,
          baseline: 'same Envoy (concurrency 1), route without limits, same upstream (Envoy direct_response), same run',
          processes: 'gateway Envoy x1 worker, upstream Envoy x1 worker, ratelimit Node process, redis-server, wrk x1 thread, control plane (idle)' },
        `through Envoy, ${name}: ${round(mean(rs, 'rps'))} req/s (${round(ratio * 100, 1)} % of no limits), p50 ${round(mean(rs, 'p50Ms'), 2)} ms, p99 ${round(mean(rs, 'p99Ms'), 2)} ms, ${non2xx} non-2xx (rounds ${rs.map((x) => round(x.rps)).join(', ')}); ${round(perCpu)} requests per CPU-second of ${counted}; load: ${generator}; baseline: same Envoy, route without limits`,
        wrkProblems(rs),
      );
    }
  } finally {
    await stopAll();
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench/ratelimit: ${(e as Error).stack ?? e}\n`); process.exit(1); });
