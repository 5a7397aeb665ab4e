/**
 * request-path over mutual TLS: what mTLS on Envoy's hops to the companions costs a request,
 * beside the same gateway in plaintext, same run. Prints figures; never fails on them.
 *
 *   node --import tsx bench/request-path/mtls.ts [--seconds 3] [--connections 32] [--rounds 4]
 *
 * Two gateways side by side, the same config: one with every control-plane hop in plaintext on
 * loopback, one with mTLS on every hop (Envoy → control plane over ADS, each companion → control
 * plane, Envoy → authz over ext_authz, Envoy → ratelimit), its certificates made by
 * `frontdesk certs`' code (src/runtime/certs.ts). Each gateway is its own control plane, Envoy
 * (concurrency 1), authz and ratelimit processes; one redis-server and one upstream (an Envoy
 * answering with direct_response) serve both. Cases: a route without plugins; key-auth, jwt
 * (RS256) and key-auth + a Redis limit, each served by the companions (`enforcer: companion`:
 * one gRPC call per request to authz, and one to ratelimit for the limit); key-auth as written
 * (Envoy's own filter: no companion hop, the control).
 *
 * wrk loads every case on both gateways, --rounds rounds (a 1 s warm-up each first); within a
 * round the two transports of a case run back to back, plaintext first in odd rounds and mTLS
 * first in even ones, so neither always runs second. Per case and transport: requests/s, p50/p99
 * (mean of the rounds), CPU µs per request of the gateway Envoy, authz, ratelimit and
 * redis-server (from /proc/<pid>/stat), and the ratio mTLS / plaintext. The target (issue 17):
 * mTLS costs at most 10 %.
 *
 * Everything listens on loopback and is stopped at the end. The run starts with its command,
 * commit, cores and load average (bench/support/run-info.ts); a figure set is MARKED when the run
 * started on a busy machine or saw non-2xx responses. Each figure is one JSON line and one
 * readable line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { bootstrapYaml, envoySds, envoySdsFiles } from '../../src/runtime/bootstrap.js';
import { certFiles, writeCerts } from '../../src/runtime/certs.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import type { TlsFiles } from '../../src/tls.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { wrk, wrkProblems, type WrkResult } from '../support/load.js';
import { freePort, until } from '../support/net.js';
import { cpuSecondsOf } from '../support/proc.js';
import { figureEmitter, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { startNodeService, startRedis, type Child } from '../support/services.js';
import { machine } from '../support/stats.js';
import { BENCH_API_KEY, benchConsumerYaml, benchServiceYaml } from '../support/gateway-yaml.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const RUN = runInfo(); // first: the load average before this benchmark starts anything
const SECONDS = Math.max(1, Math.min(numberFlag('seconds', 3), 10));
const CONNECTIONS = numberFlag('connections', 32);
const ROUNDS = Math.max(2, Math.min(numberFlag('rounds', 4), 8));
const FLEET = 'bench';
const log = silentLogger();
const MACHINE = machine(findEnvoy() ?? 'envoy');
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

const emit = figureEmitter('request-path-mtls', RUN, MACHINE);

interface Case { name: string; route: string; plugins: string[]; headers: Record<string, string> }

function cases(token: string): Case[] {
  const key = { apikey: BENCH_API_KEY };
  return [
    { name: 'route without plugins', route: 'open', plugins: [], headers: {} },
    { name: 'key-auth, enforcer: companion', route: 'key-companion', headers: key, plugins: ['{ name: key-auth, config: { key_names: [apikey], enforcer: companion } }'] },
    { name: 'jwt (RS256), enforcer: companion', route: 'jwt-companion', headers: { authorization: `Bearer ${token}` }, plugins: ['{ name: jwt, config: { claims_to_verify: [exp], enforcer: companion } }'] },
    { name: 'key-auth + Redis limit, enforcer: companion', route: 'key-redis-companion', headers: key,
      plugins: ['{ name: key-auth, config: { key_names: [apikey], enforcer: companion } }', '{ name: rate-limiting, config: { minute: 1000000000, limit_by: consumer, policy: redis, redis: { host: 127.0.0.1, port: REDIS_PORT } } }'] },
    { name: 'key-auth as written (in Envoy)', route: 'key-native', headers: key, plugins: ['{ name: key-auth, config: { key_names: [apikey] } }'] },
  ];
}

function gatewayYaml(upstream: string, list: Case[], rsaPem: string, redisPort: number): string {
  const routes = list.map((c) => `      - name: ${c.route}
        paths: [/${c.route}]
${c.plugins.length ? `        plugins:\n${c.plugins.map((p) => `          - ${p.replace('REDIS_PORT', String(redisPort))}\n`).join('')}` : ''}`).join('');
  return `_format_version: "3.0"
${benchServiceYaml(upstream)}${routes}${benchConsumerYaml(rsaPem)}`;
}

interface Gateway { transport: 'plaintext' | 'mTLS'; proxy: string; pids: Record<string, number | undefined> }

/** One gateway: control plane, Envoy, authz and ratelimit, every hop over `pki` when given. */
async function startGatewaySet(dir: string, transport: Gateway['transport'], configFile: string, redisPort: number, pki: { dir: string; ca: string } | undefined, cleanup: Array<() => Promise<void> | void>): Promise<Gateway> {
  const [proxyPort, authzPort, ratelimitPort] = [await freePort(), await freePort(), await freePort()];
  const files = (id: Parameters<typeof certFiles>[1]): TlsFiles | undefined => (pki ? { ...certFiles(pki.dir, id), ca: pki.ca } : undefined);
  const envoyFiles = files({ role: 'envoy', fleet: FLEET });
  const sds = envoyFiles && envoySds(dirname(envoyFiles.cert));
  if (envoyFiles && sds) for (const f of envoySdsFiles(envoyFiles, sds)) writeFileSync(f.path, f.text);
  const cpFiles = files({ role: 'control-plane' });
  const cp = new ControlPlane({
    configPath: configFile, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
    settings: { ...DEFAULT_SETTINGS, ...(sds ? { tls: sds } : {}), authz: { ...DEFAULT_SETTINGS.authz, port: authzPort }, ratelimit: { ...DEFAULT_SETTINGS.ratelimit, port: ratelimitPort } },
    ...(cpFiles ? { tls: cpFiles } : {}),
    ir: { defaultListener: { address: '127.0.0.1', port: proxyPort } }, logger: log, watch: false,
  });
  const { xdsPort } = await cp.start();
  cleanup.push(() => cp.stop());
  const tlsArgs = (name: string) => {
    const f = files({ role: 'companion', name });
    return f ? ['--tls-cert', f.cert, '--tls-key', f.key, '--tls-ca', f.ca] : [];
  };
  const proc = join(HERE, 'companion-proc.ts');
  const xds = ['--xds', `127.0.0.1:${xdsPort}`];
  const authz: Child = await startNodeService(`authz (${transport})`, proc, ['authz', ...xds, '--port', String(authzPort), ...tlsArgs('authz')], ROOT);
  cleanup.push(() => authz.stop());
  const ratelimit: Child = await startNodeService(`ratelimit (${transport})`, proc, ['ratelimit', ...xds, '--port', String(ratelimitPort), '--redis', `redis://127.0.0.1:${redisPort}`, ...tlsArgs('ratelimit')], ROOT);
  cleanup.push(() => ratelimit.stop());
  const envoy = await EnvoyProcess.start({
    bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: `bench-request-path-${transport}`, cluster: FLEET, adminPort: 0, ...(sds ? { tls: sds } : {}) }),
    logger: log, concurrency: 1,
  });
  cleanup.push(() => envoy.stop());
  await envoy.waitReady(30_000);
  return { transport, proxy: `http://127.0.0.1:${proxyPort}`, pids: { 'gateway Envoy': envoy.pid, authz: authz.proc.pid, ratelimit: ratelimit.proc.pid } };
}

