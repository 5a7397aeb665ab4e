/**
 * `frontdesk control-plane ARGS` in a process of its own, forked by run.ts and fleet.ts so that
 * its RSS and CPU are its own. It stops (through the CLI's SIGTERM handling) when the benchmark
 * goes away, even when the benchmark was killed.
 *
 * Messages from the benchmark (IPC): `{ cmd: 'heap' }` answers `{ heap: {...} }` with
 * process.memoryUsage() in MiB, taken after a full GC when the process runs with --expose-gc;
 * `{ cmd: 'heap-snapshot', dir }` writes a V8 heap snapshot there and answers `{ snapshot: FILE }`.
 */
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { main } from '../../src/runtime/cli.js';

export type ControlPlaneRequest = { cmd: 'heap' } | { cmd: 'heap-snapshot'; dir: string };
export type ControlPlaneReply = { heap: { rssMiB: number; heapUsedMiB: number; heapTotalMiB: number; externalMiB: number; arrayBuffersMiB: number; gc: boolean } } | { snapshot: string };

if (process.send) {
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.exit(1), 5000).unref();
  });
  process.on('message', (m: ControlPlaneRequest) => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (m.cmd === 'heap') {
      gc?.();
      const u = process.memoryUsage();
      const mib = (x: number) => Math.round((x / 2 ** 20) * 10) / 10;
      process.send!({ heap: { rssMiB: mib(u.rss), heapUsedMiB: mib(u.heapUsed), heapTotalMiB: mib(u.heapTotal), externalMiB: mib(u.external), arrayBuffersMiB: mib(u.arrayBuffers), gc: gc !== undefined } } satisfies ControlPlaneReply);
    } else if (m.cmd === 'heap-snapshot') {
      gc?.();
      process.send!({ snapshot: writeHeapSnapshot(join(m.dir, `control-plane-${process.pid}-${Date.now()}.heapsnapshot`)) } satisfies ControlPlaneReply);
    }
  });
}

main(['control-plane', ...process.argv.slice(2)]).then(
  (code) => { if (typeof code === 'number') process.exit(code); },
  (err: unknown) => { console.error(err); process.exit(1); },
);
