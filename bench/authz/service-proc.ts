/**
 * The authz companion in its own process for bench/authz/run.ts, so that its CPU time is its
 * own: `node --import tsx bench/authz/service-proc.ts --xds HOST:PORT --port N [--token-cache N]`.
 * Prints `ready <port>` once the first policy is loaded; stops on SIGTERM.
 */
import { startAuthzService } from '../../src/authz/service.js';
import { silentLogger } from '../../src/logger.js';
import { startIdleReclaim } from '../../src/runtime/idle-reclaim.js';

const arg = (name: string, def?: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
};
const [host, port] = arg('xds').split(':');
const svc = await startAuthzService({
  xds: { host: host!, port: Number(port) }, host: '127.0.0.1', port: Number(arg('port', '0')), nodeId: `bench-authz-${process.pid}`,
  logger: silentLogger(), engine: { tokenCacheSize: Number(arg('token-cache', '10000')) },
});
await svc.whenReady();
// As `frontdesk authz` runs it: its heap given back when it is quiet after a busy spell.
startIdleReclaim();
process.stdout.write(`ready ${svc.port}\n`);
process.on('SIGTERM', () => { void svc.stop().then(() => process.exit(0)); });
