/**
 * Propagation benchmark: how long from an operator's edit of the YAML file (an atomic rename,
 * as editors save) until (a) a real Envoy serves the change and (b) every node of a fleet of
 * one real Envoy plus N simulated ADS clients has ACKed it; and what the control plane costs in
 * memory meanwhile. Prints figures; never fails on them.
 *
 *   node --import tsx bench/propagation/run.ts [--edits 20] [--warmup 2] [--clients 200]
 *        [--host-patterns 4] [--client-decode light|full] [--client-connection own|shared]
 *        [--cp js|tsx] [--no-baseline] [--cpu-prof DIR] [--budget-s 170] [--tls]
 *
 * --tls: everything runs twice in the same run, plaintext then mutual TLS on every xDS hop (the
 * control plane's certificate, Envoy's through SDS files, each simulated client's), and a last
 * line sets the mTLS figures beside the plaintext ones.
 *
 * Processes, all on loopback, all stopped at the end (or on error / Ctrl-C):
 *   - the control plane: `frontdesk control-plane` in its own Node process (control-plane.ts),
 *     run as plain JavaScript transpiled into the run's temp folder (`--cp tsx` runs it through
 *     tsx instead, whose loader thread adds ~45 MiB of RSS)
 *   - one real Envoy (concurrency 1) fed by it over ADS, serving on the proxy port
 *   - one upstream Envoy (concurrency 1) answering 200 with direct_response: never the bottleneck
 *   - the simulated clients in one Node process (clients.ts): half SotW, half delta
 *   - this process: writes the edits, probes the proxy (~1 request/ms), reads /status and stats
 *
 * Order: the edits run first with the real Envoy alone (the baseline, same run), then again
 * once the simulated clients have joined; each set is --warmup edits (not counted) + --edits.
 * An edit's versions are known beforehand (this process compiles the same YAML with the same
 * settings and checks, at start, that it gets the control plane's version).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { shortType, TYPE } from '../../src/resources/type-urls.js';
import { bootstrapYaml, envoySds, envoySdsFiles } from '../../src/runtime/bootstrap.js';
import { certFiles, writeCerts } from '../../src/runtime/certs.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { buildSnapshot, resourcesFor, versionOf, type Snapshot } from '../../src/xds/snapshot.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { freePorts, sleep, waitForHttp } from '../support/net.js';
import { cpuSecondsOf, memoryOf, RssSampler } from '../support/proc.js';
import { transpileTree } from '../support/transpile.js';
import { markText, marks, printRunHeader, runInfo } from '../support/run-info.js';
import { formatSummary, machine, report, rounded, summarize, wallMs, type Summary } from '../support/stats.js';
import { NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { CLIENT_TYPES, type ClientsReply, type ClientsRequest } from './clients.js';
import { benchRoutes, DEFAULT_HOST_PATTERNS, genConfig, requestPath, ROUTES_PER_SERVICE, SERVICES, type BenchRoute } from './gen-config.js';

const BENCH = 'propagation';
const RUN = runInfo(); // first: the load average before this benchmark starts anything

/** report() with the run's command, commit and load, and MARKED when the run started busy. */
function reportRun(set: string, figures: Record<string, unknown>, readable: string): void {
  const m = marks(RUN);
  report(BENCH, set, { ...figures, run: { command: RUN.command, commit: RUN.commit, loadAvg1AtStart: RUN.loadAvg1AtStart, busyAtStart: RUN.busy }, marked: m.length > 0, marks: m }, `${readable}${markText(m)}`);
}
const FLEET = 'frontdesk';
const TARGET_A_P99_MS = 250;
const TARGET_RSS_MIB = 100;

