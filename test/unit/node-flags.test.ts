// Frontdesk's Node flags (src/runtime/node-flags.ts) are given where a Frontdesk process starts:
// the installed command's first line, `npm start` and every Node service of the compose file.
// A flag set after start leaves V8's heap as it was configured, so nothing else can apply them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { COMPANION_NODE_FLAGS, NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { COMPANIONS } from '../../src/runtime/companions.js';

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

test('each companion of the compose file runs with its own Node flags on its command line, and Node accepts them', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, { command?: string }> };
  for (const c of COMPANIONS) {
    const words = compose.services[c.name]!.command!.replace(/\s+/g, ' ').trim().split(' ');
    // NODE_OPTIONS refuses V8's own flags such as --single-threaded: they go between node and the script.
    assert.deepEqual(words.slice(0, words.indexOf('bin/frontdesk.js')), ['node', ...(COMPANION_NODE_FLAGS[c.name] ?? [])], c.name);
  }
  assert.ok(Object.keys(COMPANION_NODE_FLAGS).every((name) => COMPANIONS.some((c) => c.name === name)), 'flags only for companions that exist');
  const all = [...new Set(Object.values(COMPANION_NODE_FLAGS).flat())];
  const r = spawnSync(process.execPath, [...NODE_FLAGS, ...all, '-e', 'process.stdout.write(JSON.stringify(process.execArgv.slice(0, -2)))'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [...NODE_FLAGS, ...all]); // what Node started with, before `-e SCRIPT`
});
