/**
 * Records the HTTP calls the real decK makes against Frontdesk's Admin API into the fixtures
 * `npm test` replays (test/e2e/kong-admin-api.test.ts), so that they can be made again when the
 * Admin API changes what decK reads (ids, fields):
 *
 *   node --import tsx scripts/record-deck-calls.ts
 *
 * decK is built by scripts/prepare-deck.mjs (or DECK_BIN). Two recordings, each against a
 * control plane of its own loaded with a config file and a real Envoy (test/support/gateway.ts):
 * - v1.30.0-ping-dump-sync.jsonl: `deck gateway ping`, `dump` and `sync test/fixtures/deck/sync.yaml`
 *   onto config/gateway.yaml;
 * - v1.30.0-sync-credentials.jsonl: `deck gateway sync test/fixtures/deck/credentials-sync.yaml`
 *   onto test/fixtures/deck/credentials.yaml (a key-auth key rotated).
 * Each line: method, url, the admin token and content-type headers, and the JSON body.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { DECK_VERSION, prepareDeck } from './prepare-deck.mjs';
import { startGatewayWithAuthz } from '../test/support/authz-service.js';
import { runAsync } from '../test/support/spawn.js';

const TOKEN = 's3cret';
const DECK = (prepareDeck as () => string)();
const KEPT_HEADERS = ['kong-admin-token', 'content-type'];

interface Call { method: string; url: string; headers: Record<string, string>; body?: unknown }

/** A proxy in front of `target` that remembers every call. */
async function recorder(target: string): Promise<{ url: string; calls: Call[]; close(): Promise<void> }> {
  const calls: Call[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(KEPT_HEADERS.flatMap((h) => (typeof req.headers[h] === 'string' ? [[h, req.headers[h] as string]] : [])));
      calls.push({ method: req.method!, url: req.url!, headers, ...(text ? { body: JSON.parse(text) as unknown } : {}) });
      const out = http.request(`${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      out.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      out.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function record(config: string, commands: string[][], out: string): Promise<void> {
  const gw = await startGatewayWithAuthz(readFileSync(config, 'utf8'), { adminToken: TOKEN });
  const rec = await recorder(gw.admin);
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-deck-record-'));
  try {
    for (const args of commands) {
      const r = await runAsync(DECK, [...args.map((a) => a.replace('DIR', dir)), '--kong-addr', rec.url, '--headers', `kong-admin-token:${TOKEN}`, '--analytics=false', '--no-color']);
      if (r.status !== 0) throw new Error(`deck ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    writeFileSync(out, `${rec.calls.map((c) => JSON.stringify(c)).join('\n')}\n`);
    process.stdout.write(`${out}: ${rec.calls.length} calls\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await rec.close();
    await gw.stop();
  }
}

const root = process.cwd();
const fixture = (name: string) => join(root, 'test/fixtures/deck', name);
await record('config/gateway.yaml', [['gateway', 'ping'], ['gateway', 'dump', '-o', join('DIR', 'dump.yaml')], ['gateway', 'sync', fixture('sync.yaml')]], fixture(`${DECK_VERSION}-ping-dump-sync.jsonl`));
await record(fixture('credentials.yaml'), [['gateway', 'sync', fixture('credentials-sync.yaml')]], fixture(`${DECK_VERSION}-sync-credentials.jsonl`));
process.exit(0);
