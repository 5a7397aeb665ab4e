/**
 * Builds on the worker thread (OffLoopBuilder): the snapshot is the one a build on the event
 * loop gives (same versions, same bytes), edits after the first reuse the thread's cache and
 * still agree, the event loop runs while a build is under way, a config with errors comes back
 * as its diagnostics, and a build over its time bound is refused with FD_BUILD_LIMIT.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DEFAULT_IR_OPTIONS } from '../../src/ir/build.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { defaultServerCertificate } from '../../src/runtime/certs.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { OffLoopBuilder } from '../../src/runtime/off-loop-build.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';

const settings: TranslateSettings = { ...DEFAULT_SETTINGS, credentialSalt: 'off-loop-test' };
const options = { settings, ir: DEFAULT_IR_OPTIONS };

function config(routes: number, edited = -1): string {
  const out = ['_format_version: "3.0"', 'services:'];
  for (let s = 0; s < Math.ceil(routes / 5); s++) {
    out.push(`  - name: svc${s}`, `    url: http://127.0.0.1:${9000 + (s % 50)}/s${s}`, '    routes:');
    for (let r = 0; r < 5 && s * 5 + r < routes; r++) {
      const i = s * 5 + r;
      out.push(`      - name: r${i}`, `        paths: [/s${s}/r${r}${i === edited ? '/edited' : ''}]`);
      if (i % 4 === 1) out.push('        hosts: [api.example.com]');
      if (i % 7 === 3) out.push('        plugins: [{ name: key-auth }]');
    }
  }
  out.push('consumers:', '  - username: alice', '    keyauth_credentials: [{ key: secret-key }]');
  return `${out.join('\n')}\n`;
}

function onLoop(text: string): Snapshot {
  const c = compileConfig([{ file: 'gateway.yaml', text }], options);
  assert.ok(c.ok);
  return buildSnapshot(c.translation!, 0);
}

function assertSame(a: Snapshot, b: Snapshot): void {
  assert.equal(a.version, b.version);
  for (const [fleet, types] of b.fleets) {
    for (const [t, m] of types) {
      const other = a.fleets.get(fleet)?.get(t);
      assert.deepEqual([...(other?.keys() ?? [])], [...m.keys()], `${fleet} ${t}: the same names`);
      for (const [name, r] of m) {
        assert.equal(other!.get(name)!.version, r.version, `${t} ${name}`);
        assert.ok(Buffer.from(other!.get(name)!.any).equals(Buffer.from(r.any)), `${t} ${name}: the same bytes`);
      }
    }
  }
  assert.deepEqual([...a.companions.keys()], [...b.companions.keys()]);
  for (const [t, m] of b.companions) for (const [name, r] of m) assert.equal(a.companions.get(t)!.get(name)!.version, r.version, `${t} ${name}`);
}

describe('build off the event loop', () => {
  const builder = new OffLoopBuilder();
  after(() => builder.close());

  test('a build on the worker thread gives the snapshot a build on the event loop gives, and so does an edit after it', async () => {
    const first = await builder.build([{ file: 'gateway.yaml', text: config(300) }], options, 0);
    assert.ok(first.ok, JSON.stringify(first.diagnostics));
    assertSame(first.snapshot!, onLoop(config(300)));
    const edit = await builder.build([{ file: 'gateway.yaml', text: config(300, 42) }], options, 0, first.snapshot);
    assert.ok(edit.ok);
    assertSame(edit.snapshot!, onLoop(config(300, 42)));
    assert.notEqual(edit.snapshot!.version, first.snapshot!.version);
    // The resources the edit did not change are the objects of the snapshot before it.
    const cluster = (s: Snapshot) => s.fleets.get('')!.get('type.googleapis.com/envoy.config.cluster.v3.Cluster')!.get('service:svc0');
    assert.equal(cluster(edit.snapshot!), cluster(first.snapshot!));
    // Bodies are read from the bytes when asked for: the route configuration holds the edited path.
    const rc = [...edit.snapshot!.fleets.get('')!.get('type.googleapis.com/envoy.config.route.v3.RouteConfiguration')!.values()][0]!;
    assert.match(JSON.stringify(rc.body), /\/s8\/r2\/edited/);
    // What /status and the dashboard show comes along.
    assert.equal(edit.ids?.routes.length, 300);
    assert.equal(edit.ir()?.routes.length, 300);
  });

  test('the acme plugin\'s inputs and the served state cross the thread: the same names and the same snapshot as on the event loop', async () => {
    const text = `_format_version: "3.0"
listeners:
  - { name: tls, address: 127.0.0.1, port: 8443, protocol: https }
services:
  - name: app
    url: http://127.0.0.1:9001
    routes: [{ name: r, paths: [/], hosts: [a.acme.test, b.other.test] }]
plugins:
  - name: acme
    config: { account_email: ops@example.com, api_uri: "https://ca.internal/directory", domains: ["*.acme.test"] }
`;
    const state = { challenges: [{ token: 'tok_9eP0Yy3kq1zXcW8sT2uVbA', keyAuthorization: 'tok_9eP0Yy3kq1zXcW8sT2uVbA.thumb' }], certificates: [], defaultCertificate: defaultServerCertificate() };
    const r = await builder.build([{ file: 'gateway.yaml', text }], { ...options, acme: state }, 0);
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    const here = compileConfig([{ file: 'gateway.yaml', text }], { ...options, acme: state });
    assert.deepEqual(r.acme, here.acme);
    assert.deepEqual(r.acme!.routeHosts, ['a.acme.test']);
    assertSame(r.snapshot!, buildSnapshot(here.translation!, 0));
  });

  test('the event loop keeps running while the worker thread builds', async () => {
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    try {
      const r = await builder.build([{ file: 'gateway.yaml', text: config(2000) }], options, 0);
      assert.ok(r.ok);
    } finally {
      clearInterval(timer);
    }
    // A build on the event loop would have let no timer run until it returned.
    assert.ok(ticks > 0, 'no timer ran during the build');
  });

  test('a config with errors comes back as its diagnostics, with line and column', async () => {
    const r = await builder.build([{ file: 'gateway.yaml', text: '_format_version: "3.0"\nservices:\n  - name: a\n    url: http://127.0.0.1:9\n    routes:\n      - name: r\n        pathz: [/x]\n' }], options, 0);
    assert.equal(r.ok, false);
    const e = r.diagnostics.find((d) => d.severity === 'error');
    assert.ok(e, 'an error');
    assert.equal(e.file, 'gateway.yaml');
    assert.equal(e.line, 7);
  });

  test('a build over its time bound is refused with FD_BUILD_LIMIT', async () => {
    const hasty = new OffLoopBuilder({ timeoutMs: 1 });
    try {
      const r = await hasty.build([{ file: 'gateway.yaml', text: config(1000) }], options, 0);
      assert.equal(r.ok, false);
      assert.equal(r.diagnostics[0]?.code, 'FD_BUILD_LIMIT');
      assert.match(r.diagnostics[0]!.message, /longer than 1 ms/);
    } finally {
      await hasty.close();
    }
  });
});