interface Options {
  edits: number;
  warmup: number;
  clients: number;
  hostPatterns: number;
  decode: 'light' | 'full';
  connection: 'own' | 'shared';
  cpuProf?: string;
  cp: 'js' | 'tsx';
  baseline: boolean;
  budgetS: number;
  settleMs: number;
  tls: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { edits: 20, warmup: 2, clients: 200, hostPatterns: DEFAULT_HOST_PATTERNS, decode: 'light', connection: 'own', cp: 'js', baseline: true, budgetS: 170, settleMs: 150, tls: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    const int = () => { const n = Number(value()); if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} takes a whole number`); return n; };
    switch (flag) {
      case '--edits': o.edits = Math.max(1, int()); break;
      case '--warmup': o.warmup = int(); break;
      case '--clients': o.clients = int(); break;
      case '--host-patterns': o.hostPatterns = int(); break;
      case '--client-decode': { const v = value(); if (v !== 'light' && v !== 'full') throw new Error('--client-decode is light or full'); o.decode = v; break; }
      case '--client-connection': { const v = value(); if (v !== 'own' && v !== 'shared') throw new Error('--client-connection is own or shared'); o.connection = v; break; }
      case '--cpu-prof': o.cpuProf = value(); break;
      case '--cp': { const v = value(); if (v !== 'js' && v !== 'tsx') throw new Error('--cp is js or tsx'); o.cp = v; break; }
      case '--budget-s': o.budgetS = int(); break;
      case '--no-baseline': o.baseline = false; break;
      case '--tls': o.tls = true; break;
      case '--settle-ms': o.settleMs = int(); break;
      case '--help': process.stdout.write(`${readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]}*/\n`); process.exit(0); break;
      default: throw new Error(`unknown flag ${flag} (try --help)`);
    }
  }
  return o;
}

/** Everything started, stopped in reverse order whatever happens. */
const cleanups: { name: string; run: () => Promise<void> | void }[] = [];
let cleaning: Promise<void> | undefined;
/** Runs once, however many callers (a signal and a failing main) ask for it. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const c = cleanups.pop()!;
      try { await c.run(); } catch (e) { process.stderr.write(`cleanup of ${c.name} failed: ${(e as Error).message}\n`); }
    }
  })();
  return cleaning;
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. */
function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

/** The clients process, driven by messages. */
class Fleet {
  private seq = 0;
  private readonly waiters = new Map<number, (r: Extract<ClientsReply, { evt: 'reached' }>) => void>();
  private started?: (r: Extract<ClientsReply, { evt: 'started' }>) => void;
  private failed?: (e: Error) => void;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: ClientsReply) => {
      if (m.evt === 'started') this.started?.(m);
      else if (m.evt === 'reached') { this.waiters.get(m.id)?.(m); this.waiters.delete(m.id); }
      else this.failed?.(new Error(`clients process: ${m.message}`));
    });
    child.on('exit', (code) => this.failed?.(new Error(`clients process exited (${code})`)));
  }

  private send(m: ClientsRequest): void {
    this.child.send(m);
  }

  start(m: Extract<ClientsRequest, { cmd: 'start' }>, timeoutMs: number): Promise<Extract<ClientsReply, { evt: 'started' }>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the simulated clients did not all get a first config in ${timeoutMs} ms`)), timeoutMs);
      this.started = (r) => { clearTimeout(t); resolve(r); };
      this.failed = (e) => { clearTimeout(t); reject(e); };
      this.send(m);
    });
  }

  /** Resolves with every client's time of holding `versions` (or the ones missing at the timeout). */
  expect(versions: Record<string, string>, timeoutMs: number): Promise<Extract<ClientsReply, { evt: 'reached' }>> {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiters.set(id, resolve);
      this.failed = reject;
      this.send({ cmd: 'expect', id, versions, timeoutMs });
    });
  }

  stop(): Promise<void> {
    if (this.child.connected) this.send({ cmd: 'stop' });
    this.failed = undefined;
    return stopChild(this.child, 3000);
  }
}

interface Expected {
  version: string;
  types: Record<string, string>;
  rdsBytes: number;
  envoyRoutes: number;
}

interface EditSample {
  /** File write → Envoy answers the changed path from the upstream. */
  servedMs: number;
  /** File write → Envoy's last update of a changed type (its stats' update_time; 1 ms resolution). */
  envoyAckMs: number;
  /** File write → half of the simulated clients hold the version. */
  clientsMedianMs: number;
  /** File write → the last simulated client holds it. */
  clientsLastMs: number;
  /** (b): every node (clients and Envoy) has ACKed. */
  allAckedMs: number;
  /** The control plane's "config applied" log: read, compile, encode and hand-off to every stream. */
  reloadMs: number;
  probes: number;
  /** CPU each process used from the write until every node had ACKed, ms (10 ms ticks). */
  cpuMs: Record<string, number>;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const loadAtStart = RUN.loadAvg1AtStart;
  printRunHeader(BENCH, RUN);
  const deadline = started + o.budgetS * 1000;
  const logger = silentLogger();
  const envoyBin = findEnvoy();
  if (!envoyBin) throw new Error('no envoy binary: run `node scripts/install-envoy.mjs` or set ENVOY_BIN');
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-propagation-'));
  cleanups.push({ name: 'temp folder', run: () => rmSync(dir, { recursive: true, force: true }) });
  // `on`, not `once`: a second Ctrl-C (or a wrapper forwarding the signal) must not cut the cleanup short.
  const stopAll = () => { void cleanup().then(() => process.exit(130)); };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

