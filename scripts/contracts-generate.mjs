#!/usr/bin/env node
// The companions' message types: TypeScript generated from proto/frontdesk/** by proto-loader's
// generator, into src/contracts/generated (or the folder given as the first argument).
// `npm run contracts:generate` after editing a .proto; a unit test fails when the committed
// files differ from what this writes.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const protoDir = join(root, 'proto');
const outDir = process.argv[2] ?? join(root, 'src', 'contracts', 'generated');

function protos(dir) {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? protos(p) : f.endsWith('.proto') ? [relative(protoDir, p)] : [];
  });
}

rmSync(outDir, { recursive: true, force: true });
const bin = join(root, 'node_modules', '@grpc', 'proto-loader', 'build', 'bin', 'proto-loader-gen-types.js');
const run = spawnSync(process.execPath, [
  bin, '--keepCase', '--longs=Number', '--enums=String', '--defaults', '--oneofs', '--includeComments',
  '--importFileExtension', '.js', '-I', 'proto', '-O', outDir, ...protos(join(protoDir, 'frontdesk')),
], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
