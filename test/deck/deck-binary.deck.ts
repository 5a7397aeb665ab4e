// The real decK binary (Kong's declarative tool, built by scripts/prepare-deck.mjs) against
// Frontdesk's admin port, with a real Envoy behind: `deck gateway ping`, `dump`, `diff` and
// `sync`, with the admin token sent as Kong Enterprise's Kong-Admin-Token header.
// Run with `npm run test:deck` (the first build of decK takes minutes; `npm test` replays the
// same calls from test/fixtures/deck instead).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
// @ts-expect-error: a plain .mjs script without types
import { prepareDeck } from '../../scripts/prepare-deck.mjs';
import { startGatewayWithAuthz } from '../support/authz-service.js';
import type { Gateway } from '../support/gateway.js';
import { runAsync } from '../support/spawn.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'deck-test-token';
const DECK = (prepareDeck as () => string)();
let gw: Gateway;
const run = (args: string[]) => runAsync(DECK, args);
const deck = (...args: string[]) => run([...args, '--kong-addr', gw.admin, '--headers', `Kong-Admin-Token:${TOKEN}`, '--analytics=false', '--no-color']);

// The authz companion enforces key-auth (docs/plugins.md): the credential test needs it.
before(async () => { gw = await startGatewayWithAuthz(readFileSync('config/gateway.yaml', 'utf8'), { adminToken: TOKEN }); });
after(async () => { await gw?.stop(); });

test('deck gateway ping connects and reads a Kong 3 version', async () => {
  const r = await deck('gateway', 'ping');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Successfully connected to Kong!/);
  assert.match(r.stdout, /Kong version:\s+3\.\d+\.\d+/);
});

test('without the token decK reads, and its writes are refused', async () => {
  const r = await run(['gateway', 'ping', '--kong-addr', gw.admin, '--analytics=false']);
  assert.equal(r.status, 0, 'GET / is a read: no token needed');
  const sync = await run(['gateway', 'sync', 'test/fixtures/deck/sync.yaml', '--kong-addr', gw.admin, '--analytics=false']);
  assert.notEqual(sync.status, 0);
  assert.match(sync.stderr, /401/);
});

test('deck gateway dump writes the running config as a kong.yml', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'deck-dump-')), 'kong.yaml');
  const r = await deck('gateway', 'dump', '-o', out, '--yes');
  assert.equal(r.status, 0, r.stderr);
  const dumped = parse(readFileSync(out, 'utf8')) as { _format_version: string; services: { name: string; host: string; port: number; routes: { name: string; paths: string[]; plugins: { name: string }[] }[] }[] };
  assert.equal(dumped._format_version, '3.0');
  assert.deepEqual(dumped.services.map((s) => [s.name, s.host, s.port]), [['hello', '127.0.0.1', 9]]);
  assert.deepEqual(dumped.services[0]!.routes.map((r) => [r.name, r.paths, r.plugins.map((p) => p.name)]), [['hello', ['/hello'], ['request-termination']]]);
});

test('deck gateway diff, then sync: the change reaches Envoy, and a second diff finds nothing', async () => {
  const diff = await deck('gateway', 'diff', 'test/fixtures/deck/sync.yaml', '--non-zero-exit-code');
  assert.equal(diff.status, 2, diff.stderr);
  assert.match(diff.stdout, /creating service orders/);
  assert.match(diff.stdout, /creating route orders/);
  const applies = gw.cp.kong!.stagedApplies;
  const sync = await deck('gateway', 'sync', 'test/fixtures/deck/sync.yaml');
  assert.equal(sync.status, 0, sync.stderr);
  assert.match(sync.stdout, /Created: 2/);
  await waitFor(() => gw.cp.kong!.stagedApplies > applies, 'the sync to be applied');
  assert.equal(gw.cp.kong!.lastStagedOutcome!.result, 'applied');
  await gw.converged();
  const res = await fetch(`${gw.proxy}/hello`);
  assert.deepEqual(await res.json(), { message: 'hello from decK' });
  assert.notEqual((await fetch(`${gw.proxy}/orders`)).status, 404);
  const again = await deck('gateway', 'diff', 'test/fixtures/deck/sync.yaml', '--non-zero-exit-code');
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /Created: 0\s+Updated: 0\s+Deleted: 0/);
});

test('decK rotates a key-auth key: the credential is matched by its key, the new one works at the proxy', async () => {
  const post = await fetch(`${gw.admin}/config`, { method: 'POST', body: readFileSync('test/fixtures/deck/credentials.yaml', 'utf8'), headers: { 'kong-admin-token': TOKEN } });
  assert.equal(post.status, 201, await post.text());
  await gw.converged();
  const same = await deck('gateway', 'diff', 'test/fixtures/deck/credentials.yaml', '--non-zero-exit-code');
  assert.equal(same.status, 0, same.stdout + same.stderr);
  const applies = gw.cp.kong!.stagedApplies;
  const sync = await deck('gateway', 'sync', 'test/fixtures/deck/credentials-sync.yaml');
  assert.equal(sync.status, 0, sync.stdout + sync.stderr);
  assert.match(sync.stdout, /Created: 1\s+Updated: 0\s+Deleted: 1/);
  await waitFor(() => gw.cp.kong!.stagedApplies > applies, 'the sync to be applied');
  await gw.converged();
  const status = (key: string) => fetch(`${gw.proxy}/hello`, { headers: { apikey: key } }).then((r) => r.status);
  await waitFor(async () => (await status('alice-key-1')) === 401, 'the old key to be refused');
  assert.equal(await status('alice-key-2'), 200);
  const dump = await deck('gateway', 'dump', '-o', '-');
  assert.equal(dump.status, 0, dump.stderr);
  assert.match(dump.stdout, /keyauth_credentials:\n\s+- key: alice-key-2/);
});
