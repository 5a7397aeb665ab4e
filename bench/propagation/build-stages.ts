/**
 * Where a one-route edit's build time goes, stage by stage, in one warm process with the
 * control plane's cache: the watcher's parse (parseYamlAhead), then compileConfig's own stages
 * (load, files, IR, translate, Envoy's checks), then the snapshot (encode, versions). With
 * `--baseline DIR` (another checkout of the project, e.g. main's), the same edits are built by
 * that checkout's code too, interleaved (one of each per edit, each with its own cache), so the
 * two sets of figures share the machine's load. CPU milliseconds per edit (user + system, of
 * the whole process: the build runs on this thread alone) are printed beside wall time.
 * Prints figures; never fails on them.
 *
 *   node --max-semi-space-size=1 --import tsx bench/propagation/build-stages.ts \
 *     [--routes 1000] [--edits 150] [--warmup 5] [--baseline /path/to/other/checkout]
 *     [--idle-seconds 20 --idle-edits 8] [--gap-ms 1000 [--gap-spin]] [--profile edits.cpuprofile]
 *
 * `--profile FILE` writes a V8 CPU profile (.cpuprofile, for Chrome's DevTools) of the measured
 * edits only: the warm-up and the first build from nothing are not in it.
 * `--gap-spin` keeps the thread busy through each gap instead of sleeping (a measurement, not
 * what a control plane does): it tells what an idle CPU costs the edit after it (caches, clock)
 * from what the idle spell costs inside V8 (its memory reducer and idle-time tasks run only when
 * the loop sleeps).
 * `--gap-ms N` waits N ms with nothing to do before each edit, as edits through the control plane
 * come (the fleet benchmark's are a second or more apart), against back to back by default.
 * `--idle-seconds N` then waits N s with nothing to do after the measured edits and makes
 * `--idle-edits` more (default 8), printed one by one: an operator's edit after a quiet spell,
 * against the warm edits before it (V8's memory reducer shrinks the heap while idle).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { markText, marks, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { machine, report, rounded, summarize } from '../support/stats.js';
import { benchRoutes, DEFAULT_HOST_PATTERNS, genConfig, ROUTES_PER_SERVICE } from './gen-config.js';

const BENCH = 'propagation-build-stages';
const RUN = runInfo();
const STAGES = ['parse', 'load', 'files', 'ir', 'translate', 'check', 'snapshot', 'total', 'cpu'] as const;
type Stage = (typeof STAGES)[number];

/** One checkout's build: its modules, its cache, its last snapshot. */
interface Arm {
  label: string;
  edit(src: { file: string; text: string }): Record<Stage, number>;
  samples: Record<Stage, number[]>;
}

async function arm(label: string, root: string): Promise<Arm> {
  const mod = async <T>(p: string) => (await import(pathToFileURL(resolve(root, p)).href)) as T;
  const { DEFAULT_IR_OPTIONS } = await mod<typeof import('../../src/ir/build.js')>('src/ir/build.ts');
  const { parseYamlAhead } = await mod<typeof import('../../src/model/yaml-source.js')>('src/model/yaml-source.ts');
  const { DEFAULT_SETTINGS } = await mod<typeof import('../../src/resources/filters/registry.js')>('src/resources/filters/registry.ts');
  const { CompileCache, compileConfig } = await mod<typeof import('../../src/runtime/compile.js')>('src/runtime/compile.ts');
  const { buildSnapshot } = await mod<typeof import('../../src/xds/snapshot.js')>('src/xds/snapshot.ts');
  const cache = new CompileCache();
  const options = { settings: DEFAULT_SETTINGS, ir: DEFAULT_IR_OPTIONS, cache };
  let snap: ReturnType<typeof buildSnapshot> | undefined;
  const samples = Object.fromEntries(STAGES.map((s) => [s, [] as number[]])) as Record<Stage, number[]>;
  return {
    label,
    samples,
    edit(src) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      parseYamlAhead(src);
      const t1 = performance.now();
      const c = compileConfig([src], options);
      if (!c.translation) throw new Error(`${label}: ${c.diagnostics.map((d) => d.message).join('\n')}`);
      const t2 = performance.now();
      snap = buildSnapshot(c.translation, 0, snap, cache.encoder.encode);
      const t3 = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const t = c.timings ?? {};
      return {
        parse: t1 - t0, load: t.load ?? 0, files: t.files ?? 0, ir: t.ir ?? 0, translate: t.translate ?? 0, check: t.check ?? 0,
        snapshot: t3 - t2, total: t3 - t0, cpu: (cpu.user + cpu.system) / 1000,
      };
    },
  };
}

