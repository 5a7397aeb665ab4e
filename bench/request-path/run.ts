/**
 * request-path benchmark: what a request costs through a Frontdesk route, against bare Envoy.
 * Prints figures; never fails on them.
 *
 *   node --import tsx bench/request-path/run.ts [--seconds 3] [--connections 32] [--rounds 2] [--only cases,rls-peer,envoy-floor,ablation]
 *     [--callgrind] [--variants <regex>]
 *
 * 1. cases: one Envoy (concurrency 1) fed by Frontdesk's control plane over ADS, a listener per
 *    case (what a user with that one route gets: the filters of its own plugins, no other case's),
 *    all to the same upstream (a second Envoy answering with direct_response, never the
 *    bottleneck), and beside it a bare Envoy (concurrency 1: one listener, the router, a route to
 *    the same upstream) which also holds a static copy of the plugin-less route's compiled
 *    listener (no xDS). One more listener of the gateway carries the plugin-less route beside a
 *    copy of every case's route: what sharing a listener with routes that need filters costs
 *    the route that needs none. Each process's idle CPU is printed first. Cases: bare Envoy; a route without
 *    plugins; jwt (RS256); key-auth; basic-auth; jwt + acl; key-auth + a local limit; bot-detection
 *    (a browser's User-Agent, searched against all of Kong's bot rules); key-auth + a Redis limit; each as the config writes it by default (Envoy's own filters wherever the
 *    commit serves the plugin natively) and with `enforcer: companion` on every plugin. The case
 *    list is what the commit loads: a case whose config does not compile here (say, an
 *    `enforcer` field the commit lacks) is printed as skipped with the reason, and the label of
 *    each case names who serves each plugin (the plugin definitions' `enforcers`). wrk loads the
 *    cases in turn, --rounds rounds, interleaved; per case: requests/s, p50/p99, the ratio
 *    against bare Envoy, and CPU µs per request of the gateway Envoy and of each companion
 *    (and redis-server), from /proc/<pid>/stat.
 * 2. rls-peer: the key-auth + Redis limit case's compiled listener twice in one static Envoy,
 *    its rate-limit cluster pointed at Frontdesk's ratelimit companion and, in the copy, at
 *    envoyproxy/ratelimit (built by `sh scripts/bench-prepare.sh ratelimit-peer`; same Redis, a
 *    descriptor tree that makes each request one counter there too), beside a bare listener:
 *    what the Redis limit costs with either service, Envoy's share being the same filter and call.
 *    envoy-floor: Envoy's own jwt_authn, api_key_auth and api_key_auth + local_ratelimit alone on
 *    bare listeners (nothing of Kong's around them), against the bare listener: the floor of
 *    any native translation of those plugins.
 * 3. ablation: what a route without plugins costs over bare Envoy, setting by setting. One
 *    static Envoy (concurrency 1) holding Frontdesk's compiled listener for a plugin-less route
 *    (bench/support/static-gateway.ts) several times, each copy on its own port with one setting
 *    removed (local reply mappers, path normalisation, the request headers Kong adds, the
 *    strip_path rewrite, the retry policy, route metadata, circuit-breaker tracking), one copy
 *    with all of them removed, and a bare listener; same upstream, interleaved rounds. Then the
 *    alternatives: parts of one setting, or another way to the same upstream request (say,
 *    X-Forwarded-Host by append_x_forwarded_host), each on a copy of its own. `--variants` keeps
 *    the variants whose names match. `--callgrind` runs that Envoy under valgrind's callgrind
 *    and prints instructions per request instead of requests/s: a count that does not move with
 *    the machine's load, so it compares variants on a busy machine (it counts work, not time).
 *
 * Everything listens on loopback and is stopped at the end. The run starts with its command,
 * commit, cores and load average (bench/support/run-info.ts); a figure set is MARKED when the
 * run started on a busy machine or saw non-2xx responses. Each figure is one JSON line and one
 * readable line; both name the machine, the load generator and the baseline.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { enforcersOf } from '../../src/runtime/plugin-enforcers.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { wrk, wrkProblems, type WrkResult } from '../support/load.js';
import { freePort, until } from '../support/net.js';
import { cpuSecondsOf } from '../support/proc.js';
import { figureEmitter, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { startNodeService, startRedis, type Child } from '../support/services.js';
import { companionNodeFlags } from '../../src/runtime/node-flags.js';
import { staticGatewayResources } from '../support/static-gateway.js';
import { callgrindMissing, startCallgrindEnvoy } from '../support/callgrind-envoy.js';
import { descriptorTree, peerBuilt, startRatelimitPeer } from '../support/ratelimit-peer.js';
import { machine } from '../support/stats.js';
import { BENCH_API_KEY, benchConsumerYaml, benchServiceYaml } from '../support/gateway-yaml.js';
import { twinsBefore } from '../support/twins-before.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const only = (() => { const i = process.argv.indexOf('--only'); return i >= 0 ? process.argv[i + 1] : undefined; })();
const CALLGRIND = process.argv.includes('--callgrind');
/** `--variants <regex>`: only the ablation's variants whose names match (the bare listener and "as compiled" always run). */
const VARIANTS = (() => { const i = process.argv.indexOf('--variants'); return i >= 0 ? new RegExp(process.argv[i + 1]!, 'i') : undefined; })();
const RUN = runInfo(); // first: the load average before this benchmark starts anything
const SECONDS = Math.max(1, Math.min(numberFlag('seconds', 3), 10));
const CONNECTIONS = numberFlag('connections', 32);
const ROUNDS = Math.max(2, Math.min(numberFlag('rounds', 2), 5));
const log = silentLogger();
const MACHINE = machine(findEnvoy() ?? 'envoy');
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
type Json = Record<string, any>;

const emit = figureEmitter('request-path', RUN, MACHINE);

/** CPU seconds of named processes over one interval. */
function meter(pids: Record<string, number | undefined>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, p ? cpuSecondsOf(p) : Number.NaN]));
  return () => Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, (p ? cpuSecondsOf(p) : Number.NaN) - start[k]!]));
}

interface Load { name: string; url: string; headers: Record<string, string>; note?: string }
interface Sample extends WrkResult { cpu: Record<string, number> }

