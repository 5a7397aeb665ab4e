// The operator commands as a user runs them: diff (decK's diff style and exit codes),
// convert (as `deck file convert`), openapi2kong (as `deck file openapi2kong`: the expected
// files under test/fixtures are what the real decK v1.30.0 printed for the same inputs), and
// status, against a control plane with a real Envoy.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { compileConfig } from '../../src/runtime/compile.js';
import { startGateway, type Gateway } from '../support/gateway.js';
import { runAsync } from '../support/spawn.js';

/** The CLI as a child process; this process may be serving the control plane it talks to. */
const cli = (args: string[], env: Record<string, string> = {}) => runAsync(process.execPath, ['--import', 'tsx', 'test/support/cli-entry.ts', ...args],
  { ...process.env, FRONTDESK_LOG_LEVEL: 'warn', NO_COLOR: '', FORCE_COLOR: '', ...env });

const dir = mkdtempSync(join(tmpdir(), 'frontdesk-operator-'));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

const BASE = `_format_version: "3.0"
services:
  - name: orders
    url: http://127.0.0.1:9
    connect_timeout: 3000
    read_timeout: 10000
    write_timeout: 10000
    routes:
      - name: orders
        paths: [/orders]
      - name: legacy
        paths: [/legacy]
consumers:
  - username: partner
    keyauth_credentials:
      - key: partner-key-1
`;

