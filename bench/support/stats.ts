import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

/**
 * Shared helpers for benchmarks: summaries of samples, the machine's description, and the
 * two-line output every benchmark prints (one JSON line, one readable line per figure set).
 */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The nearest-rank percentile (no interpolation) of an ascending array: the smallest sample
 * such that at least p% of the samples are ≤ it. With fewer than 100 samples, p99 is the max.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, min: s[0] ?? Number.NaN, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? Number.NaN, mean };
}

/** Rounds every number in a summary (or any flat record) to `digits` decimals, for output. */
export function rounded<T extends object>(o: T, digits = 1): T {
  const f = 10 ** digits;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * f) / f : v])) as T;
}

/** "p50 12.3 / p99 45.6 / max 78.9 ms (n=20)". */
export function formatSummary(s: Summary, unit = 'ms', digits = 1): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
  return `p50 ${f(s.p50)} / p99 ${f(s.p99)} / max ${f(s.max)} ${unit} (n=${s.n})`;
}

export interface Machine {
  cores: number;
  cpu: string;
  memGiB: number;
  node: string;
  envoy?: string;
  /** 1-minute load average when the benchmark started: other work on a shared machine shows here. */
  loadAvg1: number;
}

let envoyVersionCache: string | undefined;

/** `envoy --version` reduced to "1.40.0" (or the raw text when the format is unexpected). */
export function envoyVersion(bin: string): string {
  if (envoyVersionCache) return envoyVersionCache;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  envoyVersionCache = /version: [0-9a-f]+\/(\d+\.\d+\.\d+)\//.exec(text)?.[1] ?? (text.trim() || 'unknown');
  return envoyVersionCache;
}

/** The machine a benchmark ran on: cores, CPU model, memory, Node and (optionally) Envoy. */
export function machine(envoyBin?: string): Machine {
  const c = cpus();
  return {
    cores: c.length,
    cpu: c[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAvg1: Math.round(loadavg()[0]! * 100) / 100,
    ...(envoyBin ? { envoy: envoyVersion(envoyBin) } : {}),
  };
}

/**
 * Prints one figure set: a JSON line (`{"bench":..., "figures":...}`) for tools, then a
 * readable line for people. Both on stdout.
 */
export function report(bench: string, set: string, figures: Record<string, unknown>, readable: string): void {
  process.stdout.write(`${JSON.stringify({ bench, set, ...figures })}\n`);
  process.stdout.write(`${bench} · ${set}: ${readable}\n`);
}

/** High-resolution wall-clock milliseconds, comparable between processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
