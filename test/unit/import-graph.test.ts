/**
 * The import graph of src/, read from the sources: the layering rules docs/architecture.md
 * states, checked on every import (type-only imports included: they couple the code as much).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** src-relative path → the src-relative paths it imports (relative specifiers only). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const spec = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(spec)].map((m) => m[1] ?? m[2] ?? '')
      .map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/** A file's top-level folder under src ('' for the files directly in src). */
function folder(path: string): string {
  const i = path.indexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

const graph = importGraph();
const edges = [...graph].flatMap(([from, tos]) => tos.map((to) => ({ from, to })));

function violations(rule: (from: string, to: string) => boolean): string[] {
  return edges.filter(({ from, to }) => rule(from, to)).map(({ from, to }) => `${from} → ${to}`);
}

describe('import graph of src/', () => {
  test('the graph was read: every folder has files, and imports were found', () => {
    for (const f of ['model', 'ir', 'resources', 'xds', 'authz', 'ratelimit', 'transform', 'log', 'runtime']) {
      assert.ok([...graph.keys()].some((p) => folder(p) === f), `no file in src/${f}`);
    }
    assert.ok(edges.length > 100, `${edges.length} imports`);
    for (const { to } of edges) assert.ok(graph.has(to), `an import of ${to}, which is not a source file`);
  });

  test('src/model is imported only by model, ir and runtime', () => {
    assert.deepEqual(violations((from, to) => folder(to) === 'model' && !['model', 'ir', 'runtime'].includes(folder(from))), []);
  });

  test('model, ir, resources and contracts import no companion (authz, ratelimit, transform, log)', () => {
    const pure = ['model', 'ir', 'resources', 'contracts'];
    const companions = ['authz', 'ratelimit', 'transform', 'log'];
    assert.deepEqual(violations((from, to) => pure.includes(folder(from)) && companions.includes(folder(to))), []);
  });

  test('the companions import contracts, xds, admin (their health and metrics endpoints) and shared top-level modules only, besides their own folder', () => {
    const allowed = new Set(['contracts', 'xds', 'admin', '']);
    const companions = ['authz', 'ratelimit', 'transform', 'log'];
    assert.deepEqual(violations((from, to) => companions.includes(folder(from)) && folder(to) !== folder(from) && !allowed.has(folder(to))), []);
  });

  test('no cycle between folders', () => {
    const deps = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const a = folder(from);
      const b = folder(to);
      if (a !== b) deps.set(a, (deps.get(a) ?? new Set()).add(b));
    }
    const cycles: string[] = [];
    const walk = (node: string, path: string[]) => {
      for (const next of deps.get(node) ?? []) {
        if (next === path[0]) cycles.push([...path, next].map((f) => f || 'src').join(' → '));
        else if (!path.includes(next) && next > path[0]!) walk(next, [...path, next]);
      }
    };
    for (const start of [...deps.keys()].sort()) walk(start, [start]);
    assert.deepEqual(cycles, []);
  });

  test('no cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, stack: string[]) => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
        else if (!state.has(next)) visit(next, [...stack, next]);
      }
      state.set(file, 'done');
    };
    for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file, [file]);
    assert.deepEqual(cycles, []);
  });

  test('the frontdesk command loads the control plane, the compiler and the certificate maker only for the commands that use them', () => {
    // What `frontdesk <companion>` holds in memory: the files runtime/cli.ts reaches through
    // static, value imports (dynamic import() and `import type` load nothing up front).
    const valueImport = /(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+'(\.[^']+)'|(?:^|\n)\s*import\s+'(\.[^']+)'/g;
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const m of readFileSync(join(SRC, file), 'utf8').matchAll(valueImport)) {
        visit(relative(SRC, resolve(dirname(join(SRC, file)), (m[1] ?? m[2] ?? '').replace(/\.js$/, '.ts'))));
      }
    };
    visit('runtime/cli.ts');
    assert.ok(reached.has('runtime/companions.ts') && reached.has('runtime/cli-options.ts'), 'the walk follows imports');
    const heavy = ['model/plugins/index.ts', 'ir/build.ts', 'runtime/compile.ts', 'runtime/control-plane.ts', 'runtime/start.ts', 'runtime/certs.ts', 'runtime/operator/commands.ts', 'resources/translate.ts', 'xds/ads-server.ts', 'admin/server.ts'];
    assert.deepEqual(heavy.filter((f) => reached.has(f)), []);
  });
});