  // The upstream: a static Envoy answering 200 to everything.
  const upstream = await startDirectUpstream({ logger, bin: envoyBin });
  cleanups.push({ name: 'upstream Envoy', run: () => upstream.stop() });

  // The config and what it compiles to (computed here too, to know each edit's versions).
  const [xdsPort, adminPort, proxyPort] = await freePorts(3) as [number, number, number];
  const routes = benchRoutes(o.hostPatterns);
  const tokens = new Map(routes.map((r) => [r.name, 'g0']));
  const configText = () => genConfig(upstream.url, routes, (r) => tokens.get(r.name)!);
  const configFile = join(dir, 'gateway.yaml');
  let previousLocal: Snapshot | undefined;
  const expected = (text: string): Expected => {
    const c = compileConfig([{ file: configFile, text }], { ir: { defaultListener: { address: '127.0.0.1', port: proxyPort } }, settings: DEFAULT_SETTINGS });
    if (!c.ok || !c.translation) throw new Error(`the generated config does not compile:\n${c.diagnostics.map((d) => d.message).join('\n')}`);
    const s = buildSnapshot(c.translation, 0, previousLocal);
    previousLocal = s;
    const types = Object.fromEntries(CLIENT_TYPES.map((t) => [t, versionOf(resourcesFor(s, FLEET, t))]));
    const rds = [...resourcesFor(s, FLEET, TYPE.route).values()];
    const envoyRoutes = rds.reduce((n, r) => n + ((r.body as { virtual_hosts?: { routes?: unknown[] }[] }).virtual_hosts ?? []).reduce((m, v) => m + (v.routes?.length ?? 0), 0), 0);
    return { version: s.version, types, rdsBytes: rds.reduce((n, r) => n + r.any.length, 0), envoyRoutes };
  };
  const initialText = configText();
  writeFileSync(configFile, initialText);
  let current = expected(initialText);

  // --tls: a CA and certificates for the control plane and the fleet, made before anything is timed.
  const pkiDir = join(dir, 'pki');
  const pkiFor = () => {
    writeCerts(pkiDir, { fleets: [FLEET], companions: [] });
    const ca = join(pkiDir, 'ca.pem');
    const envoy = { ...certFiles(pkiDir, { role: 'envoy', fleet: FLEET }), ca };
    const sds = envoySds(pkiDir);
    for (const f of envoySdsFiles(envoy, sds)) writeFileSync(f.path, f.text);
    return { controlPlane: { ...certFiles(pkiDir, { role: 'control-plane' }), ca }, envoy, sds };
  };
  const results = new Map<string, { servedMs: Summary; allAckedMs: Summary; reloadMs: Summary; cpuMsPerEdit: Record<string, number> }>();
  let editNo = 0;
  let admin = '';
  let stoppedAny = false;
  const reloads: string[] = [];

