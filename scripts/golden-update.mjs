#!/usr/bin/env node
// Regenerates test/golden/<case>/out.json (and ir.json, for the cases that have one) from the
// current compiler output, and deletes the out.json of cases whose in.yaml is gone. Run it as `npm run golden:update`, then review the
// diff: a golden file is only worth what its reviewer read. Refuses to run under CI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const truthy = (v) => ['1', 'true', 'yes'].includes((v ?? '').trim().toLowerCase());
if (truthy(process.env.CI)) {
  console.error('golden:update refuses to run under CI: golden files are compared there, never rewritten');
  process.exit(1);
}
const code = `
import { readFileSync, writeFileSync } from 'node:fs';
import { updateGoldens } from './test/support/golden.ts';
import { irGoldenCases, renderIr } from './test/support/ir-golden.ts';
const r = updateGoldens();
for (const n of r.written) console.log('written  ' + n + '/out.json');
for (const c of irGoldenCases()) {
  const ir = renderIr(readFileSync(c.input, 'utf8'));
  if (ir.text === undefined) throw new Error(c.name + ' does not compile: ' + ir.errors);
  if (readFileSync(c.irFile, 'utf8') === ir.text) continue;
  writeFileSync(c.irFile, ir.text);
  console.log('written  ' + c.name + '/ir.json');
}
for (const f of r.removed) console.log('removed  ' + f);
console.log(r.written.length + ' written, ' + r.unchanged.length + ' unchanged, ' + r.removed.length + ' removed; review with git diff test/golden');
`;
const root = fileURLToPath(new URL('..', import.meta.url));
const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: 'inherit', cwd: root });
process.exit(run.status ?? 1);
