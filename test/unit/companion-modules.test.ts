/**
 * What a companion process loads: `frontdesk ratelimit` and `frontdesk authz` serve on
 * node:http2 (their gRPC servers and the ADS client), so grpc-js is no part of them, the
 * CLI's companion path loads no YAML library, and the ratelimit companion, which reads its
 * messages by hand, no protobuf library. Each package costs the process megabytes of RSS
 * (docs/benchmarks.md "ratelimit"). Checked by listing every module a fresh Node process loads
 * when it imports the CLI and the two services.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/project-root.js';

/**
 * The packages (node_modules/<name>) a fresh process loads for the given modules: those imported
 * (an ESM load hook sees them) and those required (CommonJS's module cache holds them).
 */
function packagesLoaded(modules: string[]): string[] {
  const hook = `export async function load(url, context, next) { if (url.includes('/node_modules/')) process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }`;
  const script = [
    "import { createRequire, register } from 'node:module';",
    `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`,
    ...modules.map((m) => `await import(${JSON.stringify(new URL(m, `file://${PROJECT_ROOT}/`).href)});`),
    "for (const f of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('LOADED file://' + f + '\\n');",
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const names = new Set<string>();
  for (const m of r.stderr.matchAll(/^LOADED .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) names.add(m[1]!);
  return [...names].sort();
}

test('the ratelimit companion, through the CLI, loads no grpc-js, no yaml and no protobuf library', () => {
  const loaded = packagesLoaded(['src/runtime/cli.ts', 'src/ratelimit/service.ts']);
  assert.ok(loaded.includes('ioredis'), `the listing sees packages (got ${loaded.join(', ')})`);
  for (const name of ['@grpc/grpc-js', 'yaml', 'protobufjs']) assert.ok(!loaded.includes(name), `${name} is loaded: ${loaded.join(', ')}`);
});

test('the CLI and the ratelimit and authz companions load no grpc-js and no yaml', () => {
  const loaded = packagesLoaded(['src/runtime/cli.ts', 'src/ratelimit/service.ts', 'src/authz/service.ts']);
  assert.ok(loaded.includes('ioredis'), `the listing sees packages (got ${loaded.join(', ')})`);
  assert.ok(!loaded.includes('@grpc/grpc-js'), `grpc-js is loaded: ${loaded.join(', ')}`);
  assert.ok(!loaded.includes('yaml'), `yaml is loaded: ${loaded.join(', ')}`);
});

test('the control plane still serves ADS on grpc-js (the listing sees it when it is there)', () => {
  assert.ok(packagesLoaded(['src/xds/ads-server.ts']).includes('@grpc/grpc-js'));
});
