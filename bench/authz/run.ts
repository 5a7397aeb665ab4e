/**
 * authz benchmark: the authz companion's own cost (every auth plugin here is written with
 * `enforcer: companion`, as Envoy checks these configs itself by default). Prints figures;
 * never fails on them.
 *
 *   node --import tsx bench/authz/run.ts [--seconds 5] [--connections 32] [--consumers 100] [--tokens-per-consumer 20]
 *
 * 1. Straight at the authz service (envoy.service.auth.v3.Authorization/Check over gRPC), the
 *    service in its own Node process fed by an in-process control plane over ADS, the load from
 *    h2load (C, one thread, gRPC-framed CheckRequests as Envoy sends them): Check/s, p50/p99,
 *    and Check/s per CPU-second the service process used. Scenarios: a cached JWT (RS256) +
 *    acl; uncached RS256 + acl and uncached ES256 + acl (the service run with its verified-token
 *    cache off, so every check verifies a signature); key-auth.
 * 2. Through Envoy: one Envoy (concurrency 1) fed by the control plane, one listener with two
 *    routes to the same upstream — jwt + acl (RS256) and no auth — loaded alternately by wrk,
 *    same run; the upstream is a second Envoy answering with direct_response, never the
 *    bottleneck. The jwt route runs twice: one token on every request (the best case: one
 *    cache entry) and many tokens (--consumers consumers × --tokens-per-consumer tokens, each
 *    request the next one, through bench/support/rotate-header.lua). Requests/s, p50/p99, the
 *    ratio auth / no auth, non-2xx responses, and requests per CPU-second of every process
 *    doing the work: both Envoys and the authz process (/proc/<pid>/stat of each).
 *
 * Everything listens on loopback and is stopped at the end. The run starts with its command,
 * commit, cores and load average (bench/support/run-info.ts); a figure set is MARKED when the
 * run started on a busy machine or saw failed or non-2xx responses. Each figure is one JSON line
 * and one readable line; both name the machine, the load generator and the baseline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { CHECK_METHOD } from '../../src/authz/server.js';
import { policyName } from '../../src/contracts/authz.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { messageType } from '../../src/xds/proto-registry.js';
import { freePort, until } from '../support/net.js';
import { CpuMeter, cpuSecondsOf } from '../support/proc.js';
import { figureEmitter, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { machine } from '../support/stats.js';
import { h2load, writeGrpcFrame, wrk, wrkProblems, type RotatingHeader, type WrkResult } from '../support/load.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { benchServiceYaml } from '../support/gateway-yaml.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const RUN = runInfo(); // first: the load average before this benchmark starts anything
const SECONDS = Math.min(numberFlag('seconds', 5), 10);
const CONNECTIONS = numberFlag('connections', 32);
const CONSUMERS = Math.max(1, Math.min(numberFlag('consumers', 100), 1000));
const TOKENS_PER_CONSUMER = Math.max(1, Math.min(numberFlag('tokens-per-consumer', 20), 100));
const log = silentLogger();

// ---- small helpers ---------------------------------------------------------------------------

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

const MACHINE = machine(findEnvoy() ?? 'envoy');

const emit = figureEmitter('authz', RUN, MACHINE);

// ---- the configuration -----------------------------------------------------------------------

interface Keys { rs: { privateKey: KeyObject; pem: string }; es: { privateKey: KeyObject; pem: string } }

function makeKeys(): Keys {
  const rs = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const es = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    rs: { privateKey: rs.privateKey, pem: rs.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    es: { privateKey: es.privateKey, pem: es.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
  };
}

const indent = (pem: string) => pem.trim().split('\n').map((l) => `          ${l}`).join('\n');

function gatewayYaml(upstream: string, keys: Keys): string {
  return `_format_version: "3.0"
${benchServiceYaml(upstream)}      - name: open
        paths: [/open]
      - name: jwt-rs
        paths: [/rs]
        plugins:
          - { name: jwt, config: { claims_to_verify: [exp], header_names: [Authorization], enforcer: companion } }
          - { name: acl, config: { allow: [bench], enforcer: companion } }
      - name: jwt-es
        paths: [/es]
        plugins:
          - { name: jwt, config: { claims_to_verify: [exp], header_names: [Authorization], enforcer: companion } }
          - { name: acl, config: { allow: [bench], enforcer: companion } }
      - name: key
        paths: [/key]
        plugins:
          - { name: key-auth, config: { enforcer: companion } }
consumers:
${Array.from({ length: CONSUMERS }, (_, i) => `  - username: bench-${i}
    jwt_secrets:
      - key: bench-rs-${i}
        algorithm: RS256
        rsa_public_key: |
${indent(keys.rs.pem)}
    acls:
      - group: bench`).join('\n')}
  - username: bench
    jwt_secrets:
      - key: bench-rs
        algorithm: RS256
        rsa_public_key: |
${indent(keys.rs.pem)}
      - key: bench-es
        algorithm: ES256
        rsa_public_key: |
${indent(keys.es.pem)}
    keyauth_credentials:
      - key: bench-api-key-0123456789abcdef
    acls:
      - group: bench
`;
}

// ---- 1. straight at the service ------------------------------------------------------------

interface Child { proc: ChildProcess; port: number; stop(): Promise<void> }

async function startServiceProcess(xdsPort: number, port: number, tokenCache: number): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'service-proc.ts'), '--xds', `127.0.0.1:${xdsPort}`, '--port', String(port), '--token-cache', String(tokenCache)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const bound = await until('the authz process to be ready', () => {
    if (proc.exitCode !== null) throw new Error(`authz process exited with ${proc.exitCode}`);
    const m = /ready (\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  });
  return {
    proc, port: bound,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null) { resolve(); return; }
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
    }),
  };
}

function checkRequestBytes(routeId: string, path: string, headers: Record<string, string>): Uint8Array {
  const t = messageType('envoy.service.auth.v3.CheckRequest');
  return t.encode(t.fromObject({
    attributes: {
      source: { address: { socket_address: { address: '127.0.0.1', port_value: 40000 } } },
      destination: { address: { socket_address: { address: '127.0.0.1', port_value: 8000 } } },
      context_extensions: { route: routeId },
      request: {
        time: { seconds: Math.floor(Date.now() / 1000) },
        http: {
          id: '11806813921711335913', method: 'GET', path, host: 'api.example.com', scheme: 'http', protocol: 'HTTP/1.1',
          headers: { ':authority': 'api.example.com', ':method': 'GET', ':path': path, ':scheme': 'http', 'x-request-id': 'a7e2c5d1-0b5f-4c1a-9d3e-5f6a7b8c9d0e', ...headers },
        },
      },
    },
  })).finish();
}

/** One Check over grpc-js, to prove the request is allowed before loading it. */
async function checkOnce(port: number, bytes: Uint8Array): Promise<{ allowed: boolean; detail: string }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const res = await new Promise<Buffer>((resolve, reject) => client.makeUnaryRequest(CHECK_METHOD, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, bytes, (e, r) => (e ? reject(e) : resolve(r!))));
    const t = messageType('envoy.service.auth.v3.CheckResponse');
    const m = t.toObject(t.decode(res), { defaults: true }) as { status?: { code?: number }; denied_response?: { body?: string } };
    return { allowed: (m.status?.code ?? 0) === 0, detail: m.denied_response?.body ?? '' };
  } finally {
    client.close();
  }
}

