// Frontdesk's Node flags (src/runtime/node-flags.ts) are given where a Frontdesk process starts:
// the installed command's first line, `npm start` and every Node service of the compose file.
// A flag set after start leaves V8's heap as it was configured, so nothing else can apply them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { NODE_FLAGS } from '../../src/runtime/node-flags.js';

test('bin/frontdesk.js starts Node with the flags (its first line, through env -S)', () => {
  const first = readFileSync('bin/frontdesk.js', 'utf8').split('\n')[0]!;
  assert.deepEqual(first.split(' '), ['#!/usr/bin/env', '-S', 'node', ...NODE_FLAGS]);
  // The line as the kernel runs it: env splits it and Node accepts every flag (an unknown one is refused before any script runs).
  const r = spawnSync('/usr/bin/env', ['-S', `node ${NODE_FLAGS.join(' ')}`, '-e', 'process.stdout.write(JSON.stringify(process.execArgv.slice(0, -2)))'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), NODE_FLAGS); // what Node started with, before `-e SCRIPT`
});

test('npm start runs the command with the flags', () => {
  const start = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  assert.ok(start.startsWith(`node ${NODE_FLAGS.join(' ')} bin/frontdesk.js `), start);
});

test('every Frontdesk service of the compose file gets the flags in NODE_OPTIONS', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, { command?: string; environment?: Record<string, string> }> };
  const frontdesk = Object.entries(compose.services).filter(([, s]) => s.command?.includes('bin/frontdesk.js'));
  assert.ok(frontdesk.length >= 5, 'the control plane and the companions');
  for (const [name, s] of frontdesk) assert.equal(s.environment?.NODE_OPTIONS, NODE_FLAGS.join(' '), name);
});
