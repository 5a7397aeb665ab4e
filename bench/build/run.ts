/**
 * The build benchmark: what a config edit costs the control plane, in the same run against a
 * baseline. Printed, never pass/fail; one JSON line and one readable line per figure set.
 *
 * 1. `incremental`: a one-route edit at 1,000 and 3,000 Kong routes (bench/propagation's
 *    config), built with the previous build's cache (CompileCache: load, IR, translate with the
 *    unchanged routes reused, checks and encoding of the changed ones only) against a build
 *    from nothing, same edits. Figures: load → snapshot, ms per edit.
 * 2. `event-loop`: a 20,000-route build on the event loop (compileConfig + buildSnapshot, as the
 *    control plane did) against the same build on the worker thread (OffLoopBuilder), with the
 *    event loop's delay sampled meanwhile (perf_hooks monitorEventLoopDelay, 10 ms resolution):
 *    p99 and max are how long xDS, /healthz and the companions' streams could not be answered.
 * 3. `companion-policy`: edit → the authz companion holds the new policy, through a real
 *    ControlPlane watching the file (debounce, build, ADS push) and a
 *    companion client (src/xds/companion-client.ts) on loopback, at 1,000 routes.
 *
 *   node --import tsx bench/build/run.ts [--routes 20000] [--edits 15] [--skip-big]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { policiesProblem, consumersProblem } from '../../src/authz/policy.js';
import { AUTHZ_TYPE, type AuthzMessages } from '../../src/contracts/authz.js';
import { DEFAULT_IR_OPTIONS } from '../../src/ir/build.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { CompileCache, compileConfig, describeErrors } from '../../src/runtime/compile.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { OffLoopBuilder } from '../../src/runtime/off-loop-build.js';
import { startCompanionClient } from '../../src/xds/companion-client.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
import { benchRoutes, genConfig, ROUTES_PER_SERVICE, SERVICES, type BenchRoute } from '../propagation/gen-config.js';
import { until } from '../support/net.js';
import { markText, marks, printRunHeader, runInfo } from '../support/run-info.js';
import { summarize } from '../support/stats.js';

const { values: args } = parseArgs({
  options: { routes: { type: 'string', default: '20000' }, edits: { type: 'string', default: '15' }, 'skip-big': { type: 'boolean', default: false } },
});
const BIG = Number(args.routes);
const EDITS = Number(args.edits);
const settings: TranslateSettings = { ...DEFAULT_SETTINGS, credentialSalt: 'bench-build' };
const run = runInfo();
const round = (n: number) => Math.round(n * 10) / 10;

function print(set: string, figures: Record<string, unknown>, line: string): void {
  const m = marks(run);
  process.stdout.write(`${JSON.stringify({ bench: 'build', set, ...figures, marks: m })}\n`);
  process.stdout.write(`build · ${set} · ${line}${markText(m)}\n`);
}

/** bench/propagation's routes, repeated in blocks of 1,000 (services renamed per block) up to `n`. */
function routesOf(n: number): BenchRoute[] {
  const base = benchRoutes();
  const out: BenchRoute[] = [];
  for (let k = 0; out.length < n; k++) {
    for (const r of base) {
      if (out.length >= n) break;
      out.push({ ...r, service: r.service + k * SERVICES, name: `b${k}-${r.name}` });
    }
  }
  return out;
}

function configText(routes: BenchRoute[], edited?: string, token = 'g0'): string {
  return genConfig('http://127.0.0.1:9', routes, (r) => (r.name === edited ? token : 'g0'));
}

/** One-route edits, cached build against build from nothing, at `n` routes. */
function incremental(n: number): void {
  const routes = routesOf(n);
  const cache = new CompileCache();
  let prevCached: Snapshot | undefined;
  let prevFull: Snapshot | undefined;
  const build = (text: string, withCache: boolean) => {
    const t0 = performance.now();
    const c = compileConfig([{ file: 'gateway.yaml', text }], { settings, ...(withCache ? { cache } : {}) });
    if (!c.ok) throw new Error(describeErrors(c));
    const s = withCache ? buildSnapshot(c.translation!, 0, prevCached, cache.encoder.encode) : buildSnapshot(c.translation!, 0, prevFull);
    if (withCache) prevCached = s; else prevFull = s;
    return { ms: performance.now() - t0, version: s.version };
  };
  build(configText(routes), true);
  build(configText(routes), false);
  const cached: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const text = configText(routes, routes[(i * 397) % routes.length]!.name, `e${i}`);
    // Alternate which goes first, so neither always runs on a warmer heap.
    const a = i % 2 ? build(text, false) : build(text, true);
    const b = i % 2 ? build(text, true) : build(text, false);
    if (a.version !== b.version) throw new Error(`edit ${i}: the cached build's version ${a.version} differs from the full build's ${b.version}`);
    (i % 2 ? full : cached).push(a.ms);
    (i % 2 ? cached : full).push(b.ms);
  }
  const c = summarize(cached);
  const f = summarize(full);
  print(`incremental-${n}`, {
    routes: n, kongRoutes: n, edits: EDITS,
    cachedMs: { p50: round(c.p50), p90: round(c.p90), max: round(c.max) },
    fullMs: { p50: round(f.p50), p90: round(f.p90), max: round(f.max) },
    ratioP50: round(c.p50 / f.p50 * 100) / 100,
  }, `${n} routes, one-route edit (load → snapshot): cached p50 ${round(c.p50)} ms (p90 ${round(c.p90)}) vs from nothing p50 ${round(f.p50)} ms (p90 ${round(f.p90)}), ${EDITS} edits each, same versions`);
}