async function serviceScenario(name: string, child: Child, bytes: Uint8Array, dir: string): Promise<void> {
  const ok = await checkOnce(child.port, bytes);
  if (!ok.allowed) throw new Error(`${name}: the benchmark request is refused (${ok.detail})`);
  const file = join(dir, `${name.replace(/\W+/g, '-')}.grpc`);
  writeGrpcFrame(file, bytes);
  h2load(child.port, CHECK_METHOD, file, 1); // warm-up: JIT, connections, caches
  const cpu0 = cpuSecondsOf(child.proc.pid!);
  const r = h2load(child.port, CHECK_METHOD, file, SECONDS, join(dir, 'h2load.log'));
  const cpu = cpuSecondsOf(child.proc.pid!) - cpu0;
  const perCore = cpu > 0 ? r.requests / cpu : NaN;
  emit(
    { part: 'service', scenario: name, checks: r.requests, failed: r.failed, non_2xx: r.non2xx, checks_per_s: round(r.rps), p50_ms: round(r.p50Ms, 2), p99_ms: round(r.p99Ms, 2),
      service_cpu_s: round(cpu, 2), checks_per_cpu_s: round(perCore), cpu_counted: 'authz process', seconds: r.seconds,
      load_generator: 'h2load -t1 -c2 -m32 (gRPC-framed CheckRequest, 64 in flight)', baseline: 'none (absolute figures)' },
    `authz service, ${name}: ${round(r.rps)} Check/s, p50 ${round(r.p50Ms, 2)} ms, p99 ${round(r.p99Ms, 2)} ms; ${round(perCore)} checks per CPU-second of the service (${round(cpu, 1)} s CPU over ${r.seconds} s; the only process doing the work); ${r.failed} failed, ${r.non2xx} non-2xx; load: h2load 1 thread, 64 streams`,
    [r.failed ? `${r.failed} failed requests` : '', r.non2xx ? `${r.non2xx} non-2xx responses` : '', r.requests === 0 ? 'no request made (h2load missing or failing?)' : ''],
  );
}

