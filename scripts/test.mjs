#!/usr/bin/env node
// The whole suite: a type check, then every test/**/*.test.ts under node's test runner
// (TypeScript through tsx). `npm test -- test/unit` runs the files under the given paths.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(path) {
  if (!statSync(path).isDirectory()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path).sort().flatMap((f) => find(join(path, f)));
}

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = roots.flatMap(find);
// Only a truthy value skips the type check: SKIP_TYPECHECK=0 (or false, or empty) still runs it.
const skipTypecheck = ['1', 'true', 'yes'].includes((process.env.SKIP_TYPECHECK ?? '').trim().toLowerCase());
if (!skipTypecheck) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files], { stdio: 'inherit' });
process.exit(run.status ?? 1);
