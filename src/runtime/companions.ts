import type { Logger } from '../logger.js';

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
  { ...lazy('authz', async () => (await import('../authz/service.js')).authzCompanion), defaultPort: 18001, usage: '' }, // authz companion
  { ...lazy('transform', async () => (await import('../transform/service.js')).transformCompanion), defaultPort: 18003, usage: '' }, // transform companion
  { ...lazy('ratelimit', async () => (await import('../ratelimit/service.js')).ratelimitCompanion), defaultPort: 18002, usage: '[--redis URL] [--ratelimit-admin-port 18012]' }, // ratelimit companion
];
