import type { CompanionDefinition } from '../contracts/companion.js';
import { COMPANION_ADMIN_OFFSET, DEFAULT_PORTS } from '../default-ports.js';
import { RATELIMIT_ENVOY_PROTOS } from '../contracts/ratelimit.js';

export type { CompanionDefinition, CompanionOptions, RunningCompanion } from '../contracts/companion.js';
export { adminPortOf } from '../contracts/companion.js';

/**
 * A companion whose code is loaded only when it is started: `frontdesk control-plane` then
 * never loads the authz and ratelimit services (JWT crypto, Redis client): about 14 MiB less.
 */
function lazy(name: string, load: () => Promise<CompanionDefinition>): CompanionDefinition & { load: typeof load } {
  return { name, defaultPort: 0, usage: '', load, start: async (o) => (await load()).start(o) };
}

/** Every companion service; `frontdesk start` runs them all beside the control plane. */
export const COMPANIONS: CompanionDefinition[] = [
  { ...lazy('authz', async () => (await import('../authz/service.js')).authzCompanion), defaultPort: DEFAULT_PORTS.authz, usage: '' }, // authz companion
  { ...lazy('transform', async () => (await import('../transform/service.js')).transformCompanion), defaultPort: DEFAULT_PORTS.transform, usage: '' }, // transform companion
  {
    ...lazy('log', async () => (await import('../log/service.js')).logCompanion), defaultPort: DEFAULT_PORTS.log, adminPortFlag: 'log-admin-port',
    usage: `[--log-admin-port N, default --port + ${COMPANION_ADMIN_OFFSET}] [--log-admin-host H, default loopback] [--syslog HOST:PORT, default 127.0.0.1:514] [--envoy-admin HOST:PORT, its Envoy's admin: target health]`,
  }, // log companion (http-log; prometheus: Kong's metrics on its admin /metrics)
  {
    ...lazy('ratelimit', async () => (await import('../ratelimit/service.js')).ratelimitCompanion), defaultPort: DEFAULT_PORTS.ratelimit, adminPortFlag: 'ratelimit-admin-port',
    // Alone in its process it loads only these Envoy messages (not every API file the control plane needs).
    envoyProtos: RATELIMIT_ENVOY_PROTOS,
    usage: `[--redis URL] [--ratelimit-admin-port N, default --port + ${COMPANION_ADMIN_OFFSET}]`,
  }, // ratelimit companion
];