/** wrk over every load in turn, `ROUNDS` times (a 1 s warm-up each first); the samples by load. */
function interleaved(loads: readonly Load[], pids: Record<string, number | undefined>): Map<string, Sample[]> {
  for (const l of loads) wrk(l.url, 1, CONNECTIONS, l.headers);
  const out = new Map<string, Sample[]>(loads.map((l) => [l.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const l of loads) {
      const end = meter(pids);
      const x = wrk(l.url, SECONDS, CONNECTIONS, l.headers);
      out.get(l.name)!.push({ ...x, cpu: end() });
    }
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

/** The figures of one load against a baseline's, as one JSON line and one readable line. */
function report(part: string, name: string, samples: Sample[], base: Sample[], baseline: string, extra: Json = {}): void {
  const rps = mean(samples.map((s) => s.rps));
  const ratio = rps / mean(base.map((s) => s.rps));
  const requests = samples.reduce((a, s) => a + s.requests, 0);
  const cpuUs: Record<string, number> = {};
  for (const k of Object.keys(samples[0]!.cpu)) {
    const used = samples.reduce((a, s) => a + (s.cpu[k] ?? 0), 0);
    const us = (used * 1e6) / Math.max(1, requests);
    if (us >= 1.5) cpuUs[k] = round(us, 1); // below: a process idle during this load (its timers)
  }
  const p50 = mean(samples.map((s) => s.p50Ms));
  const p99 = mean(samples.map((s) => s.p99Ms));
  const generator = `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} interleaved rounds (mean)`;
  emit(
    { part, scenario: name, rps: round(rps), p50_ms: round(p50, 2), p99_ms: round(p99, 2), ratio_to_baseline: round(ratio, 3), p99_over_baseline_ms: round(p99 - mean(base.map((s) => s.p99Ms)), 2),
      rounds: samples.map((s) => round(s.rps)), cpu_us_per_request: cpuUs, non_2xx: samples.reduce((a, s) => a + s.non2xx, 0), socket_errors: samples.reduce((a, s) => a + s.errors, 0),
      load_generator: generator, baseline, ...extra },
    `${part}, ${name}${extra.served_by ? ` [${extra.served_by}]` : ''}: ${round(rps)} req/s (${round(ratio * 100, 1)} % of ${baseline.split(',')[0]}), p50 ${round(p50, 2)} ms, p99 ${round(p99, 2)} ms; CPU µs/request ${Object.entries(cpuUs).map(([k, v]) => `${k} ${v}`).join(', ') || 'n/a'}; rounds ${samples.map((s) => round(s.rps)).join(', ')}; load: ${generator}`,
    wrkProblems(samples),
  );
}

// ---- bare Envoy -----------------------------------------------------------------------------

const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

/** A listener with nothing but the connection manager, the router and one route to `cluster`. */
function bareListener(name: string, cluster: string): Json {
  return {
    name, address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [{ filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        stat_prefix: name,
        route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] },
        http_filters: [ROUTER],
      },
    }] }],
  };
}

/**
 * A static Envoy (concurrency 1) with these listeners and clusters; the port each listener got,
 * by name. The resources are read from files (path_config_source), a bootstrap on Envoy's
 * command line being bounded in size.
 */
async function staticEnvoy(dir: string, listeners: Json[], clusters: Json[]): Promise<{ envoy: EnvoyProcess; ports: Map<string, number> }> {
  const file = (kind: string, type: string, resources: Json[]) => {
    const path = join(dir, `${kind}-${process.hrtime.bigint()}.json`);
    writeFileSync(path, JSON.stringify({ version_info: '1', resources: resources.map((r) => ({ '@type': `type.googleapis.com/${type}`, ...r })) }));
    return { path_config_source: { path }, resource_api_version: 'V3' };
  };
  const bootstrap = {
    node: { id: 'bench-request-path-static', cluster: 'bench' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    dynamic_resources: { lds_config: file('lds', 'envoy.config.listener.v3.Listener', listeners), cds_config: file('cds', 'envoy.config.cluster.v3.Cluster', clusters) },
  };
  const envoy = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: log, concurrency: 1 });
  try {
    await envoy.waitReady(30_000);
    const ports = await until('the static Envoy to bind every listener', async () => {
      const j = await (await fetch(`${envoy.adminUrl}/listeners?format=json`)).json() as { listener_statuses?: Array<{ name: string; local_address?: { socket_address?: { port_value?: number } } }> };
      const m = new Map((j.listener_statuses ?? []).map((x) => [x.name, x.local_address?.socket_address?.port_value ?? 0]));
      return listeners.every((l) => (m.get(l.name as string) ?? 0) > 0) ? m : undefined;
    });
    return { envoy, ports };
  } catch (e) {
    await envoy.stop();
    throw e;
  }
}

