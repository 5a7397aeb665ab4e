/**
 * The log companion in its own process for bench/observability/run.ts, so that its CPU time is
 * its own and the benchmark's blocking load generator never stalls it: an in-process control
 * plane serves the sinks of `--config` over ADS to a log companion on `--port`.
 *   node --import tsx bench/observability/companion-proc.ts --config PATH --port N
 * (run.ts runs a plain-JavaScript copy of it, as `frontdesk log` runs dist/)
 * Prints `ready` once the companion holds its sinks; answers a `counts` line on stdin with one
 * JSON line (entries sent, dropped, held); stops on SIGTERM.
 */
import { createInterface } from 'node:readline';
import { startLogService } from '../../src/log/service.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { ControlPlane } from '../../src/runtime/control-plane.js';

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return process.argv[i + 1]!;
};
const log = silentLogger();
const port = Number(arg('port'));
const settings = { ...DEFAULT_SETTINGS, log: { host: '127.0.0.1', port } };
const cp = new ControlPlane({ configPath: arg('config'), xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, settings, ir: { defaultListener: { address: '127.0.0.1', port: 0 } }, logger: log });
const { xdsPort } = await cp.start();
const svc = await startLogService({ xds: { host: '127.0.0.1', port: xdsPort }, host: '127.0.0.1', port, nodeId: `bench-log-${process.pid}`, logger: log });
const started = Date.now();
while (!svc.ready()) {
  if (Date.now() - started > 30_000) throw new Error('no sinks from the control plane after 30 s');
  await new Promise((r) => setTimeout(r, 20));
}
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'counts') return;
  const c = Object.values(svc.counts());
  const sum = (f: (x: (typeof c)[number]) => number) => c.reduce((a, x) => a + f(x), 0);
  process.stdout.write(`${JSON.stringify({ sent: sum((x) => x.sent), dropped: sum((x) => x.droppedFull + x.droppedRetries), queued: sum((x) => x.queued) })}\n`);
});
process.on('SIGTERM', () => { void svc.stop().then(() => cp.stop()).then(() => process.exit(0)); });
