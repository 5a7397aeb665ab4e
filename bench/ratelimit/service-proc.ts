/**
 * The ratelimit companion in its own process for bench/ratelimit/run.ts, so that its CPU time
 * is its own: `node --import tsx bench/ratelimit/service-proc.ts --xds HOST:PORT --port N [--redis URL]`.
 * Prints `ready <port>` once the first policy is loaded; stops on SIGTERM.
 * With `--cpu-prof FILE`, a V8 CPU profile of the process from ready to SIGTERM is written to
 * FILE (read it with bench/support/cpuprofile.ts). With `--memory-report FILE`, where the
 * process's memory is at SIGTERM (RSS, V8's heap by space, external and array buffers) is
 * written to FILE as JSON. With `--heap-snapshot FILE`, a V8 heap snapshot at SIGTERM is written to
 * FILE (what the heap holds after the run: Chrome DevTools' Memory tab reads it).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { silentLogger } from '../../src/logger.js';
import { RATELIMIT_ENVOY_PROTOS, startRateLimitService } from '../../src/ratelimit/service.js';
import { loadOnlyEnvoyProtos } from '../../src/xds/proto-scope.js';
import { startIdleReclaim } from '../../src/runtime/idle-reclaim.js';

// As `frontdesk ratelimit` runs it: only the Envoy messages it uses.
loadOnlyEnvoyProtos(RATELIMIT_ENVOY_PROTOS);

const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const [host, port] = (arg('xds') ?? '').split(':');
const redis = arg('redis');
const svc = await startRateLimitService({
  xds: { host: host!, port: Number(port) }, host: '127.0.0.1', port: Number(arg('port', '0')), nodeId: `bench-ratelimit-${process.pid}`,
  logger: silentLogger(), ...(redis ? { redis } : {}),
});
const started = Date.now();
while (!svc.ready()) {
  if (Date.now() - started > 30_000) throw new Error('no policy from the control plane after 30 s');
  await new Promise((r) => setTimeout(r, 20));
}
const profileFile = arg('cpu-prof');
let profiler: Session | undefined;
if (profileFile) {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
// As `frontdesk ratelimit` runs it: its heap given back when it is quiet after a busy spell.
startIdleReclaim();
process.stdout.write(`ready ${svc.port}\n`);
process.on('SIGTERM', () => {
  void (async () => {
    if (profiler && profileFile) writeFileSync(profileFile, JSON.stringify((await profiler.post('Profiler.stop')).profile));
    const memoryFile = arg('memory-report');
    if (memoryFile) {
      const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
      const m = process.memoryUsage();
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, { size: mib(x.space_size), used: mib(x.space_used_size) }]));
      writeFileSync(memoryFile, JSON.stringify({ rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), spaces }));
    }
    const snapshotFile = arg('heap-snapshot');
    if (snapshotFile) writeHeapSnapshot(snapshotFile);
    await svc.stop();
    process.exit(0);
  })();
});
