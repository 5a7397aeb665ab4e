/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time
 * and the most inclusive time, as `name file:line`, paths relative to the project.
 *
 *   node --import tsx bench/support/cpuprofile.ts PROFILE.cpuprofile [--top 25] [--match TEXT]
 *
 * `--match` keeps only functions whose name or file contains TEXT in the inclusive table.
 * Files with a source map (the benchmarks' plain-JS copies, dist/; inline or a file beside
 * them) are mapped back to their TypeScript source lines.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  key: string;
  selfMs: number;
  totalMs: number;
}

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

const maps = new Map<string, SourceMap | undefined>();

/** The source map of a generated file, if it names one: inline (base64) or a file beside it (tsc's, transpile.ts's). */
function sourceMapOf(path: string): SourceMap | undefined {
  if (maps.has(path)) return maps.get(path);
  let map: SourceMap | undefined;
  try {
    const url = existsSync(path) ? /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(path, 'utf8'))?.[1] : undefined;
    const inline = url && /^data:application\/json;base64,([A-Za-z0-9+/=]+)$/.exec(url);
    const text = inline ? Buffer.from(inline[1]!, 'base64').toString('utf8')
      : url && !url.includes(':') && existsSync(join(dirname(path), url)) ? readFileSync(join(dirname(path), url), 'utf8') : undefined;
    if (text !== undefined) map = new SourceMap(JSON.parse(text) as ConstructorParameters<typeof SourceMap>[0]);
  } catch { map = undefined; }
  maps.set(path, map);
  return map;
}

function keyOf(n: ProfileNode): string {
  const f = n.callFrame;
  let url = f.url.replace(/^file:\/\//, '');
  let line = f.lineNumber;
  const map = url ? sourceMapOf(url) : undefined;
  if (map) {
    const e = map.findEntry(f.lineNumber, f.columnNumber) as { originalSource?: string; originalLine?: number };
    if (e.originalSource !== undefined && e.originalLine !== undefined) {
      // Sources are named relative to the generated file (transpileModule writes the base name).
      url = resolve(dirname(url), e.originalSource.replace(/^file:\/\//, ''));
      line = e.originalLine;
    }
  }
  // The benchmark's plain-JS copy lives in a temp folder: /tmp/<run>/cp/src/... → src/...
  url = url.replace(PROJECT, '').replace(/^.*\/cp\/(src|bench)\//, '$1/');
  const where = url ? ` ${url}:${line + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
}

/** Self and inclusive milliseconds per function (recursion counted once per stack). */
export function summariseProfile(p: Profile): { totalMs: number; functions: FunctionTime[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfById = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    for (let i = 0; i < p.samples.length; i++) selfById.set(p.samples[i]!, (selfById.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  } else {
    const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
    const per = (p.endTime - p.startTime) / 1000 / hits;
    for (const n of p.nodes) selfById.set(n.id, (n.hitCount ?? 0) * per);
  }
  const fns = new Map<string, FunctionTime>();
  const fn = (key: string) => { let f = fns.get(key); if (!f) fns.set(key, (f = { key, selfMs: 0, totalMs: 0 })); return f; };
  const root = p.nodes[0]!;
  // Depth-first with the keys on the current stack, so recursion is not counted twice.
  const walk = (id: number, onStack: Map<string, number>): number => {
    const n = byId.get(id)!;
    const key = keyOf(n);
    const self = selfById.get(id) ?? 0;
    fn(key).selfMs += self;
    onStack.set(key, (onStack.get(key) ?? 0) + 1);
    let total = self;
    for (const c of n.children ?? []) total += walk(c, onStack);
    const depth = onStack.get(key)! - 1;
    if (depth === 0) { onStack.delete(key); fn(key).totalMs += total; } else onStack.set(key, depth);
    return total;
  };
  const totalMs = walk(root.id, new Map());
  return { totalMs, functions: [...fns.values()] };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) { process.stderr.write('usage: cpuprofile.ts PROFILE [--top N] [--match TEXT]\n'); process.exit(2); }
  const top = Number(args[args.indexOf('--top') + 1]) || 25;
  const match = args.includes('--match') ? args[args.indexOf('--match') + 1] : undefined;
  const { totalMs, functions } = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const pct = (ms: number) => `${((ms / totalMs) * 100).toFixed(1).padStart(5)}%`;
  const busy = totalMs - (functions.find((f) => f.key === '(idle)')?.selfMs ?? 0);
  process.stdout.write(`profile ${file}: ${(totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s not idle\n\nself time:\n`);
  for (const f of [...functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) process.stdout.write(`  ${pct(f.selfMs)} ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.key}\n`);
  process.stdout.write('\ninclusive time:\n');
  const incl = functions.filter((f) => !match || f.key.includes(match)).sort((a, b) => b.totalMs - a.totalMs).slice(0, top);
  for (const f of incl) process.stdout.write(`  ${pct(f.totalMs)} ${f.totalMs.toFixed(0).padStart(7)} ms  ${f.key}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