function upstreamCluster(name: string, port: number): Json {
  return {
    name, type: 'STATIC', connect_timeout: '2s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  };
}

// ---- 1. the cases ------------------------------------------------------------------------------

interface Case { name: string; route: string; plugins: (companion: boolean) => string[]; headers: Record<string, string> }

const companionField = (c: boolean) => (c ? ', enforcer: companion' : '');
const HUGE = 1_000_000_000;
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function cases(token: string): Case[] {
  const key = { apikey: BENCH_API_KEY };
  return [
    { name: 'jwt (RS256)', route: 'jwt', headers: { authorization: `Bearer ${token}` }, plugins: (c) => [`{ name: jwt, config: { claims_to_verify: [exp]${companionField(c)} } }`] },
    { name: 'key-auth', route: 'key', headers: key, plugins: (c) => [`{ name: key-auth, config: { key_names: [apikey]${companionField(c)} } }`] },
    { name: 'basic-auth', route: 'basic', headers: { authorization: `Basic ${Buffer.from('bench:bench-password').toString('base64')}` }, plugins: (c) => [`{ name: basic-auth, config: { hide_credentials: false${companionField(c)} } }`] },
    { name: 'jwt (RS256) + acl', route: 'jwt-acl', headers: { authorization: `Bearer ${token}` },
      plugins: (c) => [`{ name: jwt, config: { claims_to_verify: [exp]${companionField(c)} } }`, `{ name: acl, config: { allow: [bench]${companionField(c)} } }`] },
    { name: 'key-auth + local limit', route: 'key-local', headers: key,
      plugins: (c) => [`{ name: key-auth, config: { key_names: [apikey]${companionField(c)} } }`, `{ name: rate-limiting, config: { minute: ${HUGE}, limit_by: service, hide_client_headers: true${companionField(c)} } }`] },
    // Kong's serverless plugin at its smallest: one header set by Lua in Envoy (the sandbox and PDK's per-request cost).
    { name: 'pre-function (one header set)', route: 'fn', headers: {}, plugins: () => ['{ name: pre-function, config: { access: [\'kong.service.request.set_header("x-bench", "1")\'] } }'] },
    // A browser's User-Agent: searched against every one of Kong's bot rules, none matching (the full cost).
    { name: 'bot-detection', route: 'bots', headers: { 'user-agent': BROWSER_UA }, plugins: () => ['{ name: bot-detection }'] },
    { name: 'key-auth + Redis limit', route: 'key-redis', headers: key,
      plugins: (c) => [`{ name: key-auth, config: { key_names: [apikey]${companionField(c)} } }`, `{ name: rate-limiting, config: { minute: ${HUGE}, limit_by: consumer, policy: redis, redis: { host: 127.0.0.1, port: REDIS_PORT }${companionField(c)} } }`] },
  ];
}

/** A listener of the bench's config (the listeners extension), on loopback. */
interface BenchListener { name: string; port: number }

function gatewayYaml(upstream: string, routes: string[], rsaPem: string, listeners: BenchListener[] = [], openOn: string[] = []): string {
  const listenersYaml = listeners.length ? `listeners:\n${listeners.map((l) => `  - { name: ${l.name}, address: 127.0.0.1, port: ${l.port} }\n`).join('')}` : '';
  return `_format_version: "3.0"
${listenersYaml}${benchServiceYaml(upstream)}      - name: open
        paths: [/open]
${openOn.length ? `        listeners: [${openOn.join(', ')}]\n` : ''}${routes.join('')}${benchConsumerYaml(rsaPem)}`;
}

function routeYaml(name: string, plugins: string[], listeners: string[] = []): string {
  return `      - name: ${name}
        paths: [/${name}]
${listeners.length ? `        listeners: [${listeners.join(', ')}]\n` : ''}        plugins:
${plugins.map((p) => `          - ${p}\n`).join('')}`;
}

async function runCases(dir: string, cleanup: Array<() => Promise<void> | void>): Promise<void> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const token = await new SignJWT({ iss: 'bench-rs', exp: Math.floor(Date.now() / 1000) + 7200, sub: 'bench' }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(rsa.privateKey);
  const redis = await startRedis(dir);
  cleanup.push(() => redis.stop());
  const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
  cleanup.push(() => upstream.stop());

  // What this commit loads: each case alone, both ways; the ones that do not compile are skipped.
  const kept: Array<{ load: Load; route: string; yaml: string; plugins: string[] }> = [];
  const labels = new Map<string, string>();
  // A plugin takes `enforcer: companion` when this commit's schema for it has the field.
  const accepts = new Map<string, boolean>();
  const takesEnforcer = (plugin: string): boolean => {
    if (!accepts.has(plugin)) {
      const r = compileConfig([{ file: 'bench.yaml', text: gatewayYaml(upstream.url, [routeYaml('probe', [plugin])], pem) }]);
      accepts.set(plugin, r.ok);
    }
    return accepts.get(plugin)!;
  };
  for (const c of cases(token)) {
    for (const companion of [false, true]) {
      const route = `${c.route}-${companion ? 'companion' : 'default'}`;
      const plugins = c.plugins(companion).map((p) => p.replace('REDIS_PORT', String(redis.port))).map((p, i) => (companion && !takesEnforcer(p) ? c.plugins(false)[i]!.replace('REDIS_PORT', String(redis.port)) : p));
      const label = `${c.name}, ${companion ? 'enforcer: companion' : 'as written'}`;
      if (companion && plugins.every((p, i) => p === c.plugins(false)[i]!.replace('REDIS_PORT', String(redis.port)))) {
        const why = 'no plugin of the case takes an enforcer field at this commit';
        emit({ part: 'cases', scenario: label, skipped: true, why }, `cases, ${label}: skipped (${why})`);
        continue;
      }
      const yaml = routeYaml(route, plugins);
      const r = compileConfig([{ file: 'bench.yaml', text: gatewayYaml(upstream.url, [yaml], pem) }]);
      if (!r.ok || !r.ir) {
        const why = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message).join('; ');
        emit({ part: 'cases', scenario: label, skipped: true, why }, `cases, ${label}: skipped, this commit does not load it (${why})`);
        continue;
      }
      const enforcers = enforcersOf(r.model);
      const irRoute = r.ir.routes.find((x) => x.routeName === route)!;
      const served = Object.keys(irRoute.plugins).sort().map((p) => `${p} by ${enforcers(p, 'route', irRoute).join('+') || '?'}`).join(', ');
      labels.set(label, served);
      kept.push({ load: { name: label, url: `/${route}`, headers: c.headers, note: served }, route, yaml, plugins });
    }
  }
  // What a user gets: each case on a listener of its own, so that a route pays for the filters
  // its own plugins need and no other case's. Beside them one listener carries the plugin-less
  // route and a copy of every case's route (own names and paths, so each keeps its own scope):
  // the plugin-less route there shows what sharing a listener with routes that need filters costs.
  const ports = await Promise.all(['open', 'shared', ...kept.map((k) => k.route)].map(async (name) => ({ name, port: await freePort() })));
  const portOf = new Map(ports.map((l) => [l.name, l.port]));
  const at = (listener: string, path: string) => `http://127.0.0.1:${portOf.get(listener)}${path}`;
  for (const k of kept) k.load.url = at(k.route, k.load.url);
  const configFile = join(dir, 'gateway.yaml');
  const routes = kept.flatMap((k) => [routeYaml(k.route, k.plugins, [k.route]), routeYaml(`${k.route}-shared`, k.plugins, ['shared'])]);
  writeFileSync(configFile, gatewayYaml(upstream.url, routes, pem, ports, ['open', 'shared']));
  const [authzPort, ratelimitPort] = await Promise.all([freePort(), freePort()]);
  const cp = new ControlPlane({
    configPath: configFile, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
    settings: { ...DEFAULT_SETTINGS, authz: { ...DEFAULT_SETTINGS.authz, port: authzPort }, ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: ratelimitPort } },
    ir: { defaultListener: { address: '127.0.0.1', port: portOf.get('open')! } }, logger: log, watch: false,
  });
  const { xdsPort } = await cp.start();
  cleanup.push(() => cp.stop());
  const authz: Child = await startNodeService('authz', join(ROOT, 'bench/authz/service-proc.ts'), ['--xds', `127.0.0.1:${xdsPort}`, '--port', String(authzPort), '--token-cache', '10000'], ROOT);
  cleanup.push(() => authz.stop());
  const ratelimit: Child = await startNodeService('ratelimit', join(ROOT, 'bench/ratelimit/service-proc.ts'), ['--xds', `127.0.0.1:${xdsPort}`, '--port', String(ratelimitPort), '--redis', `redis://127.0.0.1:${redis.port}`], ROOT, companionNodeFlags('ratelimit'));
  cleanup.push(() => ratelimit.stop());
  const envoy = await EnvoyProcess.start({
    bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: 'bench-request-path', cluster: 'frontdesk', adminPort: 0 }),
    logger: log, concurrency: 1,
  });
  cleanup.push(() => envoy.stop());
  await envoy.waitReady(30_000);
  // The bare Envoy also holds a static copy of the plugin-less route's listener (what the control
  // plane compiles for it alone, routes inlined: bench/support/static-gateway.ts), so that the
  // same route is measured through xDS and from a static file, beside bare Envoy in one process.
  const staticCopy = staticGatewayResources(plainGatewayYaml(upstream.url), 0);
  const copyListener = { ...staticCopy.listeners[0]!, name: 'static-copy' };
  const bare = await staticEnvoy(dir, [bareListener('bare', 'upstream'), copyListener], [upstreamCluster('upstream', upstream.port), ...staticCopy.clusters]);
  cleanup.push(() => bare.envoy.stop());
  const bareUrl = `http://127.0.0.1:${bare.ports.get('bare')}/open`;
  const copyUrl = `http://127.0.0.1:${bare.ports.get('static-copy')}/open`;
  const status = async (url: string, headers: Record<string, string>) => { const r = await fetch(url, { headers }); await r.arrayBuffer(); return r.status; };
  await until('every case to answer 200', async () => {
    for (const k of kept) if ((await status(k.load.url, k.load.headers)) !== 200) return false;
    return (await status(at('open', '/open'), {})) === 200 && (await status(at('shared', '/open'), {})) === 200 && (await status(bareUrl, {})) === 200 && (await status(copyUrl, {})) === 200;
  }, 60_000);

  const loads: Load[] = [
    { name: 'bare Envoy', url: bareUrl, headers: {} },
    { name: 'route without plugins', url: at('open', '/open'), headers: {} },
    { name: 'route without plugins, static copy in the bare Envoy (no xDS)', url: copyUrl, headers: {} },
    { name: 'route without plugins, on a listener shared with every case', url: at('shared', '/open'), headers: {} },
    ...kept.map((k) => k.load),
  ];
  const pids = { 'gateway Envoy': envoy.pid, 'bare Envoy': bare.envoy.pid, authz: authz.proc.pid, ratelimit: ratelimit.proc.pid, 'redis-server': redis.proc.pid };
  // What each process spends with no load (timers, stats flushes, the xDS stream), so that a
  // per-request figure can be read against it.
  const idleSeconds = 3;
  const idleEnd = meter(pids);
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idle = Object.fromEntries(Object.entries(idleEnd()).map(([k, v]) => [k, round((v * 1000) / idleSeconds, 1)]));
  emit({ part: 'cases', scenario: 'idle', cpu_ms_per_second: idle, seconds: idleSeconds },
    `cases, idle for ${idleSeconds} s before the loads: CPU ms/s ${Object.entries(idle).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const samples = interleaved(loads, pids);
  const base = samples.get('bare Envoy')!;
  const baseline = 'bare Envoy (concurrency 1, router only), same upstream (Envoy direct_response), same run';
  for (const l of loads) {
    report('cases', l.name, samples.get(l.name)!, base, baseline, { served_by: labels.get(l.name) ?? (l.name === 'bare Envoy' ? 'bare Envoy' : 'no plugins'), processes: 'gateway Envoy x1 worker, bare Envoy x1 worker, upstream Envoy x1 worker, authz and ratelimit Node processes, redis-server, wrk x1 thread' });
  }
}

/** The config of one plugin-less route, the one the cases' `open` route has. */
function plainGatewayYaml(upstream: string): string {
  return `_format_version: "3.0"
${benchServiceYaml(upstream)}      - name: open
        paths: [/open]
`;
}

// ---- 2. a Redis limit through either rate-limit service ----------------------------------------

/** Redis's DBSIZE: how many keys the services' counters hold. */
function redisKeys(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(2000, () => socket.destroy(new Error('redis DBSIZE timed out')));
    socket.once('error', reject);
    socket.once('data', (d) => { socket.end(); const m = /^:(\d+)/.exec(d.toString()); if (m) resolve(Number(m[1])); else reject(new Error(`DBSIZE: ${d.toString()}`)); });
    socket.write('DBSIZE\r\n');
  });
}

/**
 * The key-auth + Redis limit case's compiled listener twice in one static Envoy: its rate-limit
 * cluster pointed at Frontdesk's ratelimit companion (policy over xDS from an in-process control
 * plane), and a copy pointed at envoyproxy/ratelimit (same Redis, a descriptor tree matching the
 * five entries the route sends, so each request is one counter increment there too); bare Envoy
 * beside them. What no rate-limit service can remove (Envoy's ratelimit filter and its gRPC
 * call) is then the same on both sides, and the difference is the service.
 */
async function runRlsPeer(dir: string, cleanup: Array<() => Promise<void> | void>): Promise<void> {
  if (!peerBuilt()) {
    emit({ part: 'rls-peer', skipped: true, why: 'envoyproxy/ratelimit not built' }, 'rls-peer: skipped, envoyproxy/ratelimit not built (sh scripts/bench-prepare.sh ratelimit-peer)');
    return;
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const redis = await startRedis(dir);
  cleanup.push(() => redis.stop());
  const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
  cleanup.push(() => upstream.stop());
  const c = cases('unused').find((x) => x.route === 'key-redis')!;
  const yaml = gatewayYaml(upstream.url, [routeYaml(c.route, c.plugins(false).map((p) => p.replace('REDIS_PORT', String(redis.port))))], pem);
  const configFile = join(dir, 'rls-peer.yaml');
  writeFileSync(configFile, yaml);
  const ratelimitPort = await freePort();
  const settings = { ...DEFAULT_SETTINGS, ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: ratelimitPort } };
  const cp = new ControlPlane({ configPath: configFile, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, settings, ir: { defaultListener: { address: '127.0.0.1', port: 0 } }, logger: log, watch: false });
  const { xdsPort } = await cp.start();
  cleanup.push(() => cp.stop());
  const ratelimit: Child = await startNodeService('ratelimit', join(ROOT, 'bench/ratelimit/service-proc.ts'), ['--xds', `127.0.0.1:${xdsPort}`, '--port', String(ratelimitPort), '--redis', `redis://127.0.0.1:${redis.port}`], ROOT, companionNodeFlags('ratelimit'));
  cleanup.push(() => ratelimit.stop());

  const compiled = staticGatewayResources(yaml, 0, undefined, settings);
  const ours = { ...compiled.listeners[0]!, name: 'rls-ours' };
  const peerListener = JSON.parse(JSON.stringify({ ...compiled.listeners[0]!, name: 'rls-peer' })) as Json;
  const hcmOf = (l: Json) => (l.filter_chains as Json[])[0]!.filters[0].typed_config as Json;
  const rlFilter = (hcmOf(peerListener).http_filters as Json[]).find((f) => f.name === 'envoy.filters.http.ratelimit');
  if (!rlFilter) throw new Error('the key-auth + Redis limit listener has no ratelimit filter');
  const rlCluster = rlFilter.typed_config.rate_limit_service.grpc_service.envoy_grpc.cluster_name as string;
  rlFilter.typed_config.rate_limit_service.grpc_service.envoy_grpc.cluster_name = `${rlCluster}-peer`;
  // The descriptor entries the route sends, in order: generic keys with their values, the rest any value.
  const route = (hcmOf(ours).route_config.virtual_hosts as Json[]).flatMap((vh) => vh.routes as Json[]).find((r) => r.route?.rate_limits);
  // An entry Envoy skips when its metadata is absent (skip_if_absent) may be missing: a path with and without each.
  const actions = route!.route.rate_limits[0].actions as Json[];
  let paths: string[][] = [[]];
  for (const a of actions) {
    const key = a.generic_key ? `${a.generic_key.descriptor_key}=${a.generic_key.descriptor_value}` : a.metadata ? a.metadata.descriptor_key as string : a.remote_address ? 'remote_address' : a.request_headers ? a.request_headers.descriptor_key as string : '?';
    paths = a.metadata?.skip_if_absent ? paths.flatMap((p) => [[...p, key], p]) : paths.map((p) => [...p, key]);
  }
  const entries = paths[0]!;
  const peer = await startRatelimitPeer(dir, redis.port, rlFilter.typed_config.domain as string, descriptorTree(paths, HUGE), (port) => new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.end(); resolve(true); });
    s.once('error', () => resolve(false));
  }));
  cleanup.push(() => peer.stop());
  const rlClusterJson = compiled.clusters.find((x) => x.name === rlCluster)!;
  const peerCluster = JSON.parse(JSON.stringify(rlClusterJson)) as Json;
  peerCluster.name = `${rlCluster}-peer`;
  peerCluster.load_assignment = { cluster_name: peerCluster.name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: peer.port } } } }] }] };
  const envoy = await staticEnvoy(dir, [bareListener('bare', 'upstream'), ours, peerListener], [upstreamCluster('upstream', upstream.port), ...compiled.clusters, peerCluster]);
  cleanup.push(() => envoy.envoy.stop());
  const url = (l: string) => `http://127.0.0.1:${envoy.ports.get(l)}${l === 'bare' ? '/open' : `/${c.route}`}`;
  // Ours answers with Kong's headers once its policy is in; the peer's counters appear in Redis.
  await until('the companion to decide with its policy', async () => {
    const r = await fetch(url('rls-ours'), { headers: c.headers });
    await r.arrayBuffer();
    return r.status === 200 && r.headers.has('x-ratelimit-limit-minute');
  }, 60_000);
  const keysBefore = await redisKeys(redis.port);
  let lastStatus = 0;
  await until('envoyproxy/ratelimit to count in Redis', async () => {
    const r = await fetch(url('rls-peer'), { headers: c.headers });
    await r.arrayBuffer();
    lastStatus = r.status;
    return r.status === 200 && (await redisKeys(redis.port)) > keysBefore;
  }, 30_000).catch((e: Error) => {
    throw new Error(`${e.message} (last status ${lastStatus}; entries ${entries.join(', ')}; its log: ${readFileSync(join(dir, 'peer.log'), 'utf8').slice(-2000)})`);
  });
  const loads: Load[] = [
    { name: 'bare Envoy', url: url('bare'), headers: {} },
    { name: 'key-auth + Redis limit, Frontdesk ratelimit companion', url: url('rls-ours'), headers: c.headers },
    { name: 'key-auth + Redis limit, envoyproxy/ratelimit', url: url('rls-peer'), headers: c.headers },
  ];
  const pids = { Envoy: envoy.envoy.pid, 'ratelimit companion': ratelimit.proc.pid, 'envoyproxy/ratelimit': peer.proc.pid, 'redis-server': redis.proc.pid };
  const samples = interleaved(loads, pids);
  const base = samples.get('bare Envoy')!;
  const baseline = 'bare Envoy (a listener of the same static Envoy, router only), same upstream, same run';
  for (const l of loads) report('rls-peer', l.name, samples.get(l.name)!, base, baseline, { processes: 'one static Envoy x1 worker (bare, ours and the peer\'s listeners), upstream Envoy x1 worker, ratelimit companion (Node), envoyproxy/ratelimit (Go), redis-server, wrk x1 thread' });
}

