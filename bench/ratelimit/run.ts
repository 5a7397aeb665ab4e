/**
 * ratelimit benchmark. Prints figures; never fails on them.
 *
 *   node --import tsx bench/ratelimit/run.ts [--seconds 5] [--connections 32] [--keys 100000] [--peer-seconds 10] [--peer-concurrency 50]
 *                                            [--only service,peer,exactness,envoy] [--service-node-options "--max-semi-space-size=1"] [--cpu-prof FILE] [--memory-report FILE] [--heap-snapshot FILE]
 *                                            [--baseline-tree DIR] [--baseline-node-options FLAGS] [--idle-after-load 30]
 *
 * `--idle-after-load N`: in part 3, RSS is read before any load (as it is when part 3 begins, "started",
 * then after N s with nothing to do, "idle"), right after the load, and again after N s with nothing to
 * do (default 30; 0 skips both waits): a companion gives back its heap's slack when it is quiet.
 * `--only` runs the named parts alone (default all three); `--service-node-options` are Node
 * flags for the service process alone (on its command line, as bin/frontdesk.js gives them; default
 * NODE_FLAGS and COMPANION_NODE_FLAGS.ratelimit, what `frontdesk ratelimit` runs with in the compose file; "" for Node's defaults); `--cpu-prof FILE` writes the service's
 * CPU profile from ready to its stop (bench/support/cpuprofile.ts reads it); `--memory-report FILE` writes
 * where the service's memory is at its stop (RSS, V8's heap by space, external, array buffers) as JSON; `--heap-snapshot FILE`
 * writes a V8 heap snapshot of the service at its stop; `--baseline-tree DIR`
 * runs a second service from another checkout of the project (e.g. `git archive main src bench
 * proto package.json | tar -x -C DIR`, node_modules linked) beside this one in part 3, its rounds
 * interleaved with the others: a before/after in the same run (`--baseline-node-options`: its Node flags,
 * default the service's; with `--baseline-tree .` an A/B of the flags alone).
 *
 * 1. Straight at the ratelimit service (envoy.service.ratelimit.v3.RateLimitService/
 *    ShouldRateLimit over gRPC), the service in its own Node process fed by an in-process
 *    control plane over ADS, the load from h2load (one thread, gRPC-framed RateLimitRequests as
 *    Envoy sends them, 64 in flight): decisions/s, p50/p99, and decisions per CPU-second of
 *    the processes doing the work: the service, plus redis-server for the Redis store
 *    (/proc/<pid>/stat of each). Stores: memory (policy local) and Redis (policy redis, a
 *    redis-server started here; decisions batched into Lua script runs, one run in flight). h2load sends one request body,
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
 * 3. Beside envoyproxy/ratelimit (service_cmd at a pinned commit, built with Go by the prepare
 *    step into .cache/bench-bin/, with bench/ratelimit/rlsload, a Go load generator counting OK
 *    and OVER_LIMIT used for both): the same Redis, the same descriptor (fd_route, fd_stage,
 *    remote_address) and limit, fixed window for both and token-bucket for ours, two
 *    interleaved rounds: decisions/s, p50/p99, CPU µs per decision of the server and of
 *    redis-server, RSS. Then exactness: a limit of 600 a minute, 3,000 calls from a fresh client
 *    inside one clock minute, for each: exactly 600 OK expected.
 *
 * The limits are far above what the run can reach, so every decision is a full "allowed" one
 * with Kong's headers (the common case). Everything listens on loopback and is stopped at the
 * end. The run starts with its command, commit, cores and load average
 * (bench/support/run-info.ts); a figure set is MARKED when the run started on a busy machine or
 * saw failed or non-2xx responses. Each figure is one JSON line and one readable line; both name
 * the machine, the load generator and the baseline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../src/logger.js';
import { ENTRY, planRateLimits, rateLimitPolicyId } from '../../src/contracts/ratelimit.js';
import { RLS_METHOD } from '../../src/ratelimit/server.js';
import { rlsTypes } from '../../src/ratelimit/rls-types.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { companionNodeFlags } from '../../src/runtime/node-flags.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { freePort, until } from '../support/net.js';
import { BENCH_BIN, descriptorTree, startRatelimitPeer } from '../support/ratelimit-peer.js';
import { CpuMeter, memoryOf } from '../support/proc.js';
import { startNodeService, startRedis, type Child } from '../support/services.js';
import { figureEmitter, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { machine } from '../support/stats.js';
import { h2load, writeGrpcFrame, wrk, wrkProblems, type RotatingHeader, type WrkResult } from '../support/load.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { transpileTree } from '../support/transpile.js';
import { benchServiceYaml } from '../support/gateway-yaml.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const RUN = runInfo(); // first: the load average before this benchmark starts anything
const SECONDS = Math.max(1, Math.min(numberFlag('seconds', 5), 10));
const CONNECTIONS = numberFlag('connections', 32);
const KEYS = Math.max(1, Math.min(numberFlag('keys', 100_000), 1_000_000));
const PEER_SECONDS = Math.max(1, Math.min(numberFlag('peer-seconds', 10), 30));
const PEER_CONCURRENCY = numberFlag('peer-concurrency', 50);
/** Seconds of idle after the peer comparison's load before RSS is read again (V8 gives back its heap's slack when idle). */
const IDLE_AFTER_LOAD_SECONDS = Math.max(0, numberFlag('idle-after-load', 30));
const EXACT_LIMIT = 600;
const EXACT_N = 3000;
const textFlag = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** Another checkout of the project (its src/ and bench/ratelimit/service-proc.ts), run beside this one in the peer part: a before/after in the same run. */
const BASELINE_TREE = textFlag('baseline-tree') && resolve(textFlag('baseline-tree')!);
const ONLY = new Set((textFlag('only') ?? 'service,peer,exactness,envoy').split(','));
// The service's Node flags: by default those the compose file runs the ratelimit companion with.
const SERVICE_NODE_FLAGS = (textFlag('service-node-options') ?? companionNodeFlags('ratelimit').join(' ')).split(/\s+/).filter(Boolean);
/** The baseline service's Node flags (default the same as the service's): with `--baseline-tree .`, an A/B of flags alone. */
const BASELINE_NODE_FLAGS = (textFlag('baseline-node-options') ?? SERVICE_NODE_FLAGS.join(' ')).split(/\s+/).filter(Boolean);
const log = silentLogger();

