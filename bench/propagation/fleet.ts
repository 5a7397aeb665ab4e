/**
 * The fleet benchmark: Frontdesk's control plane and go-control-plane (v0.14, SnapshotCache +
 * server/v3) side by side in one run, same resources, same clients, edits interleaved; at each
 * config size (1,000 and 3,000 Kong routes) and each fleet size N (1 = the real Envoy alone,
 * then N simulated nodes beside it). Prints figures; never fails on them.
 *
 *   node --import tsx bench/propagation/fleet.ts [--routes 1000,3000] [--clients 1,200,1000]
 *        [--edits 10] [--warmup 2] [--no-peer] [--peer-dir DIR] [--cpu-prof DIR]
 *        [--soak 500] [--soak-every 50] [--heap-snapshots DIR] [--keep] [--idle-seconds 30] [--probe-every-ms 1] [--cp-node-flags '--flag ...' (default: Frontdesk's, src/runtime/node-flags.ts)]
 *
 * Load generator: `adsload` (Go, from the go-xds-peer folder: ../shared/peers/go-xds-peer
 * beside the project, or --peer-dir), built into the run's temp folder with `go build`. N
 * simulated SotW nodes, each on its own gRPC connection, subscribing as Envoy does (CDS and LDS
 * wildcard, then EDS/RDS by name), ACKing every response; a node counts as updated when it has
 * ACKed a RouteConfiguration holding the edited path. Go decodes clusters and listeners, never
 * route configurations, so the generator costs a fraction of the servers it loads.
 *
 * Processes, all on loopback, all stopped at the end: Frontdesk's control plane (plain JS
 * transpiled into the temp folder, run with --expose-gc), go-control-plane's server, one real
 * Envoy (concurrency 1) per server, one upstream Envoy answering 200 (direct_response), one
 * adsload per server while N > 1, and this process (edits, probes, /proc readings).
 *
 * An edit changes one route's path. Frontdesk's starts at the rename of its YAML file (so it
 * includes the watch debounce and the compile); go-control-plane's at the wall clock just
 * before SetSnapshot, with the same edit's resources, translated beforehand by Frontdesk (its
 * JSON parse is not counted). Figures per (size, N, server): edit → Envoy serving p50/p99,
 * edit → every node ACKed p50/p99, server CPU per edit (from the edit until every node ACKed
 * plus 300 ms), RSS idle and peak; and Frontdesk / go-control-plane ratios.
 *
 * --soak N: afterwards, N more one-route edits to Frontdesk with the Envoy alone at the first
 * size, the control plane's heap (after a full GC) and RSS sampled every --soak-every edits.
 * --heap-snapshots DIR: V8 heap snapshots of the control plane at idle and after the soak.
 * --idle-seconds N: RSS with the one Envoy sampled each second for N s of idle (default 30); the
 *   first sample (1 s after the start-up build) and the last (idle: V8's memory reducer gives the
 *   start-up build's heap back after ~10-15 s without work) are printed side by side.
 * --probe-every-ms N: the pause between the serving probe's requests (default 1). The probe runs
 *   from the rename on, on the same two cores as the control plane; a longer pause takes less of
 *   their CPU from the build and adds up to N ms to "served".
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { shortType } from '../../src/resources/type-urls.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { freePorts, sleep, until, waitForHttp } from '../support/net.js';
import { cpuSecondsOf, memoryOf } from '../support/proc.js';
import { markText, marks, printRunHeader, runInfo } from '../support/run-info.js';
import { formatSummary, machine, report, rounded, summarize, wallMs, type Summary } from '../support/stats.js';
import { NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { transpileTree } from '../support/transpile.js';
import type { ControlPlaneReply, ControlPlaneRequest } from './control-plane.js';
import { benchRoutes, DEFAULT_HOST_PATTERNS, genConfig, requestPath, ROUTES_PER_SERVICE, type BenchRoute } from './gen-config.js';

const BENCH = 'propagation-fleet';
const RUN = runInfo();
const FLEET = 'frontdesk';
const TARGETS = { allAckedP99Ms: 1000, cpuPerEditMs: 500, ratio: 0.5, idleRssMiB: 100, fleetRssMiB: 250 };

type Server = 'fd' | 'go';

interface Options {
  routes: number[];
  clients: number[];
  edits: number;
  warmup: number;
  peer: boolean;
  peerDir?: string;
  cpuProf?: string;
  soak: number;
  soakEvery: number;
  heapSnapshots?: string;
  keep: boolean;
  /** Seconds of idle after the first Envoy serves over which the servers' RSS is sampled (each second; the first sample at 1 s). */
  idleSeconds: number;
  probeEveryMs: number;
  /** Node flags for the control plane: Frontdesk's own (src/runtime/node-flags.ts) unless --cp-node-flags replaces them ("" for none). */
  cpFlags: string[];
}