function stringFlag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const size = numberFlag('routes', 1000);
  const edits = numberFlag('edits', 150);
  const warmup = numberFlag('warmup', 5);
  const baseline = stringFlag('baseline');
  const gapMs = numberFlag('gap-ms', 0);
  printRunHeader(BENCH, RUN);
  const arms = [await arm('this', process.cwd()), ...(baseline ? [await arm('baseline', baseline)] : [])];
  const routes = benchRoutes(DEFAULT_HOST_PATTERNS, size / ROUTES_PER_SERVICE);
  const tokens = new Map(routes.map((r) => [r.name, 'g0']));
  const gapSpin = process.argv.includes('--gap-spin');
  const profile = stringFlag('profile');
  const inspector = profile ? new Session() : undefined;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((ok, fail) => inspector!.post(method, params ?? {}, (e, r) => (e ? fail(e) : ok(r))));
  if (inspector) {
    inspector.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 100 });
  }
  for (let i = 0; i < warmup + edits + 1; i++) {
    if (inspector && i === warmup + 1) await post('Profiler.start');
    if (i > 0) tokens.set(routes[(i * 211) % routes.length]!.name, `e${i}`);
    if (gapMs > 0 && i > 0 && gapSpin) for (const end = performance.now() + gapMs; performance.now() < end;);
    else if (gapMs > 0 && i > 0) await new Promise((r) => setTimeout(r, gapMs));
    const src = { file: 'gateway.yaml', text: genConfig('http://127.0.0.1:1', routes, (r) => tokens.get(r.name)!) };
    // Alternate which arm goes first, so neither always runs right after the text is made.
    for (const a of i % 2 ? [...arms].reverse() : arms) {
      const row = a.edit(src);
      if (i > warmup) for (const s of STAGES) a.samples[s].push(row[s]);
    }
  }
  if (inspector) {
    const { profile: p } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(profile!, JSON.stringify(p));
    inspector.disconnect();
  }
  const idleSeconds = numberFlag('idle-seconds', 0);
  const idleEdits = numberFlag('idle-edits', 8);
  const afterIdle = new Map(arms.map((a) => [a, [] as number[]]));
  if (idleSeconds > 0) {
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    for (let j = 1; j <= idleEdits; j++) {
      const i = warmup + edits + j;
      tokens.set(routes[(i * 211) % routes.length]!.name, `e${i}`);
      const src = { file: 'gateway.yaml', text: genConfig('http://127.0.0.1:1', routes, (r) => tokens.get(r.name)!) };
      for (const a of j % 2 ? [...arms].reverse() : arms) afterIdle.get(a)!.push(a.edit(src).total);
    }
  }
  const mk = marks(RUN);
  const figures: Record<string, unknown> = { routes: size, edits, warmup, gapMs, gapSpin, machine: machine(), nodeFlags: process.execArgv.filter((f, i, all) => f !== '--import' && all[i - 1] !== '--import') };
  const lines: string[] = [];
  for (const a of arms) {
    const per = Object.fromEntries(STAGES.map((s) => { const x = rounded(summarize(a.samples[s]), 2); return [s, { p50: x.p50, p90: x.p90, p99: x.p99 }]; }));
    figures[a.label] = per;
    lines.push(`${a.label}: ${STAGES.map((s) => `${s} ${per[s]!.p50}/${per[s]!.p90}`).join(', ')}`);
    if (idleSeconds > 0) {
      const totals = afterIdle.get(a)!.map((x) => Math.round(x * 10) / 10);
      figures[`${a.label}AfterIdle`] = { idleSeconds, totalMs: totals };
      lines.push(`${a.label}, the ${idleEdits} edits after ${idleSeconds} s idle, total ms each: ${totals.join(' ')}`);
    }
  }
  if (baseline) figures.baselineRoot = baseline;
  figures.run = { command: RUN.command, commit: RUN.commit, loadAvg1AtStart: RUN.loadAvg1AtStart, busyAtStart: RUN.busy };
  figures.marked = mk.length > 0;
  report(BENCH, `one-route edit · ${size} routes`, figures, `one-route edit at ${size} routes, ms p50/p90 per stage (cpu: process CPU ms per edit) · ${lines.join(' · ')}${markText(mk)}`);
}

main().then(() => process.exit(0), (e: unknown) => { process.stderr.write(`${BENCH}: ${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