// ---- 2. through Envoy ------------------------------------------------------------------------

async function status(url: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

// ---- main --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-authz-'));
  const cleanup: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => { for (const f of cleanup.splice(0).reverse()) { try { await f(); } catch { /* best effort */ } } };
  process.once('SIGINT', () => { void stopAll().then(() => process.exit(130)); });
  try {
    printRunHeader('authz', RUN);
    const keys = makeKeys();
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const rsToken = await new SignJWT({ iss: 'bench-rs', exp, sub: 'bench' }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(keys.rs.privateKey);
    // Many tokens: every consumer's own issuer, several tokens each (distinct jti).
    const manyTokens: string[] = [];
    for (let c = 0; c < CONSUMERS; c++) {
      for (let t = 0; t < TOKENS_PER_CONSUMER; t++) {
        manyTokens.push(await new SignJWT({ iss: `bench-rs-${c}`, exp, sub: `bench-${c}`, jti: `${c}-${t}` }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(keys.rs.privateKey));
      }
    }
    const esToken = await new SignJWT({ iss: 'bench-es', exp, sub: 'bench' }).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(keys.es.privateKey);

    const [proxyPort, authzPort] = await Promise.all([freePort(), freePort()]);
    const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
    cleanup.push(() => upstream.stop());
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(configFile, gatewayYaml(upstream.url, keys));
    const cp = new ControlPlane({
      configPath: configFile, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
      settings: { ...DEFAULT_SETTINGS, authz: { ...DEFAULT_SETTINGS.authz, port: authzPort } },
      ir: { defaultListener: { address: '127.0.0.1', port: proxyPort } }, logger: log, watch: false,
    });
    const { xdsPort } = await cp.start();
    cleanup.push(() => cp.stop());
    // Envoy names a route's policy by its content (contracts/authz.ts policyName): so does a Check sent here.
    const ir = compileConfig([{ file: configFile, text: readFileSync(configFile, 'utf8') }]).ir;
    const policyOf = (route: string): string => {
      const r = ir?.routes.find((x) => x.routeName === route);
      if (!r) throw new Error(`no route ${route} in the benchmark's config`);
      return policyName(r);
    };

    // 1. straight at the service
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const cached = await startServiceProcess(xdsPort, 0, 10_000);
    cleanup.push(() => cached.stop());
    await serviceScenario('cached JWT RS256 + acl', cached, checkRequestBytes(policyOf('jwt-rs'), '/rs', auth(rsToken)), dir);
    await serviceScenario('key-auth', cached, checkRequestBytes(policyOf('key'), '/key', { apikey: 'bench-api-key-0123456789abcdef' }), dir);
    await cached.stop();
    const uncached = await startServiceProcess(xdsPort, 0, 0);
    cleanup.push(() => uncached.stop());
    await serviceScenario('uncached RS256 + acl', uncached, checkRequestBytes(policyOf('jwt-rs'), '/rs', auth(rsToken)), dir);
    await serviceScenario('uncached ES256 + acl', uncached, checkRequestBytes(policyOf('jwt-es'), '/es', auth(esToken)), dir);
    await uncached.stop();

    // 2. through Envoy
    const service = await startServiceProcess(xdsPort, authzPort, 10_000);
    cleanup.push(() => service.stop());
    const envoy = await EnvoyProcess.start({
      bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: 'bench-authz-envoy', cluster: 'frontdesk', adminPort: 0 }),
      logger: log, concurrency: 1,
    });
    cleanup.push(() => envoy.stop());
    await envoy.waitReady(30_000);
    const proxy = `http://127.0.0.1:${proxyPort}`;
    await until('Envoy to serve both routes', async () => (await status(`${proxy}/open`, {})) === 200 && (await status(`${proxy}/rs`, auth(rsToken))) === 200);
    if ((await status(`${proxy}/rs`, {})) !== 401) throw new Error('the jwt route does not refuse a request without a token');
    if ((await status(`${proxy}/rs`, auth(manyTokens[manyTokens.length - 1]!))) !== 200) throw new Error('the jwt route refuses one of the many tokens');
    const rotating: RotatingHeader = { header: 'Authorization', values: manyTokens.map((t) => `Bearer ${t}`), file: join(dir, 'tokens.txt') };
    const modes: Array<{ name: string; url: string; headers: Record<string, string>; rotate?: RotatingHeader }> = [
      { name: 'no auth', url: `${proxy}/open`, headers: {} },
      { name: 'jwt RS256 + acl, one token', url: `${proxy}/rs`, headers: auth(rsToken) },
      { name: `jwt RS256 + acl, ${manyTokens.length} tokens of ${CONSUMERS} consumers`, url: `${proxy}/rs`, headers: {}, rotate: rotating },
    ];
    const working = new CpuMeter({ 'gateway Envoy': envoy.pid, 'upstream Envoy': upstream.pid, authz: service.proc.pid });
    for (const m of modes) wrk(m.url, 1, CONNECTIONS, m.headers, m.rotate); // warm-up (the many tokens each verified once)
    const results = new Map<string, Array<WrkResult & { cpuS: number }>>();
    let cpuPer: Record<string, number> = {};
    for (let round = 0; round < 2; round++) {
      for (const m of modes) {
        working.begin();
        const r = wrk(m.url, SECONDS, CONNECTIONS, m.headers, m.rotate);
        const cpu = working.end();
        cpuPer = cpu.perProcess;
        results.set(m.name, [...(results.get(m.name) ?? []), { ...r, cpuS: cpu.total }]);
      }
    }
    const mean = (rs: Array<WrkResult & { cpuS: number }>, k: 'rps' | 'p99Ms' | 'p50Ms' | 'cpuS' | 'requests') => rs.reduce((a, r) => a + r[k], 0) / rs.length;
    const base = results.get('no auth')!;
    const generator = `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, 2 alternating rounds (mean)`;
    const counted = Object.keys(cpuPer).join(' + ');
    for (const [name, rs] of results) {
      const ratio = mean(rs, 'rps') / mean(base, 'rps');
      const perCpu = mean(rs, 'requests') / mean(rs, 'cpuS');
      const problems = wrkProblems(rs);
      const non2xx = rs.reduce((a, r) => a + r.non2xx, 0);
      emit(
        { part: 'envoy', scenario: name, rps: round(mean(rs, 'rps')), p50_ms: round(mean(rs, 'p50Ms'), 2), p99_ms: round(mean(rs, 'p99Ms'), 2),
          ratio_to_no_auth: round(ratio, 3), rounds: rs.map((r) => round(r.rps)), non_2xx: non2xx, socket_errors: rs.reduce((a, r) => a + r.errors, 0),
          requests_per_cpu_s: round(perCpu), cpu_s_per_round: round(mean(rs, 'cpuS'), 2), cpu_counted: counted,
          load_generator: `${generator}${name.includes('tokens of') ? ', Authorization rotating through the tokens (rotate-header.lua)' : ''}`,
          baseline: 'same Envoy (concurrency 1), route without auth, same upstream (Envoy direct_response), same run',
          processes: 'gateway Envoy x1 worker, upstream Envoy x1 worker, authz Node process, wrk x1 thread, control plane (idle)' },
        `through Envoy, ${name}: ${round(mean(rs, 'rps'))} req/s (${round(ratio * 100, 1)} % of no auth), p50 ${round(mean(rs, 'p50Ms'), 2)} ms, p99 ${round(mean(rs, 'p99Ms'), 2)} ms, ${non2xx} non-2xx (rounds ${rs.map((r) => round(r.rps)).join(', ')}); ${round(perCpu)} requests per CPU-second of ${counted}; load: ${generator}`,
        problems,
      );
    }
  } finally {
    await stopAll();
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench/authz: ${(e as Error).stack ?? e}\n`); process.exit(1); });