/** The event loop's delay while `work` runs (and for 200 ms around it). */
async function loopDelayDuring(work: () => Promise<unknown> | unknown): Promise<{ p50: number; p99: number; max: number; ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 100));
  h.disable();
  const toMs = (ns: number) => round(ns / 1e6);
  return { p50: toMs(h.percentile(50)), p99: toMs(h.percentile(99)), max: toMs(h.max), ms: round(ms) };
}

async function eventLoop(n: number): Promise<void> {
  const routes = routesOf(n);
  const text = configText(routes);
  const texts = [{ file: 'gateway.yaml', text }];
  const onLoop = await loopDelayDuring(() => {
    const c = compileConfig(texts, { settings });
    if (!c.ok) throw new Error(describeErrors(c));
    return buildSnapshot(c.translation!, 0);
  });
  const builder = new OffLoopBuilder();
  let version = '';
  const offLoop = await loopDelayDuring(async () => {
    const r = await builder.build(texts, { settings, ir: DEFAULT_IR_OPTIONS }, 0);
    if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
    version = r.snapshot!.version;
  });
  // A one-route edit on the worker thread, which keeps its cache.
  const edit = await loopDelayDuring(async () => {
    const r = await builder.build([{ file: 'gateway.yaml', text: configText(routes, routes[7]!.name, 'e1') }], { settings, ir: DEFAULT_IR_OPTIONS }, 0);
    if (!r.ok || r.snapshot!.version === version) throw new Error('the edit did not build a new version');
  });
  await builder.close();
  print(`event-loop-${n}`, { routes: n, onLoop, offLoop, offLoopEdit: edit }, `${n}-route build: event-loop delay p99/max on the loop ${onLoop.p99}/${onLoop.max} ms (build ${onLoop.ms} ms) vs on the worker thread ${offLoop.p99}/${offLoop.max} ms (build ${offLoop.ms} ms); a one-route edit then: ${edit.ms} ms, delay max ${edit.max} ms`);
}

/** Edit → the authz companion holds the new credential, through a watching ControlPlane. */
async function companionPolicy(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-build-'));
  const file = join(dir, 'gateway.yaml');
  const routes = routesOf(n);
  const withKey = (key: string) => `${configText(routes)}  - name: protected\n    url: http://127.0.0.1:9/p\n    routes:\n      - name: protected\n        paths: [/protected]\n        plugins:\n          - name: key-auth\nconsumers:\n  - username: alice\n    keyauth_credentials:\n      - key: ${key}\n`;
  writeFileSync(file, withKey('k0'));
  const cp = new ControlPlane({
    configPath: file, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 },
    settings, ir: DEFAULT_IR_OPTIONS, logger: silentLogger(),
  });
  const { xdsPort } = await cp.start();
  let held = '';
  let heldAt = 0;
  const client = startCompanionClient<AuthzMessages>({
    name: 'bench-authz', xds: { host: '127.0.0.1', port: xdsPort }, nodeId: 'bench-build-authz', logger: silentLogger(),
    types: { [AUTHZ_TYPE.consumer]: consumersProblem, [AUTHZ_TYPE.routePolicy]: policiesProblem },
    apply(resources) {
      const consumers = [...(resources.get(AUTHZ_TYPE.consumer)?.values() ?? [])] as { keyauth?: { hash?: string }[] }[];
      held = JSON.stringify(consumers);
      heldAt = performance.now();
      return undefined;
    },
  });
  try {
    await until('the companion holds the first policy', () => (held ? true : undefined), 120_000);
    const samples: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      const before = held;
      await until('the control plane is idle', () => (cp.reloadCount >= i ? true : undefined), 120_000).catch(() => undefined);
      const t0 = performance.now();
      writeFileSync(file, withKey(`k${i}`));
      await until(`edit ${i} reaches the companion`, () => (held !== before ? true : undefined), 120_000);
      samples.push(heldAt - t0);
    }
    const s = summarize(samples);
    print(`companion-policy-${n}`, { routes: n, edits: EDITS, ms: { p50: round(s.p50), p90: round(s.p90), max: round(s.max) } },
      `${n} routes: edit of a consumer's key → the authz companion holds it: p50 ${round(s.p50)} ms, p90 ${round(s.p90)} ms, max ${round(s.max)} ms (${EDITS} edits; file watch, debounce, build, ADS)`);
  } finally {
    client.close();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

printRunHeader('build', run);
print('config', { services: SERVICES, routesPerService: ROUTES_PER_SERVICE }, `bench/propagation's config (${SERVICES} services × ${ROUTES_PER_SERVICE} routes per 1,000), repeated in blocks for more routes`);
incremental(1000);
incremental(3000);
await companionPolicy(1000);
if (!args['skip-big']) await eventLoop(BIG);