// ---- small helpers ---------------------------------------------------------------------------

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

const MACHINE = {
  ...machine(findEnvoy() ?? 'envoy'),
  redis: (spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/) ?? [])[1] ?? 'unknown',
};

const emit = figureEmitter('ratelimit', RUN, MACHINE);

// ---- processes -------------------------------------------------------------------------------

/** The service as plain JavaScript (a transpiled copy in `dir`: no tsx loader in its memory), in its own process. */
function startServiceProcess(dir: string, xdsPort: number, port: number, redisUrl: string, tree = ROOT, name = 'js'): Promise<Child> {
  const js = join(dir, name);
  if (!existsSync(join(js, 'bench', 'ratelimit', 'service-proc.js'))) transpileTree(tree, js, ['src', 'bench/ratelimit/service-proc.ts']);
  const script = join(js, 'bench', 'ratelimit', 'service-proc.js');
  const profile = name === 'js' ? textFlag('cpu-prof') : undefined;
  const memory = name === 'js' ? textFlag('memory-report') : undefined;
  const snapshot = name === 'js' ? textFlag('heap-snapshot') : undefined;
  const args = ['--xds', `127.0.0.1:${xdsPort}`, '--port', String(port), '--redis', redisUrl, ...(profile ? ['--cpu-prof', profile] : []), ...(memory ? ['--memory-report', memory] : []), ...(snapshot ? ['--heap-snapshot', snapshot] : [])];
  // On the command line, as bin/frontdesk.js gives its flags (NODE_OPTIONS refuses some V8 flags).
  return startNodeService('ratelimit', script, args, ROOT, name === 'js' ? SERVICE_NODE_FLAGS : BASELINE_NODE_FLAGS);
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
${benchServiceYaml(upstream)}      - name: open
        paths: [/open]
      - name: memory
        paths: [/memory]
        plugins:
          - { name: rate-limiting, config: { minute: 1000000000, limit_by: ip, policy: local } }
      - name: redis
        paths: [/redis]
        plugins:
          - { name: rate-limiting, config: { minute: 1000000000, limit_by: ip, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort} } }
      - name: redis-fixed
        paths: [/redis-fixed]
        plugins:
          - { name: rate-limiting, config: { minute: 1000000000, limit_by: ip, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort}, algorithm: fixed-window } }
      - name: exact-fixed
        paths: [/exact-fixed]
        plugins:
          - { name: rate-limiting, config: { minute: ${EXACT_LIMIT}, limit_by: ip, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort}, algorithm: fixed-window } }
      - name: exact-token
        paths: [/exact-token]
        plugins:
          - { name: rate-limiting, config: { minute: ${EXACT_LIMIT}, limit_by: ip, policy: redis, redis_host: 127.0.0.1, redis_port: ${redisPort} } }
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


