/**
 * Where a one-route edit is built: on the event loop (compileConfig + buildSnapshot with the
 * control plane's cache, the watcher's parse taken, as the control plane does for an edit
 * expected to be quick) against the worker thread (OffLoopBuilder: the texts over, the thread's
 * own parse and build with its cache, the encoded resources and the serialized IR and model
 * back). The same edits, interleaved (one of each per edit), in one process; the time from the
 * text in hand to the snapshot in hand. Prints figures; never fails on them.
 *
 *   node --import tsx bench/propagation/build-place.ts [--routes 1000] [--edits 20] [--warmup 4]
 */
import { DEFAULT_IR_OPTIONS } from '../../src/ir/build.js';
import { parseYamlAhead } from '../../src/model/yaml-source.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { CompileCache, compileConfig } from '../../src/runtime/compile.js';
import { OffLoopBuilder } from '../../src/runtime/off-loop-build.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
import { markText, marks, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { formatSummary, machine, report, rounded, summarize } from '../support/stats.js';
import { benchRoutes, DEFAULT_HOST_PATTERNS, genConfig, ROUTES_PER_SERVICE } from './gen-config.js';

const BENCH = 'propagation-build-place';
const RUN = runInfo();

async function main(): Promise<void> {
  const size = numberFlag('routes', 1000);
  const edits = numberFlag('edits', 20);
  const warmup = numberFlag('warmup', 4);
  printRunHeader(BENCH, RUN);
  const routes = benchRoutes(DEFAULT_HOST_PATTERNS, size / ROUTES_PER_SERVICE);
  const tokens = new Map(routes.map((r) => [r.name, 'g0']));
  const text = () => genConfig('http://127.0.0.1:1', routes, (r) => tokens.get(r.name)!);
  const options = { settings: DEFAULT_SETTINGS, ir: DEFAULT_IR_OPTIONS };
  const cache = new CompileCache();
  const thread = new OffLoopBuilder();
  let onLoop: Snapshot | undefined;
  let offLoop: Snapshot | undefined;
  const loopMs: number[] = [];
  const threadMs: number[] = [];
  let first = { loop: 0, thread: 0 };
  try {
    for (let i = 0; i < warmup + edits + 1; i++) {
      if (i > 0) tokens.set(routes[(i * 211) % routes.length]!.name, `e${i}`);
      const src = { file: 'gateway.yaml', text: text() };
      let t = performance.now();
      parseYamlAhead(src); // the watcher's check that the file parses, whose parse the build takes
      const c = compileConfig([src], { ...options, cache });
      if (!c.translation) throw new Error(c.diagnostics.map((d) => d.message).join('\n'));
      onLoop = buildSnapshot(c.translation, 0, onLoop, cache.encoder.encode);
      const l = performance.now() - t;
      t = performance.now();
      parseYamlAhead(src); // the same check before a thread build (whose parse is then dropped)
      const r = await thread.build([src], options, 0, offLoop);
      if (!r.snapshot) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      offLoop = r.snapshot;
      const w = performance.now() - t;
      if (offLoop.version !== onLoop.version) throw new Error('the two builds disagree');
      if (i === 0) first = { loop: l, thread: w };
      else if (i > warmup) { loopMs.push(l); threadMs.push(w); }
    }
  } finally {
    await thread.close();
  }
  const loop = rounded(summarize(loopMs));
  const off = rounded(summarize(threadMs));
  const mk = marks(RUN);
  report(BENCH, `one-route edit · ${size} routes`, {
    routes: size, edits, warmup, machine: machine(), buildFromNothingMs: rounded(first),
    eventLoopMs: loop, workerThreadMs: off, threadOverLoopP50: Math.round((off.p50 / loop.p50) * 100) / 100,
    run: { command: RUN.command, commit: RUN.commit, loadAvg1AtStart: RUN.loadAvg1AtStart, busyAtStart: RUN.busy }, marked: mk.length > 0,
  }, `parse + build + encode of a one-route edit: event loop ${formatSummary(loop)}, worker thread ${formatSummary(off)} (${(off.p50 / loop.p50).toFixed(2)}× at p50); the build from nothing ${first.loop.toFixed(0)} ms here, ${first.thread.toFixed(0)} ms on the thread${markText(mk)}`);
}

main().then(() => process.exit(0), (e: unknown) => { process.stderr.write(`${BENCH}: ${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
