import { COMPANION_ADMIN_OFFSET, companionAdminPort, DEFAULT_PORTS } from '../default-ports.js';
import type { Logger } from '../logger.js';
import { intFlag } from './args.js';

/** How a companion service is started: by `frontdesk <name>` or in-process by `frontdesk start`. */
export interface CompanionOptions {
  /** The control plane's ADS address: the companion's policy arrives over it. */
  xds: { host: string; port: number };
  host: string;
  port: number;
  nodeId: string;
  logger: Logger;
  /** Flags given on the command line, by name (e.g. `redis`), for companion-specific settings. */
  flags: ReadonlyMap<string, string | true>;
}

export interface RunningCompanion {
  /** The bound gRPC port. */
  port: number;
  /** True once the first policy from the control plane is loaded. */
  ready(): boolean;
  stop(): Promise<void>;
}

export interface CompanionDefinition {
  name: string;
  defaultPort: number;
  /** The flag naming the port of the companion's admin HTTP server, when it has one. */
  adminPortFlag?: string;
  /** One line for the usage text: flags beyond --xds/--port. */
  usage: string;
  start(o: CompanionOptions): Promise<RunningCompanion>;
}

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
    ...lazy('ratelimit', async () => (await import('../ratelimit/service.js')).ratelimitCompanion), defaultPort: DEFAULT_PORTS.ratelimit, adminPortFlag: 'ratelimit-admin-port',
    usage: `[--redis URL] [--ratelimit-admin-port N, default --port + ${COMPANION_ADMIN_OFFSET}]`,
  }, // ratelimit companion
];

/**
 * The port of a companion's admin server: its flag when given, else derived from the gRPC port
 * (see companionAdminPort), so two instances on one host given only `--port` never collide.
 */
export function adminPortOf(flags: ReadonlyMap<string, string | true>, flag: string, grpcPort: number): number {
  return intFlag({ positionals: [], flags: new Map(flags) }, flag, companionAdminPort(grpcPort));
}