// ---- Envoy's own filters alone ------------------------------------------------------------------

const typed = (type: string, body: Json): Json => ({ '@type': `type.googleapis.com/${type}`, ...body });

/** A bare listener with `filters` before the router: Envoy's own filters with nothing of Kong's around them. */
function bareWith(name: string, cluster: string, filters: Json[]): Json {
  const l = bareListener(name, cluster);
  const hcm = (l.filter_chains as Json[])[0]!.filters[0].typed_config as Json;
  hcm.http_filters = [...filters, ROUTER];
  return l;
}

/**
 * What Envoy's own filters cost alone, on bare listeners of one static Envoy: jwt_authn (RS256,
 * the key as local JWKS, its token cache on), api_key_auth, and api_key_auth + local_ratelimit
 * (a bucket that never runs out). No Kong header, no consumer set, no Kong answer: the floor any
 * translation of jwt or key-auth onto these filters starts from.
 */
async function runEnvoyFloor(dir: string, cleanup: Array<() => Promise<void> | void>): Promise<void> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as Json), alg: 'RS256', kid: 'bench', use: 'sig' };
  const token = await new SignJWT({ iss: 'bench-rs', exp: Math.floor(Date.now() / 1000) + 7200, sub: 'bench' }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'bench' }).sign(rsa.privateKey);
  const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
  cleanup.push(() => upstream.stop());
  const jwtAuthn = { name: 'envoy.filters.http.jwt_authn', typed_config: typed('envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication', {
    providers: { bench: { issuer: 'bench-rs', local_jwks: { inline_string: JSON.stringify({ keys: [jwk] }) }, jwt_cache_config: { jwt_cache_size: 100 } } },
    rules: [{ match: { prefix: '/' }, requires: { provider_name: 'bench' } }],
  }) };
  const apiKey = { name: 'envoy.filters.http.api_key_auth', typed_config: typed('envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth', {
    credentials: [{ key: BENCH_API_KEY, client: 'bench' }], key_sources: [{ header: 'apikey' }],
  }) };
  const localLimit = { name: 'envoy.filters.http.local_ratelimit', typed_config: typed('envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', {
    stat_prefix: 'floor', token_bucket: { max_tokens: HUGE, tokens_per_fill: HUGE, fill_interval: '60s' },
    filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: 'floor_enabled' },
    filter_enforced: { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: 'floor_enforced' },
  }) };
  const envoy = await staticEnvoy(dir, [
    bareListener('bare', 'upstream'),
    bareWith('jwt_authn', 'upstream', [jwtAuthn]),
    bareWith('api_key_auth', 'upstream', [apiKey]),
    bareWith('api_key_auth + local_ratelimit', 'upstream', [apiKey, localLimit]),
  ], [upstreamCluster('upstream', upstream.port)]);
  cleanup.push(() => envoy.envoy.stop());
  const url = (l: string) => `http://127.0.0.1:${envoy.ports.get(l)}/open`;
  const loads: Load[] = [
    { name: 'bare Envoy', url: url('bare'), headers: {} },
    { name: "Envoy's jwt_authn alone (RS256, local JWKS, token cache)", url: url('jwt_authn'), headers: { authorization: `Bearer ${token}` } },
    { name: "Envoy's api_key_auth alone", url: url('api_key_auth'), headers: { apikey: BENCH_API_KEY } },
    { name: "Envoy's api_key_auth + local_ratelimit alone", url: url('api_key_auth + local_ratelimit'), headers: { apikey: BENCH_API_KEY } },
  ];
  // Each filter checks: 200 with the credential, 401 without.
  for (const l of loads.slice(1)) {
    const ok = await fetch(l.url, { headers: l.headers });
    const refused = await fetch(l.url);
    await Promise.all([ok.arrayBuffer(), refused.arrayBuffer()]);
    if (ok.status !== 200 || refused.status !== 401) throw new Error(`${l.name}: ${ok.status} with the credential, ${refused.status} without (expected 200, 401)`);
  }
  const samples = interleaved(loads, { Envoy: envoy.envoy.pid });
  const base = samples.get('bare Envoy')!;
  for (const l of loads) report('envoy-floor', l.name, samples.get(l.name)!, base, 'bare listener (router only) in the same static Envoy (concurrency 1), same upstream, same run', { processes: 'one static Envoy x1 worker, upstream Envoy x1 worker, wrk x1 thread' });
}

