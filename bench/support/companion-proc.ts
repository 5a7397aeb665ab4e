/**
 * A companion in its own process for the benchmarks that measure one (bench/observability,
 * bench/transform), so that its CPU time is its own and the benchmark's blocking load generator
 * never stalls it: an in-process control plane serves `--config` over ADS to the companion on
 * `--port`.
 *   node --import tsx bench/support/companion-proc.ts --companion log|transform --config PATH --port N
 * (the benchmarks run a plain-JavaScript copy of it, as `frontdesk log` runs dist/)
 * Prints `ready` once the companion holds its resources; the log companion answers a `counts`
 * line on stdin with one JSON line (entries sent, dropped, held); stops on SIGTERM.
 */
import { createInterface } from 'node:readline';
import { startLogService } from '../../src/log/service.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';
import { startTransformService } from '../../src/transform/service.js';

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return process.argv[i + 1]!;
};
const log = silentLogger();
const port = Number(arg('port'));
const which = arg('companion');
if (which !== 'log' && which !== 'transform') throw new Error('--companion is log or transform');
const settings = which === 'log' ? { ...DEFAULT_SETTINGS, log: { host: '127.0.0.1', port } } : { ...DEFAULT_SETTINGS, transform: { ...DEFAULT_SETTINGS.transform, port } };
const cp = new ControlPlane({ configPath: arg('config'), xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, settings, ir: { defaultListener: { address: '127.0.0.1', port: 0 } }, logger: log });
const { xdsPort } = await cp.start();
const common = { xds: { host: '127.0.0.1', port: xdsPort }, host: '127.0.0.1', port, nodeId: `bench-${which}-${process.pid}`, logger: log };
const logSvc = which === 'log' ? await startLogService(common) : undefined;
const svc = logSvc ?? await startTransformService(common);
const started = Date.now();
while (!svc.ready()) {
  if (Date.now() - started > 30_000) throw new Error(`${which}: no resources from the control plane after 30 s`);
  await new Promise((r) => setTimeout(r, 20));
}
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'counts' || !logSvc) return;
  const c = Object.values(logSvc.counts());
  const sum = (f: (x: (typeof c)[number]) => number) => c.reduce((a, x) => a + f(x), 0);
  process.stdout.write(`${JSON.stringify({ sent: sum((x) => x.sent), dropped: sum((x) => x.droppedFull + x.droppedRetries), queued: sum((x) => x.queued) })}\n`);
});
process.on('SIGTERM', () => { void svc.stop().then(() => cp.stop()).then(() => process.exit(0)); });