describe('frontdesk openapi2kong', () => {
  for (const spec of ['orders.yaml', 'pets-3.1.json']) {
    test(`${spec} converts to what deck file openapi2kong makes, ids included`, async () => {
      const r = await cli(['openapi2kong', `test/fixtures/openapi/${spec}`]);
      assert.equal(r.status, 0, r.stderr);
      const expected = parse(readFileSync(`test/fixtures/openapi/${spec.replace(/\.(yaml|json)$/, '')}.deck.yaml`, 'utf8'));
      assert.deepEqual(parse(r.stdout), expected);
      const compiled = compileConfig([{ file: spec, text: r.stdout }]);
      // decK names a service's upstream "<service name>.upstream". A name may hold "~" (orders.yaml's
      // "orders_reports~"), a host may not (Kong's check_hostname: letters, digits, "-", "." and "_"),
      // so Kong refuses that upstream and the service naming it, and so does Frontdesk; the rest loads.
      const errors = compiled.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.message.split(':')[0]]);
      assert.deepEqual(errors, spec === 'orders.yaml'
        ? [['FD_BAD_HOST', 'invalid host "orders_reports~.upstream"'], ['FD_BAD_HOST', 'invalid host "orders_reports~.upstream"']]
        : [], 'the kong.yml loads in Frontdesk, but for hosts Kong refuses too');
    });
  }

  test('OpenAPI 3.1 only features (type arrays, $ref beside keywords) are read; --select-tag and --uuid-base apply', async () => {
    const spec = file('items.json', JSON.stringify({
      openapi: '3.1.0', info: { title: 'Items', version: '1' }, servers: [{ url: 'http://items.internal:8080' }],
      paths: { '/items/{id}': { get: { operationId: 'getItem', parameters: [{ $ref: '#/components/parameters/id', description: 'the id' }],
        responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: ['object', 'null'] } } } } } } } },
      components: { parameters: { id: { name: 'id', in: 'path', required: true, schema: { type: 'string' } } } },
    }));
    const r = await cli(['openapi2kong', spec, '--select-tag', 'team-a,imported', '--uuid-base', 'Catalog']);
    assert.equal(r.status, 0, r.stderr);
    const kong = parse(r.stdout) as { services: { name: string; host: string; port: number; tags: string[]; routes: { name: string; paths: string[]; regex_priority: number }[] }[] };
    assert.deepEqual(kong.services.map((s) => [s.name, s.host, s.port, s.tags]), [['catalog', 'items.internal', 8080, ['team-a', 'imported']]]);
    assert.deepEqual(kong.services[0]!.routes.map((x) => [x.name, x.paths, x.regex_priority]), [['catalog_getitem', ['~/items/(?<id>[^#?/]+)$'], 100]]);
  });

  test('a document that is not OpenAPI 3 is refused with exit 1', async () => {
    const r = await cli(['openapi2kong', file('swagger.yaml', 'swagger: "2.0"\ninfo: { title: t, version: "1" }\npaths: {}\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /OpenAPI 3\.0 or 3\.1/);
  });
});

describe('frontdesk convert', () => {
  test('a 2.1 file becomes what deck file convert makes, comments kept', async () => {
    const r = await cli(['convert', 'test/golden/format-2.1-conversion/in.yaml']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# A Kong 2\.x file/);
    assert.match(r.stdout, /_format_version: "3\.0"/);
    assert.match(r.stderr, /2 regex path\(s\)/);
    const ours = compileConfig([{ file: 'ours.yaml', text: r.stdout }]);
    const decks = compileConfig([{ file: 'deck.yaml', text: readFileSync('test/fixtures/deck/convert-2.1.deck.yaml', 'utf8') }]);
    assert.ok(ours.ok && decks.ok);
    assert.deepEqual(ours.diagnostics, [], 'a 3.0 file: no conversion warning left');
    assert.deepEqual(ours.translation, decks.translation, 'the same Envoy resources as decK\'s conversion');
  });

  test('a file without _format_version is refused', async () => {
    const r = await cli(['convert', file('none.yaml', 'services: []\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /_format_version is missing/);
  });
});

describe('frontdesk diff against a file', () => {
  test('the same config: exit 0 and a zero summary', async () => {
    const a = file('a.yaml', BASE);
    const r = await cli(['diff', a, '--against', a]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Summary:\n {2}Created: 0\n {2}Updated: 0\n {2}Deleted: 0\n/);
  });

  test('changes: created, updated field by field, deleted, the resources, exit 2; secrets never printed', async () => {
    const a = file('before.yaml', BASE);
    const b = file('after.yaml', BASE.replace('read_timeout: 10000', 'read_timeout: 20000').replace('connect_timeout: 3000', 'connect_timeout: 4000').replace(`      - name: legacy
        paths: [/legacy]
`, `      - name: invoices
        paths: [/invoices]
`).replace('partner-key-1', 'partner-key-2'));
    const r = await cli(['diff', b, '--against', a]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /updating service orders {2}\{\n(.*\n)*- {2}"read_timeout": 10000\n\+ {2}"read_timeout": 20000\n/);
    assert.match(r.stdout, /creating route invoices\n/);
    assert.match(r.stdout, /deleting route legacy\n/);
    assert.match(r.stdout, /creating key-auth sha256:[0-9a-f]{12} for partner/);
    assert.match(r.stdout, /Created: 2\n {2}Updated: 1\n {2}Deleted: 2\n/);
    // connect_timeout is the cluster's, read_timeout the route action's (Envoy's RouteAction.timeout).
    assert.match(r.stdout, /Envoy resources and companion policies:\n(.*\n)* {2}~ CDS service:orders\n/);
    assert.match(r.stdout, / {2}~ RDS listener:proxy#[\w-]+\n/);
    assert.match(r.stdout, / {2}~ companion Consumer /, 'the key changed: the authz companion\'s consumer changes');
    assert.doesNotMatch(r.stdout + r.stderr, /partner-key-/);
  });

  test('a target with errors: exit 1 and its diagnostics with file:line:col', async () => {
    const bad = file('bad.yaml', BASE.replace('    read_timeout: 10000\n', '    read_timeout: 10000\n    retrys: 2\n'));
    const r = await cli(['diff', bad, '--against', file('ok.yaml', BASE)]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:5: error: unknown key "retrys"`));
  });
});

describe('frontdesk diff and status against a running control plane', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway(BASE, { adminToken: 'tok' }); });
  after(async () => { await gw?.stop(); });

  test('diff reads the running config with the admin token; without it, exit 1', async () => {
    const same = await cli(['diff', file('same.yaml', BASE), '--control-plane', gw.admin, '--admin-token', 'tok']);
    assert.equal(same.status, 0, same.stdout + same.stderr);
    const changed = await cli(['diff', file('changed.yaml', BASE.replace('/orders]', '/orders, /v2/orders]')), '--control-plane', gw.admin], { FRONTDESK_ADMIN_TOKEN: 'tok' });
    assert.equal(changed.status, 2, changed.stderr);
    assert.match(changed.stdout, /updating route orders/);
    const denied = await cli(['diff', file('x.yaml', BASE), '--control-plane', gw.admin]);
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /401/);
  });

  test('status shows the version, the fleet with its node, the companions and the last error', async () => {
    const ok = await cli(['status', '--control-plane', gw.admin]);
    assert.equal(ok.status, 0, ok.stderr);
    const version = gw.cp.ads.snapshot!.version;
    assert.match(ok.stdout, new RegExp(`version ${version} from ${gw.configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(ok.stdout, /Fleet frontdesk: 1 node\(s\), 1 hold the current version/);
    assert.match(ok.stdout, new RegExp(`e2e-${gw.proxyPort} {2}sotw {2}holds ${version}`));
    assert.match(ok.stdout, /authz +127\.0\.0\.1:\d+ +not connected/);
    assert.doesNotMatch(ok.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');
    const reloads = gw.cp.reloadCount;
    gw.write(BASE.replace('    read_timeout: 10000\n', '    read_timeout: 10000\n    retrys: 2\n'));
    const { waitFor } = await import('../support/wait.js');
    await waitFor(() => gw.cp.reloadCount > reloads, 'the bad edit to load');
    const bad = await cli(['status', '--control-plane', gw.admin], { FORCE_COLOR: '1' });
    assert.match(bad.stdout, /Last config error/);
    assert.match(bad.stdout, /gateway\.yaml:7:5: error: unknown key "retrys"/);
    assert.match(bad.stdout, /\x1b\[31m/, 'FORCE_COLOR colours it as a terminal would be');
  });

  test('status exits 1 when nothing answers', async () => {
    const r = await cli(['status', '--control-plane', 'http://127.0.0.1:9']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach the control plane/);
  });
});