// ---- 3. envoyproxy/ratelimit as a peer ---------------------------------------------------------

interface RlsLoad { calls: number; ok: number; over_limit: number; errors: number; seconds: number; decisions_per_s: number; p50_ms: number; p99_ms: number }

/** bench/ratelimit/rlsload (Go, built by the prepare step): one descriptor, `c` calls in flight. */
function rlsload(port: number, entries: string, args: string[]): RlsLoad {
  const r = spawnSync(join(BENCH_BIN, 'rlsload'), ['-target', `127.0.0.1:${port}`, '-c', String(PEER_CONCURRENCY), '-entries', entries, ...args], { encoding: 'utf8', timeout: 120_000 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try { return JSON.parse(line) as RlsLoad; } catch { throw new Error(`rlsload failed: ${r.stderr || line}`); }
}

/** envoyproxy/ratelimit (service_cmd) on the same Redis, its config the same descriptor tree as Frontdesk's limits. */
function startPeer(dir: string, redisPort: number, routes: { fixed: string; exactFixed: string }): Promise<Child> {
  const path = (route: string) => [`${ENTRY.route}=${route}`, `${ENTRY.stage}=0`, ENTRY.ip];
  // Each limit a tree of its own (descriptorTree puts one limit at the end of every path it is given).
  const descriptors = descriptorTree([path(routes.fixed)], 1_000_000_000) + descriptorTree([path(routes.exactFixed)], EXACT_LIMIT);
  return startRatelimitPeer(dir, redisPort, 'frontdesk', descriptors, (grpcPort) => rlsload(grpcPort, `${ENTRY.route}=${routes.fixed},${ENTRY.stage}=0,${ENTRY.ip}=10.9.9.9`, ['-n', '1', '-c', '1']).ok === 1);
}

function rssMiB(pid: number | undefined): number {
  return pid ? round(memoryOf(pid)?.rssMiB ?? Number.NaN, 1) : Number.NaN;
}

type Side = { name: string; child: Child; route: string };

/** Decisions/s, p99, CPU per decision and RSS of each side, two interleaved rounds. */
async function peerSpeed(sides: Side[], ours: Child, redis: Child, entries: (route: string, ip: string) => string): Promise<void> {
    // Before any load: what the process holds with its policy and nothing else, as part 3 begins
    // and after the same quiet spell as after the load (the start-up's garbage given back).
    const started = new Map(sides.map((x) => [x.child, rssMiB(x.child.proc.pid)]));
    if (IDLE_AFTER_LOAD_SECONDS > 0) await new Promise((r) => setTimeout(r, IDLE_AFTER_LOAD_SECONDS * 1000));
    const idle = new Map(sides.map((x) => [x.child, rssMiB(x.child.proc.pid)]));
    for (const x of sides) rlsload(x.child.port, entries(x.route, '10.1.2.3'), ['-d', '2s']); // warm-up
    const samples = new Map<string, Array<RlsLoad & { cpuServer: number; cpuRedis: number }>>(sides.map((x) => [x.name, []]));
    for (let r = 0; r < 2; r++) {
      for (const x of sides) {
        const m = new CpuMeter({ server: x.child.proc.pid, redis: redis.proc.pid }).begin();
        const res = rlsload(x.child.port, entries(x.route, `10.1.2.${3 + r}`), ['-d', `${PEER_SECONDS}s`]);
        const cpu = m.end().perProcess;
        samples.get(x.name)!.push({ ...res, cpuServer: cpu.server!, cpuRedis: cpu.redis! });
      }
    }
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const peerRate = avg(samples.get('envoyproxy/ratelimit, fixed window')!.map((s) => s.decisions_per_s));
    const peerP99 = avg(samples.get('envoyproxy/ratelimit, fixed window')!.map((s) => s.p99_ms));
    const generator = `rlsload (Go, grpc-go) -c ${PEER_CONCURRENCY} over one connection, ${PEER_SECONDS} s, one descriptor (fd_route, fd_stage, remote_address), 2 interleaved rounds (mean)`;
    const afterLoad = new Map(sides.map((x) => [x.child, rssMiB(x.child.proc.pid)]));
    if (IDLE_AFTER_LOAD_SECONDS > 0) await new Promise((r) => setTimeout(r, IDLE_AFTER_LOAD_SECONDS * 1000));
    const afterIdle = new Map(sides.map((x) => [x.child, rssMiB(x.child.proc.pid)]));
    for (const x of sides) {
      const ss = samples.get(x.name)!;
      const rate = avg(ss.map((s) => s.decisions_per_s));
      const calls = ss.reduce((a, s) => a + s.calls, 0);
      const cpuUs = (ss.reduce((a, s) => a + s.cpuServer, 0) * 1e6) / Math.max(1, calls);
      const redisUs = (ss.reduce((a, s) => a + s.cpuRedis, 0) * 1e6) / Math.max(1, calls);
      const rss = afterLoad.get(x.child);
      const settled = IDLE_AFTER_LOAD_SECONDS > 0 ? afterIdle.get(x.child) : undefined;
      const errors = ss.reduce((a, s) => a + s.errors + s.over_limit, 0);
      emit(
        { part: 'peer', scenario: x.name, decisions_per_s: round(rate), p50_ms: round(avg(ss.map((s) => s.p50_ms)), 2), p99_ms: round(avg(ss.map((s) => s.p99_ms)), 2),
          ratio_to_peer: round(rate / peerRate, 3), p99_minus_peer_ms: round(avg(ss.map((s) => s.p99_ms)) - peerP99, 2), rounds: ss.map((s) => round(s.decisions_per_s)),
          server_cpu_us_per_decision: round(cpuUs, 1), redis_cpu_us_per_decision: round(redisUs, 1), rss_mib: rss, rss_started_mib: started.get(x.child), rss_idle_mib: idle.get(x.child), rss_after_load_idle_mib: settled, idle_after_load_s: IDLE_AFTER_LOAD_SECONDS, not_ok: errors,
          load_generator: generator, baseline: 'envoyproxy/ratelimit (service_cmd, Redis single, fixed window, stats off, defaults otherwise), same Redis, same run', server_process: x.child !== ours && x.name.includes('baseline') ? `the same, from ${BASELINE_TREE}, node ${BASELINE_NODE_FLAGS.join(' ') || "with Node's defaults"}` : x.child === ours ? `frontdesk ratelimit as plain JavaScript (transpiled copy, no tsx), node ${SERVICE_NODE_FLAGS.join(' ') || "with Node's defaults"}` : 'service_cmd' },
        `peer, ${x.name}: ${round(rate)} decisions/s (${round((rate / peerRate) * 100, 1)} % of envoyproxy/ratelimit), p50 ${round(avg(ss.map((s) => s.p50_ms)), 2)} ms, p99 ${round(avg(ss.map((s) => s.p99_ms)), 2)} ms; CPU µs/decision server ${round(cpuUs, 1)}, redis-server ${round(redisUs, 1)}; RSS ${started.get(x.child)} MiB as part 3 began${IDLE_AFTER_LOAD_SECONDS > 0 ? `, ${idle.get(x.child)} MiB after ${IDLE_AFTER_LOAD_SECONDS} s idle` : ''}, ${rss} MiB after load${settled !== undefined ? `, ${settled} MiB after ${IDLE_AFTER_LOAD_SECONDS} s idle after it` : ''}; rounds ${ss.map((s) => round(s.decisions_per_s)).join(', ')}; load: ${generator}`,
        errors ? [`${errors} answers that were not OK`] : [],
      );
    }
}

async function peerComparison(dir: string, ours: Child, redis: Child, routes: { fixed: string; token: string; exactFixed: string; exactToken: string }, cleanup: Array<() => Promise<void> | void>, baseline?: Child): Promise<void> {
  if (!existsSync(join(BENCH_BIN, 'service_cmd')) || !existsSync(join(BENCH_BIN, 'rlsload'))) {
    emit({ part: 'peer', skipped: true, why: 'envoyproxy/ratelimit or rlsload not built' }, 'peer: skipped, envoyproxy/ratelimit or rlsload not built (npm run bench:prepare does it: sh scripts/bench-prepare.sh ratelimit-peer)');
    return;
  }
  const peer = await startPeer(dir, redis.port, routes);
  cleanup.push(() => peer.stop());
  const entries = (route: string, ip: string) => `${ENTRY.route}=${route},${ENTRY.stage}=0,${ENTRY.ip}=${ip}`;
  const sides = [
    { name: 'frontdesk, fixed-window', child: ours, route: routes.fixed },
    { name: 'envoyproxy/ratelimit, fixed window', child: peer, route: routes.fixed },
    { name: 'frontdesk, token-bucket', child: ours, route: routes.token },
    ...(baseline ? [{ name: 'frontdesk baseline, fixed-window', child: baseline, route: routes.fixed }] : []),
  ];
  if (ONLY.has('peer')) await peerSpeed(sides, ours, redis, entries);
  // Exactness: a limit of EXACT_LIMIT a minute, EXACT_N calls from a fresh client inside one clock minute.
  for (const x of !ONLY.has('exactness') ? [] : [
    { name: 'frontdesk, fixed-window', child: ours, route: routes.exactFixed },
    { name: 'envoyproxy/ratelimit, fixed window', child: peer, route: routes.exactFixed },
    { name: 'frontdesk, token-bucket', child: ours, route: routes.exactToken },
  ]) {
    await until('a moment with 15 s left in the clock minute', () => { const s = new Date().getUTCSeconds(); return s >= 1 && s <= 45; }, 70_000);
    const ip = `10.7.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const r = rlsload(x.child.port, entries(x.route, ip), ['-n', String(EXACT_N), '-d', '14s']);
    // A fixed window admits exactly the limit inside one clock minute; a token bucket the limit
    // plus what flowed back during the run (limit / 60 s per second), never more.
    const refill = x.route === routes.exactToken ? Math.floor((r.seconds * EXACT_LIMIT) / 60) : 0;
    const exact = r.calls === EXACT_N && r.ok >= EXACT_LIMIT && r.ok <= EXACT_LIMIT + refill;
    const expected = refill ? `${EXACT_LIMIT} to ${EXACT_LIMIT + refill} (the bucket refills ${round(EXACT_LIMIT / 60, 1)}/s over the run's ${round(r.seconds, 2)} s)` : String(EXACT_LIMIT);
    emit(
      { part: 'peer-exactness', scenario: x.name, limit_per_minute: EXACT_LIMIT, calls: r.calls, ok: r.ok, over_limit: r.over_limit, errors: r.errors, seconds: round(r.seconds, 2), expected_ok: expected, exact,
        load_generator: `rlsload -c ${PEER_CONCURRENCY} -n ${EXACT_N}, one fresh client ip, inside one clock minute`, baseline: 'the limit' },
      `peer exactness, ${x.name}: ${r.ok} OK of ${r.calls} calls against a limit of ${EXACT_LIMIT} a minute (${r.over_limit} OVER_LIMIT, ${r.errors} errors; expected ${expected})${exact ? ', exact' : ', NOT exact'}`,
      exact ? [] : ['not exactly the limit admitted'],
    );
  }
  await peer.stop();
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
    const service = await startServiceProcess(dir, xdsPort, ratelimitPort, `redis://127.0.0.1:${redis.port}`);
    cleanup.push(() => service.stop());
    if (ONLY.has('service')) {
      await serviceScenario('memory store (policy local)', policyOf('memory'), service, redis, dir);
      await serviceScenario('Redis store (policy redis, decisions batched into script runs)', policyOf('redis'), service, redis, dir);
    }

    // 3. beside envoyproxy/ratelimit: same Redis, same load generator, interleaved
    let baseline: Child | undefined;
    if (BASELINE_TREE && ONLY.has('peer')) {
      baseline = await startServiceProcess(dir, xdsPort, await freePort(), `redis://127.0.0.1:${redis.port}`, BASELINE_TREE, 'js-baseline');
      cleanup.push(() => baseline!.stop());
    }
    if (ONLY.has('peer') || ONLY.has('exactness')) await peerComparison(dir, service, redis, { fixed: policyOf('redis-fixed'), token: policyOf('redis'), exactFixed: policyOf('exact-fixed'), exactToken: policyOf('exact-token') }, cleanup, baseline);

    // 2. through Envoy, the same service process
    if (!ONLY.has('envoy')) return;
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
