import { authzCompanion } from '../authz/service.js';
import { ratelimitCompanion } from '../ratelimit/service.js';
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

/** Every companion service; `frontdesk start` runs them all beside the control plane. */
export const COMPANIONS: CompanionDefinition[] = [
  authzCompanion, // authz companion
  ratelimitCompanion, // ratelimit companion
];
