import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { relative } from 'node:path';

/**
 * What every benchmark prints with its figures, so a number in docs/ can be traced and judged:
 * the command that ran, the git commit (with "-dirty" when the tree had changes), the cores,
 * and the 1-minute load average when the run started. A run that started with the load above
 * LOAD_PER_CORE_LIMIT per core is marked: something else was using the machine, and its
 * figures are not comparable with a quiet run (on the 2-core development machines, a test
 * suite beside a benchmark moves its figures by tens of percent).
 */

/**
 * 0.5 per core: 1.0 on the 2-core development machines, i.e. on average one core already busy
 * with other work over the minute before the start, enough to move the figures.
 */
export const LOAD_PER_CORE_LIMIT = 0.5;

export interface RunInfo {
  command: string;
  commit: string;
  cores: number;
  loadAvg1AtStart: number;
  loadPerCoreAtStart: number;
  loadPerCoreLimit: number;
  /** The run started above the limit: its figures are marked. */
  busy: boolean;
  startedAt: string;
}

function git(args: string[]): string | undefined {
  const r = spawnSync('git', args, { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The commit checked out, "-dirty" appended when tracked files differ from it. */
export function commitOf(): string {
  const head = git(['rev-parse', '--short=12', 'HEAD']) ?? 'unknown';
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  return dirty ? `${head}-dirty` : head;
}

/** The command line as typed from the project folder: `node --import tsx bench/x/run.ts --flag v`. */
export function commandLine(): string {
  const script = process.argv[1] ? relative(process.cwd(), process.argv[1]) : '';
  return ['node', ...process.execArgv, script, ...process.argv.slice(2)].filter(Boolean).join(' ');
}

let cached: RunInfo | undefined;

/** Taken once, at the first call (call it before starting any process of the benchmark). */
export function runInfo(): RunInfo {
  if (cached) return cached;
  const cores = cpus().length;
  const load = loadavg()[0]!;
  const perCore = load / Math.max(1, cores);
  cached = {
    command: commandLine(), commit: commitOf(), cores,
    loadAvg1AtStart: Math.round(load * 100) / 100, loadPerCoreAtStart: Math.round(perCore * 100) / 100,
    loadPerCoreLimit: LOAD_PER_CORE_LIMIT, busy: perCore > LOAD_PER_CORE_LIMIT, startedAt: new Date().toISOString(),
  };
  return cached;
}

/** Why a figure set is marked: the busy start, plus what the caller saw (failed or non-2xx responses...). */
export function marks(run: RunInfo, extra: Array<string | false | undefined> = []): string[] {
  return [
    ...(run.busy ? [`started on a busy machine: load ${run.loadAvg1AtStart} on ${run.cores} cores (${run.loadPerCoreAtStart} per core, limit ${run.loadPerCoreLimit})`] : []),
    ...extra.filter((m): m is string => typeof m === 'string' && m.length > 0),
  ];
}

/** The readable suffix of a figure line: " MARKED (…)" when there is anything to say. */
export function markText(m: readonly string[]): string {
  return m.length ? `  MARKED (${m.join('; ')})` : '';
}

/** The two lines every benchmark prints first: what ran, where, from which commit, on what load. */
export function printRunHeader(bench: string, run = runInfo()): void {
  process.stdout.write(`${JSON.stringify({ bench, set: 'run', ...run })}\n`);
  process.stdout.write(`${bench} · run: ${run.command} · commit ${run.commit} · ${run.cores} cores · load ${run.loadAvg1AtStart} at start (${run.loadPerCoreAtStart} per core)${markText(marks(run))}\n`);
}

/**
 * A benchmark's figure printer: one JSON line (the figure, its marks, the run and the machine)
 * and one readable line naming the machine, the commit and the load at start, MARKED when the
 * run started busy or `problems` (a load generator's failures) are given.
 */
export function figureEmitter(bench: string, run: RunInfo, machine: { cores: number; cpu: string; node: string; envoy?: string; redis?: string }):
  (figure: Record<string, unknown>, readable: string, problems?: string[]) => void {
  const where = `${machine.cores} cores ${machine.cpu}, node ${machine.node}${machine.envoy ? `, envoy ${machine.envoy}` : ''}${machine.redis ? `, redis ${machine.redis}` : ''}`;
  return (figure, readable, problems = []) => {
    const m = marks(run, problems);
    const about = { command: run.command, commit: run.commit, load_avg_1_at_start: run.loadAvg1AtStart, busy_at_start: run.busy };
    process.stdout.write(`${JSON.stringify({ bench, ...figure, marked: m.length > 0, marks: m, run: about, machine })}\n`);
    process.stdout.write(`${readable}  [${where}; commit ${run.commit}, load ${run.loadAvg1AtStart} at start]${markText(m)}\n`);
  };
}

/** `--name N` on the command line as a number, `def` when absent. */
export function numberFlag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
