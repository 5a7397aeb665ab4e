#!/usr/bin/env node
// Builds Kong's decK (a Go module) for the real-decK tests, once: the binary is kept in the
// git-ignored .cache/deck/<version>/ and reused. The source comes from the Go module proxy
// (`go mod download`) and is built in its own module, so its go.mod (and its replace
// directives) apply. DECK_BIN points at an existing binary instead. Prints the binary's path.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DECK_VERSION = 'v1.30.0';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts, env: { ...process.env, GOFLAGS: '-mod=mod', ...opts.env } });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

export function prepareDeck() {
  if (process.env.DECK_BIN) return process.env.DECK_BIN;
  const bin = resolve('.cache', 'deck', DECK_VERSION, 'deck');
  if (existsSync(bin)) return bin;
  const info = JSON.parse(run('go', ['mod', 'download', '-json', `github.com/kong/deck@${DECK_VERSION}`]));
  const src = mkdtempSync(join(tmpdir(), 'deck-src-'));
  try {
    cpSync(info.Dir, src, { recursive: true });
    spawnSync('chmod', ['-R', 'u+w', src]);
    mkdirSync(resolve('.cache', 'deck', DECK_VERSION), { recursive: true });
    process.stderr.write(`building decK ${DECK_VERSION} (several minutes the first time)...\n`);
    run('go', ['build', '-o', bin, '.'], { cwd: src, stdio: ['ignore', 'inherit', 'pipe'] });
    chmodSync(bin, 0o755);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${prepareDeck()}\n`);