// ---- 3. the ablation -------------------------------------------------------------------------

type Patch = (listener: Json, hcm: Json, clusters: Map<string, Json>) => void;

const eachRoute = (hcm: Json, f: (route: Json, vh: Json) => void) => { for (const vh of hcm.route_config.virtual_hosts as Json[]) for (const r of vh.routes as Json[]) f(r, vh); };

/** Each setting of the compiled plugin-less route, and how to remove it. */
const REMOVALS: Array<{ name: string; patch: Patch }> = [
  { name: 'local reply mappers', patch: (_l, hcm) => { delete hcm.local_reply_config; } },
  { name: 'path normalisation (normalize_path, merge_slashes)', patch: (_l, hcm) => { delete hcm.normalize_path; delete hcm.merge_slashes; } },
  { name: "the request headers Kong adds (X-Forwarded-*, X-Real-IP)", patch: (_l, hcm) => {
    delete hcm.append_x_forwarded_port;
    delete hcm.route_config.request_headers_to_add;
    delete hcm.route_config.request_headers_to_remove;
    eachRoute(hcm, (r, vh) => { delete r.request_headers_to_add; delete vh.request_headers_to_add; delete vh.request_headers_to_remove; if (r.route) delete r.route.append_x_forwarded_host; });
  } },
  { name: 'the strip_path regex rewrite', patch: (_l, hcm) => eachRoute(hcm, (r) => { if (r.route) delete r.route.regex_rewrite; }) },
  { name: 'the retry policy', patch: (_l, hcm) => eachRoute(hcm, (r) => { if (r.route) delete r.route.retry_policy; }) },
  { name: 'route metadata', patch: (_l, hcm) => eachRoute(hcm, (r) => { delete r.metadata; }) },
  { name: 'circuit-breaker tracking (track_remaining, retry budget)', patch: (_l, hcm, clusters) => {
    eachRoute(hcm, (r) => {
      if (!r.route?.cluster) return;
      const plain = `${r.route.cluster}:untracked`;
      if (!clusters.has(plain)) {
        const c = JSON.parse(JSON.stringify(clusters.get(r.route.cluster))) as Json;
        c.name = plain;
        delete c.circuit_breakers;
        clusters.set(plain, c);
      }
      r.route.cluster = plain;
    });
  } },
  { name: 'connection manager options (timeouts, http2 options, upgrades, server name, header limits)', patch: (l, hcm) => {
    for (const k of ['server_name', 'server_header_transformation', 'request_headers_timeout', 'stream_idle_timeout', 'common_http_protocol_options', 'max_request_headers_kb', 'http2_protocol_options', 'upgrade_configs', 'use_remote_address']) delete hcm[k];
    delete l.per_connection_buffer_limit_bytes;
  } },
];