function parseOptions(argv: string[]): Options {
  const o: Options = { routes: [1000, 3000], clients: [1, 200, 1000], edits: 10, warmup: 2, peer: true, soak: 0, soakEvery: 50, keep: false, idleSeconds: 30, probeEveryMs: 1, cpFlags: [...NODE_FLAGS] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    const int = () => { const n = Number(value()); if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} takes a whole number`); return n; };
    const list = () => value().split(',').map((x) => { const n = Number(x); if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes whole numbers ≥ 1, comma-separated`); return n; });
    switch (flag) {
      case '--routes': o.routes = list(); if (o.routes.some((n) => n % ROUTES_PER_SERVICE)) throw new Error(`--routes: multiples of ${ROUTES_PER_SERVICE}`); break;
      case '--clients': o.clients = list(); break;
      case '--edits': o.edits = Math.max(1, int()); break;
      case '--warmup': o.warmup = int(); break;
      case '--no-peer': o.peer = false; break;
      case '--keep': o.keep = true; break;
      case '--idle-seconds': o.idleSeconds = Math.max(1, int()); break;
      case '--probe-every-ms': o.probeEveryMs = Math.max(1, int()); break;
      case '--cp-node-flags': o.cpFlags = value().split(' ').filter(Boolean); break;
      case '--peer-dir': o.peerDir = value(); break;
      case '--cpu-prof': o.cpuProf = resolve(value()); break;
      case '--soak': o.soak = int(); break;
      case '--soak-every': o.soakEvery = Math.max(1, int()); break;
      case '--heap-snapshots': o.heapSnapshots = resolve(value()); break;
      case '--help': process.stdout.write(`${readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]}*/\n`); process.exit(0); break;
      default: throw new Error(`unknown flag ${flag} (try --help)`);
    }
  }
  return o;
}

/**
 * Envoy's own time to apply each xDS update, per API: the `update_duration` histogram of its
 * subscriptions (RDS: http.<prefix>.rds.<name>.update_duration; CDS, LDS: cluster_manager.cds,
 * listener_manager.lds), p50 and p99 since Envoy started (its first full configuration is one
 * sample), in ms, from /stats?format=json. Empty when this Envoy does not keep the histogram.
 */
async function envoyUpdateDurations(adminUrl: string): Promise<Record<string, { p50: number; p99: number }>> {
  const out: Record<string, { p50: number; p99: number }> = {};
  try {
    const res = await fetch(`${adminUrl}/stats?format=json&filter=update_duration`);
    const body = await res.json() as { stats: { histograms?: { supported_quantiles: number[]; computed_quantiles: { name: string; values: { cumulative: number | null }[] }[] } }[] };
    for (const h of body.stats) {
      if (!h.histograms) continue;
      const q = h.histograms.supported_quantiles;
      for (const c of h.histograms.computed_quantiles) {
        const api = /\.(rds|cds|lds|eds|sds)\./.exec(`.${c.name}.`)?.[1];
        if (!api) continue;
        const at = (p: number) => Math.round((c.values[q.indexOf(p)]?.cumulative ?? Number.NaN) * 10) / 10;
        out[api] = { p50: at(50), p99: at(99) };
      }
    }
  } catch (e) {
    process.stderr.write(`${BENCH}: Envoy's update_duration not read: ${(e as Error).message}\n`);
  }
  return out;
}

const children: { name: string; stop: () => Promise<void> | void }[] = [];
async function stopAll(): Promise<void> {
  while (children.length) { const c = children.pop()!; try { await c.stop(); } catch (e) { process.stderr.write(`stopping ${c.name}: ${(e as Error).message}\n`); } }
}

function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(t); res(); });
    child.kill('SIGTERM');
  });
}

/** The go-xds-peer folder: --peer-dir, else ../shared/peers/go-xds-peer beside the project. */
function peerDir(o: Options, project: string): string | undefined {
  const candidates = [o.peerDir, join(project, '..', 'shared', 'peers', 'go-xds-peer'), '/work/shared/peers/go-xds-peer'].filter((x): x is string => !!x);
  return candidates.find((d) => existsSync(join(d, 'adsload', 'main.go')));
}

/**
 * Builds adsload and the go-control-plane server into `out` from a copy of the peer folder
 * (which may be read-only). The server resolves each Any's "@type" through Go's registry, so the
 * copy gets one more file linking in the Envoy extension packages the translation names
 * (`typeUrls`): a type added to the translation later needs no change to the peer.
 */