interface Sample extends WrkResult { cpu: Record<string, number> }

function measure(url: string, headers: Record<string, string>, pids: Record<string, number | undefined>): Sample {
  const start = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, p ? cpuSecondsOf(p) : Number.NaN]));
  const x = wrk(url, SECONDS, CONNECTIONS, headers);
  return { ...x, cpu: Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, (p ? cpuSecondsOf(p) : Number.NaN) - start[k]!])) };
}

function cpuPerRequest(samples: Sample[]): Record<string, number> {
  const requests = samples.reduce((a, s) => a + s.requests, 0);
  const out: Record<string, number> = {};
  for (const k of Object.keys(samples[0]!.cpu)) {
    const us = (samples.reduce((a, s) => a + (s.cpu[k] ?? 0), 0) * 1e6) / Math.max(1, requests);
    if (us >= 1.5) out[k] = round(us, 1); // below: a process idle during this load (its timers)
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-request-path-mtls-'));
  const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => { for (const f of cleanup.splice(0).reverse()) { try { await f(); } catch { /* best effort */ } } };
  process.once('SIGINT', () => { void stopAll().then(() => process.exit(130)); });
  try {
    printRunHeader('request-path-mtls', RUN);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const token = await new SignJWT({ iss: 'bench-rs', exp: Math.floor(Date.now() / 1000) + 7200, sub: 'bench' }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(rsa.privateKey);
    const redis = await startRedis(dir);
    cleanup.push(() => redis.stop());
    const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
    cleanup.push(() => upstream.stop());
    const list = cases(token);
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(configFile, gatewayYaml(upstream.url, list, pem, redis.port));
    const pkiDir = join(dir, 'pki');
    writeCerts(pkiDir, { fleets: [FLEET], companions: ['authz', 'ratelimit'] });
    const plain = await startGatewaySet(dir, 'plaintext', configFile, redis.port, undefined, cleanup);
    const mtls = await startGatewaySet(dir, 'mTLS', configFile, redis.port, { dir: pkiDir, ca: join(pkiDir, 'ca.pem') }, cleanup);
    const gateways = [plain, mtls];
    const status = async (url: string, headers: Record<string, string>) => { const r = await fetch(url, { headers }); await r.arrayBuffer(); return r.status; };
    await until('every case to answer 200 on both gateways', async () => {
      for (const g of gateways) for (const c of list) if ((await status(`${g.proxy}/${c.route}`, c.headers)) !== 200) return false;
      return true;
    }, 60_000);
    const pidsOf = (g: Gateway) => ({ ...g.pids, 'redis-server': redis.proc.pid });
    for (const g of gateways) for (const c of list) wrk(`${g.proxy}/${c.route}`, 1, CONNECTIONS, c.headers);
    const samples = new Map<string, Sample[]>();
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? gateways : [...gateways].reverse();
      for (const c of list) {
        for (const g of order) {
          const k = `${c.name}|${g.transport}`;
          samples.set(k, [...(samples.get(k) ?? []), measure(`${g.proxy}/${c.route}`, c.headers, pidsOf(g))]);
        }
      }
    }
    const generator = `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${ROUNDS} rounds, transports alternating first (mean)`;
    const ratios: number[] = [];
    for (const c of list) {
      const by = (t: Gateway['transport']) => samples.get(`${c.name}|${t}`)!;
      const figure = (t: Gateway['transport']) => ({ rps: round(mean(by(t).map((s) => s.rps))), p50_ms: round(mean(by(t).map((s) => s.p50Ms)), 2), p99_ms: round(mean(by(t).map((s) => s.p99Ms)), 2), rounds: by(t).map((s) => round(s.rps)), cpu_us_per_request: cpuPerRequest(by(t)), non_2xx: by(t).reduce((a, s) => a + s.non2xx, 0) });
      const p = figure('plaintext');
      const m = figure('mTLS');
      const ratio = m.rps / p.rps;
      ratios.push(ratio);
      const cpu = (x: Record<string, number>) => Object.entries(x).map(([k, v]) => `${k} ${v}`).join(', ');
      emit(
        { part: 'mtls', scenario: c.name, plaintext: p, mtls: m, ratio_mtls_to_plaintext: round(ratio, 3), p99_over_plaintext_ms: round(m.p99_ms - p.p99_ms, 2), load_generator: generator,
          processes: 'per transport: gateway Envoy x1 worker, authz and ratelimit Node processes, its control plane in this process; shared: upstream Envoy x1 worker, redis-server, wrk x1 thread' },
        `mtls, ${c.name}: plaintext ${p.rps} req/s p99 ${p.p99_ms} ms · mTLS ${m.rps} req/s p99 ${m.p99_ms} ms = ${round(ratio * 100, 1)} %; CPU µs/request plaintext ${cpu(p.cpu_us_per_request)} · mTLS ${cpu(m.cpu_us_per_request)}; load: ${generator}`,
        wrkProblems([...by('plaintext'), ...by('mTLS')]),
      );
    }
    const worst = Math.min(...ratios);
    emit({ part: 'summary', worst_ratio_mtls_to_plaintext: round(worst, 3), target: 'mTLS costs at most 10 % (ratio >= 0.90)' },
      `summary: the costliest case keeps ${round(worst * 100, 1)} % of its plaintext requests/s over mTLS (target: at least 90 %)`);
  } finally {
    await stopAll();
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench/request-path/mtls: ${(e as Error).stack ?? e}\n`); process.exit(1); });