/** The rewrite src/ir/build.ts rewriteFor gives a strip_path route /open of a service whose path is /svc. */
const SVC_ONE_REWRITE = { pattern: { regex: '^(?:/open(?:\\.\\.?)?(/|$)|(/)open)' }, substitution: '/svc\\1\\2' };

/** The headers Kong adds, wherever the compiled route configuration writes them. */
const kongHeaders = (hcm: Json): Json[] => {
  const rc = hcm.route_config as Json;
  return [...(rc.request_headers_to_add ?? []), ...(rc.virtual_hosts as Json[]).flatMap((vh) => vh.request_headers_to_add ?? [])];
};
const dropHeader = (hcm: Json, key: string) => {
  const rc = hcm.route_config as Json;
  const keep = (hs?: Json[]) => hs?.filter((h) => h.header.key !== key);
  if (rc.request_headers_to_add) rc.request_headers_to_add = keep(rc.request_headers_to_add);
  for (const vh of rc.virtual_hosts as Json[]) if (vh.request_headers_to_add) vh.request_headers_to_add = keep(vh.request_headers_to_add);
};

/**
 * Parts of single settings, and other ways to the same upstream request (each an alternative to
 * measure, not a removal: the "without all" variant does not take them).
 */
const ALTERNATIVES: Array<{ name: string; patch: Patch }> = [
  { name: 'without the static X-Forwarded-Prefix per route (formatter headers kept)', patch: (_l, hcm) => eachRoute(hcm, (r) => { delete r.request_headers_to_add; }) },
  { name: 'without the formatter headers (X-Real-IP, X-Forwarded-Host, X-Forwarded-Path; X-Forwarded-Prefix kept)', patch: (_l, hcm) => {
    delete hcm.route_config.request_headers_to_add;
    for (const vh of hcm.route_config.virtual_hosts as Json[]) delete vh.request_headers_to_add;
  } },
  { name: "every Kong header in the route's own list (one list per request, not two)", patch: (_l, hcm) => {
    const hs = kongHeaders(hcm);
    delete hcm.route_config.request_headers_to_add;
    for (const vh of hcm.route_config.virtual_hosts as Json[]) delete vh.request_headers_to_add;
    eachRoute(hcm, (r) => { if (r.route) r.request_headers_to_add = [...hs, ...(r.request_headers_to_add ?? [])]; });
  } },
  { name: "Kong's headers removed, then appended (request_headers_to_remove + APPEND_IF_EXISTS_OR_ADD) instead of overwritten", patch: (_l, hcm) => {
    const append = (hs?: Json[]) => hs?.map((h) => ({ ...h, append_action: 'APPEND_IF_EXISTS_OR_ADD' }));
    const rc = hcm.route_config as Json;
    for (const vh of rc.virtual_hosts as Json[]) {
      vh.request_headers_to_remove = (vh.request_headers_to_add as Json[] ?? []).map((h) => h.header.key);
      vh.request_headers_to_add = append(vh.request_headers_to_add);
      for (const r of vh.routes as Json[]) if (r.request_headers_to_add) { r.request_headers_to_remove = r.request_headers_to_add.map((h: Json) => h.header.key); r.request_headers_to_add = append(r.request_headers_to_add); }
    }
  } },
  { name: 'X-Forwarded-Prefix from route metadata by a formatter in the shared list', patch: (_l, hcm) => {
    eachRoute(hcm, (r) => {
      const prefix = (r.request_headers_to_add as Json[] | undefined)?.find((h) => h.header.key === 'x-forwarded-prefix');
      if (!prefix) return;
      r.request_headers_to_add = (r.request_headers_to_add as Json[]).filter((h) => h !== prefix);
      if (!r.request_headers_to_add.length) delete r.request_headers_to_add;
      ((r.metadata ??= {}).filter_metadata ??= {}).frontdesk = { ...r.metadata.filter_metadata.frontdesk, prefix: prefix.header.value };
    });
    const vh = (hcm.route_config.virtual_hosts as Json[])[0]!;
    (vh.request_headers_to_add ??= []).push({ header: { key: 'x-forwarded-prefix', value: '%METADATA(ROUTE:frontdesk:prefix)%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  } },
  { name: 'without append_x_forwarded_port (no X-Forwarded-Port)', patch: (_l, hcm) => { delete hcm.append_x_forwarded_port; } },
  { name: 'without the route and virtual host header lists (append_x_forwarded_port kept)', patch: (_l, hcm) => {
    delete hcm.route_config.request_headers_to_add;
    eachRoute(hcm, (r, vh) => { delete r.request_headers_to_add; delete vh.request_headers_to_add; });
  } },
  { name: 'X-Forwarded-Port as a formatter header instead of append_x_forwarded_port', patch: (_l, hcm) => {
    if (!hcm.append_x_forwarded_port) return;
    delete hcm.append_x_forwarded_port;
    const vh = (hcm.route_config.virtual_hosts as Json[])[0]!;
    (vh.request_headers_to_add ??= []).push({ header: { key: 'x-forwarded-port', value: '%DOWNSTREAM_LOCAL_PORT%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  } },
  { name: 'X-Forwarded-Host via append_x_forwarded_host (the client\'s copy removed first)', patch: (_l, hcm) => {
    dropHeader(hcm, 'x-forwarded-host');
    eachRoute(hcm, (r) => {
      if (!r.route?.host_rewrite_literal) return;
      r.route.append_x_forwarded_host = true;
      r.request_headers_to_remove = [...(r.request_headers_to_remove ?? []), 'x-forwarded-host'];
    });
  } },
  { name: 'the retry policy without per_try_idle_timeout', patch: (_l, hcm) => eachRoute(hcm, (r) => { if (r.route?.retry_policy) delete r.route.retry_policy.per_try_idle_timeout; }) },
  { name: 'the retry policy with per_try_idle_timeout only (no retries)', patch: (_l, hcm) => eachRoute(hcm, (r) => {
    if (r.route?.retry_policy) r.route.retry_policy = { per_try_idle_timeout: r.route.retry_policy.per_try_idle_timeout };
  }) },
  { name: 'as translated before one rewrite per route, with prefix_rewrite instead of regex_rewrite on the :exact twin', patch: (_l, hcm) => {
    for (const vh of hcm.route_config.virtual_hosts as Json[]) vh.routes = (vh.routes as Json[]).flatMap((r) => twinsBefore(r));
    eachRoute(hcm, (r) => {
      if (!r.route?.regex_rewrite || r.route.regex_rewrite.pattern.regex !== '^.*$' || !r.match.path) return;
      r.route.prefix_rewrite = r.route.regex_rewrite.substitution;
      delete r.route.regex_rewrite;
    });
  } },
  { name: 'the path rewrite as translated before one rewrite per route (an :exact twin for /open, then the route)', patch: (_l, hcm) => {
    for (const vh of hcm.route_config.virtual_hosts as Json[]) vh.routes = (vh.routes as Json[]).flatMap((r) => twinsBefore(r));
  } },
  // The same route with a service path (/svc): the one-rewrite pattern rewriteFor gives it, and that translated as before.
  { name: 'service path /svc: one rewrite (^(?:/open(?:\\.\\.?)?(/|$)|(/)open) → /svc\\1\\2)', patch: (_l, hcm) => eachRoute(hcm, (r) => {
    if (r.route?.regex_rewrite) r.route.regex_rewrite = SVC_ONE_REWRITE;
  }) },
  { name: 'service path /svc: as translated before (an :exact twin /open → /svc, then ^/open(?:/|\\.\\.?/)? → /svc/)', patch: (_l, hcm) => {
    for (const vh of hcm.route_config.virtual_hosts as Json[]) {
      vh.routes = (vh.routes as Json[]).flatMap((r) => twinsBefore(r.route?.regex_rewrite ? { ...r, route: { ...r.route, regex_rewrite: SVC_ONE_REWRITE } } : r));
    }
  } },
  { name: 'without request_headers_timeout', patch: (_l, hcm) => { delete hcm.request_headers_timeout; } },
  { name: 'without use_remote_address', patch: (_l, hcm) => { delete hcm.use_remote_address; } },
];

async function runAblation(dir: string, cleanup: Array<() => Promise<void> | void>): Promise<void> {
  const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
  cleanup.push(() => upstream.stop());
  const compiled = staticGatewayResources(plainGatewayYaml(upstream.url), 0);
  const clusters = new Map(compiled.clusters.map((c) => [c.name as string, c]));
  const listenerOf = (name: string, patches: Patch[]): Json => {
    const l = JSON.parse(JSON.stringify(compiled.listeners[0])) as Json;
    l.name = name;
    const hcm = l.filter_chains[0].filters[0].typed_config as Json;
    hcm.stat_prefix = name;
    for (const p of patches) p(l, hcm, clusters);
    return l;
  };
  const variants: Array<{ name: string; listener: Json }> = [
    { name: 'as compiled', listener: listenerOf('as-compiled', []) },
    ...REMOVALS.map((r, i) => ({ name: `without ${r.name}`, listener: listenerOf(`without-${i}`, [r.patch]) })),
    { name: 'without all of the above', listener: listenerOf('without-all', REMOVALS.map((r) => r.patch)) },
    ...ALTERNATIVES.map((a, i) => ({ name: a.name, listener: listenerOf(`alternative-${i}`, [a.patch]) })),
  ].filter((v, i) => i === 0 || !VARIANTS || VARIANTS.test(v.name));
  const bareCluster = upstreamCluster('bare-upstream', upstream.port);
  const listeners = [bareListener('bare', 'bare-upstream'), ...variants.map((v) => v.listener)];
  if (CALLGRIND) { await runAblationCallgrind(dir, listeners, [...clusters.values(), bareCluster], variants.map((v) => v.name), cleanup); return; }
  const s = await staticEnvoy(dir, listeners, [...clusters.values(), bareCluster]);
  cleanup.push(() => s.envoy.stop());
  const url = (listener: string) => `http://127.0.0.1:${s.ports.get(listener)}/open`;
  await allAnswer(listeners, url);
  const loads: Load[] = [{ name: 'bare listener', url: url('bare'), headers: {} }, ...variants.map((v) => ({ name: v.name, url: url(v.listener.name as string), headers: {} }))];
  const samples = interleaved(loads, { Envoy: s.envoy.pid });
  const base = samples.get('bare listener')!;
  for (const l of loads) {
    report('ablation', l.name, samples.get(l.name)!, base, 'bare listener (router only) in the same static Envoy (concurrency 1), same upstream, same run',
      { processes: 'one static Envoy x1 worker holding every variant, upstream Envoy x1 worker, wrk x1 thread' });
  }
}

const allAnswer = (listeners: Json[], url: (listener: string) => string, timeoutMs?: number) => until('every variant to answer 200', async () => {
  for (const l of listeners) { const r = await fetch(url(l.name as string)); await r.arrayBuffer(); if (r.status !== 200) return false; }
  return true;
}, timeoutMs);

/**
 * `--callgrind`: the same variants, each measured in instructions per request: the static Envoy
 * runs under valgrind's callgrind (no cache simulation), and its instruction count is read out
 * (callgrind_control --dump) before and after each load. Instructions do not depend on what else
 * the machine runs, so these figures can be compared on a busy machine where requests/s cannot;
 * they count work, not time (no cache misses, no system calls' own cost). Each interval's
 * instructions minus those of as long an idle interval, over its requests.
 */
async function runAblationCallgrind(dir: string, listeners: Json[], clusters: Json[], names: string[], cleanup: Array<() => Promise<void> | void>): Promise<void> {
  const missing = callgrindMissing();
  if (missing) {
    emit({ part: 'ablation-callgrind', skipped: true, why: missing }, `ablation-callgrind: skipped (${missing})`);
    return;
  }
  const withPorts = listeners.map((l, i) => ({ ...l, address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, name: l.name ?? `l${i}` }));
  const file = (kind: string, type: string, resources: Json[]) => {
    const path = join(dir, `${kind}-cg.json`);
    writeFileSync(path, JSON.stringify({ version_info: '1', resources: resources.map((r) => ({ '@type': `type.googleapis.com/${type}`, ...r })) }));
    return { path_config_source: { path }, resource_api_version: 'V3' };
  };
  const envoy = await startCallgrindEnvoy(dir, {
    node: { id: 'bench-request-path-callgrind', cluster: 'bench' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    dynamic_resources: { lds_config: file('lds', 'envoy.config.listener.v3.Listener', withPorts), cds_config: file('cds', 'envoy.config.cluster.v3.Cluster', clusters) },
  });
  cleanup.push(() => envoy.stop());
  const ports = await until('Envoy under valgrind to bind every listener', async () => {
    const j = await (await fetch(`${envoy.adminUrl}/listeners?format=json`)).json() as { listener_statuses?: Array<{ name: string; local_address?: { socket_address?: { port_value?: number } } }> };
    const m = new Map((j.listener_statuses ?? []).map((x) => [x.name, x.local_address?.socket_address?.port_value ?? 0]));
    return withPorts.every((l) => (m.get(l.name as string) ?? 0) > 0) ? m : undefined;
  }, 300_000);
  const url = (listener: string) => `http://127.0.0.1:${ports.get(listener)}/open`;
  await allAnswer(withPorts, url, 300_000);
  const dump = () => envoy.dump();
  const loads = [{ name: 'bare listener', listener: 'bare' }, ...names.map((name, i) => ({ name, listener: withPorts[i + 1]!.name as string }))];
  for (const l of loads) wrk(url(l.listener), 1, 4, {}); // valgrind translates each code path once: warm every one first
  dump();
  const idleStart = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const idlePerSecond = dump() / ((performance.now() - idleStart) / 1000);
  const perRequest = new Map<string, number[]>(loads.map((l) => [l.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const l of loads) {
      dump();
      const t0 = performance.now();
      const x = wrk(url(l.listener), SECONDS, 4, {});
      const ir = dump();
      perRequest.get(l.name)!.push((ir - (idlePerSecond * (performance.now() - t0)) / 1000) / Math.max(1, x.requests));
    }
  }
  const base = mean(perRequest.get('bare listener')!);
  for (const l of loads) {
    const xs = perRequest.get(l.name)!;
    const m = mean(xs);
    emit({ part: 'ablation-callgrind', scenario: l.name, instructions_per_request: round(m), over_bare: round(m - base), ratio_to_baseline: round(m / base, 3), rounds: xs.map((x) => round(x)),
      load_generator: `wrk -t1 -c4 -d${SECONDS}s, ${ROUNDS} interleaved rounds (mean)`, baseline: 'bare listener (router only) in the same Envoy under callgrind', idle_instructions_per_second: round(idlePerSecond) },
    `ablation-callgrind, ${l.name}: ${round(m)} instructions/request (${m >= base ? '+' : ''}${round(m - base)} over the bare listener, ${round((m / base) * 100, 1)} %); rounds ${xs.map((x) => round(x)).join(', ')}; load: wrk -t1 -c4 -d${SECONDS}s under valgrind callgrind`);
  }
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-request-path-'));
  const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => { for (const f of cleanup.splice(0).reverse()) { try { await f(); } catch { /* best effort */ } } };
  process.once('SIGINT', () => { void stopAll().then(() => process.exit(130)); });
  try {
    printRunHeader('request-path', RUN);
    const parts = new Set((only ?? 'cases,rls-peer,envoy-floor,ablation').split(','));
    // Each part's processes stopped (the folder kept) before the next one starts.
    const stopPart = async () => { for (const f of cleanup.splice(1).reverse()) { try { await f(); } catch { /* best effort */ } } };
    if (parts.has('cases')) await runCases(dir, cleanup);
    await stopPart();
    if (parts.has('rls-peer')) await runRlsPeer(dir, cleanup);
    await stopPart();
    if (parts.has('envoy-floor')) await runEnvoyFloor(dir, cleanup);
    await stopPart();
    if (parts.has('ablation')) await runAblation(dir, cleanup);
  } finally {
    await stopAll();
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench/request-path: ${(e as Error).stack ?? e}\n`); process.exit(1); });
