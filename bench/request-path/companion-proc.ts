/**
 * The authz or the ratelimit companion in its own process for bench/request-path/mtls.ts, so that
 * its CPU time is its own, over plaintext or mutual TLS as `frontdesk authz|ratelimit` runs it:
 *
 *   node --import tsx bench/request-path/companion-proc.ts authz|ratelimit --xds HOST:PORT --port N
 *        [--redis URL] [--tls-cert F --tls-key F --tls-ca F]
 *
 * With the three --tls-* files, the companion's xDS stream and its gRPC port are mTLS (the
 * certificates `frontdesk certs` writes). Prints `ready <port>` once the first policy is loaded;
 * stops on SIGTERM.
 */
import { startAuthzService } from '../../src/authz/service.js';
import { silentLogger } from '../../src/logger.js';
import { RATELIMIT_ENVOY_PROTOS, startRateLimitService } from '../../src/ratelimit/service.js';
import { TlsSource } from '../../src/tls.js';
import { loadOnlyEnvoyProtos } from '../../src/xds/proto-scope.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const which = process.argv[2];
if (which !== 'authz' && which !== 'ratelimit') throw new Error('the first argument is authz or ratelimit');
const [host, port] = (arg('xds') ?? '').split(':');
const xds = { host: host!, port: Number(port) };
const [cert, key, ca] = [arg('tls-cert'), arg('tls-key'), arg('tls-ca')];
const tls = cert && key && ca ? new TlsSource({ cert, key, ca }, {}) : undefined;
const common = { xds, host: '127.0.0.1', port: Number(arg('port') ?? '0'), nodeId: `bench-${which}-${process.pid}`, logger: silentLogger(), ...(tls ? { tls } : {}) };

let svc: { port: number; ready(): boolean; stop(): Promise<void> };
if (which === 'authz') {
  svc = await startAuthzService({ ...common, engine: { tokenCacheSize: 10_000 } });
} else {
  loadOnlyEnvoyProtos(RATELIMIT_ENVOY_PROTOS); // as `frontdesk ratelimit` runs it
  const redis = arg('redis');
  svc = await startRateLimitService({ ...common, ...(redis ? { redis } : {}) });
}
const started = Date.now();
while (!svc.ready()) {
  if (Date.now() - started > 30_000) throw new Error(`${which}: no policy from the control plane after 30 s`);
  await new Promise((r) => setTimeout(r, 20));
}
process.stdout.write(`ready ${svc.port}\n`);
process.on('SIGTERM', () => { void svc.stop().then(() => { tls?.close(); process.exit(0); }); });