  /** Starts the control plane, Envoy and the fleet over one transport, runs the edits, stops them. */
  const measure = async (pki: ReturnType<typeof pkiFor> | undefined): Promise<void> => {
    const suffix = pki ? ' · mTLS' : '';
    const mark = cleanups.length;
    // The control plane, in its own process.
    const cpLog = join(dir, 'control-plane.log');
    const logFd = openSync(cpLog, 'w');
    const projectDir = here('../..');
    let entry = here('./control-plane.ts');
    if (o.cp === 'js') {
      // With --cpu-prof the copy is kept beside the profile, whose lines it maps back to the .ts.
      const out = o.cpuProf ? join(resolve(o.cpuProf), 'cp') : join(dir, 'cp');
      transpileTree(projectDir, out, ['src', 'bench/propagation/control-plane.ts']);
      entry = join(out, 'bench', 'propagation', 'control-plane.js');
    }
    const cp = fork(entry, [
      '--config', configFile, '--xds-port', String(xdsPort), '--admin-port', String(adminPort),
      '--proxy-port', String(proxyPort), '--proxy-host', '127.0.0.1',
      ...(pki ? ['--tls-cert', pki.controlPlane.cert, '--tls-key', pki.controlPlane.key, '--tls-ca', pki.controlPlane.ca] : []),
    ], {
      execArgv: [...NODE_FLAGS, ...(o.cp === 'tsx' ? ['--import', 'tsx'] : []), ...(o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : [])],
      stdio: ['ignore', logFd, logFd, 'ipc'],
      env: { ...process.env, FRONTDESK_LOG_LEVEL: process.env.FRONTDESK_LOG_LEVEL ?? 'info' },
    });
    closeSync(logFd);
    cleanups.push({ name: 'control plane', run: () => stopChild(cp, 8000) });
    const cpAlive = () => cp.exitCode === null && cp.signalCode === null;
    admin = `http://127.0.0.1:${adminPort}`;
    await waitForHttp(`${admin}/readyz`, 60_000, cpAlive).catch((e: Error) => { throw new Error(`${e.message}\n${tail(cpLog)}`); });
    const cpPid = cp.pid!;
    const rss = new RssSampler(cpPid).start();
    cleanups.push({ name: 'rss sampler', run: () => rss.stop() });

    // One real Envoy.
    const envoy = await EnvoyProcess.start({
      bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: 'bench-envoy', cluster: FLEET, adminPort: 0, ...(pki ? { tls: pki.sds } : {}) }),
      logger, concurrency: 1, bin: envoyBin,
    });
    cleanups.push({ name: 'Envoy', run: () => envoy.stop() });
    await envoy.waitReady(60_000);

    // Every node holds the first config, and our own compilation agrees with the control plane's.
    const calibrate = (nodes: number) => waitConverged(admin, current.version, nodes, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n(if the versions differ, this benchmark compiles the config differently from the CLI: check the settings in run.ts)`);
    });
    await calibrate(1);
    await sleep(300);
    const idleEnvoyOnly = memoryOf(cpPid);

    // The probe: one keep-alive connection through the proxy.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push({ name: 'probe agent', run: () => agent.destroy() });
    const get = (path: string, host: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path, method: 'GET', headers: { host }, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.setTimeout(2000, () => req.destroy(new Error('probe timed out')));
      req.on('error', reject);
      req.end();
    });
    const served = (r?: { status: number; body: string }) => r?.status === 200 && r.body === upstream.body;
    const target = (r: BenchRoute, token: string) => ({ path: requestPath(r, token), host: r.host ?? 'any.bench.test' });

    /** Polls the changed path about every millisecond until the upstream answers it. */
    const probeUntilServed = async (path: string, host: string, until: number): Promise<{ at: number; probes: number }> => {
      for (let probes = 1; ; probes++) {
        const began = wallMs();
        const r = await get(path, host).catch(() => undefined);
        const at = wallMs();
        if (served(r)) return { at, probes };
        if (at > until) throw new Error(`Envoy did not serve ${host}${path} within the timeout (last: ${r?.status ?? 'error'})`);
        const wait = 1 - (at - began);
        if (wait > 0.2) await sleep(wait);
      }
    };

    /** Envoy's stats: per type, the version it holds and when it last took an update (ms since the epoch). */
    const envoyXds = async () => {
      const text = await (await fetch(`${envoy.adminUrl}/stats?filter=${encodeURIComponent('(cds|lds|rds)\\.')}`)).text();
      const out = new Map<string, { version?: string; updateTime?: number }>();
      for (const line of text.split('\n')) {
        const mm = /^(cluster_manager\.cds|listener_manager\.lds|http\.[^.]+\.rds\.[^.]+)\.(version_text|update_time): "?([^"]*)"?$/.exec(line);
        if (!mm) continue;
        const type = mm[1]!.endsWith('cds') ? TYPE.cluster : mm[1]!.endsWith('lds') ? TYPE.listener : TYPE.route;
        const e = out.get(type) ?? {};
        if (mm[2] === 'version_text') e.version = mm[3]; else e.updateTime = Number(mm[3]);
        out.set(type, e);
      }
      return out;
    };

    /** The control plane's "config applied" log line for a version: its reload time (compile, encode, hand-off to every stream). */
    const reloadMsOf = async (version: string): Promise<number> => {
      const until = Date.now() + 5000;
      for (;;) {
        for (const line of readFileSync(cpLog, 'utf8').split('\n')) {
          if (!line.includes('"config applied"') || !line.includes(version)) continue;
          try { const j = JSON.parse(line) as { version?: string; ms?: number }; if (j.version === version && typeof j.ms === 'number') return j.ms; } catch { /* a partial line */ }
        }
        if (Date.now() > until) return Number.NaN;
        await sleep(20);
      }
    };

    /** frontdesk_snapshot_build_seconds sum and count (read + compile + encode, before any push). */
    const buildMetric = async (): Promise<{ sum: number; count: number }> => {
      const text = await (await fetch(`${admin}/metrics`)).text();
      const num = (name: string) => Number(new RegExp(`^${name}(?:\\{\\})? ([0-9.eE+-]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      return { sum: num('frontdesk_snapshot_build_seconds_sum'), count: num('frontdesk_snapshot_build_seconds_count') };
    };

    const fleetChild = fork(here('./clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const fleet = new Fleet(fleetChild);
    cleanups.push({ name: 'simulated clients', run: () => fleet.stop() });
    const pids = { controlPlane: cpPid, envoy: envoy.pid!, upstream: upstream.pid, clients: fleetChild.pid!, bench: process.pid };
    const cpuNow = () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));

    /** One edit: write it as an editor does and time what follows. */
    const edit = async (change: () => BenchRoute, token: () => string, nodes: number, withClients: boolean): Promise<EditSample> => {
      const probeRoute = change();
      const text = configText();
      const next = expected(text);
      const changedTypes = CLIENT_TYPES.filter((t) => next.types[t] !== current.types[t]);
      const { path, host } = target(probeRoute, token());
      if (served(await get(path, host).catch(() => undefined))) throw new Error(`${host}${path} is served before the edit: the benchmark's edit is wrong`);
      const tmp = join(dir, '.gateway.yaml.tmp');
      writeFileSync(tmp, text);
      await sleep(o.settleMs);
      const cpu0 = cpuNow();
      const t0 = wallMs();
      renameSync(tmp, configFile);
      const reached = withClients ? fleet.expect(next.types, 30_000) : undefined;
      const probe = await probeUntilServed(path, host, t0 + 20_000);
      const r = await reached;
      if (r && r.missing.length) throw new Error(`${r.missing.length} simulated clients did not get version ${next.version} in 30 s (e.g. ${r.missing.slice(0, 3).join(', ')})`);
      await waitConverged(admin, next.version, nodes, 20_000);
      const cpu1 = cpuNow();
      const ex = await envoyXds();
      let envoyAck = 0;
      for (const t of changedTypes) {
        const e = ex.get(t);
        if (!e) continue;
        if (e.version !== next.types[t]) throw new Error(`Envoy holds ${shortType(t)} ${e.version}, expected ${next.types[t]}`);
        envoyAck = Math.max(envoyAck, e.updateTime ?? 0);
      }
      const clientTimes = (r?.times ?? []).map((x) => x - t0).sort((a, b) => a - b);
      const envoyAckMs = envoyAck ? envoyAck - t0 : Number.NaN;
      const clientsLastMs = clientTimes.length ? clientTimes[clientTimes.length - 1]! : Number.NaN;
      current = next;
      return {
        servedMs: probe.at - t0,
        envoyAckMs,
        clientsMedianMs: clientTimes.length ? clientTimes[Math.floor((clientTimes.length - 1) / 2)]! : Number.NaN,
        clientsLastMs,
        allAckedMs: Math.max(Number.isNaN(clientsLastMs) ? 0 : clientsLastMs, Number.isNaN(envoyAckMs) ? probe.at - t0 : envoyAckMs),
        reloadMs: await reloadMsOf(next.version),
        probes: probe.probes,
        cpuMs: Object.fromEntries(Object.keys(pids).map((k) => [k, (cpu1[k]! - cpu0[k]!) * 1000])),
      };
    };

    const m = machine(envoyBin);
    const setup = {
      machine: { ...m, loadAvg1: loadAtStart },
      config: { services: SERVICES, routes: routes.length, routesPerService: ROUTES_PER_SERVICE, hostPatterns: o.hostPatterns, envoyRoutes: current.envoyRoutes, rdsBytes: current.rdsBytes },
      fleet: { envoys: 1, simulatedClients: o.clients, sotw: Math.ceil(o.clients / 2), delta: Math.floor(o.clients / 2), clientDecode: o.decode, clientConnection: o.connection },
      controlPlane: { process: o.cp === 'js' ? 'node <transpiled>/bench/propagation/control-plane.js (frontdesk control-plane, plain JS)' : 'node --import tsx bench/propagation/control-plane.ts (frontdesk control-plane)', logLevel: process.env.FRONTDESK_LOG_LEVEL ?? 'info', debounce: '20 ms quiet / 150 ms max (config-watcher.ts)' },
      loadGenerator: `${o.clients} AdsClients in one Node process; an HTTP/1.1 probe of the proxy every ~1 ms during each measurement (this process)`,
      baseline: o.baseline ? 'the same edits with the real Envoy alone (no simulated clients), same run, same processes' : 'none (--no-baseline)',
      transport: pki ? 'mutual TLS on every xDS stream (RSA 2048 certificates from frontdesk certs)' : 'plaintext',
      beside: `on the same ${m.cores} cores: the control plane, 1 Envoy (concurrency 1), 1 upstream Envoy (concurrency 1, direct_response), the clients process, this process`,
    };
    if (!pki) reportRun('setup', setup, `${m.cores} cores (${m.cpu}, load average ${loadAtStart} at start), Node ${m.node}, Envoy ${m.envoy}; ${routes.length} routes / ${SERVICES} services / ${o.hostPatterns} host patterns → ${current.envoyRoutes} Envoy routes, RDS ${(current.rdsBytes / 1024).toFixed(0)} KiB; control plane ${o.cp === 'js' ? 'as plain JS' : 'through tsx'}; fleet 1 Envoy + ${o.clients} simulated clients (${setup.fleet.sotw} SotW, ${setup.fleet.delta} delta, ${o.decode} RDS decode, ${o.connection} connections)`);

    let stoppedEarly = false;
    const runPhase = async (name: string, kind: 'single' | 'full', nodes: number, withClients: boolean): Promise<void> => {
      const set = `${name}${suffix}`;
      const samples: EditSample[] = [];
      const t0 = Date.now();
      let build0: { sum: number; count: number } | undefined;
      for (let i = 0; i < o.warmup + o.edits; i++) {
        if (Date.now() > deadline) { stoppedEarly = true; break; }
        if (i === o.warmup) build0 = await buildMetric();
        const n = ++editNo;
        let s: EditSample;
        if (kind === 'single') {
          // One route's path changes; the route edited moves through the file (hosts, methods, regex).
          const r = routes[(n * 37) % routes.length]!;
          s = await edit(() => { tokens.set(r.name, `e${n}`); return r; }, () => `e${n}`, nodes, withClients);
        } else {
          s = await edit(() => { for (const r of routes) tokens.set(r.name, `f${n}`); return routes[(n * 37 + 11) % routes.length]!; }, () => `f${n}`, nodes, withClients);
        }
        if (i >= o.warmup) samples.push(s);
      }
      const build1 = await buildMetric();
      const buildMeanMs = build0 && build1.count > build0.count ? ((build1.sum - build0.sum) / (build1.count - build0.count)) * 1000 : Number.NaN;
      // Mean CPU per measured edit, from the write until every node had ACKed.
      const cpuPerEdit = Object.fromEntries(Object.keys(pids).filter((k) => withClients || k !== 'clients')
        .map((k) => [k, Math.round(samples.reduce((a, s) => a + s.cpuMs[k]!, 0) / (samples.length || 1))]));
      const sum = (f: (s: EditSample) => number): Summary => rounded(summarize(samples.map(f).filter((x) => !Number.isNaN(x))));
      const figures = {
        nodes, simulatedClients: withClients ? o.clients : 0, edits: samples.length, warmup: o.warmup,
        servedMs: sum((s) => s.servedMs),
        allAckedMs: sum((s) => s.allAckedMs),
        envoyAckMs: sum((s) => s.envoyAckMs),
        ...(withClients ? { clientsMedianMs: sum((s) => s.clientsMedianMs), clientsLastMs: sum((s) => s.clientsLastMs) } : {}),
        buildMeanMs: Math.round(buildMeanMs * 10) / 10,
        reloadMs: sum((s) => s.reloadMs),
        probesPerEdit: Math.round(samples.reduce((a, s) => a + s.probes, 0) / (samples.length || 1)),
        cpuMsPerEdit: cpuPerEdit,
        wallS: Math.round((Date.now() - t0) / 100) / 10,
        targetServedP99Ms: TARGET_A_P99_MS,
        // Raw samples, in edit order, for whoever wants to look closer.
        samples: samples.map(({ cpuMs: _cpu, ...x }) => rounded(x)),
      };
      const served = figures.servedMs;
      results.set(set, figures);
      reportRun(set, figures,
        `(a) Envoy serving ${formatSummary(served)} [target p99 ≤ ${TARGET_A_P99_MS} ms: ${served.p99 <= TARGET_A_P99_MS ? 'met' : 'missed'}]; `
        + `(b) all ${nodes} node(s) ACKed ${formatSummary(figures.allAckedMs)}`
        + `${withClients ? `, median client ${formatSummary(figures.clientsMedianMs!)}` : ''}; `
        + `snapshot build (read+compile+encode) mean ${figures.buildMeanMs} ms, reload incl. hand-off to every stream p50 ${figures.reloadMs.p50} ms; `
        + `CPU per edit: control plane ${cpuPerEdit.controlPlane} ms, Envoy ${cpuPerEdit.envoy} ms${withClients ? `, clients ${cpuPerEdit.clients} ms` : ''}, probe ${cpuPerEdit.bench} ms`);
    };

    if (o.baseline) {
      await runPhase('single-route edit · Envoy only', 'single', 1, false);
      if (!stoppedEarly) await runPhase('full rewrite · Envoy only', 'full', 1, false);
    }

    // VmHWM only grows: read now, it is the peak of the Envoy-only edits.
    const afterBaseline = memoryOf(cpPid);

    // The simulated fleet joins.
    let idleFleet: ReturnType<typeof memoryOf>;
    if (!stoppedEarly && o.clients > 0) {
      const fleetStart = await fleet.start({ cmd: 'start', target: `127.0.0.1:${xdsPort}`, count: o.clients, cluster: FLEET, decode: o.decode, connection: o.connection, ...(pki ? { tls: pki.envoy } : {}) }, 90_000);
      for (const w of fleetStart.warnings) process.stderr.write(`warning: ${w}\n`);
      await calibrate(o.clients + 1);
      process.stdout.write(`${BENCH}: ${o.clients} simulated clients connected and got the first config in ${Math.round(fleetStart.ms)} ms\n`);
      await sleep(500);
      idleFleet = memoryOf(cpPid);
      const label = `1 Envoy + ${o.clients} clients`;
      await runPhase(`single-route edit · ${label}`, 'single', o.clients + 1, true);
      if (!stoppedEarly) await runPhase(`full rewrite · ${label}`, 'full', o.clients + 1, true);
    }

    const end = memoryOf(cpPid);
    rss.sample();
    const mem = {
      idleEnvoyOnlyMiB: round1(idleEnvoyOnly?.rssMiB), peakEnvoyOnlyMiB: o.baseline ? round1(afterBaseline?.hwmMiB) : undefined,
      idleWithFleetMiB: round1(idleFleet?.rssMiB), nodes: o.clients + 1,
      maxSampledMiB: round1(rss.maxRssMiB), endMiB: round1(end?.rssMiB), peakHwmMiB: round1(end?.hwmMiB),
      envoyRssMiB: round1(memoryOf(envoy.pid!)?.rssMiB), clientsProcessRssMiB: round1(memoryOf(fleetChild.pid!)?.rssMiB),
      targetMiB: TARGET_RSS_MIB, sampledEveryMs: 50, controlPlane: o.cp === 'js' ? 'plain JS' : 'through tsx (+~45 MiB loader)',
    };
    reportRun(`control-plane memory${suffix}`, mem,
      `RSS idle ${mem.idleEnvoyOnlyMiB} MiB with 1 Envoy (peak ${mem.peakEnvoyOnlyMiB ?? 'n/a'} MiB over its edits), ${mem.idleWithFleetMiB ?? 'n/a'} MiB idle with ${mem.nodes} nodes; max sampled ${mem.maxSampledMiB} MiB, peak (VmHWM) ${mem.peakHwmMiB} MiB [target ≤ ${TARGET_RSS_MIB} MiB: ${(mem.peakHwmMiB ?? Infinity) <= TARGET_RSS_MIB ? 'met' : 'missed'}]; beside: Envoy ${mem.envoyRssMiB} MiB, clients process ${mem.clientsProcessRssMiB} MiB`);
    stoppedAny ||= stoppedEarly;
    const metrics = await (await fetch(`${admin}/metrics`)).text().catch(() => '');
    reloads.push(`${pki ? 'mTLS' : 'plaintext'} ${[...metrics.matchAll(/^frontdesk_config_reloads_total\{result="(\w+)"\} (\d+)/gm)].map((x) => `${x[1]}=${x[2]}`).join(' ') || 'n/a'}`);
    // This transport's processes stop before the next one starts (same ports, same cores).
    while (cleanups.length > mark) { const c = cleanups.pop()!; try { await c.run(); } catch (e) { process.stderr.write(`cleanup of ${c.name} failed: ${(e as Error).message}\n`); } }
  };

  await measure(undefined);
  if (o.tls && Date.now() < deadline) {
    await measure(pkiFor());
    // The same sets over both transports, side by side.
    const beside: Record<string, unknown> = {};
    const lines: string[] = [];
    for (const [set, plain] of results) {
      const tls = results.get(`${set} · mTLS`);
      if (!tls || set.endsWith(' · mTLS')) continue;
      const pct = (a: number, b: number) => (b ? Math.round(((a - b) / b) * 1000) / 10 : Number.NaN);
      beside[set] = {
        servedP50Ms: { plaintext: plain.servedMs.p50, mTLS: tls.servedMs.p50, deltaPct: pct(tls.servedMs.p50, plain.servedMs.p50) },
        servedP99Ms: { plaintext: plain.servedMs.p99, mTLS: tls.servedMs.p99, deltaPct: pct(tls.servedMs.p99, plain.servedMs.p99) },
        allAckedP50Ms: { plaintext: plain.allAckedMs.p50, mTLS: tls.allAckedMs.p50, deltaPct: pct(tls.allAckedMs.p50, plain.allAckedMs.p50) },
        controlPlaneCpuMsPerEdit: { plaintext: plain.cpuMsPerEdit.controlPlane, mTLS: tls.cpuMsPerEdit.controlPlane },
      };
      lines.push(`${set}: served p50 ${plain.servedMs.p50} → ${tls.servedMs.p50} ms (${pct(tls.servedMs.p50, plain.servedMs.p50)} %), all ACKed p50 ${plain.allAckedMs.p50} → ${tls.allAckedMs.p50} ms (${pct(tls.allAckedMs.p50, plain.allAckedMs.p50)} %)`);
    }
    reportRun('mTLS beside plaintext', beside, `plaintext → mTLS, same run: ${lines.join('; ') || 'no set ran over both'}`);
  }
  process.stdout.write(`${BENCH}: done in ${((Date.now() - started) / 1000).toFixed(0)} s${stoppedAny ? ` (stopped early: the ${o.budgetS} s budget ran out)` : ''}; control-plane reloads: ${reloads.join('; ')}\n`);
  if (o.cpuProf) process.stdout.write(`${BENCH}: the control plane's CPU profile goes to ${o.cpuProf} when it exits; summary: node --import tsx bench/support/cpuprofile.ts ${o.cpuProf}/*.cpuprofile\n`);
}

function round1(x: number | undefined): number | undefined {
  return x === undefined || Number.isNaN(x) ? undefined : Math.round(x * 10) / 10;
}

/** Polls /status until `count` nodes are connected and every one holds `version`. */
async function waitConverged(admin: string, version: string, count: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const s = await (await fetch(`${admin}/status`)).json() as { version?: string; nodes?: { id: string; convergedVersion?: string }[] };
      const nodes = s.nodes ?? [];
      const behind = nodes.filter((n) => n.convergedVersion !== version);
      if (s.version === version && nodes.length >= count && behind.length === 0) return;
      last = `control plane at ${s.version}, expected ${version}; ${nodes.length}/${count} nodes connected, ${behind.length} behind`;
    } catch (e) { last = (e as Error).message; }
    if (Date.now() > until) throw new Error(`the fleet did not converge in ${timeoutMs} ms: ${last}`);
    await sleep(25);
  }
}

function tail(file: string, lines = 30): string {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return ''; }
}

main().then(
  async () => { await cleanup(); process.exit(0); },
  async (e: unknown) => { process.stderr.write(`${BENCH}: ${(e as Error).stack ?? String(e)}\n`); await cleanup(); process.exit(1); },
);
