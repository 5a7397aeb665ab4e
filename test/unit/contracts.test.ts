// The companions' contracts: the committed message types are what proto-loader's generator
// writes from proto/frontdesk/** today (`npm run contracts:generate`), and the import rules
// that keep the control plane and the companions apart hold.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GENERATED = join(ROOT, 'src', 'contracts', 'generated');

function files(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('the committed message types are what the generator writes from the protos', () => {
  const out = mkdtempSync(join(tmpdir(), 'frontdesk-contracts-'));
  try {
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'contracts-generate.mjs'), out], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const fresh = files(out).map((f) => relative(out, f));
    const committed = files(GENERATED).map((f) => relative(GENERATED, f));
    assert.deepEqual(committed, fresh, 'run `npm run contracts:generate` and commit src/contracts/generated');
    for (const f of fresh) assert.equal(readFileSync(join(GENERATED, f), 'utf8'), readFileSync(join(out, f), 'utf8'), `${f} differs: run \`npm run contracts:generate\``);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

/** The src/ folders (or top-level files) each file under `dir` imports, by file. */
function importsOf(dir: string): Array<{ file: string; target: string }> {
  const out: Array<{ file: string; target: string }> = [];
  for (const file of files(join(ROOT, 'src', dir)).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g)) {
      const resolved = relative(join(ROOT, 'src'), join(file, '..', m[1]!));
      out.push({ file: relative(ROOT, file), target: resolved.split('/')[0]! });
    }
  }
  return out;
}

test('the companions depend on their contracts and xds, never on the model, the IR or the Envoy resources', () => {
  for (const companion of ['authz', 'ratelimit', 'transform', 'log']) {
    const bad = importsOf(companion).filter((i) => ['model', 'ir', 'resources'].includes(i.target));
    assert.deepEqual(bad, [], `${companion} imports the control plane`);
  }
});

test('the model, the IR and the Envoy resources never import a companion', () => {
  for (const layer of ['model', 'ir', 'resources', 'contracts']) {
    const bad = importsOf(layer).filter((i) => ['authz', 'ratelimit', 'transform', 'log'].includes(i.target));
    assert.deepEqual(bad, [], `${layer} imports a companion`);
  }
});

test('the contracts import neither the model (only the IR\'s types) nor the Envoy resources nor xds', () => {
  const bad = importsOf('contracts').filter((i) => ['model', 'resources', 'xds', 'runtime'].includes(i.target));
  assert.deepEqual(bad, []);
});