function buildPeer(dir: string, out: string, typeUrls: Iterable<string>): string | undefined {
  const src = join(out, 'src');
  cpSync(dir, src, { recursive: true });
  spawnSync('chmod', ['-R', 'u+w', src]);
  const pkgs = new Set<string>();
  for (const url of typeUrls) {
    const m = /^type\.googleapis\.com\/(envoy\.(?:extensions|config|type)\.[a-z0-9_.]+\.v3)\.[A-Z]\w*$/.exec(url);
    if (m) pkgs.add(`github.com/envoyproxy/go-control-plane/${m[1]!.replaceAll('.', '/')}`);
  }
  writeFileSync(join(src, 'server', 'register', 'translation_types.go'), `// Generated by bench/propagation/fleet.ts: the types the translation names in Any fields.\npackage register\n\nimport (\n${[...pkgs].sort().map((p) => `\t_ "${p}"\n`).join('')})\n`);
  const r = spawnSync('go', ['build', '-o', `${out}/`, './server', './adsload'], { cwd: src, encoding: 'utf8', timeout: 600_000, env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=mod -buildvcs=false`.trim() } });
  if (r.error) return `go build: ${r.error.message}`;
  if (r.status !== 0) return `go build exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`;
  return undefined;
}

/** Every "@type" in a translation's JSON. */
function typeUrlsOf(json: string): Set<string> {
  return new Set([...json.matchAll(/"@type":"([^"]+)"/g)].map((m) => m[1]!));
}

/** One adsload process: N simulated nodes on one server. */
class Load {
  private readonly waiters = new Map<string, (f: string[]) => void>();
  readonly proc: ChildProcess;

  constructor(bin: string, target: string, readonly n: number, prefix: string, logFile: string) {
    const log = openSync(logFile, 'a');
    this.proc = spawn(bin, ['-target', target, '-n', String(n), '-node-prefix', prefix], { stdio: ['pipe', 'pipe', log] });
    closeSync(log);
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      const f = l.split(' ');
      const key = f[0] === 'ready' ? 'ready' : `${f[0]} ${f[1]}`;
      this.waiters.get(key)?.(f);
      this.waiters.delete(key);
    });
  }

  wait(key: string, ms = 180_000): Promise<string[]> {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`adsload (${this.n}): no "${key}" in ${ms} ms`)), ms);
      this.waiters.set(key, (f) => { clearTimeout(t); res(f); });
    });
  }

  async arm(id: string, needle: string): Promise<void> {
    const w = this.wait(`armed ${id}`, 10_000);
    this.proc.stdin!.write(`arm ${id} ${needle}\n`);
    await w;
  }

  stop(): Promise<void> {
    this.proc.stdin!.end();
    return stopChild(this.proc, 2000);
  }
}

function get(port: number, path: string, host: string | undefined, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const q = http.request({ host: '127.0.0.1', port, path, headers: host ? { host } : {}, agent }, (s) => {
      let b = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => { b += d; });
      s.on('end', () => res({ status: s.statusCode ?? 0, body: b }));
    });
    q.setTimeout(2000, () => q.destroy(new Error('probe timed out')));
    q.on('error', rej);
    q.end();
  });
}

interface Sample {
  servedMs: number; allAckedMs: number; lastClientMs: number; cpuMs: number; envoyCpuMs: number; loadCpuMs: number;
  /**
   * From the new snapshot handed to the streams until every node ACKed: Frontdesk's "config
   * applied" log line (after read, compile and encode) to the last ACK; go-control-plane's
   * SetSnapshot to the last ACK (its allAckedMs). The serving side alone, on both.
   */
  pushMs: number;
  /** Frontdesk: the reload (read, compile, encode, hand-off), from its log line. */
  reloadMs: number;
  /** Not every simulated node ACKed the edit within 60 s. */
  missed: boolean;
  /**
   * Frontdesk: the edit's steps in ms since the rename, one clock (the control plane's `edit
   * timeline` log line, then the first request served with the new path).
   */
  timeline?: Record<string, number>;
}

/**
 * The control plane's `edit timeline` line for the edit renamed at `start` (epoch ms): its
 * steps as ms since the rename, the serving probe's answer last.
 */
function timelineOf(log: string, start: number, servedMs: number): Record<string, number> | undefined {
  const lines = log.trimEnd().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]!.includes('"edit timeline"')) continue;
    try {
      const j = JSON.parse(lines[i]!) as { at: number; steps: Record<string, number> };
      if (j.at < start - 5) return undefined;
      const out: Record<string, number> = { 'renamed (bench)': 0, 'fs event': round1(j.at - start) };
      for (const [step, ms] of Object.entries(j.steps)) out[step] = round1(j.at + ms - start);
      out['first request served (bench)'] = round1(servedMs);
      return out;
    } catch { return undefined; }
  }
  return undefined;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * p50 per step over the edits that have it, in time order; and the readable line: each step's
 * p50 since the rename, and what it adds to the step before.
 */
function timelineSummary(samples: Sample[]): { p50: Record<string, number>; edits: number; text: string } | undefined {
  const all = samples.map((x) => x.timeline).filter((t): t is Record<string, number> => t !== undefined);
  if (!all.length) return undefined;
  const steps = new Map<string, number[]>();
  for (const t of all) for (const [k, v] of Object.entries(t)) { if (!steps.has(k)) steps.set(k, []); steps.get(k)!.push(v); }
  const p50: Record<string, number> = Object.fromEntries([...steps].map(([k, v]): [string, number] => [k, summarize(v).p50]).sort((a, b) => a[1] - b[1]));
  let prev = 0;
  const text = Object.entries(p50).map(([k, v]) => { const d = v - prev; prev = v; return `${k} ${v.toFixed(1)} (+${d.toFixed(1)})`; }).join(' → ');
  return { p50, edits: all.length, text };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  printRunHeader(BENCH, RUN);
  const project = fileURLToPath(new URL('../../', import.meta.url));
  const envoyBin = findEnvoy();
  if (!envoyBin) throw new Error('no envoy binary: run `node scripts/install-envoy.mjs` or set ENVOY_BIN');
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-fleet-'));
  // --keep: the temp folder (logs, translations, the peer's build) stays, for a closer look.
  children.push({ name: 'temp folder', stop: () => { if (o.keep) process.stdout.write(`${BENCH}: kept ${dir}\n`); else rmSync(dir, { recursive: true, force: true }); } });
  const onSignal = () => { void stopAll().then(() => process.exit(130)); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const logger = silentLogger();

  // The peer and the load generator.
  const pdir = peerDir(o, project);
  const bin = join(dir, 'bin');
  const sample = compileConfig([{ file: 'gateway.yaml', text: genConfig('http://127.0.0.1:1', benchRoutes(DEFAULT_HOST_PATTERNS, 1), () => 'e0') }], { settings: DEFAULT_SETTINGS });
  const sampleTypes = typeUrlsOf(JSON.stringify(sample.translation ? [...sample.translation.fleets.values()].map((t) => [...t.values()].map((mm) => Object.fromEntries(mm))) : []));
  const buildError = pdir ? buildPeer(pdir, bin, sampleTypes) : 'no go-xds-peer folder (../shared/peers/go-xds-peer, or --peer-dir)';
  if (buildError) process.stdout.write(`${BENCH}: no Go load generator or peer (${buildError}): only N = 1, Frontdesk alone\n`);
  const peer = o.peer && !buildError;
  const servers: Server[] = peer ? ['fd', 'go'] : ['fd'];
  const clientCounts = buildError ? o.clients.filter((n) => n === 1) : o.clients;

  const upstream = await startDirectUpstream({ logger, bin: envoyBin });
  children.push({ name: 'upstream', stop: () => upstream.stop() });
  const cpOut = join(dir, 'cp');
  transpileTree(project, cpOut, ['src', 'bench/propagation/control-plane.ts']);
  const m = machine(envoyBin);
  const results: Record<string, unknown>[] = [];

  for (const [sizeIndex, size] of o.routes.entries()) {
    const services = size / ROUTES_PER_SERVICE;
    const routes = benchRoutes(DEFAULT_HOST_PATTERNS, services);
    const tokens = new Map(routes.map((r) => [r.name, 'e0']));
    const text = () => genConfig(upstream.url, routes, (r) => tokens.get(r.name)!);
    const [fdXds, fdAdmin, fdProxy, goXds, goCtl, goProxy] = await freePorts(6) as [number, number, number, number, number, number];
    const work = join(dir, `size-${size}`);
    mkdirSync(work);
    const configFile = join(work, 'gateway.yaml');
    /** Frontdesk's translation of a config as JSON ({CDS: {name: body}, ...}), what the Go server loads. */
    let jsonSeq = 0;
    const translated = (yaml: string): { file: string; envoyRoutes: number; rdsBytes: number } => {
      const c = compileConfig([{ file: configFile, text: yaml }], { settings: DEFAULT_SETTINGS });
      if (!c.ok || !c.translation) throw new Error(`the generated config does not compile:\n${c.diagnostics.map((d) => d.message).join('\n')}`);
      const types = c.translation.fleets.get(FLEET) ?? c.translation.fleets.get('')!;
      const out: Record<string, Record<string, unknown>> = {};
      for (const [typeUrl, mm] of types) out[shortType(typeUrl)] = Object.fromEntries(mm);
      const file = join(work, `edit-${jsonSeq++}.json`);
      const body = JSON.stringify(out);
      writeFileSync(file, body);
      const rds = Object.values(out.RDS ?? {}) as { virtual_hosts?: { routes?: unknown[] }[] }[];
      return { file, envoyRoutes: rds.reduce((n, r) => n + (r.virtual_hosts ?? []).reduce((k, v) => k + (v.routes?.length ?? 0), 0), 0), rdsBytes: JSON.stringify(out.RDS ?? {}).length };
    };
    const first = text();
    writeFileSync(configFile, first);
    const firstJson = translated(first);

    // Frontdesk's control plane.
    const cpLog = join(work, 'control-plane.log');
    const fdLogFd = openSync(cpLog, 'w');
    const fd = fork(join(cpOut, 'bench', 'propagation', 'control-plane.js'), [
      '--config', configFile, '--xds-port', String(fdXds), '--admin-port', String(fdAdmin), '--proxy-port', String(fdProxy), '--proxy-host', '127.0.0.1',
    ], {
      execArgv: ['--expose-gc', ...o.cpFlags, ...(o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(o.cpuProf, `routes-${size}`)] : [])],
      stdio: ['ignore', fdLogFd, fdLogFd, 'ipc'], env: { ...process.env, FRONTDESK_LOG_LEVEL: process.env.FRONTDESK_LOG_LEVEL ?? 'info' },
    });
    closeSync(fdLogFd);
    const fdStop = { name: `frontdesk (${size})`, stop: () => stopChild(fd, 8000) };
    children.push(fdStop);
    const ask = (req: ControlPlaneRequest) => new Promise<ControlPlaneReply>((res, rej) => {
      const t = setTimeout(() => rej(new Error('the control plane did not answer')), 60_000);
      fd.once('message', (r: ControlPlaneReply) => { clearTimeout(t); res(r); });
      fd.send(req);
    });
    await waitForHttp(`http://127.0.0.1:${fdAdmin}/readyz`, 90_000, () => fd.exitCode === null).catch((e: Error) => { throw new Error(`${e.message}\n${readFileSync(cpLog, 'utf8').slice(-3000)}`); });

    // go-control-plane.
    let go: ChildProcess | undefined;
    if (peer) {
      const goLog = openSync(join(work, 'go-control-plane.log'), 'w');
      go = spawn(join(bin, 'server'), ['-xds', `127.0.0.1:${goXds}`, '-ctl', `127.0.0.1:${goCtl}`, '-listener-port', String(goProxy), '-init', firstJson.file], { stdio: ['ignore', goLog, goLog] });
      closeSync(goLog);
      const g = go;
      children.push({ name: `go-control-plane (${size})`, stop: () => stopChild(g) });
      await waitForHttp(`http://127.0.0.1:${goCtl}/healthz`, 60_000, () => g.exitCode === null);
    }
    const pid: Record<Server, number> = { fd: fd.pid!, go: go?.pid ?? 0 };
    const proxy: Record<Server, number> = { fd: fdProxy, go: goProxy };

    // One real Envoy per server.
    const envoys = {} as Record<Server, EnvoyProcess>;
    for (const s of servers) {
      const e = await EnvoyProcess.start({ bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: s === 'fd' ? fdXds : goXds }, nodeId: `bench-envoy-${s}`, cluster: FLEET, adminPort: 0 }), logger, concurrency: 1, bin: envoyBin });
      children.push({ name: `Envoy ${s}`, stop: () => e.stop() });
      envoys[s] = e;
    }
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    children.push({ name: 'probe agent', stop: () => agent.destroy() });
    const served = (r?: { status: number; body: string }) => r?.status === 200 && r.body === upstream.body;
    const probe = (s: Server, r: BenchRoute, token: string) => get(proxy[s], requestPath(r, token), r.host ?? 'any.bench.test', agent).catch(() => undefined);
    for (const s of servers) await until(`Envoy of ${s} serving`, async () => served(await probe(s, routes[0]!, 'e0')), 120_000);
    await sleep(1000);
    const idleOneEnvoy = { fd: memoryOf(pid.fd)?.rssMiB, go: go ? memoryOf(pid.go)?.rssMiB : undefined };
    // A longer idle (--idle-seconds): RSS each second, what V8's idle-time collections give back.
    const idleSeries: { fd: number[]; go: number[] } = { fd: [idleOneEnvoy.fd ?? Number.NaN], go: go ? [idleOneEnvoy.go ?? Number.NaN] : [] };
    for (let t = 2; t <= o.idleSeconds; t++) {
      await sleep(1000);
      idleSeries.fd.push(memoryOf(pid.fd)?.rssMiB ?? Number.NaN);
      if (go) idleSeries.go.push(memoryOf(pid.go)?.rssMiB ?? Number.NaN);
    }
    const idleAfter = { fd: idleSeries.fd.at(-1), go: go ? idleSeries.go.at(-1) : undefined };
    const idleHeap = await ask({ cmd: 'heap' });
    if (o.heapSnapshots && sizeIndex === 0) { mkdirSync(o.heapSnapshots, { recursive: true }); const r = await ask({ cmd: 'heap-snapshot', dir: o.heapSnapshots }); process.stdout.write(`${BENCH}: heap snapshot at idle (1 Envoy): ${'snapshot' in r ? r.snapshot : '?'}\n`); }
    report(BENCH, `setup · ${size} routes`, {
      machine: m, run: RUN, routes: size, services, envoyRoutes: firstJson.envoyRoutes, rdsJsonBytes: firstJson.rdsBytes,
      servers: servers.map((s) => (s === 'fd' ? 'frontdesk control-plane (plain JS, one Node process)' : 'go-control-plane v0.14 (pkg/cache/v3 SnapshotCache, pkg/server/v3)')),
      loadGenerator: buildError ? 'none' : 'adsload (Go): one process per server, N SotW nodes, own gRPC connection each',
      idleRssMiBOneEnvoy: rounded(idleOneEnvoy), idleSeconds: o.idleSeconds, idleRssMiBOneEnvoyAfter: rounded(idleAfter), idleRssMiBSeries: { fd: idleSeries.fd.map((x) => Math.round(x * 10) / 10), ...(go ? { go: idleSeries.go.map((x) => Math.round(x * 10) / 10) } : {}) }, frontdeskHeapIdle: 'heap' in idleHeap ? idleHeap.heap : undefined,
    }, `${m.cores} cores, load ${RUN.loadAvg1AtStart} at start; ${size} routes / ${services} services → ${firstJson.envoyRoutes} Envoy routes; servers ${servers.join(', ')}; RSS with 1 Envoy 1 s after the start-up build: frontdesk ${idleOneEnvoy.fd?.toFixed(1)} MiB${go ? `, go-control-plane ${idleOneEnvoy.go?.toFixed(1)} MiB` : ''}${o.idleSeconds > 1 ? `; idle (after ${o.idleSeconds} s): frontdesk ${idleAfter.fd?.toFixed(1)} MiB${go ? `, go-control-plane ${idleAfter.go?.toFixed(1)} MiB` : ''}` : ''}${'heap' in idleHeap ? ` (frontdesk heap ${idleHeap.heap.heapUsedMiB} MiB used after GC)` : ''}`);

    /** The control plane's last "config applied" log line at or after `since` (epoch ms). */
    const lastApplied = (since: number): { time: number; ms: number } | undefined => {
      const lines = readFileSync(cpLog, 'utf8').trimEnd().split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        if (!lines[i]!.includes('"config applied"')) continue;
        try { const j = JSON.parse(lines[i]!) as { time: number; ms: number }; return j.time >= since ? j : undefined; } catch { return undefined; }
      }
      return undefined;
    };
    let editNo = 0;
    /** One edit of one route, to one server; resolves when the Envoy serves it and every node ACKed it. */
    const edit = async (s: Server, load: Load | undefined, yaml: string, json: string, r: BenchRoute, token: string): Promise<Sample> => {
      const id = `${s}-${++editNo}`;
      if (load) await load.arm(id, requestPath(r, token).replace(/\/42$/, ''));
      const reached = load?.wait(`reached ${id}`, 60_000);
      const c0 = { cp: cpuSecondsOf(pid[s]), envoy: cpuSecondsOf(envoys[s].pid!), load: load ? cpuSecondsOf(load.proc.pid!) : 0 };
      let start: number;
      if (s === 'fd') {
        const tmp = `${configFile}.tmp`;
        writeFileSync(tmp, yaml);
        start = wallMs();
        renameSync(tmp, configFile);
      } else {
        const res = await fetch(`http://127.0.0.1:${goCtl}/load?file=${encodeURIComponent(json)}`, { method: 'POST' });
        const j = await res.json() as { setUnixNs: number };
        start = j.setUnixNs / 1e6;
      }
      let servedAt = Number.NaN;
      for (const end = Date.now() + 60_000; Date.now() < end;) {
        if (served(await probe(s, r, token))) { servedAt = wallMs(); break; }
        await sleep(o.probeEveryMs);
      }
      if (Number.isNaN(servedAt)) throw new Error(`${s}: Envoy did not serve the edit in 60 s`);
      // Not every node ACKed within the minute: the sample counts as missed, the run goes on.
      const f = reached ? await reached.catch(() => undefined) : undefined;
      const missed = reached !== undefined && f === undefined;
      const last = f ? Number(f[2]) / 1e6 : Number.NaN;
      await sleep(300);
      const servedMs = servedAt - start;
      const lastClientMs = last - start;
      const allAckedMs = missed ? Number.NaN : Number.isNaN(lastClientMs) ? servedMs : Math.max(servedMs, lastClientMs);
      let pushMs = allAckedMs;
      let reloadMs = Number.NaN;
      let timeline: Record<string, number> | undefined;
      if (s === 'fd') {
        const applied = lastApplied(start);
        pushMs = applied ? start + allAckedMs - applied.time : Number.NaN;
        reloadMs = applied?.ms ?? Number.NaN;
        timeline = timelineOf(readFileSync(cpLog, 'utf8'), start, servedMs);
      }
      return {
        servedMs, lastClientMs, allAckedMs, pushMs, reloadMs, missed, timeline,
        cpuMs: (cpuSecondsOf(pid[s]) - c0.cp) * 1000, envoyCpuMs: (cpuSecondsOf(envoys[s].pid!) - c0.envoy) * 1000,
        loadCpuMs: load ? (cpuSecondsOf(load.proc.pid!) - c0.load) * 1000 : 0,
      };
    };

    let k = 0;
    for (const n of clientCounts) {
      const loads = {} as Record<Server, Load | undefined>;
      if (n > 1) {
        const began = Date.now();
        for (const s of servers) loads[s] = new Load(join(bin, 'adsload'), `127.0.0.1:${s === 'fd' ? fdXds : goXds}`, n, `${s}-sim`, join(work, `adsload-${s}-${n}.log`));
        const late = (await Promise.all(servers.map((s) => loads[s]!.wait('ready').then(() => undefined, () => s)))).filter((x) => x !== undefined);
        if (late.length) {
          // Not every node got its first config in time (a loaded machine): this N is skipped, the run goes on.
          process.stdout.write(`${BENCH}: ${size} routes: N=${n} skipped: the simulated nodes of ${late.join(' and ')} did not all get a first config in 180 s\n`);
          for (const s of servers) await loads[s]?.stop();
          continue;
        }
        process.stdout.write(`${BENCH}: ${size} routes: ${n} simulated nodes connected to ${servers.join(' and ')} in ${Date.now() - began} ms\n`);
        await sleep(2000);
      }
      const idle = Object.fromEntries(servers.map((s) => [s, memoryOf(pid[s])?.rssMiB]));
      const heapAtN = await ask({ cmd: 'heap' });
      if (o.heapSnapshots && n > 1 && n === Math.max(...clientCounts)) { mkdirSync(o.heapSnapshots, { recursive: true }); const r = await ask({ cmd: 'heap-snapshot', dir: o.heapSnapshots }); process.stdout.write(`${BENCH}: heap snapshot with ${n} simulated nodes: ${'snapshot' in r ? r.snapshot : '?'}\n`); }
      const samples: Record<Server, Sample[]> = { fd: [], go: [] };
      const peak: Record<Server, number> = { fd: 0, go: 0 };
      const sampler = setInterval(() => { for (const s of servers) peak[s] = Math.max(peak[s], memoryOf(pid[s])?.rssMiB ?? 0); }, 50);
      for (let j = 0; j < o.warmup + o.edits; j++) {
        k++;
        const r = routes[(k * 211 + sizeIndex) % routes.length]!;
        const token = `e${k}`;
        tokens.set(r.name, token);
        const yaml = text();
        const json = peer ? translated(yaml).file : '';
        for (const s of (k % 2 ? servers : [...servers].reverse())) {
          const x = await edit(s, loads[s], yaml, json, r, token);
          if (j >= o.warmup) samples[s].push(x);
          process.stderr.write(`${BENCH}: ${size} routes N=${n} edit ${k} ${s}: ${JSON.stringify(rounded(x))}\n`);
        }
      }
      clearInterval(sampler);
      const figures: Record<string, unknown> = { routes: size, nodes: n === 1 ? 1 : n + 1, simulatedNodes: n === 1 ? 0 : n, edits: o.edits, warmup: o.warmup };
      const envoyApply: Record<string, unknown> = {};
      for (const s of servers) envoyApply[s] = await envoyUpdateDurations(envoys[s].adminUrl);
      const lines: string[] = [];
      const sum = (v: Sample[], f: (x: Sample) => number): Summary => rounded(summarize(v.map(f).filter((x) => Number.isFinite(x))));
      for (const s of servers) {
        const v = samples[s];
        const mean = (f: (x: Sample) => number) => Math.round(v.reduce((a, x) => a + f(x), 0) / (v.length || 1));
        const timeline = s === 'fd' ? timelineSummary(v) : undefined;
        figures[s] = {
          servedMs: sum(v, (x) => x.servedMs), allAckedMs: sum(v, (x) => x.allAckedMs), pushMs: sum(v, (x) => x.pushMs),
          ...(s === 'fd' ? { reloadMs: sum(v, (x) => x.reloadMs) } : {}),
          ...(timeline ? { timelineP50Ms: timeline.p50, timelineEdits: timeline.edits } : {}),
          editsNotAllAckedIn60s: v.filter((x) => x.missed).length,
          cpuMsPerEdit: mean((x) => x.cpuMs), envoyCpuMsPerEdit: mean((x) => x.envoyCpuMs), loadGeneratorCpuMsPerEdit: mean((x) => x.loadCpuMs),
          rssIdleMiB: rounded({ v: idle[s] ?? Number.NaN }).v, rssPeakMiB: rounded({ v: peak[s] }).v,
          ...(s === 'fd' && 'heap' in heapAtN ? { heapIdleAfterGc: heapAtN.heap } : {}),
          envoyUpdateMs: envoyApply[s],
        };
        const f = figures[s] as { servedMs: Summary; allAckedMs: Summary; pushMs: Summary; cpuMsPerEdit: number; rssIdleMiB: number; rssPeakMiB: number };
        const apply = envoyApply[s] as Record<string, { p50: number; p99: number }>;
        const applyText = Object.entries(apply).map(([api, q]) => `${api} p50 ${q.p50} / p99 ${q.p99} ms`).join(', ');
        if (timeline) lines.push(`frontdesk edit timeline, p50 of ${timeline.edits} edits, ms since the rename (+ since the step before): ${timeline.text}`);
        lines.push(`${s === 'fd' ? 'frontdesk' : 'go-control-plane'}: served ${formatSummary(f.servedMs)}, all ${n === 1 ? 1 : n + 1} ACKed ${formatSummary(f.allAckedMs)} (push alone p50 ${f.pushMs.p50} / p99 ${f.pushMs.p99} ms), CPU ${f.cpuMsPerEdit} ms/edit, RSS idle ${f.rssIdleMiB} / peak ${f.rssPeakMiB} MiB${applyText ? `; its Envoy's own update_duration (cumulative since start) ${applyText}` : ''}${v.some((x) => x.missed) ? `, ${v.filter((x) => x.missed).length} edit(s) not ACKed by every node in 60 s` : ''}`);
      }
      if (peer) {
        const a = figures.fd as { servedMs: Summary; allAckedMs: Summary; pushMs: Summary; cpuMsPerEdit: number; rssPeakMiB: number };
        const b = figures.go as typeof a;
        const ratio = (x: number, y: number) => (y ? Math.round((x / y) * 100) / 100 : Number.NaN);
        figures.frontdeskOverGo = {
          allAckedP50: ratio(a.allAckedMs.p50, b.allAckedMs.p50), allAckedP99: ratio(a.allAckedMs.p99, b.allAckedMs.p99),
          pushP50: ratio(a.pushMs.p50, b.pushMs.p50), pushP99: ratio(a.pushMs.p99, b.pushMs.p99),
          servedP50: ratio(a.servedMs.p50, b.servedMs.p50), cpuPerEdit: ratio(a.cpuMsPerEdit, b.cpuMsPerEdit), rssPeak: ratio(a.rssPeakMiB, b.rssPeakMiB),
        };
        const q = figures.frontdeskOverGo as Record<string, number>;
        lines.push(`frontdesk/go: all ACKed (edit → last ACK; Frontdesk's includes read+compile) p50 ${q.allAckedP50}× p99 ${q.allAckedP99}× [target ≤ ${TARGETS.ratio}×]; push alone p50 ${q.pushP50}× p99 ${q.pushP99}×; CPU ${q.cpuPerEdit}×, RSS ${q.rssPeak}×`);
      }
      figures.targets = TARGETS;
      const mk = marks(RUN);
      figures.run = { command: RUN.command, commit: RUN.commit, loadAvg1AtStart: RUN.loadAvg1AtStart, busyAtStart: RUN.busy, loadAvg1AtEnd: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]) };
      figures.marked = mk.length > 0;
      results.push(figures);
      report(BENCH, `one-route edit · ${size} routes · N=${n}`, figures, `${lines.join('; ')}${markText(mk)}`);
      for (const s of servers) await loads[s]?.stop();
      if (n > 1) await sleep(1000);
    }

    // The soak: many edits, the heap sampled.
    if (o.soak > 0 && sizeIndex === 0) {
      const heap: { edit: number; heapUsedMiB: number; rssMiB: number; externalMiB: number }[] = [];
      const sample = async (edit: number) => { const r = await ask({ cmd: 'heap' }); if ('heap' in r) heap.push({ edit, heapUsedMiB: r.heap.heapUsedMiB, rssMiB: r.heap.rssMiB, externalMiB: r.heap.externalMiB }); };
      await sample(0);
      const began = Date.now();
      for (let j = 1; j <= o.soak; j++) {
        k++;
        const r = routes[(k * 211) % routes.length]!;
        const token = `e${k}`;
        tokens.set(r.name, token);
        await edit('fd', undefined, text(), '', r, token);
        if (j % o.soakEvery === 0) await sample(j);
      }
      const base = heap.find((h) => h.edit >= o.soakEvery) ?? heap[0]!;
      const lastH = heap[heap.length - 1]!;
      const figures = { routes: size, edits: o.soak, sampledEvery: o.soakEvery, heap, heapGrowthMiB: Math.round((lastH.heapUsedMiB - base.heapUsedMiB) * 10) / 10, rssGrowthMiB: Math.round((lastH.rssMiB - base.rssMiB) * 10) / 10, wallS: Math.round((Date.now() - began) / 1000), run: { command: RUN.command, commit: RUN.commit, loadAvg1AtStart: RUN.loadAvg1AtStart } };
      report(BENCH, `soak · ${o.soak} one-route edits · ${size} routes · 1 Envoy`, figures,
        `heap used after GC ${heap.map((h) => h.heapUsedMiB).join(' → ')} MiB (every ${o.soakEvery} edits); growth after the first ${o.soakEvery}: heap ${figures.heapGrowthMiB} MiB, RSS ${figures.rssGrowthMiB} MiB (${base.rssMiB} → ${lastH.rssMiB})${markText(marks(RUN))}`);
      if (o.heapSnapshots) { const r = await ask({ cmd: 'heap-snapshot', dir: o.heapSnapshots }); process.stdout.write(`${BENCH}: heap snapshot after the soak: ${'snapshot' in r ? r.snapshot : '?'}\n`); }
    }
    // This size's processes stop before the next size starts.
    while (children.length > 2) { const c = children.pop()!; try { await c.stop(); } catch (e) { process.stderr.write(`stopping ${c.name}: ${(e as Error).message}\n`); } }
  }
  process.stdout.write(`${BENCH}: done; ${results.length} figure sets${o.cpuProf ? `; CPU profiles in ${o.cpuProf}/routes-*/ (node --import tsx bench/support/cpuprofile.ts FILE)` : ''}\n`);
}

main().then(
  async () => { await stopAll(); process.exit(0); },
  async (e: unknown) => { process.stderr.write(`${BENCH}: ${(e as Error).stack ?? String(e)}\n`); await stopAll(); process.exit(1); },
);
