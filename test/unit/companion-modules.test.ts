/**
 * What a companion process loads: `frontdesk ratelimit`, `authz`, `transform` and `log` speak HTTP/2
 * framed by the project (src/http2/: their gRPC servers and the ADS client) over node:net and
 * node:tls, so neither grpc-js nor node:http2 is any part of them, the CLI's companion path
 * loads no YAML library, and the ratelimit companion, which reads its messages by hand, no
 * protobuf library. Each costs the process megabytes of RSS (docs/benchmarks.md "ratelimit";
 * node:http2 and one session ~3.4 MiB). Checked by listing every module a fresh Node process
 * loads when it imports the CLI and the four services, and, for node:http2, once its ADS client
 * holds a stream to a real ADS server.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { AUTHZ_TYPE } from '../../src/contracts/authz.js';
import { silentLogger } from '../../src/logger.js';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { AdsServer } from '../../src/xds/ads-server.js';
import { buildSnapshot } from '../../src/xds/snapshot.js';

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
  assert.ok(loaded.includes('pino'), `the listing sees packages (got ${loaded.join(', ')})`);
  for (const name of ['@grpc/grpc-js', 'yaml', 'protobufjs']) assert.ok(!loaded.includes(name), `${name} is loaded: ${loaded.join(', ')}`);
});

test('the CLI and the ratelimit and authz companions load no grpc-js and no yaml', () => {
  const loaded = packagesLoaded(['src/runtime/cli.ts', 'src/ratelimit/service.ts', 'src/authz/service.ts']);
  assert.ok(loaded.includes('pino'), `the listing sees packages (got ${loaded.join(', ')})`);
  assert.ok(!loaded.includes('@grpc/grpc-js'), `grpc-js is loaded: ${loaded.join(', ')}`);
  assert.ok(!loaded.includes('yaml'), `yaml is loaded: ${loaded.join(', ')}`);
});

test('the transform and log companions serve their streams (ext_proc, access logs) without grpc-js and read no YAML', () => {
  const loaded = packagesLoaded(['src/runtime/cli.ts', 'src/transform/service.ts', 'src/log/service.ts']);
  assert.ok(loaded.includes('protobufjs'), `the listing sees packages (got ${loaded.join(', ')})`);
  for (const name of ['@grpc/grpc-js', 'yaml']) assert.ok(!loaded.includes(name), `${name} is loaded: ${loaded.join(', ')}`);
});

test('the control plane still serves ADS on grpc-js (the listing sees it when it is there)', () => {
  assert.ok(packagesLoaded(['src/xds/ads-server.ts']).includes('@grpc/grpc-js'));
});

test('the companions load no node:http2, neither at import nor once the ADS client holds a stream', async () => {
  // The control plane's ADS server (grpc-js, so node:http2) runs here; the companion's modules in a process of their own.
  const compiled = compileConfig([{ file: 'gateway.yaml', text: `_format_version: "3.0"
services:
  - name: api
    url: http://127.0.0.1:9
    routes:
      - name: orders
        paths: [/orders]
        plugins:
          - name: key-auth
            config: { enforcer: companion }
consumers:
  - username: alice
    keyauth_credentials:
      - key: k
` }], { settings: DEFAULT_SETTINGS });
  assert.ok(compiled.ok && compiled.translation);
  const ads = new AdsServer(silentLogger());
  try {
    const port = await ads.listen('127.0.0.1', 0);
    ads.setSnapshot(buildSnapshot(compiled.translation, Date.now()));
    const at = (m: string) => JSON.stringify(new URL(m, `file://${PROJECT_ROOT}/`).href);
    const script = [
      'const http2 = () => process.moduleLoadList.filter((m) => m.includes(\'http2\'));',
      `await import(${at('src/runtime/cli.ts')});`,
      `await import(${at('src/ratelimit/service.ts')});`,
      `await import(${at('src/authz/service.ts')});`,
      `await import(${at('src/transform/service.ts')});`,
      `await import(${at('src/log/service.ts')});`,
      'const afterImport = http2();',
      // The ADS client's stream is a GrpcH2Channel call (src/xds/grpc-h2-client.ts).
      `const { AdsStreamClient } = await import(${at('src/xds/ads-stream.ts')});`,
      `const client = new AdsStreamClient({ target: '127.0.0.1:${port}', nodeId: 'modules-test', types: [${JSON.stringify(AUTHZ_TYPE.consumer)}], decodeResource: (_t, bytes) => bytes.length }).start();`,
      // No timer of its own: the child is bounded by execFile's timeout below.
      'const update = await new Promise((resolve) => { client.on(\'update\', (type, resources, version) => resolve({ type, names: [...resources.keys()], version })); });',
      'const withStream = http2();',
      'client.close();',
      // The check itself: node:http2, once loaded, is in the list.
      "await import('node:http2');",
      'console.log(JSON.stringify({ afterImport, withStream, update, control: http2() }));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, timeout: 60_000 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { afterImport: string[]; withStream: string[]; update: { type: string; names: string[]; version: string }; control: string[] };
    assert.equal(r.update.type, AUTHZ_TYPE.consumer, 'the ADS client got its resources over its own connection');
    assert.equal(r.update.names.length, 1);
    assert.ok(r.update.version);
    assert.deepEqual(r.afterImport, [], 'node:http2 after importing the CLI and the four services');
    assert.deepEqual(r.withStream, [], 'node:http2 once the ADS stream is up');
    assert.ok(r.control.includes('NativeModule http2'), `the list shows node:http2 once it is loaded (got ${r.control.join(', ')})`);
  } finally {
    await ads.close();
  }
});
